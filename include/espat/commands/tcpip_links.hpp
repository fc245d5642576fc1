// espat/commands/tcpip_links.hpp — TCP/IP links: what the other TCP/IP headers share (link types,
// hosts, ports) and the commands that open, list, tune and close links (AT+CIPSTART, AT+CIPCLOSE...).
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/descriptor.hpp>
#include <espat/commands/values.hpp>

#include <asio/ip/address.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// ---------------------------------------------------------------------------------------------
// Values with a documented range.

// AT+CIPCLOSE=5 and the SSL/TCP option commands' <link ID> "max": every link.
inline constexpr close_link_id all_links{5};

// AT+CIPTCPOPT's <so_linger> of -1: SO_LINGER off (0 s is "on, linger time 0").
inline constexpr std::chrono::seconds linger_off{-1};

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

struct cipclose_request {
    close_link_id link;  // 0..4, or all_links
    friend bool operator==(const cipclose_request&, const cipclose_request&) = default;
};

struct cipmux_request {
    required<mux_mode> mode;
    friend bool operator==(const cipmux_request&, const cipmux_request&) = default;
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

}  // namespace espat::commands
