// espat/sim/core_services.hpp — the simulated module's network services: DNS (AT+CIPDOMAIN,
// AT+CIPDNS and AT 1.x's AT+CIPDNS_CUR/_DEF), AT+PING, SNTP (AT+CIPSNTPCFG, AT+CIPSNTPTIME)
// and OTA (AT+CIUPDATE).
#pragma once

#include <espat/sim/module_core.hpp>

namespace espat::sim::detail {

// ------------------------------------------------------------------------------------
// Handlers: DNS (AT+CIPDOMAIN, AT+CIPDNS) and AT+PING.

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipdns>&)
{
    reply<cmd::cipdns::query>(dns_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipdns>& r)
{
    const auto& p = r.params;
    set_dns(p.mode.value, {p.mode.value, p.dns1, p.dns2, p.dns3}, store_);
    ok();
    co_return;
}
// Automatic: the default servers, whatever was given.
ESPAT_SIM_DECL void module_core::set_dns(dns_mode mode, const dns_config& servers, bool save)
{
    dns_ = mode == dns_mode::automatic ? default_dns() : servers;
    if (save) flash_.dns = dns_;
}
// AT 1.x's pair (NONOS): two servers; the queries print the servers in use, one bare line each.
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipdns_cur>&)
{
    reply<cmd::cipdns_cur::query>(dns_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipdns_cur>& r)
{
    const auto& p = r.params;
    set_dns(p.mode.value, {p.mode.value, p.dns1, p.dns2, std::nullopt}, false);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipdns_def>&)
{
    reply<cmd::cipdns_def::query>(flash_.dns);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipdns_def>& r)
{
    const auto& p = r.params;
    set_dns(p.mode.value, {p.mode.value, p.dns1, p.dns2, std::nullopt}, true);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipdomain>& r)
{
    auto address = co_await resolve(r.params.domain.value);
    if (stopped_) co_return;
    if (!address) {
        if (opts_.firmware.dns_fail_line) emit("DNS Fail\r\n");
        error();
        co_return;
    }
    reply<cmd::cipdomain::set>(*address);
    ok();
}

ESPAT_SIM_DECL asio::awaitable<std::optional<asio::ip::address>> module_core::resolve(const std::string& host)
{
    std::error_code ec;
    const auto literal = asio::ip::make_address(host, ec);
    if (!ec) co_return literal;
    asio::ip::tcp::resolver resolver(ex_);
    auto [rec, results] = co_await resolver.async_resolve(asio::ip::tcp::v4(), host, "", use_tuple);
    if (rec || results.empty()) co_return std::nullopt;
    co_return results.begin()->endpoint().address();
}

// AT+PING: measured as the time for the host's TCP stack to answer a connection attempt to
// the address (accepted or refused both prove it is there); no answer in 1 s is a timeout.
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::ping>& r)
{
    auto address = co_await resolve(r.params.host.value);
    if (stopped_) co_return;
    std::optional<std::chrono::milliseconds> rtt;
    if (address && may_reach(*address)) {  // else: as from a module that cannot reach it
        asio::ip::tcp::socket probe(ex_);
        asio::steady_timer limit(ex_, std::chrono::seconds(1));
        limit.async_wait([&probe](std::error_code e) {
            if (!e) {
                std::error_code ignored;
                probe.close(ignored);
            }
        });
        const auto start = std::chrono::steady_clock::now();
        auto [ec] = co_await probe.async_connect({*address, 7}, use_tuple);
        limit.cancel();
        if (!ec || ec == asio::error::connection_refused)
            rtt = std::chrono::ceil<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        // Let the cancelled timer's handler run before probe goes away.
        asio::steady_timer settle(ex_, std::chrono::milliseconds(0));
        auto [ec2] = co_await settle.async_wait(use_tuple);
        (void)ec2;
    }
    if (stopped_) co_return;
    if (opts_.firmware.nonos_ping_reply) {
        // "+24" / "+timeout": a NONOS form the table reads but does not write.
        emit(rtt ? "+" + std::to_string(rtt->count()) + "\r\n" : std::string("+timeout\r\n"));
    } else {
        reply<cmd::ping::set>(ping_time(rtt));
    }
    if (rtt) ok();
    else error();
}

// ------------------------------------------------------------------------------------
// Handlers: SNTP (AT+CIPSNTPCFG, AT+CIPSNTPTIME).

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipsntpcfg>&)
{
    reply<cmd::cipsntpcfg::query>(sntp_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsntpcfg>& r)
{
    const auto& p = r.params;
    sntp_ = {p.enable.value, p.timezone, p.server1, p.server2, p.server3};
    if (!sntp_.server1) sntp_.server1 = "pool.ntp.org";
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::cipsntpcfg>&)
{
    sntp_.server1 = sntp_.server2 = sntp_.server3 = std::nullopt;
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipsntptime>&)
{
    // The host clock stands in for the NTP servers; not enabled means not synchronised
    // (1970). Real firmware prints no blank line before this OK (firmware-quirks.md).
    std::chrono::sys_seconds t{};
    if (sntp_.enabled)
        t = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) + sntp_.timezone.offset();
    reply<cmd::cipsntptime::query>(t);
    emit("OK\r\n");
    co_return;
}

// ------------------------------------------------------------------------------------
// Handlers: OTA (AT+CIUPDATE).

// OTA: the simulated download always succeeds, with the progress reports of a real one.
ESPAT_SIM_DECL asio::awaitable<void> module_core::update_firmware()
{
    if (!joined_) {
        emit("+CIPUPDATE:1\r\n");
        error();
        co_return;
    }
    asio::steady_timer t(ex_);
    for (int stage = 1; stage <= 4; ++stage) {
        t.expires_after(std::chrono::milliseconds(10));
        auto [ec] = co_await t.async_wait(use_tuple);
        (void)ec;
        if (stopped_) co_return;
        emit("+CIPUPDATE:" + std::to_string(stage) + "\r\n");
    }
    ok();
    asio::co_spawn(ex_, reboot(shared_from_this(), false), asio::detached);
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::ciupdate>&) { co_await update_firmware(); }
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::ciupdate>&) { co_await update_firmware(); }

}  // namespace espat::sim::detail
