// espat/net/passthrough.hpp — passthrough ("transparent") mode as a raw byte stream: after
// AT+CIPMODE=1 and AT+CIPSEND the serial line carries the link's bytes both ways, with no
// framing and no per-write command. Leaving writes "+++" alone between two silences (the
// session keeps the guard times) and puts the module back in command mode.
//
// Like a socket, it takes one read and one write at a time, from any executor (see link.hpp);
// open and close it from the client's executor. Its network must outlive it.
#pragma once

#include <espat/error.hpp>
#include <espat/net/receive_state.hpp>
#include <espat/proto/event.hpp>

#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/steady_timer.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace espat::net {

template <class Client>
class basic_network;

namespace detail {
// What the stream and the client's report listener share.
template <class Executor>
struct passthrough_state {
    passthrough_state(const Executor& ex, std::size_t capacity) : rx(receive_mode::active, capacity), wake(ex)
    {
        wake.expires_at(asio::steady_timer::time_point::max());
    }
    receive_state rx;  // the peer's bytes; beyond capacity the stream fails (receive_overflow)
    asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor> wake;
    bool open = true;
};
}  // namespace detail

template <class Client>
class basic_passthrough {
public:
    using executor_type = typename Client::executor_type;
    using lowest_layer_type = basic_passthrough;
    using state_ptr = std::shared_ptr<detail::passthrough_state<executor_type>>;

    basic_passthrough() = default;  // none: what an error-first completion gives with its error
    basic_passthrough(basic_network<Client>* net, state_ptr state) : net_(net), state_(std::move(state)) {}
    basic_passthrough(basic_passthrough&& o) noexcept : net_(std::exchange(o.net_, nullptr)), state_(std::move(o.state_)) {}
    basic_passthrough& operator=(basic_passthrough&& o) noexcept
    {
        net_ = std::exchange(o.net_, nullptr);
        state_ = std::move(o.state_);
        return *this;
    }
    basic_passthrough(const basic_passthrough&) = delete;
    basic_passthrough& operator=(const basic_passthrough&) = delete;

    [[nodiscard]] executor_type get_executor() const { return net_->client().get_executor(); }
    basic_passthrough& lowest_layer() noexcept { return *this; }
    [[nodiscard]] bool is_open() const noexcept { return state_ && state_->open; }

    // The peer's bytes as they came; eof once the stream was closed and everything read.
    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            read_op<MutableBuffers>{net_, state_, buffers}, token, get_executor());
    }

    // Handed to the line as they are (the module packs them: 2048 bytes or 20 ms of silence).
    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            write_op<ConstBuffers>{net_, state_, buffers}, token, get_executor());
    }

private:
    template <class MutableBuffers>
    struct read_op {
        basic_network<Client>* net;
        state_ptr s;
        MutableBuffers buffers;
        int step = 0;

        template <class Self>
        void operator()(Self& self, std::error_code = {})
        {
            const bool initiating = step++ == 0;
            if (initiating && !net->begin_on_client(self)) return;
            if (!s) return basic_network<Client>::finish_step(self, initiating, make_error_code(errc::link_invalid), 0);
            if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none)
                return basic_network<Client>::finish_step(self, initiating, asio::error::operation_aborted, 0);
            const std::size_t want = asio::buffer_size(buffers);
            if (want == 0) return basic_network<Client>::finish_step(self, initiating, std::error_code{}, 0);
            switch (s->rx.next(want)) {
            case receive_state::step::copy: return basic_network<Client>::finish_step(self, initiating, std::error_code{}, s->rx.read_into(buffers));
            case receive_state::step::eof: return basic_network<Client>::finish_step(self, initiating, asio::error::eof, 0);
            case receive_state::step::error: return basic_network<Client>::finish_step(self, initiating, s->rx.failure(), 0);
            default: break;
            }
            s->wake.async_wait(net->on_client(std::move(self)));
        }
    };

    // Initiation, then again on the client's executor when it was started elsewhere: the
    // stream's state is only read there (see basic_link::write_op).
    template <class ConstBuffers>
    struct write_op {
        basic_network<Client>* net;
        state_ptr s;
        ConstBuffers buffers;
        bool entered = false;

        template <class Self>
        void operator()(Self& self)
        {
            const bool initiating = !std::exchange(entered, true);
            if (initiating && !net->begin_on_client(self)) return;
            if (!s || !s->open) return basic_network<Client>::finish_step(self, initiating, make_error_code(errc::link_closed), std::size_t{0});
            std::string bytes(asio::buffer_size(buffers), '\0');
            asio::buffer_copy(asio::buffer(bytes), buffers);
            const std::size_t n = bytes.size();
            net->client().write_raw(std::move(bytes));
            basic_network<Client>::finish_step(self, initiating, std::error_code{}, n);
        }
    };

    basic_network<Client>* net_ = nullptr;
    state_ptr state_;
};

}  // namespace espat::net
