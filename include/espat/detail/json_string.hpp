// espat/detail/json_string.hpp — a byte-exact JSON string codec, shared by the layers that print
// JSON (parser events in proto/json.hpp, typed command results in commands/describe.hpp).
#pragma once

#include <espat/detail/chars.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace espat::detail {

// Writes `bytes` as a quoted JSON string that maps each byte to one code point U+0000..U+00FF,
// so the payload of a frame survives exactly even though it is not text. Printable ASCII other
// than '"' and '\' stays as it is (a person can read it), CR, LF and tab get their short
// escapes, and every other byte b is written \u00XX; no raw byte >= 0x80 is ever written, so
// the output is plain ASCII and valid UTF-8 whatever the input.
inline void append_json_string(std::string& out, std::string_view bytes)
{
    constexpr char hex_digits[] = "0123456789abcdef";
    out.push_back('"');
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"': out.append("\\\""); continue;
        case '\\': out.append("\\\\"); continue;
        case '\r': out.append("\\r"); continue;
        case '\n': out.append("\\n"); continue;
        case '\t': out.append("\\t"); continue;
        default: break;
        }
        if (u >= 0x20 && u <= 0x7e) {
            out.push_back(c);
        } else {
            out.append("\\u00");
            out.push_back(hex_digits[u >> 4]);
            out.push_back(hex_digits[u & 0xf]);
        }
    }
    out.push_back('"');
}

// The inverse of append_json_string, and of any JSON encoder fed those strings: `quoted` is
// one JSON string with its quotes and nothing around it. Each code point becomes one byte, so
// one above U+00FF (which no espat output holds) makes it nullopt, as does anything that is
// not valid JSON. A JSON tool that re-encodes our output may write U+0080..U+00FF as raw
// UTF-8 (two bytes) or use \/ \b \f: those are accepted too.
[[nodiscard]] inline std::optional<std::string> decode_json_string(std::string_view quoted)
{
    if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') return std::nullopt;
    const std::string_view s = quoted.substr(1, quoted.size() - 2);
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto u = static_cast<unsigned char>(s[i]);
        if (u == '"' || u < 0x20) return std::nullopt;  // JSON requires these escaped
        if (u >= 0x80) {
            // Raw UTF-8: only the two-byte forms of U+0080..U+00FF (lead byte C2 or C3).
            if ((u != 0xc2 && u != 0xc3) || i + 1 == s.size()) return std::nullopt;
            const auto cont = static_cast<unsigned char>(s[++i]);
            if ((cont & 0xc0) != 0x80) return std::nullopt;
            out.push_back(static_cast<char>(((u & 0x03) << 6) | (cont & 0x3f)));
            continue;
        }
        if (u != '\\') {
            out.push_back(s[i]);
            continue;
        }
        if (++i == s.size()) return std::nullopt;
        switch (s[i]) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
            if (s.size() - i < 5) return std::nullopt;
            std::uint32_t cp = 0;
            for (std::size_t k = 1; k <= 4; ++k) {
                const int h = hex_value(s[i + k]);
                if (h < 0) return std::nullopt;
                cp = cp * 16 + static_cast<std::uint32_t>(h);
            }
            if (cp > 0xff) return std::nullopt;
            out.push_back(static_cast<char>(cp));
            i += 4;
            break;
        }
        default: return std::nullopt;
        }
    }
    return out;
}

}  // namespace espat::detail
