// espat/sim/core_link_data.hpp — data on the simulated module's links: receiving (+IPD, the
// passive mode of AT+CIPRECVMODE/CIPRECVDATA, AT+CIPDINFO), sending (AT+CIPSEND/CIPSENDEX).
#pragma once

#include <espat/detail/sendex_data.hpp>
#include <espat/sim/module_core.hpp>

namespace espat::sim::detail {

// ------------------------------------------------------------------------------------
// Receiving: a coroutine per link moves socket data to the host (+IPD) or to the link's
// passive buffer, waiting for room in either so memory stays bounded.

ESPAT_SIM_DECL asio::awaitable<void> module_core::read_link(std::shared_ptr<module_core> keep, std::shared_ptr<link> l)
{
    (void)keep;
    std::vector<char> buffer(l->is_stream() ? 2920 : 65536);
    asio::steady_timer network(ex_);  // module_options::ipd_delay
    while (!stopped_ && !l->closed) {
        std::size_t want = buffer.size();
        if (l->mode == recv_mode::passive && l->is_stream()) {
            if (l->passive_data.size() >= passive_buffer_limit) {
                auto [ec] = co_await l->room.async_wait(use_tuple);
                (void)ec;
                continue;
            }
            want = std::min(want, passive_buffer_limit - l->passive_data.size());
        } else if (output_queued() >= opts_.output_limit) {
            auto [ec] = co_await output_room_.async_wait(use_tuple);
            (void)ec;
            continue;
        }
        // Data that waited in the socket came while the data before it was delayed: it follows
        // that data at once, so a burst is delayed once, not once per read.
        const bool burst = l->data_waiting();
        const received r = co_await l->receive(asio::buffer(buffer.data(), want));
        if (stopped_ || l->closed) co_return;
        if (r.ec) {
            if (r.ec == asio::error::operation_aborted) continue;
            if (lose_passthrough_link(l)) co_return;
            peer_closed(l);
            co_return;
        }
        // The network's delay (module_options::ipd_delay), before the data is the module's to
        // report; a close the peer sends after it is read only then, so it stays behind it.
        const bool passthrough = input_ == input_mode::passthrough && l->id == 0;
        if (!burst && !passthrough && opts_.ipd_delay > std::chrono::milliseconds::zero()) {
            network.expires_after(opts_.ipd_delay);
            auto [ec] = co_await network.async_wait(use_tuple);
            (void)ec;
            if (stopped_ || l->closed) co_return;
        }
        deliver(*l, std::string_view(buffer.data(), r.size), r);
    }
}

ESPAT_SIM_DECL void module_core::deliver(link& l, std::string_view data, const received& r)
{
    l.last_activity = std::chrono::steady_clock::now();
    if (input_ == input_mode::passthrough && l.id == 0) {
        emit(data);  // passthrough: the data itself, no framing
        return;
    }
    if (l.mode == recv_mode::passive) {
        // UDP loses what does not fit; TCP never reads more than fits (read_link).
        if (l.passive_data.size() + data.size() > passive_buffer_limit) return;
        l.passive_data += data;
        l.passive_from_ip = r.from_ip;
        l.passive_from_port = r.from_port;
        max_buffered_seen_ = std::max(max_buffered_seen_, l.passive_data.size());
        if (!l.notified) {
            l.notified = true;
            if (!chance(opts_.faults.lost_report))  // else lost on the wire
                emit_report("\r\n+IPD," + link_prefix(l.id) + std::to_string(l.passive_data.size()) + "\r\n");
        }
        return;
    }
    // +IPD is a length-framed frame, not an information line: the table has no encoder
    // for it (the parser reads it as a frame), so it is written here, per personality.
    std::string head = "\r\n+IPD," + link_prefix(l.id) + std::to_string(data.size());
    if (show_remote_) head += "," + address_text(r.from_ip) + "," + std::to_string(r.from_port);
    head += ':';
    head += data;
    if (opts_.firmware.line_end_after_ipd) head += "\r\n";
    emit_report(head);
}

ESPAT_SIM_DECL std::string module_core::address_text(const asio::ip::address& a) const
{
    return opts_.firmware.quoted_ipd_address ? "\"" + a.to_string() + "\"" : a.to_string();
}

ESPAT_SIM_DECL void module_core::peer_closed(const std::shared_ptr<link>& l)
{
    if (l->closed || links_[l->id] != l) return;
    // Passive mode: CLOSED waits until the buffered data is read (the reference).
    if (l->mode == recv_mode::passive && !l->passive_data.empty()) {
        l->peer_closed = true;
        if (chance(opts_.faults.closed_before_data_read)) {
            l->closed_reported = true;
            report_closed(l->id);
        }
        return;
    }
    remove_link(l->id, true);
}

// ------------------------------------------------------------------------------------
// Handlers: what the host sees of received data (AT+CIPDINFO) and passive receiving
// (AT+CIPRECVMODE, AT+CIPRECVTYPE, AT+CIPRECVLEN, AT+CIPRECVDATA).

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipdinfo>& r)
{
    show_remote_ = r.params.show_remote.value;
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::ciprecvmode>&)
{
    reply<cmd::ciprecvmode::query>(recv_mode_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::ciprecvmode>& r)
{
    recv_mode_ = r.params.mode.value;
    for (auto& l : links_)
        if (l) set_link_mode(*l, recv_mode_);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::ciprecvtype>&)
{
    std::vector<link_recv_mode> modes;
    for (std::uint8_t i = 0; i < (mux_ ? 5 : 1); ++i)
        modes.push_back({*link_id::checked(i), links_[i] ? links_[i]->mode : recv_mode_});
    reply<cmd::ciprecvtype::query>(modes);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::ciprecvtype>& r)
{
    const auto& p = r.params;
    if (!p.link || p.link->value() == 5) {
        recv_mode_ = p.mode.value;
        for (auto& l : links_)
            if (l) set_link_mode(*l, recv_mode_);
    } else if (links_[p.link->value()]) {
        set_link_mode(*links_[p.link->value()], p.mode.value);
    } else {
        error();
        co_return;
    }
    ok();
    co_return;
}
ESPAT_SIM_DECL void module_core::set_link_mode(link& l, recv_mode m)
{
    l.mode = m;
    l.wake_reader();
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const query_of<cmd::ciprecvlen>&)
{
    receive_lengths lengths;
    for (std::uint8_t i = 0; i < (mux_ ? 5 : 1); ++i) {
        if (links_[i]) lengths.emplace_back(static_cast<std::uint32_t>(links_[i]->passive_data.size()));
        else if (opts_.firmware.idle_recvlen_zero) lengths.emplace_back(0u);
        else lengths.emplace_back(std::nullopt);
    }
    reply<cmd::ciprecvlen::query>(lengths);
    ok();
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::ciprecvdata>& r)
{
    auto l = link_for(r.params.link);
    if (!l || l->mode != recv_mode::passive || l->passive_data.empty()) {
        error();
        co_return;
    }
    const std::size_t n = std::min<std::size_t>(r.params.length.value(), l->passive_data.size());
    // +CIPRECVDATA is a length-framed frame like +IPD (the parser's recv_data event): no
    // table encoder exists for it.
    std::string head;
    if (opts_.firmware.nonos_recvdata_header) {
        head = "+CIPRECVDATA," + std::to_string(n) + ":";
    } else {
        head = "+CIPRECVDATA:" + std::to_string(n) + ",";
        if (show_remote_)
            head += "\"" + l->passive_from_ip.to_string() + "\"," + std::to_string(l->passive_from_port) + ",";
    }
    emit(head);
    emit(std::string_view(l->passive_data).substr(0, n));
    l->passive_data.erase(0, n);
    l->notified = false;
    l->wake_reader();
    ok();
    if (l->peer_closed && l->passive_data.empty()) remove_link(l->id, !l->closed_reported);
    co_return;
}

// ------------------------------------------------------------------------------------
// Sending.

template <class Request>
void module_core::begin_send(const Request& r, bool escaped, std::optional<asio::ip::udp::endpoint> to)
{
    if (passthrough_mode_ == transfer_mode::passthrough) return error();
    auto l = link_for(r.link);
    if (!l) {
        emit("link is not valid\r\n");
        return error();
    }
    if (r.length.value() > opts_.firmware.max_send()) return error(err_code::parameter_parse_failed);
    if (to && l->type != link_type::udp) return error();
    send_ = pending_send{l, r.length.value(), escaped, to, {}, {}, 0, false};
    ok();
    input_ = input_mode::send_data;
    emit(opts_.firmware.prompt);
    in_send_phase_ = true;
    reports_inside_send_ = chance(opts_.faults.report_inside_send);
}

ESPAT_SIM_DECL std::string_view module_core::take_send_bytes(std::string_view bytes)
{
    const std::size_t n = std::min(bytes.size(), send_.length - send_.raw.size());
    send_.raw.append(bytes.substr(0, n));
    if (!send_.escaped) {
        if (send_.raw.size() == send_.length) finish_data();
        return bytes.substr(n);
    }
    // Resolve escapes as far as they can be decided (detail/sendex_data.hpp has the rule): a
    // backslash waits for the byte after it, unless it is the last the length allows.
    const bool complete = send_.raw.size() == send_.length;
    std::size_t& i = send_.scanned;
    while (i < send_.raw.size()) {
        const std::string_view rest = std::string_view(send_.raw).substr(i);
        if (rest[0] == '\\' && rest.size() == 1 && !complete) break;  // undecided
        const auto r = espat::detail::read_sendex_data(rest.substr(0, rest[0] == '\\' ? 2 : 1), &send_.data);
        if (r.ended_early) {
            send_.ended_early = true;
            i += 2;
            break;
        }
        i += r.raw_before_end;
    }
    if (send_.ended_early || complete) {
        finish_data();
        // What followed "\0" in this chunk is not data: the module is back in command mode.
        return send_.ended_early ? bytes.substr(n - std::min(n, send_.raw.size() - i)) : bytes.substr(n);
    }
    return bytes.substr(n);
}

ESPAT_SIM_DECL void module_core::finish_data()
{
    input_ = input_mode::command;
    busy_ = true;
    if (!send_.escaped) send_.data = send_.raw;
    if (send_.ended_early) send_.raw.resize(send_.scanned);
    asio::co_spawn(ex_, complete_send(shared_from_this(), std::move(send_)), asio::detached);
    send_ = {};
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::complete_send(std::shared_ptr<module_core> keep, pending_send s)
{
    (void)keep;
    const auto& l = s.target;
    if (!s.to && links_[l->id] == l && chance(opts_.faults.closed_during_send)) {
        release_held_reports();
        if (l->mode == recv_mode::passive && !l->passive_data.empty()) {
            // The link goes once its data is read; what the module had not taken is lost.
            l->peer_closed = l->closed_reported = true;
            l->close();
            l->wake_reader();
            report_closed(l->id);
        } else {
            remove_link(l->id, true);
        }
        busy_ = false;
        co_return;
    }
    // AT+CIPSENDEX: what it sends, escapes resolved and "\0" not counted (detail/sendex_data.hpp).
    emit("\r\nRecv " + std::to_string(s.escaped ? s.data.size() : s.raw.size()) + " bytes\r\n");
    const bool fail = chance(opts_.faults.send_fail);
    std::string_view payload = s.data;
    if (fail) payload = payload.substr(0, payload.size() / 2);
    std::error_code ec;
    if (!s.target->closed && !payload.empty()) ec = co_await s.target->send(payload, s.to);
    if (stopped_) co_return;
    s.target->last_activity = std::chrono::steady_clock::now();
    emit(ec || fail || s.target->closed ? "\r\nSEND FAIL\r\n" : "\r\nSEND OK\r\n");
    release_held_reports();
    busy_ = false;
}

// ------------------------------------------------------------------------------------
// Handlers: AT+CIPSEND and AT+CIPSENDEX with parameters (normal transfer mode).

ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsend>& r)
{
    begin_send(r.params, false, std::nullopt);
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsendex>& r)
{
    begin_send(r.params, true, std::nullopt);
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsend_udp>& r)
{
    begin_send(r.params, false, asio::ip::udp::endpoint(r.params.remote_ip.value, r.params.remote_port.value));
    co_return;
}
ESPAT_SIM_DECL asio::awaitable<void> module_core::handle(const set_of<cmd::cipsendex_udp>& r)
{
    begin_send(r.params, true, asio::ip::udp::endpoint(r.params.remote_ip.value, r.params.remote_port.value));
    co_return;
}

}  // namespace espat::sim::detail
