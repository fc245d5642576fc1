// espat/proto/parser_lines.hpp — the parser's lines: taken in place or gathered across chunks,
// classified, and an echo that a report interrupted held for its rest.
#pragma once

#include <espat/proto/line_classifier.hpp>
#include <espat/proto/parser.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>

namespace espat::proto {

// At a line start, takes line after line from the chunk while the parser stays in the
// line state; the first one that the chunk cuts is gathered in line_buf_.
// Held: whether an echo may be held for its rest (state::held_echo); the checks that release
// it stay out of the common loop.
template <bool Held, class H>
inline const char* parser::on_line(const char* p, const char* end, H& h)
{
    if (line_len_ != 0) {
        // A byte-at-a-time reader: a byte that neither ends the line, nor overflows it,
        // nor may complete a frame prefix is only appended.
        if (end - p == 1 && *p != '\n' && line_len_ < limits_.max_line &&
            (line_len_ >= frame_prefix_len || (line_buf_[0] != '+' && line_buf_[0] != '\r'))) {
            line_buf_[line_len_++] = *p;
            return end;
        }
        return on_partial_line(p, end, h);
    }
    for (;;) {
        // Empty lines (around +IPD, before OK, ERROR, SEND OK...): nothing to classify.
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            do p += 2;
            while (end - p >= 2 && p[0] == '\r' && p[1] == '\n');
            if constexpr (Held)
                if (echo_pending_) release_echo(h);
        }
        if (p == end) return p;
        const char c = *p;
        // Lines start with a letter mostly: one compare sends them straight on. Below
        // '?' are '+', '>' and the digits of "<id>,CONNECT" (and bytes >= 0x80 where char
        // is signed, which pass through harmlessly).
        if (c < '?') {
            // A prompt or a frame ends an echo that a report interrupted.
            if constexpr (Held)
                if (echo_pending_ && (c == '+' || c == '>')) release_echo(h);
            if (c == '+') {
                if (end - p >= static_cast<std::ptrdiff_t>(frame_prefix_len)) {
                    // All of a frame prefix is here: decide with word compares.
                    using detail_classify::same;
                    if (same<5>(p, "+IPD,")) {
                        p = ipd_in_place(p + 5, end, h);
                        if (state_ != state::line) return p;
                        continue;
                    }
                    if (same<12>(p, "+CIPRECVDATA") && (p[12] == ':' || p[12] == ',')) {
                        begin_frame(p[12] == ':' ? prefix::recv_colon : prefix::recv_comma);
                        return p + frame_prefix_len;
                    }
                    if (p[1] == 'M' || p[1] == 'H') {  // +MQTTSUBRECV:, +HTTPCLIENT: and its kin
                        if (const prefix m = match_frame_prefix(p, frame_prefix_len); begin_frame(m))
                            return p + prefix_length(m);
                    }
                } else {
                    const std::size_t n = static_cast<std::size_t>(end - p);
                    const prefix m = match_frame_prefix(p, n);
                    if (m == prefix::ipd) return ipd_in_place(p + 5, end, h);
                    if (m == prefix::partial) {  // the chunk ends inside a possible prefix
                        std::memcpy(line_buf_.get(), p, n);
                        line_len_ = n;
                        return end;
                    }
                    if (begin_frame(m)) return p + prefix_length(m);  // a prefix shorter than 13 bytes
                }
            }
            if (c == '>') {
                event e;
                e.kind = event_kind::prompt;
                e.text = std::string_view(p, 1);
                state_ = state::after_prompt;
                h(static_cast<const event&>(e));
                return p + 1;
            }
            // A lone CR at a line start (the LF of the line end before it was lost on the
            // wire) starts nothing: skip it, so a frame header behind it is still one.
            if (c == '\r' && end - p >= 2) {
                ++p;
                continue;
            }
        }
        const char* q = find_nl(p, end);
        if (q == nullptr) return append_partial(p, end, h);
        if (static_cast<std::size_t>(q - p) > limits_.max_line)
            protocol_error(protocol_error_reason::line_too_long, h);
        else
            finish_line(std::string_view(p, static_cast<std::size_t>(q - p)), h);
        p = q + 1;
        // The handler may have switched to passthrough mode.
        if (state_ != state::line) return p;
    }
}

// The rest of a line that an earlier chunk began.
template <class H>
inline const char* parser::on_partial_line(const char* p, const char* end, H& h)
{
    if (line_len_ == 1 && line_buf_[0] == '\r' && *p != '\n') {  // a lone CR (see on_line)
        line_len_ = 0;
        if (echo_pending_) state_ = state::held_echo;  // still at the start of the line after the report
        return p;
    }
    if (line_buf_[0] == '+' && line_len_ < frame_prefix_len) {
        // A gathered "+..." may still become a frame header: decide byte by byte.
        while (p != end) {
            const char c = *p++;
            if (c == '\n') return finish_partial(h), p;
            line_buf_[line_len_++] = c;
            const prefix m = match_frame_prefix(line_buf_.get(), line_len_);
            if (m == prefix::partial) continue;
            if (m != prefix::none) {
                if (echo_pending_) release_echo(h);
                line_len_ = 0;
                begin_frame(m);
                return p;
            }
            break;
        }
    }
    const char* q = find_nl(p, end);
    if (q == nullptr) return append_partial(p, end, h);
    const std::size_t seg = static_cast<std::size_t>(q - p);
    if (line_len_ + seg > limits_.max_line) {
        line_len_ = 0;
        protocol_error(protocol_error_reason::line_too_long, h);
        return q + 1;
    }
    copy_small(line_buf_.get() + line_len_, p, seg);
    line_len_ += seg;
    finish_partial(h);
    return q + 1;
}

template <class H>
inline const char* parser::append_partial(const char* p, const char* end, H& h)
{
    const std::size_t seg = static_cast<std::size_t>(end - p);
    if (line_len_ + seg > limits_.max_line) {
        line_len_ = 0;
        state_ = state::discard;
        discard_reported_ = true;  // nothing searched: see on_discard
        protocol_error(protocol_error_reason::line_too_long, h);
        return end;
    }
    copy_small(line_buf_.get() + line_len_, p, seg);
    line_len_ += seg;
    return end;
}

template <class H>
inline void parser::finish_partial(H& h)
{
    const std::size_t n = line_len_;
    line_len_ = 0;
    finish_line(std::string_view(line_buf_.get(), n), h);
}

template <class H>
inline void parser::finish_line(std::string_view line, H& h)
{
    // "\r\n", and very old NONOS "\r\r\n"; the usual single '\r' without a loop.
    std::size_t n = line.size();
    if (n >= 2 && line[n - 1] == '\r' && line[n - 2] != '\r')
        --n;
    else
        while (n != 0 && line[n - 1] == '\r') --n;
    if (n == 0) {
        // The echo's own line end right after the report: nothing more of it is coming.
        if (echo_pending_) [[unlikely]]
            release_echo(h);
        return;
    }
    event& e = line_event_;
    detail_classify::classify_into(line.data(), n, e);
    line = std::string_view(line.data(), n);
    // Echo, text and noise take a second look (one test for the three). A line's kind may be
    // any kind up to the MQTT reports, past 31: the mask is 64 bits wide.
    static_assert(event_kind_count <= 64);
    constexpr std::uint64_t special = std::uint64_t{1} << static_cast<int>(event_kind::echo) |
                                      std::uint64_t{1} << static_cast<int>(event_kind::text) |
                                      std::uint64_t{1} << static_cast<int>(event_kind::noise);
    if (echo_pending_ || (special >> static_cast<int>(e.kind) & 1u) != 0) [[unlikely]]
        return finish_special_line(line, h);
    h(static_cast<const event&>(e));
}

// The rare lines: an echo, the rest of an echo a report interrupted, and noise that may
// run into "ready". line_event_ holds the line's event.
template <class H>
inline void parser::finish_special_line(std::string_view line, H& h)
{
    event& e = line_event_;
    if (echo_pending_) {
        echo_pending_ = false;
        if (e.kind == event_kind::text && echo_len_ + line.size() <= std::min(echo_.size(), limits_.max_line)) {
            // The rest of an echo that a report interrupted.
            std::memcpy(echo_.data() + echo_len_, line.data(), line.size());
            echo_len_ += line.size();
            emit_echo(h);
            return;
        }
        emit_echo(h);
    }
    if (e.kind == event_kind::echo) {
        const std::size_t at = injected_report_offset(line);
        if (at != std::string_view::npos && at <= echo_.size()) {
            std::memcpy(echo_.data(), line.data(), at);
            echo_len_ = at;
            echo_pending_ = true;
            state_ = state::held_echo;
            const event report = classify_line(line.substr(at));
            h(report);
            return;
        }
    } else if (e.kind == event_kind::noise && line.size() > 5 && line.ends_with("ready")) {
        // Boot garbage runs straight into "ready" when the ROM text has no line end.
        detail_classify::classify_into(line.data(), line.size() - 5, e);
        h(static_cast<const event&>(e));
        detail_classify::classify_into(line.data() + line.size() - 5, 5, e);
    } else if ((e.kind == event_kind::noise || e.kind == event_kind::text) && holds_frame_remnant(line)) {
        return protocol_error(protocol_error_reason::damaged_frame, h);
    }
    h(static_cast<const event&>(e));
}

template <class H>
inline void parser::release_echo(H& h)
{
    echo_pending_ = false;
    emit_echo(h);
}

template <class H>
inline void parser::emit_echo(H& h)
{
    event e;
    e.kind = event_kind::echo;
    e.text = std::string_view(echo_.data(), echo_len_);
    h(static_cast<const event&>(e));
}

}  // namespace espat::proto
