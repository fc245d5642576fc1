// espat/commands/mqtt.hpp — the MQTT client AT commands (AT+MQTTUSERCFG ... AT+MQTTCLEAN) as command
// descriptors, with their value types, and the shape of the +MQTTCONNECTED report's line.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/descriptor.hpp>
#include <espat/commands/values.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Source: docs/reference/esp-at-mqtt-commands.md. The module has one MQTT client, link 0: the
// requests write that 0 themselves (a fixed parameter), so no caller can name another. The
// received messages (+MQTTSUBRECV, length-framed) and the connection reports (+MQTTCONNECTED,
// +MQTTDISCONNECTED) are the parser's events, not lines of a command's answer.
//
// Firmware: the MQTT set exists from ESP-AT 2.0 (ESP32; ESP8266 from 2.1), AT+MQTTLONG* from
// 3.0 on ESP32 and 2.2.2 on ESP8266 (the earlier one is the table's `since`: refusing a module
// that has a command is worse than letting one that lacks it answer ERROR). The optional
// trailing <timeout_ms> of AT+MQTTCONN, PUB, PUBRAW, SUB and UNSUB exists from 5.0 only: older
// firmware refuses a line that carries it (leave it out there).

namespace espat {

// ---------------------------------------------------------------------------------------------
// Modes, types and states.

// <scheme> of AT+MQTTUSERCFG: the transport, and which certificates TLS checks and sends.
enum class mqtt_scheme : std::uint8_t {
    tcp = 1,                // mqtt://
    tls = 2,                // mqtts://, no certificate checked or sent
    tls_verify_server = 3,  // the module checks the broker's certificate (needs the clock set)
    tls_client_cert = 4,    // the module sends its certificate
    tls_mutual = 5,         // both
    ws = 6,                 // WebSocket over TCP (ws://)
    wss = 7,                // WebSocket over TLS (wss://), no certificate checked or sent
    wss_verify_server = 8,
    wss_client_cert = 9,
    wss_mutual = 10,
};
template <>
struct enum_numbers<mqtt_scheme> {
    static constexpr mqtt_scheme values[] = {
        mqtt_scheme::tcp,  mqtt_scheme::tls,  mqtt_scheme::tls_verify_server,  mqtt_scheme::tls_client_cert,
        mqtt_scheme::tls_mutual, mqtt_scheme::ws, mqtt_scheme::wss, mqtt_scheme::wss_verify_server,
        mqtt_scheme::wss_client_cert, mqtt_scheme::wss_mutual};
};

// The <state> the query forms print: how far the client got.
enum class mqtt_state : std::uint8_t {
    uninitialized = 0,          // nothing configured (boot, AT+MQTTCLEAN)
    user_configured = 1,        // AT+MQTTUSERCFG accepted
    connection_configured = 2,  // AT+MQTTCONNCFG accepted
    disconnected = 3,           // was connected, the connection was lost
    connected = 4,
    connected_no_subscription = 5,
    subscribed = 6,  // connected, at least one subscription
};
template <>
struct enum_numbers<mqtt_state> {
    static constexpr mqtt_state values[] = {mqtt_state::uninitialized, mqtt_state::user_configured,
                                            mqtt_state::connection_configured, mqtt_state::disconnected,
                                            mqtt_state::connected, mqtt_state::connected_no_subscription,
                                            mqtt_state::subscribed};
};

enum class mqtt_qos : std::uint8_t { at_most_once = 0, at_least_once = 1, exactly_once = 2 };
template <>
struct enum_numbers<mqtt_qos> {
    static constexpr mqtt_qos values[] = {mqtt_qos::at_most_once, mqtt_qos::at_least_once, mqtt_qos::exactly_once};
};

// <disable_clean_session> of AT+MQTTCONNCFG, named for what it means (0 is "clean").
enum class mqtt_session : std::uint8_t {
    clean = 0,       // the broker forgets the session at each connect
    persistent = 1,  // the broker keeps subscriptions and queued messages
};
template <>
struct enum_numbers<mqtt_session> {
    static constexpr mqtt_session values[] = {mqtt_session::clean, mqtt_session::persistent};
};

// ---------------------------------------------------------------------------------------------
// Values with a documented range.

// <length> of AT+MQTTLONGCLIENTID / USERNAME / PASSWORD: the bytes sent after '>'.
using mqtt_long_length = bounded<std::uint16_t, 1, 1024>;
// <length> of AT+MQTTPUBRAW: at least one byte; the most is the module's free heap (ESP32) or
// its MQTT buffer (ESP8266: 512 bytes with the header), so the type allows what a send may.
using mqtt_publish_length = bounded<std::uint32_t, 1, 0x7fffffff>;
// <port> of AT+MQTTCONN.
using mqtt_port = bounded<std::uint16_t, 1, 65535>;

// ---------------------------------------------------------------------------------------------
// Results.

// +MQTTCONN:<LinkID>,<state>,<scheme>,"<host>","<port>","<path>",<reconnect> (AT+MQTTCONN?).
// Nothing configured prints an empty host, port and path, and a scheme of 0: nullopt here.
struct mqtt_connection_state {
    std::uint8_t link = 0;
    mqtt_state state{};
    std::optional<mqtt_scheme> scheme{};
    std::string host;
    std::optional<std::uint16_t> port{};
    std::string path;
    bool reconnect = false;
    friend bool operator==(const mqtt_connection_state&, const mqtt_connection_state&) = default;
};

// +MQTTCONNECTED:<LinkID>,<scheme>,"<host>","<port>","<path>",<reconnect>: the report of a
// connection made (inside AT+MQTTCONN's answer, and after each automatic reconnect).
struct mqtt_connection {
    std::uint8_t link = 0;
    std::optional<mqtt_scheme> scheme{};
    std::string host;
    std::optional<std::uint16_t> port{};
    std::string path;
    bool reconnect = false;
    friend bool operator==(const mqtt_connection&, const mqtt_connection&) = default;
};

// +MQTTSUB:<LinkID>,<state>,"<topic>",<qos> (AT+MQTTSUB?), one per subscription. With none,
// firmware prints one line with an empty topic and QoS 0.
struct mqtt_subscription {
    std::uint8_t link = 0;
    mqtt_state state{};
    std::string topic;
    mqtt_qos qos{};
    friend bool operator==(const mqtt_subscription&, const mqtt_subscription&) = default;
};

// ---------------------------------------------------------------------------------------------
// Requests (set forms), named <descriptor>_request. <LinkID> is always 0 and not a member.

// AT+MQTTUSERCFG=0,<scheme>,"<client_id>","<username>","<password>",0,0,"<path>": all eight
// parameters are positional and none may be left out; "" for no user name, password or path.
// <cert_key_ID> and <CA_ID> are 0, the only certificate slots there are. `password` is
// redacted where the client shows lines.
struct mqttusercfg_request {
    required<mqtt_scheme> scheme;
    required<std::string> client_id;  // at most 256 bytes
    required<std::string> username;   // at most 64 bytes
    required<std::string> password;   // at most 64 bytes
    required<std::string> path;       // WebSocket path (schemes ws..wss_mutual), at most 32 bytes
    friend bool operator==(const mqttusercfg_request&, const mqttusercfg_request&) = default;
};

// AT+MQTTLONGCLIENTID=0,<length> (and USERNAME, PASSWORD): the value follows the '>' prompt,
// as AT+CIPSEND's data does, unquoted and unescaped; the module answers OK once it has it.
struct mqttlong_request {
    mqtt_long_length length;
    friend bool operator==(const mqttlong_request&, const mqttlong_request&) = default;
};
using mqttlongclientid_request = mqttlong_request;
using mqttlongusername_request = mqttlong_request;
using mqttlongpassword_request = mqttlong_request;

// AT+MQTTCONNCFG=0,<keepalive>,<disable_clean_session>,"<lwt_topic>","<lwt_msg>",<lwt_qos>,<lwt_retain>
struct mqttconncfg_request {
    required<std::chrono::seconds> keep_alive;  // 0..7200 s; 0 means 120 s
    required<mqtt_session> session;
    required<std::string> will_topic;    // at most 128 bytes (64 before ESP-AT 2.2)
    required<std::string> will_message;  // at most 128 bytes (64 before ESP-AT 3.3)
    required<mqtt_qos> will_qos;
    required<bool> will_retain;
    friend bool operator==(const mqttconncfg_request&, const mqttconncfg_request&) = default;
};

// AT+MQTTCONN=0,"<host>",<port>,<reconnect>[,<timeout_ms>]
struct mqttconn_request {
    required<std::string> host;  // at most 128 bytes
    mqtt_port port;
    required<bool> reconnect;  // the module reconnects by itself after a loss
    std::optional<std::chrono::milliseconds> timeout{};  // 3000..60000 ms, ESP-AT 5.0+ only
    friend bool operator==(const mqttconn_request&, const mqttconn_request&) = default;
};

// AT+MQTTPUB=0,"<topic>","<data>",<qos>,<retain>[,<timeout_ms>]: the data is a quoted string
// parameter (escaped; CR, LF and NUL cannot be sent: use AT+MQTTPUBRAW for those).
struct mqttpub_request {
    required<std::string> topic;  // at most 128 bytes (64 before ESP-AT 2.2)
    required<std::string> data;
    required<mqtt_qos> qos;
    required<bool> retain;
    std::optional<std::chrono::milliseconds> timeout{};  // ESP-AT 5.0+ only
    friend bool operator==(const mqttpub_request&, const mqttpub_request&) = default;
};

// AT+MQTTPUBRAW=0,"<topic>",<length>,<qos>,<retain>[,<timeout_ms>]: <length> raw bytes follow
// the '>' prompt; the publish's outcome is +MQTTPUB:OK or +MQTTPUB:FAIL after them.
struct mqttpubraw_request {
    required<std::string> topic;
    mqtt_publish_length length;
    required<mqtt_qos> qos;
    required<bool> retain;
    std::optional<std::chrono::milliseconds> timeout{};  // ESP-AT 5.0+ only
    friend bool operator==(const mqttpubraw_request&, const mqttpubraw_request&) = default;
};

// AT+MQTTSUB=0,"<topic>",<qos>[,<timeout_ms>]
struct mqttsub_request {
    required<std::string> topic;  // a topic filter: '+' and '#' go to the broker as they are
    required<mqtt_qos> qos;
    std::optional<std::chrono::milliseconds> timeout{};  // ESP-AT 5.0+ only
    friend bool operator==(const mqttsub_request&, const mqttsub_request&) = default;
};

// AT+MQTTUNSUB=0,"<topic>"[,<timeout_ms>]
struct mqttunsub_request {
    required<std::string> topic;  // exactly as subscribed
    std::optional<std::chrono::milliseconds> timeout{};  // ESP-AT 5.0+ only
    friend bool operator==(const mqttunsub_request&, const mqttunsub_request&) = default;
};

// AT+MQTTCLEAN=0: nothing to say but the link, which is fixed.
struct mqttclean_request {
    friend bool operator==(const mqttclean_request&, const mqttclean_request&) = default;
};

}  // namespace espat

namespace espat::commands {

namespace mqtt_codecs {

// The one link: written as 0, and a device reads nothing else.
using link = fixed<integer<std::uint8_t>, 0>;
using client_id = quoted<256>;
using credential = quoted<64>;  // user name, password
using path = quoted<32>;
using topic = quoted<128>;
using host = quoted<128>;
// The payload of AT+MQTTPUB: the reference gives no limit but the command line's.
using data = quoted<max_command_line>;
using keep_alive = duration<std::chrono::seconds, 7200>;
using timeout = duration<std::chrono::milliseconds, 60000, 3000>;
// What the query and the report print for the connection: a scheme of 0 and a port of "" when
// nothing is configured.
using printed_scheme = or_keyword<number<mqtt_scheme>, "0">;
using printed_port = in_quotes<tolerant_count<std::uint16_t>>;

}  // namespace mqtt_codecs

// The +MQTTCONNECTED report's line: the parser delivers the report as an event (kind
// mqtt_connected, its args the text after the ':'); `mqtt_connected_line::decode_args(e.args)`
// reads it.
using mqtt_connected_line =
    line<mqtt_connection, "MQTTCONNECTED",
         fields<field<&mqtt_connection::link, integer<std::uint8_t>>,
                field<&mqtt_connection::scheme, mqtt_codecs::printed_scheme>,
                field<&mqtt_connection::host, mqtt_codecs::host>, field<&mqtt_connection::port, mqtt_codecs::printed_port>,
                field<&mqtt_connection::path, mqtt_codecs::path>, field<&mqtt_connection::reconnect, flag>>>;

struct mqttusercfg {
    static constexpr std::string_view command = "AT+MQTTUSERCFG";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr version since{2, 0, 0, 0};
    using R = mqttusercfg_request;
    using set = set_form<R, fields<mqtt_codecs::link, field<&R::scheme, number<mqtt_scheme>>,
                                   field<&R::client_id, mqtt_codecs::client_id>, field<&R::username, mqtt_codecs::credential>,
                                   field<&R::password, mqtt_codecs::credential>, fixed<integer<std::uint8_t>, 0>,
                                   fixed<integer<std::uint8_t>, 0>, field<&R::path, mqtt_codecs::path>>>;
};

// The three AT+MQTTLONG* commands: OK, then '>' for the value's bytes, then OK. 5 s covers
// 1024 bytes at 9600 baud.
struct mqttlongclientid {
    static constexpr bool data_after_prompt = true;  // the client sends it with its data, not as a line alone
    static constexpr std::string_view command = "AT+MQTTLONGCLIENTID";
    static constexpr std::uint32_t timeout_ms = 5000;
    static constexpr version since{2, 2, 2, 0};
    using set = set_form<mqttlong_request, fields<mqtt_codecs::link, field<&mqttlong_request::length, ranged<mqtt_long_length>>>>;
};

struct mqttlongusername {
    static constexpr bool data_after_prompt = true;  // the client sends it with its data, not as a line alone
    static constexpr std::string_view command = "AT+MQTTLONGUSERNAME";
    static constexpr std::uint32_t timeout_ms = 5000;
    static constexpr version since{2, 2, 2, 0};
    using set = set_form<mqttlong_request, fields<mqtt_codecs::link, field<&mqttlong_request::length, ranged<mqtt_long_length>>>>;
};

struct mqttlongpassword {
    static constexpr bool data_after_prompt = true;  // the client sends it with its data, not as a line alone
    static constexpr std::string_view command = "AT+MQTTLONGPASSWORD";
    static constexpr std::uint32_t timeout_ms = 5000;
    static constexpr version since{2, 2, 2, 0};
    using set = set_form<mqttlong_request, fields<mqtt_codecs::link, field<&mqttlong_request::length, ranged<mqtt_long_length>>>>;
};

struct mqttconncfg {
    static constexpr std::string_view command = "AT+MQTTCONNCFG";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr version since{2, 0, 0, 0};
    using R = mqttconncfg_request;
    using set = set_form<R, fields<mqtt_codecs::link, field<&R::keep_alive, mqtt_codecs::keep_alive>,
                                   field<&R::session, number<mqtt_session>>, field<&R::will_topic, mqtt_codecs::topic>,
                                   field<&R::will_message, mqtt_codecs::topic>, field<&R::will_qos, number<mqtt_qos>>,
                                   field<&R::will_retain, flag>>>;
};

// AT+MQTTCONN: the set form's success prints the +MQTTCONNECTED report (an event) before OK.
// 60 s: DNS, TCP, a TLS handshake of several 10 s packets and the broker's CONNACK; with
// <timeout_ms> the module gives up by 60 s.
struct mqttconn {
    static constexpr std::string_view command = "AT+MQTTCONN";
    static constexpr std::uint32_t timeout_ms = 65000;
    static constexpr version since{2, 0, 0, 0};
    using V = mqtt_connection_state;
    using R = mqttconn_request;
    using query = query_form<one<line<
        V, "MQTTCONN",
        fields<field<&V::link, integer<std::uint8_t>>, field<&V::state, number<mqtt_state>>,
               field<&V::scheme, mqtt_codecs::printed_scheme>, field<&V::host, mqtt_codecs::host>,
               field<&V::port, mqtt_codecs::printed_port>, field<&V::path, mqtt_codecs::path>, field<&V::reconnect, flag>>>>>;
    using set = set_form<R, fields<mqtt_codecs::link, field<&R::host, mqtt_codecs::host>, field<&R::port, ranged<mqtt_port>>,
                                   field<&R::reconnect, flag>, field<&R::timeout, mqtt_codecs::timeout>>>;
};

// Publishing waits for the broker at QoS 1 and 2: 15 s by default on 5.0, "about 10 s" before;
// the host's timeout must outlast the module's, up to the 60 s <timeout_ms> allows.
struct mqttpub {
    static constexpr std::string_view command = "AT+MQTTPUB";
    static constexpr std::uint32_t timeout_ms = 65000;
    static constexpr version since{2, 0, 0, 0};
    using R = mqttpub_request;
    using set = set_form<R, fields<mqtt_codecs::link, field<&R::topic, mqtt_codecs::topic>, field<&R::data, mqtt_codecs::data>,
                                   field<&R::qos, number<mqtt_qos>>, field<&R::retain, flag>,
                                   field<&R::timeout, mqtt_codecs::timeout>>>;
};

// AT+MQTTPUBRAW: OK (the parameters), '>', the data, then +MQTTPUB:OK or +MQTTPUB:FAIL, which
// the parser reads as SEND OK / SEND FAIL: the data phase ends as AT+CIPSEND's does.
struct mqttpubraw {
    static constexpr bool data_after_prompt = true;  // the client sends it with its data, not as a line alone
    static constexpr std::string_view command = "AT+MQTTPUBRAW";
    static constexpr std::uint32_t timeout_ms = 65000;
    static constexpr version since{2, 0, 0, 0};
    using R = mqttpubraw_request;
    using set = set_form<R, fields<mqtt_codecs::link, field<&R::topic, mqtt_codecs::topic>,
                                   field<&R::length, ranged<mqtt_publish_length>>, field<&R::qos, number<mqtt_qos>>,
                                   field<&R::retain, flag>, field<&R::timeout, mqtt_codecs::timeout>>>;
};

// AT+MQTTSUB: the set form answers OK, or ALREADY SUBSCRIBE (firmware before 4.1: a text line,
// in the answer's lines) and its result. The query lists the subscriptions; topics are
// printed unescaped, so the topic is read around the other fields.
struct mqttsub {
    static constexpr std::string_view command = "AT+MQTTSUB";
    static constexpr std::uint32_t timeout_ms = 65000;
    static constexpr version since{2, 0, 0, 0};
    using V = mqtt_subscription;
    using R = mqttsub_request;
    using query = query_form<many<line<V, "MQTTSUB",
                                       fields<field<&V::link, integer<std::uint8_t>>, field<&V::state, number<mqtt_state>>,
                                              field<&V::topic, mqtt_codecs::topic>, field<&V::qos, number<mqtt_qos>>>,
                                       2>>>;
    using set = set_form<R, fields<mqtt_codecs::link, field<&R::topic, mqtt_codecs::topic>, field<&R::qos, number<mqtt_qos>>,
                                   field<&R::timeout, mqtt_codecs::timeout>>>;
};

// AT+MQTTUNSUB: OK; a topic that was not subscribed prints NO UNSUBSCRIBE (before 4.1) then OK.
struct mqttunsub {
    static constexpr std::string_view command = "AT+MQTTUNSUB";
    static constexpr std::uint32_t timeout_ms = 65000;
    static constexpr version since{2, 0, 0, 0};
    using R = mqttunsub_request;
    using set = set_form<R, fields<mqtt_codecs::link, field<&R::topic, mqtt_codecs::topic>,
                                   field<&R::timeout, mqtt_codecs::timeout>>>;
};

// AT+MQTTCLEAN=0: closes the connection and forgets the configuration (state 0).
struct mqttclean {
    static constexpr std::string_view command = "AT+MQTTCLEAN";
    static constexpr std::uint32_t timeout_ms = 5000;
    static constexpr version since{2, 0, 0, 0};
    using set = set_form<mqttclean_request, fields<mqtt_codecs::link>>;
};

}  // namespace espat::commands
