// espat/sim/pipe.hpp — an in-process byte pipe: two connected ends, each an Asio
// AsyncReadStream and AsyncWriteStream, standing in for a serial line in tests and for the
// simulator's in-process transport. Each direction holds a bounded buffer, so a writer that
// outpaces its reader waits (back-pressure), as on a real UART with flow control.
//
// Both ends must be used from one executor (or strand); the pipe itself takes no locks.
#pragma once

#include <espat/config.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace espat::sim {

namespace detail {

// One direction of the pipe: bytes written by one end, read by the other.
struct pipe_direction {
    explicit pipe_direction(const asio::any_io_executor& ex, std::size_t capacity)
        : capacity(capacity), readable(ex), writable(ex)
    {
        readable.expires_at(asio::steady_timer::time_point::max());
        writable.expires_at(asio::steady_timer::time_point::max());
    }
    std::string data;             // written, not yet read
    std::size_t head = 0;         // read offset into data
    std::size_t capacity;
    bool writer_closed = false;   // the writing end was closed: reads drain, then eof
    bool reader_closed = false;   // the reading end was closed: writes fail
    std::size_t read_cancels = 0;   // cancel()/close() calls by the reader: tells them from wake-ups
    std::size_t write_cancels = 0;  // likewise by the writer
    asio::steady_timer readable;  // a waiting reader sleeps on this; cancel() wakes it
    asio::steady_timer writable;  // likewise a writer waiting for room

    [[nodiscard]] std::size_t size() const noexcept { return data.size() - head; }
    void compact()
    {
        if (head == data.size()) {
            data.clear();
            head = 0;
        } else if (head > data.size() / 2) {
            data.erase(0, head);
            head = 0;
        }
    }
};

struct pipe_state {
    pipe_state(const asio::any_io_executor& ex, std::size_t capacity) : dir{pipe_direction{ex, capacity}, pipe_direction{ex, capacity}} {}
    pipe_direction dir[2];  // dir[0]: end 0 -> end 1; dir[1]: end 1 -> end 0
};

}  // namespace detail

class pipe_end {
public:
    using executor_type = asio::any_io_executor;
    using lowest_layer_type = pipe_end;

    pipe_end(std::shared_ptr<detail::pipe_state> state, int side, executor_type ex)
        : state_(std::move(state)), side_(side), ex_(std::move(ex))
    {
    }
    pipe_end(pipe_end&&) noexcept = default;
    pipe_end& operator=(pipe_end&&) noexcept = default;
    pipe_end(const pipe_end&) = delete;
    pipe_end& operator=(const pipe_end&) = delete;
    ~pipe_end() { close(); }

    [[nodiscard]] executor_type get_executor() const noexcept { return ex_; }
    pipe_end& lowest_layer() noexcept { return *this; }

    [[nodiscard]] bool is_open() const noexcept { return state_ && !out().writer_closed && !in().reader_closed; }

    // Ends this side: the peer reads what is buffered, then eof; its writes fail with
    // broken_pipe. Operations pending on this end complete with operation_aborted.
    void close()
    {
        if (!state_) return;
        out().writer_closed = true;
        in().reader_closed = true;
        ++in().read_cancels;
        ++out().write_cancels;
        out().readable.cancel();
        out().writable.cancel();
        in().readable.cancel();
        in().writable.cancel();
    }

    // Wakes this end's pending operations with operation_aborted.
    void cancel()
    {
        if (!state_) return;
        ++in().read_cancels;
        ++out().write_cancels;
        in().readable.cancel();
        out().writable.cancel();
    }

    // Bytes buffered for this end to read.
    [[nodiscard]] std::size_t available() const noexcept { return state_ ? in().size() : 0; }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            read_op<MutableBuffers>{state_, side_, buffers, 0, state_ ? in().read_cancels : 0}, token, ex_);
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            write_op<ConstBuffers>{state_, side_, buffers, 0, state_ ? out().write_cancels : 0}, token, ex_);
    }

    // Synchronous forms, for tests and simple tools: never block; write takes what fits.
    template <class MutableBuffers>
    std::size_t read_some(const MutableBuffers& buffers, std::error_code& ec)
    {
        return try_read(state_.get(), side_, buffers, ec);
    }
    template <class ConstBuffers>
    std::size_t write_some(const ConstBuffers& buffers, std::error_code& ec)
    {
        return try_write(state_.get(), side_, buffers, ec);
    }

private:
    detail::pipe_direction& in() const noexcept { return state_->dir[1 - side_]; }
    detail::pipe_direction& out() const noexcept { return state_->dir[side_]; }

    // Copies what is buffered; 0 with no error means "nothing yet".
    template <class MutableBuffers>
    static std::size_t try_read(detail::pipe_state* st, int side, const MutableBuffers& buffers, std::error_code& ec)
    {
        ec = {};
        if (!st || st->dir[1 - side].reader_closed) {
            ec = asio::error::bad_descriptor;
            return 0;
        }
        auto& d = st->dir[1 - side];
        if (asio::buffer_size(buffers) == 0) return 0;
        if (d.size() == 0) {
            if (d.writer_closed) ec = asio::error::eof;
            return 0;
        }
        const std::size_t n = asio::buffer_copy(buffers, asio::buffer(d.data.data() + d.head, d.size()));
        d.head += n;
        d.compact();
        d.writable.cancel();  // room for a waiting writer
        return n;
    }

    template <class ConstBuffers>
    static std::size_t try_write(detail::pipe_state* st, int side, const ConstBuffers& buffers, std::error_code& ec)
    {
        ec = {};
        if (!st || st->dir[side].writer_closed) {
            ec = asio::error::bad_descriptor;
            return 0;
        }
        auto& d = st->dir[side];
        if (d.reader_closed) {
            ec = asio::error::broken_pipe;
            return 0;
        }
        const std::size_t room = d.capacity > d.size() ? d.capacity - d.size() : 0;
        const std::size_t n = std::min(room, asio::buffer_size(buffers));
        if (n == 0) return 0;
        const std::size_t old = d.data.size();
        d.data.resize(old + n);
        asio::buffer_copy(asio::buffer(d.data.data() + old, n), buffers, n);
        d.readable.cancel();  // wake a waiting reader
        return n;
    }

    // The composed operations: try; if nothing can move yet, sleep on the direction's timer
    // (woken by the other end's cancel()) and try again. The first step is posted so that a
    // completion never runs inside the initiating call.
    template <class MutableBuffers>
    struct read_op {
        std::shared_ptr<detail::pipe_state> st;
        int side;
        MutableBuffers buffers;
        int step;
        std::size_t generation;  // the reader's cancel count when the operation started
        template <class Self>
        void operator()(Self& self, std::error_code = {})
        {
            if (step++ == 0) return asio::post(std::move(self));
            if (!st) return self.complete(asio::error::bad_descriptor, 0);
            auto& d = st->dir[1 - side];
            if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none || d.read_cancels != generation)
                return self.complete(asio::error::operation_aborted, 0);
            std::error_code ec;
            const std::size_t n = try_read(st.get(), side, buffers, ec);
            if (n > 0 || ec || asio::buffer_size(buffers) == 0) return self.complete(ec, n);
            d.readable.async_wait(std::move(self));
        }
    };

    template <class ConstBuffers>
    struct write_op {
        std::shared_ptr<detail::pipe_state> st;
        int side;
        ConstBuffers buffers;
        int step;
        std::size_t generation;
        template <class Self>
        void operator()(Self& self, std::error_code = {})
        {
            if (step++ == 0) return asio::post(std::move(self));
            if (!st) return self.complete(asio::error::bad_descriptor, 0);
            auto& d = st->dir[side];
            if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none || d.write_cancels != generation)
                return self.complete(asio::error::operation_aborted, 0);
            std::error_code ec;
            const std::size_t n = try_write(st.get(), side, buffers, ec);
            if (n > 0 || ec || asio::buffer_size(buffers) == 0) return self.complete(ec, n);
            d.writable.async_wait(std::move(self));
        }
    };

    std::shared_ptr<detail::pipe_state> state_;
    int side_;
    executor_type ex_;
};

// Two connected ends on one executor; `capacity` bytes may be in flight each way.
inline std::pair<pipe_end, pipe_end> make_pipe(const asio::any_io_executor& ex, std::size_t capacity = 64 * 1024)
{
    auto state = std::make_shared<detail::pipe_state>(ex, capacity);
    return {pipe_end{state, 0, ex}, pipe_end{state, 1, ex}};
}

}  // namespace espat::sim

#if defined(ESPAT_SEPARATE_COMPILATION)
// The client and links over the pipe are built once in espat::compiled (espat/src.hpp): not
// instantiated again here.
#include <espat/client.hpp>
#include <espat/detail/stacks.hpp>
#include <espat/net/network.hpp>

ESPAT_DETAIL_CLIENT_STACK(extern template, ::espat::sim::pipe_end)
ESPAT_DETAIL_NET_STACK(extern template, ::espat::sim::pipe_end)
#endif
