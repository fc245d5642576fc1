// espat/commands/table_checks.hpp — the checks that must hold over the whole command table,
// made at compile time: a table that breaks one does not build. Included by espat's table tests
// and src/espat.cpp, not by table.hpp: every file of every user would otherwise redo them.
#pragma once

#include <espat/commands/table.hpp>

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace espat::commands {

namespace detail {

// A constant string per type (the function's signature names it), so the table can check in
// a constant expression that no two forms collide. Addresses of per-type objects would do,
// but g++ does not take their comparison as constant under -fsanitize=address.
template <class T>
constexpr std::string_view type_signature() noexcept
{
    return __PRETTY_FUNCTION__;
}

struct form_entry {
    std::string_view command;
    form_kind kind;
    std::string_view params;  // the parameter list of a set form (two set forms of one command must differ)
};

template <class C, class F>
constexpr form_entry entry_of()
{
    if constexpr (F::kind == form_kind::set) return {C::command, F::kind, type_signature<typename F::params>()};
    else return {C::command, F::kind, {}};
}

template <class C>
constexpr auto entries_of()
{
    std::array<form_entry, 4> out{};
    std::size_t n = 0;
    if constexpr (has_test<C>) out[n++] = entry_of<C, typename C::test>();
    if constexpr (has_query<C>) out[n++] = entry_of<C, typename C::query>();
    if constexpr (has_set<C>) out[n++] = entry_of<C, typename C::set>();
    if constexpr (has_execute<C>) out[n++] = entry_of<C, typename C::execute>();
    for (std::size_t i = n; i < out.size(); ++i) out[i].command = {};
    return out;
}

template <class... C>
constexpr bool forms_unique()
{
    std::array<form_entry, 4 * sizeof...(C)> all{};
    std::size_t n = 0;
    for (const auto& group : {entries_of<C>()...})
        for (const auto& e : group)
            if (!e.command.empty()) all[n++] = e;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j)
            if (all[i].command == all[j].command && all[i].kind == all[j].kind && all[i].params == all[j].params)
                return false;
    return true;
}

// A required parameter whose member could be default-constructed could be left out of a
// designated initialiser unnoticed: required ones must be required<T> or bounded<...>.
template <class Field>
constexpr bool required_is_enforced()
{
    if constexpr (Field::is_fixed || Field::is_optional) return true;
    else return !std::is_default_constructible_v<typename Field::member_type>;
}
template <class Form>
constexpr bool set_form_enforces_required()
{
    return []<class... F>(fields<F...>*) { return (required_is_enforced<F>() && ...); }(
        static_cast<typename Form::params*>(nullptr));
}

template <class C>
constexpr bool descriptor_well_formed()
{
    static_assert(command_descriptor<C>, "a descriptor names its command and timeout");
    static_assert(has_test<C> || has_query<C> || has_set<C> || has_execute<C>, "a descriptor has at least one form");
    static_assert(C::timeout_ms > 0, "every command has a timeout");
    static_assert(C::command.starts_with("AT"), "commands start with AT");
    if constexpr (has_test<C>) static_assert(response_shape<typename C::test::response>);
    if constexpr (has_query<C>) static_assert(response_shape<typename C::query::response>);
    if constexpr (has_execute<C>) static_assert(response_shape<typename C::execute::response>);
    if constexpr (has_set<C>) {
        static_assert(response_shape<typename C::set::response>, "every response type is decodable");
        static_assert(set_form_enforces_required<typename C::set>(),
                      "a required request parameter must be required<T> or bounded<...>");
    }
    return true;
}

template <class... C>
struct table_checks {
    static constexpr bool descriptors = (descriptor_well_formed<C>() && ...);
    static constexpr bool unique = forms_unique<C...>();
};

}  // namespace detail

static_assert(all_commands<detail::table_checks>::descriptors);
static_assert(all_commands<detail::table_checks>::unique,
              "two descriptors declare the same form of the same command with the same parameters");

}  // namespace espat::commands
