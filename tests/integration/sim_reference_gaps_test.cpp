// Simulator behaviour the reference and the quirks describe beyond the transcripts: an SSL
// link the module closes says close_notify; a saved passthrough link whose peer is not there
// at boot is tried again every AT+CIPRECONNINTV until "+++"; the report_inside_echo fault also
// splits the echo with Wi-Fi reports. Every wait is bounded; every port is chosen by the OS.
#include "host_replay.hpp"
#include "loopback.hpp"

#include <doctest/doctest.h>

#include <asio/read.hpp>

#include <string>

using espat::test::closed_tcp_port;
using espat::test::loopback_target;
using espat::test::quiet;
using espat::test::replay_world;
using espat::test::sim_harness;
namespace sim = espat::sim;
using asio::ip::tcp;
using namespace std::chrono_literals;

TEST_CASE("AT+CIPCLOSE on an SSL link sends close_notify: the TLS peer sees a clean end, not a truncation")
{
    sim::module_options o = quiet();
    sim_harness h(o);
    replay_world w(h);
    CHECK(h.command("AT+CIPSTART=\"SSL\"," + loopback_target(w.tls.port())) == "CONNECT\r\n\r\nOK\r\n");
    REQUIRE(h.run_until([&] { return !w.tls.accepted.empty(); }));
    auto peer = w.tls.accepted[0];
    CHECK(h.command("AT+CIPCLOSE") == "CLOSED\r\n\r\nOK\r\n");
    REQUIRE(h.run_until([&] { return peer->ended; }));
    CHECK(peer->end_reason == asio::error::eof);  // OpenSSL's reading of a received close_notify

    // A reset closes without a word: the peer sees the TCP close alone.
    CHECK(h.command("AT+CIPSTART=\"SSL\"," + loopback_target(w.tls.port())) == "CONNECT\r\n\r\nOK\r\n");
    REQUIRE(h.run_until([&] { return w.tls.accepted.size() == 2; }));
    auto second = w.tls.accepted[1];
    CHECK(h.command("AT+RST") == "\r\nOK\r\n");
    REQUIRE(h.run_until([&] { return second->ended; }));
    CHECK(second->end_reason != asio::error::eof);
}

TEST_CASE("AT+CIPCLOSE on a link of the SSL server sends close_notify to its client")
{
    sim::module_options o = quiet();
    const auto& certs = espat::test::test_certs();
    o.tls = {{.ca_certificate = certs.ca, .certificate = certs.server.certificate,
              .private_key = certs.server.private_key, .psk = std::nullopt}};
    o.server_port_override = 0;
    sim_harness h(o);
    replay_world w(h);
    espat::test::replay_setup s;
    s.server_clients_tls = true;
    const std::string script = "> AT+CIPMUX=1\\r\\n\n< \\r\\nOK\\r\\n\n"
                               "> AT+CIPSERVER=1,443,\"SSL\",1\\r\\n\n< \\r\\nOK\\r\\n\n< 0,CONNECT\\r\\n\n"
                               "> AT+CIPCLOSE=0\\r\\n\n< 0,CLOSED\\r\\n\n< \\r\\nOK\\r\\n\n";
    CHECK(w.run(script, s) == "");
    REQUIRE(w.links.count(0));
    REQUIRE(h.run_until([&] { return w.links[0]->ended; }));
    CHECK(w.links[0]->end_reason == asio::error::eof);
}

TEST_CASE("SAVETRANSLINK: a peer missing at boot is tried again every CIPRECONNINTV; data flows once it is up")
{
    sim_harness h(quiet());
    const std::uint16_t port = closed_tcp_port(h.io);
    CHECK(h.command("AT+CIPRECONNINTV=1") == "\r\nOK\r\n");  // 100 ms
    CHECK(h.command("AT+SAVETRANSLINK=1," + loopback_target(port) + ",\"TCP\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+RST") == "\r\nOK\r\n");
    CHECK(h.until("WIFI GOT IP\r\n").ends_with("\r\nready\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n"));
    h.run_for(250ms);  // some attempts fail: nothing listens
    h.send("lost");    // passthrough already: with no link the bytes go nowhere
    h.run_for(50ms);

    tcp::acceptor late(h.io, {asio::ip::address_v4::loopback(), port});
    std::optional<tcp::socket> peer;
    late.async_accept([&](std::error_code ec, tcp::socket s) {
        if (!ec) peer.emplace(std::move(s));
    });
    REQUIRE(h.run_until([&] { return peer.has_value(); }));
    h.run_for(30ms);
    h.send("hello");
    std::string got(5, '\0');
    bool read = false;
    asio::async_read(*peer, asio::buffer(got), [&](std::error_code ec, std::size_t) { read = !ec; });
    REQUIRE(h.run_until([&] { return read; }));
    CHECK(got == "hello");
    asio::write(*peer, asio::buffer(std::string_view("back")));
    CHECK(h.until("back") == "back");  // raw: no +IPD, no prompt
    h.run_for(50ms);
    h.send("+++");
    h.run_for(80ms);
    CHECK(h.command("AT+CIPMODE?").ends_with("+CIPMODE:1\r\n\r\nOK\r\n"));
    CHECK(h.received.empty());
}

TEST_CASE("SAVETRANSLINK: +++ ends the tries while the peer is missing")
{
    sim_harness h(quiet());
    const std::uint16_t port = closed_tcp_port(h.io);
    CHECK(h.command("AT+CIPRECONNINTV=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+SAVETRANSLINK=1," + loopback_target(port) + ",\"TCP\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+RST") == "\r\nOK\r\n");
    CHECK(h.until("WIFI GOT IP\r\n").ends_with("WIFI GOT IP\r\n"));
    h.run_for(150ms);
    h.send("+++");
    h.run_for(80ms);
    CHECK(h.command("AT").ends_with("\r\nOK\r\n"));  // command mode again

    tcp::acceptor late(h.io, {asio::ip::address_v4::loopback(), port});
    bool accepted = false;
    late.async_accept([&](std::error_code ec, tcp::socket) { accepted = !ec; });
    h.run_for(400ms);  // several intervals: a try still running would connect now
    CHECK_FALSE(accepted);
    CHECK(h.command("AT+CIPSTATUS").find("+CIPSTATUS:") == std::string::npos);
}

TEST_CASE("Fault report_inside_echo also splits the echo with the Wi-Fi reports after a reset")
{
    for (const bool faulty : {true, false}) {
        CAPTURE(faulty);
        sim::module_options o;  // echo on
        o.faults.report_inside_echo = faulty ? 1.0 : 0.0;
        o.join_delay = 20ms;
        sim_harness h(o);
        CHECK(h.command("AT+RST").ends_with("\r\nOK\r\n"));
        CHECK(h.until("ready\r\n").ends_with("\r\nready\r\n"));
        h.send("AT+GMR");  // typed while the module rejoins the access point
        h.run_for(80ms);
        h.send("\r\n");
        const std::string out = h.until("OK\r\n");
        if (faulty) CHECK(out.starts_with("AT+GWIFI CONNECTED\r\nWIFI GOT IP\r\nMR\r\n"));
        else CHECK(out.starts_with("WIFI CONNECTED\r\nWIFI GOT IP\r\nAT+GMR\r\n"));
    }
}
