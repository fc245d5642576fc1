// Simulator behaviour from the reference's AT+CIPSTART, AT+CIPTCPOPT and AT+CIPMODE notes: a
// UDP link to a broadcast or multicast address sends to and receives from the group; the
// AT+CIPTCPOPT options reach an SSL link's socket too; a passthrough link that breaks is
// reconnected every AT+CIPRECONNINTV until it is back or the host sends "+++". Loopback only;
// every wait is bounded; every port is chosen by the OS.
#include "host_replay.hpp"
#include "loopback.hpp"

#include <doctest/doctest.h>

#include <asio/ip/multicast.hpp>
#include <asio/read.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <optional>
#include <string>

using espat::test::closed_tcp_port;
using espat::test::free_udp_port;
using espat::test::loopback_target;
using espat::test::quiet;
using espat::test::replay_world;
using espat::test::sim_harness;
namespace sim = espat::sim;
using asio::ip::tcp;
using asio::ip::udp;
using namespace std::chrono_literals;

namespace {

// One datagram on `s`, or nothing when none came within the limit.
std::optional<std::string> receive_one(sim_harness& h, udp::socket& s, std::chrono::milliseconds limit = 2s)
{
    std::string buffer(2048, '\0');
    bool done = false;
    std::size_t size = 0;
    std::error_code error;
    s.async_receive(asio::buffer(buffer), [&](std::error_code ec, std::size_t n) { done = true, error = ec, size = n; });
    if (!h.run_until([&] { return done; }, limit)) {
        s.cancel();
        h.run_until([&] { return done; });
        return std::nullopt;
    }
    if (error) return std::nullopt;
    buffer.resize(size);
    return buffer;
}

const asio::ip::address_v4 group = asio::ip::make_address_v4("239.255.42.7");

udp::socket group_member(asio::io_context& io)
{
    udp::socket s(io, udp::v4());
    s.set_option(asio::socket_base::reuse_address(true));
    s.bind({asio::ip::address_v4::any(), 0});
    s.set_option(asio::ip::multicast::join_group(group, asio::ip::address_v4::loopback()));
    return s;
}
udp::socket group_sender(asio::io_context& io)
{
    udp::socket s(io, udp::v4());
    s.set_option(asio::ip::multicast::outbound_interface(asio::ip::address_v4::loopback()));
    s.set_option(asio::ip::multicast::enable_loopback(true));
    return s;
}

// Host sockets alone: does this sandbox deliver multicast on loopback?
bool loopback_multicast_works(sim_harness& h)
{
    try {
        udp::socket member = group_member(h.io);
        udp::socket sender = group_sender(h.io);
        sender.send_to(asio::buffer(std::string_view("probe")), {group, member.local_endpoint().port()});
        return receive_one(h, member) == "probe";
    } catch (const std::system_error&) {
        return false;
    }
}
// And broadcast to 127.255.255.255?
bool loopback_broadcast_works(sim_harness& h)
{
    try {
        udp::socket receiver(h.io, {asio::ip::address_v4::any(), 0});
        udp::socket sender(h.io, udp::v4());
        sender.set_option(asio::socket_base::broadcast(true));
        sender.send_to(asio::buffer(std::string_view("probe")),
                       {asio::ip::make_address_v4("127.255.255.255"), receiver.local_endpoint().port()});
        return receive_one(h, receiver) == "probe";
    } catch (const std::system_error&) {
        return false;
    }
}

// The simulator's end of a TCP connection, found among this process's descriptors by its
// local endpoint (the peer's remote one); -1 when there is none.
int socket_with_local_endpoint(const tcp::endpoint& wanted)
{
    for (int fd = 0; fd < 4096; ++fd) {
        sockaddr_storage a{};
        socklen_t size = sizeof a;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) != 0 || a.ss_family != AF_INET) continue;
        const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
        if (ntohs(in->sin_port) == wanted.port() && ntohl(in->sin_addr.s_addr) == wanted.address().to_v4().to_uint()) {
            sockaddr_storage p{};
            socklen_t psize = sizeof p;
            if (::getpeername(fd, reinterpret_cast<sockaddr*>(&p), &psize) == 0) return fd;
        }
    }
    return -1;
}

}  // namespace

TEST_CASE("UDP to a multicast group: the link joins it, sends to it and receives from it")
{
    sim_harness h(quiet());
    if (!loopback_multicast_works(h)) {
        MESSAGE("skipped: this sandbox does not deliver multicast on loopback (host sockets alone)");
        return;
    }
    udp::socket member = group_member(h.io);
    const std::uint16_t member_port = member.local_endpoint().port();
    const std::uint16_t local_port = free_udp_port(h.io);
    // <local IP> names the group's interface: the loopback here.
    CHECK(h.command("AT+CIPSTART=\"UDP\",\"" + group.to_string() + "\"," + std::to_string(member_port) + "," +
                    std::to_string(local_port) + ",0,\"127.0.0.1\"") == "CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSEND=5", ">") == "\r\nOK\r\n\r\n>");
    h.send("hello");
    CHECK(h.until("SEND OK\r\n") == "\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n");
    CHECK(receive_one(h, member) == "hello");

    // A datagram to the group at the link's local port reaches the module.
    udp::socket sender = group_sender(h.io);
    sender.send_to(asio::buffer(std::string_view("to group")), {group, local_port});
    CHECK(h.until("to group").ends_with("+IPD,8:to group"));
    CHECK(h.command("AT+CIPCLOSE").ends_with("CLOSED\r\n\r\nOK\r\n"));
}

TEST_CASE("UDP to a broadcast address: the send succeeds (SO_BROADCAST) and the datagram arrives")
{
    sim_harness h(quiet());
    const bool delivered = loopback_broadcast_works(h);
    udp::socket receiver(h.io, {asio::ip::address_v4::any(), 0});
    CHECK(h.command("AT+CIPSTART=\"UDP\",\"127.255.255.255\"," + std::to_string(receiver.local_endpoint().port())) ==
          "CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSEND=5", ">") == "\r\nOK\r\n\r\n>");
    h.send("hello");
    // Without SO_BROADCAST the kernel refuses the send (EACCES): SEND FAIL.
    CHECK(h.until("SEND OK\r\n", 3s) == "\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n");
    if (delivered) {
        CHECK(receive_one(h, receiver) == "hello");
    } else {
        MESSAGE("delivery not checked: this sandbox does not route 127.255.255.255 broadcasts (host sockets alone)");
    }
}

TEST_CASE("AT+CIPTCPOPT applies to an SSL link's socket: TCP_NODELAY, SO_LINGER, SO_SNDTIMEO")
{
    sim_harness h(quiet());
    replay_world w(h);
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPTCPOPT=2,5,1,1500") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTART=2,\"SSL\"," + loopback_target(w.tls.port())) == "2,CONNECT\r\n\r\nOK\r\n");
    REQUIRE(h.run_until([&] { return !w.tls.accepted.empty(); }));
    auto peer = std::dynamic_pointer_cast<espat::test::tls_conn>(w.tls.accepted[0]);
    REQUIRE(peer);
    const int fd = socket_with_local_endpoint(peer->stream.next_layer().remote_endpoint());
    REQUIRE(fd >= 0);

    int no_delay = 0;
    socklen_t size = sizeof no_delay;
    REQUIRE(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, &size) == 0);
    CHECK(no_delay != 0);
    linger l{};
    size = sizeof l;
    REQUIRE(::getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &size) == 0);
    CHECK(l.l_onoff != 0);
    CHECK(l.l_linger == 5);
    timeval tv{};
    size = sizeof tv;
    REQUIRE(::getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &size) == 0);
    CHECK(tv.tv_sec == 1);
    CHECK(tv.tv_usec == 500000);

    // The link works as before.
    CHECK(h.command("AT+CIPSEND=2,4", ">") == "\r\nOK\r\n\r\n>");
    h.send("ping");
    CHECK(h.until("SEND OK\r\n") == "\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
    CHECK(h.command("AT+CIPCLOSE=2") == "2,CLOSED\r\n\r\nOK\r\n");
}

namespace {

// A loopback peer on a fixed port that can go away and come back.
struct returning_peer {
    explicit returning_peer(sim_harness& h) : h(h), port(closed_tcp_port(h.io)) { listen(); }
    void listen()
    {
        acceptor.emplace(h.io, tcp::endpoint{asio::ip::address_v4::loopback(), port});
        acceptor->async_accept([this](std::error_code ec, tcp::socket s) {
            if (!ec) socket.emplace(std::move(s));
        });
    }
    // Closes the connection and stops listening: the port refuses until listen() again.
    void leave()
    {
        std::error_code ec;
        if (socket) socket->close(ec);
        socket.reset();
        acceptor.reset();
    }
    std::string read(std::size_t n)
    {
        std::string got(n, '\0');
        bool done = false;
        asio::async_read(*socket, asio::buffer(got), [&](std::error_code ec, std::size_t) { done = !ec; });
        if (!h.run_until([&] { return done; })) return "<TIMEOUT>";
        return got;
    }
    sim_harness& h;
    std::uint16_t port;
    std::optional<tcp::acceptor> acceptor;
    std::optional<tcp::socket> socket;
};

// AT+CIPMODE=1 and AT+CIPSEND with a link to `peer`, data both ways raw.
void enter_passthrough(sim_harness& h, returning_peer& peer)
{
    CHECK(h.command("AT+CIPRECONNINTV=1") == "\r\nOK\r\n");  // 100 ms
    CHECK(h.command("AT+CIPMODE=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTART=\"TCP\"," + loopback_target(peer.port)) == "CONNECT\r\n\r\nOK\r\n");
    REQUIRE(h.run_until([&] { return peer.socket.has_value(); }));
    CHECK(h.command("AT+CIPSEND", ">") == "\r\nOK\r\n\r\n>");
    h.send("one");
    CHECK(peer.read(3) == "one");
    asio::write(*peer.socket, asio::buffer(std::string_view("uno")));
    CHECK(h.until("uno") == "uno");
}

}  // namespace

TEST_CASE("passthrough: the peer closes and comes back; the module reconnects silently and data flows again")
{
    sim_harness h(quiet());
    returning_peer peer(h);
    enter_passthrough(h, peer);

    peer.leave();
    h.run_for(350ms);  // some reconnection attempts are refused
    h.send("lost");    // no link: the bytes go nowhere
    h.run_for(50ms);
    peer.listen();
    REQUIRE(h.run_until([&] { return peer.socket.has_value(); }));
    h.run_for(30ms);
    CHECK(h.received.empty());  // nothing printed: no CLOSED, no CONNECT, no prompt

    h.send("two");
    CHECK(peer.read(3) == "two");  // "lost" did not wait for the new link
    asio::write(*peer.socket, asio::buffer(std::string_view("dos")));
    CHECK(h.until("dos") == "dos");  // raw: no +IPD

    h.run_for(50ms);
    h.send("+++");
    h.run_for(80ms);
    CHECK(h.command("AT+CIPMODE?").ends_with("+CIPMODE:1\r\n\r\nOK\r\n"));
    CHECK(h.command("AT+CIPSTATUS").find(",\"TCP\",\"127.0.0.1\"," + std::to_string(peer.port)) != std::string::npos);
}

TEST_CASE("passthrough: +++ ends the reconnection attempts; AT answers OK and the link stays gone")
{
    sim_harness h(quiet());
    returning_peer peer(h);
    enter_passthrough(h, peer);

    peer.leave();
    h.run_for(250ms);
    h.send("+++");
    h.run_for(80ms);
    CHECK(h.command("AT") == "\r\nOK\r\n");
    // The peer is back, but no attempt comes any more.
    peer.listen();
    h.run_for(400ms);
    CHECK_FALSE(peer.socket.has_value());
    CHECK(h.command("AT+CIPSTATUS").find("+CIPSTATUS:0") == std::string::npos);
    CHECK(h.received.empty());
}
