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

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
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

namespace detail {

// AT+CIPCLOSE=<id> for a link or a UDP link: completes when the module has closed it.
template <class Client>
struct close_link_op {
    basic_network<Client>* net;
    std::weak_ptr<void> life;
    typename link_table<typename Client::executor_type>::state_ptr s;
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
    void operator()(Self& self, std::error_code ec)
    {
        // "link is not valid", or the peer's close ("<id>,CLOSED", read before this answer) came
        // first and the module refused with ERROR (ERR CODE, UNLINK): it had no link left to
        // close. Closed is what was asked. Any other failure (a reset, a timeout) is reported.
        const bool peer_closed = !life.expired() && s->rx.peer_closed();
        const bool refused = ec == errc::command_failed || ec.category() == module_category();
        if (!life.expired() && s->attached) net->table().detach(s->id);
        if (auto damaged = damage()) return basic_network<Client>::complete_on_caller(self, damaged);
        if (ec && ec != make_error_code(errc::link_invalid) && !(refused && peer_closed))
            return basic_network<Client>::complete_on_caller(self, ec);
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

}  // namespace detail

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
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [](auto handler, basic_network<Client>* net, state_ptr s, asio::mutable_buffer into) {
                if (!net || !s) return invalid(std::move(handler));
                net->start_read(std::move(s), into, net->make_io_completion(std::move(handler)));
            },
            token, net_, state_, first_buffer<asio::mutable_buffer>(buffers));
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
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [](auto handler, basic_network<Client>* net, state_ptr s, std::string data) {
                if (!net || !s) return invalid(std::move(handler));
                net->start_write(std::move(s), std::move(data), net->make_io_completion(std::move(handler)));
            },
            token, net_, state_, chunk_of(buffers));
    }

    // AT+CIPCLOSE=<id>: completes when the module has closed the link. Data received before
    // stays readable; eof follows it.
    template <class Token>
    auto async_close(Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code)>(detail::close_link_op<Client>{net_, net_->lifetime(), state_},
                                                                 token, get_executor());
    }

private:
    void release()
    {
        if (net_ && state_) net_->close_in_background(std::move(state_));  // on any thread
        state_.reset();
    }

    // The buffer a read fills: the sequence's first non-empty one (a read may read some).
    template <class Buffer, class Buffers>
    static Buffer first_buffer(const Buffers& buffers)
    {
        for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it)
            if (Buffer b(*it); b.size() > 0) return b;
        return Buffer{};
    }

    // What one write sends at most: the largest AT+CIPSEND chunk any firmware takes
    // (send_length; the write cuts it to the module's max_send_length), copied at the
    // initiation, so the steps that follow take no buffer type.
    template <class ConstBuffers>
    static std::string chunk_of(const ConstBuffers& buffers)
    {
        constexpr auto largest = static_cast<std::size_t>(send_length::max);
        std::string data(std::min(asio::buffer_size(buffers), largest), '\0');
        asio::buffer_copy(asio::buffer(data), buffers);
        return data;
    }

    // An operation on a link that is not one (default-constructed or moved from).
    template <class Handler>
    static void invalid(Handler handler)
    {
        auto ex = asio::get_associated_executor(handler);
        asio::post(ex, [h = std::move(handler)]() mutable { std::move(h)(make_error_code(errc::link_invalid), std::size_t{0}); });
    }

    basic_network<Client>* net_ = nullptr;
    state_ptr state_;
};

}  // namespace espat::net
