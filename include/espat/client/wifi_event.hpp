// espat/client/wifi_event.hpp — the Wi-Fi state changes a module reports on its own (station
// and soft-AP), as the client queues them for next_wifi_event().
#pragma once

#include <espat/proto/event.hpp>

#include <optional>
#include <string>

namespace espat {

enum class wifi_event_kind : std::uint8_t {
    connected,         // WIFI CONNECTED: the station joined an AP
    got_ip,            // WIFI GOT IP
    disconnected,      // WIFI DISCONNECT
    station_joined,    // +STA_CONNECTED:<mac>: a station joined our soft-AP
    station_left,      // +STA_DISCONNECTED:<mac>
    station_got_ip,    // +DIST_STA_IP:<mac>,<ip>: our soft-AP gave a station an address
};

struct wifi_event {
    wifi_event_kind kind{};
    std::string details;  // the report's arguments as printed (quoted MAC, IP), empty for WIFI ...

    friend bool operator==(const wifi_event&, const wifi_event&) = default;
};

// The Wi-Fi event a report stands for, if it is one.
[[nodiscard]] inline std::optional<wifi_event> wifi_event_of(const proto::event& e)
{
    using proto::event_kind;
    switch (e.kind) {
    case event_kind::wifi_connected: return wifi_event{wifi_event_kind::connected, {}};
    case event_kind::wifi_got_ip: return wifi_event{wifi_event_kind::got_ip, {}};
    case event_kind::wifi_disconnect: return wifi_event{wifi_event_kind::disconnected, {}};
    case event_kind::sta_connected: return wifi_event{wifi_event_kind::station_joined, std::string(e.args)};
    case event_kind::sta_disconnected: return wifi_event{wifi_event_kind::station_left, std::string(e.args)};
    case event_kind::dist_sta_ip: return wifi_event{wifi_event_kind::station_got_ip, std::string(e.args)};
    default: return std::nullopt;
    }
}

}  // namespace espat
