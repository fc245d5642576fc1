// every_token.hpp — runs an asynchronous operation with every kind of completion token: the
// default (co_await yields an expected), use_awaitable (an error throws), a plain callback,
// use_future, deferred (nothing happens until it is launched), as_tuple, redirect_error and
// as_expected around a callback, each as an outcome (error, value) to check. Used by
// tokens_test.cpp and tokens_net_test.cpp.
#pragma once

#include "net_rig.hpp"

#include <espat/as_expected.hpp>

#include <asio/experimental/deferred.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_future.hpp>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <type_traits>

namespace espat::test {

enum class token_kind { default_token, use_awaitable, callback, use_future, deferred, as_tuple, redirect_error, as_expected };
constexpr token_kind all_kinds[] = {token_kind::default_token, token_kind::use_awaitable, token_kind::callback,
                                    token_kind::use_future,    token_kind::deferred,      token_kind::as_tuple,
                                    token_kind::redirect_error, token_kind::as_expected};

inline const char* name(token_kind k)
{
    switch (k) {
    case token_kind::default_token: return "default (use_expected)";
    case token_kind::use_awaitable: return "use_awaitable";
    case token_kind::callback: return "callback";
    case token_kind::use_future: return "use_future";
    case token_kind::deferred: return "deferred";
    case token_kind::as_tuple: return "as_tuple";
    case token_kind::redirect_error: return "redirect_error";
    case token_kind::as_expected: return "as_expected(callback)";
    }
    return "?";
}

// The value of an operation that completes with void(std::error_code) alone.
struct no_value {};

// What one completion carried: the error and the value (default-constructed after an error).
template <class T>
struct outcome {
    std::error_code ec;
    T value{};
    bool completed = false;
};

template <class T>
using expected_of = tl::expected<std::conditional_t<std::is_same_v<T, no_value>, void, T>, std::error_code>;

template <class T>
outcome<T> from_expected(expected_of<T>&& r)
{
    outcome<T> o;
    o.completed = true;
    if (!r) o.ec = r.error();
    else if constexpr (!std::is_same_v<T, no_value>) o.value = std::move(*r);
    return o;
}

template <class T, class Tuple>
outcome<T> from_tuple(Tuple&& t)
{
    outcome<T> o;
    o.completed = true;
    o.ec = std::get<0>(t);
    if constexpr (!std::is_same_v<T, no_value>) o.value = std::move(std::get<1>(t));
    return o;
}

inline awaitable<void> pause(std::chrono::milliseconds d)
{
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

// op(token) with one kind of token, its completion as an outcome. `activity` counts what the
// module has seen: a deferred operation must not have started before it is launched.
template <class T, class Op, class Activity>
awaitable<outcome<T>> complete_with(token_kind kind, Op& op, Activity& activity)
{
    constexpr bool no_val = std::is_same_v<T, no_value>;
    outcome<T> out;
    switch (kind) {
    case token_kind::default_token: {
        auto r = co_await op(espat::use_expected);
        static_assert(std::is_same_v<decltype(r), expected_of<T>>);
        out = from_expected<T>(std::move(r));
        break;
    }
    case token_kind::use_awaitable: {
        try {
            if constexpr (no_val) co_await op(asio::use_awaitable);
            else out.value = co_await op(asio::use_awaitable);
        } catch (const std::system_error& e) {
            out.ec = e.code();
        }
        out.completed = true;
        break;
    }
    case token_kind::callback: {
        std::optional<outcome<T>> got;
        if constexpr (no_val) {
            op([&got](std::error_code ec) { got = outcome<T>{ec, {}, true}; });
        } else {
            op([&got](std::error_code ec, T v) { got = outcome<T>{ec, std::move(v), true}; });
        }
        const auto arrived = [&got] { return got.has_value(); };
        REQUIRE(co_await eventually(arrived));
        out = std::move(*got);
        break;
    }
    case token_kind::use_future: {
        auto f = op(asio::use_future);
        const auto ready = [&f] { return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready; };
        REQUIRE(co_await eventually(ready));
        try {
            if constexpr (no_val) f.get();
            else out.value = f.get();
        } catch (const std::system_error& e) {
            out.ec = e.code();
        }
        out.completed = true;
        break;
    }
    case token_kind::deferred: {
        const std::size_t before = activity();
        auto deferred = op(asio::experimental::deferred);
        co_await pause(std::chrono::milliseconds(20));
        CHECK_MESSAGE(activity() == before, "a deferred operation ran before it was launched");
        out = from_tuple<T>(co_await std::move(deferred)(asio::experimental::as_tuple(asio::use_awaitable)));
        break;
    }
    case token_kind::as_tuple: {
        out = from_tuple<T>(co_await op(asio::experimental::as_tuple(asio::use_awaitable)));
        break;
    }
    case token_kind::redirect_error: {
        std::error_code ec = make_error_code(espat::errc::protocol_error);  // must be overwritten, success or not
        if constexpr (no_val) co_await op(asio::redirect_error(asio::use_awaitable, ec));
        else out.value = co_await op(asio::redirect_error(asio::use_awaitable, ec));
        out.ec = ec;
        out.completed = true;
        break;
    }
    case token_kind::as_expected: {
        std::optional<outcome<T>> got;
        op(espat::as_expected([&got](expected_of<T> r) { got = from_expected<T>(std::move(r)); }));
        const auto arrived = [&got] { return got.has_value(); };
        REQUIRE(co_await eventually(arrived));
        out = std::move(*got);
        break;
    }
    }
    co_return out;
}

// Runs op with every kind of token; `check(outcome)` asserts what each must have given, then
// `after(outcome)` undoes what a success made (closes a link, say).
template <class T, class Op, class Activity, class Check, class After>
awaitable<void> with_every_token(const char* what, Op op, Activity activity, Check check, After after)
{
    for (const token_kind kind : all_kinds) {
        INFO(std::string(what) << " with " << std::string(name(kind)));
        auto o = co_await complete_with<T>(kind, op, activity);
        CHECK(o.completed);
        check(o);
        co_await after(o);
    }
}

template <class T>
awaitable<void> nothing_after(outcome<T>&)
{
    co_return;
}

template <class T>
auto fails_with(std::error_code expected)
{
    return [expected](const outcome<T>& o) { CHECK(o.ec == expected); };
}

template <class T>
auto fails()
{
    return [](const outcome<T>& o) { CHECK(o.ec); };
}

template <class T>
auto succeeds()
{
    return [](const outcome<T>& o) { CHECK_FALSE(o.ec); };
}

}  // namespace espat::test
