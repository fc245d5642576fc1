// Per-link options through connect_options: module TLS (AT+CIPSSLCCONF, CN, SNI, ALPN, PSK) and
// socket options (AT+CIPTCPOPT, keep-alive), sent for the link's id before its AT+CIPSTART; the
// SSL server; options refused before anything is sent. Client -> simulated module (pipe) ->
// loopback OpenSSL peers with certificates made at test time.
#include "net_rig.hpp"

#include <asio/read.hpp>
#include <asio/ssl.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using espat::test::as_tuple;
using espat::test::rig;
using espat::test::tls_peer;
using client_type = espat::test::pipe_client;
using network_type = espat::test::pipe_network;
namespace sim = espat::sim;
namespace net = espat::net;

namespace {

// Writes `text` and reads the same number of bytes back (the peers echo).
awaitable<std::string> round_trip(network_type::link& link, std::string text)
{
    co_await asio::async_write(link, asio::buffer(text), use_awaitable);
    std::string back(text.size(), '\0');
    co_await asio::async_read(link, asio::buffer(back), use_awaitable);
    co_return back;
}

std::size_t count(const std::string& haystack, std::string_view needle)
{
    std::size_t n = 0;
    for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("connect_ssl: SNI and ALPN set through connect_options reach the server, sent for the link's id first")
{
    sim::tls_server_config config;
    config.alpn = {"http/1.1"};
    rig r;
    tls_peer server(r.io, config);
    r.esp.record_transcript(true);
    r.run([&](client_type& esp, network_type& net) -> awaitable<void> {
        net::connect_options o;
        o.tls.server_name = "one.example";
        o.tls.alpn = {"h2", "http/1.1"};
        auto link = co_await net.async_connect_ssl("127.0.0.1", server.port(), o);
        if (!link) FAIL("connect_ssl: " << link.error().message());
        CHECK(link->type() == espat::link_type::ssl);
        const std::string back1 = co_await round_trip(*link, "hello over module TLS");
        CHECK(back1 == "hello over module TLS");
        const std::string t = esp.transcript();
        const auto conf = t.find("> AT+CIPSSLCCONF=0,0\\r\\n");
        const auto sni = t.find("> AT+CIPSSLCSNI=0,\"one.example\"\\r\\n");
        const auto alpn = t.find("> AT+CIPSSLCALPN=0,2,\"h2\",\"http/1.1\"\\r\\n");
        const auto start = t.find("> AT+CIPSTART=0,\"SSL\",\"127.0.0.1\"," + std::to_string(server.port()));
        REQUIRE(start != std::string::npos);
        CHECK(conf < sni);
        CHECK(sni < alpn);
        CHECK(alpn < start);
    });
    REQUIRE(server.seen().connections.size() == 1);
    CHECK(server.seen().connections[0]->server_name == "one.example");
    CHECK(server.seen().connections[0]->alpn == "http/1.1");
    CHECK(server.seen().connections[0]->received == "hello over module TLS");
}

TEST_CASE("connect_ssl verifying the server: the right CA connects, a wrong CA or name fails and frees the id")
{
    sim::module_options mo;
    mo.tls = espat::test::flashed_credentials();
    rig r(mo);
    tls_peer server(r.io);
    r.esp.record_transcript(true);
    r.run([&](client_type& esp, network_type& net) -> awaitable<void> {
        net::connect_options good;
        good.tls.auth = espat::ssl_auth_mode::verify_server;
        good.tls.ca_number = 0;  // the test CA
        auto link = co_await net.async_connect_ssl("localhost", server.port(), good);
        if (!link) FAIL("connect_ssl: " << link.error().message());
        const std::string back2 = co_await round_trip(*link, "verified");
        CHECK(back2 == "verified");

        net::connect_options wrong_ca = good;
        wrong_ca.tls.ca_number = 1;  // an unrelated CA
        auto refused = co_await net.async_connect_ssl("localhost", server.port(), wrong_ca);
        CHECK_FALSE(refused);

        net::connect_options wrong_name = good;
        wrong_name.tls.common_name = "other.example";  // AT+CIPSSLCCN: the certificate must name this
        auto misnamed = co_await net.async_connect_ssl("localhost", server.port(), wrong_name);
        CHECK_FALSE(misnamed);

        // The failed attempts gave their ids back: four more links fit beside the first. The
        // first takes id 1, where "other.example" was set: it is set back to the host's name.
        std::vector<network_type::link> more;
        for (int i = 0; i < 4; ++i) {
            auto l = co_await net.async_connect_ssl("localhost", server.port(), good);
            if (!l) FAIL("connect_ssl " << i << ": " << l.error().message());
            more.push_back(std::move(*l));
        }
        CHECK(more.front().handle().id == 1);
        CHECK(esp.transcript().find("> AT+CIPSSLCCN=1,\"localhost\"\\r\\n") != std::string::npos);
        const std::string back3 = co_await round_trip(more.back(), "still fine");
        CHECK(back3 == "still fine");
    });
    CHECK(server.seen().failed_handshakes == 2);
}

TEST_CASE("connect_ssl with a PSK on an ESP8266: the handshake uses it; an ESP32 refuses it before sending anything")
{
    SUBCASE("ESP8266")
    {
        sim::module_options mo;
        mo.firmware = sim::esp8266_at_2();
        rig r(mo);
        tls_peer server(r.io, {}, sim::tls_psk{.identity = "client-1", .key = "psk-secret"});
        r.run([&](client_type&, network_type& net) -> awaitable<void> {
            net::connect_options o;
            o.tls.psk = net::module_psk{.psk = "psk-secret", .hint = "client-1"};
            auto link = co_await net.async_connect_ssl("127.0.0.1", server.port(), o);
            if (!link) FAIL("connect_ssl: " << link.error().message());
            const std::string back4 = co_await round_trip(*link, "pre-shared");
            CHECK(back4 == "pre-shared");

            net::connect_options wrong;
            wrong.tls.psk = net::module_psk{.psk = "other-secret", .hint = "client-1"};
            auto refused = co_await net.async_connect_ssl("127.0.0.1", server.port(), wrong);
            CHECK_FALSE(refused);
        });
        CHECK(server.seen().connections.size() == 1);
    }
    SUBCASE("ESP32")
    {
        rig r;
        tls_peer server(r.io);
        r.esp.record_transcript(true);
        r.run([&](client_type& esp, network_type& net) -> awaitable<void> {
            const std::string before = esp.transcript();
            net::connect_options o;
            o.tls.server_name = "x.example";
            o.tls.psk = net::module_psk{.psk = "k", .hint = "i"};
            auto link = co_await net.async_connect_ssl("127.0.0.1", server.port(), o);
            REQUIRE_FALSE(link);
            CHECK(link.error() == espat::make_error_code(espat::errc::not_supported));
            CHECK(esp.transcript() == before);  // nothing was sent
            auto plain = co_await net.async_connect_ssl("127.0.0.1", server.port());
            CHECK(plain);
            if (plain) CHECK(plain->handle().id == 0);  // the refused attempt kept no id
        });
    }
}

TEST_CASE("connect options: hostile strings are refused or escaped by the encoder, never injected")
{
    rig r;
    tls_peer server(r.io);
    r.esp.record_transcript(true);
    r.run([&](client_type& esp, network_type& net) -> awaitable<void> {
        const std::string before = esp.transcript();
        // CR or LF would end the command line: refused before anything is sent.
        for (int which = 0; which < 3; ++which) {
            CAPTURE(which);
            net::connect_options o;
            if (which == 0) o.tls.server_name = "evil.example\r\nAT+RST";
            if (which == 1) o.tls.common_name = "cn\n";
            if (which == 2) o.tls.alpn = {"h2", "x\r\nAT+RESTORE"};
            auto link = co_await net.async_connect_ssl("127.0.0.1", server.port(), o);
            REQUIRE_FALSE(link);
            CHECK(link.error() == espat::make_error_code(espat::errc::invalid_argument));
        }
        net::connect_options too_many;
        too_many.tls.alpn = {"a", "b", "c", "d"};  // AT+CIPSSLCALPN takes 1..3
        auto four = co_await net.async_connect_ssl("127.0.0.1", server.port(), too_many);
        CHECK_FALSE(four);
        CHECK(esp.transcript() == before);
        // Quotes, commas and backslashes are escaped: the module reads back exactly the string.
        net::connect_options quoted;
        quoted.tls.server_name = "q\"uote,comma\\slash.example";
        auto link = co_await net.async_connect_ssl("127.0.0.1", server.port(), quoted);
        if (!link) FAIL("connect_ssl: " << link.error().message());
        CHECK(esp.transcript().find("AT+CIPSSLCSNI=0,\"q\\\\\"uote\\\\,comma\\\\\\\\slash.example\"") != std::string::npos);
        const std::string back5 = co_await round_trip(*link, "in sync");
        CHECK(back5 == "in sync");
        CHECK(count(esp.transcript(), "AT+RST") == 0);
    });
    REQUIRE(server.seen().connections.size() == 1);
    CHECK(server.seen().connections[0]->server_name == "q\"uote,comma\\slash.example");
}

TEST_CASE("connect: AT+CIPTCPOPT and keep-alive for the link's id before AT+CIPSTART; the next link there gets the defaults")
{
    rig r;
    espat::test::tcp_peer peer(r.io, espat::test::echo_session);
    r.esp.record_transcript(true);
    r.run([&](client_type& esp, network_type& net) -> awaitable<void> {
        net::connect_options o;
        o.keep_alive = 60s;
        o.tcp.no_delay = true;
        o.tcp.linger = 0s;
        o.tcp.send_timeout = 500ms;
        auto link = co_await net.async_connect("127.0.0.1", peer.port(), o);
        if (!link) FAIL("connect: " << link.error().message());
        const std::string port = std::to_string(peer.port());
        const std::string t = esp.transcript();
        const auto opt = t.find("> AT+CIPTCPOPT=0,0,1,500\\r\\n");
        const auto start = t.find("> AT+CIPSTART=0,\"TCP\",\"127.0.0.1\"," + port + ",60\\r\\n");
        REQUIRE(opt != std::string::npos);
        REQUIRE(start != std::string::npos);
        CHECK(opt < start);
        // The module applied them to the link's socket and says so.
        auto options = co_await esp.template async_query<espat::commands::ciptcpopt>();
        REQUIRE(options);
        REQUIRE_FALSE(options->empty());
        const espat::socket_options expected{espat::link_id{0}, 0s, true, 500ms};
        CHECK(options->front() == expected);
        const std::string back6 = co_await round_trip(*link, "tuned");
        CHECK(back6 == "tuned");
        auto [cec] = co_await link->async_close(as_tuple);
        CHECK_FALSE(cec);

        // Id 0 again, without options: the defaults go first, so nothing carries over.
        auto plain = co_await net.async_connect("127.0.0.1", peer.port());
        REQUIRE(plain);
        CHECK(plain->handle().id == 0);
        CHECK(esp.transcript().find("> AT+CIPTCPOPT=0,-1,0,0\\r\\n") != std::string::npos);
        auto after = co_await esp.template async_query<espat::commands::ciptcpopt>();
        REQUIRE(after);
        const espat::socket_options defaults{espat::link_id{0}, espat::linger_off, false, 0ms};
        CHECK(after->front() == defaults);
        // A keep-alive out of range (0..7200 s) is refused before anything is sent.
        const std::string before = esp.transcript();
        net::connect_options bad;
        bad.keep_alive = 7201s;
        auto refused = co_await net.async_connect("127.0.0.1", peer.port(), bad);
        REQUIRE_FALSE(refused);
        CHECK(refused.error() == espat::make_error_code(espat::errc::invalid_argument));
        CHECK(esp.transcript() == before);
    });
}

TEST_CASE("connect_ssl: a link without SNI avoids the id an earlier link set one on")
{
    rig r;
    tls_peer server(r.io);
    r.run([&](client_type&, network_type& net) -> awaitable<void> {
        net::connect_options named;
        named.tls.server_name = "named.example";
        auto first = co_await net.async_connect_ssl("127.0.0.1", server.port(), named);
        REQUIRE(first);
        CHECK(first->handle().id == 0);
        auto [cec] = co_await first->async_close(as_tuple);
        CHECK_FALSE(cec);
        auto second = co_await net.async_connect_ssl("127.0.0.1", server.port());
        REQUIRE(second);
        CHECK(second->handle().id == 1);  // id 0 would still send "named.example"
        const std::string back7 = co_await round_trip(*second, "x");
        CHECK(back7 == "x");
        auto third = co_await net.async_connect_ssl("127.0.0.1", server.port(), named);
        REQUIRE(third);
        CHECK(third->handle().id == 0);
    });
    REQUIRE(server.seen().connections.size() == 3);
    CHECK(server.seen().connections[0]->server_name == "named.example");
    CHECK(server.seen().connections[1]->server_name.empty());  // an IP literal: no SNI
    CHECK(server.seen().connections[2]->server_name == "named.example");
}

TEST_CASE("listen with ssl: a host OpenSSL client connects through the module's SSL server and exchanges data")
{
    sim::module_options mo;
    mo.tls = espat::test::flashed_credentials();
    mo.server_port_override = 0;
    rig r(mo);
    const auto& certs = espat::test::test_certs();
    r.run([&](client_type&, network_type& net) -> awaitable<void> {
        net::server_options so;
        so.ssl = true;
        so.max_connections = espat::server_connections{2};
        auto server = co_await net.async_listen(443, so);
        if (!server) FAIL("listen: " << server.error().message());
        const auto port = r.module.server_port();
        REQUIRE(port);
        auto ex = co_await asio::this_coro::executor;
        std::string reply;
        bool client_done = false;
        asio::ssl::context ctx(asio::ssl::context::tls_client);
        ctx.add_certificate_authority(asio::buffer(certs.ca));
        ctx.set_verify_mode(asio::ssl::verify_peer);
        asio::co_spawn(
            ex,
            [&]() -> awaitable<void> {
                asio::ssl::stream<asio::ip::tcp::socket> tls(r.io, ctx);
                tls.set_verify_callback(asio::ssl::host_name_verification("localhost"));
                co_await tls.next_layer().async_connect({asio::ip::address_v4::loopback(), *port}, use_awaitable);
                co_await tls.async_handshake(asio::ssl::stream_base::client, use_awaitable);
                co_await asio::async_write(tls, asio::buffer(std::string("ping over TLS\n")), use_awaitable);
                reply.resize(5);
                co_await asio::async_read(tls, asio::buffer(reply), use_awaitable);
                client_done = true;
            },
            asio::detached);
        auto link = co_await server->async_accept();
        if (!link) FAIL("accept: " << link.error().message());
        CHECK(link->type() == espat::link_type::ssl);
        std::string line(14, '\0');
        co_await asio::async_read(*link, asio::buffer(line), use_awaitable);
        CHECK(line == "ping over TLS\n");  // TLS ends on the module: the link carries plaintext
        co_await asio::async_write(*link, asio::buffer(std::string("pong!")), use_awaitable);
        const auto cond8 = [&] { return client_done; };
        const bool ok8 = co_await espat::test::eventually(cond8);
        CHECK(ok8);
        CHECK(reply == "pong!");
        auto closed = co_await server->async_close(true);
        CHECK(closed);
    });
}

TEST_CASE("listen with ssl on an ESP8266 and UDP modes without a local port are refused before anything is sent")
{
    sim::module_options mo;
    mo.firmware = sim::esp8266_at_2();
    rig r(mo);
    r.esp.record_transcript(true);
    espat::net::network_options no;
    no.stream_receive = espat::net::receive_mode::active;  // one mode for all links before 3.3: UDP needs active
    r.run(
        [&](client_type& esp, network_type& net) -> awaitable<void> {
            const std::string before = esp.transcript();
            net::server_options so;
            so.ssl = true;
            auto server = co_await net.async_listen(443, so);
            REQUIRE_FALSE(server);
            CHECK(server.error() == espat::make_error_code(espat::errc::not_supported));
            net::udp_options uo;
            uo.mode = espat::udp_mode::changeable;  // needs local_port
            auto udp = co_await net.async_open_udp("127.0.0.1", 9, uo);
            REQUIRE_FALSE(udp);
            CHECK(udp.error() == espat::make_error_code(espat::errc::invalid_argument));
            CHECK(esp.transcript() == before);
        },
        20s, no);
}
