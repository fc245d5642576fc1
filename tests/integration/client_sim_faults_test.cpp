// The client against the simulated module misbehaving as real ones do (the simulator's seeded
// faults, firmware-quirks.md): reports inside echoes and inside sends, busy that ends and busy
// that does not, ERR CODE 0x010b0000, SEND FAIL then SEND OK, a reset in the middle of a
// command, a silent module, cancellation at each stage, and a module that boots into
// passthrough (AT+SAVETRANSLINK). Between client and module a relay can split the host's
// bytes, hold the module's output or drop it. Every test runs under a deadline.
#include <espat/client.hpp>
#include <espat/net/network.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/pipe.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using asio::awaitable;
using asio::use_awaitable;
using espat::errc;
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
using client_type = espat::basic_client<espat::sim::pipe_end>;

namespace {

espat::client_options fast_options()
{
    espat::client_options o;
    o.session.probe_timeout = 100ms;
    o.session.quiet = 10ms;
    o.session.backoff_initial = 10ms;
    o.session.backoff_max = 40ms;
    o.session.guard_after = 100ms;
    o.start_probe_timeout = 200ms;
    return o;
}

// Between the client's pipe and the module's: forwards both ways, and on demand splits the
// host's bytes one by one (so module output lands inside a line being typed), holds the
// module's output (released later, in order) or drops it (a silent module).
struct relay {
    explicit relay(asio::io_context& io)
        : io(io), a(espat::sim::make_pipe(io.get_executor())), b(espat::sim::make_pipe(io.get_executor()))
    {
        asio::co_spawn(io, host_to_module(), asio::detached);
        asio::co_spawn(io, module_to_host(), asio::detached);
    }
    espat::sim::pipe_end& client_end() { return a.first; }
    espat::sim::pipe_end& module_end() { return b.second; }

    void release()
    {
        hold = false;
        b.first.cancel();  // wakes the forwarder, which writes what it held
    }

    awaitable<void> host_to_module()
    {
        char buf[512];
        asio::steady_timer gap(io);
        for (;;) {
            auto [ec, n] = co_await a.second.async_read_some(asio::buffer(buf), as_tuple);
            if (ec) co_return;
            host_bytes.append(buf, n);
            if (mute_after_host && host_bytes.find(*mute_after_host) != std::string::npos) {
                mute_after_host.reset();
                mute = true;  // the module gets this command; its answer is lost
            }
            for (std::size_t i = 0; i < n;) {
                const std::size_t k = split ? 1 : n;
                co_await asio::async_write(b.first, asio::buffer(buf + i, k), as_tuple);
                i += k;
                if (split) {
                    gap.expires_after(1ms);
                    co_await gap.async_wait(as_tuple);
                }
            }
        }
    }
    awaitable<void> module_to_host()
    {
        char buf[4096];
        for (;;) {
            if (!hold && !held.empty()) {
                std::string out = std::exchange(held, {});
                co_await asio::async_write(a.second, asio::buffer(out), as_tuple);
                continue;
            }
            auto [ec, n] = co_await b.first.async_read_some(asio::buffer(buf), as_tuple);
            if (ec == asio::error::operation_aborted) continue;  // release()
            if (ec) co_return;
            std::string chunk(buf, n);
            module_bytes += chunk;
            if (mute) continue;
            if (hold_after) {  // forward up to the marker, hold the rest
                const auto at = chunk.find(*hold_after);
                if (at != std::string::npos) {
                    const std::string head = chunk.substr(0, at + hold_after->size());
                    held += chunk.substr(head.size());
                    hold_after.reset();
                    hold = true;
                    co_await asio::async_write(a.second, asio::buffer(head), as_tuple);
                    continue;
                }
            }
            if (hold) held += chunk;
            else co_await asio::async_write(a.second, asio::buffer(chunk), as_tuple);
        }
    }

    asio::io_context& io;
    std::pair<espat::sim::pipe_end, espat::sim::pipe_end> a, b;  // a: client <-> relay; b: relay <-> module
    std::string held, host_bytes, module_bytes;
    std::optional<std::string> hold_after;
    std::optional<std::string> mute_after_host;  // the host wrote this: mute from then on
    bool split = false, hold = false, mute = false;
};

// A loopback TCP peer that records what it gets and can write to its connections.
struct peer {
    explicit peer(asio::io_context& io) : acceptor(io, {asio::ip::address_v4::loopback(), 0})
    {
        asio::co_spawn(io, accept_loop(), asio::detached);
    }
    awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, s] = co_await acceptor.async_accept(as_tuple);
            if (ec) co_return;
            auto socket = std::make_shared<asio::ip::tcp::socket>(std::move(s));
            sockets.push_back(socket);
            asio::co_spawn(acceptor.get_executor(), read_loop(socket), asio::detached);
        }
    }
    awaitable<void> read_loop(std::shared_ptr<asio::ip::tcp::socket> s)
    {
        char buf[4096];
        for (;;) {
            auto [ec, n] = co_await s->async_read_some(asio::buffer(buf), as_tuple);
            if (ec) co_return;
            received.append(buf, n);
        }
    }
    std::uint16_t port() const { return acceptor.local_endpoint().port(); }
    asio::ip::tcp::acceptor acceptor;
    std::vector<std::shared_ptr<asio::ip::tcp::socket>> sockets;
    std::string received;
};

// Module, relay, client and peer on one io_context; run() bounds a script by a deadline.
struct rig {
    explicit rig(espat::sim::module_options mo = {}, espat::client_options co = fast_options())
        : module(io.get_executor(), std::move(mo)), wire(io), esp(std::move(wire.client_end()), co), tcp(io)
    {
        asio::co_spawn(io, module.serve(wire.module_end()), asio::detached);
    }
    void run(std::function<awaitable<void>()> script, std::chrono::seconds limit = 20s)
    {
        bool finished = false;
        std::exception_ptr failure;
        asio::co_spawn(esp.get_executor(), script(), [&](std::exception_ptr e) {
            failure = e;
            finished = true;
            io.stop();
        });
        io.run_for(limit);
        if (failure) std::rethrow_exception(failure);
        REQUIRE_MESSAGE(finished, "the script did not finish before its deadline");
    }
    awaitable<void> sleep(std::chrono::milliseconds d)
    {
        asio::steady_timer t(io, d);
        co_await t.async_wait(use_awaitable);
    }
    awaitable<void> started()
    {
        auto r = co_await esp.async_start();
        REQUIRE(r);
    }
    awaitable<void> open_link(std::optional<espat::link_id> id = std::nullopt)
    {
        const espat::cipstart_tcp_request to{.link = id, .host = "127.0.0.1", .port = tcp.port()};
        auto r = co_await esp.cipstart_tcp.set(to);
        REQUIRE(r);
        while (tcp.sockets.size() < (id ? id->value() + 1u : 1u)) co_await sleep(2ms);
    }

    asio::io_context io;
    espat::sim::module module;
    relay wire;
    client_type esp;
    peer tcp;
};

std::string pattern(std::size_t n, char seed)
{
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i % 23);
    return s;
}

}  // namespace

TEST_CASE("faults: reports inside echoes and between '>' and Recv reach listeners; every command still succeeds")
{
    espat::sim::module_options mo;
    mo.faults.report_inside_echo = 1;
    mo.faults.report_inside_send = 1;
    rig t(mo);
    std::string ipd, incoming;  // here, not in the script: the writer below may outlive it
    bool writing = true;
    t.run([&]() -> awaitable<void> {
        co_await t.started();
        auto echo = co_await t.esp.ate1();  // the module echoes, so reports can split echoes
        REQUIRE(echo);
        co_await t.open_link();
        t.esp.add_report_listener([&](const espat::proto::event& e) {
            if (e.kind == espat::proto::event_kind::ipd) ipd += e.payload;
        });
        t.wire.split = true;  // the host "types": module output lands inside the line
        // The peer writes every few milliseconds, while the client types and while it sends.
        asio::co_spawn(t.io, [&]() -> awaitable<void> {
            int k = 0;
            while (writing) {
                co_await t.sleep(3ms);
                const std::string piece = pattern(5, static_cast<char>('a' + k++ % 20));
                incoming += piece;
                co_await asio::async_write(*t.tcp.sockets.front(), asio::buffer(piece), use_awaitable);
            }
        }, asio::detached);
        std::string sent;
        for (int i = 0; i < 20; ++i) {
            auto mode = co_await t.esp.cwmode.query();
            REQUIRE(mode);
            CHECK(*mode == espat::wifi_mode::station);
            const std::string chunk = pattern(16, static_cast<char>('A' + i));
            auto n = co_await t.esp.async_send_data(std::nullopt, chunk);
            REQUIRE(n);
            sent += chunk;
        }
        writing = false;
        co_await t.sleep(10ms);
        while (ipd.size() < incoming.size() || t.tcp.received.size() < sent.size()) co_await t.sleep(5ms);
        CHECK(ipd == incoming);
        CHECK(t.tcp.received == sent);
        // The faults did happen: a +IPD inside an echoed line, and one between '>' and Recv.
        const std::string& out = t.wire.module_bytes;
        bool inside_echo = false, inside_send = false;
        for (std::size_t at = out.find("+IPD,"); at != std::string::npos; at = out.find("+IPD,", at + 1)) {
            // The text on the line before it (a CR LF that opens the report left out).
            std::size_t end = at;
            if (end >= 2 && out.compare(end - 2, 2, "\r\n") == 0) end -= 2;
            const std::size_t newline = end == 0 ? std::string::npos : out.rfind('\n', end - 1);
            const std::size_t start = newline == std::string::npos ? 0 : newline + 1;
            inside_echo |= out.compare(start, 3, "AT+") == 0 && end - start > 3;
            const std::size_t prompt = out.rfind("\r\n>", at), recv = out.rfind("Recv ", at);
            inside_send |= prompt != std::string::npos && (recv == std::string::npos || recv < prompt);
        }
        CHECK(inside_echo);
        CHECK(inside_send);
        CHECK(t.esp.stats().session.protocol_errors == 0);
    });
}

TEST_CASE("faults: the peer closing while a send is pending: CLOSED reaches listeners, the send ends, the next command works")
{
    espat::sim::module_options mo;
    mo.faults.report_inside_send = 1;
    rig t(mo);
    t.run([&]() -> awaitable<void> {
        co_await t.started();
        co_await t.open_link();
        int closed = 0;
        t.esp.add_report_listener([&](const espat::proto::event& e) { closed += e.kind == espat::proto::event_kind::closed; });
        t.wire.split = true;  // the data trickles in, so the close lands while the module waits for it
        const std::size_t mark = t.wire.host_bytes.size();
        asio::co_spawn(t.io, [&t, mark]() -> awaitable<void> {
            while (t.wire.host_bytes.size() < mark + std::string_view("AT+CIPSEND=64\r\n").size() + 8) co_await t.sleep(1ms);
            t.tcp.sockets.front()->close();
        }, asio::detached);
        auto n = co_await t.esp.async_send_data(std::nullopt, pattern(64, 'a'));
        // SEND OK or SEND FAIL if the module finished the send first; link_closed at the CLOSED
        // if it came inside the send (no result may follow it).
        CHECK((n || n.error() == errc::send_failed || n.error() == errc::link_closed));
        while (closed == 0) co_await t.sleep(2ms);
        auto mode = co_await t.esp.cwmode.query();
        REQUIRE(mode);
        CHECK(*mode == espat::wifi_mode::station);
    });
}

TEST_CASE("faults: busy p... and ERR CODE 0x010b0000 before every answer; the commands succeed")
{
    for (const bool err_code : {false, true}) {
        CAPTURE(err_code);
        espat::sim::module_options mo;
        (err_code ? mo.faults.err_code_busy : mo.faults.busy_before_result) = 1;
        rig t(mo);
        t.run([&]() -> awaitable<void> {
            co_await t.started();  // start-up's own commands see them too
            for (int i = 0; i < 5; ++i) {
                auto ap = co_await t.esp.cwjap.query();
                REQUIRE(ap);
                REQUIRE(ap->has_value());
                CHECK((*ap)->ssid == "espressif");
            }
            co_await t.open_link();
            auto n = co_await t.esp.async_send_data(std::nullopt, "through busy");
            CHECK(n);
        });
    }
}

TEST_CASE("faults: busy that never ends fails with errc::busy after bounded retries; later commands succeed")
{
    espat::sim::module_options mo;
    mo.join_delay = 1500ms;  // AT+CWJAP keeps the module busy this long
    rig t(mo);
    t.run([&]() -> awaitable<void> {
        co_await t.started();
        const espat::cwjap_request join{"espressif", "1234567890"};
        auto joining = co_await t.esp.cwjap.set(join, {.timeout = 30ms});
        REQUIRE_FALSE(joining);
        CHECK(joining.error() == errc::timeout);
        // The module answers every line "busy p..." and nothing else: two extensions, then busy.
        auto mode = co_await t.esp.cwmode.query({.timeout = 40ms, .busy_retries = 2});
        REQUIRE_FALSE(mode);
        CHECK(mode.error() == errc::busy);
        REQUIRE(t.esp.last_failure());
        CHECK_FALSE(t.esp.last_failure()->diagnostics.empty());
        // Once the join is over the module answers again.
        for (;;) {
            auto e = co_await t.esp.async_next_wifi_event();
            REQUIRE(e);
            if (e->kind == espat::wifi_event_kind::got_ip) break;
        }
        auto after = co_await t.esp.cwmode.query();
        REQUIRE(after);
        CHECK(*after == espat::wifi_mode::station);
    });
}

TEST_CASE("faults: SEND FAIL fails that send with send_failed (only part reached the peer); a later send succeeds")
{
    espat::sim::module_options mo;
    mo.faults.send_fail = 0.5;
    mo.faults.seed = 7;
    rig t(mo);
    t.run([&]() -> awaitable<void> {
        co_await t.started();
        co_await t.open_link();
        int failed = 0, ok_after_fail = 0;
        std::string delivered;
        for (int i = 0; i < 12; ++i) {
            const std::string chunk = pattern(10, static_cast<char>('a' + i));
            auto n = co_await t.esp.async_send_data(std::nullopt, chunk);
            if (n) {
                ok_after_fail += failed > 0;
                delivered += chunk;
            } else {
                CHECK(n.error() == errc::send_failed);
                ++failed;
                delivered += chunk.substr(0, 5);  // the half that went out
            }
        }
        CHECK(failed > 0);
        CHECK(ok_after_fail > 0);
        while (t.tcp.received.size() < delivered.size()) co_await t.sleep(2ms);
        CHECK(t.tcp.received == delivered);
    });
}

TEST_CASE("faults: a spontaneous reset fails the command in flight with device_reset; start-up reruns; then success")
{
    espat::sim::module_options mo;
    mo.faults.spontaneous_reset = 0.2;
    mo.faults.seed = 3;
    mo.reset_delay = 30ms;
    rig t(mo);
    t.run([&]() -> awaitable<void> {
        // A reset during start-up starts it over (three rounds); a start-up that still saw
        // one fails with device_reset and may be run again.
        auto started = co_await t.esp.async_start();
        for (int i = 0; i < 3 && !started; ++i) {
            CHECK(started.error() == errc::device_reset);
            started = co_await t.esp.async_start();
        }
        REQUIRE(started);
        int resets_seen = 0;
        for (int i = 0; i < 40 && resets_seen < 2; ++i) {
            auto mode = co_await t.esp.cwmode.query();
            if (mode) {
                CHECK(*mode == espat::wifi_mode::station);
                continue;
            }
            CHECK(mode.error() == errc::device_reset);
            ++resets_seen;
        }
        CHECK(resets_seen == 2);
        CHECK(t.esp.stats().starts >= 3);  // the first and one per reset
        CHECK_FALSE(t.esp.last_restart_error());
    });
}

TEST_CASE("faults: a module gone silent times the command out; after the resync the next command succeeds")
{
    rig t;
    t.run([&]() -> awaitable<void> {
        co_await t.started();
        const auto before = t.esp.stats();
        t.wire.mute = true;
        auto lost = co_await t.esp.cipsta.query({.timeout = 50ms});
        REQUIRE_FALSE(lost);
        CHECK(lost.error() == errc::timeout);
        t.wire.mute = false;
        auto sta = co_await t.esp.cipsta.query();
        REQUIRE(sta);
        CHECK(sta->ip == asio::ip::make_address("192.168.4.2"));
        const auto after = t.esp.stats();
        CHECK(after.session.timeouts == before.session.timeouts + 1);
        CHECK(after.session.resyncs == before.session.resyncs + 1);
    });
}

TEST_CASE("faults: a connect whose AT+CIPTCPOPT answer was lost: the id's next link puts the default options back")
{
    rig t;
    t.run([&]() -> awaitable<void> {
        co_await t.started();
        espat::net::basic_network<client_type> net(t.esp);
        auto started = co_await net.async_start();
        REQUIRE(started);
        // The module receives AT+CIPTCPOPT and applies it; the host never hears back.
        t.wire.mute_after_host = "AT+CIPTCPOPT=";
        espat::net::connect_options o;
        o.tcp.no_delay = true;
        auto lost = co_await net.async_connect("127.0.0.1", t.tcp.port(), o);
        REQUIRE_FALSE(lost);
        CHECK(lost.error() == errc::timeout);
        t.wire.mute = false;
        const std::size_t mark = t.wire.host_bytes.size();
        auto plain = co_await net.async_connect("127.0.0.1", t.tcp.port());
        REQUIRE(plain);
        CHECK(plain->handle().id == 0);  // the same id as the lost one
        CHECK(t.wire.host_bytes.find("AT+CIPTCPOPT=0,-1,0,0\r\n", mark) != std::string::npos);
        auto [ec] = co_await plain->async_close(as_tuple);
        CHECK_FALSE(ec);
    });
}

TEST_CASE("faults: cancellation queued, written, waiting for the prompt and after it; each followed by a success")
{
    espat::sim::module_options mo;
    mo.join_delay = 150ms;
    rig t(mo);
    t.run([&]() -> awaitable<void> {
        co_await t.started();
        co_await t.open_link();
        asio::steady_timer timer(t.io);
        auto check_next = [&]() -> awaitable<void> {
            auto sta = co_await t.esp.cipsta.query();
            REQUIRE(sta);
            CHECK(sta->ip == asio::ip::make_address("192.168.4.2"));
        };
        const espat::cwjap_request join{"espressif", "1234567890"};

        // Queued behind a slow join: never written.
        {
            timer.expires_after(20ms);
            const auto lines_before = t.wire.host_bytes.size();
            auto [joined, queued] = co_await (t.esp.cwjap.set(join) &&
                                              (t.esp.cipdomain("127.0.0.1") || timer.async_wait(use_awaitable)));
            CHECK(joined);
            CHECK(queued.index() == 1);
            CHECK(t.wire.host_bytes.find("AT+CIPDOMAIN", lines_before) == std::string::npos);
            co_await check_next();
        }
        // Written: the join goes on in the module; its answer is drained, not taken by the next.
        {
            timer.expires_after(20ms);
            auto r = co_await (t.esp.cwjap.set(join) || timer.async_wait(use_awaitable));
            CHECK(r.index() == 1);
            co_await check_next();
        }
        // Waiting for the prompt (the module's answer held back), then after the prompt (the
        // data written, SEND OK held back). Either way the module gets its bytes.
        for (const bool after_prompt : {false, true}) {
            CAPTURE(after_prompt);
            const std::size_t before = t.tcp.received.size();
            if (after_prompt) t.wire.hold_after = ">";
            else t.wire.hold = true;
            timer.expires_after(30ms);
            auto r = co_await (t.esp.async_send_data(std::nullopt, "cancelled") || timer.async_wait(use_awaitable));
            CHECK(r.index() == 1);
            t.wire.release();
            co_await check_next();
            while (t.tcp.received.size() < before + 9) co_await t.sleep(2ms);
            CHECK(t.tcp.received.substr(before) == "cancelled");
        }
        // Cancelling start-up itself: the next start-up runs whole.
        {
            timer.expires_after(1ms);
            auto r = co_await (t.esp.async_start() || timer.async_wait(use_awaitable));
            (void)r;
            auto again = co_await t.esp.async_start();
            CHECK(again);
            co_await check_next();
        }
        const auto stats = t.esp.stats();
        CHECK(stats.cancellations >= 4);
    });
}

// ---- a module that boots into passthrough ----

TEST_CASE("start-up: a module that booted into passthrough (SAVETRANSLINK) is found and brought back to command mode")
{
    espat::sim::module_options mo;
    mo.reset_delay = 20ms;
    asio::io_context io;
    espat::sim::module module(io.get_executor(), mo);
    relay wire(io);
    peer tcp(io);
    asio::co_spawn(io, module.serve(wire.module_end()), asio::detached);
    bool finished = false;
    std::exception_ptr failure;
    std::optional<client_type> esp;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
            // The rig's pieces by hand: the module must be in passthrough before the client exists.
            struct {
                asio::io_context& io;
                peer& tcp;
                awaitable<void> sleep(std::chrono::milliseconds d)
                {
                    asio::steady_timer timer(io, d);
                    co_await timer.async_wait(use_awaitable);
                }
            } env{io, tcp};
            const std::string lines =
                "AT+SAVETRANSLINK=1,\"127.0.0.1\"," + std::to_string(tcp.port()) + ",\"TCP\"\r\nAT+RST\r\n";
            co_await asio::async_write(wire.client_end(), asio::buffer(lines), use_awaitable);
            std::string seen;
            char buf[512];
            while (seen.find("WIFI GOT IP\r\n") == std::string::npos) {
                auto [ec, n] = co_await wire.client_end().async_read_some(asio::buffer(buf), as_tuple);
                REQUIRE_FALSE(ec);
                seen.append(buf, n);
            }
            while (tcp.sockets.empty()) co_await env.sleep(2ms);
            co_await env.sleep(30ms);

            esp.emplace(std::move(wire.client_end()), fast_options());
            esp->record_transcript();
            auto fw = co_await esp->async_start();
            REQUIRE(fw);
            CHECK(fw->left_passthrough);
            CHECK(esp->transcript().find("> +++") != std::string::npos);
            // The probes sent while it was in passthrough went to the peer as data.
            CHECK(tcp.received.starts_with("AT\r\n"));
            // Command mode with the saved link's state: CIPMODE=1 and link 0 open, config kept.
            auto mode = co_await esp->cipmode.query();
            REQUIRE(mode);
            CHECK(*mode == espat::transfer_mode::passthrough);
            auto status = co_await esp->cipstatus();
            REQUIRE(status);
            REQUIRE(status->links.size() == 1);
            CHECK(status->links[0].remote_port == tcp.port());
            // The network's start() takes the module out of that state (closes link 0, normal
            // mode) and prepares it for links; a new link to the peer then carries data.
            espat::net::basic_network<client_type> net(*esp);
            auto prepared = co_await net.async_start();
            REQUIRE(prepared);
            auto after = co_await esp->cipmode.query();
            REQUIRE(after);
            CHECK(*after == espat::transfer_mode::normal);
            auto link = co_await net.async_connect("127.0.0.1", tcp.port());
            REQUIRE(link);
            const std::string hello = "hello after passthrough";
            co_await asio::async_write(*link, asio::buffer(hello), use_awaitable);
            while (tcp.received.find(hello) == std::string::npos) co_await env.sleep(2ms);
            auto [close_ec] = co_await link->async_close(as_tuple);
            CHECK_FALSE(close_ec);
        },
        [&](std::exception_ptr e) {
            failure = e;
            finished = true;
            io.stop();
        });
    io.run_for(20s);
    if (failure) std::rethrow_exception(failure);
    REQUIRE(finished);
}

TEST_CASE("reset mid-session with a saved TCP link: the client notices, restarts, leaves the passthrough the module booted into, and works on")
{
    espat::sim::module_options mo;
    mo.reset_delay = 20ms;
    for (const bool by_command : {false, true}) {
        CAPTURE(by_command);  // the module's power (sim::module::reset) or AT+RST
        rig t(mo);
        t.run([&]() -> awaitable<void> {
            co_await t.started();
            espat::net::basic_network<client_type> net(t.esp);
            auto prepared = co_await net.async_start();
            REQUIRE(prepared);
            auto link = co_await net.async_connect("127.0.0.1", t.tcp.port());
            REQUIRE(link);
            while (t.tcp.sockets.empty()) co_await t.sleep(2ms);
            // Saved for the next boot: the module will come up in passthrough to the peer.
            const espat::savetranslink_tcp_request saved{.mode = espat::transfer_mode::passthrough, .host = "127.0.0.1",
                                                         .port = t.tcp.port()};
            auto stored = co_await t.esp.savetranslink_tcp.set(saved);
            REQUIRE(stored);
            const std::size_t starts_before = t.esp.stats().starts;
            const std::size_t host_mark = t.wire.host_bytes.size();
            t.esp.record_transcript();

            // A link read pending, and a command in flight that the reset cuts off.
            std::optional<std::error_code> read_result;
            asio::co_spawn(t.io, [&]() -> awaitable<void> {
                char b[64];
                auto [ec, n] = co_await link->async_read_some(asio::buffer(b), as_tuple);
                (void)n;
                read_result = ec;
            }, asio::detached);
            std::optional<std::error_code> cut_off;
            if (by_command) {
                auto rst = co_await t.esp.rst();
                CHECK(rst);
            } else {
                asio::co_spawn(t.io, [&]() -> awaitable<void> {
                    auto mode = co_await t.esp.cwmode.query();
                    cut_off = mode ? std::error_code{} : mode.error();
                }, asio::detached);
                t.module.reset();  // before the query reaches it: the module never answers
            }
            while (!read_result || (!by_command && !cut_off)) co_await t.sleep(2ms);
            CHECK(*read_result == errc::device_reset);
            if (!by_command) CHECK(*cut_off == errc::device_reset);

            // The client restarts by itself; net.async_start() runs after that restart and takes the
            // module out of the saved link's passthrough.
            auto again = co_await net.async_start();
            REQUIRE(again);
            CHECK(t.esp.stats().starts == starts_before + 1);
            CHECK_FALSE(t.esp.last_restart_error());
            const auto& fw = t.esp.firmware();
            REQUIRE(fw);
            CHECK(fw->left_passthrough);
            // The module booted into passthrough (a second connection to the saved peer) and
            // took the client's probes for data: nothing answered them before the "+++".
            CHECK(t.tcp.sockets.size() == 2);
            const std::string host_after = t.wire.host_bytes.substr(host_mark);
            const auto escape = host_after.find("+++");
            REQUIRE(escape != std::string::npos);
            CHECK(host_after.substr(0, escape).find("AT\r\n") != std::string::npos);  // probed first
            const std::string transcript = t.esp.transcript();
            const auto ready_at = transcript.find("ready");
            REQUIRE(ready_at != std::string::npos);
            const auto escape_at = transcript.find("> +++", ready_at);
            REQUIRE(escape_at != std::string::npos);
            const auto first_ok = transcript.find("OK\\r\\n", ready_at);
            CHECK(first_ok > escape_at);

            // Normal commands and a new link work again.
            auto status = co_await t.esp.cipstatus();
            REQUIRE(status);
            CHECK(status->links.empty());
            auto mode = co_await t.esp.cipmode.query();
            REQUIRE(mode);
            CHECK(*mode == espat::transfer_mode::normal);
            auto fresh = co_await net.async_connect("127.0.0.1", t.tcp.port());
            REQUIRE(fresh);
            const std::string hello = "hello after the reset";
            co_await asio::async_write(*fresh, asio::buffer(hello), use_awaitable);
            while (t.tcp.received.find(hello) == std::string::npos) co_await t.sleep(2ms);
            // The saved link stays saved (the client leaves flash alone); clear it for good measure.
            const espat::savetranslink_tcp_request cleared{.mode = espat::transfer_mode::normal, .host = "127.0.0.1",
                                                           .port = t.tcp.port()};
            auto off = co_await t.esp.savetranslink_tcp.set(cleared);
            CHECK(off);
        });
    }
}

TEST_CASE("start-up: a module in command mode gets no \"+++\" and is not taken for one in passthrough")
{
    rig t;
    t.run([&]() -> awaitable<void> {
        t.esp.record_transcript();
        auto fw = co_await t.esp.async_start();
        REQUIRE(fw);
        CHECK_FALSE(fw->left_passthrough);
        CHECK(t.wire.host_bytes.find("+++") == std::string::npos);
    });
}

TEST_CASE("start-up: a module that is silent at first (still booting) and then answers is not taken for passthrough")
{
    rig t;
    t.run([&]() -> awaitable<void> {
        t.wire.mute = true;  // the first probe and its resync go unanswered
        asio::co_spawn(t.io, [&]() -> awaitable<void> {
            co_await t.sleep(250ms);
            t.wire.mute = false;
        }, asio::detached);
        auto fw = co_await t.esp.async_start();
        REQUIRE(fw);
        CHECK(t.wire.host_bytes.find("+++") != std::string::npos);  // tried, harmlessly
        CHECK_FALSE(fw->left_passthrough);  // the module read "+++AT" and said ERROR
        auto mode = co_await t.esp.cwmode.query();
        CHECK(mode);
    });
}
