// espat/sim/core_basic_wifi.hpp — the simulated module's basic commands (AT, ATE, AT+RST,
// AT+GMR, AT+SYS*, AT+UART_CUR/DEF, AT+RFPOWER) and Wi-Fi commands (AT+CW*, AT+CIPSTA/AP,
// AT+CIFSR); AT 1.x's _CUR / _DEF pairs of them are in core_at1.hpp.
#pragma once

#include <espat/sim/module_core.hpp>

namespace espat::sim::detail {

// ------------------------------------------------------------------------------------
// Handlers: basic commands.

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::at>&) { ok(); co_return; }
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::ate0>&) { echo_ = false; ok(); co_return; }
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::ate1>&) { echo_ = true; ok(); co_return; }
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::rst>&)
{
    ok();
    asio::co_spawn(ex_, reboot(shared_from_this(), false), asio::detached);
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::restore>&)
{
    // Open links say CLOSED before the OK (firmware-quirks.md).
    for (std::uint8_t i = links_.size(); i-- > 0;) remove_link(i, true);
    ok();
    asio::co_spawn(ex_, reboot(shared_from_this(), true), asio::detached);
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::gmr>&)
{
    reply<cmd::gmr::execute>(opts_.firmware.gmr);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::sysstore>&)
{
    reply<cmd::sysstore::query>(store_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::sysstore>& r)
{
    store_ = r.params.store_in_flash.value;
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::syslog>&)
{
    reply<cmd::syslog::query>(syslog_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::syslog>& r)
{
    syslog_ = r.params.error_codes.value;
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::sysmsg>&)
{
    reply<cmd::sysmsg::query>(sysmsg_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::sysmsg>& r)
{
    sysmsg_ = r.params.messages.value;
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::uart_cur>&)
{
    reply<cmd::uart_cur::query>(uart_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::uart_cur>& r)
{
    if (set_uart(r.params, false)) ok();
    else error();
    co_return;
}
// Remembered and reported (until a reset, or beyond when saved); pacing the output at the
// rate (and honouring RTS/CTS) is the transport's business. Without RTS/CTS pins a setting
// that asks for them is refused and the UART keeps its settings.
ESPAT_SIM_DECL bool module_core::set_uart(const uart_cur_request& p, bool save)
{
    if (p.flow_control.value != uart_flow_control::none && !opts_.uart_flow_control) return false;
    uart_ = {p.baud_rate.value(), p.data_bits.value, p.stop_bits.value, p.parity.value, p.flow_control.value};
    uart_switch_pending_ = true;  // the answer goes out at the old settings
    if (save) flash_.uart = uart_;
    return true;
}

// ------------------------------------------------------------------------------------
// Handlers: Wi-Fi.

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cwmode>&)
{
    reply<cmd::cwmode::query>(wifi_mode_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwmode>& r)
{
    set_wifi_mode(r.params.mode.value, store_);
    ok();
    co_return;
}
ESPAT_SIM_DECL void module_core::set_wifi_mode(wifi_mode mode, bool save)
{
    wifi_mode_ = mode;
    if (save) flash_.mode = mode;
    if (!station_enabled() && joined_) {
        joined_.reset();
        emit_report("WIFI DISCONNECT\r\n");
    }
}

// A join that succeeds with `save` is the AP the module joins at boot.
ESPAT_SIM_DECL asio::awaitable<void> module_core::join(const std::string& ssid, const std::string& password, bool save)
{
    if (!station_enabled()) {
        error();
        co_return;
    }
    if (joined_) {
        joined_.reset();
        emit_report("WIFI DISCONNECT\r\n");
    }
    joining_ssid_ = ssid;
    join_attempted_ = true;
    last_join_ssid_ = ssid;
    asio::steady_timer t(ex_);
    t.expires_after(opts_.join_delay);
    auto [ec] = co_await t.async_wait(use_tuple);
    (void)ec;
    joining_ssid_.reset();
    if (stopped_) co_return;
    const auto& aps = opts_.access_points;
    const auto it = std::find_if(aps.begin(), aps.end(), [&](const auto& ap) { return ap.ssid == ssid; });
    std::optional<join_failure> failure;
    if (it == aps.end()) failure = join_failure::ap_not_found;
    else if (it->password != password) failure = join_failure::wrong_password;
    if (failure) {
        reply<cmd::cwjap::set>(std::optional<join_failure>(failure));
        error();
        co_return;
    }
    joined_ = static_cast<std::size_t>(it - aps.begin());
    last_ssid_ = ssid;
    last_password_ = password;
    if (save) flash_.ap = saved_ap{ssid, password};
    emit_report("WIFI CONNECTED\r\nWIFI GOT IP\r\n");
    ok();
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwjap>& r)
{
    co_await join(r.params.ssid.value, r.params.password.value, store_);
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::cwjap>&)
{
    if (last_ssid_.empty() && !joined_) {
        reply<cmd::cwjap::execute>(std::optional<join_failure>(join_failure::ap_not_found));
        error();
        co_return;
    }
    const std::string ssid = joined_ ? opts_.access_points[*joined_].ssid : last_ssid_;
    const std::string password = joined_ ? opts_.access_points[*joined_].password : last_password_;
    co_await join(ssid, password, store_);
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cwjap>&)
{
    reply<cmd::cwjap::query>(connection_now());
    ok();
    co_return;
}
// The AP the station is joined to: AT 1.x prints its four fields, ESP-AT 2.x and later more.
ESPAT_SIM_DECL std::optional<station_connection> module_core::connection_now() const
{
    if (!joined_) return std::nullopt;
    const auto& ap = opts_.access_points[*joined_];
    if (opts_.firmware.version < espat::version{2, 0, 0, 0})
        return station_connection{ap.ssid, ap.bssid, ap.channel, ap.rssi};
    return station_connection{ap.ssid, ap.bssid, ap.channel, ap.rssi, false, std::chrono::seconds(1),
                              std::uint16_t{3}, wifi_scan_mode::fast, pmf_mode::capable};
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::cwqap>&)
{
    if (joined_) {
        joined_.reset();
        emit_report("WIFI DISCONNECT\r\n");
    }
    ok();
    co_return;
}
ESPAT_SIM_DECL std::vector<access_point> module_core::scan(std::optional<std::string_view> ssid) const
{
    std::vector<access_point> out;
    for (const auto& ap : opts_.access_points) {
        if (ssid && ap.ssid != *ssid) continue;
        out.push_back(access_point{ap.auth, ap.ssid, ap.rssi, ap.bssid, ap.channel, 0, 0, wifi_cipher::ccmp,
                                   wifi_cipher::ccmp, std::uint8_t{7}, false});
    }
    return out;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::cwlap>&)
{
    reply<cmd::cwlap::execute>(scan(std::nullopt));
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwlap>& r)
{
    reply<cmd::cwlap::set>(scan(r.params.ssid.value));
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipsta>&)
{
    reply<cmd::cipsta::query>(station_addresses_shown(station_));
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsta>& r)
{
    set_addresses(station_, r.params);
    if (store_) set_addresses(flash_.station, r.params);
    ok();
    co_return;
}
// The station has its addresses only while joined: 0.0.0.0 otherwise.
ESPAT_SIM_DECL station_addresses module_core::station_addresses_shown(const station_addresses& a) const
{
    if (joined_) return a;
    const auto none = asio::ip::make_address("0.0.0.0");
    return {none, none, none};
}
ESPAT_SIM_DECL void module_core::set_addresses(station_addresses& to, const cipsta_request& p)
{
    to.ip = p.ip.value;
    if (p.gateway) to.gateway = p.gateway;
    if (p.netmask) to.netmask = p.netmask;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipap>&)
{
    reply<cmd::cipap::query>(softap_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipap>& r)
{
    set_addresses(softap_, r.params);
    if (store_) set_addresses(flash_.softap, r.params);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cwsap>&)
{
    reply<cmd::cwsap::query>(softap_config_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwsap>& r)
{
    if (configure_softap(r.params, store_)) ok();
    else error();
    co_return;
}
// Only a running SoftAP takes a configuration. As ESP-IDF's esp_wifi_set_config, the module
// refuses WEP for a SoftAP, and a WPA/WPA2/WPA3 password outside 8..64 bytes.
ESPAT_SIM_DECL bool module_core::configure_softap(const cwsap_request& p, bool save)
{
    if (wifi_mode_ == wifi_mode::station || wifi_mode_ == wifi_mode::off) return false;
    if (p.encryption.value == wifi_auth::wep) return false;
    const std::size_t password = p.password.value.size();
    if (p.encryption.value != wifi_auth::open && (password < 8 || password > 64)) return false;
    softap_config_ = {p.ssid.value, p.password.value, p.channel.value(), p.encryption.value,
                      p.max_connections ? std::optional<std::uint8_t>(p.max_connections->value()) : std::uint8_t{10},
                      p.ssid_hidden.value_or(false)};
    if (save) flash_.softap_setup = softap_config_;
    return true;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::cifsr>&)
{
    local_addresses a;
    if (wifi_mode_ == wifi_mode::softap || wifi_mode_ == wifi_mode::station_softap) {
        a.ap_ip = softap_.ip;
        a.ap_mac = softap_mac_;
    }
    if (station_enabled()) {
        a.sta_ip = joined_ ? station_.ip : asio::ip::make_address("0.0.0.0");
        a.sta_mac = station_mac_;
    }
    reply<cmd::cifsr::execute>(a);
    ok();
    co_return;
}

// ------------------------------------------------------------------------------------
// Handlers: what the popular host drivers send beyond the reference (host-drivers.md:
// lwESP, WiFiEspAT, Adafruit ESP_ATcontrol run unmodified against the simulator).

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::rfpower>&)
{
    reply<cmd::rfpower::query>(rf_power_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::rfpower>& r)
{
    const auto& p = r.params;
    rf_power_.wifi = p.wifi.value();
    if (opts_.firmware.ble_rf_power) {
        if (p.ble_advertising) rf_power_.ble_advertising = p.ble_advertising;
        if (p.ble_scan) rf_power_.ble_scan = p.ble_scan;
        if (p.ble_connection) rf_power_.ble_connection = p.ble_connection;
    }
    ok();
    co_return;
}
// The scan options are remembered; AT+CWLAP prints every field whatever the mask.
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwlapopt>& r)
{
    scan_print_mask_ = r.params.print_mask.value;
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cwdhcp>&)
{
    reply<cmd::cwdhcp::query>(dhcp_interfaces_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwdhcp>& r)
{
    set_dhcp(r.params.interfaces.value(), r.params.enable.value, store_);
    ok();
    co_return;
}
// `interfaces`: dhcp_interfaces bits; the others keep their state (in flash, their saved one).
ESPAT_SIM_DECL void module_core::set_dhcp(std::uint8_t interfaces, bool enable, bool save)
{
    auto apply = [&](std::uint8_t& mask) { mask = enable ? (mask | interfaces) : (mask & ~interfaces); };
    apply(dhcp_interfaces_);
    if (save) apply(flash_.dhcp);
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cwautoconn>&)
{
    reply<cmd::cwautoconn::query>(auto_connect_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cwautoconn>& r)
{
    auto_connect_ = r.params.enable.value;
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipstamac>&)
{
    reply<cmd::cipstamac::query>(station_mac_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipstamac>& r)
{
    if (set_mac(station_mac_, flash_.station_mac, r.params.mac.value, store_)) ok();
    else error();
    co_return;
}
// Bit 0 of the first byte marks a multicast address, which no interface may have.
ESPAT_SIM_DECL bool module_core::set_mac(mac_address& now, mac_address& saved, const mac_address& mac, bool save)
{
    if (mac.bytes[0] & 1) return false;
    now = mac;
    if (save) saved = mac;
    return true;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipapmac>&)
{
    reply<cmd::cipapmac::query>(softap_mac_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipapmac>& r)
{
    if (set_mac(softap_mac_, flash_.softap_mac, r.params.mac.value, store_)) ok();
    else error();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cwstate>&)
{
    reply<cmd::cwstate::query>(wifi_status_now());
    ok();
    co_return;
}
ESPAT_SIM_DECL wifi_status module_core::wifi_status_now() const
{
    if (joined_) return {wifi_state::got_ip, opts_.access_points[*joined_].ssid};
    if (joining_ssid_) return {wifi_state::connecting, *joining_ssid_};
    if (join_attempted_) return {wifi_state::disconnected, last_join_ssid_};
    return {wifi_state::not_started, std::string{}};
}
ESPAT_SIM_DECL rf_power module_core::default_rf_power(const personality& firmware)
{
    if (!firmware.ble_rf_power) return rf_power{78};
    return rf_power{78, std::uint8_t{5}, std::uint8_t{5}, std::uint8_t{5}};
}

}  // namespace espat::sim::detail
