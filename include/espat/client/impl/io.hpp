// espat/client/impl/io.hpp — basic_client's reader and writer loop: operations queued on the
// strand, handed to the session, its actions carried out (writes, the timer, completions).
//
// Out of the class so that a program built with ESPAT_SEPARATE_COMPILATION compiles them once,
// in espat::compiled, for the stacks of detail/stacks.hpp (client.hpp includes this file).
#pragma once

#include <espat/client.hpp>

namespace espat {

template <class AsyncStream>
basic_client<AsyncStream>::basic_client(AsyncStream stream, client_options options)
    : stream_(std::move(stream)), strand_(detail::client_strand<typename AsyncStream::executor_type>::make(stream_.get_executor())), timer_(strand_),
      start_done_(strand_, asio::steady_timer::time_point::max()), ready_wait_(strand_), session_(options.session),
      options_(options)
{
    session_.set_report_sink(&basic_client::on_report, this);
}

// Out of the class, so that it is compiled once in espat::compiled too.
template <class AsyncStream>
basic_client<AsyncStream>::~basic_client() = default;

template <class AsyncStream>
auto basic_client<AsyncStream>::write_raw(std::string bytes) -> void
{
    asio::post(strand_, [this, b = std::move(bytes)]() mutable {
        session_.write_raw(std::move(b), now());
        pump();
    });
}

template <class AsyncStream>
auto basic_client<AsyncStream>::leave_passthrough() -> void
{
    asio::post(strand_, [this] {
        session_.leave_passthrough(now());
        pump();
    });
}

template <class AsyncStream>
auto basic_client<AsyncStream>::close() -> void
{
    asio::post(strand_, [this] { shut_down(asio::error::operation_aborted); });
}

template <class AsyncStream>
auto basic_client<AsyncStream>::post_op(op_request req) -> void
{
    req.ticket = next_ticket_.fetch_add(1, std::memory_order_relaxed);
    connect_cancellation(req.done->cancellation_slot(), req.ticket, &basic_client::cancel_op);
    asio::post(strand_, with_arena([this, r = std::move(req)]() mutable { enqueue(std::move(r)); }));
}

template <class AsyncStream>
auto basic_client<AsyncStream>::connect_cancellation(asio::cancellation_slot slot, std::uint64_t ticket,
                                                     void (basic_client::*cancel)(std::uint64_t)) -> void
{
    if (!slot.is_connected()) return;
    slot.assign([this, ticket, cancel](asio::cancellation_type type) {
        if (type != asio::cancellation_type::none)
            asio::post(strand_, with_arena([this, ticket, cancel] { (this->*cancel)(ticket); }));
    });
}

template <class AsyncStream>
auto basic_client<AsyncStream>::enqueue(op_request req) -> void
{
    ensure_running();
    std::error_code refuse = req.refused;
    if (!refuse && fatal_) refuse = fatal_;
    if (!refuse && !req.versions.contains(profile_)) refuse = make_error_code(errc::not_supported);
    // The firmware's send limit is known only here, on the strand, once start-up read it.
    if (!refuse && profile_ && req.command.payload && req.command.payload->size() > profile_->max_send_length)
        refuse = make_error_code(errc::invalid_argument);
    if (refuse) {
        proto::command_result r;
        r.ec = refuse;
        ++stats_.failures;
        req.done->complete(std::move(r));
        return;
    }
    op_entry entry{req.ticket, 0, std::nullopt, std::move(req.done), std::move(req.shown_line), {}};
    if (entry.line.empty()) entry.line = req.command.line;
    else entry.secret = req.command.line;
    ops_.push_back(std::move(entry));
    if (gate_closed_ && !req.internal) ops_.back().held = std::move(req.command);
    else submit(ops_.back(), std::move(req.command));
    pump();
}

template <class AsyncStream>
auto basic_client<AsyncStream>::submit(op_entry& e, proto::command c) -> void
{
    ++stats_.commands;
    e.id = session_.submit(std::move(c), now());
}

template <class AsyncStream>
auto basic_client<AsyncStream>::open_gate() -> void
{
    gate_closed_ = false;
    for (auto& e : ops_)
        if (e.held) {
            proto::command c = std::move(*e.held);
            e.held.reset();
            submit(e, std::move(c));
        }
    pump();
}

template <class AsyncStream>
auto basic_client<AsyncStream>::cancel_op(std::uint64_t ticket) -> void
{
    auto it = std::find_if(ops_.begin(), ops_.end(), [&](const op_entry& e) { return e.ticket == ticket; });
    if (it == ops_.end()) return;
    if (it->held) {
        proto::command_result r;
        r.ec = make_error_code(errc::cancelled);
        finish_op(it, std::move(r));
        return;
    }
    session_.cancel(it->id, now());
    pump();
}

template <class AsyncStream>
auto basic_client<AsyncStream>::finish_op(typename std::vector<op_entry>::iterator it, proto::command_result r) -> void
{
    op_entry e = std::move(*it);
    ops_.erase(it);
    if (r.ec) {
        ++stats_.failures;
        if (r.ec == errc::cancelled) ++stats_.cancellations;
        else last_failure_ = command_failure{strip(e.line), r.ec, r.module_error, r.diagnostics, r.lines};
    }
    last_completed_line_ = strip(e.line);
    e.done->complete(std::move(r));
}

template <class AsyncStream>
auto basic_client<AsyncStream>::strip(std::string_view line) -> std::string
{
    while (line.ends_with('\n') || line.ends_with('\r')) line.remove_suffix(1);
    return std::string(line);
}

template <class AsyncStream>
auto basic_client<AsyncStream>::ensure_running() -> void
{
    if (running_ || fatal_) return;
    running_ = true;
    if (!drained_ && options_.initial_drain.count() > 0) {
        drained_ = true;
        session_.hold_writes_until(now() + options_.initial_drain);
        pump();
    }
    start_read();
}

template <class AsyncStream>
auto basic_client<AsyncStream>::pump() -> void
{
    while (auto a = session_.next_action()) {
        if (auto* w = std::get_if<proto::write_bytes>(&*a)) {
            start_write(std::move(w->bytes));
        } else if (auto* t = std::get_if<proto::arm_timer>(&*a)) {
            arm(t->deadline);
        } else if (auto* c = std::get_if<proto::complete>(&*a)) {
            auto it = std::find_if(ops_.begin(), ops_.end(),
                                   [&](const op_entry& e) { return !e.held && e.id == c->id; });
            if (it != ops_.end()) finish_op(it, std::move(c->result));
        } else if (auto* r = std::get_if<proto::report>(&*a)) {
            deliver(as_event(r->event));  // only without a sink; kept for completeness
        } else {
            on_module_reset();
        }
    }
}

template <class AsyncStream>
auto basic_client<AsyncStream>::as_event(const proto::owned_event& o) -> proto::event
{
    proto::event e;
    e.kind = o.kind;
    e.link = static_cast<std::int8_t>(o.link);
    e.remote_port = o.remote_port;
    e.value = o.value;
    e.text = o.text;
    e.name = o.name;
    e.args = o.args;
    e.remote_host = o.remote_host;
    e.payload = o.payload;
    return e;
}

template <class AsyncStream>
auto basic_client<AsyncStream>::start_read() -> void
{
    auto on_bytes = [this](std::error_code ec, std::size_t n) { on_read(ec, n); };
    stream_.async_read_some(asio::buffer(read_buffer_), with_arena(asio::bind_executor(strand_, on_bytes)));
}

template <class AsyncStream>
auto basic_client<AsyncStream>::on_read(std::error_code ec, std::size_t n) -> void
{
    if (fatal_) return;
    if (n > 0) {
        const std::string_view bytes(read_buffer_.data(), n);
        stats_.bytes_in += n;
        record(proto::transcript_line::direction::device, bytes);
        session_.on_bytes(bytes, now());
        pump();
    }
    if (ec) return shut_down(ec);
    start_read();
}

template <class AsyncStream>
auto basic_client<AsyncStream>::start_write(std::string bytes) -> void
{
    out_ = std::move(bytes);
    stats_.bytes_out += out_.size();
    record(proto::transcript_line::direction::host, out_);
    auto written = [this](std::error_code ec, std::size_t) {
        if (fatal_) return;
        if (ec) return shut_down(ec);
        session_.on_write_done(now());
        pump();
    };
    asio::async_write(stream_, asio::buffer(out_), with_arena(asio::bind_executor(strand_, written)));
}

template <class AsyncStream>
auto basic_client<AsyncStream>::arm(clock::time_point deadline) -> void
{
    wanted_deadline_ = deadline;
    if (deadline == clock::time_point::max()) return;
    if (timer_waiting_ && timer_.expiry() <= deadline) return;
    timer_.expires_at(deadline);  // a pending wait ends with operation_aborted
    start_timer_wait();
}

template <class AsyncStream>
auto basic_client<AsyncStream>::start_timer_wait() -> void
{
    timer_waiting_ = true;
    const std::uint64_t wait = ++timer_waits_;
    auto expired = [this, wait](std::error_code ec) {
        if (ec || fatal_ || wait != timer_waits_) return;  // replaced by a newer wait, or closed
        timer_waiting_ = false;
        session_.on_timer(now());
        pump();
        if (!timer_waiting_ && wanted_deadline_ != clock::time_point::max()) {
            timer_.expires_at(wanted_deadline_);
            start_timer_wait();
        }
    };
    timer_.async_wait(with_arena(asio::bind_executor(strand_, expired)));
}

template <class AsyncStream>
auto basic_client<AsyncStream>::shut_down(std::error_code ec) -> void
{
    if (fatal_) return;
    fatal_ = ec;
    timer_.cancel();
    start_done_.cancel();
    ready_wait_.cancel();
    std::error_code ignored;
    if constexpr (requires { stream_.close(ignored); }) stream_.close(ignored);
    else stream_.close();
    while (!ops_.empty()) {
        proto::command_result r;
        r.ec = ec;
        finish_op(ops_.begin(), std::move(r));
    }
    for (auto& w : wifi_waiters_) w.second->complete(tl::make_unexpected(ec));
    wifi_waiters_.clear();
}

}  // namespace espat
