// espat/detail/executors.hpp — what espat needs from the executors it is given, at the cost
// Asio 1.22 (Debian 12's) puts on its type-erased asio::any_io_executor.
//
// That executor answers a query of its blocking property with a value made on the heap, and
// wraps each function it runs in another. A strand makes that query for every function it
// runs, so on asio::serial_port (whose executor is any_io_executor) a strand over it was 6 of
// the 8 heap allocations a command cost (client_bench), and asio::dispatch to a coroutine's
// any_io_executor was one per link read. Hence:
//   client_strand the strand a client runs on: a new one over the stream's executor, or for
//                 a stream on any_io_executor over the io_context executor inside it (the
//                 stream keeps its own executor); a stream already on a strand shares it, since
//                 such a stream (a sim::pipe end, say) may expect every user to be on it;
//   runs_inline   whether asio::dispatch to an executor would run a function at once, here:
//                 then a completion may be called directly, as dispatch would, without the
//                 wrapping.
#pragma once

#include <espat/config.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/io_context.hpp>
#include <asio/require.hpp>
#include <asio/strand.hpp>

#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace espat::detail {

using io_executor = asio::io_context::executor_type;
using io_executor_tracked =
    std::decay_t<decltype(asio::require(std::declval<io_executor>(), asio::execution::outstanding_work.tracked))>;

// The executor inside an any_io_executor when it is a T, else null. (Asio 1.22's own
// any_executor::target<T>() does not check the type: it casts whatever is there.)
template <class T>
const T* target_as(const asio::any_io_executor& ex) noexcept
{
#if defined(ASIO_NO_TYPEID)
    (void)ex;
    return nullptr;
#else
    if (!ex || ex.target_type() != typeid(T)) return nullptr;
    return ex.template target<T>();
#endif
}

// A concrete executor gets a strand of its own.
template <class Executor>
struct client_strand {
    using type = asio::strand<Executor>;
    static type make(const Executor& ex) { return asio::make_strand(ex); }
};

// A strand is shared, not wrapped in another.
template <class Inner>
struct client_strand<asio::strand<Inner>> {
    using type = asio::strand<Inner>;
    static type make(const type& ex) noexcept { return ex; }
};

#if !defined(ASIO_NO_TYPEID)  // without typeid the strand stays on the any_io_executor
template <>
struct client_strand<asio::any_io_executor> {
    using type = asio::strand<io_executor>;

    static type make(const asio::any_io_executor& ex)
    {
        if (const auto* plain = target_as<io_executor>(ex)) return asio::make_strand(*plain);
        if (const auto* counted = target_as<io_executor_tracked>(ex))
            return asio::make_strand(asio::require(*counted, asio::execution::outstanding_work.untracked));
        if (const auto* strand = target_as<type>(ex)) return *strand;
        throw std::invalid_argument(
            "espat::basic_client: a stream on asio::any_io_executor must run on an asio::io_context "
            "(for another execution context, give the stream that context's executor type)");
    }
};
#endif

template <class Executor>
using client_strand_t = typename client_strand<Executor>::type;

template <class T>
inline constexpr bool is_io_executor_v = false;
template <class Allocator, std::uintptr_t Bits>
inline constexpr bool is_io_executor_v<asio::io_context::basic_executor_type<Allocator, Bits>> = true;

// True when asio::dispatch(ex, f) would call f before returning, on this thread: ex is an
// io_context's executor run by this thread, or a strand of one that this thread is inside.
// False for any executor it cannot see into, where dispatch then decides.
template <class Executor>
bool runs_inline(const Executor& ex) noexcept
{
    if constexpr (is_io_executor_v<Executor>) {
        return ex.running_in_this_thread();
    } else if constexpr (std::is_same_v<Executor, asio::strand<io_executor>>) {
        return ex.running_in_this_thread();
    } else if constexpr (std::is_same_v<Executor, asio::any_io_executor>) {
        if (const auto* e = target_as<io_executor>(ex)) return e->running_in_this_thread();
        if (const auto* e = target_as<io_executor_tracked>(ex)) return e->running_in_this_thread();
        if (const auto* e = target_as<asio::strand<io_executor>>(ex)) return e->running_in_this_thread();
        return false;
    } else {
        return false;
    }
}

}  // namespace espat::detail
