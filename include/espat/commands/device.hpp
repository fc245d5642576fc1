// espat/commands/device.hpp — the device side of the command table, for the simulator:
// command line -> typed request, typed result -> response lines. The same descriptors as the
// host side, so the two can never disagree on syntax.
#pragma once

#include <espat/commands/descriptor.hpp>

#include <algorithm>
#include <cstddef>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

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

namespace detail {
template <class C, form_kind K>
struct form_named;
template <class C>
struct form_named<C, form_kind::test> {
    using type = typename C::test;
};
template <class C>
struct form_named<C, form_kind::query> {
    using type = typename C::query;
};
template <class C>
struct form_named<C, form_kind::set> {
    using type = typename C::set;
};
template <class C>
struct form_named<C, form_kind::execute> {
    using type = typename C::execute;
};
}  // namespace detail

// One form of one command as the device received it; set forms carry their parameters.
// Named by the command and the form's kind (a command has at most one form of each kind), not
// by the form type: the form spells out every parameter and response field, and this type
// appears in the name of every function the device side instantiates for it.
template <class C, form_kind K>
struct form_request {
    using command = C;
    using form = typename detail::form_named<C, K>::type;
    struct empty {
        friend constexpr bool operator==(empty, empty) = default;
    };
    using params_type = std::conditional_t<K == form_kind::set, typename detail::set_request_or_empty<form>::type, empty>;
    params_type params;
};

template <class C, class Form>
using request_of = form_request<C, Form::kind>;

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

// Type-erased operations, one function per alternative, named by the alternative alone.
template <class T>
void destroy_as(void* p) noexcept
{
    static_cast<T*>(p)->~T();
}
template <class T>
void move_as(void* to, void* from) noexcept
{
    ::new (to) T(std::move(*static_cast<T*>(from)));
}
template <class T>
void copy_as(void* to, const void* from)
{
    ::new (to) T(*static_cast<const T*>(from));
}
template <class T, class Fn>
decltype(auto) visit_as(void* p, Fn& fn)
{
    return fn(*static_cast<T*>(p));
}
template <class T, class Fn>
decltype(auto) visit_as_const(const void* p, Fn& fn)
{
    return fn(*static_cast<const T*>(p));
}

template <class T, class... R>
inline constexpr std::size_t index_in = [] {
    std::size_t i = 0, found = sizeof...(R);
    ((std::is_same_v<T, R> ? (found = i, ++i) : ++i), ...);
    return found;
}();

}  // namespace detail

// One request of any of the forms R..., like std::variant<R...> but flat: std::variant's
// recursive storage writes the remaining alternatives into the name of every level, which
// for the table's ~200 forms made hundreds of MB of symbol names in each translation unit
// that decodes requests (minutes of compile time, and an assembler that runs out of disk).
template <class... R>
class request_variant {
    static_assert(sizeof...(R) > 0);
    static constexpr std::size_t npos = sizeof...(R);

public:
    template <class T, class... Args>
        requires(detail::index_in<T, R...> < npos)
    explicit request_variant(std::in_place_type_t<T>, Args&&... args) : index_(detail::index_in<T, R...>)
    {
        ::new (static_cast<void*>(storage_)) T(std::forward<Args>(args)...);
    }
    request_variant(const request_variant& o) : index_(o.index_) { copy_table[index_](storage_, o.storage_); }
    request_variant(request_variant&& o) noexcept : index_(o.index_) { move_table[index_](storage_, o.storage_); }
    request_variant& operator=(const request_variant& o)
    {
        if (this != &o) {
            request_variant copy(o);
            *this = std::move(copy);
        }
        return *this;
    }
    request_variant& operator=(request_variant&& o) noexcept
    {
        if (this != &o) {
            destroy_table[index_](storage_);
            index_ = o.index_;
            move_table[index_](storage_, o.storage_);
        }
        return *this;
    }
    ~request_variant() { destroy_table[index_](storage_); }

    [[nodiscard]] std::size_t index() const noexcept { return index_; }

    template <class T>
    [[nodiscard]] bool holds() const noexcept
    {
        return index_ == detail::index_in<T, R...>;
    }
    template <class T>
    [[nodiscard]] T* get_if() noexcept
    {
        return holds<T>() ? std::launder(reinterpret_cast<T*>(storage_)) : nullptr;
    }
    template <class T>
    [[nodiscard]] const T* get_if() const noexcept
    {
        return holds<T>() ? std::launder(reinterpret_cast<const T*>(storage_)) : nullptr;
    }

    // Calls fn with the request held; fn returns the same type for every alternative.
    template <class Fn>
    decltype(auto) visit(Fn&& fn) const
    {
        using result = decltype(fn(std::declval<const first&>()));
        using entry = result (*)(const void*, std::remove_reference_t<Fn>&);
        static constexpr entry table[] = {&detail::visit_as_const<R, std::remove_reference_t<Fn>>...};
        return table[index_](storage_, fn);
    }
    template <class Fn>
    decltype(auto) visit(Fn&& fn)
    {
        using result = decltype(fn(std::declval<first&>()));
        using entry = result (*)(void*, std::remove_reference_t<Fn>&);
        static constexpr entry table[] = {&detail::visit_as<R, std::remove_reference_t<Fn>>...};
        return table[index_](storage_, fn);
    }

private:
    using first = std::tuple_element_t<0, std::tuple<R...>>;
    static constexpr void (*destroy_table[])(void*) noexcept = {&detail::destroy_as<R>...};
    static constexpr void (*move_table[])(void*, void*) noexcept = {&detail::move_as<R>...};
    static constexpr void (*copy_table[])(void*, const void*) = {&detail::copy_as<R>...};

    alignas(R...) std::byte storage_[std::max({sizeof(R)...})];
    std::size_t index_;
};

// The std::variant spellings, for code written against those.
template <class T, class... R>
[[nodiscard]] bool holds_alternative(const request_variant<R...>& v) noexcept
{
    return v.template holds<T>();
}
template <class T, class... R>
[[nodiscard]] T* get_if(request_variant<R...>* v) noexcept
{
    return v ? v->template get_if<T>() : nullptr;
}
template <class T, class... R>
[[nodiscard]] const T* get_if(const request_variant<R...>* v) noexcept
{
    return v ? v->template get_if<T>() : nullptr;
}
template <class T, class... R>
[[nodiscard]] const T& get(const request_variant<R...>& v)
{
    if (const T* p = v.template get_if<T>()) return *p;
    throw std::logic_error("espat::commands::get: the request is of another form");
}
template <class Fn, class... R>
decltype(auto) visit(Fn&& fn, const request_variant<R...>& v)
{
    return v.visit(std::forward<Fn>(fn));
}

namespace detail {
template <class... T>
struct as_variant<type_list<T...>> {
    using type = request_variant<T...>;
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
struct decoder<request_variant<R...>> {
    static std::optional<request_variant<R...>> decode(std::string_view line, leading_hint hint)
    {
        const split_line s = split_command_line(line);
        std::optional<request_variant<R...>> out;
        (try_decode<request_variant<R...>, R>(s, out, hint), ...);
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
