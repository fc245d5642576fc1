// Build-cost benchmark, source (a): the README's client snippet's program written on plain
// Asio, as a baseline for what compiling any coroutine program on Asio costs. A serial port for
// the module ("AT" until "OK"), then a TCP socket (resolve, connect, a request, the reply's
// header). Compiled only, never run (benchmarks/build_cost.cpp).
#include <asio.hpp>

#include <string>

asio::awaitable<void> get(asio::serial_port& port)
{
    std::string line;
    co_await asio::async_write(port, asio::buffer(std::string("AT\r\n")), asio::use_awaitable);
    co_await asio::async_read_until(port, asio::dynamic_buffer(line), "OK\r\n", asio::use_awaitable);
    auto ex = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(ex);
    auto endpoints = co_await resolver.async_resolve("example.com", "80", asio::use_awaitable);
    asio::ip::tcp::socket socket(ex);
    co_await asio::async_connect(socket, endpoints, asio::use_awaitable);
    std::string request = "GET / HTTP/1.0\r\n\r\n", reply;
    co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
    co_await asio::async_read_until(socket, asio::dynamic_buffer(reply), "\r\n\r\n", asio::use_awaitable);
}

int main()
{
    asio::io_context io;
    asio::serial_port port(io, "/dev/ttyUSB0");
    asio::co_spawn(io, get(port), asio::detached);
    io.run();
}
