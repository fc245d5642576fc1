// espat/commands/codecs.hpp — how one parameter or response field is written and read, for
// each kind of value. Requests are escaped; responses are not (the module never escapes).
#pragma once

#include <espat/config.hpp>
#include <espat/commands/syntax.hpp>
#include <espat/commands/values.hpp>
#include <espat/detail/chars.hpp>

#include <asio/ip/address.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace espat::commands {

// A codec: value_type; encode (host writes a request parameter; false if the value cannot be
// sent); decode_request (device reads one); encode_response / decode_response (the same for
// a response field); `quoted` and `description` for the generated command reference.
template <class C>
concept codec = requires(std::string& out, const typename C::value_type& v, std::string_view tok) {
    { C::encode(out, v) } -> std::same_as<bool>;
    { C::decode_request(tok) } -> std::same_as<std::optional<typename C::value_type>>;
    { C::encode_response(out, v) } -> std::same_as<void>;
    { C::decode_response(tok) } -> std::same_as<std::optional<typename C::value_type>>;
    { C::description } -> std::convertible_to<std::string_view>;
};

namespace detail {

template <std::integral T>
std::optional<T> parse_int(std::string_view s) noexcept
{
    if (s.starts_with('+')) s.remove_prefix(1);
    T v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

template <std::integral T>
void append_int(std::string& out, T v)
{
    char buf[24];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out.append(buf, p);
}

// Responses quote strings on newer firmware and not on older (+CIPDOMAIN, +CIFSR): accept both.
constexpr std::string_view unquote_lenient(std::string_view s) noexcept { return espat::detail::strip_quotes(s); }

}  // namespace detail

// Any value of an integer type, written in decimal.
template <std::integral T>
struct integer {
    using value_type = T;
    static constexpr std::string_view description = "integer";
    static bool encode(std::string& out, T v) { return detail::append_int(out, v), true; }
    static std::optional<T> decode_request(std::string_view t) noexcept { return detail::parse_int<T>(t); }
    static void encode_response(std::string& out, T v) { detail::append_int(out, v); }
    static std::optional<T> decode_response(std::string_view t) noexcept { return detail::parse_int<T>(t); }
};

// An integer with the documented range, carried as espat::bounded.
template <class B>
    requires is_bounded_v<B>
struct ranged {
    using value_type = B;
    static constexpr std::string_view description = "integer in range";
    static bool encode(std::string& out, const B& v)
    {
        if (v.value() < B::min || v.value() > B::max) return false;
        detail::append_int(out, v.value());
        return true;
    }
    static std::optional<B> decode_request(std::string_view t) noexcept
    {
        auto v = detail::parse_int<std::int64_t>(t);
        return v ? B::checked(*v) : std::nullopt;
    }
    static void encode_response(std::string& out, const B& v) { detail::append_int(out, v.value()); }
    static std::optional<B> decode_response(std::string_view t) noexcept { return decode_request(t); }
};

// 0 or 1.
struct flag {
    using value_type = bool;
    static constexpr std::string_view description = "0 or 1";
    static bool encode(std::string& out, bool v) { return out += v ? '1' : '0', true; }
    static std::optional<bool> decode_request(std::string_view t) noexcept
    {
        if (t == "0") return false;
        if (t == "1") return true;
        return std::nullopt;
    }
    static void encode_response(std::string& out, bool v) { out += v ? '1' : '0'; }
    static std::optional<bool> decode_response(std::string_view t) noexcept { return decode_request(t); }
};

// A bit mask of at most Max: written in decimal as the reference does; read in decimal or as
// 0x-prefixed hex, which host drivers send (lwESP: AT+CWLAPOPT=1,0x7FF, host-drivers.md).
template <std::unsigned_integral T, T Max = std::numeric_limits<T>::max()>
struct bitmask {
    using value_type = T;
    static constexpr T max = Max;
    static constexpr std::string_view description = "bit mask";
    static bool encode(std::string& out, T v)
    {
        if (v > Max) return false;
        detail::append_int(out, v);
        return true;
    }
    static std::optional<T> decode_request(std::string_view t) noexcept
    {
        std::optional<T> v;
        if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
            T x{};
            auto [p, ec] = std::from_chars(t.data() + 2, t.data() + t.size(), x, 16);
            if (ec == std::errc{} && p == t.data() + t.size()) v = x;
        } else {
            v = detail::parse_int<T>(t);
        }
        if (v && *v > Max) return std::nullopt;
        return v;
    }
    static void encode_response(std::string& out, T v) { detail::append_int(out, v); }
    static std::optional<T> decode_response(std::string_view t) noexcept { return decode_request(t); }
};

// An enum sent as its number; only the listed values exist.
template <numbered_enum E>
struct number {
    using value_type = E;
    using rep = std::underlying_type_t<E>;
    static constexpr std::string_view description = "number";
    static bool encode(std::string& out, E v)
    {
        if (!is_valid(v)) return false;
        detail::append_int(out, static_cast<rep>(v));
        return true;
    }
    static std::optional<E> decode_request(std::string_view t) noexcept
    {
        auto v = detail::parse_int<rep>(t);
        if (!v || !is_valid(static_cast<E>(*v))) return std::nullopt;
        return static_cast<E>(*v);
    }
    static void encode_response(std::string& out, E v) { detail::append_int(out, static_cast<rep>(v)); }
    static std::optional<E> decode_response(std::string_view t) noexcept { return decode_request(t); }
};

// An enum sent as a quoted keyword ("TCP").
template <keyword_enum E>
struct keyword {
    using value_type = E;
    static constexpr std::string_view description = "keyword";
    static bool encode(std::string& out, E v)
    {
        const std::string_view w = keyword_of(v);
        if (w.empty()) return false;
        append_quoted(out, w);
        return true;
    }
    static std::optional<E> decode_request(std::string_view t)
    {
        auto s = unquote_escaped(t);
        return s ? from_keyword<E>(*s) : std::nullopt;
    }
    static void encode_response(std::string& out, E v) { out += '"', out += keyword_of(v), out += '"'; }
    static std::optional<E> decode_response(std::string_view t) noexcept
    {
        return from_keyword<E>(detail::unquote_lenient(t));
    }
};

// A quoted string of at most MaxLen bytes (before escaping), never holding CR, LF or NUL.
template <std::size_t MaxLen>
struct quoted {
    using value_type = std::string;
    static constexpr std::size_t max_length = MaxLen;
    static constexpr std::string_view description = "string";
    static bool encode(std::string& out, const std::string& v)
    {
        if (v.size() > MaxLen || !sendable(v)) return false;
        append_quoted(out, v);
        return true;
    }
    static std::optional<std::string> decode_request(std::string_view t)
    {
        auto s = unquote_escaped(t);
        if (!s || s->size() > MaxLen || !sendable(*s)) return std::nullopt;
        return s;
    }
    // The module prints strings as they are, unescaped, between quotes.
    static void encode_response(std::string& out, const std::string& v) { out += '"', out += v, out += '"'; }
    static std::optional<std::string> decode_response(std::string_view t)
    {
        return std::string(detail::unquote_lenient(t));
    }
};

// Text a response carries without quotes (asctime, firmware lines); never sent by the host.
struct bare_text {
    using value_type = std::string;
    static constexpr std::string_view description = "text";
    static bool encode(std::string& out, const std::string& v)
    {
        if (!sendable(v) || v.find_first_of(",\"\\") != std::string::npos) return false;
        out += v;
        return true;
    }
    static std::optional<std::string> decode_request(std::string_view t) { return std::string(t); }
    static void encode_response(std::string& out, const std::string& v) { out += v; }
    static std::optional<std::string> decode_response(std::string_view t) { return std::string(t); }
};

// An IPv4 or IPv6 address, quoted; a response may leave the quotes out (older firmware).
struct ip_address {
    using value_type = asio::ip::address;
    static constexpr std::string_view description = "IP address";
    static std::optional<asio::ip::address> parse(std::string_view s)
    {
        // Copied to a terminated buffer on the stack, not a std::string: an IPv6 address is
        // longer than the string's inline storage, and decoding should not allocate.
        std::array<char, 64> text{};
        if (s.size() >= text.size() || s.find('\0') != std::string_view::npos) return std::nullopt;
        std::copy(s.begin(), s.end(), text.begin());
        std::error_code ec;
        auto a = asio::ip::make_address(text.data(), ec);
        if (ec) return std::nullopt;
        return a;
    }
    static bool encode(std::string& out, const asio::ip::address& v) { return append_quoted(out, v.to_string()), true; }
    static std::optional<asio::ip::address> decode_request(std::string_view t)
    {
        auto s = unquote_escaped(t);
        return s ? parse(*s) : std::nullopt;
    }
    static void encode_response(std::string& out, const asio::ip::address& v) { out += '"', out += v.to_string(), out += '"'; }
    static std::optional<asio::ip::address> decode_response(std::string_view t) { return parse(detail::unquote_lenient(t)); }
};

// An IP address a response prints without quotes (NONOS AT+CIPDNS_CUR?: one bare address per
// line); read quoted or not, as ip_address reads. A request sends it quoted.
struct bare_ip_address : ip_address {
    static void encode_response(std::string& out, const asio::ip::address& v) { out += v.to_string(); }
};

// A MAC address "aa:bb:cc:dd:ee:ff", quoted.
struct mac {
    using value_type = mac_address;
    static constexpr std::string_view description = "MAC address";
    static bool encode(std::string& out, const mac_address& v) { return append_quoted(out, v.to_string()), true; }
    static std::optional<mac_address> decode_request(std::string_view t)
    {
        auto s = unquote_escaped(t);
        return s ? mac_address::parse(*s) : std::nullopt;
    }
    static void encode_response(std::string& out, const mac_address& v) { out += '"', out += v.to_string(), out += '"'; }
    static std::optional<mac_address> decode_response(std::string_view t)
    {
        return mac_address::parse(detail::unquote_lenient(t));
    }
};

// A duration carried as a whole number of Unit (seconds, milliseconds), within 0..Max.
template <class Duration, std::int64_t Max, std::int64_t Min = 0>
struct duration {
    using value_type = Duration;
    static constexpr std::string_view description = "duration";
    static bool encode(std::string& out, Duration v)
    {
        if (v.count() < Min || v.count() > Max) return false;
        detail::append_int(out, static_cast<std::int64_t>(v.count()));
        return true;
    }
    static std::optional<Duration> decode_request(std::string_view t) noexcept
    {
        auto v = detail::parse_int<std::int64_t>(t);
        if (!v || *v < Min || *v > Max) return std::nullopt;
        return Duration(*v);
    }
    static void encode_response(std::string& out, Duration v) { detail::append_int(out, static_cast<std::int64_t>(v.count())); }
    static std::optional<Duration> decode_response(std::string_view t) noexcept
    {
        auto v = detail::parse_int<std::int64_t>(t);
        if (!v) return std::nullopt;
        return Duration(*v);
    }
};

// The asctime form of AT+CIPSNTPTIME? ("Thu Jan  1 00:02:08 1970", day space- or zero-padded).
struct asctime {
    using value_type = std::chrono::sys_seconds;
    static constexpr std::string_view description = "asctime date";

    static std::optional<std::chrono::sys_seconds> parse(std::string_view s) noexcept
    {
        using namespace std::chrono;
        constexpr std::string_view months = "JanFebMarAprMayJunJulAugSepOctNovDec";
        // "Www Mmm dd hh:mm:ss yyyy", possibly with doubled spaces.
        auto next = [&](std::string_view& rest) {
            while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
            std::size_t e = rest.find(' ');
            std::string_view tok = rest.substr(0, e);
            rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e);
            return tok;
        };
        std::string_view rest = s;
        const std::string_view wday_tok = next(rest), mon_tok = next(rest), day_tok = next(rest),
                               hms = next(rest), year_tok = next(rest);
        if (wday_tok.size() != 3 || mon_tok.size() != 3 || hms.size() != 8 || !next(rest).empty()) return std::nullopt;
        const std::size_t mi = months.find(mon_tok);
        if (mi == std::string_view::npos || mi % 3 != 0) return std::nullopt;
        auto d = detail::parse_int<unsigned>(day_tok);
        auto y = detail::parse_int<int>(year_tok);
        auto hh = detail::parse_int<int>(hms.substr(0, 2));
        auto mm = detail::parse_int<int>(hms.substr(3, 2));
        auto ss = detail::parse_int<int>(hms.substr(6, 2));
        if (!d || !y || !hh || !mm || !ss || hms[2] != ':' || hms[5] != ':' || *hh > 23 || *mm > 59 || *ss > 60)
            return std::nullopt;
        const year_month_day ymd{std::chrono::year{*y}, std::chrono::month{static_cast<unsigned>(mi / 3 + 1)}, std::chrono::day{*d}};
        if (!ymd.ok()) return std::nullopt;
        return sys_days{ymd} + hours{*hh} + minutes{*mm} + seconds{*ss};
    }

    static std::string format(std::chrono::sys_seconds t)
    {
        using namespace std::chrono;
        constexpr std::string_view days = "SunMonTueWedThuFriSat";
        constexpr std::string_view months = "JanFebMarAprMayJunJulAugSepOctNovDec";
        const sys_days dp = floor<std::chrono::days>(t);
        const year_month_day ymd{dp};
        const hh_mm_ss hms{t - dp};
        const unsigned wd = weekday{dp}.c_encoding();
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.3s %.3s %2u %02d:%02d:%02d %d", days.data() + wd * 3,
                      months.data() + (static_cast<unsigned>(ymd.month()) - 1) * 3, static_cast<unsigned>(ymd.day()),
                      static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                      static_cast<int>(hms.seconds().count()), static_cast<int>(ymd.year()));
        return buf;
    }

    static bool encode(std::string& out, std::chrono::sys_seconds v) { return out += format(v), true; }
    static std::optional<std::chrono::sys_seconds> decode_request(std::string_view t) noexcept { return parse(t); }
    static void encode_response(std::string& out, std::chrono::sys_seconds v) { out += format(v); }
    static std::optional<std::chrono::sys_seconds> decode_response(std::string_view t) noexcept { return parse(t); }
};

// ---------------------------------------------------------------------------------------------
// Lists and tolerant numbers (added for the TCP/IP commands; generic, named for what they read).

namespace detail {


// A codec whose value spans the rest of a parameter list (list_of, counted): the request
// decoder hands it all the remaining parameters as one token.
template <class C>
inline constexpr bool takes_rest_v = requires { requires C::takes_rest; };

}  // namespace detail

// A count the module prints as "-1", or leaves empty, when there is nothing to count
// (AT+CIPRECVLEN? for a link that is not open, on different builds): both read as nullopt,
// and nullopt is written empty, as the reference prints it.
template <std::integral T>
struct tolerant_count {
    using value_type = std::optional<T>;
    static constexpr std::string_view description = "count, or -1 / empty for none";
    static std::optional<value_type> read(std::string_view t) noexcept
    {
        if (t.empty() || t == "-1") return value_type{};
        auto v = detail::parse_int<T>(t);
        if (!v) return std::nullopt;
        if constexpr (std::is_signed_v<T>)
            if (*v < 0) return std::nullopt;
        return value_type{*v};
    }
    static bool encode(std::string& out, const value_type& v)
    {
        if (!v) return true;
        if constexpr (std::is_signed_v<T>)
            if (*v < 0) return false;
        detail::append_int(out, *v);
        return true;
    }
    static std::optional<value_type> decode_request(std::string_view t) noexcept { return read(t); }
    static void encode_response(std::string& out, const value_type& v) { (void)encode(out, v); }
    static std::optional<value_type> decode_response(std::string_view t) noexcept { return read(t); }
};

// Min..Max items of one codec, separated by commas ("h2","http/1.1" or 100,,,,). As the last
// parameter of a request it takes the rest of the list; as the last field of a response line
// give it the line's FreeIndex so it gets the rest of the line.
template <codec Item, std::size_t Min, std::size_t Max>
struct list_of {
    static_assert(Min <= Max);
    using value_type = std::vector<typename Item::value_type>;
    using item_codec = Item;
    static constexpr bool takes_rest = true;
    static constexpr std::size_t min_items = Min;
    static constexpr std::size_t max_items = Max;
    static constexpr std::string_view description = "comma-separated list";

    static bool encode(std::string& out, const value_type& v)
    {
        if (v.size() < Min || v.size() > Max) return false;
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i) out += ',';
            if (!Item::encode(out, v[i])) return false;
        }
        return true;
    }
    static std::optional<value_type> decode_request(std::string_view t)
    {
        const auto toks = split_request_params(t);
        if (toks.size() < Min || toks.size() > Max) return std::nullopt;
        value_type v;
        for (auto tok : toks) {
            auto d = Item::decode_request(tok);
            if (!d) return std::nullopt;
            v.push_back(std::move(*d));
        }
        return v;
    }
    static void encode_response(std::string& out, const value_type& v)
    {
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i) out += ',';
            Item::encode_response(out, v[i]);
        }
    }
    static std::optional<value_type> decode_response(std::string_view t)
    {
        const auto toks = split_response_list(t);
        if (toks.size() < Min || toks.size() > Max) return std::nullopt;
        value_type v;
        for (auto tok : toks) {
            auto d = Item::decode_response(tok);
            if (!d) return std::nullopt;
            v.push_back(std::move(*d));
        }
        return v;
    }
};

// A list_of whose request form is preceded by its item count ("<counts>,<a>,<b>" of
// AT+CIPSSLCALPN): the count is written from the list and checked when read, so it can never
// disagree with it. Responses carry the items only.
template <class List>
    requires detail::takes_rest_v<List>
struct counted {
    using value_type = typename List::value_type;
    static constexpr bool takes_rest = true;
    static constexpr std::string_view description = "item count, then the items";

    static bool encode(std::string& out, const value_type& v)
    {
        detail::append_int(out, v.size());
        if (!v.empty()) out += ',';
        return List::encode(out, v);
    }
    static std::optional<value_type> decode_request(std::string_view t)
    {
        const std::size_t comma = t.find(',');  // the count is a number: its end is the first comma
        auto n = detail::parse_int<std::size_t>(t.substr(0, comma));
        if (!n) return std::nullopt;
        auto v = List::decode_request(comma == std::string_view::npos ? std::string_view{} : t.substr(comma + 1));
        if (!v || v->size() != *n) return std::nullopt;
        return v;
    }
    static void encode_response(std::string& out, const value_type& v) { List::encode_response(out, v); }
    static std::optional<value_type> decode_response(std::string_view t) { return List::decode_response(t); }
};


// A number a response prints between double quotes (the "<port>" of +MQTTCONN and
// +MQTTCONNECTED): read with or without them, written with them. A request writes it as
// Codec does.
template <codec Codec>
struct in_quotes {
    using value_type = typename Codec::value_type;
    static constexpr std::string_view description = Codec::description;
    static bool encode(std::string& out, const value_type& v) { return Codec::encode(out, v); }
    static std::optional<value_type> decode_request(std::string_view t) { return Codec::decode_request(t); }
    static void encode_response(std::string& out, const value_type& v)
    {
        out += '"';
        Codec::encode_response(out, v);
        out += '"';
    }
    static std::optional<value_type> decode_response(std::string_view t)
    {
        return Codec::decode_response(detail::unquote_lenient(t));
    }
};

// A UTC offset in either AT+CIPSNTPCFG spelling, written as it was given ("+8" reads as 8).
struct time_zone {
    using value_type = utc_offset;
    static constexpr std::string_view description = "UTC offset: hours -12..14 or [+|-]hhmm";
    static std::optional<utc_offset> read(std::string_view t) noexcept
    {
        auto v = detail::parse_int<std::int64_t>(t);
        return v ? utc_offset::checked(*v) : std::nullopt;
    }
    static bool encode(std::string& out, utc_offset v) { return detail::append_int(out, v.value()), true; }
    static std::optional<utc_offset> decode_request(std::string_view t) noexcept { return read(t); }
    static void encode_response(std::string& out, utc_offset v) { detail::append_int(out, v.value()); }
    static std::optional<utc_offset> decode_response(std::string_view t) noexcept { return read(t); }
};

}  // namespace espat::commands
