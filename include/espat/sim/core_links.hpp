// espat/sim/core_links.hpp — the simulated module's links: where they live, what they may reach,
// opening (AT+CIPSTART/CIPSTARTEX, TCP, UDP), closing, status, AT+CIPMUX, AT+CIPTCPOPT.
#pragma once

#include <espat/sim/module_core.hpp>

#include <sys/socket.h>  // setsockopt(SO_SNDTIMEO): AT+CIPTCPOPT's send timeout
#include <sys/time.h>

namespace espat::sim::detail {

// ------------------------------------------------------------------------------------
// Where links live and what they may reach (module_options::bind_address, allowed_networks).

ESPAT_SIM_DECL bool module_core::may_reach(const asio::ip::address& remote) const
{
    return allows(opts_.allowed_networks, remote);
}
// An address of this module's (AT+CIPSTART's <local IP>): the bind address, any loopback
// address when that is loopback, any address when that is a wildcard.
ESPAT_SIM_DECL bool module_core::own_address(const asio::ip::address& a) const
{
    const auto& b = opts_.bind_address;
    return b.is_unspecified() || a == b || (b.is_loopback() && a.is_loopback());
}
// The host address a link to `remote` binds to: the bind address, or the same kind of
// address in the remote's family; none for a specific address of the other family.
ESPAT_SIM_DECL std::optional<asio::ip::address> module_core::local_address_for(const asio::ip::address& remote) const
{
    const auto& b = opts_.bind_address;
    if (b.is_v4() == remote.is_v4()) return b;
    if (b.is_unspecified())
        return remote.is_v4() ? asio::ip::address(asio::ip::address_v4::any()) : asio::ip::address(asio::ip::address_v6::any());
    if (b.is_loopback())
        return remote.is_v4() ? asio::ip::address(asio::ip::address_v4::loopback())
                              : asio::ip::address(asio::ip::address_v6::loopback());
    return std::nullopt;
}
// Why a link to `remote` (from `local_ip`, when AT+CIPSTART gave one) may not be opened.
ESPAT_SIM_DECL std::error_code module_core::refusal(const asio::ip::address& remote,
                                            const std::optional<asio::ip::address>& local_ip) const
{
    if (!may_reach(remote)) return asio::error::network_unreachable;
    if (local_ip && !own_address(*local_ip)) return std::make_error_code(std::errc::address_not_available);
    return {};
}

// Opens and binds a UDP link's socket for `remote`: to the bind address (or <local IP>). A
// broadcast or multicast link must hear both the group and unicast replies to its port, so
// it binds to the wildcard: plainly when the bind address is one, else tied to the bind
// address's interface (Linux), or where that cannot be done to the group address alone
// (the group, no unicast replies). Its group's interface is <local IP>, else the bind address.
ESPAT_SIM_DECL std::error_code module_core::open_udp_socket(udp_link& u, const asio::ip::address& remote,
                                                    const std::optional<asio::ip::address>& local_ip,
                                                    std::uint16_t local_port)
{
    std::error_code ec = refusal(remote, local_ip);
    const auto local = local_address_for(remote);
    if (!ec && !local) ec = asio::error::address_family_not_supported;
    if (!ec) u.socket.open(remote.is_v4() ? asio::ip::udp::v4() : asio::ip::udp::v6(), ec);
    if (ec) return ec;
    const bool group = is_group_address(remote);
    asio::ip::address at = local_ip ? *local_ip : *local;
    if (group) {
        std::optional<asio::ip::address> interface = local_ip;
        if (!interface && !local->is_unspecified()) interface = *local;
        ec = prepare_group_socket(u.socket, remote, interface);
        const asio::ip::address any = remote.is_v4() ? asio::ip::address(asio::ip::address_v4::any())
                                                     : asio::ip::address(asio::ip::address_v6::any());
        at = local->is_unspecified() || (!ec && !tie_to_interface_of(u.socket, *local)) ? any : remote;
    }
    if (!ec) u.socket.bind({at, local_port}, ec);
    if (!ec) u.local_port = u.socket.local_endpoint(ec).port();
    return ec;
}

ESPAT_SIM_DECL void module_core::remove_link(std::uint8_t id, bool report)
{
    auto l = links_[id];
    if (!l) return;
    links_[id].reset();
    l->closed = true;
    // A link the module ends (CIPCLOSE, CIPSTO) says goodbye first: TLS sends close_notify,
    // and the socket closes once the peer answers or after a short wait at most.
    if (report && !stopped_) {
        asio::co_spawn(ex_, say_goodbye(l), asio::detached);
        asio::co_spawn(ex_, close_after(l, std::chrono::milliseconds(200)), asio::detached);
    } else {
        l->close();
    }
    l->wake_reader();
    any_link_closed_ = true;
    if (report) report_closed(id);
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::say_goodbye(std::shared_ptr<link> l)
{
    co_await l->say_goodbye();
    l->close();
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::close_after(std::shared_ptr<link> l, std::chrono::milliseconds limit)
{
    asio::steady_timer t(l->room.get_executor());
    t.expires_after(limit);
    auto [ec] = co_await t.async_wait(use_tuple);
    (void)ec;
    l->close();
}
ESPAT_SIM_DECL void module_core::close_all_links(bool report)
{
    for (std::uint8_t i = 0; i < links_.size(); ++i) remove_link(i, report);
}
ESPAT_SIM_DECL void module_core::close_server()
{
    if (!server_) return;
    std::error_code ec;
    server_->close(ec);
    server_.reset();
}

ESPAT_SIM_DECL void module_core::start_reader(const std::shared_ptr<link>& l)
{
    asio::co_spawn(ex_, read_link(shared_from_this(), l), asio::detached);
}

// ------------------------------------------------------------------------------------
// Handlers: links.

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::cipstatus>&)
{
    reply<cmd::cipstatus::execute>(connection_status{station_state_now(), link_statuses()});
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipstate>&)
{
    reply<cmd::cipstate::query>(link_statuses());
    ok();
    co_return;
}
ESPAT_SIM_DECL station_state module_core::station_state_now() const
{
    if (!joined_) return station_state::no_ap;
    bool stream = false, datagram = false;
    for (const auto& l : links_) {
        if (!l) continue;
        (l->type == link_type::udp ? datagram : stream) = true;
    }
    if (stream) return station_state::connected;
    if (datagram || any_link_closed_) return station_state::disconnected;
    return station_state::got_ip;
}
ESPAT_SIM_DECL std::vector<link_status> module_core::link_statuses() const
{
    std::vector<link_status> out;
    for (const auto& l : links_)
        if (l) out.push_back({*link_id::checked(l->id), l->type, l->remote_ip, l->remote_port, l->local_port, l->role});
    return out;
}

// AT+CIPSTATE? exists on modules older than the table's 4.1, where it replaced AT+CIPSTATUS
// for the host's use: personality::link_state_query says which (ESP32 2.3+, ESP8266 2.2.2+).
ESPAT_SIM_DECL asio::awaitable<void> module_core::dispatch(const query_of<cmd::cipstate>& r)
{
    if (!opts_.firmware.link_state_query && !available<query_of<cmd::cipstate>>()) {
        error(err_code::unsupported_command);
        co_return;
    }
    co_await handle(r);
}
template <class Request>
asio::awaitable<void> module_core::start_tcp(std::optional<std::uint8_t> id, const Request& p)
{
    if (!joined_) {
        error();
        co_return;
    }
    if (!id) {
        emit("link is not valid\r\n");  // every id taken
        error();
        co_return;
    }
    if (links_[*id]) {
        emit("ALREADY CONNECTED\r\n");
        error();
        co_return;
    }
    auto l = std::make_shared<tcp_link>(ex_, *id, link_role::client);
    l->mode = recv_mode_;
    links_[*id] = l;  // reserved while connecting
    auto address = co_await resolve(p.host.value);
    if (stopped_) co_return;
    std::error_code ec;
    std::optional<asio::ip::address> local_ip;
    if (p.local_ip) local_ip = *p.local_ip;
    if (address) ec = refusal(*address, local_ip);  // a network it cannot reach: the connect fails
    if (address && !ec) {
        l->socket.open(address->is_v4() ? asio::ip::tcp::v4() : asio::ip::tcp::v6(), ec);
        if (local_ip && !ec) l->socket.bind({*local_ip, 0}, ec);
        if (!ec) {
            asio::steady_timer limit(ex_, std::chrono::seconds(5));
            limit.async_wait([l](std::error_code e) {
                if (!e) l->close();
            });
            auto [cec] = co_await l->socket.async_connect({*address, p.port.value}, use_tuple);
            limit.cancel();
            ec = cec;
        }
    }
    if (stopped_) co_return;
    if (!address || ec || links_[*id] != l) {
        if (links_[*id] == l) links_[*id].reset();
        l->close();
        if (!address && opts_.firmware.dns_fail_line) emit("DNS Fail\r\n");
        error();
        report_closed(*id);  // ERROR first, then CLOSED (firmware-quirks.md)
        co_return;
    }
    l->remote_ip = *address;
    l->remote_port = p.port.value;
    l->local_port = l->socket.local_endpoint(ec).port();
    if (p.keep_alive && p.keep_alive->count() > 0) l->socket.set_option(asio::socket_base::keep_alive(true), ec);
    apply_tcp_options(*l);
    report_connect(*l);
    ok();
    start_reader(l);
}

template <class Request>
asio::awaitable<void> module_core::start_udp(std::optional<std::uint8_t> id, const Request& p)
{
    // A peer-changing mode needs a local port; mode 0 does not (lwESP sends ",,0").
    if (!joined_ || (p.mode && *p.mode != udp_mode::fixed && !p.local_port)) {
        error();
        co_return;
    }
    if (!id) {
        emit("link is not valid\r\n");
        error();
        co_return;
    }
    if (links_[*id]) {
        emit("ALREADY CONNECTED\r\n");
        error();
        co_return;
    }
    auto l = std::make_shared<udp_link>(ex_, *id, p.mode.value_or(udp_mode::fixed), opts_.allowed_networks);
    l->mode = recv_mode_;
    links_[*id] = l;
    auto address = co_await resolve(p.host.value);
    if (stopped_) co_return;
    std::error_code ec;
    if (address) {
        // A broadcast or multicast remote: <local IP> names the interface of the group.
        std::optional<asio::ip::address> local_ip;
        if (p.local_ip) local_ip = *p.local_ip;
        ec = open_udp_socket(*l, *address, local_ip, p.local_port.value_or(0));
    }
    if (!address || ec || links_[*id] != l) {
        if (links_[*id] == l) links_[*id].reset();
        l->close();
        error();
        report_closed(*id);
        co_return;
    }
    l->remote_ip = *address;
    l->remote_port = p.port.value;
    report_connect(*l);
    ok();
    start_reader(l);
}

ESPAT_SIM_DECL std::optional<std::uint8_t> module_core::id_for_start(const std::optional<link_id>& requested) const
{
    if (!mux_) return std::uint8_t{0};
    if (!requested) return std::nullopt;
    return requested->value();
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipstart_tcp>& r)
{
    if (!mux_ && r.params.link) {
        error();
        co_return;
    }
    co_await start_tcp(id_for_start(r.params.link), r.params);
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipstart_udp>& r)
{
    if (!mux_ && r.params.link) {
        error();
        co_return;
    }
    co_await start_udp(id_for_start(r.params.link), r.params);
}
// AT+CIPSTARTEX: the module picks the lowest free id (link 0 in single mode).
ESPAT_SIM_DECL std::optional<std::uint8_t> module_core::id_for_startex() const
{
    if (!mux_) return links_[0] ? std::nullopt : std::optional<std::uint8_t>(0);
    return free_link_id();
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipstartex_tcp>& r)
{
    if (!mux_ && links_[0]) {
        emit("ALREADY CONNECTED\r\n");
        error();
        co_return;
    }
    co_await start_tcp(id_for_startex(), r.params);
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipstartex_udp>& r)
{
    if (!mux_ && links_[0]) {
        emit("ALREADY CONNECTED\r\n");
        error();
        co_return;
    }
    co_await start_udp(id_for_startex(), r.params);
}
// "SSL" links: see core_tls.hpp.

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipclose>& r)
{
    const std::uint8_t id = r.params.link.value();
    if (id == 5) {
        for (std::uint8_t i = 0; i < links_.size(); ++i) remove_link(i, true);
        ok();
        co_return;
    }
    if (!links_[id]) {
        if (opts_.firmware.unlink_line) emit("UNLINK\r\n");
        error();
        co_return;
    }
    remove_link(id, true);
    ok();
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const exec_of<cmd::cipclose>&)
{
    if (mux_ || !links_[0]) {
        if (!mux_ && opts_.firmware.unlink_line) emit("UNLINK\r\n");
        error();
        co_return;
    }
    remove_link(0, true);
    ok();
}

// ------------------------------------------------------------------------------------
// Handlers: link settings (AT+CIPMUX, AT+CIPTCPOPT).

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipmux>&)
{
    reply<cmd::cipmux::query>(mux_ ? mux_mode::multiple : mux_mode::single);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipmux>& r)
{
    const bool want = r.params.mode.value == mux_mode::multiple;
    if (want == mux_) {
        ok();
        co_return;
    }
    // The mode changes only with no link and no server, and never in passthrough mode.
    if (any_link() || server_ || (want && passthrough_mode_ == transfer_mode::passthrough)) {
        if (any_link()) emit("link is builded\r\n");
        error();
        co_return;
    }
    mux_ = want;
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::ciptcpopt>&)
{
    std::vector<socket_options> all(tcp_options_.begin(), tcp_options_.end());
    reply<cmd::ciptcpopt::query>(all);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::ciptcpopt>& r)
{
    const auto& p = r.params;
    const std::uint8_t first = !mux_ ? 0 : p.link ? p.link->value() : 0;
    const bool all = mux_ && p.link && p.link->value() == 5;
    if (mux_ && !p.link) {
        error();
        co_return;
    }
    for (std::uint8_t i = all ? 0 : first; i <= (all ? 4 : first); ++i) {
        auto& o = tcp_options_[i];
        if (p.linger) o.linger = *p.linger;
        if (p.no_delay) o.no_delay = *p.no_delay;
        if (p.send_timeout) o.send_timeout = *p.send_timeout;
        if (links_[i]) apply_tcp_options(*links_[i]);
    }
    ok();
    co_return;
}
// AT+CIPTCPOPT's options on the link's TCP socket: a TCP link's, or the one under an SSL
// link's TLS (UDP links have none).
ESPAT_SIM_DECL asio::ip::tcp::socket* module_core::tcp_socket_of(link& l)
{
    if (auto* t = dynamic_cast<tcp_link*>(&l)) return &t->socket;
    if (auto* s = dynamic_cast<tls_link*>(&l)) return &s->stream.next_layer();
    return nullptr;
}
ESPAT_SIM_DECL void module_core::apply_tcp_options(link& l)
{
    auto* socket = tcp_socket_of(l);
    if (!socket) return;
    const auto& o = tcp_options_[l.id];
    std::error_code ec;
    socket->set_option(asio::ip::tcp::no_delay(o.no_delay), ec);
    socket->set_option(asio::socket_base::linger(o.linger.count() >= 0, static_cast<int>(std::max<std::int64_t>(o.linger.count(), 0))), ec);
    if (o.send_timeout.count() > 0) {
        timeval tv{static_cast<time_t>(o.send_timeout.count() / 1000),
                   static_cast<suseconds_t>((o.send_timeout.count() % 1000) * 1000)};
        ::setsockopt(socket->native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
}

}  // namespace espat::sim::detail
