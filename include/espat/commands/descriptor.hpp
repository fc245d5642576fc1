// espat/commands/descriptor.hpp — the vocabulary command descriptors are written in: parameter
// fields, command forms and response shapes, each knowing how to write and read itself.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/fields.hpp>
#include <espat/commands/params.hpp>
#include <espat/commands/responses.hpp>
#include <espat/commands/syntax.hpp>
#include <espat/commands/values.hpp>

#include <concepts>
#include <cstdint>
#include <string_view>

namespace espat::commands {

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
