// paced_stream: writes take at least the time a UART at the set baud rate needs for them
// (8N1, 10 bits a byte); reads pass through; baud 0 is unpaced; a waiting write can be cancelled.
// Only lower bounds on time are asserted: a loaded machine may always be slower.
#include <espat/sim/paced_stream.hpp>
#include <espat/sim/pipe.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <type_traits>

using espat::sim::make_pipe;
using espat::sim::paced_stream;
using espat::sim::pipe_end;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

void run_bounded(asio::io_context& io, std::chrono::seconds limit = std::chrono::seconds(20))
{
    io.run_for(limit);
    REQUIRE(io.stopped());
}

std::string pattern(std::size_t n)
{
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
}

// Reads exactly `n` bytes from `from` into `into`.
asio::awaitable<void> read_exactly(pipe_end& from, std::string& into, std::size_t n)
{
    into.assign(n, '\0');
    co_await asio::async_read(from, asio::buffer(into), asio::use_awaitable);
}

}  // namespace

// It stays an Asio stream usable over a pty's descriptor as well as a pipe.
static_assert(std::is_same_v<paced_stream<pipe_end>::executor_type, asio::any_io_executor>);
static_assert(std::is_same_v<paced_stream<pipe_end&>::next_layer_type, pipe_end>);
static_assert(std::is_same_v<paced_stream<pipe_end>::lowest_layer_type, pipe_end>);
static_assert(std::is_same_v<paced_stream<asio::posix::stream_descriptor>::lowest_layer_type,
                             asio::posix::stream_descriptor::lowest_layer_type>);

TEST_CASE("paced_stream: line time is 10 bits a byte")
{
    CHECK(paced_stream<pipe_end>::line_time(1152, 115200) == 100ms);
    CHECK(paced_stream<pipe_end>::line_time(96, 9600) == 100ms);
    CHECK(paced_stream<pipe_end>::line_time(1000, 0) == clock_type::duration::zero());
}

TEST_CASE("paced_stream: 1152 bytes at 115200 baud take at least 100 ms, and arrive intact")
{
    asio::io_context io;
    auto pipe = make_pipe(io.get_executor());  // no structured binding: clang 14 cannot capture one
    auto& a = pipe.first;
    auto& b = pipe.second;
    paced_stream<pipe_end> paced(std::move(a), 115200);
    const std::string sent = pattern(1152);
    std::string received;
    clock_type::duration took{};
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        const auto start = clock_type::now();
        co_await asio::async_write(paced, asio::buffer(sent), asio::use_awaitable);
        took = clock_type::now() - start;
    }, asio::detached);
    asio::co_spawn(io, read_exactly(b, received, sent.size()), asio::detached);
    run_bounded(io);
    CHECK(received == sent);
    CHECK(took >= 100ms);
}

TEST_CASE("paced_stream: consecutive writes queue back to back on the line")
{
    asio::io_context io;
    auto pipe = make_pipe(io.get_executor());  // no structured binding: clang 14 cannot capture one
    auto& a = pipe.first;
    auto& b = pipe.second;
    paced_stream<pipe_end&> paced(a, 115200);  // wrapping a stream owned elsewhere
    const std::string sent = pattern(1152);
    std::string received;
    clock_type::duration took{};
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        const auto start = clock_type::now();
        // 96 writes of 12 bytes: per-write rounding would not add up to less, so the total
        // must still be the line time of all 1152 bytes.
        for (std::size_t at = 0; at < sent.size(); at += 12)
            co_await asio::async_write(paced, asio::buffer(sent.data() + at, 12), asio::use_awaitable);
        took = clock_type::now() - start;
    }, asio::detached);
    asio::co_spawn(io, read_exactly(b, received, sent.size()), asio::detached);
    run_bounded(io);
    CHECK(received == sent);
    CHECK(took >= 100ms);
}

TEST_CASE("paced_stream: a long write is released in slices, not held to the end")
{
    asio::io_context io;
    auto pipe = make_pipe(io.get_executor());  // no structured binding: clang 14 cannot capture one
    auto& a = pipe.first;
    auto& b = pipe.second;
    paced_stream<pipe_end> paced(std::move(a), 115200);
    const std::string sent = pattern(4000);
    std::size_t first_write = 0;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        first_write = co_await paced.async_write_some(asio::buffer(sent), asio::use_awaitable);
    }, asio::detached);
    run_bounded(io);
    CHECK(first_write >= 1);
    CHECK(first_write < sent.size());
    CHECK(b.available() == first_write);
}

TEST_CASE("paced_stream: baud 0 is unpaced; set_baud switches between the two")
{
    asio::io_context io;
    auto pipe = make_pipe(io.get_executor());  // no structured binding: clang 14 cannot capture one
    auto& a = pipe.first;
    auto& b = pipe.second;
    paced_stream<pipe_end> paced(std::move(a));
    CHECK(paced.baud() == 0);
    const std::string sent = pattern(10000);
    std::size_t unpaced_write = 0, paced_write = 0;
    clock_type::duration paced_took{};
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        unpaced_write = co_await paced.async_write_some(asio::buffer(sent), asio::use_awaitable);
        paced.set_baud(9600);
        const auto start = clock_type::now();
        paced_write = co_await paced.async_write_some(asio::buffer(sent), asio::use_awaitable);
        paced_took = clock_type::now() - start;
    }, asio::detached);
    run_bounded(io);
    CHECK(unpaced_write == sent.size());  // the whole buffer in one write, as the pipe takes it
    REQUIRE(paced_write >= 1);
    CHECK(paced_took >= paced_stream<pipe_end>::line_time(paced_write, 9600));
    CHECK(b.available() == unpaced_write + paced_write);
}

TEST_CASE("paced_stream: reads pass through unchanged")
{
    asio::io_context io;
    auto pipe = make_pipe(io.get_executor());  // no structured binding: clang 14 cannot capture one
    auto& a = pipe.first;
    auto& b = pipe.second;
    paced_stream<pipe_end> paced(std::move(a), 300);
    std::string line;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        co_await asio::async_write(b, asio::buffer(std::string("AT+GMR\r\n")), asio::use_awaitable);
        co_await asio::async_read_until(paced, asio::dynamic_buffer(line), "\r\n", asio::use_awaitable);
    }, asio::detached);
    run_bounded(io);
    CHECK(line == "AT+GMR\r\n");
}

TEST_CASE("paced_stream: a pending paced write can be cancelled per operation and by cancel()")
{
    asio::io_context io;
    auto pipe = make_pipe(io.get_executor());  // no structured binding: clang 14 cannot capture one
    auto& a = pipe.first;
    auto& b = pipe.second;
    // 10 baud: one byte a second, so the write is surely still waiting for the line.
    paced_stream<pipe_end> paced(std::move(a), 10);
    const std::string sent = pattern(100);
    asio::cancellation_signal signal;
    std::error_code first_ec, second_ec;
    std::size_t first_n = 99, second_n = 99;
    bool first_done = false, second_done = false;
    asio::steady_timer later(io, 20ms);  // outlives the subcases: its wait must really wait

    SUBCASE("terminal cancellation through the handler's slot")
    {
        paced.async_write_some(asio::buffer(sent), asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec, std::size_t n) {
            first_ec = ec;
            first_n = n;
            first_done = true;
        }));
        later.async_wait([&](std::error_code) { signal.emit(asio::cancellation_type::terminal); });
    }
    SUBCASE("partial cancellation through the handler's slot")
    {
        paced.async_write_some(asio::buffer(sent), asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec, std::size_t n) {
            first_ec = ec;
            first_n = n;
            first_done = true;
        }));
        later.async_wait([&](std::error_code) { signal.emit(asio::cancellation_type::partial); });
    }
    SUBCASE("cancel() on the stream")
    {
        paced.async_write_some(asio::buffer(sent), [&](std::error_code ec, std::size_t n) {
            first_ec = ec;
            first_n = n;
            first_done = true;
        });
        later.async_wait([&](std::error_code) { paced.cancel(); });
    }
    run_bounded(io);
    REQUIRE(first_done);
    CHECK(first_ec == asio::error::operation_aborted);
    CHECK(first_n == 0);
    CHECK(b.available() == 0);  // nothing reached the line

    // The stream stays usable: the next write goes out (unpaced, to keep the test short).
    paced.set_baud(0);
    paced.async_write_some(asio::buffer(sent.data(), 5), [&](std::error_code ec, std::size_t n) {
        second_ec = ec;
        second_n = n;
        second_done = true;
    });
    io.restart();
    run_bounded(io);
    REQUIRE(second_done);
    CHECK_FALSE(second_ec);
    CHECK(second_n == 5);
    CHECK(b.available() == 5);
}
