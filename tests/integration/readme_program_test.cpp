// The README's first program, compiled from the README's own text (tests/CMakeLists.txt
// extracts it), run as a user runs it: a child process on a serial port, here the slave of a
// pseudo-terminal whose master the simulated module serves, against a web server and a UDP
// echo on 127.0.0.1 and a client of the module's server. It must print the reply's first
// line, the UDP answer, greet the client and exit by itself, 0; and when the connect fails,
// say why and exit 1, again by itself.
#include "loopback.hpp"
#include "pty_device.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#if !defined(ESPAT_README_PROGRAM)
#error "ESPAT_README_PROGRAM: the path of the program built from the README (tests/CMakeLists.txt)"
#endif

using namespace std::chrono_literals;
namespace sim = espat::sim;

namespace {

struct finished {
    int status = -1;  // exit status; -1: it had to be killed
    std::string output;
};

// Runs the README program with `args`, its standard output and error read through a pipe,
// while `io` (the module's and the test's peers) runs on this thread between reads; kills it
// when it has not ended after `limit`.
finished run_program(asio::io_context& io, const std::vector<std::string>& args, std::chrono::seconds limit)
{
    int out[2];
    REQUIRE(::pipe(out) == 0);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    ::posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
    ::posix_spawn_file_actions_addclose(&actions, out[0]);
    ::posix_spawn_file_actions_addclose(&actions, out[1]);
    std::vector<std::string> all{ESPAT_README_PROGRAM};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int spawned = ::posix_spawn(&pid, ESPAT_README_PROGRAM, &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    REQUIRE(spawned == 0);

    finished f;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    bool open = true;
    int status = 0;
    pid_t ended = 0;
    while (ended == 0) {
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            ::close(out[0]);
            return f;  // status -1: it did not end by itself
        }
        io.restart();
        io.run_for(10ms);
        for (pollfd p{out[0], POLLIN, 0}; open && ::poll(&p, 1, 0) == 1; p.revents = 0) {
            char buffer[512];
            const ssize_t n = ::read(out[0], buffer, sizeof buffer);
            if (n > 0) f.output.append(buffer, static_cast<std::size_t>(n));
            else open = false;  // end of output: it exited (or closed its descriptors)
        }
        ended = ::waitpid(pid, &status, WNOHANG);
    }
    for (pollfd p{out[0], POLLIN, 0}; open && ::poll(&p, 1, 0) == 1; p.revents = 0) {  // what is left
        char buffer[512];
        const ssize_t n = ::read(out[0], buffer, sizeof buffer);
        if (n > 0) f.output.append(buffer, static_cast<std::size_t>(n));
        else open = false;
    }
    ::close(out[0]);
    f.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return f;
}

// A web server on 127.0.0.1 that answers each request with a fixed reply.
struct web_server {
    explicit web_server(asio::io_context& io) : acceptor(io, {asio::ip::address_v4::loopback(), 0})
    {
        asio::co_spawn(io, serve(), asio::detached);
    }
    asio::awaitable<void> serve()
    {
        for (;;) {
            auto socket = co_await acceptor.async_accept(asio::use_awaitable);
            std::string request;
            co_await asio::async_read_until(socket, asio::dynamic_buffer(request), "\r\n\r\n", asio::use_awaitable);
            requests.push_back(request);
            const std::string reply = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello";
            co_await asio::async_write(socket, asio::buffer(reply), asio::use_awaitable);
        }
    }
    std::uint16_t port() const { return acceptor.local_endpoint().port(); }
    asio::ip::tcp::acceptor acceptor;
    std::vector<std::string> requests;
};

// A UDP echo on 127.0.0.1 at `port` (the web server's number: TCP and UDP ports are apart).
struct udp_echo {
    udp_echo(asio::io_context& io, std::uint16_t port) : socket(io, {asio::ip::address_v4::loopback(), port})
    {
        asio::co_spawn(io, serve(), asio::detached);
    }
    asio::awaitable<void> serve()
    {
        char buffer[1024];
        asio::ip::udp::endpoint from;
        for (;;) {
            const std::size_t n = co_await socket.async_receive_from(asio::buffer(buffer), from, asio::use_awaitable);
            datagrams.emplace_back(buffer, n);
            co_await socket.async_send_to(asio::buffer(buffer, n), from, asio::use_awaitable);
        }
    }
    asio::ip::udp::socket socket;
    std::vector<std::string> datagrams;
};

// The program's one client: once the module listens, connects to it (the simulator's real
// port for the module's 8080) and reads the greeting to its end (the program's close).
struct server_client {
    explicit server_client(asio::io_context& io, sim::module& module) : socket(io)
    {
        asio::co_spawn(io, run(module), asio::detached);
    }
    asio::awaitable<void> run(sim::module& module)
    {
        asio::steady_timer t(co_await asio::this_coro::executor);
        while (!module.server_port()) {
            t.expires_after(5ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        co_await socket.async_connect({asio::ip::address_v4::loopback(), *module.server_port()}, asio::use_awaitable);
        auto [ec, n] = co_await asio::async_read(socket, asio::dynamic_buffer(received),
                                                 asio::experimental::as_tuple(asio::use_awaitable));
        (void)n;
        ended = ec == asio::error::eof;
    }
    asio::ip::tcp::socket socket;
    std::string received;
    bool ended = false;
};

}  // namespace

TEST_CASE("the README's first program joins, fetches a reply's first line over a TCP link and exits by itself")
{
    espat::test::pty_device device;
    web_server server(device.io);
    udp_echo echo(device.io, server.port());
    server_client client(device.io, device.module);
    const std::string port = std::to_string(server.port());
    const finished f = run_program(device.io, {device.pty.slave_path, "espressif", "1234567890", "127.0.0.1", port}, 30s);
    INFO(f.output);
    CHECK(f.status == 0);
    CHECK(f.output.find("AT version 2.2.0.0") != std::string::npos);
    CHECK(f.output.find("joined, address 192.168.") != std::string::npos);
    CHECK(f.output.find("HTTP/1.0 200 OK") != std::string::npos);
    REQUIRE(server.requests.size() == 1);
    CHECK(server.requests.front() == "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    CHECK(f.output.find("UDP answer: ping") != std::string::npos);
    CHECK(echo.datagrams == std::vector<std::string>{"ping"});
    CHECK(f.output.find("listening on port 8080") != std::string::npos);
    CHECK(f.output.find("greeted a client") != std::string::npos);
    CHECK(client.received == "hello from the module\r\n");
    CHECK(client.ended);
}

TEST_CASE("the README's first program says why a connect failed and exits by itself with status 1")
{
    espat::test::pty_device device;
    const std::string closed = std::to_string(espat::test::closed_tcp_port(device.io));
    const finished f = run_program(device.io, {device.pty.slave_path, "espressif", "1234567890", "127.0.0.1", closed}, 20s);
    INFO(f.output);
    CHECK(f.status == 1);
    CHECK(f.output.find("connecting to 127.0.0.1: ") != std::string::npos);
}

TEST_CASE("the README's first program refuses a wrong password with the module's reason and exits 1")
{
    espat::test::pty_device device;
    const finished f = run_program(device.io, {device.pty.slave_path, "espressif", "wrong", "127.0.0.1", "80"}, 20s);
    INFO(f.output);
    CHECK(f.status == 1);
    CHECK(f.output.find("joining espressif: the access point refused the password") != std::string::npos);
}
