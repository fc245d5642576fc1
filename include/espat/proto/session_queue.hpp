// espat/proto/session_queue.hpp — the session's command queue: one command at a time, its
// writes one at a time, its deadline, busy re-sends, and the resync probe after a timeout.
#pragma once

#include <espat/error.hpp>
#include <espat/proto/session.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace espat::proto {

// ---- writes: exactly one outstanding ----

inline void session::write(write_tag tag, std::string bytes)
{
    unsent_.emplace_back(tag, std::move(bytes));
    flush_writes();
}

inline void session::flush_writes()
{
    if (write_busy_ || unsent_.empty() || write_hold_until_ != never) return;
    writing_ = unsent_.front().first;
    if (writing_ == write_tag::line) {
        current_->line_out = true;
        current_->echo = echo_ ? echo_state::awaiting : echo_state::none;
        current_->echo_have = 0;
    } else if (writing_ == write_tag::probe) {
        probe_echoed_ = !echo_;
    } else if (writing_ == write_tag::payload && current_) {
        last_send_link_ = current_->cmd.link;
    }
    actions_.emplace_back(write_bytes{std::move(unsent_.front().second)});
    unsent_.erase(unsent_.begin());
    write_busy_ = true;
}

inline bool session::drop_unsent(write_tag tag)
{
    auto it = std::find_if(unsent_.begin(), unsent_.end(), [&](const auto& w) { return w.first == tag; });
    if (it == unsent_.end()) return false;
    unsent_.erase(it);
    return true;
}

inline void session::sync_timer()
{
    const clock::time_point wanted = std::min({deadline_, hold_until_, release_at_, write_hold_until_});
    if (wanted == armed_) return;
    armed_ = wanted;
    actions_.emplace_back(arm_timer{wanted});
}

inline void session::emit_completion(command_id id, std::error_code ec, command_result res)
{
    res.ec = ec;
    actions_.emplace_back(complete{id, std::move(res)});
}

// ---- the queue ----

inline void session::start_next(clock::time_point now)
{
    if (state_ != state::idle || current_ || queue_.empty()) return;
    current_ = std::move(queue_.front());
    queue_.erase(queue_.begin());  // a short queue; a vector keeps its capacity
    current_->res.lines = std::move(spare_lines_);
    spare_lines_ = {};
    begin_attempt(now);
}

inline void session::begin_attempt(clock::time_point now)
{
    entry& c = *current_;
    c.busy = c.busy_pair = c.recv_seen = c.recv_mismatch = c.line_out = false;
    c.damaged = c.frame_seen = false;
    c.echo = echo_state::none;
    c.echo_have = 0;
    c.echoed_length.reset();
    c.attempt_err.reset();
    c.status.reset();
    c.res.lines.clear();  // a re-send answers afresh
    c.res.frames.clear();
    c.overflowed = false;
    c.kept_bytes = 0;
    for (const auto& d : c.res.diagnostics) c.kept_bytes += d.size();
    const clock::time_point from = write_hold_until_ == never ? now : std::max(now, write_hold_until_);
    if (c.cmd.escape) {
        state_ = state::leaving_guard;
        deadline_ = write_busy_ ? never : from + opt_.guard_before;
        return;
    }
    state_ = state::wait_result;
    deadline_ = from + c.cmd.timeout;
    if (c.cmd.recv_request != 0) parser_.expect_recv_data(c.cmd.recv_request);
    write(write_tag::line, c.cmd.line);
}

inline void session::become_idle(clock::time_point now)
{
    state_ = state::idle;
    deadline_ = never;
    expect_echo_rest({});
    start_next(now);
}

inline void session::finish(std::error_code ec, std::optional<event_kind> final_result, clock::time_point now)
{
    entry c = std::move(*current_);
    current_.reset();
    if (!ec && (final_result == event_kind::ok) && c.echo != echo_state::garbled && c.echo != echo_state::leftover) {
        if (c.cmd.line == "ATE0\r\n") echo_ = false;
        if (c.cmd.line == "ATE1\r\n") echo_ = true;
    }
    if (c.damaged && !c.abandoned) {
        // Whatever it answered: the module did not get the command, or its answer broke.
        if (ec != errc::device_reset) ec = errc::protocol_error;
        c.res.diagnostics.push_back(c.echo == echo_state::garbled || c.echo == echo_state::leftover
                                        ? "echo was not the line sent"  // short: kept beyond the response limit
                                        : "damaged answer");
    }
    if (c.overflowed) {
        if (!ec) ec = errc::response_too_large;  // an ERROR or a timeout says more
        c.res.diagnostics.push_back("the response exceeded max_response_bytes (" + std::to_string(opt_.max_response_bytes) +
                                    "); the rest of it was dropped");
    }
    if (!c.abandoned) {
        c.res.final_result = final_result;
        emit_completion(c.id, ec, std::move(c.res));
    }
    become_idle(now);
}

// ---- timeouts, the resync probe, a reset ----

// After a timeout only the probe's OK matters; a busy means the probe was refused.
inline void session::on_resync_event(const event& e, clock::time_point now)
{
    if (state_ == state::quiet) return;  // late output; the quiet timer restarted
    if (e.kind == event_kind::busy || (e.kind == event_kind::err_code && e.value == busy_code)) {
        probe_refused_ = true;
    } else if (e.kind == event_kind::prompt && late_payload_) {
        // The timed-out send's prompt came after all: the module wants its bytes.
        write(write_tag::payload, std::move(*late_payload_));
        late_payload_.reset();
        probe_refused_ = true;
    } else if (!probe_echoed_) {
        // With echo, the probe's answer follows its echo; what comes before is older.
        if (e.kind == event_kind::echo && e.text == "ATE1") probe_echoed_ = true;
    } else if (is_final(e.kind)) {
        if (e.kind == event_kind::ok && !probe_refused_) {
            state_ = state::quiet;
            deadline_ = now + opt_.quiet;
        } else {
            reprobe(now);
        }
    }
}

inline void session::on_deadline(clock::time_point now)
{
    switch (state_) {
    case state::wait_result:
    case state::wait_prompt:
    case state::wait_send: {
        ++stats_.timeouts;
        entry c = std::move(*current_);
        current_.reset();
        // A line still waiting behind another write never reached the module: once the
        // command has completed it must not go out.
        const bool line_never_out = drop_unsent(write_tag::line);
        if (c.cmd.payload && state_ != state::wait_send && !line_never_out) late_payload_ = data_to_send(c);
        expect_echo_rest({});
        if (!c.abandoned) emit_completion(c.id, c.busy ? errc::busy : errc::timeout, std::move(c.res));
        ++stats_.resyncs;
        probes_ = 0;
        reprobe(now);
        return;
    }
    case state::backoff: begin_attempt(now); return;
    case state::probing: reprobe(now); return;
    case state::quiet:
        late_payload_.reset();
        become_idle(now);
        return;
    case state::leaving_guard:
        state_ = state::leaving_wait;
        deadline_ = never;  // runs from when "+++" is out
        write(write_tag::plus, "+++");
        return;
    case state::leaving_wait:
        parser_.set_passthrough(false);
        if (current_) return finish({}, std::nullopt, now);  // an escape command
        become_idle(now);
        return;
    case state::idle:
    case state::passthrough: deadline_ = never; return;
    }
}

inline void session::reprobe(clock::time_point now)
{
    if (probes_ >= opt_.max_probes) {  // give up: the next command's own timeout will tell
        ++stats_.resync_failures;
        late_payload_.reset();
        return become_idle(now);
    }
    ++probes_;
    probe_refused_ = false;
    state_ = state::probing;
    deadline_ = now + opt_.probe_timeout;
    // With echo the probe is ATE1: its echo anchors its OK, and it turns echo back on for
    // a module that lost it (a reset whose "ready" was lost on the wire).
    write(write_tag::probe, echo_ ? "ATE1\r\n" : "AT\r\n");
}

// "ready": the module rebooted. Everything pending fails; nothing old is written to it.
inline void session::on_reset(clock::time_point now)
{
    ++stats_.resets;
    if (write_hold_until_ != never && !write_busy_) {
        // Before the first write: the module booted before it heard anything of ours.
        parser_.reset();
        actions_.emplace_back(module_reset{});
        return;
    }
    if (current_ && !current_->abandoned) emit_completion(current_->id, errc::device_reset);
    current_.reset();
    for (auto& q : queue_) emit_completion(q.id, errc::device_reset);
    queue_.clear();
    unsent_.clear();  // a write already handed out stays outstanding until on_write_done
    late_payload_.reset();
    late_send_ok_ = late_send_fail_ = false;
    echo_ = false;  // until the start-up's ATE1
    last_send_link_ = -1;
    hold_until_ = never;
    parser_.reset();  // at a line boundary: only the CIPRECVDATA request is forgotten
    expect_echo_rest({});
    actions_.emplace_back(module_reset{});
    become_idle(now);
}

}  // namespace espat::proto
