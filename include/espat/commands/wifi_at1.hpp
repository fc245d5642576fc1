// espat/commands/wifi_at1.hpp — AT 1.x's _CUR / _DEF pairs of the Wi-Fi commands (ESP8266 NONOS
// AT), beside the plain commands of wifi.hpp whose forms they share.
#pragma once

#include <espat/commands/wifi.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace espat {

// AT 1.x's AT+CWMODE_CUR / AT+CWMODE_DEF=<mode>: the mode alone (NONOS takes 1..3; the
// auto_connect parameter is ESP-AT 2.x's).
struct cwmode_cur_request {
    required<wifi_mode> mode;
    friend bool operator==(const cwmode_cur_request&, const cwmode_cur_request&) = default;
};
using cwmode_def_request = cwmode_cur_request;

// AT 1.x's AT+CWJAP_CUR / AT+CWJAP_DEF=<ssid>,<pwd>[,<bssid>][,<pci_en>] (pci_en: NONOS AT 1.7,
// instruction set v3.0).
struct cwjap_cur_request {
    required<std::string> ssid;      // up to 32 bytes
    required<std::string> password;  // up to 64 bytes; "" for an open AP
    std::optional<mac_address> bssid{};
    std::optional<bool> pci_authentication{};  // 1: refuse OPEN and WEP APs
    friend bool operator==(const cwjap_cur_request&, const cwjap_cur_request&) = default;
};
using cwjap_def_request = cwjap_cur_request;

// AT 1.x's DHCP interfaces: AT+CWDHCP_CUR / _DEF=<mode>,<en> name them by number, not by bit
// (and in the other order than ESP-AT 2.x's AT+CWDHCP=<operate>,<mode>)...
enum class at1_dhcp_target : std::uint8_t { softap = 0, station = 1, both = 2 };
template <>
struct enum_numbers<at1_dhcp_target> {
    static constexpr at1_dhcp_target values[] = {at1_dhcp_target::softap, at1_dhcp_target::station,
                                                 at1_dhcp_target::both};
};
// ...and their query prints a mask whose bits are the other way round from ESP-AT 2.x's
// dhcp_interfaces: bit 0 the SoftAP, bit 1 the station (WiFiEspAT's AT 1 mode reads it so).
namespace at1_dhcp_interfaces {
inline constexpr std::uint8_t softap = 1;
inline constexpr std::uint8_t station = 2;
}  // namespace at1_dhcp_interfaces

struct cwdhcp_cur_request {
    required<at1_dhcp_target> interfaces;
    required<bool> enable;
    friend bool operator==(const cwdhcp_cur_request&, const cwdhcp_cur_request&) = default;
};
using cwdhcp_def_request = cwdhcp_cur_request;

}  // namespace espat

namespace espat::commands {

// ---------------------------------------------------------------------------------------------
// AT 1.x's _CUR / _DEF pairs. NONOS AT (Espressif's "ESP8266 AT Instruction Set" for the
// NONOS SDK; v3.0.x documents AT 1.7) splits each setting command in two: <CMD>_CUR changes
// the setting until the next reset, <CMD>_DEF also saves it in flash, so it is the setting
// after a reset. Their queries answer +<CMD>_CUR: (what is in effect) and +<CMD>_DEF: (what
// is saved: "Get the user-defined DNS servers which saved in flash"), in the plain command's
// layout; AT+CWJAP_DEF? names the AP the station is joined to, as _CUR? does. The plain
// commands were deprecated (set: as _DEF; query: as _CUR). ESP-AT 2.0 dropped the pairs for
// AT+SYSSTORE ("This command will not be added to the ESP-AT version": the ESP-AT "AT Command
// Set Comparison"), so each is `until` 2.0; when they first appeared (the 0.22 instruction set
// introduced the scheme, some pairs came later) is not recorded, so none has a `since`.

// AT+CWMODE_CUR / AT+CWMODE_DEF: the Wi-Fi mode, 1..3 (NONOS has no mode 0).
namespace detail {
template <fixed_string Prefix>
struct at1_wifi_mode_forms {
    using query = query_form<one<line<wifi_mode, Prefix, fields<whole<number<wifi_mode>>>>>>;
    using set = set_form<cwmode_cur_request, fields<field<&cwmode_cur_request::mode, number<wifi_mode>>>>;
};
}  // namespace detail

struct cwmode_cur : detail::at1_wifi_mode_forms<"CWMODE_CUR"> {
    static constexpr std::string_view command = "AT+CWMODE_CUR";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version until{2, 0, 0, 0};
};

struct cwmode_def : detail::at1_wifi_mode_forms<"CWMODE_DEF"> {
    static constexpr std::string_view command = "AT+CWMODE_DEF";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version until{2, 0, 0, 0};
};

// AT+CWJAP_CUR / AT+CWJAP_DEF: join an AP, as AT+CWJAP (its reports, its +CWJAP:<code> on
// failure, its time); the query prints the NONOS four fields under the command's own name.
namespace detail {
template <fixed_string Prefix>
struct at1_join_forms {
    using R = cwjap_cur_request;
    using query = query_form<detail::station_connection_line<Prefix>>;
    using set = set_form<R,
                         fields<field<&R::ssid, quoted<max_ssid_length>>, field<&R::password, quoted<max_password_length>>,
                                field<&R::bssid, mac>, field<&R::pci_authentication, flag>>,
                         detail::join_failure_line>;
};
}  // namespace detail

struct cwjap_cur : detail::at1_join_forms<"CWJAP_CUR"> {
    static constexpr std::string_view command = "AT+CWJAP_CUR";
    static constexpr std::uint32_t timeout_ms = 20000;
    static constexpr espat::version until{2, 0, 0, 0};
};

struct cwjap_def : detail::at1_join_forms<"CWJAP_DEF"> {
    static constexpr std::string_view command = "AT+CWJAP_DEF";
    static constexpr std::uint32_t timeout_ms = 20000;
    static constexpr espat::version until{2, 0, 0, 0};
};

// AT+CWSAP_CUR / AT+CWSAP_DEF: the SoftAP's configuration, in AT+CWSAP's layout.
struct cwsap_cur : detail::softap_config_forms<"CWSAP_CUR"> {
    static constexpr std::string_view command = "AT+CWSAP_CUR";
    static constexpr std::uint32_t timeout_ms = 5000;
    static constexpr espat::version until{2, 0, 0, 0};
};

struct cwsap_def : detail::softap_config_forms<"CWSAP_DEF"> {
    static constexpr std::string_view command = "AT+CWSAP_DEF";
    static constexpr std::uint32_t timeout_ms = 5000;
    static constexpr espat::version until{2, 0, 0, 0};
};

// AT+CWDHCP_CUR / AT+CWDHCP_DEF=<mode>,<en>: DHCP on or off for the SoftAP, the station or
// both (at1_dhcp_target); the query prints at1_dhcp_interfaces bits.
namespace detail {
template <fixed_string Prefix>
struct at1_dhcp_forms {
    using R = cwdhcp_cur_request;
    using query = query_form<one<line<std::uint8_t, Prefix, fields<whole<integer<std::uint8_t>>>>>>;
    using set = set_form<R, fields<field<&R::interfaces, number<at1_dhcp_target>>, field<&R::enable, flag>>>;
};
}  // namespace detail

struct cwdhcp_cur : detail::at1_dhcp_forms<"CWDHCP_CUR"> {
    static constexpr std::string_view command = "AT+CWDHCP_CUR";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version until{2, 0, 0, 0};
};

struct cwdhcp_def : detail::at1_dhcp_forms<"CWDHCP_DEF"> {
    static constexpr std::string_view command = "AT+CWDHCP_DEF";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version until{2, 0, 0, 0};
};

// AT+CIPSTAMAC_CUR / _DEF and AT+CIPAPMAC_CUR / _DEF: the interfaces' MAC addresses.
struct cipstamac_cur : detail::interface_mac_forms<"CIPSTAMAC_CUR"> {
    static constexpr std::string_view command = "AT+CIPSTAMAC_CUR";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version until{2, 0, 0, 0};
};

struct cipstamac_def : detail::interface_mac_forms<"CIPSTAMAC_DEF"> {
    static constexpr std::string_view command = "AT+CIPSTAMAC_DEF";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version until{2, 0, 0, 0};
};

struct cipapmac_cur : detail::interface_mac_forms<"CIPAPMAC_CUR"> {
    static constexpr std::string_view command = "AT+CIPAPMAC_CUR";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version until{2, 0, 0, 0};
};

struct cipapmac_def : detail::interface_mac_forms<"CIPAPMAC_DEF"> {
    static constexpr std::string_view command = "AT+CIPAPMAC_DEF";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version until{2, 0, 0, 0};
};

// AT+CIPSTA_CUR / _DEF and AT+CIPAP_CUR / _DEF: the interfaces' addresses, as
// +CIPSTA_CUR:ip:"...", gateway and netmask lines (the ARMmbed esp8266-driver reads them so).
struct cipsta_cur : detail::interface_address_forms<"CIPSTA_CUR"> {
    static constexpr std::string_view command = "AT+CIPSTA_CUR";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version until{2, 0, 0, 0};
};

struct cipsta_def : detail::interface_address_forms<"CIPSTA_DEF"> {
    static constexpr std::string_view command = "AT+CIPSTA_DEF";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version until{2, 0, 0, 0};
};

struct cipap_cur : detail::interface_address_forms<"CIPAP_CUR"> {
    static constexpr std::string_view command = "AT+CIPAP_CUR";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version until{2, 0, 0, 0};
};

struct cipap_def : detail::interface_address_forms<"CIPAP_DEF"> {
    static constexpr std::string_view command = "AT+CIPAP_DEF";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version until{2, 0, 0, 0};
};

}  // namespace espat::commands
