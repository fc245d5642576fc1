// espat/commands/http.hpp — the HTTP client AT commands (AT+HTTPCLIENT, AT+HTTPGETSIZE, AT+HTTPCGET,
// AT+HTTPCPOST, AT+HTTPCPUT, AT+HTTPURLCFG, AT+HTTPCHEAD) as command descriptors, with their value types.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/descriptor.hpp>
#include <espat/commands/values.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Source: docs/reference/esp-at-http-commands.md. A request's response body comes as
// length-framed chunks, +HTTPCLIENT:<size>,<data> (and +HTTPCGET:, +HTTPCPOST:, +HTTPCPUT:),
// before the final result: the parser reads them as http_data frames and the session keeps
// them with the command's answer (command_result::frames), never as lines. What is left for a
// descriptor is the final result: no_info.
//
// Firmware (the table's since): AT+HTTPCLIENT 2.0 (its chunked answer from 2.1), AT+HTTPGETSIZE
// 2.1, AT+HTTPCPOST 2.2, AT+HTTPCGET and AT+HTTPURLCFG 2.3 (ESP32-C3; ESP32 2.4; never
// ESP8266), AT+HTTPCPUT 3.0, AT+HTTPCHEAD 3.1. The <tx size>, <rx size> and <timeout> of
// AT+HTTPGETSIZE are documented from 3.0. Released ESP8266 firmware has no HTTP commands.

namespace espat {

// ---------------------------------------------------------------------------------------------
// Modes, types and states.

// <opt> of AT+HTTPCLIENT for the requests without a body. POST (3), the only method whose
// line carries a body, is the descriptor httpclient_post: the body's position exists only
// there, and any other method takes the string in that place for a header.
enum class http_method : std::uint8_t { head = 1, get = 2, put = 4, delete_ = 5 };
template <>
struct enum_numbers<http_method> {
    static constexpr http_method values[] = {http_method::head, http_method::get, http_method::put, http_method::delete_};
};

// <content-type> of AT+HTTPCLIENT: the request's Content-Type header.
enum class http_content_type : std::uint8_t {
    form_urlencoded = 0,  // application/x-www-form-urlencoded
    json = 1,             // application/json
    multipart = 2,        // multipart/form-data
    xml = 3,              // text/xml
};
template <>
struct enum_numbers<http_content_type> {
    static constexpr http_content_type values[] = {http_content_type::form_urlencoded, http_content_type::json,
                                                   http_content_type::multipart, http_content_type::xml};
};

// <transport_type> of AT+HTTPCLIENT.
enum class http_transport : std::uint8_t { tcp = 1, tls = 2 };
template <>
struct enum_numbers<http_transport> {
    static constexpr http_transport values[] = {http_transport::tcp, http_transport::tls};
};

// ---------------------------------------------------------------------------------------------
// Values with a documented range.

using http_buffer_size = bounded<std::uint16_t, 0, 10240>;  // <tx size>, <rx size>: 0..10240 bytes
using http_body_length = bounded<std::uint32_t, 0, 0x7fffffff>;  // the body of AT+HTTPCPOST / CPUT
// <url length> of AT+HTTPURLCFG: 0 clears the stored URL, else 8..8192 bytes follow '>'. The
// gap (1..7) is the module's to refuse: bounded cannot leave one out.
using http_url_length = bounded<std::uint16_t, 0, 8192>;
using http_header_length = bounded<std::uint16_t, 0, 8192>;  // <req_header_len> of AT+HTTPCHEAD; 0 deletes all

// ---------------------------------------------------------------------------------------------
// Results.

// +HTTPURLCFG:<url length>,<url> (AT+HTTPURLCFG?, only when a URL is stored; printed raw).
struct http_stored_url {
    std::uint16_t length = 0;
    std::string url;
    friend bool operator==(const http_stored_url&, const http_stored_url&) = default;
};

// +HTTPCHEAD:<index>,"<req_header>" (AT+HTTPCHEAD?), one per stored header, unescaped.
struct http_stored_header {
    std::uint16_t index = 0;
    std::string header;
    friend bool operator==(const http_stored_header&, const http_stored_header&) = default;
};

// ---------------------------------------------------------------------------------------------
// Requests (set forms), named <descriptor>_request.

using http_headers = std::vector<std::string>;  // one "Key: value" each

// AT+HTTPCLIENT=<opt>,<content-type>,"<url>",["<host>"],["<path>"],<transport_type>[,"<http_req_header>"]...
// An empty url means host and path (or the URL AT+HTTPURLCFG stored).
struct httpclient_request {
    required<http_method> method;
    required<http_content_type> content_type;
    required<std::string> url;
    std::optional<std::string> host{};
    std::optional<std::string> path{};
    required<http_transport> transport;
    std::optional<http_headers> headers{};  // one or more
    friend bool operator==(const httpclient_request&, const httpclient_request&) = default;
};

// AT+HTTPCLIENT=3,<content-type>,"<url>",["<host>"],["<path>"],<transport_type>,"<data>"[,"<http_req_header>"]...
// The body is a quoted string parameter: escaped; CR, LF and NUL cannot be sent (use
// AT+HTTPCPOST for those, and for bodies that do not fit the 256-byte line).
struct httpclient_post_request {
    required<http_content_type> content_type;
    required<std::string> url;
    std::optional<std::string> host{};
    std::optional<std::string> path{};
    required<http_transport> transport;
    required<std::string> data;
    std::optional<http_headers> headers{};
    friend bool operator==(const httpclient_post_request&, const httpclient_post_request&) = default;
};

// AT+HTTPGETSIZE="<url>"[,<tx size>][,<rx size>][,<timeout>] and the same for AT+HTTPCGET. An
// empty url means the one AT+HTTPURLCFG stored. <timeout> is the network's idle time, not the
// command's: a slow server keeps the command running.
struct httpgetsize_request {
    required<std::string> url;
    std::optional<http_buffer_size> tx_size{};
    std::optional<http_buffer_size> rx_size{};  // AT+HTTPCGET: bounds the chunk size
    std::optional<std::chrono::milliseconds> timeout{};  // 0..180000 ms, 5000 by default
    friend bool operator==(const httpgetsize_request&, const httpgetsize_request&) = default;
};
using httpcget_request = httpgetsize_request;

// AT+HTTPCPOST="<url>",<length>[,<http_req_header_cnt>][,"<http_req_header>"]... (and
// AT+HTTPCPUT): <length> body bytes follow the '>' prompt; the header count is written from
// the list. The answer's chunks come after the data, then SEND OK or SEND FAIL.
struct httpcpost_request {
    required<std::string> url;
    http_body_length length;
    std::optional<http_headers> headers{};  // one or more
    friend bool operator==(const httpcpost_request&, const httpcpost_request&) = default;
};
using httpcput_request = httpcpost_request;

// AT+HTTPURLCFG=<url length>: the URL follows '>' (unquoted, unescaped), then SET OK; 0 clears.
struct httpurlcfg_request {
    http_url_length length;
    friend bool operator==(const httpurlcfg_request&, const httpurlcfg_request&) = default;
};

// AT+HTTPCHEAD=<req_header_len>: one "Key: value" follows '>' without a line end, then OK; 0
// deletes every stored header. Stored headers go with every later HTTP request.
struct httpchead_request {
    http_header_length length;
    friend bool operator==(const httpchead_request&, const httpchead_request&) = default;
};

}  // namespace espat

namespace espat::commands {

namespace http_codecs {

// The reference gives these strings no limit of their own: the 256-byte command line binds.
using url = quoted<max_command_line>;
using host = quoted<253>;  // a DNS name's most (RFC 1035)
using path = quoted<max_command_line>;
using text = quoted<max_command_line>;  // a body, a header
using headers = list_of<text, 1, 32>;
using buffer_size = ranged<http_buffer_size>;
using network_timeout = duration<std::chrono::milliseconds, 180000>;

}  // namespace http_codecs

// AT+HTTPCLIENT without a body (HEAD, GET, PUT, DELETE). The answer: +HTTPCLIENT chunks (for
// HEAD, one per response header), then OK; an HTTP status >= 400 is ERROR (ERR CODE 0x7000 +
// status with AT+SYSLOG=1). 30 s: DNS, TCP or TLS, and the server; a big body needs more.
struct httpclient {
    static constexpr std::string_view command = "AT+HTTPCLIENT";
    static constexpr std::uint32_t timeout_ms = 30000;
    static constexpr version since{2, 0, 0, 0};
    using R = httpclient_request;
    using set = set_form<R, fields<field<&R::method, number<http_method>>, field<&R::content_type, number<http_content_type>>,
                                   field<&R::url, http_codecs::url>, field<&R::host, http_codecs::host>,
                                   field<&R::path, http_codecs::path>, field<&R::transport, number<http_transport>>,
                                   field<&R::headers, http_codecs::headers>>>;
};

// AT+HTTPCLIENT=3,...: POST, with the body in the line. Told from httpclient by its <opt>.
struct httpclient_post {
    static constexpr std::string_view command = "AT+HTTPCLIENT";
    static constexpr std::uint32_t timeout_ms = 30000;
    static constexpr version since{2, 0, 0, 0};
    using R = httpclient_post_request;
    using set = set_form<R, fields<fixed<integer<std::uint8_t>, 3>, field<&R::content_type, number<http_content_type>>,
                                   field<&R::url, http_codecs::url>, field<&R::host, http_codecs::host>,
                                   field<&R::path, http_codecs::path>, field<&R::transport, number<http_transport>>,
                                   field<&R::data, http_codecs::text>, field<&R::headers, http_codecs::headers>>>;
};

// AT+HTTPGETSIZE: +HTTPGETSIZE:<size> then OK.
struct httpgetsize {
    static constexpr std::string_view command = "AT+HTTPGETSIZE";
    static constexpr std::uint32_t timeout_ms = 30000;
    static constexpr version since{2, 1, 0, 0};
    using R = httpgetsize_request;
    using set = set_form<R, fields<field<&R::url, http_codecs::url>, field<&R::tx_size, http_codecs::buffer_size>,
                                   field<&R::rx_size, http_codecs::buffer_size>, field<&R::timeout, http_codecs::network_timeout>>,
                         one<line<std::uint32_t, "HTTPGETSIZE", fields<whole<integer<std::uint32_t>>>>>>;
};

// AT+HTTPCGET: +HTTPCGET chunks, then OK (or ERROR, possibly after some chunks: the body is
// then incomplete). 60 s: the resource's size and the server's pace decide; give more for more.
struct httpcget {
    static constexpr std::string_view command = "AT+HTTPCGET";
    static constexpr std::uint32_t timeout_ms = 60000;
    static constexpr version since{2, 3, 0, 0};
    using R = httpcget_request;
    using set = set_form<R, fields<field<&R::url, http_codecs::url>, field<&R::tx_size, http_codecs::buffer_size>,
                                   field<&R::rx_size, http_codecs::buffer_size>, field<&R::timeout, http_codecs::network_timeout>>>;
};

// AT+HTTPCPOST: OK (the parameters), '>', the body, then +HTTPCPOST chunks (the server's answer)
// and SEND OK or SEND FAIL, which end it as they end AT+CIPSEND.
struct httpcpost {
    static constexpr bool data_after_prompt = true;  // the client sends it with its data, not as a line alone
    static constexpr std::string_view command = "AT+HTTPCPOST";
    static constexpr std::uint32_t timeout_ms = 60000;
    static constexpr version since{2, 2, 0, 0};
    using R = httpcpost_request;
    using set = set_form<R, fields<field<&R::url, http_codecs::url>, field<&R::length, ranged<http_body_length>>,
                                   field<&R::headers, counted<http_codecs::headers>>>>;
};

struct httpcput {
    static constexpr bool data_after_prompt = true;  // the client sends it with its data, not as a line alone
    static constexpr std::string_view command = "AT+HTTPCPUT";
    static constexpr std::uint32_t timeout_ms = 60000;
    static constexpr version since{3, 0, 0, 0};
    using R = httpcput_request;
    using set = set_form<R, fields<field<&R::url, http_codecs::url>, field<&R::length, ranged<http_body_length>>,
                                   field<&R::headers, counted<http_codecs::headers>>>>;
};

// AT+HTTPURLCFG: the set form's data phase ends in SET OK (nothing follows '>' for 0: OK). The
// query's line prints the URL raw after its length; no line end can be in it (the host sends
// none), so it is read as the rest of the line.
struct httpurlcfg {
    static constexpr bool data_after_prompt = true;  // the client sends it with its data, not as a line alone
    static constexpr std::string_view command = "AT+HTTPURLCFG";
    static constexpr std::uint32_t timeout_ms = 5000;
    static constexpr version since{2, 3, 0, 0};
    using V = http_stored_url;
    using query = query_form<maybe<line<V, "HTTPURLCFG",
                                        fields<field<&V::length, integer<std::uint16_t>>, field<&V::url, bare_text>>, 1>>>;
    using set = set_form<httpurlcfg_request, fields<field<&httpurlcfg_request::length, ranged<http_url_length>>>>;
};

// AT+HTTPCHEAD: the set form's data phase ends in OK. The query lists the stored headers.
struct httpchead {
    static constexpr bool data_after_prompt = true;  // the client sends it with its data, not as a line alone
    static constexpr std::string_view command = "AT+HTTPCHEAD";
    static constexpr std::uint32_t timeout_ms = 5000;
    static constexpr version since{3, 1, 0, 0};
    using V = http_stored_header;
    using query = query_form<many<line<V, "HTTPCHEAD",
                                       fields<field<&V::index, integer<std::uint16_t>>, field<&V::header, http_codecs::text>>, 1>>>;
    using set = set_form<httpchead_request, fields<field<&httpchead_request::length, ranged<http_header_length>>>>;
};

}  // namespace espat::commands
