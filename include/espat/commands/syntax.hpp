// espat/commands/syntax.hpp — the lexical rules of AT command lines and responses, in one place:
// escaping of quoted strings, what can never be sent, and splitting parameter lists.
#pragma once

#include <espat/detail/sendex_data.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace espat::commands {

// A command line is at most 256 bytes including its "\r\n" (ESP-AT command-set introduction).
inline constexpr std::size_t max_command_line = 256;

// CR and LF would end the command line early and NUL ends it inside the module: a string
// holding one could inject a second command, so it is refused, never escaped.
[[nodiscard]] constexpr bool sendable(std::string_view s) noexcept
{
    for (char c : s)
        if (c == '\r' || c == '\n' || c == '\0') return false;
    return true;
}

// Whether `line` can go to the module as one command line: "...\r\n", nothing before that
// line end that would end it early (CR, LF) or inside the module (NUL), and at most
// max_command_line bytes with the line end. A raw line built from user data must pass this.
[[nodiscard]] constexpr bool sendable_line(std::string_view line) noexcept
{
    return line.size() > 2 && line.size() <= max_command_line && line.ends_with("\r\n") &&
           sendable(line.substr(0, line.size() - 2));
}

// Appends s as a quoted string parameter, with ',' '"' '\' escaped as "\," "\"" "\\".
inline void append_quoted(std::string& out, std::string_view s)
{
    out += '"';
    for (char c : s) {
        if (c == ',' || c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
}

// The inverse of append_quoted for a whole token ("..." with escapes); nullopt if malformed.
[[nodiscard]] inline std::optional<std::string> unquote_escaped(std::string_view token)
{
    if (token.size() < 2 || token.front() != '"' || token.back() != '"') return std::nullopt;
    std::string out;
    out.reserve(token.size() - 2);
    for (std::size_t i = 1; i + 1 < token.size(); ++i) {
        char c = token[i];
        if (c == '\\') {
            if (i + 2 >= token.size()) return std::nullopt;  // a lone trailing backslash
            c = token[++i];
        } else if (c == '"') {
            return std::nullopt;  // an unescaped quote inside
        }
        out += c;
    }
    return out;
}

// Splits a command's parameter list at the commas outside quoted strings, honouring escapes.
// "a,\"b\\,c\",,d" -> {a, "b\,c", "", d}. An empty list has no parameters.
[[nodiscard]] inline std::vector<std::string_view> split_request_params(std::string_view s)
{
    std::vector<std::string_view> out;
    if (s.empty()) return out;
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (quoted && c == '\\') {
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (c == ',' && !quoted) {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    out.push_back(s.substr(start));
    return out;
}

// Splits a response list at the commas outside double quotes (responses are not escaped).
// "" is one empty item, as an empty field is.
[[nodiscard]] inline std::vector<std::string_view> split_response_list(std::string_view s)
{
    std::vector<std::string_view> v;
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || (s[i] == ',' && !quoted)) {
            v.push_back(s.substr(start, i - start));
            start = i + 1;
        } else if (s[i] == '"') {
            quoted = !quoted;
        }
    }
    return v;
}

// AT+CIPSENDEX data: the module ends the data early at the two bytes "\0" and reads "\<c>"
// as c (detail/sendex_data.hpp). Escaped so (every backslash doubled), data is sent whole,
// whatever it holds; the command's <length> counts the escaped bytes.
[[nodiscard]] inline std::string escape_sendex_data(std::string_view data) { return detail::escape_sendex_data(data); }

// A response line's fields: views into the line, held in place (no allocation per line
// decoded). The widest line of the reference, +CWLAP's, has eleven.
class response_fields {
public:
    static constexpr std::size_t capacity = 16;

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] std::string_view operator[](std::size_t i) const noexcept { return items_[i]; }
    [[nodiscard]] const std::string_view* begin() const noexcept { return items_.data(); }
    [[nodiscard]] const std::string_view* end() const noexcept { return items_.data() + size_; }

private:
    friend std::optional<response_fields> split_response_fields(std::string_view, std::size_t, std::size_t);
    std::array<std::string_view, capacity> items_{};
    std::size_t size_ = 0;
};

// Splits a response line's fields at commas outside quotes. Responses are not escaped, so a
// quoted string may itself hold '"' and ','; the field at `free_index` (an SSID, say) may hold
// anything, so fields before it are taken from the left and fields after it from the right.
// Returns nullopt when the line does not have exactly `count` fields (count <= 16).
[[nodiscard]] inline std::optional<response_fields> split_response_fields(
    std::string_view s, std::size_t count, std::size_t free_index = static_cast<std::size_t>(-1))
{
    if (count == 0 || count > response_fields::capacity) return std::nullopt;
    response_fields out;
    out.size_ = count;
    if (free_index >= count) {
        // Every comma outside quotes separates; one field too many is already a mismatch.
        bool quoted = false;
        std::size_t start = 0, n = 0;
        for (std::size_t i = 0; i <= s.size(); ++i) {
            if (i == s.size() || (s[i] == ',' && !quoted)) {
                if (n == count) return std::nullopt;
                out.items_[n++] = s.substr(start, i - start);
                start = i + 1;
            } else if (s[i] == '"') {
                quoted = !quoted;
            }
        }
        if (n != count) return std::nullopt;
        return out;
    }
    // Fields before the free one, from the left; every comma separates.
    std::size_t pos = 0;
    for (std::size_t i = 0; i < free_index; ++i) {
        std::size_t c = s.find(',', pos);
        if (c == std::string_view::npos) return std::nullopt;
        out.items_[i] = s.substr(pos, c - pos);
        pos = c + 1;
    }
    // Fields after it, from the right; they are numbers or plain quoted values.
    std::size_t end = s.size();
    for (std::size_t i = count - 1; i > free_index; --i) {
        if (end == 0) return std::nullopt;
        std::size_t c = s.rfind(',', end - 1);
        if (c == std::string_view::npos || c < pos) return std::nullopt;
        out.items_[i] = s.substr(c + 1, end - c - 1);
        end = c;
    }
    if (end < pos) return std::nullopt;
    out.items_[free_index] = s.substr(pos, end - pos);
    return out;
}

}  // namespace espat::commands
