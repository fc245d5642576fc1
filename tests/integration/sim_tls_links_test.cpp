// The simulated module's SSL links and SSL server against loopback TLS peers, its injected
// faults (each present when configured, absent when not), and AT+SAVETRANSLINK's boot into
// passthrough. Every wait is bounded; every port is chosen by the OS.
#include "sim_harness.hpp"
#include "test_certs.hpp"

#include <espat/sim/tls.hpp>

#include <doctest/doctest.h>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using espat::test::sim_harness;
using espat::test::test_certs;
namespace sim = espat::sim;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

using tls_stream = asio::ssl::stream<tcp::socket>;

sim::module_options quiet(sim::module_options o = {})
{
    o.echo = false;
    return o;
}

// The flashed partitions of a module that trusts the test CA and serves with the test server
// certificate; a second CA slot holds an unrelated CA.
std::vector<sim::tls_credentials> flashed_credentials()
{
    const auto& certs = test_certs();
    return {{.ca_certificate = certs.ca,
             .certificate = certs.server.certificate,
             .private_key = certs.server.private_key,
             .psk = std::nullopt},
            {.ca_certificate = certs.unrelated_ca, .certificate = {}, .private_key = {}, .psk = std::nullopt}};
}

std::string ssl_start(std::string_view prefix, std::string_view host, std::uint16_t port)
{
    return std::string(prefix) + "\"SSL\",\"" + std::string(host) + "\"," + std::to_string(port);
}

// A loopback TLS server with the test server certificate that echoes what it gets, and notes
// what each client's handshake carried. State is shared with its coroutines, which may outlive
// the object until the io_context runs them out.
class tls_echo_server {
public:
    struct state {
        explicit state(asio::io_context& io, asio::ssl::context c)
            : context(std::move(c)), acceptor(io, {asio::ip::address_v4::loopback(), 0})
        {
        }
        asio::ssl::context context;
        tcp::acceptor acceptor;
        std::vector<std::shared_ptr<tls_stream>> streams;
        std::vector<std::string> server_names;  // SNI of each completed handshake
        std::vector<std::string> alpn;          // protocol agreed in each completed handshake
        int failed_handshakes = 0;
    };

    tls_echo_server(asio::io_context& io, sim::tls_server_config config = {})
    {
        const auto& certs = test_certs();
        const sim::tls_credentials own{.ca_certificate = certs.ca,
                                       .certificate = certs.server.certificate,
                                       .private_key = certs.server.private_key,
                                       .psk = std::nullopt};
        auto context = sim::make_tls_server_context(config, own);
        REQUIRE(context);
        state_ = std::make_shared<state>(io, std::move(*context));
        asio::co_spawn(io, accept(state_), asio::detached);
    }
    ~tls_echo_server()
    {
        std::error_code ec;
        state_->acceptor.close(ec);
        for (auto& s : state_->streams) s->lowest_layer().close(ec);
    }
    [[nodiscard]] std::uint16_t port() const { return state_->acceptor.local_endpoint().port(); }
    [[nodiscard]] const state& seen() const { return *state_; }

private:
    static asio::awaitable<void> accept(std::shared_ptr<state> s)
    {
        for (;;) {
            auto [ec, socket] = co_await s->acceptor.async_accept(sim::use_tuple);
            if (ec) co_return;
            auto stream = std::make_shared<tls_stream>(std::move(socket), s->context);
            s->streams.push_back(stream);
            auto session = echo(s, stream);
            asio::co_spawn(s->acceptor.get_executor(), std::move(session), asio::detached);
        }
    }
    static asio::awaitable<void> echo(std::shared_ptr<state> s, std::shared_ptr<tls_stream> stream)
    {
        auto [ec] = co_await stream->async_handshake(tls_stream::server, sim::use_tuple);
        if (ec) {
            ++s->failed_handshakes;
            co_return;
        }
        s->server_names.push_back(sim::requested_server_name(stream->native_handle()));
        s->alpn.push_back(sim::negotiated_alpn(stream->native_handle()));
        std::array<char, 2048> buffer;
        for (;;) {
            auto [rec, n] = co_await stream->async_read_some(asio::buffer(buffer), sim::use_tuple);
            if (rec) co_return;
            const std::string copy(buffer.data(), n);
            auto [wec, written] = co_await asio::async_write(*stream, asio::buffer(copy), sim::use_tuple);
            (void)written;
            if (wec) co_return;
        }
    }

    std::shared_ptr<state> state_;
};

// One loopback TLS client of the module's SSL server: handshake, "ping", then read 4 bytes.
struct tls_client_run {
    bool done = false;
    std::error_code error;  // the first step that failed
    std::string received;
};

asio::awaitable<void> run_tls_client(std::shared_ptr<asio::ssl::context> context, std::uint16_t port,
                                     std::shared_ptr<tls_client_run> out)
{
    auto executor = co_await asio::this_coro::executor;
    tls_stream stream(executor, *context);
    const tcp::endpoint server(asio::ip::address_v4::loopback(), port);
    auto [ec] = co_await stream.next_layer().async_connect(server, sim::use_tuple);
    if (!ec) {
        auto [hec] = co_await stream.async_handshake(tls_stream::client, sim::use_tuple);
        ec = hec;
    }
    if (!ec) {
        auto [wec, n] = co_await asio::async_write(stream, asio::buffer(std::string_view("ping")), sim::use_tuple);
        (void)n;
        ec = wec;
    }
    if (!ec) {
        std::string reply(4, '\0');
        auto [rec, n] = co_await asio::async_read(stream, asio::buffer(reply), sim::use_tuple);
        (void)n;
        ec = rec;
        if (!ec) out->received = reply;
    }
    out->error = ec;
    out->done = true;
}

std::shared_ptr<asio::ssl::context> client_context(bool with_certificate)
{
    const auto& certs = test_certs();
    sim::tls_client_config config;
    config.auth = with_certificate ? espat::ssl_auth_mode::mutual : espat::ssl_auth_mode::verify_server;
    const sim::tls_credentials own{.ca_certificate = certs.ca,
                                   .certificate = certs.client.certificate,
                                   .private_key = certs.client.private_key,
                                   .psk = std::nullopt};
    auto context = sim::make_tls_client_context(config, own);
    REQUIRE(context);
    return std::make_shared<asio::ssl::context>(std::move(*context));
}

std::shared_ptr<tls_client_run> start_tls_client(sim_harness& h, bool with_certificate)
{
    auto out = std::make_shared<tls_client_run>();
    REQUIRE(h.module->server_port());
    auto run = run_tls_client(client_context(with_certificate), *h.module->server_port(), out);
    asio::co_spawn(h.io, std::move(run), asio::detached);
    return out;
}

// A plain loopback TCP peer for the fault tests: accepts one connection, keeps what it reads,
// echoes when asked to, and can write or hang up.
class tcp_peer {
public:
    struct state {
        explicit state(asio::io_context& io) : acceptor(io, {asio::ip::address_v4::loopback(), 0}) {}
        tcp::acceptor acceptor;
        std::optional<tcp::socket> socket;
        std::string received;
        bool echo = false;
        bool ended = false;  // the module's side closed
    };

    explicit tcp_peer(asio::io_context& io, bool echo = false) : state_(std::make_shared<state>(io))
    {
        state_->echo = echo;
        asio::co_spawn(io, serve(state_), asio::detached);
    }
    ~tcp_peer() { hang_up(); }

    [[nodiscard]] std::uint16_t port() const { return state_->acceptor.local_endpoint().port(); }
    [[nodiscard]] std::string start_line() const
    {
        return "AT+CIPSTART=\"TCP\",\"127.0.0.1\"," + std::to_string(port());
    }
    [[nodiscard]] const state& seen() const { return *state_; }
    [[nodiscard]] bool connected() const { return state_->socket.has_value(); }
    void write(std::string_view bytes)
    {
        REQUIRE(state_->socket);
        asio::write(*state_->socket, asio::buffer(bytes));
    }
    void hang_up()
    {
        std::error_code ec;
        state_->acceptor.close(ec);
        if (state_->socket) state_->socket->close(ec);
    }

private:
    static asio::awaitable<void> serve(std::shared_ptr<state> s)
    {
        auto [ec, socket] = co_await s->acceptor.async_accept(sim::use_tuple);
        if (ec) co_return;
        s->socket.emplace(std::move(socket));
        std::array<char, 4096> buffer;
        for (;;) {
            auto [rec, n] = co_await s->socket->async_read_some(asio::buffer(buffer), sim::use_tuple);
            if (rec) {
                s->ended = true;
                co_return;
            }
            s->received.append(buffer.data(), n);
            if (!s->echo) continue;
            const std::string copy(buffer.data(), n);
            auto [wec, written] = co_await asio::async_write(*s->socket, asio::buffer(copy), sim::use_tuple);
            (void)written;
            if (wec) co_return;
        }
    }

    std::shared_ptr<state> state_;
};

// What arrives within `d`: used to check that something does not happen.
std::string collect_for(sim_harness& h, std::chrono::milliseconds d)
{
    h.run_for(d);
    return std::exchange(h.received, {});
}

}  // namespace

// ----------------------------------------------------------------------------------------
// SSL client links.

TEST_CASE("SSL client link without authentication: data flows as on TCP, actively and passively")
{
    sim_harness h(quiet());
    tls_echo_server server(h.io);
    CHECK(h.command(ssl_start("AT+CIPSTART=", "127.0.0.1", server.port())) == "CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTATUS").find(",\"SSL\",\"127.0.0.1\"," + std::to_string(server.port())) !=
          std::string::npos);

    CHECK(h.command("AT+CIPSEND=5", ">") == "\r\nOK\r\n\r\n>");
    h.send("hello");
    CHECK(h.until("SEND OK\r\n") == "\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n");
    CHECK(h.until("hello") == "\r\n+IPD,5:hello");

    CHECK(h.command("AT+CIPRECVMODE=1").ends_with("OK\r\n"));
    CHECK(h.command("AT+CIPSEND=5", ">").ends_with(">"));
    h.send("world");
    CHECK(h.until("+IPD,5\r\n").ends_with("SEND OK\r\n\r\n+IPD,5\r\n"));
    CHECK(h.command("AT+CIPRECVDATA=5") == "+CIPRECVDATA:5,world\r\nOK\r\n");
    CHECK(h.command("AT+CIPCLOSE") == "CLOSED\r\n\r\nOK\r\n");
    CHECK(server.seen().failed_handshakes == 0);
}

TEST_CASE("SSL client link verifying the server: the right CA connects, a wrong or missing CA gives ERROR then CLOSED")
{
    sim::module_options options = quiet();
    options.tls = flashed_credentials();
    sim_harness h(options);
    tls_echo_server server(h.io);
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSSLCCONF=0,2,0,0") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSSLCCONF=1,2,0,1") == "\r\nOK\r\n");  // CA slot 1: the unrelated CA
    CHECK(h.command("AT+CIPSSLCCONF=2,2,0,7") == "\r\nOK\r\n");  // CA slot 7: nothing flashed there
    const std::string conf = h.command("AT+CIPSSLCCONF?");
    CHECK(conf.find("+CIPSSLCCONF:0,2,0,0\r\n") != std::string::npos);
    CHECK(conf.find("+CIPSSLCCONF:1,2,0,1\r\n") != std::string::npos);
    CHECK(conf.find("+CIPSSLCCONF:3,0,0,0\r\n") != std::string::npos);

    CHECK(h.command(ssl_start("AT+CIPSTART=0,", "localhost", server.port())) == "0,CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command(ssl_start("AT+CIPSTART=1,", "localhost", server.port()), "1,CLOSED\r\n") ==
          "\r\nERROR\r\n1,CLOSED\r\n");
    CHECK(h.command(ssl_start("AT+CIPSTART=2,", "localhost", server.port()), "2,CLOSED\r\n") ==
          "\r\nERROR\r\n2,CLOSED\r\n");
    // The name checked is the host named, or AT+CIPSSLCCN's.
    CHECK(h.command("AT+CIPSSLCCONF=3,2,0,0") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSSLCCN=3,\"other.example\"") == "\r\nOK\r\n");
    CHECK(h.command(ssl_start("AT+CIPSTART=3,", "localhost", server.port()), "3,CLOSED\r\n") ==
          "\r\nERROR\r\n3,CLOSED\r\n");
    CHECK(h.command("AT+CIPSSLCCN?") == "+CIPSSLCCN:3,\"other.example\"\r\n\r\nOK\r\n");

    CHECK(h.command("AT+CIPSEND=0,4", ">").ends_with(">"));
    h.send("ping");
    CHECK(h.until("ping").ends_with("+IPD,0,4:ping"));
    CHECK(server.seen().failed_handshakes == 2);  // links 1 and 3; link 2 never reached the server
}

TEST_CASE("A module with nothing flashed fails SSL that needs a certificate, and connects without one")
{
    sim_harness h(quiet());
    tls_echo_server server(h.io);
    CHECK(h.command("AT+CIPSSLCCONF=2") == "\r\nOK\r\n");
    CHECK(h.command(ssl_start("AT+CIPSTART=", "localhost", server.port()), "CLOSED\r\n") == "\r\nERROR\r\nCLOSED\r\n");
    CHECK(h.command("AT+CIPSSLCCONF=0") == "\r\nOK\r\n");
    CHECK(h.command(ssl_start("AT+CIPSTARTEX=", "localhost", server.port())) == "CONNECT\r\n\r\nOK\r\n");
}

TEST_CASE("SNI and ALPN, set for one link and for all links, reach the server; the queries answer what was set")
{
    sim::tls_server_config config;
    config.alpn = {"http/1.1"};
    sim_harness h(quiet());
    tls_echo_server server(h.io, config);
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSSLCSNI=5,\"all.example\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSSLCSNI=1,\"one.example\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSSLCALPN=1,2,\"h2\",\"http/1.1\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSSLCPSK=1,\"key\",\"id\"", "ERROR\r\n").ends_with("ERROR\r\n"));  // not on ESP32

    const std::string sni = h.command("AT+CIPSSLCSNI?");
    CHECK(sni.find("+CIPSSLCSNI:0,\"all.example\"\r\n") != std::string::npos);
    CHECK(sni.find("+CIPSSLCSNI:1,\"one.example\"\r\n") != std::string::npos);
    CHECK(sni.find("+CIPSSLCSNI:4,\"all.example\"\r\n") != std::string::npos);
    CHECK(h.command("AT+CIPSSLCALPN?") == "+CIPSSLCALPN:1,\"h2\",\"http/1.1\"\r\n\r\nOK\r\n");

    CHECK(h.command(ssl_start("AT+CIPSTART=0,", "127.0.0.1", server.port())) == "0,CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command(ssl_start("AT+CIPSTART=1,", "127.0.0.1", server.port())) == "1,CONNECT\r\n\r\nOK\r\n");
    REQUIRE(h.run_until([&] { return server.seen().server_names.size() == 2; }));
    CHECK(server.seen().server_names == std::vector<std::string>{"all.example", "one.example"});
    CHECK(server.seen().alpn == std::vector<std::string>{"", "http/1.1"});
}

TEST_CASE("An ESP8266 keeps a PSK per link and answers it back")
{
    sim::module_options options = quiet();
    options.firmware = sim::nonos();
    sim_harness h(options);
    CHECK(h.command("AT+CIPSSLCPSK=\"secret\",\"client-1\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSSLCPSK?").starts_with("+CIPSSLCPSK:0,\"secret\",\"client-1\"\r\n"));
    CHECK(h.command("AT+CIPSERVER=1,0,\"SSL\",0", "ERROR\r\n").ends_with("ERROR\r\n"));  // ESP32 only
}

// ----------------------------------------------------------------------------------------
// The SSL server.

TEST_CASE("SSL server: a TLS client connects and exchanges data; with CA enable only a client with a certificate")
{
    sim::module_options options = quiet();
    options.tls = flashed_credentials();
    options.server_port_override = 0;
    sim_harness h(options);
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSERVER=1,443,\"SSL\",0") == "\r\nOK\r\n");

    auto plain = start_tls_client(h, false);
    CHECK(h.until("ping") == "0,CONNECT\r\n\r\n+IPD,0,4:ping");
    CHECK(h.command("AT+CIPSEND=0,4", ">").ends_with(">"));
    h.send("pong");
    CHECK(h.until("SEND OK\r\n").ends_with("SEND OK\r\n"));
    REQUIRE(h.run_until([&] { return plain->done; }));
    CHECK(plain->received == "pong");
    CHECK(h.until("0,CLOSED\r\n").ends_with("0,CLOSED\r\n"));  // the client's stream went away
    CHECK(h.command("AT+CIPSERVER=0") == "\r\nOK\r\n");

    CHECK(h.command("AT+CIPSERVER=1,443,\"SSL\",1") == "\r\nOK\r\n");
    auto refused = start_tls_client(h, false);
    REQUIRE(h.run_until([&] { return refused->done; }));
    CHECK(refused->error);
    CHECK(collect_for(h, 50ms).find("CONNECT") == std::string::npos);

    auto admitted = start_tls_client(h, true);
    CHECK(h.until("ping") == "0,CONNECT\r\n\r\n+IPD,0,4:ping");
}

TEST_CASE("SSL server without flashed certificates cannot start")
{
    sim::module_options options = quiet();
    options.server_port_override = 0;
    sim_harness h(options);
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSERVER=1,443,\"SSL\",0", "ERROR\r\n") == "\r\nERROR\r\n");
    CHECK_FALSE(h.module->server_port());
}

// ----------------------------------------------------------------------------------------
// Faults: each present when configured, absent by default.

TEST_CASE("Fault spontaneous_reset: after a command the module reboots and its links are gone")
{
    for (const bool faulty : {true, false}) {
        CAPTURE(faulty);
        sim::module_options options = quiet();
        options.faults.spontaneous_reset = faulty ? 1.0 : 0.0;
        sim_harness h(options);
        tcp_peer peer(h.io);
        CHECK(h.command(peer.start_line()) == "CONNECT\r\n\r\nOK\r\n");
        if (faulty) {
            const std::string boot = h.until("WIFI GOT IP\r\n");
            CHECK(boot.starts_with("WIFI DISCONNECT\r\n"));
            CHECK(boot.find("\r\nready\r\n") != std::string::npos);
            REQUIRE(h.run_until([&] { return peer.seen().ended; }));
        } else {
            CHECK(collect_for(h, 150ms).empty());
            CHECK_FALSE(peer.seen().ended);
        }
    }
}

TEST_CASE("Fault send_fail: part of the data goes out, then SEND FAIL")
{
    for (const bool faulty : {true, false}) {
        CAPTURE(faulty);
        sim::module_options options = quiet();
        options.faults.send_fail = faulty ? 1.0 : 0.0;
        sim_harness h(options);
        tcp_peer peer(h.io);
        CHECK(h.command(peer.start_line()) == "CONNECT\r\n\r\nOK\r\n");
        CHECK(h.command("AT+CIPSEND=10", ">").ends_with(">"));
        h.send("0123456789");
        const std::string result = faulty ? "\r\nSEND FAIL\r\n" : "\r\nSEND OK\r\n";
        CHECK(h.until(result) == "\r\nRecv 10 bytes\r\n" + result);
        h.run_for(50ms);
        CHECK(peer.seen().received == (faulty ? "01234" : "0123456789"));
    }
}

TEST_CASE("Fault report_inside_echo: a CLOSED arriving while the host types splits the echo")
{
    for (const bool faulty : {true, false}) {
        CAPTURE(faulty);
        sim::module_options options;
        options.faults.report_inside_echo = faulty ? 1.0 : 0.0;
        sim_harness h(options);
        tcp_peer peer(h.io);
        CHECK(h.command(peer.start_line()).ends_with("CONNECT\r\n\r\nOK\r\n"));
        REQUIRE(h.run_until([&] { return peer.connected(); }));
        h.send("AT+CIPSTATUS");  // no line end yet
        peer.hang_up();
        h.run_for(50ms);
        h.send("\r\n");
        const std::string out = h.until("OK\r\n");
        if (faulty) CHECK(out.starts_with("AT+CIPSCLOSED\r\nTATUS\r\n"));
        else CHECK(out.starts_with("CLOSED\r\nAT+CIPSTATUS\r\n"));
    }
}

TEST_CASE("Fault report_inside_send: +IPD comes between the prompt and Recv; by default after SEND OK")
{
    for (const bool faulty : {true, false}) {
        CAPTURE(faulty);
        sim::module_options options = quiet();
        options.faults.report_inside_send = faulty ? 1.0 : 0.0;
        sim_harness h(options);
        tcp_peer peer(h.io);
        CHECK(h.command(peer.start_line()) == "CONNECT\r\n\r\nOK\r\n");
        REQUIRE(h.run_until([&] { return peer.connected(); }));
        CHECK(h.command("AT+CIPSEND=4", ">").ends_with(">"));
        peer.write("data");
        const std::string during = collect_for(h, 50ms);
        h.send("ping");
        std::string after = h.until("SEND OK\r\n");
        after += collect_for(h, 50ms);
        if (faulty) {
            CHECK(during == "\r\n+IPD,4:data\r\n");
            CHECK(after == "\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
        } else {
            CHECK(during.empty());
            CHECK(after == "\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n\r\n+IPD,4:data\r\n");
        }
    }
}

TEST_CASE("Fault closed_before_data_read: passive mode reports CLOSED before the data is read, once")
{
    for (const bool faulty : {true, false}) {
        CAPTURE(faulty);
        sim::module_options options = quiet();
        options.faults.closed_before_data_read = faulty ? 1.0 : 0.0;
        sim_harness h(options);
        tcp_peer peer(h.io);
        CHECK(h.command("AT+CIPRECVMODE=1") == "\r\nOK\r\n");
        CHECK(h.command(peer.start_line()) == "CONNECT\r\n\r\nOK\r\n");
        REQUIRE(h.run_until([&] { return peer.connected(); }));
        peer.write("abc");
        CHECK(h.until("+IPD,3\r\n") == "\r\n+IPD,3\r\n");
        peer.hang_up();
        CHECK(collect_for(h, 100ms) == (faulty ? "CLOSED\r\n" : ""));
        CHECK(h.command("AT+CIPRECVDATA=3") == "+CIPRECVDATA:3,abc\r\nOK\r\n");
        CHECK(collect_for(h, 50ms) == (faulty ? "" : "CLOSED\r\n"));
        CHECK(h.command("AT+CIPSTATUS").find("+CIPSTATUS:") == std::string::npos);
    }
}

// ----------------------------------------------------------------------------------------
// AT+SAVETRANSLINK.

TEST_CASE("SAVETRANSLINK=1: the next boot connects and is in passthrough without a prompt; +++ ends it")
{
    sim_harness h(quiet());
    tcp_peer peer(h.io, true);
    CHECK(h.command("AT+SAVETRANSLINK=1,\"127.0.0.1\"," + std::to_string(peer.port()) + ",\"TCP\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+RST") == "\r\nOK\r\n");
    const std::string boot = h.until("WIFI GOT IP\r\n");
    CHECK(boot.find("\r\nready\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n") != std::string::npos);
    REQUIRE(h.run_until([&] { return peer.connected(); }));
    h.run_for(20ms);
    h.send("hello");
    CHECK(h.until("hello") == "hello");  // the peer's echo, raw: no +IPD, no prompt before it
    h.run_for(50ms);
    h.send("+++");
    h.run_for(100ms);
    CHECK(h.command("AT+CIPMODE?").ends_with("+CIPMODE:1\r\n\r\nOK\r\n"));  // echo may be back on
    CHECK(peer.seen().received == "hello");
}

TEST_CASE("Without SAVETRANSLINK=1 a reboot opens no link")
{
    sim_harness h(quiet());
    tcp_peer peer(h.io, true);
    CHECK(h.command("AT+SAVETRANSLINK=0,\"127.0.0.1\"," + std::to_string(peer.port()) + ",\"TCP\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+RST") == "\r\nOK\r\n");
    CHECK(h.until("WIFI GOT IP\r\n").ends_with("WIFI GOT IP\r\n"));
    h.run_for(100ms);
    CHECK_FALSE(peer.connected());
    CHECK(h.command("AT+CIPMODE?").ends_with("+CIPMODE:0\r\n\r\nOK\r\n"));
}
