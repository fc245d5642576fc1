// espat/sim/core_at1.hpp — the simulated module's AT 1.x _CUR / _DEF pairs (ESP8266 NONOS AT) of
// the basic and Wi-Fi commands, on the plain commands' logic in core_basic_wifi.hpp.
#pragma once

#include <espat/sim/module_core.hpp>

namespace espat::sim::detail {

// ------------------------------------------------------------------------------------
// Handlers: AT 1.x's _CUR / _DEF pairs (the table dates them before ESP-AT 2.0, so only the
// NONOS personality has them). Each runs its plain command's logic: _CUR changes the setting
// in effect, _DEF that and flash (what a reboot loads); _CUR's query reports the setting in
// effect, _DEF's what flash holds, except AT+CWJAP_DEF? (the AP joined, as the
// instruction set says).

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::uart_def>&)
{
    reply<cmd::uart_def::query>(flash_.uart);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::uart_def>& r)
{
    if (set_uart(r.params, true)) ok();
    else error();
    co_return;
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::sysmsg_cur>& r)
{
    if (set_at1_sysmsg(r.params.messages.value, false)) ok();
    else error();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::sysmsg_def>& r)
{
    if (set_at1_sysmsg(r.params.messages.value, true)) ok();
    else error();
    co_return;
}
// NONOS knows bits 0 (+QUITT) and 1 (+LINK_CONN); ESP-AT 2.x added bit 2.
ESPAT_SIM_DECL bool module_core::set_at1_sysmsg(system_messages messages, bool save)
{
    if (has(messages, system_messages::connection_status)) return false;
    sysmsg_ = messages;
    if (save) flash_.sysmsg = messages;
    return true;
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cwmode_cur>&)
{
    reply<cmd::cwmode_cur::query>(wifi_mode_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwmode_cur>& r)
{
    if (set_at1_wifi_mode(r.params.mode.value, false)) ok();
    else error();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cwmode_def>&)
{
    reply<cmd::cwmode_def::query>(flash_.mode);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwmode_def>& r)
{
    if (set_at1_wifi_mode(r.params.mode.value, true)) ok();
    else error();
    co_return;
}
// AT 1.x's modes are 1..3: no "Wi-Fi off".
ESPAT_SIM_DECL bool module_core::set_at1_wifi_mode(wifi_mode mode, bool save)
{
    if (mode == wifi_mode::off) return false;
    set_wifi_mode(mode, save);
    return true;
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cwjap_cur>&)
{
    reply<cmd::cwjap_cur::query>(connection_now());
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwjap_cur>& r)
{
    co_await join(r.params.ssid.value, r.params.password.value, false);
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cwjap_def>&)
{
    reply<cmd::cwjap_def::query>(connection_now());
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwjap_def>& r)
{
    co_await join(r.params.ssid.value, r.params.password.value, true);
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cwsap_cur>&)
{
    reply<cmd::cwsap_cur::query>(softap_config_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwsap_cur>& r)
{
    if (configure_softap(r.params, false)) ok();
    else error();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cwsap_def>&)
{
    reply<cmd::cwsap_def::query>(flash_.softap_setup);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwsap_def>& r)
{
    if (configure_softap(r.params, true)) ok();
    else error();
    co_return;
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cwdhcp_cur>&)
{
    reply<cmd::cwdhcp_cur::query>(at1_dhcp_bits(dhcp_interfaces_));
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwdhcp_cur>& r)
{
    set_dhcp(interfaces_of(r.params.interfaces.value), r.params.enable.value, false);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cwdhcp_def>&)
{
    reply<cmd::cwdhcp_def::query>(at1_dhcp_bits(flash_.dhcp));
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwdhcp_def>& r)
{
    set_dhcp(interfaces_of(r.params.interfaces.value), r.params.enable.value, true);
    ok();
    co_return;
}
// dhcp_interfaces bits as AT 1.x prints them (at1_dhcp_interfaces: the other way round).
ESPAT_SIM_DECL std::uint8_t module_core::at1_dhcp_bits(std::uint8_t interfaces)
{
    std::uint8_t bits = 0;
    if (interfaces & dhcp_interfaces::softap) bits |= at1_dhcp_interfaces::softap;
    if (interfaces & dhcp_interfaces::station) bits |= at1_dhcp_interfaces::station;
    return bits;
}
ESPAT_SIM_DECL std::uint8_t module_core::interfaces_of(at1_dhcp_target target)
{
    switch (target) {
    case at1_dhcp_target::softap: return dhcp_interfaces::softap;
    case at1_dhcp_target::station: return dhcp_interfaces::station;
    case at1_dhcp_target::both: break;
    }
    return dhcp_interfaces::softap | dhcp_interfaces::station;
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipstamac_cur>&)
{
    reply<cmd::cipstamac_cur::query>(station_mac_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipstamac_cur>& r)
{
    if (set_mac(station_mac_, flash_.station_mac, r.params.mac.value, false)) ok();
    else error();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipstamac_def>&)
{
    reply<cmd::cipstamac_def::query>(flash_.station_mac);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipstamac_def>& r)
{
    if (set_mac(station_mac_, flash_.station_mac, r.params.mac.value, true)) ok();
    else error();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipapmac_cur>&)
{
    reply<cmd::cipapmac_cur::query>(softap_mac_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipapmac_cur>& r)
{
    if (set_mac(softap_mac_, flash_.softap_mac, r.params.mac.value, false)) ok();
    else error();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipapmac_def>&)
{
    reply<cmd::cipapmac_def::query>(flash_.softap_mac);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipapmac_def>& r)
{
    if (set_mac(softap_mac_, flash_.softap_mac, r.params.mac.value, true)) ok();
    else error();
    co_return;
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipsta_cur>&)
{
    reply<cmd::cipsta_cur::query>(station_addresses_shown(station_));
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsta_cur>& r)
{
    set_addresses(station_, r.params);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipsta_def>&)
{
    reply<cmd::cipsta_def::query>(station_addresses_shown(flash_.station));
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsta_def>& r)
{
    set_addresses(station_, r.params);
    set_addresses(flash_.station, r.params);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipap_cur>&)
{
    reply<cmd::cipap_cur::query>(softap_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipap_cur>& r)
{
    set_addresses(softap_, r.params);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipap_def>&)
{
    reply<cmd::cipap_def::query>(flash_.softap);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipap_def>& r)
{
    set_addresses(softap_, r.params);
    set_addresses(flash_.softap, r.params);
    ok();
    co_return;
}

}  // namespace espat::sim::detail
