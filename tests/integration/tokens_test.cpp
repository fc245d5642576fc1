// tokens_test.cpp — every asynchronous operation of the library with every kind of completion
// token: the default (co_await yields an expected), use_awaitable (an error throws), a plain
// callback, use_future, deferred (nothing happens until it is launched), as_tuple,
// redirect_error and as_expected around a callback, each checked to complete error first with
// the same error and value as the default token gives.
#include "net_rig.hpp"

#include <espat/as_expected.hpp>
#include <espat/tasks.hpp>

#include <asio/experimental/deferred.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_future.hpp>

#include <future>
#include <ostream>
#include <type_traits>

using namespace espat::test;
using namespace std::chrono_literals;
using espat::errc;

namespace {

enum class token_kind { default_token, use_awaitable, callback, use_future, deferred, as_tuple, redirect_error, as_expected };
constexpr token_kind all_kinds[] = {token_kind::default_token, token_kind::use_awaitable, token_kind::callback,
                                    token_kind::use_future,    token_kind::deferred,      token_kind::as_tuple,
                                    token_kind::redirect_error, token_kind::as_expected};

const char* name(token_kind k)
{
    switch (k) {
    case token_kind::default_token: return "default (use_expected)";
    case token_kind::use_awaitable: return "use_awaitable";
    case token_kind::callback: return "callback";
    case token_kind::use_future: return "use_future";
    case token_kind::deferred: return "deferred";
    case token_kind::as_tuple: return "as_tuple";
    case token_kind::redirect_error: return "redirect_error";
    case token_kind::as_expected: return "as_expected(callback)";
    }
    return "?";
}

// The value of an operation that completes with void(std::error_code) alone.
struct no_value {};

// What one completion carried: the error and the value (default-constructed after an error).
template <class T>
struct outcome {
    std::error_code ec;
    T value{};
    bool completed = false;
};

template <class T>
using expected_of = tl::expected<std::conditional_t<std::is_same_v<T, no_value>, void, T>, std::error_code>;

template <class T>
outcome<T> from_expected(expected_of<T>&& r)
{
    outcome<T> o;
    o.completed = true;
    if (!r) o.ec = r.error();
    else if constexpr (!std::is_same_v<T, no_value>) o.value = std::move(*r);
    return o;
}

template <class T, class Tuple>
outcome<T> from_tuple(Tuple&& t)
{
    outcome<T> o;
    o.completed = true;
    o.ec = std::get<0>(t);
    if constexpr (!std::is_same_v<T, no_value>) o.value = std::move(std::get<1>(t));
    return o;
}

awaitable<void> pause(std::chrono::milliseconds d)
{
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

// op(token) with one kind of token, its completion as an outcome. `activity` counts what the
// module has seen: a deferred operation must not have started before it is launched.
template <class T, class Op, class Activity>
awaitable<outcome<T>> complete_with(token_kind kind, Op& op, Activity& activity)
{
    constexpr bool no_val = std::is_same_v<T, no_value>;
    outcome<T> out;
    switch (kind) {
    case token_kind::default_token: {
        auto r = co_await op(espat::use_expected);
        static_assert(std::is_same_v<decltype(r), expected_of<T>>);
        out = from_expected<T>(std::move(r));
        break;
    }
    case token_kind::use_awaitable: {
        try {
            if constexpr (no_val) co_await op(asio::use_awaitable);
            else out.value = co_await op(asio::use_awaitable);
        } catch (const std::system_error& e) {
            out.ec = e.code();
        }
        out.completed = true;
        break;
    }
    case token_kind::callback: {
        std::optional<outcome<T>> got;
        if constexpr (no_val) {
            op([&got](std::error_code ec) { got = outcome<T>{ec, {}, true}; });
        } else {
            op([&got](std::error_code ec, T v) { got = outcome<T>{ec, std::move(v), true}; });
        }
        const auto arrived = [&got] { return got.has_value(); };
        REQUIRE(co_await eventually(arrived));
        out = std::move(*got);
        break;
    }
    case token_kind::use_future: {
        auto f = op(asio::use_future);
        const auto ready = [&f] { return f.wait_for(0s) == std::future_status::ready; };
        REQUIRE(co_await eventually(ready));
        try {
            if constexpr (no_val) f.get();
            else out.value = f.get();
        } catch (const std::system_error& e) {
            out.ec = e.code();
        }
        out.completed = true;
        break;
    }
    case token_kind::deferred: {
        const std::size_t before = activity();
        auto deferred = op(asio::experimental::deferred);
        co_await pause(20ms);
        CHECK_MESSAGE(activity() == before, "a deferred operation ran before it was launched");
        out = from_tuple<T>(co_await std::move(deferred)(asio::experimental::as_tuple(asio::use_awaitable)));
        break;
    }
    case token_kind::as_tuple: {
        out = from_tuple<T>(co_await op(asio::experimental::as_tuple(asio::use_awaitable)));
        break;
    }
    case token_kind::redirect_error: {
        std::error_code ec = make_error_code(errc::protocol_error);  // must be overwritten, success or not
        if constexpr (no_val) co_await op(asio::redirect_error(asio::use_awaitable, ec));
        else out.value = co_await op(asio::redirect_error(asio::use_awaitable, ec));
        out.ec = ec;
        out.completed = true;
        break;
    }
    case token_kind::as_expected: {
        std::optional<outcome<T>> got;
        op(espat::as_expected([&got](expected_of<T> r) { got = from_expected<T>(std::move(r)); }));
        const auto arrived = [&got] { return got.has_value(); };
        REQUIRE(co_await eventually(arrived));
        out = std::move(*got);
        break;
    }
    }
    co_return out;
}

// Runs op with every kind of token; `check(outcome)` asserts what each must have given, then
// `after(outcome)` undoes what a success made (closes a link, say).
template <class T, class Op, class Activity, class Check, class After>
awaitable<void> with_every_token(const char* what, Op op, Activity activity, Check check, After after)
{
    for (const token_kind kind : all_kinds) {
        INFO(std::string(what) << " with " << std::string(name(kind)));
        auto o = co_await complete_with<T>(kind, op, activity);
        CHECK(o.completed);
        check(o);
        co_await after(o);
    }
}

template <class T>
awaitable<void> nothing_after(outcome<T>&)
{
    co_return;
}

template <class T>
auto fails_with(std::error_code expected)
{
    return [expected](const outcome<T>& o) { CHECK(o.ec == expected); };
}

template <class T>
auto fails()
{
    return [](const outcome<T>& o) { CHECK(o.ec); };
}

template <class T>
auto succeeds()
{
    return [](const outcome<T>& o) { CHECK_FALSE(o.ec); };
}

}  // namespace

TEST_CASE("tokens: the client's operations complete error first with every token")
{
    rig r;
    r.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        auto seen = [&r] { return r.module.commands_seen(); };

        // The default token is use_expected: co_await yields an expected.
        static_assert(std::is_same_v<pipe_client::default_token, espat::use_expected_t>);

        co_await with_every_token<espat::wifi_mode>(
            "AT+CWMODE?", [&](auto token) { return esp.async_query<espat::commands::cwmode>({}, std::move(token)); }, seen,
            [](const outcome<espat::wifi_mode>& o) {
                CHECK_FALSE(o.ec);
                CHECK(o.value == espat::wifi_mode::station);
            },
            nothing_after<espat::wifi_mode>);

        co_await with_every_token<no_value>(
            "AT (a command with no value: void(error_code))",
            [&](auto token) { return esp.async_execute<espat::commands::at>({}, std::move(token)); }, seen,
            succeeds<no_value>(), nothing_after<no_value>);

        const espat::cwmode_request ap{espat::wifi_mode{9}};
        co_await with_every_token<no_value>(
            "AT+CWMODE=9 (refused: no such mode)",
            [&](auto token) { return esp.async_set<espat::commands::cwmode>(ap, {}, std::move(token)); }, seen,
            fails<no_value>(), nothing_after<no_value>);

        co_await with_every_token<espat::proto::command_result>(
            "the raw AT+NOSUCH (ERROR: the error and the whole result)",
            [&](auto token) { return esp.async_send_command("AT+NOSUCH", 1000ms, std::move(token)); }, seen,
            [](const outcome<espat::proto::command_result>& o) {
                // The module's ERR CODE, or command_failed from firmware that prints none.
                CHECK((o.ec.category() == espat::module_category() || o.ec == errc::command_failed));
            },
            nothing_after<espat::proto::command_result>);

        co_await with_every_token<std::size_t>(
            "AT+CIPSEND with no data (refused before sending)",
            [&](auto token) { return esp.async_send_data(espat::link_id{2}, "", {}, std::move(token)); }, seen,
            fails_with<std::size_t>(make_error_code(errc::invalid_argument)), nothing_after<std::size_t>);

        co_await with_every_token<std::string>(
            "AT+CIPRECVDATA on a link that is not open",
            [&](auto token) { return esp.async_recv_data(espat::link_id{4}, 16, {}, std::move(token)); }, seen,
            fails<std::string>(), nothing_after<std::string>);

        co_await with_every_token<no_value>(
            "AT+CIPSEND for passthrough in normal transfer mode",
            [&](auto token) { return esp.async_enter_passthrough({}, std::move(token)); }, seen, fails<no_value>(),
            nothing_after<no_value>);

        co_await with_every_token<espat::firmware_profile>(
            "start-up again", [&](auto token) { return esp.async_start(std::move(token)); }, seen,
            [](const outcome<espat::firmware_profile>& o) {
                CHECK_FALSE(o.ec);
                CHECK(o.value.max_send_length > 0);
            },
            nothing_after<espat::firmware_profile>);

        co_await with_every_token<no_value>(
            "waiting for a start-up when none runs", [&](auto token) { return esp.async_wait_start_up(std::move(token)); },
            seen, succeeds<no_value>(), nothing_after<no_value>);

        // Each wait finds the events of a join queued (WIFI CONNECTED, WIFI GOT IP).
        auto join = [&]() -> awaitable<void> {
            auto joined = co_await esp.cwjap("espressif", "1234567890");
            REQUIRE(joined);
        };
        auto got_event = [](const outcome<espat::wifi_event>& o) {
            CHECK_FALSE(o.ec);
            CHECK((o.value.kind == espat::wifi_event_kind::connected || o.value.kind == espat::wifi_event_kind::got_ip ||
                   o.value.kind == espat::wifi_event_kind::disconnected));
        };
        co_await join();
        auto next_event = [&](auto token) { return esp.async_next_wifi_event(std::move(token)); };
        auto no_activity = [] { return std::size_t{0}; };  // the wait sends nothing either way
        co_await with_every_token<espat::wifi_event>(
            "the next Wi-Fi event", next_event, no_activity, got_event,
            [&](outcome<espat::wifi_event>&) -> awaitable<void> { co_await join(); });
    });
}

TEST_CASE("tokens: the Wi-Fi tasks complete error first with every token")
{
    rig r;
    r.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        auto seen = [&r] { return r.module.commands_seen(); };
        auto joined_ok = [](const outcome<espat::station_addresses>& o) {
            CHECK_FALSE(o.ec);
            CHECK((o.value.ip && !o.value.ip->is_unspecified()));
        };
        co_await with_every_token<espat::station_addresses>(
            "join", [&](auto token) { return espat::async_join(esp, "espressif", "1234567890", {}, std::move(token)); },
            seen, joined_ok, nothing_after<espat::station_addresses>);
        co_await with_every_token<espat::station_addresses>(
            "join with a wrong password",
            [&](auto token) { return espat::async_join(esp, "espressif", "wrong-password", {}, std::move(token)); }, seen,
            fails_with<espat::station_addresses>(make_error_code(errc::wrong_password)),
            [&](outcome<espat::station_addresses>&) -> awaitable<void> {
                auto rejoined = co_await espat::async_join(esp, "espressif", "1234567890");
                REQUIRE(rejoined);
            });
        co_await with_every_token<espat::station_addresses>(
            "the station's address", [&](auto token) { return espat::async_station_address(esp, std::move(token)); },
            seen, joined_ok, nothing_after<espat::station_addresses>);
        co_await with_every_token<std::vector<espat::access_point>>(
            "scan", [&](auto token) { return espat::async_scan(esp, std::move(token)); }, seen,
            [](const outcome<std::vector<espat::access_point>>& o) {
                CHECK_FALSE(o.ec);
                REQUIRE(o.value.size() == 1);
                CHECK(o.value[0].ssid == "espressif");
            },
            nothing_after<std::vector<espat::access_point>>);
        co_await with_every_token<espat::softap_addresses>(
            "an access point",
            [&](auto token) { return espat::async_start_access_point(esp, "espat", "12345678", {}, std::move(token)); },
            seen, succeeds<espat::softap_addresses>(), nothing_after<espat::softap_addresses>);
        co_await with_every_token<no_value>(
            "leave", [&](auto token) { return espat::async_leave(esp, std::move(token)); }, seen, succeeds<no_value>(),
            nothing_after<no_value>);
    });
}

TEST_CASE("tokens: the network's operations complete error first with every token")
{
    rig r;
    tcp_peer peer(r.io, echo_session);
    // A port nothing listens on: bound and closed again.
    asio::ip::tcp::acceptor closed(r.io, {asio::ip::address_v4::loopback(), 0});
    const std::uint16_t closed_port = closed.local_endpoint().port();
    closed.close();

    r.run(
        [&](pipe_client&, pipe_network& net) -> awaitable<void> {
            auto seen = [&r] { return r.module.commands_seen(); };
            using link = pipe_network::link;

            co_await with_every_token<no_value>(
                "the network's start-up", [&](auto token) { return net.async_start(std::move(token)); }, seen,
                succeeds<no_value>(), nothing_after<no_value>);

            auto close_link = [](outcome<link>& o) -> awaitable<void> {
                if (!o.value.is_open()) co_return;
                auto [ec] = co_await o.value.async_close(as_tuple);
                CHECK_FALSE(ec);
            };
            co_await with_every_token<link>(
                "connect",
                [&](auto token) { return net.async_connect("127.0.0.1", peer.port(), {}, std::move(token)); }, seen,
                [](const outcome<link>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value.is_open());
                },
                close_link);

            co_await with_every_token<link>(
                "connect to a closed port",
                [&](auto token) { return net.async_connect("127.0.0.1", closed_port, {}, std::move(token)); }, seen,
                [](const outcome<link>& o) {
                    CHECK(o.ec);
                    CHECK_FALSE(o.value.is_open());
                },
                close_link);

            co_await with_every_token<link>(
                "connect_ssl to a server that does not speak TLS",
                [&](auto token) { return net.async_connect_ssl("127.0.0.1", peer.port(), {}, std::move(token)); }, seen,
                fails<link>(), close_link);

            // ESP-AT 2.x: one receive mode for all links, passive for streams by default.
            co_await with_every_token<pipe_network::udp_link>(
                "UDP while streams receive passively on 2.x",
                [&](auto token) { return net.async_open_udp("127.0.0.1", peer.port(), {}, std::move(token)); }, seen,
                fails_with<pipe_network::udp_link>(make_error_code(errc::receive_mode_conflict)),
                nothing_after<pipe_network::udp_link>);

            using server = pipe_network::server;
            auto close_server = [](outcome<server>& o) -> awaitable<void> {
                if (!o.value.is_open()) co_return;
                auto closed = co_await o.value.async_close();
                CHECK(closed);
            };
            co_await with_every_token<server>(
                "listen", [&](auto token) { return net.async_listen(8080, {}, std::move(token)); }, seen,
                [](const outcome<server>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value.is_open());
                },
                close_server);

            auto listening = co_await net.async_listen(8080);
            REQUIRE(listening);
            const auto port = r.module.server_port();
            REQUIRE(port);
            std::vector<std::unique_ptr<asio::ip::tcp::socket>> clients;
            auto connect_one = [&]() -> awaitable<void> {
                clients.push_back(std::make_unique<asio::ip::tcp::socket>(r.io));
                co_await clients.back()->async_connect({asio::ip::address_v4::loopback(), *port}, asio::use_awaitable);
            };
            co_await connect_one();
            auto no_activity = [] { return std::size_t{0}; };
            co_await with_every_token<link>(
                "accept", [&](auto token) { return listening->async_accept(std::move(token)); }, no_activity,
                [](const outcome<link>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value.is_open());
                },
                [&](outcome<link>& o) -> awaitable<void> {
                    co_await close_link(o);
                    co_await connect_one();
                });
            // The last round's connection, taken so that none waits when the server closes.
            auto last = co_await listening->async_accept();
            REQUIRE(last);
            co_await with_every_token<no_value>(
                "a server's close",
                [&](auto token) { return listening->async_close(false, std::move(token)); }, seen, succeeds<no_value>(),
                nothing_after<no_value>);
            co_await with_every_token<link>(
                "accept on a closed server", [&](auto token) { return listening->async_accept(std::move(token)); },
                no_activity, fails_with<link>(make_error_code(errc::link_closed)), nothing_after<link>);
        },
        std::chrono::seconds(60));
}

TEST_CASE("tokens: passthrough opens and closes with every token")
{
    rig r;
    tcp_peer peer(r.io, echo_session);
    r.run(
        [&](pipe_client&, pipe_network& net) -> awaitable<void> {
            auto seen = [&r] { return r.module.commands_seen(); };
            using passthrough = pipe_network::passthrough;
            co_await with_every_token<passthrough>(
                "open passthrough",
                [&](auto token) { return net.async_open_passthrough("127.0.0.1", peer.port(), {}, std::move(token)); },
                seen,
                [](const outcome<passthrough>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value.is_open());
                },
                [&](outcome<passthrough>& o) -> awaitable<void> {
                    if (!o.value.is_open()) co_return;
                    auto closed = co_await net.async_close_passthrough();
                    CHECK(closed);
                });

            // A server keeps the module out of single-link mode: opening fails, nothing changes.
            auto listening = co_await net.async_listen(8080);
            REQUIRE(listening);
            co_await with_every_token<passthrough>(
                "open passthrough while a server runs",
                [&](auto token) { return net.async_open_passthrough("127.0.0.1", peer.port(), {}, std::move(token)); },
                seen, fails<passthrough>(), nothing_after<passthrough>);
            auto stopped = co_await listening->async_close();
            REQUIRE(stopped);

            auto opened = co_await net.async_open_passthrough("127.0.0.1", peer.port());
            REQUIRE(opened);
            // Closing is one operation; its tokens are checked on fresh opens.
            co_await with_every_token<no_value>(
                "close passthrough", [&](auto token) { return net.async_close_passthrough(std::move(token)); }, seen,
                succeeds<no_value>(), [&](outcome<no_value>&) -> awaitable<void> {
                    opened = co_await net.async_open_passthrough("127.0.0.1", peer.port());
                    REQUIRE(opened);
                });
            auto closed = co_await net.async_close_passthrough();
            CHECK(closed);
        },
        std::chrono::seconds(90));
}

// An echo peer that counts what it received: a deferred write must not have sent anything.
struct counting_echo {
    std::size_t received = 0;
    awaitable<void> operator()(asio::ip::tcp::socket s)
    {
        char buf[4096];
        for (;;) {
            auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), as_tuple);
            if (ec) co_return;
            received += n;
            auto [wec, wn] = co_await asio::async_write(s, asio::buffer(buf, n), as_tuple);
            if (wec || wn != n) co_return;
        }
    }
};

TEST_CASE("tokens: a link's reads, writes and close with every token")
{
    rig r;
    counting_echo echo;
    tcp_peer peer(r.io, [&echo](asio::ip::tcp::socket s) { return echo(std::move(s)); });
    r.run([&](pipe_client&, pipe_network& net) -> awaitable<void> {
        auto seen = [&r] { return r.module.commands_seen(); };
        auto peer_received = [&echo] { return echo.received; };
        auto opened = co_await net.async_connect("127.0.0.1", peer.port());
        REQUIRE(opened);
        auto& l = *opened;
        const std::string message = "ping\r\nOK\r\n";
        std::array<char, 64> buf{};
        co_await with_every_token<std::size_t>(
            "a link's write",
            [&](auto token) { return l.async_write_some(asio::buffer(message), std::move(token)); }, peer_received,
            [&](const outcome<std::size_t>& o) {
                CHECK_FALSE(o.ec);
                CHECK(o.value == message.size());
            },
            [&](outcome<std::size_t>&) -> awaitable<void> {
                // The echo, read whole, before the next write.
                std::string echoed;
                while (echoed.size() < message.size()) {
                    auto [ec, n] = co_await l.async_read_some(asio::buffer(buf), as_tuple);
                    REQUIRE_FALSE(ec);
                    echoed.append(buf.data(), n);
                }
                CHECK(echoed == message);
            });
        // One byte on its way before each read: the peer echoes it.
        auto [wec, wn] = co_await asio::async_write(l, asio::buffer("x", 1), as_tuple);
        REQUIRE_FALSE(wec);
        REQUIRE(wn == 1);
        std::string read;
        co_await with_every_token<std::size_t>(
            "a link's read", [&](auto token) { return l.async_read_some(asio::buffer(buf), std::move(token)); },
            [] { return std::size_t{0}; },  // the peer's echo may be fetched at any time
            [&](const outcome<std::size_t>& o) {
                CHECK_FALSE(o.ec);
                CHECK(o.value > 0);
            },
            [&](outcome<std::size_t>& o) -> awaitable<void> {
                read.append(buf.data(), o.value);
                auto [ec, n] = co_await asio::async_write(l, asio::buffer("x", 1), as_tuple);
                CHECK_FALSE(ec);
                CHECK(n == 1);
            });
        CHECK(read.size() >= 8);
        CHECK(read.find_first_not_of('x') == std::string::npos);

        // The close: every kind closes a fresh link.
        co_await with_every_token<no_value>(
            "a link's close", [&](auto token) { return l.async_close(std::move(token)); }, seen, succeeds<no_value>(),
            [&](outcome<no_value>&) -> awaitable<void> {
                CHECK_FALSE(l.is_open());
                auto again = co_await net.async_connect("127.0.0.1", peer.port());
                REQUIRE(again);
                l = std::move(*again);
            });
    });
}

// A UDP echo on 127.0.0.1 that counts the datagrams it received.
struct udp_echo {
    explicit udp_echo(asio::io_context& io) : socket(io, {asio::ip::address_v4::loopback(), 0})
    {
        asio::co_spawn(io, serve(), asio::detached);
    }
    awaitable<void> serve()
    {
        std::array<char, 2048> buf;
        asio::ip::udp::endpoint from;
        for (;;) {
            auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buf), from, as_tuple);
            if (ec) co_return;
            ++received;
            co_await socket.async_send_to(asio::buffer(buf.data(), n), from, as_tuple);
        }
    }
    std::uint16_t port() const { return socket.local_endpoint().port(); }
    asio::ip::udp::socket socket;
    std::size_t received = 0;
};

TEST_CASE("tokens: a UDP link's sends and receives with every token")
{
    rig r;
    udp_echo echo(r.io);
    espat::net::network_options no;
    no.stream_receive = espat::net::receive_mode::active;  // one mode for all links on 2.x: UDP needs active
    r.run(
        [&](pipe_client&, pipe_network& net) -> awaitable<void> {
            auto opened = co_await net.async_open_udp("127.0.0.1", echo.port());
            REQUIRE(opened);
            auto& u = *opened;
            const std::string datagram = "one datagram, \r\nOK\r\n inside";
            std::array<char, 256> buf{};
            auto peer_received = [&echo] { return echo.received; };
            co_await with_every_token<std::size_t>(
                "a UDP link's send", [&](auto token) { return u.async_send(asio::buffer(datagram), std::move(token)); },
                peer_received,
                [&](const outcome<std::size_t>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value == datagram.size());
                },
                [&](outcome<std::size_t>&) -> awaitable<void> {
                    auto [ec, n] = co_await u.async_receive(asio::buffer(buf), as_tuple);
                    REQUIRE_FALSE(ec);
                    CHECK(std::string(buf.data(), n) == datagram);
                });

            // One datagram on its way before each receive.
            auto send_one = [&]() -> awaitable<void> {
                auto [ec, n] = co_await u.async_send(asio::buffer("x", 1), as_tuple);
                REQUIRE_FALSE(ec);
                REQUIRE(n == 1);
            };
            co_await send_one();
            co_await with_every_token<std::size_t>(
                "a UDP link's receive", [&](auto token) { return u.async_receive(asio::buffer(buf), std::move(token)); },
                [] { return std::size_t{0}; },  // a receive sends nothing
                [&](const outcome<std::size_t>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value == 1);
                    CHECK(buf[0] == 'x');
                },
                [&](outcome<std::size_t>&) -> awaitable<void> { co_await send_one(); });

            // The close: every kind closes a fresh link.
            auto seen = [&r] { return r.module.commands_seen(); };
            co_await with_every_token<no_value>(
                "a UDP link's close", [&](auto token) { return u.async_close(std::move(token)); }, seen,
                succeeds<no_value>(), [&](outcome<no_value>&) -> awaitable<void> {
                    CHECK_FALSE(u.is_open());
                    auto again = co_await net.async_open_udp("127.0.0.1", echo.port());
                    REQUIRE(again);
                    u = std::move(*again);
                });
        },
        std::chrono::seconds(30), no);
}

TEST_CASE("tokens: passthrough's reads and writes with every token")
{
    rig r;
    counting_echo echo;
    tcp_peer peer(r.io, [&echo](asio::ip::tcp::socket s) { return echo(std::move(s)); });
    r.run(
        [&](pipe_client& esp_, pipe_network& net) -> awaitable<void> {
            auto opened = co_await net.async_open_passthrough("127.0.0.1", peer.port());
            REQUIRE(opened);
            auto& p = *opened;
            const std::string bytes = "raw bytes\r\nOK\r\n";
            std::array<char, 64> buf{};
            auto peer_received = [&echo] { return echo.received; };
            co_await with_every_token<std::size_t>(
                "passthrough's write", [&](auto token) { return p.async_write_some(asio::buffer(bytes), std::move(token)); },
                peer_received,
                [&](const outcome<std::size_t>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value == bytes.size());
                },
                [&](outcome<std::size_t>&) -> awaitable<void> {
                    std::string echoed;
                    while (echoed.size() < bytes.size()) {
                        auto [ec, n] = co_await p.async_read_some(asio::buffer(buf), as_tuple);
                        REQUIRE_FALSE(ec);
                        echoed.append(buf.data(), n);
                    }
                    CHECK(echoed == bytes);
                });

            auto write_one = [&]() -> awaitable<void> {
                auto [ec, n] = co_await asio::async_write(p, asio::buffer("y", 1), as_tuple);
                REQUIRE_FALSE(ec);
                REQUIRE(n == 1);
            };
            co_await write_one();
            std::string read;
            co_await with_every_token<std::size_t>(
                "passthrough's read", [&](auto token) { return p.async_read_some(asio::buffer(buf), std::move(token)); },
                [] { return std::size_t{0}; },  // a read sends nothing
                [&](const outcome<std::size_t>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value > 0);
                },
                [&](outcome<std::size_t>& o) -> awaitable<void> {
                    read.append(buf.data(), o.value);
                    co_await write_one();
                });
            CHECK(read.size() >= 8);
            CHECK(read.find_first_not_of('y') == std::string::npos);
            esp_.record_transcript();
            auto closed = co_await net.async_close_passthrough();
            CHECK_MESSAGE(closed, (closed ? std::string() : closed.error().message() + "\n" + esp_.transcript()));
        },
        std::chrono::seconds(30));
}
