// echo_server — a TCP echo server on the module: join Wi-Fi, listen on a port and echo every
// accepted connection, each in its own coroutine, as one co_await script.
//
// With no arguments it runs against espat's simulated module (in-process); two clients on this
// host connect to the simulator's listening socket on 127.0.0.1 at once, send a few lines each
// and check the echoes: the program exits 0 when every echo matches. With --port it drives a
// real module and serves until killed:
//   echo_server --port /dev/ttyUSB0 [--baud 115200] --ssid NAME --password PW [--listen-port 3333]
#include "example_support.hpp"

#include <espat/client.hpp>
#include <espat/net/network.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace {

using asio::experimental::as_tuple;
using asio::use_awaitable;

struct settings {
    espat::examples::common_settings common;
    std::uint16_t listen_port = 3333;
};

settings parse(int argc, char** argv)
{
    const espat::examples::command_line cl(
        "echo_server", "[--port DEVICE [--baud N]] [--ssid S] [--password P] [--listen-port N]",
        "A TCP echo server on the module: joins Wi-Fi, listens, and echoes every accepted\n"
        "connection, each in its own coroutine. Without --port: against the simulated module, with\n"
        "two clients on this host checking their echoes (exit status 0 when all match); with --port\n"
        "it serves until killed.\n"
        "\n"
        "Options:\n"
        "  --listen-port N the port the module listens on (default 3333)\n");
    settings s;
    s.common = cl.parse(argc, argv, [&](std::string_view flag, auto& value) {
        if (flag != "--listen-port") return false;
        s.listen_port = cl.number<std::uint16_t>(value(), 1);
        return true;
    });
    return s;
}

// The echo coroutines still running: the script waits for them before its network (which
// their links use) goes away.
class session_count {
public:
    explicit session_count(const asio::any_io_executor& ex) : idle_(ex) {}
    void enter() { ++active_; }
    void leave()
    {
        --active_;
        idle_.cancel();
    }
    asio::awaitable<void> wait_idle()
    {
        while (active_ > 0) {
            idle_.expires_at(asio::steady_timer::time_point::max());
            co_await idle_.async_wait(as_tuple(use_awaitable));
        }
    }

private:
    asio::steady_timer idle_;
    int active_ = 0;
};

// One connection: what comes in goes back out, until the peer closes.
template <class Link>
asio::awaitable<void> echo(Link link, int id, session_count& sessions)
{
    std::array<char, 1024> buffer;
    std::size_t total = 0;
    std::error_code ec;
    for (;;) {
        auto [read_ec, n] = co_await link.async_read_some(asio::buffer(buffer), as_tuple(use_awaitable));
        if (read_ec) {
            ec = read_ec;
            break;
        }
        auto [write_ec, written] = co_await asio::async_write(link, asio::buffer(buffer.data(), n), as_tuple(use_awaitable));
        total += written;
        if (write_ec) {
            ec = write_ec;
            break;
        }
    }
    std::cout << "link " << id << ": echoed " << total << " bytes, then " << ec.message() << "\n";
    sessions.leave();
}

// Accepts until the server fails (a module reset) or the caller cancels.
template <class Server, class Client>
asio::awaitable<int> accept_loop(Server& server, Client& esp, session_count& sessions)
{
    for (;;) {
        auto link = co_await server.async_accept();
        if (!link) {
            if (link.error() == espat::errc::cancelled) co_return 0;
            std::cerr << "accepting: " << link.error().message() << "\n";
            co_return 1;
        }
        const int id = link->handle().id;
        std::cout << "link " << id << ": accepted\n";
        sessions.enter();
        asio::co_spawn(esp.get_executor(), echo(std::move(*link), id, sessions), asio::detached);
    }
}

// The script. `check` (simulator only) runs beside the accept loop once the server listens; its
// end ends the script with its status. Without it (nullptr) the server runs until killed.
template <class Client, class Check>
asio::awaitable<int> echo_server(Client& esp, const settings& s, Check check)
{
    if (!co_await espat::examples::start_and_join(esp, s.common)) co_return 1;

    espat::net::basic_network<Client> net(esp);
    if (auto ok = co_await net.async_start(); !ok) {
        std::cerr << "network: " << ok.error().message() << "\n";
        co_return 1;
    }
    auto server = co_await net.async_listen(s.listen_port);
    if (!server) {
        std::cerr << "listening: " << server.error().message() << "\n";
        co_return 1;
    }
    std::cout << "listening on port " << s.listen_port << "\n";

    session_count sessions(co_await asio::this_coro::executor);
    int status = 0;
    if constexpr (std::is_null_pointer_v<Check>) {
        status = co_await accept_loop(*server, esp, sessions);
    } else {
        using namespace asio::experimental::awaitable_operators;
        auto first = co_await (accept_loop(*server, esp, sessions) || check());
        status = std::visit([](int v) { return v; }, first);
    }
    auto closed = co_await server->async_close();
    (void)closed;  // after a reset there is no server to close
    co_await sessions.wait_idle();
    co_return status;
}

// ---- the simulator's side: clients on this host -------------------------------------------

// One client: sends each line, reads its echo, and says whether all came back as sent.
asio::awaitable<bool> talk(std::uint16_t port, std::string name)
{
    asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
    const asio::ip::tcp::endpoint server(asio::ip::address_v4::loopback(), port);
    co_await socket.async_connect(server, use_awaitable);
    bool all_match = true;
    std::string received;
    for (int i = 1; i <= 3; ++i) {
        const std::string line = name + " says hello #" + std::to_string(i) + "\n";
        co_await asio::async_write(socket, asio::buffer(line), use_awaitable);
        const std::size_t n = co_await asio::async_read_until(socket, asio::dynamic_buffer(received), '\n', use_awaitable);
        const std::string echoed = received.substr(0, n);
        received.erase(0, n);
        const bool match = echoed == line;
        all_match = all_match && match;
        std::cout << name << ": sent \"" << line.substr(0, line.size() - 1) << "\", echo "
                  << (match ? "matches" : "differs: \"" + echoed + "\"") << "\n";
    }
    socket.shutdown(asio::ip::tcp::socket::shutdown_both);
    socket.close();
    co_return all_match;
}

// Both clients at once: the server echoes each on its own link.
asio::awaitable<int> check_echoes(std::uint16_t port)
{
    using namespace asio::experimental::awaitable_operators;
    std::cout << "the simulated module listens on 127.0.0.1:" << port << "\n";
    const auto [a, b] = co_await (talk(port, "alice") && talk(port, "bob"));
    if (!a || !b) {
        std::cerr << "echo_server: an echo did not match what was sent\n";
        co_return 1;
    }
    std::cout << "all echoes match\n";
    co_return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    const settings s = parse(argc, argv);
    espat::examples::runner run("echo_server");
    if (s.common.port) return run.on_serial(s.common, [&](auto& esp) { return echo_server(esp, s, nullptr); });

    // No hardware: the simulated module listens on a free port of 127.0.0.1 whatever port the
    // script asks for; the clients read which one.
    espat::sim::module_options module;
    module.server_port_override = 0;
    auto check = [&] { return check_echoes(run.module().server_port().value_or(0)); };
    return run.on_simulator([&](auto& esp) { return echo_server(esp, s, check); }, std::move(module));
}
