// fake_module.hpp — test helper: a scripted ESP-AT module on the far end of a sim::pipe, and a
// runner that puts every coroutine test under a deadline. No simulator: each test says what
// the module answers to each line (the start-up lines have default answers).
#pragma once

#include <espat/config.hpp>
#include <espat/sim/pipe.hpp>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace espat::test {

inline constexpr const char* gmr_2x =
    "AT version:2.2.0.0(c6fa6bf - ESP32 - Jul  2 2021 06:44:05)\r\nSDK version:v4.2.2-76-gefa6eca\r\n"
    "compile time(3a696ba):Jul  2 2021 11:54:43\r\nBin version:2.2.0(WROOM-32)\r\n\r\nOK\r\n";
inline constexpr const char* gmr_4x =
    "AT version:4.1.0.0(s-1d4c5b9 - ESP32C3 - Jun 10 2024 08:00:00)\r\nSDK version:v5.0.6\r\n"
    "compile time(2c6a1a3):Jun 10 2024 08:10:00\r\nBin version:4.1.0(MINI-1)\r\n\r\nOK\r\n";

// Over any Asio stream: a sim::pipe end, or the master side of a pseudo-terminal.
template <class Stream>
class basic_fake_module {
public:
    // Answers one line (without its line end); returns false to fall back to the defaults.
    using script_fn = std::function<bool(basic_fake_module&, const std::string& line)>;

    explicit basic_fake_module(Stream end) : end_(std::move(end)) {}

    script_fn script;
    std::function<void(basic_fake_module&, const std::string& data)> on_data;  // after expect_data(n)
    std::string gmr = gmr_2x;
    bool echo = false;                // ATE1 behaviour; ATE0 turns it off
    bool syslog_supported = true;     // old firmware answers AT+SYSLOG with ERROR

    std::vector<std::string> lines;   // every line received, in order
    std::string data;                 // every data block received

    void start() { read(); }

    // Bytes to the host, in order.
    void send(std::string bytes)
    {
        outbox_.push_back(std::move(bytes));
        if (!writing_) write_next();
    }
    void send_after(std::chrono::milliseconds delay, std::string bytes)
    {
        auto timer = std::make_shared<asio::steady_timer>(end_.get_executor(), delay);
        timer->async_wait([this, timer, b = std::move(bytes)](std::error_code ec) mutable {
            if (!ec) send(std::move(b));
        });
        timers_.push_back(timer);
    }
    // Repeats `bytes` every `period` until stop_repeating().
    void repeat(std::chrono::milliseconds period, std::string bytes)
    {
        repeating_ = true;
        auto timer = std::make_shared<asio::steady_timer>(end_.get_executor());
        tick(timer, period, std::move(bytes));
    }
    void stop_repeating() { repeating_ = false; }

    // The next n bytes are AT+CIPSEND data, not a line.
    void expect_data(std::size_t n) { data_left_ = n; }
    // Passthrough: every byte is data until "+++" (then OK is not printed, as on a module).
    bool passthrough = false;

    [[nodiscard]] std::size_t count(const std::string& line) const
    {
        return static_cast<std::size_t>(std::count(lines.begin(), lines.end(), line));
    }
    [[nodiscard]] std::size_t index_of(const std::string& line, std::size_t from = 0) const
    {
        for (std::size_t i = from; i < lines.size(); ++i)
            if (lines[i] == line) return i;
        return lines.size();
    }

    void close()
    {
        std::error_code ignored;
        if constexpr (requires { end_.close(ignored); }) end_.close(ignored);
        else end_.close();
    }

private:
    void read()
    {
        end_.async_read_some(asio::buffer(buf_), [this](std::error_code ec, std::size_t n) {
            if (ec) return;
            inbox_.append(buf_.data(), n);
            digest();
            read();
        });
    }

    void digest()
    {
        for (;;) {
            if (passthrough) {
                data += inbox_;
                inbox_.clear();
                if (data.ends_with("+++")) {
                    data.resize(data.size() - 3);
                    passthrough = false;
                    continue;
                }
                return;
            }
            if (data_left_ > 0) {
                const std::size_t n = std::min(data_left_, inbox_.size());
                if (n == 0) return;
                block_.append(inbox_, 0, n);
                inbox_.erase(0, n);
                data_left_ -= n;
                if (data_left_ == 0) {
                    data += block_;
                    if (on_data) on_data(*this, block_);
                    block_.clear();
                }
                continue;
            }
            const auto end = inbox_.find("\r\n");
            if (end == std::string::npos) return;
            std::string line = inbox_.substr(0, end);
            inbox_.erase(0, end + 2);
            lines.push_back(line);
            if (echo) send(line + "\r\n");
            if (script && script(*this, line)) continue;
            answer_default(line);
        }
    }

    void answer_default(const std::string& line)
    {
        if (line == "AT") return send("\r\nOK\r\n");
        if (line == "ATE0") {
            echo = false;
            return send("\r\nOK\r\n");
        }
        if (line == "ATE1") {
            echo = true;
            return send("\r\nOK\r\n");
        }
        if (line == "AT+GMR") return send(gmr);
        if (line == "AT+SYSLOG=1") return send(syslog_supported ? "\r\nOK\r\n" : "\r\nERROR\r\n");
        send("\r\nERROR\r\n");
    }

    void write_next()
    {
        if (outbox_.empty()) {
            writing_ = false;
            return;
        }
        writing_ = true;
        current_ = std::move(outbox_.front());
        outbox_.pop_front();
        asio::async_write(end_, asio::buffer(current_), [this](std::error_code ec, std::size_t) {
            if (ec) return;
            write_next();
        });
    }

    void tick(std::shared_ptr<asio::steady_timer> timer, std::chrono::milliseconds period, std::string bytes)
    {
        if (!repeating_) return;
        send(bytes);
        timer->expires_after(period);
        timer->async_wait([this, timer, period, b = std::move(bytes)](std::error_code ec) mutable {
            if (!ec) tick(timer, period, std::move(b));
        });
    }

    Stream end_;
    std::array<char, 1024> buf_{};
    std::string inbox_, block_, current_;
    std::deque<std::string> outbox_;
    std::vector<std::shared_ptr<asio::steady_timer>> timers_;
    std::size_t data_left_ = 0;
    bool writing_ = false;
    bool repeating_ = false;
};

using fake_module = basic_fake_module<sim::pipe_end>;

// Runs `body` (a coroutine function object) on `io` and fails the test when it has not
// finished within `limit`: a hang is a failure, not a stuck test run.
template <class Body>
void run_with_deadline(asio::io_context& io, Body&& body, std::chrono::milliseconds limit = std::chrono::seconds{5})
{
    bool finished = false;
    std::exception_ptr failure;
    asio::co_spawn(io, body(), [&](std::exception_ptr e) {
        failure = e;
        finished = true;
        io.stop();
    });
    // run() under a deadline timer, not run_for(): run_for returns after each handler and so
    // frees Asio's per-thread recycled handler memory every time (the allocation test counts it).
    asio::steady_timer deadline(io, limit);
    deadline.async_wait([&io](std::error_code ec) {
        if (!ec) io.stop();
    });
    io.run();
    if (failure) std::rethrow_exception(failure);
    REQUIRE_MESSAGE(finished, "the test coroutine did not finish before its deadline");
}

}  // namespace espat::test
