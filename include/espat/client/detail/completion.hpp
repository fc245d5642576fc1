// espat/client/detail/completion.hpp — a type-erased completion handler: the client keeps the
// handlers of its pending operations in one list, whatever token each caller used.
#pragma once

#include <espat/config.hpp>
#include <espat/as_expected.hpp>
#include <espat/client/detail/handler_arena.hpp>
#include <espat/detail/executors.hpp>

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/dispatch.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/prefer.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <tl/expected.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace espat::detail {

// Takes an In (on the client's executor), turns it into the caller's value and posts the
// caller's handler on the handler's own executor, so a completion never runs inside the
// client's code and the caller resumes where it started.
template <class In>
class erased_completion {
public:
    virtual void complete(In in) = 0;
    // Destroys the completion, then calls the handler at once where asio::dispatch would (its
    // executor runs here: detail::runs_inline), else dispatches it. Use complete_dispatched().
    virtual void dispatch_and_destroy(In in) = 0;
    [[nodiscard]] virtual asio::cancellation_slot cancellation_slot() const noexcept = 0;
    // Destroys the completion and gives its memory back to the arena it came from.
    virtual void destroy() noexcept = 0;

protected:
    ~erased_completion() = default;
};

struct completion_deleter {
    template <class Completion>
    void operator()(Completion* c) const noexcept
    {
        c->destroy();
    }
};

template <class In>
using completion_ptr = std::unique_ptr<erased_completion<In>, completion_deleter>;

// Completes from a step that runs on the client's executor, never inside the initiating call:
// the handler runs on its own executor, at once when that is this thread's (a read issued from
// the previous read's completion), and the completion's memory is back in the arena before
// the handler starts the next operation.
template <class In>
void complete_dispatched(completion_ptr<In> done, In in)
{
    done.release()->dispatch_and_destroy(std::move(in));
}

// The value of an Asio stream operation's completion, handed to its handler as two arguments.
using io_result = std::tuple<std::error_code, std::size_t>;

template <class T>
inline constexpr bool is_tuple = false;
template <class... T>
inline constexpr bool is_tuple<std::tuple<T...>> = true;

template <class In, class Handler, class Transform, class Fallback>
class completion_impl final : public erased_completion<In> {
public:
    using allocator_type = handler_allocator<completion_impl>;

    completion_impl(Handler handler, Transform transform, const Fallback& fallback, allocator_type allocator)
        : handler_(std::move(handler)), transform_(std::move(transform)),
          work_(asio::prefer(asio::get_associated_executor(handler_, fallback), asio::execution::outstanding_work.tracked)),
          allocator_(std::move(allocator))
    {
    }

    void destroy() noexcept override
    {
        allocator_type allocator = std::move(allocator_);
        this->~completion_impl();
        allocator.deallocate(this, 1);
    }

    void complete(In in) override
    {
        auto ex = std::move(*work_);
        work_.reset();
        asio::post(ex, bound{std::move(handler_), transform_(std::move(in))});
    }

    void dispatch_and_destroy(In in) override
    {
        auto ex = std::move(*work_);
        bound b{std::move(handler_), transform_(std::move(in))};
        destroy();
        if (runs_inline(ex)) return b();
        asio::dispatch(ex, std::move(b));
    }

    [[nodiscard]] asio::cancellation_slot cancellation_slot() const noexcept override
    {
        return asio::get_associated_cancellation_slot(handler_);
    }

private:
    using value_type = decltype(std::declval<Transform&>()(std::declval<In>()));
    struct bound {
        Handler handler;
        value_type value;
        void operator()()
        {
            // The slot is the caller's and is only touched in the caller's context: our
            // cancellation handler leaves it here, before the caller resumes.
            if (auto slot = asio::get_associated_cancellation_slot(handler); slot.is_connected()) slot.clear();
            if constexpr (is_tuple<value_type>) std::apply(std::move(handler), std::move(value));
            else std::move(handler)(std::move(value));
        }
    };

    Handler handler_;
    Transform transform_;
    // Outstanding work on the handler's executor until completion. Not executor_work_guard: it
    // needs the old executor API, which asio::strand<any_io_executor> (a plain callback's
    // fallback here) lacks.
    using work_executor = std::decay_t<decltype(asio::prefer(std::declval<asio::associated_executor_t<Handler, Fallback>>(),
                                                             asio::execution::outstanding_work.tracked))>;
    std::optional<work_executor> work_;
    allocator_type allocator_;
};

struct identity_transform {
    template <class T>
    T operator()(T&& v) const
    {
        return std::forward<T>(v);
    }
};

// The completion lives in `arena` (or on the heap when the arena's blocks are all in use).
template <class In, class Handler, class Transform, class Fallback>
completion_ptr<In> make_completion(Handler&& handler, Transform transform, const Fallback& fallback,
                                   const std::shared_ptr<handler_arena>& arena)
{
    using impl = completion_impl<In, std::decay_t<Handler>, Transform, Fallback>;
    typename impl::allocator_type allocator(arena);
    impl* memory = allocator.allocate(1);
    try {
        return completion_ptr<In>(
            new (memory) impl(std::forward<Handler>(handler), std::move(transform), fallback, allocator));
    } catch (...) {
        allocator.deallocate(memory, 1);
        throw;
    }
}

// ---- the two forms an operation's result reaches its handler in ----

// A value with the error beside it, for an operation whose value means something even when it
// failed (the raw command API's whole result: lines, diagnostics). Error first, the handler
// gets both; as an expected, the error alone.
template <class T>
struct with_error {
    std::error_code ec;
    T value;
};

// The default token (espat::use_expected): the handler takes the operation's expected as it is,
// which is what as_expected would build from the error-first form, without building it.
struct expected_form {
    template <class T>
    tl::expected<T, std::error_code> operator()(tl::expected<T, std::error_code>&& r) const
    {
        return std::move(r);
    }
    template <class T>
    tl::expected<T, std::error_code> operator()(with_error<T>&& r) const
    {
        if (r.ec) return tl::make_unexpected(r.ec);
        return std::move(r.value);
    }
};

// Any other token: error first, void(std::error_code) or void(std::error_code, T), the value
// default-constructed after an error, as Asio's operations do.
struct error_first_form {
    std::tuple<std::error_code> operator()(tl::expected<void, std::error_code>&& r) const
    {
        return {r ? std::error_code{} : r.error()};
    }
    template <class T>
    std::tuple<std::error_code, T> operator()(tl::expected<T, std::error_code>&& r) const
    {
        if (!r) return {r.error(), T{}};
        return {std::error_code{}, std::move(*r)};
    }
    template <class T>
    std::tuple<std::error_code, T> operator()(with_error<T>&& r) const
    {
        return {r.ec, std::move(r.value)};
    }
};

template <class T>
struct error_first_signature_of {
    using type = void(std::error_code, T);
};
template <>
struct error_first_signature_of<void> {
    using type = void(std::error_code);
};

template <class Token>
inline constexpr bool is_default_token_v = std::is_same_v<std::decay_t<Token>, use_expected_t>;

// Calls the initiation with the handler, then the form its result must take, then the arguments.
template <class Initiation, class Form>
struct initiation_with_form {
    Initiation initiation;
    template <class Handler, class... Args>
    void operator()(Handler&& handler, Args&&... args)
    {
        std::move(initiation)(std::forward<Handler>(handler), Form{}, std::forward<Args>(args)...);
    }
};

// Initiates an operation whose result the library makes as tl::expected<T, std::error_code> (or
// with_error<T>): with the default token the handler takes that expected as it is (no adapter
// in between: the common case costs what it did before tokens were error first), with any
// other token it completes error first. The initiation is called as
// initiation(handler, form, args...) and gives the completion `form` to apply to the result.
template <class T, class Initiation, class Token, class... Args>
auto initiate_result(Initiation initiation, Token&& token, Args&&... args)
{
    if constexpr (is_default_token_v<Token>) {
        return asio::async_initiate<const asio::use_awaitable_t<>&, void(tl::expected<T, std::error_code>)>(
            initiation_with_form<Initiation, expected_form>{std::move(initiation)}, asio::use_awaitable,
            std::forward<Args>(args)...);
    } else {
        return asio::async_initiate<Token, typename error_first_signature_of<T>::type>(
            initiation_with_form<Initiation, error_first_form>{std::move(initiation)}, token, std::forward<Args>(args)...);
    }
}

// A transform made of two: `first` on the strand's value, then `then` on what it gave.
template <class First, class Then>
struct composed_transform {
    First first;
    Then then;
    template <class In>
    auto operator()(In&& in)
    {
        return then(first(std::forward<In>(in)));
    }
};

}  // namespace espat::detail
