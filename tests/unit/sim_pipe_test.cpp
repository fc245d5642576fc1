// The in-process pipe: a real AsyncReadStream/AsyncWriteStream pair with back-pressure,
// eof after close, and per-operation cancellation.
#include <espat/sim/pipe.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using espat::sim::make_pipe;

namespace {
// Runs the context until it has no work, or fails after a deadline so a hang cannot block CI.
void run_bounded(asio::io_context& io, std::chrono::seconds limit = std::chrono::seconds(10))
{
    const auto handlers = io.run_for(limit);
    (void)handlers;
    REQUIRE(io.stopped());
}
}  // namespace

TEST_CASE("pipe: bytes written at one end are read at the other, both ways")
{
    asio::io_context io;
    auto ends = make_pipe(io.get_executor());  // not a structured binding: clang 14 cannot capture those
    auto& a = ends.first;
    auto& b = ends.second;
    std::string got_b, got_a;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        co_await asio::async_write(a, asio::buffer(std::string("AT\r\n")), asio::use_awaitable);
        std::string line;
        co_await asio::async_read_until(b, asio::dynamic_buffer(line), "\r\n", asio::use_awaitable);
        got_b = line;
        co_await asio::async_write(b, asio::buffer(std::string("OK\r\n")), asio::use_awaitable);
        std::string reply(4, '\0');
        co_await asio::async_read(a, asio::buffer(reply), asio::use_awaitable);
        got_a = reply;
    }, asio::detached);
    run_bounded(io);
    CHECK(got_b == "AT\r\n");
    CHECK(got_a == "OK\r\n");
}

TEST_CASE("pipe: a writer outpacing its reader waits instead of losing bytes")
{
    asio::io_context io;
    auto ends = make_pipe(io.get_executor(), 16);  // not a structured binding: clang 14 cannot capture those
    auto& a = ends.first;
    auto& b = ends.second;
    std::string sent;
    for (int i = 0; i < 1000; ++i) sent += static_cast<char>('a' + i % 26);
    std::string received(sent.size(), '\0');
    std::size_t max_buffered = 0;
    bool wrote = false;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        co_await asio::async_write(a, asio::buffer(sent), asio::use_awaitable);
        wrote = true;
    }, asio::detached);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        std::size_t at = 0;
        while (at < received.size()) {
            max_buffered = std::max(max_buffered, b.available());
            at += co_await b.async_read_some(asio::buffer(received.data() + at, 7), asio::use_awaitable);
        }
    }, asio::detached);
    run_bounded(io);
    CHECK(wrote);
    CHECK(received == sent);
    CHECK(max_buffered <= 16);
}

TEST_CASE("pipe: closing one end gives the other the buffered bytes, then eof; writes fail")
{
    asio::io_context io;
    auto ends = make_pipe(io.get_executor());  // not a structured binding: clang 14 cannot capture those
    auto& a = ends.first;
    auto& b = ends.second;
    std::error_code read_ec, write_ec;
    std::string got;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        co_await asio::async_write(a, asio::buffer(std::string("last words")), asio::use_awaitable);
        a.close();
        auto [ec, n] = co_await asio::async_read(b, asio::dynamic_buffer(got), asio::experimental::as_tuple(asio::use_awaitable));
        (void)n;
        read_ec = ec;
        auto [wec, wn] = co_await asio::async_write(b, asio::buffer(std::string("x")), asio::experimental::as_tuple(asio::use_awaitable));
        (void)wn;
        write_ec = wec;
    }, asio::detached);
    run_bounded(io);
    CHECK(got == "last words");
    CHECK(read_ec == asio::error::eof);
    CHECK(write_ec == asio::error::broken_pipe);
}

TEST_CASE("pipe: a pending read is cancelled through its cancellation slot and the pipe stays usable")
{
    asio::io_context io;
    auto ends = make_pipe(io.get_executor());  // not a structured binding: clang 14 cannot capture those
    auto& a = ends.first;
    auto& b = ends.second;
    asio::cancellation_signal signal;
    std::error_code first;
    std::string second(2, '\0');
    char buf[8];
    b.async_read_some(asio::buffer(buf), asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec, std::size_t) {
        first = ec;
        asio::async_read(b, asio::buffer(second), [](std::error_code, std::size_t) {});
        asio::async_write(a, asio::buffer("hi", 2), [](std::error_code, std::size_t) {});
    }));
    asio::post(io, [&] { signal.emit(asio::cancellation_type::terminal); });
    run_bounded(io);
    CHECK(first == asio::error::operation_aborted);
    CHECK(second == "hi");
}

TEST_CASE("pipe: cancel() aborts this end's pending read only")
{
    asio::io_context io;
    auto ends = make_pipe(io.get_executor());  // not a structured binding: clang 14 cannot capture those
    auto& a = ends.first;
    auto& b = ends.second;
    std::error_code b_ec, a_ec;
    char x[1], y[1];
    b.async_read_some(asio::buffer(x), [&](std::error_code ec, std::size_t) { b_ec = ec; });
    a.async_read_some(asio::buffer(y), [&](std::error_code ec, std::size_t) { a_ec = ec; });
    asio::post(io, [&] {
        b.cancel();
        asio::post(io, [&] { a.close(); });
    });
    run_bounded(io);
    CHECK(b_ec == asio::error::operation_aborted);
    CHECK(a_ec == asio::error::operation_aborted);
}
