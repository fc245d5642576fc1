// http_get — the README's demo: join Wi-Fi, resolve a host, open a TCP link, send an HTTP GET and
// print the status line, the headers and the body, all as one co_await script.
//
// With no arguments it runs against espat's simulated ESP-AT module (in-process) and a small
// HTTP server on 127.0.0.1, so it needs no hardware. With --port it drives a real module:
//   http_get --port /dev/ttyUSB0 [--baud 115200] --ssid NAME --password PW --host example.com
//            [--http-port 80] [--path /]
#include <espat/client.hpp>
#include <espat/net/network.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/pipe.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/serial_port.hpp>
#include <asio/write.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace {

struct settings {
    std::optional<std::string> port;  // serial device: real hardware
    unsigned baud = 115200;
    std::string ssid = "espressif";
    std::string password = "1234567890";
    std::string host = "localhost";
    std::uint16_t http_port = 0;  // 0: the local demo server's
    std::string path = "/";
};

[[noreturn]] void usage(const char* why)
{
    std::fprintf(stderr,
                 "http_get: %s\nusage: http_get [--port DEVICE [--baud N]] [--ssid S] [--password P] [--host H] "
                 "[--http-port N] [--path P]\n",
                 why);
    std::exit(2);
}

settings parse(int argc, char** argv)
{
    settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage("missing value");
            return argv[++i];
        };
        if (a == "--port") s.port = value();
        else if (a == "--baud") s.baud = static_cast<unsigned>(std::stoul(value()));
        else if (a == "--ssid") s.ssid = value();
        else if (a == "--password") s.password = value();
        else if (a == "--host") s.host = value();
        else if (a == "--http-port") s.http_port = static_cast<std::uint16_t>(std::stoul(value()));
        else if (a == "--path") s.path = value();
        else usage("unknown argument");
    }
    if (s.port && s.http_port == 0) s.http_port = 80;
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
    auto fw = co_await esp.start();
    if (!fw) {
        std::cerr << "no module: " << fw.error().message() << "\n";
        co_return 1;
    }
    std::cout << "module: AT version " << fw->info.at_version.to_string() << "\n";

    // Requests are named variables, never temporaries inside the co_await expression: g++ 12
    // destroys such temporaries twice.
    const espat::cwjap_request join{.ssid = s.ssid, .password = s.password};
    auto joined = co_await esp.template async_set<espat::commands::cwjap>(join);
    if (!joined) {
        std::cerr << "joining " << s.ssid << ": " << joined.error().message() << "\n";
        co_return 1;
    }
    std::cout << "joined " << s.ssid << "\n";

    espat::net::basic_network<Client> net(esp);
    if (auto ok = co_await net.start(); !ok) {
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

    auto link = co_await net.connect(address->to_string(), s.http_port);
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
    asio::io_context io;
    int status = 1;
    auto finish = [&](std::exception_ptr e, int rc) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::cerr << "http_get: " << x.what() << "\n";
            }
        }
        status = rc;
        io.stop();
    };

    if (s.port) {
        asio::serial_port serial(io, *s.port);
        serial.set_option(asio::serial_port::baud_rate(s.baud));
        espat::client esp(std::move(serial));
        asio::co_spawn(esp.get_executor(), fetch(esp, s), finish);
        io.run();
        return status;
    }

    // No hardware: a simulated module joined to "espressif", and a web server on loopback.
    asio::ip::tcp::acceptor web(io, {asio::ip::address_v4::loopback(), 0});
    settings local = s;
    local.http_port = web.local_endpoint().port();
    asio::co_spawn(io, serve_page(web), asio::detached);

    espat::sim::module module(io.get_executor(), {});
    auto ends = espat::sim::make_pipe(io.get_executor());
    asio::co_spawn(io, module.serve(ends.second), asio::detached);
    espat::basic_client<espat::sim::pipe_end> esp(std::move(ends.first));
    asio::co_spawn(esp.get_executor(), fetch(esp, local), finish);
    io.run_for(std::chrono::seconds(30));
    return status;
}
