// Links over a real pseudo-terminal: the client on asio::serial_port at the slave, the
// simulated module on the master. Five links at once (two TCP, one module-TLS, two UDP), all
// sending and receiving; then links used from other threads than the client's. Every side
// hashes (FNV-1a) what it sent and received; each link's hashes must equal its peer's.
#include "net_rig.hpp"

#include <espat/sim/pty.hpp>

#include <asio/bind_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/read.hpp>
#include <asio/serial_port.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using espat::test::as_tuple;
using espat::test::eventually;
using espat::test::fnv1a;
using espat::test::pattern;
namespace sim = espat::sim;

namespace {

using serial_client = espat::basic_client<asio::serial_port>;
using serial_network = espat::net::basic_network<serial_client>;

struct hashes {
    fnv1a sent, received;
};

// A TCP echo peer that hashes both directions, and can hang up.
struct hashing_echo {
    explicit hashing_echo(asio::io_context& io) : acceptor(io, {asio::ip::address_v4::loopback(), 0})
    {
        asio::co_spawn(io, serve(), asio::detached);
    }
    awaitable<void> serve()
    {
        auto [ec, s] = co_await acceptor.async_accept(as_tuple);
        if (ec) co_return;
        connection.emplace(std::move(s));
        char buf[4096];
        for (;;) {
            auto [rec, n] = co_await connection->async_read_some(asio::buffer(buf), as_tuple);
            if (rec) break;
            seen.received.add({buf, n});
            auto [wec, wn] = co_await asio::async_write(*connection, asio::buffer(buf, n), as_tuple);
            if (wec) break;
            seen.sent.add({buf, wn});
        }
        ended = true;
    }
    // Closes the connection from this side (from any thread: it runs on the peer's executor).
    void hang_up()
    {
        asio::post(acceptor.get_executor(), [this] {
            std::error_code ignored;
            if (connection) connection->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        });
    }
    std::uint16_t port() const { return acceptor.local_endpoint().port(); }
    asio::ip::tcp::acceptor acceptor;
    std::optional<asio::ip::tcp::socket> connection;
    std::atomic<bool> ended{false};  // the connection is over (closed by either side)
    hashes seen;
};

// A UDP echo peer that hashes both directions.
struct hashing_udp_echo {
    explicit hashing_udp_echo(asio::io_context& io) : socket(io, {asio::ip::address_v4::loopback(), 0})
    {
        asio::co_spawn(io, serve(), asio::detached);
    }
    awaitable<void> serve()
    {
        char buf[4096];
        for (;;) {
            asio::ip::udp::endpoint from;
            auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buf), from, as_tuple);
            if (ec) co_return;
            seen.received.add({buf, n});
            auto [wec, wn] = co_await socket.async_send_to(asio::buffer(buf, n), from, as_tuple);
            if (wec) co_return;
            seen.sent.add({buf, wn});
        }
    }
    std::uint16_t port() const { return socket.local_endpoint().port(); }
    asio::ip::udp::socket socket;
    hashes seen;
};

// A stream link: one coroutine writes `total` bytes in pieces of varied size while another reads
// the echo until all came back.
awaitable<void> stream_writer(serial_network::link& link, std::size_t total, std::uint32_t seed, hashes& mine)
{
    const std::string data = pattern(total, seed);
    std::size_t at = 0, piece = 700;
    while (at < total) {
        const std::size_t n = std::min(piece, total - at);
        co_await asio::async_write(link, asio::buffer(data.data() + at, n), use_awaitable);
        mine.sent.add({data.data() + at, n});
        at += n;
        piece = piece * 7 % 9001 + 1;  // 1..9001: below, at and above one AT+CIPSEND
    }
}
awaitable<void> stream_reader(serial_network::link& link, std::size_t total, hashes& mine)
{
    char buf[3000];
    while (mine.received.bytes < total) {
        const std::size_t n = co_await link.async_read_some(asio::buffer(buf), use_awaitable);
        mine.received.add({buf, n});
    }
}

// A UDP link: datagrams of varied size, at most `window` unanswered at a time (so neither the
// host's queue nor a socket buffer can drop one), each echo hashed as it comes.
awaitable<void> udp_exchange(serial_network::udp_link& link, std::size_t count, std::uint32_t seed, hashes& mine)
{
    const std::string data = pattern(count * 1400, seed);
    constexpr std::size_t window = 6;
    std::size_t sent = 0, received = 0, at = 0;
    auto ex = co_await asio::this_coro::executor;
    bool reader_failed = false;
    asio::co_spawn(
        ex,
        [&]() -> awaitable<void> {
            char buf[2048];
            while (received < count) {
                auto [ec, n] = co_await link.async_receive(asio::buffer(buf), as_tuple);
                if (ec) {
                    reader_failed = true;
                    co_return;
                }
                mine.received.add({buf, n});
                ++received;
            }
        },
        asio::detached);
    asio::steady_timer pause(ex);
    while (sent < count) {
        if (sent - received >= window) {
            pause.expires_after(200us);
            co_await pause.async_wait(use_awaitable);
            continue;
        }
        const std::size_t n = 200 + (sent * 389) % 1200;
        co_await link.async_send(asio::buffer(data.data() + at, n), use_awaitable);
        mine.sent.add({data.data() + at, n});
        at += n;
        ++sent;
    }
    const auto cond16 = [&] { return received == count || reader_failed; };
    const bool ok16 = co_await espat::test::eventually(cond16, 20s);
    CHECK(ok16);
    CHECK_FALSE(reader_failed);
}

// The simulator serving the master of a fresh pty (no echo); the client opens slave_path.
struct pty_module {
    pty_module(asio::io_context& io, sim::module_options mo)
        : pty(sim::open_pty(io.get_executor())), module(io.get_executor(), with_echo_off(std::move(mo)))
    {
        asio::co_spawn(io, module.serve(pty.master), asio::detached);
    }
    static sim::module_options with_echo_off(sim::module_options mo)
    {
        mo.echo = false;
        return mo;
    }
    sim::pty pty;
    sim::module module;
};

// A stream link's hashes against its echo peer's: all `bytes` sent, and both directions equal.
void check_echoed(const hashes& link, const hashing_echo& peer, std::size_t bytes)
{
    CHECK(link.sent.bytes == bytes);
    CHECK(link.sent == peer.seen.received);
    CHECK(link.received == peer.seen.sent);
}

}  // namespace

TEST_CASE("five links over a pty at once: 2 TCP, 1 SSL, 2 UDP, both ways, hashes equal the peers'")
{
    asio::io_context io;
    sim::module_options mo;
    mo.firmware = sim::esp_at_4();  // per-link receive modes: streams passive beside UDP
    pty_module device(io, mo);

    hashing_echo tcp_a(io), tcp_b(io);
    espat::test::tls_peer tls(io);
    hashing_udp_echo udp_a(io), udp_b(io);

    asio::serial_port port(io, device.pty.slave_path);
    serial_client esp(std::move(port));

    constexpr std::size_t tcp_bytes = 192 * 1024, tls_bytes = 96 * 1024, datagrams = 64;
    hashes link_tcp_a, link_tcp_b, link_tls, link_udp_a, link_udp_b;
    bool finished = false;
    std::exception_ptr failure;
    asio::co_spawn(
        esp.get_executor(),
        [&]() -> awaitable<void> {
            auto fw = co_await esp.async_start();
            REQUIRE(fw);
            serial_network net(esp);
            auto started = co_await net.async_start();
            REQUIRE(started);
            auto ta = co_await net.async_connect("127.0.0.1", tcp_a.port());
            auto tb = co_await net.async_connect("127.0.0.1", tcp_b.port());
            auto ts = co_await net.async_connect_ssl("127.0.0.1", tls.port());
            auto ua = co_await net.async_open_udp("127.0.0.1", udp_a.port());
            auto ub = co_await net.async_open_udp("127.0.0.1", udp_b.port());
            REQUIRE(ta);
            REQUIRE(tb);
            REQUIRE(ts);
            REQUIRE(ua);
            REQUIRE(ub);
            auto ex = co_await asio::this_coro::executor;
            int running = 0;
            std::exception_ptr first_error;
            auto spawn = [&](awaitable<void> task) {
                ++running;
                asio::co_spawn(ex, std::move(task), [&](std::exception_ptr e) {
                    if (e && !first_error) first_error = e;
                    --running;
                });
            };
            spawn(stream_writer(*ta, tcp_bytes, 1, link_tcp_a));
            spawn(stream_reader(*ta, tcp_bytes, link_tcp_a));
            spawn(stream_writer(*tb, tcp_bytes, 2, link_tcp_b));
            spawn(stream_reader(*tb, tcp_bytes, link_tcp_b));
            spawn(stream_writer(*ts, tls_bytes, 3, link_tls));
            spawn(stream_reader(*ts, tls_bytes, link_tls));
            spawn(udp_exchange(*ua, datagrams, 4, link_udp_a));
            spawn(udp_exchange(*ub, datagrams, 5, link_udp_b));
            const auto cond17 = [&] { return running == 0; };
            const bool ok17 = co_await espat::test::eventually(cond17, 60s);
            CHECK(ok17);
            if (first_error) std::rethrow_exception(first_error);
        },
        [&](std::exception_ptr e) {
            failure = e;
            finished = true;
            io.stop();
        });
    io.run_for(90s);
    REQUIRE_MESSAGE(finished, "the transfer did not finish in time");
    if (failure) std::rethrow_exception(failure);

    check_echoed(link_tcp_a, tcp_a, tcp_bytes);
    check_echoed(link_tcp_b, tcp_b, tcp_bytes);
    REQUIRE(tls.seen().connections.size() == 1);
    fnv1a tls_peer_saw;
    tls_peer_saw.add(tls.seen().connections[0]->received);
    CHECK(link_tls.sent.bytes == tls_bytes);
    CHECK(link_tls.sent == tls_peer_saw);
    CHECK(link_tls.received == tls_peer_saw);  // an echo: it sent what it received
    CHECK(link_udp_a.sent == udp_a.seen.received);
    CHECK(link_udp_a.received == udp_a.seen.sent);
    CHECK(link_udp_b.sent == udp_b.seen.received);
    CHECK(link_udp_b.received == udp_b.seen.sent);
    CHECK(link_udp_a.received.bytes > 0);
}

TEST_CASE("links used from other threads: the client's io_context on two threads, readers and writers on strands and on another io_context; hashes equal")
{
    // The module and its peers run on a device thread; the client's io_context runs on two host
    // threads. The links are opened on the client's executor, then read and written by
    // coroutines outside the client's strand: on strands of the client's io_context (whose
    // completions Asio may run nested inside the client's strand) and on an application
    // io_context run by a thread of its own (whose operations start on that thread, while the
    // client's reader fills the links and answers the sends on another). A step of a link's
    // operation taken on the caller's thread trips the send queue's assertion (Debug builds:
    // the ASan stage) and is a race ThreadSanitizer reports (the TSan stage).
    asio::io_context device_io;
    pty_module module(device_io, {});
    hashing_echo tcp_a(device_io), tcp_b(device_io);
    auto device_work = asio::make_work_guard(device_io);
    std::thread device([&device_io] { device_io.run(); });

    asio::io_context app_io;
    auto app_work = asio::make_work_guard(app_io);
    std::thread app([&app_io] { app_io.run(); });

    asio::io_context host_io;
    serial_client esp(asio::serial_port(host_io, module.pty.slave_path));
    constexpr std::size_t bytes = 96 * 1024;
    hashes link_a, link_b;
    bool finished = false;
    std::exception_ptr failure;
    asio::co_spawn(
        esp.get_executor(),
        [&]() -> awaitable<void> {
            REQUIRE(co_await esp.async_start());
            serial_network net(esp);
            REQUIRE(co_await net.async_start());
            auto a = co_await net.async_connect("127.0.0.1", tcp_a.port());
            auto b = co_await net.async_connect("127.0.0.1", tcp_b.port());
            REQUIRE(a);
            REQUIRE(b);
            int running = 0;  // touched on the client's strand only
            std::exception_ptr first_error;
            auto spawn = [&](auto executor, awaitable<void> task) {
                ++running;
                asio::co_spawn(executor, std::move(task),
                               asio::bind_executor(esp.get_executor(), [&](std::exception_ptr e) {
                                   if (e && !first_error) first_error = e;
                                   --running;
                               }));
            };
            spawn(app_io.get_executor(), stream_writer(*a, bytes, 11, link_a));
            spawn(asio::make_strand(host_io), stream_reader(*a, bytes, link_a));
            spawn(asio::make_strand(host_io), stream_writer(*b, bytes, 12, link_b));
            spawn(app_io.get_executor(), stream_reader(*b, bytes, link_b));
            const auto done = [&] { return running == 0; };
            CHECK(co_await espat::test::eventually(done, 60s));
            if (first_error) std::rethrow_exception(first_error);
            // Both links are dropped on the application's thread: a, still open, is closed by the
            // module (AT+CIPCLOSE); b's peer hangs up meanwhile, so the client detaches b (on its
            // strand) while the application drops it. Whether a link is still attached is read
            // on the client's strand; read on the dropping thread it is a race TSan reports.
            tcp_b.hang_up();
            asio::post(app_io, [dropped_a = std::move(*a), dropped_b = std::move(*b)]() mutable {
                std::this_thread::sleep_for(20ms);  // b's CLOSED is read meanwhile
                auto gone_a = std::move(dropped_a);
                auto gone_b = std::move(dropped_b);
            });
            CHECK_FALSE(a->is_open());  // moved from
            CHECK(co_await eventually([&] { return tcp_a.ended.load() && tcp_b.ended.load(); }, 10s));
        },
        [&](std::exception_ptr e) {
            failure = e;
            finished = true;
            host_io.stop();
        });
    std::thread second_host([&host_io] { host_io.run_for(90s); });
    host_io.run_for(90s);
    second_host.join();
    app_io.stop();
    app.join();
    device_io.stop();
    device.join();
    REQUIRE_MESSAGE(finished, "the transfer did not finish in time");
    if (failure) std::rethrow_exception(failure);
    check_echoed(link_a, tcp_a, bytes);
    check_echoed(link_b, tcp_b, bytes);
}
