// Tests of the Asio client against a scripted fake module on the far end of an in-process
// pipe: start-up, typed commands, data, reports, busy, timeouts, resets, cancellation at each
// stage, Wi-Fi events and the transcript. Every test runs under a deadline.
#include <espat/client.hpp>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <doctest/doctest.h>
#include <fake_module.hpp>

#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using espat::errc;
using espat::test::fake_module;
using espat::test::run_with_deadline;
using pipe_client = espat::basic_client<espat::sim::pipe_end>;

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
        auto r = co_await esp.start();
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
        auto r = co_await t.esp.start();
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
        // Start-up's order: AT until OK, then echo off, version, error codes.
        const auto ate0 = t.module.index_of("ATE0");
        REQUIRE(ate0 < t.module.lines.size());
        CHECK(t.module.lines[ate0 - 1] == "AT");
        CHECK(t.module.index_of("AT+GMR") == ate0 + 1);
        CHECK(t.module.index_of("AT+SYSLOG=1") == ate0 + 2);
        CHECK(t.esp.stats().starts == 1);
    });
}

TEST_CASE("client: firmware 4.x selects CIPSTATE, CIPRECVTYPE and the 8 KiB send limit; old forms are refused")
{
    rig t;
    t.module.gmr = espat::test::gmr_4x;
    t.module.syslog_supported = false;  // tolerated
    run_with_deadline(t.io, [&]() -> asio::awaitable<void> {
        auto r = co_await t.esp.start();
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
