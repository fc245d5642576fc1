// espat/sim/paced_stream.hpp — a stream wrapper whose writes take as long as a UART at a given
// baud rate would need (8N1: 10 bits a byte), so a simulated module's output arrives at a real
// line rate. Reads pass through unchanged.
//
// Pacing keeps a running "line free at" time point: consecutive writes queue back to back on
// the line, and the time of every byte is computed from an anchor (when the line last went
// idle) and the bytes sent since, so no rounding accumulates from write to write.
#pragma once

#include <espat/config.hpp>

#include <asio/buffer.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>
#include <type_traits>
#include <utility>

namespace espat::sim {

// `Stream` may be a reference type to wrap a stream owned elsewhere. As with any Asio stream,
// one write and one read may be pending at a time, and the object must not be moved while
// one is.
template <class Stream>
class paced_stream {
public:
    using next_layer_type = std::remove_reference_t<Stream>;
    using lowest_layer_type = typename next_layer_type::lowest_layer_type;
    using executor_type = typename next_layer_type::executor_type;
    using clock = std::chrono::steady_clock;

    // At most this much line time goes out in one piece: a long write is released in slices,
    // as a UART's FIFO drains, rather than all at once at the end.
    static constexpr clock::duration slice = std::chrono::milliseconds(5);

    template <class Arg>
    explicit paced_stream(Arg&& next_layer, unsigned baud = 0)
        : next_(std::forward<Arg>(next_layer)), pacing_(std::make_unique<pacing>(next_.get_executor(), baud))
    {
    }

    [[nodiscard]] executor_type get_executor() noexcept { return next_.get_executor(); }
    next_layer_type& next_layer() noexcept { return next_; }
    const next_layer_type& next_layer() const noexcept { return next_; }
    lowest_layer_type& lowest_layer() noexcept { return next_.lowest_layer(); }

    // 0 means unpaced. A change applies from the next write on.
    void set_baud(unsigned baud) noexcept
    {
        // Bytes already booked keep the time they were booked at.
        pacing_->anchor = pacing_->line_free_at();
        pacing_->anchor_bytes = 0;
        pacing_->baud = baud;
    }
    [[nodiscard]] unsigned baud() const noexcept { return pacing_->baud; }

    // The time a byte stream of `bytes` bytes occupies the line at `baud` (8N1).
    [[nodiscard]] static clock::duration line_time(std::size_t bytes, unsigned baud) noexcept
    {
        if (baud == 0) return clock::duration::zero();
        using ns = std::chrono::nanoseconds;
        const auto nanos = static_cast<std::uint64_t>(bytes) * 10u * 1'000'000'000u / baud;
        return std::chrono::duration_cast<clock::duration>(ns(static_cast<ns::rep>(nanos)));
    }

    // Wakes a pending paced write with operation_aborted, and cancels the next layer.
    void cancel()
    {
        pacing_->timer.cancel();
        if constexpr (requires(next_layer_type & s) { s.cancel(); }) next_.cancel();
    }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token)
    {
        return next_.async_read_some(buffers, std::forward<Token>(token));
    }

    // Writes at most a slice of line time, completing no earlier than the line could carry
    // the bytes it reports. Honours terminal, partial and total cancellation while it waits
    // for the line (nothing was written then); once the bytes are handed to the next layer,
    // cancellation is that layer's.
    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            write_op{pacing_.get(), &next_, first_buffer(buffers)}, token, get_executor());
    }

private:
    struct pacing {
        pacing(const executor_type& ex, unsigned b) : timer(ex), baud(b) {}
        asio::steady_timer timer;
        unsigned baud;
        clock::time_point anchor{};     // when the line last started from idle
        std::uint64_t anchor_bytes = 0;  // bytes put on the line since `anchor`

        [[nodiscard]] clock::time_point line_free_at() const noexcept { return anchor + line_time(anchor_bytes, baud); }

        // Books `n` bytes on the line; returns when the last of them has been carried.
        clock::time_point reserve(std::size_t n)
        {
            const auto now = clock::now();
            if (line_free_at() < now) {  // idle: restart the count, so idle time is not credited
                anchor = now;
                anchor_bytes = 0;
            }
            anchor_bytes += n;
            return line_free_at();
        }
        void release(std::size_t n) noexcept { anchor_bytes -= std::min<std::uint64_t>(n, anchor_bytes); }
    };

    // A write_some may write less than asked, so pacing only the first non-empty buffer of
    // a sequence is enough and spares a copy.
    template <class ConstBuffers>
    static asio::const_buffer first_buffer(const ConstBuffers& buffers)
    {
        for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it)
            if (asio::const_buffer b(*it); b.size() > 0) return b;
        return {};
    }

    struct write_op {
        pacing* p;
        next_layer_type* next;
        asio::const_buffer buffer;
        std::size_t booked = 0;
        enum { starting, waiting, writing } state = starting;

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}, std::size_t written = 0)
        {
            switch (state) {
            case starting: {
                if (p->baud == 0 || buffer.size() == 0) {
                    state = writing;
                    booked = 0;
                    return next->async_write_some(buffer, std::move(self));
                }
                // Nothing is on the line while the write waits, so any cancellation type is safe.
                self.reset_cancellation_state(asio::enable_total_cancellation());
                // A slice is at least one byte, however slow the line.
                const auto slice_us = static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::microseconds>(slice).count());
                const auto per_slice = std::max<std::uint64_t>(1, slice_us * p->baud / 10 / 1'000'000);
                booked = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), per_slice));
                state = waiting;
                p->timer.expires_at(p->reserve(booked));
                return p->timer.async_wait(std::move(self));
            }
            case waiting: {
                const bool cancelled = self.get_cancellation_state().cancelled() != asio::cancellation_type::none;
                if (ec || cancelled) {
                    p->release(booked);  // those bytes never went on the line
                    return self.complete(asio::error::operation_aborted, 0);
                }
                state = writing;
                return next->async_write_some(asio::buffer(buffer, booked), std::move(self));
            }
            case writing:
                if (written < booked) p->release(booked - written);
                return self.complete(ec, written);
            }
        }
    };

    Stream next_;
    std::unique_ptr<pacing> pacing_;  // stable address for pending operations and the timer
};

}  // namespace espat::sim
