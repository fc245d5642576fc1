// Every command of the table through the client against the simulated module, for ESP-AT 2.x,
// 4.x and the NONOS personality: a success with its typed result checked against what the
// simulator is known to hold, and a failure with its error code. Peers are on loopback. One
// scenario per descriptor; a descriptor without one does not compile (the static_assert
// below), so a new command is covered when it is added. A subset runs over a real
// pseudo-terminal with asio::serial_port.
#include "loopback.hpp"

#include <espat/client.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/pipe.hpp>
#include <espat/sim/pty.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/serial_port.hpp>
#include <asio/steady_timer.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using espat::errc;
namespace cmd = espat::commands;
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

namespace {

constexpr std::uint32_t execution_failed = 0x010a0000;  // the simulator's ERR CODE for a refused command
constexpr std::uint32_t unsupported = 0x01090000;
constexpr std::uint32_t parse_failed = 0x01080000;

espat::client_options fast_options()
{
    espat::client_options o;
    o.session.probe_timeout = 100ms;
    o.session.quiet = 10ms;
    o.session.backoff_initial = 10ms;
    o.session.backoff_max = 40ms;
    o.session.guard_after = 50ms;
    o.start_probe_timeout = 200ms;
    return o;
}

// Loopback peers: a TCP server that records and echoes, a UDP socket that records.
struct peers {
    explicit peers(asio::io_context& io) : acceptor(io, {asio::ip::address_v4::loopback(), 0}), udp(io, {asio::ip::address_v4::loopback(), 0})
    {
        asio::co_spawn(io, accept_loop(), asio::detached);
        asio::co_spawn(io, udp_loop(), asio::detached);
    }
    awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, s] = co_await acceptor.async_accept(as_tuple);
            if (ec) co_return;
            ++accepted;
            asio::co_spawn(acceptor.get_executor(), session(std::make_shared<asio::ip::tcp::socket>(std::move(s))), asio::detached);
        }
    }
    awaitable<void> session(std::shared_ptr<asio::ip::tcp::socket> s)
    {
        sockets.push_back(s);
        char buf[2048];
        for (;;) {
            auto [ec, n] = co_await s->async_read_some(asio::buffer(buf), as_tuple);
            if (ec) co_return;
            tcp_received.append(buf, n);
            if (echo) co_await asio::async_write(*s, asio::buffer(buf, n), as_tuple);
        }
    }
    awaitable<void> udp_loop()
    {
        char buf[2048];
        for (;;) {
            asio::ip::udp::endpoint from;
            auto [ec, n] = co_await udp.async_receive_from(asio::buffer(buf), from, as_tuple);
            if (ec) co_return;
            datagrams.emplace_back(buf, n);
        }
    }
    std::uint16_t tcp_port() const { return acceptor.local_endpoint().port(); }
    std::uint16_t udp_port() const { return udp.local_endpoint().port(); }

    asio::ip::tcp::acceptor acceptor;
    asio::ip::udp::socket udp;
    std::vector<std::shared_ptr<asio::ip::tcp::socket>> sockets;
    std::string tcp_received;
    std::vector<std::string> datagrams;
    int accepted = 0;
    bool echo = true;
};

// What a scenario gets: the started client, the module, the personality, the peers.
template <class Client>
struct ctx {
    Client& esp;
    espat::sim::module& module;
    asio::io_context& io;
    peers& net;
    const espat::sim::personality& fw;

    bool nonos() const { return fw.name == "nonos"; }
    bool esp32() const { return fw.chip == "ESP32"; }
    awaitable<void> sleep(std::chrono::milliseconds d)
    {
        asio::steady_timer t(io, d);
        co_await t.async_wait(use_awaitable);
    }
    // Until the module's "ready" reached the client (the start-up it sets off then gates the
    // next command).
    awaitable<void> until_reset(std::size_t resets)
    {
        while (esp.stats().session.resets < resets) co_await sleep(5ms);
    }
};

template <class R>
void fails_with(const R& r, std::error_code expected)
{
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == expected);
}
std::error_code module_error(std::uint32_t code) { return espat::make_module_error(code); }

// AT+RST and the start-up its "ready" sets off.
template <class Client>
awaitable<void> reboot(ctx<Client>& t)
{
    const auto resets = t.esp.stats().session.resets;
    auto r = co_await t.esp.rst();
    REQUIRE(r);
    co_await t.until_reset(resets + 1);
}

// AT+RESTORE: factory settings, flash included (no AP saved), and the start-up after it.
template <class Client>
awaitable<void> factory_reset(ctx<Client>& t)
{
    const auto resets = t.esp.stats().session.resets;
    auto r = co_await t.esp.restore();
    REQUIRE(r);
    co_await t.until_reset(resets + 1);
}

// Whether the station is on an AP within a while (a booting module joins the one its flash
// holds a little after "ready"). AT 1.x only: AT+CWJAP_CUR?.
template <class Client>
awaitable<bool> joined_soon(ctx<Client>& t)
{
    for (int i = 0; i < 20; ++i) {
        auto ap = co_await t.esp.cwjap_cur.query();
        REQUIRE(ap);
        if (ap->has_value()) co_return true;
        co_await t.sleep(5ms);
    }
    co_return false;
}

// A data-carrying form through the raw escape hatch (the client's typed send is AT+CIPSEND).
template <class C, class Client>
awaitable<espat::proto::command_result> send_with(ctx<Client>& t, const typename C::set::request& request, std::string data)
{
    std::string line;
    REQUIRE_FALSE(cmd::encode_set<C>(line, request));
    espat::proto::command c{.line = std::move(line), .timeout = 2000ms, .payload = std::move(data)};
    // as_tuple: the whole result, lines and diagnostics, whether it failed or not.
    auto [ec, r] = co_await t.esp.async_send_command(std::move(c), as_tuple);
    CHECK(ec == r.ec);
    co_return r;
}

// ---- one scenario per descriptor ----

template <class C>
struct scenario {
    static constexpr bool defined = false;
};

#define COMMAND_CASE(NAME)                                                                                             \
    template <>                                                                                                        \
    struct scenario<cmd::NAME> {                                                                                       \
        static constexpr bool defined = true;                                                                          \
        static constexpr std::string_view name = #NAME;                                                                \
        template <class Client>                                                                                        \
        static awaitable<void> run(ctx<Client>& t);                                                                    \
    };                                                                                                                 \
    template <class Client>                                                                                            \
    awaitable<void> scenario<cmd::NAME>::run(ctx<Client>& t)

// Basic commands. AT, ATE0/1, AT+GMR and the settings queries have no failure the module can
// give; their failure paths (timeout, reset, busy) are the fault tests' business.
COMMAND_CASE(at)
{
    auto r = co_await t.esp.at();
    CHECK(r);
}
COMMAND_CASE(ate0)
{
    auto r = co_await t.esp.ate0();
    CHECK(r);
}
COMMAND_CASE(ate1)
{
    auto r = co_await t.esp.ate1();
    CHECK(r);
    auto mode = co_await t.esp.cwmode.query();  // echoed from now on, and still read
    REQUIRE(mode);
    CHECK(*mode == espat::wifi_mode::station);
}
COMMAND_CASE(rst)
{
    auto r = co_await t.esp.rst();
    CHECK(r);
    co_await t.until_reset(1);
    auto mode = co_await t.esp.cwmode.query();  // after the start-up the reset set off
    REQUIRE(mode);
    CHECK(t.esp.stats().starts == 2);
}
COMMAND_CASE(restore)
{
    // An open link is reported CLOSED before the OK (firmware-quirks.md): a report, not an answer.
    const espat::cipstart_tcp_request to{.host = "127.0.0.1", .port = t.net.tcp_port()};
    auto link = co_await t.esp.cipstart_tcp.set(to);
    REQUIRE(link);
    int closed = 0;
    t.esp.add_report_listener([&](const espat::proto::event& e) { closed += e.kind == espat::proto::event_kind::closed; });
    auto r = co_await t.esp.restore();
    CHECK(r);
    CHECK(closed == 1);
    co_await t.until_reset(1);
    auto ap = co_await t.esp.cwjap.query();
    REQUIRE(ap);
    CHECK_FALSE(ap->has_value());  // the factory settings forget the AP
}
COMMAND_CASE(gmr)
{
    auto r = co_await t.esp.gmr();
    REQUIRE(r);
    CHECK(r->at_version_line == t.fw.gmr.at_version_line);
    CHECK(r->at_version == t.fw.version);
    CHECK(t.esp.firmware()->info.at_version == t.fw.version);
}
COMMAND_CASE(sysstore)
{
    auto on = co_await t.esp.sysstore.query();
    REQUIRE(on);
    CHECK(*on);
    auto set = co_await t.esp.sysstore(false);
    CHECK(set);
    auto off = co_await t.esp.sysstore.query();
    REQUIRE(off);
    CHECK_FALSE(*off);
}
COMMAND_CASE(syslog)
{
    auto on = co_await t.esp.syslog.query();
    REQUIRE(on);
    CHECK(*on);  // start-up turned it on
    // Failure: without ERR CODE lines a refused command is only command_failed (NONOS says
    // UNLINK first: link_invalid).
    auto set = co_await t.esp.syslog(false);
    CHECK(set);
    auto closed = co_await t.esp.cipclose.execute();  // no link
    fails_with(closed, espat::make_error_code(t.nonos() ? errc::link_invalid : errc::command_failed));
}
COMMAND_CASE(sysmsg)
{
    auto set = co_await t.esp.sysmsg(espat::system_messages::link_conn_details);
    CHECK(set);
    auto r = co_await t.esp.sysmsg.query();
    REQUIRE(r);
    CHECK(*r == espat::system_messages::link_conn_details);
}
// AT 1.x's AT+SYSMSG pair (set only): bits 0 and 1.
COMMAND_CASE(sysmsg_cur)
{
    auto set = co_await t.esp.sysmsg_cur(espat::system_messages::link_conn_details);
    CHECK(set);
    auto r = co_await t.esp.sysmsg.query();
    REQUIRE(r);
    CHECK(*r == espat::system_messages::link_conn_details);
    auto bit2 = co_await t.esp.sysmsg_cur(espat::system_messages::connection_status);  // ESP-AT 2.x's bit
    fails_with(bit2, module_error(execution_failed));
    co_await reboot(t);
    auto after = co_await t.esp.sysmsg.query();
    REQUIRE(after);
    CHECK(*after == espat::system_messages::none);
}
COMMAND_CASE(sysmsg_def)
{
    const auto both = espat::system_messages::quit_passthrough | espat::system_messages::link_conn_details;
    auto set = co_await t.esp.sysmsg_def(both);
    CHECK(set);
    co_await reboot(t);
    auto after = co_await t.esp.sysmsg.query();
    REQUIRE(after);
    CHECK(*after == both);
    auto bit2 = co_await t.esp.sysmsg_def(espat::system_messages::all);
    fails_with(bit2, module_error(execution_failed));
}
COMMAND_CASE(uart_cur)
{
    auto r = co_await t.esp.uart_cur.query();
    REQUIRE(r);
    CHECK(r->baud_rate == 115200);
    const espat::uart_cur_request fast{*espat::uart_baud_rate::checked(921600), espat::uart_data_bits::eight,
                                       espat::uart_stop_bits::one, espat::uart_parity::none,
                                       espat::uart_flow_control::none};
    auto set = co_await t.esp.uart_cur.set(fast);
    CHECK(set);
    auto after = co_await t.esp.uart_cur.query();
    REQUIRE(after);
    CHECK(after->baud_rate == 921600);
    // Failure: a rate the table cannot carry never reaches the module.
    CHECK_FALSE(espat::uart_baud_rate::checked(5));
    // Until reset only.
    co_await reboot(t);
    auto reset = co_await t.esp.uart_cur.query();
    REQUIRE(reset);
    CHECK(reset->baud_rate == 115200);
}
COMMAND_CASE(uart_def)
{
    auto saved = co_await t.esp.uart_def.query();
    REQUIRE(saved);
    CHECK(saved->baud_rate == 115200);
    const espat::uart_def_request fast{*espat::uart_baud_rate::checked(921600), espat::uart_data_bits::eight,
                                       espat::uart_stop_bits::one, espat::uart_parity::none,
                                       espat::uart_flow_control::none};
    auto set = co_await t.esp.uart_def.set(fast);
    CHECK(set);
    auto now = co_await t.esp.uart_cur.query();  // in effect at once...
    REQUIRE(now);
    CHECK(now->baud_rate == 921600);
    co_await reboot(t);
    auto after = co_await t.esp.uart_cur.query();  // ...and after a reset
    REQUIRE(after);
    CHECK(after->baud_rate == 921600);
    auto still = co_await t.esp.uart_def.query();
    REQUIRE(still);
    CHECK(still->baud_rate == 921600);
}
COMMAND_CASE(rfpower)
{
    auto r = co_await t.esp.rfpower.query();
    REQUIRE(r);
    CHECK(r->wifi == 78);
    CHECK(r->ble_advertising.has_value() == t.esp32());  // only the ESP32 prints BLE levels
    const espat::rfpower_request low{*espat::wifi_tx_power::checked(60)};
    auto set = co_await t.esp.rfpower.set(low);
    CHECK(set);
    auto after = co_await t.esp.rfpower.query();
    REQUIRE(after);
    CHECK(after->wifi == 60);
}

// Wi-Fi.
COMMAND_CASE(cwmode)
{
    auto r = co_await t.esp.cwmode.query();
    REQUIRE(r);
    CHECK(*r == espat::wifi_mode::station);
    auto set = co_await t.esp.cwmode(espat::wifi_mode::softap);
    CHECK(set);
    auto after = co_await t.esp.cwmode.query();
    REQUIRE(after);
    CHECK(*after == espat::wifi_mode::softap);
    // Wrong state: no station, no join.
    auto join = co_await t.esp.cwjap("espressif", "1234567890");
    fails_with(join, module_error(execution_failed));
}
// AT 1.x's pairs: _CUR until reset, _DEF saved in flash (its query reads flash).
COMMAND_CASE(cwmode_cur)
{
    auto r = co_await t.esp.cwmode_cur.query();
    REQUIRE(r);
    CHECK(*r == espat::wifi_mode::station);
    auto set = co_await t.esp.cwmode_cur(espat::wifi_mode::softap);
    CHECK(set);
    auto now = co_await t.esp.cwmode_cur.query();
    REQUIRE(now);
    CHECK(*now == espat::wifi_mode::softap);
    auto saved = co_await t.esp.cwmode_def.query();
    REQUIRE(saved);
    CHECK(*saved == espat::wifi_mode::station);
    auto off = co_await t.esp.cwmode_cur(espat::wifi_mode::off);  // AT 1.x's modes are 1..3
    fails_with(off, module_error(execution_failed));
    co_await reboot(t);
    auto after = co_await t.esp.cwmode_cur.query();
    REQUIRE(after);
    CHECK(*after == espat::wifi_mode::station);
}
COMMAND_CASE(cwmode_def)
{
    auto set = co_await t.esp.cwmode_def(espat::wifi_mode::station_softap);
    CHECK(set);
    auto saved = co_await t.esp.cwmode_def.query();
    REQUIRE(saved);
    CHECK(*saved == espat::wifi_mode::station_softap);
    auto off = co_await t.esp.cwmode_def(espat::wifi_mode::off);
    fails_with(off, module_error(execution_failed));
    co_await reboot(t);
    auto after = co_await t.esp.cwmode_cur.query();
    REQUIRE(after);
    CHECK(*after == espat::wifi_mode::station_softap);
}
COMMAND_CASE(cwjap_cur)
{
    auto r = co_await t.esp.cwjap_cur.query();
    REQUIRE(r);
    REQUIRE(r->has_value());
    CHECK((*r)->ssid == "espressif");
    CHECK((*r)->channel == 6);
    CHECK_FALSE((*r)->pci_authentication);  // AT 1.x prints four fields
    auto wrong = co_await t.esp.cwjap_cur("espressif", "wrong");
    fails_with(wrong, module_error(execution_failed));
    REQUIRE(t.esp.last_failure());
    REQUIRE(t.esp.last_failure()->lines.size() == 1);
    CHECK(t.esp.last_failure()->lines[0].name == "CWJAP");  // +CWJAP:2, as for AT+CWJAP
    CHECK(t.esp.last_failure()->lines[0].args == "2");
    CHECK(t.esp.last_failure()->command == "AT+CWJAP_CUR=\"espressif\",\"********\"");  // redacted
    // A join until reset: after one, the module joins what flash holds (nothing, after
    // AT+RESTORE).
    co_await factory_reset(t);
    auto joined = co_await t.esp.cwjap_cur("espressif", "1234567890");
    REQUIRE(joined);
    CHECK_FALSE(joined->has_value());
    const bool on_ap = co_await joined_soon(t);
    CHECK(on_ap);
    co_await reboot(t);
    co_await t.sleep(30ms);
    auto after = co_await t.esp.cwjap_cur.query();
    REQUIRE(after);
    CHECK_FALSE(after->has_value());
}
COMMAND_CASE(cwjap_def)
{
    co_await factory_reset(t);
    auto none = co_await t.esp.cwjap_def.query();
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    auto missing = co_await t.esp.cwjap_def("no such AP", "12345678");
    fails_with(missing, module_error(execution_failed));
    REQUIRE(t.esp.last_failure());
    REQUIRE(t.esp.last_failure()->lines.size() == 1);
    CHECK(t.esp.last_failure()->lines[0].args == "3");
    auto joined = co_await t.esp.cwjap_def("espressif", "1234567890");
    REQUIRE(joined);
    co_await reboot(t);
    const bool on_ap = co_await joined_soon(t);  // the saved AP, joined at boot
    CHECK(on_ap);
    auto r = co_await t.esp.cwjap_def.query();
    REQUIRE(r);
    REQUIRE(r->has_value());
    CHECK((*r)->ssid == "espressif");
}
COMMAND_CASE(cwjap)
{
    auto r = co_await t.esp.cwjap.query();
    REQUIRE(r);
    REQUIRE(r->has_value());
    CHECK((*r)->ssid == "espressif");
    CHECK((*r)->channel == 6);
    auto wrong = co_await t.esp.cwjap("espressif", "wrong");
    // The table reads the reason: +CWJAP:2 before ERR CODE and ERROR.
    fails_with(wrong, espat::make_error_code(espat::errc::wrong_password));
    REQUIRE(t.esp.last_failure());
    CHECK(t.esp.last_failure()->ec == module_error(execution_failed));  // what the module printed
    REQUIRE(t.esp.last_failure()->lines.size() == 1);  // +CWJAP:<reason> kept for diagnostics
    CHECK(t.esp.last_failure()->lines[0].name == "CWJAP");
    CHECK(t.esp.last_failure()->command == "AT+CWJAP=\"espressif\",\"********\"");  // redacted
    auto joined = co_await t.esp.cwjap("espressif", "1234567890");
    REQUIRE(joined);
    CHECK_FALSE(joined->has_value());
    auto again = co_await t.esp.cwjap.execute();  // the saved AP
    CHECK(again);
}
COMMAND_CASE(cwqap)
{
    auto r = co_await t.esp.cwqap();
    CHECK(r);
    auto ap = co_await t.esp.cwjap.query();
    REQUIRE(ap);
    CHECK_FALSE(ap->has_value());
    // Wrong state: no IP, no link.
    const espat::cipstart_tcp_request to{.host = "127.0.0.1", .port = t.net.tcp_port()};
    auto link = co_await t.esp.cipstart_tcp.set(to);
    fails_with(link, module_error(execution_failed));
}
COMMAND_CASE(cwlap)
{
    auto all = co_await t.esp.cwlap.execute();
    REQUIRE(all);
    REQUIRE(all->size() == 1);
    CHECK(all->front().ssid == "espressif");
    const espat::cwlap_request none{.ssid = "no such AP"};
    auto filtered = co_await t.esp.cwlap.set(none);
    REQUIRE(filtered);
    CHECK(filtered->empty());
}
COMMAND_CASE(cwlapopt)
{
    const espat::cwlapopt_request opt{.sort_by_rssi = true, .print_mask = espat::cwlap_all_fields};
    auto r = co_await t.esp.cwlapopt.set(opt);
    CHECK(r);
}
COMMAND_CASE(cwstate)
{
    auto r = co_await t.esp.cwstate.query();
    REQUIRE(r);
    CHECK(r->state == espat::wifi_state::got_ip);
    CHECK(r->ssid == "espressif");
}
COMMAND_CASE(cwdhcp)
{
    auto r = co_await t.esp.cwdhcp.query();
    REQUIRE(r);
    CHECK(*r == 3);
    const espat::cwdhcp_request off{.enable = false, .interfaces = *espat::bounded<std::uint8_t, 1, 7>::checked(2)};
    auto set = co_await t.esp.cwdhcp.set(off);
    CHECK(set);
    auto after = co_await t.esp.cwdhcp.query();
    REQUIRE(after);
    CHECK(*after == 1);
}
COMMAND_CASE(cwdhcp_cur)
{
    auto r = co_await t.esp.cwdhcp_cur.query();
    REQUIRE(r);
    CHECK(*r == (espat::at1_dhcp_interfaces::softap | espat::at1_dhcp_interfaces::station));
    const espat::cwdhcp_cur_request off{.interfaces = espat::at1_dhcp_target::station, .enable = false};
    auto set = co_await t.esp.cwdhcp_cur.set(off);
    CHECK(set);
    auto now = co_await t.esp.cwdhcp_cur.query();
    REQUIRE(now);
    CHECK(*now == espat::at1_dhcp_interfaces::softap);
    auto saved = co_await t.esp.cwdhcp_def.query();
    REQUIRE(saved);
    CHECK(*saved == 3);
    // An interface number AT 1.x does not have never reaches the module.
    const espat::cwdhcp_cur_request bad{.interfaces = static_cast<espat::at1_dhcp_target>(3), .enable = true};
    auto refused = co_await t.esp.cwdhcp_cur.set(bad);
    fails_with(refused, espat::make_error_code(errc::invalid_argument));
    co_await reboot(t);
    auto after = co_await t.esp.cwdhcp_cur.query();
    REQUIRE(after);
    CHECK(*after == 3);
}
COMMAND_CASE(cwdhcp_def)
{
    const espat::cwdhcp_def_request off{.interfaces = espat::at1_dhcp_target::softap, .enable = false};
    auto set = co_await t.esp.cwdhcp_def.set(off);
    CHECK(set);
    auto saved = co_await t.esp.cwdhcp_def.query();
    REQUIRE(saved);
    CHECK(*saved == espat::at1_dhcp_interfaces::station);
    co_await reboot(t);
    auto after = co_await t.esp.cwdhcp_cur.query();
    REQUIRE(after);
    CHECK(*after == espat::at1_dhcp_interfaces::station);
    const espat::cwdhcp_def_request on{.interfaces = espat::at1_dhcp_target::both, .enable = true};
    auto back = co_await t.esp.cwdhcp_def.set(on);
    CHECK(back);
    auto both = co_await t.esp.cwdhcp_def.query();
    REQUIRE(both);
    CHECK(*both == 3);
}
COMMAND_CASE(cwautoconn)
{
    auto r = co_await t.esp.cwautoconn.query();
    REQUIRE(r);
    CHECK(*r);
    auto set = co_await t.esp.cwautoconn(false);
    CHECK(set);
    auto after = co_await t.esp.cwautoconn.query();
    REQUIRE(after);
    CHECK_FALSE(*after);
}
COMMAND_CASE(cipsta)
{
    auto r = co_await t.esp.cipsta.query();
    REQUIRE(r);
    CHECK(r->ip == asio::ip::make_address("192.168.4.2"));
    auto set = co_await t.esp.cipsta(asio::ip::make_address("192.168.4.50"));
    CHECK(set);
    auto after = co_await t.esp.cipsta.query();
    REQUIRE(after);
    CHECK(after->ip == asio::ip::make_address("192.168.4.50"));
}
COMMAND_CASE(cipsta_cur)
{
    auto r = co_await t.esp.cipsta_cur.query();
    REQUIRE(r);
    CHECK(r->ip == asio::ip::make_address("192.168.4.2"));
    auto set = co_await t.esp.cipsta_cur(asio::ip::make_address("192.168.4.50"));
    CHECK(set);
    auto now = co_await t.esp.cipsta_cur.query();
    REQUIRE(now);
    CHECK(now->ip == asio::ip::make_address("192.168.4.50"));
    auto saved = co_await t.esp.cipsta_def.query();
    REQUIRE(saved);
    CHECK(saved->ip == asio::ip::make_address("192.168.4.2"));
    co_await reboot(t);
    const bool on_ap = co_await joined_soon(t);  // a station shows its addresses once on an AP
    CHECK(on_ap);
    auto after = co_await t.esp.cipsta_cur.query();
    REQUIRE(after);
    CHECK(after->ip == asio::ip::make_address("192.168.4.2"));
}
COMMAND_CASE(cipsta_def)
{
    const espat::cipsta_request fixed{.ip = asio::ip::make_address("192.168.4.60"),
                                      .gateway = asio::ip::make_address("192.168.4.1"),
                                      .netmask = asio::ip::make_address("255.255.255.0")};
    auto set = co_await t.esp.cipsta_def.set(fixed);
    CHECK(set);
    auto saved = co_await t.esp.cipsta_def.query();
    REQUIRE(saved);
    CHECK(saved->ip == asio::ip::make_address("192.168.4.60"));
    co_await reboot(t);
    const bool on_ap = co_await joined_soon(t);
    CHECK(on_ap);
    auto after = co_await t.esp.cipsta_cur.query();
    REQUIRE(after);
    CHECK(after->ip == asio::ip::make_address("192.168.4.60"));
}
template <class Client, class C>
awaitable<void> mac_scenario(ctx<Client>& t, std::uint8_t first)
{
    auto r = co_await t.esp.template async_query<C>();
    REQUIRE(r);
    CHECK(r->bytes[0] == first);
    const espat::mac_request good{espat::mac_address{{0x1a, 0, 0, 0, 0, 2}}};
    auto set = co_await t.esp.template async_set<C>(good);
    CHECK(set);
    const espat::mac_request multicast{espat::mac_address{{0x01, 0, 0, 0, 0, 2}}};
    auto bad = co_await t.esp.template async_set<C>(multicast);
    fails_with(bad, module_error(execution_failed));
}
COMMAND_CASE(cipstamac) { co_await mac_scenario<Client, cmd::cipstamac>(t, 0x24); }
COMMAND_CASE(cipapmac) { co_await mac_scenario<Client, cmd::cipapmac>(t, 0x26); }
// AT 1.x's pairs: after mac_scenario's set, a reset keeps the address (_DEF) or forgets it (_CUR).
template <class Client, class C, class Cur>
awaitable<void> at1_mac_scenario(ctx<Client>& t, std::uint8_t first, std::uint8_t after_reset)
{
    co_await mac_scenario<Client, C>(t, first);
    co_await reboot(t);
    auto r = co_await t.esp.template async_query<Cur>();
    REQUIRE(r);
    CHECK(r->bytes[0] == after_reset);
}
COMMAND_CASE(cipstamac_cur) { co_await at1_mac_scenario<Client, cmd::cipstamac_cur, cmd::cipstamac_cur>(t, 0x24, 0x24); }
COMMAND_CASE(cipstamac_def) { co_await at1_mac_scenario<Client, cmd::cipstamac_def, cmd::cipstamac_cur>(t, 0x24, 0x1a); }
COMMAND_CASE(cipapmac_cur) { co_await at1_mac_scenario<Client, cmd::cipapmac_cur, cmd::cipapmac_cur>(t, 0x26, 0x26); }
COMMAND_CASE(cipapmac_def) { co_await at1_mac_scenario<Client, cmd::cipapmac_def, cmd::cipapmac_cur>(t, 0x26, 0x1a); }
COMMAND_CASE(cwsap)
{
    auto r = co_await t.esp.cwsap.query();
    REQUIRE(r);
    CHECK(r->ssid == "ESP_SIM");
    const espat::cwsap_request ap{.ssid = "mine", .password = "12345678",
                                  .channel = *espat::bounded<std::uint8_t, 1, 14>::checked(3),
                                  .encryption = espat::wifi_auth::wpa2_psk};
    auto station_only = co_await t.esp.cwsap.set(ap);  // wrong state: no SoftAP in station mode
    fails_with(station_only, module_error(execution_failed));
    auto mode = co_await t.esp.cwmode(espat::wifi_mode::station_softap);
    CHECK(mode);
    auto set = co_await t.esp.cwsap.set(ap);
    CHECK(set);
    auto after = co_await t.esp.cwsap.query();
    REQUIRE(after);
    CHECK(after->ssid == "mine");
    CHECK(after->channel == 3);
}
COMMAND_CASE(cipap)
{
    auto r = co_await t.esp.cipap.query();
    REQUIRE(r);
    CHECK(r->ip == asio::ip::make_address("192.168.4.1"));
    auto set = co_await t.esp.cipap(asio::ip::make_address("192.168.5.1"));
    CHECK(set);
    auto after = co_await t.esp.cipap.query();
    REQUIRE(after);
    CHECK(after->ip == asio::ip::make_address("192.168.5.1"));
}

COMMAND_CASE(cwsap_cur)
{
    auto r = co_await t.esp.cwsap_cur.query();
    REQUIRE(r);
    CHECK(r->ssid == "ESP_SIM");
    const espat::cwsap_request ap{.ssid = "mine", .password = "12345678",
                                  .channel = *espat::bounded<std::uint8_t, 1, 14>::checked(3),
                                  .encryption = espat::wifi_auth::wpa2_psk};
    auto station_only = co_await t.esp.cwsap_cur.set(ap);  // wrong state: no SoftAP in station mode
    fails_with(station_only, module_error(execution_failed));
    auto mode = co_await t.esp.cwmode_cur(espat::wifi_mode::station_softap);
    CHECK(mode);
    auto set = co_await t.esp.cwsap_cur.set(ap);
    CHECK(set);
    auto now = co_await t.esp.cwsap_cur.query();
    REQUIRE(now);
    CHECK(now->ssid == "mine");
    CHECK(now->channel == 3);
    auto saved = co_await t.esp.cwsap_def.query();
    REQUIRE(saved);
    CHECK(saved->ssid == "ESP_SIM");
}
COMMAND_CASE(cwsap_def)
{
    const espat::cwsap_request ap{.ssid = "saved", .password = "12345678",
                                  .channel = *espat::bounded<std::uint8_t, 1, 14>::checked(11),
                                  .encryption = espat::wifi_auth::wpa_wpa2_psk};
    auto station_only = co_await t.esp.cwsap_def.set(ap);
    fails_with(station_only, module_error(execution_failed));
    auto mode = co_await t.esp.cwmode_def(espat::wifi_mode::station_softap);
    CHECK(mode);
    auto set = co_await t.esp.cwsap_def.set(ap);
    CHECK(set);
    co_await reboot(t);
    auto after = co_await t.esp.cwsap_cur.query();
    REQUIRE(after);
    CHECK(after->ssid == "saved");
    CHECK(after->channel == 11);
}
COMMAND_CASE(cipap_cur)
{
    auto set = co_await t.esp.cipap_cur(asio::ip::make_address("192.168.5.1"));
    CHECK(set);
    auto now = co_await t.esp.cipap_cur.query();
    REQUIRE(now);
    CHECK(now->ip == asio::ip::make_address("192.168.5.1"));
    auto saved = co_await t.esp.cipap_def.query();
    REQUIRE(saved);
    CHECK(saved->ip == asio::ip::make_address("192.168.4.1"));
    co_await reboot(t);
    auto after = co_await t.esp.cipap_cur.query();
    REQUIRE(after);
    CHECK(after->ip == asio::ip::make_address("192.168.4.1"));
}
COMMAND_CASE(cipap_def)
{
    auto set = co_await t.esp.cipap_def(asio::ip::make_address("192.168.6.1"));
    CHECK(set);
    co_await reboot(t);
    auto after = co_await t.esp.cipap_cur.query();
    REQUIRE(after);
    CHECK(after->ip == asio::ip::make_address("192.168.6.1"));
}

// TCP/IP: state and addresses.
COMMAND_CASE(cifsr)
{
    auto r = co_await t.esp.cifsr();
    REQUIRE(r);
    CHECK(r->sta_ip == asio::ip::make_address("192.168.4.2"));
    CHECK_FALSE(r->ap_ip);  // station mode
}
COMMAND_CASE(cipstatus)
{
    auto r = co_await t.esp.cipstatus();
    REQUIRE(r);
    CHECK(r->state == espat::station_state::got_ip);
    CHECK(r->links.empty());
    const espat::cipstart_tcp_request to{.host = "127.0.0.1", .port = t.net.tcp_port()};
    auto link = co_await t.esp.cipstart_tcp.set(to);
    REQUIRE(link);
    auto after = co_await t.esp.cipstatus();
    REQUIRE(after);
    REQUIRE(after->links.size() == 1);
    CHECK(after->links[0].remote_port == t.net.tcp_port());
}
COMMAND_CASE(cipstate)
{
    auto none = co_await t.esp.cipstate();
    REQUIRE(none);
    CHECK(none->empty());
    const espat::cipstart_tcp_request to{.host = "127.0.0.1", .port = t.net.tcp_port()};
    auto link = co_await t.esp.cipstart_tcp.set(to);
    REQUIRE(link);
    auto after = co_await t.esp.cipstate();
    REQUIRE(after);
    REQUIRE(after->size() == 1);
    CHECK((*after)[0].remote_ip == asio::ip::make_address("127.0.0.1"));
}
COMMAND_CASE(cipdomain)
{
    auto r = co_await t.esp.cipdomain("127.0.0.1");
    REQUIRE(r);
    CHECK(*r == asio::ip::make_address("127.0.0.1"));
    // The host resolver refuses an empty name at once; NONOS says "DNS Fail" first.
    auto bad = co_await t.esp.cipdomain("");
    fails_with(bad, t.nonos() ? espat::make_error_code(errc::dns_failed) : module_error(execution_failed));
}
COMMAND_CASE(ping)
{
    auto r = co_await t.esp.ping("127.0.0.1");  // NONOS answers "+<ms>": the same result
    REQUIRE(r);
    CHECK(r->has_value());
    auto bad = co_await t.esp.ping("");
    fails_with(bad, module_error(execution_failed));
}
COMMAND_CASE(cipdns)
{
    auto r = co_await t.esp.cipdns.query();
    REQUIRE(r);
    CHECK(r->dns1 == asio::ip::make_address("208.67.222.222"));
    const espat::cipdns_request manual{.mode = espat::dns_mode::manual, .dns1 = asio::ip::make_address("1.1.1.1")};
    auto set = co_await t.esp.cipdns.set(manual);
    CHECK(set);
    auto after = co_await t.esp.cipdns.query();
    REQUIRE(after);
    CHECK(after->dns1 == asio::ip::make_address("1.1.1.1"));
}

// AT 1.x's pair: two servers, one bare line each.
COMMAND_CASE(cipdns_cur)
{
    auto r = co_await t.esp.cipdns_cur.query();
    REQUIRE(r);
    CHECK(r->dns1 == asio::ip::make_address("208.67.222.222"));
    CHECK_FALSE(r->mode);  // the lines carry no mode
    const espat::cipdns_cur_request manual{.mode = espat::dns_mode::manual, .dns1 = asio::ip::make_address("1.1.1.1")};
    auto set = co_await t.esp.cipdns_cur.set(manual);
    CHECK(set);
    auto now = co_await t.esp.cipdns_cur.query();
    REQUIRE(now);
    CHECK(now->dns1 == asio::ip::make_address("1.1.1.1"));
    CHECK_FALSE(now->dns2);
    auto saved = co_await t.esp.cipdns_def.query();
    REQUIRE(saved);
    CHECK(saved->dns1 == asio::ip::make_address("208.67.222.222"));
    co_await reboot(t);
    auto after = co_await t.esp.cipdns_cur.query();
    REQUIRE(after);
    CHECK(after->dns1 == asio::ip::make_address("208.67.222.222"));
}
COMMAND_CASE(cipdns_def)
{
    const espat::cipdns_def_request manual{.mode = espat::dns_mode::manual, .dns1 = asio::ip::make_address("9.9.9.9"),
                                           .dns2 = asio::ip::make_address("1.1.1.1")};
    auto set = co_await t.esp.cipdns_def.set(manual);
    CHECK(set);
    co_await reboot(t);
    auto after = co_await t.esp.cipdns_cur.query();
    REQUIRE(after);
    CHECK(after->dns1 == asio::ip::make_address("9.9.9.9"));
    CHECK(after->dns2 == asio::ip::make_address("1.1.1.1"));
    const espat::cipdns_def_request automatic{.mode = espat::dns_mode::automatic};
    auto back = co_await t.esp.cipdns_def.set(automatic);  // the default servers again
    CHECK(back);
    auto saved = co_await t.esp.cipdns_def.query();
    REQUIRE(saved);
    CHECK(saved->dns1 == asio::ip::make_address("208.67.222.222"));
}

// Links.
COMMAND_CASE(cipstart_tcp)
{
    const espat::cipstart_tcp_request to{.host = "127.0.0.1", .port = t.net.tcp_port()};
    auto r = co_await t.esp.cipstart_tcp.set(to);
    CHECK(r);
    auto twice = co_await t.esp.cipstart_tcp.set(to);
    fails_with(twice, espat::make_error_code(errc::already_connected));
    auto closed = co_await t.esp.cipclose.execute();
    CHECK(closed);
    const espat::cipstart_tcp_request nobody{.host = "127.0.0.1", .port = espat::test::closed_tcp_port(t.io)};
    auto refused = co_await t.esp.cipstart_tcp.set(nobody);
    fails_with(refused, module_error(execution_failed));
}
COMMAND_CASE(cipstart_udp)
{
    const espat::cipstart_udp_request to{.host = "127.0.0.1", .port = t.net.udp_port()};
    auto r = co_await t.esp.cipstart_udp.set(to);
    CHECK(r);
    auto sent = co_await t.esp.async_send_data(std::nullopt, "datagram");
    REQUIRE(sent);
    while (t.net.datagrams.empty()) co_await t.sleep(2ms);
    CHECK(t.net.datagrams.front() == "datagram");
    // A peer-changing mode needs a local port: refused.
    const espat::cipstart_udp_request bad{.link = {}, .host = "127.0.0.1", .port = t.net.udp_port(), .local_port = {},
                                          .mode = espat::udp_mode::changeable};
    auto cc = co_await t.esp.cipclose.execute();
    CHECK(cc);
    auto refused = co_await t.esp.cipstart_udp.set(bad);
    fails_with(refused, module_error(execution_failed));
}
// SSL links: the handshake against a TLS peer is sim_tls_links_test's; here the command and
// its failure (nothing listens).
template <class Client, class C, class Request>
awaitable<void> ssl_start_fails(ctx<Client>& t, const Request& to)
{
    auto r = co_await t.esp.template async_set<C>(to);
    fails_with(r, module_error(execution_failed));
    auto mode = co_await t.esp.cwmode.query();  // the CLOSED after ERROR is no command's answer
    CHECK(mode);
}
COMMAND_CASE(cipstart_ssl)
{
    const espat::cipstart_tcp_request to{.host = "127.0.0.1", .port = espat::test::closed_tcp_port(t.io)};
    co_await ssl_start_fails<Client, cmd::cipstart_ssl>(t, to);
}
COMMAND_CASE(cipstartex_ssl)
{
    const espat::cipstartex_tcp_request to{.host = "127.0.0.1", .port = espat::test::closed_tcp_port(t.io)};
    co_await ssl_start_fails<Client, cmd::cipstartex_ssl>(t, to);
}
COMMAND_CASE(cipstartex_tcp)
{
    auto mux = co_await t.esp.cipmux(espat::mux_mode::multiple);
    REQUIRE(mux);
    const espat::cipstartex_tcp_request to{.host = "127.0.0.1", .port = t.net.tcp_port()};
    auto r = co_await t.esp.cipstartex_tcp.set(to);
    CHECK(r);
    auto status = co_await t.esp.cipclose(*espat::close_link_id::checked(0));  // the module picked link 0
    CHECK(status);
    const espat::cipstartex_tcp_request nobody{.host = "127.0.0.1", .port = espat::test::closed_tcp_port(t.io)};
    auto refused = co_await t.esp.cipstartex_tcp.set(nobody);
    fails_with(refused, module_error(execution_failed));
}
COMMAND_CASE(cipstartex_udp)
{
    const espat::cipstartex_udp_request to{.host = "127.0.0.1", .port = t.net.udp_port()};
    auto r = co_await t.esp.cipstartex_udp.set(to);
    CHECK(r);
    auto twice = co_await t.esp.cipstartex_udp.set(to);  // single mode: link 0 is taken
    fails_with(twice, espat::make_error_code(errc::already_connected));
}
COMMAND_CASE(cipsend)
{
    const espat::cipstart_tcp_request to{.host = "127.0.0.1", .port = t.net.tcp_port()};
    auto link = co_await t.esp.cipstart_tcp.set(to);
    REQUIRE(link);
    auto sent = co_await t.esp.async_send_data(std::nullopt, "hello");
    REQUIRE(sent);
    CHECK(*sent == 5);
    while (t.net.tcp_received.size() < 5) co_await t.sleep(2ms);
    CHECK(t.net.tcp_received == "hello");
    // Over the firmware's limit: refused before anything is sent.
    const auto before = t.esp.stats().commands;
    auto big = co_await t.esp.async_send_data(std::nullopt, std::string(t.fw.max_send() + 1, 'x'));
    fails_with(big, espat::make_error_code(errc::invalid_argument));
    CHECK(t.esp.stats().commands == before);
    // The execute form is passthrough: CIPMODE=1, '>', raw bytes, "+++".
    auto mode = co_await t.esp.cipmode(espat::transfer_mode::passthrough);
    REQUIRE(mode);
    auto entered = co_await t.esp.async_enter_passthrough();
    REQUIRE(entered);
    t.esp.write_raw("raw bytes");
    while (t.net.tcp_received.size() < 14) co_await t.sleep(2ms);
    CHECK(t.net.tcp_received == "helloraw bytes");
    t.esp.leave_passthrough();
    auto after = co_await t.esp.cipmode.query();  // waits for the guard times
    REQUIRE(after);
    CHECK(*after == espat::transfer_mode::passthrough);
    // Without a link the module refuses the length.
    auto cc = co_await t.esp.cipclose.execute();
    CHECK(cc);
    auto no_link = co_await t.esp.async_send_data(std::nullopt, "x");
    fails_with(no_link, module_error(execution_failed));
}
COMMAND_CASE(cipsendex)
{
    const espat::cipstart_tcp_request to{.host = "127.0.0.1", .port = t.net.tcp_port()};
    auto link = co_await t.esp.cipstart_tcp.set(to);
    REQUIRE(link);
    // \0 ends the data before the length: the module sends what came before it.
    const espat::cipsend_request request{.length = *espat::send_length::checked(10)};
    auto r = co_await send_with<cmd::cipsendex>(t, request, std::string("abc\\0"));
    CHECK_FALSE(r.ec);  // "Recv 3 bytes": what it sends, fewer than were written
    while (t.net.tcp_received.size() < 3) co_await t.sleep(2ms);
    CHECK(t.net.tcp_received == "abc");
    // "\<c>" is c: "\e" is "e", "\\0" the two characters "\0"; Recv 5.
    const espat::cipsend_request longer{.length = *espat::send_length::checked(12)};
    auto escaped = co_await send_with<cmd::cipsendex>(t, longer, std::string("d\\e\\\\0f\\0"));
    CHECK_FALSE(escaped.ec);
    while (t.net.tcp_received.size() < 8) co_await t.sleep(2ms);
    CHECK(t.net.tcp_received == "abcde\\0f");
    // A link id in single-link mode does not parse.
    const espat::cipsend_request bad{.link = espat::link_id{0}, .length = *espat::send_length::checked(3)};
    auto refused = co_await send_with<cmd::cipsendex>(t, bad, "abc");
    CHECK(refused.ec == module_error(parse_failed));
}
template <class Client, class C>
awaitable<void> udp_send_to(ctx<Client>& t)
{
    const espat::cipstart_udp_request to{.host = "127.0.0.1", .port = espat::test::closed_tcp_port(t.io), .local_port = 0,
                                         .mode = espat::udp_mode::changeable};
    auto link = co_await t.esp.cipstart_udp.set(to);
    REQUIRE(link);
    const typename C::set::request request{.length = *espat::send_length::checked(4),
                                           .remote_ip = asio::ip::make_address("127.0.0.1"),
                                           .remote_port = t.net.udp_port()};
    auto r = co_await send_with<C>(t, request, "dgrm");
    CHECK_FALSE(r.ec);
    while (t.net.datagrams.empty()) co_await t.sleep(2ms);
    CHECK(t.net.datagrams.front() == "dgrm");
    auto cc = co_await t.esp.cipclose.execute();
    CHECK(cc);
    auto refused = co_await send_with<C>(t, request, "dgrm");  // no link: "link is not valid"
    CHECK(refused.ec == errc::link_invalid);
}
COMMAND_CASE(cipsend_udp) { co_await udp_send_to<Client, cmd::cipsend_udp>(t); }
COMMAND_CASE(cipsendex_udp) { co_await udp_send_to<Client, cmd::cipsendex_udp>(t); }
COMMAND_CASE(cipclose)
{
    // Closing a closed link: NONOS prints UNLINK before ERROR, which is link_invalid.
    const auto closed_link = t.nonos() ? espat::make_error_code(errc::link_invalid) : module_error(execution_failed);
    auto none = co_await t.esp.cipclose.execute();
    fails_with(none, closed_link);
    auto mux = co_await t.esp.cipmux(espat::mux_mode::multiple);
    REQUIRE(mux);
    const espat::cipstart_tcp_request to{.link = espat::link_id{2}, .host = "127.0.0.1", .port = t.net.tcp_port()};
    auto link = co_await t.esp.cipstart_tcp.set(to);
    REQUIRE(link);
    auto closed = co_await t.esp.cipclose(*espat::close_link_id::checked(2));
    CHECK(closed);
    auto again = co_await t.esp.cipclose(*espat::close_link_id::checked(2));
    fails_with(again, closed_link);
}
COMMAND_CASE(cipmux)
{
    auto r = co_await t.esp.cipmux.query();
    REQUIRE(r);
    CHECK(*r == espat::mux_mode::single);
    const espat::cipstart_tcp_request to{.host = "127.0.0.1", .port = t.net.tcp_port()};
    auto link = co_await t.esp.cipstart_tcp.set(to);
    REQUIRE(link);
    auto fixed = co_await t.esp.cipmux(espat::mux_mode::multiple);  // not while a link is open
    fails_with(fixed, module_error(execution_failed));
    auto cc = co_await t.esp.cipclose.execute();
    CHECK(cc);
    auto set = co_await t.esp.cipmux(espat::mux_mode::multiple);
    CHECK(set);
    auto after = co_await t.esp.cipmux.query();
    REQUIRE(after);
    CHECK(*after == espat::mux_mode::multiple);
}
COMMAND_CASE(cipserver)
{
    const espat::cipserver_request create{.mode = espat::server_mode::create, .port = 0};
    auto single = co_await t.esp.cipserver.set(create);  // needs AT+CIPMUX=1
    fails_with(single, module_error(execution_failed));
    auto mux = co_await t.esp.cipmux(espat::mux_mode::multiple);
    REQUIRE(mux);
    auto r = co_await t.esp.cipserver.set(create);
    CHECK(r);
    CHECK(t.module.server_port());
    const espat::cipserver_request remove{.mode = espat::server_mode::remove};
    auto removed = co_await t.esp.cipserver.set(remove);
    CHECK(removed);
}
COMMAND_CASE(cipserver_ssl)
{
    // The simulated module has no certificates flashed: an SSL server cannot start
    // (sim_tls_links_test runs one with certificates).
    auto mux = co_await t.esp.cipmux(espat::mux_mode::multiple);
    REQUIRE(mux);
    const espat::cipserver_ssl_request create{.mode = espat::server_mode::create, .port = 0, .ca_enable = false};
    auto r = co_await t.esp.cipserver_ssl.set(create);
    fails_with(r, module_error(execution_failed));
}
COMMAND_CASE(cipservermaxconn)
{
    auto r = co_await t.esp.cipservermaxconn.query();
    REQUIRE(r);
    CHECK(*r == 5);
    auto set = co_await t.esp.cipservermaxconn(*espat::server_connections::checked(2));
    CHECK(set);
    auto after = co_await t.esp.cipservermaxconn.query();
    REQUIRE(after);
    CHECK(*after == 2);
    auto mux = co_await t.esp.cipmux(espat::mux_mode::multiple);
    REQUIRE(mux);
    const espat::cipserver_request create{.mode = espat::server_mode::create, .port = 0};
    auto server = co_await t.esp.cipserver.set(create);
    REQUIRE(server);
    auto running = co_await t.esp.cipservermaxconn(*espat::server_connections::checked(3));  // wrong state
    fails_with(running, module_error(execution_failed));
}
COMMAND_CASE(cipmode)
{
    auto r = co_await t.esp.cipmode.query();
    REQUIRE(r);
    CHECK(*r == espat::transfer_mode::normal);
    auto mux = co_await t.esp.cipmux(espat::mux_mode::multiple);
    REQUIRE(mux);
    auto refused = co_await t.esp.cipmode(espat::transfer_mode::passthrough);  // not with CIPMUX=1
    fails_with(refused, module_error(execution_failed));
}
COMMAND_CASE(savetranslink_tcp)
{
    const espat::savetranslink_tcp_request saved{.mode = espat::transfer_mode::normal, .host = "127.0.0.1",
                                                 .port = t.net.tcp_port()};
    auto r = co_await t.esp.savetranslink_tcp.set(saved);
    CHECK(r);
    // Failure: a host the command line cannot carry is refused before sending.
    const espat::savetranslink_tcp_request bad{.mode = espat::transfer_mode::normal, .host = "a\r\nb", .port = 1};
    const auto before = t.esp.stats().commands;
    auto refused = co_await t.esp.savetranslink_tcp.set(bad);
    fails_with(refused, espat::make_error_code(errc::invalid_argument));
    CHECK(t.esp.stats().commands == before);
}
COMMAND_CASE(savetranslink_ssl)
{
    const espat::savetranslink_ssl_request saved{.mode = espat::transfer_mode::normal, .host = "127.0.0.1",
                                                 .port = t.net.tcp_port(), .keep_alive = std::chrono::seconds(60)};
    auto r = co_await t.esp.savetranslink_ssl.set(saved);
    CHECK(r);
    const espat::savetranslink_ssl_request bad{.mode = espat::transfer_mode::normal, .host = "a\"b\r\n", .port = 1};
    auto refused = co_await t.esp.savetranslink_ssl.set(bad);
    fails_with(refused, espat::make_error_code(errc::invalid_argument));
}
COMMAND_CASE(savetranslink_udp)
{
    const espat::savetranslink_udp_request saved{.mode = espat::transfer_mode::normal, .host = "127.0.0.1",
                                                 .port = t.net.udp_port()};
    auto r = co_await t.esp.savetranslink_udp.set(saved);
    CHECK(r);
    const espat::savetranslink_udp_request bad{.mode = espat::transfer_mode::normal, .host = std::string(300, 'h'), .port = 1};
    auto refused = co_await t.esp.savetranslink_udp.set(bad);
    fails_with(refused, espat::make_error_code(errc::invalid_argument));
}
COMMAND_CASE(cipsto)
{
    auto r = co_await t.esp.cipsto.query();
    REQUIRE(r);
    CHECK(*r == 180s);
    auto set = co_await t.esp.cipsto(10s);
    CHECK(set);
    auto after = co_await t.esp.cipsto.query();
    REQUIRE(after);
    CHECK(*after == 10s);
}
COMMAND_CASE(cipsntpcfg)
{
    auto r = co_await t.esp.cipsntpcfg.query();
    REQUIRE(r);
    CHECK_FALSE(r->enabled);
    const espat::cipsntpcfg_request on{.enable = true, .timezone = espat::utc_offset{1}, .server1 = "time.example"};
    auto set = co_await t.esp.cipsntpcfg.set(on);
    CHECK(set);
    auto after = co_await t.esp.cipsntpcfg.query();
    REQUIRE(after);
    CHECK(after->enabled);
    CHECK(after->server1 == "time.example");
    auto cleared = co_await t.esp.cipsntpcfg.execute();
    CHECK(cleared);
}
COMMAND_CASE(cipsntptime)
{
    auto r = co_await t.esp.cipsntptime();
    REQUIRE(r);
    CHECK(r->time_since_epoch() < std::chrono::hours(24 * 366));  // not synchronised: 1970
    const espat::cipsntpcfg_request on{.enable = true, .timezone = espat::utc_offset{0}};
    auto set = co_await t.esp.cipsntpcfg.set(on);
    REQUIRE(set);
    auto synced = co_await t.esp.cipsntptime();
    REQUIRE(synced);
    CHECK(*synced > std::chrono::sys_days(std::chrono::year(2024) / 1 / 1));
}
COMMAND_CASE(ciupdate)
{
    auto quit = co_await t.esp.cwqap();
    REQUIRE(quit);
    auto offline = co_await t.esp.ciupdate.execute();  // wrong state: no network
    fails_with(offline, module_error(execution_failed));
    auto join = co_await t.esp.cwjap("espressif", "1234567890");
    REQUIRE(join);
    const espat::ciupdate_request latest{.mode = espat::ota_mode::tcp};
    auto r = co_await t.esp.ciupdate.set(latest);
    CHECK(r);
    co_await t.until_reset(1);  // the module reboots into the new firmware
    auto mode = co_await t.esp.cwmode.query();
    CHECK(mode);
}
COMMAND_CASE(cipdinfo)
{
    auto r = co_await t.esp.cipdinfo(true);
    CHECK(r);
}
COMMAND_CASE(cipreconnintv)
{
    auto r = co_await t.esp.cipreconnintv.query();
    REQUIRE(r);
    CHECK(r->count() == 1);  // the reference: "default is 1" (100 ms)
    auto set = co_await t.esp.cipreconnintv(espat::deciseconds{20});
    CHECK(set);
    auto after = co_await t.esp.cipreconnintv.query();
    REQUIRE(after);
    CHECK(after->count() == 20);
}
COMMAND_CASE(ciprecvmode)
{
    auto r = co_await t.esp.ciprecvmode.query();
    REQUIRE(r);
    CHECK(*r == espat::recv_mode::active);
    auto set = co_await t.esp.ciprecvmode(espat::recv_mode::passive);
    CHECK(set);
    auto after = co_await t.esp.ciprecvmode.query();
    REQUIRE(after);
    CHECK(*after == espat::recv_mode::passive);
}
COMMAND_CASE(ciprecvtype)
{
    const espat::ciprecvtype_request all{.mode = espat::recv_mode::passive};
    auto set = co_await t.esp.ciprecvtype.set(all);
    CHECK(set);
    auto r = co_await t.esp.ciprecvtype.query();
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    CHECK(r->front().mode == espat::recv_mode::passive);
    auto mux = co_await t.esp.cipmux(espat::mux_mode::multiple);
    REQUIRE(mux);
    const espat::ciprecvtype_request absent{.link = *espat::close_link_id::checked(3), .mode = espat::recv_mode::active};
    auto refused = co_await t.esp.ciprecvtype.set(absent);  // no link 3
    fails_with(refused, module_error(execution_failed));
}
// Passive receive on any firmware: AT+CIPRECVMODE before 3.3, AT+CIPRECVTYPE from it.
template <class Client>
awaitable<void> passive_link_with_data(ctx<Client>& t, std::string data)
{
    if (t.esp.firmware()->has_ciprecvtype) {
        const espat::ciprecvtype_request all{.mode = espat::recv_mode::passive};
        auto set = co_await t.esp.ciprecvtype.set(all);
        REQUIRE(set);
    } else {
        auto set = co_await t.esp.ciprecvmode(espat::recv_mode::passive);
        REQUIRE(set);
    }
    const espat::cipstart_tcp_request to{.host = "127.0.0.1", .port = t.net.tcp_port()};
    auto link = co_await t.esp.cipstart_tcp.set(to);
    REQUIRE(link);
    while (t.net.sockets.empty()) co_await t.sleep(2ms);
    co_await asio::async_write(*t.net.sockets.front(), asio::buffer(data), use_awaitable);
    while (t.module.buffered(0) < data.size()) co_await t.sleep(2ms);
}
COMMAND_CASE(ciprecvdata)
{
    auto none = co_await t.esp.async_recv_data(std::nullopt, 16);  // no link, no data
    fails_with(none, module_error(execution_failed));
    co_await passive_link_with_data(t, "passive data");
    auto r = co_await t.esp.async_recv_data(std::nullopt, 7);  // NONOS frames it differently: same bytes
    REQUIRE(r);
    CHECK(*r == "passive");
    auto rest = co_await t.esp.async_recv_data(std::nullopt, 100);
    REQUIRE(rest);
    CHECK(*rest == " data");
}
COMMAND_CASE(ciprecvlen)
{
    auto r = co_await t.esp.ciprecvlen();
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    // No link: nothing to report (empty), or 0 on NONOS 1.7.
    if (t.nonos()) CHECK(r->front() == 0u);
    else CHECK_FALSE(r->front());
    co_await passive_link_with_data(t, "12345");
    auto after = co_await t.esp.ciprecvlen();
    REQUIRE(after);
    CHECK(after->front() == 5u);
}
COMMAND_CASE(ciptcpopt)
{
    auto r = co_await t.esp.ciptcpopt.query();
    REQUIRE(r);
    CHECK(r->size() == 5);
    const espat::ciptcpopt_request nodelay{.no_delay = true};
    auto set = co_await t.esp.ciptcpopt.set(nodelay);
    CHECK(set);
    auto after = co_await t.esp.ciptcpopt.query();
    REQUIRE(after);
    CHECK(after->front().no_delay);
    auto mux = co_await t.esp.cipmux(espat::mux_mode::multiple);
    REQUIRE(mux);
    auto refused = co_await t.esp.ciptcpopt.set(nodelay);  // multiple links: the line must name one
    fails_with(refused, module_error(parse_failed));
}

// TLS client settings: single-link mode keeps one entry (link 0).
// `unnamed` is refused in multiple-link mode: the line names no link (and cannot be read as
// naming one), so it does not parse.
template <class Client, class C, class Request, class Check>
awaitable<void> ssl_setting(ctx<Client>& t, const Request& request, Check check, bool esp8266_only = false,
                            const Request* unnamed = nullptr)
{
    auto set = co_await t.esp.template async_set<C>(request);
    if (esp8266_only && t.esp32()) {  // "not currently supported on ESP32"
        fails_with(set, module_error(unsupported));
        co_return;
    }
    CHECK(set);
    auto r = co_await t.esp.template async_query<C>();
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    check(r->front());
    // Multiple links: a setting must name its link.
    auto mux = co_await t.esp.cipmux(espat::mux_mode::multiple);
    REQUIRE(mux);
    const Request without_link = unnamed ? *unnamed : request;
    auto refused = co_await t.esp.template async_set<C>(without_link);
    fails_with(refused, module_error(parse_failed));
}
COMMAND_CASE(cipsslcconf)
{
    const espat::cipsslcconf_request verify{.auth = espat::ssl_auth_mode::verify_server, .pki_number = 0, .ca_number = 0};
    // "2,0,0" would read as link 2 in multiple-link mode: the refused form has no numbers.
    const espat::cipsslcconf_request unnamed{.auth = espat::ssl_auth_mode::verify_server};
    co_await ssl_setting<Client, cmd::cipsslcconf>(
        t, verify, [](const espat::ssl_client_config& c) { CHECK(c.auth == espat::ssl_auth_mode::verify_server); },
        false, &unnamed);
}
COMMAND_CASE(cipsslccn)
{
    const espat::cipsslccn_request cn{.common_name = "server.test"};
    co_await ssl_setting<Client, cmd::cipsslccn>(t, cn, [](const espat::ssl_common_name& c) { CHECK(c.name == "server.test"); });
}
COMMAND_CASE(cipsslcsni)
{
    const espat::cipsslcsni_request sni{.server_name = "sni.test"};
    co_await ssl_setting<Client, cmd::cipsslcsni>(t, sni, [](const espat::ssl_server_name& c) { CHECK(c.name == "sni.test"); });
}
COMMAND_CASE(cipsslcalpn)
{
    const espat::cipsslcalpn_request alpn{.protocols = espat::alpn_list{"h2", "http/1.1"}};
    co_await ssl_setting<Client, cmd::cipsslcalpn>(t, alpn, [](const espat::ssl_alpn& c) {
        CHECK(c.protocols == std::vector<std::string>{"h2", "http/1.1"});
    });
}
COMMAND_CASE(cipsslcpsk)
{
    const espat::cipsslcpsk_request psk{.psk = "identity", .hint = "hint"};
    co_await ssl_setting<Client, cmd::cipsslcpsk>(t, psk, [](const espat::ssl_psk& c) { CHECK(c.psk == "identity"); }, true);
}
COMMAND_CASE(cipsslsize)
{
    const espat::cipsslsize_request size{*espat::bounded<std::uint16_t, 2048, 4096>::checked(4096)};
    auto r = co_await t.esp.cipsslsize.set(size);
    if (t.esp32()) fails_with(r, module_error(unsupported));  // an ESP8266 command
    else CHECK(r);
}

// MQTT and HTTP (issue 21): the simulator does not implement them yet, so a module whose
// version has them answers as a build without them would; one whose version predates them
// is refused by the client before anything is sent (expect_refused, with these requests).
template <class C>
struct table_request;
template <>
struct table_request<cmd::mqttusercfg> {
    static espat::mqttusercfg_request get()
    {
        return {.scheme = espat::mqtt_scheme::tcp, .client_id = "esp", .username = "user", .password = "secret", .path = ""};
    }
};
template <>
struct table_request<cmd::mqttlongclientid> {
    static espat::mqttlong_request get() { return {*espat::mqtt_long_length::checked(8)}; }
};
template <>
struct table_request<cmd::mqttlongusername> : table_request<cmd::mqttlongclientid> {};
template <>
struct table_request<cmd::mqttlongpassword> : table_request<cmd::mqttlongclientid> {};
template <>
struct table_request<cmd::mqttconncfg> {
    static espat::mqttconncfg_request get()
    {
        return {.keep_alive = std::chrono::seconds(60), .session = espat::mqtt_session::clean, .will_topic = "will",
                .will_message = "gone", .will_qos = espat::mqtt_qos::at_most_once, .will_retain = false};
    }
};
template <>
struct table_request<cmd::mqttconn> {
    static espat::mqttconn_request get() { return {.host = "127.0.0.1", .port = *espat::mqtt_port::checked(1883), .reconnect = false}; }
};
template <>
struct table_request<cmd::mqttpub> {
    static espat::mqttpub_request get()
    {
        return {.topic = "t", .data = "d", .qos = espat::mqtt_qos::at_most_once, .retain = false};
    }
};
template <>
struct table_request<cmd::mqttpubraw> {
    static espat::mqttpubraw_request get()
    {
        return {.topic = "t", .length = *espat::mqtt_publish_length::checked(4), .qos = espat::mqtt_qos::at_most_once,
                .retain = false};
    }
};
template <>
struct table_request<cmd::mqttsub> {
    static espat::mqttsub_request get() { return {.topic = "t", .qos = espat::mqtt_qos::at_least_once}; }
};
template <>
struct table_request<cmd::mqttunsub> {
    static espat::mqttunsub_request get() { return {.topic = "t"}; }
};
template <>
struct table_request<cmd::mqttclean> {
    static espat::mqttclean_request get() { return {}; }
};
template <>
struct table_request<cmd::httpclient> {
    static espat::httpclient_request get()
    {
        return {.method = espat::http_method::get, .content_type = espat::http_content_type::form_urlencoded,
                .url = "http://127.0.0.1/", .transport = espat::http_transport::tcp};
    }
};
template <>
struct table_request<cmd::httpclient_post> {
    static espat::httpclient_post_request get()
    {
        return {.content_type = espat::http_content_type::json, .url = "http://127.0.0.1/", .transport = espat::http_transport::tcp,
                .data = "{}"};
    }
};
template <>
struct table_request<cmd::httpgetsize> {
    static espat::httpgetsize_request get() { return {.url = "http://127.0.0.1/"}; }
};
template <>
struct table_request<cmd::httpcget> : table_request<cmd::httpgetsize> {};
template <>
struct table_request<cmd::httpcpost> {
    static espat::httpcpost_request get() { return {.url = "http://127.0.0.1/", .length = *espat::http_body_length::checked(2)}; }
};
template <>
struct table_request<cmd::httpcput> : table_request<cmd::httpcpost> {};
template <>
struct table_request<cmd::httpurlcfg> {
    static espat::httpurlcfg_request get() { return {*espat::http_url_length::checked(0)}; }
};
template <>
struct table_request<cmd::httpchead> {
    static espat::httpchead_request get() { return {*espat::http_header_length::checked(0)}; }
};

template <class C, class Client>
awaitable<void> not_simulated(ctx<Client>& t)
{
    if constexpr (cmd::has_query<C>) {
        auto q = co_await t.esp.template async_query<C>();
        fails_with(q, module_error(unsupported));
    }
    const auto request = table_request<C>::get();
    if constexpr (espat::detail::carries_data_v<C>) {
        // No typed operation sends its data yet: the raw one, with a payload for the prompt.
        auto r = co_await send_with<C>(t, request, "xy");
        CHECK(r.ec == module_error(unsupported));
    } else {
        auto r = co_await t.esp.template async_set<C>(request);
        fails_with(r, module_error(unsupported));
    }
}

// The MQTT commands on a module with no broker configured (sim_mqtt_test.cpp runs them against
// a real one): the configuration is accepted, everything else refused with the reference's
// code for the state the client is in.
constexpr std::uint32_t mqtt_error(std::uint32_t code) { return execution_failed | code; }

template <class C, class Client>
awaitable<void> mqtt_refused(ctx<Client>& t, std::uint32_t code)
{
    const auto request = table_request<C>::get();
    if constexpr (espat::detail::carries_data_v<C>) {
        auto r = co_await send_with<C>(t, request, "xy");  // refused before its prompt: the data is never sent
        CHECK(r.ec == module_error(mqtt_error(code)));
    } else {
        auto r = co_await t.esp.template async_set<C>(request);
        fails_with(r, module_error(mqtt_error(code)));
    }
}

COMMAND_CASE(mqttusercfg)
{
    const auto request = table_request<cmd::mqttusercfg>::get();
    auto r = co_await t.esp.template async_set<cmd::mqttusercfg>(request);
    CHECK(r);
}
COMMAND_CASE(mqttlongclientid) { co_await mqtt_refused<cmd::mqttlongclientid>(t, 0x6001); }  // not configured
COMMAND_CASE(mqttlongusername) { co_await mqtt_refused<cmd::mqttlongusername>(t, 0x6001); }
COMMAND_CASE(mqttlongpassword) { co_await mqtt_refused<cmd::mqttlongpassword>(t, 0x6001); }
COMMAND_CASE(mqttconncfg) { co_await mqtt_refused<cmd::mqttconncfg>(t, 0x6001); }
COMMAND_CASE(mqttconn)
{
    auto q = co_await t.esp.template async_query<cmd::mqttconn>();
    REQUIRE(q);
    CHECK(q->state == espat::mqtt_state::uninitialized);
    CHECK_FALSE(q->scheme.has_value());
    CHECK(q->host.empty());
    co_await mqtt_refused<cmd::mqttconn>(t, 0x6001);
}
COMMAND_CASE(mqttpub) { co_await mqtt_refused<cmd::mqttpub>(t, 0x6051); }  // not connected
COMMAND_CASE(mqttpubraw) { co_await mqtt_refused<cmd::mqttpubraw>(t, 0x6051); }
COMMAND_CASE(mqttsub)
{
    auto q = co_await t.esp.template async_query<cmd::mqttsub>();
    REQUIRE(q);
    REQUIRE(q->size() == 1);  // none: one line with an empty topic
    CHECK((*q)[0].topic.empty());
    CHECK((*q)[0].state == espat::mqtt_state::uninitialized);
    co_await mqtt_refused<cmd::mqttsub>(t, 0x6051);
}
COMMAND_CASE(mqttunsub) { co_await mqtt_refused<cmd::mqttunsub>(t, 0x6051); }
COMMAND_CASE(mqttclean) { co_await mqtt_refused<cmd::mqttclean>(t, 0x6003); }  // nothing to clean

#define NOT_SIMULATED(NAME) \
    COMMAND_CASE(NAME) { co_await not_simulated<cmd::NAME>(t); }
NOT_SIMULATED(httpclient)
NOT_SIMULATED(httpclient_post)
NOT_SIMULATED(httpgetsize)
NOT_SIMULATED(httpcget)
NOT_SIMULATED(httpcpost)
NOT_SIMULATED(httpcput)
NOT_SIMULATED(httpurlcfg)
NOT_SIMULATED(httpchead)
#undef NOT_SIMULATED

#undef COMMAND_CASE

// ---- the driver ----

template <class... C>
struct scenario_list {
    static constexpr bool complete = (scenario<C>::defined && ...);
};
static_assert(cmd::all_commands<scenario_list>::complete, "every command of the table has a scenario in this file");

// A request for the refusal of a version-limited command with a set form only.
template <class C>
struct refusal_request;
template <>
struct refusal_request<cmd::sysmsg_cur> {
    static espat::sysmsg_request get() { return {espat::system_messages::none}; }
};
template <>
struct refusal_request<cmd::sysmsg_def> : refusal_request<cmd::sysmsg_cur> {};
// The MQTT and HTTP commands with a set form only.
#define REFUSED_WITH_TABLE_REQUEST(NAME) \
    template <>                           \
    struct refusal_request<cmd::NAME> : table_request<cmd::NAME> {};
REFUSED_WITH_TABLE_REQUEST(mqttusercfg)
REFUSED_WITH_TABLE_REQUEST(mqttlongclientid)
REFUSED_WITH_TABLE_REQUEST(mqttlongusername)
REFUSED_WITH_TABLE_REQUEST(mqttlongpassword)
REFUSED_WITH_TABLE_REQUEST(mqttconncfg)
REFUSED_WITH_TABLE_REQUEST(mqttpub)
REFUSED_WITH_TABLE_REQUEST(mqttpubraw)
REFUSED_WITH_TABLE_REQUEST(mqttunsub)
REFUSED_WITH_TABLE_REQUEST(mqttclean)
REFUSED_WITH_TABLE_REQUEST(httpclient)
REFUSED_WITH_TABLE_REQUEST(httpclient_post)
REFUSED_WITH_TABLE_REQUEST(httpgetsize)
REFUSED_WITH_TABLE_REQUEST(httpcget)
REFUSED_WITH_TABLE_REQUEST(httpcpost)
REFUSED_WITH_TABLE_REQUEST(httpcput)
#undef REFUSED_WITH_TABLE_REQUEST

// A command outside the firmware's version range is refused before anything is sent.
template <class C, class Client>
awaitable<void> expect_refused(ctx<Client>& t)
{
    const auto before = t.esp.stats().commands;
    if constexpr (cmd::has_query<C>) {
        auto r = co_await t.esp.template async_query<C>();
        fails_with(r, espat::make_error_code(errc::not_supported));
    } else if constexpr (cmd::has_execute<C>) {
        auto r = co_await t.esp.template async_execute<C>();
        fails_with(r, espat::make_error_code(errc::not_supported));
    } else if constexpr (espat::detail::carries_data_v<C>) {
        // Its set form has no typed operation (the client refuses it at compile time); the raw
        // escape hatch does not check versions.
        MESSAGE("no typed set operation to refuse for ", scenario<C>::name);
    } else if constexpr (requires { refusal_request<C>::get(); }) {
        const auto request = refusal_request<C>::get();
        auto r = co_await t.esp.template async_set<C>(request);
        fails_with(r, espat::make_error_code(errc::not_supported));
    } else {
        FAIL("a version-limited command with a set form only: give its refusal a request (refusal_request)");
    }
    CHECK(t.esp.stats().commands == before);
}

template <class C>
constexpr bool versioned = requires { C::since; } || requires { C::until; };

template <class Client>
struct entry {
    std::string_view name;
    bool (*supported)(const Client&);
    awaitable<void> (*run)(ctx<Client>&);
};

template <class Client, class C>
entry<Client> entry_of()
{
    return {scenario<C>::name, [](const Client& esp) { return esp.template supports<C>(); },
            [](ctx<Client>& t) -> awaitable<void> {
                if (t.esp.template supports<C>()) co_await scenario<C>::run(t);
                else if constexpr (versioned<C>) co_await expect_refused<C>(t);
                else FAIL("refused with no version range");
            }};
}

template <class Client>
struct all_entries {
    template <class... C>
    struct of {
        static std::vector<entry<Client>> get() { return {entry_of<Client, C>()...}; }
    };
};

// A started client over a pipe to a simulated module with `fw`, and the peers.
struct pipe_rig {
    using client_type = espat::basic_client<espat::sim::pipe_end>;
    explicit pipe_rig(espat::sim::module_options mo)
        : module(io.get_executor(), std::move(mo)), ends(espat::sim::make_pipe(io.get_executor())),
          esp(std::move(ends.first), fast_options()), net(io)
    {
        asio::co_spawn(io, module.serve(ends.second), asio::detached);
    }
    asio::io_context io;
    espat::sim::module module;
    std::pair<espat::sim::pipe_end, espat::sim::pipe_end> ends;
    client_type esp;
    peers net;
};

// The same over a pseudo-terminal: the module serves the master, the client opens the slave
// as a serial port.
struct pty_rig {
    using client_type = espat::basic_client<asio::serial_port>;
    explicit pty_rig(espat::sim::module_options mo)
        : module(io.get_executor(), std::move(mo)), pty(espat::sim::open_pty(io.get_executor())),
          esp(asio::serial_port(io, pty.slave_path), fast_options()), net(io)
    {
        asio::co_spawn(io, module.serve(pty.master), asio::detached);
    }
    asio::io_context io;
    espat::sim::module module;
    espat::sim::pty pty;
    client_type esp;
    peers net;
};

// Runs one scenario on a fresh module; says whether the client took the command as supported.
template <class Rig>
bool run_scenario(const espat::sim::personality& fw, const entry<typename Rig::client_type>& e)
{
    espat::sim::module_options mo;
    mo.firmware = fw;
    mo.reset_delay = 20ms;
    Rig rig(mo);
    bool finished = false;
    bool supported = true;
    std::exception_ptr failure;
    asio::co_spawn(
        rig.esp.get_executor(),
        [&]() -> awaitable<void> {
            auto started = co_await rig.esp.async_start();
            REQUIRE(started);
            ctx<typename Rig::client_type> t{rig.esp, rig.module, rig.io, rig.net, fw};
            supported = e.supported(rig.esp);
            co_await e.run(t);
        },
        [&](std::exception_ptr ex) {
            failure = ex;
            finished = true;
            rig.io.stop();
        });
    rig.io.run_for(10s);
    if (failure) std::rethrow_exception(failure);
    REQUIRE_MESSAGE(finished, "the scenario did not finish before its deadline");
    return supported;
}

}  // namespace

TEST_CASE("client against the simulator: every command of the table, success and failure, ESP-AT 2.x, 4.x and NONOS")
{
    using client_type = pipe_rig::client_type;
    const auto entries = cmd::all_commands<all_entries<client_type>::template of>::get();
    for (const auto& fw : {espat::sim::esp_at_2(), espat::sim::esp_at_4(), espat::sim::nonos()}) {
        std::vector<std::string_view> refused;
        for (const auto& e : entries) {
            CAPTURE(fw.name);
            CAPTURE(e.name);
            if (!run_scenario<pipe_rig>(fw, e)) refused.push_back(e.name);
        }
        CAPTURE(fw.name);
        // NONOS 1.7 predates AT+SYSSTORE and AT+CWSTATE; before 4.1 there is no AT+CIPSTATE,
        // before 3.3 no AT+CIPRECVTYPE; 4.1 dropped AT+CIPSTATUS and AT+CIPRECVMODE; ESP-AT
        // 2.0 dropped AT 1.x's _CUR/_DEF pairs (AT+UART_DEF stayed).
        const std::vector<std::string_view> at1_pairs{
            "sysmsg_cur",    "sysmsg_def",    "cwmode_cur",   "cwmode_def",   "cwjap_cur",    "cwjap_def",
            "cwdhcp_cur",    "cwdhcp_def",    "cipsta_cur",   "cipsta_def",   "cipstamac_cur", "cipstamac_def",
            "cwsap_cur",     "cwsap_def",     "cipap_cur",    "cipap_def",    "cipapmac_cur", "cipapmac_def",
            "cipdns_cur",    "cipdns_def"};
        auto with_pairs = [&](std::vector<std::string_view> v) {
            v.insert(v.end(), at1_pairs.begin(), at1_pairs.end());
            std::sort(v.begin(), v.end());
            return v;
        };
        std::sort(refused.begin(), refused.end());
        // MQTT and HTTP: none on NONOS; ESP-AT 2.2 predates AT+MQTTLONG* (2.2.2), AT+HTTPCGET
        // and AT+HTTPURLCFG (2.3), AT+HTTPCPUT (3.0) and AT+HTTPCHEAD (3.1).
        if (fw.name == "nonos") {
            std::vector<std::string_view> expected{"sysstore", "cwstate", "cipstate", "ciprecvtype", "mqttusercfg",
                                                   "mqttlongclientid", "mqttlongusername", "mqttlongpassword",
                                                   "mqttconncfg", "mqttconn", "mqttpub", "mqttpubraw", "mqttsub",
                                                   "mqttunsub", "mqttclean", "httpclient", "httpclient_post",
                                                   "httpgetsize", "httpcget", "httpcpost", "httpcput", "httpurlcfg",
                                                   "httpchead"};
            std::sort(expected.begin(), expected.end());
            CHECK(refused == expected);
        } else if (fw.name == "esp-at-2") {
            CHECK(refused == with_pairs({"cipstate", "ciprecvtype", "mqttlongclientid", "mqttlongusername",
                                         "mqttlongpassword", "httpcget", "httpurlcfg", "httpcput", "httpchead"}));
        } else {
            CHECK(refused == with_pairs({"cipstatus", "ciprecvmode"}));
        }
    }
}

TEST_CASE("client against the simulator over a pseudo-terminal (asio::serial_port): a representative subset")
{
    using client_type = pty_rig::client_type;
    const std::vector<entry<client_type>> subset{
        entry_of<client_type, cmd::gmr>(),         entry_of<client_type, cmd::cwjap>(),
        entry_of<client_type, cmd::cipsta>(),      entry_of<client_type, cmd::cipdomain>(),
        entry_of<client_type, cmd::cipstart_tcp>(), entry_of<client_type, cmd::cipsend>(),
        entry_of<client_type, cmd::ciprecvdata>(), entry_of<client_type, cmd::ping>(),
        entry_of<client_type, cmd::rst>(),         entry_of<client_type, cmd::cwstate>(),
    };
    for (const auto& fw : {espat::sim::esp_at_2(), espat::sim::nonos()}) {
        for (const auto& e : subset) {
            CAPTURE(fw.name);
            CAPTURE(e.name);
            run_scenario<pty_rig>(fw, e);
        }
    }
}
