// espat/net/server.hpp — the module's TCP or SSL server (AT+CIPSERVER): async_accept() yields a link for each
// incoming "<id>,CONNECT". Closing the server (AT+CIPSERVER=0) leaves open links open, as the
// firmware does, unless asked to close them too (AT+CIPSERVER=0,1).
//
// Use it from the client's executor; its network must outlive it.
#pragma once

#include <espat/as_expected.hpp>
#include <espat/commands/tcpip.hpp>
#include <espat/error.hpp>
#include <espat/net/link.hpp>
#include <espat/net/link_table.hpp>

#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <tl/expected.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>

namespace espat::net {

struct server_options {
    std::optional<server_connections> max_connections{};  // AT+CIPSERVERMAXCONN, 1..5
    std::optional<std::chrono::seconds> idle_timeout{};    // AT+CIPSTO: a silent client is closed
    // An SSL server (ESP32 only): the module's flashed certificate and key; TLS ends on the
    // module, so accepted links carry plaintext. verify_clients is <SSL CA enable>: clients must
    // present a certificate the flashed CA signed.
    bool ssl = false;
    bool verify_clients = false;
};

template <class Client>
class basic_network;

template <class Client>
class basic_server {
public:
    using link = basic_link<Client>;
    template <class T>
    using result = tl::expected<T, std::error_code>;

    basic_server() = default;  // no server: what an error-first completion gives with its error
    basic_server(basic_network<Client>* net, std::uint16_t port) : net_(net), port_(port) {}
    // Written out, not defaulted: tl::expected 1.0 copies a type whose move is trivial but
    // whose copy is deleted.
    basic_server(basic_server&& o) noexcept : net_(std::exchange(o.net_, nullptr)), port_(o.port_) {}
    basic_server& operator=(basic_server&& o) noexcept
    {
        net_ = std::exchange(o.net_, nullptr);
        port_ = o.port_;
        return *this;
    }
    basic_server(const basic_server&) = delete;
    basic_server& operator=(const basic_server&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] bool is_open() const noexcept { return net_ && net_->server_open(); }

    // The next incoming connection, as a link (in the network's stream receive mode). A module
    // reset fails it with errc::device_reset; a closed server with errc::link_closed.
    // void(std::error_code, link); without a token, co_await yields result<link>.
    template <class Token = use_expected_t>
    auto async_accept(Token&& token = {})
    {
        return espat::detail::async_run(net_->client().get_executor(), accept_steps(), std::forward<Token>(token));
    }

    // AT+CIPSERVER=0 (or =0,1 to close the clients' links too). void(std::error_code).
    template <class Token = use_expected_t>
    auto async_close(bool close_links = false, Token&& token = {})
    {
        return espat::detail::async_run(net_->client().get_executor(), net_->stop_server(close_links),
                                        std::forward<Token>(token));
    }

private:
    asio::awaitable<result<link>> accept_steps()
    {
        for (;;) {
            if (auto s = net_->take_incoming()) co_return co_await net_->adopt_incoming(std::move(s));
            if (auto ec = net_->server_failure()) co_return tl::make_unexpected(ec);
            const std::size_t seen = net_->incoming_wakeups();
            auto& wake = net_->incoming_wake();
            auto [ec] = co_await wake.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
            if (ec == asio::error::operation_aborted && net_->incoming_wakeups() == seen) {
                co_return tl::make_unexpected(make_error_code(errc::cancelled));  // our caller's cancellation
            }
        }
    }

    basic_network<Client>* net_ = nullptr;
    std::uint16_t port_ = 0;
};

}  // namespace espat::net
