// Tests of the Asio client against a scripted fake module on the far end of an in-process
// pipe: start-up, typed commands, data, reports, busy, timeouts, resets, cancellation at each
// stage, Wi-Fi events and the transcript. Every test runs under a deadline.
#include <espat/client.hpp>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>

#include <doctest/doctest.h>
#include <fake_module.hpp>

#include <atomic>
#include <fcntl.h>
#include <optional>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using espat::errc;
using espat::test::fake_module;
using espat::test::run_with_deadline;
using pipe_client = espat::basic_client<espat::sim::pipe_end>;

namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
    static String convert(const std::vector<std::string>& v)
    {
        std::string out = "{";
        for (const auto& x : v) out += "\n  \"" + espat::proto::escape_transcript_bytes(x) + "\"";
        return (out + "}").c_str();
    }
};
}  // namespace doctest

namespace {

espat::client_options fast_options()
{
    espat::client_options o;
    o.session.probe_timeout = 100ms;
    o.session.quiet = 10ms;
    o.session.backoff_initial = 10ms;
    o.session.backoff_max = 40ms;
    o.start_probe_timeout = 100ms;
    return o;
}

// A client and a fake module joined by a pipe, on one io_context.
struct rig {
    asio::io_context io;
    std::pair<espat::sim::pipe_end, espat::sim::pipe_end> ends = espat::sim::make_pipe(io.get_executor());
    fake_module module{std::move(ends.second)};
    pipe_client esp;

    explicit rig(espat::client_options o = fast_options()) : esp(std::move(ends.first), o) { module.start(); }

    asio::awaitable<void> sleep(std::chrono::milliseconds d)
    {
        asio::steady_timer t(io, d);
        co_await t.async_wait(asio::use_awaitable);
    }
    asio::awaitable<void> started()
    {
        auto r = co_await esp.async_start();
        REQUIRE(r);
    }
};

}  // namespace

TEST_CASE("client: start-up through boot noise and echo, firmware 2.x")
{
    rig t;
    t.module.echo = true;
    int first_probes = 0;
    t.module.script = [&](fake_module& m, const std::string& line) {
        if (line == "AT" && first_probes++ == 0) {  // still booting: noise, then ready, no answer
            m.send("\xf0\x12\x88\xfe\x7f\r\n\r\nready\r\n");
            return true;
        }
        return false;
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        auto r = co_await t.esp.async_start();
        REQUIRE(r);
        CHECK(r->info.at_version == espat::version{2, 2, 0, 0});
        CHECK(r->info.chip == std::optional<std::string>("ESP32"));
        CHECK(r->max_send_length == 2048);
        CHECK_FALSE(r->has_cipstate);
        CHECK_FALSE(r->has_ciprecvtype);
        REQUIRE(t.esp.firmware());
        CHECK(t.esp.firmware()->info.bin_version == "2.2.0(WROOM-32)");
        CHECK(t.esp.supports<espat::commands::cipstatus>());
        CHECK_FALSE(t.esp.supports<espat::commands::cipstate>());
        // Start-up's order: AT until OK, then echo on (answers are anchored to it), version,
        // error codes.
        const auto ate1 = t.module.index_of("ATE1");
        REQUIRE(ate1 < t.module.lines.size());
        CHECK(t.module.lines[ate1 - 1] == "AT");
        CHECK(t.module.index_of("AT+GMR") == ate1 + 1);
        CHECK(t.module.index_of("AT+SYSLOG=1") == ate1 + 2);
        CHECK(t.module.echo);
        CHECK(t.esp.stats().starts == 1);
    });
}

TEST_CASE("client: firmware 4.x selects CIPSTATE, CIPRECVTYPE and the 8 KiB send limit; old forms are refused")
{
    rig t;
    t.module.gmr = espat::test::gmr_4x;
    t.module.syslog_supported = false;  // tolerated
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        auto r = co_await t.esp.async_start();
        REQUIRE(r);
        CHECK(r->info.at_version == espat::version{4, 1, 0, 0});
        CHECK(r->max_send_length == 8192);
        CHECK(r->has_cipstate);
        CHECK(r->has_ciprecvtype);
        const std::size_t before = t.module.lines.size();
        auto status = co_await t.esp.cipstatus();
        REQUIRE_FALSE(status);
        CHECK(status.error() == errc::not_supported);
        auto mode = co_await t.esp.ciprecvmode.query();
        CHECK(mode.error() == errc::not_supported);
        CHECK(t.module.lines.size() == before);  // nothing was sent
    });
}

TEST_CASE("client: typed query, set and execute; ERROR with ERR CODE keeps the module's code and diagnostics")
{
    rig t;
    t.module.script = [](fake_module& m, const std::string& line) {
        if (line == "AT+CWMODE?") m.send("+CWMODE:3\r\n\r\nOK\r\n");
        else if (line == "AT+CIPDOMAIN=\"example.com\"") m.send("+CIPDOMAIN:\"93.184.216.34\"\r\n\r\nOK\r\n");
        else if (line == "AT+CIPDOMAIN=\"nowhere.invalid\"") m.send("ERR CODE:0x01090000\r\n\r\nERROR\r\n");
        else if (line == "AT+CIFSR")
            m.send("+CIFSR:STAIP,\"192.168.1.20\"\r\n+CIFSR:STAMAC,\"24:0a:c4:00:01:02\"\r\n\r\nOK\r\n");
        else if (line == "AT+CWMODE=1") m.send("\r\nOK\r\n");
        else if (line == "AT+CIPMUX?") m.send("+CIPMUX:banana\r\n\r\nOK\r\n");
        else return false;
        return true;
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        auto mode = co_await t.esp.cwmode.query();
        REQUIRE(mode);
        CHECK(*mode == espat::wifi_mode::station_softap);

        auto set = co_await t.esp.cwmode(espat::wifi_mode::station);
        CHECK(set);

        auto ip = co_await t.esp.cipdomain("example.com");
        REQUIRE(ip);
        CHECK(*ip == asio::ip::make_address("93.184.216.34"));

        auto addresses = co_await t.esp.cifsr();
        REQUIRE(addresses);
        CHECK(addresses->sta_ip == asio::ip::make_address("192.168.1.20"));

        auto missing = co_await t.esp.cipdomain("nowhere.invalid");
        REQUIRE_FALSE(missing);
        CHECK(missing.error() == espat::make_module_error(0x01090000));
        REQUIRE(t.esp.last_failure());
        CHECK(t.esp.last_failure()->command == "AT+CIPDOMAIN=\"nowhere.invalid\"");
        CHECK(t.esp.last_failure()->module_error == 0x01090000u);
        CHECK(t.esp.last_failure()->diagnostics == std::vector<std::string>{"ERR CODE:0x01090000"});

        // An answer that does not decode is a protocol error, with the lines kept.
        auto mux = co_await t.esp.cipmux.query();
        REQUIRE_FALSE(mux);
        CHECK(mux.error() == errc::protocol_error);
        CHECK(t.esp.last_failure()->command == "AT+CIPMUX?");
        CHECK(t.esp.last_failure()->lines == std::vector<espat::proto::owned_line>{{"CIPMUX", "banana"}});

        // A request that cannot be sent is refused before anything is written.
        const std::size_t before = t.module.lines.size();
        auto bad = co_await t.esp.cipdomain("line\r\nbreak");
        CHECK(bad.error() == errc::invalid_argument);
        CHECK(t.module.lines.size() == before);
    });
}

TEST_CASE("client: CIPSEND data, CIPRECVDATA reads, and the raw escape hatch")
{
    rig t;
    t.module.script = [](fake_module& m, const std::string& line) {
        if (line == "AT+CIPSEND=0,5") {
            m.send("\r\nOK\r\n\r\n>");
            m.expect_data(5);
        } else if (line == "AT+CIPRECVDATA=1,10") {
            m.send("+CIPRECVDATA:4,a\r\nb\r\nOK\r\n");
        } else if (line.starts_with("AT+CIPSEND=2,")) {
            m.send("\r\nERROR\r\n");
        } else if (line == "AT+FOO") {
            m.send("+FOO:1\r\nbar\r\n\r\nOK\r\n");
        } else {
            return false;
        }
        return true;
    };
    t.module.on_data = [](fake_module& m, const std::string&) { m.send("\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n"); };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        auto sent = co_await t.esp.async_send_data(espat::link_id{0}, "he\r\nl");
        REQUIRE(sent);
        CHECK(*sent == 5);
        CHECK(t.module.data == "he\r\nl");

        auto got = co_await t.esp.async_recv_data(espat::link_id{1}, 10);
        REQUIRE(got);
        CHECK(*got == "a\r\nb");

        // Over the firmware's limit (2048 on 2.x) or over any firmware's: refused, nothing written.
        for (std::size_t size : {2049u, 9000u}) {
            auto big = co_await t.esp.async_send_data(espat::link_id{2}, std::string(size, 'x'));
            CHECK(big.error() == errc::invalid_argument);
        }
        auto empty = co_await t.esp.async_send_data(espat::link_id{2}, "");
        CHECK(empty.error() == errc::invalid_argument);
        CHECK(t.module.count("AT+CIPSEND=2,2049") == 0);

        auto raw = co_await t.esp.async_send_command("AT+FOO", 500ms);
        REQUIRE(raw);
        CHECK(raw->lines == std::vector<espat::proto::owned_line>{{"FOO", "1"}, {"", "bar"}});
    });
}

TEST_CASE("client: +IPD and other reports reach listeners, in order, while a command is in flight")
{
    rig t;
    bool domain_done = false;
    std::vector<std::string> seen;
    t.module.script = [](fake_module& m, const std::string& line) {
        if (line != "AT+CIPDOMAIN=\"a.b\"") return false;
        // Reports inside the response, one +IPD payload that looks like a response.
        m.send("0,CONNECT\r\n+IPD,0,7:x\r\nOK\r\n\r\n+IPD,0,2:");
        m.send("yz\r\n+CIPDOMAIN:1.2.3.4\r\n0,CLOSED\r\n\r\nOK\r\n");
        return true;
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        const auto id = t.esp.add_report_listener([&](const espat::proto::event& e) {
            seen.push_back(std::string(to_string(e.kind)) + " " + std::to_string(e.link) + " " + std::string(e.payload) +
                           (domain_done ? " after" : " during"));
        });
        auto ip = co_await t.esp.cipdomain("a.b");
        domain_done = true;
        REQUIRE(ip);
        CHECK(*ip == asio::ip::make_address("1.2.3.4"));
        CHECK(seen == std::vector<std::string>{"connect 0  during", "ipd 0 x\r\nOK\r\n during", "ipd 0 yz during",
                                               "closed 0  during"});
        t.esp.remove_report_listener(id);
        t.module.send("1,CONNECT\r\n");
        co_await t.sleep(20ms);
        CHECK(seen.size() == 4);
    });
}

TEST_CASE("client: busy then OK succeeds; busy forever fails with errc::busy and the next command works")
{
    rig t;
    t.module.script = [](fake_module& m, const std::string& line) {
        if (line == "AT+CWJAP=\"home\",\"pw\"") {
            m.send("busy p...\r\n");
            m.send_after(60ms, "WIFI CONNECTED\r\nbusy p...\r\n");
            m.send_after(120ms, "WIFI GOT IP\r\n\r\nOK\r\n");
        } else if (line == "AT+CIPDOMAIN=\"slow\"") {
            m.repeat(30ms, "busy p...\r\n");
        } else if (line == "AT") {
            m.stop_repeating();
            return false;
        } else if (line == "AT+CWMODE?") {
            m.send("+CWMODE:1\r\n\r\nOK\r\n");
        } else {
            return false;
        }
        return true;
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        // 80 ms alone would time out; each busy gives it another 80 ms.
        const espat::cwjap_request home{"home", "pw"};
        auto joined = co_await t.esp.cwjap.set(home, {.timeout = 80ms});
        CHECK(joined);

        const espat::cipdomain_request slow_name{"slow"};
        auto slow = co_await t.esp.cipdomain.set(slow_name, {.timeout = 50ms, .busy_retries = 2});
        REQUIRE_FALSE(slow);
        CHECK(slow.error() == errc::busy);

        auto mode = co_await t.esp.cwmode.query();
        REQUIRE(mode);
        CHECK(*mode == espat::wifi_mode::station);
    });
}

TEST_CASE("client: a timeout, the resynchronisation, then a command that succeeds")
{
    rig t;
    t.module.script = [](fake_module& m, const std::string& line) {
        if (line == "AT+CIPDOMAIN=\"mute\"") return true;  // no answer at all
        if (line == "AT+CWMODE?") {
            m.send("+CWMODE:2\r\n\r\nOK\r\n");
            return true;
        }
        return false;
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        const auto before = t.esp.stats();
        const espat::cipdomain_request mute_name{"mute"};
        auto mute = co_await t.esp.cipdomain.set(mute_name, {.timeout = 50ms});
        CHECK(mute.error() == errc::timeout);
        auto mode = co_await t.esp.cwmode.query();
        REQUIRE(mode);
        CHECK(*mode == espat::wifi_mode::softap);
        const auto after = t.esp.stats();
        CHECK(after.session.timeouts == before.session.timeouts + 1);
        CHECK(after.session.resyncs == before.session.resyncs + 1);
        // The probe came between the two commands (ATE1: with echo on, its echo anchors its OK).
        const auto mute_at = t.module.index_of("AT+CIPDOMAIN=\"mute\"");
        CHECK(t.module.lines.at(mute_at + 1) == "ATE1");
        CHECK(t.module.lines.at(mute_at + 2) == "AT+CWMODE?");
    });
}

TEST_CASE("client: a reset mid-command fails it with device_reset, tells listeners, and runs start-up again first")
{
    rig t;
    std::vector<std::string> reports;
    t.module.script = [](fake_module& m, const std::string& line) {
        if (line == "AT+CIPDOMAIN=\"boom\"") {
            m.send("WIFI DISCONNECT\r\n\r\nets Jun  8 2016 00:22:57\r\n\xe0\xff\r\nready\r\n");
            return true;
        }
        if (line == "AT+CWMODE?") {
            m.send("+CWMODE:1\r\n\r\nOK\r\n");
            return true;
        }
        return false;
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        t.esp.add_report_listener([&](const espat::proto::event& e) { reports.emplace_back(to_string(e.kind)); });
        auto boom = co_await t.esp.cipdomain("boom");
        REQUIRE_FALSE(boom);
        CHECK(boom.error() == errc::device_reset);
        CHECK(reports == std::vector<std::string>{"wifi_disconnect", "ready"});
        // Issued at once: it waits for the start-up sequence that the reset set off.
        auto mode = co_await t.esp.cwmode.query();
        REQUIRE(mode);
        CHECK(t.module.count("ATE1") == 2);
        CHECK(t.module.count("AT+SYSLOG=1") == 2);
        const auto second_syslog = t.module.index_of("AT+SYSLOG=1", t.module.index_of("AT+CIPDOMAIN=\"boom\""));
        CHECK(t.module.index_of("AT+CWMODE?") > second_syslog);
        CHECK(t.esp.stats().starts == 2);
        CHECK(t.esp.stats().session.resets == 1);
    });
}

TEST_CASE("client: listeners hear \"ready\" before the reports of the new boot that came in the same read")
{
    rig t;
    t.module.script = [](fake_module& m, const std::string& line) {
        if (line == "AT+CIPDOMAIN=\"boom\"") {
            m.send("ready\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n");  // one write: one read
            return true;
        }
        return false;
    };
    std::vector<std::string> reports;
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        t.esp.add_report_listener([&](const espat::proto::event& e) { reports.emplace_back(to_string(e.kind)); });
        auto boom = co_await t.esp.cipdomain("boom");
        REQUIRE_FALSE(boom);
        CHECK(boom.error() == errc::device_reset);
        CHECK(reports == std::vector<std::string>{"ready", "wifi_connected", "wifi_got_ip"});
    });
}

TEST_CASE("client: what the module printed before the first command is not that command's answer")
{
    // Waiting in the port when the program starts: boot text, "ready", a stray result and an
    // unfinished line.
    const std::string before("\xf0\x12\r\nready\r\nERROR\r\nx", 20);
    for (const bool plain_at_first : {true, false}) {
        CAPTURE(plain_at_first);
        rig t;
        t.module.script = [](fake_module& m, const std::string& line) {
            if (line != "AT+CWMODE?") return false;
            m.send("+CWMODE:1\r\n\r\nOK\r\n");
            return true;
        };
        t.module.send(before);
        std::vector<std::string> reports;
        t.esp.add_report_listener([&](const espat::proto::event& e) { reports.emplace_back(to_string(e.kind)); });
        run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
            if (plain_at_first) {
                auto at = co_await t.esp.at();
                CHECK(at.has_value());  // not device_reset
            } else {
                auto mode = co_await t.esp.cwmode.query();
                REQUIRE(mode);  // not "x+CWMODE:1", not the stray ERROR
                CHECK(*mode == espat::wifi_mode::station);
            }
            CHECK(reports == std::vector<std::string>{"ready"});
            CHECK(t.esp.stats().session.noise >= 1);
            co_await t.started();  // and the client goes on as usual
        });
    }
}

TEST_CASE("client: reset_on_start reboots the module first, once; no \"ready\" within ready_timeout fails start()")
{
    for (const bool ready_comes : {true, false}) {
        CAPTURE(ready_comes);
        auto o = fast_options();
        o.reset_on_start = true;
        o.ready_timeout = 300ms;
        rig t(o);
        t.module.script = [ready_comes](fake_module& m, const std::string& line) {
            if (line != "AT+RST") return false;
            m.send("\r\nOK\r\n");
            if (ready_comes) m.send_after(50ms, "\x8c\x12\r\nready\r\n");
            return true;
        };
        run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
            auto r = co_await t.esp.async_start();
            if (ready_comes) {
                REQUIRE(r);
                CHECK(t.module.count("AT+RST") == 1);
                // The start-up ran on the new boot: echo on and the version after the reset.
                CHECK(t.module.index_of("ATE1") > t.module.index_of("AT+RST"));
                CHECK(t.esp.stats().session.resets == 1);
                auto again = co_await t.esp.at();  // and the client is usable
                CHECK(again.has_value());
            } else {
                REQUIRE_FALSE(r);
                CHECK(r.error() == errc::timeout);
            }
        });
    }
}

TEST_CASE("client: cancellation with || at each stage leaves the client usable")
{
    rig t;
    std::size_t prompt_delay_ms = 0;
    t.module.script = [&](fake_module& m, const std::string& line) {
        if (line == "AT+CIPDOMAIN=\"slow\"") {
            m.send_after(100ms, "+CIPDOMAIN:9.9.9.9\r\n\r\nOK\r\n");
        } else if (line == "AT+CIPDOMAIN=\"queued\"") {
            m.send("+CIPDOMAIN:8.8.8.8\r\n\r\nOK\r\n");
        } else if (line == "AT+CIPDOMAIN=\"late\"") {
            m.send_after(80ms, "+CIPDOMAIN:7.7.7.7\r\n\r\nOK\r\n");  // after its caller gave up
        } else if (line == "AT+CIPSEND=0,5") {
            if (prompt_delay_ms == 0) m.send("\r\nOK\r\n\r\n>");
            else m.send_after(std::chrono::milliseconds(prompt_delay_ms), "\r\nOK\r\n\r\n>");
            m.expect_data(5);
        } else if (line == "AT+CWMODE?") {
            m.send("+CWMODE:1\r\n\r\nOK\r\n");
        } else {
            return false;
        }
        return true;
    };
    t.module.on_data = [](fake_module& m, const std::string&) {
        m.send_after(80ms, "\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n");
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        asio::steady_timer timer(t.io);

        // Queued: cancelled behind a slow command, never written.
        {
            timer.expires_after(20ms);
            auto [slow, queued] = co_await (t.esp.cipdomain("slow") &&
                                            (t.esp.cipdomain("queued") || timer.async_wait(asio::use_awaitable)));
            REQUIRE(slow);
            CHECK(*slow == asio::ip::make_address("9.9.9.9"));
            CHECK(queued.index() == 1);
            CHECK(t.module.count("AT+CIPDOMAIN=\"queued\"") == 0);
        }
        // Written: abandoned; its late answer is drained, not taken by the next command.
        {
            timer.expires_after(20ms);
            auto late = co_await (t.esp.cipdomain("late") || timer.async_wait(asio::use_awaitable));
            CHECK(late.index() == 1);
            auto mode = co_await t.esp.cwmode.query();
            REQUIRE(mode);
            CHECK(*mode == espat::wifi_mode::station);
        }
        // CIPSEND waiting for its prompt, then after the prompt (data written, SEND OK pending).
        for (std::size_t delay : {50u, 0u}) {
            CAPTURE(delay);
            prompt_delay_ms = delay;
            const std::string before = t.module.data;
            timer.expires_after(20ms);
            auto send = co_await (t.esp.async_send_data(espat::link_id{0}, "hello") || timer.async_wait(asio::use_awaitable));
            CHECK(send.index() == 1);
            auto mode = co_await t.esp.cwmode.query();
            REQUIRE(mode);
            // The module was promised 5 bytes and got them, or it would eat the next command.
            CHECK(t.module.data == before + "hello");
        }
        const auto stats = t.esp.stats();
        CHECK(stats.cancellations == 4);
        CHECK(stats.failures == 4);
    });
}

TEST_CASE("client: Wi-Fi events queue in order; a cancelled wait takes none; the queue is bounded")
{
    auto o = fast_options();
    o.wifi_event_capacity = 2;
    rig t(o);
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        t.module.send("WIFI CONNECTED\r\nWIFI GOT IP\r\n+STA_CONNECTED:\"aa:bb:cc:dd:ee:ff\"\r\n");
        co_await t.sleep(20ms);
        CHECK(t.esp.stats().wifi_events_dropped == 1);  // capacity 2: the oldest went
        auto first = co_await t.esp.async_next_wifi_event();
        REQUIRE(first);
        CHECK(first->kind == espat::wifi_event_kind::got_ip);
        auto second = co_await t.esp.async_next_wifi_event();
        REQUIRE(second);
        CHECK(second->kind == espat::wifi_event_kind::station_joined);
        CHECK(second->details == "\"aa:bb:cc:dd:ee:ff\"");

        asio::steady_timer timer(t.io, 20ms);
        auto waited = co_await (t.esp.async_next_wifi_event() || timer.async_wait(asio::use_awaitable));
        CHECK(waited.index() == 1);

        // A waiter already waiting gets the event as it arrives.
        t.module.send_after(10ms, "WIFI DISCONNECT\r\n");
        auto third = co_await t.esp.async_next_wifi_event();
        REQUIRE(third);
        CHECK(third->kind == espat::wifi_event_kind::disconnected);
    });
}

TEST_CASE("client: the transcript records both directions with the Wi-Fi password redacted, echo included")
{
    rig t;
    t.module.script = [](fake_module& m, const std::string& line) {
        if (line.starts_with("AT+CWJAP=")) {
            m.echo = false;
            m.send("WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
            return true;
        }
        return false;
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        t.esp.record_transcript();
        t.module.echo = true;  // as if ATE1 were on: the password comes back
        auto joined = co_await t.esp.cwjap("home, sweet", "s3cr\"et");
        CHECK(joined);
        const std::string text = t.esp.transcript();
        INFO(text);
        CHECK(text.find("s3cr") == std::string::npos);
        // In the file a backslash is written \\ and CR LF as \r\n.
        CHECK(text.find(R"(> AT+CWJAP="home\\, sweet","********"\r\n)" "\n") != std::string::npos);
        CHECK(text.find(R"(< AT+CWJAP="home\\, sweet","********"\r\n)" "\n") != std::string::npos);
        CHECK(text.find("WIFI GOT IP") != std::string::npos);
        // It is a transcript the format's reader takes, and its host side is the redacted line.
        auto parsed = espat::proto::parse_transcript(text);
        REQUIRE(parsed.ok());
        CHECK(espat::proto::host_stream(parsed.lines) == "AT+CWJAP=\"home\\, sweet\",\"********\"\r\n");
        const auto stats = t.esp.stats();
        CHECK(stats.bytes_out > 0);
        CHECK(stats.bytes_in > stats.bytes_out);
    });
}

TEST_CASE("client: over a serial port that is not open, start-up fails cleanly and later calls fail at once")
{
    asio::io_context io;
    auto o = fast_options();
    o.baud_rate = 921600;  // compiles the baud-change path
    espat::client esp(asio::serial_port(io), o);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto r = co_await esp.async_start();
        REQUIRE_FALSE(r);
        auto at = co_await esp.at();
        REQUIRE_FALSE(at);
        CHECK(at.error() == r.error());
    });
}

#if !defined(ASIO_NO_TYPEID)  // without typeid the strand stays on the any_io_executor
TEST_CASE("client: on a stream with asio::any_io_executor, the strand runs on the io_context inside it")
{
    // Asio 1.22's any_io_executor allocates on every query a strand makes of it, so the client's
    // strand is on the io_context executor the stream's any_io_executor holds (detail/executors.hpp).
    static_assert(std::is_same_v<espat::client::executor_type, asio::strand<asio::io_context::executor_type>>);
    asio::io_context io;
    const auto on = [](asio::any_io_executor ex) {
        auto ends = espat::sim::make_pipe(ex);
        return pipe_client(std::move(ends.first)).get_executor().get_inner_executor();
    };
    CHECK(on(io.get_executor()) == io.get_executor());
    CHECK(on(asio::require(io.get_executor(), asio::execution::outstanding_work.tracked)) == io.get_executor());
    CHECK(on(asio::make_strand(io)) == io.get_executor());
    // A stream on another execution context is refused when the client is made, not later.
    asio::thread_pool pool(1);
    CHECK_THROWS_AS(on(pool.get_executor()), std::invalid_argument);
    pool.join();

    // The default client, on asio::serial_port, the same.
    espat::client esp(asio::serial_port(io), fast_options());
    CHECK(esp.get_executor().get_inner_executor() == io.get_executor());
}
#endif

TEST_CASE("client: runs_inline tells when asio::dispatch would run a function at once")
{
    asio::io_context io, other;
    auto strand = asio::make_strand(io);
    CHECK_FALSE(espat::detail::runs_inline(io.get_executor()));  // nobody runs io yet
    bool checked = false;
    asio::post(io, [&] {
        CHECK(espat::detail::runs_inline(io.get_executor()));
        CHECK(espat::detail::runs_inline(asio::any_io_executor(io.get_executor())));
        CHECK_FALSE(espat::detail::runs_inline(strand));  // this thread runs io, but not the strand
        CHECK_FALSE(espat::detail::runs_inline(asio::any_io_executor(strand)));
        CHECK_FALSE(espat::detail::runs_inline(other.get_executor()));
        CHECK_FALSE(espat::detail::runs_inline(asio::any_io_executor(other.get_executor())));
        asio::post(strand, [&] {
            CHECK(espat::detail::runs_inline(strand));
            CHECK(espat::detail::runs_inline(asio::any_io_executor(strand)));
            checked = true;
        });
    });
    io.run_for(5s);
    CHECK(checked);
}

TEST_CASE("client: the peer closing the stream fails what is pending")
{
    rig t;
    t.module.script = [](fake_module& m, const std::string& line) {
        if (line == "AT+CIPDOMAIN=\"x\"") {
            m.close();
            return true;
        }
        return false;
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        auto r = co_await t.esp.cipdomain("x");
        REQUIRE_FALSE(r);
        CHECK(r.error() == asio::error::eof);
        auto again = co_await t.esp.cwmode.query();
        CHECK(again.error() == asio::error::eof);
        auto event = co_await t.esp.async_next_wifi_event();
        CHECK(event.error() == asio::error::eof);
    });
}

TEST_CASE("client: close() fails what is pending and what comes after")
{
    rig t;
    t.module.script = [](fake_module&, const std::string& line) { return line == "AT+CIPDOMAIN=\"x\""; };  // silent
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        asio::steady_timer timer(t.io, 20ms);
        timer.async_wait([&](std::error_code) { t.esp.close(); });
        auto pending = co_await t.esp.cipdomain("x");
        CHECK(pending.error() == asio::error::operation_aborted);
        auto after = co_await t.esp.at();
        CHECK(after.error() == asio::error::operation_aborted);
        const std::size_t lines = t.module.lines.size();
        co_await t.sleep(20ms);
        CHECK(t.module.lines.size() == lines);
    });
}

TEST_CASE("client: operations started from coroutines on two threads, with cancellations and reports")
{
    asio::io_context io(2);
    // The pipe takes no locks: both ends and the client share one strand (the client takes
    // the stream's strand as its own). Each caller runs on a strand of its own: a cancelling
    // || needs one when several threads run the io_context, as for any Asio operation.
    auto shared = asio::make_strand(io);
    auto ends = espat::sim::make_pipe(shared);
    fake_module module(std::move(ends.second));
    int answered = 0;
    module.script = [&](fake_module& m, const std::string& line) {
        if (line != "AT+CWMODE?") return false;
        if (++answered % 5 == 0) m.send("+IPD,0,4:ping\r\n");
        m.send_after(std::chrono::milliseconds(answered % 3), "+CWMODE:1\r\n\r\nOK\r\n");
        return true;
    };
    module.start();
    pipe_client esp(std::move(ends.first), fast_options());
    CHECK(esp.get_executor() == shared);
    std::atomic<int> succeeded{0}, cancelled{0}, wrong{0}, finished{0}, ipds{0}, off_strand{0};
    std::exception_ptr failure;
    std::mutex failure_mutex;
    std::vector<std::string> wrong_results;  // what each wrong result was, for the failure message
    auto note_wrong = [&](const auto& r) {
        std::lock_guard lock(failure_mutex);
        ++wrong;
        wrong_results.push_back(r ? std::string("a wrong value") : r.error().message());
    };

    auto worker = [&](int n) -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        for (int i = 0; i < 25; ++i) {
            if ((i + n) % 4 == 0) {
                timer.expires_after(std::chrono::microseconds(200 * (i % 5)));
                auto r = co_await (esp.cwmode.query() || timer.async_wait(asio::use_awaitable));
                if (r.index() == 1) ++cancelled;
                else if (std::get<0>(r) && *std::get<0>(r) == espat::wifi_mode::station) ++succeeded;
                else if (std::get<0>(r).error() == errc::cancelled) ++cancelled;
                else note_wrong(std::get<0>(r));
            } else {
                auto r = co_await esp.cwmode.query();
                if (r && *r == espat::wifi_mode::station) ++succeeded;
                else note_wrong(r);
            }
        }
    };
    auto on_done = [&](std::exception_ptr e) {
        if (e) {
            std::lock_guard lock(failure_mutex);
            failure = e;
        }
        if (++finished == 5) io.stop();
    };
    auto setup = [&]() -> asio::awaitable<void> {
        co_await asio::post(esp.get_executor(), asio::use_awaitable);  // listeners are added on the strand
        esp.add_report_listener([&](const espat::proto::event& e) {
            if (e.kind == espat::proto::event_kind::ipd) ++ipds;
            if (!shared.running_in_this_thread()) ++off_strand;
        });
        esp.record_transcript();  // shown when a check fails
        auto r = co_await esp.async_start();
        if (!r) note_wrong(r);
        for (int n = 0; n < 4; ++n) asio::co_spawn(asio::make_strand(io), worker(n), on_done);
    };
    asio::co_spawn(io, setup(), on_done);
    std::thread second([&] { io.run_for(10s); });
    io.run_for(10s);
    second.join();
    if (failure) std::rethrow_exception(failure);
    std::string wrong_list;
    for (const auto& w : wrong_results) wrong_list += w + "; ";
    INFO("wrong results: " << wrong_list);
    INFO("transcript:\n" << esp.transcript());
    REQUIRE(finished == 5);
    CHECK(wrong == 0);
    CHECK(succeeded + cancelled == 100);
    CHECK(succeeded >= 75);
    CHECK(ipds == answered / 5);
    CHECK(off_strand == 0);
}

TEST_CASE("client: passthrough - enter at the prompt, raw bytes both ways, leave with +++, then commands again")
{
    auto o = fast_options();
    o.session.guard_before = 20ms;
    o.session.guard_after = 40ms;
    rig t(o);
    std::string from_peer;
    t.module.script = [](fake_module& m, const std::string& line) {
        if (line == "AT+CIPSEND") {
            m.send("\r\nOK\r\n\r\n>");
            m.passthrough = true;
            m.send_after(10ms, "world\r\nOK\r\n");  // raw data that looks like a response
            return true;
        }
        if (line == "AT+CWMODE?") {
            m.send("+CWMODE:1\r\n\r\nOK\r\n");
            return true;
        }
        return false;
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        t.esp.add_report_listener([&](const espat::proto::event& e) {
            if (e.kind == espat::proto::event_kind::raw_data) from_peer += e.payload;
        });
        auto entered = co_await t.esp.async_enter_passthrough();
        REQUIRE(entered);
        t.esp.write_raw("hello");
        co_await t.sleep(30ms);
        CHECK(from_peer == "world\r\nOK\r\n");
        t.esp.leave_passthrough();
        auto mode = co_await t.esp.cwmode.query();  // waits for the guard times
        REQUIRE(mode);
        CHECK(t.module.data == "hello");
        CHECK_FALSE(t.module.passthrough);
    });
}

namespace {

// A pseudo-terminal: the client opens the slave as its serial port; the fake module serves
// the master and reads the line's rate from the slave's settings, as a module that is or is
// not at the host's rate.
struct pty_rig {
    asio::io_context io;
    int master = -1;
    int slave_probe = -1;  // the slave, opened to read its termios
    std::string slave_path;
    std::optional<espat::test::basic_fake_module<asio::posix::stream_descriptor>> module;
    std::optional<espat::client> esp;
    speed_t module_speed = B115200;

    explicit pty_rig(espat::client_options o)
    {
        master = ::posix_openpt(O_RDWR | O_NOCTTY);
        REQUIRE(master >= 0);
        REQUIRE(::grantpt(master) == 0);
        REQUIRE(::unlockpt(master) == 0);
        slave_path = ::ptsname(master);
        slave_probe = ::open(slave_path.c_str(), O_RDWR | O_NOCTTY);
        REQUIRE(slave_probe >= 0);
        module.emplace(asio::posix::stream_descriptor(io, master));
        asio::serial_port port(io, slave_path);
        port.set_option(asio::serial_port::baud_rate(115200));
        esp.emplace(std::move(port), o);
        module->start();
    }
    ~pty_rig()
    {
        esp.reset();
        module.reset();
        ::close(slave_probe);
    }
    [[nodiscard]] speed_t host_speed() const
    {
        termios tio{};
        ::tcgetattr(slave_probe, &tio);
        return ::cfgetospeed(&tio);
    }
    [[nodiscard]] bool host_rts_cts() const
    {
        termios tio{};
        ::tcgetattr(slave_probe, &tio);
        return (tio.c_cflag & CRTSCTS) != 0;
    }
};

}  // namespace

TEST_CASE("client: baud change on a serial port (a pseudo-terminal): switched and verified, or rolled back")
{
    for (const bool module_switches : {true, false}) {
        CAPTURE(module_switches);
        auto o = fast_options();
        o.baud_rate = 921600;
        pty_rig t(o);
        t.module->script = [&](auto& m, const std::string& line) {
            if (t.host_speed() != t.module_speed) return true;  // garbage to a module at another rate
            if (line == "AT+UART_CUR=921600,8,1,0,0") {
                m.send("\r\nOK\r\n");
                if (module_switches) t.module_speed = B921600;
                return true;
            }
            return false;
        };
        run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
            auto r = co_await t.esp->async_start();
            asio::serial_port::baud_rate rate;
            t.esp->stream().get_option(rate);
            if (module_switches) {
                REQUIRE(r);
                CHECK(rate.value() == 921600);
                auto at = co_await t.esp->at();
                CHECK(at);
            } else {
                REQUIRE_FALSE(r);
                CHECK(r.error() == errc::timeout);
                CHECK(rate.value() == 115200);  // rolled back: the module still talks
                auto at = co_await t.esp->at();
                CHECK(at);
            }
            CHECK(t.module->count("AT+UART_CUR=921600,8,1,0,0") == 1);
        });
    }
}

TEST_CASE("client: RTS/CTS that both sides take but the line does not carry (pins not wired) is switched off again on both")
{
    auto o = fast_options();
    o.rts_cts = true;
    pty_rig t(o);
    bool module_rts_cts = false;
    t.module->script = [&](auto& m, const std::string& line) {
        if (t.host_rts_cts()) return true;  // the host waits for a CTS that never comes: nothing arrives
        if (line == "AT+UART_CUR=115200,8,1,0,3" || line == "AT+UART_CUR=115200,8,1,0,0") {
            m.send("\r\nOK\r\n");
            module_rts_cts = line.ends_with('3');
            return true;
        }
        return false;
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        auto r = co_await t.esp->async_start();
        REQUIRE(r);
        REQUIRE(r->line);
        CHECK(*r->line == espat::line_settings{115200, false, espat::flow_control_refusal::verification});
        CHECK_FALSE(t.host_rts_cts());
        CHECK_FALSE(module_rts_cts);
        CHECK(t.module->count("AT+UART_CUR=115200,8,1,0,3") == 1);
        CHECK(t.module->count("AT+UART_CUR=115200,8,1,0,0") == 1);
        auto at = co_await t.esp->at();
        CHECK(at);
    });
}

TEST_CASE("client: after a module reset the port drops RTS/CTS as the module's UART did, and the restart sets both again")
{
    auto o = fast_options();
    o.rts_cts = true;
    pty_rig t(o);
    bool module_rts_cts = false;
    t.module->script = [&](auto& m, const std::string& line) {
        if (t.host_rts_cts() && !module_rts_cts) return true;  // the module's RTS does not drive the host's CTS
        if (line == "AT+UART_CUR=115200,8,1,0,3") {
            m.send("\r\nOK\r\n");
            module_rts_cts = true;
            return true;
        }
        if (line == "AT+RST") {
            m.send("\r\nOK\r\n");
            module_rts_cts = false;  // AT+UART_CUR lasts until a reset
            m.send_after(10ms, "\r\nready\r\n");
            return true;
        }
        return false;  // AT+UART_CUR? is ERROR here: firmware without the query, taken at its "AT"
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        auto r = co_await t.esp->async_start();
        REQUIRE(r);
        CHECK(r->line->rts_cts);
        CHECK(t.host_rts_cts());
        auto reset = co_await t.esp->rst();
        CHECK(reset);
        asio::steady_timer pause(t.io);
        while (t.esp->stats().starts < 2) {
            pause.expires_after(2ms);
            co_await pause.async_wait(asio::use_awaitable);
        }
        co_await t.esp->async_wait_start_up();
        CHECK_FALSE(t.esp->last_restart_error());
        REQUIRE(t.esp->firmware());
        CHECK(t.esp->firmware()->line == espat::line_settings{115200, true, espat::flow_control_refusal::none});
        CHECK(t.host_rts_cts());
        CHECK(module_rts_cts);
        CHECK(t.module->count("AT+UART_CUR=115200,8,1,0,3") == 2);
        auto at = co_await t.esp->at();
        CHECK(at);
    });
}

TEST_CASE("client: a command cancelled while it waits for the start-up after a reset is never sent")
{
    rig t;
    int gmr_answers = 0;
    t.module.script = [&](fake_module& m, const std::string& line) {
        if (line == "AT+RST") {
            m.send("\r\nOK\r\n");
            m.send_after(10ms, "\r\nready\r\n");
            return true;
        }
        if (line == "AT+GMR" && gmr_answers++ == 1) {  // the second start-up is slow
            m.send_after(80ms, espat::test::gmr_2x);
            return true;
        }
        if (line == "AT+CWMODE?") {
            m.send("+CWMODE:1\r\n\r\nOK\r\n");
            return true;
        }
        return false;
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        auto reset = co_await t.esp.rst();
        CHECK(reset);
        co_await t.sleep(30ms);  // "ready" came; start-up runs again, waiting for AT+GMR
        asio::steady_timer timer(t.io, 20ms);
        auto held = co_await (t.esp.cwmode.query() || timer.async_wait(asio::use_awaitable));
        CHECK(held.index() == 1);
        CHECK(t.module.count("AT+CWMODE?") == 0);
        auto mode = co_await t.esp.cwmode.query();
        REQUIRE(mode);
        CHECK(t.module.count("AT+CWMODE?") == 1);
        CHECK(t.module.count("AT+GMR") == 2);
        CHECK_FALSE(t.esp.last_restart_error());
    });
}

TEST_CASE("client: a second start-up while one runs waits for it and gets its result")
{
    rig t;
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        auto [first, second] = co_await (t.esp.async_start() && t.esp.async_start());
        REQUIRE(first);
        REQUIRE(second);
        CHECK(second->info.at_version == first->info.at_version);
        CHECK(t.module.count("AT+GMR") == 1);  // one start-up ran, not two interleaved
        auto again = co_await t.esp.async_start();  // after it: a start-up of its own
        CHECK(again);
        CHECK(t.module.count("AT+GMR") == 2);
    });
}

TEST_CASE("client: start() during the start-up a module reset set off joins it instead of failing")
{
    rig t;
    int gmr_answers = 0;
    t.module.script = [&](fake_module& m, const std::string& line) {
        if (line == "AT+RST") {
            m.send("\r\nOK\r\n");
            m.send_after(10ms, "\r\nready\r\n");
            return true;
        }
        if (line == "AT+GMR" && gmr_answers++ == 1) {  // the restart's AT+GMR is slow
            m.send_after(80ms, espat::test::gmr_2x);
            return true;
        }
        return false;
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        co_await t.started();
        auto reset = co_await t.esp.rst();
        CHECK(reset);
        co_await t.sleep(30ms);  // "ready" came: the restart runs, waiting for AT+GMR
        // A script that restarts the module itself (ota_update, say) calls start() now.
        auto joined = co_await t.esp.async_start();
        REQUIRE(joined);
        CHECK(joined->info.at_version.to_string() == "2.2.0.0");
        CHECK(t.module.count("AT+GMR") == 2);  // the first start-up and the restart: no third
        CHECK_FALSE(t.esp.last_restart_error());
    });
}

TEST_CASE("client: a cancelled start() ends its start-up; commands are not held and start() works again")
{
    rig t;
    bool silent = true;
    t.module.script = [&](fake_module&, const std::string& line) {
        return silent && line == "AT";  // a module still booting: no answer
    };
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(t.io, 30ms);
        auto first = co_await (t.esp.async_start() || timer.async_wait(asio::use_awaitable));
        CHECK(first.index() == 1);  // the timer won: start() was cancelled
        silent = false;
        // Not held behind a start-up that will never end: a command goes out and is answered.
        auto probe = co_await t.esp.at();
        CHECK(probe);
        auto again = co_await t.esp.async_start();
        REQUIRE(again);
        CHECK(again->info.at_version.to_string() == "2.2.0.0");
    });
}
