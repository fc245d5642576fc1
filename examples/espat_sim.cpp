// espat-sim — a simulated ESP-AT module on a pseudo-terminal (or a TCP port), for trying a
// driver with no hardware attached:
//
//   espat-sim [--firmware 2|3|4|nonos] [--echo on|off] [--ap SSID:PASSWORD]...
//             [--listen HOST:PORT] [--reset-delay MS]
//
// With a pty, the slave's path is the first line of standard output (then e.g.
// `picocom /dev/pts/7`); with --listen, "listening HOST:PORT" is. It serves until SIGINT or
// SIGTERM. Over TCP one host is served at a time, each with a fresh module.
//
// Baud-rate pacing and byte faults are stream wrappers around the transport (module::serve
// takes any Asio stream): wrap `pty.master` or the accepted socket where marked below.
#include <espat/sim/links.hpp>  // use_tuple
#include <espat/sim/module.hpp>
#include <espat/sim/pty.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace {

struct options {
    espat::sim::module_options module;
    std::optional<std::string> listen_host;
    std::uint16_t listen_port = 0;
};

int usage(const char* why)
{
    std::fprintf(stderr,
                 "espat-sim: %s\n"
                 "usage: espat-sim [--firmware 2|3|4|nonos] [--echo on|off] [--ap SSID:PASSWORD]...\n"
                 "                 [--listen HOST:PORT] [--reset-delay MS]\n",
                 why);
    return 2;
}

template <class T>
bool parse_number(std::string_view s, T& out)
{
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

// Returns an error message, or nullptr.
const char* parse(int argc, char** argv, options& o)
{
    bool default_aps = true;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (i + 1 >= argc) return "missing value after a flag";
        const std::string_view value = argv[++i];
        if (flag == "--firmware") {
            if (value == "2") o.module.firmware = espat::sim::esp_at_2();
            else if (value == "3") o.module.firmware = espat::sim::esp_at_3();
            else if (value == "4") o.module.firmware = espat::sim::esp_at_4();
            else if (value == "nonos") o.module.firmware = espat::sim::nonos();
            else return "--firmware takes 2, 3, 4 or nonos";
        } else if (flag == "--echo") {
            if (value != "on" && value != "off") return "--echo takes on or off";
            o.module.echo = value == "on";
        } else if (flag == "--ap") {
            const auto colon = value.find(':');
            if (colon == std::string_view::npos) return "--ap takes SSID:PASSWORD";
            if (default_aps) o.module.access_points.clear();
            default_aps = false;
            o.module.access_points.push_back({std::string(value.substr(0, colon)), std::string(value.substr(colon + 1))});
        } else if (flag == "--listen") {
            const auto colon = value.rfind(':');
            if (colon == std::string_view::npos || !parse_number(value.substr(colon + 1), o.listen_port))
                return "--listen takes HOST:PORT";
            o.listen_host = std::string(value.substr(0, colon));
        } else if (flag == "--reset-delay") {
            unsigned ms = 0;
            if (!parse_number(value, ms) || ms < 20) return "--reset-delay takes milliseconds, at least 20";
            o.module.reset_delay = std::chrono::milliseconds(ms);
        } else {
            return "unknown flag";
        }
    }
    return nullptr;
}

asio::awaitable<void> serve_pty(espat::sim::module& module, espat::sim::pty& pty)
{
    // Hook: wrap pty.master in a pacing / fault-injecting stream here.
    co_await module.serve(pty.master);
}

asio::awaitable<void> serve_tcp(asio::ip::tcp::acceptor& acceptor, const espat::sim::module_options& options)
{
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(espat::sim::use_tuple);
        if (ec) co_return;
        espat::sim::module module(acceptor.get_executor(), options);
        // Hook: wrap socket in a pacing / fault-injecting stream here.
        co_await module.serve(socket);
    }
}

}  // namespace

int main(int argc, char** argv)
{
    options o;
    if (const char* why = parse(argc, argv, o)) return usage(why);
    try {
        asio::io_context io;
        asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](std::error_code, int) { io.stop(); });
        if (o.listen_host) {
            asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address(*o.listen_host), o.listen_port});
            std::printf("listening %s:%u\n", o.listen_host->c_str(), unsigned(acceptor.local_endpoint().port()));
            std::fflush(stdout);
            asio::co_spawn(io, serve_tcp(acceptor, o.module), asio::detached);
            io.run();
        } else {
            auto pty = espat::sim::open_pty(io.get_executor());
            espat::sim::module module(io.get_executor(), o.module);
            std::printf("%s\n", pty.slave_path.c_str());
            std::fflush(stdout);
            asio::co_spawn(io, serve_pty(module, pty), [&](std::exception_ptr) { io.stop(); });
            io.run();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "espat-sim: %s\n", e.what());
        return 1;
    }
    return 0;
}
