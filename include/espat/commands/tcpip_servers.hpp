// espat/commands/tcpip_servers.hpp — the module as a TCP (or, on ESP32, SSL) server: AT+CIPSERVER,
// AT+CIPSERVERMAXCONN and AT+CIPSTO, the timeout of the clients it accepts.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/descriptor.hpp>
#include <espat/commands/tcpip_links.hpp>
#include <espat/commands/values.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace espat {

// ---------------------------------------------------------------------------------------------
// Modes, types and states.

// <mode> of AT+CIPSERVER.
enum class server_mode : std::uint8_t { remove = 0, create = 1 };
template <>
struct enum_numbers<server_mode> {
    static constexpr server_mode values[] = {server_mode::remove, server_mode::create};
};

// ---------------------------------------------------------------------------------------------
// Values with a documented range.

// <num> of AT+CIPSERVERMAXCONN. The reference gives no range; a server's clients take link
// ids 0..4, so at most 5.
using server_connections = bounded<std::uint8_t, 1, 5>;

// ---------------------------------------------------------------------------------------------
// Requests (set forms), named <descriptor>_request.

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

struct cipsto_request {
    required<std::chrono::seconds> timeout;  // 0..7200 s; 0: never
    friend bool operator==(const cipsto_request&, const cipsto_request&) = default;
};

}  // namespace espat

namespace espat::commands {

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

struct cipsto {
    static constexpr std::string_view command = "AT+CIPSTO";
    static constexpr std::uint32_t timeout_ms = 1000;
    using query = query_form<one<line<std::chrono::seconds, "CIPSTO", fields<whole<duration<std::chrono::seconds, 7200>>>>>>;
    using set = set_form<cipsto_request, fields<field<&cipsto_request::timeout, duration<std::chrono::seconds, 7200>>>>;
};

}  // namespace espat::commands
