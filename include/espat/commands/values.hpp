// espat/commands/values.hpp — the value types command parameters and results are made of:
// range-checked integers, MAC addresses, firmware versions, and the enum naming traits.
#pragma once

#include <espat/config.hpp>
#include <espat/detail/chars.hpp>

#include <array>
#include <chrono>
#include <compare>
#include <concepts>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace espat {

// An integer that can only hold Min..Max. A constant out of range does not compile
// (`bounded<int, 0, 7200> t = 9000;` is an error); a run-time value goes through checked().
// On clang 14 (see ESPAT_CONSTEVAL) a constant is checked at compile time only where it is
// constant-evaluated anyway (a constexpr variable); elsewhere it throws std::out_of_range.
template <class Rep, std::int64_t Min, std::int64_t Max>
class bounded {
    static_assert(std::integral<Rep> && Min <= Max);

public:
    using rep = Rep;
    static constexpr std::int64_t min = Min;
    static constexpr std::int64_t max = Max;

    // No default constructor: a bounded field left out of a request does not compile.
    template <std::integral I>
    ESPAT_CONSTEVAL bounded(I v) : value_(static_cast<Rep>(v))  // NOLINT: implicit from literals by design
    {
        // In a consteval constructor the throw makes an out-of-range constant a compile error.
        if (std::cmp_less(v, Min) || std::cmp_greater(v, Max))
            throw std::out_of_range("espat::bounded: value out of range");
    }

    [[nodiscard]] static constexpr std::optional<bounded> checked(std::int64_t v) noexcept
    {
        if (v < Min || v > Max) return std::nullopt;
        return bounded(unchecked{}, static_cast<Rep>(v));
    }

    [[nodiscard]] constexpr Rep value() const noexcept { return value_; }
    constexpr explicit operator Rep() const noexcept { return value_; }
    friend constexpr auto operator<=>(const bounded&, const bounded&) = default;

private:
    struct unchecked {};
    constexpr bounded(unchecked, Rep v) noexcept : value_(v) {}
    Rep value_;
};

// A required request parameter: no default constructor, so leaving it out of a request's
// designated initialiser does not compile.
template <class T>
struct required {
    T value;

    template <class U>
        requires std::constructible_from<T, U&&> && (!std::same_as<std::remove_cvref_t<U>, required>)
    constexpr required(U&& v) : value(std::forward<U>(v))  // NOLINT: implicit by design
    {
    }

    [[nodiscard]] constexpr const T& get() const noexcept { return value; }
    // Not declared constexpr: a defaulted == is constexpr by itself where T's is, and clang 14
    // rejects an explicit constexpr for a T whose == is not (asio::ip::address).
    friend bool operator==(const required&, const required&) = default;
};

template <class T>
inline constexpr bool is_bounded_v = false;
template <class Rep, std::int64_t Min, std::int64_t Max>
inline constexpr bool is_bounded_v<bounded<Rep, Min, Max>> = true;

// Link ids 0..4; AT+CIPCLOSE also takes 5, "all links".
using link_id = bounded<std::uint8_t, 0, 4>;
using close_link_id = bounded<std::uint8_t, 0, 5>;

struct mac_address {
    std::array<std::uint8_t, 6> bytes{};

    [[nodiscard]] static constexpr std::optional<mac_address> parse(std::string_view s) noexcept
    {
        if (s.size() != 17) return std::nullopt;
        mac_address m;
        for (std::size_t i = 0; i < 6; ++i) {
            const int hi = detail::hex_value(s[i * 3]);
            const int lo = detail::hex_value(s[i * 3 + 1]);
            if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':')) return std::nullopt;
            m.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
        }
        return m;
    }

    [[nodiscard]] std::string to_string() const
    {
        constexpr char hex[] = "0123456789abcdef";
        std::string s;
        for (std::size_t i = 0; i < 6; ++i) {
            if (i) s += ':';
            s += hex[bytes[i] >> 4];
            s += hex[bytes[i] & 15];
        }
        return s;
    }

    friend constexpr auto operator<=>(const mac_address&, const mac_address&) = default;
};

// A dotted version such as 2.2.0.0 (ESP-AT) or 1.7.4.0 (NONOS); compares numerically.
struct version {
    std::uint16_t major = 0, minor = 0, patch = 0, build = 0;

    // Reads the leading "a.b[.c[.d]]" of s; nullopt when s does not start with one.
    [[nodiscard]] static constexpr std::optional<version> parse(std::string_view s) noexcept
    {
        std::uint16_t parts[4] = {};
        std::size_t n = 0, i = 0;
        while (n < 4) {
            std::size_t start = i;
            std::uint32_t v = 0;
            while (i < s.size() && detail::is_digit(s[i]) && i - start < 5) v = v * 10 + static_cast<std::uint32_t>(s[i++] - '0');
            if (i == start || v > 0xffff) break;
            parts[n++] = static_cast<std::uint16_t>(v);
            if (i >= s.size() || s[i] != '.') break;
            ++i;
        }
        if (n < 2) return std::nullopt;
        return version{parts[0], parts[1], parts[2], parts[3]};
    }

    [[nodiscard]] std::string to_string() const
    {
        return std::to_string(major) + '.' + std::to_string(minor) + '.' + std::to_string(patch) + '.' +
               std::to_string(build);
    }

    friend constexpr auto operator<=>(const version&, const version&) = default;
};

// Enums sent as numbers list their allowed values; enums sent as quoted keywords list their
// spellings. Specialise one of these for each enum the command table uses.
template <class E>
struct enum_numbers;  // static constexpr E values[] = {...};
template <class E>
struct enum_keywords;  // static constexpr std::pair<E, std::string_view> words[] = {...};

template <class E>
concept numbered_enum = std::is_enum_v<E> && requires { enum_numbers<E>::values; };
template <class E>
concept keyword_enum = std::is_enum_v<E> && requires { enum_keywords<E>::words; };

template <numbered_enum E>
[[nodiscard]] constexpr bool is_valid(E e) noexcept
{
    for (E v : enum_numbers<E>::values)
        if (v == e) return true;
    return false;
}

template <keyword_enum E>
[[nodiscard]] constexpr std::string_view keyword_of(E e) noexcept
{
    for (const auto& [v, w] : enum_keywords<E>::words)
        if (v == e) return w;
    return {};
}

template <keyword_enum E>
[[nodiscard]] constexpr std::optional<E> from_keyword(std::string_view w) noexcept
{
    for (const auto& [v, word] : enum_keywords<E>::words)
        if (word == w) return v;
    return std::nullopt;
}

// A UTC offset as AT+CIPSNTPCFG takes it, in either of its two spellings: whole hours -12..14
// ("8", "-5") or [+|-]hhmm with hh -12..14 and mm 0..59 ("800", "-500", "1245"), within
// -12:00..+14:00. The spelling is kept, so a setting reads back as it was written: equality
// compares spellings (8 != 800); offset() is what both mean. A constant that is neither form
// does not compile (`utc_offset tz = 1260;`); a run-time value goes through checked().
class utc_offset {
public:
    template <std::integral I>
    ESPAT_CONSTEVAL utc_offset(I v) : value_(static_cast<std::int16_t>(v))  // NOLINT: implicit from literals by design
    {
        if (!valid(static_cast<std::int64_t>(v))) throw std::out_of_range("espat::utc_offset: not a UTC offset");
    }

    [[nodiscard]] static constexpr bool valid(std::int64_t v) noexcept
    {
        if (v >= -12 && v <= 14) return true;  // whole hours
        if (v > -100 && v < 100) return false;  // neither hours nor hhmm
        const std::int64_t mm = v % 100;         // same sign as v
        if (mm > 59 || mm < -59) return false;
        const std::int64_t minutes = (v / 100) * 60 + mm;
        return minutes >= -12 * 60 && minutes <= 14 * 60;
    }

    [[nodiscard]] static constexpr std::optional<utc_offset> checked(std::int64_t v) noexcept
    {
        if (!valid(v)) return std::nullopt;
        return utc_offset(unchecked{}, static_cast<std::int16_t>(v));
    }

    // The number as written: -12..14 (hours) or +-hhmm.
    [[nodiscard]] constexpr std::int16_t value() const noexcept { return value_; }
    [[nodiscard]] constexpr bool hhmm_form() const noexcept { return value_ < -12 || value_ > 14; }
    [[nodiscard]] constexpr std::chrono::minutes offset() const noexcept
    {
        if (!hhmm_form()) return std::chrono::hours(value_);
        return std::chrono::minutes((value_ / 100) * 60 + value_ % 100);
    }

    friend constexpr bool operator==(utc_offset, utc_offset) = default;

private:
    struct unchecked {};
    constexpr utc_offset(unchecked, std::int16_t v) noexcept : value_(v) {}
    std::int16_t value_;
};

}  // namespace espat
