// The trace of a serial line (espat/sim/traced_stream.hpp, espat-sim --trace): a short exchange
// with the simulated module, traced, must read as a transcript whose '>' and '<' bytes are
// exactly what the host sent and received, with the time of each read and write in comments,
// and must replay as a scripted device (sim::replay_device) against a host sending the same
// bytes. Run in-process, and through the espat-sim program with --trace=FILE and --trace.
#include "espat_sim_options.hpp"

#include <espat/proto/transcript.hpp>
#include <espat/sim/links.hpp>  // use_tuple
#include <espat/sim/module.hpp>
#include <espat/sim/pipe.hpp>
#include <espat/sim/replay.hpp>
#include <espat/sim/traced_stream.hpp>

#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace sim = espat::sim;
using dir = espat::proto::transcript_line::direction;
using namespace std::chrono_literals;

namespace {

bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit = 5s)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        io.run_for(1ms);
    }
    return true;
}

// What a trace must be: a transcript, its bytes exactly the host's and the device's, every
// read or write timed by a "t=" comment before it, the times in order.
void check_trace(const std::string& trace, const std::string& host_bytes, const std::string& device_bytes)
{
    INFO(trace);
    const auto parsed = espat::proto::parse_transcript(trace);
    REQUIRE_MESSAGE(parsed.ok(), "line " << parsed.error_line << ": " << parsed.error);
    CHECK(espat::proto::host_stream(parsed.lines) == host_bytes);
    CHECK(espat::proto::device_stream(parsed.lines) == device_bytes);
    double last = -1;
    bool timed = false;  // the bytes since the last comment have a time
    std::size_t records = 0;
    for (const auto& line : parsed.lines) {
        if (line.dir == dir::comment) {
            timed = line.bytes.starts_with("t=");
            if (timed) {
                ++records;
                const double t = std::stod(line.bytes.substr(2));
                CHECK(t >= last);
                last = t;
            }
        } else {
            CHECK_MESSAGE(timed, "bytes with no time before them");
        }
    }
    CHECK(records > 0);
}

// Replays the trace as the device against a host that sends the trace's host bytes (each '>'
// line in a write of its own) and reads everything; returns what the host read.
std::string replay(const std::string& trace)
{
    asio::io_context io;
    auto pipe = sim::make_pipe(io.get_executor());
    auto& device_end = pipe.first;
    auto& host_end = pipe.second;
    const auto parsed = espat::proto::parse_transcript(trace);
    sim::replay_options options;
    options.quiet_after_end = 20ms;
    sim::replay_device device(sim::make_replay_script(trace), options);
    sim::replay_report report;
    bool done = false;
    std::string read;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        report = co_await device.run(device_end);
        done = true;
        device_end.close();
    }, asio::detached);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        for (const auto& line : parsed.lines) {
            if (line.dir != dir::host) continue;
            auto [ec, n] = co_await asio::async_write(host_end, asio::buffer(line.bytes), sim::use_tuple);
            (void)n;
            if (ec) break;
        }
    }, asio::detached);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        std::array<char, 256> b;
        for (;;) {
            auto [ec, n] = co_await host_end.async_read_some(asio::buffer(b), sim::use_tuple);
            read.append(b.data(), n);
            if (ec) break;
        }
    }, asio::detached);
    io.run_for(10s);
    REQUIRE(done);
    CHECK_MESSAGE(report.ok(), report.message());
    return read;
}

}  // namespace

TEST_CASE("trace: an exchange with a link, traced, reads as a transcript and replays" * doctest::timeout(60))
{
    asio::io_context io;
    std::string trace_text;
    sim::line_trace trace([&](std::string_view record) { trace_text += record; });
    trace.comment("a test exchange\nof two lines");
    auto pipe = sim::make_pipe(io.get_executor());
    auto& host = pipe.first;
    sim::traced_stream<sim::pipe_end&> wire(pipe.second, &trace);
    sim::module module(io.get_executor(), sim::module_options{});
    asio::co_spawn(io, module.serve(wire), asio::detached);

    std::string received;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        std::array<char, 512> b;
        for (;;) {
            auto [ec, n] = co_await host.async_read_some(asio::buffer(b), sim::use_tuple);
            received.append(b.data(), n);
            if (ec) break;
        }
    }, asio::detached);
    std::string sent;
    auto exchange = [&](const std::string& bytes, const std::string& answer_ends) {
        sent += bytes;
        const std::size_t from = received.size();
        asio::write(host, asio::buffer(bytes));
        INFO(bytes);
        REQUIRE(run_until(io, [&] { return received.find(answer_ends, from) != std::string::npos; }));
    };

    // A loopback peer that echoes.
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    std::optional<asio::ip::tcp::socket> peer;
    std::array<char, 256> peer_buffer{};
    std::function<void()> echo = [&] {
        peer->async_read_some(asio::buffer(peer_buffer), [&](std::error_code ec, std::size_t n) {
            if (ec) return;
            asio::write(*peer, asio::buffer(peer_buffer.data(), n));
            echo();
        });
    };
    acceptor.async_accept([&](std::error_code ec, asio::ip::tcp::socket s) {
        if (ec) return;
        peer.emplace(std::move(s));
        echo();
    });

    exchange("AT\r\n", "OK\r\n");
    exchange("ATE0\r\n", "OK\r\n");
    exchange("AT+CIPSTART=\"TCP\",\"127.0.0.1\"," + std::to_string(acceptor.local_endpoint().port()) + "\r\n", "OK\r\n");
    exchange("AT+CIPSEND=7\r\n", ">");
    exchange("hi \\ \x01!", "+IPD,7:hi \\ \x01!\r\n");  // bytes that need escapes, a space inside
    exchange("AT+CIPCLOSE\r\n", "CLOSED\r\n\r\nOK\r\n");
    module.stop();
    io.run_for(20ms);

    CHECK(received ==
          "AT\r\n\r\nOK\r\n"
          "ATE0\r\n\r\nOK\r\n"
          "CONNECT\r\n\r\nOK\r\n"
          "\r\nOK\r\n\r\n>\r\nRecv 7 bytes\r\n\r\nSEND OK\r\n\r\n+IPD,7:hi \\ \x01!\r\n"
          "CLOSED\r\n\r\nOK\r\n");
    check_trace(trace_text, sent, received);
    CHECK(trace_text.starts_with("# a test exchange\n# of two lines\n# t="));
    CHECK(trace_text.find("\n> hi \\\\ \\x01!\n") != std::string::npos);
    // A write is broken after each line end, for reading.
    CHECK(trace_text.find("\n< \\r\\n\n< OK\\r\\n\n") != std::string::npos);
    CHECK(replay(trace_text) == received);
}

TEST_CASE("espat-sim's flags: --trace, --trace=FILE, --ipd-delay")
{
    espat_sim::options o;
    CHECK(espat_sim::parse_line("--firmware 3", o) == nullptr);
    CHECK_FALSE(o.trace);
    CHECK(o.module.ipd_delay == 3ms);
    CHECK(espat_sim::parse_line("--trace --ipd-delay 0", o) == nullptr);
    CHECK(o.trace);
    CHECK(o.trace_file.empty());
    CHECK(o.module.ipd_delay == 0ms);
    CHECK(espat_sim::parse_line("--trace=/tmp/x.trace --ipd-delay 12", o) == nullptr);
    CHECK(o.trace_file == "/tmp/x.trace");
    CHECK(o.module.ipd_delay == 12ms);
    CHECK(espat_sim::parse_line("--trace=", o) != nullptr);
    CHECK(espat_sim::parse_line("--ipd-delay -1", o) != nullptr);
    CHECK(espat_sim::parse_line("--ipd-delay", o) != nullptr);
}

#if defined(ESPAT_SIM_EXECUTABLE)

namespace {

// espat-sim as a child process, its standard output read through a pipe.
class sim_process {
public:
    sim_process(std::vector<std::string> args, const std::optional<std::string>& stderr_file)
    {
        int out[2];
        REQUIRE(::pipe(out) == 0);
        posix_spawn_file_actions_t actions;
        ::posix_spawn_file_actions_init(&actions);
        ::posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        ::posix_spawn_file_actions_addclose(&actions, out[0]);
        ::posix_spawn_file_actions_addclose(&actions, out[1]);
        if (stderr_file)
            ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_file->c_str(),
                                               O_WRONLY | O_CREAT | O_TRUNC, 0644);
        args.insert(args.begin(), ESPAT_SIM_EXECUTABLE);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        const int spawned = ::posix_spawn(&pid_, ESPAT_SIM_EXECUTABLE, &actions, nullptr, argv.data(), environ);
        ::posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        stdout_ = out[0];
        REQUIRE(spawned == 0);
    }
    ~sim_process()
    {
        stop();
        ::close(stdout_);
    }
    sim_process(const sim_process&) = delete;
    sim_process& operator=(const sim_process&) = delete;

    // The first line of its standard output.
    std::string first_line()
    {
        std::string line;
        char c = 0;
        while (line.find('\n') == std::string::npos && wait_readable(stdout_) && ::read(stdout_, &c, 1) == 1) line += c;
        if (!line.empty() && line.back() == '\n') line.pop_back();
        return line;
    }
    // SIGTERM, as a user ends it; returns its exit status.
    int stop()
    {
        if (pid_ <= 0) return status_;
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return status_;
    }

    static bool wait_readable(int fd)
    {
        pollfd p{fd, POLLIN, 0};
        return ::poll(&p, 1, 5000) == 1;
    }

private:
    pid_t pid_ = -1;
    int stdout_ = -1;
    int status_ = -1;
};

// A host on the pty's slave: writes a command and reads until the answer ends with `ends`.
class pty_host {
public:
    explicit pty_host(const std::string& path)
    {
        fd_ = ::open(path.c_str(), O_RDWR | O_NOCTTY);
        REQUIRE(fd_ >= 0);
        termios t{};
        REQUIRE(::tcgetattr(fd_, &t) == 0);
        ::cfmakeraw(&t);
        REQUIRE(::tcsetattr(fd_, TCSANOW, &t) == 0);
    }
    ~pty_host() { ::close(fd_); }
    pty_host(const pty_host&) = delete;
    pty_host& operator=(const pty_host&) = delete;

    void exchange(std::string_view command, std::string_view ends)
    {
        sent += command;
        REQUIRE(::write(fd_, command.data(), command.size()) == static_cast<ssize_t>(command.size()));
        const std::size_t from = received.size();
        char b[256];
        while (received.find(ends, from) == std::string::npos) {
            REQUIRE(sim_process::wait_readable(fd_));
            const ssize_t n = ::read(fd_, b, sizeof b);
            REQUIRE(n > 0);
            received.append(b, static_cast<std::size_t>(n));
        }
    }

    std::string sent, received;

private:
    int fd_ = -1;
};

std::string read_text(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("espat-sim --trace=FILE and --trace: the program's trace reads as a transcript and replays"
          * doctest::timeout(60))
{
    const auto file = std::filesystem::temp_directory_path() / ("espat_sim_trace_test." + std::to_string(::getpid()));
    std::optional<std::string> stderr_file;
    std::vector<std::string> args{"--firmware", "esp8266", "--ipd-delay", "2"};
    SUBCASE("--trace=FILE") { args.push_back("--trace=" + file.string()); }
    SUBCASE("--trace, on standard error")
    {
        args.push_back("--trace");
        stderr_file = file.string();
    }
    std::string command_line = "espat-sim";
    for (const auto& a : args) command_line += " " + a;
    CAPTURE(command_line);
    {
        sim_process process(args, stderr_file);
        const std::string path = process.first_line();
        REQUIRE(path.starts_with("/dev/"));
        pty_host host(path);
        host.exchange("AT\r\n", "OK\r\n");
        host.exchange("ATE0\r\n", "OK\r\n");
        host.exchange("AT+GMR\r\n", "OK\r\n");
        host.exchange("AT+CIPSTATE?\r\n", "OK\r\n");
        CHECK(host.received.find("AT version:2.2.2.0(") != std::string::npos);
        CHECK(process.stop() == 0);
        const std::string trace = read_text(file);
        check_trace(trace, host.sent, host.received);
        CHECK(trace.starts_with("# espat-sim trace, begun "));
        CHECK(trace.find("\n# " + command_line + "\n") != std::string::npos);
        CHECK(trace.find("\n# pty " + path + "\n") != std::string::npos);
        CHECK(replay(trace) == host.received);
    }
    std::filesystem::remove(file);
}

#endif
