// espat/commands/responses.hpp — the shapes of a command's response: its information lines, each
// shape reading a value from the lines the session collected and writing it back as a module would.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/fields.hpp>
#include <espat/commands/syntax.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace espat::commands {

// Responses: what a command's information lines mean.

// One line of a response as the session collected it: an information line (+NAME:args, or
// STATUS:args) has a name; a text line (AT+GMR's) has none and its whole text in args.
struct response_line {
    std::string_view name;
    std::string_view args;
};

struct nothing {
    friend constexpr bool operator==(nothing, nothing) = default;
};

// No information lines: the final result is the answer.
struct no_info {
    using value_type = nothing;
    static std::optional<nothing> decode(std::span<const response_line>) { return nothing{}; }
    static void encode(std::string&, const nothing&) {}
};

// One kind of information line: +Prefix:<fields>. FreeIndex names a field that may hold
// unescaped ',' and '"' (an SSID): the others are read around it.
template <class Value, fixed_string Prefix, class Fields, std::size_t FreeIndex = static_cast<std::size_t>(-1)>
struct line;

template <class Value, fixed_string Prefix, class... F, std::size_t FreeIndex>
struct line<Value, Prefix, fields<F...>, FreeIndex> {
    using value_type = Value;
    static constexpr std::string_view prefix = Prefix.view();
    static constexpr std::size_t field_count = sizeof...(F);
    static constexpr std::size_t required_count = fields<F...>::required_count;
    static_assert(field_count <= response_fields::capacity, "a response line with more fields than response_fields holds");

    // Tries the full field count first, then fewer while trailing optional fields may be
    // missing (older firmware prints fewer); the first count whose fields all decode wins.
    static std::optional<Value> decode_args(std::string_view args)
    {
        for (std::size_t n = field_count; n >= std::max<std::size_t>(required_count, 1); --n) {
            auto toks = FreeIndex < n ? split_response_fields(args, n, FreeIndex) : split_response_fields(args, n);
            if (!toks) continue;
            if (auto v = decode_fields(*toks)) return v;
        }
        return std::nullopt;
    }

    static std::optional<Value> decode_fields(const response_fields& toks)
    {
        Value v{};
        bool ok = true;
        std::size_t i = 0;
        auto one = [&]<class Field>(Field*) {
            const std::size_t idx = i++;
            if (!ok) return;
            if (idx >= toks.size() || (toks[idx].empty() && Field::is_optional)) {
                ok = Field::is_optional;
                return;
            }
            auto d = Field::codec_type::decode_response(toks[idx]);
            if (!d) {
                ok = false;
                return;
            }
            if constexpr (Field::is_whole) v = std::move(*d);
            else Field::set(v, std::move(*d));
        };
        (one(static_cast<F*>(nullptr)), ...);
        if (!ok) return std::nullopt;
        return v;
    }

    static void encode_args(std::string& out, const Value& v)
    {
        std::size_t i = 0, last_present = out.size();
        auto one = [&]<class Field>(Field*) {
            if (i++ > 0) out += ',';
            if constexpr (Field::is_whole) {
                Field::codec_type::encode_response(out, v);
                last_present = out.size();
            } else if (const auto* p = Field::get(v)) {
                Field::codec_type::encode_response(out, *p);
                last_present = out.size();
            }
        };
        (one(static_cast<F*>(nullptr)), ...);
        out.resize(last_present);
    }

    static void encode(std::string& out, const Value& v)
    {
        out += '+';
        out += prefix;
        out += ':';
        encode_args(out, v);
        out += "\r\n";
    }
};

// An information line printed without the '+' (STATUS:<stat> of AT+CIPSTATUS); read as line
// reads it (the parser names it the same way), written without the '+'.
template <class Value, fixed_string Prefix, class Fields, std::size_t FreeIndex = static_cast<std::size_t>(-1)>
struct plain_line : line<Value, Prefix, Fields, FreeIndex> {
    static void encode(std::string& out, const Value& v)
    {
        out += Prefix.view();
        out += ':';
        line<Value, Prefix, Fields, FreeIndex>::encode_args(out, v);
        out += "\r\n";
    }
};

// A line read only when it has at least MinFields of its fields (by default all of them),
// for telling apart layouts of different firmwares where one is not a truncation of the
// other (+CWLAP's eleven fields and ESP8266 2.x's nine). Written as line writes it.
template <class Value, fixed_string Prefix, class Fields, std::size_t FreeIndex = static_cast<std::size_t>(-1),
          std::size_t MinFields = Fields::size>
struct strict_line : line<Value, Prefix, Fields, FreeIndex> {
    static_assert(MinFields >= Fields::required_count && MinFields >= 1 && MinFields <= Fields::size);

    static std::optional<Value> decode_args(std::string_view args)
    {
        for (std::size_t n = Fields::size; n >= MinFields; --n) {
            auto toks = FreeIndex < n ? split_response_fields(args, n, FreeIndex) : split_response_fields(args, n);
            if (!toks) continue;
            if (auto v = line<Value, Prefix, Fields, FreeIndex>::decode_fields(*toks)) return v;
        }
        return std::nullopt;
    }
};

// A line whose fields the module wraps in parentheses (+CWLAP:(<ecn>,<ssid>,...) on every
// firmware, though the documentation shows none): read with or without them, written with them.
template <class Line>
struct parenthesized {
    using value_type = typename Line::value_type;
    static constexpr std::string_view prefix = Line::prefix;

    static std::optional<value_type> decode_args(std::string_view args)
    {
        const bool open = args.starts_with('('), close = args.ends_with(')');
        if (open != close || (open && args.size() < 2)) return std::nullopt;
        if (open) args = args.substr(1, args.size() - 2);
        return Line::decode_args(args);
    }
    static void encode_args(std::string& out, const value_type& v)
    {
        out += '(';
        Line::encode_args(out, v);
        out += ')';
    }
    static void encode(std::string& out, const value_type& v)
    {
        out += '+';
        out += prefix;
        out += ':';
        encode_args(out, v);
        out += "\r\n";
    }
};

namespace detail {
// The lines that are Line's: how many, and the arguments of the first. Counted in place: a
// decode allocates only what its value holds.
struct prefix_matches {
    std::size_t count = 0;
    std::string_view first_args;
};
template <class Line>
prefix_matches matches_of(std::span<const response_line> lines)
{
    prefix_matches m;
    for (const auto& l : lines) {
        if (l.name != Line::prefix) continue;
        if (m.count++ == 0) m.first_args = l.args;
    }
    return m;
}
}  // namespace detail

// Exactly one such line.
template <class Line>
struct one {
    using value_type = typename Line::value_type;
    static std::optional<value_type> decode(std::span<const response_line> lines)
    {
        const auto m = detail::matches_of<Line>(lines);
        if (m.count != 1) return std::nullopt;
        return Line::decode_args(m.first_args);
    }
    static void encode(std::string& out, const value_type& v) { Line::encode(out, v); }
};

// Zero or one such line.
template <class Line>
struct maybe {
    using value_type = std::optional<typename Line::value_type>;
    static std::optional<value_type> decode(std::span<const response_line> lines)
    {
        const auto m = detail::matches_of<Line>(lines);
        if (m.count == 0) return value_type{};
        if (m.count > 1) return std::nullopt;
        auto v = Line::decode_args(m.first_args);
        if (!v) return std::nullopt;
        return value_type{std::move(*v)};
    }
    static void encode(std::string& out, const value_type& v)
    {
        if (v) Line::encode(out, *v);
    }
};

// Any number of such lines, in order.
template <class Line>
struct many {
    using value_type = std::vector<typename Line::value_type>;
    static std::optional<value_type> decode(std::span<const response_line> lines)
    {
        value_type out;
        out.reserve(detail::matches_of<Line>(lines).count);
        for (const auto& l : lines) {
            if (l.name != Line::prefix) continue;
            auto v = Line::decode_args(l.args);
            if (!v) return std::nullopt;
            out.push_back(std::move(*v));
        }
        return out;
    }
    static void encode(std::string& out, const value_type& v)
    {
        for (const auto& x : v) Line::encode(out, x);
    }
};

// A struct whose members each come from their own shape over the same lines
// (AT+CIPSTATUS: a STATUS: line and +CIPSTATUS: lines).
template <auto Member, class Shape>
struct part {
    using owner = typename detail::member_traits<decltype(Member)>::owner;
    using shape = Shape;
    static constexpr auto member = Member;
};

template <class Value, class... Parts>
struct record {
    using value_type = Value;
    static std::optional<Value> decode(std::span<const response_line> lines)
    {
        Value v{};
        bool ok = true;
        auto one_part = [&]<class P>(P*) {
            if (!ok) return;
            auto d = P::shape::decode(lines);
            if (!d) ok = false;
            else v.*P::member = std::move(*d);
        };
        (one_part(static_cast<Parts*>(nullptr)), ...);
        if (!ok) return std::nullopt;
        return v;
    }
    static void encode(std::string& out, const Value& v) { (Parts::shape::encode(out, v.*Parts::member), ...); }
};

// Lines of the form +Prefix:<key><Sep><value>, one per member: AT+CIPSTA? prints
// +CIPSTA:ip:"..." then gateway and netmask; AT+CIFSR prints +CIFSR:STAIP,"...".
template <fixed_string Key, auto Member, codec Codec>
struct key {
    static constexpr std::string_view name = Key.view();
    using field_type = field<Member, Codec>;
};

template <class Value, fixed_string Prefix, char Sep, class... Keys>
struct keyed {
    using value_type = Value;
    static constexpr std::string_view prefix = Prefix.view();
    static std::optional<Value> decode(std::span<const response_line> lines)
    {
        Value v{};
        for (const auto& l : lines) {
            if (l.name != prefix) continue;
            const std::size_t sep = l.args.find(Sep);
            if (sep == std::string_view::npos) return std::nullopt;
            const std::string_view k = l.args.substr(0, sep), rest = l.args.substr(sep + 1);
            bool ok = true;
            auto try_key = [&]<class K>(K*) {
                if (k != K::name) return;
                auto d = K::field_type::codec_type::decode_response(rest);
                if (!d) ok = false;
                else K::field_type::set(v, std::move(*d));
            };
            (try_key(static_cast<Keys*>(nullptr)), ...);
            if (!ok) return std::nullopt;  // unknown keys are skipped: newer firmware adds some
        }
        return v;
    }
    static void encode(std::string& out, const Value& v)
    {
        auto one_key = [&]<class K>(K*) {
            if (const auto* p = K::field_type::get(v)) {
                out += '+';
                out += prefix;
                out += ':';
                out += K::name;
                out += Sep;
                K::field_type::codec_type::encode_response(out, *p);
                out += "\r\n";
            }
        };
        (one_key(static_cast<Keys*>(nullptr)), ...);
    }
};

// Lines +Prefix:<value> holding one member each, in order: the first line into the first
// slot's member, the next into the second (the bare address lines older firmware prints for
// AT+CIFSR and AT+CIPDNS?). Members are std::optional; fewer lines leave the last ones empty,
// more lines than slots do not read. Written: the present members, in order.
template <auto Member, codec Codec>
struct slot {
    using field_type = field<Member, Codec>;
    static_assert(field_type::is_optional, "a slot's member is a std::optional: the line may be missing");
};

template <class Value, fixed_string Prefix, class... Slots>
struct sequence {
    using value_type = Value;
    static constexpr std::string_view prefix = Prefix.view();
    static std::optional<Value> decode(std::span<const response_line> lines)
    {
        std::vector<std::string_view> args;
        for (const auto& l : lines)
            if (l.name == prefix) args.push_back(l.args);
        if (args.size() > sizeof...(Slots)) return std::nullopt;
        Value v{};
        bool ok = true;
        std::size_t i = 0;
        auto one_slot = [&]<class S>(S*) {
            const std::size_t idx = i++;
            if (!ok || idx >= args.size()) return;
            auto d = S::field_type::codec_type::decode_response(args[idx]);
            if (!d) ok = false;
            else S::field_type::set(v, std::move(*d));
        };
        (one_slot(static_cast<Slots*>(nullptr)), ...);
        if (!ok) return std::nullopt;
        return v;
    }
    static void encode(std::string& out, const Value& v)
    {
        auto one_slot = [&]<class S>(S*) {
            if (const auto* p = S::field_type::get(v)) {
                out += '+';
                out += prefix;
                out += ':';
                S::field_type::codec_type::encode_response(out, *p);
                out += "\r\n";
            }
        };
        (one_slot(static_cast<Slots*>(nullptr)), ...);
    }
};

// The first of several shapes that reads the lines, for a response firmwares print in
// different forms (AT+CIFSR's key lines or bare addresses). Written in the first shape, the
// canonical one.
template <class First, class... Rest>
struct one_of {
    using value_type = typename First::value_type;
    static_assert((std::is_same_v<value_type, typename Rest::value_type> && ...), "one_of's shapes read the same value");
    static std::optional<value_type> decode(std::span<const response_line> lines)
    {
        if (auto v = First::decode(lines)) return v;
        if constexpr (sizeof...(Rest) > 0) return one_of<Rest...>::decode(lines);
        else return std::nullopt;
    }
    static void encode(std::string& out, const value_type& v) { First::encode(out, v); }
};

// The text lines of a response (AT+GMR), read as a whole by a block codec with
// decode(std::span<const std::string_view>) and encode(std::string&, const value_type&).
template <class BlockCodec>
struct text_block {
    using value_type = typename BlockCodec::value_type;
    static std::optional<value_type> decode(std::span<const response_line> lines)
    {
        std::vector<std::string_view> text;
        for (const auto& l : lines)
            if (l.name.empty()) text.push_back(l.args);
        return BlockCodec::decode(text);
    }
    static void encode(std::string& out, const value_type& v) { BlockCodec::encode(out, v); }
};

template <class S>
concept response_shape = requires(std::span<const response_line> lines, std::string& out,
                                  const typename S::value_type& v) {
    { S::decode(lines) } -> std::same_as<std::optional<typename S::value_type>>;
    S::encode(out, v);
};

}  // namespace espat::commands
