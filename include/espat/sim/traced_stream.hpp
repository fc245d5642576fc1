// espat/sim/traced_stream.hpp — a trace of a serial line: every byte read and written through a
// stream wrapper, with its time, written as a transcript (espat/proto/transcript.hpp), so that
// proto::parse_transcript reads it and sim::replay_device replays it.
//
// Around a simulated module's transport, reads are the host's bytes ('>' lines) and writes the
// module's ('<' lines). Each read or write is one record: a comment with its time, then its
// bytes, broken after each LF for reading (line breaks in a transcript are only for reading):
//
//   # t=0.512309
//   > AT+CIPSEND=5\r\n
//   # t=0.512388
//   < \r\nOK\r\n
//   < \r\n>
//
// The time is in seconds since the trace began, taken when the read or write completed. A
// comment is the only place the format leaves for it, so a replay ignores it.
#pragma once

#include <espat/config.hpp>

#include <espat/proto/transcript.hpp>

#include <asio/buffer.hpp>
#include <asio/compose.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace espat::sim {

// Formats the records and hands each, whole, to a sink (a file, standard error, a string).
class line_trace {
public:
    using clock = std::chrono::steady_clock;
    using sink_type = std::function<void(std::string_view)>;

    explicit line_trace(sink_type sink, clock::time_point start = clock::now())
        : sink_(std::move(sink)), start_(start)
    {
    }

    // A comment: one '#' line per line of `text`.
    void comment(std::string_view text)
    {
        record_.clear();
        for (;;) {
            const auto nl = text.find('\n');
            proto::append_transcript_line(record_, {proto::transcript_line::direction::comment,
                                                    std::string(text.substr(0, nl))});
            if (nl == std::string_view::npos) break;
            text.remove_prefix(nl + 1);
        }
        sink_(record_);
    }
    void host_bytes(std::string_view bytes) { record(proto::transcript_line::direction::host, bytes); }
    void device_bytes(std::string_view bytes) { record(proto::transcript_line::direction::device, bytes); }

    [[nodiscard]] clock::time_point start() const noexcept { return start_; }

private:
    void record(proto::transcript_line::direction dir, std::string_view bytes)
    {
        if (bytes.empty()) return;
        const auto t = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start_).count();
        char stamp[48];
        std::snprintf(stamp, sizeof stamp, "t=%lld.%06lld", static_cast<long long>(t / 1000000),
                      static_cast<long long>(t % 1000000));
        record_.clear();
        proto::append_transcript_line(record_, {proto::transcript_line::direction::comment, stamp});
        while (!bytes.empty()) {
            const auto nl = bytes.find('\n');
            const std::size_t n = nl == std::string_view::npos ? bytes.size() : nl + 1;
            proto::append_transcript_line(record_, {dir, std::string(bytes.substr(0, n))});
            bytes.remove_prefix(n);
        }
        sink_(record_);
    }

    sink_type sink_;
    clock::time_point start_;
    std::string record_;
};

// A sink that writes to a C stream and flushes each record, so a trace is complete up to the
// last read or write however the program ends.
[[nodiscard]] inline line_trace::sink_type file_trace_sink(std::FILE* file)
{
    return [file](std::string_view record) {
        std::fwrite(record.data(), 1, record.size(), file);
        std::fflush(file);
    };
}

// `Stream` may be a reference type. Reads are recorded as host bytes, writes as device bytes
// (the module's side of a line); with no trace it passes everything through unrecorded. One
// read and one write may be pending at a time, and the object must not be moved while one is.
template <class Stream>
class traced_stream {
public:
    using next_layer_type = std::remove_reference_t<Stream>;
    using lowest_layer_type = typename next_layer_type::lowest_layer_type;
    using executor_type = typename next_layer_type::executor_type;

    template <class Arg>
    explicit traced_stream(Arg&& next_layer, line_trace* trace) : next_(std::forward<Arg>(next_layer)), trace_(trace)
    {
    }

    [[nodiscard]] executor_type get_executor() noexcept { return next_.get_executor(); }
    next_layer_type& next_layer() noexcept { return next_; }
    const next_layer_type& next_layer() const noexcept { return next_; }
    lowest_layer_type& lowest_layer() noexcept { return next_.lowest_layer(); }
    [[nodiscard]] line_trace* trace() const noexcept { return trace_; }

    void cancel()
    {
        if constexpr (requires(next_layer_type & s) { s.cancel(); }) next_.cancel();
    }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            io_op<MutableBuffers, true>{trace_, &next_, buffers}, token, get_executor());
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            io_op<ConstBuffers, false>{trace_, &next_, buffers}, token, get_executor());
    }

private:
    // One read or write of the next layer; what it moved is recorded when it completes.
    template <class Buffers, bool IsRead>
    struct io_op {
        line_trace* trace;
        next_layer_type* next;
        Buffers buffers;
        bool started = false;

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0)
        {
            if (!started) {
                started = true;
                if constexpr (IsRead) return next->async_read_some(buffers, std::move(self));
                else return next->async_write_some(buffers, std::move(self));
            }
            if (trace && n > 0) {
                std::string bytes(n, '\0');
                asio::buffer_copy(asio::buffer(bytes), buffers, n);
                if constexpr (IsRead) trace->host_bytes(bytes);
                else trace->device_bytes(bytes);
            }
            self.complete(ec, n);
        }
    };

    Stream next_;
    line_trace* trace_;
};

}  // namespace espat::sim
