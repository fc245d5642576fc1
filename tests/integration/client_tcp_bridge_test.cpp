// A client over asio::ip::tcp::socket, as for a serial-over-network bridge (ser2net, an ESP
// module behind a TCP port): start-up, typed commands and the network, against the simulator
// served on a loopback socket. One of the stacks espat::compiled holds built (detail/stacks.hpp).
#include <espat/client.hpp>
#include <espat/net/network.hpp>
#include <espat/sim/module.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <optional>

namespace {

using tcp = asio::ip::tcp;
using bridge_client = espat::basic_client<tcp::socket>;

}  // namespace

TEST_CASE("a client over a TCP socket starts, runs typed commands and the network; no serial line settings")
{
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    auto module = std::make_shared<espat::sim::module>(io.get_executor());

    // The bridge's far side: the simulated module on the accepted connection.
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            tcp::socket device = co_await acceptor.async_accept(asio::use_awaitable);
            co_await module->serve(device);
        },
        asio::detached);

    // The client outlives the coroutine: close() posts to its strand, which runs after the
    // coroutine returns (the contract of ~basic_client).
    std::optional<bridge_client> client;
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            tcp::socket line(io);
            co_await line.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
            espat::client_options options;
            options.baud_rate = 921600;  // a serial setting: the bridge's business, not applied
            bridge_client& esp = client.emplace(std::move(line), options);

            auto fw = co_await esp.async_start();
            REQUIRE(fw);
            CHECK_FALSE(fw->line.has_value());  // no AT+UART_CUR through a socket
            auto mode = co_await esp.cwmode.query();
            CHECK(mode.has_value());

            espat::net::basic_network<bridge_client> net(esp);
            auto started = co_await net.async_start();
            CHECK(started.has_value());
            auto mux = co_await esp.cipmux.query();
            REQUIRE(mux);
            CHECK(*mux == espat::mux_mode::multiple);

            esp.close();
            module->stop();
            acceptor.close();
            done = true;
        },
        asio::detached);

    io.run_for(std::chrono::seconds(30));  // a hang fails here instead of blocking CI
    CHECK(done);
}
