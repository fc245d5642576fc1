// espat/sim/core_servers.hpp — the simulated module's TCP server: AT+CIPSERVER,
// AT+CIPSERVERMAXCONN and AT+CIPSTO (the SSL server is in core_tls.hpp).
#pragma once

#include <espat/sim/module_core.hpp>

namespace espat::sim::detail {

// ------------------------------------------------------------------------------------
// Handlers: servers (AT+CIPSERVER, AT+CIPSERVERMAXCONN, AT+CIPSTO).

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipsto>&)
{
    reply<cmd::cipsto::query>(server_timeout_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsto>& r)
{
    server_timeout_ = r.params.timeout.value;
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipservermaxconn>&)
{
    reply<cmd::cipservermaxconn::query>(server_max_conn_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipservermaxconn>& r)
{
    if (server_) {
        error();  // set before the server starts (the reference)
        co_return;
    }
    server_max_conn_ = r.params.count.value();
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipserver>& r)
{
    const auto& p = r.params;
    if (p.mode.value == server_mode::remove) {
        if (!server_) emit("no change\r\n");
        close_server();
        ok();
        co_return;
    }
    if (!mux_ || server_) {
        error();  // a server needs AT+CIPMUX=1, and there is only one
        co_return;
    }
    const std::uint16_t port = opts_.server_port_override ? *opts_.server_port_override : p.port.value_or(333);
    auto acceptor = open_listener(port);
    if (!acceptor) {
        error();
        co_return;
    }
    server_ = acceptor;
    asio::co_spawn(ex_, accept_clients(shared_from_this(), acceptor), asio::detached);
    ok();
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::accept_clients(std::shared_ptr<module_core> keep,
                                                         std::shared_ptr<asio::ip::tcp::acceptor> acceptor)
{
    (void)keep;
    for (;;) {
        auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
        if (stopped_ || server_ != acceptor) co_return;
        if (ec) continue;
        const auto clients = std::count_if(links_.begin(), links_.end(),
                                           [](const auto& l) { return l && l->role == link_role::server; });
        const auto id = free_link_id();
        if (!id || clients >= server_max_conn_ || !from_reachable(socket)) {
            std::error_code ignored;
            socket.close(ignored);  // no room: the client sees the connection close
            continue;
        }
        auto l = std::make_shared<tcp_link>(std::move(socket), *id, link_role::server);
        l->mode = recv_mode_;
        links_[*id] = l;
        apply_tcp_options(*l);
        report_connect(*l);
        start_reader(l);
        asio::co_spawn(ex_, expire_idle(shared_from_this(), l), asio::detached);
    }
}

// Whether a server's client comes from a network links may reach.
ESPAT_SIM_DECL bool module_core::from_reachable(const asio::ip::tcp::socket& socket) const
{
    std::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    return !ec && may_reach(peer.address());
}

// AT+CIPSTO: a server's client that says nothing for the timeout is closed.
ESPAT_SIM_DECL asio::awaitable<void> module_core::expire_idle(std::shared_ptr<module_core> keep, std::shared_ptr<link> l)
{
    (void)keep;
    asio::steady_timer t(ex_);
    while (!stopped_ && !l->closed) {
        t.expires_after(std::chrono::milliseconds(100));
        auto [ec] = co_await t.async_wait(use_tuple);
        (void)ec;
        if (stopped_ || l->closed || links_[l->id] != l) co_return;
        if (server_timeout_.count() > 0 &&
            std::chrono::steady_clock::now() - l->last_activity >= server_timeout_)
            remove_link(l->id, true);
    }
}

// The listening socket of AT+CIPSERVER, plain or SSL (core_tls.hpp), on the bind address.
ESPAT_SIM_DECL std::shared_ptr<asio::ip::tcp::acceptor> module_core::open_listener(std::uint16_t port)
{
    auto acceptor = std::make_shared<asio::ip::tcp::acceptor>(ex_);
    std::error_code ec;
    const asio::ip::tcp::endpoint at(opts_.bind_address, port);
    acceptor->open(at.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(at, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return nullptr;
    return acceptor;
}

}  // namespace espat::sim::detail
