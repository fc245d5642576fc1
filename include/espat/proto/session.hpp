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
    // A send's link (for attribution: see protocol_error_reason::send_corrupted); -1 if none.
    int link = -1;
    // A send: the data length the module takes from a command line it echoed, for an echo
    // that is not the line written (a byte lost or doubled on the way); nullopt if that line
    // is no send. See session::set_echo().
    std::optional<std::size_t> (*data_length)(std::string_view echoed_line) = nullptr;
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
    // How long a +IPD frame whose payload ended a read waits for what follows it before it is
    // handed out unverified (firmware that prints nothing after a payload may go quiet).
    std::chrono::milliseconds frame_hold{20};
    // Passthrough: the module leaves it on a packet of exactly "+++" (a packet ends after 20 ms
    // of silence, or at 2048 bytes), so the line never goes quiet after application bytes that
    // end in three '+': the third and later are held back, and go with the data that follows
    // or, if none comes, after plus_gap of silence, at most two in a packet. The gap must reach
    // the module as silence: longer than 20 ms, and than what the UART still has to send of
    // the bytes before it. Turning the guard off is for tests.
    bool passthrough_guard = true;
    std::chrono::milliseconds plus_gap{60};
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
    std::size_t garbled_echoes = 0;      // a command line the module echoed otherwise than written
    std::size_t frames_released = 0;     // +IPD frames handed out unverified after frame_hold
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
        // A +IPD frame that ended the read waits for what follows it, boundedly (frame_hold).
        if (!parser_.frame_held()) hold_until_ = never;
        else if (hold_until_ == never) hold_until_ = now + opt_.frame_hold;
        sync_timer();
    }

    // Whether the module echoes command lines (ATE1). With echo, a command's answer is what
    // follows the echo of its line: whatever comes before belongs to an earlier exchange, and
    // an echo that is not the line written shows that the module did not get that line (a
    // byte lost or doubled on the way), so the command fails with errc::protocol_error instead
    // of being taken for what it was not. The session also follows ATE0 / ATE1 it runs, and
    // forgets on a reset (the client's start-up turns it on).
    void set_echo(bool on) noexcept { echo_ = on; }
    [[nodiscard]] bool echo() const noexcept { return echo_; }

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
        if (now >= hold_until_) {
            hold_until_ = never;
            if (parser_.frame_held()) ++stats_.frames_released;
            parser_.release_held_frame([&](const event& e) { on_event(e, now); });
        }
        if (now >= release_at_) release_plus(now);
        if (now >= deadline_) on_deadline(now);
        sync_timer();
    }

    // The write_bytes action last handed out has been written.
    void on_write_done(clock::time_point now)
    {
        write_busy_ = false;
        if (writing_ == write_tag::raw) {
            last_raw_done_ = now;
            // A write that left the line ending in "+++" (the guard off, or its release after
            // all): should the module take them for its escape, it answers the next bytes
            // written as commands, and those answers must not pass for the peer's bytes (see
            // on_event's raw_data): looked for until guard_after past the next write.
            if (plus_run_ >= 3 || (released_ && plus_run_ > 0)) watch_until_ = never;
            else if (watch_until_ == never) watch_until_ = now + opt_.guard_after;
            released_ = false;
        }
        if (held_plus_ > 0 && release_at_ == never) schedule_release(now);
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

    // Passthrough mode: bytes for the link, written as they are, except that they never leave
    // the line quiet after a lone "+++" (session_options::passthrough_guard).
    void write_raw(std::string bytes, clock::time_point now)
    {
        if (state_ != state::passthrough) return;
        if (!opt_.passthrough_guard) {
            std::size_t tail = 0;
            while (tail < bytes.size() && bytes[bytes.size() - 1 - tail] == '+') ++tail;
            plus_run_ = tail == bytes.size() ? plus_run_ + tail : tail;
            if (!bytes.empty()) write(write_tag::raw, std::move(bytes));
            return;
        }
        if (held_plus_ > 0) {
            bytes.insert(0, held_plus_, '+');
            held_plus_ = 0;
            release_at_ = never;
        }
        // The '+' at the end, and how many '+' the line would end in after it.
        std::size_t tail = 0;
        while (tail < bytes.size() && bytes[bytes.size() - 1 - tail] == '+') ++tail;
        const bool all_plus = tail == bytes.size();
        const std::size_t run = all_plus ? plus_run_ + tail : tail;
        if (run >= 3) {
            const std::size_t may = all_plus ? (plus_run_ < 2 ? 2 - plus_run_ : 0) : 2;  // '+' of the tail that may go
            held_plus_ = tail - std::min(tail, may);
            bytes.resize(bytes.size() - held_plus_);
        }
        plus_run_ = all_plus ? plus_run_ + bytes.size() : std::min<std::size_t>(tail, 2);
        if (!bytes.empty()) write(write_tag::raw, std::move(bytes));
        schedule_release(now);
        sync_timer();
    }

    // Leaves passthrough: silence, "+++", silence, then the queue continues. '+' bytes held by
    // the guard go first.
    void leave_passthrough(clock::time_point now)
    {
        if (state_ != state::passthrough) return;
        if (held_plus_ > 0) {
            leave_after_release_ = true;
            return;
        }
        state_ = state::leaving_guard;
        deadline_ = write_busy_ ? never : now + opt_.guard_before;
        sync_timer();
    }
    // '+' bytes of the application the passthrough guard holds back.
    [[nodiscard]] std::size_t held_plus() const noexcept { return held_plus_; }

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
    // The current state's deadline (the armed timer may be earlier: a held frame, held '+').
    [[nodiscard]] clock::time_point deadline() const noexcept { return deadline_; }
    [[nodiscard]] std::size_t queued() const noexcept { return queue_.size(); }
    [[nodiscard]] bool in_flight() const noexcept { return current_.has_value(); }
    [[nodiscard]] const session_stats& stats() const noexcept { return stats_; }

private:
    static constexpr clock::time_point never = clock::time_point::max();
    static constexpr std::uint32_t busy_code = 0x010b0000;  // "previous command still processing"

    enum class write_tag : std::uint8_t { line, payload, probe, plus, raw };

    // Where a command stands with the echo of its line (see set_echo()).
    enum class echo_state : std::uint8_t {
        none,      // no echo expected (echo off, or no line)
        awaiting,  // the line is out; everything before its echo is an earlier exchange's
        partial,   // the echo began and was cut by a frame (the rest follows as a line)
        verified,  // the echo was the line written
        garbled,   // the module got another line: the command fails whatever it answers
        leftover,  // the module got stray bytes and then the line: the same, and the send
                   // before left those bytes (see protocol_error_reason::send_corrupted)
    };

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
        echo_state echo = echo_state::none;
        std::size_t echo_have = 0;                 // partial: how much of the line was echoed
        std::optional<std::size_t> echoed_length{};  // garbled send: what the module takes as data
        bool damaged = false;                      // the answer broke: fails with protocol_error
        bool frame_seen = false;                   // AT+CIPRECVDATA: its one frame came
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

    bool drop_unsent(write_tag tag)
    {
        auto it = std::find_if(unsent_.begin(), unsent_.end(), [&](const auto& w) { return w.first == tag; });
        if (it == unsent_.end()) return false;
        unsent_.erase(it);
        return true;
    }

    // Held '+' go out after plus_gap of silence since the last raw write (and none pending).
    void schedule_release(clock::time_point now)
    {
        if (held_plus_ == 0 || state_ != state::passthrough) {
            release_at_ = never;
            return;
        }
        release_at_ = write_busy_ ? never : std::max(now, last_raw_done_ + opt_.plus_gap);
    }

    void release_plus(clock::time_point now)
    {
        release_at_ = never;
        if (held_plus_ == 0 || state_ != state::passthrough || write_busy_) return;
        // The silence before makes these a packet of their own: at most two '+' in it.
        const std::size_t n = std::min<std::size_t>(held_plus_, 2);
        held_plus_ -= n;
        plus_run_ = n;
        released_ = true;
        write(write_tag::raw, std::string(n, '+'));
        if (held_plus_ == 0 && leave_after_release_) {
            leave_after_release_ = false;
            leave_passthrough(now);
        }
    }

    void sync_timer()
    {
        const clock::time_point wanted = std::min({deadline_, hold_until_, release_at_});
        if (wanted == armed_) return;
        armed_ = wanted;
        actions_.emplace_back(arm_timer{wanted});
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
        expect_echo_rest({});
        start_next(now);
    }

    void finish(std::error_code ec, std::optional<event_kind> final_result, clock::time_point now)
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

    // ---- events ----

    void on_event(const event& e, clock::time_point now)
    {
        if (e.kind == event_kind::ready) return on_reset(now);
        if (e.kind == event_kind::raw_data && now < watch_until_ && module_answers(e.payload)) return on_passthrough_lost(now);
        // A line not yet handed out cannot have been answered; with echo, nothing before the
        // line's echo is its answer either.
        const bool commanded = (state_ == state::wait_result || state_ == state::wait_prompt || state_ == state::wait_send) &&
                               current_->line_out;
        const bool anchored = commanded && current_->echo != echo_state::awaiting && current_->echo != echo_state::partial;
        if (e.kind == event_kind::protocol_error) {
            ++stats_.protocol_errors;
            // A broken +CIPRECVDATA, or a line too long inside an answer, is the answer's;
            // anything else (a +IPD frame, what is left of one) is the links' business.
            const bool answer = e.name == "CIPRECVDATA" ||
                                e.value == static_cast<std::uint32_t>(protocol_error_reason::line_too_long);
            if (anchored && answer) return on_command_event(e, now);
            return to_sink(e);
        }
        // +CIPRECVDATA answers the command in flight; every other report goes to subscribers,
        // and so does a +CIPRECVDATA frame no command can own (an earlier exchange's: lost data).
        if (is_report(e.kind) && !(e.kind == event_kind::recv_data && anchored)) return to_sink(e);
        // Before the echo (noise too: stray bytes the module got come back in it, not printable).
        if (commanded && !anchored) return on_echo_wait(e, now);
        if (e.kind == event_kind::noise) {
            ++stats_.noise;
            return;
        }
        if (commanded) return on_command_event(e, now);
        if (state_ == state::probing || state_ == state::quiet) return on_resync_event(e, now);
        if (e.kind == event_kind::send_ok || e.kind == event_kind::send_fail) {
            if (e.kind == event_kind::send_ok) late_send_ok_ = false;
            ++stats_.late_send_results;
            return;
        }
        ++stats_.stray_lines;
    }

    // What a module prints in command mode, right after it took "+++" for its escape: its quit
    // message (AT+SYSMSG), or the answer to the next bytes (application data, now commands).
    static bool module_answers(std::string_view data) noexcept
    {
        const std::string_view head = data.substr(0, 512);
        return head.starts_with("+QUITT") || head.find("\r\n+QUITT\r\n") != std::string_view::npos ||
               head.find("\r\nERROR\r\n") != std::string_view::npos || head.starts_with("ERROR\r\n") ||
               head.find("\r\nOK\r\n") != std::string_view::npos || head.find("busy p...") != std::string_view::npos;
    }

    // The module left passthrough after the application's bytes: its output is not the peer's.
    // The stream fails (a passthrough_left protocol error for the network); the module is in
    // command mode (with AT+CIPMODE=1), and so is the session.
    void on_passthrough_lost(clock::time_point now)
    {
        watch_until_ = {};
        held_plus_ = 0;
        release_at_ = never;
        leave_after_release_ = false;
        parser_.set_passthrough(false);
        event lost;
        lost.kind = event_kind::protocol_error;
        lost.value = static_cast<std::uint32_t>(protocol_error_reason::passthrough_left);
        lost.text = to_string(protocol_error_reason::passthrough_left);
        ++stats_.protocol_errors;
        to_sink(lost);
        if (state_ == state::passthrough) become_idle(now);
    }

    void to_sink(const event& e)
    {
        if (sink_) sink_(sink_context_, e);
        else actions_.emplace_back(report{owned_event(e)});
    }

    // The command's line is out and its echo has not come (whole): an echo, or what the
    // module made of the line, decides; anything else is an earlier exchange's and dropped.
    void on_echo_wait(const event& e, clock::time_point now)
    {
        entry& c = *current_;
        std::string_view line = c.cmd.line;
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
        const std::string_view t = e.text;
        const bool echo_like = e.kind == event_kind::echo || e.kind == event_kind::text || e.kind == event_kind::noise;
        if (c.echo == echo_state::partial) {
            // The rest of an echo a frame cut short comes as a line of its own; anything else
            // means the echo ended where it did: a byte was lost from the line.
            const std::string_view rest = line.substr(c.echo_have);
            if (echo_like && t == rest) return echo_verified(c);
            if (echo_like && t.size() < rest.size() && rest.starts_with(t)) {
                c.echo_have += t.size();
                return expect_echo_rest(line.substr(c.echo_have));
            }
            if (echo_like) return echo_garbled(c, std::string(line.substr(0, c.echo_have)) + std::string(t));
            echo_garbled(c, std::string(line.substr(0, c.echo_have)));
            return on_command_event(e, now);
        }
        if (e.kind == event_kind::echo) {
            if (t == line) return echo_verified(c);
            if (!t.empty() && t.size() < line.size() && line.starts_with(t)) {
                c.echo = echo_state::partial;
                c.echo_have = t.size();
                return expect_echo_rest(line.substr(c.echo_have));
            }
        }
        if (echo_like && t.size() > line.size() && t.ends_with(line)) {
            // Stray bytes, then the line: the module answers the whole (with ERROR). They were
            // the end of the send before, one byte longer than it said: a doubled byte.
            ++stats_.garbled_echoes;
            c.echo = echo_state::leftover;
            c.damaged = true;
            if (last_send_link_ >= 0) {
                event lost;
                lost.kind = event_kind::protocol_error;
                lost.value = static_cast<std::uint32_t>(protocol_error_reason::send_corrupted);
                lost.text = to_string(protocol_error_reason::send_corrupted);
                lost.name = "CIPSEND";
                lost.link = static_cast<std::int8_t>(last_send_link_);
                last_send_link_ = -1;
                to_sink(lost);
            }
            return;
        }
        if (e.kind == event_kind::echo) return echo_garbled(c, std::string(t));
        // A busy line or an ERR CODE comes whether or not the echo did: it extends the deadline.
        if (e.kind == event_kind::busy || e.kind == event_kind::err_code) return on_command_event(e, now);
        if (e.kind == event_kind::prompt && (c.cmd.payload || c.cmd.passthrough)) {
            // The module wants data after a line whose echo was lost beyond recognition: it
            // took some send, of a length nobody can tell. It gets zeros, never the caller's
            // bytes (they would reach its command interpreter if it wanted fewer).
            ++stats_.garbled_echoes;
            c.echo = echo_state::garbled;
            c.damaged = !c.cmd.passthrough;
            return on_command_event(e, now);
        }
        ++stats_.stray_lines;
    }

    void echo_verified(entry& c)
    {
        c.echo = echo_state::verified;
        last_send_link_ = -1;  // bytes left over by a send would have come before this line
        expect_echo_rest({});
    }

    void echo_garbled(entry& c, std::string echoed)
    {
        ++stats_.garbled_echoes;
        expect_echo_rest({});
        c.echo = echo_state::garbled;
        c.damaged = true;
        if (c.cmd.data_length) c.echoed_length = c.cmd.data_length(echoed);
        // The same send after all (a doubled link id "00", say): nothing is wrong with it.
        if (c.echoed_length && c.cmd.payload && *c.echoed_length == c.cmd.payload->size()) {
            c.echo = echo_state::verified;
            c.damaged = false;
        }
    }

    // The parser may take the rest of a cut echo for what follows a +IPD payload.
    void expect_echo_rest(std::string_view rest)
    {
        echo_rest_.assign(rest);
        parser_.expect_echo_rest(echo_rest_);
    }

    void on_command_event(const event& e, clock::time_point now)
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
    static std::string data_to_send(const entry& c)
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
        // With echo the probe is ATE1: its echo anchors its OK, and it turns echo back on for
        // a module that lost it (a reset whose "ready" was lost on the wire).
        write(write_tag::probe, echo_ ? "ATE1\r\n" : "AT\r\n");
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
        echo_ = false;  // until the start-up's ATE1
        last_send_link_ = -1;
        hold_until_ = never;
        parser_.reset();  // at a line boundary: only the CIPRECVDATA request is forgotten
        expect_echo_rest({});
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
    clock::time_point hold_until_ = never;  // a held +IPD frame is released then (frame_hold)
    clock::time_point release_at_ = never;  // held '+' go out then (passthrough_guard)
    clock::time_point last_raw_done_{};     // the last passthrough write completed then
    clock::time_point watch_until_{};       // until then the module's answers are looked for
    std::size_t plus_run_ = 0;              // '+' the line ends in since a forced silence
    std::size_t held_plus_ = 0;             // '+' of the application held back
    clock::time_point armed_ = never;     // what the driver's timer is set to
    std::string echo_rest_;               // the rest of a cut echo (the parser holds a view)
    int last_send_link_ = -1;             // the link of the last send's data, until a line echoes clean
    state state_ = state::idle;
    write_tag writing_ = write_tag::line;
    int probes_ = 0;
    bool write_busy_ = false;
    bool probe_refused_ = false;
    bool probe_echoed_ = true;   // the probe's echo came (or none is expected)
    bool released_ = false;      // the raw write in flight is held '+' let go
    bool leave_after_release_ = false;
    bool echo_ = false;          // see set_echo()
    bool late_send_ok_ = false;  // a SEND FAIL was seen; its SEND OK may still come
};

}  // namespace espat::proto
