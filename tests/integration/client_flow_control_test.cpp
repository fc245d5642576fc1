// RTS/CTS flow control end to end (client_options::rts_cts) over a real pseudo-terminal: the
// client on asio::serial_port at the slave, the simulated module on the master. Switched on on
// both sides and verified; the module refusing (ERROR) and the port refusing (a Linux pty keeps
// CRTSCTS, so a port type that refuses it stands in for a driver that does) both fall back to
// no flow control on both sides; a module reset puts both back and the restart switches again.
// Every test runs under a deadline.
#include "fake_module.hpp"  // run_with_deadline
#include "pty_device.hpp"

#include <espat/client.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/pty.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/serial_port.hpp>
#include <asio/steady_timer.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using namespace std::chrono_literals;
using espat::flow_control_refusal;
using espat::test::pty_device;
using espat::test::run_with_deadline;
namespace sim = espat::sim;
using serial_base = asio::serial_port_base;

namespace {

espat::client_options fast_options()
{
    espat::client_options o;
    o.session.probe_timeout = 100ms;
    o.session.quiet = 10ms;
    o.start_probe_timeout = 100ms;
    o.rts_cts = true;
    return o;
}

// A serial port whose driver will not do RTS/CTS: it refuses flow_control::hardware, or
// (`silently`) reports success and keeps no flow control, as some USB adapters' drivers do.
class port_without_rts_cts : public asio::serial_port {
public:
    port_without_rts_cts(asio::serial_port port, bool silently) : asio::serial_port(std::move(port)), silently_(silently) {}

    using asio::serial_port::set_option;
    void set_option(const serial_base::flow_control& flow, std::error_code& ec)
    {
        ++flow_requests;
        if (flow.value() == serial_base::flow_control::hardware) {
            if (silently_) asio::serial_port::set_option(serial_base::flow_control(serial_base::flow_control::none), ec);
            else ec = std::make_error_code(std::errc::operation_not_supported);
            return;
        }
        asio::serial_port::set_option(flow, ec);
    }
    int flow_requests = 0;

private:
    bool silently_;
};

template <class Port>
serial_base::flow_control::type port_flow(Port& port)
{
    serial_base::flow_control flow;
    port.get_option(flow);
    return flow.value();
}
template <class Port>
unsigned port_rate(Port& port)
{
    serial_base::baud_rate rate;
    port.get_option(rate);
    return rate.value();
}

}  // namespace

TEST_CASE("rts_cts: AT+UART_CUR with flow control 3, the port's flow_control::hardware, verified")
{
    for (const bool with_rate : {false, true}) {
        CAPTURE(with_rate);
        pty_device device;
        auto o = fast_options();
        if (with_rate) o.baud_rate = 921600;
        espat::client esp(device.open_port(), o);
        run_with_deadline(device.io, [&]() -> asio::awaitable<void> {
            esp.record_transcript();
            auto fw = co_await esp.async_start();
            REQUIRE(fw);
            REQUIRE(fw->line);
            const unsigned rate = with_rate ? 921600 : 115200;
            CHECK(*fw->line == espat::line_settings{rate, true, flow_control_refusal::none});
            CHECK(esp.firmware()->line == fw->line);
            CHECK(port_flow(esp.stream()) == serial_base::flow_control::hardware);
            CHECK(port_rate(esp.stream()) == rate);
            const std::string sent = esp.transcript();
            CHECK(sent.find("> AT+UART_CUR=" + std::to_string(rate) + ",8,1,0,3\\r\\n") != std::string::npos);
            CHECK(sent.find("> AT+UART_CUR?\\r\\n") != std::string::npos);  // the module's side verified
            auto uart = co_await esp.uart_cur.query();
            REQUIRE(uart);
            CHECK(uart->baud_rate == rate);
            CHECK(uart->flow_control == espat::uart_flow_control::rts_cts);
        });
    }
}

TEST_CASE("rts_cts: the module refuses flow control (ERROR): neither side has it, a rate change still applies")
{
    for (const bool with_rate : {false, true}) {
        CAPTURE(with_rate);
        sim::module_options mo;
        mo.uart_flow_control = false;
        pty_device device(mo);
        auto o = fast_options();
        if (with_rate) o.baud_rate = 921600;
        espat::client esp(device.open_port(), o);
        run_with_deadline(device.io, [&]() -> asio::awaitable<void> {
            auto fw = co_await esp.async_start();
            REQUIRE(fw);
            REQUIRE(fw->line);
            const unsigned rate = with_rate ? 921600 : 115200;
            CHECK(*fw->line == espat::line_settings{rate, false, flow_control_refusal::module});
            CHECK(port_flow(esp.stream()) == serial_base::flow_control::none);
            CHECK(port_rate(esp.stream()) == rate);
            auto uart = co_await esp.uart_cur.query();
            REQUIRE(uart);
            CHECK(uart->baud_rate == rate);
            CHECK(uart->flow_control == espat::uart_flow_control::none);
            auto at = co_await esp.at();
            CHECK(at);
        });
    }
}

TEST_CASE("rts_cts: the port refuses flow control, or drops it silently: the module is never asked, neither side has it")
{
    for (const bool silently : {false, true}) {
        CAPTURE(silently);
        pty_device device;
        espat::basic_client<port_without_rts_cts> esp(port_without_rts_cts(device.open_port(), silently), fast_options());
        run_with_deadline(device.io, [&]() -> asio::awaitable<void> {
            esp.record_transcript();
            auto fw = co_await esp.async_start();
            REQUIRE(fw);
            REQUIRE(fw->line);
            CHECK(*fw->line == espat::line_settings{115200, false, flow_control_refusal::port});
            CHECK(esp.stream().flow_requests > 0);  // it was tried
            CHECK(port_flow(esp.stream()) == serial_base::flow_control::none);
            CHECK(esp.transcript().find("AT+UART_CUR") == std::string::npos);
            auto uart = co_await esp.uart_cur.query();
            REQUIRE(uart);
            CHECK(uart->flow_control == espat::uart_flow_control::none);
        });
    }
}

TEST_CASE("rts_cts: a port that refuses flow control still gets the rate change, with flow control 0")
{
    pty_device device;
    auto o = fast_options();
    o.baud_rate = 460800;
    espat::basic_client<port_without_rts_cts> esp(port_without_rts_cts(device.open_port(), false), o);
    run_with_deadline(device.io, [&]() -> asio::awaitable<void> {
        esp.record_transcript();
        auto fw = co_await esp.async_start();
        REQUIRE(fw);
        REQUIRE(fw->line);
        CHECK(*fw->line == espat::line_settings{460800, false, flow_control_refusal::port});
        CHECK(port_rate(esp.stream()) == 460800);
        const std::string sent = esp.transcript();
        CHECK(sent.find("> AT+UART_CUR=460800,8,1,0,0\\r\\n") != std::string::npos);
        CHECK(sent.find(",8,1,0,3") == std::string::npos);
    });
}

TEST_CASE("rts_cts: after a module reset (its UART back to defaults) the port goes back too, and the restart switches both again")
{
    pty_device device;
    auto o = fast_options();
    o.baud_rate = 921600;
    espat::client esp(device.open_port(), o);
    run_with_deadline(device.io, [&]() -> asio::awaitable<void> {
        auto fw = co_await esp.async_start();
        REQUIRE(fw);
        CHECK(fw->line->rts_cts);
        esp.record_transcript();
        device.module.reset();  // power: the module reboots with its UART at the defaults
        asio::steady_timer t(device.io);
        while (esp.stats().starts < 2) {
            t.expires_after(2ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        co_await esp.async_wait_start_up();
        CHECK_FALSE(esp.last_restart_error());
        REQUIRE(esp.firmware());
        REQUIRE(esp.firmware()->line);
        CHECK(*esp.firmware()->line == espat::line_settings{921600, true, flow_control_refusal::none});
        CHECK(esp.transcript().find("> AT+UART_CUR=921600,8,1,0,3\\r\\n") != std::string::npos);
        CHECK(port_flow(esp.stream()) == serial_base::flow_control::hardware);
        CHECK(port_rate(esp.stream()) == 921600);
        auto uart = co_await esp.uart_cur.query();
        REQUIRE(uart);
        CHECK(uart->flow_control == espat::uart_flow_control::rts_cts);
    });
}

TEST_CASE("line switch: a module reset the host could not hear (its ready came at the default rate) is found by the next start()")
{
    pty_device device(sim::module_options{}, true);  // the line carries bytes only at matching settings
    auto o = fast_options();
    o.baud_rate = 921600;
    espat::client esp(device.open_port(), o);
    run_with_deadline(device.io, [&]() -> asio::awaitable<void> {
        auto fw = co_await esp.async_start();
        REQUIRE(fw);
        CHECK(*fw->line == espat::line_settings{921600, true, flow_control_refusal::none});
        device.module.reset();  // back at 115200 without flow control: its "ready" is noise at 921600
        asio::steady_timer t(device.io, 200ms);
        co_await t.async_wait(asio::use_awaitable);
        CHECK(esp.stats().starts == 1);  // unheard: no automatic restart
        auto lost = co_await esp.async_execute<espat::commands::at>();
        CHECK(lost.error() == espat::errc::timeout);  // what a program sees, and why it calls start()

        // start() probes at 921600 (silence), then at the port's own settings, and switches again.
        auto again = co_await esp.async_start();
        REQUIRE(again);
        CHECK(*again->line == espat::line_settings{921600, true, flow_control_refusal::none});
        CHECK(port_rate(esp.stream()) == 921600);
        CHECK(port_flow(esp.stream()) == serial_base::flow_control::hardware);
        CHECK(device.module.uart().baud_rate == 921600);
        auto answered = co_await esp.async_execute<espat::commands::at>();
        CHECK(answered);
    }, 15s);  // the probes at 921600, with "+++" between them, take a few seconds
}
