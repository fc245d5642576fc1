// Build-cost benchmark, sources (b) and (c): the README's client snippet ("Using the client and
// links") as a whole program: start-up, AT+CWJAP, the network's start, a TCP link, a request and
// the reply's header. Compiled header-only (b) and with ESPAT_SEPARATE_COMPILATION (c), where
// the client and network stacks over asio::serial_port come from espat::compiled. Compiled
// only, never run (benchmarks/build_cost.cpp).
#include <espat/client.hpp>
#include <espat/net/network.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <string>

asio::awaitable<void> get(espat::client& esp)
{
    auto fw = co_await esp.async_start();                       // AT, ATE1, AT+GMR -> firmware profile, AT+SYSLOG=1
    const espat::cwjap_request join{.ssid = "home", .password = "secret"};
    auto joined = co_await esp.async_set<espat::commands::cwjap>(join);  // or esp.cwjap("home", "secret")
    espat::net::basic_network<espat::client> net(esp);
    co_await net.async_start();                                 // AT+CIPMUX=1, AT+CIPDINFO=1, receive mode
    auto link = co_await net.async_connect("93.184.216.34", 80);  // passive receive by default
    std::string request = "GET / HTTP/1.0\r\n\r\n", reply;
    co_await asio::async_write(*link, asio::buffer(request), asio::use_awaitable);
    co_await asio::async_read_until(*link, asio::dynamic_buffer(reply), "\r\n\r\n", asio::use_awaitable);
}

int main()
{
    asio::io_context io;
    espat::client esp(asio::serial_port(io, "/dev/ttyUSB0"));
    asio::co_spawn(io, get(esp), asio::detached);
    io.run();
}
