// How far the simulator reaches on the host's network (module_options::bind_address and
// allowed_networks): UDP links bind to the loopback address, not to every interface; links to a
// network outside the allowed ones fail as on a module that cannot reach it, and nothing is
// sent there or heard from there. 127.0.0.0/8 is all loopback on Linux: 127.0.0.1 stands for
// an allowed network and 127.0.0.2 for a refused one. Every wait is bounded; every port is
// chosen by the OS.
#include "loopback.hpp"
#include "sim_harness.hpp"

#include <doctest/doctest.h>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

using espat::test::free_udp_port;
using espat::test::quiet;
using espat::test::sim_harness;
namespace sim = espat::sim;
using asio::ip::tcp;
using asio::ip::udp;
using namespace std::chrono_literals;

namespace {

const asio::ip::address allowed_host = asio::ip::make_address("127.0.0.1");
const asio::ip::address refused_host = asio::ip::make_address("127.0.0.2");

// A module whose links may reach 127.0.0.1 alone.
sim::module_options only_127_0_0_1()
{
    sim::module_options o = quiet();
    o.allowed_networks = {*sim::network_prefix::parse("127.0.0.1/32")};
    return o;
}

// A UDP socket of this process with local port `port`, found among the process's
// descriptors (the simulator's sockets are this test's): its descriptor and bound address.
struct bound_socket {
    int fd = -1;
    asio::ip::address address;
};
std::optional<bound_socket> find_udp_socket(std::uint16_t port)
{
    for (int fd = 0; fd < 4096; ++fd) {
        int type = 0;
        socklen_t type_size = sizeof type;
        if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_size) != 0 || type != SOCK_DGRAM) continue;
        sockaddr_storage a{};
        socklen_t size = sizeof a;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) != 0) continue;
        if (a.ss_family == AF_INET) {
            const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
            if (ntohs(in->sin_port) == port) return bound_socket{fd, asio::ip::address_v4(ntohl(in->sin_addr.s_addr))};
        } else if (a.ss_family == AF_INET6) {
            const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a);
            if (ntohs(in6->sin6_port) != port) continue;
            asio::ip::address_v6::bytes_type bytes;
            std::memcpy(bytes.data(), in6->sin6_addr.s6_addr, bytes.size());
            return bound_socket{fd, asio::ip::address_v6(bytes)};
        }
    }
    return std::nullopt;
}
std::optional<asio::ip::address> bound_udp_address(std::uint16_t port)
{
    if (auto s = find_udp_socket(port)) return s->address;
    return std::nullopt;
}
// The interface a socket is tied to (SO_BINDTODEVICE); empty when none.
std::string device_of(int fd)
{
    char name[64] = {};
    socklen_t size = sizeof name;
    if (::getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &size) != 0) return {};
    return std::string(name);
}

// One datagram on `s` and its sender, or nothing when none came within the limit.
struct datagram {
    std::string data;
    udp::endpoint from;
};
std::optional<datagram> receive_one(sim_harness& h, udp::socket& s, std::chrono::milliseconds limit = 2s)
{
    datagram d{std::string(2048, '\0'), {}};
    bool done = false;
    std::size_t size = 0;
    std::error_code error;
    s.async_receive_from(asio::buffer(d.data), d.from, [&](std::error_code ec, std::size_t n) { done = true, error = ec, size = n; });
    if (!h.run_until([&] { return done; }, limit)) {
        s.cancel();
        h.run_until([&] { return done; });
        return std::nullopt;
    }
    if (error) return std::nullopt;
    d.data.resize(size);
    return d;
}

// "ping" from the module's link `id` (multi-link mode) to its remote; what the remote got.
std::optional<datagram> ping_from_link(sim_harness& h, int id, udp::socket& remote)
{
    CHECK(h.command("AT+CIPSEND=" + std::to_string(id) + ",4", ">") == "\r\nOK\r\n\r\n>");
    h.send("ping");
    CHECK(h.until("SEND OK\r\n") == "\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
    return receive_one(h, remote);
}

// A TCP listener that counts the connections it is offered.
struct counting_listener {
    counting_listener(asio::io_context& io, const asio::ip::address& at) : acceptor(io, {at, 0}) { accept(); }
    void accept()
    {
        acceptor.async_accept([this](std::error_code ec, tcp::socket s) {
            if (ec) return;
            ++accepted;
            sockets.push_back(std::move(s));
            accept();
        });
    }
    [[nodiscard]] std::string target() const
    {
        return "\"" + acceptor.local_endpoint().address().to_string() + "\"," + std::to_string(acceptor.local_endpoint().port());
    }
    tcp::acceptor acceptor;
    std::vector<tcp::socket> sockets;
    int accepted = 0;
};

bool ipv6_loopback_works(asio::io_context& io)
{
    std::error_code ec;
    udp::socket s(io);
    s.open(udp::v6(), ec);
    if (!ec) s.bind({asio::ip::address_v6::loopback(), 0}, ec);
    return !ec;
}

}  // namespace

TEST_CASE("UDP links bind to the loopback address, with and without a local port, not to every interface")
{
    sim_harness h(quiet());
    udp::socket peer(h.io, {allowed_host, 0});
    const std::string peer_port = std::to_string(peer.local_endpoint().port());
    const std::uint16_t chosen_port = free_udp_port(h.io);
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTART=0,\"UDP\",\"127.0.0.1\"," + peer_port) == "0,CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTART=1,\"UDP\",\"127.0.0.1\"," + peer_port + "," + std::to_string(chosen_port) + ",2") ==
          "1,CONNECT\r\n\r\nOK\r\n");

    const auto from_0 = ping_from_link(h, 0, peer);
    const auto from_1 = ping_from_link(h, 1, peer);
    REQUIRE(from_0);
    REQUIRE(from_1);
    CHECK(from_1->from.port() == chosen_port);
    for (const auto& d : {*from_0, *from_1}) {
        CAPTURE(d.from);
        CHECK(d.data == "ping");
        CHECK(d.from.address() == allowed_host);
        CHECK(bound_udp_address(d.from.port()) == std::optional<asio::ip::address>(allowed_host));
    }

    // The same port at another of the host's addresses: a socket bound to every interface would
    // hear this datagram; the link does not. The peer's datagram after it arrives.
    udp::socket stranger(h.io, {refused_host, 0});
    stranger.send_to(asio::buffer(std::string_view("stranger")), udp::endpoint(refused_host, chosen_port));
    peer.send_to(asio::buffer(std::string_view("peer")), from_1->from);
    const std::string heard = h.until("peer\r\n");
    CHECK(heard == "\r\n+IPD,1,4:peer\r\n");
    CHECK(heard.find("stranger") == std::string::npos);

    // <local IP> is one of the module's addresses: 0.0.0.0 (every interface) is not.
    CHECK(h.command("AT+CIPSTART=2,\"UDP\",\"127.0.0.1\"," + peer_port + "," + std::to_string(free_udp_port(h.io)) +
                        ",0,\"0.0.0.0\"",
                    "2,CLOSED\r\n") == "\r\nERROR\r\n2,CLOSED\r\n");
}

TEST_CASE("UDP links to an IPv6 remote bind to ::1 when the bind address is loopback")
{
    sim_harness h(quiet());
    if (!ipv6_loopback_works(h.io)) {
        MESSAGE("skipped: this host has no IPv6 loopback");
        return;
    }
    udp::socket peer(h.io, {asio::ip::address_v6::loopback(), 0});
    CHECK(h.command("AT+CIPSTART=\"UDP\",\"::1\"," + std::to_string(peer.local_endpoint().port())) ==
          "CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSEND=4", ">") == "\r\nOK\r\n\r\n>");
    h.send("ping");
    CHECK(h.until("SEND OK\r\n") == "\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
    const auto got = receive_one(h, peer);
    REQUIRE(got);
    CHECK(got->data == "ping");
    CHECK(bound_udp_address(got->from.port()) == std::optional<asio::ip::address>(asio::ip::address_v6::loopback()));
}

TEST_CASE("a UDP link to a broadcast address hears unicast replies to its port, tied to the loopback interface")
{
    sim_harness h(quiet());
    udp::socket peer(h.io, {allowed_host, 0});
    const std::uint16_t local = free_udp_port(h.io);
    CHECK(h.command("AT+CIPSTART=\"UDP\",\"127.255.255.255\"," + std::to_string(peer.local_endpoint().port()) + "," +
                    std::to_string(local) + ",0") == "CONNECT\r\n\r\nOK\r\n");
    const auto s = find_udp_socket(local);
    REQUIRE(s);
    // It must hear the group and unicast replies: the wildcard address, on the loopback
    // interface alone. (Where a socket cannot be tied to an interface it is bound to the group.)
    CHECK(s->address == asio::ip::address(asio::ip::address_v4::any()));
    CHECK(device_of(s->fd) == "lo");
    peer.send_to(asio::buffer(std::string_view("reply")), udp::endpoint(allowed_host, local));
    CHECK(h.until("reply\r\n") == "\r\n+IPD,5:reply\r\n");
}

TEST_CASE("a bind address of 0.0.0.0, configured, binds UDP links to every interface")
{
    sim::module_options o = quiet();
    o.bind_address = asio::ip::address_v4::any();
    sim_harness h(o);
    udp::socket peer(h.io, {allowed_host, 0});
    CHECK(h.command("AT+CIPSTART=\"UDP\",\"127.0.0.1\"," + std::to_string(peer.local_endpoint().port())) ==
          "CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSEND=4", ">") == "\r\nOK\r\n\r\n>");
    h.send("ping");
    CHECK(h.until("SEND OK\r\n") == "\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
    const auto got = receive_one(h, peer);
    REQUIRE(got);
    CHECK(bound_udp_address(got->from.port()) == std::optional<asio::ip::address>(asio::ip::address_v4::any()));
}

TEST_CASE("a TCP or SSL connect to a network outside the allowed ones fails (ERROR, CLOSED) and none is made")
{
    sim_harness h(only_127_0_0_1());
    counting_listener refused(h.io, refused_host);
    counting_listener allowed(h.io, allowed_host);
    CHECK(h.command("AT+CIPSTART=\"TCP\"," + refused.target(), "CLOSED\r\n") == "\r\nERROR\r\nCLOSED\r\n");
    CHECK(h.command("AT+CIPSTART=\"SSL\"," + refused.target(), "CLOSED\r\n") == "\r\nERROR\r\nCLOSED\r\n");
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTARTEX=\"TCP\"," + refused.target(), "0,CLOSED\r\n") == "\r\nERROR\r\n0,CLOSED\r\n");
    // A ping there gets no answer either.
    const std::string ping = h.command("AT+PING=\"127.0.0.2\"", "ERROR\r\n");
    CHECK(ping.find("TIMEOUT") != std::string::npos);
    // The allowed network: connected (and so the listener at 127.0.0.2 had its chance to see one).
    CHECK(h.command("AT+CIPSTART=0,\"TCP\"," + allowed.target()) == "0,CONNECT\r\n\r\nOK\r\n");
    CHECK(h.run_until([&] { return allowed.accepted == 1; }));
    h.run_for(50ms);
    CHECK(refused.accepted == 0);
    CHECK(h.command("AT+CIPCLOSE=0") == "0,CLOSED\r\n\r\nOK\r\n");
}

TEST_CASE("UDP and a refused network: no link to it, no datagram sent there (SEND FAIL), none heard from it")
{
    sim_harness h(only_127_0_0_1());
    udp::socket far(h.io, {refused_host, 0});
    udp::socket near(h.io, {allowed_host, 0});
    const std::string far_port = std::to_string(far.local_endpoint().port());
    const std::uint16_t local_port = free_udp_port(h.io);
    CHECK(h.command("AT+CIPSTART=\"UDP\",\"127.0.0.2\"," + far_port, "CLOSED\r\n") == "\r\nERROR\r\nCLOSED\r\n");

    // Mode 2: the remote follows whoever sends; a refused sender must not move it.
    CHECK(h.command("AT+CIPSTART=\"UDP\",\"127.0.0.1\"," + std::to_string(near.local_endpoint().port()) + "," +
                    std::to_string(local_port) + ",2") == "CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSEND=4,\"127.0.0.2\"," + far_port, ">") == "\r\nOK\r\n\r\n>");
    h.send("away");
    CHECK(h.until("SEND FAIL\r\n") == "\r\nRecv 4 bytes\r\n\r\nSEND FAIL\r\n");
    CHECK_FALSE(receive_one(h, far, 200ms));

    far.send_to(asio::buffer(std::string_view("from far")), udp::endpoint(allowed_host, local_port));
    near.send_to(asio::buffer(std::string_view("from near")), udp::endpoint(allowed_host, local_port));
    const std::string heard = h.until("from near\r\n");
    CHECK(heard == "\r\n+IPD,9:from near\r\n");
    CHECK(heard.find("from far") == std::string::npos);

    // The link's remote is still the allowed peer.
    CHECK(h.command("AT+CIPSEND=4", ">") == "\r\nOK\r\n\r\n>");
    h.send("back");
    CHECK(h.until("SEND OK\r\n") == "\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
    const auto got = receive_one(h, near);
    REQUIRE(got);
    CHECK(got->data == "back");
    CHECK_FALSE(receive_one(h, far, 100ms));
}

TEST_CASE("a client of AT+CIPSERVER from a refused network is hung up on, with no CONNECT")
{
    sim_harness h(only_127_0_0_1());
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSERVER=1,0") == "\r\nOK\r\n");
    REQUIRE(h.module->server_port());
    const tcp::endpoint server(allowed_host, *h.module->server_port());

    tcp::socket stranger(h.io, {refused_host, 0});  // connects from 127.0.0.2
    stranger.connect(server);
    std::array<char, 16> b{};
    bool ended = false;
    stranger.async_read_some(asio::buffer(b), [&](std::error_code ec, std::size_t) { ended = static_cast<bool>(ec); });
    CHECK(h.run_until([&] { return ended; }));

    tcp::socket guest(h.io, {allowed_host, 0});
    guest.connect(server);
    const std::string heard = h.until("CONNECT\r\n");
    CHECK(heard == "0,CONNECT\r\n");
}
