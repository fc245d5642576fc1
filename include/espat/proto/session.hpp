// espat/proto/session.hpp — the conversation with an ESP-AT module as a sans-I/O state machine:
// commands and bytes in, actions out (write, arm a timer, complete, report). Time is given, never read.
#pragma once

#include <espat/error.hpp>
#include <espat/proto/event.hpp>
#include <espat/proto/parser.hpp>
#include <espat/proto/response_lines.hpp>
#include <espat/proto/session_types.hpp>

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

    // Nothing is written before `until`: what the module printed before the session's first
    // command (boot text, "ready", stray bytes waiting in the port) is read first, and taken
    // for no command's answer. A "ready" meanwhile is reported, and fails nothing: nothing
    // was said to the boot it ended. Commands' deadlines start from `until`.
    void hold_writes_until(clock::time_point until)
    {
        write_hold_until_ = until;
        sync_timer();
    }

    // The timer last armed has fired.
    void on_timer(clock::time_point now)
    {
        if (armed_ == never || now < armed_) return;  // a stale timer
        armed_ = never;
        if (now >= write_hold_until_) {
            write_hold_until_ = never;
            // A line the module left unfinished would swallow the start of the first answer.
            if (!parser_.idle()) {
                ++stats_.noise;
                parser_.reset();
            }
            flush_writes();
        }
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
    void write_raw(std::string bytes, clock::time_point now);

    // Leaves passthrough: silence, "+++", silence, then the queue continues. '+' bytes held by
    // the guard go first.
    void leave_passthrough(clock::time_point now);
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

    // The queue, its writes, timeouts and resynchronisation (session_queue.hpp).
    void write(write_tag tag, std::string bytes);
    void flush_writes();
    bool drop_unsent(write_tag tag);
    void sync_timer();
    void emit_completion(command_id id, std::error_code ec, command_result res = {});
    void start_next(clock::time_point now);
    void begin_attempt(clock::time_point now);
    void become_idle(clock::time_point now);
    void finish(std::error_code ec, std::optional<event_kind> final_result, clock::time_point now);
    void on_resync_event(const event& e, clock::time_point now);
    void on_deadline(clock::time_point now);
    void reprobe(clock::time_point now);
    void on_reset(clock::time_point now);

    // What the module says, routed: reports, the answer to the command in flight (session_events.hpp).
    void on_event(const event& e, clock::time_point now);
    void to_sink(const event& e);
    void on_command_event(const event& e, clock::time_point now);
    bool keep(entry& c, std::size_t bytes) noexcept;
    static bool recv_count_fits(const command& cmd, std::size_t n);
    void on_busy();
    void on_prompt(clock::time_point now);
    static std::string data_to_send(const entry& c);
    void on_final(event_kind k, clock::time_point now);

    // The echo of a command's line (session_echo.hpp).
    void on_echo_wait(const event& e, clock::time_point now);
    void echo_verified(entry& c);
    void echo_garbled(entry& c, std::string echoed);
    void expect_echo_rest(std::string_view rest);

    // The passthrough guard, and a module that left passthrough (session_passthrough.hpp).
    void schedule_release(clock::time_point now);
    void release_plus(clock::time_point now);
    static bool module_answers(std::string_view data) noexcept;
    void on_passthrough_lost(clock::time_point now);

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
    clock::time_point write_hold_until_ = never;  // see hold_writes_until()
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
    bool late_send_ok_ = false;    // a SEND FAIL was seen, or a send ended at CLOSED: its SEND OK may still come
    bool late_send_fail_ = false;  // a send ended at its link's CLOSED: its SEND FAIL may still come
};

}  // namespace espat::proto

// The member functions the class above declares, by concept.
#include <espat/proto/session_queue.hpp>
#include <espat/proto/session_events.hpp>
#include <espat/proto/session_echo.hpp>
#include <espat/proto/session_passthrough.hpp>
