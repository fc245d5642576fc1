// The simulator's allow-list of remote networks (sim::network_prefix): parsing, membership of
// IPv4, IPv6 and IPv4-mapped addresses, the loopback default of espat-sim.
#include <espat/sim/networks.hpp>

#include <doctest/doctest.h>

namespace sim = espat::sim;
using asio::ip::make_address;

TEST_CASE("network_prefix: parses a prefix or a lone address, refuses what is not one")
{
    const auto ten = sim::network_prefix::parse("10.0.0.0/8");
    REQUIRE(ten);
    CHECK(ten->address == make_address("10.0.0.0"));
    CHECK(ten->length == 8);
    CHECK(ten->to_string() == "10.0.0.0/8");
    const auto one = sim::network_prefix::parse("192.0.2.7");
    REQUIRE(one);
    CHECK(one->length == 32);
    const auto v6 = sim::network_prefix::parse("fd00::/8");
    REQUIRE(v6);
    CHECK(v6->length == 8);
    CHECK(sim::network_prefix::parse("::1")->length == 128);
    for (const char* bad : {"", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/8x", "/8", "example.com/8", "10.0.0.0/-1"}) {
        CAPTURE(bad);
        CHECK_FALSE(sim::network_prefix::parse(bad));
    }
}

TEST_CASE("network_prefix: holds the addresses whose leading bits match, in its own family")
{
    const auto lo = *sim::network_prefix::parse("127.0.0.0/8");
    CHECK(lo.contains(make_address("127.0.0.1")));
    CHECK(lo.contains(make_address("127.255.255.254")));
    CHECK_FALSE(lo.contains(make_address("128.0.0.1")));
    CHECK_FALSE(lo.contains(make_address("::1")));
    // An IPv4-mapped IPv6 address reaches the IPv4 host it carries.
    CHECK(lo.contains(make_address("::ffff:127.0.0.2")));
    CHECK_FALSE(lo.contains(make_address("::ffff:10.0.0.1")));

    const auto host = *sim::network_prefix::parse("127.0.0.1/32");
    CHECK(host.contains(make_address("127.0.0.1")));
    CHECK_FALSE(host.contains(make_address("127.0.0.2")));

    const auto odd = *sim::network_prefix::parse("192.168.4.0/22");  // a length that is no byte boundary
    CHECK(odd.contains(make_address("192.168.7.255")));
    CHECK_FALSE(odd.contains(make_address("192.168.8.0")));

    const auto ula = *sim::network_prefix::parse("fd12:3456::/33");
    CHECK(ula.contains(make_address("fd12:3456:7fff::1")));
    CHECK_FALSE(ula.contains(make_address("fd12:3456:8000::1")));
    CHECK_FALSE(ula.contains(make_address("10.0.0.1")));

    CHECK(sim::network_prefix::parse("0.0.0.0/0")->contains(make_address("203.0.113.9")));
    CHECK_FALSE(sim::network_prefix::parse("0.0.0.0/0")->contains(make_address("2001:db8::1")));
}

TEST_CASE("allows: an empty list allows every network; espat-sim's default is loopback alone")
{
    CHECK(sim::allows({}, make_address("203.0.113.9")));
    const auto loopback = sim::loopback_networks();
    CHECK(sim::allows(loopback, make_address("127.0.0.1")));
    CHECK(sim::allows(loopback, make_address("127.0.0.2")));
    CHECK(sim::allows(loopback, make_address("::1")));
    CHECK_FALSE(sim::allows(loopback, make_address("::2")));
    CHECK_FALSE(sim::allows(loopback, make_address("192.168.1.10")));
    CHECK_FALSE(sim::allows(loopback, make_address("255.255.255.255")));
    CHECK_FALSE(sim::allows(loopback, make_address("239.255.42.7")));
}
