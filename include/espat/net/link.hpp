// espat/net/link.hpp — a TCP or module-TLS ("SSL") link as an Asio AsyncReadStream and
// AsyncWriteStream: asio::async_read, async_read_until, async_write and asio::ssl::stream work
// on it. Writes become AT+CIPSEND chunks of the firmware's limit; reads take +IPD data (active
// mode) or turn the reader's demand into AT+CIPRECVDATA (passive mode).
//
// Like an Asio socket, a link takes one read and one write at a time, from any executor: each
// operation's steps run on the client's executor and its completion on the caller's. Open
// links, and use the network itself, from the client's executor (basic_network says so); the
// network must outlive its links.
#pragma once

#include <espat/commands/tcpip.hpp>
#include <espat/error.hpp>
#include <espat/net/link_table.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace espat::net {

template <class Client>
class basic_network;

template <class Client>
class basic_link {
public:
    using client_type = Client;
    using executor_type = typename Client::executor_type;
    using state_ptr = typename link_table<executor_type>::state_ptr;
    using lowest_layer_type = basic_link;  // what asio::ssl::stream<basic_link&> asks for

    basic_link() = default;
    basic_link(basic_network<Client>* net, state_ptr state) : net_(net), state_(std::move(state)) {}
    basic_link(basic_link&& o) noexcept : net_(std::exchange(o.net_, nullptr)), state_(std::move(o.state_)) {}
    basic_link& operator=(basic_link&& o) noexcept
    {
        if (this != &o) {
            release();
            net_ = std::exchange(o.net_, nullptr);
            state_ = std::move(o.state_);
        }
        return *this;
    }
    basic_link(const basic_link&) = delete;
    basic_link& operator=(const basic_link&) = delete;
    // A link still open when dropped is closed on the module in the background, so its id is
    // not lost.
    ~basic_link() { release(); }

    [[nodiscard]] executor_type get_executor() const { return net_->client().get_executor(); }
    basic_link& lowest_layer() noexcept { return *this; }
    const basic_link& lowest_layer() const noexcept { return *this; }

    [[nodiscard]] bool is_open() const noexcept { return state_ && state_->attached; }
    [[nodiscard]] link_handle handle() const noexcept
    {
        return state_ ? link_handle{state_->id, state_->generation} : link_handle{};
    }
    [[nodiscard]] link_type type() const noexcept { return state_ ? state_->type : link_type::tcp; }
    [[nodiscard]] receive_mode mode() const noexcept { return state_ ? state_->rx.mode() : receive_mode::active; }
    // Bytes received and not yet read, on the host.
    [[nodiscard]] std::size_t available() const noexcept { return state_ ? state_->rx.buffered() : 0; }

    // Reads what is buffered; with nothing buffered, waits for data, a close (asio::error::eof
    // once everything before it was read) or a failure (errc::device_reset, receive_overflow,
    // send_failed). Passive mode: asks the module for up to the buffer's size.
    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            read_op<MutableBuffers>{net_, net_->lifetime(), state_, buffers}, token, get_executor());
    }

    // Sends up to the firmware's AT+CIPSEND limit of the buffers' bytes with one AT+CIPSEND.
    // SEND FAIL fails the write with errc::send_failed and closes the link: the byte stream
    // has a hole, so nothing after it may be sent as if it were contiguous.
    //
    // Cancellation (terminal, as awaitable operators deliver it): a chunk still waiting for its
    // turn behind other links' sends is dropped, nothing of it sent (operation_aborted, 0); a
    // chunk already handed to the module is never cut: it completes with what the module says
    // (SEND OK: all its bytes). So the peer gets exactly the bytes the completions count, and the
    // link stays usable.
    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            write_op<ConstBuffers>{net_, net_->lifetime(), state_, buffers}, token, get_executor());
    }

    // AT+CIPCLOSE=<id>: completes when the module has closed the link. Data received before
    // stays readable; eof follows it.
    template <class Token>
    auto async_close(Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code)>(close_op{net_, net_->lifetime(), state_}, token, get_executor());
    }

private:
    void release()
    {
        if (net_ && state_) net_->close_in_background(std::move(state_));  // on any thread
        state_.reset();
    }

    template <class MutableBuffers>
    struct read_op {
        basic_network<Client>* net;
        std::weak_ptr<void> life;
        state_ptr s;
        MutableBuffers buffers;
        int step = 0;
        std::size_t fetch_wakeups = 0;
        bool waited = false;

        template <class Self>
        void operator()(Self& self, std::error_code ec = {})
        {
            const bool initiating = step++ == 0;
            if (initiating && !net->begin_on_client(self)) return;
            if (!s) return basic_network<Client>::finish_step(self, initiating, make_error_code(errc::link_invalid), 0);
            // The wait ran out with nothing arriving (a notification wakes it early): ask the
            // module, in case a notification or a CLOSED was lost on the wire.
            if (std::exchange(waited, false) && !ec && !life.expired()) net->reconcile();
            if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none)
                return basic_network<Client>::finish_step(self, initiating, asio::error::operation_aborted, 0);
            const std::size_t want = asio::buffer_size(buffers);
            if (want == 0) return basic_network<Client>::finish_step(self, initiating, std::error_code{}, 0);
            // Passive data still announced by a link that lost its id can no longer be asked
            // for; the module sends CLOSED only after it was read, so none is left. A link
            // without its id receives nothing more: eof once its data is read.
            if (!s->attached) {
                if (s->rx.mode() == receive_mode::passive) s->rx.on_module_buffered(0);
                s->rx.on_closed();
            }
            switch (s->rx.next(want)) {
            case receive_state::step::copy: return basic_network<Client>::finish_step(self, initiating, std::error_code{}, s->rx.read_into(buffers));
            case receive_state::step::eof: return basic_network<Client>::finish_step(self, initiating, asio::error::eof, 0);
            case receive_state::step::error: return basic_network<Client>::finish_step(self, initiating, s->rx.failure(), 0);
            case receive_state::step::fetch:
                // (A destroyed network has failed its links first; this only guards start_fetch.)
                if (life.expired()) return basic_network<Client>::finish_step(self, initiating, asio::error::operation_aborted, 0);
                net->start_fetch(s, want);
                break;
            case receive_state::step::wait: break;
            }
            waited = true;
            net->wait_on_link(s, std::move(self));
        }
    };

    template <class ConstBuffers>
    struct write_op {
        basic_network<Client>* net;
        std::weak_ptr<void> life;
        state_ptr s;
        ConstBuffers buffers;
        bool entered = false;

        [[nodiscard]] std::error_code refusal() const
        {
            if (!s) return make_error_code(errc::link_invalid);
            if (s->rx.write_refusal()) return s->rx.write_refusal();
            if (!s->attached || s->rx.peer_closed()) return make_error_code(errc::link_closed);
            return {};
        }

        // Initiation, then again on the client's executor when it was started elsewhere: the
        // link's state and the network's send queue are only touched there.
        template <class Self>
        void operator()(Self& self)
        {
            const bool initiating = !std::exchange(entered, true);
            if (initiating && !net->begin_on_client(self)) return;
            if (auto ec = refusal()) return basic_network<Client>::finish_step(self, initiating, ec, std::size_t{0});
            if (asio::buffer_size(buffers) == 0)
                return basic_network<Client>::finish_step(self, initiating, std::error_code{}, std::size_t{0});
            net->async_send_turn(net->on_client(std::move(self)));
        }
        // The turn came (or the caller cancelled before it did).
        template <class Self>
        void operator()(Self& self, std::error_code turn)
        {
            if (turn) return basic_network<Client>::complete_on_caller(self, turn, 0);  // nothing was sent
            if (auto ec = refusal()) {  // the link ended while this waited
                net->send_done();
                return basic_network<Client>::complete_on_caller(self, ec, 0);
            }
            const std::size_t size = std::min(asio::buffer_size(buffers), net->max_send_length());
            std::string data(size, '\0');
            asio::buffer_copy(asio::buffer(data), buffers, size);
            // Handed over, the chunk is seen through (no cancellation slot): see async_send_turn.
            // Everything of this op is read before `self` (which holds it) is moved.
            auto& client = net->client();
            const auto id = link_id::checked(s->id);
            auto* network = net;
            client.async_send_data(id, std::move(data), network->link_call(),
                                   asio::bind_cancellation_slot(asio::cancellation_slot(), network->on_client(std::move(self))));
        }
        template <class Self>
        void operator()(Self& self, tl::expected<std::size_t, std::error_code> r)
        {
            if (life.expired()) return basic_network<Client>::complete_on_caller(self, r ? std::error_code{} : r.error(), r ? *r : 0);
            net->send_done();
            if (r) return basic_network<Client>::complete_on_caller(self, std::error_code{}, *r);
            const std::error_code ec = r.error();
            if (ec == make_error_code(errc::send_failed)) {
                // A hole in the stream: the link ends, after what it received before.
                net->end_after_send_failure(s, ec);
            } else if (ec == make_error_code(errc::cancelled) || ec == make_error_code(errc::timeout) ||
                       ec == make_error_code(errc::busy) || ec == make_error_code(errc::protocol_error)) {
                // A send whose fate is unknown (busy: the module may still take the data when
                // its late prompt comes), or one the module did not take as written (a "Recv
                // <n> bytes" that did not match, an echo that was not the line): the link is
                // finished.
                s->rx.fail(ec);
                net->close_in_background(s);
            }
            basic_network<Client>::complete_on_caller(self, ec, 0);
        }
    };

    struct close_op {
        basic_network<Client>* net;
        std::weak_ptr<void> life;
        state_ptr s;
        int step = 0;
        template <class Self>
        void operator()(Self& self)
        {
            const bool initiating = step++ == 0;
            if (initiating && !net->begin_on_client(self)) return;
            if (!s || !s->attached) return basic_network<Client>::finish_step(self, initiating, damage());
            cipclose_request r{close_link_id::checked(s->id).value()};
            auto* network = net;  // read before `self` (which holds this op) is moved
            network->client().template async_set<commands::cipclose>(r, network->link_call(), network->on_client(std::move(self)));
        }
        template <class Self>
        void operator()(Self& self, tl::expected<commands::nothing, std::error_code> r)
        {
            if (!life.expired() && s->attached) net->table().detach(s->id);
            if (auto damaged = damage()) return basic_network<Client>::complete_on_caller(self, damaged);
            // "link is not valid": the module had closed it already; closed is what was asked.
            if (!r && r.error() != make_error_code(errc::link_invalid)) return basic_network<Client>::complete_on_caller(self, r.error());
            basic_network<Client>::complete_on_caller(self, std::error_code{});
        }

        // A link found damaged (protocol_error: what it received or sent may not be what was
        // meant, e.g. stray bytes a send left on the module) is closed with that error: its
        // reader may have read everything before the damage was found, and the close is the
        // caller's last operation on it.
        [[nodiscard]] std::error_code damage() const
        {
            return s && s->rx.failure() == make_error_code(errc::protocol_error) ? s->rx.failure() : std::error_code{};
        }
    };

    basic_network<Client>* net_ = nullptr;
    state_ptr state_;
};

}  // namespace espat::net
