// tasks_test.cpp — the task-level Wi-Fi calls (espat/tasks.hpp) against the simulator: join,
// scan, access point, station address and leave, their mode handling, the reason a join
// failed, and hostile strings that must be escaped or refused with nothing sent.
#include "net_rig.hpp"

#include <espat/tasks.hpp>


using namespace espat::test;
using namespace std::chrono_literals;
using espat::errc;

namespace {

bool assigned(const std::optional<asio::ip::address>& a)
{
    return a && !a->is_unspecified();
}

}  // namespace

TEST_CASE("tasks: join adds station mode, keeps the access point, and gives the station's address")
{
    rig r;
    r.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        const espat::cwmode_request ap_only{espat::wifi_mode::softap};
        REQUIRE(co_await esp.async_set<espat::commands::cwmode>(ap_only));

        auto joined = co_await espat::async_join(esp, "espressif", "1234567890");
        REQUIRE(joined);
        CHECK(assigned(joined->ip));
        auto mode = co_await esp.cwmode.query();
        REQUIRE(mode);
        CHECK(*mode == espat::wifi_mode::station_softap);  // the SoftAP stays

        auto address = co_await espat::async_station_address(esp);
        REQUIRE(address);
        CHECK(address->ip == joined->ip);

        // Already in a station mode: no AT+CWMODE= is sent.
        const std::size_t before = r.module.commands_seen();
        auto again = co_await espat::async_join(esp, "espressif", "1234567890");
        REQUIRE(again);
        CHECK(r.module.commands_seen() - before == 3);  // AT+CWMODE?, AT+CWJAP=..., AT+CIPSTA?

        auto left = co_await espat::async_leave(esp);
        CHECK(left);
        auto after = co_await espat::async_station_address(esp);
        REQUIRE(after);
        CHECK_FALSE(assigned(after->ip));
    });
}

TEST_CASE("tasks: a failed join says why, and hostile strings never inject a command")
{
    rig r;
    r.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        auto wrong = co_await espat::async_join(esp, "espressif", "wrong-password");
        REQUIRE_FALSE(wrong);
        CHECK(wrong.error() == errc::wrong_password);

        auto missing = co_await espat::async_join(esp, "no-such-network", "1234567890");
        REQUIRE_FALSE(missing);
        CHECK(missing.error() == errc::ap_not_found);

        // Quotes, commas and backslashes are escaped: one AT+CWJAP, for an SSID the module
        // does not see.
        const std::size_t before = r.module.commands_seen();
        auto quoted = co_await espat::async_join(esp, R"(a","b\)", R"(x",AT+RST)");
        REQUIRE_FALSE(quoted);
        CHECK(quoted.error() == errc::ap_not_found);
        CHECK(r.module.commands_seen() - before == 2);  // AT+CWMODE? and the one AT+CWJAP

        // CR or LF cannot be carried at all: refused, nothing sent.
        const std::size_t before_refused = r.module.commands_seen();
        auto injected = co_await espat::async_join(esp, "espressif\r\nAT+RST", "1234567890");
        REQUIRE_FALSE(injected);
        CHECK(injected.error() == errc::invalid_argument);
        auto injected_ap = co_await espat::async_start_access_point(esp, "espat", "12345678\r\nAT+RST");
        REQUIRE_FALSE(injected_ap);
        CHECK(injected_ap.error() == errc::invalid_argument);
        CHECK(r.module.commands_seen() == before_refused);

        // The module is still in step: a join works.
        auto joined = co_await espat::async_join(esp, "espressif", "1234567890");
        CHECK(joined);
    });
}

TEST_CASE("tasks: scan lists the access points in range, strongest first")
{
    espat::sim::module_options mo;
    mo.access_points.push_back({.ssid = "second", .password = "abcdefgh", .rssi = -30});
    mo.access_points.push_back({.ssid = "third", .password = "", .rssi = -80, .auth = espat::wifi_auth::open});
    rig r(mo);
    r.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        auto found = co_await espat::async_scan(esp);
        REQUIRE(found);
        REQUIRE(found->size() == 3);
        CHECK((*found)[0].ssid == "second");  // -30 dBm
        CHECK((*found)[1].ssid == "espressif");  // -45 dBm
        CHECK((*found)[2].ssid == "third");  // -80 dBm
        CHECK((*found)[2].auth == espat::wifi_auth::open);
    });
}

TEST_CASE("tasks: an access point starts with SoftAP mode added and gives its address")
{
    rig r;
    r.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        auto joined = co_await espat::async_join(esp, "espressif", "1234567890");
        REQUIRE(joined);

        espat::access_point_options o;
        o.channel = espat::bounded<std::uint8_t, 1, 14>::checked(6).value();
        o.max_connections = espat::bounded<std::uint8_t, 1, 10>::checked(3).value();
        auto served = co_await espat::async_start_access_point(esp, "espat-test", "secret-password", o);
        REQUIRE(served);
        CHECK(assigned(served->ip));

        auto config = co_await esp.cwsap.query();
        REQUIRE(config);
        CHECK(config->ssid == "espat-test");
        CHECK(config->channel == 6);
        CHECK(config->encryption == espat::wifi_auth::wpa2_psk);
        auto mode = co_await esp.cwmode.query();
        REQUIRE(mode);
        CHECK(*mode == espat::wifi_mode::station_softap);  // still joined as a station
        auto station = co_await espat::async_station_address(esp);
        REQUIRE(station);
        CHECK(station->ip == joined->ip);

        // The module refuses a WPA2 password under 8 bytes.
        auto short_password = co_await espat::async_start_access_point(esp, "espat-test", "short");
        CHECK_FALSE(short_password);
    });
}
