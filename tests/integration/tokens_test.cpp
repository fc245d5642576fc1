// tokens_test.cpp — the client's operations and the Wi-Fi tasks with every kind of completion
// token (support/every_token.hpp), each checked to complete error first with the same error and
// value as the default token gives. The network's, links' and passthrough's are in
// tokens_net_test.cpp (two files, so the two halves compile in parallel).
#include "every_token.hpp"

#include <espat/tasks.hpp>

#include <ostream>

using namespace espat::test;
using namespace std::chrono_literals;
using espat::errc;

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
