// espat/proto/line_classifier.hpp — turns one complete line from the module into an event.
// Every fixed wording of ESP-AT and its older firmwares is recognised here, in one place.
#pragma once

#include <espat/detail/chars.hpp>
#include <espat/proto/event.hpp>

#include <string_view>

namespace espat::proto {

namespace detail_classify {

using espat::detail::is_digit;

// Comparisons with a literal whose length the compiler sees: a length check and one or two
// word compares, where `s == "OK"` became calls to strlen and memcmp in g++ -O2 (the
// string_view operators were not inlined into this large function).
template <std::size_t N>
[[nodiscard]] constexpr bool is(std::string_view s, const char (&lit)[N]) noexcept
{
    return s.size() == N - 1 && std::char_traits<char>::compare(s.data(), lit, N - 1) == 0;
}
template <std::size_t N>
[[nodiscard]] constexpr bool begins(std::string_view s, const char (&lit)[N]) noexcept
{
    return s.size() >= N - 1 && std::char_traits<char>::compare(s.data(), lit, N - 1) == 0;
}
template <std::size_t N>
[[nodiscard]] constexpr bool ends(std::string_view s, const char (&lit)[N]) noexcept
{
    return s.size() >= N - 1 && std::char_traits<char>::compare(s.data() + s.size() - (N - 1), lit, N - 1) == 0;
}
// s.substr(k) for a k known to be <= s.size(): no range check, nothing to throw.
[[nodiscard]] constexpr std::string_view from(std::string_view s, std::size_t k) noexcept
{
    return std::string_view(s.data() + k, s.size() - k);
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

// +NAME:args, the reports spelled that way, and NONOS's "+24" / "+timeout" ping answers.
constexpr void plus_line(std::string_view s, event& e) noexcept
{
    std::string_view rest = from(s, 1);
    std::size_t colon = rest.find(':');
    std::string_view name = rest.substr(0, colon);
    std::string_view args = colon == std::string_view::npos ? std::string_view{} : from(rest, colon + 1);
    if (name.empty()) return;  // "+" or "+:..." stays text
    bool ident = name[0] >= 'A' && name[0] <= 'Z';
    for (char c : name) ident = ident && espat::detail::is_upper_ident(c);
    if (!ident) {
        // NONOS AT+PING answers "+<ms>" or "+timeout" (no "PING:").
        if (colon == std::string_view::npos && (espat::detail::parse_u32(rest) || is(rest, "timeout"))) {
            e.kind = event_kind::info;
            e.name = "PING";
            e.args = rest;
        }
        return;
    }
    e.kind = event_kind::info;
    e.name = name;
    e.args = args;
    switch (name[0]) {
    case 'L':
        if (is(name, "LINK_CONN")) {
            // <status>,<id>,... : the id is what routes it to a link.
            e.kind = event_kind::link_conn;
            std::size_t c1 = args.find(',');
            if (auto st = espat::detail::parse_u32(args.substr(0, c1))) e.value = *st;
            if (c1 != std::string_view::npos) {
                std::string_view after = args.substr(c1 + 1);
                if (auto id = espat::detail::parse_u32(after.substr(0, after.find(',')));
                    id && *id < 16)
                    e.link = static_cast<std::int8_t>(*id);
            }
        }
        break;
    case 'C':
        if (is(name, "CIPUPDATE")) {
            if (auto n = espat::detail::parse_u32(args)) {
                e.kind = event_kind::update_progress;
                e.value = *n;
            }
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
    default: break;
    }
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

// Classifies one line, given without its line end and not empty, into `e` (every field is
// set). The event's views point into `line`. Lines that match no known wording are text, or
// noise if not printable.
constexpr void classify_line(std::string_view s, event& e) noexcept
{
    using namespace detail_classify;
    reset_event(e, event_kind::text, s);
    switch (s[0]) {
    case 'O':
        if (is(s, "OK")) e.kind = event_kind::ok;
        break;
    case 'E':
        if (is(s, "ERROR")) {
            e.kind = event_kind::error;
        } else if (begins(s, "ERR CODE:")) {
            if (auto code = espat::detail::parse_hex_u32(from(s, 9))) {
                e.kind = event_kind::err_code;
                e.value = *code;
            }
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
        if (s.size() >= 6 && begins(s, "busy ")) {
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
        if (begins(s, "Recv ") && ends(s, " bytes")) {
            if (auto n = espat::detail::parse_u32(s.substr(5, s.size() - 11))) {
                e.kind = event_kind::recv_bytes;
                e.value = *n;
            }
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
        plus_line(s, e);
        break;
    default:
        // "<id>,CONNECT" and friends; ids are 0..4 on every firmware, one digit.
        if (is_digit(s[0]) && s.size() > 2 && s[1] == ',' && link_report(from(s, 2), e))
            e.link = static_cast<std::int8_t>(s[0] - '0');
        break;
    }
    if (e.kind == event_kind::text) {
        for (char c : s) {
            if (!espat::detail::is_printable(c)) {
                e.kind = event_kind::noise;
                break;
            }
        }
    }
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
