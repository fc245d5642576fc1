// espat/proto/json.hpp — parser events as JSON objects, and a byte-exact JSON string codec.
// espat-decode prints these (one object per line); tests and users read them back.
#pragma once

#include <espat/detail/json_string.hpp>
#include <espat/proto/event.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace espat::proto {

// The byte-exact JSON string codec: append_json_string writes any bytes as a quoted JSON
// string, decode_json_string reads one back. They live in espat/detail/json_string.hpp, where
// the command layer reaches them too (commands/describe.hpp) without depending on events.
using espat::detail::append_json_string;
using espat::detail::decode_json_string;

namespace detail_json {

inline constexpr char hex_digits[] = "0123456789abcdef";

inline void append_key(std::string& out, std::string_view key)
{
    out.push_back(',');
    append_json_string(out, key);
    out.push_back(':');
}

inline void append_string_field(std::string& out, std::string_view key, std::string_view value)
{
    append_key(out, key);
    append_json_string(out, value);
}

inline void append_number_field(std::string& out, std::string_view key, std::uint32_t value)
{
    append_key(out, key);
    out.append(std::to_string(value));
}

// The fields each kind carries beyond "event". Where the text of a line is fixed by its kind
// ("OK", "WIFI GOT IP") or fully described by other fields ("Recv 4 bytes"), it is left out.
struct field_set {
    bool link = false;    // "link": the link id, written only when the line named one
    bool name = false;    // "name": the prefix of a frame that carries it (HTTPCLIENT, HTTPCGET, ...)
    bool value = false;   // "value": the number the kind carries
    bool code = false;    // "code": ERR CODE as "0x%08x"
    bool busy = false;    // "busy": the letter after "busy "
    bool text = false;    // "text": the whole line without its line end
    bool info = false;    // "name", "args": a +NAME:args line
    bool topic = false;   // "topic": an MQTT message's topic
    bool remote = false;  // "remote_host", "remote_port": written only when the header had them
    bool payload = false; // "payload": the frame's bytes
    bool reason = false;  // "reason": why the parser dropped input
};

// The table the README's schema section repeats; tests check each kind against it.
//
//   kind                               fields after "event"
//   ok error fail send_ok send_fail    -
//   set_ok prompt ready                -
//   already_connected link_invalid     -
//   unlink no_change dns_fail          -
//   wifi_connected wifi_got_ip         -
//   wifi_disconnect                    -
//   echo text noise                    text
//   info sta_connected                 name args
//   sta_disconnected dist_sta_ip       name args
//   time_updated                       name args
//   update_progress                    value name args
//   link_conn                          link? value name args
//   err_code                           code value
//   busy                               busy
//   recv_bytes                         value
//   connect connect_fail closed        link?
//   ipd                                link? value remote_host? remote_port? payload
//   ipd_notify                         link? value remote_host? remote_port?
//   recv_data                          value remote_host? remote_port? payload
//   mqtt_connected mqtt_disconnected   link? name args
//   mqtt_message                       link? value topic payload
//   http_data                          value name payload
//   raw_data                           payload
//   protocol_error                     link? reason (and the frame's name, when it was one)
//
// "?" marks a field written only when the line carried it (link >= 0, a remote address).
[[nodiscard]] constexpr field_set fields_of(event_kind k) noexcept
{
    field_set f;
    switch (k) {
    case event_kind::ok:
    case event_kind::error:
    case event_kind::fail:
    case event_kind::send_ok:
    case event_kind::send_fail:
    case event_kind::set_ok:
    case event_kind::prompt:
    case event_kind::ready:
    case event_kind::already_connected:
    case event_kind::link_invalid:
    case event_kind::unlink:
    case event_kind::no_change:
    case event_kind::dns_fail:
    case event_kind::wifi_connected:
    case event_kind::wifi_got_ip:
    case event_kind::wifi_disconnect: break;
    case event_kind::echo:
    case event_kind::text:
    case event_kind::noise: f.text = true; break;
    case event_kind::info:
    case event_kind::sta_connected:
    case event_kind::sta_disconnected:
    case event_kind::dist_sta_ip:
    case event_kind::time_updated: f.info = true; break;
    case event_kind::mqtt_connected:
    case event_kind::mqtt_disconnected: f.link = f.info = true; break;
    case event_kind::update_progress: f.value = f.info = true; break;
    case event_kind::link_conn: f.link = f.value = f.info = true; break;
    case event_kind::err_code: f.code = f.value = true; break;
    case event_kind::busy: f.busy = true; break;
    case event_kind::recv_bytes: f.value = true; break;
    case event_kind::connect:
    case event_kind::connect_fail:
    case event_kind::closed: f.link = true; break;
    case event_kind::ipd: f.link = f.value = f.remote = f.payload = true; break;
    case event_kind::ipd_notify: f.link = f.value = f.remote = true; break;
    case event_kind::recv_data: f.value = f.remote = f.payload = true; break;
    case event_kind::mqtt_message: f.link = f.value = f.topic = f.payload = true; break;
    case event_kind::http_data: f.name = f.value = f.payload = true; break;
    case event_kind::raw_data: f.payload = true; break;
    case event_kind::protocol_error: f.link = f.reason = true; break;
    }
    return f;
}

}  // namespace detail_json

// Writes one JSON object for `e`, without a line end: {"event":"<kind>", then the kind's
// fields in a fixed order (see detail_json::fields_of)}.
inline void append_json(std::string& out, const event& e)
{
    using namespace detail_json;
    const field_set f = fields_of(e.kind);
    out.append("{\"event\":");
    append_json_string(out, to_string(e.kind));
    if (f.link && e.link >= 0) append_number_field(out, "link", static_cast<std::uint32_t>(e.link));
    if (f.code) {
        char code[10] = {'0', 'x'};
        for (int i = 0; i < 8; ++i) code[2 + i] = hex_digits[(e.value >> (28 - 4 * i)) & 0xf];
        append_string_field(out, "code", std::string_view(code, sizeof code));
    }
    if (f.value) append_number_field(out, "value", e.value);
    if (f.busy) {
        const char letter = static_cast<char>(e.value);
        append_string_field(out, "busy", std::string_view(&letter, 1));
    }
    if (f.text) append_string_field(out, "text", e.text);
    if (f.info || f.name) append_string_field(out, "name", e.name);
    if (f.info) append_string_field(out, "args", e.args);
    if (f.topic) append_string_field(out, "topic", e.args);
    if (f.remote && e.has_remote()) {
        append_string_field(out, "remote_host", e.remote_host);
        append_number_field(out, "remote_port", e.remote_port);
    }
    if (f.payload) append_string_field(out, "payload", e.payload);
    if (f.reason)
        append_string_field(out, "reason", to_string(static_cast<protocol_error_reason>(e.value)));
    out.push_back('}');
}

}  // namespace espat::proto
