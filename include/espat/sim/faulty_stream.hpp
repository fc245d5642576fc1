// espat/sim/faulty_stream.hpp — byte-level fault injection on what is written through it:
// bytes dropped, doubled or changed, writes split into small pieces, writes held back, as a
// noisy or overrun UART shows them. Reads pass through unchanged. Around a simulated module's
// stream it damages the module's output; as a client's stream (it has close()), the host's.
//
// Every fault is off by default and drawn from a std::mt19937 seeded from the options, so a
// failing test replays exactly; counters say what was injected, so a test can assert that a
// configured fault happened and that none happened otherwise.
#pragma once

#include <espat/config.hpp>

#include <asio/buffer.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace espat::sim {

struct byte_fault_options {
    std::uint32_t seed = 1;
    double drop_probability = 0;       // each output byte is lost
    double duplicate_probability = 0;  // each output byte is sent twice
    double change_probability = 0;     // each output byte is sent with its bits flipped (lengths kept)
    // Lost, doubled and changed bytes are at least this many bytes apart (0: independent). A
    // lost and a doubled byte inside one payload keep its length, as a changed byte does, and
    // ESP-AT's framing cannot show either: a gap longer than any frame keeps them apart.
    std::size_t min_fault_gap = 0;
    // The byte at this position (0: the first written after set_options) is changed, or lost,
    // once: a fault at a chosen place, for tests that must hit a frame's header or its end.
    std::optional<std::uint64_t> change_at{};
    std::optional<std::uint64_t> drop_at{};
    // Each write is cut short to 1..max_split_bytes bytes (a short write: the caller's
    // async_write sends the rest in further writes, which the reader sees as separate reads).
    double split_probability = 0;
    std::size_t max_split_bytes = 8;
    double delay_probability = 0;  // each write is held back up to max_delay first
    std::chrono::microseconds max_delay = std::chrono::milliseconds(20);

    [[nodiscard]] bool any() const noexcept
    {
        return drop_probability > 0 || duplicate_probability > 0 || change_probability > 0 || split_probability > 0 ||
               delay_probability > 0 || change_at.has_value() || drop_at.has_value();
    }
};

// What was injected since construction (or the last set_options()).
struct byte_fault_counters {
    std::uint64_t bytes_dropped = 0;
    std::uint64_t bytes_duplicated = 0;
    std::uint64_t bytes_changed = 0;
    std::uint64_t writes_split = 0;
    std::uint64_t writes_delayed = 0;
    std::chrono::microseconds total_delay{0};

    [[nodiscard]] bool any() const noexcept
    {
        return bytes_dropped != 0 || bytes_duplicated != 0 || bytes_changed != 0 || writes_split != 0 || writes_delayed != 0;
    }
    friend bool operator==(const byte_fault_counters&, const byte_fault_counters&) = default;
};

// `Stream` may be a reference type. One write and one read may be pending at a time, and the
// object must not be moved while one is.
template <class Stream>
class faulty_stream {
public:
    using next_layer_type = std::remove_reference_t<Stream>;
    using lowest_layer_type = typename next_layer_type::lowest_layer_type;
    using executor_type = typename next_layer_type::executor_type;

    template <class Arg>
    explicit faulty_stream(Arg&& next_layer, byte_fault_options options = {})
        : next_(std::forward<Arg>(next_layer)), state_(std::make_unique<state>(next_.get_executor(), options))
    {
    }

    [[nodiscard]] executor_type get_executor() noexcept { return next_.get_executor(); }
    next_layer_type& next_layer() noexcept { return next_; }
    const next_layer_type& next_layer() const noexcept { return next_; }
    lowest_layer_type& lowest_layer() noexcept { return next_.lowest_layer(); }

    [[nodiscard]] const byte_fault_options& options() const noexcept { return state_->options; }
    [[nodiscard]] const byte_fault_counters& counters() const noexcept { return state_->counters; }

    // New faults from the next write on; reseeds the generator and clears the counters.
    void set_options(const byte_fault_options& options)
    {
        state_->options = options;
        state_->rng.seed(options.seed);
        state_->counters = {};
        state_->since_fault = static_cast<std::size_t>(-1) / 2;
        state_->position = 0;
    }

    // Wakes a delayed write with operation_aborted, and cancels the next layer.
    void cancel()
    {
        state_->timer.cancel();
        if constexpr (requires(next_layer_type & s) { s.cancel(); }) next_.cancel();
    }

    // Closes the next layer (as a client closes its stream when it shuts down); a delayed write
    // ends with operation_aborted.
    void close(std::error_code& ec)
    {
        state_->timer.cancel();
        ec = {};
        if constexpr (requires(next_layer_type & s, std::error_code & e) { s.close(e); }) next_.close(ec);
        else next_.close();
    }
    void close()
    {
        std::error_code ignored;
        close(ignored);
    }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token)
    {
        return next_.async_read_some(buffers, std::forward<Token>(token));
    }

    // Reports the caller's bytes it consumed (dropped ones included), or 0 on an error. With
    // every fault off it is the next layer's async_write_some unchanged.
    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            write_op{state_.get(), &next_, first_buffer(buffers)}, token, get_executor());
    }

private:
    struct state {
        state(const executor_type& ex, const byte_fault_options& o) : timer(ex), options(o), rng(o.seed) {}
        asio::steady_timer timer;
        byte_fault_options options;
        byte_fault_counters counters;
        std::mt19937 rng;
        std::size_t since_fault = static_cast<std::size_t>(-1) / 2;  // bytes since the last byte fault
        std::uint64_t position = 0;                                    // bytes taken since set_options
        std::vector<unsigned char> out;  // the faulted bytes of the write in progress

        bool chance(double p) { return p > 0 && std::bernoulli_distribution(std::min(p, 1.0))(rng); }
    };

    // A write_some may write less than asked, so only the first non-empty buffer is used.
    template <class ConstBuffers>
    static asio::const_buffer first_buffer(const ConstBuffers& buffers)
    {
        for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it)
            if (asio::const_buffer b(*it); b.size() > 0) return b;
        return {};
    }

    struct write_op {
        state* st;
        next_layer_type* next;
        asio::const_buffer buffer;
        std::size_t consumed = 0;
        enum { starting, passing_through, delayed, writing, finishing } step = starting;

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}, std::size_t written = 0)
        {
            switch (step) {
            case starting: {
                if (!st->options.any() || buffer.size() == 0) {
                    step = passing_through;
                    return next->async_write_some(buffer, std::move(self));
                }
                prepare();
                if (st->chance(st->options.delay_probability)) {
                    const auto max_us = std::max<std::int64_t>(0, st->options.max_delay.count());
                    const std::chrono::microseconds delay{std::uniform_int_distribution<std::int64_t>(0, max_us)(st->rng)};
                    ++st->counters.writes_delayed;
                    st->counters.total_delay += delay;
                    step = delayed;
                    // Nothing has been written while it waits, so any cancellation type is safe.
                    self.reset_cancellation_state(asio::enable_total_cancellation());
                    st->timer.expires_after(delay);
                    return st->timer.async_wait(std::move(self));
                }
                return send(self);
            }
            case passing_through: return self.complete(ec, written);
            case delayed:
                if (ec || self.get_cancellation_state().cancelled() != asio::cancellation_type::none)
                    return self.complete(asio::error::operation_aborted, 0);
                return send(self);
            case writing: return self.complete(ec, ec ? 0 : consumed);
            case finishing: return self.complete({}, consumed);
            }
        }

        // Decides how much of the caller's bytes this write takes and what of them goes out.
        void prepare()
        {
            const byte_fault_options& o = st->options;
            consumed = buffer.size();
            if (st->chance(o.split_probability)) {
                const std::size_t most = std::min(consumed, std::max<std::size_t>(1, o.max_split_bytes));
                const std::size_t n = std::uniform_int_distribution<std::size_t>(1, most)(st->rng);
                if (n < consumed) {
                    consumed = n;
                    ++st->counters.writes_split;
                }
            }
            st->out.clear();
            const auto* bytes = static_cast<const unsigned char*>(buffer.data());
            for (std::size_t i = 0; i < consumed; ++i) {
                const std::uint64_t at = st->position++;
                if (o.drop_at && at == *o.drop_at) {
                    ++st->counters.bytes_dropped;
                    continue;
                }
                const bool may = ++st->since_fault > o.min_fault_gap;
                if (may && st->chance(o.drop_probability)) {
                    ++st->counters.bytes_dropped;
                    st->since_fault = 0;
                    continue;
                }
                unsigned char b = bytes[i];
                if (o.change_at && at == *o.change_at) {
                    ++st->counters.bytes_changed;
                    b = static_cast<unsigned char>(b ^ 0x20);
                }
                if (may && st->chance(o.change_probability)) {
                    ++st->counters.bytes_changed;
                    st->since_fault = 0;
                    b = static_cast<unsigned char>(b ^ (1u + std::uniform_int_distribution<unsigned>(0, 254)(st->rng)));
                }
                st->out.push_back(b);
                if (may && st->since_fault != 0 && st->chance(o.duplicate_probability)) {
                    ++st->counters.bytes_duplicated;
                    st->since_fault = 0;
                    st->out.push_back(b);
                }
            }
        }

        template <class Self>
        void send(Self& self)
        {
            if (st->out.empty()) {  // every byte dropped: complete, but never inside the initiation
                step = finishing;
                return asio::post(std::move(self));
            }
            step = writing;
            asio::async_write(*next, asio::buffer(st->out), std::move(self));
        }
    };

    Stream next_;
    std::unique_ptr<state> state_;  // stable address for pending operations
};

}  // namespace espat::sim
