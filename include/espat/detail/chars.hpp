// espat/detail/chars.hpp — small character and number helpers shared by the protocol code.
// Locale-free and allocation-free, unlike <cctype> and std::stoi.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace espat::detail {

[[nodiscard]] constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

[[nodiscard]] constexpr bool is_upper_ident(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_';
}

[[nodiscard]] constexpr int hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Printable ASCII plus tab: what a line of text from the module is made of.
[[nodiscard]] constexpr bool is_printable(char c) noexcept
{
    auto u = static_cast<unsigned char>(c);
    return (u >= 0x20 && u < 0x7f) || u == '\t';
}

// A decimal number of 1..10 digits that fits in 32 bits; nothing else in s.
[[nodiscard]] constexpr std::optional<std::uint32_t> parse_u32(std::string_view s) noexcept
{
    if (s.empty() || s.size() > 10) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > 0xffffffffu) return std::nullopt;
    return static_cast<std::uint32_t>(v);
}

// 0x followed by 1..8 hex digits; nothing else in s.
[[nodiscard]] constexpr std::optional<std::uint32_t> parse_hex_u32(std::string_view s) noexcept
{
    if (s.size() < 3 || s.size() > 10 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return std::nullopt;
    std::uint32_t v = 0;
    for (char c : s.substr(2)) {
        int h = hex_value(c);
        if (h < 0) return std::nullopt;
        v = v * 16 + static_cast<std::uint32_t>(h);
    }
    return v;
}

[[nodiscard]] constexpr std::string_view strip_quotes(std::string_view s) noexcept
{
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
    return s;
}

}  // namespace espat::detail
