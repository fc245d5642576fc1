// Simulator behaviour the reference and the quirks describe beyond the transcripts: an SSL
// link the module closes says close_notify; a saved passthrough link whose peer is not there
// at boot is tried again every AT+CIPRECONNINTV until "+++"; the report_inside_echo fault also
// splits the echo with Wi-Fi reports. Every wait is bounded; every port is chosen by the OS.
#include "host_replay.hpp"
#include "loopback.hpp"

#include <doctest/doctest.h>

#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
    late.async_accept([&](std::error_code ec, tcp::socket) {
        // Aborted once the test is over and `accepted` is gone, when the harness drains.
        if (ec != asio::error::operation_aborted) accepted = !ec;
    });
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

// ---- a reset ends passthrough; a saved link (TCP or SSL) starts a fresh session ----

namespace {

// A loopback TCP peer with a small receive buffer, so the module's writes to it are often
// partial: two writers on the module's socket at once would interleave their bytes.
struct narrow_peer {
    explicit narrow_peer(asio::io_context& io) : acceptor(io)
    {
        const tcp::endpoint at(asio::ip::address_v4::loopback(), 0);
        acceptor.open(at.protocol());
        acceptor.set_option(asio::socket_base::receive_buffer_size(2048));  // inherited by accepted sockets
        acceptor.bind(at);
        acceptor.listen();
        accept_next();
    }
    void accept_next()
    {
        acceptor.async_accept([this](std::error_code ec, tcp::socket s) {
            if (ec) return;
            auto c = std::make_shared<tcp::socket>(std::move(s));
            auto got = std::make_shared<std::string>();
            sockets.push_back(c);
            received.push_back(got);
            asio::co_spawn(acceptor.get_executor(), read(c, got), asio::detached);
            accept_next();
        });
    }
    asio::awaitable<void> read(std::shared_ptr<tcp::socket> s, std::shared_ptr<std::string> got)
    {
        std::array<char, 4096> b;
        asio::steady_timer pause(acceptor.get_executor());
        for (;;) {
            if (paused) {  // not reading: the module's socket fills up and its writes go partial
                pause.expires_after(5ms);
                co_await pause.async_wait(sim::use_tuple);
                continue;
            }
            auto [ec, n] = co_await s->async_read_some(asio::buffer(b), sim::use_tuple);
            if (ec) co_return;
            got->append(b.data(), n);
        }
    }
    [[nodiscard]] std::uint16_t port() const { return acceptor.local_endpoint().port(); }
    tcp::acceptor acceptor;
    bool paused = false;
    std::vector<std::shared_ptr<tcp::socket>> sockets;
    std::vector<std::shared_ptr<std::string>> received;
};

// 6 MB of counted bytes ("0,1,2,..."): a reordered or doubled packet shows. More than a
// loopback socket's send buffer can take (4 MB at most), so the module's writes must wait.
std::string numbered_bytes()
{
    std::string s;
    for (std::uint32_t i = 0; s.size() < 6 * 1024 * 1024; ++i) s += std::to_string(i) + ",";
    return s;
}

// Sends `bulk` in passthrough while the narrow peer stops reading again and again (long
// enough each time for the module's socket to fill), and waits until its connection `index`
// got as many bytes (or the time is up).
std::string relay_bulk(sim_harness& h, narrow_peer& p, std::size_t index, const std::string& bulk)
{
    bool written = false;
    asio::async_write(*h.host, asio::buffer(bulk), [&](std::error_code, std::size_t) { written = true; });
    const auto done = [&] { return written && p.received.size() > index && p.received[index]->size() >= bulk.size(); };
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        p.paused = true;
        h.run_for(60ms);
        p.paused = false;
        h.run_until(done, 15ms);
    }
    p.paused = false;
    return p.received.size() > index ? *p.received[index] : std::string{};
}

}  // namespace

TEST_CASE("passthrough: a reset ends AT+CIPSEND's session and its link; after ready bytes are commands again")
{
    sim_harness h(quiet());
    replay_world w(h);
    narrow_peer narrow(h.io);
    CHECK(h.command("AT+CIPMODE=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTART=\"TCP\"," + loopback_target(w.tcp.port())) == "CONNECT\r\n\r\nOK\r\n");
    REQUIRE(h.run_until([&] { return w.tcp.accepted.size() == 1; }));
    auto old_peer = w.tcp.accepted[0];
    CHECK(h.command("AT+CIPSEND", ">") == "\r\nOK\r\n\r\n>");
    h.send("before");
    REQUIRE(h.run_until([&] { return old_peer->received == "before"; }));

    h.module->reset();  // power: no "+++", no AT+RST
    CHECK(h.until("WIFI GOT IP\r\n").ends_with("\r\nready\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n"));
    REQUIRE(h.run_until([&] { return old_peer->ended; }));
    CHECK(h.command("ATE0") == "ATE0\r\n\r\nOK\r\n");  // command mode (echo on again), not data for a link
    CHECK(h.command("AT") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPMODE?") == "+CIPMODE:0\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTATUS").find("+CIPSTATUS:") == std::string::npos);  // the old link is gone
    CHECK(old_peer->received == "before");

    // A new session relays through one loop: its bytes arrive once and in order, though the
    // peer's small window makes the module's writes partial.
    CHECK(h.command("AT+CIPMODE=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTART=\"TCP\"," + loopback_target(narrow.port())) == "CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSEND", ">") == "\r\nOK\r\n\r\n>");
    const std::string bulk = numbered_bytes();
    const std::string got = relay_bulk(h, narrow, 0, bulk);
    CHECK(got.size() == bulk.size());
    CHECK((got == bulk));
    h.run_for(50ms);
    h.send("+++");
    h.run_for(80ms);
    CHECK(h.command("AT") == "\r\nOK\r\n");
    CHECK(old_peer->received == "before");
}

TEST_CASE("SAVETRANSLINK: the module is in passthrough from \"ready\" on: a line sent at once is data, not a command")
{
    sim::module_options o = quiet();
    o.join_delay = 30ms;  // a while between "ready" and the Wi-Fi reports
    sim_harness h(o);
    replay_world w(h);
    CHECK(h.command("AT+SAVETRANSLINK=1," + loopback_target(w.tcp.port()) + ",\"TCP\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+RST") == "\r\nOK\r\n");
    CHECK(h.until("ready\r\n").ends_with("\r\nready\r\n"));
    h.send("AT\r\n");  // before the module has its IP: passthrough data with no link yet
    const std::string boot = h.until("WIFI GOT IP\r\n");
    CHECK(boot == "WIFI CONNECTED\r\nWIFI GOT IP\r\n");  // no OK: "AT" was not a command
    REQUIRE(h.run_until([&] { return w.tcp.accepted.size() == 1; }));
    h.run_for(30ms);
    h.send("data");
    REQUIRE(h.run_until([&] { return w.tcp.accepted[0]->received.ends_with("data"); }));
    CHECK(h.received.empty());
}

TEST_CASE("SAVETRANSLINK: a reset in the saved link's passthrough ends that link; the module boots into a fresh one")
{
    sim_harness h(quiet());
    narrow_peer narrow(h.io);
    CHECK(h.command("AT+SAVETRANSLINK=1," + loopback_target(narrow.port()) + ",\"TCP\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+RST") == "\r\nOK\r\n");
    CHECK(h.until("WIFI GOT IP\r\n").ends_with("\r\nready\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n"));
    REQUIRE(h.run_until([&] { return narrow.sockets.size() == 1; }));
    h.run_for(30ms);
    h.send("first");
    REQUIRE(h.run_until([&] { return *narrow.received[0] == "first"; }));

    h.module->reset();
    const std::string reboot = h.until("WIFI GOT IP\r\n");
    CHECK(reboot.starts_with("WIFI DISCONNECT\r\n"));
    CHECK(reboot.ends_with("\r\nready\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n"));
    REQUIRE(h.run_until([&] { return narrow.sockets.size() == 2; }));
    h.run_for(30ms);
    const std::string bulk = numbered_bytes();
    const std::string got = relay_bulk(h, narrow, 1, bulk);
    CHECK(got.size() == bulk.size());
    CHECK((got == bulk));
    CHECK(*narrow.received[0] == "first");  // the old link got nothing more

    // "+++", then AT+RST from command mode: the same once more.
    h.run_for(50ms);
    h.send("+++");
    h.run_for(80ms);
    CHECK(h.command("AT+RST") == "AT+RST\r\n\r\nOK\r\n");  // echo: on again since the reset
    CHECK(h.until("WIFI GOT IP\r\n").ends_with("\r\nready\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n"));
    REQUIRE(h.run_until([&] { return narrow.sockets.size() == 3; }));
    h.run_for(30ms);
    h.send("third");
    REQUIRE(h.run_until([&] { return *narrow.received[2] == "third"; }));
    CHECK(narrow.received[1]->size() == bulk.size());
    CHECK(h.received.empty());
}

TEST_CASE("SAVETRANSLINK with SSL: boots into passthrough over TLS; a peer that goes away is reconnected with a new handshake")
{
    sim_harness h(quiet());
    replay_world w(h);
    CHECK(h.command("AT+CIPRECONNINTV=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+SAVETRANSLINK=1," + loopback_target(w.tls.port()) + ",\"SSL\",60") == "\r\nOK\r\n");
    CHECK(h.command("AT+RST") == "\r\nOK\r\n");
    CHECK(h.until("WIFI GOT IP\r\n").ends_with("\r\nready\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n"));
    const auto tls_peer = [&](std::size_t i) { return std::static_pointer_cast<espat::test::tls_conn>(w.tls.accepted[i]); };
    REQUIRE(h.run_until([&] { return w.tls.accepted.size() == 1 && tls_peer(0)->ready; }));
    h.run_for(30ms);
    h.send("over tls");
    REQUIRE(h.run_until([&] { return tls_peer(0)->received == "over tls"; }));
    tls_peer(0)->send("answer");
    CHECK(h.until("answer") == "answer");  // raw: no +IPD

    // The peer goes away (a TCP close): the module prints nothing and connects again.
    std::error_code ignored;
    tls_peer(0)->stream.lowest_layer().close(ignored);
    REQUIRE(h.run_until([&] { return w.tls.accepted.size() == 2 && tls_peer(1)->ready; }));
    h.run_for(30ms);
    h.send("again");
    REQUIRE(h.run_until([&] { return tls_peer(1)->received == "again"; }));
    CHECK(h.received.empty());  // no CLOSED, no CONNECT

    h.run_for(50ms);
    h.send("+++");
    h.run_for(80ms);
    CHECK(h.command("AT+CIPSTATUS").find(",\"SSL\",\"127.0.0.1\"," + std::to_string(w.tls.port())) != std::string::npos);
    CHECK(h.command("AT+SAVETRANSLINK=0," + loopback_target(w.tls.port()) + ",\"SSL\"").ends_with("\r\nOK\r\n"));
}

TEST_CASE("passthrough over an AT+CIPSTART=\"SSL\" link: a peer that goes away is reconnected with a new handshake")
{
    sim_harness h(quiet());
    replay_world w(h);
    CHECK(h.command("AT+CIPRECONNINTV=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPMODE=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTART=\"SSL\"," + loopback_target(w.tls.port())) == "CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSEND", ">") == "\r\nOK\r\n\r\n>");
    const auto tls_peer = [&](std::size_t i) { return std::static_pointer_cast<espat::test::tls_conn>(w.tls.accepted[i]); };
    REQUIRE(h.run_until([&] { return w.tls.accepted.size() == 1 && tls_peer(0)->ready; }));
    std::error_code ignored;
    tls_peer(0)->stream.lowest_layer().close(ignored);
    REQUIRE(h.run_until([&] { return w.tls.accepted.size() == 2 && tls_peer(1)->ready; }));
    h.run_for(30ms);
    h.send("reconnected");
    REQUIRE(h.run_until([&] { return tls_peer(1)->received == "reconnected"; }));
    CHECK(h.received.empty());
}
