// espat/net/impl/upkeep.hpp — basic_network's upkeep of open links: reports routed to them,
// passive data fetched, the module's link list reconciled, damage and background closes.
//
// Out of the class so that a program built with ESPAT_SEPARATE_COMPILATION compiles them once,
// in espat::compiled, for the stacks of detail/stacks.hpp (network.hpp includes this file).
#pragma once

#include <espat/net/network.hpp>

namespace espat::net {

template <class Client>
basic_network<Client>::basic_network(Client& client, network_options options)
    : client_(client), options_(options), table_(client.get_executor()), incoming_wake_(client.get_executor()),
      send_wake_(client.get_executor())
{
    incoming_wake_.expires_at(asio::steady_timer::time_point::max());
    send_wake_.expires_at(asio::steady_timer::time_point::max());
    listener_ = client_.add_report_listener([this](const proto::event& e) {
        if (e.kind == proto::event_kind::ready) {
            // The module is back to single-link, active receive and no server: start()
            // must run again before new links (the client re-runs its own start-up).
            prepared_ = false;
            unsettled_ = false;  // the modes are the defaults now
            global_mode_ = receive_mode::active;
            server_failure_ = make_error_code(errc::device_reset);  // the server is gone with the reset
            server_open_ = false;
            if (passthrough_) {
                passthrough_->rx.fail(make_error_code(errc::device_reset));
                passthrough_->open = false;
                passthrough_->wake.cancel();
                passthrough_.reset();
            }
        }
        if (e.kind == proto::event_kind::raw_data && passthrough_) {
            passthrough_->rx.on_data(e.payload);
            passthrough_->wake.cancel();
            return;
        }
        if (e.kind == proto::event_kind::protocol_error) return on_anomaly(e);
        if (e.kind == proto::event_kind::closed && e.link < 0) ++single_link_closes_;
        table_.on_report(e);
    });
    table_.set_stray_data_handler([this](int id) { on_stray_data(id); });
    table_.set_incoming(options_.stream_receive, options_.receive_buffer, [this] {
        ++incoming_wakeups_;
        incoming_wake_.cancel();
    });
}

template <class Client>
basic_network<Client>::~basic_network()
{
    client_.remove_report_listener(listener_);
    table_.fail_all(make_error_code(errc::link_closed));
}

template <class Client>
auto basic_network<Client>::take_incoming() -> typename link_table<executor_type>::state_ptr
{
    auto& q = table_.incoming();
    while (!q.empty()) {
        auto s = std::move(q.front());
        q.pop_front();
        if (s->attached || s->rx.buffered() > 0) return s;  // one that already closed still has its data
    }
    return nullptr;
}

template <class Client>
auto basic_network<Client>::start_fetch(const typename link_table<executor_type>::state_ptr& s, std::size_t want)
    -> void
{
    if (s->fetching || !s->attached) return;
    const std::size_t n = s->rx.fetch_size(want, options_.fetch_limit);
    if (n == 0) return;
    s->fetching = true;
    client_.async_recv_data(link_id::checked(s->id), n, link_call(),
                            espat::as_expected(asio::bind_executor(client_.get_executor(), [this, life = lifetime(), s, n](result<std::string> r) {
                                s->fetching = false;
                                if (life.expired()) return;
                                on_fetched(s, n, std::move(r));
                            })));
}

template <class Client>
auto basic_network<Client>::send_done() -> void
{
    send_busy_ = false;
    send_wake_.cancel();
}

template <class Client>
auto basic_network<Client>::close_in_background(typename link_table<executor_type>::state_ptr s) -> void
{
    asio::dispatch(client_.get_executor(), [this, life = lifetime(), s = std::move(s)] {
        if (life.expired() || !s->attached) return;
        const int id = s->id;
        const std::uint32_t generation = s->generation;
        client_.template async_set<commands::cipclose>(
            cipclose_request{close_link_id::checked(id).value()}, link_call(),
            asio::bind_executor(client_.get_executor(), [this, life, id, generation](std::error_code) {
                if (!life.expired() && table_.current(link_handle{id, generation})) table_.detach(id);
            }));
    });
}

template <class Client>
auto basic_network<Client>::reconcile() -> void
{
    if (reconciling_) return;
    reconciling_ = true;
    ++stats_.reconciles;
    const auto& fw = client_.firmware();
    if (fw && fw->has_cipstate) {
        client_.template async_query<commands::cipstate>(
            link_call(), espat::as_expected(asio::bind_executor(
                             client_.get_executor(), [this, life = lifetime()](result<std::vector<link_status>> r) {
                                 if (life.expired()) return;
                                 on_link_list(r ? &*r : nullptr);
                             })));
    } else {
        client_.template async_execute<commands::cipstatus>(
            link_call(), espat::as_expected(asio::bind_executor(
                             client_.get_executor(), [this, life = lifetime()](result<connection_status> r) {
                                 if (life.expired()) return;
                                 on_link_list(r ? &r->links : nullptr);
                             })));
    }
}

template <class Client>
auto basic_network<Client>::end_after_send_failure(const typename link_table<executor_type>::state_ptr& s,
                                                   std::error_code ec) -> void
{
    s->rx.end_with(ec);
    s->notify();
    if (s->rx.mode() == receive_mode::passive && s->attached && !s->close_when_drained) {
        s->close_when_drained = true;
        asio::co_spawn(client_.get_executor(), drain_then_close(s, lifetime()), asio::detached);
        return;
    }
    close_in_background(s);
}

template <class Client>
auto basic_network<Client>::on_anomaly(const proto::event& e) -> void
{
    ++stats_.anomalies;
    if (e.value == static_cast<std::uint32_t>(proto::protocol_error_reason::passthrough_left)) {
        // The module took the line's "+++" for its escape: what it prints now is its own.
        if (passthrough_) {
            passthrough_->rx.fail(make_error_code(errc::protocol_error));
            passthrough_->open = false;
            passthrough_->wake.cancel();
        }
        return;
    }
    if (e.name == "CIPRECVDATA") return;  // an answer nobody waits for: its fetch failed already
    const bool send = e.value == static_cast<std::uint32_t>(proto::protocol_error_reason::send_corrupted);
    if (auto s = table_.at(e.link); s && e.link >= 0) return damage(s, send);
    if (send) return;  // that send's link is gone already
    for (int i = 0; i < max_links; ++i)
        if (auto s = table_.at(i)) damage(s, send);
}

template <class Client>
auto basic_network<Client>::damage(const typename link_table<executor_type>::state_ptr& s, bool send) -> void
{
    if (s->type == link_type::udp && !send) {
        ++s->datagrams_dropped;
        ++stats_.datagrams_lost;
        return;
    }
    if (s->rx.mode() == receive_mode::passive && !send) {
        query_buffered(s);
        return;
    }
    if (s->rx.broken()) return;
    ++stats_.links_failed;
    s->rx.fail(make_error_code(errc::protocol_error));
    s->notify();
    close_in_background(s);
}

template <class Client>
auto basic_network<Client>::on_stray_data(int id) -> void
{
    if (!server_open_ || (stray_closing_ >> id & 1u) != 0) return;
    stray_closing_ |= 1u << id;
    ++stats_.strays_closed;
    client_.template async_set<commands::cipclose>(
        cipclose_request{close_link_id::checked(id).value()}, link_call(),
        asio::bind_executor(client_.get_executor(), [this, life = lifetime(), id](std::error_code) {
            if (!life.expired()) stray_closing_ &= ~(1u << id);
        }));
}

template <class Client>
auto basic_network<Client>::on_link_list(const std::vector<link_status>* listed) -> void
{
    reconciling_ = false;
    for (int i = 0; i < max_links; ++i) {
        auto s = table_.at(i);
        if (!s || !s->established) continue;
        if (!listed) {  // the list could not be read: the readers wait (and ask) again
            s->notify();
            continue;
        }
        const bool open = std::any_of(listed->begin(), listed->end(), [i](const link_status& l) { return l.link.value() == i; });
        if (!open) {
            ++stats_.closes_found;
            s->rx.on_closed();
            table_.detach(i);
            continue;
        }
        if (s->rx.mode() == receive_mode::passive) query_buffered(s);
        else s->notify();
    }
}

template <class Client>
auto basic_network<Client>::drain_then_close(typename link_table<executor_type>::state_ptr s, std::weak_ptr<void> life)
    -> asio::awaitable<void>
{
    // (Arguments named: g++ 12 and temporaries in co_await expressions, see client.hpp.)
    const call_options call = link_call();
    auto lengths = co_await client_.template async_query<commands::ciprecvlen>(call);
    if (life.expired()) co_return;
    std::size_t held = 0;
    if (lengths && static_cast<std::size_t>(s->id) < lengths->size()) held = (*lengths)[static_cast<std::size_t>(s->id)].value_or(0);
    if (held > 0 && s->attached) {
        s->rx.on_module_buffered(held);
    } else if (!s->fetching) {
        s->rx.on_module_buffered(0);
        close_in_background(s);
    }
    s->notify();
}

template <class Client>
auto basic_network<Client>::any_attached() const noexcept -> bool
{
    for (int i = 0; i < max_links; ++i)
        if (table_.at(i)) return true;
    return false;
}

template <class Client>
auto basic_network<Client>::on_fetched(const typename link_table<executor_type>::state_ptr& s, std::size_t asked,
                                       result<std::string> r) -> void
{
    finish_fetch(s, asked, std::move(r));
    // After SEND FAIL: once the module holds nothing more, the link is closed.
    if (s->close_when_drained && s->attached && s->rx.module_buffered() == 0) close_in_background(s);
    // A link the peer closed while the module still held its data: once that is read, the
    // id is free again.
    if (s->attached && s->rx.peer_closed() && s->rx.module_buffered() == 0 && table_.current({s->id, s->generation}))
        table_.detach(s->id);
    s->notify();
}

template <class Client>
auto basic_network<Client>::finish_fetch(const typename link_table<executor_type>::state_ptr& s, std::size_t asked,
                                         result<std::string> r) -> void
{
    if (r) {
        s->rx.on_data(*r);
        if (r->size() < asked) {
            s->rx.on_module_buffered(0);  // the module gave all it had
        } else if (s->rx.module_buffered() == 0 && s->attached && !s->rx.peer_closed()) {
            query_buffered(s);  // a full read: more may have come since the notification
        }
    } else if (r.error() == make_error_code(errc::command_failed) || r.error() == make_error_code(errc::link_invalid)) {
        s->rx.on_module_buffered(0);  // nothing (more) to read, or the link went away: its CLOSED follows
    } else if (r.error() != make_error_code(errc::device_reset)) {
        s->rx.fail(r.error());  // a timeout or a broken line: the stream can no longer be trusted
    }
}

template <class Client>
auto basic_network<Client>::query_buffered(const typename link_table<executor_type>::state_ptr& s) -> void
{
    client_.template async_query<commands::ciprecvlen>(
        link_call(), espat::as_expected(asio::bind_executor(client_.get_executor(), [s](result<receive_lengths> r) {
            if (r && static_cast<std::size_t>(s->id) < r->size()) {
                const auto& len = (*r)[static_cast<std::size_t>(s->id)];
                if (len && *len > 0) {
                    s->rx.on_module_buffered(*len);
                    s->notify();
                }
            }
        })));
}

}  // namespace espat::net
