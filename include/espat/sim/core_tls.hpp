// espat/sim/core_tls.hpp — the simulated module's TLS: SSL links (AT+CIPSTART="SSL"), the SSL
// server (AT+CIPSERVER with "SSL"), the AT+CIPSSLC* settings and AT+CIPSSLSIZE.
#pragma once

#include <espat/sim/module_core.hpp>

namespace espat::sim::detail {

// ------------------------------------------------------------------------------------
// Handlers: TLS. SSL client links (AT+CIPSTART="SSL"), the SSL server (AT+CIPSERVER with
// "SSL", ESP32 only) and the AT+CIPSSLC* settings. The settings are kept per link id and,
// as the firmware keeps them in NVS, survive a reset.

// The ESP8266's TLS buffer size: ESP32 firmware has no such command.
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsslsize>&)
{
    if (!opts_.firmware.ssl_buffer_size_command) {
        error(err_code::unsupported_command);
        co_return;
    }
    ok();
    co_return;
}
// (Adafruit's driver asks AT+CIPSSLCCONF? after AT+CIPSSLSIZE fails: the TLS handlers below
// answer it.)

// The link ids an AT+CIPSSLC* set command addresses: link 0 in single mode (the id is then
// not part of the syntax); in multi-link mode the id given, 5 meaning every link.
ESPAT_SIM_DECL std::vector<std::uint8_t> module_core::ssl_config_targets(const std::optional<close_link_id>& link) const
{
    if (!mux_) return {0};
    if (!link) return {};
    if (*link == all_links) return {0, 1, 2, 3, 4};
    return {link->value()};
}
template <class Request>
asio::awaitable<void> module_core::set_ssl_client(const Request& r)
{
    const auto targets = ssl_config_targets(r.params.link);
    if (targets.empty()) {
        error();
        co_return;
    }
    for (const std::uint8_t id : targets) ssl_client_[id].apply(r.params);
    ok();
}
ESPAT_SIM_DECL std::uint8_t module_core::ssl_config_count() const { return mux_ ? 5 : 1; }

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsslcconf>& r) { co_await set_ssl_client(r); }
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsslccn>& r) { co_await set_ssl_client(r); }
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsslcsni>& r) { co_await set_ssl_client(r); }
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsslcalpn>& r) { co_await set_ssl_client(r); }
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsslcpsk>& r)
{
    // "This command is not currently supported on ESP32" (the reference).
    if (opts_.firmware.chip == "ESP32") {
        error(err_code::unsupported_command);
        co_return;
    }
    co_await set_ssl_client(r);
}
// Queries: CIPSSLCCONF answers for every link; the others only for links where something
// was set (an empty name or list has no line to print).
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipsslcconf>&)
{
    std::vector<ssl_client_config> lines;
    for (std::uint8_t i = 0; i < ssl_config_count(); ++i) {
        const auto& c = ssl_client_[i];
        lines.push_back({*link_id::checked(i), c.auth, c.pki_number, c.ca_number});
    }
    reply<cmd::cipsslcconf::query>(lines);
    ok();
    co_return;
}
// One line per link whose setting `Member` is not empty.
template <class Command, auto Member>
void module_core::reply_ssl_setting()
{
    using line = typename Command::query::response::value_type::value_type;
    std::vector<line> lines;
    for (std::uint8_t i = 0; i < ssl_config_count(); ++i)
        if (const auto& v = ssl_client_[i].*Member; !v.empty()) lines.push_back({*link_id::checked(i), v});
    reply<typename Command::query>(lines);
    ok();
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipsslccn>&)
{
    reply_ssl_setting<cmd::cipsslccn, &tls_client_config::common_name>();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipsslcsni>&)
{
    reply_ssl_setting<cmd::cipsslcsni, &tls_client_config::server_name>();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipsslcalpn>&)
{
    reply_ssl_setting<cmd::cipsslcalpn, &tls_client_config::alpn>();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::cipsslcpsk>&)
{
    if (opts_.firmware.chip == "ESP32") {
        error(err_code::unsupported_command);
        co_return;
    }
    std::vector<ssl_psk> lines;
    for (std::uint8_t i = 0; i < ssl_config_count(); ++i)
        if (const auto& psk = ssl_client_[i].psk) lines.push_back({*link_id::checked(i), psk->key, psk->identity});
    reply<cmd::cipsslcpsk::query>(lines);
    ok();
    co_return;
}

// An SSL client link for `id` with a context made from `config` (that id's AT+CIPSSLC*
// settings); null when they cannot work (a certificate the module lacks).
ESPAT_SIM_DECL std::shared_ptr<tls_link> module_core::make_tls_client_link(std::uint8_t id, const tls_client_config& config)
{
    auto context = make_tls_client_context(config, opts_.tls);
    if (!context) return nullptr;
    auto shared_context = std::make_shared<asio::ssl::context>(std::move(*context));
    return std::make_shared<tls_link>(ex_, shared_context, id, link_role::client);
}
// Connects an SSL client link and runs the handshake `config` asks for, within
// tls_handshake_limit: AT+CIPSTART="SSL" and a saved SSL link (at boot, or reconnecting
// in passthrough) alike. `host` is the name given, which the certificate must match.
ESPAT_SIM_DECL asio::awaitable<std::error_code> module_core::connect_tls(const std::shared_ptr<tls_link>& l,
                                                                 const asio::ip::address& address, std::uint16_t port,
                                                                 const tls_client_config& config, const std::string& host,
                                                                 const std::optional<asio::ip::address>& local_ip)
{
    std::error_code ec;
    auto& socket = l->stream.next_layer();
    socket.open(address.is_v4() ? asio::ip::tcp::v4() : asio::ip::tcp::v6(), ec);
    if (local_ip && !ec) socket.bind({*local_ip, 0}, ec);
    if (ec) co_return ec;
    asio::steady_timer limit(ex_, tls_handshake_limit);
    limit.async_wait([l](std::error_code e) {
        if (!e) l->close();
    });
    const asio::ip::tcp::endpoint peer(address, port);
    auto [cec] = co_await socket.async_connect(peer, use_tuple);
    ec = cec;
    if (!ec) ec = prepare_tls_client_stream(l->stream, config, host);
    if (!ec) {
        auto [hec] = co_await l->stream.async_handshake(tls_link::stream_type::client, use_tuple);
        ec = hec;
    }
    limit.cancel();
    if (!ec) {
        std::error_code ignored;
        l->remote_ip = address;
        l->remote_port = port;
        l->remote_host = host;
        l->local_port = socket.local_endpoint(ignored).port();
    }
    co_return ec;
}

// AT+CIPSTART="SSL": connect as for TCP, then the TLS handshake the link's settings ask
// for. Settings that cannot work (a certificate the module lacks) and a failed handshake
// both end like a failed connect: ERROR, then CLOSED.
template <class Request>
asio::awaitable<void> module_core::start_ssl(std::optional<std::uint8_t> id, const Request& p)
{
    if (!joined_) {
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
    const tls_client_config config = ssl_client_[*id];
    auto l = make_tls_client_link(*id, config);
    if (!l) {
        error();
        report_closed(*id);
        co_return;
    }
    l->mode = recv_mode_;
    links_[*id] = l;  // reserved while connecting
    auto address = co_await resolve(p.host.value);
    if (stopped_) co_return;
    std::error_code ec;
    std::optional<asio::ip::address> local_ip;
    if (p.local_ip) local_ip = *p.local_ip;
    if (address) ec = refusal(*address, local_ip);
    if (address && !ec) ec = co_await connect_tls(l, *address, p.port.value, config, p.host.value, local_ip);
    if (stopped_) co_return;
    if (!address || ec || links_[*id] != l) {
        if (links_[*id] == l) links_[*id].reset();
        l->close();
        if (!address && opts_.firmware.dns_fail_line) emit("DNS Fail\r\n");
        error();
        report_closed(*id);
        co_return;
    }
    if (p.keep_alive && p.keep_alive->count() > 0)
        l->stream.next_layer().set_option(asio::socket_base::keep_alive(true), ec);
    apply_tcp_options(*l);
    report_connect(*l);
    ok();
    start_reader(l);
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipstart_ssl>& r)
{
    if (!mux_ && r.params.link) {
        error();
        co_return;
    }
    co_await start_ssl(id_for_start(r.params.link), r.params);
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipstartex_ssl>& r)
{
    if (!mux_ && links_[0]) {
        emit("ALREADY CONNECTED\r\n");
        error();
        co_return;
    }
    co_await start_ssl(id_for_startex(), r.params);
}

// AT+CIPSERVER=1,<port>,"SSL",<CA enable>: a TLS server with the first flashed credentials;
// with CA enable, clients must present a certificate the flashed CA signed. A client whose
// handshake fails never becomes a link (no CONNECT).
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipserver_ssl>& r)
{
    const auto& p = r.params;
    if (opts_.firmware.chip != "ESP32") {
        error();  // "[ESP32 Only]"
        co_return;
    }
    if (p.mode.value == server_mode::remove) {
        if (!server_) emit("no change\r\n");
        close_server();
        ok();
        co_return;
    }
    if (!mux_ || server_) {
        error();
        co_return;
    }
    tls_server_config config;
    config.apply(p);
    const tls_credentials none{};
    auto context = make_tls_server_context(config, opts_.tls.empty() ? none : opts_.tls.front());
    const std::uint16_t port = opts_.server_port_override ? *opts_.server_port_override : p.port.value_or(333);
    auto acceptor = context ? open_listener(port) : nullptr;
    if (!acceptor) {
        error();
        co_return;
    }
    server_ = acceptor;
    auto shared_context = std::make_shared<asio::ssl::context>(std::move(*context));
    asio::co_spawn(ex_, accept_tls_clients(shared_from_this(), acceptor, shared_context), asio::detached);
    ok();
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::accept_tls_clients(std::shared_ptr<module_core> keep,
                                                             std::shared_ptr<asio::ip::tcp::acceptor> acceptor,
                                                             std::shared_ptr<asio::ssl::context> context)
{
    (void)keep;
    for (;;) {
        auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
        if (stopped_ || server_ != acceptor) co_return;
        if (ec) continue;
        if (!from_reachable(socket)) {
            std::error_code ignored;
            socket.close(ignored);  // a network the module cannot reach: hung up on, no handshake
            continue;
        }
        // Each handshake runs by itself: a slow client does not hold up the next.
        auto admission = admit_tls_client(shared_from_this(), acceptor, context, std::move(socket));
        asio::co_spawn(ex_, std::move(admission), asio::detached);
    }
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::admit_tls_client(std::shared_ptr<module_core> keep,
                                                           std::shared_ptr<asio::ip::tcp::acceptor> acceptor,
                                                           std::shared_ptr<asio::ssl::context> context,
                                                           asio::ip::tcp::socket socket)
{
    (void)keep;
    auto l = std::make_shared<tls_link>(std::move(socket), std::move(context), 0, link_role::server);
    asio::steady_timer limit(ex_, tls_handshake_limit);
    limit.async_wait([l](std::error_code e) {
        if (!e) l->close();
    });
    auto [ec] = co_await l->stream.async_handshake(tls_link::stream_type::server, use_tuple);
    limit.cancel();
    if (stopped_ || server_ != acceptor || ec) {
        l->close();
        co_return;
    }
    const auto clients = std::count_if(links_.begin(), links_.end(),
                                       [](const auto& other) { return other && other->role == link_role::server; });
    const auto id = free_link_id();
    if (!id || clients >= server_max_conn_) {
        l->close();  // no room: the client sees the connection close
        co_return;
    }
    l->id = *id;
    l->mode = recv_mode_;
    links_[*id] = l;
    apply_tcp_options(*l);
    report_connect(*l);
    start_reader(l);
    asio::co_spawn(ex_, expire_idle(shared_from_this(), l), asio::detached);
}

}  // namespace espat::sim::detail
