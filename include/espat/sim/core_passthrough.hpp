// espat/sim/core_passthrough.hpp — the simulated module's passthrough (AT+CIPMODE=1, AT+CIPSEND
// with no length, AT+CIPRECONNINTV) and the link AT+SAVETRANSLINK saves and boots into.
#pragma once

#include <espat/sim/module_core.hpp>

namespace espat::sim::detail {

// ------------------------------------------------------------------------------------
// Passthrough: host bytes go out in packets, at most 2048 bytes or after 20 ms of
// silence; a packet of exactly "+++" ends it.

ESPAT_SIM_DECL void module_core::take_passthrough_bytes(std::string_view bytes)
{
    passthrough_data_ += bytes;
    last_host_byte_ = std::chrono::steady_clock::now();
    passthrough_wake_.cancel();
}

// Starts a passthrough session (AT+CIPSEND's, or the one a saved link boots into): host
// bytes are data for link 0 from now on. Returns the session's number; the relay loop and
// any reconnection belong to that session alone, and a reset, "+++" or a later session
// ends them.
ESPAT_SIM_DECL std::uint64_t module_core::enter_passthrough()
{
    input_ = input_mode::passthrough;
    passthrough_data_.clear();
    last_host_byte_ = std::chrono::steady_clock::now();
    const std::uint64_t session = ++passthrough_sessions_;
    // It follows link 0, which a reconnection replaces (lose_passthrough_link).
    asio::co_spawn(ex_, run_passthrough(shared_from_this(), session), asio::detached);
    return session;
}
ESPAT_SIM_DECL bool module_core::in_passthrough_session(std::uint64_t session) const
{
    return !stopped_ && input_ == input_mode::passthrough && passthrough_sessions_ == session;
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::run_passthrough(std::shared_ptr<module_core> keep, std::uint64_t session)
{
    (void)keep;
    asio::steady_timer gap(ex_);
    while (in_passthrough_session(session)) {
        if (passthrough_data_.empty()) {
            auto [ec] = co_await passthrough_wake_.async_wait(use_tuple);
            (void)ec;
            continue;
        }
        std::string packet;
        if (passthrough_data_.size() >= passthrough_packet) {
            packet = passthrough_data_.substr(0, passthrough_packet);
            passthrough_data_.erase(0, passthrough_packet);
        } else {
            const auto quiet_until = last_host_byte_ + passthrough_gap;
            if (std::chrono::steady_clock::now() < quiet_until) {
                gap.expires_at(quiet_until);
                auto [ec] = co_await gap.async_wait(use_tuple);
                (void)ec;
                continue;
            }
            packet = std::exchange(passthrough_data_, std::string{});
            if (packet == "+++") {
                input_ = input_mode::command;
                if (has(sysmsg_, system_messages::quit_passthrough)) emit("+QUITT\r\n");
                break;
            }
        }
        input_room_.cancel();
        if (const auto target = links_[0]; target && !target->closed) {
            std::error_code ec = co_await target->send(packet, std::nullopt);
            (void)ec;  // a real module keeps the data mode; the peer's loss shows as CLOSED
        }
    }
    input_room_.cancel();
}

// ------------------------------------------------------------------------------------
// Handlers: AT+CIPMODE, AT+CIPSEND with no parameters, AT+CIPRECONNINTV.

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipmode>&)
{
    reply<cmd::cipmode::query>(passthrough_mode_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipmode>& r)
{
    if (r.params.mode.value == transfer_mode::passthrough && mux_) {
        error();
        co_return;
    }
    passthrough_mode_ = r.params.mode.value;
    ok();
    co_return;
}
// AT+CIPSEND with no parameters: passthrough sending (AT+CIPMODE=1, single link).
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::cipsend>&)
{
    auto l = links_[0];
    if (passthrough_mode_ != transfer_mode::passthrough || mux_ || !l) {
        error();
        co_return;
    }
    if (auto* u = dynamic_cast<udp_link*>(l.get()); u && u->peer_mode != udp_mode::fixed) {
        error();
        co_return;
    }
    ok();
    emit(opts_.firmware.prompt);
    enter_passthrough();
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipreconnintv>&)
{
    reply<cmd::cipreconnintv::query>(reconnect_interval_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipreconnintv>& r)
{
    reconnect_interval_ = r.params.interval.value;
    ok();
    co_return;
}

// ------------------------------------------------------------------------------------
// Handlers: AT+SAVETRANSLINK.

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::savetranslink_tcp>& r)
{
    save_stream_link(link_type::tcp, r.params);
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::savetranslink_ssl>& r)
{
    save_stream_link(link_type::ssl, r.params);
    co_return;
}
// AT+SAVETRANSLINK's TCP and SSL forms take the same parameters.
template <class Request>
void module_core::save_stream_link(link_type type, const Request& p)
{
    saved_passthrough_ = p.mode.value == transfer_mode::passthrough;
    saved_link_ = saved_transparent_link{type, p.host.value, p.port.value, std::nullopt, p.keep_alive};
    ok();
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::savetranslink_udp>& r)
{
    saved_passthrough_ = r.params.mode.value == transfer_mode::passthrough;
    saved_link_ = saved_transparent_link{link_type::udp, r.params.host.value, r.params.port.value, r.params.local_port,
                                         std::nullopt};
    ok();
    co_return;
}

// ------------------------------------------------------------------------------------
// Boot into a link saved by AT+SAVETRANSLINK=1 (reboot()): at "ready" the module is in
// passthrough, and after the Wi-Fi reports it connects link 0; it prints no CONNECT and no
// '>' (firmware-quirks.md: "no prompt until the host sends +++"). While the peer cannot be
// reached it tries again every AT+CIPRECONNINTV (the reference: "keep trying to reconnect
// until +++ is input"), dropping the host's bytes meanwhile. "+++" leaves it in command
// mode with AT+CIPMODE=1 and the link open; "+++", a reset or stop() ends the tries.

// The link of a passthrough session (AT+CIPSEND's or the saved one) broke: the module prints
// nothing (its output is the peer's data now) and keeps reconnecting every AT+CIPRECONNINTV
// until it has the link back or the host sends "+++" (the reference, AT+CIPMODE: "if the
// TCP connection breaks, ESP32 will keep trying to reconnect until +++ is input";
// AT+CIPRECONNINTV: "when the TCP/UDP/SSL transmission broke"). TCP and SSL links are
// reconnected, SSL with a new handshake; a UDP link does not break.
ESPAT_SIM_DECL bool module_core::lose_passthrough_link(const std::shared_ptr<link>& l)
{
    if (input_ != input_mode::passthrough || l->id != 0 || links_[0] != l || !l->is_stream()) return false;
    links_[0].reset();
    l->closed = true;
    l->close();
    const saved_transparent_link target{l->type, l->remote_host.empty() ? l->remote_ip.to_string() : l->remote_host,
                                        l->remote_port, std::nullopt, std::nullopt};
    asio::co_spawn(ex_, reconnect_in_background(shared_from_this(), boots_, passthrough_sessions_, target), asio::detached);
    return true;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::reconnect_in_background(std::shared_ptr<module_core> keep,
                                                                  std::uint64_t this_boot, std::uint64_t session,
                                                                  saved_transparent_link target)
{
    (void)keep;
    co_await reconnect_passthrough(this_boot, session, target);
}

// Tries `target` for link 0, then again every AT+CIPRECONNINTV, while the same passthrough
// session goes on with no link: "+++", a reset or stop() ends the tries.
ESPAT_SIM_DECL asio::awaitable<void> module_core::reconnect_passthrough(std::uint64_t this_boot, std::uint64_t session,
                                                                saved_transparent_link target)
{
    // (No lambda for the test: a coroutine compiled in a part of its own may not keep one in
    // its frame, g++'s -Wsubobject-linkage.)
    asio::steady_timer pause(ex_);
    while (boots_ == this_boot && in_passthrough_session(session) && !links_[0]) {
        auto opened = co_await open_saved_link(target);
        if (opened && boots_ == this_boot && in_passthrough_session(session) && !links_[0]) {
            opened->mode = recv_mode_;
            links_[0] = opened;
            apply_tcp_options(*opened);
            start_reader(opened);
            co_return;
        } else if (opened) {
            opened->close();
        }
        pause.expires_after(std::max<std::chrono::steady_clock::duration>(reconnect_interval_, std::chrono::milliseconds(100)));
        auto [ec] = co_await pause.async_wait(use_tuple);
        (void)ec;
    }
}

ESPAT_SIM_DECL asio::awaitable<std::shared_ptr<link>> module_core::open_saved_link(const saved_transparent_link& target)
{
    auto address = co_await resolve(target.host);
    // A network it may not reach: tried again later, as an unreachable peer is.
    if (stopped_ || !address || !may_reach(*address)) co_return nullptr;
    std::shared_ptr<link> opened;
    std::error_code ec;
    if (target.type == link_type::udp) {
        auto u = std::make_shared<udp_link>(ex_, 0, udp_mode::fixed, opts_.allowed_networks);
        ec = open_udp_socket(*u, *address, std::nullopt, target.local_port.value_or(0));
        opened = u;
    } else if (target.type == link_type::ssl) {
        // As AT+CIPSTART="SSL" on link 0: its AT+CIPSSLC* settings (kept in NVS), the same
        // handshake (the reference, AT+CIPSSLCCONF: "If you use AT+SAVETRANSLINK to set SSL
        // passthrough mode, the ESP will establish an SSL connection based on this
        // configuration after next power on").
        const tls_client_config config = ssl_client_[0];
        auto t = make_tls_client_link(0, config);
        if (!t) co_return nullptr;
        ec = co_await connect_tls(t, *address, target.port, config, target.host, std::nullopt);
        if (!ec && target.keep_alive && target.keep_alive->count() > 0)
            t->stream.next_layer().set_option(asio::socket_base::keep_alive(true), ec);
        opened = t;
    } else {
        auto t = std::make_shared<tcp_link>(ex_, 0, link_role::client);
        const asio::ip::tcp::endpoint peer(*address, target.port);
        auto [cec] = co_await t->socket.async_connect(peer, use_tuple);
        ec = cec;
        if (!ec) t->local_port = t->socket.local_endpoint(ec).port();
        if (!ec && target.keep_alive && target.keep_alive->count() > 0)
            t->socket.set_option(asio::socket_base::keep_alive(true), ec);
        opened = t;
    }
    if (ec) {
        opened->close();
        co_return nullptr;
    }
    opened->remote_ip = *address;
    opened->remote_port = target.port;
    opened->remote_host = target.host;
    co_return opened;
}

}  // namespace espat::sim::detail
