// espat/commands/describe.hpp — any typed answer the command table decodes, as one line of JSON
// text for a person or a log (at_console prints them). Written once over the response shapes of
// descriptor.hpp: a field's member pointer names its key, so no command needs code of its own.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/descriptor.hpp>
#include <espat/commands/firmware.hpp>
#include <espat/commands/values.hpp>
#include <espat/detail/json_string.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <ranges>
#include <ratio>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace espat::commands {

// What each kind of value becomes. Keys are the C++ member names (AT+CIPSTA?'s "ip6ll" line
// is "ipv6_link_local"), so the two layouts of AT+CIFSR read alike; every member is written,
// an empty optional as null.
//   strings                   JSON strings: printable ASCII as is, other bytes \u00XX (one per
//                             byte, as espat-decode writes payloads: see detail/json_string.hpp)
//   IP and MAC addresses,     their text, as JSON strings
//   versions
//   bool, integers, bounded   true/false, decimal numbers
//   enums                     a keyword enum its keyword ("TCP"), the others their number
//   durations                 "<count><unit>" strings ("15s", "250ms"); a unit without a
//                             name in milliseconds ("36000" deciseconds: "3600000ms")
//   system clock times        "1970-01-01T00:02:08Z"
//   optional, vector          the value or null; an array
//   no information lines      {}
//   a struct a shape reads    {"member":value,...} in the shape's order
//   a struct named_members    {"member":value,...} in the order named_members<T> lists
//   lists                     (AT+GMR's firmware_info, read by a hand-written block codec)
//   any other struct          [value,...] in declaration order: nothing names its members
template <class T>
void describe_value(std::string& out, const T& v);

namespace detail {

// The name of the member M points to, cut from the compiler's spelling of this function's
// signature: "[with auto M = &espat::station_connection::ssid; ...]" (g++),
// "[M = &espat::station_connection::ssid]" (clang).
template <auto M>
constexpr std::string_view member_name_of() noexcept
{
    const std::string_view sig = __PRETTY_FUNCTION__;
    const std::size_t start = sig.find("M = &");
    if (start == std::string_view::npos) return {};
    const std::string_view path = sig.substr(start, sig.find_first_of(";]", start) - start);
    const std::size_t colons = path.rfind("::");
    return colons == std::string_view::npos ? std::string_view{} : path.substr(colons + 2);
}

template <auto M>
inline constexpr std::string_view member_name = member_name_of<M>();

template <auto M>
void append_member_key(std::string& out)
{
    static_assert(!member_name<M>.empty(), "describe: the compiler's __PRETTY_FUNCTION__ names no member");
    espat::detail::append_json_string(out, member_name<M>);
    out += ':';
}

template <class F>
struct field_member;
template <auto M, codec C, bool L>
struct field_member<field<M, C, L>> {
    static constexpr auto value = M;
};

template <class T>
inline constexpr bool is_duration_v = false;
template <class R, class P>
inline constexpr bool is_duration_v<std::chrono::duration<R, P>> = true;

// A time of the system clock in whole seconds or coarser units.
template <class T>
inline constexpr bool is_sys_time_v = false;
template <class D>
inline constexpr bool is_sys_time_v<std::chrono::time_point<std::chrono::system_clock, D>> =
    std::is_integral_v<typename D::rep> && std::ratio_divide<typename D::period, std::ratio<1>>::den == 1;

template <class T>
inline constexpr bool dependent_false = false;

template <class Rep, class Period>
void append_duration(std::string& out, std::chrono::duration<Rep, Period> d)
{
    static_assert(std::is_integral_v<Rep>, "describe: a duration with a floating-point count");
    auto put = [&](auto count, std::string_view unit) {
        out += '"';
        append_int(out, count);
        out += unit;
        out += '"';
    };
    if constexpr (std::ratio_equal_v<Period, std::ratio<3600>>) put(d.count(), "h");
    else if constexpr (std::ratio_equal_v<Period, std::ratio<60>>) put(d.count(), "min");
    else if constexpr (std::ratio_equal_v<Period, std::ratio<1>>) put(d.count(), "s");
    else if constexpr (std::ratio_equal_v<Period, std::milli>) put(d.count(), "ms");
    else if constexpr (std::ratio_equal_v<Period, std::micro>) put(d.count(), "us");
    else if constexpr (std::ratio_equal_v<Period, std::nano>) put(d.count(), "ns");
    else if constexpr (std::ratio_divide<Period, std::milli>::den == 1)
        put(std::chrono::duration_cast<std::chrono::duration<Rep, std::milli>>(d).count(), "ms");
    else static_assert(dependent_false<Period>, "describe: a duration unit finer than 1 ms that is not us or ns");
}

template <class D>
void append_sys_time(std::string& out, std::chrono::time_point<std::chrono::system_clock, D> t)
{
    using namespace std::chrono;
    const sys_seconds s = time_point_cast<seconds>(t);
    const sys_days day = floor<days>(s);
    const year_month_day ymd{day};
    const hh_mm_ss hms{s - day};
    char buf[48];
    std::snprintf(buf, sizeof buf, "\"%04d-%02u-%02uT%02d:%02d:%02dZ\"", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    out += buf;
}

// Positional output of a struct no shape describes: its member count is the most initialisers
// it takes (an aggregate takes fewer too), then a structured binding reaches the members.
struct any_member {
    template <class T>
    operator T() const noexcept;  // NOLINT: never defined, only named in unevaluated braces
};

template <class T, std::size_t... I>
constexpr bool takes_initialisers(std::index_sequence<I...>)
{
    return requires { T{(static_cast<void>(I), any_member{})...}; };
}

inline constexpr std::size_t max_positional_members = 12;

template <class T, std::size_t N = max_positional_members + 1>
constexpr std::size_t member_count()
{
    if constexpr (N == 0) return 0;
    else if constexpr (takes_initialisers<T>(std::make_index_sequence<N>{})) return N;
    else return member_count<T, N - 1>();
}

template <class... M>
void append_array_of(std::string& out, const M&... members)
{
    out += '[';
    bool first = true;
    auto one = [&](const auto& m) {
        if (!first) out += ',';
        first = false;
        describe_value(out, m);
    };
    (one(members), ...);
    out += ']';
}

template <class T>
void describe_positional(std::string& out, const T& v)
{
    constexpr std::size_t n = member_count<T>();
    static_assert(n >= 1 && n <= max_positional_members,
                  "describe: a struct no response shape describes, with more members than describe_positional binds");
    if constexpr (n == 1) {
        const auto& [a] = v;
        append_array_of(out, a);
    } else if constexpr (n == 2) {
        const auto& [a, b] = v;
        append_array_of(out, a, b);
    } else if constexpr (n == 3) {
        const auto& [a, b, c] = v;
        append_array_of(out, a, b, c);
    } else if constexpr (n == 4) {
        const auto& [a, b, c, d] = v;
        append_array_of(out, a, b, c, d);
    } else if constexpr (n == 5) {
        const auto& [a, b, c, d, e] = v;
        append_array_of(out, a, b, c, d, e);
    } else if constexpr (n == 6) {
        const auto& [a, b, c, d, e, f] = v;
        append_array_of(out, a, b, c, d, e, f);
    } else if constexpr (n == 7) {
        const auto& [a, b, c, d, e, f, g] = v;
        append_array_of(out, a, b, c, d, e, f, g);
    } else if constexpr (n == 8) {
        const auto& [a, b, c, d, e, f, g, h] = v;
        append_array_of(out, a, b, c, d, e, f, g, h);
    } else if constexpr (n == 9) {
        const auto& [a, b, c, d, e, f, g, h, i] = v;
        append_array_of(out, a, b, c, d, e, f, g, h, i);
    } else if constexpr (n == 10) {
        const auto& [a, b, c, d, e, f, g, h, i, j] = v;
        append_array_of(out, a, b, c, d, e, f, g, h, i, j);
    } else if constexpr (n == 11) {
        const auto& [a, b, c, d, e, f, g, h, i, j, k] = v;
        append_array_of(out, a, b, c, d, e, f, g, h, i, j, k);
    } else if constexpr (n == 12) {
        const auto& [a, b, c, d, e, f, g, h, i, j, k, l] = v;
        append_array_of(out, a, b, c, d, e, f, g, h, i, j, k, l);
    }
}

// One member held by a field descriptor (field, or the field_type of a key or slot), as
// "name":value; an empty optional is null.
template <class Field, class Owner>
void append_member(std::string& out, const Owner& v, bool& first)
{
    if (!first) out += ',';
    first = false;
    append_member_key<field_member<Field>::value>(out);
    if (const auto* p = Field::get(v)) describe_value(out, *p);
    else out += "null";
}

// The shapes, one overload each; a shape derived from line (plain_line, strict_line) takes
// line's. Static members of one class, so each sees the others whatever their order.
struct shapes {
    static void run(std::string& out, const nothing& v, const no_info*) { describe_value(out, v); }

    template <class V, fixed_string P, class... F, std::size_t I>
    static void run(std::string& out, const std::type_identity_t<V>& v, const line<V, P, fields<F...>, I>*)
    {
        if constexpr ((F::is_whole || ...)) {
            static_assert(sizeof...(F) == 1, "describe: a whole field is a line's only field");
            describe_value(out, v);
        } else {
            out += '{';
            bool first = true;
            auto one = [&]<class Field>(Field*) {
                if constexpr (!Field::is_fixed) append_member<Field>(out, v, first);
            };
            (one(static_cast<F*>(nullptr)), ...);
            out += '}';
        }
    }

    template <class L>
    static void run(std::string& out, const typename L::value_type& v, const parenthesized<L>*)
    {
        run(out, v, static_cast<const L*>(nullptr));
    }

    template <class L>
    static void run(std::string& out, const typename L::value_type& v, const one<L>*)
    {
        run(out, v, static_cast<const L*>(nullptr));
    }

    template <class L>
    static void run(std::string& out, const std::optional<typename L::value_type>& v, const maybe<L>*)
    {
        if (v) run(out, *v, static_cast<const L*>(nullptr));
        else out += "null";
    }

    template <class L>
    static void run(std::string& out, const std::vector<typename L::value_type>& v, const many<L>*)
    {
        out += '[';
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i) out += ',';
            run(out, v[i], static_cast<const L*>(nullptr));
        }
        out += ']';
    }

    template <class V, class... Parts>
    static void run(std::string& out, const std::type_identity_t<V>& v, const record<V, Parts...>*)
    {
        out += '{';
        bool first = true;
        auto one_part = [&]<class Part>(Part*) {
            if (!first) out += ',';
            first = false;
            append_member_key<Part::member>(out);
            run(out, v.*Part::member, static_cast<const typename Part::shape*>(nullptr));
        };
        (one_part(static_cast<Parts*>(nullptr)), ...);
        out += '}';
    }

    template <class V, fixed_string P, char Sep, class... Keys>
    static void run(std::string& out, const std::type_identity_t<V>& v, const keyed<V, P, Sep, Keys...>*)
    {
        out += '{';
        bool first = true;
        (append_member<typename Keys::field_type>(out, v, first), ...);
        out += '}';
    }

    template <class V, fixed_string P, class... Slots>
    static void run(std::string& out, const std::type_identity_t<V>& v, const sequence<V, P, Slots...>*)
    {
        out += '{';
        bool first = true;
        (append_member<typename Slots::field_type>(out, v, first), ...);
        out += '}';
    }

    // The first shape is the canonical one: encode writes it, and the round-trip tests read
    // every member back through it.
    template <class First, class... Rest>
    static void run(std::string& out, const typename First::value_type& v, const one_of<First, Rest...>*)
    {
        run(out, v, static_cast<const First*>(nullptr));
    }

    template <class Block>
    static void run(std::string& out, const typename Block::value_type& v, const text_block<Block>*)
    {
        describe_value(out, v);
    }
};

}  // namespace detail

// A response shape describe() knows: one of descriptor.hpp's, or one derived from line.
template <class Shape>
concept describable_shape = response_shape<Shape> && requires(std::string& out, const typename Shape::value_type& v) {
    detail::shapes::run(out, v, static_cast<const Shape*>(nullptr));
};

// Appends v, the value Shape decodes, as one line of JSON text (no line end).
template <class Shape>
void describe(std::string& out, const typename Shape::value_type& v)
{
    static_assert(describable_shape<Shape>, "describe: a response shape without an overload in detail::shapes");
    detail::shapes::run(out, v, static_cast<const Shape*>(nullptr));
}

template <class Shape>
[[nodiscard]] std::string describe(const typename Shape::value_type& v)
{
    std::string out;
    describe<Shape>(out, v);
    return out;
}

// The members of a struct no response shape reads (a hand-written codec's value), named so
// that it describes as an object: specialise named_members<T> with
// `using type = member_list<&T::a, &T::b>;`.
template <auto... M>
struct member_list {};
template <class T>
struct named_members {};
template <>
struct named_members<firmware_info> {
    using type = member_list<&firmware_info::at_version, &firmware_info::at_version_line, &firmware_info::chip,
                             &firmware_info::sdk_version, &firmware_info::compile_time, &firmware_info::bin_version,
                             &firmware_info::other_lines>;
};

namespace detail {

template <class T, auto... M>
void describe_named(std::string& out, const T& v, member_list<M...>)
{
    out += '{';
    bool first = true;
    auto one = [&]<auto N>(const auto& m) {
        if (!first) out += ',';
        first = false;
        append_member_key<N>(out);
        describe_value(out, m);
    };
    (one.template operator()<M>(v.*M), ...);
    out += '}';
}

}  // namespace detail

// Appends one value as JSON text, by its type (the table above); a struct comes out positional
// here unless named_members names its members, since only a shape knows their names otherwise.
template <class T>
void describe_value(std::string& out, const T& v)
{
    if constexpr (std::is_same_v<T, nothing>) {
        out += "{}";
    } else if constexpr (std::is_same_v<T, bool>) {
        out += v ? "true" : "false";
    } else if constexpr (std::is_integral_v<T>) {
        detail::append_int(out, v);
    } else if constexpr (keyword_enum<T>) {
        // A value that is not one of the listed ones has no keyword: its number, then.
        if (const std::string_view w = keyword_of(v); !w.empty()) espat::detail::append_json_string(out, w);
        else detail::append_int(out, static_cast<std::underlying_type_t<T>>(v));
    } else if constexpr (std::is_enum_v<T>) {
        detail::append_int(out, static_cast<std::underlying_type_t<T>>(v));
    } else if constexpr (is_bounded_v<T> || std::is_same_v<T, utc_offset>) {
        detail::append_int(out, v.value());
    } else if constexpr (detail::is_required_v<T>) {
        describe_value(out, v.value);
    } else if constexpr (detail::is_optional_v<T>) {
        if (v) describe_value(out, *v);
        else out += "null";
    } else if constexpr (detail::is_duration_v<T>) {
        detail::append_duration(out, v);
    } else if constexpr (detail::is_sys_time_v<T>) {
        detail::append_sys_time(out, v);
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
        espat::detail::append_json_string(out, v);
    } else if constexpr (requires {
                             { v.to_string() } -> std::convertible_to<std::string_view>;
                         }) {
        espat::detail::append_json_string(out, v.to_string());  // addresses, versions
    } else if constexpr (std::ranges::input_range<const T>) {
        out += '[';
        bool first = true;
        for (const auto& x : v) {
            if (!first) out += ',';
            first = false;
            describe_value(out, x);
        }
        out += ']';
    } else if constexpr (requires { typename named_members<T>::type; }) {
        detail::describe_named(out, v, typename named_members<T>::type{});
    } else if constexpr (std::is_class_v<T> && std::is_aggregate_v<T>) {
        detail::describe_positional(out, v);
    } else {
        static_assert(detail::dependent_false<T>, "describe_value: no JSON rendering for this type");
    }
}

template <class T>
[[nodiscard]] std::string describe_value(const T& v)
{
    std::string out;
    describe_value(out, v);
    return out;
}

}  // namespace espat::commands
