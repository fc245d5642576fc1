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
    // +MQTTSUBRECV: one fragment of a message; the module splits a message at its MQTT buffer
    // (1024 bytes by default), so this leaves room for builds with a bigger one.
    std::size_t max_mqtt_payload = 8192;
    // +HTTPCLIENT / +HTTPCGET / +HTTPCPOST / +HTTPCPUT: one chunk of a body, at most the
    // module's receive buffer (<rx size>, 10240 bytes at most).
    std::size_t max_http_payload = 10240;
};

class parser {
public:
    // A line limit below the longest frame prefix would make a split feed drop a header that a
    // whole feed accepts, so max_line is raised to it.
    explicit parser(parser_limits limits = {})
        : limits_(with_floor(limits)),
          line_buf_(std::make_unique<char[]>(limits_.max_line)),
          frame_buf_(std::make_unique<char[]>(
              std::max({limits.max_ipd_payload, limits.max_recv_payload, limits.max_mqtt_payload, limits.max_http_payload})))
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
            case state::mqtt_header: p = on_mqtt_header(p, end, on_event); break;
            case state::http_header: p = on_http_header(p, end, on_event); break;
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
        // A zero-length frame whose header ended the chunk is complete: judged now (held for
        // what follows), as when its header and the next bytes come in one chunk.
        if (state_ == state::payload && frame_have_ == frame_.value) on_payload(p, end, on_event);
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

    // A +IPD or +MQTTSUBRECV frame whose payload is complete but whose chunk ended before what
    // follows it: it is handed out once the next bytes show where it ends (CR LF, or the start
    // of a line).
    [[nodiscard]] bool frame_held() const noexcept
    {
        return state_ == state::trailer && !released_ &&
               (frame_.kind == event_kind::ipd || frame_.kind == event_kind::mqtt_message);
    }

    // A frame whose payload is complete waits for what follows it.
    [[nodiscard]] bool awaiting_trailer() const noexcept { return state_ == state::trailer && !released_; }

    // Firmware that prints nothing after a +IPD payload (NONOS, ESP32 1.x), or after a
    // +MQTTSUBRECV one (the reference does not promise its CR LF), may fall silent after it:
    // the session calls this once the line has been quiet for a while, and the held
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
    enum class state : std::uint8_t {
        line, held_echo, after_prompt, ipd_header, recv_header, mqtt_header, http_header, payload, trailer, discard, passthrough
    };
    enum class verdict : std::uint8_t { accept, reject, undecided };
    enum class prefix : std::uint8_t { none, partial, ipd, recv_colon, recv_comma, mqtt, http_client, http_cget, http_cpost, http_cput };
    enum class recv_phase : std::uint8_t { length, nonos_length, remote_or_data, remote_host, remote_port };
    // +MQTTSUBRECV:<id>,"<topic>",<len>, : where the header stands (parser_frames.hpp).
    enum class mqtt_phase : std::uint8_t { link, open_quote, topic, after_quote, length };

    static constexpr std::size_t frame_prefix_len = 13;  // "+CIPRECVDATA:", "+MQTTSUBRECV:": the longest
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

    // The frame prefixes spelled as one word, each with its length (the header follows it).
    struct frame_word {
        std::string_view word;
        prefix kind;
    };
    static constexpr frame_word http_words[] = {{"+HTTPCLIENT:", prefix::http_client},
                                                {"+HTTPCGET:", prefix::http_cget},
                                                {"+HTTPCPOST:", prefix::http_cpost},
                                                {"+HTTPCPUT:", prefix::http_cput}};
    static constexpr frame_word mqtt_word{"+MQTTSUBRECV:", prefix::mqtt};

    static prefix match_word(const char* s, std::size_t n, const frame_word& w) noexcept
    {
        if (!same(s, w.word.data(), std::min(n, w.word.size()))) return prefix::none;
        return n >= w.word.size() ? w.kind : prefix::partial;
    }

    // Whether a line start is, or could still become, a frame header.
    static prefix match_frame_prefix(const char* s, std::size_t n) noexcept
    {
        if (n < 2) return prefix::partial;
        switch (s[1]) {
        case 'I':
            if (!same(s, "+IPD,", std::min<std::size_t>(n, 5))) return prefix::none;
            return n >= 5 ? prefix::ipd : prefix::partial;
        case 'C':
            if (!same(s, "+CIPRECVDATA", std::min<std::size_t>(n, 12))) return prefix::none;
            if (n < frame_prefix_len) return prefix::partial;
            if (s[12] == ':') return prefix::recv_colon;
            if (s[12] == ',') return prefix::recv_comma;
            return prefix::none;
        case 'M': return match_word(s, n, mqtt_word);
        case 'H':
            for (const frame_word& w : http_words)
                if (const prefix m = match_word(s, n, w); m != prefix::none) return m;
            return prefix::none;
        default: return prefix::none;
        }
    }

    // How many bytes a matched prefix takes.
    static std::size_t prefix_length(prefix m) noexcept
    {
        switch (m) {
        case prefix::ipd: return 5;
        case prefix::mqtt: return mqtt_word.word.size();
        case prefix::http_client: return http_words[0].word.size();
        case prefix::http_cget: return http_words[1].word.size();
        case prefix::http_cpost: return http_words[2].word.size();
        case prefix::http_cput: return http_words[3].word.size();
        default: return frame_prefix_len;
        }
    }

    // The name a frame's events and protocol errors carry.
    static std::string_view http_name(prefix m) noexcept
    {
        for (const frame_word& w : http_words)
            if (w.kind == m) return w.word.substr(1, w.word.size() - 2);
        return {};
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
        case prefix::mqtt:
            mqtt_phase_ = mqtt_phase::link;
            state_ = state::mqtt_header;
            return true;
        case prefix::http_client:
        case prefix::http_cget:
        case prefix::http_cpost:
        case prefix::http_cput:
            http_name_ = http_name(m);
            state_ = state::http_header;
            return true;
        default: return false;
        }
    }

    // Lines, and the echo a report interrupted (parser_lines.hpp).
    template <bool Held, class H>
    const char* on_line(const char* p, const char* end, H& h);
    template <class H>
    const char* on_partial_line(const char* p, const char* end, H& h);
    template <class H>
    const char* append_partial(const char* p, const char* end, H& h);
    template <class H>
    void finish_partial(H& h);
    template <class H>
    void finish_line(std::string_view line, H& h);
    template <class H>
    void finish_special_line(std::string_view line, H& h);
    template <class H>
    void release_echo(H& h);
    template <class H>
    void emit_echo(H& h);

    // +IPD and +CIPRECVDATA headers and payloads (parser_frames.hpp).
    static int header_link(std::string_view hv) noexcept;
    template <class H>
    const char* ipd_in_place(const char* const p, const char* const end, H& h);
    const char* fallback_ipd(const char* p) noexcept;
    template <class H>
    const char* on_ipd_header(const char* p, const char* end, H& h);
    template <class H>
    void finish_ipd_header(bool with_data, H& h);
    static bool parse_ipd_fields(std::string_view hv, event& e) noexcept;
    static bool valid_host(std::string_view host) noexcept;
    static bool parse_remote(std::string_view host, std::string_view port, event& e) noexcept;
    template <class H>
    const char* on_recv_header(const char* p, const char* end, H& h);
    template <class H>
    const char* on_mqtt_header(const char* p, const char* end, H& h);
    template <class H>
    void finish_mqtt_header(H& h);
    template <class H>
    const char* on_http_header(const char* p, const char* end, H& h);
    void begin_payload(const event& e) noexcept;
    [[nodiscard]] std::string_view frame_name() const noexcept;
    template <class H>
    const char* on_payload(const char* p, const char* end, H& h);

    // What follows a payload, and the frame held meanwhile (parser_trailer.hpp).
    template <class H>
    const char* end_of_frame(const char* p, const char* end, H& h);
    template <class H>
    const char* on_trailer(const char* p, const char* end, H& h);
    template <class H>
    void settle(verdict v, H& h);
    void hold_frame() noexcept;
    [[nodiscard]] verdict judge(const char* s, std::size_t n) const noexcept;
    static verdict starts(const char* s, std::size_t n, std::string_view w) noexcept;

    // Protocol errors and resynchronisation (parser_resync.hpp).
    static bool holds_frame_remnant(std::string_view s) noexcept;
    template <class H>
    void protocol_error(protocol_error_reason why, H& h, std::string_view frame = {}, int link = -1);
    template <class H>
    void bad_header(protocol_error_reason why, bool at_line_end, H& h, std::string_view frame, int link = -1);
    static bool ends_in_frame_remnant(std::uint32_t window, std::size_t seen) noexcept;
    template <class H>
    const char* on_discard(const char* p, const char* end, H& h);

    parser_limits limits_;
    std::unique_ptr<char[]> line_buf_;   // a line split across chunks; a +MQTTSUBRECV header
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
    mqtt_phase mqtt_phase_ = mqtt_phase::link;
    std::uint8_t mqtt_digits_ = 0;     // of the <len> being read
    std::size_t mqtt_quote_at_ = 0;    // where the topic's closing quote may be
    std::string_view http_name_;       // "HTTPCLIENT", ... (a literal's view)
    bool in_quotes_ = false;
    bool echo_pending_ = false;
    bool released_ = false;          // the held frame was handed out unverified (release_held_frame)
    bool discard_reported_ = false;  // on_discard found a lost header already
};

}  // namespace espat::proto

// The member functions the class above declares, by concept. Their order matters to the code
// layout: with this one the compiler lays the parser out as when they were defined in the class
// (with another, parser_bench's ipd16 lost 1.5 ns per frame to code alignment alone).
#include <espat/proto/parser_lines.hpp>
#include <espat/proto/parser_resync.hpp>
#include <espat/proto/parser_frames.hpp>
#include <espat/proto/parser_trailer.hpp>
