// The scripted device: every sample transcript replayed over an in-process pipe against a host
// that sends exactly the transcript's host bytes in random splits, and the reports of a host
// that differs, goes silent or says too much.
#include <espat/sim/pipe.hpp>
#include <espat/sim/replay.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include "test_data.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

using espat::sim::make_pipe;
using espat::sim::make_replay_script;
using espat::sim::replay_device;
using espat::sim::replay_failure;
using espat::sim::replay_options;
using espat::sim::replay_report;
using namespace std::chrono_literals;

namespace {

constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

void run_bounded(asio::io_context& io, std::chrono::seconds limit = std::chrono::seconds(20))
{
    io.run_for(limit);
    REQUIRE(io.stopped());
}

std::vector<std::filesystem::path> transcript_files()
{
    std::vector<std::filesystem::path> files;
    const auto dir = espat::test::data_dir() / "transcripts";
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        if (entry.path().extension() == ".txt") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

std::string load(const std::filesystem::path& path)
{
    auto text = espat::test::read_file(path);
    REQUIRE_MESSAGE(text.has_value(), "cannot read " << path);
    return *text;
}

// Splits `bytes` into chunks of 1..max_chunk bytes (all 1 when max_chunk is 1).
std::vector<std::string> random_chunks(const std::string& bytes, std::size_t max_chunk, std::uint32_t seed)
{
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> size(1, std::max<std::size_t>(1, max_chunk));
    std::vector<std::string> chunks;
    for (std::size_t at = 0; at < bytes.size();) {
        const std::size_t n = std::min(size(rng), bytes.size() - at);
        chunks.push_back(bytes.substr(at, n));
        at += n;
    }
    return chunks;
}

struct exchange {
    replay_report report;
    std::string device_bytes;  // what the host read
    bool replay_done = false;
};

// The replay on one end of a pipe; on the other a host that writes `host_writes` in order
// (each a separate write) while reading everything the device sends. When the replay ends
// it closes its end, which ends the host's reading.
exchange play(const std::string& transcript, const std::vector<std::string>& host_writes, replay_options options)
{
    asio::io_context io;
    auto pipe = make_pipe(io.get_executor());  // no structured binding: clang 14 cannot capture one
    auto& device_end = pipe.first;
    auto& host_end = pipe.second;
    replay_device device(make_replay_script(transcript), options);
    exchange result;

    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        result.report = co_await device.run(device_end);
        result.replay_done = true;
        device_end.close();
    }, asio::detached);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        for (const auto& chunk : host_writes) {
            auto [ec, n] = co_await asio::async_write(host_end, asio::buffer(chunk), as_tuple_awaitable);
            (void)n;
            if (ec) break;
        }
    }, asio::detached);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        char buf[97];
        for (;;) {
            auto [ec, n] = co_await host_end.async_read_some(asio::buffer(buf), as_tuple_awaitable);
            result.device_bytes.append(buf, n);
            if (ec) break;
        }
    }, asio::detached);
    run_bounded(io);
    return result;
}

replay_options quick_options()
{
    replay_options o;
    o.host_silence_timeout = 200ms;
    o.quiet_after_end = 20ms;
    return o;
}

}  // namespace

TEST_CASE("replay: every sample transcript plays through with the host's bytes in any split")
{
    const auto files = transcript_files();
    REQUIRE(files.size() >= 5);
    for (const auto& file : files) {
        const std::string text = load(file);
        const auto parsed = espat::proto::parse_transcript(text);
        REQUIRE_MESSAGE(parsed.ok(), file << ": " << parsed.error);
        const std::string host = espat::proto::host_stream(parsed.lines);
        const std::string device = espat::proto::device_stream(parsed.lines);
        for (const std::size_t max_chunk : {std::size_t{1}, std::size_t{3}, std::size_t{17}, host.size() + 1}) {
            CAPTURE(file.filename().string());
            CAPTURE(max_chunk);
            const exchange x = play(text, random_chunks(host, max_chunk, static_cast<std::uint32_t>(max_chunk)), quick_options());
            REQUIRE(x.replay_done);
            CHECK_MESSAGE(x.report.ok(), x.report.message());
            CHECK(x.report.host_bytes_matched == host.size());
            CHECK(x.report.device_bytes_written == device.size());
            CHECK(x.device_bytes == device);
        }
    }
}

TEST_CASE("replay: a device line waits for every host byte before it")
{
    const std::string text = "> AT\\r\\n\n< \\r\\nOK\\r\\n\n";
    asio::io_context io;
    auto pipe = make_pipe(io.get_executor());  // no structured binding: clang 14 cannot capture one
    auto& device_end = pipe.first;
    auto& host_end = pipe.second;
    replay_device device(make_replay_script(text), quick_options());
    replay_report report;
    std::size_t available_before_last_byte = 99;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        report = co_await device.run(device_end);
    }, asio::detached);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        co_await asio::async_write(host_end, asio::buffer(std::string("AT\r")), asio::use_awaitable);
        asio::steady_timer pause(host_end.get_executor(), 30ms);
        co_await pause.async_wait(asio::use_awaitable);
        available_before_last_byte = host_end.available();
        co_await asio::async_write(host_end, asio::buffer(std::string("\n")), asio::use_awaitable);
        std::string ok(6, '\0');
        co_await asio::async_read(host_end, asio::buffer(ok), asio::use_awaitable);
        CHECK(ok == "\r\nOK\r\n");
    }, asio::detached);
    run_bounded(io);
    CHECK(available_before_last_byte == 0);
    CHECK_MESSAGE(report.ok(), report.message());
}

TEST_CASE("replay: a changed host byte is reported at its transcript line and offset")
{
    // 01-doc-tcp-client-single.txt: the first '>' line is file line 6, "AT+CWMODE=1\r\n"
    // (13 bytes); the second is line 9, AT+CWJAP=...
    const std::string text = load(espat::test::data_dir() / "transcripts" / "01-doc-tcp-client-single.txt");
    const std::string host = espat::proto::host_stream(espat::proto::parse_transcript(text).lines);
    struct expectation {
        std::size_t at, line, offset;
    };
    for (const auto e : {expectation{0, 6, 0}, expectation{3, 6, 3}, expectation{12, 6, 12}, expectation{13, 9, 0},
                         expectation{20, 9, 7}}) {
        CAPTURE(e.at);
        std::string mutated = host;
        mutated[e.at] = static_cast<char>(mutated[e.at] ^ 0x20);
        const exchange x = play(text, random_chunks(mutated, 5, 7), quick_options());
        REQUIRE(x.replay_done);
        CHECK(x.report.failure == replay_failure::mismatch);
        CHECK(x.report.error == espat::errc::protocol_error);
        CHECK(x.report.line == e.line);
        CHECK(x.report.offset == e.offset);
        CHECK(x.report.host_offset == e.at);
        CHECK(x.report.host_bytes_matched == e.at);
        CHECK(x.report.expected.substr(0, 1) == espat::proto::escape_transcript_bytes(host.substr(e.at, 1)).substr(0, 1));
        CHECK(x.report.received.substr(0, 1) == espat::proto::escape_transcript_bytes(mutated.substr(e.at, 1)).substr(0, 1));
        CHECK(x.report.message().find("line " + std::to_string(e.line)) != std::string::npos);
    }
}

TEST_CASE("replay: a changed host byte anywhere in any transcript is caught where it is")
{
    for (const auto& file : transcript_files()) {
        const std::string text = load(file);
        const auto script = make_replay_script(text);
        REQUIRE(script.ok());
        const std::string host = espat::proto::host_stream(espat::proto::parse_transcript(text).lines);
        if (host.empty()) continue;
        for (const std::size_t at : {std::size_t{0}, host.size() / 3, host.size() / 2, host.size() - 1}) {
            CAPTURE(file.filename().string());
            CAPTURE(at);
            std::string mutated = host;
            mutated[at] = static_cast<char>(mutated[at] ^ 0x01);
            // Where the byte is, found independently: the '>' step holding host byte `at`.
            std::size_t start = 0, line = 0, offset = 0;
            std::string device_before;  // what the device owes the host before that step
            for (const auto& step : script.steps) {
                if (step.dir != espat::sim::replay_step::direction::host) {
                    device_before += step.bytes;
                    continue;
                }
                if (at < start + step.bytes.size()) {
                    line = step.line;
                    offset = at - start;
                    break;
                }
                start += step.bytes.size();
            }
            const exchange x = play(text, random_chunks(mutated, 4, static_cast<std::uint32_t>(at)), quick_options());
            REQUIRE(x.replay_done);
            CHECK_MESSAGE(x.report.failure == replay_failure::mismatch, x.report.message());
            CHECK(x.report.line == line);
            CHECK(x.report.offset == offset);
            CHECK(x.report.host_offset == at);
            // The device answered up to the point the host went wrong, and no further.
            CHECK(x.device_bytes == device_before);
        }
    }
}

TEST_CASE("replay: a silent host times out, with where the replay was waiting")
{
    const std::string text = "# header\n> AT\\r\\n\n< \\r\\nOK\\r\\n\n> AT+GMR\\r\\n\n< \\r\\nOK\\r\\n\n";
    replay_options options = quick_options();
    options.host_silence_timeout = 50ms;
    const auto started = std::chrono::steady_clock::now();
    const exchange x = play(text, {"AT\r\n", "AT+G"}, options);
    REQUIRE(x.replay_done);
    CHECK(std::chrono::steady_clock::now() - started >= 50ms);
    CHECK(x.report.failure == replay_failure::timeout);
    CHECK(x.report.error == espat::errc::timeout);
    CHECK(x.report.line == 4);
    CHECK(x.report.offset == 4);
    CHECK(x.report.expected == "MR\\r\\n");
    CHECK(x.device_bytes == "\r\nOK\r\n");
}

TEST_CASE("replay: host bytes after the end of the transcript are a mismatch")
{
    const std::string text = "> AT\\r\\n\n< \\r\\nOK\\r\\n\n";
    SUBCASE("in the same write as the last expected bytes")
    {
        const exchange x = play(text, {"AT\r\nAT"}, quick_options());
        CHECK(x.report.failure == replay_failure::mismatch);
        CHECK(x.report.line == 0);
        CHECK(x.report.host_offset == 4);
        CHECK(x.report.expected.empty());
        CHECK(x.report.received == "AT");
        CHECK(x.report.message().find("after the end") != std::string::npos);
    }
    SUBCASE("in a later write")
    {
        const exchange x = play(text, {"AT\r\n", "X"}, quick_options());
        CHECK(x.report.failure == replay_failure::mismatch);
        CHECK(x.report.line == 0);
        CHECK(x.report.received == "X");
    }
}

TEST_CASE("replay: a host that closes early is reported, not taken for success")
{
    const std::string text = "> AT\\r\\n\n< \\r\\nOK\\r\\n\n";
    asio::io_context io;
    auto pipe = make_pipe(io.get_executor());  // no structured binding: clang 14 cannot capture one
    auto& device_end = pipe.first;
    auto& host_end = pipe.second;
    replay_device device(make_replay_script(text), quick_options());
    replay_report report;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        report = co_await device.run(device_end);
    }, asio::detached);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        co_await asio::async_write(host_end, asio::buffer(std::string("AT")), asio::use_awaitable);
        host_end.close();
    }, asio::detached);
    run_bounded(io);
    CHECK(report.failure == replay_failure::host_closed);
    CHECK(report.line == 1);
    CHECK(report.offset == 2);
}

TEST_CASE("replay: a transcript that cannot be read is reported with its line")
{
    const auto script = make_replay_script("> AT\\r\\n\n< OK\\q\n");
    CHECK_FALSE(script.ok());
    CHECK(script.error_line == 2);
    const exchange x = play("> AT\\r\\n\n! nonsense\n", {}, quick_options());
    CHECK(x.report.failure == replay_failure::bad_script);
    CHECK(x.report.line == 2);
}

TEST_CASE("replay: async_run takes any completion token")
{
    const std::string text = "> AT\\r\\n\n< \\r\\nOK\\r\\n\n";
    asio::io_context io;
    auto pipe = make_pipe(io.get_executor());  // no structured binding: clang 14 cannot capture one
    auto& device_end = pipe.first;
    auto& host_end = pipe.second;
    replay_device device(make_replay_script(text), quick_options());
    std::optional<replay_report> report;
    device.async_run(device_end, [&](std::exception_ptr e, replay_report r) {
        CHECK_FALSE(e);
        report = std::move(r);
    });
    asio::async_write(host_end, asio::buffer("AT\r\n", 4), [](std::error_code, std::size_t) {});
    std::string reply(6, '\0');
    asio::async_read(host_end, asio::buffer(reply), [](std::error_code, std::size_t) {});
    run_bounded(io);
    REQUIRE(report.has_value());
    CHECK_MESSAGE(report->ok(), report->message());
    CHECK(reply == "\r\nOK\r\n");
}
