// espat/commands/descriptor.hpp — the vocabulary command descriptors are written in: parameter
// fields, command forms and response shapes, each knowing how to write and read itself.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/syntax.hpp>
#include <espat/commands/values.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace espat::commands {

// A string as a template argument, for the small things that need one (response prefixes, keys).
template <std::size_t N>
struct fixed_string {
    char chars[N]{};
    consteval fixed_string(const char (&s)[N]) { std::copy_n(s, N, chars); }  // NOLINT: implicit by design
    [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
};

// A value, or a keyword standing for its absence, matched without regard to case (firmwares
// differ): AT+PING's "+PING:TIMEOUT" and NONOS "+timeout" read as nullopt. nullopt is
// written as the keyword. (A codec, here because it takes a fixed_string.)
template <codec Codec, fixed_string Word>
struct or_keyword {
    using value_type = std::optional<typename Codec::value_type>;
    static constexpr std::string_view description = "value or keyword";
    static constexpr bool is_word(std::string_view t) noexcept
    {
        constexpr std::string_view w = Word.view();
        if (t.size() != w.size()) return false;
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        for (std::size_t i = 0; i < t.size(); ++i)
            if (lower(t[i]) != lower(w[i])) return false;
        return true;
    }
    static bool encode(std::string& out, const value_type& v)
    {
        if (!v) return out += Word.view(), true;
        return Codec::encode(out, *v);
    }
    static std::optional<value_type> decode_request(std::string_view t)
    {
        if (is_word(t)) return value_type{};
        auto d = Codec::decode_request(t);
        if (!d) return std::nullopt;
        return value_type{std::move(*d)};
    }
    static void encode_response(std::string& out, const value_type& v)
    {
        if (!v) out += Word.view();
        else Codec::encode_response(out, *v);
    }
    static std::optional<value_type> decode_response(std::string_view t)
    {
        if (is_word(t)) return value_type{};
        auto d = Codec::decode_response(t);
        if (!d) return std::nullopt;
        return value_type{std::move(*d)};
    }
};

// ---------------------------------------------------------------------------------------------
// Fields: one parameter of a request, or one field of a response line.

namespace detail {

template <class T>
struct member_traits;
template <class C, class M>
struct member_traits<M C::*> {
    using owner = C;
    using type = M;
};

template <class T>
inline constexpr bool is_optional_v = false;
template <class T>
inline constexpr bool is_optional_v<std::optional<T>> = true;
template <class T>
inline constexpr bool is_required_v = false;
template <class T>
inline constexpr bool is_required_v<required<T>> = true;

// The codec value inside a member declared T, required<T> or std::optional<T>.
template <class M>
struct unwrap {
    using type = M;
};
template <class T>
struct unwrap<required<T>> {
    using type = T;
};
template <class T>
struct unwrap<std::optional<T>> {
    using type = T;
};

}  // namespace detail

// A parameter or field stored in a struct member. The member is the codec's value type, or
// required<value type> (a request parameter that must be given), or std::optional<value type>
// (one that may be omitted: its comma is kept when a later parameter follows).
template <auto Member, codec Codec, bool Leading = false>
struct field {
    using codec_type = Codec;
    using owner = typename detail::member_traits<decltype(Member)>::owner;
    using member_type = typename detail::member_traits<decltype(Member)>::type;
    using value_type = typename Codec::value_type;
    static_assert(std::is_same_v<typename detail::unwrap<member_type>::type, value_type>,
                  "a field's member must hold its codec's value type (plain, required<> or std::optional<>)");
    static constexpr bool is_fixed = false;
    static constexpr bool is_optional = detail::is_optional_v<member_type>;
    static constexpr bool is_whole = false;
    static constexpr bool is_leading = Leading;
    static_assert(!Leading || is_optional, "a leading parameter is an optional one");

    static const value_type* get(const owner& o) noexcept
    {
        const member_type& m = o.*Member;
        if constexpr (is_optional) return m ? &*m : nullptr;
        else if constexpr (detail::is_required_v<member_type>) return &m.value;
        else return &m;
    }
    static void set(owner& o, value_type v)
    {
        if constexpr (detail::is_required_v<member_type>) (o.*Member).value = std::move(v);
        else (o.*Member) = std::move(v);
    }
};

// The optional first parameter written "[<link ID>,]": when omitted, its comma goes too.
// It is present exactly in multi-link mode (AT+CIPMUX=1); a device that knows its mode says
// so when decoding, since "3,0,0" reads either way for some commands (AT+CIPSSLCCONF).
template <auto Member, codec Codec>
using leading_field = field<Member, Codec, true>;

// A parameter with one fixed value, not stored anywhere: the "TCP" of a TCP-only request form.
template <codec Codec, auto Value>
struct fixed {
    using codec_type = Codec;
    using value_type = typename Codec::value_type;
    static constexpr bool is_fixed = true;
    static constexpr bool is_optional = false;
    static constexpr bool is_whole = false;
    static constexpr bool is_leading = false;
    static constexpr value_type value() { return value_type(Value); }
};

// A fixed parameter the module also takes left out, meaning the same (the "TCP" of
// AT+SAVETRANSLINK's TCP form): the host always writes it; the device reads it present or absent.
template <codec Codec, auto Value>
struct fixed_default : fixed<Codec, Value> {
    static constexpr bool may_be_absent = true;
};

// A response line with one field that is the whole value (+CIPMUX:<mode> -> the mode).
template <codec Codec>
struct whole {
    using codec_type = Codec;
    using value_type = typename Codec::value_type;
    static constexpr bool is_fixed = false;
    static constexpr bool is_optional = false;
    static constexpr bool is_whole = true;
    static constexpr bool is_leading = false;
};

template <class... F>
struct fields {
    static_assert(((F::is_leading ? 1 : 0) + ... + 0) <= 1, "at most one leading parameter");
    static constexpr std::size_t size = sizeof...(F);
    static constexpr std::size_t required_count = ((F::is_optional ? 0 : 1) + ... + 0);
};

// ---------------------------------------------------------------------------------------------
// Requests: parameter lists written by the host and read by the device.

namespace detail {

// Writes the parameters; trailing omitted ones are dropped, middle ones keep their comma.
// Returns the index of the first parameter that cannot be sent, or -1.
template <class Request, class... F>
int encode_params(std::string& out, const Request& r, fields<F...>)
{
    int bad = -1, index = 0;
    bool written = false;  // whether any parameter (or its empty place) was written yet
    std::size_t last_present = out.size();
    auto one = [&]<class Field>(Field*) {
        if (bad >= 0) return;
        if constexpr (Field::is_leading) {
            if (Field::get(r) == nullptr) {
                ++index;
                return;
            }
        }
        if (written) out += ',';
        written = true;
        bool ok = true;
        if constexpr (Field::is_fixed) {
            ok = Field::codec_type::encode(out, Field::value());
            last_present = out.size();
        } else {
            if (const auto* v = Field::get(r)) {
                ok = Field::codec_type::encode(out, *v);
                last_present = out.size();
            }
        }
        if (!ok) bad = index;
        ++index;
    };
    (one(static_cast<F*>(nullptr)), ...);
    if (bad < 0) out.resize(last_present);
    return bad;
}

// The member values of a decoded request, in declaration order (fixed parameters hold none).
template <class F, bool Fixed = F::is_fixed>
struct stored {
    using type = std::tuple<typename F::member_type>;
};
template <class F>
struct stored<F, true> {
    using type = std::tuple<>;
};
template <class F>
using stored_t = typename stored<F>::type;

template <class F>
std::optional<stored_t<F>> decode_param(std::optional<std::string_view> tok)
{
    const bool absent = !tok || tok->empty();
    if constexpr (F::is_fixed) {
        if (absent) {
            if constexpr (requires { F::may_be_absent; }) return std::tuple<>{};
            else return std::nullopt;
        }
        auto v = F::codec_type::decode_request(*tok);
        if (!v || !(*v == F::value())) return std::nullopt;
        return std::tuple<>{};
    } else if constexpr (F::is_optional) {
        if (absent) return std::tuple<typename F::member_type>{std::nullopt};
        auto v = F::codec_type::decode_request(*tok);
        if (!v) return std::nullopt;
        return std::tuple<typename F::member_type>{std::move(*v)};
    } else {
        if (absent) return std::nullopt;
        auto v = F::codec_type::decode_request(*tok);
        if (!v) return std::nullopt;
        return std::tuple<typename F::member_type>{typename F::member_type(std::move(*v))};
    }
}

template <class Request, class... F, std::size_t... I>
std::optional<Request> decode_params_impl(const std::vector<std::string_view>& toks, std::index_sequence<I...>)
{
    std::tuple<std::optional<stored_t<F>>...> parts{
        decode_param<F>(I < toks.size() ? std::optional<std::string_view>(toks[I]) : std::nullopt)...};
    if (!(std::get<I>(parts).has_value() && ...)) return std::nullopt;
    auto members = std::tuple_cat(std::move(*std::get<I>(parts))...);
    return std::apply([](auto&&... m) { return Request{std::move(m)...}; }, std::move(members));
}

// The last field's codec takes the rest of the list (detail::takes_rest_v): the parameters
// from its position on are handed to it as one token.
template <class... F>
struct last_takes_rest : std::false_type {};
template <class F0, class... F>
struct last_takes_rest<F0, F...>
    : std::bool_constant<takes_rest_v<typename std::tuple_element_t<sizeof...(F), std::tuple<F0, F...>>::codec_type>> {};
template <class... F>
inline constexpr bool last_takes_rest_v = last_takes_rest<F...>::value;

// Whether the device knows that a leading link id is there (multi-link mode) or not.
enum class leading_hint { unknown, present, absent };

template <class Request, class... F>
std::optional<Request> decode_params_with_rest(std::string_view params, leading_hint hint)
{
    constexpr std::size_t n = sizeof...(F);
    auto attempt = [](std::vector<std::string_view> toks) -> std::optional<Request> {
        if (toks.size() > n) {
            const std::string_view first = toks[n - 1], last = toks.back();
            toks[n - 1] = std::string_view(first.data(), static_cast<std::size_t>(last.data() + last.size() - first.data()));
            toks.resize(n);
        }
        return decode_params_impl<Request, F...>(toks, std::index_sequence_for<F...>{});
    };
    auto toks = split_request_params(params);
    constexpr bool has_leading = ((F::is_leading) || ...);
    if (has_leading && hint == leading_hint::absent) toks.insert(toks.begin(), std::string_view{});
    if (has_leading && hint == leading_hint::present && (toks.empty() || toks.front().empty())) return std::nullopt;
    auto r = attempt(toks);
    if (has_leading && hint == leading_hint::unknown && !r) {
        toks.insert(toks.begin(), std::string_view{});
        r = attempt(std::move(toks));
    }
    return r;
}

template <class Request, class... F>
std::optional<Request> decode_params(std::string_view params, fields<F...>, leading_hint hint = leading_hint::unknown)
{
    if constexpr (last_takes_rest_v<F...>) return decode_params_with_rest<Request, F...>(params, hint);
    auto toks = split_request_params(params);
    constexpr bool has_leading = ((F::is_leading) || ...);
    // Without its leading parameter the list starts one field later.
    if (has_leading && hint == leading_hint::absent) toks.insert(toks.begin(), std::string_view{});
    if (has_leading && hint == leading_hint::present && (toks.empty() || toks.front().empty())) return std::nullopt;
    if (toks.size() > sizeof...(F)) return std::nullopt;
    auto r = decode_params_impl<Request, F...>(toks, std::index_sequence_for<F...>{});
    if (has_leading && hint == leading_hint::unknown && !r && toks.size() < sizeof...(F)) {
        toks.insert(toks.begin(), std::string_view{});
        r = decode_params_impl<Request, F...>(toks, std::index_sequence_for<F...>{});
    }
    return r;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------
// Forms: AT+X=? (test), AT+X? (query), AT+X=<params> (set), AT+X (execute).

enum class form_kind { test, query, set, execute };

template <response_shape Shape>
struct test_form {
    static constexpr form_kind kind = form_kind::test;
    using response = Shape;
};

template <response_shape Shape>
struct query_form {
    static constexpr form_kind kind = form_kind::query;
    using response = Shape;
};

template <response_shape Shape = no_info>
struct execute_form {
    static constexpr form_kind kind = form_kind::execute;
    using response = Shape;
};

template <class Request, class Fields, response_shape Shape = no_info>
struct set_form {
    static constexpr form_kind kind = form_kind::set;
    using request = Request;
    using params = Fields;
    using response = Shape;
};

template <class C>
concept command_descriptor = requires {
    { C::command } -> std::convertible_to<std::string_view>;
    { C::timeout_ms } -> std::convertible_to<std::uint32_t>;
};

template <class C>
concept has_test = command_descriptor<C> && requires { typename C::test; };
template <class C>
concept has_query = command_descriptor<C> && requires { typename C::query; };
template <class C>
concept has_set = command_descriptor<C> && requires { typename C::set; };
template <class C>
concept has_execute = command_descriptor<C> && requires { typename C::execute; };

}  // namespace espat::commands
