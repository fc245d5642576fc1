// espat/commands/basic.hpp — the basic commands a host needs to bring a module up and look
// after it: AT, ATE0/ATE1, AT+RST, AT+RESTORE, AT+GMR, AT+SYSSTORE, AT+SYSLOG, AT+SYSMSG (and
// AT 1.x's AT+SYSMSG_CUR/_DEF), AT+UART_CUR, AT+UART_DEF. Syntax from the ESP-AT "Basic AT
// Commands" reference; firmware differences from firmware-quirks.md and host-drivers.md.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/descriptor.hpp>
#include <espat/commands/firmware.hpp>
#include <espat/commands/values.hpp>

#include <cstdint>
#include <string_view>

namespace espat {

// AT+SYSMSG's bit mask (0..7): which extra messages the module prints.
enum class system_messages : std::uint8_t {
    none = 0,
    quit_passthrough = 1,   // bit 0: "+QUITT" when passthrough mode is left
    link_conn_details = 2,  // bit 1: "+LINK_CONN:..." instead of "<id>,CONNECT"
    connection_status = 4,  // bit 2: status messages in passthrough mode (CONNECT, CLOSED, WIFI ...)
    all = 7,
};
[[nodiscard]] constexpr system_messages operator|(system_messages a, system_messages b) noexcept
{
    return static_cast<system_messages>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
[[nodiscard]] constexpr system_messages operator&(system_messages a, system_messages b) noexcept
{
    return static_cast<system_messages>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b));
}
[[nodiscard]] constexpr bool has(system_messages set, system_messages bit) noexcept
{
    return (set & bit) == bit;
}
template <>
struct enum_numbers<system_messages> {
    // Every combination of the three bits is a valid mask.
    static constexpr system_messages values[] = {
        system_messages{0}, system_messages{1}, system_messages{2}, system_messages{3},
        system_messages{4}, system_messages{5}, system_messages{6}, system_messages{7}};
};

// AT+UART_CUR's parameters.
using uart_baud_rate = bounded<std::uint32_t, 80, 5000000>;  // ESP32; ESP8266 takes 80..4500000

enum class uart_data_bits : std::uint8_t { five = 5, six = 6, seven = 7, eight = 8 };
template <>
struct enum_numbers<uart_data_bits> {
    static constexpr uart_data_bits values[] = {uart_data_bits::five, uart_data_bits::six, uart_data_bits::seven,
                                                uart_data_bits::eight};
};

enum class uart_stop_bits : std::uint8_t { one = 1, one_and_half = 2, two = 3 };
template <>
struct enum_numbers<uart_stop_bits> {
    static constexpr uart_stop_bits values[] = {uart_stop_bits::one, uart_stop_bits::one_and_half, uart_stop_bits::two};
};

enum class uart_parity : std::uint8_t { none = 0, odd = 1, even = 2 };
template <>
struct enum_numbers<uart_parity> {
    static constexpr uart_parity values[] = {uart_parity::none, uart_parity::odd, uart_parity::even};
};

enum class uart_flow_control : std::uint8_t { none = 0, rts = 1, cts = 2, rts_cts = 3 };
template <>
struct enum_numbers<uart_flow_control> {
    static constexpr uart_flow_control values[] = {uart_flow_control::none, uart_flow_control::rts,
                                                   uart_flow_control::cts, uart_flow_control::rts_cts};
};

// What AT+UART_CUR? reports. The baud rate is what the clock divider achieved, which may
// differ a little from the rate set, so it is a plain number here.
struct uart_config {
    std::uint32_t baud_rate = 115200;
    uart_data_bits data_bits = uart_data_bits::eight;
    uart_stop_bits stop_bits = uart_stop_bits::one;
    uart_parity parity = uart_parity::none;
    uart_flow_control flow_control = uart_flow_control::none;

    friend bool operator==(const uart_config&, const uart_config&) = default;
};

// Requests.
struct sysstore_request {
    required<bool> store_in_flash;  // 1: set commands save their configuration (the default)
    friend bool operator==(const sysstore_request&, const sysstore_request&) = default;
};

struct syslog_request {
    required<bool> error_codes;  // 1: "ERR CODE:0x..." before ERROR
    friend bool operator==(const syslog_request&, const syslog_request&) = default;
};

struct sysmsg_request {
    required<system_messages> messages;
    friend bool operator==(const sysmsg_request&, const sysmsg_request&) = default;
};

// AT+RFPOWER's Wi-Fi transmit power, in 0.25 dBm steps: 40..84 on ESP32 (10..21 dBm); the
// ESP8266 takes 40..82 and refuses the rest itself.
using wifi_tx_power = bounded<std::uint8_t, 40, 84>;

// RF transmit powers (AT+RFPOWER?). ESP8266 prints the Wi-Fi power only; the BLE levels are
// chip-specific indexes (ESP32: 0..7, ESP32-C3: 0..15).
struct rf_power {
    std::uint8_t wifi = 0;  // 0.25 dBm steps
    std::optional<std::uint8_t> ble_advertising{}, ble_scan{}, ble_connection{};
    friend bool operator==(const rf_power&, const rf_power&) = default;
};

struct rfpower_request {
    wifi_tx_power wifi;
    std::optional<std::uint8_t> ble_advertising{}, ble_scan{}, ble_connection{};
    friend bool operator==(const rfpower_request&, const rfpower_request&) = default;
};

// AT+UART_CUR's and AT+UART_DEF's request.
struct uart_cur_request {
    uart_baud_rate baud_rate;
    required<uart_data_bits> data_bits;
    required<uart_stop_bits> stop_bits;
    required<uart_parity> parity;
    required<uart_flow_control> flow_control;
    friend bool operator==(const uart_cur_request&, const uart_cur_request&) = default;
};
using uart_def_request = uart_cur_request;

}  // namespace espat

namespace espat::commands {

// AT: is the module there? OK.
struct at {
    static constexpr std::string_view command = "AT";
    static constexpr std::uint32_t timeout_ms = 1000;
    using execute = execute_form<>;
};

// ATE0 / ATE1: echo off / on. ATE0 itself is still echoed (firmware-quirks.md).
struct ate0 {
    static constexpr std::string_view command = "ATE0";
    static constexpr std::uint32_t timeout_ms = 1000;
    using execute = execute_form<>;
};

struct ate1 {
    static constexpr std::string_view command = "ATE1";
    static constexpr std::uint32_t timeout_ms = 1000;
    using execute = execute_form<>;
};

// AT+RST: OK (sometimes after "busy p...", sometimes ERROR instead), then the module reboots
// and prints "ready" >= 20 ms later (firmware-quirks.md, host-drivers.md).
struct rst {
    static constexpr std::string_view command = "AT+RST";
    static constexpr std::uint32_t timeout_ms = 5000;
    using execute = execute_form<>;
};

// AT+RESTORE: factory settings; open links print "<id>,CLOSED" before the OK, then the module
// reboots (firmware-quirks.md).
struct restore {
    static constexpr std::string_view command = "AT+RESTORE";
    static constexpr std::uint32_t timeout_ms = 5000;
    using execute = execute_form<>;
};

// AT+GMR: the firmware's version lines, read into firmware_info.
struct gmr {
    static constexpr std::string_view command = "AT+GMR";
    static constexpr std::uint32_t timeout_ms = 1000;
    using execute = execute_form<text_block<firmware_info_text>>;
};

// AT+SYSSTORE: whether set commands save their configuration in flash. ESP-AT 2.x and later:
// NONOS has the _CUR/_DEF command pairs instead, and WiFiEspAT falls back to AT+CWAUTOCONN
// when it fails (host-drivers.md).
struct sysstore {
    static constexpr std::string_view command = "AT+SYSSTORE";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version since{2, 0, 0, 0};
    using query = query_form<one<line<bool, "SYSSTORE", fields<whole<flag>>>>>;
    using set = set_form<sysstore_request, fields<field<&sysstore_request::store_in_flash, flag>>>;
};

// AT+SYSLOG: whether "ERR CODE:0x........" lines come before ERROR (firmware-quirks.md).
struct syslog {
    static constexpr std::string_view command = "AT+SYSLOG";
    static constexpr std::uint32_t timeout_ms = 1000;
    using query = query_form<one<line<bool, "SYSLOG", fields<whole<flag>>>>>;
    using set = set_form<syslog_request, fields<field<&syslog_request::error_codes, flag>>>;
};

// AT+SYSMSG: the extra messages (bit 1 switches connects to +LINK_CONN, host-drivers.md).
struct sysmsg {
    static constexpr std::string_view command = "AT+SYSMSG";
    static constexpr std::uint32_t timeout_ms = 1000;
    using query = query_form<one<line<system_messages, "SYSMSG", fields<whole<number<system_messages>>>>>>;
    using set = set_form<sysmsg_request, fields<field<&sysmsg_request::messages, number<system_messages>>>>;
};

// AT+SYSMSG_CUR / AT+SYSMSG_DEF: AT 1.x's pair for the same bits (NONOS knows bits 0 and 1:
// +QUITT and +LINK_CONN), until reset / also saved in flash (the _CUR/_DEF pairs: wifi.hpp).
// Set only, as the drivers written for NONOS use them ("AT+SYSMSG_CUR=3"). ESP-AT 2.0 replaced
// them by AT+SYSMSG and AT+SYSSTORE (the ESP-AT "AT Command Set Comparison").
struct sysmsg_cur {
    static constexpr std::string_view command = "AT+SYSMSG_CUR";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version until{2, 0, 0, 0};
    using set = set_form<sysmsg_request, fields<field<&sysmsg_request::messages, number<system_messages>>>>;
};

struct sysmsg_def {
    static constexpr std::string_view command = "AT+SYSMSG_DEF";
    static constexpr std::uint32_t timeout_ms = 1000;
    static constexpr espat::version until{2, 0, 0, 0};
    using set = set_form<sysmsg_request, fields<field<&sysmsg_request::messages, number<system_messages>>>>;
};

namespace detail {
// AT+UART_CUR and AT+UART_DEF: +<Prefix>:<baud>,<data bits>,<stop bits>,<parity>,<flow control>.
template <fixed_string Prefix>
struct uart_forms {
    using query = query_form<one<line<uart_config, Prefix,
                                      fields<field<&uart_config::baud_rate, integer<std::uint32_t>>,
                                             field<&uart_config::data_bits, number<uart_data_bits>>,
                                             field<&uart_config::stop_bits, number<uart_stop_bits>>,
                                             field<&uart_config::parity, number<uart_parity>>,
                                             field<&uart_config::flow_control, number<uart_flow_control>>>>>>;
    using set = set_form<uart_cur_request, fields<field<&uart_cur_request::baud_rate, ranged<uart_baud_rate>>,
                                                  field<&uart_cur_request::data_bits, number<uart_data_bits>>,
                                                  field<&uart_cur_request::stop_bits, number<uart_stop_bits>>,
                                                  field<&uart_cur_request::parity, number<uart_parity>>,
                                                  field<&uart_cur_request::flow_control, number<uart_flow_control>>>>;
};
}  // namespace detail

// AT+UART_CUR: the UART's configuration until reset (not saved). The module answers OK at
// the old rate and switches after it.
struct uart_cur : detail::uart_forms<"UART_CUR"> {
    static constexpr std::string_view command = "AT+UART_CUR";
    static constexpr std::uint32_t timeout_ms = 1000;
};

// AT+UART_DEF: the same, and saved in flash: the configuration after a reset. Its query
// reports what is saved. Every firmware has it: NONOS AT (Espressif's ESP8266 AT Instruction
// Set, NONOS SDK) and ESP-AT 2.x-4.x alike (the ESP-AT "AT Command Set Comparison").
struct uart_def : detail::uart_forms<"UART_DEF"> {
    static constexpr std::string_view command = "AT+UART_DEF";
    static constexpr std::uint32_t timeout_ms = 1000;
};

// AT+RFPOWER: RF transmit power (lwESP sends AT+RFPOWER=40 at start-up, host-drivers.md).
struct rfpower {
    static constexpr std::string_view command = "AT+RFPOWER";
    static constexpr std::uint32_t timeout_ms = 1000;
    using query = query_form<one<line<rf_power, "RFPOWER",
                                      fields<field<&rf_power::wifi, integer<std::uint8_t>>,
                                             field<&rf_power::ble_advertising, integer<std::uint8_t>>,
                                             field<&rf_power::ble_scan, integer<std::uint8_t>>,
                                             field<&rf_power::ble_connection, integer<std::uint8_t>>>>>>;
    using set = set_form<rfpower_request, fields<field<&rfpower_request::wifi, ranged<wifi_tx_power>>,
                                                 field<&rfpower_request::ble_advertising, integer<std::uint8_t>>,
                                                 field<&rfpower_request::ble_scan, integer<std::uint8_t>>,
                                                 field<&rfpower_request::ble_connection, integer<std::uint8_t>>>>;
};

}  // namespace espat::commands
