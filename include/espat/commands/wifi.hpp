// espat/commands/wifi.hpp — the Wi-Fi commands a host needs to bring a module online: AT+CWMODE,
// AT+CWJAP, AT+CWQAP, AT+CWLAP, AT+CIPSTA, ... (AT 1.x's _CUR / _DEF pairs: wifi_at1.hpp). Syntax
// from the ESP-AT "Wi-Fi AT Commands" reference (2.x-4.x) and Espressif's ESP8266 (NONOS) AT
// Instruction Set; older layouts from firmware-quirks.md and published captures.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/descriptor.hpp>
#include <espat/commands/values.hpp>
#include <espat/error.hpp>

#include <asio/ip/address.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace espat {

// Lengths from the reference: an SSID is at most 32 bytes (802.11), a password 64.
inline constexpr std::size_t max_ssid_length = 32;
inline constexpr std::size_t max_password_length = 64;

// AT+CWJAP's <listen_interval>: how often the station wakes for the AP's beacon, 1..100
// beacon intervals (module default 3).
using wifi_listen_interval = bounded<std::uint8_t, 1, 100>;

enum class wifi_mode : std::uint8_t {
    off = 0,             // no Wi-Fi, RF disabled
    station = 1,
    softap = 2,
    station_softap = 3,  // "SoftAP+Station"
};
template <>
struct enum_numbers<wifi_mode> {
    static constexpr wifi_mode values[] = {wifi_mode::off, wifi_mode::station, wifi_mode::softap,
                                           wifi_mode::station_softap};
};

// Why AT+CWJAP failed: the +CWJAP:<code> line before ERROR.
enum class join_failure : std::uint8_t {
    timeout = 1,
    wrong_password = 2,
    ap_not_found = 3,
    connect_failed = 4,
};
template <>
struct enum_numbers<join_failure> {
    static constexpr join_failure values[] = {join_failure::timeout, join_failure::wrong_password,
                                              join_failure::ap_not_found, join_failure::connect_failed};
};
// The error a failed join completes with (commands::failure_reason).
inline std::error_code make_error_code(join_failure f) noexcept
{
    switch (f) {
    case join_failure::timeout: return make_error_code(errc::join_timeout);
    case join_failure::wrong_password: return make_error_code(errc::wrong_password);
    case join_failure::ap_not_found: return make_error_code(errc::ap_not_found);
    case join_failure::connect_failed: break;
    }
    return make_error_code(errc::join_failed);
}

// AT+CWJAP's <scan_mode>.
enum class wifi_scan_mode : std::uint8_t {
    fast = 0,          // stop at the first matching AP and join it
    all_channels = 1,  // scan every channel, join the strongest matching AP
};
template <>
struct enum_numbers<wifi_scan_mode> {
    static constexpr wifi_scan_mode values[] = {wifi_scan_mode::fast, wifi_scan_mode::all_channels};
};

// Protected management frames (AT+CWJAP's <pmf>: bit 0 capable, bit 1 required).
enum class pmf_mode : std::uint8_t { off = 0, capable = 1, required = 2, capable_and_required = 3 };
template <>
struct enum_numbers<pmf_mode> {
    static constexpr pmf_mode values[] = {pmf_mode::off, pmf_mode::capable, pmf_mode::required,
                                          pmf_mode::capable_and_required};
};

// AT+CWLAP's <scan_type>.
enum class wifi_scan_type : std::uint8_t { active = 0, passive = 1 };
template <>
struct enum_numbers<wifi_scan_type> {
    static constexpr wifi_scan_type values[] = {wifi_scan_type::active, wifi_scan_type::passive};
};

// An AP's authentication (+CWLAP's <ecn>): ESP-AT prints ESP-IDF's wifi_auth_mode_t. 0..7 on
// every ESP-AT, 8..9 since the 2.2 documentation, 10 on ESP32-C6, 11..15 in newer ESP-IDF.
enum class wifi_auth : std::uint8_t {
    open = 0,
    wep = 1,
    wpa_psk = 2,
    wpa2_psk = 3,
    wpa_wpa2_psk = 4,
    wpa2_enterprise = 5,
    wpa3_psk = 6,
    wpa2_wpa3_psk = 7,
    wapi_psk = 8,
    owe = 9,
    wpa3_enterprise_192 = 10,
    wpa3_ext_psk = 11,
    wpa3_ext_psk_mixed = 12,
    dpp = 13,
    wpa3_enterprise = 14,
    wpa2_wpa3_enterprise = 15,
};
template <>
struct enum_numbers<wifi_auth> {
    static constexpr wifi_auth values[] = {
        wifi_auth::open,           wifi_auth::wep,          wifi_auth::wpa_psk,
        wifi_auth::wpa2_psk,       wifi_auth::wpa_wpa2_psk, wifi_auth::wpa2_enterprise,
        wifi_auth::wpa3_psk,       wifi_auth::wpa2_wpa3_psk, wifi_auth::wapi_psk,
        wifi_auth::owe,            wifi_auth::wpa3_enterprise_192, wifi_auth::wpa3_ext_psk,
        wifi_auth::wpa3_ext_psk_mixed, wifi_auth::dpp,      wifi_auth::wpa3_enterprise,
        wifi_auth::wpa2_wpa3_enterprise};
};

// An AP's pairwise or group cipher (+CWLAP's <pairwise_cipher>, <group_cipher>). 0..7 as the
// ESP-AT reference lists them (7 "unknown"); 8..11 are the ciphers newer ESP-IDF adds.
enum class wifi_cipher : std::uint8_t {
    none = 0,
    wep40 = 1,
    wep104 = 2,
    tkip = 3,
    ccmp = 4,
    tkip_ccmp = 5,
    aes_cmac128 = 6,
    unknown = 7,
    gcmp = 8,
    gcmp256 = 9,
    aes_gmac128 = 10,
    aes_gmac256 = 11,
};
template <>
struct enum_numbers<wifi_cipher> {
    static constexpr wifi_cipher values[] = {
        wifi_cipher::none, wifi_cipher::wep40, wifi_cipher::wep104,  wifi_cipher::tkip,
        wifi_cipher::ccmp, wifi_cipher::tkip_ccmp, wifi_cipher::aes_cmac128, wifi_cipher::unknown,
        wifi_cipher::gcmp, wifi_cipher::gcmp256, wifi_cipher::aes_gmac128, wifi_cipher::aes_gmac256};
};

// +CWLAP's <bgn> bits.
namespace phy_mode_bits {
inline constexpr std::uint8_t b = 1, g = 2, n = 4;
}

// ---------------------------------------------------------------------------------------------
// Results.

// The AP the station is joined to (AT+CWJAP?). NONOS prints the first four fields, ESP8266
// ESP-AT 2.x eight, ESP32 ESP-AT 2.x and later all nine.
struct station_connection {
    std::string ssid;  // as printed: unescaped, may hold ',' and '"'
    mac_address bssid{};
    std::uint8_t channel = 0;
    int rssi = 0;  // dBm
    std::optional<bool> pci_authentication{};  // 1: OPEN and WEP APs refused
    std::optional<std::chrono::seconds> reconnect_interval{};  // 0: no reconnection
    std::optional<std::uint16_t> listen_interval{};  // in AP beacon intervals (ESP8266 2.x prints 0)
    std::optional<wifi_scan_mode> scan_mode{};
    std::optional<pmf_mode> pmf{};

    friend bool operator==(const station_connection&, const station_connection&) = default;
};

// One AP of a scan (AT+CWLAP). Early NONOS prints the first five fields, NONOS 1.1-1.5 seven,
// NONOS 1.6+ and ESP-AT on ESP32 all eleven; ESP8266 ESP-AT 2.x prints nine, without the
// two frequency fields.
struct access_point {
    wifi_auth auth{};  // <ecn>
    std::string ssid;  // as printed: unescaped, may hold ',' and '"'
    int rssi = 0;      // dBm
    mac_address bssid{};  // <mac>
    std::uint8_t channel = 0;
    std::optional<int> freq_offset{};       // reserved
    std::optional<int> freq_calibration{};  // <freqcal_val>, reserved
    std::optional<wifi_cipher> pairwise_cipher{};
    std::optional<wifi_cipher> group_cipher{};
    std::optional<std::uint8_t> phy_modes{};  // <bgn>: phy_mode_bits
    std::optional<bool> wps{};

    friend bool operator==(const access_point&, const access_point&) = default;
};

// The station's addresses (AT+CIPSTA?). ESP-AT with IPv6 adds the ip6ll / ip6gl lines.
struct station_addresses {
    std::optional<asio::ip::address> ip{}, gateway{}, netmask{};
    std::optional<asio::ip::address> ipv6_link_local{};  // ip6ll
    std::optional<asio::ip::address> ipv6_global{};      // ip6gl

    friend bool operator==(const station_addresses&, const station_addresses&) = default;
};

// The SoftAP's addresses (AT+CIPAP?): the same lines as the station's, under +CIPAP.
using softap_addresses = station_addresses;

// The SoftAP's configuration (AT+CWSAP?).
struct softap_config {
    std::string ssid;
    std::string password;
    std::uint8_t channel = 0;
    wifi_auth encryption = wifi_auth::open;
    std::optional<std::uint8_t> max_connections{};  // ESP-AT 2.x and later
    std::optional<bool> ssid_hidden{};              // ESP-AT 2.x and later
    friend bool operator==(const softap_config&, const softap_config&) = default;
};

// The station's state (AT+CWSTATE?, ESP-AT 2.1 and later). Adafruit's driver loops unless it
// follows the real state (host-drivers.md).
enum class wifi_state : std::uint8_t {
    not_started = 0,    // no connection attempted
    connected_no_ip = 1,
    got_ip = 2,
    connecting = 3,     // connecting or reconnecting
    disconnected = 4,
};
template <>
struct enum_numbers<wifi_state> {
    static constexpr wifi_state values[] = {wifi_state::not_started, wifi_state::connected_no_ip,
                                               wifi_state::got_ip, wifi_state::connecting,
                                               wifi_state::disconnected};
};

struct wifi_status {
    wifi_state state = wifi_state::not_started;
    std::string ssid;  // as printed: unescaped; empty when not joined
    friend bool operator==(const wifi_status&, const wifi_status&) = default;
};

// AT+CWDHCP's interface bits: which interfaces run DHCP (the query prints the mask).
namespace dhcp_interfaces {
inline constexpr std::uint8_t station = 1;
inline constexpr std::uint8_t softap = 2;
inline constexpr std::uint8_t ethernet = 4;  // ESP32 with Ethernet
}  // namespace dhcp_interfaces

// AT+CWLAPOPT's print mask: bit i prints the i-th +CWLAP field (0 ecn ... 10 wps).
inline constexpr std::uint16_t cwlap_all_fields = 0x7FF;

// ---------------------------------------------------------------------------------------------
// Requests.

// AT+CWDHCP=<operate>,<mode>: enable (1) or disable (0) DHCP on the interfaces in the mask.
struct cwdhcp_request {
    required<bool> enable;
    bounded<std::uint8_t, 1, 7> interfaces;  // dhcp_interfaces bits
    friend bool operator==(const cwdhcp_request&, const cwdhcp_request&) = default;
};

// AT+CWLAPOPT=<reserved>,<print mask>[,<rssi filter>][,<authmode mask>]. The first parameter
// was "sort by RSSI" on NONOS and is reserved on ESP-AT (send 1, as lwESP does).
struct cwlapopt_request {
    required<bool> sort_by_rssi;
    required<std::uint16_t> print_mask;  // bits 0..10, cwlap_all_fields for all
    std::optional<bounded<std::int8_t, -100, 40>> rssi_filter{};  // dBm: weaker APs are left out
    std::optional<std::uint16_t> auth_mode_mask{};                // bit i: wifi_auth i is listed
    friend bool operator==(const cwlapopt_request&, const cwlapopt_request&) = default;
};

struct cwautoconn_request {
    required<bool> enable;  // join the saved AP at power-on
    friend bool operator==(const cwautoconn_request&, const cwautoconn_request&) = default;
};

struct mac_request {
    required<mac_address> mac;
    friend bool operator==(const mac_request&, const mac_request&) = default;
};

// AT+CWSAP=<ssid>,<pwd>,<chl>,<ecn>[,<max conn>][,<ssid hidden>]. A SoftAP offers open, WPA,
// WPA2 or WPA/WPA2 (the module refuses WEP); its password is 8..64 bytes, or empty when open.
struct cwsap_request {
    required<std::string> ssid;      // up to 32 bytes
    required<std::string> password;  // up to 64 bytes
    bounded<std::uint8_t, 1, 14> channel;
    required<wifi_auth> encryption;
    std::optional<bounded<std::uint8_t, 1, 10>> max_connections{};
    std::optional<bool> ssid_hidden{};
    friend bool operator==(const cwsap_request&, const cwsap_request&) = default;
};

struct cwmode_request {
    required<wifi_mode> mode;
    // ESP-AT 2.x and later: whether switching to a station mode reconnects to the saved AP
    // (the module's default is 1). host-drivers.md: lwESP sends AT+CWMODE=3,1.
    std::optional<bool> auto_connect{};
    friend bool operator==(const cwmode_request&, const cwmode_request&) = default;
};

// AT+CWJAP=<ssid>,<pwd>[,<bssid>][,<pci_en>][,<reconn_interval>][,<listen_interval>]
//         [,<scan_mode>][,<jap_timeout>][,<pmf>]. NONOS and ESP32 1.x take ssid, pwd and
// bssid only; the rest is ESP-AT 2.x and later.
struct cwjap_request {
    required<std::string> ssid;      // up to 32 bytes
    required<std::string> password;  // up to 64 bytes; "" for an open AP
    std::optional<mac_address> bssid{};  // needed when several APs share the SSID
    std::optional<bool> pci_authentication{};  // 1: refuse OPEN and WEP APs
    std::optional<std::chrono::seconds> reconnect_interval{};  // 0..7200 s, 0: never
    std::optional<wifi_listen_interval> listen_interval{};
    std::optional<wifi_scan_mode> scan_mode{};
    std::optional<std::chrono::seconds> timeout{};  // <jap_timeout>, 3..600 s (module default 15)
    std::optional<pmf_mode> pmf{};
    friend bool operator==(const cwjap_request&, const cwjap_request&) = default;
};

// AT+CWLAP=<ssid>[,<mac>,<channel>,<scan_type>,<scan_time_min>,<scan_time_max>]: only the APs
// that match (NONOS 1.6+, ESP-AT).
struct cwlap_request {
    required<std::string> ssid;
    std::optional<mac_address> bssid{};
    std::optional<std::uint8_t> channel{};
    std::optional<wifi_scan_type> scan_type{};
    std::optional<std::chrono::milliseconds> scan_time_min{};  // per channel, 0..1500 ms
    std::optional<std::chrono::milliseconds> scan_time_max{};  // per channel, 0..1500 ms, 0: default
    friend bool operator==(const cwlap_request&, const cwlap_request&) = default;
};

struct cipsta_request {
    required<asio::ip::address> ip;
    std::optional<asio::ip::address> gateway{};
    std::optional<asio::ip::address> netmask{};
    friend bool operator==(const cipsta_request&, const cipsta_request&) = default;
};
using cipap_request = cipsta_request;

}  // namespace espat

namespace espat::commands {

// AT+CWMODE: Wi-Fi mode.
struct cwmode {
    static constexpr std::string_view command = "AT+CWMODE";
    static constexpr std::uint32_t timeout_ms = 1000;
    using query = query_form<one<line<wifi_mode, "CWMODE", fields<whole<number<wifi_mode>>>>>>;
    using set = set_form<cwmode_request, fields<field<&cwmode_request::mode, number<wifi_mode>>,
                                                field<&cwmode_request::auto_connect, flag>>>;
};

namespace detail {
// Why a join failed: +CWJAP:<code> before the final result. AT+CWJAP_CUR / _DEF print it so
// too, not as the +CWJAP_CUR:<code> their instruction set shows (ARMmbed's esp8266-driver, on
// NONOS: "at least current version is not sending it"; it also sees FAIL, not ERROR, after it).
using join_failure_line = maybe<line<join_failure, "CWJAP", fields<whole<number<join_failure>>>>>;

// +<Prefix>:<ssid>,<bssid>,<channel>,<rssi>[,<pci_en>,<reconn_interval>,<listen_interval>,
// <scan_mode>[,<pmf>]]; no line (or "No AP", a text line) when not joined. The SSID is not
// escaped: it is read as the free field, the other fields from the right.
template <fixed_string Prefix>
using station_connection_line = maybe<line<
    station_connection, Prefix,
    fields<field<&station_connection::ssid, quoted<max_ssid_length>>, field<&station_connection::bssid, mac>,
           field<&station_connection::channel, integer<std::uint8_t>>, field<&station_connection::rssi, integer<int>>,
           field<&station_connection::pci_authentication, flag>,
           field<&station_connection::reconnect_interval, duration<std::chrono::seconds, 7200>>,
           field<&station_connection::listen_interval, integer<std::uint16_t>>,
           field<&station_connection::scan_mode, number<wifi_scan_mode>>,
           field<&station_connection::pmf, number<pmf_mode>>>,
    0>>;
}  // namespace detail

// AT+CWJAP: join an AP. Success is "WIFI CONNECTED", "WIFI GOT IP" (reports), then OK; a
// failure prints +CWJAP:<code> before ERROR, which the set and execute forms read as the
// optional join_failure (the caller hands the lines of the failed command). "busy p..." may
// come between the reports (firmware-quirks.md). The module gives up after <jap_timeout>
// (default 15 s); 20 s covers that default.
struct cwjap {
    static constexpr std::string_view command = "AT+CWJAP";
    static constexpr std::uint32_t timeout_ms = 20000;
    using failure_line = detail::join_failure_line;
    using query = query_form<detail::station_connection_line<"CWJAP">>;
    using set = set_form<cwjap_request,
                         fields<field<&cwjap_request::ssid, quoted<max_ssid_length>>,
                                field<&cwjap_request::password, quoted<max_password_length>>,
                                field<&cwjap_request::bssid, mac>, field<&cwjap_request::pci_authentication, flag>,
                                field<&cwjap_request::reconnect_interval, duration<std::chrono::seconds, 7200>>,
                                field<&cwjap_request::listen_interval, ranged<wifi_listen_interval>>,
                                field<&cwjap_request::scan_mode, number<wifi_scan_mode>>,
                                field<&cwjap_request::timeout, duration<std::chrono::seconds, 600, 3>>,
                                field<&cwjap_request::pmf, number<pmf_mode>>>,
                         failure_line>;
    // ESP-AT 2.x and later: join the last AP configured.
    using execute = execute_form<failure_line>;
};

// AT+CWQAP: leave the AP.
struct cwqap {
    static constexpr std::string_view command = "AT+CWQAP";
    static constexpr std::uint32_t timeout_ms = 1000;
    using execute = execute_form<>;
};

namespace detail {
// +CWLAP's fields, in the order ESP-AT and NONOS 1.6+ print them.
using cwlap_fields =
    fields<field<&access_point::auth, number<wifi_auth>>, field<&access_point::ssid, quoted<max_ssid_length>>,
           field<&access_point::rssi, integer<int>>, field<&access_point::bssid, mac>,
           field<&access_point::channel, integer<std::uint8_t>>, field<&access_point::freq_offset, integer<int>>,
           field<&access_point::freq_calibration, integer<int>>,
           field<&access_point::pairwise_cipher, number<wifi_cipher>>,
           field<&access_point::group_cipher, number<wifi_cipher>>,
           field<&access_point::phy_modes, integer<std::uint8_t>>, field<&access_point::wps, flag>>;
// ESP8266 ESP-AT 2.x: no frequency fields.
using cwlap_fields_esp8266 =
    fields<field<&access_point::auth, number<wifi_auth>>, field<&access_point::ssid, quoted<max_ssid_length>>,
           field<&access_point::rssi, integer<int>>, field<&access_point::bssid, mac>,
           field<&access_point::channel, integer<std::uint8_t>>,
           field<&access_point::pairwise_cipher, number<wifi_cipher>>,
           field<&access_point::group_cipher, number<wifi_cipher>>,
           field<&access_point::phy_modes, integer<std::uint8_t>>, field<&access_point::wps, flag>>;
// A scan's lines all come from one firmware, so one layout reads them all: all eleven fields,
// else exactly the ESP8266 2.x nine, else a shorter prefix of the eleven (NONOS: seven or
// five). The SSID (field 1) is not escaped and read as the free field. Written in the
// eleven-field layout (trailing fields a value lacks are left out).
using cwlap_lines =
    one_of<many<parenthesized<strict_line<access_point, "CWLAP", cwlap_fields, 1>>>,
           many<parenthesized<strict_line<access_point, "CWLAP", cwlap_fields_esp8266, 1>>>,
           many<parenthesized<line<access_point, "CWLAP", cwlap_fields, 1>>>>;
}  // namespace detail

// AT+CWLAP: scan for APs, all or those matching the set form's filter. The lines are
// "+CWLAP:(<ecn>,<ssid>,...)": parenthesised on every firmware (firmware-quirks.md,
// espressif/esp-at#856). An active scan takes about 120 ms a channel, a passive one 360 ms;
// 10 s covers the defaults, not a long scan_time_max on every channel.
struct cwlap {
    static constexpr std::string_view command = "AT+CWLAP";
    static constexpr std::uint32_t timeout_ms = 10000;
    using execute = execute_form<detail::cwlap_lines>;
    using set = set_form<cwlap_request,
                         fields<field<&cwlap_request::ssid, quoted<max_ssid_length>>, field<&cwlap_request::bssid, mac>,
                                field<&cwlap_request::channel, integer<std::uint8_t>>,
                                field<&cwlap_request::scan_type, number<wifi_scan_type>>,
                                field<&cwlap_request::scan_time_min, duration<std::chrono::milliseconds, 1500>>,
                                field<&cwlap_request::scan_time_max, duration<std::chrono::milliseconds, 1500>>>,
                         detail::cwlap_lines>;
};

namespace detail {
// The address forms AT+CIPSTA and AT+CIPAP share: the query prints +<Prefix>:ip:"...",
// gateway, netmask and, with IPv6, ip6ll / ip6gl (keys it does not know are skipped); the set
// form takes the IP alone or with gateway and netmask.
template <fixed_string Prefix>
struct interface_address_forms {
    using V = station_addresses;
    using R = cipsta_request;
    using query = query_form<keyed<V, Prefix, ':', key<"ip", &V::ip, ip_address>, key<"gateway", &V::gateway, ip_address>,
                                   key<"netmask", &V::netmask, ip_address>,
                                   key<"ip6ll", &V::ipv6_link_local, ip_address>,
                                   key<"ip6gl", &V::ipv6_global, ip_address>>>;
    using set = set_form<R, fields<field<&R::ip, ip_address>, field<&R::gateway, ip_address>,
                                   field<&R::netmask, ip_address>>>;
};
}  // namespace detail

// AT+CIPSTA: the station's IP address (transcript 01, host-drivers.md).
struct cipsta : detail::interface_address_forms<"CIPSTA"> {
    static constexpr std::string_view command = "AT+CIPSTA";
    static constexpr std::uint32_t timeout_ms = 1000;
};

namespace detail {
// AT+CWSAP and its AT 1.x pair: +<Prefix>:<ssid>,<pwd>,<chl>,<ecn>[,<max conn>,<ssid hidden>].
// The query's SSID may hold unescaped ',' and '"': it is read around the other fields.
template <fixed_string Prefix>
struct softap_config_forms {
    using V = softap_config;
    using R = cwsap_request;
    using query = query_form<one<line<V, Prefix,
                                      fields<field<&V::ssid, quoted<32>>, field<&V::password, quoted<64>>,
                                             field<&V::channel, integer<std::uint8_t>>, field<&V::encryption, number<wifi_auth>>,
                                             field<&V::max_connections, integer<std::uint8_t>>, field<&V::ssid_hidden, flag>>,
                                      0>>>;
    using set = set_form<R, fields<field<&R::ssid, quoted<32>>, field<&R::password, quoted<64>>,
                                   field<&R::channel, ranged<bounded<std::uint8_t, 1, 14>>>,
                                   field<&R::encryption, number<wifi_auth>>,
                                   field<&R::max_connections, ranged<bounded<std::uint8_t, 1, 10>>>,
                                   field<&R::ssid_hidden, flag>>>;
};
}  // namespace detail

// AT+CWSAP: the SoftAP's SSID, password, channel and encryption (transcript 02).
struct cwsap : detail::softap_config_forms<"CWSAP"> {
    static constexpr std::string_view command = "AT+CWSAP";
    static constexpr std::uint32_t timeout_ms = 5000;
};

// AT+CIPAP: the SoftAP's IP address, in the same forms as AT+CIPSTA (transcript 02 prints
// +CIPAP:ip:"192.168.4.1", gateway and netmask).
struct cipap : detail::interface_address_forms<"CIPAP"> {
    static constexpr std::string_view command = "AT+CIPAP";
    static constexpr std::uint32_t timeout_ms = 1000;
};

// AT+CWSTATE: the station's state and the SSID it is joined to, or joining.
struct cwstate {
    static constexpr std::string_view command = "AT+CWSTATE";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version since{2, 1, 0, 0};
    using V = wifi_status;
    using query = query_form<one<line<V, "CWSTATE",
                                      fields<field<&V::state, number<wifi_state>>, field<&V::ssid, quoted<max_ssid_length>>>,
                                      1>>>;
};

// AT+CWDHCP: DHCP on or off per interface. The query prints the mask of interfaces running it.
struct cwdhcp {
    static constexpr std::string_view command = "AT+CWDHCP";
    static constexpr std::uint32_t timeout_ms = 1000;
    using R = cwdhcp_request;
    using query = query_form<one<line<std::uint8_t, "CWDHCP", fields<whole<integer<std::uint8_t>>>>>>;
    using set = set_form<R, fields<field<&R::enable, flag>, field<&R::interfaces, ranged<bounded<std::uint8_t, 1, 7>>>>>;
};

// AT+CWLAPOPT: how AT+CWLAP sorts, filters and prints. Set only.
struct cwlapopt {
    static constexpr std::string_view command = "AT+CWLAPOPT";
    static constexpr std::uint32_t timeout_ms = 1000;
    using R = cwlapopt_request;
    using set = set_form<R, fields<field<&R::sort_by_rssi, flag>,
                                   field<&R::print_mask, bitmask<std::uint16_t, cwlap_all_fields>>,
                                   field<&R::rssi_filter, ranged<bounded<std::int8_t, -100, 40>>>,
                                   field<&R::auth_mode_mask, bitmask<std::uint16_t>>>>;
};

// AT+CWAUTOCONN: join the saved AP at power-on (WiFiEspAT's fallback, host-drivers.md).
struct cwautoconn {
    static constexpr std::string_view command = "AT+CWAUTOCONN";
    static constexpr std::uint32_t timeout_ms = 1000;
    using query = query_form<one<line<bool, "CWAUTOCONN", fields<whole<flag>>>>>;
    using set = set_form<cwautoconn_request, fields<field<&cwautoconn_request::enable, flag>>>;
};

namespace detail {
// AT+CIPSTAMAC and AT+CIPAPMAC: the query prints +<Prefix>:"<mac>"; the set form takes one.
template <fixed_string Prefix>
struct interface_mac_forms {
    using query = query_form<one<line<mac_address, Prefix, fields<whole<mac>>>>>;
    using set = set_form<mac_request, fields<field<&mac_request::mac, mac>>>;
};
}  // namespace detail

// AT+CIPSTAMAC: the station's MAC address (lwESP reads it after joining).
struct cipstamac : detail::interface_mac_forms<"CIPSTAMAC"> {
    static constexpr std::string_view command = "AT+CIPSTAMAC";
    static constexpr std::uint32_t timeout_ms = 1000;
};

// AT+CIPAPMAC: the SoftAP's MAC address.
struct cipapmac : detail::interface_mac_forms<"CIPAPMAC"> {
    static constexpr std::string_view command = "AT+CIPAPMAC";
    static constexpr std::uint32_t timeout_ms = 1000;
};

}  // namespace espat::commands
