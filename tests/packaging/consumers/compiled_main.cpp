// Packaging test: a consumer of espat::compiled (CMake) / espat_compiled_dep (meson). It is
// compiled with the definition the package gives (ESPAT_SEPARATE_COMPILATION), so the client
// and network stacks over asio::serial_port come from the library, and it must link and start.
// Run with no arguments it opens nothing and exits 0; given a device path it runs start-up, the
// network's start and a connect against the module there.
#include <espat/client.hpp>
#include <espat/net/network.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/serial_port.hpp>

#include <iostream>
#include <system_error>
#include <utility>

#if !defined(ESPAT_SEPARATE_COMPILATION)
#error "espat's compiled library must give its users ESPAT_SEPARATE_COMPILATION"
#endif

namespace {

asio::awaitable<void> script(espat::client& esp)
{
    auto fw = co_await esp.async_start();
    if (!fw) {
        std::cerr << "start-up: " << fw.error().message() << '\n';
        co_return;
    }
    espat::net::basic_network<espat::client> net(esp);
    auto started = co_await net.async_start();
    if (!started) co_return;
    auto link = co_await net.async_connect("127.0.0.1", 80);
    std::cout << (link ? "connected\n" : "connect failed\n");
}

}  // namespace

int main(int argc, char** argv)
{
    asio::io_context io;
    espat::client esp{asio::serial_port(io)};  // no device opened
    if (argc > 1) {
        std::error_code ec;
        esp.stream().open(argv[1], ec);
        if (ec) {
            std::cerr << argv[1] << ": " << ec.message() << '\n';
            return 1;
        }
        asio::co_spawn(esp.get_executor(), script(esp), asio::detached);
    }
    io.run();
    esp.close();
    return 0;
}
