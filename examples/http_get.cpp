// http_get — the README's demo: join Wi-Fi, resolve a host, open a TCP link, send an HTTP GET and
// print the status line, the headers and the body, all as one co_await script.
//
// With no arguments it runs against espat's simulated ESP-AT module (in-process) and a small
// HTTP server on 127.0.0.1, so it needs no hardware. With --port it drives a real module:
//   http_get --port /dev/ttyUSB0 [--baud 115200] --ssid NAME --password PW --host example.com
//            [--http-port 80] [--path /]
#include "example_support.hpp"

#include <espat/client.hpp>
#include <espat/net/network.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>

namespace {

struct settings {
    espat::examples::common_settings common;
    std::string host = "localhost";
    std::uint16_t http_port = 0;  // 0: the local demo server's
    std::string path = "/";
};

settings parse(int argc, char** argv)
{
    const espat::examples::command_line cl(
        "http_get", "[--port DEVICE [--baud N]] [--ssid S] [--password P] [--host H] [--http-port N] [--path P]",
        "Joins Wi-Fi, resolves a host, opens a TCP link through the module, sends an HTTP GET and\n"
        "prints the status line, the headers and the body. Without --port: against the simulated\n"
        "module and a small HTTP server on 127.0.0.1.\n"
        "\n"
        "Options:\n"
        "  --host H        the web server (default: localhost)\n"
        "  --http-port N   its port (default 80 with --port; else the local server's)\n"
        "  --path P        the path to GET (default /)\n");
    settings s;
    s.common = cl.parse(argc, argv, [&](std::string_view flag, auto& value) {
        if (flag == "--host") s.host = value();
        else if (flag == "--http-port") s.http_port = cl.number<std::uint16_t>(value(), 1);
        else if (flag == "--path") s.path = value();
        else return false;
        return true;
    });
    if (s.common.port && s.http_port == 0) s.http_port = 80;
    return s;
}

// The demo's web server: one fixed page per connection, then close.
asio::awaitable<void> serve_page(asio::ip::tcp::acceptor& acceptor)
{
    for (;;) {
        auto socket = co_await acceptor.async_accept(asio::use_awaitable);
        std::string request;
        co_await asio::async_read_until(socket, asio::dynamic_buffer(request), "\r\n\r\n", asio::use_awaitable);
        const std::string body = "Hello from the other side of an ESP-AT link.\n";
        const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        co_await asio::async_write(socket, asio::buffer(response), asio::use_awaitable);
        socket.shutdown(asio::ip::tcp::socket::shutdown_both);
    }
}

// The script itself: the same whatever stream the module is on.
template <class Client>
asio::awaitable<int> fetch(Client& esp, const settings& s)
{
    if (!co_await espat::examples::start_and_join(esp, s.common)) co_return 1;

    espat::net::basic_network<Client> net(esp);
    if (auto ok = co_await net.async_start(); !ok) {
        std::cerr << "network: " << ok.error().message() << "\n";
        co_return 1;
    }
    const espat::cipdomain_request lookup{s.host};
    auto address = co_await esp.template async_set<espat::commands::cipdomain>(lookup);
    if (!address) {
        std::cerr << "resolving " << s.host << ": " << address.error().message() << "\n";
        co_return 1;
    }
    std::cout << s.host << " is " << address->to_string() << "\n";

    auto link = co_await net.async_connect(address->to_string(), s.http_port);
    if (!link) {
        std::cerr << "connecting: " << link.error().message() << "\n";
        co_return 1;
    }
    const std::string request = "GET " + s.path + " HTTP/1.1\r\nHost: " + s.host + "\r\nConnection: close\r\n\r\n";
    co_await asio::async_write(*link, asio::buffer(request), asio::use_awaitable);

    std::string response;
    const std::size_t header_end =
        co_await asio::async_read_until(*link, asio::dynamic_buffer(response), "\r\n\r\n", asio::use_awaitable);
    std::cout << response.substr(0, header_end);
    // The body: until the server closes (Connection: close); eof ends the read.
    auto [ec, n] = co_await asio::async_read(*link, asio::dynamic_buffer(response),
                                             asio::experimental::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec && ec != asio::error::eof) {
        std::cerr << "reading: " << ec.message() << "\n";
        co_return 1;
    }
    std::cout << response.substr(header_end);
    co_return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    const settings s = parse(argc, argv);
    espat::examples::runner run("http_get");
    if (s.common.port) return run.on_serial(s.common, [&](auto& esp) { return fetch(esp, s); });

    // No hardware: a simulated module joined to "espressif", and a web server on loopback.
    asio::ip::tcp::acceptor web(run.io(), {asio::ip::address_v4::loopback(), 0});
    settings local = s;
    local.http_port = web.local_endpoint().port();
    asio::co_spawn(run.io(), serve_page(web), asio::detached);
    return run.on_simulator([&](auto& esp) { return fetch(esp, local); });
}
