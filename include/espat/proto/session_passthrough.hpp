// espat/proto/session_passthrough.hpp — the session in passthrough mode: the guard that never
// leaves the line quiet after a lone "+++", leaving it, and noticing that the module left it.
#pragma once

#include <espat/proto/session.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace espat::proto {

// What write_raw and leave_passthrough do is said at their declarations (session.hpp).
inline void session::write_raw(std::string bytes, clock::time_point now)
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

inline void session::leave_passthrough(clock::time_point now)
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

// Held '+' go out after plus_gap of silence since the last raw write (and none pending).
inline void session::schedule_release(clock::time_point now)
{
    if (held_plus_ == 0 || state_ != state::passthrough) {
        release_at_ = never;
        return;
    }
    release_at_ = write_busy_ ? never : std::max(now, last_raw_done_ + opt_.plus_gap);
}

inline void session::release_plus(clock::time_point now)
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

// What a module prints in command mode, right after it took "+++" for its escape: its quit
// message (AT+SYSMSG), or the answer to the next bytes (application data, now commands).
inline bool session::module_answers(std::string_view data) noexcept
{
    const std::string_view head = data.substr(0, 512);
    return head.starts_with("+QUITT") || head.find("\r\n+QUITT\r\n") != std::string_view::npos ||
           head.find("\r\nERROR\r\n") != std::string_view::npos || head.starts_with("ERROR\r\n") ||
           head.find("\r\nOK\r\n") != std::string_view::npos || head.find("busy p...") != std::string_view::npos;
}

// The module left passthrough after the application's bytes: its output is not the peer's.
// The stream fails (a passthrough_left protocol error for the network); the module is in
// command mode (with AT+CIPMODE=1), and so is the session.
inline void session::on_passthrough_lost(clock::time_point now)
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

}  // namespace espat::proto
