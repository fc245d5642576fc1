// The transport pieces over a real pseudo-terminal, as the simulator uses them: a paced
// device output carries bytes at the line rate through the pty, and a replayed transcript
// plays through it with the host on the terminal side.
#include <espat/sim/faulty_stream.hpp>
#include <espat/sim/paced_stream.hpp>
#include <espat/sim/replay.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include "test_data.hpp"

#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <termios.h>
#include <unistd.h>

using namespace std::chrono_literals;
using asio::posix::stream_descriptor;

namespace {

void run_bounded(asio::io_context& io, std::chrono::seconds limit = std::chrono::seconds(30))
{
    io.run_for(limit);
    REQUIRE(io.stopped());
}

// A pty pair in raw mode (no echo, no CR/LF translation): {device side (master), host side}.
struct pty_pair {
    stream_descriptor device;
    stream_descriptor host;
};

pty_pair open_pty(asio::io_context& io)
{
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    REQUIRE(master >= 0);
    REQUIRE(::grantpt(master) == 0);
    REQUIRE(::unlockpt(master) == 0);
    const char* name = ::ptsname(master);
    REQUIRE(name != nullptr);
    const int slave = ::open(name, O_RDWR | O_NOCTTY);
    REQUIRE(slave >= 0);
    termios tio{};
    REQUIRE(::tcgetattr(slave, &tio) == 0);
    ::cfmakeraw(&tio);
    REQUIRE(::tcsetattr(slave, TCSANOW, &tio) == 0);
    return {stream_descriptor(io, master), stream_descriptor(io, slave)};
}

std::string pattern(std::size_t n)
{
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('0' + i % 64);
    return s;
}

}  // namespace

TEST_CASE("pty: paced device output reaches the host at no more than the line rate")
{
    asio::io_context io;
    pty_pair pty = open_pty(io);
    espat::sim::paced_stream<stream_descriptor&> device(pty.device, 115200);
    const std::string sent = pattern(2304);  // 200 ms of line time at 115200 baud
    std::string received(sent.size(), '\0');
    std::chrono::steady_clock::duration until_all_read{};
    const auto start = std::chrono::steady_clock::now();
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        co_await asio::async_write(device, asio::buffer(sent), asio::use_awaitable);
    }, asio::detached);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        co_await asio::async_read(pty.host, asio::buffer(received), asio::use_awaitable);
        until_all_read = std::chrono::steady_clock::now() - start;
    }, asio::detached);
    run_bounded(io);
    CHECK(received == sent);
    CHECK(until_all_read >= 200ms);
}

TEST_CASE("pty: a transcript replays with the host on the terminal side, through a paced, fault-free output")
{
    const auto text = espat::test::read_file(espat::test::data_dir() / "transcripts" / "01-doc-tcp-client-single.txt");
    REQUIRE(text.has_value());
    const auto lines = espat::proto::parse_transcript(*text).lines;
    const std::string host_bytes = espat::proto::host_stream(lines);
    const std::string device_bytes = espat::proto::device_stream(lines);

    asio::io_context io;
    pty_pair pty = open_pty(io);
    using paced = espat::sim::paced_stream<stream_descriptor&>;
    espat::sim::faulty_stream<paced> output(paced(pty.device, 921600));  // faults off
    espat::sim::replay_options options;
    options.host_silence_timeout = 2s;
    options.quiet_after_end = 50ms;
    espat::sim::replay_device replay(espat::sim::make_replay_script(*text), options);
    espat::sim::replay_report report;
    std::string received;
    bool replay_done = false;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        report = co_await replay.run(output);
        replay_done = true;
        pty.host.cancel();  // ends the host's reading
    }, asio::detached);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        for (std::size_t at = 0; at < host_bytes.size(); at += 7) {
            const std::size_t n = std::min<std::size_t>(7, host_bytes.size() - at);
            co_await asio::async_write(pty.host, asio::buffer(host_bytes.data() + at, n), asio::use_awaitable);
        }
    }, asio::detached);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        char buf[256];
        for (;;) {
            auto [ec, n] = co_await pty.host.async_read_some(asio::buffer(buf), asio::experimental::as_tuple(asio::use_awaitable));
            received.append(buf, n);
            if (ec) break;
        }
    }, asio::detached);
    run_bounded(io);
    REQUIRE(replay_done);
    CHECK_MESSAGE(report.ok(), report.message());
    CHECK(received == device_bytes);
    CHECK_FALSE(output.counters().any());
}
