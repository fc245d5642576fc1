// espat/net/link_table.hpp — the module's five link ids as the host sees them: which link object
// owns each id now, and the routing of the module's reports (+IPD, CLOSED, CONNECT, ready) to
// it. A link's state is shared between the table and the link object, so data received before a
// close stays readable after the id was released and reused; generations tell the uses apart.
//
// Everything here runs on the client's executor (its strand): reports are delivered there, and
// links must be used from it (a coroutine spawned on it, or a single-threaded io_context).
#pragma once

#include <espat/client/detail/completion.hpp>
#include <espat/commands/tcpip.hpp>
#include <espat/error.hpp>
#include <espat/net/receive_state.hpp>
#include <espat/proto/event.hpp>

#include <asio/buffer.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/ip/address.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace espat::net {

inline constexpr int max_links = 5;  // link ids 0..4 (AT+CIPMUX=1)

// A datagram of a UDP link, with the peer it came from when AT+CIPDINFO=1 says so.
struct datagram {
    std::string data;
    std::optional<asio::ip::address> remote_ip{};
    std::uint16_t remote_port = 0;
};

// One use of one link id: from the CIPSTART (or the server's CONNECT) to the close.
template <class Executor>
struct link_state {
    link_state(const Executor& ex, int id, std::uint32_t generation, link_type type, receive_mode mode,
               std::size_t capacity)
        : id(id), generation(generation), type(type), rx(mode, capacity), wake(ex)
    {
        wake.expires_at(asio::steady_timer::time_point::max());
    }

    int id;
    std::uint32_t generation;
    link_type type;
    receive_state rx;                   // stream links (TCP, SSL)
    std::deque<datagram> datagrams;     // UDP links: one entry per +IPD, boundaries kept
    std::size_t datagram_bytes = 0;     // what `datagrams` holds, bounded by rx.capacity()
    std::size_t datagrams_dropped = 0;  // UDP over capacity is dropped, as the module does
    bool attached = true;               // still owns its id in the table
    bool established = false;           // opened (or accepted): the module lists it from now on
    bool fetching = false;              // passive mode: an AT+CIPRECVDATA is in flight
    bool close_when_drained = false;    // passive, after SEND FAIL: closed once the module holds nothing
    asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor> wake;
    std::size_t wakeups = 0;

    // The stream read and write in progress (a link takes one of each at a time, as a socket
    // does), their handlers type-erased: the steps are not templates, so a program built with
    // ESPAT_SEPARATE_COMPILATION does not compile them again (net/impl/link_ops.hpp).
    struct pending_read {
        asio::mutable_buffer into;
        espat::detail::completion_ptr<espat::detail::io_result> done;
        std::uint64_t ticket = 0;
        bool waited = false;     // a wake-up is due (a notification, or reconcile_after ran out)
        bool cancelled = false;  // the caller cancelled
    };
    struct pending_write {
        std::string data;  // copied at the initiation, up to the largest AT+CIPSEND
        espat::detail::completion_ptr<espat::detail::io_result> done;
        std::uint64_t ticket = 0;
        bool handed_over = false;                  // with the client: seen through, never cut
        asio::cancellation_signal turn_cancelled;  // while it waits for its turn to send
    };
    std::optional<pending_read> reader;
    std::optional<pending_write> writer;

    // Wakes whoever waits for this link (a reader, an accept).
    void notify()
    {
        ++wakeups;
        wake.cancel();
    }
};

// A link id and the generation of its use: what a stale handle is told apart by.
struct link_handle {
    int id = -1;
    std::uint32_t generation = 0;
    friend bool operator==(const link_handle&, const link_handle&) = default;
};

template <class Executor>
class link_table {
public:
    using state_ptr = std::shared_ptr<link_state<Executor>>;

    explicit link_table(Executor ex) : ex_(std::move(ex)) {}

    [[nodiscard]] const Executor& executor() const noexcept { return ex_; }

    // The lowest id no link owns, if any.
    [[nodiscard]] std::optional<int> free_id() const noexcept
    {
        for (int i = 0; i < max_links; ++i)
            if (!slots_[static_cast<std::size_t>(i)]) return i;
        return std::nullopt;
    }

    // Gives `id` to a new use of it. Data for the id goes to this state from now on, so it is
    // attached before the command that opens the link is sent.
    state_ptr attach(int id, link_type type, receive_mode mode, std::size_t capacity)
    {
        auto& slot = slots_.at(static_cast<std::size_t>(id));
        if (slot) detach(id);
        slot = std::make_shared<link_state<Executor>>(ex_, id, ++generations_[static_cast<std::size_t>(id)], type, mode,
                                                      capacity);
        return slot;
    }

    // The id is free again (closed, failed or given up); the state keeps what it received.
    void detach(int id)
    {
        auto& slot = slots_.at(static_cast<std::size_t>(id));
        if (!slot) return;
        slot->attached = false;
        slot->notify();
        slot.reset();
    }

    [[nodiscard]] state_ptr at(int id) const
    {
        if (id < 0 || id >= max_links) return nullptr;
        return slots_[static_cast<std::size_t>(id)];
    }

    // Whether `h` is still the current use of its id.
    [[nodiscard]] bool current(const link_handle& h) const noexcept
    {
        const auto s = at(h.id);
        return s && s->generation == h.generation;
    }

    // Incoming connections: <id>,CONNECT for an id no link owns. The state is attached at
    // once, so data the client sends before async_accept() is kept; a server takes it from here.
    std::deque<state_ptr>& incoming() noexcept { return incoming_; }
    void set_incoming(receive_mode mode, std::size_t capacity, std::function<void()> waker)
    {
        incoming_mode_ = mode;
        incoming_capacity_ = capacity;
        incoming_waker_ = std::move(waker);
    }
    // What the server's links are (an SSL server's: ssl).
    void set_incoming_type(link_type type) noexcept { incoming_type_ = type; }

    // Called with the id of +IPD data for an id no link owns (see on_ipd).
    void set_stray_data_handler(std::function<void(int)> handler) { stray_data_ = std::move(handler); }

    // Routes one report of the module. Returns true if it concerned a link.
    bool on_report(const proto::event& e)
    {
        using proto::event_kind;
        switch (e.kind) {
        case event_kind::ipd: on_ipd(e); return true;
        case event_kind::ipd_notify:
            if (auto s = at(e.link)) {
                s->rx.on_module_buffered(e.value);
                s->notify();
            }
            return true;
        case event_kind::closed:
        case event_kind::connect_fail:
            if (auto s = at(e.link)) {
                s->rx.on_closed();
                // Some firmware reports CLOSED while it still holds passive data for the link:
                // the id stays ours until that is read (the network detaches it then).
                if (s->rx.mode() == receive_mode::passive && s->rx.module_buffered() > 0) s->notify();
                else detach(e.link);
            }
            return true;
        case event_kind::connect:
            if (e.link >= 0 && e.link < max_links && !at(e.link)) {
                incoming_.push_back(attach(e.link, incoming_type_, incoming_mode_, incoming_capacity_));
                if (incoming_waker_) incoming_waker_();
            }
            return true;
        case event_kind::ready: fail_all(make_error_code(errc::device_reset)); return true;
        default: return false;
        }
    }

    // Every link fails with `ec` and gives up its id (a module reset, the client closing).
    void fail_all(std::error_code ec)
    {
        for (int i = 0; i < max_links; ++i) {
            if (auto s = at(i)) {
                s->rx.fail(ec);
                detach(i);
            }
        }
        incoming_.clear();
        if (incoming_waker_) incoming_waker_();
    }

private:
    void on_ipd(const proto::event& e)
    {
        auto s = at(e.link);
        if (!s) {
            // Data for a link nobody owns: one given up (closed), or one whose CONNECT was lost
            // on the wire, whose reader would get a stream with a hole. The network decides.
            if (stray_data_ && e.link >= 0 && e.link < max_links) stray_data_(e.link);
            return;
        }
        if (s->type == link_type::udp) {
            if (s->datagram_bytes + e.payload.size() > s->rx.capacity()) {
                ++s->datagrams_dropped;  // a datagram socket drops what it cannot hold
            } else {
                datagram d{std::string(e.payload), std::nullopt, e.remote_port};
                if (e.has_remote()) {
                    std::error_code ec;
                    auto ip = asio::ip::make_address(std::string(e.remote_host), ec);
                    if (!ec) d.remote_ip = ip;
                }
                s->datagram_bytes += d.data.size();
                s->datagrams.push_back(std::move(d));
            }
        } else {
            s->rx.on_data(e.payload);  // an overflow fails the link (receive_state says why)
        }
        s->notify();
    }

    Executor ex_;
    std::array<state_ptr, max_links> slots_{};
    std::array<std::uint32_t, max_links> generations_{};
    std::deque<state_ptr> incoming_;
    receive_mode incoming_mode_ = receive_mode::active;
    link_type incoming_type_ = link_type::tcp;
    std::size_t incoming_capacity_ = 16 * 1024;
    std::function<void()> incoming_waker_;
    std::function<void(int)> stray_data_;
};

}  // namespace espat::net
