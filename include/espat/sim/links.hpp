// espat/sim/links.hpp — the simulated module's links (link ids 0..4), each backed by a real
// socket of the host: TCP (opened by AT+CIPSTART or accepted by AT+CIPSERVER) and UDP. A link
// reads and writes through two virtual coroutines; an "SSL" link (tls_link, AT+CIPSTART="SSL"
// or a client of AT+CIPSERVER's SSL server) is a TCP socket under asio::ssl::stream. A UDP link
// exchanges datagrams only with the networks it may reach (module_options::allowed_networks).
#pragma once

#include <espat/config.hpp>

#include <espat/commands/tcpip.hpp>
#include <espat/sim/networks.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/multicast.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#if defined(__linux__)
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace espat::sim {

// A passive-mode link keeps at most this many received bytes (the reference: "default is 5744
// bytes"); a TCP link stops reading its socket when it is full, a UDP link drops datagrams.
inline constexpr std::size_t passive_buffer_limit = 5744;

inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

struct received {
    std::error_code ec;
    std::size_t size = 0;
    asio::ip::address from_ip{};  // the datagram's sender (UDP), the peer (TCP)
    std::uint16_t from_port = 0;
};

class link {
public:
    link(const asio::any_io_executor& ex, std::uint8_t id, link_type type, link_role role)
        : id(id), type(type), role(role), room(ex), last_activity(std::chrono::steady_clock::now())
    {
        room.expires_at(asio::steady_timer::time_point::max());
    }
    link(const link&) = delete;
    link& operator=(const link&) = delete;
    virtual ~link() = default;

    // Reads what arrives next into `into` (a datagram, or a part of the stream).
    virtual asio::awaitable<received> receive(asio::mutable_buffer into) = 0;
    // Sends all of `data` (UDP: one datagram, to `to` or to the current remote).
    virtual asio::awaitable<std::error_code> send(std::string_view data, std::optional<asio::ip::udp::endpoint> to) = 0;
    virtual void close() noexcept = 0;
    // What the module says before it closes a link itself: TLS's close_notify; nothing on TCP/UDP.
    virtual asio::awaitable<void> say_goodbye() { co_return; }
    // TCP and TLS slow their peer when the passive buffer is full; UDP loses datagrams.
    [[nodiscard]] virtual bool is_stream() const noexcept = 0;
    // Whether received data already waits to be read (receive() would not wait for the peer).
    [[nodiscard]] virtual bool data_waiting() const noexcept = 0;

    std::uint8_t id;
    link_type type;
    link_role role;
    asio::ip::address remote_ip{};
    std::uint16_t remote_port = 0;
    std::string remote_host;  // the name a client link was opened with (SSL verifies it; a reconnection uses it)
    std::uint16_t local_port = 0;

    recv_mode mode = recv_mode::active;
    std::string passive_data;     // received, not yet read by AT+CIPRECVDATA
    asio::ip::address passive_from_ip{};  // sender of the buffered data, for CIPDINFO=1
    std::uint16_t passive_from_port = 0;
    bool notified = false;        // a +IPD notification waits for AT+CIPRECVDATA
    bool peer_closed = false;     // the peer closed; CLOSED waits until the data is read
    bool closed_reported = false; // CLOSED already printed though data still waits (a fault)
    bool closed = false;          // closed by the module: the reader stops
    asio::steady_timer room;      // a reader waiting for passive buffer room sleeps on this
    std::chrono::steady_clock::time_point last_activity;  // for AT+CIPSTO on server links

    void wake_reader() { room.cancel(); }
};

class tcp_link final : public link {
public:
    tcp_link(const asio::any_io_executor& ex, std::uint8_t id, link_role role)
        : link(ex, id, link_type::tcp, role), socket(ex)
    {
    }
    explicit tcp_link(asio::ip::tcp::socket s, std::uint8_t id, link_role role)
        : link(s.get_executor(), id, link_type::tcp, role), socket(std::move(s))
    {
        std::error_code ec;
        const auto peer = socket.remote_endpoint(ec);
        remote_ip = peer.address();
        remote_port = peer.port();
        local_port = socket.local_endpoint(ec).port();
    }

    asio::awaitable<received> receive(asio::mutable_buffer into) override
    {
        auto [ec, n] = co_await socket.async_read_some(into, use_tuple);
        co_return received{ec, n, remote_ip, remote_port};
    }
    asio::awaitable<std::error_code> send(std::string_view data, std::optional<asio::ip::udp::endpoint>) override
    {
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(data), use_tuple);
        (void)n;
        co_return ec;
    }
    void close() noexcept override
    {
        std::error_code ec;
        socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
        socket.close(ec);
    }
    [[nodiscard]] bool is_stream() const noexcept override { return true; }
    [[nodiscard]] bool data_waiting() const noexcept override
    {
        std::error_code ec;
        return socket.is_open() && socket.available(ec) > 0 && !ec;
    }

    asio::ip::tcp::socket socket;
};

// A UDP link whose remote is a broadcast or multicast address (the reference, AT+CIPSTART: "the
// esp device will send and receive the UDP broadcast/multicast"). The module has one network,
// so "broadcast" is 255.255.255.255 or an address whose last byte is 255 (a directed
// broadcast: 192.168.1.255, 127.255.255.255); multicast is 224.0.0.0/4 or ff00::/8.
[[nodiscard]] inline bool is_broadcast(const asio::ip::address& a) noexcept
{
    return a.is_v4() && (a.to_v4() == asio::ip::address_v4::broadcast() || (a.to_v4().to_uint() & 0xffU) == 0xffU);
}
[[nodiscard]] inline bool is_group_address(const asio::ip::address& a) noexcept
{
    return a.is_multicast() || is_broadcast(a);
}

// Ties an open socket to the network interface that has address `local` (SO_BINDTODEVICE), the
// loopback interface for any loopback address: bound to the wildcard address, it then hears
// only what arrives on that interface. Linux only; elsewhere, or when no interface has the
// address, operation_not_supported.
inline std::error_code tie_to_interface_of(asio::ip::udp::socket& s, const asio::ip::address& local)
{
#if defined(__linux__) && defined(SO_BINDTODEVICE)
    ifaddrs* all = nullptr;
    if (::getifaddrs(&all) != 0) return {errno, std::generic_category()};
    std::string name;
    for (const ifaddrs* i = all; i && name.empty(); i = i->ifa_next) {
        if (!i->ifa_addr) continue;
        const int family = i->ifa_addr->sa_family;
        if ((family == AF_INET || family == AF_INET6) && (family == AF_INET) == local.is_v4() && local.is_loopback() &&
            (i->ifa_flags & IFF_LOOPBACK) != 0) {
            name = i->ifa_name;
        } else if (family == AF_INET && local.is_v4()) {
            sockaddr_in in{};
            std::memcpy(&in, i->ifa_addr, sizeof in);
            if (ntohl(in.sin_addr.s_addr) == local.to_v4().to_uint()) name = i->ifa_name;
        } else if (family == AF_INET6 && local.is_v6()) {
            sockaddr_in6 in6{};
            std::memcpy(&in6, i->ifa_addr, sizeof in6);
            if (std::memcmp(in6.sin6_addr.s6_addr, local.to_v6().to_bytes().data(), 16) == 0) name = i->ifa_name;
        }
    }
    ::freeifaddrs(all);
    if (name.empty()) return make_error_code(asio::error::operation_not_supported);
    if (::setsockopt(s.native_handle(), SOL_SOCKET, SO_BINDTODEVICE, name.c_str(), static_cast<socklen_t>(name.size())) != 0)
        return {errno, std::generic_category()};
    return {};
#else
    (void)s;
    (void)local;
    return make_error_code(asio::error::operation_not_supported);
#endif
}

// Readies an open UDP socket for a group remote, before it is bound (to the wildcard, tied to
// an interface, or to the group address: a socket bound to a unicast address receives no group
// datagrams). Broadcast: SO_BROADCAST,
// without which Linux refuses the send (EACCES). Multicast: joins the group on `interface`
// (AT+CIPSTART's <local IP>; the kernel's choice when absent), sends through it, and loops
// its own datagrams back as the module's lwIP does.
inline std::error_code prepare_group_socket(asio::ip::udp::socket& s, const asio::ip::address& remote,
                                            const std::optional<asio::ip::address>& interface)
{
    std::error_code ec;
    if (is_broadcast(remote)) {
        s.set_option(asio::socket_base::broadcast(true), ec);
        return ec;
    }
    if (!remote.is_multicast()) return ec;
    s.set_option(asio::socket_base::reuse_address(true), ec);
    if (remote.is_v4()) {
        const asio::ip::address_v4 via = interface && interface->is_v4() ? interface->to_v4() : asio::ip::address_v4::any();
        if (!ec) s.set_option(asio::ip::multicast::join_group(remote.to_v4(), via), ec);
        if (!ec && interface && interface->is_v4()) s.set_option(asio::ip::multicast::outbound_interface(via), ec);
    } else {
        if (!ec) s.set_option(asio::ip::multicast::join_group(remote), ec);
    }
    if (!ec) s.set_option(asio::ip::multicast::enable_loopback(true), ec);
    return ec;
}

class udp_link final : public link {
public:
    udp_link(const asio::any_io_executor& ex, std::uint8_t id, udp_mode peer_mode,
             std::vector<network_prefix> allowed_networks = {})
        : link(ex, id, link_type::udp, link_role::client), socket(ex), peer_mode(peer_mode),
          allowed_(std::move(allowed_networks))
    {
    }

    // A datagram from a network the link may not reach is dropped unheard: it neither reaches
    // the host nor moves the remote of a changeable link.
    asio::awaitable<received> receive(asio::mutable_buffer into) override
    {
        for (;;) {
            asio::ip::udp::endpoint from;
            auto [ec, n] = co_await socket.async_receive_from(into, from, use_tuple);
            if (!ec && !allows(allowed_, from.address())) continue;
            if (!ec) follow_sender(from);
            co_return received{ec, n, from.address(), from.port()};
        }
    }
    // A datagram for a network the link may not reach is not sent: network_unreachable.
    asio::awaitable<std::error_code> send(std::string_view data, std::optional<asio::ip::udp::endpoint> to) override
    {
        const asio::ip::udp::endpoint target = to ? *to : asio::ip::udp::endpoint(remote_ip, remote_port);
        if (!allows(allowed_, target.address())) co_return make_error_code(asio::error::network_unreachable);
        if (is_broadcast(target.address())) {  // AT+CIPSEND=<id>,<len>,"x.x.x.255",<port>
            std::error_code ignored;
            socket.set_option(asio::socket_base::broadcast(true), ignored);
        }
        auto [ec, n] = co_await socket.async_send_to(asio::buffer(data), target, use_tuple);
        (void)n;
        // A send to another peer moves the remote of a changeable link (the reference's
        // "UDP transmission with changeable remote IP address and port").
        if (!ec && to) follow_sender(*to);
        co_return ec;
    }
    void close() noexcept override
    {
        std::error_code ec;
        socket.close(ec);
    }
    [[nodiscard]] bool is_stream() const noexcept override { return false; }
    // A datagram is queued (Linux's FIONREAD gives the size of the next one; an empty datagram
    // reads as none, which only delays it).
    [[nodiscard]] bool data_waiting() const noexcept override
    {
        std::error_code ec;
        return socket.is_open() && socket.available(ec) > 0 && !ec;
    }

    asio::ip::udp::socket socket;
    udp_mode peer_mode;
    bool changed_once = false;

private:
    std::vector<network_prefix> allowed_;  // empty: every network

    // <UDP mode> 1: the remote may change once, 2: it follows whoever sent last; 0: fixed.
    void follow_sender(const asio::ip::udp::endpoint& from)
    {
        if (from.address() == remote_ip && from.port() == remote_port) return;
        if (peer_mode == udp_mode::changeable || (peer_mode == udp_mode::change_once && !changed_once)) {
            changed_once = true;
            remote_ip = from.address();
            remote_port = from.port();
        }
    }
};

// An SSL link: TLS over a TCP socket. The context is shared: a server's accepted links all use
// the server's, a client link has its own (made from that link's AT+CIPSSLC* settings).
class tls_link final : public link {
public:
    using stream_type = asio::ssl::stream<asio::ip::tcp::socket>;

    tls_link(const asio::any_io_executor& ex, std::shared_ptr<asio::ssl::context> context, std::uint8_t id,
             link_role role)
        : link(ex, id, link_type::ssl, role), context_(std::move(context)), stream(ex, *context_)
    {
    }
    // An accepted socket, before its handshake.
    tls_link(asio::ip::tcp::socket s, std::shared_ptr<asio::ssl::context> context, std::uint8_t id, link_role role)
        : link(s.get_executor(), id, link_type::ssl, role), context_(std::move(context)),
          stream(std::move(s), *context_)
    {
        std::error_code ec;
        const auto peer = stream.next_layer().remote_endpoint(ec);
        remote_ip = peer.address();
        remote_port = peer.port();
        local_port = stream.next_layer().local_endpoint(ec).port();
    }

    asio::awaitable<received> receive(asio::mutable_buffer into) override
    {
        auto [ec, n] = co_await stream.async_read_some(into, use_tuple);
        // The peer's close_notify and a TCP close without one both end the link.
        co_return received{ec, n, remote_ip, remote_port};
    }
    asio::awaitable<std::error_code> send(std::string_view data, std::optional<asio::ip::udp::endpoint>) override
    {
        auto [ec, n] = co_await asio::async_write(stream, asio::buffer(data), use_tuple);
        (void)n;
        co_return ec;
    }
    // Sends close_notify and waits for the peer's (the module closes the socket after a short
    // wait in any case, which also ends this).
    asio::awaitable<void> say_goodbye() override
    {
        auto [ec] = co_await stream.async_shutdown(use_tuple);
        (void)ec;
    }
    // Closes the socket without close_notify (a reset, the peer gone): peers see a TCP close,
    // which OpenSSL reports as "stream truncated".
    void close() noexcept override
    {
        std::error_code ec;
        stream.next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
        stream.next_layer().close(ec);
    }
    [[nodiscard]] bool is_stream() const noexcept override { return true; }
    // Decrypted bytes OpenSSL holds, or bytes of a record still in the socket.
    [[nodiscard]] bool data_waiting() const noexcept override
    {
        auto& self = const_cast<tls_link&>(*this);  // SSL_pending reads, it does not change, the session
        if (::SSL_pending(self.stream.native_handle()) > 0) return true;
        std::error_code ec;
        return stream.next_layer().is_open() && stream.next_layer().available(ec) > 0 && !ec;
    }

private:
    std::shared_ptr<asio::ssl::context> context_;  // declared before the stream that uses it

public:
    stream_type stream;
};

}  // namespace espat::sim
