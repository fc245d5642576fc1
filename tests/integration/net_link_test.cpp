// Links as Asio streams, end to end: espat client -> simulated module (in-process pipe) -> real
// loopback TCP peers. Every test runs under a deadline, so a hang fails instead of blocking.
#include "net_rig.hpp"

#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>

using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using espat::net::receive_mode;
using espat::test::as_tuple;
using espat::test::echo_session;
using espat::test::pattern;
using espat::test::rig;
using espat::test::tcp_peer;
using client_type = espat::test::pipe_client;
using network_type = espat::test::pipe_network;

namespace {

// A peer session: writes `greeting` (then sets `greeted`), takes what comes and answers nothing,
// until the connection ends.
auto greet_then_sink(const std::string& greeting, bool& greeted)
{
    return [&greeting, &greeted](asio::ip::tcp::socket s) -> awaitable<void> {
        co_await asio::async_write(s, asio::buffer(greeting), use_awaitable);
        greeted = true;
        std::array<char, 512> sink;
        for (;;) {
            auto [ec, n] = co_await s.async_read_some(asio::buffer(sink), as_tuple);
            (void)n;
            if (ec) co_return;
        }
    };
}

}  // namespace

TEST_CASE("link: bytes written come back byte-exact through an echo peer, in passive and active mode, 2.x and 4.x")
{
    for (int combination = 0; combination < 4; ++combination) {
        const auto mode = combination % 2 ? receive_mode::active : receive_mode::passive;
        const bool four = combination >= 2;  // AT+CIPRECVTYPE per link, 8192-byte sends
        CAPTURE(combination);
        espat::sim::module_options mo;
        mo.firmware = four ? espat::sim::esp_at_4() : espat::sim::esp_at_2();
        rig r(mo);
        tcp_peer peer(r.io, echo_session);
        espat::net::network_options no;
        no.stream_receive = mode;
        r.run(
            [&](client_type&, network_type& net) -> awaitable<void> {
                auto link = co_await net.async_connect("127.0.0.1", peer.port());
                REQUIRE(link);
                CHECK(link->mode() == mode);
                const std::string sent = pattern(12000, 7);
                // Writing all before reading: the echo comes back while we write, and is kept
                // (in active mode within the host buffer's 16 KiB, see the overflow test).
                co_await asio::async_write(*link, asio::buffer(sent), use_awaitable);
                std::string got(sent.size(), '\0');
                co_await asio::async_read(*link, asio::buffer(got), use_awaitable);
                CHECK(got == sent);
                auto [ec] = co_await link->async_close(as_tuple);
                CHECK_FALSE(ec);
                CHECK_FALSE(link->is_open());
            },
            30s, no);
    }
}

TEST_CASE("link: reads and writes complete on the caller's executor, never on the client's")
{
    // The caller's handlers are bound to a strand of their own: the link's steps run on the
    // client's executor, but each completion must go through the caller's strand.
    rig r;
    tcp_peer peer(r.io, echo_session);
    r.run(
        [&](client_type&, network_type& net) -> awaitable<void> {
            auto link = co_await net.async_connect("127.0.0.1", peer.port());
            REQUIRE(link);
            auto caller = asio::make_strand(r.io);
            const std::string sent = pattern(5000, 3);
            co_await asio::async_write(*link, asio::buffer(sent), asio::bind_executor(caller, use_awaitable));
            CHECK(caller.running_in_this_thread());
            std::string got(sent.size(), '\0');
            co_await asio::async_read(*link, asio::buffer(got), asio::bind_executor(caller, use_awaitable));
            CHECK(caller.running_in_this_thread());
            CHECK(got == sent);
            auto [ec] = co_await link->async_close(asio::bind_executor(caller, as_tuple));
            CHECK(caller.running_in_this_thread());
            CHECK_FALSE(ec);
        },
        30s);
}

TEST_CASE("link: a read started on the client's own executor never completes inside its initiating call")
{
    // A read issued on the client's strand (a plain callback's completion runs there) takes its
    // first step at once, not through a post: with its data already buffered it must still
    // complete only after async_read_some has returned, and without data it waits as usual.
    for (auto mode : {receive_mode::active, receive_mode::passive}) {
        CAPTURE(static_cast<int>(mode));
        rig r;
        tcp_peer peer(r.io, [](asio::ip::tcp::socket s) -> awaitable<void> {
            co_await asio::async_write(s, asio::buffer(std::string("first")), use_awaitable);
            char go = 0;  // the host asks for the rest
            co_await asio::async_read(s, asio::buffer(&go, 1), use_awaitable);
            co_await asio::async_write(s, asio::buffer(std::string("second")), use_awaitable);
            co_await asio::async_read(s, asio::buffer(&go, 1), as_tuple);  // until the host closes
        });
        espat::net::network_options no;
        no.stream_receive = mode;
        r.run(
            [&](client_type& esp, network_type& net) -> awaitable<void> {
                auto link = co_await net.async_connect("127.0.0.1", peer.port());
                REQUIRE(link);
                struct outcome {
                    bool returned = false, completed_inside = false, done = false;
                    std::error_code ec;
                    std::size_t n = 0;
                };
                std::array<char, 16> buf{};
                const auto start_read_on_client = [&](outcome& o) {
                    asio::post(esp.get_executor(), [&] {
                        link->async_read_some(asio::buffer(buf), [&](std::error_code ec, std::size_t n) {
                            CHECK(esp.get_executor().running_in_this_thread());
                            o.completed_inside = !o.returned;
                            o.ec = ec;
                            o.n = n;
                            o.done = true;
                        });
                        o.returned = true;
                    });
                };
                const auto until_done = [&](const outcome& o) -> awaitable<void> {
                    asio::steady_timer t(r.io);
                    while (!o.done) {
                        t.expires_after(1ms);
                        co_await t.async_wait(use_awaitable);
                    }
                };
                // "first" arrives whole; one byte of it is read, so the rest is buffered (or, in
                // passive mode, announced) when the next read starts.
                asio::steady_timer settle(r.io, 200ms);
                co_await settle.async_wait(use_awaitable);
                char one = 0;
                co_await asio::async_read(*link, asio::buffer(&one, 1), use_awaitable);
                CHECK(one == 'f');
                outcome buffered;
                start_read_on_client(buffered);
                co_await until_done(buffered);
                CHECK_FALSE(buffered.completed_inside);
                CHECK_FALSE(buffered.ec);
                CHECK(std::string(buf.data(), buffered.n) == "irst");
                // Nothing buffered: the read waits, started at once on the strand, until "second".
                outcome waiting;
                start_read_on_client(waiting);
                co_await asio::async_write(*link, asio::buffer(std::string("g")), use_awaitable);
                co_await until_done(waiting);
                CHECK_FALSE(waiting.completed_inside);
                CHECK_FALSE(waiting.ec);
                std::string second(buf.data(), waiting.n);
                while (second.size() < 6) {  // the rest, should the peer's bytes come in two frames
                    const std::size_t n = co_await link->async_read_some(asio::buffer(buf), use_awaitable);
                    second.append(buf.data(), n);
                }
                CHECK(second == "second");
            },
            30s, no);
    }
}

TEST_CASE("client: AT+CIPSENDEX sends data holding \"\\0\" whole, escaped, on an open link")
{
    rig r;
    tcp_peer peer(r.io, echo_session);
    r.run(
        [&](client_type& esp, network_type& net) -> awaitable<void> {
            auto link = co_await net.async_connect("127.0.0.1", peer.port());
            REQUIRE(link);
            const auto id = espat::link_id::checked(link->handle().id);
            REQUIRE(id);
            // "\0" would end the data early if it went unescaped; "\\0" is the escape itself.
            const std::string data = std::string("one\\0two\\\\0three\\") + std::string(1, '\0') + "end";
            auto sent = co_await esp.async_send_data_ex(*id, data);
            REQUIRE(sent);
            CHECK(*sent == data.size());
            std::string got(data.size(), '\0');
            co_await asio::async_read(*link, asio::buffer(got), use_awaitable);
            CHECK(got == data);
            // Over the firmware's limit once escaped: refused, nothing sent.
            std::string big;
            for (int i = 0; i < 1100; ++i) big += "\\0";  // 2200 bytes, 3300 escaped
            auto refused = co_await esp.async_send_data_ex(*id, big);
            REQUIRE_FALSE(refused);
            CHECK(refused.error() == espat::errc::invalid_argument);
            auto after = co_await esp.async_send_data_ex(*id, "ok");
            CHECK(after);
        },
        30s);
}

TEST_CASE("link: data sent before the peer closes is all read, then eof")
{
    for (auto mode : {receive_mode::passive, receive_mode::active}) {
        CAPTURE(static_cast<int>(mode));
        rig r;
        const std::string page = pattern(9000, 11);
        tcp_peer peer(r.io, [&](asio::ip::tcp::socket s) -> awaitable<void> {
            co_await asio::async_write(s, asio::buffer(page), use_awaitable);
            s.shutdown(asio::ip::tcp::socket::shutdown_both);
            s.close();
        });
        espat::net::network_options no;
        no.stream_receive = mode;
        r.run(
            [&](client_type&, network_type& net) -> awaitable<void> {
                auto link = co_await net.async_connect("127.0.0.1", peer.port());
                REQUIRE(link);
                std::string got;
                auto [ec, n] = co_await asio::async_read(*link, asio::dynamic_buffer(got), as_tuple);
                (void)n;
                CHECK(ec == asio::error::eof);
                CHECK(got == page);
                CHECK_FALSE(link->is_open());
                // Writing to a closed link says so.
                auto [wec, wn] = co_await asio::async_write(*link, asio::buffer("x", 1), as_tuple);
                (void)wn;
                CHECK(wec == espat::make_error_code(espat::errc::link_closed));
            },
            20s, no);
    }
}

TEST_CASE("link: a CLOSED reported before the module's passive data was read loses nothing")
{
    espat::sim::module_options mo;
    mo.faults.closed_before_data_read = 1;  // firmware that says CLOSED while it still holds data
    rig r(mo);
    const std::string page = pattern(12000, 21);
    tcp_peer peer(r.io, [&](asio::ip::tcp::socket s) -> awaitable<void> {
        co_await asio::async_write(s, asio::buffer(page), use_awaitable);
        s.close();
    });
    r.run([&](client_type&, network_type& net) -> awaitable<void> {
        auto link = co_await net.async_connect("127.0.0.1", peer.port());
        REQUIRE(link);
        asio::steady_timer t(co_await asio::this_coro::executor, 300ms);  // let the CLOSED come first
        co_await t.async_wait(use_awaitable);
        std::string got;
        auto [ec, n] = co_await asio::async_read(*link, asio::dynamic_buffer(got), as_tuple);
        (void)n;
        CHECK(ec == asio::error::eof);
        CHECK(got == page);
        CHECK_FALSE(link->is_open());
        auto [wec, wn] = co_await asio::async_write(*link, asio::buffer("x", 1), as_tuple);
        (void)wn;
        CHECK(wec == espat::make_error_code(espat::errc::link_closed));
    });
}

TEST_CASE("link: in passive mode a slow reader slows the peer and loses nothing")
{
    rig r;
    const std::string flood = pattern(300000, 3);
    bool peer_done = false;
    tcp_peer peer(r.io, [&](asio::ip::tcp::socket s) -> awaitable<void> {
        co_await asio::async_write(s, asio::buffer(flood), use_awaitable);
        peer_done = true;
        s.shutdown(asio::ip::tcp::socket::shutdown_send);
        char b[1];
        co_await s.async_read_some(asio::buffer(b), as_tuple);  // wait for the link to close
    });
    r.run(
        [&](client_type&, network_type& net) -> awaitable<void> {
            auto link = co_await net.async_connect("127.0.0.1", peer.port());
            REQUIRE(link);
            std::string got;
            asio::steady_timer pause(co_await asio::this_coro::executor);
            char buf[1024];
            std::size_t max_available = 0;
            for (;;) {
                auto [ec, n] = co_await link->async_read_some(asio::buffer(buf), as_tuple);
                if (ec == asio::error::eof) break;
                REQUIRE_FALSE(ec);
                got.append(buf, n);
                max_available = std::max(max_available, link->available());
                if (got.size() < 20000) {  // slow at first: the module's buffer fills, the peer waits
                    pause.expires_after(2ms);
                    co_await pause.async_wait(use_awaitable);
                }
            }
            CHECK(got.size() == flood.size());
            CHECK(got == flood);
            CHECK(max_available <= 16 * 1024);
        },
        60s);
    CHECK(peer_done);
}

TEST_CASE("link: in active mode a peer outpacing the reader fails the link with receive_overflow, never silently")
{
    rig r;
    const std::string flood = pattern(64 * 1024, 5);
    tcp_peer peer(r.io, [&](asio::ip::tcp::socket s) -> awaitable<void> {
        co_await asio::async_write(s, asio::buffer(flood), as_tuple);
        char b[1];
        co_await s.async_read_some(asio::buffer(b), as_tuple);
    });
    espat::net::network_options no;
    no.stream_receive = receive_mode::active;
    no.receive_buffer = 8 * 1024;
    r.run(
        [&](client_type&, network_type& net) -> awaitable<void> {
            auto link = co_await net.async_connect("127.0.0.1", peer.port());
            REQUIRE(link);
            // Not reading: the module pushes +IPD frames until the host buffer is full.
            asio::steady_timer t(co_await asio::this_coro::executor, 300ms);
            co_await t.async_wait(use_awaitable);
            std::string got;
            auto [ec, n] = co_await asio::async_read(*link, asio::dynamic_buffer(got), as_tuple);
            (void)n;
            CHECK(ec == espat::make_error_code(espat::errc::receive_overflow));
            // What was buffered before the hole is whole and handed out first, byte-exact.
            CHECK(got.size() <= no.receive_buffer);
            CHECK(got.size() > 0);
            CHECK(got == flood.substr(0, got.size()));
        },
        20s, no);
}

TEST_CASE("link: a cancelled read loses nothing and the link stays usable")
{
    rig r;
    tcp_peer peer(r.io, echo_session);
    r.run([&](client_type&, network_type& net) -> awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        auto link = co_await net.async_connect("127.0.0.1", peer.port());
        REQUIRE(link);
        char buf[16];
        asio::steady_timer t(co_await asio::this_coro::executor, 50ms);
        // Nothing to read: the timer wins and the read is cancelled.
        auto first = co_await (link->async_read_some(asio::buffer(buf), as_tuple) || t.async_wait(use_awaitable));
        CHECK(first.index() == 1);
        co_await asio::async_write(*link, asio::buffer(std::string("after the cancel")), use_awaitable);
        std::string got(16, '\0');
        co_await asio::async_read(*link, asio::buffer(got), use_awaitable);
        CHECK(got == "after the cancel");
    });
}

TEST_CASE("link: a module reset fails pending reads and every link with device_reset")
{
    rig r;
    tcp_peer peer(r.io, echo_session);
    r.run([&](client_type& esp, network_type& net) -> awaitable<void> {
        auto link = co_await net.async_connect("127.0.0.1", peer.port());
        REQUIRE(link);
        // AT+RST: OK, then the module reboots and prints "ready".
        auto rst = co_await esp.template async_execute<espat::commands::rst>();
        CHECK(rst);
        char buf[8];
        auto [ec, n] = co_await link->async_read_some(asio::buffer(buf), as_tuple);
        (void)n;
        CHECK(ec == espat::make_error_code(espat::errc::device_reset));
        CHECK_FALSE(link->is_open());
        // The module is back to single-link mode: no new link until the network is prepared again.
        auto early = co_await net.async_connect("127.0.0.1", peer.port());
        CHECK_FALSE(early);
        if (!early) CHECK(early.error() == espat::make_error_code(espat::errc::device_reset));
        auto again = co_await net.async_start();
        REQUIRE(again);
        auto fresh = co_await net.async_connect("127.0.0.1", peer.port());
        REQUIRE(fresh);
        co_await asio::async_write(*fresh, asio::buffer(std::string("after reset")), use_awaitable);
        std::string back(11, '\0');
        co_await asio::async_read(*fresh, asio::buffer(back), use_awaitable);
        CHECK(back == "after reset");
    });
}

TEST_CASE("link: a stale handle never touches the id's next link")
{
    rig r;
    tcp_peer peer(r.io, echo_session);
    r.run([&](client_type&, network_type& net) -> awaitable<void> {
        auto first = co_await net.async_connect("127.0.0.1", peer.port());
        REQUIRE(first);
        const auto old_handle = first->handle();
        auto [cec] = co_await first->async_close(as_tuple);
        CHECK_FALSE(cec);
        auto second = co_await net.async_connect("127.0.0.1", peer.port());
        REQUIRE(second);
        CHECK(second->handle().id == old_handle.id);  // the id was reused...
        CHECK(second->handle().generation != old_handle.generation);  // ...as a new generation
        auto [wec, wn] = co_await asio::async_write(*first, asio::buffer("stale", 5), as_tuple);
        (void)wn;
        CHECK(wec == espat::make_error_code(espat::errc::link_closed));
        co_await asio::async_write(*second, asio::buffer(std::string("fresh")), use_awaitable);
        std::string got(5, '\0');
        co_await asio::async_read(*second, asio::buffer(got), use_awaitable);
        CHECK(got == "fresh");
    });
}

TEST_CASE("link: five links at once, each with its own data")
{
    rig r;
    tcp_peer peer(r.io, echo_session);
    r.run([&](client_type&, network_type& net) -> awaitable<void> {
        std::vector<network_type::link> links;
        for (int i = 0; i < 5; ++i) {
            auto l = co_await net.async_connect("127.0.0.1", peer.port());
            REQUIRE(l);
            links.push_back(std::move(*l));
        }
        auto sixth = co_await net.async_connect("127.0.0.1", peer.port());
        CHECK_FALSE(sixth);  // ids 0..4 are all taken
        for (int i = 0; i < 5; ++i) {
            const std::string data = pattern(3000, static_cast<std::uint32_t>(100 + i));
            co_await asio::async_write(links[static_cast<std::size_t>(i)], asio::buffer(data), use_awaitable);
        }
        for (int i = 0; i < 5; ++i) {
            const std::string data = pattern(3000, static_cast<std::uint32_t>(100 + i));
            std::string got(data.size(), '\0');
            co_await asio::async_read(links[static_cast<std::size_t>(i)], asio::buffer(got), use_awaitable);
            CHECK(got == data);
        }
    });
}

TEST_CASE("server: accept() yields a link per incoming connection, data both ways, then close")
{
    espat::sim::module_options mo;
    mo.server_port_override = 0;  // the module listens on a free loopback port
    rig r(mo);
    r.run([&](client_type&, network_type& net) -> awaitable<void> {
        const espat::net::server_options options{.max_connections = espat::server_connections{3}};
        auto server = co_await net.async_listen(8080, options);
        REQUIRE(server);
        const auto port = r.module.server_port();
        REQUIRE(port);
        auto ex = co_await asio::this_coro::executor;
        // Two clients connect from the host's network; each says who it is and waits for echo.
        std::string replies[2];
        for (int i = 0; i < 2; ++i) {
            asio::co_spawn(
                ex,
                [&, i]() -> awaitable<void> {
                    asio::ip::tcp::socket s(r.io);
                    co_await s.async_connect({asio::ip::address_v4::loopback(), *port}, use_awaitable);
                    const std::string hello = "client " + std::to_string(i) + "\n";
                    co_await asio::async_write(s, asio::buffer(hello), use_awaitable);
                    auto [ec, n] = co_await asio::async_read(s, asio::dynamic_buffer(replies[i]), as_tuple);
                    (void)n;
                    CHECK(ec == asio::error::eof);  // the server side closes after answering
                },
                asio::detached);
        }
        for (int i = 0; i < 2; ++i) {
            auto link = co_await server->async_accept();
            REQUIRE(link);
            std::string line;
            co_await asio::async_read_until(*link, asio::dynamic_buffer(line), "\n", use_awaitable);
            const std::string answer = "hello, " + line;
            co_await asio::async_write(*link, asio::buffer(answer), use_awaitable);
            auto [cec] = co_await link->async_close(as_tuple);
            CHECK_FALSE(cec);
        }
        asio::steady_timer settle(ex, 200ms);
        co_await settle.async_wait(use_awaitable);
        CHECK(replies[0] == "hello, client 0\n");
        CHECK(replies[1] == "hello, client 1\n");
        auto closed = co_await server->async_close();
        CHECK(closed);
        auto after = co_await server->async_accept();
        CHECK_FALSE(after);
    });
}

TEST_CASE("server: accept() is cancellable and the server keeps working")
{
    espat::sim::module_options mo;
    mo.server_port_override = 0;
    rig r(mo);
    r.run([&](client_type&, network_type& net) -> awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        auto server = co_await net.async_listen(8080);
        REQUIRE(server);
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer t(ex, 50ms);
        auto first = co_await (server->async_accept() || t.async_wait(use_awaitable));
        CHECK(first.index() == 1);
        asio::ip::tcp::socket s(r.io);
        co_await s.async_connect({asio::ip::address_v4::loopback(), *r.module.server_port()}, use_awaitable);
        auto link = co_await server->async_accept();
        CHECK(link);
    });
}

TEST_CASE("udp: datagrams keep their boundaries and their senders, both ways")
{
    // ESP-AT 2.x has one receive mode for all links (UDP needs active); 4.x sets it per link.
    struct variant {
        const char* name;
        espat::sim::personality firmware;
        receive_mode streams;
    };
    for (const variant& v : {variant{"2.x, active", espat::sim::esp_at_2(), receive_mode::active},
                             variant{"4.x, streams passive", espat::sim::esp_at_4(), receive_mode::passive}}) {
        CAPTURE(std::string(v.name));
        espat::sim::module_options mo;
        mo.firmware = v.firmware;
        rig r(mo);
        asio::ip::udp::socket peer(r.io, {asio::ip::address_v4::loopback(), 0});
        const auto peer_port = peer.local_endpoint().port();
        espat::net::network_options no;
        no.stream_receive = v.streams;
        r.run(
            [&](client_type&, network_type& net) -> awaitable<void> {
                const espat::net::udp_options options{.local_port = 0, .mode = espat::udp_mode::changeable};
                auto link = co_await net.async_open_udp("127.0.0.1", peer_port, options);
                if (!link) FAIL("open_udp: " << link.error().message());
                // Three datagrams out: the peer sees three, each whole.
                for (const char* d : {"one", "two two", "three three three"})
                    co_await link->async_send(asio::buffer(std::string(d)), use_awaitable);
                asio::ip::udp::endpoint module_end;
                for (const char* d : {"one", "two two", "three three three"}) {
                    char buf[64];
                    const std::size_t n = co_await peer.async_receive_from(asio::buffer(buf), module_end, use_awaitable);
                    CHECK(std::string(buf, n) == d);
                }
                // Two datagrams in: two receives, with the peer as the sender.
                co_await peer.async_send_to(asio::buffer(std::string("alpha")), module_end, use_awaitable);
                co_await peer.async_send_to(asio::buffer(std::string("beta\r\nOK\r\n")), module_end, use_awaitable);
                for (const char* d : {"alpha", "beta\r\nOK\r\n"}) {
                    char buf[64];
                    asio::ip::udp::endpoint from;
                    const std::size_t n = co_await link->async_receive_from(asio::buffer(buf), from, use_awaitable);
                    CHECK(std::string(buf, n) == d);
                    CHECK(from.port() == peer_port);
                }
                // A datagram larger than one AT+CIPSEND is refused whole, never split.
                auto [ec, n] = co_await link->async_send(asio::buffer(std::string(9000, 'x')), as_tuple);
                (void)n;
                CHECK(ec == asio::error::message_size);
            },
            20s, no);
    }
}

TEST_CASE("udp: on firmware with one receive mode for all links, UDP beside passive streams is refused clearly")
{
    rig r;  // ESP-AT 2.x: AT+CIPRECVMODE applies to every link
    r.run([&](client_type&, network_type& net) -> awaitable<void> {
        auto link = co_await net.async_open_udp("127.0.0.1", 9);
        CHECK_FALSE(link);
        if (!link) CHECK(link.error() == espat::make_error_code(espat::errc::receive_mode_conflict));
        if (!link) CHECK(link.error().message().find("stream_receive") != std::string::npos);
    });
    // With streams active too, the same module opens it.
    espat::net::network_options active;
    active.stream_receive = espat::net::receive_mode::active;
    rig again;
    again.run(
        [&](client_type&, network_type& net) -> awaitable<void> {
            auto link = co_await net.async_open_udp("127.0.0.1", 9);
            CHECK(link);
        },
        20s, active);
}

TEST_CASE("link: host-side TLS runs over a plain link, so the module never sees the plaintext")
{
    const auto& certs = espat::test::test_certs();
    rig r;
    // A loopback TLS server: answers one line, encrypted.
    asio::ssl::context server_ctx(asio::ssl::context::tls_server);
    server_ctx.use_certificate_chain(asio::buffer(certs.server.certificate));
    server_ctx.use_private_key(asio::buffer(certs.server.private_key), asio::ssl::context::pem);
    std::string seen_by_server;
    tcp_peer peer(r.io, [&](asio::ip::tcp::socket s) -> awaitable<void> {
        asio::ssl::stream<asio::ip::tcp::socket> tls(std::move(s), server_ctx);
        co_await tls.async_handshake(asio::ssl::stream_base::server, use_awaitable);
        co_await asio::async_read_until(tls, asio::dynamic_buffer(seen_by_server), "\n", use_awaitable);
        const std::string reply = "secret reply " + std::string(3000, 'r') + "\n";  // no newline inside
        co_await asio::async_write(tls, asio::buffer(reply), use_awaitable);
        auto [ec] = co_await tls.async_shutdown(as_tuple);
        (void)ec;
    });
    std::string module_saw;  // every byte the module sent or received for the link, as the host's transcript shows
    r.esp.record_transcript(true);
    r.run([&](client_type& esp, network_type& net) -> awaitable<void> {
        auto link = co_await net.async_connect("127.0.0.1", peer.port());
        REQUIRE(link);
        asio::ssl::context client_ctx(asio::ssl::context::tls_client);
        client_ctx.add_certificate_authority(asio::buffer(certs.ca));
        client_ctx.set_verify_mode(asio::ssl::verify_peer);
        asio::ssl::stream<network_type::link&> tls(*link, client_ctx);
        SSL_set_tlsext_host_name(tls.native_handle(), "localhost");
        tls.set_verify_callback(asio::ssl::host_name_verification("localhost"));
        co_await tls.async_handshake(asio::ssl::stream_base::client, use_awaitable);
        co_await asio::async_write(tls, asio::buffer(std::string("secret question\n")), use_awaitable);
        std::string reply;
        co_await asio::async_read_until(tls, asio::dynamic_buffer(reply), "\n", use_awaitable);
        CHECK(reply == "secret reply " + std::string(3000, 'r') + "\n");
        module_saw = esp.transcript();
    });
    CHECK(seen_by_server == "secret question\n");
    REQUIRE_FALSE(module_saw.empty());
    CHECK(module_saw.find("secret") == std::string::npos);  // only ciphertext crossed the serial line
    CHECK(module_saw.find("AT+CIPSEND=") != std::string::npos);
}

TEST_CASE("passthrough: a raw stream both ways, then +++ and back to links")
{
    rig r;
    tcp_peer peer(r.io, echo_session);
    r.run([&](client_type&, network_type& net) -> awaitable<void> {
        auto stream = co_await net.async_open_passthrough("127.0.0.1", peer.port());
        if (!stream) FAIL("open_passthrough: " << stream.error().message());
        // Bytes that look like module output pass untouched: there is no framing now.
        // Completions go through the caller's executor (a strand here), as a link's do.
        auto caller = asio::make_strand(r.io);
        const std::string sent = "raw\r\nOK\r\n+IPD,0,3:abc\r\n" + std::string(5000, 'p');
        co_await asio::async_write(*stream, asio::buffer(sent), asio::bind_executor(caller, use_awaitable));
        CHECK(caller.running_in_this_thread());
        std::string got(sent.size(), '\0');
        co_await asio::async_read(*stream, asio::buffer(got), asio::bind_executor(caller, use_awaitable));
        CHECK(caller.running_in_this_thread());
        CHECK(got == sent);
        // A second passthrough, or a link, cannot open meanwhile.
        auto again = co_await net.async_open_passthrough("127.0.0.1", peer.port());
        CHECK_FALSE(again);
        auto closed = co_await net.async_close_passthrough();
        if (!closed) FAIL("close_passthrough: " << closed.error().message());
        CHECK_FALSE(stream->is_open());
        // Command mode again, with links.
        auto link = co_await net.async_connect("127.0.0.1", peer.port());
        REQUIRE(link);
        co_await asio::async_write(*link, asio::buffer(std::string("after")), use_awaitable);
        std::string back(5, '\0');
        co_await asio::async_read(*link, asio::buffer(back), use_awaitable);
        CHECK(back == "after");
    });
}

// ---- a wire that loses bytes, and what never reaches the module's interpreter ----------------

TEST_CASE("link: after SEND FAIL what was received before stays readable, then send_failed")
{
    for (auto mode : {receive_mode::passive, receive_mode::active}) {
        CAPTURE(static_cast<int>(mode));
        espat::sim::module_options mo;
        mo.faults.send_fail = 1;  // every send: half the data goes out, then SEND FAIL
        rig r(mo);
        const std::string greeting = pattern(3000, 5);
        bool greeted = false;
        tcp_peer peer(r.io, greet_then_sink(greeting, greeted));
        espat::net::network_options no;
        no.stream_receive = mode;
        r.run(
            [&](client_type&, network_type& net) -> awaitable<void> {
                auto link = co_await net.async_connect("127.0.0.1", peer.port());
                REQUIRE(link);
                const auto arrived = [&] { return greeted; };
                REQUIRE(co_await espat::test::eventually(arrived));
                asio::steady_timer t(co_await asio::this_coro::executor, 100ms);  // the greeting is on the module or here
                co_await t.async_wait(use_awaitable);
                auto [wec, wn] = co_await asio::async_write(*link, asio::buffer(std::string(100, 'w')), as_tuple);
                (void)wn;
                CHECK(wec == espat::make_error_code(espat::errc::send_failed));
                std::string got;
                auto [ec, n] = co_await asio::async_read(*link, asio::dynamic_buffer(got), as_tuple);
                (void)n;
                CHECK(got.size() == greeting.size());
                CHECK(got == greeting);  // everything that came before the failure
                CHECK(ec == espat::make_error_code(espat::errc::send_failed));  // then the failure, not eof
                auto [again, an] = co_await asio::async_write(*link, asio::buffer("x", 1), as_tuple);
                (void)an;
                CHECK(again == espat::make_error_code(espat::errc::send_failed));
            },
            20s, no);
    }
}

TEST_CASE("link: a link that closes while its send is taken fails the write at once; what came before stays readable")
{
    // Seen in the field: '>', the peer's data, CLOSED, and no SEND OK or SEND FAIL ever. The
    // write used to wait for its 10 s timeout; the rig's deadline is shorter than that.
    for (auto mode : {receive_mode::passive, receive_mode::active}) {
        CAPTURE(static_cast<int>(mode));
        espat::sim::module_options mo;
        mo.faults.closed_during_send = 1;
        rig r(mo);
        const std::string greeting = pattern(1000, 7);  // the module takes it whole before the send
        bool greeted = false;
        tcp_peer peer(r.io, greet_then_sink(greeting, greeted));
        espat::net::network_options no;
        no.stream_receive = mode;
        r.run(
            [&](client_type&, network_type& net) -> awaitable<void> {
                auto link = co_await net.async_connect("127.0.0.1", peer.port());
                REQUIRE(link);
                const auto arrived = [&] { return greeted; };
                REQUIRE(co_await espat::test::eventually(arrived));
                asio::steady_timer t(co_await asio::this_coro::executor, 100ms);
                co_await t.async_wait(use_awaitable);
                const auto before = std::chrono::steady_clock::now();
                auto [wec, wn] = co_await asio::async_write(*link, asio::buffer(std::string(100, 'w')), as_tuple);
                (void)wn;
                CHECK(wec == espat::make_error_code(espat::errc::link_closed));
                CHECK(std::chrono::steady_clock::now() - before < 2s);  // at the CLOSED, not a timeout
                std::string got;
                auto [ec, n] = co_await asio::async_read(*link, asio::dynamic_buffer(got), as_tuple);
                (void)n;
                CHECK(got.size() == greeting.size());
                CHECK(got == greeting);  // everything that came before the close
                CHECK(ec == asio::error::eof);
                auto [again, an] = co_await asio::async_write(*link, asio::buffer("x", 1), as_tuple);
                (void)an;
                CHECK(again == espat::make_error_code(espat::errc::link_closed));
                // The client goes on: the next link works.
                auto next = co_await net.async_connect("127.0.0.1", peer.port());

                CHECK(next);
            },
            8s, no);
    }
}

TEST_CASE("network start on a module an earlier program left a link open on: closed; or kept and refused; or the module reset first")
{
    enum class way { close_leftovers, keep_them, reset_on_start };
    for (const way w : {way::close_leftovers, way::keep_them, way::reset_on_start}) {
        CAPTURE(static_cast<int>(w));
        asio::io_context io;
        espat::sim::module module(io.get_executor());  // stays powered between the two programs
        int peer_ends = 0;                              // connections the peer saw end
        tcp_peer peer(io, [&](asio::ip::tcp::socket s) -> awaitable<void> {
            std::array<char, 256> sink;
            for (;;) {
                auto [ec, n] = co_await s.async_read_some(asio::buffer(sink), as_tuple);
                (void)n;
                if (ec) break;
            }
            ++peer_ends;
        });
        // Each program's pipe and client outlive the script (a client's close() is posted).
        auto first_ends = espat::sim::make_pipe(io.get_executor());
        auto second_ends = espat::sim::make_pipe(io.get_executor());
        std::optional<client_type> first, second;
        bool done = false;
        asio::co_spawn(
            io,
            [&]() -> awaitable<void> {
                asio::co_spawn(io, module.serve(first_ends.second), asio::detached);
                first.emplace(std::move(first_ends.first));
                REQUIRE(co_await first->async_start());
                network_type first_net(*first);
                REQUIRE(co_await first_net.async_start());
                auto left = co_await first_net.async_connect("127.0.0.1", peer.port());
                REQUIRE(left);
                first->close();  // the program ends without closing its link
                asio::steady_timer t(io, 50ms);
                co_await t.async_wait(use_awaitable);

                asio::co_spawn(io, module.serve(second_ends.second), asio::detached);
                espat::client_options co;
                co.reset_on_start = w == way::reset_on_start;
                second.emplace(std::move(second_ends.first), co);
                REQUIRE(co_await second->async_start());
                espat::net::network_options no;
                no.close_leftover_links = w != way::keep_them;
                network_type net(*second, no);
                auto started = co_await net.async_start();
                REQUIRE(started);
                if (w == way::keep_them) {
                    // What users of other drivers meet: the old link holds id 0.
                    auto link = co_await net.async_connect("127.0.0.1", peer.port());
                    REQUIRE_FALSE(link);
                    CHECK(link.error() == espat::errc::already_connected);
                } else {
                    CHECK(net.stats().leftovers_closed == (w == way::close_leftovers ? 1u : 0u));
                    CHECK(second->stats().session.resets == (w == way::reset_on_start ? 1u : 0u));
                    auto link = co_await net.async_connect("127.0.0.1", peer.port());
                    REQUIRE(link);
                    const auto old_one_ended = [&] { return peer_ends == 1; };
                    CHECK(co_await espat::test::eventually(old_one_ended));
                }
                second->close();
                module.stop();
                done = true;
            },
            [&](std::exception_ptr e) {
                io.stop();
                if (e) std::rethrow_exception(e);
            });
        io.run_for(20s);
        CHECK(done);
    }
}

TEST_CASE("link: a CLOSED or a passive notification lost on the wire is found by asking the module")
{
    for (auto mode : {receive_mode::passive, receive_mode::active}) {
        CAPTURE(static_cast<int>(mode));
        espat::sim::module_options mo;
        mo.faults.lost_report = 1;  // every CLOSED and every "+IPD,<id>,<len>" is lost
        rig r(mo);
        const std::string page = pattern(5000, 9);
        tcp_peer peer(r.io, [&](asio::ip::tcp::socket s) -> awaitable<void> {
            co_await asio::async_write(s, asio::buffer(page), use_awaitable);
            s.close();
        });
        espat::net::network_options no;
        no.stream_receive = mode;
        no.reconcile_after = 200ms;
        r.run(
            [&](client_type&, network_type& net) -> awaitable<void> {
                auto link = co_await net.async_connect("127.0.0.1", peer.port());
                REQUIRE(link);
                std::string got;
                auto [ec, n] = co_await asio::async_read(*link, asio::dynamic_buffer(got), as_tuple);
                (void)n;
                CHECK(ec == asio::error::eof);
                CHECK(got == page);
                CHECK(net.stats().reconciles > 0);
                CHECK(net.stats().closes_found == 1);
            },
            20s, no);
    }
}

TEST_CASE("passthrough: application bytes \"+++\" never take the module out of it; with the guard off the stream fails")
{
    for (const bool guard : {true, false}) {
        CAPTURE(guard);
        espat::client_options co;
        co.session.passthrough_guard = guard;
        rig r({}, co);
        tcp_peer peer(r.io, echo_session);
        r.run([&](client_type&, network_type& net) -> awaitable<void> {
            auto stream = co_await net.async_open_passthrough("127.0.0.1", peer.port());
            REQUIRE(stream);
            asio::steady_timer t(co_await asio::this_coro::executor);
            // "+++" alone, with more than the module's 20 ms of silence around it: its escape.
            t.expires_after(100ms);
            co_await t.async_wait(use_awaitable);
            co_await asio::async_write(*stream, asio::buffer(std::string("+++")), use_awaitable);
            t.expires_after(1200ms);
            co_await t.async_wait(use_awaitable);
            auto [wec, wn] = co_await asio::async_write(*stream, asio::buffer(std::string("more\r\n")), as_tuple);
            (void)wn;
            std::string got;
            std::array<char, 64> buf;
            std::error_code rec;
            while (!rec && got.size() < 9) {
                std::size_t n = 0;
                std::tie(rec, n) = co_await stream->async_read_some(asio::buffer(buf), as_tuple);
                got.append(buf.data(), n);
            }
            if (guard) {
                CHECK_FALSE(wec);
                CHECK(got == "+++more\r\n");  // the peer got them, and echoed them: still passthrough
            } else {
                // The module took "+++" for its escape and answered "more" as a command line:
                // not the peer's bytes, and the stream says so.
                CHECK(rec == espat::make_error_code(espat::errc::protocol_error));
                CHECK(got.find("ERROR") == std::string::npos);
            }
            auto closed = co_await net.async_close_passthrough();
            (void)closed;
            // Command mode again, with links.
            auto link = co_await net.async_connect("127.0.0.1", peer.port());
            REQUIRE(link);
        });
    }
}

TEST_CASE("passthrough: open_passthrough checks the host before it sends anything")
{
    rig r;
    r.esp.record_transcript(true);
    r.run([&](client_type& esp, network_type& net) -> awaitable<void> {
        const auto before = esp.transcript().size();
        auto stream = co_await net.async_open_passthrough("evil\r\nAT+RST", 80);
        CHECK(stream.error() == espat::make_error_code(espat::errc::invalid_argument));
        CHECK(esp.transcript().size() == before);  // nothing written: the module's modes are as they were
        auto link = co_await net.async_connect("127.0.0.1", 9);
        CHECK(link.error() != espat::make_error_code(espat::errc::invalid_argument));  // multi-link mode still
    });
}

TEST_CASE("client: the raw command API refuses what is not one command line, with nothing sent")
{
    rig r;
    r.esp.record_transcript(true);
    r.run([&](client_type& esp, network_type&) -> awaitable<void> {
        const auto before = esp.transcript().size();
        const std::string lines[] = {"AT+CWJAP=\"x\r\nAT+RST\",\"y\"", std::string("AT\0+RST", 7), "AT+CIPSEND=0,5\rAT+RST",
                                     "AT+CWJAP=\"" + std::string(300, 'a') + "\""};
        for (const std::string& line : lines) {
            CAPTURE(line);
            auto r1 = co_await esp.async_send_command(line, 1000ms);
            CHECK(r1.error() == espat::make_error_code(espat::errc::invalid_argument));
        }
        espat::proto::command c{.line = "AT\r\nAT+RST\r\n"};
        auto r2 = co_await esp.async_send_command(std::move(c));
        CHECK(r2.error() == espat::make_error_code(espat::errc::invalid_argument));
        CHECK(esp.transcript().size() == before);
        auto ok = co_await esp.async_send_command("AT", 1000ms);
        REQUIRE(ok);
        CHECK_FALSE(ok->ec);
    });
}
