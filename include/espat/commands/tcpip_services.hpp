// espat/commands/tcpip_services.hpp — the network services of the TCP/IP commands: DNS
// (AT+CIPDOMAIN, AT+CIPDNS), SNTP (AT+CIPSNTPCFG, AT+CIPSNTPTIME), AT+PING and OTA (AT+CIUPDATE).
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/descriptor.hpp>
#include <espat/commands/tcpip_links.hpp>
#include <espat/commands/values.hpp>

#include <asio/ip/address.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace espat {

// ---------------------------------------------------------------------------------------------
// Modes, types and states.

// <ota mode> of AT+CIUPDATE.
enum class ota_mode : std::uint8_t { tcp = 0, tls = 1 };
template <>
struct enum_numbers<ota_mode> {
    static constexpr ota_mode values[] = {ota_mode::tcp, ota_mode::tls};
};

// <enable> of AT+CIPDNS: DNS servers from DHCP, or set by hand.
enum class dns_mode : std::uint8_t { automatic = 0, manual = 1 };
template <>
struct enum_numbers<dns_mode> {
    static constexpr dns_mode values[] = {dns_mode::automatic, dns_mode::manual};
};

// ---------------------------------------------------------------------------------------------
// Results.

// AT+CIPSNTPCFG?. The reference always prints server1; all three are optional here so a module
// that prints none (SNTP disabled) still reads.
struct sntp_config {
    bool enabled = false;
    utc_offset timezone{0};
    std::optional<std::string> server1{};
    std::optional<std::string> server2{};
    std::optional<std::string> server3{};
    friend bool operator==(const sntp_config&, const sntp_config&) = default;
};

// AT+PING: the round-trip time, or nullopt when the module printed "+PING:TIMEOUT" (newer) or
// "+timeout" (reference, NONOS). Those come with ERROR as the final result, so a session that
// reads the lines of a failed AT+PING tells a timeout from other failures by decoding them.
using ping_time = std::optional<std::chrono::milliseconds>;

// AT+CIPDNS?. Newer firmware (2.2+) prints `+CIPDNS:<enable>[,"ip1","ip2","ip3"]`; ESP32 AT
// 1.2 one bare `+CIPDNS:<ip>` line per server, with no mode (mode stays nullopt).
struct dns_config {
    std::optional<dns_mode> mode{};
    std::optional<asio::ip::address> dns1{};
    std::optional<asio::ip::address> dns2{};
    std::optional<asio::ip::address> dns3{};
    friend bool operator==(const dns_config&, const dns_config&) = default;
};

// ---------------------------------------------------------------------------------------------
// Requests (set forms), named <descriptor>_request.

struct cipdomain_request {
    required<std::string> domain;
    friend bool operator==(const cipdomain_request&, const cipdomain_request&) = default;
};

// AT+CIPSNTPCFG=<enable>,<timezone>[,<server1>,<server2>,<server3>]
struct cipsntpcfg_request {
    required<bool> enable;
    utc_offset timezone;
    std::optional<std::string> server1{};
    std::optional<std::string> server2{};
    std::optional<std::string> server3{};
    friend bool operator==(const cipsntpcfg_request&, const cipsntpcfg_request&) = default;
};

// AT+CIUPDATE=<ota mode>[,<version>][,<firmware name>]. The reference's syntax line has a stray
// comma ("[,<version>],[,<firmware name>]"); its examples (1,"v2.2.0.0","mqtt_ca") settle it.
struct ciupdate_request {
    required<ota_mode> mode;
    std::optional<std::string> version{};   // "v1.2.0.0"
    std::optional<std::string> firmware{};  // partition name: "ota", "mqtt_ca", ...
    friend bool operator==(const ciupdate_request&, const ciupdate_request&) = default;
};

struct ping_request {
    required<std::string> host;  // IP address or domain name
    friend bool operator==(const ping_request&, const ping_request&) = default;
};

// AT+CIPDNS=<enable>[,<"DNS IP1">,<"DNS IP2">,<"DNS IP3">] (the three must differ)
struct cipdns_request {
    required<dns_mode> mode;
    std::optional<asio::ip::address> dns1{};
    std::optional<asio::ip::address> dns2{};
    std::optional<asio::ip::address> dns3{};
    friend bool operator==(const cipdns_request&, const cipdns_request&) = default;
};

// AT 1.x's AT+CIPDNS_CUR / AT+CIPDNS_DEF=<enable>[,<DNS server0>,<DNS server1>]: two servers.
struct cipdns_cur_request {
    required<dns_mode> mode;
    std::optional<asio::ip::address> dns1{};
    std::optional<asio::ip::address> dns2{};
    friend bool operator==(const cipdns_cur_request&, const cipdns_cur_request&) = default;
};
using cipdns_def_request = cipdns_cur_request;

}  // namespace espat

namespace espat::commands {

// AT+CIUPDATE's strings, with the codecs of tcpip_links.hpp.
namespace tcpip_codecs {

// AT+CIUPDATE's version ("v1.2.0.0") and partition name (ESP-IDF labels are at most 16
// bytes); the reference gives neither maximum.
using ota_version = quoted<32>;
using partition_name = quoted<16>;

}  // namespace tcpip_codecs

// AT+CIPDOMAIN="<domain>" -> +CIPDOMAIN:<IP> (quoted on newer firmware, bare on ESP8266 2.0).
// 10 s: the module waits for the DNS answer.
struct cipdomain {
    static constexpr std::string_view command = "AT+CIPDOMAIN";
    static constexpr std::uint32_t timeout_ms = 10000;
    using set = set_form<cipdomain_request, fields<field<&cipdomain_request::domain, tcpip_codecs::host>>,
                         one<line<asio::ip::address, "CIPDOMAIN", fields<whole<ip_address>>>>>;
};

// AT+CIPSNTPCFG: query, set, and the execute form that clears the SNTP servers.
struct cipsntpcfg {
    static constexpr std::string_view command = "AT+CIPSNTPCFG";
    static constexpr std::uint32_t timeout_ms = 1000;
    using V = sntp_config;
    using R = cipsntpcfg_request;
    using query = query_form<one<line<V, "CIPSNTPCFG",
                                      fields<field<&V::enabled, flag>, field<&V::timezone, time_zone>,
                                             field<&V::server1, tcpip_codecs::host>, field<&V::server2, tcpip_codecs::host>,
                                             field<&V::server3, tcpip_codecs::host>>>>>;
    using set = set_form<R, fields<field<&R::enable, flag>, field<&R::timezone, time_zone>,
                                   field<&R::server1, tcpip_codecs::host>, field<&R::server2, tcpip_codecs::host>,
                                   field<&R::server3, tcpip_codecs::host>>>;
    using execute = execute_form<>;
};

// AT+CIPSNTPTIME? -> +CIPSNTPTIME:<asctime>, the day space- (ESP32) or zero-padded (ESP8266);
// written space-padded. 1970 means "not synchronised yet".
struct cipsntptime {
    static constexpr std::string_view command = "AT+CIPSNTPTIME";
    static constexpr std::uint32_t timeout_ms = 1000;
    using query = query_form<one<line<std::chrono::sys_seconds, "CIPSNTPTIME", fields<whole<asctime>>>>>;
};

// AT+CIUPDATE / AT+CIUPDATE=<ota mode>[,<version>][,<firmware name>]. The +CIPUPDATE:<n>
// progress lines are reports (the parser's update_progress events), not part of the result;
// after OK the module reboots.
struct ciupdate {
    static constexpr std::string_view command = "AT+CIUPDATE";
    static constexpr std::uint32_t timeout_ms = 300000;
    using R = ciupdate_request;
    using set = set_form<R, fields<field<&R::mode, number<ota_mode>>, field<&R::version, tcpip_codecs::ota_version>,
                                   field<&R::firmware, tcpip_codecs::partition_name>>>;
    using execute = execute_form<>;
};

// AT+PING="<host>" -> +PING:<ms> (ESP32), +<ms> (NONOS; the parser names it PING too), or a
// timeout (see ping_time). Written +PING:<ms> / +PING:TIMEOUT.
struct ping {
    static constexpr std::string_view command = "AT+PING";
    static constexpr std::uint32_t timeout_ms = 5000;
    using set = set_form<ping_request, fields<field<&ping_request::host, tcpip_codecs::host>>,
                         one<line<ping_time, "PING",
                                  fields<whole<or_keyword<duration<std::chrono::milliseconds, tcpip_codecs::int_max>, "TIMEOUT">>>>>>;
};

// AT+CIPDNS?: the newer one-line form or the older line per server (see dns_config); written in
// the newer form.
struct cipdns {
    static constexpr std::string_view command = "AT+CIPDNS";
    static constexpr std::uint32_t timeout_ms = 1000;
    using V = dns_config;
    using R = cipdns_request;
    using query = query_form<one_of<
        one<line<V, "CIPDNS", fields<field<&V::mode, number<dns_mode>>, field<&V::dns1, ip_address>,
                                     field<&V::dns2, ip_address>, field<&V::dns3, ip_address>>>>,
        sequence<V, "CIPDNS", slot<&V::dns1, ip_address>, slot<&V::dns2, ip_address>, slot<&V::dns3, ip_address>>>>;
    using set = set_form<R, fields<field<&R::mode, number<dns_mode>>, field<&R::dns1, ip_address>,
                                   field<&R::dns2, ip_address>, field<&R::dns3, ip_address>>>;
};

namespace detail {
// AT+CIPDNS_CUR and AT+CIPDNS_DEF (AT 1.x's pair, see wifi.hpp): the query prints one bare
// +<Prefix>:<ip> line per server in use (WiFiEspAT's AT 1 mode reads them so), no mode.
template <fixed_string Prefix>
struct at1_dns_forms {
    using V = dns_config;
    using R = cipdns_cur_request;
    using query = query_form<sequence<V, Prefix, slot<&V::dns1, bare_ip_address>, slot<&V::dns2, bare_ip_address>>>;
    using set = set_form<R, fields<field<&R::mode, number<dns_mode>>, field<&R::dns1, ip_address>, field<&R::dns2, ip_address>>>;
};
}  // namespace detail

// AT+CIPDNS_CUR: the DNS servers until reset. "Set command: AT+CIPDNS_CUR=0" goes back to the
// default server (208.67.222.222) and what the AP's DHCP gives.
struct cipdns_cur : detail::at1_dns_forms<"CIPDNS_CUR"> {
    static constexpr std::string_view command = "AT+CIPDNS_CUR";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr version until{2, 0, 0, 0};
};

// AT+CIPDNS_DEF: the same, saved in flash; its query: "the user-defined DNS servers which
// saved in flash".
struct cipdns_def : detail::at1_dns_forms<"CIPDNS_DEF"> {
    static constexpr std::string_view command = "AT+CIPDNS_DEF";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr version until{2, 0, 0, 0};
};

}  // namespace espat::commands
