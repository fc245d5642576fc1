// espat/sim/core_mqtt.hpp — the simulated module's MQTT client (AT+MQTTUSERCFG ... AT+MQTTCLEAN),
// run against a real broker through libmosquitto (mqtt_client.hpp), as the reference describes it.
#pragma once

#include <espat/sim/module_core.hpp>

#include <algorithm>

namespace espat::sim::detail {

// The firmware's choices where docs/reference/esp-at-mqtt-commands.md leaves them open:
// - Schemes 1 (TCP) and 2 to 5 (TLS, with the module's first flashed credentials,
//   module_options::tls) are implemented; the WebSocket ones (6 to 10) are refused by
//   AT+MQTTUSERCFG with 0x6013 (<scheme> value wrong), as a firmware built without them.
//   The ESP8266 refuses TLS the same way (its docs: only 1 and 6).
// - <state>: 4 once connected, 6 while a subscription exists, 5 after the last one is
//   unsubscribed; 3 after a loss.
// - A loss prints +MQTTDISCONNECTED:0 and goes to state 3. Connected with <reconnect>=1 the
//   module tries again every module_options::mqtt_reconnect_interval (esp-mqtt's reconnect
//   timeout, which ESP-AT uses) and prints +MQTTCONNECTED when back; it does not subscribe
//   again (the docs do not say it does): with a clean session its subscriptions are gone,
//   with a persistent one the broker kept them. With <reconnect>=0 only AT+MQTTCLEAN helps.
// - AT+MQTTCLEAN prints no +MQTTDISCONNECTED (the docs show none).
// - A received message comes out in fragments that fit the client's buffer with the MQTT
//   header (personality::mqtt_buffer), as the 4.1 docs describe, and not at all when its topic
//   does not fit that buffer or could not be framed (frameable_topic()). While the module's output
//   queue is full (module_options::output_limit), the client reads nothing from the broker:
//   the broker waits on TCP. libmosquitto holds one whole message while it arrives (the
//   firmware streams it through its buffer): MQTT's packet limit (256 MB) and the broker's
//   message_size_limit bound that, nothing in the simulator does.

// ------------------------------------------------------------------------------------
// Refusals the table's decoder cannot tell apart (a line it does not read): the firmware's
// code for the parameter at fault.

ESPAT_SIM_DECL std::optional<std::uint32_t> module_core::mqtt_refusal(std::string_view line) const
{
    const auto s = cmd::detail::split_command_line(line);
    if (!s.word.starts_with("AT+MQTT") || s.kind != cmd::form_kind::set) return std::nullopt;
    if (opts_.firmware.version < version{2, 0, 0, 0}) return std::nullopt;
    const bool long_value = s.word.starts_with("AT+MQTTLONG");
    if (long_value && opts_.firmware.version < version{2, 2, 2, 0}) return std::nullopt;
    const auto p = split_mqtt_params(s.params);
    const auto code = [](std::uint32_t c) { return std::optional<std::uint32_t>(mqtt_err::code(c)); };
    const auto number = [](const std::string& v) -> std::optional<long> {
        if (v.empty() || v.size() > 9 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        return std::stol(v);
    };
    const auto in = [&](std::size_t i, long lo, long hi) {
        const auto n = i < p.size() ? number(p[i]) : std::nullopt;
        return n && *n >= lo && *n <= hi;
    };
    if (!number(p[0])) return code(mqtt_err::link_id_read);
    if (p[0] != "0") return code(mqtt_err::link_id_value);
    const auto longer = [&](std::size_t i, std::size_t max) { return i < p.size() && p[i].size() > max; };
    if (s.word == "AT+MQTTUSERCFG") {
        if (p.size() != 8) return code(mqtt_err::parameter_count);
        if (!in(1, 1, 10)) return code(mqtt_err::scheme_value);
        if (longer(2, 256)) return code(mqtt_err::client_id_long);
        if (longer(3, 64)) return code(mqtt_err::username_long);
        if (longer(4, 64)) return code(mqtt_err::password_long);
        if (!in(5, 0, 0)) return code(mqtt_err::cert_key_id_value);
        if (!in(6, 0, 0)) return code(mqtt_err::ca_id_value);
        if (longer(7, 32)) return code(mqtt_err::path_long);
    } else if (long_value) {
        if (p.size() != 2) return code(mqtt_err::parameter_count);
        if (!in(1, 1, 1024)) {
            if (s.word == "AT+MQTTLONGCLIENTID") return code(mqtt_err::client_id_long);
            if (s.word == "AT+MQTTLONGUSERNAME") return code(mqtt_err::username_long);
            return code(mqtt_err::password_long);
        }
    } else if (s.word == "AT+MQTTCONNCFG") {
        if (p.size() != 7) return code(mqtt_err::parameter_count);
        if (!in(1, 0, 7200)) return code(mqtt_err::keep_alive_value);
        if (!in(2, 0, 1)) return code(mqtt_err::clean_session_value);
        if (longer(3, 128)) return code(mqtt_err::will_topic_long);
        if (longer(4, 128)) return code(mqtt_err::will_message_long);
        if (!in(5, 0, 2)) return code(mqtt_err::will_qos_value);
        if (!in(6, 0, 1)) return code(mqtt_err::will_retain_value);
    } else if (s.word == "AT+MQTTCONN") {
        if (p.size() < 4 || p.size() > 5) return code(mqtt_err::parameter_count);
        if (longer(1, 128)) return code(mqtt_err::host_long);
        if (!in(2, 1, 65535)) return code(mqtt_err::port_value);
        if (!in(3, 0, 1)) return code(mqtt_err::reconnect_value);
    } else if (s.word == "AT+MQTTPUB" || s.word == "AT+MQTTPUBRAW" || s.word == "AT+MQTTSUB" || s.word == "AT+MQTTUNSUB") {
        if (longer(1, 128)) return code(mqtt_err::topic_long);
        if (s.word == "AT+MQTTPUB" && !in(3, 0, 2)) return code(mqtt_err::qos_value);
        if (s.word == "AT+MQTTPUB" && !in(4, 0, 1)) return code(mqtt_err::retain_value);
        if (s.word == "AT+MQTTPUBRAW" && !in(2, 1, 0x7fffffff)) return code(mqtt_err::publish_length_value);
        if (s.word == "AT+MQTTPUBRAW" && !in(3, 0, 2)) return code(mqtt_err::qos_value);
        if (s.word == "AT+MQTTPUBRAW" && !in(4, 0, 1)) return code(mqtt_err::retain_value);
        if (s.word == "AT+MQTTSUB" && !in(2, 0, 2)) return code(mqtt_err::qos_value);
    }
    return std::nullopt;
}

// <timeout_ms>, the last parameter of AT+MQTTCONN, PUB, PUBRAW, SUB and UNSUB, is ESP-AT 5.0's:
// earlier firmware counts one parameter too many (0x6008). True when it refused.
ESPAT_SIM_DECL bool module_core::mqtt_refuse_timeout(bool given)
{
    if (!given || opts_.firmware.version >= version{5, 0, 0, 0}) return false;
    error(mqtt_err::code(mqtt_err::parameter_count));
    return true;
}

// The state checks the commands share: a command that configures refuses a client that is
// connected (0x6004) or one that was lost (AT+MQTTCLEAN first); one that needs the broker
// refuses a client that is not connected (0x6051). True when it refused.
ESPAT_SIM_DECL bool module_core::mqtt_refuse_state(bool need_connection, bool refuse_connected)
{
    if (need_connection) {
        if (mqtt_.connected()) return false;
        error(mqtt_err::code(mqtt_err::disconnected));
        return true;
    }
    if (mqtt_.state == mqtt_state::uninitialized) {
        error(mqtt_err::code(mqtt_err::not_configured));
        return true;
    }
    if (refuse_connected && mqtt_.connected()) {
        error(mqtt_err::code(mqtt_err::already_connected));
        return true;
    }
    if (refuse_connected && mqtt_.state == mqtt_state::disconnected) {
        error(mqtt_err::code(mqtt_err::not_in_configured_state));
        return true;
    }
    return false;
}

// ------------------------------------------------------------------------------------
// Handlers: configuration.

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::mqttusercfg>& r)
{
    const auto& p = r.params;
    if (mqtt_.state != mqtt_state::uninitialized && mqtt_refuse_state(false, true)) co_return;
    // TCP and TLS (2 to 5; not on the ESP8266, whose firmware has no room for it). WebSocket
    // (6 to 10) is not simulated: refused as by a firmware without it.
    const auto scheme = static_cast<int>(p.scheme.value);
    if (scheme > 5 || (scheme > 1 && opts_.firmware.chip == "ESP8266")) {
        error(mqtt_err::code(mqtt_err::scheme_value));
        co_return;
    }
    if (p.client_id.value.empty()) {
        error(mqtt_err::code(mqtt_err::client_id_null));
        co_return;
    }
    mqtt_reset();
    mqtt_.scheme = p.scheme.value;
    mqtt_.path = p.path.value;
    mqtt_.settings.client_id = p.client_id.value;
    mqtt_.settings.username = p.username.value;
    mqtt_.settings.password = p.password.value;
    mqtt_.state = mqtt_state::user_configured;
    ok();
}

ESPAT_SIM_DECL void module_core::mqtt_begin_data(mqtt_data_target target, std::size_t length)
{
    mqtt_.target = target;
    mqtt_.length = length;
    mqtt_.data.clear();
    ok();
    input_ = input_mode::mqtt_data;
    emit(opts_.firmware.prompt);
    in_send_phase_ = true;  // reports wait for the data phase's end, as in AT+CIPSEND's
    reports_inside_send_ = chance(opts_.faults.report_inside_send);
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::mqttlongclientid>& r)
{
    if (!mqtt_refuse_state(false, true)) mqtt_begin_data(mqtt_data_target::client_id, r.params.length.value());
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::mqttlongusername>& r)
{
    if (!mqtt_refuse_state(false, true)) mqtt_begin_data(mqtt_data_target::username, r.params.length.value());
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::mqttlongpassword>& r)
{
    if (!mqtt_refuse_state(false, true)) mqtt_begin_data(mqtt_data_target::password, r.params.length.value());
    co_return;
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::mqttconncfg>& r)
{
    const auto& p = r.params;
    if (mqtt_refuse_state(false, true)) co_return;
    if (p.will_topic.value.empty()) {
        error(mqtt_err::code(mqtt_err::will_topic_null));
        co_return;
    }
    mqtt_.keep_alive = p.keep_alive.value.count() == 0 ? std::chrono::seconds(120) : p.keep_alive.value;
    mqtt_.settings.clean_session = p.session.value == mqtt_session::clean;
    mqtt_.settings.will_topic = p.will_topic.value;
    mqtt_.settings.will_message = p.will_message.value;
    mqtt_.settings.will_qos = static_cast<int>(p.will_qos.value);
    mqtt_.settings.will_retain = p.will_retain.value;
    mqtt_.state = mqtt_state::connection_configured;
    ok();
    co_return;
}

// ------------------------------------------------------------------------------------
// Data phases: the bytes after '>', exactly <length> of them, nothing escaped.

ESPAT_SIM_DECL std::string_view module_core::take_mqtt_bytes(std::string_view bytes)
{
    const std::size_t n = std::min(bytes.size(), mqtt_.length - mqtt_.data.size());
    mqtt_.data.append(bytes.substr(0, n));
    if (mqtt_.data.size() == mqtt_.length) {
        input_ = input_mode::command;
        busy_ = true;
        asio::co_spawn(ex_, complete_mqtt_data(shared_from_this()), asio::detached);
    }
    return bytes.substr(n);
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::complete_mqtt_data(std::shared_ptr<module_core> keep)
{
    (void)keep;
    std::string data = std::exchange(mqtt_.data, {});
    switch (mqtt_.target) {
    case mqtt_data_target::client_id: mqtt_.settings.client_id = std::move(data); break;
    case mqtt_data_target::username: mqtt_.settings.username = std::move(data); break;
    case mqtt_data_target::password: mqtt_.settings.password = std::move(data); break;
    case mqtt_data_target::publish: {
        bool published = false;
        if (mqtt_.connected() && mqtt_.client) {
            mqtt_.done = mqtt_.ok = false;
            if (mqtt_.client->publish(&mqtt_.mid, mqtt_.topic, data, mqtt_.qos, mqtt_.retain) == MOSQ_ERR_SUCCESS)
                published = co_await mqtt_wait(opts_.mqtt_timeout);
        }
        if (stopped_) co_return;
        emit(published ? "\r\n+MQTTPUB:OK\r\n" : "\r\n+MQTTPUB:FAIL\r\n");
        release_held_reports();
        busy_ = false;
        co_return;
    }
    }
    ok();
    release_held_reports();
    busy_ = false;
}

// ------------------------------------------------------------------------------------
// Waiting for the broker: one command at a time waits (the module runs one command), woken by
// the client's handlers through mqtt_done().

ESPAT_SIM_DECL asio::awaitable<bool> module_core::mqtt_wait(std::chrono::milliseconds limit)
{
    asio::steady_timer t(ex_);
    const auto until = std::chrono::steady_clock::now() + limit;
    mqtt_.waiter = &t;
    while (!mqtt_.done && !stopped_ && std::chrono::steady_clock::now() < until) {
        t.expires_at(until);
        auto [ec] = co_await t.async_wait(use_tuple);
        (void)ec;
    }
    mqtt_.waiter = nullptr;
    const bool ok_now = mqtt_.done && mqtt_.ok;
    mqtt_.mid = -1;
    mqtt_.done = true;  // a late answer finds no one waiting
    co_return ok_now;
}
ESPAT_SIM_DECL void module_core::mqtt_done(bool ok_now)
{
    mqtt_.done = true;
    mqtt_.ok = ok_now;
    if (mqtt_.waiter) mqtt_.waiter->cancel();
}

// ------------------------------------------------------------------------------------
// Connecting, losing the broker, reconnecting.

ESPAT_SIM_DECL std::string module_core::mqtt_connected_line() const
{
    mqtt_connection c;
    c.scheme = mqtt_.scheme;
    c.host = mqtt_.host;
    c.port = mqtt_.port;
    c.path = mqtt_.path;
    c.reconnect = mqtt_.reconnect;
    std::string s;
    cmd::mqtt_connected_line::encode(s, c);
    return s;
}

// A new client with the configuration, connected to `address`: true once the broker accepted
// it (CONNACK 0) within `limit`. Its handlers refer to the module weakly and to this client.
ESPAT_SIM_DECL asio::awaitable<bool> module_core::mqtt_connect(const asio::ip::address& address, std::chrono::milliseconds limit)
{
    if (mqtt_.client) mqtt_.client->close();
    std::weak_ptr<module_core> weak = weak_from_this();
    mqtt_client_handlers h;
    h.connected = [weak](int connack) {
        if (auto m = weak.lock(); m && m->mqtt_.mid == -2) m->mqtt_done(connack == 0);
    };
    h.lost = [weak] {
        if (auto m = weak.lock()) m->mqtt_lost();
    };
    h.message = [weak](std::string_view topic, std::string_view payload) {
        if (auto m = weak.lock()) m->mqtt_message(topic, payload);
    };
    h.published = [weak](int mid) {
        if (auto m = weak.lock(); m && mid == m->mqtt_.mid) m->mqtt_done(true);
    };
    h.subscribed = [weak](int mid, bool granted) {
        if (auto m = weak.lock(); m && mid == m->mqtt_.mid) m->mqtt_done(granted);
    };
    h.unsubscribed = [weak](int mid) {
        if (auto m = weak.lock(); m && mid == m->mqtt_.mid) m->mqtt_done(true);
    };
    auto client = std::make_shared<mqtt_client>(ex_, mqtt_.settings, std::move(h));
    mqtt_.client = client;
    if (!client->valid()) co_return false;
    mqtt_.done = mqtt_.ok = false;
    mqtt_.mid = -2;  // the CONNACK's
    if (client->connect(address.to_string(), *mqtt_.port, static_cast<int>(mqtt_.keep_alive.count())) != MOSQ_ERR_SUCCESS) {
        mqtt_.mid = -1;
        co_return false;
    }
    const bool accepted = co_await mqtt_wait(limit);
    co_return accepted && mqtt_.client == client;
}

// Schemes 2 to 5: the module's first flashed credentials (<cert_key_ID> and <CA_ID> are 0)
// checked and sent as the scheme says, the server's name checked against `host` (an IP
// literal against the certificate's IP addresses). Null when the module lacks what the
// scheme needs.
ESPAT_SIM_DECL std::shared_ptr<asio::ssl::context> module_core::mqtt_tls_context(const std::string& host) const
{
    tls_client_config config;
    switch (mqtt_.scheme) {
    case mqtt_scheme::tls_verify_server: config.auth = ssl_auth_mode::verify_server; break;
    case mqtt_scheme::tls_client_cert: config.auth = ssl_auth_mode::client_certificate; break;
    case mqtt_scheme::tls_mutual: config.auth = ssl_auth_mode::mutual; break;
    default: config.auth = ssl_auth_mode::none; break;
    }
    auto context = make_tls_client_context(config, opts_.tls);
    if (!context) return nullptr;
    if (config.verifies_server()) {
        X509_VERIFY_PARAM* param = SSL_CTX_get0_param(context->native_handle());
        std::error_code ec;
        const auto literal = asio::ip::make_address(host, ec);
        const int set = !ec ? X509_VERIFY_PARAM_set1_ip_asc(param, literal.to_string().c_str())
                            : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
        if (set != 1) return nullptr;
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    return std::make_shared<asio::ssl::context>(std::move(*context));
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::mqttconn>& r)
{
    const auto& p = r.params;
    if (mqtt_refuse_timeout(p.timeout.has_value())) co_return;
    if (mqtt_refuse_state(false, true)) co_return;
    const std::optional<std::chrono::milliseconds> limit =
        p.timeout ? std::optional<std::chrono::milliseconds>(*p.timeout) : std::nullopt;
    std::optional<asio::ip::address> address;
    if (joined_) address = co_await resolve(p.host.value);
    if (stopped_) co_return;
    if (!address || refusal(*address, std::nullopt)) {
        error(mqtt_err::code(mqtt_err::client_start_failed));
        co_return;
    }
    mqtt_.settings.tls.reset();
    if (mqtt_.scheme != mqtt_scheme::tcp) {
        mqtt_.settings.tls = mqtt_tls_context(p.host.value);
        if (!mqtt_.settings.tls) {
            error(mqtt_err::code(mqtt_err::tls_config));
            co_return;
        }
    }
    mqtt_.host = p.host.value;
    mqtt_.port = p.port.value();
    mqtt_.reconnect = p.reconnect.value;
    const bool accepted = co_await mqtt_connect(*address, limit.value_or(opts_.mqtt_timeout));
    if (stopped_) co_return;
    if (!accepted) {
        if (mqtt_.client) mqtt_.client->close();
        mqtt_.client.reset();
        mqtt_.host.clear();
        mqtt_.port.reset();
        mqtt_.reconnect = false;
        error(mqtt_err::code(mqtt_err::client_start_failed));
        co_return;
    }
    ++mqtt_.connection;
    mqtt_.state = mqtt_state::connected;
    emit(mqtt_connected_line());
    ok();
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::mqttconn>&)
{
    mqtt_connection_state v;
    v.state = mqtt_.state;
    if (mqtt_.state != mqtt_state::uninitialized) {
        v.scheme = mqtt_.scheme;
        v.path = mqtt_.path;
        v.host = mqtt_.host;
        v.port = mqtt_.port;
        v.reconnect = mqtt_.reconnect;
    }
    reply<cmd::mqttconn::query>(v);
    ok();
    co_return;
}

// The broker went away (or refused us, or keep-alive failed): +MQTTDISCONNECTED, state 3.
ESPAT_SIM_DECL void module_core::mqtt_lost()
{
    if (mqtt_.mid != -1 && !mqtt_.done) mqtt_done(false);  // the command waiting for it fails
    if (!mqtt_.connected()) return;                           // a connect that failed: its command says so
    mqtt_.state = mqtt_state::disconnected;
    if (mqtt_.settings.clean_session) mqtt_.subscriptions.clear();  // the broker forgot them
    emit_report("+MQTTDISCONNECTED:0\r\n");
    if (mqtt_.reconnect) asio::co_spawn(ex_, mqtt_reconnect(shared_from_this(), mqtt_.connection), asio::detached);
}

// <reconnect>=1: the module tries again by itself until it is back, cleaned or reset.
ESPAT_SIM_DECL asio::awaitable<void> module_core::mqtt_reconnect(std::shared_ptr<module_core> keep, std::uint64_t connection)
{
    (void)keep;
    asio::steady_timer t(ex_);
    for (;;) {
        t.expires_after(opts_.mqtt_reconnect_interval);
        auto [ec] = co_await t.async_wait(use_tuple);
        (void)ec;
        if (stopped_ || mqtt_.connection != connection || mqtt_.state != mqtt_state::disconnected) co_return;
        // No command can wait on the client meanwhile: those that would are refused in state 3.
        std::optional<asio::ip::address> address;
        if (joined_) address = co_await resolve(mqtt_.host);
        if (stopped_ || mqtt_.connection != connection) co_return;
        bool back = false;
        if (address && !refusal(*address, std::nullopt)) back = co_await mqtt_connect(*address, opts_.mqtt_timeout);
        if (stopped_ || mqtt_.connection != connection) co_return;
        if (back) {
            mqtt_.state = mqtt_.subscriptions.empty() ? mqtt_state::connected : mqtt_state::subscribed;
            emit_report(mqtt_connected_line());
            co_return;
        }
    }
}

// ------------------------------------------------------------------------------------
// Messages from the broker: +MQTTSUBRECV:0,"<topic>",<n>,<n bytes>, in fragments.

// Whether a host can find where a +MQTTSUBRECV header with this topic ends: the module prints
// the topic unescaped, so a line end or NUL in it, or '",<digits>,' (which a reader takes for
// the header's end), would make the payload's bytes look like lines to the host. Any publisher,
// the host itself included, can choose such a topic: the simulator drops those messages.
inline bool frameable_topic(std::string_view topic)
{
    if (topic.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) return false;
    for (std::size_t q = topic.find("\","); q != std::string_view::npos; q = topic.find("\",", q + 1)) {
        std::size_t i = q + 2;
        while (i < topic.size() && topic[i] >= '0' && topic[i] <= '9') ++i;
        if (i > q + 2 && i < topic.size() && topic[i] == ',') return false;
    }
    return true;
}

ESPAT_SIM_DECL void module_core::mqtt_message(std::string_view topic, std::string_view payload)
{
    // The client's buffer holds the PUBLISH header too: fixed header, topic, message id.
    const std::size_t header = 5 + 2 + topic.size() + 2;
    const std::size_t buffer = opts_.firmware.mqtt_buffer;
    if (header + 64 > buffer || !frameable_topic(topic)) return;  // room for the header line and some payload
    std::size_t room = buffer > header + 1 ? buffer - header : 1;
    do {
        const std::size_t n = std::min(room, payload.size());
        std::string frame = "+MQTTSUBRECV:0,\"";
        frame += topic;
        frame += "\"," + std::to_string(n) + ",";
        frame += payload.substr(0, n);
        frame += "\r\n";
        emit_report(frame);
        payload.remove_prefix(n);
        room = buffer;
    } while (!payload.empty());
    if (output_queued() >= opts_.output_limit && mqtt_.client) {
        mqtt_.client->pause_reading(true);
        asio::co_spawn(ex_, mqtt_resume_reading(shared_from_this(), mqtt_.client), asio::detached);
    }
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::mqtt_resume_reading(std::shared_ptr<module_core> keep,
                                                                      std::shared_ptr<mqtt_client> client)
{
    (void)keep;
    while (!stopped_ && mqtt_.client == client && output_queued() >= opts_.output_limit) {
        auto [ec] = co_await output_room_.async_wait(use_tuple);
        (void)ec;
    }
    if (!stopped_ && mqtt_.client == client) client->pause_reading(false);
}

// ------------------------------------------------------------------------------------
// Handlers: publishing, subscribing.

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::mqttpub>& r)
{
    const auto& p = r.params;
    if (mqtt_refuse_timeout(p.timeout.has_value())) co_return;
    if (mqtt_refuse_state(true, false)) co_return;
    if (p.topic.value.empty()) {
        error(mqtt_err::code(mqtt_err::topic_null));
        co_return;
    }
    if (p.data.value.empty()) {
        error(mqtt_err::code(mqtt_err::data_null));
        co_return;
    }
    mqtt_.done = mqtt_.ok = false;
    bool published = false;
    if (mqtt_.client->publish(&mqtt_.mid, p.topic.value, p.data.value, static_cast<int>(p.qos.value), p.retain.value) ==
        MOSQ_ERR_SUCCESS)
        published = co_await mqtt_wait(p.timeout ? *p.timeout : opts_.mqtt_timeout);
    if (stopped_) co_return;
    if (published) ok();
    else error(mqtt_err::code(mqtt_err::publish_failed));
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::mqttpubraw>& r)
{
    const auto& p = r.params;
    if (mqtt_refuse_timeout(p.timeout.has_value())) co_return;
    if (mqtt_refuse_state(true, false)) co_return;
    if (p.topic.value.empty()) {
        error(mqtt_err::code(mqtt_err::topic_null));
        co_return;
    }
    // ESP8266: the whole PUBLISH must fit its MQTT buffer; the ESP32 family: free heap.
    const std::size_t header = p.qos.value == mqtt_qos::at_most_once ? 5 + 2 + p.topic.value.size() : 7 + 2 + p.topic.value.size();
    const std::size_t limit = opts_.firmware.chip == "ESP8266"
                                  ? (opts_.firmware.mqtt_publish_limit > header ? opts_.firmware.mqtt_publish_limit - header : 0)
                                  : opts_.firmware.mqtt_publish_limit;
    if (p.length.value() > limit) {
        error(mqtt_err::code(mqtt_err::publish_length_value));
        co_return;
    }
    mqtt_.topic = p.topic.value;
    mqtt_.qos = static_cast<int>(p.qos.value);
    mqtt_.retain = p.retain.value;
    mqtt_begin_data(mqtt_data_target::publish, p.length.value());
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::mqttsub>& r)
{
    const auto& p = r.params;
    if (mqtt_refuse_timeout(p.timeout.has_value())) co_return;
    if (mqtt_refuse_state(true, false)) co_return;
    if (p.topic.value.empty()) {
        error(mqtt_err::code(mqtt_err::topic_null));
        co_return;
    }
    // Firmware before 4.1 says why it subscribes nothing; 4.1+ lost those lines (ERROR).
    const bool says_why = opts_.firmware.version < version{4, 1, 0, 0};
    const auto& subs = mqtt_.subscriptions;
    if (std::any_of(subs.begin(), subs.end(), [&](const auto& s) { return s.topic == p.topic.value; })) {
        if (says_why) {
            emit("ALREADY SUBSCRIBE\r\n");
            ok();
        } else {
            error(mqtt_err::code(mqtt_err::subscribe_failed));
        }
        co_return;
    }
    if (subs.size() >= 10) {
        if (says_why) emit("ALREADY FULL SUBSCRIBE\r\n");
        error(mqtt_err::code(mqtt_err::subscribe_failed));
        co_return;
    }
    mqtt_.done = mqtt_.ok = false;
    bool granted = false;
    if (mqtt_.client->subscribe(&mqtt_.mid, p.topic.value, static_cast<int>(p.qos.value)) == MOSQ_ERR_SUCCESS)
        granted = co_await mqtt_wait(p.timeout ? *p.timeout : opts_.mqtt_timeout);
    if (stopped_) co_return;
    if (!granted || !mqtt_.connected()) {
        error(mqtt_err::code(mqtt_err::subscribe_failed));
        co_return;
    }
    mqtt_.subscriptions.push_back({0, mqtt_state::subscribed, p.topic.value, p.qos.value});
    mqtt_.state = mqtt_state::subscribed;
    ok();
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::mqttsub>&)
{
    std::vector<mqtt_subscription> lines;
    for (const auto& s : mqtt_.subscriptions) lines.push_back({0, mqtt_.state, s.topic, s.qos});
    if (lines.empty()) lines.push_back({0, mqtt_.state, {}, mqtt_qos::at_most_once});
    reply<cmd::mqttsub::query>(lines);
    ok();
    co_return;
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::mqttunsub>& r)
{
    const auto& p = r.params;
    if (mqtt_refuse_timeout(p.timeout.has_value())) co_return;
    if (mqtt_refuse_state(true, false)) co_return;
    auto& subs = mqtt_.subscriptions;
    const auto it = std::find_if(subs.begin(), subs.end(), [&](const auto& s) { return s.topic == p.topic.value; });
    if (it == subs.end() && opts_.firmware.version < version{4, 1, 0, 0}) {
        emit("NO UNSUBSCRIBE\r\n");  // and OK: nothing changed
        ok();
        co_return;
    }
    mqtt_.done = mqtt_.ok = false;
    bool gone = false;
    if (mqtt_.client->unsubscribe(&mqtt_.mid, p.topic.value) == MOSQ_ERR_SUCCESS)
        gone = co_await mqtt_wait(p.timeout ? *p.timeout : opts_.mqtt_timeout);
    if (stopped_) co_return;
    if (!gone || !mqtt_.connected()) {
        error(mqtt_err::code(mqtt_err::unsubscribe_failed));
        co_return;
    }
    const auto now = std::find_if(subs.begin(), subs.end(), [&](const auto& s) { return s.topic == p.topic.value; });
    if (now != subs.end()) subs.erase(now);
    if (subs.empty()) mqtt_.state = mqtt_state::connected_no_subscription;
    ok();
}

// ------------------------------------------------------------------------------------
// AT+MQTTCLEAN and resets: everything goes, the connection first.

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::mqttclean>&)
{
    if (mqtt_.state == mqtt_state::uninitialized) {
        error(mqtt_err::code(mqtt_err::not_initialized));
        co_return;
    }
    if (mqtt_.client && mqtt_.connected()) mqtt_.client->disconnect();
    mqtt_reset();
    ok();
    co_return;
}

ESPAT_SIM_DECL void module_core::mqtt_reset()
{
    if (mqtt_.client) mqtt_.client->close();
    if (mqtt_.waiter) mqtt_.waiter->cancel();
    const std::uint64_t connection = mqtt_.connection + 1;  // ends a reconnection loop
    mqtt_ = mqtt_module_state{};
    mqtt_.connection = connection;
}

}  // namespace espat::sim::detail
