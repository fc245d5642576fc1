// Every multi-command operation with each of its steps failed in each way a module fails a
// command (issue 22), after Boost.MySQL's check_network_errors: the operation is run once to
// count its command lines, then again and again against a fresh simulated module, the nth line
// failed each time (sim::module::fail_command: ERROR, an ERR CODE, busy until the client gives
// up, no answer, a reset, and for operations with a link the link closing). Each run checks
// that the operation reports that failure (or recovered from it by itself), that the module's
// modes are as they were before (queried), that the client still answers, and that the
// operation then succeeds.
#include "fake_module.hpp"  // run_with_deadline
#include "net_rig.hpp"
#include "pty_device.hpp"

#include <asio/co_spawn.hpp>
#include <asio/ip/udp.hpp>
#include <asio/serial_port.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using asio::awaitable;
using espat::errc;
using espat::sim::planned_failure;
using espat::test::as_tuple;
using espat::test::echo_session;
using espat::test::rig;
using espat::test::tcp_peer;
using espat::test::tls_peer;
using client_type = espat::test::pipe_client;
using network_type = espat::test::pipe_network;
namespace net = espat::net;

namespace {

constexpr planned_failure every_way[] = {planned_failure::error, planned_failure::err_code, planned_failure::busy,
                                         planned_failure::silence, planned_failure::reset};

std::string name_of(planned_failure w)
{
    switch (w) {
    case planned_failure::error: return "ERROR";
    case planned_failure::err_code: return "ERR CODE";
    case planned_failure::busy: return "busy";
    case planned_failure::silence: return "silence";
    case planned_failure::reset: return "reset";
    case planned_failure::link_closed: return "link closed";
    }
    return "?";
}

// What a step failed that way must come back as.
std::error_code failure_of(planned_failure w)
{
    switch (w) {
    case planned_failure::error: return espat::make_error_code(errc::command_failed);
    case planned_failure::err_code: return espat::make_module_error(0x01090000);
    case planned_failure::busy: return espat::make_error_code(errc::busy);
    case planned_failure::silence: return espat::make_error_code(errc::timeout);
    case planned_failure::reset: return espat::make_error_code(errc::device_reset);
    case planned_failure::link_closed: return espat::make_error_code(errc::link_closed);
    }
    return {};
}

// The module's modes an operation may change, read with queries (and the simulator's server).
struct modes {
    espat::mux_mode mux{};
    espat::transfer_mode transfer{};
    std::chrono::seconds idle{};
    std::uint8_t max_connections = 0;
    bool server = false;
    std::size_t links = 0;
    friend bool operator==(const modes&, const modes&) = default;
    friend std::ostream& operator<<(std::ostream& os, const modes& m)
    {
        return os << "mux " << static_cast<int>(m.mux) << ", mode " << static_cast<int>(m.transfer) << ", sto "
                  << m.idle.count() << ", maxconn " << int(m.max_connections) << ", server " << m.server << ", links "
                  << m.links;
    }
};

awaitable<modes> read_modes(client_type& esp, network_type& net, const espat::sim::module& module)
{
    modes m;
    auto mux = co_await esp.cipmux.query();
    REQUIRE(mux);
    m.mux = *mux;
    auto transfer = co_await esp.cipmode.query();
    REQUIRE(transfer);
    m.transfer = *transfer;
    if (m.mux == espat::mux_mode::multiple) {  // AT+CIPSTO? and the server's limit need it
        auto idle = co_await esp.cipsto.query();
        REQUIRE(idle);
        m.idle = *idle;
    }
    auto max = co_await esp.cipservermaxconn.query();
    REQUIRE(max);
    m.max_connections = *max;
    m.server = module.server_port().has_value();
    auto links = co_await net.module_links();  // AT+CIPSTATUS, or AT+CIPSTATE? on 4.x
    REQUIRE(links);
    m.links = links->size();
    co_return m;
}

// What an operation keeps open once it succeeded, until its undo.
struct held {
    std::optional<network_type::link> link;
    std::optional<network_type::udp_link> udp;
    std::optional<network_type::server> server;
    std::optional<network_type::passthrough> passthrough;
};

struct context {
    client_type& esp;
    network_type& net;
    espat::sim::module& module;
    std::uint16_t tcp_port;
    std::uint16_t tls_port;
    std::uint16_t udp_port;
    held kept;
};

// What an operation does when the module ends its link under it (planned_failure::link_closed:
// "<id>,CLOSED", as when the peer hangs up, right after a step's answer). Before the step that
// opens the link (AT+CIPSTART) answered there is no link and nothing happens: it succeeds. After:
enum class when_link_closes {
    not_tried,  // the operation has no link
    // The link was opened, so the operation succeeds, as a socket's connect does when its peer
    // hangs up at once; the end is the link's own news: its reader gets what came before, then
    // eof (a UDP link's receive: errc::link_closed). Steps still to run meet no link on the
    // module; their refusal is not the operation's failure.
    link_reports,
    // open_passthrough: a link that ends before AT+CIPSEND entered passthrough cannot be used:
    // errc::link_closed (not the ERROR of an AT+CIPSEND with no link), the modes undone as for
    // any failed step. Once in passthrough the module reconnects by itself, unseen: success.
    fails_until_entered,
    succeeds,  // close_passthrough: the link's end is what it is for
};

// One operation: its setup (not counted), itself (its error, {} on success), and its undo.
struct operation {
    std::string name;
    std::function<awaitable<void>(context&)> setup;
    std::function<awaitable<std::error_code>(context&)> run;
    std::function<awaitable<void>(context&)> undo;
    // A failed run leaves the module's modes as they were before it (not so for the network's
    // start(), which is run again: see the README's reliability section).
    bool restores = true;
    bool needs_tls_peer = false;
    std::optional<espat::sim::personality> firmware{};  // the module's, if not ESP-AT 2.x
    when_link_closes on_link_close = when_link_closes::not_tried;
    // How many of its last steps run with its link on the module: AT+CIPSTART's and after.
    std::size_t steps_with_link = 0;
};

// The link of `op` ended right after the answer to step `step` of its `steps`: what `op` must
// report (see when_link_closes), and whether its link must then report the end.
struct link_close_outcome {
    std::error_code reported;
    bool link_reports_end = false;
};
link_close_outcome expected_when_link_closes(const operation& op, std::size_t step, std::size_t steps)
{
    const bool link_open = step + std::min(steps, op.steps_with_link) >= steps;
    if (!link_open) return {};
    switch (op.on_link_close) {
    case when_link_closes::link_reports: return {{}, true};
    case when_link_closes::fails_until_entered:
        if (step + 1 < steps) return {espat::make_error_code(errc::link_closed)};
        return {};
    case when_link_closes::not_tried:
    case when_link_closes::succeeds: return {};
    }
    return {};
}

// After a link_closed at the last step: the link reports the close.
awaitable<void> check_link_reports_close(context& c)
{
    if (c.kept.link) {
        char byte = 0;
        auto [ec, n] = co_await c.kept.link->async_read_some(asio::buffer(&byte, 1), as_tuple);
        CHECK(ec == asio::error::eof);
        CHECK(n == 0);
    }
    if (c.kept.udp) {
        char byte = 0;
        auto [ec, n] = co_await c.kept.udp->async_receive(asio::buffer(&byte, 1), as_tuple);
        CHECK(ec == espat::make_error_code(errc::link_closed));
        CHECK(n == 0);
    }
}

template <class T>
std::error_code error_of(const tl::expected<T, std::error_code>& r)
{
    return r ? std::error_code{} : r.error();
}

std::vector<operation> operations()
{
    std::vector<operation> ops;
    const auto nothing = [](context&) -> awaitable<void> { co_return; };
    const auto close_link = [](context& c) -> awaitable<void> {
        auto [closed] = co_await c.kept.link->async_close(espat::test::as_tuple);
        CHECK_FALSE(closed);
        c.kept.link.reset();
    };
    ops.push_back({"network start", nothing,
                   [](context& c) -> awaitable<std::error_code> { co_return error_of(co_await c.net.async_start()); }, nothing,
                   false});
    const auto connect_with_options = [](context& c) -> awaitable<std::error_code> {
        net::connect_options o;
        o.timeout = 500ms;
        o.keep_alive = std::chrono::seconds(30);
        o.tcp.no_delay = true;
        o.tcp.linger = std::chrono::seconds(1);
        auto link = co_await c.net.async_connect("127.0.0.1", c.tcp_port, o);
        if (link) c.kept.link.emplace(std::move(*link));
        co_return error_of(link);
    };
    ops.push_back({"connect with TCP options and keep-alive", nothing, connect_with_options, close_link});
    ops.back().on_link_close = when_link_closes::link_reports;
    ops.back().steps_with_link = 1;
    // AT+CIPRECVTYPE after the AT+CIPSTART: a step with the link open.
    ops.push_back({"connect with TCP options, ESP-AT 4.x", nothing, connect_with_options, close_link});
    ops.back().firmware = espat::sim::esp_at_4();
    ops.back().on_link_close = when_link_closes::link_reports;
    ops.back().steps_with_link = 2;
    ops.push_back({"connect_ssl with SNI and ALPN", nothing,
                   [](context& c) -> awaitable<std::error_code> {
                       net::connect_options o;
                       o.timeout = 2s;
                       o.tls.server_name = "one.example";
                       o.tls.alpn = {"h2"};
                       auto link = co_await c.net.async_connect_ssl("127.0.0.1", c.tls_port, o);
                       if (link) c.kept.link.emplace(std::move(*link));
                       co_return error_of(link);
                   },
                   close_link,
                   true, true});
    ops.back().on_link_close = when_link_closes::link_reports;
    ops.back().steps_with_link = 1;
    // ESP-AT 4.x: AT+CIPSTART, then AT+CIPRECVTYPE (UDP is received in active mode).
    ops.push_back({"open_udp, ESP-AT 4.x", nothing,
                   [](context& c) -> awaitable<std::error_code> {
                       auto udp = co_await c.net.async_open_udp("127.0.0.1", c.udp_port);
                       if (udp) c.kept.udp.emplace(std::move(*udp));
                       co_return error_of(udp);
                   },
                   [](context& c) -> awaitable<void> {
                       // A UDP link has no awaitable close: dropped, it is closed in the
                       // background; the undo ends when the module lists it no more.
                       c.kept.udp.reset();
                       asio::steady_timer t(co_await asio::this_coro::executor);
                       for (int i = 0; i < 200; ++i) {
                           auto links = co_await c.net.module_links();
                           REQUIRE(links);
                           if (links->empty()) co_return;
                           t.expires_after(5ms);
                           co_await t.async_wait(asio::use_awaitable);
                       }
                       FAIL("the UDP link is still open on the module");
                   }});
    ops.back().firmware = espat::sim::esp_at_4();
    ops.back().on_link_close = when_link_closes::link_reports;
    ops.back().steps_with_link = 2;
    ops.push_back({"listen with a connection limit and an idle timeout", nothing,
                   [](context& c) -> awaitable<std::error_code> {
                       net::server_options o;
                       o.max_connections = *espat::server_connections::checked(2);
                       o.idle_timeout = std::chrono::seconds(60);
                       auto server = co_await c.net.async_listen(0, o);
                       if (server) c.kept.server.emplace(std::move(*server));
                       co_return error_of(server);
                   },
                   [](context& c) -> awaitable<void> {
                       auto closed = co_await c.kept.server->async_close();
                       CHECK(closed);
                       c.kept.server.reset();
                   }});
    ops.push_back({"open_passthrough", nothing,
                   [](context& c) -> awaitable<std::error_code> {
                       auto p = co_await c.net.async_open_passthrough("127.0.0.1", c.tcp_port, 500ms);
                       if (p) c.kept.passthrough.emplace(std::move(*p));
                       co_return error_of(p);
                   },
                   [](context& c) -> awaitable<void> {
                       auto closed = co_await c.net.async_close_passthrough();
                       CHECK(closed);
                       c.kept.passthrough.reset();
                   }});
    ops.back().on_link_close = when_link_closes::fails_until_entered;
    ops.back().steps_with_link = 2;  // AT+CIPSTART, AT+CIPSEND
    ops.push_back({"close_passthrough",
                   [](context& c) -> awaitable<void> {
                       auto p = co_await c.net.async_open_passthrough("127.0.0.1", c.tcp_port, 500ms);
                       REQUIRE(p);
                       c.kept.passthrough.emplace(std::move(*p));
                   },
                   [](context& c) -> awaitable<std::error_code> {
                       auto closed = co_await c.net.async_close_passthrough();
                       c.kept.passthrough.reset();
                       co_return error_of(closed);
                   },
                   nothing, false});
    ops.back().on_link_close = when_link_closes::succeeds;
    ops.back().steps_with_link = std::numeric_limits<std::size_t>::max();  // from its setup on
    ops.push_back({"client start-up", nothing,
                   [](context& c) -> awaitable<std::error_code> { co_return error_of(co_await c.esp.async_start()); },
                   nothing, false});
    return ops;
}

espat::client_options quick_client()
{
    espat::client_options o;
    o.start_probe_timeout = 300ms;
    o.start_attempts = 4;
    o.session.probe_timeout = 300ms;
    o.session.backoff_initial = 5ms;
    o.session.backoff_max = 20ms;
    o.session.guard_after = 100ms;  // leaving passthrough: the simulator needs no second
    return o;
}

// Runs `op` once on a fresh module with step `step` of its `steps` failed `how` (none: no
// step, to count them); returns the number of command lines the operation sent.
std::size_t run_case(const operation& op, std::optional<std::size_t> step, planned_failure how, std::size_t steps = 0)
{
    espat::sim::module_options mo;
    mo.reset_delay = std::chrono::milliseconds(20);
    if (op.firmware) mo.firmware = *op.firmware;
    rig r(mo, quick_client());
    tcp_peer peer(r.io, echo_session);
    asio::ip::udp::socket udp_peer(r.io, {asio::ip::address_v4::loopback(), 0});  // open_udp's remote
    std::optional<tls_peer> secure;  // made only where needed: its certificates take time
    if (op.needs_tls_peer) secure.emplace(r.io);
    net::network_options no;
    no.link_timeout = 500ms;
    std::size_t sent = 0;
    r.run(
        [&](client_type& esp, network_type& net) -> awaitable<void> {
            context c{esp, net, r.module, peer.port(), secure ? secure->port() : std::uint16_t{0},
                      udp_peer.local_endpoint().port(), {}};
            const modes before = co_await read_modes(esp, net, r.module);
            co_await op.setup(c);
            const std::size_t mark = r.module.commands_seen();
            if (step) r.module.fail_command(*step, how);
            const std::error_code ec = co_await op.run(c);
            sent = r.module.commands_seen() - mark;
            if (!step) {
                REQUIRE_MESSAGE(!ec, op.name << ": " << ec.message());
                co_return co_await op.undo(c);
            }
            if (how == planned_failure::link_closed) {
                const link_close_outcome expected = expected_when_link_closes(op, *step, steps);
                CHECK_MESSAGE(ec == expected.reported, "reported: " << ec.message() << ", expected: " << expected.reported.message());
                if (!ec && expected.link_reports_end) co_await check_link_reports_close(c);
                if (!ec) co_await op.undo(c);
            } else if (!ec) {
                // It recovered by itself (a probe answered ERROR is probed again, say).
                MESSAGE(op.name << ": step " << *step << " failed " << name_of(how) << ": recovered");
                co_await op.undo(c);
            } else {
                // The step's failure; the harness fails one line, so undoing always works.
                CHECK_MESSAGE(ec == failure_of(how), ec.message());
            }
            if (how == planned_failure::reset) {
                // The module is back to its defaults; the client restarted itself, and the
                // network is started again as after any reset.
                co_await esp.async_wait_start_up();
                REQUIRE(co_await net.async_start());
                if (op.name == "close_passthrough") co_return;  // nothing left to close
            } else if (op.restores) {  // after a success, its undo ran
                const modes after = co_await read_modes(esp, net, r.module);
                CHECK(after == before);
            }
            if (how == planned_failure::busy) {  // the module is busy for 250 ms
                asio::steady_timer t(co_await asio::this_coro::executor, 300ms);
                co_await t.async_wait(asio::use_awaitable);
            }
            auto alive = co_await esp.at();
            CHECK(alive);
            // The same operation again, on the module as the failure left it.
            if (op.name == "close_passthrough" && ec) {
                // Closing again after a failed close must finish the job.
                auto again = co_await net.async_close_passthrough();
                CHECK(again);
                const modes after = co_await read_modes(esp, net, r.module);
                CHECK(after.mux == espat::mux_mode::multiple);
                CHECK(after.transfer == espat::transfer_mode::normal);
                co_return;
            }
            if (op.name == "close_passthrough") co_return;
            if (op.name != "network start") co_await op.setup(c);
            const std::error_code again = co_await op.run(c);
            CHECK_MESSAGE(!again, "the operation again: " << again.message());
            if (!again) co_await op.undo(c);
        },
        30s, no);
    return sent;
}

// Runs body(i) for each i below n, each on a thread of its own; returns what the bodies return
// (the runs a REQUIRE ended) plus the bodies a REQUIRE ended (doctest has recorded why).
template <class Body>
int on_threads(std::size_t n, Body body)
{
    std::atomic<int> aborted{0};
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            try {
                aborted += body(i);
            } catch (const doctest::detail::TestFailureException&) {
                ++aborted;
            }
        });
    }
    for (auto& t : threads) t.join();
    return aborted;
}

// Runs run(step, how) for each step and way, a thread per step: the runs wait on timers (the
// failures' timeouts, guard times) and use little CPU, each with its own io_context and module.
// Returns the runs a REQUIRE ended (doctest has recorded why).
template <class Run>
int run_steps(const std::string& name, std::size_t steps, const std::vector<planned_failure>& ways, Run run)
{
    return on_threads(steps, [&](std::size_t step) {
        int aborted = 0;
        for (const planned_failure how : ways) {
            INFO(name << ", step " << step << " failed " << name_of(how));
            try {
                run(step, how);
            } catch (const doctest::detail::TestFailureException&) {
                ++aborted;
            }
        }
        return aborted;
    });
}

}  // namespace

TEST_CASE("each step of each multi-command operation failed in each way: reported, modes restored, then it succeeds")
{
    // ESPAT_STEP_OPERATION=<name>: that operation alone (to debug one).
    const char* only = std::getenv("ESPAT_STEP_OPERATION");
    std::vector<operation> selected;
    for (const operation& op : operations())
        if (!only || !*only || op.name == only) selected.push_back(op);
    const int aborted = on_threads(selected.size(), [&](std::size_t i) {
        const operation& op = selected[i];
        INFO(op.name);
        const std::size_t steps = run_case(op, std::nullopt, planned_failure::error);
        REQUIRE(steps > 0);
        MESSAGE(op.name << ": " << steps << " command lines");
        std::vector<planned_failure> ways(std::begin(every_way), std::end(every_way));
        if (op.on_link_close != when_link_closes::not_tried) ways.push_back(planned_failure::link_closed);
        return run_steps(op.name, steps, ways, [&](std::size_t step, planned_failure how) { run_case(op, step, how, steps); });
    });
    CHECK(aborted == 0);
}

TEST_CASE("an undo that fails too: errc::undo_failed, and the next operation sets the modes again first")
{
    espat::sim::module_options mo;
    rig r(mo, quick_client());
    tcp_peer peer(r.io, echo_session);
    r.run([&](client_type& esp, network_type& net) -> awaitable<void> {
        // open_passthrough: AT+CIPMUX=0, AT+CIPMODE=1, AT+CIPSTART fails, and so does the
        // undo's AT+CIPMODE=0: AT+CIPMUX=1 is then refused and the module stays in passthrough
        // mode with one link allowed.
        r.module.fail_command(2, planned_failure::error);
        r.module.fail_command(3, planned_failure::error);
        auto p = co_await net.async_open_passthrough("127.0.0.1", peer.port(), 500ms);
        REQUIRE_FALSE(p);
        CHECK(p.error() == errc::undo_failed);
        auto mode = co_await esp.cipmode.query();
        REQUIRE(mode);
        CHECK(*mode == espat::transfer_mode::passthrough);
        // The next operation settles the modes first, then succeeds.
        auto link = co_await net.async_connect("127.0.0.1", peer.port());
        REQUIRE(link);
        auto mux = co_await esp.cipmux.query();
        REQUIRE(mux);
        CHECK(*mux == espat::mux_mode::multiple);
        mode = co_await esp.cipmode.query();
        REQUIRE(mode);
        CHECK(*mode == espat::transfer_mode::normal);
        auto [closed] = co_await link->async_close(espat::test::as_tuple);
        CHECK_FALSE(closed);
    });
}

namespace {

// Start-up's switch of the serial line (client_options::baud_rate, rts_cts) with each of its
// command lines failed in each way, over a pseudo-terminal: the client on asio::serial_port at
// the slave, the module on the master hearing the host only at its own UART settings
// (module_options::host_line), so that a port and a module that disagree cannot talk.
struct line_case {
    std::string name;
    std::optional<std::uint32_t> baud_rate;
    bool rts_cts = false;
};

espat::client_options line_client(const line_case& lc)
{
    espat::client_options o;
    o.session.probe_timeout = 100ms;
    o.session.quiet = 10ms;
    o.session.backoff_initial = 5ms;
    o.session.backoff_max = 20ms;
    o.start_probe_timeout = 100ms;
    o.baud_rate = lc.baud_rate;
    o.rts_cts = lc.rts_cts;
    return o;
}

// The port's rate and flow control against the module's UART.
void check_line_agrees(espat::client& esp, const espat::sim::module& module)
{
    asio::serial_port_base::baud_rate rate;
    asio::serial_port_base::flow_control flow;
    esp.stream().get_option(rate);
    esp.stream().get_option(flow);
    const espat::uart_config uart = module.uart();
    CHECK(rate.value() == uart.baud_rate);
    CHECK((flow.value() == asio::serial_port_base::flow_control::hardware) ==
          (uart.flow_control == espat::uart_flow_control::rts_cts));
}

// Start-up sends AT, ATE1, AT+GMR, AT+SYSLOG=1, then AT+UART_CUR=<rate>,8,1,0,<flow control>.
constexpr std::size_t uart_cur_step = 4;

// One start-up on a fresh module with step `step` failed `how` (none: to count the steps);
// returns the number of command lines it sent.
std::size_t run_line_case(const line_case& lc, std::optional<std::size_t> step, planned_failure how)
{
    espat::sim::module_options mo;
    mo.reset_delay = 20ms;
    espat::test::pty_device device(mo, true);
    espat::client esp(device.open_port(), line_client(lc));
    const espat::line_settings wanted{lc.baud_rate.value_or(115200), lc.rts_cts, espat::flow_control_refusal::none};
    std::size_t sent = 0;
    espat::test::run_with_deadline(
        device.io,
        [&]() -> awaitable<void> {
            const std::size_t mark = device.module.commands_seen();
            if (step) device.module.fail_command(*step, how);
            auto fw = co_await esp.async_start();
            sent = device.module.commands_seen() - mark;
            if (!step) {
                REQUIRE_MESSAGE(fw, fw.error().message());
                REQUIRE(fw->line);
                CHECK(*fw->line == wanted);
                check_line_agrees(esp, device.module);
                co_return;
            }
            // The step's failure, or none (recovered: a probe answered ERROR is probed again,
            // a reset heard starts start-up over). But a reset once the module has switched to
            // another rate is unheard: its "ready" comes at the default rate, which the port no
            // longer has; the check after the switch times out, and both ends go back.
            const bool reset_unheard = how == planned_failure::reset && *step > uart_cur_step &&
                                       lc.baud_rate.value_or(115200) != 115200;
            if (reset_unheard) {
                REQUIRE_FALSE(fw);
                CHECK(fw.error() == errc::timeout);
            } else if (fw) {
                MESSAGE(lc.name << ": step " << *step << " failed " << name_of(how) << ": recovered");
                REQUIRE(fw->line);
                CHECK(fw->line->baud_rate == wanted.baud_rate);
                // Flow control may be given up only for a failure of its own command or check
                // (an ERROR to flow control 3 is the module's refusal); a reset heard is no
                // refusal: start-up starts over and sets both again.
                if (how == planned_failure::reset || !lc.rts_cts) CHECK(*fw->line == wanted);
                else if (fw->line->refused != espat::flow_control_refusal::none) CHECK(*step >= uart_cur_step);
            } else {
                CHECK_MESSAGE(fw.error() == failure_of(how), fw.error().message());
            }
            if (how == planned_failure::reset) co_await esp.async_wait_start_up();  // a restart it saw
            if (how == planned_failure::busy) {  // the module is busy for 250 ms
                asio::steady_timer t(co_await asio::this_coro::executor, 300ms);
                co_await t.async_wait(asio::use_awaitable);
            }
            // Both ends of the line agree, so the client talks to the module.
            check_line_agrees(esp, device.module);
            auto alive = co_await esp.at();
            CHECK_MESSAGE(alive, alive.error().message());
            // A second start-up switches the line as asked.
            auto again = co_await esp.async_start();
            REQUIRE_MESSAGE(again, "the second start-up: " << again.error().message());
            REQUIRE(again->line);
            CHECK(again->line->baud_rate == wanted.baud_rate);
            CHECK(again->line->rts_cts == wanted.rts_cts);
            check_line_agrees(esp, device.module);
            auto still = co_await esp.at();
            CHECK(still);
        },
        15s);
    return sent;
}

}  // namespace

TEST_CASE("each step of start-up's baud-rate and RTS/CTS switch failed in each way: reported, both ends agree, then it succeeds")
{
    const line_case cases[] = {{"baud rate", 921600, false}, {"baud rate and RTS/CTS", 921600, true},
                               {"RTS/CTS alone", std::nullopt, true}};
    const int aborted = on_threads(std::size(cases), [&](std::size_t i) {
        const line_case& lc = cases[i];
        INFO(lc.name);
        const std::size_t steps = run_line_case(lc, std::nullopt, planned_failure::error);
        REQUIRE(steps > 0);
        MESSAGE(lc.name << ": " << steps << " command lines");
        const std::vector<planned_failure> ways(std::begin(every_way), std::end(every_way));
        return run_steps(lc.name, steps, ways, [&](std::size_t step, planned_failure how) { run_line_case(lc, step, how); });
    });
    CHECK(aborted == 0);
}
