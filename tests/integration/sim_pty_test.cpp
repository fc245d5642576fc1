// The simulated module over a real pseudo-terminal: the test is the host and talks to the
// slave with plain open/read/write, as a serial-port program would.
#include <espat/sim/module.hpp>
#include <espat/sim/pty.hpp>

#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace sim = espat::sim;

namespace {

// The host side: the slave opened by path, raw, non-blocking; reads interleave with running
// the module's io_context, so one thread does both and every wait has a deadline.
struct serial_host {
    serial_host(asio::io_context& io, const std::string& path) : io(io)
    {
        fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
        REQUIRE(fd >= 0);
        termios t{};
        REQUIRE(::tcgetattr(fd, &t) == 0);
        ::cfmakeraw(&t);
        REQUIRE(::tcsetattr(fd, TCSANOW, &t) == 0);
    }
    ~serial_host() { ::close(fd); }

    void write_all(std::string_view bytes)
    {
        while (!bytes.empty()) {
            const ssize_t n = ::write(fd, bytes.data(), bytes.size());
            if (n > 0) bytes.remove_prefix(static_cast<std::size_t>(n));
            else io.run_for(std::chrono::milliseconds(1));
        }
    }
    std::string until(std::string_view marker)
    {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (got.find(marker) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
            io.run_for(std::chrono::milliseconds(2));
            char b[512];
            const ssize_t n = ::read(fd, b, sizeof b);
            if (n > 0) got.append(b, static_cast<std::size_t>(n));
        }
        const auto at = got.find(marker);
        if (at == std::string::npos) return std::exchange(got, {}) + "<TIMEOUT>";
        std::string out = got.substr(0, at + marker.size());
        got.erase(0, at + marker.size());
        return out;
    }

    asio::io_context& io;
    int fd = -1;
    std::string got;
};

}  // namespace

TEST_CASE("a host talks to the module through the pty's slave, bytes unchanged both ways")
{
    asio::io_context io;
    auto pty = sim::open_pty(io.get_executor());
    CHECK(pty.slave_path.starts_with("/dev/pts/"));
    sim::module module(io.get_executor());
    asio::co_spawn(io, module.serve(pty.master), asio::detached);

    serial_host host(io, pty.slave_path);
    host.write_all("AT\r\n");
    CHECK(host.until("OK\r\n") == "AT\r\n\r\nOK\r\n");
    host.write_all("ATE0\r\n");
    CHECK(host.until("OK\r\n") == "ATE0\r\n\r\nOK\r\n");
    host.write_all("AT+GMR\r\n");
    const std::string gmr = host.until("OK\r\n");
    CHECK(gmr.starts_with("AT version:2.2.0.0("));
    host.write_all("AT+RST\r\n");
    CHECK(host.until("OK\r\n") == "\r\nOK\r\n");
    CHECK(host.until("ready\r\n").ends_with("\r\nready\r\n"));
}

TEST_CASE("the pty keeps serving when the host closes the slave and opens it again")
{
    asio::io_context io;
    auto pty = sim::open_pty(io.get_executor());
    sim::module_options o;
    o.echo = false;
    sim::module module(io.get_executor(), o);
    asio::co_spawn(io, module.serve(pty.master), asio::detached);
    {
        serial_host first(io, pty.slave_path);
        first.write_all("AT\r\n");
        CHECK(first.until("OK\r\n") == "\r\nOK\r\n");
    }
    io.run_for(std::chrono::milliseconds(20));
    serial_host second(io, pty.slave_path);
    second.write_all("AT+CIPMUX?\r\n");
    CHECK(second.until("OK\r\n") == "+CIPMUX:0\r\n\r\nOK\r\n");
}
