// espat/commands/tcpip_tls.hpp — the SSL client settings of TCP/IP links: authentication and
// certificates, common name, SNI, ALPN, PSK (AT+CIPSSLC*), and the ESP8266's AT+CIPSSLSIZE.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/descriptor.hpp>
#include <espat/commands/tcpip_links.hpp>
#include <espat/commands/values.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace espat {

// ---------------------------------------------------------------------------------------------
// Modes, types and states.

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

// ---------------------------------------------------------------------------------------------
// Results.

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

// ---------------------------------------------------------------------------------------------
// Requests (set forms), named <descriptor>_request. `link` is the optional leading
// "[<link ID>,]": give it in multiple-connection mode (AT+CIPMUX=1), leave it out in single.

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

}  // namespace espat

namespace espat::commands {

// The SSL settings' strings, with the codecs of tcpip_links.hpp.
namespace tcpip_codecs {

// X.509's upper bound for a commonName (RFC 5280 ub-common-name); the reference gives none.
using common_name = quoted<64>;
// An ALPN protocol id ("h2", "http/1.1"); the reference gives no maximum, 64 is ample and keeps
// three of them within one command line.
using alpn = quoted<64>;
using psk_text = quoted<32>;  // "maxlen is 32"

}  // namespace tcpip_codecs

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

}  // namespace espat::commands
