// Every multi-command operation with each of its steps failed in each way a module fails a
// command (issue 22), after Boost.MySQL's check_network_errors: the operation is run once to
// count its command lines, then again and again against a fresh simulated module, the nth line
// failed each time (sim::module::fail_command: ERROR, an ERR CODE, busy until the client gives
// up, no answer, a reset). Each run checks that the operation reports that failure (or
// recovered from it by itself), that the module's modes are as they were before (queried),
// that the client still answers, and that the operation then succeeds.
#include "net_rig.hpp"

#include <asio/co_spawn.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using asio::awaitable;
using espat::errc;
using espat::sim::planned_failure;
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

awaitable<modes> read_modes(client_type& esp, const espat::sim::module& module)
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
    auto status = co_await esp.cipstatus();
    REQUIRE(status);
    m.links = status->links.size();
    co_return m;
}

// What an operation keeps open once it succeeded, until its undo.
struct held {
    std::optional<network_type::link> link;
    std::optional<network_type::server> server;
    std::optional<network_type::passthrough> passthrough;
};

struct context {
    client_type& esp;
    network_type& net;
    espat::sim::module& module;
    std::uint16_t tcp_port;
    std::uint16_t tls_port;
    held kept;
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
};

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
                   [](context& c) -> awaitable<std::error_code> { co_return error_of(co_await c.net.start()); }, nothing,
                   false});
    ops.push_back({"connect with TCP options and keep-alive", nothing,
                   [](context& c) -> awaitable<std::error_code> {
                       net::connect_options o;
                       o.timeout = 500ms;
                       o.keep_alive = std::chrono::seconds(30);
                       o.tcp.no_delay = true;
                       o.tcp.linger = std::chrono::seconds(1);
                       auto link = co_await c.net.connect("127.0.0.1", c.tcp_port, o);
                       if (link) c.kept.link.emplace(std::move(*link));
                       co_return error_of(link);
                   },
                   close_link});
    ops.push_back({"connect_ssl with SNI and ALPN", nothing,
                   [](context& c) -> awaitable<std::error_code> {
                       net::connect_options o;
                       o.timeout = 2s;
                       o.tls.server_name = "one.example";
                       o.tls.alpn = {"h2"};
                       auto link = co_await c.net.connect_ssl("127.0.0.1", c.tls_port, o);
                       if (link) c.kept.link.emplace(std::move(*link));
                       co_return error_of(link);
                   },
                   close_link,
                   true, true});
    ops.push_back({"listen with a connection limit and an idle timeout", nothing,
                   [](context& c) -> awaitable<std::error_code> {
                       net::server_options o;
                       o.max_connections = *espat::server_connections::checked(2);
                       o.idle_timeout = std::chrono::seconds(60);
                       auto server = co_await c.net.listen(0, o);
                       if (server) c.kept.server.emplace(std::move(*server));
                       co_return error_of(server);
                   },
                   [](context& c) -> awaitable<void> {
                       auto closed = co_await c.kept.server->close();
                       CHECK(closed);
                       c.kept.server.reset();
                   }});
    ops.push_back({"open_passthrough", nothing,
                   [](context& c) -> awaitable<std::error_code> {
                       auto p = co_await c.net.open_passthrough("127.0.0.1", c.tcp_port, 500ms);
                       if (p) c.kept.passthrough.emplace(std::move(*p));
                       co_return error_of(p);
                   },
                   [](context& c) -> awaitable<void> {
                       auto closed = co_await c.net.close_passthrough();
                       CHECK(closed);
                       c.kept.passthrough.reset();
                   }});
    ops.push_back({"close_passthrough",
                   [](context& c) -> awaitable<void> {
                       auto p = co_await c.net.open_passthrough("127.0.0.1", c.tcp_port, 500ms);
                       REQUIRE(p);
                       c.kept.passthrough.emplace(std::move(*p));
                   },
                   [](context& c) -> awaitable<std::error_code> {
                       auto closed = co_await c.net.close_passthrough();
                       c.kept.passthrough.reset();
                       co_return error_of(closed);
                   },
                   nothing, false});
    ops.push_back({"client start-up", nothing,
                   [](context& c) -> awaitable<std::error_code> { co_return error_of(co_await c.esp.start()); },
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

// Runs `op` once on a fresh module with step `step` failed `how` (none: no step, to count them);
// returns the number of command lines the operation sent.
std::size_t run_case(const operation& op, std::optional<std::size_t> step, planned_failure how)
{
    espat::sim::module_options mo;
    mo.reset_delay = std::chrono::milliseconds(20);
    rig r(mo, quick_client());
    tcp_peer peer(r.io, echo_session);
    std::optional<tls_peer> secure;  // made only where needed: its certificates take time
    if (op.needs_tls_peer) secure.emplace(r.io);
    net::network_options no;
    no.link_timeout = 500ms;
    std::size_t sent = 0;
    r.run(
        [&](client_type& esp, network_type& net) -> awaitable<void> {
            context c{esp, net, r.module, peer.port(), secure ? secure->port() : std::uint16_t{0}, {}};
            const modes before = co_await read_modes(esp, r.module);
            co_await op.setup(c);
            const std::size_t mark = r.module.commands_seen();
            if (step) r.module.fail_command(*step, how);
            const std::error_code ec = co_await op.run(c);
            sent = r.module.commands_seen() - mark;
            if (!step) {
                REQUIRE_MESSAGE(!ec, op.name << ": " << ec.message());
                co_return co_await op.undo(c);
            }
            if (!ec) {
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
                co_await esp.wait_start_up();
                REQUIRE(co_await net.start());
                if (op.name == "close_passthrough") co_return;  // nothing left to close
            } else if (op.restores && ec) {
                const modes after = co_await read_modes(esp, r.module);
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
                auto again = co_await net.close_passthrough();
                CHECK(again);
                const modes after = co_await read_modes(esp, r.module);
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

}  // namespace

TEST_CASE("each step of each multi-command operation failed in each way: reported, modes restored, then it succeeds")
{
    // ESPAT_STEP_OPERATION=<name>: that operation alone (to debug one).
    const char* only = std::getenv("ESPAT_STEP_OPERATION");
    // The runs wait on timers (the failures' timeouts, guard times) and use little CPU: the
    // operations go on threads of their own, each run with its own io_context and module.
    std::vector<std::thread> threads;
    std::atomic<int> aborted{0};  // runs a REQUIRE ended (doctest has recorded why)
    for (const operation& op : operations()) {
        if (only && *only && op.name != only) continue;
        threads.emplace_back([op, &aborted] {
            try {
                INFO(op.name);
                const std::size_t steps = run_case(op, std::nullopt, planned_failure::error);
                REQUIRE(steps > 0);
                MESSAGE(op.name << ": " << steps << " command lines");
                for (std::size_t step = 0; step < steps; ++step) {
                    for (const planned_failure how : every_way) {
                        INFO(op.name << ", step " << step << " failed " << name_of(how));
                        try {
                            run_case(op, step, how);
                        } catch (const doctest::detail::TestFailureException&) {
                            ++aborted;
                        }
                    }
                }
            } catch (const doctest::detail::TestFailureException&) {
                ++aborted;
            }
        });
    }
    for (auto& t : threads) t.join();
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
        auto p = co_await net.open_passthrough("127.0.0.1", peer.port(), 500ms);
        REQUIRE_FALSE(p);
        CHECK(p.error() == errc::undo_failed);
        auto mode = co_await esp.cipmode.query();
        REQUIRE(mode);
        CHECK(*mode == espat::transfer_mode::passthrough);
        // The next operation settles the modes first, then succeeds.
        auto link = co_await net.connect("127.0.0.1", peer.port());
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
