// espat/commands/tcpip.hpp — the TCP/IP AT commands (links, servers, sending, passive receive,
// SSL client settings, DNS, SNTP, ping, OTA) as command descriptors, with their value types.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/descriptor.hpp>
#include <espat/commands/values.hpp>

#include <asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <ratio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Firmware ranges: a descriptor's `since` is the first firmware version that has the command,
// its `until` the first that no longer has it (so CIPSTATUS until 4.1 and CIPSTATE since 4.1
// never overlap). Versions are the ESP-AT version AT+GMR prints (DESIGN.md "Firmware versions").

namespace espat {

// ---------------------------------------------------------------------------------------------
// Modes, types and states.

// STATUS:<stat> of AT+CIPSTATUS: the station interface.
enum class station_state : std::uint8_t {
    inactive = 0,      // the station is inactive
    idle = 1,          // the station is idle
    got_ip = 2,        // connected to an AP, IP obtained
    connected = 3,     // a TCP or SSL transmission is open
    disconnected = 4,  // the transmission was closed (also printed while a UDP link is open)
    no_ap = 5,         // not connected to an AP
};
template <>
struct enum_numbers<station_state> {
    static constexpr station_state values[] = {station_state::inactive,  station_state::idle,
                                               station_state::got_ip,    station_state::connected,
                                               station_state::disconnected, station_state::no_ap};
};

// The "TCP" / "UDP" / "SSL" of AT+CIPSTART, AT+SAVETRANSLINK and the link status lines. The
// reference lists no IPv6 types (TCPv6...), so neither does this.
enum class link_type : std::uint8_t { tcp, udp, ssl };
template <>
struct enum_keywords<link_type> {
    static constexpr std::pair<link_type, std::string_view> words[] = {
        {link_type::tcp, "TCP"}, {link_type::udp, "UDP"}, {link_type::ssl, "SSL"}};
};

// <tetype> of the link status lines: whether the module opened the link or accepted it.
enum class link_role : std::uint8_t { client = 0, server = 1 };
template <>
struct enum_numbers<link_role> {
    static constexpr link_role values[] = {link_role::client, link_role::server};
};

// <UDP mode> of AT+CIPSTART: whether the remote peer of a UDP link may change. Passthrough
// (AT+CIPMODE=1) needs fixed.
enum class udp_mode : std::uint8_t {
    fixed = 0,        // the peer never changes (the default)
    change_once = 1,  // the peer may change once
    changeable = 2,   // the peer follows whoever sent last
};
template <>
struct enum_numbers<udp_mode> {
    static constexpr udp_mode values[] = {udp_mode::fixed, udp_mode::change_once, udp_mode::changeable};
};

enum class mux_mode : std::uint8_t { single = 0, multiple = 1 };
template <>
struct enum_numbers<mux_mode> {
    static constexpr mux_mode values[] = {mux_mode::single, mux_mode::multiple};
};

// <mode> of AT+CIPSERVER.
enum class server_mode : std::uint8_t { remove = 0, create = 1 };
template <>
struct enum_numbers<server_mode> {
    static constexpr server_mode values[] = {server_mode::remove, server_mode::create};
};

// AT+CIPMODE's transmission mode, and AT+SAVETRANSLINK's mode at power-up.
enum class transfer_mode : std::uint8_t { normal = 0, passthrough = 1 };
template <>
struct enum_numbers<transfer_mode> {
    static constexpr transfer_mode values[] = {transfer_mode::normal, transfer_mode::passthrough};
};

// <ota mode> of AT+CIUPDATE.
enum class ota_mode : std::uint8_t { tcp = 0, tls = 1 };
template <>
struct enum_numbers<ota_mode> {
    static constexpr ota_mode values[] = {ota_mode::tcp, ota_mode::tls};
};

// <auth_mode> of AT+CIPSSLCCONF.
enum class ssl_auth_mode : std::uint8_t {
    none = 0,                // no certificates
    client_certificate = 1,  // load the client's certificate and key, for the server to check
    verify_server = 2,       // load a CA, to check the server's certificate
    mutual = 3,              // both
};
template <>
struct enum_numbers<ssl_auth_mode> {
    static constexpr ssl_auth_mode values[] = {ssl_auth_mode::none, ssl_auth_mode::client_certificate,
                                               ssl_auth_mode::verify_server, ssl_auth_mode::mutual};
};

// Socket receive mode (AT+CIPRECVMODE, per link AT+CIPRECVTYPE): data pushed as +IPD, or kept
// until read with AT+CIPRECVDATA.
enum class recv_mode : std::uint8_t { active = 0, passive = 1 };
template <>
struct enum_numbers<recv_mode> {
    static constexpr recv_mode values[] = {recv_mode::active, recv_mode::passive};
};

// <enable> of AT+CIPDNS: DNS servers from DHCP, or set by hand.
enum class dns_mode : std::uint8_t { automatic = 0, manual = 1 };
template <>
struct enum_numbers<dns_mode> {
    static constexpr dns_mode values[] = {dns_mode::automatic, dns_mode::manual};
};

// ---------------------------------------------------------------------------------------------
// Values with a documented range.

// <length> of AT+CIPSEND / AT+CIPSENDEX: the type allows the newest firmware's 8192; what a
// given module takes is max_send_length(its version). 0 bytes is nothing to send.
using send_length = bounded<std::uint16_t, 1, 8192>;

// <len> of AT+CIPRECVDATA: "the max value is up to 0x7fffffff".
using recv_length = bounded<std::uint32_t, 1, 0x7fffffff>;

// <num> of AT+CIPSERVERMAXCONN. The reference gives no range; a server's clients take link
// ids 0..4, so at most 5.
using server_connections = bounded<std::uint8_t, 1, 5>;

// AT+CIPRECONNINTV counts in 100 ms steps.
using deciseconds = std::chrono::duration<std::int64_t, std::deci>;

// AT+CIPCLOSE=5 and the SSL/TCP option commands' <link ID> "max": every link.
inline constexpr close_link_id all_links{5};

// AT+CIPTCPOPT's <so_linger> of -1: SO_LINGER off (0 s is "on, linger time 0").
inline constexpr std::chrono::seconds linger_off{-1};

// The most bytes one AT+CIPSEND / AT+CIPSENDEX may announce to a module of version v. The
// reference (ESP-AT 2.x) says 2048; DESIGN.md says newer firmware raised it to 8192 without a
// version. Threshold chosen: 3.0.0.0, the first generation after the one the reference
// documents. Everything older (ESP-AT 2.x, ESP32 AT 1.x, ESP8266 NONOS 0.x-1.7) gets 2048,
// which every firmware accepts; a 2.x build that would take more only sends in smaller pieces.
[[nodiscard]] constexpr std::size_t max_send_length(const version& v) noexcept
{
    return v < version{3, 0, 0, 0} ? 2048 : 8192;
}

// ---------------------------------------------------------------------------------------------
// Results.

// One +CIPSTATUS / +CIPSTATE line: <link ID>,<"type">,<"remote IP">,<remote port>,<local port>,<tetype>.
struct link_status {
    link_id link{0};
    link_type type{};
    asio::ip::address remote_ip{};
    std::uint16_t remote_port = 0;
    std::uint16_t local_port = 0;
    link_role role{};
    friend bool operator==(const link_status&, const link_status&) = default;
};

// AT+CIPSTATUS: the station's state and the open links (none: no +CIPSTATUS lines).
struct connection_status {
    station_state state{};
    std::vector<link_status> links;
    friend bool operator==(const connection_status&, const connection_status&) = default;
};

// AT+CIFSR: what the module printed; an interface that is down or absent stays empty.
struct local_addresses {
    std::optional<asio::ip::address> ap_ip{};
    std::optional<mac_address> ap_mac{};
    std::optional<asio::ip::address> sta_ip{};
    std::optional<mac_address> sta_mac{};
    friend bool operator==(const local_addresses&, const local_addresses&) = default;
};

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

// +CIPSSLCCONF:<link ID>,<auth_mode>,<pki_number>,<ca_number>
struct ssl_client_config {
    link_id link{0};
    ssl_auth_mode auth{};
    std::uint8_t pki_number = 0;
    std::uint8_t ca_number = 0;
    friend bool operator==(const ssl_client_config&, const ssl_client_config&) = default;
};

// +CIPSSLCCN:<link ID>,<"common name">
struct ssl_common_name {
    link_id link{0};
    std::string name;
    friend bool operator==(const ssl_common_name&, const ssl_common_name&) = default;
};

// +CIPSSLCSNI:<link ID>,<"sni">
struct ssl_server_name {
    link_id link{0};
    std::string name;
    friend bool operator==(const ssl_server_name&, const ssl_server_name&) = default;
};

// +CIPSSLCALPN:<link ID>,<"alpn">[,<"alpn">[,<"alpn">]]
struct ssl_alpn {
    link_id link{0};
    std::vector<std::string> protocols;
    friend bool operator==(const ssl_alpn&, const ssl_alpn&) = default;
};

// +CIPSSLCPSK:<link ID>,<"psk">,<"hint">
struct ssl_psk {
    link_id link{0};
    std::string psk;
    std::string hint;
    friend bool operator==(const ssl_psk&, const ssl_psk&) = default;
};

// +CIPRECVTYPE:<link ID>,<mode>
struct link_recv_mode {
    link_id link{0};
    recv_mode mode{};
    friend bool operator==(const link_recv_mode&, const link_recv_mode&) = default;
};

// AT+CIPRECVLEN?: bytes buffered per link, index = link id. A link with nothing to report
// (printed "-1" on some builds, nothing on the reference) is nullopt; "0" stays 0. Single-link
// firmware prints one number, the reference's example six, its syntax five.
using receive_lengths = std::vector<std::optional<std::uint32_t>>;

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

// +CIPTCPOPT:<link_id>,<so_linger>,<tcp_nodelay>,<so_sndtimeo>
struct socket_options {
    link_id link{0};
    std::chrono::seconds linger{-1};  // linger_off (-1), or the linger time
    bool no_delay = false;
    std::chrono::milliseconds send_timeout{0};  // 0: none
    friend bool operator==(const socket_options&, const socket_options&) = default;
};

// ---------------------------------------------------------------------------------------------
// Requests (set forms), named <descriptor>_request. `link` is the optional leading
// "[<link ID>,]": give it in multiple-connection mode (AT+CIPMUX=1), leave it out in single.

struct cipdomain_request {
    required<std::string> domain;
    friend bool operator==(const cipdomain_request&, const cipdomain_request&) = default;
};

// AT+CIPSTART=[<link ID>,]"TCP"|"SSL",<remote host>,<remote port>[,<keep alive>][,<local IP>]
struct cipstart_tcp_request {
    std::optional<link_id> link{};
    required<std::string> host;  // IP address or domain name
    required<std::uint16_t> port;
    std::optional<std::chrono::seconds> keep_alive{};  // 0: off, 1..7200 s
    std::optional<asio::ip::address> local_ip{};
    friend bool operator==(const cipstart_tcp_request&, const cipstart_tcp_request&) = default;
};
using cipstart_ssl_request = cipstart_tcp_request;

// AT+CIPSTART=[<link ID>,]"UDP",<remote host>,<remote port>[,<local port>,<UDP mode>][,<local IP>]
// The reference: <UDP mode> needs <local port>; the module refuses it alone.
struct cipstart_udp_request {
    std::optional<link_id> link{};
    required<std::string> host;
    required<std::uint16_t> port;
    std::optional<std::uint16_t> local_port{};
    std::optional<udp_mode> mode{};
    std::optional<asio::ip::address> local_ip{};
    friend bool operator==(const cipstart_udp_request&, const cipstart_udp_request&) = default;
};

// AT+CIPSTARTEX: AT+CIPSTART without the link id (the module picks one).
struct cipstartex_tcp_request {
    required<std::string> host;
    required<std::uint16_t> port;
    std::optional<std::chrono::seconds> keep_alive{};
    std::optional<asio::ip::address> local_ip{};
    friend bool operator==(const cipstartex_tcp_request&, const cipstartex_tcp_request&) = default;
};
using cipstartex_ssl_request = cipstartex_tcp_request;

struct cipstartex_udp_request {
    required<std::string> host;
    required<std::uint16_t> port;
    std::optional<std::uint16_t> local_port{};
    std::optional<udp_mode> mode{};
    std::optional<asio::ip::address> local_ip{};
    friend bool operator==(const cipstartex_udp_request&, const cipstartex_udp_request&) = default;
};

// AT+CIPSEND=[<link ID>,]<length> (and AT+CIPSENDEX)
struct cipsend_request {
    std::optional<link_id> link{};
    send_length length;
    friend bool operator==(const cipsend_request&, const cipsend_request&) = default;
};
using cipsendex_request = cipsend_request;

// AT+CIPSEND=[<link ID>,]<length>,<remote IP>,<remote port>: one datagram to another peer of a
// UDP link (and AT+CIPSENDEX).
struct cipsend_udp_request {
    std::optional<link_id> link{};
    send_length length;
    required<asio::ip::address> remote_ip;
    required<std::uint16_t> remote_port;
    friend bool operator==(const cipsend_udp_request&, const cipsend_udp_request&) = default;
};
using cipsendex_udp_request = cipsend_udp_request;

struct cipclose_request {
    close_link_id link;  // 0..4, or all_links
    friend bool operator==(const cipclose_request&, const cipclose_request&) = default;
};

struct cipmux_request {
    required<mux_mode> mode;
    friend bool operator==(const cipmux_request&, const cipmux_request&) = default;
};

// AT+CIPSERVER=<mode>[,<port>] (the port is 333 when left out)
struct cipserver_request {
    required<server_mode> mode;
    std::optional<std::uint16_t> port{};
    friend bool operator==(const cipserver_request&, const cipserver_request&) = default;
};

// AT+CIPSERVER=<mode>[,<port>],"SSL",<SSL CA enable> (ESP32 only): "SSL" and the CA flag go
// together in the reference's syntax.
struct cipserver_ssl_request {
    required<server_mode> mode;
    std::optional<std::uint16_t> port{};
    required<bool> ca_enable;  // check clients' certificates against the CA
    friend bool operator==(const cipserver_ssl_request&, const cipserver_ssl_request&) = default;
};

struct cipservermaxconn_request {
    server_connections count;
    friend bool operator==(const cipservermaxconn_request&, const cipservermaxconn_request&) = default;
};

struct cipmode_request {
    required<transfer_mode> mode;
    friend bool operator==(const cipmode_request&, const cipmode_request&) = default;
};

// AT+SAVETRANSLINK=<mode>,<remote host>,<remote port>[,"TCP",<keep alive>]
struct savetranslink_tcp_request {
    required<transfer_mode> mode;  // passthrough: enter passthrough at power-up
    required<std::string> host;
    required<std::uint16_t> port;
    std::optional<std::chrono::seconds> keep_alive{};
    friend bool operator==(const savetranslink_tcp_request&, const savetranslink_tcp_request&) = default;
};

// AT+SAVETRANSLINK=<mode>,<remote host>,<remote port>,"SSL"[,<keep alive>]: as the TCP form,
// with TLS on link 0's AT+CIPSSLC* settings (the reference, AT+CIPSSLCCONF: "If you use
// AT+SAVETRANSLINK to set SSL passthrough mode, the ESP will establish an SSL connection based
// on this configuration after next power on").
using savetranslink_ssl_request = savetranslink_tcp_request;

// AT+SAVETRANSLINK=<mode>,<remote host>,<remote port>,"UDP"[,<UDP local port>]
struct savetranslink_udp_request {
    required<transfer_mode> mode;
    required<std::string> host;
    required<std::uint16_t> port;
    std::optional<std::uint16_t> local_port{};
    friend bool operator==(const savetranslink_udp_request&, const savetranslink_udp_request&) = default;
};

struct cipsto_request {
    required<std::chrono::seconds> timeout;  // 0..7200 s; 0: never
    friend bool operator==(const cipsto_request&, const cipsto_request&) = default;
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

struct cipdinfo_request {
    required<bool> show_remote;  // +IPD and +CIPRECVDATA carry the remote IP and port
    friend bool operator==(const cipdinfo_request&, const cipdinfo_request&) = default;
};

// AT+CIPSSLCCONF=[<link ID>,]<auth_mode>[,<pki_number>][,<ca_number>]
struct cipsslcconf_request {
    std::optional<close_link_id> link{};  // 0..4, or all_links
    required<ssl_auth_mode> auth;
    std::optional<std::uint8_t> pki_number{};
    std::optional<std::uint8_t> ca_number{};
    friend bool operator==(const cipsslcconf_request&, const cipsslcconf_request&) = default;
};

struct cipsslccn_request {
    std::optional<close_link_id> link{};
    required<std::string> common_name;
    friend bool operator==(const cipsslccn_request&, const cipsslccn_request&) = default;
};

struct cipsslcsni_request {
    std::optional<close_link_id> link{};
    required<std::string> server_name;
    friend bool operator==(const cipsslcsni_request&, const cipsslcsni_request&) = default;
};

// AT+CIPSSLCALPN=[<link ID>,]<counts>,<"alpn">[,<"alpn">[,<"alpn">]]: <counts> is written
// from the list, so it cannot disagree with it.
using alpn_list = std::vector<std::string>;
struct cipsslcalpn_request {
    std::optional<close_link_id> link{};
    required<alpn_list> protocols;  // 1..3
    friend bool operator==(const cipsslcalpn_request&, const cipsslcalpn_request&) = default;
};

struct cipsslcpsk_request {
    std::optional<close_link_id> link{};
    required<std::string> psk;   // identity, at most 32 bytes
    required<std::string> hint;  // at most 32 bytes
    friend bool operator==(const cipsslcpsk_request&, const cipsslcpsk_request&) = default;
};

// AT+CIPSSLSIZE=<size>: the ESP8266's TLS buffer, 2048..4096 bytes. ESP32 firmware has no such
// command and answers ERROR (Adafruit's driver expects that, host-drivers.md).
struct cipsslsize_request {
    bounded<std::uint16_t, 2048, 4096> size;
    friend bool operator==(const cipsslsize_request&, const cipsslsize_request&) = default;
};

struct cipreconnintv_request {
    required<deciseconds> interval;  // 1..36000 (100 ms .. 1 h)
    friend bool operator==(const cipreconnintv_request&, const cipreconnintv_request&) = default;
};

struct ciprecvmode_request {
    required<recv_mode> mode;
    friend bool operator==(const ciprecvmode_request&, const ciprecvmode_request&) = default;
};

struct ciprecvtype_request {
    std::optional<close_link_id> link{};
    required<recv_mode> mode;
    friend bool operator==(const ciprecvtype_request&, const ciprecvtype_request&) = default;
};

struct ciprecvdata_request {
    std::optional<link_id> link{};
    recv_length length;
    friend bool operator==(const ciprecvdata_request&, const ciprecvdata_request&) = default;
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

// AT+CIPTCPOPT=[<link ID>,][<so_linger>],[<tcp_nodelay>],[<so_sndtimeo>]: each option may be
// left out (its comma stays when a later one follows).
struct ciptcpopt_request {
    std::optional<close_link_id> link{};
    std::optional<std::chrono::seconds> linger{};  // linger_off, or 0.. s
    std::optional<bool> no_delay{};
    std::optional<std::chrono::milliseconds> send_timeout{};
    friend bool operator==(const ciptcpopt_request&, const ciptcpopt_request&) = default;
};

}  // namespace espat

namespace espat::commands {

// Codecs shared by several TCP/IP descriptors.
namespace tcpip_codecs {

// A remote host: an IP address or a domain name. The reference gives no maximum; 253 is a DNS
// name's (RFC 1035); the 256-byte command line usually binds first.
using host = quoted<253>;
using port = integer<std::uint16_t>;
using keep_alive = duration<std::chrono::seconds, 7200>;  // 0: off, 1..7200 s
// No documented maximum for SO_LINGER / SO_SNDTIMEO: the firmware keeps an int.
inline constexpr std::int64_t int_max = std::numeric_limits<std::int32_t>::max();
using linger = duration<std::chrono::seconds, int_max, -1>;
using send_timeout = duration<std::chrono::milliseconds, int_max>;
// X.509's upper bound for a commonName (RFC 5280 ub-common-name); the reference gives none.
using common_name = quoted<64>;
// An ALPN protocol id ("h2", "http/1.1"); the reference gives no maximum, 64 is ample and keeps
// three of them within one command line.
using alpn = quoted<64>;
using psk_text = quoted<32>;  // "maxlen is 32"
// AT+CIUPDATE's version ("v1.2.0.0") and partition name (ESP-IDF labels are at most 16
// bytes); the reference gives neither maximum.
using ota_version = quoted<32>;
using partition_name = quoted<16>;

template <fixed_string Prefix>
using link_status_line =
    line<link_status, Prefix,
         fields<field<&link_status::link, ranged<link_id>>, field<&link_status::type, keyword<link_type>>,
                field<&link_status::remote_ip, ip_address>, field<&link_status::remote_port, port>,
                field<&link_status::local_port, port>, field<&link_status::role, number<link_role>>>>;

}  // namespace tcpip_codecs

// AT+CIPSTATUS: STATUS:<stat> then one +CIPSTATUS line per open link. Replaced by AT+CIPSTATE
// in 4.1 (DESIGN.md, firmware-quirks.md).
struct cipstatus {
    static constexpr std::string_view command = "AT+CIPSTATUS";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr version until{4, 1, 0, 0};
    using execute = execute_form<record<
        connection_status,
        part<&connection_status::state, one<plain_line<station_state, "STATUS", fields<whole<number<station_state>>>>>>,
        part<&connection_status::links, many<tcpip_codecs::link_status_line<"CIPSTATUS">>>>>;
};

// AT+CIPSTATE?: one +CIPSTATE line per open link (the newer firmware's AT+CIPSTATUS, 4.1 per
// DESIGN.md; not in the reference, which documents 2.x).
struct cipstate {
    static constexpr std::string_view command = "AT+CIPSTATE";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr version since{4, 1, 0, 0};
    using query = query_form<many<tcpip_codecs::link_status_line<"CIPSTATE">>>;
};

// AT+CIPDOMAIN="<domain>" -> +CIPDOMAIN:<IP> (quoted on newer firmware, bare on ESP8266 2.0).
// 10 s: the module waits for the DNS answer.
struct cipdomain {
    static constexpr std::string_view command = "AT+CIPDOMAIN";
    static constexpr std::uint32_t timeout_ms = 10000;
    using set = set_form<cipdomain_request, fields<field<&cipdomain_request::domain, tcpip_codecs::host>>,
                         one<line<asio::ip::address, "CIPDOMAIN", fields<whole<ip_address>>>>>;
};

// AT+CIPSTART: one descriptor per link type. The result is the final OK; CONNECT is a report.
struct cipstart_tcp {
    static constexpr std::string_view command = "AT+CIPSTART";
    static constexpr std::uint32_t timeout_ms = 10000;  // DNS lookup and TCP handshake
    using R = cipstart_tcp_request;
    using set = set_form<R, fields<leading_field<&R::link, ranged<link_id>>, fixed<keyword<link_type>, link_type::tcp>,
                                   field<&R::host, tcpip_codecs::host>, field<&R::port, tcpip_codecs::port>,
                                   field<&R::keep_alive, tcpip_codecs::keep_alive>, field<&R::local_ip, ip_address>>>;
};

struct cipstart_udp {
    static constexpr std::string_view command = "AT+CIPSTART";
    static constexpr std::uint32_t timeout_ms = 10000;
    using R = cipstart_udp_request;
    using set = set_form<R, fields<leading_field<&R::link, ranged<link_id>>, fixed<keyword<link_type>, link_type::udp>,
                                   field<&R::host, tcpip_codecs::host>, field<&R::port, tcpip_codecs::port>,
                                   field<&R::local_port, tcpip_codecs::port>, field<&R::mode, number<udp_mode>>,
                                   field<&R::local_ip, ip_address>>>;
};

// 30 s: "the timeout of each packet is 10s", and a TLS handshake is several packets.
struct cipstart_ssl {
    static constexpr std::string_view command = "AT+CIPSTART";
    static constexpr std::uint32_t timeout_ms = 30000;
    using R = cipstart_ssl_request;
    using set = set_form<R, fields<leading_field<&R::link, ranged<link_id>>, fixed<keyword<link_type>, link_type::ssl>,
                                   field<&R::host, tcpip_codecs::host>, field<&R::port, tcpip_codecs::port>,
                                   field<&R::keep_alive, tcpip_codecs::keep_alive>, field<&R::local_ip, ip_address>>>;
};

// AT+CIPSTARTEX: as AT+CIPSTART, without the link id; the module assigns one (its
// "<id>,CONNECT" report says which).
struct cipstartex_tcp {
    static constexpr std::string_view command = "AT+CIPSTARTEX";
    static constexpr std::uint32_t timeout_ms = 10000;
    using R = cipstartex_tcp_request;
    using set = set_form<R, fields<fixed<keyword<link_type>, link_type::tcp>, field<&R::host, tcpip_codecs::host>,
                                   field<&R::port, tcpip_codecs::port>, field<&R::keep_alive, tcpip_codecs::keep_alive>,
                                   field<&R::local_ip, ip_address>>>;
};

struct cipstartex_udp {
    static constexpr std::string_view command = "AT+CIPSTARTEX";
    static constexpr std::uint32_t timeout_ms = 10000;
    using R = cipstartex_udp_request;
    using set = set_form<R, fields<fixed<keyword<link_type>, link_type::udp>, field<&R::host, tcpip_codecs::host>,
                                   field<&R::port, tcpip_codecs::port>, field<&R::local_port, tcpip_codecs::port>,
                                   field<&R::mode, number<udp_mode>>, field<&R::local_ip, ip_address>>>;
};

struct cipstartex_ssl {
    static constexpr std::string_view command = "AT+CIPSTARTEX";
    static constexpr std::uint32_t timeout_ms = 30000;
    using R = cipstartex_ssl_request;
    using set = set_form<R, fields<fixed<keyword<link_type>, link_type::ssl>, field<&R::host, tcpip_codecs::host>,
                                   field<&R::port, tcpip_codecs::port>, field<&R::keep_alive, tcpip_codecs::keep_alive>,
                                   field<&R::local_ip, ip_address>>>;
};

// AT+CIPSEND=[<link ID>,]<length> (then OK, '>', the data, SEND OK: the session's part), and
// the execute form AT+CIPSEND that starts passthrough sending (AT+CIPMODE=1, single link).
// 10 s covers the prompt and SEND OK for 8 KiB at 115200 baud; slower lines need more.
struct cipsend {
    static constexpr std::string_view command = "AT+CIPSEND";
    static constexpr std::uint32_t timeout_ms = 10000;
    using R = cipsend_request;
    using set = set_form<R, fields<leading_field<&R::link, ranged<link_id>>, field<&R::length, ranged<send_length>>>>;
    using execute = execute_form<>;
};

// AT+CIPSEND=[<link ID>,]<length>,<remote IP>,<remote port>: a UDP datagram to another peer.
// Told from cipsend by its parameter count.
struct cipsend_udp {
    static constexpr std::string_view command = "AT+CIPSEND";
    static constexpr std::uint32_t timeout_ms = 10000;
    using R = cipsend_udp_request;
    using set = set_form<R, fields<leading_field<&R::link, ranged<link_id>>, field<&R::length, ranged<send_length>>,
                                   field<&R::remote_ip, ip_address>, field<&R::remote_port, tcpip_codecs::port>>>;
};

// AT+CIPSENDEX: as AT+CIPSEND, but "\0" in the data ends it early (no execute form).
struct cipsendex {
    static constexpr std::string_view command = "AT+CIPSENDEX";
    static constexpr std::uint32_t timeout_ms = 10000;
    using R = cipsendex_request;
    using set = set_form<R, fields<leading_field<&R::link, ranged<link_id>>, field<&R::length, ranged<send_length>>>>;
};

struct cipsendex_udp {
    static constexpr std::string_view command = "AT+CIPSENDEX";
    static constexpr std::uint32_t timeout_ms = 10000;
    using R = cipsendex_udp_request;
    using set = set_form<R, fields<leading_field<&R::link, ranged<link_id>>, field<&R::length, ranged<send_length>>,
                                   field<&R::remote_ip, ip_address>, field<&R::remote_port, tcpip_codecs::port>>>;
};

// AT+CIPCLOSE=<link ID> (5: all) in multiple-connection mode, AT+CIPCLOSE in single. 5 s: an
// SSL link says close_notify and waits for the peer.
struct cipclose {
    static constexpr std::string_view command = "AT+CIPCLOSE";
    static constexpr std::uint32_t timeout_ms = 5000;
    using set = set_form<cipclose_request, fields<field<&cipclose_request::link, ranged<close_link_id>>>>;
    using execute = execute_form<>;
};

// AT+CIFSR: `+CIFSR:APIP,"..."`, APMAC, STAIP, STAMAC lines (newer firmware, unknown keys such
// as ETHIP skipped), or the older bare form the reference shows: `+CIFSR:<SoftAP IP>` then
// `+CIFSR:<Station IP>`, read in that order. Written in the key form.
struct cifsr {
    static constexpr std::string_view command = "AT+CIFSR";
    static constexpr std::uint32_t timeout_ms = 1000;
    using V = local_addresses;
    using execute = execute_form<one_of<
        keyed<V, "CIFSR", ',', key<"APIP", &V::ap_ip, ip_address>, key<"APMAC", &V::ap_mac, mac>,
              key<"STAIP", &V::sta_ip, ip_address>, key<"STAMAC", &V::sta_mac, mac>>,
        sequence<V, "CIFSR", slot<&V::ap_ip, ip_address>, slot<&V::sta_ip, ip_address>>>>;
};

struct cipmux {
    static constexpr std::string_view command = "AT+CIPMUX";
    static constexpr std::uint32_t timeout_ms = 1000;
    using query = query_form<one<line<mux_mode, "CIPMUX", fields<whole<number<mux_mode>>>>>>;
    using set = set_form<cipmux_request, fields<field<&cipmux_request::mode, number<mux_mode>>>>;
};

// AT+CIPSERVER=<mode>[,<port>]. "no change" before OK (no server to delete) is a status line
// the parser reports; the result is still OK.
struct cipserver {
    static constexpr std::string_view command = "AT+CIPSERVER";
    static constexpr std::uint32_t timeout_ms = 1000;
    using R = cipserver_request;
    using set = set_form<R, fields<field<&R::mode, number<server_mode>>, field<&R::port, tcpip_codecs::port>>>;
};

// AT+CIPSERVER=<mode>[,<port>],"SSL",<SSL CA enable> (ESP32 only).
struct cipserver_ssl {
    static constexpr std::string_view command = "AT+CIPSERVER";
    static constexpr std::uint32_t timeout_ms = 1000;
    using R = cipserver_ssl_request;
    using set = set_form<R, fields<field<&R::mode, number<server_mode>>, field<&R::port, tcpip_codecs::port>,
                                   fixed<keyword<link_type>, link_type::ssl>, field<&R::ca_enable, flag>>>;
};

// The query answer is read as a plain number: what the module says is reported, not refused
// for leaving the range a request may ask for.
struct cipservermaxconn {
    static constexpr std::string_view command = "AT+CIPSERVERMAXCONN";
    static constexpr std::uint32_t timeout_ms = 1000;
    using query = query_form<one<line<std::uint8_t, "CIPSERVERMAXCONN", fields<whole<integer<std::uint8_t>>>>>>;
    using set = set_form<cipservermaxconn_request,
                         fields<field<&cipservermaxconn_request::count, ranged<server_connections>>>>;
};

struct cipmode {
    static constexpr std::string_view command = "AT+CIPMODE";
    static constexpr std::uint32_t timeout_ms = 1000;
    using query = query_form<one<line<transfer_mode, "CIPMODE", fields<whole<number<transfer_mode>>>>>>;
    using set = set_form<cipmode_request, fields<field<&cipmode_request::mode, number<transfer_mode>>>>;
};

// AT+SAVETRANSLINK, TCP form. The type is optional there ("TCP by default"): written always,
// read present or absent.
struct savetranslink_tcp {
    static constexpr std::string_view command = "AT+SAVETRANSLINK";
    static constexpr std::uint32_t timeout_ms = 1000;
    using R = savetranslink_tcp_request;
    using set = set_form<R, fields<field<&R::mode, number<transfer_mode>>, field<&R::host, tcpip_codecs::host>,
                                   field<&R::port, tcpip_codecs::port>, fixed_default<keyword<link_type>, link_type::tcp>,
                                   field<&R::keep_alive, tcpip_codecs::keep_alive>>>;
};

// AT+SAVETRANSLINK, SSL form: the TCP form's parameters, with "SSL" (never left out).
struct savetranslink_ssl {
    static constexpr std::string_view command = "AT+SAVETRANSLINK";
    static constexpr std::uint32_t timeout_ms = 1000;
    using R = savetranslink_ssl_request;
    using set = set_form<R, fields<field<&R::mode, number<transfer_mode>>, field<&R::host, tcpip_codecs::host>,
                                   field<&R::port, tcpip_codecs::port>, fixed<keyword<link_type>, link_type::ssl>,
                                   field<&R::keep_alive, tcpip_codecs::keep_alive>>>;
};

// AT+SAVETRANSLINK, UDP form: "UDP" is what tells it from the TCP form.
struct savetranslink_udp {
    static constexpr std::string_view command = "AT+SAVETRANSLINK";
    static constexpr std::uint32_t timeout_ms = 1000;
    using R = savetranslink_udp_request;
    using set = set_form<R, fields<field<&R::mode, number<transfer_mode>>, field<&R::host, tcpip_codecs::host>,
                                   field<&R::port, tcpip_codecs::port>, fixed<keyword<link_type>, link_type::udp>,
                                   field<&R::local_port, tcpip_codecs::port>>>;
};

struct cipsto {
    static constexpr std::string_view command = "AT+CIPSTO";
    static constexpr std::uint32_t timeout_ms = 1000;
    using query = query_form<one<line<std::chrono::seconds, "CIPSTO", fields<whole<duration<std::chrono::seconds, 7200>>>>>>;
    using set = set_form<cipsto_request, fields<field<&cipsto_request::timeout, duration<std::chrono::seconds, 7200>>>>;
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

struct cipdinfo {
    static constexpr std::string_view command = "AT+CIPDINFO";
    static constexpr std::uint32_t timeout_ms = 1000;
    using set = set_form<cipdinfo_request, fields<field<&cipdinfo_request::show_remote, flag>>>;
};

struct cipsslcconf {
    static constexpr std::string_view command = "AT+CIPSSLCCONF";
    static constexpr std::uint32_t timeout_ms = 1000;
    using V = ssl_client_config;
    using R = cipsslcconf_request;
    using query = query_form<many<line<V, "CIPSSLCCONF",
                                       fields<field<&V::link, ranged<link_id>>, field<&V::auth, number<ssl_auth_mode>>,
                                              field<&V::pki_number, integer<std::uint8_t>>,
                                              field<&V::ca_number, integer<std::uint8_t>>>>>>;
    using set = set_form<R, fields<leading_field<&R::link, ranged<close_link_id>>, field<&R::auth, number<ssl_auth_mode>>,
                                   field<&R::pki_number, integer<std::uint8_t>>, field<&R::ca_number, integer<std::uint8_t>>>>;
};

// The name is the last field of the query line and is read as the rest of it (responses are
// not escaped: a name may hold ',' or '"').
struct cipsslccn {
    static constexpr std::string_view command = "AT+CIPSSLCCN";
    static constexpr std::uint32_t timeout_ms = 1000;
    using V = ssl_common_name;
    using R = cipsslccn_request;
    using query = query_form<many<line<V, "CIPSSLCCN",
                                       fields<field<&V::link, ranged<link_id>>, field<&V::name, tcpip_codecs::common_name>>, 1>>>;
    using set = set_form<R, fields<leading_field<&R::link, ranged<close_link_id>>,
                                   field<&R::common_name, tcpip_codecs::common_name>>>;
};

struct cipsslcsni {
    static constexpr std::string_view command = "AT+CIPSSLCSNI";
    static constexpr std::uint32_t timeout_ms = 1000;
    using V = ssl_server_name;
    using R = cipsslcsni_request;
    using query = query_form<many<line<V, "CIPSSLCSNI",
                                       fields<field<&V::link, ranged<link_id>>, field<&V::name, tcpip_codecs::host>>, 1>>>;
    using set = set_form<R, fields<leading_field<&R::link, ranged<close_link_id>>, field<&R::server_name, tcpip_codecs::host>>>;
};

struct cipsslcalpn {
    static constexpr std::string_view command = "AT+CIPSSLCALPN";
    static constexpr std::uint32_t timeout_ms = 1000;
    using V = ssl_alpn;
    using R = cipsslcalpn_request;
    using list = list_of<tcpip_codecs::alpn, 1, 3>;
    using query = query_form<many<line<V, "CIPSSLCALPN", fields<field<&V::link, ranged<link_id>>, field<&V::protocols, list>>, 1>>>;
    using set = set_form<R, fields<leading_field<&R::link, ranged<close_link_id>>, field<&R::protocols, counted<list>>>>;
};

// "This command is not currently supported on ESP32" (the reference): ESP8266 only.
struct cipsslcpsk {
    static constexpr std::string_view command = "AT+CIPSSLCPSK";
    static constexpr std::uint32_t timeout_ms = 1000;
    using V = ssl_psk;
    using R = cipsslcpsk_request;
    using query = query_form<many<line<V, "CIPSSLCPSK",
                                       fields<field<&V::link, ranged<link_id>>, field<&V::psk, tcpip_codecs::psk_text>,
                                              field<&V::hint, tcpip_codecs::psk_text>>>>>;
    using set = set_form<R, fields<leading_field<&R::link, ranged<close_link_id>>, field<&R::psk, tcpip_codecs::psk_text>,
                                   field<&R::hint, tcpip_codecs::psk_text>>>;
};

// AT+CIPSSLSIZE: ESP8266 only (see cipsslsize_request).
struct cipsslsize {
    static constexpr std::string_view command = "AT+CIPSSLSIZE";
    static constexpr std::uint32_t timeout_ms = 1000;
    using R = cipsslsize_request;
    using set = set_form<R, fields<field<&R::size, ranged<bounded<std::uint16_t, 2048, 4096>>>>>;
};

struct cipreconnintv {
    static constexpr std::string_view command = "AT+CIPRECONNINTV";
    static constexpr std::uint32_t timeout_ms = 1000;
    using interval = duration<deciseconds, 36000, 1>;
    using query = query_form<one<line<deciseconds, "CIPRECONNINTV", fields<whole<interval>>>>>;
    using set = set_form<cipreconnintv_request, fields<field<&cipreconnintv_request::interval, interval>>>;
};

// AT+CIPRECVMODE: one mode for every link. Replaced by per-link AT+CIPRECVTYPE in 3.3
// (DESIGN.md; the transcripts' firmware <= 2.x used CIPRECVMODE).
struct ciprecvmode {
    static constexpr std::string_view command = "AT+CIPRECVMODE";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr version until{3, 3, 0, 0};
    using query = query_form<one<line<recv_mode, "CIPRECVMODE", fields<whole<number<recv_mode>>>>>>;
    using set = set_form<ciprecvmode_request, fields<field<&ciprecvmode_request::mode, number<recv_mode>>>>;
};

// AT+CIPRECVTYPE=[<link ID>,]<mode>, query +CIPRECVTYPE:<link ID>,<mode> per link (3.3+, not
// in the reference).
struct ciprecvtype {
    static constexpr std::string_view command = "AT+CIPRECVTYPE";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr version since{3, 3, 0, 0};
    using V = link_recv_mode;
    using R = ciprecvtype_request;
    using query = query_form<many<line<V, "CIPRECVTYPE", fields<field<&V::link, ranged<link_id>>, field<&V::mode, number<recv_mode>>>>>>;
    using set = set_form<R, fields<leading_field<&R::link, ranged<close_link_id>>, field<&R::mode, number<recv_mode>>>>;
};

// AT+CIPRECVDATA=[<link_id>,]<len>. The answer, +CIPRECVDATA:<actual_len>[,<ip>,<port>],<data>,
// is not an information line: its data is binary (any byte, CR LF included) and only its length
// says where it ends, so the parser reads it as a length-framed frame (event recv_data) and the
// session hands the bytes to the link's reader. What is left for the descriptor is the final
// OK: no_info. 5 s: up to 8 KiB of data cross the UART before OK.
struct ciprecvdata {
    static constexpr std::string_view command = "AT+CIPRECVDATA";
    static constexpr std::uint32_t timeout_ms = 5000;
    using R = ciprecvdata_request;
    using set = set_form<R, fields<leading_field<&R::link, ranged<link_id>>, field<&R::length, ranged<recv_length>>>, no_info>;
};

// AT+CIPRECVLEN? -> +CIPRECVLEN:<len of link 0>,...: the whole argument list is one list.
struct ciprecvlen {
    static constexpr std::string_view command = "AT+CIPRECVLEN";
    static constexpr std::uint32_t timeout_ms = 1000;
    using query = query_form<
        one<line<receive_lengths, "CIPRECVLEN", fields<whole<list_of<tolerant_count<std::uint32_t>, 1, 16>>>, 0>>>;
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

struct ciptcpopt {
    static constexpr std::string_view command = "AT+CIPTCPOPT";
    static constexpr std::uint32_t timeout_ms = 1000;
    using V = socket_options;
    using R = ciptcpopt_request;
    using query = query_form<many<line<V, "CIPTCPOPT",
                                       fields<field<&V::link, ranged<link_id>>, field<&V::linger, tcpip_codecs::linger>,
                                              field<&V::no_delay, flag>, field<&V::send_timeout, tcpip_codecs::send_timeout>>>>>;
    using set = set_form<R, fields<leading_field<&R::link, ranged<close_link_id>>, field<&R::linger, tcpip_codecs::linger>,
                                   field<&R::no_delay, flag>, field<&R::send_timeout, tcpip_codecs::send_timeout>>>;
};

// Every TCP/IP descriptor, for whatever takes the whole table:
// `tcpip_commands<device_request>` is the simulator's request variant.
template <template <class...> class List>
using tcpip_commands =
    List<cipstatus, cipstate, cipdomain, cipstart_tcp, cipstart_udp, cipstart_ssl, cipstartex_tcp, cipstartex_udp,
         cipstartex_ssl, cipsend, cipsend_udp, cipsendex, cipsendex_udp, cipclose, cifsr, cipmux, cipserver,
         cipserver_ssl, cipservermaxconn, cipmode, savetranslink_tcp, savetranslink_ssl, savetranslink_udp, cipsto, cipsntpcfg,
         cipsntptime, ciupdate, cipdinfo, cipsslcconf, cipsslccn, cipsslcsni, cipsslcalpn, cipsslcpsk, cipsslsize, cipreconnintv,
         ciprecvmode, ciprecvtype, ciprecvdata, ciprecvlen, ping, cipdns, ciptcpopt>;

namespace detail {
template <class... C>
struct tcpip_all_descriptors {
    static constexpr bool value = (command_descriptor<C> && ...);
};
}  // namespace detail
static_assert(tcpip_commands<detail::tcpip_all_descriptors>::value);

}  // namespace espat::commands
