// espat/proto/transcript.hpp — the transcript format (record and replay of an exchange with a
// module): parse a transcript, escape bytes for one, and join its host or device bytes.
//
// Format, one directive a line (tests/data/transcripts/README.md):
//   > bytes the host sends          < bytes the device sends
//   = event: expected reading       # comment
// Escapes inside '>' and '<' lines: \r \n \t \\ \xNN; a leading or trailing space is \x20.
#pragma once

#include <espat/detail/chars.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace espat::proto {

struct transcript_line {
    enum class direction { host, device, expect, comment };
    direction dir{direction::comment};
    std::string bytes;  // unescaped for host / device; the text after "= " or "#" otherwise

    friend bool operator==(const transcript_line&, const transcript_line&) = default;
};

// Either every line of the transcript, or the first error and its 1-based line number.
struct transcript_parse_result {
    std::vector<transcript_line> lines;
    std::string error;           // empty on success
    std::size_t error_line = 0;  // where `error` was found

    [[nodiscard]] bool ok() const noexcept { return error.empty(); }
    explicit operator bool() const noexcept { return ok(); }
};

namespace detail_transcript {

// Undoes the escapes of one '>' / '<' line into `out`; returns an error message, or empty.
inline std::string unescape(std::string_view s, std::string& out)
{
    // The file is read by people and editors: a raw space at either end would be invisible
    // and easily lost, which is why the format spells it \x20.
    if (!s.empty() && (s.front() == ' ' || s.back() == ' '))
        return "raw space at the start or end of the bytes (write it as \\x20)";
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 1 == s.size()) return "backslash at the end of the line (write \\\\ for one)";
        switch (const char c = s[++i]) {
        case 'r': out.push_back('\r'); break;
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case '\\': out.push_back('\\'); break;
        case 'x': {
            const int hi = i + 1 < s.size() ? espat::detail::hex_value(s[i + 1]) : -1;
            const int lo = i + 2 < s.size() ? espat::detail::hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) return "\\x needs two hex digits";
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
            break;
        }
        default: return std::string("unknown escape \\") + c;
        }
    }
    return {};
}

}  // namespace detail_transcript

// Parses a whole transcript. Blank lines are skipped, and a '\r' ending a line of the file is
// taken as part of its line end (a file saved with CR LF), since a byte CR is written \r.
[[nodiscard]] inline transcript_parse_result parse_transcript(std::string_view text)
{
    using dir = transcript_line::direction;
    transcript_parse_result result;
    std::size_t number = 0;
    while (!text.empty()) {
        ++number;
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (line.ends_with('\r')) line.remove_suffix(1);
        if (line.empty()) continue;

        auto fail = [&](std::string message) {
            result.lines.clear();
            result.error = std::move(message);
            result.error_line = number;
            return std::move(result);
        };
        transcript_line tl;
        switch (line[0]) {
        case '>': tl.dir = dir::host; break;
        case '<': tl.dir = dir::device; break;
        case '=': tl.dir = dir::expect; break;
        case '#': tl.dir = dir::comment; break;
        default: return fail("a line must start with '>', '<', '=' or '#'");
        }
        std::string_view rest = line.substr(1);
        if (tl.dir == dir::comment) {
            if (rest.starts_with(' ')) rest.remove_prefix(1);
            tl.bytes = rest;
        } else {
            // Exactly one space separates the directive from what follows.
            if (!rest.empty() && !rest.starts_with(' ')) return fail("a space must follow the directive");
            if (!rest.empty()) rest.remove_prefix(1);
            if (tl.dir == dir::expect) {
                tl.bytes = rest;
            } else if (std::string why = detail_transcript::unescape(rest, tl.bytes); !why.empty()) {
                return fail(std::move(why));
            }
        }
        result.lines.push_back(std::move(tl));
    }
    return result;
}

// Escapes bytes for a '>' or '<' line: the inverse of what parse_transcript undoes. Printable
// ASCII stays readable; the hex digits are lower case.
[[nodiscard]] inline std::string escape_transcript_bytes(std::string_view bytes)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size());
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const char c = bytes[i];
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '\r': out.append("\\r"); continue;
        case '\n': out.append("\\n"); continue;
        case '\t': out.append("\\t"); continue;
        case '\\': out.append("\\\\"); continue;
        case ' ':
            if (i != 0 && i + 1 != bytes.size()) {
                out.push_back(' ');
                continue;
            }
            break;
        default:
            if (u > 0x20 && u < 0x7f) {
                out.push_back(c);
                continue;
            }
            break;
        }
        out.append("\\x");
        out.push_back(hex[u >> 4]);
        out.push_back(hex[u & 0xf]);
    }
    return out;
}

// Appends one line of the file (with its '\n'), for recording a session.
inline void append_transcript_line(std::string& out, const transcript_line& line)
{
    using dir = transcript_line::direction;
    switch (line.dir) {
    case dir::host: out.append("> ").append(escape_transcript_bytes(line.bytes)); break;
    case dir::device: out.append("< ").append(escape_transcript_bytes(line.bytes)); break;
    case dir::expect: out.append("= ").append(line.bytes); break;
    case dir::comment: out.append("# ").append(line.bytes); break;
    }
    out.push_back('\n');
}

namespace detail_transcript {

inline std::string join(const std::vector<transcript_line>& lines, transcript_line::direction d)
{
    std::string out;
    for (const auto& l : lines)
        if (l.dir == d) out.append(l.bytes);
    return out;
}

}  // namespace detail_transcript

// Everything the device sent, in order: line breaks in the file are only for reading.
[[nodiscard]] inline std::string device_stream(const std::vector<transcript_line>& lines)
{
    return detail_transcript::join(lines, transcript_line::direction::device);
}

// Everything the host sent, in order.
[[nodiscard]] inline std::string host_stream(const std::vector<transcript_line>& lines)
{
    return detail_transcript::join(lines, transcript_line::direction::host);
}

}  // namespace espat::proto
