// espat/proto/parser.hpp — the incremental, sans-I/O parser of what an ESP-AT module sends.
// Feed it byte chunks split anywhere; it calls your handler once per event, in order.
#pragma once

#include <espat/detail/chars.hpp>
#include <espat/proto/event.hpp>
#include <espat/proto/line_classifier.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

namespace espat::proto {

// Whether +CIPRECVDATA carries the remote address (AT+CIPDINFO=1). The parser cannot always
// tell from the bytes ("+CIPRECVDATA:5,"ab",1,..." could be data), so the session, which
// knows the CIPDINFO setting, says; `detect` takes a leading '"' as the start of an address.
enum class remote_info : std::uint8_t { detect, absent, present };

// Bounds on what the parser keeps; input beyond them is a protocol_error event, never growth.
struct parser_limits {
    std::size_t max_line = 1024;          // longest line, counting its '\r' but not its '\n'
    std::size_t max_ipd_payload = 2920;   // active +IPD: two TCP segments is the most a module sends
    std::size_t max_recv_payload = 8192;  // +CIPRECVDATA when no smaller request was announced
};

class parser {
public:
    // A line limit below the longest frame prefix would make a split feed drop a header that a
    // whole feed accepts, so max_line is raised to it.
    explicit parser(parser_limits limits = {})
        : limits_(with_floor(limits)),
          line_buf_(std::make_unique<char[]>(limits_.max_line)),
          frame_buf_(std::make_unique<char[]>(std::max(limits.max_ipd_payload, limits.max_recv_payload)))
    {
    }

    // Parses `bytes`, calling on_event(const event&) for each complete event. Views in an
    // event are valid only during that call. Payloads whose bytes all lie in `bytes` are
    // handed out in place; a frame split across calls is gathered first.
    template <class Handler>
    void feed(std::string_view bytes, Handler&& on_event)
    {
        static_assert(std::is_invocable_v<Handler&, const event&>, "handler must accept const event&");
        const char* p = bytes.data();
        const char* const end = p + bytes.size();
        while (p != end) {
            switch (state_) {
            case state::line: p = on_line<false>(p, end, on_event); break;
            case state::held_echo:  // the line after a report split an echo: may end the echo
                state_ = state::line;
                p = on_line<true>(p, end, on_event);
                break;
            case state::after_prompt:
                // NONOS prints "> " where 2.x prints ">": the space is part of the prompt.
                if (*p == ' ') ++p;
                state_ = state::line;
                break;
            case state::ipd_header: p = on_ipd_header(p, end, on_event); break;
            case state::recv_header: p = on_recv_header(p, end, on_event); break;
            case state::payload: p = on_payload(p, end, on_event); break;
            case state::trailer: p = on_trailer(p, end, on_event); break;
            case state::discard: p = on_discard(p, end, on_event); break;
            case state::passthrough: {
                event e;
                e.kind = event_kind::raw_data;
                e.payload = std::string_view(p, static_cast<std::size_t>(end - p));
                on_event(static_cast<const event&>(e));
                return;
            }
            }
        }
    }

    template <class Handler>
    void feed(const void* data, std::size_t size, Handler&& on_event)
    {
        feed(std::string_view(static_cast<const char*>(data), size), std::forward<Handler>(on_event));
    }

    // Forgets any partial line or frame, as after a module reset.
    void reset() noexcept
    {
        state_ = state::line;
        line_len_ = 0;
        header_len_ = 0;
        echo_len_ = 0;
        echo_pending_ = false;
        recv_request_ = 0;
        look_len_ = 0;
        released_ = false;
        discard_window_ = 0;
        discard_seen_ = 0;
        discard_reported_ = false;
    }

    // In passthrough (transparent) mode every byte is data: raw_data events until turned off.
    void set_passthrough(bool on) noexcept
    {
        reset();
        state_ = on ? state::passthrough : state::line;
    }
    [[nodiscard]] bool passthrough() const noexcept { return state_ == state::passthrough; }

    void set_recv_data_remote(remote_info mode) noexcept { recv_remote_ = mode; }
    [[nodiscard]] remote_info recv_data_remote() const noexcept { return recv_remote_; }

    // The next +CIPRECVDATA answers a request for at most `requested` bytes: more is a
    // protocol error. The request is forgotten once that frame starts.
    void expect_recv_data(std::size_t requested) noexcept { recv_request_ = requested; }

    // The rest of an echo the session saw begin (a frame printed while the module echoed a
    // command ends the echo's line early): what follows a +IPD payload may be it. A view into
    // the session's command line, kept until it is cleared with an empty view.
    void expect_echo_rest(std::string_view rest) noexcept { echo_rest_ = rest; }

    // A +IPD frame whose payload is complete but whose chunk ended before what follows it: it
    // is handed out once the next bytes show where it ends (CR LF, or the start of a line).
    [[nodiscard]] bool frame_held() const noexcept
    {
        return state_ == state::trailer && !released_ && frame_.kind == event_kind::ipd;
    }

    // A frame (+IPD or +CIPRECVDATA) whose payload is complete waits for what follows it.
    [[nodiscard]] bool awaiting_trailer() const noexcept { return state_ == state::trailer && !released_; }

    // Firmware that prints nothing after a +IPD payload (NONOS, ESP32 1.x) may fall silent
    // after it: the session calls this once the line has been quiet for a while, and the held
    // frame is handed out unverified. The bytes that come next are still judged: if they
    // show that its length was wrong, a frame_trailer protocol error for its link follows.
    template <class Handler>
    void release_held_frame(Handler&& on_event)
    {
        if (!frame_held()) return;
        released_ = true;
        on_event(static_cast<const event&>(frame_));
    }

    // True when no partial line, header or payload is pending, and no echo is held back
    // waiting for the rest a report interrupted.
    [[nodiscard]] bool idle() const noexcept
    {
        return !echo_pending_ && ((state_ == state::line && line_len_ == 0) || state_ == state::after_prompt ||
                                  state_ == state::passthrough);
    }

    // At the end of the input (a capture's last byte, a port closing): hands out an echo held
    // back for its rest, which is not coming. A partial line or frame stays pending (idle()
    // says so): its bytes were not a complete event.
    template <class Handler>
    void flush(Handler&& on_event)
    {
        release_held_frame(on_event);  // the end of the input: nothing more will follow it
        if (!echo_pending_) return;
        if (state_ == state::held_echo) state_ = state::line;
        release_echo(on_event);
    }

    [[nodiscard]] const parser_limits& limits() const noexcept { return limits_; }

private:
    // held_echo: at a line start, with an echo a report interrupted held for its rest.
    // trailer: a frame's payload is complete; what follows it is judged before it is handed out.
    enum class state : std::uint8_t { line, held_echo, after_prompt, ipd_header, recv_header, payload, trailer, discard, passthrough };
    enum class verdict : std::uint8_t { accept, reject, undecided };
    enum class prefix : std::uint8_t { none, partial, ipd, recv_colon, recv_comma };
    enum class recv_phase : std::uint8_t { length, nonos_length, remote_or_data, remote_host, remote_port };

    static constexpr std::size_t frame_prefix_len = 13;  // "+CIPRECVDATA:"
    static constexpr std::size_t max_header = 96;        // "+IPD," fields with a quoted IPv6 address fit

    static parser_limits with_floor(parser_limits l) noexcept
    {
        l.max_line = std::max(l.max_line, frame_prefix_len);
        return l;
    }

    // Bit 7 of each byte of the word at p that is '\n'. Exact for the lowest one, which is
    // all callers use (borrows only run upwards).
    static std::uint64_t nl_bits(const char* p) noexcept
    {
        constexpr std::uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        w ^= ones * '\n';
        return (w - ones) & ~w & highs;
    }

    // The first '\n' in [p, end), or nullptr. Lines from the module are short: a word at a
    // time over the first 32 bytes beats a call to memchr; longer spans go to memchr. The
    // first 16 bytes, where most lines end, take one test.
    static const char* find_nl(const char* p, const char* end) noexcept
    {
        if constexpr (std::endian::native == std::endian::little) {
            if (end - p >= 16) {
                const std::uint64_t m0 = nl_bits(p), m1 = nl_bits(p + 8);
                if ((m0 | m1) != 0) return p + (m0 != 0 ? std::countr_zero(m0) >> 3 : 8 + (std::countr_zero(m1) >> 3));
                p += 16;
            }
            for (int i = 0; i < 2 && end - p >= 8; ++i, p += 8)
                if (const std::uint64_t m = nl_bits(p); m != 0) return p + (std::countr_zero(m) >> 3);
            if (end - p < 8) {
                for (; p != end; ++p)
                    if (*p == '\n') return p;
                return nullptr;
            }
        }
        return static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    }

    // memcpy, without a library call for the one byte a byte-at-a-time reader hands over.
    static void copy_small(char* to, const char* from, std::size_t n) noexcept
    {
        if (n == 1) *to = *from;
        else if (n != 0) std::memcpy(to, from, n);
    }

    // s[0..n) == lit[0..n), inline: n is small and varies, where memcmp would be a call.
    static bool same(const char* s, const char* lit, std::size_t n) noexcept
    {
        for (std::size_t i = 0; i < n; ++i)
            if (s[i] != lit[i]) return false;
        return true;
    }

    // Whether a line start is, or could still become, a frame header.
    static prefix match_frame_prefix(const char* s, std::size_t n) noexcept
    {
        if (n < 2) return prefix::partial;
        if (s[1] == 'I') {
            if (!same(s, "+IPD,", std::min<std::size_t>(n, 5))) return prefix::none;
            return n >= 5 ? prefix::ipd : prefix::partial;
        }
        if (s[1] == 'C') {
            if (!same(s, "+CIPRECVDATA", std::min<std::size_t>(n, 12))) return prefix::none;
            if (n < frame_prefix_len) return prefix::partial;
            if (s[12] == ':') return prefix::recv_colon;
            if (s[12] == ',') return prefix::recv_comma;
        }
        return prefix::none;
    }

    // Enters the header state a matched prefix announces; false for none / partial.
    bool begin_frame(prefix m) noexcept
    {
        header_len_ = 0;
        switch (m) {
        case prefix::ipd:
            in_quotes_ = false;
            state_ = state::ipd_header;
            return true;
        case prefix::recv_colon:
        case prefix::recv_comma:
            phase_ = m == prefix::recv_colon ? recv_phase::length : recv_phase::nonos_length;
            state_ = state::recv_header;
            return true;
        default: return false;
        }
    }

    // At a line start, takes line after line from the chunk while the parser stays in the
    // line state; the first one that the chunk cuts is gathered in line_buf_.
    // Held: whether an echo may be held for its rest (state::held_echo); the checks that release
    // it stay out of the common loop.
    template <bool Held, class H>
    const char* on_line(const char* p, const char* end, H& h)
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
                    } else {
                        const std::size_t n = static_cast<std::size_t>(end - p);
                        const prefix m = match_frame_prefix(p, n);
                        if (m == prefix::ipd) return ipd_in_place(p + 5, end, h);
                        if (m == prefix::partial) {  // the chunk ends inside a possible prefix
                            std::memcpy(line_buf_.get(), p, n);
                            line_len_ = n;
                            return end;
                        }
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
    const char* on_partial_line(const char* p, const char* end, H& h)
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
    const char* append_partial(const char* p, const char* end, H& h)
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
    void finish_partial(H& h)
    {
        const std::size_t n = line_len_;
        line_len_ = 0;
        finish_line(std::string_view(line_buf_.get(), n), h);
    }

    template <class H>
    void finish_line(std::string_view line, H& h)
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
        // Echo, text and noise take a second look (one test for the three).
        constexpr std::uint32_t special = 1u << static_cast<int>(event_kind::echo) | 1u << static_cast<int>(event_kind::text) |
                                          1u << static_cast<int>(event_kind::noise);
        if (echo_pending_ || (special >> static_cast<int>(e.kind) & 1u) != 0) [[unlikely]]
            return finish_special_line(line, h);
        h(static_cast<const event&>(e));
    }

    // Whether bytes hold what a lost or doubled byte leaves of "+IPD,": every such variant
    // ("IPD,", "+PD,", "+ID,", "+IP,", "+IPD<digit>", "++IPD,", "+IPPD,", ...) holds one of
    // these. "CIPD" (AT+CIPDINFO) is not one. Only lines that are nothing else are asked.
    static bool holds_frame_remnant(std::string_view s) noexcept
    {
        for (std::size_t i = s.find("IPD"); i != std::string_view::npos; i = s.find("IPD", i + 1))
            if (i == 0 || s[i - 1] != 'C') return true;
        return s.find("+IP") != std::string_view::npos || s.find("+PD,") != std::string_view::npos ||
               s.find("+ID,") != std::string_view::npos;
    }

    // The rare lines: an echo, the rest of an echo a report interrupted, and noise that may
    // run into "ready". line_event_ holds the line's event.
    template <class H>
    void finish_special_line(std::string_view line, H& h)
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
    void release_echo(H& h)
    {
        echo_pending_ = false;
        emit_echo(h);
    }

    template <class H>
    void emit_echo(H& h)
    {
        event e;
        e.kind = event_kind::echo;
        e.text = std::string_view(echo_.data(), echo_len_);
        h(static_cast<const event&>(e));
    }

    // `frame`: the prefix name ("IPD", "CIPRECVDATA") when the error concerns a frame; `link`
    // its link id where the header gave one, so the session and the links know whose it is.
    template <class H>
    void protocol_error(protocol_error_reason why, H& h, std::string_view frame = {}, int link = -1)
    {
        // Whatever was dropped, it was not the rest of a held echo: the echo ends here, at the
        // same point however the input was split.
        if (echo_pending_) [[unlikely]]
            release_echo(h);
        event e;
        e.kind = event_kind::protocol_error;
        e.value = static_cast<std::uint32_t>(why);
        e.text = to_string(why);
        e.name = frame;
        e.link = static_cast<std::int8_t>(link);
        h(static_cast<const event&>(e));
    }

    // A bad header: report it and resynchronise at the next line (which may be this one's end).
    template <class H>
    void bad_header(protocol_error_reason why, bool at_line_end, H& h, std::string_view frame, int link = -1)
    {
        state_ = at_line_end ? state::line : state::discard;
        discard_window_ = 0;
        discard_seen_ = 0;
        discard_reported_ = false;
        protocol_error(why, h, frame, link);
    }

    // The link id a +IPD header begins with ("<id>,..."), if it does: a header broken further
    // on is still that link's. -1 when it cannot say, or when the bytes taken for the header
    // hold the start of another frame (NONOS prints frames back to back): that one is lost too.
    static int header_link(std::string_view hv) noexcept
    {
        if (holds_frame_remnant(hv)) return -1;
        return hv.size() >= 3 && espat::detail::is_digit(hv[0]) && hv[1] == ',' && espat::detail::is_digit(hv[2]) ? hv[0] - '0' : -1;
    }

    // After "+IPD,": the usual headers ("<id>,<len>:", "<len>:", and either with
    // ',"<ip>",<port>' before the ':') parsed straight from the chunk when all of the header
    // is in it, and the frame handed out at once when its payload is too. Anything else, or
    // a header cut by the chunk's end, goes through on_ipd_header as before.
    template <class H>
    const char* ipd_in_place(const char* const p, const char* const end, H& h)
    {
        using espat::detail::is_digit;
        const char* q = p;
        // Up to `max` digits; 0 digits or more than `max` fails (the slow path judges those).
        auto number = [&](std::size_t max, std::uint32_t& v) noexcept {
            const char* const first = q;
            std::uint32_t x = 0;
            while (q != end && is_digit(*q)) {
                if (static_cast<std::size_t>(q - first) == max) return false;
                x = x * 10 + static_cast<std::uint32_t>(*q++ - '0');
            }
            v = x;
            return q != first && q != end;
        };
        event& e = frame_;
        reset_event(e, event_kind::ipd);
        std::uint32_t a = 0, len = 0;
        if (!number(5, a)) return fallback_ipd(p);
        if (*q == ',' && q + 1 != end && is_digit(q[1])) {  // "<id>,<len>"
            ++q;
            if (a > 9 || q - p != 2 || !number(5, len)) return fallback_ipd(p);
            e.link = static_cast<std::int8_t>(a);
        } else {
            len = a;
        }
        if (len > limits_.max_ipd_payload) return fallback_ipd(p);
        e.value = len;
        if (*q == ',') {  // ,"<ip>",<port>
            if (++q == end || *q != '"') return fallback_ipd(p);
            const char* const host = ++q;
            while (q != end && *q != '"') {
                const char c = *q++;
                if (espat::detail::hex_value(c) < 0 && c != '.' && c != ':' && c != '%') return fallback_ipd(p);
            }
            const std::size_t host_len = static_cast<std::size_t>(q - host);
            if (q == end || host_len == 0 || host_len > 45 || ++q == end || *q++ != ',') return fallback_ipd(p);
            std::uint32_t port = 0;
            if (q == end || !number(5, port) || port > 65535) return fallback_ipd(p);
            e.remote_host = std::string_view(host, host_len);
            e.remote_port = static_cast<std::uint16_t>(port);
        }
        if (*q != ':') return fallback_ipd(p);
        ++q;
        if (static_cast<std::size_t>(end - q) >= len) {  // payload here too: hand it out in place
            e.payload = std::string_view(q, len);
            const char* const after = q + len;
            if (end - after >= 2 && after[0] == '\r' && after[1] == '\n') {  // the usual: CR LF follows
                h(static_cast<const event&>(e));
                return after;
            }
            return end_of_frame(after, end, h);
        }
        if (!e.remote_host.empty()) {  // the frame outlives this chunk: keep the host
            std::memcpy(header_.data(), e.remote_host.data(), e.remote_host.size());
            e.remote_host = std::string_view(header_.data(), e.remote_host.size());
        }
        frame_have_ = 0;
        state_ = state::payload;
        return q;
    }

    const char* fallback_ipd(const char* p) noexcept
    {
        begin_frame(prefix::ipd);
        return p;
    }

    // +IPD,<fields> up to ':' (data follows) or the line end (a passive-mode notification).
    template <class H>
    const char* on_ipd_header(const char* p, const char* end, H& h)
    {
        while (p != end) {
            const char c = *p++;
            if (c == '\n' || (c == ':' && !in_quotes_)) {
                finish_ipd_header(c == ':', h);
                return p;
            }
            if (c == '"') in_quotes_ = !in_quotes_;
            if (header_len_ == max_header) {
                bad_header(protocol_error_reason::bad_frame_header, false, h, "IPD",
                           header_link(std::string_view(header_.data(), header_len_)));
                return p;
            }
            header_[header_len_++] = c;
        }
        return end;
    }

    template <class H>
    void finish_ipd_header(bool with_data, H& h)
    {
        std::string_view hv(header_.data(), header_len_);
        while (!with_data && !hv.empty() && hv.back() == '\r') hv.remove_suffix(1);
        event e;
        e.kind = with_data ? event_kind::ipd : event_kind::ipd_notify;
        if (!parse_ipd_fields(hv, e))
            return bad_header(protocol_error_reason::bad_frame_header, !with_data, h, "IPD", header_link(hv));
        if (!with_data) {
            state_ = state::line;
            h(static_cast<const event&>(e));
            return;
        }
        if (e.value > limits_.max_ipd_payload)
            return bad_header(protocol_error_reason::frame_too_long, false, h, "IPD", e.link);
        begin_payload(e);
    }

    // [<id>,]<len>[,<ip>,<port>]: one, two, three or four fields.
    static bool parse_ipd_fields(std::string_view hv, event& e) noexcept
    {
        std::string_view f[4];
        std::size_t n = 0, start = 0;
        bool quoted = false;
        for (std::size_t i = 0; i <= hv.size(); ++i) {
            if (i == hv.size() || (hv[i] == ',' && !quoted)) {
                if (n == 4) return false;
                f[n++] = hv.substr(start, i - start);
                start = i + 1;
            } else if (hv[i] == '"') {
                quoted = !quoted;
            }
        }
        const bool has_id = n == 2 || n == 4;
        if (has_id) {
            auto id = espat::detail::parse_u32(f[0]);
            if (!id || *id > 9) return false;
            e.link = static_cast<std::int8_t>(*id);
        }
        auto len = espat::detail::parse_u32(f[has_id ? 1 : 0]);
        if (!len) return false;
        e.value = *len;
        if (n >= 3) return parse_remote(f[n - 2], f[n - 1], e);
        return true;
    }

    static bool valid_host(std::string_view host) noexcept
    {
        if (host.empty() || host.size() > 45) return false;
        for (char c : host)
            if (espat::detail::hex_value(c) < 0 && c != '.' && c != ':' && c != '%') return false;
        return true;
    }

    static bool parse_remote(std::string_view host, std::string_view port, event& e) noexcept
    {
        host = espat::detail::strip_quotes(host);
        auto pv = espat::detail::parse_u32(port);
        if (!valid_host(host) || !pv || *pv > 65535) return false;
        e.remote_host = host;
        e.remote_port = static_cast<std::uint16_t>(*pv);
        return true;
    }

    // +CIPRECVDATA:<len>,[<ip>,<port>,]<data> or NONOS +CIPRECVDATA,<len>:<data>
    template <class H>
    const char* on_recv_header(const char* p, const char* end, H& h)
    {
        while (p != end) {
            const char c = *p;
            switch (phase_) {
            case recv_phase::length:
            case recv_phase::nonos_length: {
                ++p;
                const char stop = phase_ == recv_phase::length ? ',' : ':';
                if (c != stop) {
                    if (!espat::detail::is_digit(c) || header_len_ == 10) {
                        bad_header(protocol_error_reason::bad_frame_header, c == '\n', h, "CIPRECVDATA");
                        return p;
                    }
                    header_[header_len_++] = c;
                    break;
                }
                auto len = espat::detail::parse_u32(std::string_view(header_.data(), header_len_));
                const std::size_t limit =
                    recv_request_ != 0 ? std::min(recv_request_, limits_.max_recv_payload) : limits_.max_recv_payload;
                recv_request_ = 0;
                if (!len) {
                    bad_header(protocol_error_reason::bad_frame_header, false, h, "CIPRECVDATA");
                    return p;
                }
                if (*len > limit) {
                    bad_header(protocol_error_reason::frame_too_long, false, h, "CIPRECVDATA");
                    return p;
                }
                frame_ = event{};
                frame_.kind = event_kind::recv_data;
                frame_.value = *len;
                header_len_ = 0;
                if (phase_ == recv_phase::nonos_length) return begin_payload(frame_), p;
                phase_ = recv_phase::remote_or_data;
                break;
            }
            case recv_phase::remote_or_data:
                if (recv_remote_ == remote_info::present || (recv_remote_ == remote_info::detect && c == '"')) {
                    phase_ = recv_phase::remote_host;
                    in_quotes_ = false;
                    port_digits_ = 0;
                    break;
                }
                return begin_payload(frame_), p;
            case recv_phase::remote_host:
                ++p;
                if (c == ',' && !in_quotes_) {
                    phase_ = recv_phase::remote_port;
                    break;
                }
                if (c == '"') in_quotes_ = !in_quotes_;
                if (c == '\n' || header_len_ == max_header) {
                    bad_header(protocol_error_reason::bad_frame_header, c == '\n', h, "CIPRECVDATA");
                    return p;
                }
                header_[header_len_++] = c;
                break;
            case recv_phase::remote_port:
                ++p;
                if (c == ',' && port_digits_ > 0) {
                    const std::string_view host(header_.data(), header_len_);
                    const std::string_view port(header_.data() + header_len_, port_digits_);
                    if (!parse_remote(host, port, frame_)) {
                        bad_header(protocol_error_reason::bad_frame_header, false, h, "CIPRECVDATA");
                        return p;
                    }
                    return begin_payload(frame_), p;
                }
                if (!espat::detail::is_digit(c) || port_digits_ == 5 ||
                    header_len_ + port_digits_ == max_header) {
                    bad_header(protocol_error_reason::bad_frame_header, c == '\n', h, "CIPRECVDATA");
                    return p;
                }
                header_[header_len_ + port_digits_++] = c;
                break;
            }
        }
        return end;
    }

    void begin_payload(const event& e) noexcept
    {
        frame_ = e;
        frame_have_ = 0;
        state_ = state::payload;  // a zero-length frame is complete at once (on_payload)
    }

    // Counts payload bytes, never scans them: they may hold "\r\n", "OK", "+IPD" or anything.
    template <class H>
    const char* on_payload(const char* p, const char* end, H& h)
    {
        const std::size_t avail = static_cast<std::size_t>(end - p);
        const std::size_t need = frame_.value - frame_have_;
        if (frame_have_ == 0 && avail >= need) {  // all of it here: hand it out in place
            frame_.payload = std::string_view(p, need);
            return end_of_frame(p + need, end, h);
        }
        const std::size_t take = std::min(avail, need);
        copy_small(frame_buf_.get() + frame_have_, p, take);
        frame_have_ += take;
        if (frame_have_ == frame_.value) {
            frame_.payload = std::string_view(frame_buf_.get(), frame_have_);
            return end_of_frame(p + take, end, h);
        }
        return p + take;
    }

    // ---- what follows a payload ----
    //
    // ESP-AT's framing has no checksum, but a length-framed payload must be followed by
    // something: CR LF after +CIPRECVDATA (and after +IPD on ESP-AT 2.x), or, where the
    // firmware prints nothing after +IPD (NONOS, ESP32 1.x), the start of a line it prints
    // unprompted. A byte lost or doubled inside the payload shifts that by one, so a frame is
    // handed out only once what follows it checks out; otherwise it is dropped with a
    // frame_trailer protocol error for its link. The bytes judged are parsed as usual after.

    // The payload is complete (frame_.payload, in the chunk or in frame_buf_); p is the byte
    // after it.
    template <class H>
    const char* end_of_frame(const char* p, const char* end, H& h)
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
    const char* on_trailer(const char* p, const char* end, H& h)
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
    void settle(verdict v, H& h)
    {
        const bool released = std::exchange(released_, false);
        if (v == verdict::accept) {
            if (!released) h(static_cast<const event&>(frame_));
            return;
        }
        protocol_error(protocol_error_reason::frame_trailer, h, frame_.kind == event_kind::ipd ? "IPD" : "CIPRECVDATA",
                       frame_.link);
    }

    // A frame waits for the next chunk: its payload and remote address move out of this one.
    void hold_frame() noexcept
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
    [[nodiscard]] verdict judge(const char* s, std::size_t n) const noexcept
    {
        if (n == 0) return verdict::undecided;
        if (frame_.kind == event_kind::recv_data) return starts(s, n, "\r\n");  // then its OK
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
                                       "+DIST_STA_IP:", "+TIME_UPDATED"})
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

    static verdict starts(const char* s, std::size_t n, std::string_view w) noexcept
    {
        const std::size_t k = std::min(n, w.size());
        if (std::memcmp(s, w.data(), k) != 0) return verdict::reject;
        return n >= w.size() ? verdict::accept : verdict::undecided;
    }

    // Whether the last bytes seen (window: the last four, the newest lowest; seen: how many)
    // end in what holds_frame_remnant looks for: "IPD" not after 'C', "+IP", "+PD,", "+ID,".
    static bool ends_in_frame_remnant(std::uint32_t window, std::size_t seen) noexcept
    {
        const auto three = window & 0xffffffu;
        const auto before = static_cast<char>(window >> 24);
        if (three == ('I' << 16 | 'P' << 8 | 'D')) return seen == 3 || before != 'C';
        if (three == ('+' << 16 | 'I' << 8 | 'P')) return true;
        return seen >= 4 && (window == static_cast<std::uint32_t>('+' << 24 | 'P' << 16 | 'D' << 8 | ',') ||
                             window == static_cast<std::uint32_t>('+' << 24 | 'I' << 16 | 'D' << 8 | ','));
    }

    // After a bad header: the bytes up to the next line end are dropped. A frame's header among
    // them (NONOS prints none between frames) would be lost with them, so they are searched,
    // byte by byte through a window of the last four, for what holds_frame_remnant looks for,
    // and that is reported: some link lost data. (After an over-long line nothing is searched:
    // that error already says data may be lost.)
    template <class H>
    const char* on_discard(const char* p, const char* end, H& h)
    {
        const char* nl = find_nl(p, end);
        const char* stop = nl != nullptr ? nl : end;
        for (const char* q = p; q != stop && !discard_reported_; ++q) {
            discard_window_ = discard_window_ << 8 | static_cast<unsigned char>(*q);
            if (++discard_seen_ >= 3 && ends_in_frame_remnant(discard_window_, discard_seen_)) {
                discard_reported_ = true;
                protocol_error(protocol_error_reason::damaged_frame, h);
            }
        }
        if (nl == nullptr) return end;
        state_ = state::line;
        return nl + 1;
    }

    parser_limits limits_;
    std::unique_ptr<char[]> line_buf_;   // a line split across chunks
    std::unique_ptr<char[]> frame_buf_;  // a payload split across chunks
    std::array<char, max_header> header_{};
    std::array<char, 256> echo_{};  // an echo interrupted by a report, awaiting its rest
    std::size_t line_len_ = 0;
    std::size_t header_len_ = 0;
    std::size_t echo_len_ = 0;
    std::size_t frame_have_ = 0;
    std::size_t recv_request_ = 0;
    static constexpr std::size_t look_size = 24;  // longer than any start judge() knows
    std::array<char, look_size> look_{};           // bytes after a held frame's payload
    std::size_t look_len_ = 0;
    std::string_view echo_rest_;                   // see expect_echo_rest()
    std::uint32_t discard_window_ = 0;             // the last four bytes on_discard dropped
    std::size_t discard_seen_ = 0;                 // how many it dropped
    event frame_{};  // the frame being counted; remote_host points into header_
    event line_event_{};  // the event of the line being classified; only classify_into writes it, so its
                          // remote_host and payload stay empty (see classify_into)
    state state_ = state::line;
    recv_phase phase_ = recv_phase::length;
    remote_info recv_remote_ = remote_info::detect;
    std::uint8_t port_digits_ = 0;
    bool in_quotes_ = false;
    bool echo_pending_ = false;
    bool released_ = false;          // the held frame was handed out unverified (release_held_frame)
    bool discard_reported_ = false;  // on_discard found a lost header already
};

}  // namespace espat::proto
