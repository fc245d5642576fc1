// espat/commands/tcpip_transfer.hpp — sending and receiving on TCP/IP links: AT+CIPSEND, passthrough
// (AT+CIPMODE, AT+SAVETRANSLINK), passive receive (AT+CIPRECVDATA...) and AT+CIPDINFO.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/descriptor.hpp>
#include <espat/commands/tcpip_links.hpp>
#include <espat/commands/values.hpp>

#include <asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ratio>
#include <string>
#include <string_view>
#include <vector>

namespace espat {

// ---------------------------------------------------------------------------------------------
// Modes, types and states.

// AT+CIPMODE's transmission mode, and AT+SAVETRANSLINK's mode at power-up.
enum class transfer_mode : std::uint8_t { normal = 0, passthrough = 1 };
template <>
struct enum_numbers<transfer_mode> {
    static constexpr transfer_mode values[] = {transfer_mode::normal, transfer_mode::passthrough};
};

// Socket receive mode (AT+CIPRECVMODE, per link AT+CIPRECVTYPE): data pushed as +IPD, or kept
// until read with AT+CIPRECVDATA.
enum class recv_mode : std::uint8_t { active = 0, passive = 1 };
template <>
struct enum_numbers<recv_mode> {
    static constexpr recv_mode values[] = {recv_mode::active, recv_mode::passive};
};

// ---------------------------------------------------------------------------------------------
// Values with a documented range.

// <length> of AT+CIPSEND / AT+CIPSENDEX: the type allows the newest firmware's 8192; what a
// given module takes is max_send_length(its version). 0 bytes is nothing to send.
using send_length = bounded<std::uint16_t, 1, 8192>;

// <len> of AT+CIPRECVDATA: "the max value is up to 0x7fffffff".
using recv_length = bounded<std::uint32_t, 1, 0x7fffffff>;

// AT+CIPRECONNINTV counts in 100 ms steps.
using deciseconds = std::chrono::duration<std::int64_t, std::deci>;

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

// ---------------------------------------------------------------------------------------------
// Requests (set forms), named <descriptor>_request. `link` is the optional leading
// "[<link ID>,]": give it in multiple-connection mode (AT+CIPMUX=1), leave it out in single.

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

struct cipdinfo_request {
    required<bool> show_remote;  // +IPD and +CIPRECVDATA carry the remote IP and port
    friend bool operator==(const cipdinfo_request&, const cipdinfo_request&) = default;
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

}  // namespace espat

namespace espat::commands {

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

struct cipdinfo {
    static constexpr std::string_view command = "AT+CIPDINFO";
    static constexpr std::uint32_t timeout_ms = 1000;
    using set = set_form<cipdinfo_request, fields<field<&cipdinfo_request::show_remote, flag>>>;
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

}  // namespace espat::commands
