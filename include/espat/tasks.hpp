// espat/tasks.hpp — the first hour's Wi-Fi calls, named as people think of them (join a network,
// scan, start an access point, the station's address), each a few commands of the table.
//
// They sit beside the command-named calls ESP-AT veterans know (esp.cwjap(...), esp.cwlap(),
// ...) and take the same completion tokens: error first, void(std::error_code, T); without a
// token co_await yields tl::expected<T, std::error_code>. Strings go through the table's
// encoders, so an SSID or password holding '"', ',' or '\' is escaped and one holding CR or LF
// is refused with errc::invalid_argument, nothing sent.
#pragma once

#include <espat/config.hpp>

#include <espat/as_expected.hpp>
#include <espat/client/options.hpp>
#include <espat/commands/host.hpp>
#include <espat/commands/wifi.hpp>

#include <asio/awaitable.hpp>

#include <tl/expected.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace espat {

struct join_options {
    std::optional<mac_address> bssid{};  // which AP, when several share the SSID
    // How long the module tries (AT+CWJAP's <jap_timeout> on ESP-AT 2.x and later; the
    // command's own timeout is this plus a margin). Unset: the module's default, 15 s.
    std::optional<std::chrono::seconds> timeout{};
};

struct access_point_options {
    bounded<std::uint8_t, 1, 14> channel{1};
    // Unset: WPA2-PSK with a password, open without one.
    std::optional<wifi_auth> encryption{};
    std::optional<bounded<std::uint8_t, 1, 10>> max_connections{};  // ESP-AT 2.x and later
    bool hidden = false;                                              // ESP-AT 2.x and later
};

namespace detail {

template <class T>
using task_result = tl::expected<T, std::error_code>;

// Adds `needed` (station or softap) to the module's Wi-Fi mode, keeping what it had: a module
// serving an access point still serves it after a join. AT+CWMODE? first, AT+CWMODE=<mode>
// only when something is missing.
template <class Client>
asio::awaitable<std::error_code> ensure_wifi_mode(Client& esp, wifi_mode needed)
{
    auto mode = co_await esp.template async_query<commands::cwmode>();
    if (!mode) co_return mode.error();
    const auto bits = static_cast<std::uint8_t>(static_cast<std::uint8_t>(*mode) | static_cast<std::uint8_t>(needed));
    if (bits == static_cast<std::uint8_t>(*mode)) co_return std::error_code{};
    const cwmode_request request{static_cast<wifi_mode>(bits)};
    auto set = co_await esp.template async_set<commands::cwmode>(request);
    co_return set ? std::error_code{} : set.error();
}

// Whether the table can encode the request: errc::invalid_argument when not, {} when it can.
template <class C>
std::error_code sendable(const typename C::set::request& request)
{
    std::string line;
    return commands::encode_set<C>(line, request);
}

template <class Client>
asio::awaitable<task_result<station_addresses>> join_steps(Client& esp, std::string ssid, std::string password,
                                                            join_options o)
{
    cwjap_request request{std::move(ssid), std::move(password)};
    request.bssid = o.bssid;
    call_options call;
    if (o.timeout) {
        // <jap_timeout> is ESP-AT 2.x's; older firmware tries for its own fixed time.
        if (esp.firmware() && esp.firmware()->info.at_version.major >= 2) request.timeout = o.timeout;
        call.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*o.timeout) + std::chrono::seconds(5);
    }
    // A request the table cannot send (CR or LF in the SSID, say) fails before anything is sent.
    if (auto refused = sendable<commands::cwjap>(request)) co_return tl::make_unexpected(refused);
    if (auto ec = co_await ensure_wifi_mode(esp, wifi_mode::station)) co_return tl::make_unexpected(ec);
    auto joined = co_await esp.template async_set<commands::cwjap>(request, call);
    if (!joined) co_return tl::make_unexpected(joined.error());
    co_return co_await esp.template async_query<commands::cipsta>();
}

template <class Client>
asio::awaitable<task_result<std::vector<access_point>>> scan_steps(Client& esp)
{
    if (auto ec = co_await ensure_wifi_mode(esp, wifi_mode::station)) co_return tl::make_unexpected(ec);
    auto found = co_await esp.template async_execute<commands::cwlap>();
    if (!found) co_return tl::make_unexpected(found.error());
    std::vector<access_point> aps = std::move(*found);
    std::stable_sort(aps.begin(), aps.end(), [](const access_point& a, const access_point& b) { return a.rssi > b.rssi; });
    co_return aps;
}

template <class Client>
asio::awaitable<task_result<softap_addresses>> access_point_steps(Client& esp, std::string ssid, std::string password,
                                                                   access_point_options o)
{
    const wifi_auth encryption = o.encryption.value_or(password.empty() ? wifi_auth::open : wifi_auth::wpa2_psk);
    cwsap_request request{std::move(ssid), std::move(password), o.channel, encryption};
    request.max_connections = o.max_connections;
    if (o.hidden) request.ssid_hidden = true;
    if (auto refused = sendable<commands::cwsap>(request)) co_return tl::make_unexpected(refused);
    if (auto ec = co_await ensure_wifi_mode(esp, wifi_mode::softap)) co_return tl::make_unexpected(ec);
    auto configured = co_await esp.template async_set<commands::cwsap>(request);
    if (!configured) co_return tl::make_unexpected(configured.error());
    co_return co_await esp.template async_query<commands::cipap>();
}

template <class Client>
asio::awaitable<task_result<station_addresses>> station_address_steps(Client& esp)
{
    co_return co_await esp.template async_query<commands::cipsta>();
}

template <class Client>
asio::awaitable<task_result<void>> leave_steps(Client& esp)
{
    co_return co_await esp.template async_execute<commands::cwqap>();
}

}  // namespace detail

// Joins `ssid` (AT+CWJAP) as a station, adding station mode to the module's Wi-Fi mode first
// when it lacks it (AT+CWMODE), and gives the address the station got (AT+CIPSTA?):
// void(std::error_code, station_addresses). A join the AP refuses fails with the module's
// reason (errc::join_* codes via the +CWJAP:<code> line).
template <class Client, class Token = use_expected_t>
auto async_join(Client& esp, std::string ssid, std::string password, join_options o = {}, Token&& token = {})
{
    return detail::async_run(esp.get_executor(), detail::join_steps(esp, std::move(ssid), std::move(password), o),
                             std::forward<Token>(token));
}

// The access points in range (AT+CWLAP, with station mode added first when missing), strongest
// first: void(std::error_code, std::vector<access_point>).
template <class Client, class Token = use_expected_t>
auto async_scan(Client& esp, Token&& token = {})
{
    return detail::async_run(esp.get_executor(), detail::scan_steps(esp), std::forward<Token>(token));
}

// Serves an access point (AT+CWSAP, with SoftAP mode added first when missing; a joined station
// stays joined) and gives its address (AT+CIPAP?): void(std::error_code, softap_addresses).
// The password is 8..64 bytes, or empty for an open AP.
template <class Client, class Token = use_expected_t>
auto async_start_access_point(Client& esp, std::string ssid, std::string password, access_point_options o = {},
                              Token&& token = {})
{
    return detail::async_run(esp.get_executor(),
                             detail::access_point_steps(esp, std::move(ssid), std::move(password), std::move(o)),
                             std::forward<Token>(token));
}

// The station's addresses (AT+CIPSTA?): void(std::error_code, station_addresses); `ip` is
// 0.0.0.0 while not joined.
template <class Client, class Token = use_expected_t>
auto async_station_address(Client& esp, Token&& token = {})
{
    return detail::async_run(esp.get_executor(), detail::station_address_steps(esp), std::forward<Token>(token));
}

// Leaves the AP the station joined (AT+CWQAP): void(std::error_code).
template <class Client, class Token = use_expected_t>
auto async_leave(Client& esp, Token&& token = {})
{
    return detail::async_run(esp.get_executor(), detail::leave_steps(esp), std::forward<Token>(token));
}

}  // namespace espat
