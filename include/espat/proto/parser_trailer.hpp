// espat/proto/parser_trailer.hpp — what follows a frame's payload, judged before the frame is
// handed out; and the frame held while its chunk ends before the verdict.
#pragma once

#include <espat/detail/chars.hpp>
#include <espat/proto/parser.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <functional>
#include <string_view>
#include <utility>

namespace espat::proto {

// ESP-AT's framing has no checksum, but a length-framed payload must be followed by
// something: CR LF after +CIPRECVDATA and an HTTP chunk (and after +IPD on ESP-AT 2.x), or,
// where the firmware prints nothing after +IPD (NONOS, ESP32 1.x) or may print nothing after
// +MQTTSUBRECV (the reference does not promise its CR LF), the start of a line it prints
// unprompted. A byte lost or doubled inside the payload shifts that by one, so a frame is
// handed out only once what follows it checks out; otherwise it is dropped with a
// frame_trailer protocol error for its link. The bytes judged are parsed as usual after.

// The payload is complete (frame_.payload, in the chunk or in frame_buf_); p is the byte
// after it.
template <class H>
inline const char* parser::end_of_frame(const char* p, const char* end, H& h)
{
    state_ = state::line;
    if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {  // the usual: CR LF follows
        h(static_cast<const event&>(frame_));
        return p;
    }
    released_ = false;
    look_len_ = 0;
    return on_trailer(p, end, h);
}

template <class H>
inline const char* parser::on_trailer(const char* p, const char* end, H& h)
{
    if (look_len_ == 0) {  // judged in place: the bytes stay in the chunk and are parsed from p
        const verdict v = judge(p, static_cast<std::size_t>(end - p));
        if (v != verdict::undecided) {
            state_ = state::line;
            settle(v, h);
            return p;
        }
        // The chunk ends before the verdict: keep the frame and those bytes (shorter than
        // the longest start judged) until the next chunk.
        hold_frame();
        look_len_ = static_cast<std::size_t>(end - p);
        std::memcpy(look_.data(), p, look_len_);
        state_ = state::trailer;
        return end;
    }
    while (p != end) {
        look_[look_len_++] = *p++;
        const verdict v = judge(look_.data(), look_len_);
        if (v == verdict::undecided) continue;
        // The gathered bytes were taken from the chunks: parse them now, as a chunk of their own.
        std::array<char, look_size> again;
        const std::size_t n = std::exchange(look_len_, 0);
        std::memcpy(again.data(), look_.data(), n);
        state_ = state::line;
        settle(v, h);
        feed(std::string_view(again.data(), n), h);
        return p;
    }
    return end;
}

template <class H>
inline void parser::settle(verdict v, H& h)
{
    const bool released = std::exchange(released_, false);
    if (v == verdict::accept) {
        if (!released) h(static_cast<const event&>(frame_));
        return;
    }
    protocol_error(protocol_error_reason::frame_trailer, h, frame_name(), frame_.link);
}

// A frame waits for the next chunk: its payload and remote address move out of this one.
inline void parser::hold_frame() noexcept
{
    if (frame_.payload.data() != frame_buf_.get()) {
        copy_small(frame_buf_.get(), frame_.payload.data(), frame_.payload.size());
        frame_.payload = std::string_view(frame_buf_.get(), frame_.payload.size());
    }
    // A header parsed from header_ keeps its address there; one parsed in place is copied.
    const auto* const host = frame_.remote_host.data();
    const bool in_header = !std::less<const char*>{}(host, header_.data()) &&
                           std::less<const char*>{}(host, header_.data() + header_.size());
    if (!frame_.remote_host.empty() && !in_header) {
        std::memcpy(header_.data(), host, frame_.remote_host.size());
        frame_.remote_host = std::string_view(header_.data(), frame_.remote_host.size());
    }
}

// Whether s (n >= 1 bytes after a payload) is what may follow it; undecided while s is
// a strict prefix of something that may.
inline parser::verdict parser::judge(const char* s, std::size_t n) const noexcept
{
    if (n == 0) return verdict::undecided;
    // +CIPRECVDATA (then its OK) and the chunks of an HTTP body: CR LF, always.
    if (frame_.kind == event_kind::recv_data || frame_.kind == event_kind::http_data) return starts(s, n, "\r\n");
    bool open = false;
    auto with = [&](std::string_view w) {
        const verdict v = starts(s, n, w);
        if (v == verdict::undecided) open = true;
        return v == verdict::accept;
    };
    switch (s[0]) {
    case '\r': if (with("\r\n")) return verdict::accept; break;
    case '+':
        for (std::string_view w : {"+IPD,", "+CIPRECVDATA", "+LINK_CONN:", "+STA_CONNECTED:", "+STA_DISCONNECTED:",
                                   "+DIST_STA_IP:", "+TIME_UPDATED", "+MQTTSUBRECV:", "+MQTTCONNECTED:",
                                   "+MQTTDISCONNECTED:", "+MQTTPUB:"})
            if (with(w)) return verdict::accept;
        break;
    case 'C':
        for (std::string_view w : {"CLOSED\r\n", "CONNECT\r\n", "CONNECT FAIL\r\n"})
            if (with(w)) return verdict::accept;
        break;
    case 'W':
        for (std::string_view w : {"WIFI CONNECTED\r\n", "WIFI GOT IP\r\n", "WIFI DISCONNECT\r\n"})
            if (with(w)) return verdict::accept;
        break;
    case 'r': if (with("ready\r\n")) return verdict::accept; break;
    case 'b': if (with("busy ")) return verdict::accept; break;
    case 'A':  // an echo of a command the host sent meanwhile
        if (n == 1 || (n == 2 && s[1] == 'T')) open = true;
        else if (s[1] == 'T' && (s[2] == '+' || s[2] == '&' || s[2] == '\r' || (s[2] >= 'A' && s[2] <= 'Z')))
            return verdict::accept;
        break;
    default:
        if (espat::detail::is_digit(s[0])) {  // <id>,CLOSED and friends
            if (n == 1) return verdict::undecided;
            for (std::string_view w : {",CLOSED\r\n", ",CONNECT\r\n", ",CONNECT FAIL\r\n"}) {
                const verdict v = starts(s + 1, n - 1, w);
                if (v == verdict::accept) return v;
                if (v == verdict::undecided) open = true;
            }
        }
        break;
    }
    // The rest of an echo that this frame was printed inside of.
    if (!echo_rest_.empty() && with(echo_rest_.substr(0, look_size - 1))) return verdict::accept;
    return open ? verdict::undecided : verdict::reject;
}

inline parser::verdict parser::starts(const char* s, std::size_t n, std::string_view w) noexcept
{
    const std::size_t k = std::min(n, w.size());
    if (std::memcmp(s, w.data(), k) != 0) return verdict::reject;
    return n >= w.size() ? verdict::accept : verdict::undecided;
}

}  // namespace espat::proto
