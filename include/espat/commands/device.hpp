// espat/commands/device.hpp — the device side of the command table, for the simulator:
// command line -> typed request, typed result -> response lines. The same descriptors as the
// host side, so the two can never disagree on syntax.
#pragma once

#include <espat/commands/descriptor.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>

namespace espat::commands {

namespace detail {
template <class Form, class = void>
struct set_request_or_empty {
    struct type {};
};
template <class Form>
struct set_request_or_empty<Form, std::void_t<typename Form::request>> {
    using type = typename Form::request;
};
}  // namespace detail

// One form of one command as the device received it; set forms carry their parameters.
template <class C, class Form>
struct request_of {
    using command = C;
    using form = Form;
    struct empty {
        friend constexpr bool operator==(empty, empty) = default;
    };
    using params_type = std::conditional_t<Form::kind == form_kind::set, typename detail::set_request_or_empty<Form>::type, empty>;
    params_type params;
};

namespace detail {

template <class... T>
struct type_list {};

template <class... L>
struct concat;
template <>
struct concat<> {
    using type = type_list<>;
};
template <class... A>
struct concat<type_list<A...>> {
    using type = type_list<A...>;
};
template <class... A, class... B, class... Rest>
struct concat<type_list<A...>, type_list<B...>, Rest...> {
    using type = typename concat<type_list<A..., B...>, Rest...>::type;
};

template <class C>
struct forms_of {
    static auto test_() { if constexpr (has_test<C>) return type_list<request_of<C, typename C::test>>{}; else return type_list<>{}; }
    static auto query_() { if constexpr (has_query<C>) return type_list<request_of<C, typename C::query>>{}; else return type_list<>{}; }
    static auto set_() { if constexpr (has_set<C>) return type_list<request_of<C, typename C::set>>{}; else return type_list<>{}; }
    static auto execute_() { if constexpr (has_execute<C>) return type_list<request_of<C, typename C::execute>>{}; else return type_list<>{}; }
    using type = typename concat<decltype(test_()), decltype(query_()), decltype(set_()), decltype(execute_())>::type;
};

template <class List>
struct as_variant;
template <class... T>
struct as_variant<type_list<T...>> {
    using type = std::variant<T...>;
};

// Splits "AT+X=?" / "AT+X?" / "AT+X=..." / "AT+X" into the command word, the form and the
// parameter text. The command word ends at the first '=' or '?' (or the end).
struct split_line {
    std::string_view word;
    form_kind kind;
    std::string_view params;
};
inline split_line split_command_line(std::string_view line)
{
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    const std::size_t stop = line.find_first_of("=?");
    if (stop == std::string_view::npos) return {line, form_kind::execute, {}};
    const std::string_view word = line.substr(0, stop);
    const std::string_view rest = line.substr(stop);
    if (rest == "?") return {word, form_kind::query, {}};
    if (rest == "=?") return {word, form_kind::test, {}};
    if (rest[0] == '=') return {word, form_kind::set, rest.substr(1)};
    return {line, form_kind::execute, {}};  // "?" in the middle: no such command
}

}  // namespace detail

// All the forms of the commands in Commands..., as one variant the simulator visits.
template <class... Commands>
using device_request = typename detail::as_variant<
    typename detail::concat<typename detail::forms_of<Commands>::type...>::type>::type;

namespace detail {
template <class Variant, class R>
bool try_decode(const split_line& s, std::optional<Variant>& out, leading_hint hint)
{
    using C = typename R::command;
    using F = typename R::form;
    if (out || s.kind != F::kind || s.word != C::command) return false;
    if constexpr (F::kind == form_kind::set) {
        auto p = decode_params<typename F::request>(s.params, typename F::params{}, hint);
        if (!p) return false;
        out.emplace(std::in_place_type<R>, R{std::move(*p)});
    } else {
        out.emplace(std::in_place_type<R>, R{});
    }
    return true;
}

template <class Variant>
struct decoder;
template <class... R>
struct decoder<std::variant<R...>> {
    static std::optional<std::variant<R...>> decode(std::string_view line, leading_hint hint)
    {
        const split_line s = split_command_line(line);
        std::optional<std::variant<R...>> out;
        (try_decode<std::variant<R...>, R>(s, out, hint), ...);
        return out;
    }
};
}  // namespace detail

// Reads one command line (with or without its "\r\n") into the first form of the first
// command it matches, or nullopt: an unknown command, or parameters that do not parse.
//
// A device that knows whether it is in multi-link mode passes it: the leading [<link ID>,] of
// a command is then read exactly when it must be there. Without it, a link id is assumed
// where the parameters allow one.
struct request_context {
    std::optional<bool> multiple_links;  // AT+CIPMUX=1
};

template <class Variant>
std::optional<Variant> decode_request(std::string_view line, request_context ctx = {})
{
    const auto hint = !ctx.multiple_links ? detail::leading_hint::unknown
                      : *ctx.multiple_links ? detail::leading_hint::present
                                            : detail::leading_hint::absent;
    return detail::decoder<Variant>::decode(line, hint);
}

// Writes the information lines of a successful answer (the final result is the caller's).
template <class Form>
void encode_reply(std::string& out, const typename Form::response::value_type& v)
{
    Form::response::encode(out, v);
}

}  // namespace espat::commands
