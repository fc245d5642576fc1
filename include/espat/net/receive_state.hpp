// espat/net/receive_state.hpp — what one link has received and what its reader may do next,
// without I/O: the bytes buffered on the host (bounded), what the module says it still holds
// (passive mode), and how the link ended. The Asio link turns `next()` into a copy, an
// AT+CIPRECVDATA read, a wait or a completion.
#pragma once

#include <espat/commands/tcpip.hpp>
#include <espat/error.hpp>

#include <asio/buffer.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>
#include <system_error>
#include <vector>

namespace espat::net {

// The command table's recv_mode. Active: the module pushes +IPD,<id>,<len>:<data>; the host
// must keep up or lose data. Passive: the module keeps up to 5744 bytes per link and says
// +IPD,<id>,<len> (the total it holds); the host pulls with AT+CIPRECVDATA, so a slow reader
// slows the peer instead.
using receive_mode = espat::recv_mode;

class receive_state {
public:
    // `capacity`: the most bytes held on the host for this link.
    explicit receive_state(receive_mode mode, std::size_t capacity) : mode_(mode), ring_(std::max<std::size_t>(capacity, 1)) {}

    [[nodiscard]] receive_mode mode() const noexcept { return mode_; }
    [[nodiscard]] std::size_t buffered() const noexcept { return size_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return ring_.size(); }
    [[nodiscard]] std::size_t room() const noexcept { return ring_.size() - size_; }
    // Passive mode: what the module holds for this link, as far as the host knows.
    [[nodiscard]] std::size_t module_buffered() const noexcept { return module_buffered_; }
    [[nodiscard]] bool peer_closed() const noexcept { return peer_closed_; }
    // Why a reader gets step::error: the failure, or the error the link ends with.
    [[nodiscard]] std::error_code failure() const noexcept { return failure_ ? failure_ : ending_; }
    // A failure that ends reading at once (after what is buffered), not the error a link ends
    // with once its data is read (end_with).
    [[nodiscard]] std::error_code broken() const noexcept { return failure_; }
    // Whether writes are refused, and with what: a failure, or a send that failed (end_with).
    [[nodiscard]] std::error_code write_refusal() const noexcept { return failure_ ? failure_ : ending_; }

    // Payload bytes for this link: an +IPD frame (active) or an AT+CIPRECVDATA answer
    // (passive). Active data that does not fit fails the link with receive_overflow: losing
    // bytes of a stream silently is never an option. Returns false if the data was refused.
    bool on_data(std::string_view bytes)
    {
        if (failure_) return false;
        if (bytes.size() > room()) {
            fail(make_error_code(errc::receive_overflow));
            return false;
        }
        push(bytes);
        if (mode_ == receive_mode::passive) module_buffered_ -= std::min(module_buffered_, bytes.size());
        return true;
    }

    // Passive mode: +IPD,<id>,<len> or AT+CIPRECVLEN? says the module holds `total` bytes.
    void on_module_buffered(std::size_t total) noexcept { module_buffered_ = total; }

    // <id>,CLOSED: the peer (or the module) ended the link. What was received stays readable.
    void on_closed() noexcept { peer_closed_ = true; }

    // The link is to end with `ec` instead of eof (a SEND FAIL: what the peer got has a hole),
    // once everything it received before its close has been read: data still arriving until
    // then is taken, as a socket keeps delivering what came before its error.
    void end_with(std::error_code ec) noexcept
    {
        if (!ending_ && !failure_) ending_ = ec;
    }

    // The link ends with an error: a reset, a SEND FAIL, an overflow. What was buffered came
    // before the failure and is contiguous, so it is still handed out; the error follows it,
    // and nothing after the hole is ever taken in.
    void fail(std::error_code ec)
    {
        if (failure_) return;
        failure_ = ec;
        module_buffered_ = 0;
    }

    enum class step {
        copy,   // bytes are buffered: read() them
        fetch,  // passive: ask the module for fetch_size() bytes (AT+CIPRECVDATA)
        wait,   // nothing yet: wait for data, a notification or a close
        eof,    // the peer closed and everything was read
        error,  // failure() says why
    };

    // What a reader wanting up to `want` bytes does next. The module's CLOSED comes only after
    // its buffer was read (reference, AT+CIPRECVMODE), so eof never hides buffered data.
    [[nodiscard]] step next(std::size_t want) const noexcept
    {
        if (size_ > 0) return step::copy;
        if (failure_) return step::error;
        if (mode_ == receive_mode::passive && module_buffered_ > 0 && want > 0) return step::fetch;
        if (peer_closed_) return ending_ ? step::error : step::eof;
        return step::wait;
    }

    // How much to ask AT+CIPRECVDATA for: the reader's want, bounded by what the module holds
    // (when known), what the host buffer can take and the command's own limit.
    [[nodiscard]] std::size_t fetch_size(std::size_t want, std::size_t command_limit) const noexcept
    {
        std::size_t n = std::min({want, room(), command_limit});
        if (module_buffered_ > 0) n = std::min(n, module_buffered_);
        return n;
    }

    // Moves buffered bytes into a buffer sequence, in order, as far as they go; returns how many.
    template <class MutableBuffers>
    std::size_t read_into(const MutableBuffers& buffers) noexcept
    {
        std::size_t n = 0;
        for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
            const asio::mutable_buffer b = *it;
            const std::size_t got = read(static_cast<char*>(b.data()), b.size());
            n += got;
            if (got < b.size()) break;
        }
        return n;
    }

    // Moves up to `n` buffered bytes into `out`; returns how many.
    std::size_t read(char* out, std::size_t n) noexcept
    {
        n = std::min(n, size_);
        const std::size_t first = std::min(n, ring_.size() - head_);
        std::memcpy(out, ring_.data() + head_, first);
        std::memcpy(out + first, ring_.data(), n - first);
        head_ = (head_ + n) % ring_.size();
        size_ -= n;
        if (size_ == 0) head_ = 0;
        return n;
    }

private:
    void push(std::string_view bytes) noexcept
    {
        const std::size_t tail = (head_ + size_) % ring_.size();
        const std::size_t first = std::min(bytes.size(), ring_.size() - tail);
        std::memcpy(ring_.data() + tail, bytes.data(), first);
        std::memcpy(ring_.data(), bytes.data() + first, bytes.size() - first);
        size_ += bytes.size();
    }

    receive_mode mode_;
    std::vector<char> ring_;  // fixed at construction: memory is bounded whatever arrives
    std::size_t head_ = 0;
    std::size_t size_ = 0;
    std::size_t module_buffered_ = 0;
    bool peer_closed_ = false;
    std::error_code failure_;
    std::error_code ending_;  // see end_with()
};

}  // namespace espat::net
