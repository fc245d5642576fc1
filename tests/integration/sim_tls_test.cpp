// The simulator's TLS building blocks over loopback: a server context as AT+CIPSERVER's SSL
// server makes it, a client context and stream as AT+CIPSTART="SSL" makes them from the
// AT+CIPSSLC* settings, and what each side sees of the handshake: certificates checked or not,
// names, SNI, ALPN, client certificates and PSK.
#include <espat/sim/tls.hpp>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include "test_certs.hpp"

#include <chrono>
#include <exception>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using asio::ip::tcp;
using namespace espat;
using namespace espat::sim;

namespace {

using tls_stream = asio::ssl::stream<tcp::socket>;
constexpr auto no_throw = asio::experimental::as_tuple(asio::use_awaitable);

// What one side of a connection saw.
struct side_outcome {
    bool finished = false;
    std::error_code handshake;  // tls_handshake_error() of the handshake's error
    std::error_code exchange;   // the first error after the handshake
    std::string received;
    std::string alpn;
    std::string server_name;  // server: the SNI the client sent
    int tls_version = 0;
    bool closed_cleanly = false;  // server: the client's close_notify arrived as eof
};

struct pair_outcome {
    side_outcome server;
    side_outcome client;
};

// Accepts one client, handshakes, reads "ping", answers "pong", then waits for the client's
// close_notify and answers it.
asio::awaitable<void> serve_once(tcp::acceptor& acceptor, asio::ssl::context& context, side_outcome& out)
{
    auto accepted = co_await acceptor.async_accept(no_throw);
    out.handshake = std::get<0>(accepted);
    if (out.handshake) {
        out.finished = true;
        co_return;
    }
    tls_stream stream(std::move(std::get<1>(accepted)), context);
    auto handshake = co_await stream.async_handshake(tls_stream::server, no_throw);
    out.handshake = tls_handshake_error(std::get<0>(handshake), stream.native_handle());
    out.server_name = requested_server_name(stream.native_handle());
    if (!out.handshake) {
        out.alpn = negotiated_alpn(stream.native_handle());
        out.tls_version = SSL_version(stream.native_handle());
        std::string request(4, '\0');
        auto read = co_await asio::async_read(stream, asio::buffer(request), no_throw);
        out.exchange = std::get<0>(read);
        if (!out.exchange) {
            out.received = request;
            auto written = co_await asio::async_write(stream, asio::buffer(std::string_view("pong")), no_throw);
            out.exchange = std::get<0>(written);
        }
        if (!out.exchange) {
            char byte = 0;
            auto after = co_await stream.async_read_some(asio::buffer(&byte, 1), no_throw);
            out.closed_cleanly = std::get<0>(after) == asio::error::eof;
            auto shutdown = co_await stream.async_shutdown(no_throw);
            out.exchange = std::get<0>(shutdown);
        }
    }
    out.finished = true;
}

// Connects as a module's SSL link would: prepare the stream, handshake, send "ping", read
// "pong", close with close_notify.
asio::awaitable<void> connect_once(tcp::endpoint server, asio::ssl::context& context, const tls_client_config& config,
                                   std::string connect_host, side_outcome& out)
{
    auto executor = co_await asio::this_coro::executor;
    tls_stream stream(executor, context);
    auto connected = co_await stream.lowest_layer().async_connect(server, no_throw);
    out.handshake = std::get<0>(connected);
    if (!out.handshake) out.handshake = prepare_tls_client_stream(stream, config, connect_host);
    if (!out.handshake) {
        auto handshake = co_await stream.async_handshake(tls_stream::client, no_throw);
        out.handshake = tls_handshake_error(std::get<0>(handshake), stream.native_handle());
    }
    if (!out.handshake) {
        out.alpn = negotiated_alpn(stream.native_handle());
        out.tls_version = SSL_version(stream.native_handle());
        auto written = co_await asio::async_write(stream, asio::buffer(std::string_view("ping")), no_throw);
        out.exchange = std::get<0>(written);
        std::string reply(4, '\0');
        if (!out.exchange) {
            auto read = co_await asio::async_read(stream, asio::buffer(reply), no_throw);
            out.exchange = std::get<0>(read);
        }
        if (!out.exchange) {
            out.received = reply;
            auto shutdown = co_await stream.async_shutdown(no_throw);
            out.exchange = std::get<0>(shutdown);
        }
    }
    out.finished = true;
}

void rethrow(std::exception_ptr error)
{
    if (error) std::rethrow_exception(error);
}

// One client against one server on 127.0.0.1, under a deadline.
pair_outcome run_pair(asio::ssl::context& server_context, asio::ssl::context& client_context,
                      const tls_client_config& config, std::string connect_host = "localhost")
{
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    pair_outcome outcome;
    asio::co_spawn(io, serve_once(acceptor, server_context, outcome.server), rethrow);
    asio::co_spawn(io, connect_once(acceptor.local_endpoint(), client_context, config, connect_host, outcome.client),
                   rethrow);
    io.run_for(10s);
    REQUIRE(io.stopped());
    REQUIRE(outcome.server.finished);
    REQUIRE(outcome.client.finished);
    return outcome;
}

asio::ssl::context context_or_fail(tl::expected<asio::ssl::context, std::error_code> made)
{
    if (!made) FAIL("making the context failed: " << made.error().message());
    return std::move(*made);
}

void require_exchange(const pair_outcome& outcome)
{
    INFO("server handshake: " << outcome.server.handshake.message());
    INFO("client handshake: " << outcome.client.handshake.message());
    REQUIRE_FALSE(outcome.server.handshake);
    REQUIRE_FALSE(outcome.client.handshake);
    CHECK_FALSE(outcome.server.exchange);
    CHECK_FALSE(outcome.client.exchange);
    CHECK(outcome.server.received == "ping");
    CHECK(outcome.client.received == "pong");
}

bool is_verify_error(std::error_code ec, int x509_error)
{
    return ec.category() == tls_verify_category() && ec.value() == x509_error;
}

// The module's flashed partitions: the test CA, and the client certificate it signed.
tls_credentials module_credentials()
{
    const auto& certs = espat::test::test_certs();
    return {.ca_certificate = certs.ca,
            .certificate = certs.client.certificate,
            .private_key = certs.client.private_key,
            .psk = std::nullopt};
}

tls_credentials server_credentials()
{
    const auto& certs = espat::test::test_certs();
    return {.ca_certificate = certs.ca,
            .certificate = certs.server.certificate,
            .private_key = certs.server.private_key,
            .psk = std::nullopt};
}

tls_client_config verifying_client()
{
    tls_client_config config;
    config.auth = ssl_auth_mode::verify_server;
    return config;
}

}  // namespace

TEST_CASE("sim tls: without authentication the handshake succeeds and data flows both ways")
{
    auto server = context_or_fail(make_tls_server_context({}, server_credentials()));
    const tls_client_config config;  // auth mode 0
    auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
    const pair_outcome outcome = run_pair(server, client, config);
    require_exchange(outcome);
    CHECK(outcome.server.closed_cleanly);
    CHECK(outcome.client.tls_version == TLS1_3_VERSION);
}

TEST_CASE("sim tls: without authentication a certificate of an unknown CA is accepted")
{
    tls_credentials unrelated = module_credentials();
    unrelated.ca_certificate = espat::test::test_certs().unrelated_ca;
    auto server = context_or_fail(make_tls_server_context({}, server_credentials()));
    tls_client_config config;
    config.common_name = "not.the.server.example";  // checked only when verifying: auth 2 or 3
    auto client = context_or_fail(make_tls_client_context(config, unrelated));
    require_exchange(run_pair(server, client, config));
}

TEST_CASE("sim tls: the client verifies the server against the flashed CA")
{
    auto server = context_or_fail(make_tls_server_context({}, server_credentials()));
    const tls_client_config config = verifying_client();

    SUBCASE("the right CA, connecting by name") {
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        require_exchange(run_pair(server, client, config, "localhost"));
    }
    SUBCASE("the right CA, connecting by IP address: the IP subjectAltName matches") {
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        require_exchange(run_pair(server, client, config, "127.0.0.1"));
    }
    SUBCASE("an unrelated CA: the handshake fails and says the issuer is unknown") {
        tls_credentials wrong = module_credentials();
        wrong.ca_certificate = espat::test::test_certs().unrelated_ca;
        auto client = context_or_fail(make_tls_client_context(config, wrong));
        const pair_outcome outcome = run_pair(server, client, config);
        INFO("client: " << outcome.client.handshake.message());
        CHECK(is_verify_error(outcome.client.handshake, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY));
        CHECK(outcome.server.handshake);
        CHECK(outcome.server.received.empty());
    }
}

TEST_CASE("sim tls: AT+CIPSSLCCN's common name is checked against the server's certificate")
{
    auto server = context_or_fail(make_tls_server_context({}, server_credentials()));
    tls_client_config config = verifying_client();

    SUBCASE("matching: the certificate is for localhost, whatever address was dialled") {
        config.common_name = "localhost";
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        require_exchange(run_pair(server, client, config, "127.0.0.1"));
    }
    SUBCASE("mismatching: the handshake fails with a host name mismatch") {
        config.common_name = "iot.espressif.example";
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        const pair_outcome outcome = run_pair(server, client, config, "localhost");
        INFO("client: " << outcome.client.handshake.message());
        CHECK(is_verify_error(outcome.client.handshake, X509_V_ERR_HOSTNAME_MISMATCH));
        CHECK(outcome.server.handshake);
    }
    SUBCASE("a certificate without subjectAltName: its commonName is what is matched") {
        tls_credentials cn_only = server_credentials();
        cn_only.certificate = espat::test::test_certs().cn_only.certificate;
        cn_only.private_key = espat::test::test_certs().cn_only.private_key;
        auto cn_only_server = context_or_fail(make_tls_server_context({}, cn_only));
        config.common_name = "cn-only.localhost";
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        require_exchange(run_pair(cn_only_server, client, config, "127.0.0.1"));
        config.common_name = "localhost";
        auto mismatching = context_or_fail(make_tls_client_context(config, module_credentials()));
        const pair_outcome outcome = run_pair(cn_only_server, mismatching, config, "127.0.0.1");
        CHECK(is_verify_error(outcome.client.handshake, X509_V_ERR_HOSTNAME_MISMATCH));
    }
    SUBCASE("no common name set: the dialled host is checked") {
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        const pair_outcome outcome = run_pair(server, client, config, "other.example");
        CHECK(is_verify_error(outcome.client.handshake, X509_V_ERR_HOSTNAME_MISMATCH));
    }
}

TEST_CASE("sim tls: the server sees the SNI the client sends")
{
    std::vector<std::string> seen;
    tls_server_config server_config;
    server_config.on_server_name = [&seen](std::string_view name) { seen.emplace_back(name); };
    auto server = context_or_fail(make_tls_server_context(server_config, server_credentials()));
    tls_client_config config;

    SUBCASE("AT+CIPSSLCSNI's name") {
        config.server_name = "device.espat.example";
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        const pair_outcome outcome = run_pair(server, client, config, "localhost");
        require_exchange(outcome);
        CHECK(seen == std::vector<std::string>{"device.espat.example"});
        CHECK(outcome.server.server_name == "device.espat.example");
    }
    SUBCASE("no SNI set: the dialled host name") {
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        const pair_outcome outcome = run_pair(server, client, config, "localhost");
        require_exchange(outcome);
        CHECK(seen == std::vector<std::string>{"localhost"});
    }
    SUBCASE("no SNI set and an IP address dialled: no SNI at all (RFC 6066)") {
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        const pair_outcome outcome = run_pair(server, client, config, "127.0.0.1");
        require_exchange(outcome);
        CHECK(seen.empty());
        CHECK(outcome.server.server_name.empty());
    }
}

TEST_CASE("sim tls: ALPN: the server picks its preferred protocol among those offered")
{
    tls_server_config server_config;
    server_config.alpn = {"h2", "http/1.1"};
    auto server = context_or_fail(make_tls_server_context(server_config, server_credentials()));
    tls_client_config config;

    SUBCASE("both offered, in the client's other order: h2") {
        config.alpn = {"http/1.1", "h2"};
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        const pair_outcome outcome = run_pair(server, client, config);
        require_exchange(outcome);
        CHECK(outcome.server.alpn == "h2");
        CHECK(outcome.client.alpn == "h2");
    }
    SUBCASE("only http/1.1 offered") {
        config.alpn = {"http/1.1"};
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        const pair_outcome outcome = run_pair(server, client, config);
        require_exchange(outcome);
        CHECK(outcome.client.alpn == "http/1.1");
    }
    SUBCASE("no overlap: the handshake goes on without ALPN") {
        config.alpn = {"mqtt"};
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        const pair_outcome outcome = run_pair(server, client, config);
        require_exchange(outcome);
        CHECK(outcome.client.alpn.empty());
        CHECK(outcome.server.alpn.empty());
    }
}

TEST_CASE("sim tls: a server with <SSL CA enable> requires a client certificate its CA signed")
{
    tls_server_config server_config;
    server_config.apply(cipserver_ssl_request{.mode = server_mode::create, .port = 0, .ca_enable = true});
    REQUIRE(server_config.verify_clients);
    auto server = context_or_fail(make_tls_server_context(server_config, server_credentials()));

    SUBCASE("auth mode 3: the client presents its certificate and checks the server's") {
        tls_client_config config;
        config.auth = ssl_auth_mode::mutual;
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        require_exchange(run_pair(server, client, config));
    }
    SUBCASE("pki and ca numbers pick the flashed partitions") {
        const auto& certs = espat::test::test_certs();
        const std::vector<tls_credentials> flashed{
            {.ca_certificate = certs.unrelated_ca, .certificate = certs.server.certificate,
             .private_key = certs.server.private_key, .psk = std::nullopt},
            {.ca_certificate = certs.unrelated_ca, .certificate = certs.client.certificate,
             .private_key = certs.client.private_key, .psk = std::nullopt},
            {.ca_certificate = certs.ca, .certificate = {}, .private_key = {}, .psk = std::nullopt},
        };
        tls_client_config config;
        config.apply(cipsslcconf_request{.auth = ssl_auth_mode::mutual, .pki_number = 1, .ca_number = 2});
        auto client = context_or_fail(make_tls_client_context(config, flashed));
        require_exchange(run_pair(server, client, config));
    }
    SUBCASE("auth mode 2: no client certificate, the server refuses") {
        const tls_client_config config = verifying_client();
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        const pair_outcome outcome = run_pair(server, client, config);
        INFO("server: " << outcome.server.handshake.message());
        CHECK(outcome.server.handshake);
        CHECK(outcome.server.received.empty());
        // TLS 1.3: the client's handshake ends before the server has judged its (empty)
        // certificate, so the refusal reaches the client as an alert on its next read.
        CHECK((outcome.client.handshake || outcome.client.exchange));
        CHECK(outcome.client.received.empty());
    }
}

TEST_CASE("sim tls: AT+CIPSSLCPSK: a TLS 1.2 PSK handshake")
{
    tls_credentials with_psk = server_credentials();
    with_psk.psk = tls_psk{.identity = "espat-module", .key = "0123456789abcdef"};
    auto server = context_or_fail(make_tls_server_context({}, with_psk));
    tls_client_config config;

    SUBCASE("the right key") {
        config.apply(cipsslcpsk_request{.psk = std::string("0123456789abcdef"), .hint = std::string("espat-module")});
        REQUIRE(config.psk);
        CHECK(config.psk->identity == "espat-module");
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        const pair_outcome outcome = run_pair(server, client, config);
        require_exchange(outcome);
        CHECK(outcome.client.tls_version == TLS1_2_VERSION);
    }
    SUBCASE("a wrong key: both handshakes fail") {
        config.apply(cipsslcpsk_request{.psk = std::string("fedcba9876543210"), .hint = std::string("espat-module")});
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        const pair_outcome outcome = run_pair(server, client, config);
        CHECK(outcome.server.handshake);
        CHECK(outcome.client.handshake);
    }
    SUBCASE("an unknown identity: both handshakes fail") {
        config.apply(cipsslcpsk_request{.psk = std::string("0123456789abcdef"), .hint = std::string("stranger")});
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        const pair_outcome outcome = run_pair(server, client, config);
        CHECK(outcome.server.handshake);
        CHECK(outcome.client.handshake);
    }
}

TEST_CASE("sim tls: the AT+CIPSSLC* requests land in the link's client settings")
{
    tls_client_config config;
    config.apply(cipsslcconf_request{.auth = ssl_auth_mode::mutual, .pki_number = 1, .ca_number = 2});
    config.apply(cipsslccn_request{.common_name = std::string("broker.example")});
    config.apply(cipsslcsni_request{.server_name = std::string("sni.example")});
    config.apply(cipsslcalpn_request{.protocols = alpn_list{"mqtt", "h2"}});
    CHECK(config.auth == ssl_auth_mode::mutual);
    CHECK(config.pki_number == 1);
    CHECK(config.ca_number == 2);
    CHECK(config.common_name == "broker.example");
    CHECK(config.server_name == "sni.example");
    CHECK(config.alpn == alpn_list{"mqtt", "h2"});
    CHECK(config.verifies_server());
    CHECK(config.presents_certificate());

    // Mode 0 needs no indexes: omitted ones go back to 0.
    config.apply(cipsslcconf_request{.auth = ssl_auth_mode::none});
    CHECK(config.pki_number == 0);
    CHECK_FALSE(config.verifies_server());
}

TEST_CASE("sim tls: settings that cannot work are refused with invalid_argument, not thrown")
{
    const std::error_code invalid = make_error_code(errc::invalid_argument);

    SUBCASE("a CA index past the flashed partitions") {
        tls_client_config config = verifying_client();
        config.ca_number = 1;
        const auto made = make_tls_client_context(config, module_credentials());
        REQUIRE_FALSE(made);
        CHECK(made.error() == invalid);
    }
    SUBCASE("auth mode 1 with no certificate flashed") {
        tls_client_config config;
        config.auth = ssl_auth_mode::client_certificate;
        const auto made = make_tls_client_context(config, tls_credentials{});
        REQUIRE_FALSE(made);
        CHECK(made.error() == invalid);
    }
    SUBCASE("a malformed PEM certificate: OpenSSL's own error") {
        tls_credentials broken = module_credentials();
        broken.ca_certificate = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
        const auto made = make_tls_client_context(verifying_client(), broken);
        REQUIRE_FALSE(made);
        CHECK(made.error() != invalid);
        CHECK(made.error());
    }
    SUBCASE("an ALPN name longer than 255 bytes") {
        tls_client_config config;
        config.alpn = {std::string(256, 'a')};
        auto client = context_or_fail(make_tls_client_context(config, module_credentials()));
        asio::io_context io;
        tls_stream stream(io, client);
        CHECK(prepare_tls_client_stream(stream, config) == invalid);
    }
    SUBCASE("a server with neither certificate nor PSK") {
        const auto made = make_tls_server_context({}, tls_credentials{});
        REQUIRE_FALSE(made);
        CHECK(made.error() == invalid);
    }
    SUBCASE("a server checking clients without a CA") {
        tls_credentials no_ca = server_credentials();
        no_ca.ca_certificate.clear();
        tls_server_config config;
        config.verify_clients = true;
        const auto made = make_tls_server_context(config, no_ca);
        REQUIRE_FALSE(made);
        CHECK(made.error() == invalid);
    }
}
