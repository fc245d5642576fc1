// espat/sim/detail/mqtt_values.hpp — what the simulated module keeps of its one MQTT client
// (link 0), and the MQTT ERR CODEs it prints (docs/reference/esp-at-mqtt-commands.md).
#pragma once

#include <espat/commands/mqtt.hpp>
#include <espat/sim/mqtt_client.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace espat::sim::detail {

// ESP-AT's MQTT error numbers (the reference's table), printed as execution failures:
// ERR CODE:0x010a60xx (the upper half as the reference assumes it, like HTTP's 0x010a7xxx).
namespace mqtt_err {
inline constexpr std::uint32_t not_configured = 0x6001;
inline constexpr std::uint32_t not_in_configured_state = 0x6002;
inline constexpr std::uint32_t not_initialized = 0x6003;  // or already cleaned
inline constexpr std::uint32_t already_connected = 0x6004;
inline constexpr std::uint32_t parameter_count = 0x6008;
inline constexpr std::uint32_t tls_config = 0x6009;
inline constexpr std::uint32_t client_start_failed = 0x600B;
inline constexpr std::uint32_t publish_failed = 0x600C;
inline constexpr std::uint32_t subscribe_failed = 0x600D;
inline constexpr std::uint32_t unsubscribe_failed = 0x600E;
inline constexpr std::uint32_t link_id_read = 0x6010;
inline constexpr std::uint32_t link_id_value = 0x6011;
inline constexpr std::uint32_t scheme_value = 0x6013;
inline constexpr std::uint32_t client_id_null = 0x6015;
inline constexpr std::uint32_t client_id_long = 0x6016;
inline constexpr std::uint32_t username_long = 0x6019;
inline constexpr std::uint32_t password_long = 0x601C;
inline constexpr std::uint32_t cert_key_id_value = 0x601E;
inline constexpr std::uint32_t ca_id_value = 0x6020;
inline constexpr std::uint32_t path_long = 0x6029;
inline constexpr std::uint32_t keep_alive_value = 0x602D;
inline constexpr std::uint32_t clean_session_value = 0x602F;
inline constexpr std::uint32_t will_topic_null = 0x6031;
inline constexpr std::uint32_t will_topic_long = 0x6032;
inline constexpr std::uint32_t will_message_long = 0x6035;
inline constexpr std::uint32_t will_qos_value = 0x6037;
inline constexpr std::uint32_t will_retain_value = 0x6039;
inline constexpr std::uint32_t host_long = 0x603C;
inline constexpr std::uint32_t port_value = 0x603E;
inline constexpr std::uint32_t reconnect_value = 0x6040;
inline constexpr std::uint32_t topic_null = 0x6042;
inline constexpr std::uint32_t topic_long = 0x6043;
inline constexpr std::uint32_t data_null = 0x6045;
inline constexpr std::uint32_t qos_value = 0x6048;
inline constexpr std::uint32_t retain_value = 0x604A;
inline constexpr std::uint32_t publish_length_value = 0x604C;
inline constexpr std::uint32_t disconnected = 0x6051;
constexpr std::uint32_t code(std::uint32_t mqtt) { return 0x010a0000u | mqtt; }
}  // namespace mqtt_err

// What a data phase after '>' is for.
enum class mqtt_data_target : std::uint8_t { client_id, username, password, publish };

// The module's MQTT side. <state> numbers as the queries print them (mqtt_state).
struct mqtt_module_state {
    mqtt_state state = mqtt_state::uninitialized;
    mqtt_scheme scheme = mqtt_scheme::tcp;
    std::string path;
    mqtt_client_settings settings;
    std::chrono::seconds keep_alive{120};
    std::string host;
    std::optional<std::uint16_t> port;
    bool reconnect = false;
    std::vector<mqtt_subscription> subscriptions;  // link and state unused: filled in when printed
    std::shared_ptr<mqtt_client> client;
    std::uint64_t connection = 0;  // AT+MQTTCONN to AT+MQTTCLEAN: a reconnection belongs to one

    // The command waiting for the broker: its message id (written by libmosquitto before any
    // callback can come), whether it ended and how; a connect's CONNACK.
    int mid = -1;
    bool done = false, ok = false;
    asio::steady_timer* waiter = nullptr;

    // A data phase (AT+MQTTLONG*, AT+MQTTPUBRAW).
    mqtt_data_target target = mqtt_data_target::publish;
    std::size_t length = 0;
    std::string data;
    std::string topic;
    int qos = 0;
    bool retain = false;

    [[nodiscard]] bool connected() const noexcept { return state >= mqtt_state::connected; }
};

// A command line's parameters as the firmware splits them: at commas outside quotes, quotes
// taken off, "\x" read as x. For the refusals the table's decoder cannot tell apart.
inline std::vector<std::string> split_mqtt_params(std::string_view params)
{
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < params.size(); ++i) {
        const char c = params[i];
        if (c == '\\' && i + 1 < params.size()) out.back() += params[++i];
        else if (c == '"') quoted = !quoted;
        else if (c == ',' && !quoted) out.emplace_back();
        else out.back() += c;
        if (out.size() > 16) break;  // no MQTT command has as many
    }
    return out;
}

}  // namespace espat::sim::detail
