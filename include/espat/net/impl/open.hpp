// espat/net/impl/open.hpp — basic_network's opening of links: async_start(), TCP and TLS connects
// with their options, UDP links, servers and passthrough, and undoing a failed one.
//
// Out of the class so that a program built with ESPAT_SEPARATE_COMPILATION compiles them once,
// in espat::compiled, for the stacks of detail/stacks.hpp (network.hpp includes this file).
#pragma once

#include <espat/net/network.hpp>

namespace espat::net {

template <class Client>
auto basic_network<Client>::start_steps() -> asio::awaitable<result<void>>
{
    // Requests are named, never temporaries in a co_await expression (g++ 12 may destroy
    // those twice).
    // A module that booted into passthrough (a link saved by AT+SAVETRANSLINK=1) is in
    // command mode after the client's start-up, but with AT+CIPMODE=1 and its link 0 open,
    // and AT+CIPMUX=1 is refused while either lasts: close that link (already gone: ERROR,
    // which is fine) and go back to normal mode. The saved link itself is left configured.
    // After a module reset the client's own restart decides that: wait for it first (the
    // commands below would wait for it too, but firmware() is read before them).
    co_await client_.async_wait_start_up();
    if (const auto& fw = client_.firmware(); fw && fw->left_passthrough) {
        auto closed = co_await client_.template async_execute<commands::cipclose>();
        (void)closed;
        const cipmode_request normal{transfer_mode::normal};
        auto mode = co_await client_.template async_set<commands::cipmode>(normal);
        if (!mode) co_return tl::make_unexpected(mode.error());
    }
    if (options_.close_leftover_links) {
        auto listed = co_await module_links();
        // Firmware that can list no links (neither query): nothing to close that can be known.
        if (!listed && listed.error() != errc::not_supported) co_return tl::make_unexpected(listed.error());
        if (listed && !listed->empty()) {
            // All at once: AT+CIPCLOSE=5 with several links, AT+CIPCLOSE with one (single mode).
            const cipclose_request all{all_links};
            auto closed = co_await client_.template async_set<commands::cipclose>(all);
            if (!closed) closed = co_await client_.template async_execute<commands::cipclose>();
            if (!closed) co_return tl::make_unexpected(closed.error());
            stats_.leftovers_closed += listed->size();
        }
    }
    const cipmux_request multiple{mux_mode::multiple};
    auto mux = co_await client_.template async_set<commands::cipmux>(multiple);
    if (!mux) co_return tl::make_unexpected(mux.error());
    const cipdinfo_request show_remote{true};
    auto dinfo = co_await client_.template async_set<commands::cipdinfo>(show_remote);
    if (!dinfo) co_return tl::make_unexpected(dinfo.error());
    if (!per_link_receive_mode()) {
        const ciprecvmode_request one_mode{options_.stream_receive};
        auto mode = co_await client_.template async_set<commands::ciprecvmode>(one_mode);
        if (!mode) co_return tl::make_unexpected(mode.error());
        global_mode_ = options_.stream_receive;
    }
    prepared_ = true;
    co_return result<void>{};
}

// The links the module lists, by the query its firmware has.
template <class Client>
auto basic_network<Client>::module_links() -> asio::awaitable<result<std::vector<link_status>>>
{
    const auto& fw = client_.firmware();
    if (fw && fw->has_cipstate) co_return co_await client_.template async_query<commands::cipstate>();
    auto status = co_await client_.template async_execute<commands::cipstatus>();
    if (!status) co_return tl::make_unexpected(status.error());
    co_return std::move(status->links);
}

template <class Client>
auto basic_network<Client>::connect_steps(std::string host, std::uint16_t port, connect_options o)
    -> asio::awaitable<result<link>>
{
    co_return co_await open_stream(link_type::tcp, std::move(host), port, o);
}

template <class Client>
auto basic_network<Client>::connect_ssl_steps(std::string host, std::uint16_t port, connect_options o)
    -> asio::awaitable<result<link>>
{
    co_return co_await open_stream(link_type::ssl, std::move(host), port, o);
}

template <class Client>
auto basic_network<Client>::open_udp_steps(std::string host, std::uint16_t port, udp_options o)
    -> asio::awaitable<result<udp_link>>
{
    if (auto ec = co_await ready_to_open()) co_return tl::make_unexpected(ec);
    // Passive receive loses a datagram's boundaries, so UDP links are always active; where
    // AT+CIPRECVMODE sets every link's mode at once (ESP-AT 2.x), streams must be active too.
    if (!per_link_receive_mode() && global_mode_ != receive_mode::active)
        co_return tl::make_unexpected(make_error_code(errc::receive_mode_conflict));
    // "To use parameter <UDP mode>, parameter <UDP local port> must be set first."
    if (o.mode && *o.mode != udp_mode::fixed && !o.local_port)
        co_return tl::make_unexpected(make_error_code(errc::invalid_argument));
    const auto id = table_.free_id();
    if (!id) co_return tl::make_unexpected(make_error_code(errc::link_invalid));
    const cipstart_udp_request r{link_id::checked(*id), std::move(host), port, o.local_port, o.mode, std::nullopt};
    if (auto ec = usable<commands::cipstart_udp>(r)) co_return tl::make_unexpected(ec);
    auto state = table_.attach(*id, link_type::udp, receive_mode::active, options_.receive_buffer);
    auto started = co_await client_.template async_set<commands::cipstart_udp>(r);
    if (!started) {
        if (outcome_unknown(started.error())) close_in_background(state);
        else if (table_.current(link_handle{state->id, state->generation})) table_.detach(*id);
        co_return tl::make_unexpected(started.error());
    }
    if (auto ec = co_await set_link_mode(state, receive_mode::active)) co_return tl::make_unexpected(ec);
    state->established = true;
    co_return udp_link{this, std::move(state)};
}

template <class Client>
auto basic_network<Client>::listen_steps(std::uint16_t port, server_options o) -> asio::awaitable<result<server>>
{
    if (auto ec = co_await ready_to_open()) co_return tl::make_unexpected(ec);
    if (o.ssl && chip_is("ESP8266")) co_return tl::make_unexpected(make_error_code(errc::not_supported));
    // A failure after a step that changed the module undoes it (undo_listen): the limit as it
    // was, the server stopped.
    std::optional<std::uint8_t> old_max;
    if (o.max_connections) {
        auto before = co_await client_.template async_query<commands::cipservermaxconn>();
        if (!before) co_return tl::make_unexpected(before.error());
        const cipservermaxconn_request max{*o.max_connections};
        auto m = co_await client_.template async_set<commands::cipservermaxconn>(max);
        if (!m) co_return tl::make_unexpected(m.error());
        if (*before != o.max_connections->value()) old_max = *before;
    }
    // Before the command: a client's CONNECT may come right after its OK.
    table_.set_incoming_type(o.ssl ? link_type::ssl : link_type::tcp);
    result<void> created;
    if (o.ssl) {
        const cipserver_ssl_request create{server_mode::create, port, o.verify_clients};
        created = co_await client_.template async_set<commands::cipserver_ssl>(create);
    } else {
        const cipserver_request create{server_mode::create, port};
        created = co_await client_.template async_set<commands::cipserver>(create);
    }
    if (!created) co_return tl::make_unexpected(co_await undo_listen(created.error(), false, old_max));
    server_open_ = true;
    server_failure_ = {};
    if (o.idle_timeout) {
        const cipsto_request idle{*o.idle_timeout};
        auto t = co_await client_.template async_set<commands::cipsto>(idle);
        if (!t) co_return tl::make_unexpected(co_await undo_listen(t.error(), true, old_max));
    }
    co_return server{this, port};
}

template <class Client>
auto basic_network<Client>::open_passthrough_steps(std::string host, std::uint16_t port,
                                             std::optional<std::chrono::milliseconds> timeout)
    -> asio::awaitable<result<passthrough>>
{
    if (auto ec = co_await ready_to_open()) co_return tl::make_unexpected(ec);
    if (passthrough_ || server_open_ || any_attached())
        co_return tl::make_unexpected(make_error_code(errc::already_connected));
    // Everything is checked before anything is sent: a host that cannot be sent must not
    // leave the module in single-link passthrough mode.
    const cipstart_tcp_request r{std::nullopt, std::move(host), port, std::nullopt, std::nullopt};
    if (auto ec = usable<commands::cipstart_tcp>(r)) co_return tl::make_unexpected(ec);
    const cipmux_request single{mux_mode::single};
    if (auto m = co_await client_.template async_set<commands::cipmux>(single); !m) co_return tl::make_unexpected(m.error());
    const cipmode_request transparent{transfer_mode::passthrough};
    if (auto m = co_await client_.template async_set<commands::cipmode>(transparent); !m)
        co_return tl::make_unexpected(co_await undo_passthrough(m.error(), true, false));
    const call_options start_call{timeout};
    if (auto m = co_await client_.template async_set<commands::cipstart_tcp>(r, start_call); !m)
        co_return tl::make_unexpected(co_await undo_passthrough(m.error(), true, outcome_unknown(m.error())));
    const std::size_t closes_before = single_link_closes_;
    auto state = std::make_shared<detail::passthrough_state<executor_type>>(client_.get_executor(), options_.receive_buffer);
    passthrough_ = state;
    if (auto entered = co_await client_.async_enter_passthrough(); !entered) {
        passthrough_.reset();
        // The link ended before AT+CIPSEND took it (its peer hung up at once): that, not the
        // ERROR of an AT+CIPSEND with no link, is the failure.
        const bool link_ended = single_link_closes_ != closes_before && entered.error() != errc::device_reset;
        const std::error_code why = link_ended ? make_error_code(errc::link_closed) : entered.error();
        co_return tl::make_unexpected(co_await undo_passthrough(why, true, true));
    }
    co_return passthrough{this, std::move(state)};
}

template <class Client>
auto basic_network<Client>::close_passthrough_steps() -> asio::awaitable<result<void>>
{
    auto state = std::exchange(passthrough_, nullptr);
    if (!state) {
        // An earlier close that failed halfway: finish it.
        if (auto ec = co_await settle()) co_return tl::make_unexpected(ec);
        co_return result<void>{};
    }
    client_.leave_passthrough();
    state->open = false;
    state->rx.on_closed();
    state->wake.cancel();
    // These wait in the session's queue until the guard times have passed.
    const cipmode_request normal{transfer_mode::normal};
    auto m = co_await client_.template async_set<commands::cipmode>(normal);
    auto c = co_await client_.template async_execute<commands::cipclose>();
    // The peer may have closed the link already (ERROR); if AT+CIPMUX=1 is then refused, the
    // link was there and the close's failure is the one to report.
    const cipmux_request multiple{mux_mode::multiple};
    auto x = co_await client_.template async_set<commands::cipmux>(multiple);
    std::error_code ec = !m ? m.error() : !x ? (c ? x.error() : c.error()) : std::error_code{};
    if (ec) {
        if (ec != errc::device_reset) unsettled_ = true;  // after a reset the modes are the defaults
        co_return tl::make_unexpected(ec);
    }
    co_return result<void>{};
}

template <class Client>
auto basic_network<Client>::adopt_incoming(typename link_table<executor_type>::state_ptr s)
    -> asio::awaitable<result<link>>
{
    // The module's mode for an incoming link is its default; ask for ours.
    if (auto ec = co_await set_link_mode(s, options_.stream_receive)) co_return tl::make_unexpected(ec);
    s->established = true;
    co_return link{this, std::move(s)};
}

template <class Client>
auto basic_network<Client>::stop_server(bool close_links) -> asio::awaitable<result<void>>
{
    const cipserver_request remove{server_mode::remove, close_links ? std::optional<std::uint16_t>(1) : std::nullopt};
    auto r = co_await client_.template async_set<commands::cipserver>(remove);
    server_open_ = false;
    ++incoming_wakeups_;
    incoming_wake_.cancel();
    if (!r) co_return tl::make_unexpected(r.error());
    co_return result<void>{};
}

template <class Client>
auto basic_network<Client>::undo_passthrough(std::error_code first, bool mode_set, bool maybe_connected)
    -> asio::awaitable<std::error_code>
{
    if (mode_set) {
        const cipmode_request normal{transfer_mode::normal};
        auto m = co_await client_.template async_set<commands::cipmode>(normal);
        (void)m;
    }
    if (maybe_connected) {
        auto c = co_await client_.template async_execute<commands::cipclose>();
        (void)c;  // ERROR when it never opened
    }
    co_return co_await restore_multiple(first);
}

template <class Client>
auto basic_network<Client>::restore_multiple(std::error_code first) -> asio::awaitable<std::error_code>
{
    const cipmux_request multiple{mux_mode::multiple};
    auto m = co_await client_.template async_set<commands::cipmux>(multiple);
    co_return undone(first, m ? std::error_code{} : m.error());
}

// What a failed operation reports once it tried to undo its changes: its own failure, or, if
// the undo failed too, errc::undo_failed, and the next operation settles the modes first.
template <class Client>
auto basic_network<Client>::undone(std::error_code first, std::error_code undo) -> std::error_code
{
    if (!undo || undo == errc::device_reset || first == errc::device_reset) return first ? first : undo;
    unsettled_ = true;
    return make_error_code(errc::undo_failed);
}

template <class Client>
auto basic_network<Client>::undo_listen(std::error_code first, bool created, std::optional<std::uint8_t> old_max)
    -> asio::awaitable<std::error_code>
{
    std::error_code undo;
    if (created) {
        const cipserver_request remove{server_mode::remove, std::nullopt};
        auto r = co_await client_.template async_set<commands::cipserver>(remove);
        server_open_ = false;
        if (!r) undo = r.error();
    }
    if (old_max && !undo) {
        if (const auto max = server_connections::checked(*old_max)) {
            const cipservermaxconn_request back{*max};
            auto r = co_await client_.template async_set<commands::cipservermaxconn>(back);
            if (!r) undo = r.error();
        }
    }
    co_return undone(first, undo);
}

// Before an operation opens anything: the network prepared (async_start()), and modes a failed
// undo left unknown set again.
template <class Client>
auto basic_network<Client>::ready_to_open() -> asio::awaitable<std::error_code>
{
    if (unsettled_) co_return co_await settle();
    if (!prepared_) co_return make_error_code(errc::device_reset);
    co_return std::error_code{};
}

// Modes a failed undo left unknown: normal transfer mode, then async_start()'s steps (leftover
// links closed, AT+CIPMUX=1, ...).
template <class Client>
auto basic_network<Client>::settle() -> asio::awaitable<std::error_code>
{
    if (!unsettled_) co_return std::error_code{};
    const cipmode_request normal{transfer_mode::normal};
    auto m = co_await client_.template async_set<commands::cipmode>(normal);
    (void)m;  // a refusal here shows again in async_start()'s AT+CIPMUX=1, which needs normal mode
    auto started = co_await start_steps();
    if (!started) co_return started.error();
    unsettled_ = false;
    co_return std::error_code{};
}

template <class Client>
auto basic_network<Client>::per_link_receive_mode() const noexcept -> bool
{
    const auto& fw = client_.firmware();
    return fw && fw->has_ciprecvtype;
}

template <class Client>
auto basic_network<Client>::is_ip_literal(const std::string& host) -> bool
{
    std::error_code ec;
    (void)asio::ip::make_address(host, ec);
    return !ec;
}

template <class Client>
auto basic_network<Client>::inherits_tls(int id, const std::string& host, const tls_options& o) const -> bool
{
    const id_settings& set = settings_[static_cast<std::size_t>(id)];
    return (set.server_name && !o.server_name && is_ip_literal(host)) || (set.alpn && o.alpn.empty()) ||
           (set.psk && !o.psk);
}

template <class Client>
auto basic_network<Client>::choose_id(link_type type, const std::string& host, const tls_options& tls) const
    -> std::optional<int>
{
    std::optional<int> first;
    for (int i = 0; i < max_links; ++i) {
        if (table_.at(i)) continue;
        if (!first) first = i;
        if (type != link_type::ssl || !inherits_tls(i, host, tls)) return i;
    }
    return first;
}

template <class Client>
auto basic_network<Client>::chip_is(std::string_view prefix) const -> bool
{
    const auto& fw = client_.firmware();
    return fw && fw->info.chip && fw->info.chip->starts_with(prefix);
}

template <class Client>
auto basic_network<Client>::plan_stream(link_type type, int id, std::string host, std::uint16_t port,
                                        const connect_options& o) const -> result<stream_plan>
{
    const auto link = close_link_id::checked(id);
    stream_plan p{.start = cipstart_tcp_request{link_id::checked(id), std::move(host), port, o.keep_alive, std::nullopt}};
    std::error_code ec;
    auto check = [&ec](std::error_code e) {
        if (!ec) ec = e;
    };
    if (!o.tcp.empty() || settings_[static_cast<std::size_t>(id)].tcp_options) {
        p.tcp = ciptcpopt_request{link, o.tcp.linger.value_or(linger_off), o.tcp.no_delay.value_or(false),
                                  o.tcp.send_timeout.value_or(std::chrono::milliseconds{0})};
        check(usable<commands::ciptcpopt>(*p.tcp));
    }
    if (type == link_type::ssl) {
        const tls_options& t = o.tls;
        p.conf = cipsslcconf_request{link, t.auth, std::nullopt, std::nullopt};
        if (t.auth != ssl_auth_mode::none) {
            p.conf->pki_number = t.pki_number;
            p.conf->ca_number = t.ca_number;
        }
        check(usable<commands::cipsslcconf>(*p.conf));
        const id_settings& set = settings_[static_cast<std::size_t>(id)];
        const std::string& host_name = p.start.host.get();
        // An earlier link's name is replaced by the default, the host connected to.
        if (t.common_name || set.common_name) {
            p.cn = cipsslccn_request{link, t.common_name.value_or(host_name)};
            check(usable<commands::cipsslccn>(*p.cn));
        }
        if (t.server_name || (set.server_name && !is_ip_literal(host_name))) {
            p.sni = cipsslcsni_request{link, t.server_name.value_or(host_name)};
            check(usable<commands::cipsslcsni>(*p.sni));
        }
        if (!t.alpn.empty()) {
            p.alpn = cipsslcalpn_request{link, t.alpn};
            check(usable<commands::cipsslcalpn>(*p.alpn));
        }
        if (t.psk) {
            // "This command is not currently supported on ESP32" (the reference).
            if (chip_is("ESP32")) check(make_error_code(errc::not_supported));
            p.psk = cipsslcpsk_request{link, t.psk->psk, t.psk->hint};
            check(usable<commands::cipsslcpsk>(*p.psk));
        }
        check(usable<commands::cipstart_ssl>(p.start));
    } else {
        check(usable<commands::cipstart_tcp>(p.start));
    }
    if (ec) return tl::make_unexpected(ec);
    return p;
}

template <class Client>
auto basic_network<Client>::send_plan(int id, const stream_plan& p, const connect_options& o)
    -> asio::awaitable<std::error_code>
{
    id_settings& set = settings_[static_cast<std::size_t>(id)];
    // Marked before sending, as the TLS strings below: a command that failed or was lost may
    // still have set the options. Only a success says which options the id now has.
    if (p.tcp) set.tcp_options = set.tcp_options || !o.tcp.empty();
    if (auto ec = co_await send_option<commands::ciptcpopt>(p.tcp)) co_return ec;
    if (p.tcp) set.tcp_options = !o.tcp.empty();
    if (auto ec = co_await send_option<commands::cipsslcconf>(p.conf)) co_return ec;
    // Marked before sending: a failed command may still have changed the module's setting.
    set.common_name |= p.cn.has_value();
    if (auto ec = co_await send_option<commands::cipsslccn>(p.cn)) co_return ec;
    set.server_name |= p.sni.has_value();
    if (auto ec = co_await send_option<commands::cipsslcsni>(p.sni)) co_return ec;
    set.alpn |= p.alpn.has_value();
    if (auto ec = co_await send_option<commands::cipsslcalpn>(p.alpn)) co_return ec;
    set.psk |= p.psk.has_value();
    if (auto ec = co_await send_option<commands::cipsslcpsk>(p.psk)) co_return ec;
    co_return std::error_code{};
}

template <class Client>
auto basic_network<Client>::open_stream(link_type type, std::string host, std::uint16_t port, connect_options o)
    -> asio::awaitable<result<link>>
{
    if (auto ec = co_await ready_to_open()) co_return tl::make_unexpected(ec);
    const auto id = choose_id(type, host, o.tls);
    if (!id) co_return tl::make_unexpected(make_error_code(errc::link_invalid));
    auto plan = plan_stream(type, *id, std::move(host), port, o);
    if (!plan) co_return tl::make_unexpected(plan.error());
    const receive_mode mode = per_link_receive_mode() ? o.receive.value_or(options_.stream_receive) : global_mode_;
    // Attached before the first command: the id is ours from here (a concurrent connect picks
    // another), and data may follow "<id>,CONNECT" before the OK is read.
    auto state = table_.attach(*id, type, mode, options_.receive_buffer);
    auto give_up = [&] {
        if (table_.current(link_handle{state->id, state->generation})) table_.detach(*id);
    };
    if (auto ec = co_await send_plan(*id, *plan, o)) {
        give_up();
        co_return tl::make_unexpected(ec);
    }
    result<void> started;
    const call_options start_call{o.timeout};
    if (type == link_type::ssl) started = co_await client_.template async_set<commands::cipstart_ssl>(plan->start, start_call);
    else started = co_await client_.template async_set<commands::cipstart_tcp>(plan->start, start_call);
    if (!started) {
        if (outcome_unknown(started.error())) close_in_background(state);
        else give_up();
        co_return tl::make_unexpected(started.error());
    }
    if (auto ec = co_await set_link_mode(state, mode)) co_return tl::make_unexpected(ec);
    state->established = true;
    co_return link{this, std::move(state)};
}

template <class Client>
auto basic_network<Client>::set_link_mode(const typename link_table<executor_type>::state_ptr& s, receive_mode mode)
    -> asio::awaitable<std::error_code>
{
    if (!per_link_receive_mode() || !s->attached) co_return std::error_code{};
    const ciprecvtype_request link_mode{close_link_id::checked(s->id), mode};
    auto m = co_await client_.template async_set<commands::ciprecvtype>(link_mode);
    if (m) co_return std::error_code{};
    // Its CLOSED came first (the peer hung up at once): the module had no link left to set, and
    // the link, opened, tells its reader of the end after what it received. (A reset fails the
    // link as well as the command: that is the failure.)
    if (!s->attached && !s->rx.failure() && m.error() != errc::device_reset) co_return std::error_code{};
    close_in_background(s);
    co_return m.error();
}

}  // namespace espat::net
