// espat/proto/session_events.hpp — what the module says, routed by the session: reports to
// the links, lines and frames to the command in flight, final results that complete it.
#pragma once

#include <espat/detail/sendex_data.hpp>
#include <espat/error.hpp>
#include <espat/proto/session.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace espat::proto {

inline void session::on_event(const event& e, clock::time_point now)
{
    if (e.kind == event_kind::ready) {
        on_reset(now);
        // A sink gets "ready" here, in wire order: before the reports of the new boot that
        // may follow in the same read (WIFI CONNECTED, ...). The module_reset action follows.
        if (sink_) sink_(sink_context_, e);
        return;
    }
    if (e.kind == event_kind::raw_data && now < watch_until_ && module_answers(e.payload)) return on_passthrough_lost(now);
    // A line not yet handed out cannot have been answered; with echo, nothing before the
    // line's echo is its answer either.
    const bool commanded = (state_ == state::wait_result || state_ == state::wait_prompt || state_ == state::wait_send) &&
                           current_->line_out;
    const bool anchored = commanded && current_->echo != echo_state::awaiting && current_->echo != echo_state::partial;
    if (e.kind == event_kind::protocol_error) {
        ++stats_.protocol_errors;
        // A broken +CIPRECVDATA or HTTP body chunk, or a line too long inside an answer, is the
        // answer's; anything else (a +IPD or +MQTTSUBRECV frame, what is left of one) is the
        // links' business.
        const bool answer = e.name == "CIPRECVDATA" || e.name.starts_with("HTTP") ||
                            e.value == static_cast<std::uint32_t>(protocol_error_reason::line_too_long);
        if (anchored && answer) return on_command_event(e, now);
        return to_sink(e);
    }
    // The link of a send in progress closed (the prompt came, the data went, then CLOSED):
    // no SEND OK or SEND FAIL may ever come, so the send fails now, after the links heard of
    // the close. A result that comes later is that send's (see on_final).
    if (e.kind == event_kind::closed && state_ == state::wait_send && current_->cmd.link == std::max<int>(e.link, 0)) {
        to_sink(e);
        late_send_ok_ = late_send_fail_ = true;
        return finish(errc::link_closed, event_kind::closed, now);
    }
    // +CIPRECVDATA answers the command in flight; every other report goes to subscribers
    // (+MQTTSUBRECV messages, +MQTTCONNECTED even inside AT+MQTTCONN's answer), and so does a
    // +CIPRECVDATA frame no command can own (an earlier exchange's: lost data). An HTTP body's
    // chunk is the answer of the command in flight; one no command can own goes the same way.
    if (is_report(e.kind) && !(e.kind == event_kind::recv_data && anchored)) return to_sink(e);
    if (e.kind == event_kind::http_data && !anchored) return to_sink(e);
    // Before the echo (noise too: stray bytes the module got come back in it, not printable).
    if (commanded && !anchored) return on_echo_wait(e, now);
    if (e.kind == event_kind::noise) {
        ++stats_.noise;
        // AT+CIPRECVDATA answers with its frame and OK only. A frame header that lost its ':'
        // leaves its binary payload as noise: what the module handed over is lost, so the read
        // fails rather than coming back empty.
        if (commanded && current_->cmd.recv_request != 0) current_->damaged = true;
        return;
    }
    if (commanded) return on_command_event(e, now);
    if (state_ == state::probing || state_ == state::quiet) return on_resync_event(e, now);
    if (e.kind == event_kind::send_ok || e.kind == event_kind::send_fail) {
        if (e.kind == event_kind::send_ok) late_send_ok_ = false;
        else late_send_fail_ = false;
        ++stats_.late_send_results;
        return;
    }
    ++stats_.stray_lines;
}

inline void session::to_sink(const event& e)
{
    if (sink_) sink_(sink_context_, e);
    else actions_.emplace_back(report{owned_event(e)});
}

inline void session::on_command_event(const event& e, clock::time_point now)
{
    entry& c = *current_;
    command_result& r = c.res;
    const bool paired = std::exchange(c.busy_pair, false);
    switch (e.kind) {
    case event_kind::echo: return;
    case event_kind::info:
        // AT+CIPRECVDATA answers with its frame and OK only: any line means damage.
        if (c.cmd.recv_request != 0) c.damaged = true;
        if (keep(c, e.name.size() + e.args.size())) r.lines.push_back(e.name, e.args);
        return;
    case event_kind::text:
        if (c.cmd.recv_request != 0) c.damaged = true;
        if (keep(c, e.text.size())) r.lines.push_back({}, e.text);
        return;
    case event_kind::recv_data:
        // One frame answers AT+CIPRECVDATA; a second is an earlier exchange's or a fake.
        if (c.frame_seen) c.damaged = true;
        c.frame_seen = true;
        if (keep(c, e.payload.size())) r.frames.emplace_back(e.payload);
        return;
    case event_kind::http_data:
        // An HTTP command's body, chunk by chunk, in order; AT+CIPRECVDATA takes none.
        if (c.cmd.recv_request != 0) c.damaged = true;
        if (keep(c, e.payload.size())) r.frames.emplace_back(e.payload);
        return;
    case event_kind::protocol_error: {
        c.damaged = true;
        constexpr std::string_view what = "protocol error: ";  // counted as kept
        if (keep(c, what.size() + e.text.size())) r.diagnostics.push_back(std::string(what) + std::string(e.text));
        return;
    }
    case event_kind::err_code:
        if (keep(c, e.text.size())) r.diagnostics.emplace_back(e.text);
        r.module_error = c.attempt_err = e.value;
        if (e.value == busy_code) {
            on_busy();
            c.busy_pair = true;
        }
        return;
    case event_kind::busy:
        if (keep(c, e.text.size())) r.diagnostics.emplace_back(e.text);
        if (!paired) on_busy();
        return;
    case event_kind::already_connected: c.status = errc::already_connected; break;
    case event_kind::link_invalid: c.status = errc::link_invalid; break;
    case event_kind::unlink: c.status = errc::link_invalid; break;  // NONOS: AT+CIPCLOSE on a closed link
    case event_kind::dns_fail: c.status = errc::dns_failed; break;
    case event_kind::recv_bytes:
        if (state_ == state::wait_send) {
            c.recv_seen = true;
            c.recv_mismatch = !recv_count_fits(c.cmd, e.value);
            late_send_ok_ = late_send_fail_ = false;  // from here on a result is this send's
        }
        break;
    case event_kind::prompt: return on_prompt(now);
    default:
        if (is_final(e.kind)) return on_final(e.kind, now);
        break;
    }
    if (keep(c, e.text.size())) r.diagnostics.emplace_back(e.text);  // the status lines: UNLINK, no change, Recv, ...
}

// Whether a send's "Recv <n> bytes" says the module took the payload as written. For
// AT+CIPSENDEX Espressif does not say what <n> counts: the bytes it sends (escapes resolved,
// the field's captures with "\0" agree) or the bytes it took before "\0"; either is right.
inline bool session::recv_count_fits(const command& cmd, std::size_t n)
{
    if (!cmd.escaped_data) return n == cmd.payload->size();
    const auto r = detail::read_sendex_data(*cmd.payload);
    return n == r.sent || n == r.raw_before_end;
}

// Whether `bytes` more of the response fit session_options::max_response_bytes; once one
// does not, nothing more is kept (a later, smaller line would leave a hole unnoticed).
// Every line, diagnostic or frame kept counts at least one byte: an empty +CIPRECVDATA
// frame costs a string all the same, and the module may repeat it without end.
inline bool session::keep(entry& c, std::size_t bytes) noexcept
{
    bytes = std::max<std::size_t>(bytes, 1);
    if (c.overflowed || c.kept_bytes + bytes > opt_.max_response_bytes) {
        c.overflowed = true;
        return false;
    }
    c.kept_bytes += bytes;
    return true;
}

// busy p... / ERR CODE 0x010b0000: the module is still working; give it more time, boundedly.
inline void session::on_busy()
{
    entry& c = *current_;
    c.busy = true;
    if (c.extensions < c.cmd.busy_retries) {
        ++c.extensions;
        deadline_ += c.cmd.timeout;
    }
}

inline void session::on_prompt(clock::time_point now)
{
    entry& c = *current_;
    const bool expected = state_ == state::wait_prompt || state_ == state::wait_result;
    if (!expected || (!c.cmd.payload && !c.cmd.passthrough)) {
        if (keep(c, 1)) c.res.diagnostics.emplace_back(">");
        return;
    }
    if (c.cmd.passthrough) {
        entry done = std::move(c);
        current_.reset();
        expect_echo_rest({});
        state_ = state::passthrough;  // the queue waits for leave_passthrough()
        deadline_ = never;
        parser_.set_passthrough(true);
        plus_run_ = 0;
        held_plus_ = 0;
        released_ = false;
        watch_until_ = {};
        if (done.abandoned) return leave_passthrough(now);
        done.res.final_result = event_kind::prompt;
        emit_completion(done.id, {}, std::move(done.res));
        return;
    }
    // Even for an abandoned send: the module now takes the next bytes as data.
    write(write_tag::payload, data_to_send(c));
    state_ = state::wait_send;
    deadline_ = now + c.cmd.timeout;
}

// What a send's prompt gets: its data, unless the module did not echo the line written.
// Then it wants some other length m (from the echo) or one nobody knows: it gets the first
// min(m, n) bytes of the data and zeros up to max(m, n), or n zeros, so however many it
// takes, no byte of the caller's reaches its command interpreter. The send fails.
inline std::string session::data_to_send(const entry& c)
{
    const std::string& data = *c.cmd.payload;
    if (c.echo != echo_state::garbled && c.echo != echo_state::leftover) return data;
    if (!c.echoed_length || c.echo == echo_state::leftover) return std::string(data.size(), '\0');
    constexpr std::size_t most = 8192;  // no firmware takes more after one prompt
    const std::size_t m = std::min(*c.echoed_length, most);
    std::string out = data.substr(0, std::min(m, data.size()));
    out.resize(std::max(m, data.size()), '\0');
    return out;
}

inline void session::on_final(event_kind k, clock::time_point now)
{
    entry& c = *current_;
    if (k == event_kind::send_ok || k == event_kind::send_fail) {
        // A failed send may still be answered SEND OK later (NONOS), a send ended at CLOSED
        // SEND OK or SEND FAIL: before this send's Recv line, such a result is that one's.
        const bool late = k == event_kind::send_ok ? late_send_ok_ : late_send_fail_;
        if (state_ != state::wait_send || (late && !c.recv_seen)) {
            if (k == event_kind::send_ok) late_send_ok_ = false;
            else late_send_fail_ = false;
            ++stats_.late_send_results;
            return;
        }
        if (k == event_kind::send_fail) {
            late_send_ok_ = true;
            return finish(errc::send_failed, k, now);
        }
        return finish(c.recv_mismatch ? make_error_code(errc::protocol_error) : std::error_code{}, k, now);
    }
    if (k == event_kind::ok || k == event_kind::set_ok) {
        if (state_ == state::wait_result && (c.cmd.payload || c.cmd.passthrough)) {
            state_ = state::wait_prompt;  // the length was accepted
            return;
        }
        if (state_ == state::wait_send && c.cmd.ok_ends_data) return finish({}, k, now);
        if (state_ != state::wait_result) {
            ++stats_.stray_lines;
            return;
        }
        return finish({}, k, now);
    }
    // ERROR / FAIL. Busy lines followed by a failure with a cause of its own (DNS Fail, ALREADY
    // CONNECTED, an ERR CODE other than busy) report that cause; only a bare busy failure is re-sent.
    const bool busy_error =
        k == event_kind::error && c.busy && !c.status && (!c.attempt_err || *c.attempt_err == busy_code);
    if (busy_error && !c.abandoned && state_ == state::wait_result && c.resends < c.cmd.busy_retries) {
        // Doubled per re-send up to backoff_max, never shifted: busy_retries may exceed 31.
        std::chrono::milliseconds delay = opt_.backoff_initial;
        for (int i = 0; i < c.resends && delay.count() > 0 && delay < opt_.backoff_max; ++i) delay *= 2;
        delay = std::min(delay, opt_.backoff_max);
        ++c.resends;
        ++stats_.busy_resends;
        state_ = state::backoff;
        deadline_ = now + delay;
        return;
    }
    std::error_code ec = make_error_code(errc::command_failed);
    if (busy_error) ec = errc::busy;
    else if (c.status) ec = *c.status;
    else if (c.attempt_err) ec = make_module_error(*c.attempt_err);
    finish(ec, k, now);
}

}  // namespace espat::proto
