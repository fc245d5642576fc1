// net_rig.hpp — test helpers for links end to end: a simulated module on an in-process pipe with
// a started client and network, loopback TCP and TLS peers, byte patterns and a hash.
#pragma once

#include <espat/client.hpp>
#include <espat/net/network.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/pipe.hpp>
#include <espat/sim/tls.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include "test_certs.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace espat::test {

using asio::awaitable;
inline constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

using pipe_client = basic_client<sim::pipe_end>;
using pipe_network = net::basic_network<pipe_client>;

inline std::string pattern(std::size_t n, std::uint32_t seed)
{
    std::mt19937 g(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(g());  // every byte value, CR LF and "OK" included
    return s;
}

// FNV-1a, 64 bits: a running hash of everything a side sent or received.
struct fnv1a {
    std::uint64_t value = 0xcbf29ce484222325ull;
    std::uint64_t bytes = 0;
    void add(std::string_view s)
    {
        for (const char c : s) {
            value ^= static_cast<unsigned char>(c);
            value *= 0x100000001b3ull;
        }
        bytes += s.size();
    }
    friend bool operator==(const fnv1a&, const fnv1a&) = default;
    friend std::ostream& operator<<(std::ostream& os, const fnv1a& h)
    {
        return os << std::hex << h.value << std::dec << " over " << h.bytes << " bytes";
    }
};

// A simulated module on a pipe, a client on the other end, started, with a network on it.
struct rig {
    explicit rig(sim::module_options mo = {}, client_options co = {})
        : module(io.get_executor(), std::move(mo)), ends(sim::make_pipe(io.get_executor())), esp(std::move(ends.first), co)
    {
        asio::co_spawn(io, module.serve(ends.second), asio::detached);
    }

    // Runs `script` on the client's executor with a network started for it; fails the test if
    // it does not finish within `limit`.
    void run(std::function<awaitable<void>(pipe_client&, pipe_network&)> script,
             std::chrono::seconds limit = std::chrono::seconds(20), net::network_options no = {})
    {
        bool finished = false;
        std::exception_ptr failure;
        asio::co_spawn(
            esp.get_executor(),
            [&]() -> awaitable<void> {
                auto fw = co_await esp.async_start();
                REQUIRE(fw);
                pipe_network net(esp, no);
                auto started = co_await net.async_start();
                REQUIRE(started);
                co_await script(esp, net);
            },
            [&](std::exception_ptr e) {
                failure = e;
                finished = true;
                io.stop();
            });
        io.run_for(limit);
        REQUIRE_MESSAGE(finished, "the script did not finish in time");
        if (failure) std::rethrow_exception(failure);
    }

    asio::io_context io;
    sim::module module;
    std::pair<sim::pipe_end, sim::pipe_end> ends;
    pipe_client esp;
};

// Waits (polling, on the caller's executor) until pred() holds; false after `limit`. Pass a named
// lambda: g++ 12 mishandles a lambda written inside a co_await expression.
template <class Pred>
awaitable<bool> eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10))
{
    asio::steady_timer t(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) co_return false;
        t.expires_after(std::chrono::milliseconds(1));
        co_await t.async_wait(asio::use_awaitable);
    }
    co_return true;
}

// A loopback TCP server that runs `session` for each connection.
struct tcp_peer {
    tcp_peer(asio::io_context& io, std::function<awaitable<void>(asio::ip::tcp::socket)> session)
        : acceptor(io, {asio::ip::address_v4::loopback(), 0})
    {
        asio::co_spawn(io, accept_loop(std::move(session)), asio::detached);
    }
    awaitable<void> accept_loop(std::function<awaitable<void>(asio::ip::tcp::socket)> session)
    {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(as_tuple);
            if (ec) co_return;
            asio::co_spawn(acceptor.get_executor(), session(std::move(socket)), asio::detached);
        }
    }
    std::uint16_t port() const { return acceptor.local_endpoint().port(); }
    asio::ip::tcp::acceptor acceptor;
};

inline awaitable<void> echo_session(asio::ip::tcp::socket s)
{
    char buf[4096];
    for (;;) {
        auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), as_tuple);
        if (ec) co_return;
        auto [wec, wn] = co_await asio::async_write(s, asio::buffer(buf, n), as_tuple);
        (void)wn;
        if (wec) co_return;
    }
}

// A loopback TLS echo server with the test server certificate (or a PSK), noting what each
// client's handshake carried and what each connection received.
class tls_peer {
public:
    using stream = asio::ssl::stream<asio::ip::tcp::socket>;
    struct connection {
        std::string server_name;  // SNI
        std::string alpn;         // the protocol agreed
        std::string received;
    };
    struct state {
        state(asio::io_context& io, asio::ssl::context c) : context(std::move(c)), acceptor(io, {asio::ip::address_v4::loopback(), 0}) {}
        asio::ssl::context context;
        asio::ip::tcp::acceptor acceptor;
        std::vector<std::shared_ptr<stream>> streams;
        std::vector<std::shared_ptr<connection>> connections;  // completed handshakes, in order
        int failed_handshakes = 0;
    };

    explicit tls_peer(asio::io_context& io, sim::tls_server_config config = {}, std::optional<sim::tls_psk> psk = {})
    {
        const auto& certs = test_certs();
        sim::tls_credentials own{.ca_certificate = certs.ca,
                                 .certificate = certs.server.certificate,
                                 .private_key = certs.server.private_key,
                                 .psk = psk};
        auto context = sim::make_tls_server_context(config, own);
        REQUIRE(context);
        state_ = std::make_shared<state>(io, std::move(*context));
        asio::co_spawn(io, accept(state_), asio::detached);
    }
    ~tls_peer()
    {
        std::error_code ec;
        state_->acceptor.close(ec);
        for (auto& s : state_->streams) s->lowest_layer().close(ec);
    }
    tls_peer(const tls_peer&) = delete;
    tls_peer& operator=(const tls_peer&) = delete;

    [[nodiscard]] std::uint16_t port() const { return state_->acceptor.local_endpoint().port(); }
    [[nodiscard]] const state& seen() const { return *state_; }

private:
    static awaitable<void> accept(std::shared_ptr<state> s)
    {
        for (;;) {
            auto [ec, socket] = co_await s->acceptor.async_accept(as_tuple);
            if (ec) co_return;
            auto st = std::make_shared<stream>(std::move(socket), s->context);
            s->streams.push_back(st);
            asio::co_spawn(s->acceptor.get_executor(), echo(s, st), asio::detached);
        }
    }
    static awaitable<void> echo(std::shared_ptr<state> s, std::shared_ptr<stream> st)
    {
        auto [ec] = co_await st->async_handshake(stream::server, as_tuple);
        if (ec) {
            ++s->failed_handshakes;
            co_return;
        }
        auto c = std::make_shared<connection>();
        c->server_name = sim::requested_server_name(st->native_handle());
        c->alpn = sim::negotiated_alpn(st->native_handle());
        s->connections.push_back(c);
        std::array<char, 4096> buffer;
        for (;;) {
            auto [rec, n] = co_await st->async_read_some(asio::buffer(buffer), as_tuple);
            if (rec) co_return;
            const std::string copy(buffer.data(), n);
            c->received += copy;
            auto [wec, written] = co_await asio::async_write(*st, asio::buffer(copy), as_tuple);
            (void)written;
            if (wec) co_return;
        }
    }

    std::shared_ptr<state> state_;
};

// The module's flashed partitions: slot 0 trusts the test CA and holds the test server
// certificate and key (the SSL server uses it); slot 1 holds an unrelated CA.
inline std::vector<sim::tls_credentials> flashed_credentials()
{
    const auto& certs = test_certs();
    return {{.ca_certificate = certs.ca,
             .certificate = certs.server.certificate,
             .private_key = certs.server.private_key,
             .psk = std::nullopt},
            {.ca_certificate = certs.unrelated_ca, .certificate = {}, .private_key = {}, .psk = std::nullopt}};
}

}  // namespace espat::test
