// espat/proto/parser_resync.hpp — the parser's protocol errors and its resynchronisation: a
// bad header dropped up to the next line end, and what a lost byte leaves of a frame header.
#pragma once

#include <espat/proto/parser.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace espat::proto {

// Whether bytes hold what a lost or doubled byte leaves of "+IPD,": every such variant
// ("IPD,", "+PD,", "+ID,", "+IP,", "+IPD<digit>", "++IPD,", "+IPPD,", ...) holds one of
// these. "CIPD" (AT+CIPDINFO) is not one. Only lines that are nothing else are asked.
inline bool parser::holds_frame_remnant(std::string_view s) noexcept
{
    for (std::size_t i = s.find("IPD"); i != std::string_view::npos; i = s.find("IPD", i + 1))
        if (i == 0 || s[i - 1] != 'C') return true;
    return s.find("+IP") != std::string_view::npos || s.find("+PD,") != std::string_view::npos ||
           s.find("+ID,") != std::string_view::npos;
}

// `frame`: the prefix name ("IPD", "CIPRECVDATA") when the error concerns a frame; `link`
// its link id where the header gave one, so the session and the links know whose it is.
template <class H>
inline void parser::protocol_error(protocol_error_reason why, H& h, std::string_view frame, int link)
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
inline void parser::bad_header(protocol_error_reason why, bool at_line_end, H& h, std::string_view frame, int link)
{
    state_ = at_line_end ? state::line : state::discard;
    discard_window_ = 0;
    discard_seen_ = 0;
    discard_reported_ = false;
    protocol_error(why, h, frame, link);
}

// Whether the last bytes seen (window: the last four, the newest lowest; seen: how many)
// end in what holds_frame_remnant looks for: "IPD" not after 'C', "+IP", "+PD,", "+ID,".
inline bool parser::ends_in_frame_remnant(std::uint32_t window, std::size_t seen) noexcept
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
inline const char* parser::on_discard(const char* p, const char* end, H& h)
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

}  // namespace espat::proto
