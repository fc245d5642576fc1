// espat/sim/replay.hpp — a scripted device: plays the device side of a transcript over any
// Asio stream and checks, byte for byte, that the host sends what the transcript says.
//
// The comparison is strict on purpose: the point of a replay is to prove that the host's
// bytes are exactly the recorded ones, so there is no tolerance for echo, line endings or
// "don't care" regions. Where the device's bytes must depend on what the host sent, use the
// simulator instead of a replay.
#pragma once

#include <espat/config.hpp>
#include <espat/error.hpp>
#include <espat/proto/transcript.hpp>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/experimental/parallel_group.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace espat::sim {

// One '>' or '<' line of a transcript, with where it stood in the file.
struct replay_step {
    enum class direction { host, device };
    direction dir{direction::host};
    std::string bytes;     // unescaped
    std::size_t line = 0;  // 1-based line of the transcript file
};

// The '>' and '<' lines of a transcript in order, or why the transcript could not be read.
struct replay_script {
    std::vector<replay_step> steps;
    std::string error;           // empty on success
    std::size_t error_line = 0;  // where `error` was found

    [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

// Reads a transcript's text. Each physical line goes through proto::parse_transcript on its
// own, so the format has exactly one parser and every step keeps its file line number for
// mismatch reports.
[[nodiscard]] inline replay_script make_replay_script(std::string_view text)
{
    using dir = proto::transcript_line::direction;
    replay_script script;
    std::size_t number = 0;
    while (!text.empty()) {
        ++number;
        const std::size_t nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        proto::transcript_parse_result parsed = proto::parse_transcript(line);
        if (!parsed.ok()) {
            script.steps.clear();
            script.error = std::move(parsed.error);
            script.error_line = number;
            return script;
        }
        for (auto& l : parsed.lines) {
            if (l.dir == dir::host)
                script.steps.push_back({replay_step::direction::host, std::move(l.bytes), number});
            else if (l.dir == dir::device)
                script.steps.push_back({replay_step::direction::device, std::move(l.bytes), number});
        }
    }
    return script;
}

// From lines already parsed: their file line numbers are unknown, so a step's `line` is its
// 1-based position among the given lines.
[[nodiscard]] inline replay_script make_replay_script(const std::vector<proto::transcript_line>& lines)
{
    using dir = proto::transcript_line::direction;
    replay_script script;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].dir == dir::host) script.steps.push_back({replay_step::direction::host, lines[i].bytes, i + 1});
        if (lines[i].dir == dir::device) script.steps.push_back({replay_step::direction::device, lines[i].bytes, i + 1});
    }
    return script;
}

struct replay_options {
    // The host may stay silent (or stop reading) this long while the transcript still
    // expects its bytes; then the replay ends with a timeout.
    std::chrono::steady_clock::duration host_silence_timeout = std::chrono::seconds(5);
    // After the last step the replay keeps listening this long (or until the host closes)
    // so that extra host bytes are caught; zero ends at once.
    std::chrono::steady_clock::duration quiet_after_end = std::chrono::milliseconds(100);
    std::size_t read_buffer_size = 512;
    std::size_t context_bytes = 16;  // how much of each side a mismatch report shows
};

enum class replay_failure {
    none,
    bad_script,    // the transcript could not be read
    mismatch,      // the host sent a different byte, or a byte after the end
    timeout,       // the host went silent, or stopped reading, while bytes were expected
    host_closed,   // eof before the host sent everything expected
    stream_error,  // the stream failed (see `error`)
};

// How a replay ended. On a failure, `line` and `offset` point at the first host byte that
// was not received as expected: its transcript line and its offset within that line's
// (unescaped) bytes. `line` is 0 for bytes past the end of the transcript.
struct replay_report {
    replay_failure failure = replay_failure::none;
    std::error_code error;
    std::size_t line = 0;
    std::size_t offset = 0;
    std::size_t host_offset = 0;      // offset in the whole host byte stream
    std::string expected;             // escaped, from the difference on ("" at the end)
    std::string received;             // escaped, from the difference on
    std::string matched_before;       // escaped, the last bytes that did match
    std::size_t host_bytes_matched = 0;
    std::size_t device_bytes_written = 0;

    [[nodiscard]] bool ok() const noexcept { return failure == replay_failure::none; }
    explicit operator bool() const noexcept { return ok(); }

    // One line for a test failure or a log.
    [[nodiscard]] std::string message() const
    {
        auto where = [&] {
            if (line == 0) return "after the end of the transcript (host byte " + std::to_string(host_offset) + ")";
            return "at line " + std::to_string(line) + ", byte " + std::to_string(offset) + " (host byte " +
                   std::to_string(host_offset) + ")";
        };
        switch (failure) {
        case replay_failure::none:
            return "replay complete: " + std::to_string(host_bytes_matched) + " host bytes matched, " +
                   std::to_string(device_bytes_written) + " device bytes sent";
        case replay_failure::bad_script: return "bad transcript at line " + std::to_string(line) + ": " + expected;
        case replay_failure::mismatch:
            return "host bytes differ " + where() + ": expected \"" + expected + "\", received \"" + received +
                   "\" after \"" + matched_before + "\"";
        case replay_failure::timeout:
            return "host silent " + where() + ", still expecting \"" + expected + "\"";
        case replay_failure::host_closed:
            return "host closed the stream " + where() + ", still expecting \"" + expected + "\"";
        case replay_failure::stream_error: return "stream error " + where() + ": " + error.message();
        }
        return {};
    }
};

class replay_device {
public:
    explicit replay_device(replay_script script, replay_options options = {})
        : script_(std::move(script)), options_(options)
    {
        for (std::size_t i = 0; i < script_.steps.size(); ++i) {
            if (script_.steps[i].dir != replay_step::direction::host) continue;
            host_steps_.push_back({i, host_.size()});
            host_.append(script_.steps[i].bytes);
        }
    }

    [[nodiscard]] const replay_script& script() const noexcept { return script_; }
    [[nodiscard]] const std::string& expected_host_bytes() const noexcept { return host_; }

    // Plays the transcript once over `stream` (which must outlive the call, as must this
    // device). Honours cancellation of the awaiting coroutine as the stream does.
    template <class Stream>
    asio::awaitable<replay_report> run(Stream& stream)
    {
        replay_report report;
        if (!script_.ok()) {
            report.failure = replay_failure::bad_script;
            report.line = script_.error_line;
            report.expected = script_.error;
            co_return report;
        }
        asio::steady_timer timer(stream.get_executor());
        std::vector<char> buffer(std::max<std::size_t>(1, options_.read_buffer_size));
        std::size_t matched = 0;     // host bytes received and equal to the transcript's
        std::size_t next_step = 0;   // the first step whose device bytes are not yet written
        std::string batch;

        for (;;) {
            // Every '<' line whose preceding '>' bytes have all arrived goes out now.
            const std::size_t due = first_incomplete_step(matched);
            batch.clear();
            for (; next_step < due; ++next_step)
                if (script_.steps[next_step].dir == replay_step::direction::device)
                    batch.append(script_.steps[next_step].bytes);
            if (!batch.empty()) {
                timer.expires_after(options_.host_silence_timeout);
                auto [order, write_ec, written, timer_ec] =
                    co_await asio::experimental::make_parallel_group(
                        asio::async_write(stream, asio::buffer(batch), asio::experimental::deferred),
                        timer.async_wait(asio::experimental::deferred))
                        .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
                (void)order;
                report.device_bytes_written += written;
                // A timer that expired (rather than being cancelled by the write's completion)
                // means the host stopped draining the device's output.
                if (write_ec && !timer_ec)
                    co_return fail(report, replay_failure::timeout, make_error_code(errc::timeout), matched, {});
                if (write_ec) co_return fail(report, replay_failure::stream_error, write_ec, matched, {});
            }
            const bool finished = due == script_.steps.size();
            if (finished && options_.quiet_after_end <= std::chrono::steady_clock::duration::zero())
                co_return succeed(report, matched);

            timer.expires_after(finished ? options_.quiet_after_end : options_.host_silence_timeout);
            auto [order, read_ec, n, timer_ec] =
                co_await asio::experimental::make_parallel_group(
                    stream.async_read_some(asio::buffer(buffer), asio::experimental::deferred),
                    timer.async_wait(asio::experimental::deferred))
                    .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
            (void)order;
            // Bytes that arrived count even if the timer fired in the same instant.
            const std::string_view got(buffer.data(), n);
            for (std::size_t i = 0; i < got.size(); ++i, ++matched) {
                if (matched == host_.size() || got[i] != host_[matched])
                    co_return fail(report, replay_failure::mismatch, make_error_code(errc::protocol_error), matched,
                                   got.substr(i));
            }
            if (n > 0) continue;
            const bool timed_out = !timer_ec;  // expired, not cancelled because the read completed
            if (finished && (timed_out || read_ec == asio::error::eof)) co_return succeed(report, matched);
            if (timed_out) co_return fail(report, replay_failure::timeout, make_error_code(errc::timeout), matched, {});
            if (read_ec == asio::error::eof)
                co_return fail(report, replay_failure::host_closed, read_ec, matched, {});
            if (read_ec) co_return fail(report, replay_failure::stream_error, read_ec, matched, {});
        }
    }

    // The same for any completion token; the completion signature is
    // void(std::exception_ptr, replay_report).
    template <class Stream, class Token>
    auto async_run(Stream& stream, Token&& token)
    {
        return asio::co_spawn(stream.get_executor(), run(stream), std::forward<Token>(token));
    }

private:
    struct host_step {
        std::size_t index;  // into script_.steps
        std::size_t start;  // offset of its first byte in host_
    };

    // The index of the first '>' step not yet fully received (steps.size() when all are):
    // every '<' step before it may be written.
    [[nodiscard]] std::size_t first_incomplete_step(std::size_t matched) const noexcept
    {
        for (const auto& h : host_steps_)
            if (h.start + script_.steps[h.index].bytes.size() > matched) return h.index;
        return script_.steps.size();
    }

    replay_report& locate(replay_report& report, std::size_t matched) const
    {
        report.host_offset = matched;
        report.host_bytes_matched = matched;
        const std::size_t step = first_incomplete_step(matched);
        if (step == script_.steps.size()) {
            report.line = 0;
            report.offset = matched - host_.size();
            return report;
        }
        report.line = script_.steps[step].line;
        for (const auto& h : host_steps_)
            if (h.index == step) report.offset = matched - h.start;
        return report;
    }

    replay_report succeed(replay_report& report, std::size_t matched) const
    {
        locate(report, matched);
        report.line = 0;
        report.offset = 0;
        return report;
    }

    replay_report fail(replay_report& report, replay_failure why, std::error_code ec, std::size_t matched,
                       std::string_view received) const
    {
        locate(report, matched);
        report.failure = why;
        report.error = ec;
        const std::size_t context = options_.context_bytes;
        const std::size_t from = matched > context ? matched - context : 0;
        report.matched_before = proto::escape_transcript_bytes(std::string_view(host_).substr(from, matched - from));
        report.expected = proto::escape_transcript_bytes(std::string_view(host_).substr(std::min(matched, host_.size()), context));
        report.received = proto::escape_transcript_bytes(received.substr(0, context));
        return report;
    }

    replay_script script_;
    replay_options options_;
    std::string host_;                   // every '>' byte, in order
    std::vector<host_step> host_steps_;  // where each '>' step starts in host_
};

}  // namespace espat::sim
