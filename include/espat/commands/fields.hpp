// espat/commands/fields.hpp — what command descriptors are built from: the fields of a request
// or a response line, each a struct member (or a fixed value) with the codec that writes and reads it.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/values.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

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
    // The member is the value itself when the codec's value is already an optional (or_keyword,
    // tolerant_count): absent is then what the codec reads, not a missing parameter.
    static constexpr bool holds_value = std::is_same_v<member_type, value_type>;
    static_assert(holds_value || std::is_same_v<typename detail::unwrap<member_type>::type, value_type>,
                  "a field's member must hold its codec's value type (plain, required<> or std::optional<>)");
    static constexpr bool is_fixed = false;
    static constexpr bool is_optional = detail::is_optional_v<member_type> && !holds_value;
    static constexpr bool is_whole = false;
    static constexpr bool is_leading = Leading;
    static_assert(!Leading || is_optional, "a leading parameter is an optional one");

    static const value_type* get(const owner& o) noexcept
    {
        const member_type& m = o.*Member;
        if constexpr (holds_value) return &m;
        else if constexpr (is_optional) return m ? &*m : nullptr;
        else if constexpr (detail::is_required_v<member_type>) return &m.value;
        else return &m;
    }
    static void set(owner& o, value_type v)
    {
        if constexpr (!holds_value && detail::is_required_v<member_type>) (o.*Member).value = std::move(v);
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

}  // namespace espat::commands
