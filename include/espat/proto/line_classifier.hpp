// espat/proto/line_classifier.hpp — turns one complete line from the module into an event.
// Every fixed wording of ESP-AT and its older firmwares is recognised here, in one place.
#pragma once

#include <espat/detail/chars.hpp>
#include <espat/proto/event.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace espat::proto {

namespace detail_classify {

using espat::detail::is_digit;

// The bytes at p as one unsigned word, in native byte order (little-endian when constant
// evaluated: the loop). Equality tests load both sides alike, so byte order does not matter
// to them. memcpy: no alignment or aliasing assumed, and compiled to a single load.
template <class W>
[[nodiscard]] constexpr W load(const char* p) noexcept
{
    W w{};
    if (std::is_constant_evaluated()) {
        for (std::size_t i = 0; i < sizeof(W); ++i)
            w = static_cast<W>(w | static_cast<W>(static_cast<W>(static_cast<unsigned char>(p[i])) << (8 * i)));
        return w;
    }
    std::memcpy(&w, p, sizeof w);
    return w;
}

// s[0..N) == lit[0..N) with one or two word compares (overlapping when N is not a word
// size), never a call to memcmp: the lines are short and the wordings fixed.
template <std::size_t N>
[[nodiscard]] constexpr bool same(const char* s, const char* lit) noexcept
{
    static_assert(N >= 1);
    if constexpr (N > 16) {
        return same<8>(s, lit) && same<N - 8>(s + 8, lit + 8);
    } else if constexpr (N >= 8) {
        using w = std::uint64_t;
        return ((load<w>(s) ^ load<w>(lit)) | (load<w>(s + N - 8) ^ load<w>(lit + N - 8))) == 0;
    } else if constexpr (N >= 4) {
        using w = std::uint32_t;
        return ((load<w>(s) ^ load<w>(lit)) | (load<w>(s + N - 4) ^ load<w>(lit + N - 4))) == 0;
    } else if constexpr (N >= 2) {
        using w = std::uint16_t;
        return ((load<w>(s) ^ load<w>(lit)) | (load<w>(s + N - 2) ^ load<w>(lit + N - 2))) == 0;
    } else {
        return s[0] == lit[0];
    }
}

// Whole-line, prefix and suffix tests against a literal: a length check, then `same`.
template <std::size_t N>
[[nodiscard]] constexpr bool is(std::string_view s, const char (&lit)[N]) noexcept
{
    return s.size() == N - 1 && same<N - 1>(s.data(), lit);
}
template <std::size_t N>
[[nodiscard]] constexpr bool begins(std::string_view s, const char (&lit)[N]) noexcept
{
    return s.size() >= N - 1 && same<N - 1>(s.data(), lit);
}
template <std::size_t N>
[[nodiscard]] constexpr bool ends(std::string_view s, const char (&lit)[N]) noexcept
{
    return s.size() >= N - 1 && same<N - 1>(s.data() + s.size() - (N - 1), lit);
}
// s.substr(k) for a k known to be <= s.size(): no range check, nothing to throw.
[[nodiscard]] constexpr std::string_view from(std::string_view s, std::size_t k) noexcept
{
    return std::string_view(s.data() + k, s.size() - k);
}

// Bit 7 set in each byte of x (bytes below 0x80) that lies in [lo, hi]: bit 7 of
// x + (0x80 - lo) is set where x >= lo, of x + (0x7f - hi) where x > hi. The byte-wise sums
// stay below 0x100, so no carry crosses a byte: each byte is judged alone.
[[nodiscard]] constexpr std::uint64_t bytes_within(std::uint64_t x, std::uint64_t lo, std::uint64_t hi) noexcept
{
    constexpr std::uint64_t ones = 0x0101010101010101u;
    return (x + ones * (0x80 - lo)) & ~(x + ones * (0x7f - hi));
}

// Bit 7 set in each byte of the word w that is not [A-Z0-9_].
[[nodiscard]] constexpr std::uint64_t non_name_bytes(std::uint64_t w) noexcept
{
    constexpr std::uint64_t ones = 0x0101010101010101u;
    const std::uint64_t x = w & ones * 0x7f;
    const std::uint64_t name_byte = bytes_within(x, '0', '9') | bytes_within(x, 'A', 'Z') | bytes_within(x, '_', '_');
    return (~name_byte | w) & ones * 0x80;  // bytes >= 0x80 are not name bytes either
}

// How many bytes of s from its start are [A-Z0-9_]: eight at a time, then one at a time.
[[nodiscard]] constexpr std::size_t name_run(std::string_view s) noexcept
{
    std::size_t i = 0;
    for (; s.size() - i >= 8; i += 8) {
        if (const std::uint64_t bad = non_name_bytes(load<std::uint64_t>(s.data() + i)); bad != 0) {
            // The lowest-addressed flagged byte (load() is little-endian when constant evaluated).
            if (std::is_constant_evaluated() || std::endian::native == std::endian::little)
                return i + static_cast<std::size_t>(std::countr_zero(bad) >> 3);
            return i + static_cast<std::size_t>(std::countl_zero(bad) >> 3);
        }
    }
    while (i != s.size() && espat::detail::is_upper_ident(s[i])) ++i;
    return i;
}

// espat::detail::parse_u32 (1..10 digits, fits in 32 bits, nothing else), small enough to
// be inlined where the classifier needs it.
[[nodiscard]] constexpr bool decimal(std::string_view s, std::uint32_t& v) noexcept
{
    if (s.size() - 1 >= 10) return false;  // empty, or longer than 10 digits
    std::uint64_t x = 0;
    for (char c : s) {
        const unsigned d = static_cast<unsigned>(static_cast<unsigned char>(c)) - unsigned{'0'};
        if (d > 9) return false;
        x = x * 10 + d;
    }
    if (x > 0xffffffffu) return false;
    v = static_cast<std::uint32_t>(x);
    return true;
}

// "CONNECT", "CLOSED", "CONNECT FAIL" after an optional "<id>," prefix.
constexpr bool link_report(std::string_view s, event& e) noexcept
{
    if (is(s, "CONNECT")) e.kind = event_kind::connect;
    else if (is(s, "CLOSED")) e.kind = event_kind::closed;
    else if (is(s, "CONNECT FAIL")) e.kind = event_kind::connect_fail;
    else return false;
    return true;
}

// The reports spelled +NAME:args whose kind is not just info. A new name here needs its
// length in plus_line's report_name_lengths.
constexpr void plus_report(std::string_view name, std::string_view args, event& e) noexcept
{
    switch (name[0]) {
    case 'L':
        if (is(name, "LINK_CONN")) {
            // <status>,<id>,... : the id is what routes it to a link.
            e.kind = event_kind::link_conn;
            std::size_t c1 = args.find(',');
            if (std::uint32_t st = 0; decimal(args.substr(0, c1), st)) e.value = st;
            if (c1 != std::string_view::npos) {
                std::string_view after = args.substr(c1 + 1);
                if (std::uint32_t id = 0; decimal(after.substr(0, after.find(',')), id) && id < 16)
                    e.link = static_cast<std::int8_t>(id);
            }
        }
        break;
    case 'C':
        if (std::uint32_t n = 0; is(name, "CIPUPDATE") && decimal(args, n)) {
            e.kind = event_kind::update_progress;
            e.value = n;
        }
        break;
    case 'S':
        if (is(name, "STA_CONNECTED")) e.kind = event_kind::sta_connected;
        else if (is(name, "STA_DISCONNECTED")) e.kind = event_kind::sta_disconnected;
        break;
    case 'D':
        if (is(name, "DIST_STA_IP")) e.kind = event_kind::dist_sta_ip;
        break;
    case 'T':
        if (is(name, "TIME_UPDATED")) e.kind = event_kind::time_updated;
        break;
    case 'M':
        // +MQTTCONNECTED:<id>,... and +MQTTDISCONNECTED:<id>: the id is the one MQTT link's.
        if (is(name, "MQTTCONNECTED")) e.kind = event_kind::mqtt_connected;
        else if (is(name, "MQTTDISCONNECTED")) e.kind = event_kind::mqtt_disconnected;
        else break;
        if (std::uint32_t id = 0; decimal(args.substr(0, args.find(',')), id) && id < 16) e.link = static_cast<std::int8_t>(id);
        break;
    default: break;
    }
}

// +MQTTPUB:OK / +MQTTPUB:FAIL end AT+MQTTPUBRAW's data phase as SEND OK / SEND FAIL end
// AT+CIPSEND's: read as those, so the session ends both alike.
constexpr bool mqtt_publish_result(std::string_view s, event& e) noexcept
{
    if (is(s, "+MQTTPUB:OK")) e.kind = event_kind::send_ok;
    else if (is(s, "+MQTTPUB:FAIL")) e.kind = event_kind::send_fail;
    else return false;
    return true;
}

// NONOS AT+PING answers "+<ms>" or "+timeout" (no "PING:"); `rest` is the line after '+'.
constexpr void ping_answer(std::string_view rest, event& e) noexcept
{
    if (std::uint32_t ms = 0; decimal(rest, ms) || is(rest, "timeout")) {
        e.kind = event_kind::info;
        e.name = "PING";
        e.args = rest;
    }
}

// +NAME:args, the reports spelled that way, and NONOS's "+24" / "+timeout" ping answers.
// NAME is [A-Z][A-Z0-9_]* up to the first ':' or the line end. One pass finds the name's end
// and whether it is one: the run of name bytes must stop at that ':' or at the end.
constexpr void plus_line(std::string_view s, event& e) noexcept
{
    const std::string_view rest = from(s, 1);
    const std::size_t i = name_run(rest);
    if (i == 0 || (i != rest.size() && rest[i] != ':') || rest[0] < 'A' || rest[0] > 'Z') {
        ping_answer(rest, e);  // holds no ':' when it is one
        return;
    }
    e.kind = event_kind::info;
    e.name = rest.substr(0, i);
    if (i != rest.size()) e.args = from(rest, i + 1);
    // Only names as long as one plus_report knows need its look: most info lines skip it.
    constexpr std::uint32_t report_name_lengths = 1u << 9 | 1u << 11 | 1u << 12 | 1u << 13 | 1u << 16;  // 13, 16: MQTT
    if (i < 32 && (report_name_lengths >> i & 1) != 0) plus_report(e.name, e.args, e);
}

}  // namespace detail_classify

// A line starting with "AT" followed by nothing, '+', '&' or a letter is a command echo
// ("AT version:..." of AT+GMR is not).
[[nodiscard]] constexpr bool looks_like_echo(std::string_view s) noexcept
{
    if (s.size() < 2 || s[0] != 'A' || s[1] != 'T') return false;
    if (s.size() == 2) return true;
    char c = s[2];
    return c == '+' || c == '&' || (c >= 'A' && c <= 'Z');
}

// Sets every field of `e` to what a default-constructed event holds, with `kind` and `text`
// given. Field by field on purpose: g++ turns the zeroing of a whole fresh event (88 bytes)
// into `rep stosq`, whose start-up cost and the stalled loads that follow it were a third
// of the time of parsing a short line.
constexpr void reset_event(event& e, event_kind kind, std::string_view text = {}) noexcept
{
    e.kind = kind;
    e.link = -1;
    e.remote_port = 0;
    e.value = 0;
    e.text = text;
    e.name = {};
    e.args = {};
    e.remote_host = {};
    e.payload = {};
}

namespace detail_classify {

// espat::detail::parse_hex_u32 ("0x" and 1..8 hex digits, nothing else), inlinable.
[[nodiscard]] constexpr bool hex(std::string_view s, std::uint32_t& v) noexcept
{
    if (s.size() < 3 || s.size() > 10 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return false;
    std::uint32_t x = 0;
    for (char c : from(s, 2)) {
        const int h = espat::detail::hex_value(c);
        if (h < 0) return false;
        x = x * 16 + static_cast<std::uint32_t>(h);
    }
    v = x;
    return true;
}

// Printable ASCII and tabs only: a text line, not boot noise.
[[nodiscard]] constexpr bool printable(std::string_view s) noexcept
{
    for (char c : s)
        if (!espat::detail::is_printable(c)) return false;
    return true;
}

// classify_line without clearing remote_host and payload, which no line sets: the parser
// classifies every line into one reused event, whose frame fields thus stay empty. Each
// case tests the length before any byte, and compares fixed wordings a word at a time.
// The line comes as pointer and length: g++ stored a string_view argument to the stack and
// reloaded it as one 16-byte word to copy it into e.text, a store-forwarding stall that
// took two thirds of the time of a short line.
constexpr void classify_into(const char* line, std::size_t n, event& e) noexcept
{
    const std::string_view s(line, n);
    e.kind = event_kind::text;
    e.link = -1;
    e.remote_port = 0;
    e.value = 0;
    e.text = std::string_view(line, n);  // not `= s`: that brought the stall back
    e.name = {};
    e.args = {};
    switch (s[0]) {
    case 'O':
        if (is(s, "OK")) e.kind = event_kind::ok;
        break;
    case 'E':
        if (is(s, "ERROR")) {
            e.kind = event_kind::error;
        } else if (std::uint32_t code = 0; begins(s, "ERR CODE:") && hex(from(s, 9), code)) {
            e.kind = event_kind::err_code;
            e.value = code;
        }
        break;
    case 'S':
        if (is(s, "SEND OK")) e.kind = event_kind::send_ok;
        else if (is(s, "SEND FAIL")) e.kind = event_kind::send_fail;
        else if (is(s, "SET OK")) e.kind = event_kind::set_ok;
        else if (begins(s, "STATUS:")) {
            e.kind = event_kind::info;
            e.name = s.substr(0, 6);
            e.args = from(s, 7);
        }
        break;
    case 'F':
        if (is(s, "FAIL")) e.kind = event_kind::fail;
        break;
    case 'r':
        if (is(s, "ready")) e.kind = event_kind::ready;
        break;
    case 'b':
        // "busy p..." (processing) and NONOS "busy s..." (sending)
        if (n >= 6 && same<5>(s.data(), "busy ")) {
            e.kind = event_kind::busy;
            e.value = static_cast<unsigned char>(s[5]);
        }
        break;
    case 'A':
        if (is(s, "ALREADY CONNECTED")) e.kind = event_kind::already_connected;
        else if (looks_like_echo(s)) e.kind = event_kind::echo;
        break;
    case 'l':
        if (is(s, "link is not valid")) e.kind = event_kind::link_invalid;
        break;
    case 'U':
        if (is(s, "UNLINK")) e.kind = event_kind::unlink;
        break;
    case 'n':
        if (is(s, "no change")) e.kind = event_kind::no_change;
        break;
    case 'D':
        if (is(s, "DNS Fail")) e.kind = event_kind::dns_fail;
        break;
    case 'R':
        // "Recv <n> bytes"; shorter than 12 bytes it holds no number.
        if (std::uint32_t k = 0; n >= 12 && begins(s, "Recv ") && ends(s, " bytes") && decimal(s.substr(5, n - 11), k)) {
            e.kind = event_kind::recv_bytes;
            e.value = k;
        }
        break;
    case 'W':
        if (is(s, "WIFI CONNECTED")) e.kind = event_kind::wifi_connected;
        else if (is(s, "WIFI GOT IP")) e.kind = event_kind::wifi_got_ip;
        else if (is(s, "WIFI DISCONNECT")) e.kind = event_kind::wifi_disconnect;
        break;
    case 'C':
        link_report(s, e);
        break;
    case '+':
        if (n >= 11 && s[1] == 'M' && mqtt_publish_result(s, e)) break;
        plus_line(s, e);
        break;
    default:
        // "<id>,CONNECT" and friends; ids are 0..4 on every firmware, one digit.
        if (is_digit(s[0]) && n > 2 && s[1] == ',' && link_report(from(s, 2), e))
            e.link = static_cast<std::int8_t>(s[0] - '0');
        break;
    }
    if (e.kind == event_kind::text && !printable(s)) e.kind = event_kind::noise;
}

}  // namespace detail_classify

// Classifies one line, given without its line end and not empty, into `e` (every field is
// set). The event's views point into `line`. Lines that match no known wording are text, or
// noise if not printable.
constexpr void classify_line(std::string_view s, event& e) noexcept
{
    e.remote_host = {};
    e.payload = {};
    detail_classify::classify_into(s.data(), s.size(), e);
}

[[nodiscard]] constexpr event classify_line(std::string_view s) noexcept
{
    event e;
    classify_line(s, e);
    return e;
}

// Where a report was injected at the end of an echoed command line (a "1,CONNECT" printed
// while "AT+CIPSEND=0,198" was being echoed arrives as "AT+CIPSEND=0,1,CONNECT" then "98"),
// returns the offset at which the report starts; npos when the echo holds none.
[[nodiscard]] constexpr std::size_t injected_report_offset(std::string_view echo) noexcept
{
    // Longer wordings first: "WIFI DISCONNECT" also ends in "CONNECT".
    constexpr std::string_view reports[] = {"WIFI CONNECTED", "WIFI GOT IP", "WIFI DISCONNECT",
                                            "CONNECT FAIL", "CONNECT", "CLOSED"};
    for (std::string_view r : reports) {
        if (echo.size() <= r.size() + 2 || !echo.ends_with(r)) continue;
        std::size_t at = echo.size() - r.size();
        // Prefer the "<id>," form: reports that land inside echoes are incoming links.
        if (at >= 2 && echo[at - 1] == ',' && espat::detail::is_digit(echo[at - 2]) && at - 2 >= 2 &&
            r.find("WIFI") == std::string_view::npos)
            return at - 2;
        return at;
    }
    return std::string_view::npos;
}

}  // namespace espat::proto
