// espat/proto/session.hpp — the conversation with an ESP-AT module as a sans-I/O state machine:
// commands and bytes in, actions out (write, arm a timer, complete, report). Time is given, never read.
#pragma once

#include <espat/error.hpp>
#include <espat/proto/event.hpp>
#include <espat/proto/parser.hpp>
#include <espat/proto/response_lines.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace espat::proto {

using session_clock = std::chrono::steady_clock;
using command_id = std::uint64_t;

// One command as the command layer encoded it.
struct command {
    std::string line;                                   // "AT+...\r\n", exactly as written
    std::chrono::milliseconds timeout{1000};            // for each phase: result, prompt, send
    std::optional<std::string> payload{};               // AT+CIPSEND data, written after '>'
    std::size_t recv_request = 0;                       // AT+CIPRECVDATA: the asked size
    int busy_retries = 3;                               // deadline extensions, and re-sends
    bool passthrough = false;                           // AT+CIPSEND in CIPMODE=1: done at '>'
    // No line: silence, "+++" alone, silence (the guards), then done. Start-up sends it to a
    // module that may have booted into passthrough (AT+SAVETRANSLINK) and hears lines as data.
    bool escape = false;
};

struct command_result {
    std::error_code ec;                          // {} on OK / SEND OK
    std::optional<event_kind> final_result;      // none on timeout, reset, cancel
    response_lines lines;                        // info and text lines, in order
    std::vector<std::string> diagnostics;        // raw status / error lines (ERR CODE, busy, ...)
    std::optional<std::uint32_t> module_error;   // the last ERR CODE
    std::vector<std::string> frames;             // +CIPRECVDATA payloads
};

struct write_bytes {
    std::string bytes;
    friend bool operator==(const write_bytes&, const write_bytes&) = default;
};
struct arm_timer {
    session_clock::time_point deadline;  // time_point::max(): disarm
    friend bool operator==(const arm_timer&, const arm_timer&) = default;
};
struct complete {
    command_id id;
    command_result result;
};
struct report {
    owned_event event;
};
struct module_reset {};

using action = std::variant<write_bytes, arm_timer, complete, report, module_reset>;

struct session_options {
    std::chrono::milliseconds probe_timeout{1000};   // the "AT" probe after a timeout
    int max_probes = 3;                              // then the queue continues regardless
    std::chrono::milliseconds quiet{50};             // silence after the probe's OK
    std::chrono::milliseconds backoff_initial{100};  // busy ERROR: first re-send delay, doubled
    std::chrono::milliseconds backoff_max{1600};
    std::chrono::milliseconds guard_before{20};      // silence before "+++"
    std::chrono::milliseconds guard_after{1000};     // after "+++", before the next command
    parser_limits limits{};
    // What one response may hold: its lines, the data of AT+CIPRECVDATA and the diagnostics
    // (busy, status and protocol error lines). Past it the rest is dropped and the command,
    // drained to its final result as usual, fails with errc::response_too_large, so memory
    // stays bounded whatever the module sends and however long a busy command is extended.
    std::size_t max_response_bytes = 64 * 1024;
};

// What the session dropped or recovered from; for logs and tests.
struct session_stats {
    std::size_t stray_lines = 0;         // lines and results with no command to take them
    std::size_t late_send_results = 0;   // SEND OK / SEND FAIL no current send can own
    std::size_t noise = 0;               // boot garbage
    std::size_t protocol_errors = 0;
    std::size_t timeouts = 0;
    std::size_t busy_resends = 0;
    std::size_t resyncs = 0;
    std::size_t resync_failures = 0;     // probes exhausted
    std::size_t resets = 0;
};

class session {
public:
    using clock = session_clock;

    // The named states of the one state machine.
    enum class state : std::uint8_t {
        idle,           // nothing in flight
        wait_result,    // line written: waiting for the final result (a send: for the OK to its length)
        wait_prompt,    // a send's length accepted: waiting for '>'
        wait_send,      // payload written: waiting for Recv <n> bytes and SEND OK / SEND FAIL
        backoff,        // busy then ERROR: waiting to re-send the line
        probing,        // after a timeout: "AT" written, waiting for its OK
        quiet,          // the probe's OK came: waiting for the line to stay silent
        passthrough,    // raw data both ways until leave_passthrough()
        leaving_guard,  // silence before "+++"
        leaving_wait,   // "+++" written: silence before the next command
    };

    explicit session(session_options options = {}) : opt_(options), parser_(options.limits) {}

    // Queues a command; it is written when every earlier one has finished.
    command_id submit(command c, clock::time_point now)
    {
        const command_id id = next_id_++;
        queue_.push_back(entry{id, std::move(c)});
        start_next(now);
        sync_timer();
        return id;
    }

    void on_bytes(std::string_view bytes, clock::time_point now)
    {
        if (state_ == state::quiet) deadline_ = now + opt_.quiet;
        parser_.feed(bytes, [&](const event& e) { on_event(e, now); });
        sync_timer();
    }

    // A completed response's lines, read and done with: their memory holds the next
    // command's lines, so a command in steady state allocates nothing for them.
    void recycle(response_lines&& lines) noexcept
    {
        lines.clear();
        spare_lines_ = std::move(lines);
    }

    // The timer last armed has fired.
    void on_timer(clock::time_point now)
    {
        if (armed_ == never || now < armed_) return;  // a stale timer
        armed_ = never;
        if (now >= deadline_) on_deadline(now);
        sync_timer();
    }

    // The write_bytes action last handed out has been written.
    void on_write_done(clock::time_point now)
    {
        write_busy_ = false;
        // A send's time runs from when its data is out: 8 KiB take 0.7 s at 115200 baud.
        if (writing_ == write_tag::payload && state_ == state::wait_send) deadline_ = now + current_->cmd.timeout;
        if (writing_ == write_tag::plus && state_ == state::leaving_wait) deadline_ = now + opt_.guard_after;
        flush_writes();
        if (state_ == state::leaving_guard && !write_busy_) deadline_ = now + opt_.guard_before;
        sync_timer();
    }

    // Queued: removed, nothing written. Written: completes now; its output is drained.
    void cancel(command_id id, clock::time_point now)
    {
        if (auto it = std::find_if(queue_.begin(), queue_.end(), [&](const entry& e) { return e.id == id; });
            it != queue_.end()) {
            queue_.erase(it);
            emit_completion(id, make_error_code(errc::cancelled));
        } else if (current_ && current_->id == id && !current_->abandoned) {
            if (state_ == state::backoff || drop_unsent(write_tag::line)) {
                current_.reset();
                emit_completion(id, make_error_code(errc::cancelled));
                become_idle(now);
            } else {
                current_->abandoned = true;
                emit_completion(id, make_error_code(errc::cancelled));
            }
        }
        sync_timer();
    }

    // Passthrough mode: bytes for the link, written as they are.
    void write_raw(std::string bytes)
    {
        if (state_ == state::passthrough) write(write_tag::raw, std::move(bytes));
    }

    // Leaves passthrough: silence, "+++", silence, then the queue continues.
    void leave_passthrough(clock::time_point now)
    {
        if (state_ != state::passthrough) return;
        state_ = state::leaving_guard;
        deadline_ = write_busy_ ? never : now + opt_.guard_before;
        sync_timer();
    }

    [[nodiscard]] std::optional<action> next_action()
    {
        if (action_head_ == actions_.size()) {
            actions_.clear();  // keeps its capacity: no allocation per action in steady state
            action_head_ = 0;
            return std::nullopt;
        }
        return std::move(actions_[action_head_++]);
    }

    // Reports go to `sink` as views, during on_bytes, instead of as report actions: no copy
    // of a +IPD payload. The sink must not call back into the session. nullptr: actions again.
    using report_sink = void (*)(void* context, const event& report);
    void set_report_sink(report_sink sink, void* context) noexcept
    {
        sink_ = sink;
        sink_context_ = context;
    }

    // AT+CIPDINFO: whether +CIPRECVDATA carries the remote address.
    void set_recv_data_remote(remote_info mode) noexcept { parser_.set_recv_data_remote(mode); }

    [[nodiscard]] state current_state() const noexcept { return state_; }
    [[nodiscard]] std::size_t queued() const noexcept { return queue_.size(); }
    [[nodiscard]] bool in_flight() const noexcept { return current_.has_value(); }
    [[nodiscard]] const session_stats& stats() const noexcept { return stats_; }

private:
    static constexpr clock::time_point never = clock::time_point::max();
    static constexpr std::uint32_t busy_code = 0x010b0000;  // "previous command still processing"

    enum class write_tag : std::uint8_t { line, payload, probe, plus, raw };

    struct entry {
        command_id id;
        command cmd;
        command_result res{};
        int extensions = 0;       // busy deadline extensions, all attempts
        int resends = 0;          // busy re-sends done
        bool busy = false;        // busy seen in this attempt
        bool busy_pair = false;   // the last line was ERR CODE 0x010b0000: its "busy p..." is the same
        bool abandoned = false;   // cancelled after being written: drained silently
        bool line_out = false;    // the line was handed out: output can be its answer
        bool recv_seen = false;
        bool recv_mismatch = false;
        std::optional<std::uint32_t> attempt_err{};  // ERR CODE of this attempt
        std::optional<errc> status{};              // ALREADY CONNECTED, link is not valid, DNS Fail
        std::size_t kept_bytes = 0;                // of res, against max_response_bytes
        bool overflowed = false;                   // some of the response was dropped
    };

    // ---- writes: exactly one outstanding ----

    void write(write_tag tag, std::string bytes)
    {
        unsent_.emplace_back(tag, std::move(bytes));
        flush_writes();
    }

    void flush_writes()
    {
        if (write_busy_ || unsent_.empty()) return;
        writing_ = unsent_.front().first;
        if (writing_ == write_tag::line) current_->line_out = true;
        actions_.emplace_back(write_bytes{std::move(unsent_.front().second)});
        unsent_.erase(unsent_.begin());
        write_busy_ = true;
    }

    bool drop_unsent(write_tag tag)
    {
        auto it = std::find_if(unsent_.begin(), unsent_.end(), [&](const auto& w) { return w.first == tag; });
        if (it == unsent_.end()) return false;
        unsent_.erase(it);
        return true;
    }

    void sync_timer()
    {
        if (deadline_ == armed_) return;
        armed_ = deadline_;
        actions_.emplace_back(arm_timer{deadline_});
    }

    void emit_completion(command_id id, std::error_code ec, command_result res = {})
    {
        res.ec = ec;
        actions_.emplace_back(complete{id, std::move(res)});
    }

    // ---- the queue ----

    void start_next(clock::time_point now)
    {
        if (state_ != state::idle || current_ || queue_.empty()) return;
        current_ = std::move(queue_.front());
        queue_.erase(queue_.begin());  // a short queue; a vector keeps its capacity
        current_->res.lines = std::move(spare_lines_);
        spare_lines_ = {};
        begin_attempt(now);
    }

    void begin_attempt(clock::time_point now)
    {
        entry& c = *current_;
        c.busy = c.busy_pair = c.recv_seen = c.recv_mismatch = c.line_out = false;
        c.attempt_err.reset();
        c.status.reset();
        c.res.lines.clear();  // a re-send answers afresh
        c.res.frames.clear();
        c.overflowed = false;
        c.kept_bytes = 0;
        for (const auto& d : c.res.diagnostics) c.kept_bytes += d.size();
        if (c.cmd.escape) {
            state_ = state::leaving_guard;
            deadline_ = write_busy_ ? never : now + opt_.guard_before;
            return;
        }
        state_ = state::wait_result;
        deadline_ = now + c.cmd.timeout;
        if (c.cmd.recv_request != 0) parser_.expect_recv_data(c.cmd.recv_request);
        write(write_tag::line, c.cmd.line);
    }

    void become_idle(clock::time_point now)
    {
        state_ = state::idle;
        deadline_ = never;
        start_next(now);
    }

    void finish(std::error_code ec, std::optional<event_kind> final_result, clock::time_point now)
    {
        entry c = std::move(*current_);
        current_.reset();
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

    // ---- events ----

    void on_event(const event& e, clock::time_point now)
    {
        if (e.kind == event_kind::ready) return on_reset(now);
        if (e.kind == event_kind::noise) {
            ++stats_.noise;
            return;
        }
        // A line not yet handed out cannot have been answered.
        const bool commanded = (state_ == state::wait_result || state_ == state::wait_prompt || state_ == state::wait_send) &&
                               current_->line_out;
        // +CIPRECVDATA answers the command in flight; every other report goes to subscribers.
        if (is_report(e.kind) && !(e.kind == event_kind::recv_data && commanded)) {
            if (sink_) sink_(sink_context_, e);
            else actions_.emplace_back(report{owned_event(e)});
            return;
        }
        if (e.kind == event_kind::protocol_error) ++stats_.protocol_errors;
        if (commanded) return on_command_event(e, now);
        if (state_ == state::probing || state_ == state::quiet) return on_resync_event(e, now);
        if (e.kind == event_kind::send_ok || e.kind == event_kind::send_fail) {
            if (e.kind == event_kind::send_ok) late_send_ok_ = false;
            ++stats_.late_send_results;
            return;
        }
        ++stats_.stray_lines;
    }

    void on_command_event(const event& e, clock::time_point now)
    {
        entry& c = *current_;
        command_result& r = c.res;
        const bool paired = std::exchange(c.busy_pair, false);
        switch (e.kind) {
        case event_kind::echo: return;
        case event_kind::info:
            if (keep(c, e.name.size() + e.args.size())) r.lines.push_back(e.name, e.args);
            return;
        case event_kind::text:
            if (keep(c, e.text.size())) r.lines.push_back({}, e.text);
            return;
        case event_kind::recv_data:
            if (keep(c, e.payload.size())) r.frames.emplace_back(e.payload);
            return;
        case event_kind::protocol_error: {
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
        case event_kind::dns_fail: c.status = errc::dns_failed; break;
        case event_kind::recv_bytes:
            if (state_ == state::wait_send) {
                c.recv_seen = true;
                c.recv_mismatch = e.value != c.cmd.payload->size();
                late_send_ok_ = false;  // from here on a SEND OK is this send's
            }
            break;
        case event_kind::prompt: return on_prompt(now);
        default:
            if (is_final(e.kind)) return on_final(e.kind, now);
            break;
        }
        if (keep(c, e.text.size())) r.diagnostics.emplace_back(e.text);  // the status lines: UNLINK, no change, Recv, ...
    }

    // Whether `bytes` more of the response fit session_options::max_response_bytes; once one
    // does not, nothing more is kept (a later, smaller line would leave a hole unnoticed).
    // Every line, diagnostic or frame kept counts at least one byte: an empty +CIPRECVDATA
    // frame costs a string all the same, and the module may repeat it without end.
    bool keep(entry& c, std::size_t bytes) noexcept
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
    void on_busy()
    {
        entry& c = *current_;
        c.busy = true;
        if (c.extensions < c.cmd.busy_retries) {
            ++c.extensions;
            deadline_ += c.cmd.timeout;
        }
    }

    void on_prompt(clock::time_point now)
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
            state_ = state::passthrough;  // the queue waits for leave_passthrough()
            deadline_ = never;
            parser_.set_passthrough(true);
            if (done.abandoned) return leave_passthrough(now);
            done.res.final_result = event_kind::prompt;
            emit_completion(done.id, {}, std::move(done.res));
            return;
        }
        // Even for an abandoned send: the module now takes the next bytes as data.
        write(write_tag::payload, *c.cmd.payload);
        state_ = state::wait_send;
        deadline_ = now + c.cmd.timeout;
    }

    void on_final(event_kind k, clock::time_point now)
    {
        entry& c = *current_;
        if (k == event_kind::send_ok || k == event_kind::send_fail) {
            // A failed send may still be answered SEND OK later (NONOS): before this send's
            // Recv line, a SEND OK is that one's.
            if (state_ != state::wait_send || (k == event_kind::send_ok && late_send_ok_ && !c.recv_seen)) {
                if (k == event_kind::send_ok) late_send_ok_ = false;
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
            if (state_ != state::wait_result) {
                ++stats_.stray_lines;
                return;
            }
            return finish({}, k, now);
        }
        // ERROR / FAIL
        const bool busy_error = k == event_kind::error && c.busy && (!c.attempt_err || *c.attempt_err == busy_code);
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

    // After a timeout only the probe's OK matters; a busy means the probe was refused.
    void on_resync_event(const event& e, clock::time_point now)
    {
        if (state_ == state::quiet) return;  // late output; the quiet timer restarted
        if (e.kind == event_kind::busy || (e.kind == event_kind::err_code && e.value == busy_code)) {
            probe_refused_ = true;
        } else if (e.kind == event_kind::prompt && late_payload_) {
            // The timed-out send's prompt came after all: the module wants its bytes.
            write(write_tag::payload, std::move(*late_payload_));
            late_payload_.reset();
            probe_refused_ = true;
        } else if (is_final(e.kind)) {
            if (e.kind == event_kind::ok && !probe_refused_) {
                state_ = state::quiet;
                deadline_ = now + opt_.quiet;
            } else {
                reprobe(now);
            }
        }
    }

    void on_deadline(clock::time_point now)
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
            drop_unsent(write_tag::line);
            if (c.cmd.payload && state_ != state::wait_send) late_payload_ = std::move(c.cmd.payload);
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

    void reprobe(clock::time_point now)
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
        write(write_tag::probe, "AT\r\n");
    }

    // "ready": the module rebooted. Everything pending fails; nothing old is written to it.
    void on_reset(clock::time_point now)
    {
        ++stats_.resets;
        if (current_ && !current_->abandoned) emit_completion(current_->id, errc::device_reset);
        current_.reset();
        for (auto& q : queue_) emit_completion(q.id, errc::device_reset);
        queue_.clear();
        unsent_.clear();  // a write already handed out stays outstanding until on_write_done
        late_payload_.reset();
        late_send_ok_ = false;
        parser_.reset();  // at a line boundary: only the CIPRECVDATA request is forgotten
        actions_.emplace_back(module_reset{});
        become_idle(now);
    }

    session_options opt_;
    parser parser_;
    // Vectors, not deques: a deque of these large elements allocates a block every element
    // or two, a vector that is drained reuses its capacity.
    std::vector<action> actions_;
    std::size_t action_head_ = 0;  // next_action() reads from here
    std::vector<entry> queue_;
    std::optional<entry> current_;
    response_lines spare_lines_;  // see recycle()
    std::vector<std::pair<write_tag, std::string>> unsent_;  // rarely more than two
    std::optional<std::string> late_payload_;  // a timed-out send's data, should its prompt still come
    session_stats stats_;
    report_sink sink_ = nullptr;
    void* sink_context_ = nullptr;
    command_id next_id_ = 1;
    clock::time_point deadline_ = never;  // what the state wants
    clock::time_point armed_ = never;     // what the driver's timer is set to
    state state_ = state::idle;
    write_tag writing_ = write_tag::line;
    int probes_ = 0;
    bool write_busy_ = false;
    bool probe_refused_ = false;
    bool late_send_ok_ = false;  // a SEND FAIL was seen; its SEND OK may still come
};

}  // namespace espat::proto
