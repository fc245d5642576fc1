// espat/proto/event.hpp — what the parser reports: one event per line, prompt or data frame
// the module sends. Events are plain values holding views; no Asio, no allocation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace espat::proto {

// Every kind of thing an ESP-AT module prints, grouped as the session treats them.
enum class event_kind : std::uint8_t {
    // Final results: they end the command in flight.
    ok,         // OK
    error,      // ERROR
    fail,       // FAIL (older firmware's answer to a failed AT+CWJAP)
    send_ok,    // SEND OK, and +MQTTPUB:OK (the end of AT+MQTTPUBRAW's data phase)
    send_fail,  // SEND FAIL, and +MQTTPUB:FAIL
    set_ok,     // SET OK (AT+CIPSEND=... in some NONOS builds)

    prompt,  // '>' of AT+CIPSEND, with or without the NONOS trailing space; no line end

    // Lines of a response, or stray output.
    echo,  // the command line echoed back (ATE1)
    info,  // +NAME:args (name without '+', args after ':'), and STATUS:<n>
    text,  // any other printable line (AT+GMR's lines, debug output)
    noise, // a line with bytes that are not printable ASCII (boot garbage)

    // Status lines that come before a final result; not final themselves.
    err_code,           // ERR CODE:0x........ (value: the code)
    busy,               // busy p... / busy s... (value: 'p' or 's')
    already_connected,  // ALREADY CONNECTED
    link_invalid,       // link is not valid
    unlink,             // UNLINK
    no_change,          // no change
    dns_fail,           // DNS Fail
    recv_bytes,         // Recv <n> bytes (value: n)

    // Reports (unsolicited result codes): they may arrive at any time.
    ready,             // ready (the module booted)
    connect,           // [<id>,]CONNECT
    connect_fail,      // [<id>,]CONNECT FAIL
    closed,            // [<id>,]CLOSED
    wifi_connected,    // WIFI CONNECTED
    wifi_got_ip,       // WIFI GOT IP
    wifi_disconnect,   // WIFI DISCONNECT
    link_conn,         // +LINK_CONN:<status>,<id>,... (link: id, value: status, args: all fields)
    update_progress,   // +CIPUPDATE:<n> (value: n)
    sta_connected,     // +STA_CONNECTED:<mac>
    sta_disconnected,  // +STA_DISCONNECTED:<mac>
    dist_sta_ip,       // +DIST_STA_IP:<mac>,<ip>
    time_updated,      // +TIME_UPDATED
    mqtt_connected,    // +MQTTCONNECTED:<id>,<scheme>,"<host>","<port>","<path>",<reconnect> (link: id, args: all fields)
    mqtt_disconnected, // +MQTTDISCONNECTED:<id> (link: id)

    // Length-framed data.
    ipd,          // +IPD,[<id>,]<len>[,<ip>,<port>]:<payload>
    ipd_notify,   // +IPD,[<id>,]<len> in passive receive mode (value: bytes buffered)
    recv_data,    // +CIPRECVDATA:<len>,[<ip>,<port>,]<payload> and NONOS +CIPRECVDATA,<len>:<payload>
    mqtt_message, // +MQTTSUBRECV:<id>,"<topic>",<len>,<payload> (link: id, args: the topic, unquoted)
    raw_data,     // bytes received in passthrough mode

    // Length-framed, but the answer of the command in flight, not a report: one chunk of an
    // HTTP response body, +HTTPCLIENT:<size>,<payload> (name: "HTTPCLIENT", "HTTPCGET",
    // "HTTPCPOST" or "HTTPCPUT").
    http_data,

    // Input the parser had to drop (value: a protocol_error_reason). For a frame, `name` is
    // its prefix ("IPD", "CIPRECVDATA", "MQTTSUBRECV", "HTTPCLIENT", ...) and `link` its link
    // id where the header gave one.
    protocol_error,
};

inline constexpr int event_kind_count = static_cast<int>(event_kind::protocol_error) + 1;

// Why the parser dropped input. Each is followed by resynchronisation at the next line.
enum class protocol_error_reason : std::uint8_t {
    line_too_long = 1,     // a line exceeded parser_limits::max_line
    bad_frame_header = 2,  // a frame header (+IPD, +CIPRECVDATA, +MQTTSUBRECV, +HTTP...) that does not parse
    frame_too_long = 3,    // a frame length over the limit for its kind (parser_limits)
    // A payload not followed by what must follow it (CR LF, or the start of a line the module
    // prints): its length was wrong, a byte was lost or doubled inside the frame. The frame
    // is dropped (or, released unverified after the line went quiet, reported late).
    frame_trailer = 4,
    // A line holding what a lost or doubled byte left of a +IPD header ("IPD,0,5:...",
    // "+IPPD,..."): a frame was lost, for a link the line cannot say.
    damaged_frame = 5,
    // Not the parser's: the session saw stray bytes before a command line in its echo, left
    // over from the send before it (a doubled byte in its data), so what the peer got of that
    // send is not what was sent (`link`: that send's).
    send_corrupted = 6,
    // Not the parser's: in passthrough, the module answered as in command mode after the line
    // ended in "+++": it took them for its escape, and what follows is not the peer's data.
    passthrough_left = 7,
};

// One thing the module said. Views point into the chunk passed to feed() or into the
// parser's own bounded buffers, and are valid only during the handler call.
struct event {
    event_kind kind{event_kind::text};
    std::int8_t link{-1};            // link id where the form carries one, else -1
    std::uint16_t remote_port{0};    // frames with remote info (AT+CIPDINFO=1)
    std::uint32_t value{0};          // a number the line carries; see event_kind
    std::string_view text;           // the whole line without its line end (empty for frames)
    std::string_view name;           // info-like lines: the name between '+' and ':'; http_data: its prefix
    std::string_view args;           // info-like lines: everything after the first ':'; mqtt_message: the topic
    std::string_view remote_host;    // frames with remote info, without quotes
    std::string_view payload;        // frames: the data bytes, exactly as sent (binary-safe)

    [[nodiscard]] bool has_remote() const noexcept { return !remote_host.empty(); }
};

// A copy of an event that outlives the chunk it came from (payload included): for whoever
// keeps events, such as the session's reports and tests comparing feeds.
struct owned_event {
    event_kind kind{event_kind::text};
    int link = -1;
    std::uint16_t remote_port = 0;
    std::uint32_t value = 0;
    std::string text, name, args, remote_host, payload;

    owned_event() = default;
    explicit owned_event(const event& e)
        : kind(e.kind), link(e.link), remote_port(e.remote_port), value(e.value), text(e.text), name(e.name),
          args(e.args), remote_host(e.remote_host), payload(e.payload)
    {
    }
    friend bool operator==(const owned_event&, const owned_event&) = default;
};

// A final result ends the command in flight.
[[nodiscard]] constexpr bool is_final(event_kind k) noexcept
{
    return k <= event_kind::set_ok;
}

// A report may arrive at any time and is never part of a command's response.
[[nodiscard]] constexpr bool is_report(event_kind k) noexcept
{
    return k >= event_kind::ready && k <= event_kind::raw_data;
}

[[nodiscard]] constexpr std::string_view to_string(event_kind k) noexcept
{
    switch (k) {
    case event_kind::ok: return "ok";
    case event_kind::error: return "error";
    case event_kind::fail: return "fail";
    case event_kind::send_ok: return "send_ok";
    case event_kind::send_fail: return "send_fail";
    case event_kind::set_ok: return "set_ok";
    case event_kind::prompt: return "prompt";
    case event_kind::echo: return "echo";
    case event_kind::info: return "info";
    case event_kind::text: return "text";
    case event_kind::noise: return "noise";
    case event_kind::err_code: return "err_code";
    case event_kind::busy: return "busy";
    case event_kind::already_connected: return "already_connected";
    case event_kind::link_invalid: return "link_invalid";
    case event_kind::unlink: return "unlink";
    case event_kind::no_change: return "no_change";
    case event_kind::dns_fail: return "dns_fail";
    case event_kind::recv_bytes: return "recv_bytes";
    case event_kind::ready: return "ready";
    case event_kind::connect: return "connect";
    case event_kind::connect_fail: return "connect_fail";
    case event_kind::closed: return "closed";
    case event_kind::wifi_connected: return "wifi_connected";
    case event_kind::wifi_got_ip: return "wifi_got_ip";
    case event_kind::wifi_disconnect: return "wifi_disconnect";
    case event_kind::link_conn: return "link_conn";
    case event_kind::update_progress: return "update_progress";
    case event_kind::sta_connected: return "sta_connected";
    case event_kind::sta_disconnected: return "sta_disconnected";
    case event_kind::dist_sta_ip: return "dist_sta_ip";
    case event_kind::time_updated: return "time_updated";
    case event_kind::mqtt_connected: return "mqtt_connected";
    case event_kind::mqtt_disconnected: return "mqtt_disconnected";
    case event_kind::ipd: return "ipd";
    case event_kind::ipd_notify: return "ipd_notify";
    case event_kind::recv_data: return "recv_data";
    case event_kind::mqtt_message: return "mqtt_message";
    case event_kind::raw_data: return "raw_data";
    case event_kind::http_data: return "http_data";
    case event_kind::protocol_error: return "protocol_error";
    }
    return "unknown";
}

[[nodiscard]] constexpr std::string_view to_string(protocol_error_reason r) noexcept
{
    switch (r) {
    case protocol_error_reason::line_too_long: return "line_too_long";
    case protocol_error_reason::bad_frame_header: return "bad_frame_header";
    case protocol_error_reason::frame_too_long: return "frame_too_long";
    case protocol_error_reason::frame_trailer: return "frame_trailer";
    case protocol_error_reason::damaged_frame: return "damaged_frame";
    case protocol_error_reason::send_corrupted: return "send_corrupted";
    case protocol_error_reason::passthrough_left: return "passthrough_left";
    }
    return "unknown";
}

}  // namespace espat::proto
