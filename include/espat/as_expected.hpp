// espat/as_expected.hpp — completion-token adapters: as_expected turns an error-first completion
// into one tl::expected, and the library's default token makes `co_await` yield that expected.
//
// Every asynchronous operation of espat completes error first, as Asio's own do:
// void(std::error_code) or void(std::error_code, T). So Asio's adapters behave as on a socket
// (redirect_error sets its code, as_tuple gives {ec, value}, parallel_group sees errors, a plain
// handler takes (ec, value), use_future throws the error). The default token is
// espat::use_expected, as_expected(asio::use_awaitable): `co_await op()` without a token yields
// tl::expected<T, std::error_code>, an error as its unexpected, never an exception.
#pragma once

#include <espat/config.hpp>

#include <asio/associator.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>

#include <tl/expected.hpp>

#include <exception>
#include <system_error>
#include <type_traits>
#include <utility>

namespace espat {
namespace detail {

// A completion handler that converts its arguments before calling the handler it wraps. The
// wrapped handler keeps its executor, allocator and cancellation slot (the asio::associator
// specialisation below), so the adapter is invisible to the operation.
template <class Handler, class Convert>
struct converting_handler {
    Handler handler;

    template <class... Args>
    void operator()(Args&&... args)
    {
        Convert::call(std::move(handler), std::forward<Args>(args)...);
    }
};

// A completion token wrapping `token`: the operation's signature S becomes Convert's
// converted_signature<S>, its arguments pass through Convert::call.
template <class Token, class Convert>
struct converting_token {
    Token token{};
};

// void(std::error_code[, T]) -> void(tl::expected<T or void, std::error_code>).
template <class Signature>
struct expected_signature;
template <>
struct expected_signature<void(std::error_code)> {
    using type = void(tl::expected<void, std::error_code>);
};
template <class T>
struct expected_signature<void(std::error_code, T)> {
    using type = void(tl::expected<std::decay_t<T>, std::error_code>);
};

struct to_expected {
    template <class Signature>
    using converted_signature = typename expected_signature<Signature>::type;

    template <class Handler>
    static void call(Handler&& handler, std::error_code ec)
    {
        using value = tl::expected<void, std::error_code>;
        std::move(handler)(ec ? value(tl::unexpect, ec) : value());
    }

    template <class Handler, class T>
    static void call(Handler&& handler, std::error_code ec, T&& v)
    {
        using value = tl::expected<std::decay_t<T>, std::error_code>;
        std::move(handler)(ec ? value(tl::unexpect, ec) : value(std::forward<T>(v)));
    }
};

// co_spawn's void(std::exception_ptr, tl::expected<T, std::error_code>) -> the library's
// error-first void(std::error_code[, T]): a coroutine that returns an expected completes as an
// operation. An exception (only an allocation failure or a bug: the coroutines report errors
// as values) is thrown again from the completion, as co_spawn with detached would.
template <class Signature>
struct error_first_signature;
template <>
struct error_first_signature<void(std::exception_ptr, tl::expected<void, std::error_code>)> {
    using type = void(std::error_code);
};
template <class T>
struct error_first_signature<void(std::exception_ptr, tl::expected<T, std::error_code>)> {
    using type = void(std::error_code, T);
};

struct to_error_first {
    template <class Signature>
    using converted_signature = typename error_first_signature<Signature>::type;

    template <class Handler>
    static void call(Handler&& handler, std::exception_ptr e, tl::expected<void, std::error_code> r)
    {
        if (e) std::rethrow_exception(e);
        std::move(handler)(r ? std::error_code{} : r.error());
    }

    template <class Handler, class T>
    static void call(Handler&& handler, std::exception_ptr e, tl::expected<T, std::error_code> r)
    {
        if (e) std::rethrow_exception(e);
        if (!r) return std::move(handler)(r.error(), T{});
        std::move(handler)(std::error_code{}, std::move(*r));
    }
};

template <class Token>
converting_token<std::decay_t<Token>, to_error_first> error_first(Token&& token)
{
    return {std::forward<Token>(token)};
}

}  // namespace detail

template <class Token>
using as_expected_t = detail::converting_token<Token, detail::to_expected>;

// Completes `token` with one tl::expected instead of the operation's error code and value:
// `co_await link.async_read_some(buf, espat::as_expected(asio::use_awaitable))`, say, or a
// callback taking tl::expected<std::size_t, std::error_code>.
template <class Token>
as_expected_t<std::decay_t<Token>> as_expected(Token&& token)
{
    return {std::forward<Token>(token)};
}

// The default token of every espat operation: co_await yields tl::expected<T, std::error_code>.
using use_expected_t = as_expected_t<asio::use_awaitable_t<>>;
inline constexpr use_expected_t use_expected{};

namespace detail {

// An operation made of a coroutine returning an expected (the network's connect, listen, ...):
// with the default token it is that coroutine, awaited in the caller's (what use_expected would
// give, without a second coroutine); with any other token it runs on `ex`, spawned, and
// completes error first on the token's executor, cancelled through the token's slot.
template <class Executor, class T, class Token>
auto async_run(const Executor& ex, asio::awaitable<tl::expected<T, std::error_code>> body, Token&& token)
{
    if constexpr (std::is_same_v<std::decay_t<Token>, use_expected_t>) {
        return body;
    } else {
        return asio::co_spawn(ex, std::move(body), error_first(std::forward<Token>(token)));
    }
}

}  // namespace detail

}  // namespace espat

template <class Token, class Convert, class Signature>
struct asio::async_result<espat::detail::converting_token<Token, Convert>, Signature> {
    using converted = typename Convert::template converted_signature<Signature>;

    template <class Initiation>
    struct init_wrapper {
        Initiation initiation;

        template <class Handler, class... Args>
        void operator()(Handler&& handler, Args&&... args)
        {
            std::move(initiation)(
                espat::detail::converting_handler<std::decay_t<Handler>, Convert>{std::forward<Handler>(handler)},
                std::forward<Args>(args)...);
        }
    };

    template <class Initiation, class RawToken, class... Args>
    static auto initiate(Initiation&& initiation, RawToken&& token, Args&&... args)
    {
        // The wrapped token, moved out when the adapter is an rvalue (a move-only handler).
        Token inner(static_cast<RawToken&&>(token).token);
        return asio::async_initiate<Token, converted>(init_wrapper<std::decay_t<Initiation>>{std::forward<Initiation>(initiation)},
                                                      inner, std::forward<Args>(args)...);
    }
};

template <template <class, class> class Associator, class Handler, class Convert, class DefaultCandidate>
struct asio::associator<Associator, espat::detail::converting_handler<Handler, Convert>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type
    get(const espat::detail::converting_handler<Handler, Convert>& h, const DefaultCandidate& c = DefaultCandidate()) noexcept
    {
        return Associator<Handler, DefaultCandidate>::get(h.handler, c);
    }
};
