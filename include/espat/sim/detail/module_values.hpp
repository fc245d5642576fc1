// espat/sim/detail/module_values.hpp — values the simulated module's core works with: ESP-AT's
// ERR CODEs, whether a command word is known, the default DNS servers, and the flash a reboot
// starts from (sim/module_core.hpp).
#pragma once

#include <espat/commands/table.hpp>

#include <asio/ip/address.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace espat::sim::detail {

// ESP-AT's ERR CODE values: 0x01 <sub code> 0000 (esp_at.h's ESP_AT_SUB_*).
namespace err_code {
inline constexpr std::uint32_t parameter_parse_failed = 0x01080000;
inline constexpr std::uint32_t unsupported_command = 0x01090000;
inline constexpr std::uint32_t execution_failed = 0x010a0000;
inline constexpr std::uint32_t still_processing = 0x010b0000;
}  // namespace err_code

// Whether the word of a command line names a command of the table (its parameters then did
// not parse) or nothing the module knows.
inline bool known_command_word(std::string_view line)
{
    const auto word = espat::commands::detail::split_command_line(line).word;
    return []<class... C>(espat::commands::detail::type_list<C...>*, std::string_view w) {
        return ((C::command == w) || ...);
    }(static_cast<espat::commands::all_command_list*>(nullptr), word);
}

// The DNS servers of a module whose DNS was not set (or set back to automatic).
inline dns_config default_dns()
{
    return {dns_mode::automatic, asio::ip::make_address("208.67.222.222"), asio::ip::make_address("8.8.8.8"),
            std::nullopt};
}

// The module's flash: what a reboot starts from (module_core::load_flash()). A setting's _DEF
// form (AT 1.x) writes it as well as the setting in effect, its _CUR form only the setting in
// effect, its plain form as AT+SYSSTORE says; AT+RESTORE returns it to these factory values.
struct saved_ap {
    std::string ssid, password;
};
struct flash_settings {
    wifi_mode mode = wifi_mode::station;
    std::optional<saved_ap> ap;  // joined at boot when auto-connect is on
    station_addresses station{asio::ip::make_address("192.168.4.2"), asio::ip::make_address("192.168.4.1"),
                              asio::ip::make_address("255.255.255.0")};
    softap_addresses softap{asio::ip::make_address("192.168.4.1"), asio::ip::make_address("192.168.4.1"),
                            asio::ip::make_address("255.255.255.0")};
    softap_config softap_setup{"ESP_SIM", "", 1, wifi_auth::open, std::uint8_t{10}, false};
    std::uint8_t dhcp = dhcp_interfaces::station | dhcp_interfaces::softap;
    mac_address station_mac{{0x24, 0x0a, 0xc4, 0x00, 0x00, 0x01}};
    mac_address softap_mac{{0x26, 0x0a, 0xc4, 0x00, 0x00, 0x01}};
    dns_config dns = default_dns();
    uart_config uart{};
    system_messages sysmsg = system_messages::none;
};

}  // namespace espat::sim::detail
