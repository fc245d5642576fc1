// UDP links: the three <UDP mode>s of AT+CIPSTART (whom a plain send goes to after other peers
// wrote to the link), and broadcast / multicast remotes, which the host passes through as the
// reference describes (the module does the rest). Loopback only: a broadcast or multicast send
// would leave 127.0.0.1, so what is tested of those is the command and the receive side.
#include "loopback.hpp"
#include "net_rig.hpp"

#include <asio/ip/udp.hpp>

#include <doctest/doctest.h>

#include <string>

using espat::test::free_udp_port;
using asio::awaitable;
using asio::use_awaitable;
using espat::test::rig;
using client_type = espat::test::pipe_client;
using network_type = espat::test::pipe_network;
using asio::ip::udp;
namespace net = espat::net;

namespace {

espat::sim::module_options four()
{
    espat::sim::module_options mo;
    mo.firmware = espat::sim::esp_at_4();  // per-link receive mode: UDP beside passive streams
    return mo;
}

awaitable<std::string> receive_on(network_type::udp_link& link, udp::endpoint& from)
{
    char buf[256];
    const std::size_t n = co_await link.async_receive_from(asio::buffer(buf), from, use_awaitable);
    co_return std::string(buf, n);
}

}  // namespace

TEST_CASE("udp modes: fixed keeps its peer, change_once follows the first other sender, changeable the last")
{
    for (const auto mode : {espat::udp_mode::fixed, espat::udp_mode::change_once, espat::udp_mode::changeable}) {
        CAPTURE(static_cast<int>(mode));
        rig r(four());
        udp::socket p1(r.io, {asio::ip::address_v4::loopback(), 0});
        udp::socket p2(r.io, {asio::ip::address_v4::loopback(), 0});
        udp::socket p3(r.io, {asio::ip::address_v4::loopback(), 0});
        const std::uint16_t local = free_udp_port(r.io);
        const udp::endpoint module_end(asio::ip::address_v4::loopback(), local);
        r.run([&](client_type&, network_type& net) -> awaitable<void> {
            const net::udp_options o{.local_port = local, .mode = mode};
            auto link = co_await net.async_open_udp("127.0.0.1", p1.local_endpoint().port(), o);
            if (!link) FAIL("open_udp: " << link.error().message());
            // Who gets a plain send now: after SEND OK the datagram is in that socket already.
            auto sent_to = [&]() -> int {
                if (p1.available() > 0) return 1;
                if (p2.available() > 0) return 2;
                if (p3.available() > 0) return 3;
                return 0;
            };
            auto drain = [&] {
                char b[256];
                for (udp::socket* s : {&p1, &p2, &p3})
                    while (s->available() > 0) s->receive(asio::buffer(b));
            };

            co_await p2.async_send_to(asio::buffer(std::string("from p2")), module_end, use_awaitable);
            udp::endpoint from;
            const std::string first = co_await receive_on(*link, from);
            CHECK(first == "from p2");
            CHECK(from.port() == p2.local_endpoint().port());
            co_await link->async_send(asio::buffer(std::string("a")), use_awaitable);
            const int after_p2 = sent_to();
            drain();

            co_await p3.async_send_to(asio::buffer(std::string("from p3")), module_end, use_awaitable);
            const std::string second = co_await receive_on(*link, from);
            CHECK(second == "from p3");
            co_await link->async_send(asio::buffer(std::string("b")), use_awaitable);
            const int after_p3 = sent_to();
            drain();

            switch (mode) {
            case espat::udp_mode::fixed:
                CHECK(after_p2 == 1);
                CHECK(after_p3 == 1);
                break;
            case espat::udp_mode::change_once:
                CHECK(after_p2 == 2);
                CHECK(after_p3 == 2);
                break;
            case espat::udp_mode::changeable:
                CHECK(after_p2 == 2);
                CHECK(after_p3 == 3);
                break;
            }
        });
    }
}

TEST_CASE("udp: broadcast and multicast remotes go to the module as given; the link receives on its local port")
{
    for (const char* remote : {"255.255.255.255", "239.255.0.1"}) {
        CAPTURE(std::string(remote));
        rig r(four());
        udp::socket sender(r.io, {asio::ip::address_v4::loopback(), 0});
        const std::uint16_t local = free_udp_port(r.io);
        r.esp.record_transcript(true);
        r.run([&](client_type& esp, network_type& net) -> awaitable<void> {
            const net::udp_options o{.local_port = local, .mode = espat::udp_mode::fixed};
            auto link = co_await net.async_open_udp(remote, 5000, o);
            if (!link) FAIL("open_udp: " << link.error().message());
            const std::string line =
                "> AT+CIPSTART=0,\"UDP\",\"" + std::string(remote) + "\",5000," + std::to_string(local) + ",0\\r\\n";
            CHECK(esp.transcript().find(line) != std::string::npos);
            const udp::endpoint module_end(asio::ip::address_v4::loopback(), local);
            co_await sender.async_send_to(asio::buffer(std::string("to the group")), module_end, use_awaitable);
            udp::endpoint from;
            const std::string got = co_await receive_on(*link, from);
            CHECK(got == "to the group");
            CHECK(from.port() == sender.local_endpoint().port());
        });
    }
}
