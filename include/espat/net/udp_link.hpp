// espat/net/udp_link.hpp — a UDP link: datagrams with their boundaries and remote endpoints.
// Sending is one AT+CIPSEND per datagram (to the link's peer, or with the remote-address form
// to any peer); receiving takes one +IPD per datagram (active mode, AT+CIPDINFO=1 gives the
// sender). Like a datagram socket, a full receive queue drops what does not fit.
//
// Like a datagram socket, it takes one send and one receive at a time, from any executor (see
// link.hpp); open it from the client's executor. Its network must outlive it.
#pragma once

#include <espat/commands/host.hpp>
#include <espat/commands/tcpip.hpp>
#include <espat/error.hpp>
#include <espat/net/link.hpp>
#include <espat/net/link_table.hpp>
#include <espat/proto/session.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/ip/udp.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace espat::net {

template <class Client>
class basic_network;

template <class Client>
class basic_udp_link {
public:
    using executor_type = typename Client::executor_type;
    using state_ptr = typename link_table<executor_type>::state_ptr;
    using endpoint_type = asio::ip::udp::endpoint;

    basic_udp_link() = default;
    basic_udp_link(basic_network<Client>* net, state_ptr state) : net_(net), state_(std::move(state)) {}
    basic_udp_link(basic_udp_link&& o) noexcept : net_(std::exchange(o.net_, nullptr)), state_(std::move(o.state_)) {}
    basic_udp_link& operator=(basic_udp_link&& o) noexcept
    {
        if (this != &o) {
            release();
            net_ = std::exchange(o.net_, nullptr);
            state_ = std::move(o.state_);
        }
        return *this;
    }
    basic_udp_link(const basic_udp_link&) = delete;
    basic_udp_link& operator=(const basic_udp_link&) = delete;
    ~basic_udp_link() { release(); }

    [[nodiscard]] executor_type get_executor() const { return net_->client().get_executor(); }
    [[nodiscard]] bool is_open() const noexcept { return state_ && state_->attached; }
    [[nodiscard]] link_handle handle() const noexcept
    {
        return state_ ? link_handle{state_->id, state_->generation} : link_handle{};
    }
    // Datagrams dropped because the receive queue was full.
    [[nodiscard]] std::size_t dropped() const noexcept { return state_ ? state_->datagrams_dropped : 0; }

    // One datagram to the link's peer. Larger than the firmware's AT+CIPSEND limit is
    // asio::error::message_size (a datagram is never split). Cancellation as for a link's write:
    // before its turn among link sends, nothing is sent; after, the datagram goes out whole.
    template <class ConstBuffers, class Token>
    auto async_send(const ConstBuffers& buffers, Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            send_op{net_, net_->lifetime(), state_, to_string(buffers), std::nullopt}, token, get_executor());
    }

    // One datagram to `to` (AT+CIPSEND=<id>,<len>,<ip>,<port>; the link needs UDP mode 2 to
    // take answers from there).
    template <class ConstBuffers, class Token>
    auto async_send_to(const ConstBuffers& buffers, const endpoint_type& to, Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            send_op{net_, net_->lifetime(), state_, to_string(buffers), to}, token, get_executor());
    }

    // The next datagram; a buffer too small for it gets its first bytes (the rest is lost, as
    // with a socket). `from` is the sender when the module reports it (AT+CIPDINFO=1).
    template <class MutableBuffers, class Token>
    auto async_receive_from(const MutableBuffers& buffers, endpoint_type& from, Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            receive_op<MutableBuffers>{net_, state_, buffers, &from}, token, get_executor());
    }
    template <class MutableBuffers, class Token>
    auto async_receive(const MutableBuffers& buffers, Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            receive_op<MutableBuffers>{net_, state_, buffers, nullptr}, token, get_executor());
    }

    // AT+CIPCLOSE=<id>: completes when the module has closed the link; datagrams received
    // before stay readable. void(std::error_code).
    template <class Token>
    auto async_close(Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code)>(detail::close_link_op<Client>{net_, net_->lifetime(), state_},
                                                                 token, get_executor());
    }

private:
    template <class ConstBuffers>
    static std::string to_string(const ConstBuffers& buffers)
    {
        std::string s(asio::buffer_size(buffers), '\0');
        asio::buffer_copy(asio::buffer(s), buffers);
        return s;
    }

    void release()
    {
        if (net_ && state_) net_->close_in_background(std::move(state_));  // on any thread
        state_.reset();
    }

    // Takes its turn among link sends as basic_link's writes do: cancelled before its turn, the
    // datagram is not sent; once handed over, it completes with what the module says.
    struct send_op {
        basic_network<Client>* net;
        std::weak_ptr<void> life;
        state_ptr s;
        std::string data;
        std::optional<endpoint_type> to;
        std::string line{};
        std::size_t size = 0;
        bool entered = false;

        [[nodiscard]] std::error_code refusal()
        {
            if (!s) return make_error_code(errc::link_invalid);
            if (!s->attached) return make_error_code(errc::link_closed);
            if (data.empty() || data.size() > net->max_send_length()) return asio::error::message_size;
            line.clear();
            const auto id = link_id::checked(s->id);
            const auto length = send_length::checked(static_cast<std::int64_t>(data.size()));
            if (to)
                return commands::encode_set<commands::cipsend_udp>(
                    line, cipsend_udp_request{id, *length, to->address(), to->port()});
            return commands::encode_set<commands::cipsend>(line, cipsend_request{id, *length});
        }

        // Initiation, then again on the client's executor when it was started elsewhere (see
        // basic_link::write_op).
        template <class Self>
        void operator()(Self& self)
        {
            const bool initiating = !std::exchange(entered, true);
            if (initiating && !net->begin_on_client(self)) return;
            if (const std::error_code refused = refusal())
                return basic_network<Client>::finish_step(self, initiating, refused, std::size_t{0});
            net->async_send_turn(net->on_client(std::move(self)));
        }
        // The turn came (or the caller cancelled before it did).
        template <class Self>
        void operator()(Self& self, std::error_code turn)
        {
            if (turn) return basic_network<Client>::complete_on_caller(self, turn, 0);
            if (const std::error_code refused = refusal()) {  // the link ended while this waited
                net->send_done();
                return basic_network<Client>::complete_on_caller(self, refused, 0);
            }
            size = data.size();
            proto::command c{.line = std::move(line),
                             .timeout = net->link_call().timeout.value_or(std::chrono::milliseconds{commands::cipsend::timeout_ms}),
                             .payload = std::move(data), .link = s->id, .data_length = &Client::echoed_send_length};
            auto* network = net;  // read before `self` (which holds this op) is moved
            network->client().async_send_command(
                std::move(c), asio::bind_cancellation_slot(asio::cancellation_slot(), network->on_client(std::move(self))));
        }
        // SEND OK: the whole datagram went out.
        template <class Self>
        void operator()(Self& self, std::error_code ec, const proto::command_result&)
        {
            if (!life.expired()) net->send_done();
            if (ec) return basic_network<Client>::complete_on_caller(self, ec, 0);
            basic_network<Client>::complete_on_caller(self, std::error_code{}, size);
        }
    };

    template <class MutableBuffers>
    struct receive_op {
        basic_network<Client>* net;
        state_ptr s;
        MutableBuffers buffers;
        endpoint_type* from;
        int step = 0;
        bool waited = false;

        template <class Self>
        void operator()(Self& self, std::error_code ec = {})
        {
            const bool initiating = step++ == 0;
            if (initiating && !net->begin_on_client(self)) return;
            if (!s) return basic_network<Client>::finish_step(self, initiating, make_error_code(errc::link_invalid), 0);
            if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none)
                return basic_network<Client>::finish_step(self, initiating, asio::error::operation_aborted, 0);
            if (!s->datagrams.empty()) {
                datagram d = std::move(s->datagrams.front());
                s->datagrams.pop_front();
                s->datagram_bytes -= d.data.size();
                const std::size_t n = asio::buffer_copy(buffers, asio::buffer(d.data));
                if (from) *from = endpoint_type(d.remote_ip.value_or(asio::ip::address{}), d.remote_port);
                return basic_network<Client>::finish_step(self, initiating, std::error_code{}, n);
            }
            if (s->rx.failure()) return basic_network<Client>::finish_step(self, initiating, s->rx.failure(), 0);
            if (!s->attached) return basic_network<Client>::finish_step(self, initiating, make_error_code(errc::link_closed), 0);
            if (std::exchange(waited, false) && !ec) net->reconcile();  // see basic_link's read
            if (!s->attached) return basic_network<Client>::finish_step(self, initiating, make_error_code(errc::link_closed), 0);
            waited = true;
            net->wait_on_link(s, std::move(self));
        }
    };

    basic_network<Client>* net_ = nullptr;
    state_ptr state_;
};

}  // namespace espat::net
