// The simulated module's TCP/IP commands against real loopback sockets: client and server
// links, UDP, sending (CIPSEND, CIPSENDEX escapes), passive receive with back-pressure,
// passthrough, status, DNS, faults. Every wait is bounded; every port is chosen by the OS.
#include "loopback.hpp"
#include "sim_harness.hpp"

#include <doctest/doctest.h>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/read.hpp>

#include <memory>
#include <regex>
#include <string>

using espat::test::quiet;
using espat::test::sim_harness;
namespace sim = espat::sim;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

// A loopback TCP server that echoes what it gets; a read of "close" makes it hang up instead.
struct echo_server {
    explicit echo_server(asio::io_context& io) : acceptor(io, {asio::ip::address_v4::loopback(), 0})
    {
        asio::co_spawn(io, accept(), asio::detached);
    }
    ~echo_server()
    {
        std::error_code ec;
        acceptor.close(ec);
    }
    [[nodiscard]] std::uint16_t port() const { return acceptor.local_endpoint().port(); }
    [[nodiscard]] std::string start_line(std::string_view prefix = "AT+CIPSTART=") const
    {
        return std::string(prefix) + "\"TCP\",\"127.0.0.1\"," + std::to_string(port());
    }
    asio::awaitable<void> accept()
    {
        for (;;) {
            auto [ec, s] = co_await acceptor.async_accept(sim::use_tuple);
            if (ec) co_return;
            asio::co_spawn(acceptor.get_executor(), session(std::move(s)), asio::detached);
        }
    }
    static asio::awaitable<void> session(tcp::socket s)
    {
        std::array<char, 4096> b;
        for (;;) {
            auto [ec, n] = co_await s.async_read_some(asio::buffer(b), sim::use_tuple);
            if (ec || std::string_view(b.data(), n) == "close") co_return;
            auto [wec, wn] = co_await asio::async_write(s, asio::buffer(b.data(), n), sim::use_tuple);
            if (wec) co_return;
        }
    }
    tcp::acceptor acceptor;
};

// A connected loopback client of the module's server, reading into `got`.
struct test_client {
    test_client(asio::io_context& io, std::uint16_t port) : socket(io)
    {
        socket.connect({asio::ip::address_v4::loopback(), port});
        asio::co_spawn(io, read(), asio::detached);
    }
    asio::awaitable<void> read()
    {
        std::array<char, 4096> b;
        for (;;) {
            auto [ec, n] = co_await socket.async_read_some(asio::buffer(b), sim::use_tuple);
            // Aborted: this client was destroyed, and the harness drains its io_context after that.
            if (ec == asio::error::operation_aborted) co_return;
            if (ec) {
                eof = true;
                co_return;
            }
            got.append(b.data(), n);
        }
    }
    tcp::socket socket;
    std::string got;
    bool eof = false;
};

}  // namespace

TEST_CASE("TCP client in single mode: CONNECT, data both ways byte-exact, CLOSED (transcript 01)")
{
    sim_harness h(quiet());
    echo_server server(h.io);
    CHECK(h.command(server.start_line()) == "CONNECT\r\n\r\nOK\r\n");
    const std::string payload = "x\r\nOK\r\n>+IPD,9:y";  // looks like protocol, must not be read as it
    h.send("AT+CIPSEND=" + std::to_string(payload.size()) + "\r\n");
    CHECK(h.until(">") == "\r\nOK\r\n\r\n>");
    h.send(payload);
    const std::string size = std::to_string(payload.size());
    CHECK(h.until("SEND OK\r\n") == "\r\nRecv " + size + " bytes\r\n\r\nSEND OK\r\n");
    CHECK(h.until(payload + "\r\n") == "\r\n+IPD," + size + ":" + payload + "\r\n");
    CHECK(h.command("AT+CIPCLOSE") == "CLOSED\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTATUS") == "STATUS:4\r\n\r\nOK\r\n");
}

TEST_CASE("the peer closing a link is reported CLOSED; sending on it then is not valid")
{
    sim_harness h(quiet());
    echo_server server(h.io);
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command(server.start_line("AT+CIPSTART=2,")) == "2,CONNECT\r\n\r\nOK\r\n");
    h.send("AT+CIPSEND=2,5\r\n");
    CHECK(h.until(">") == "\r\nOK\r\n\r\n>");
    h.send("close");
    CHECK(h.until("2,CLOSED\r\n") == "\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n2,CLOSED\r\n");
    CHECK(h.command("AT+CIPSEND=2,5", "ERROR\r\n") == "link is not valid\r\n\r\nERROR\r\n");
}

TEST_CASE("connection failures: ERROR then CLOSED; ALREADY CONNECTED; CIPSTARTEX picks an id")
{
    sim_harness h(quiet());
    echo_server server(h.io);
    tcp::acceptor closed_port(h.io, {asio::ip::address_v4::loopback(), 0});
    const auto dead = closed_port.local_endpoint().port();
    closed_port.close();
    CHECK(h.command("AT+CIPSTART=\"TCP\",\"127.0.0.1\"," + std::to_string(dead), "CLOSED\r\n") ==
          "\r\nERROR\r\nCLOSED\r\n");
    CHECK(h.command(server.start_line()) == "CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command(server.start_line(), "ERROR\r\n") == "ALREADY CONNECTED\r\n\r\nERROR\r\n");
    CHECK(h.command("AT+CIPCLOSE") == "CLOSED\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command(server.start_line("AT+CIPSTART=0,")) == "0,CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command(server.start_line("AT+CIPSTARTEX=")) == "1,CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTART=\"SSL\",\"127.0.0.1\",443", "ERROR\r\n") == "\r\nERROR\r\n");  // no link id in mux mode
    CHECK(h.command("AT+CIPCLOSE=5") == "0,CLOSED\r\n1,CLOSED\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPCLOSE=3", "ERROR\r\n") == "\r\nERROR\r\n");
}

TEST_CASE("CIPMUX rules: server needs mux 1, mux is fixed while links or a server exist, passthrough needs mux 0")
{
    sim_harness h(quiet());
    echo_server server(h.io);
    CHECK(h.command("AT+CIPSERVER=1,0", "ERROR\r\n") == "\r\nERROR\r\n");
    CHECK(h.command(server.start_line()) == "CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPMUX=1", "ERROR\r\n").ends_with("\r\nERROR\r\n"));
    CHECK(h.command("AT+CIPCLOSE") == "CLOSED\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPMODE=1", "ERROR\r\n") == "\r\nERROR\r\n");
    CHECK(h.command("AT+CIPSERVER=1,0") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPMUX=0", "ERROR\r\n") == "\r\nERROR\r\n");
    CHECK(h.command("AT+CIPSERVER=0") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSERVER=0") == "no change\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPMUX=0") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPMODE=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPMUX=1", "ERROR\r\n") == "\r\nERROR\r\n");
}

TEST_CASE("CIPSERVER accepts real loopback clients: CONNECT, +IPD, CIPSEND, CIPCLOSE (transcript 02)")
{
    sim_harness h(quiet());
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSERVERMAXCONN=2") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSERVER=1,0") == "\r\nOK\r\n");
    REQUIRE(h.module->server_port());
    test_client a(h.io, *h.module->server_port());
    CHECK(h.until("0,CONNECT\r\n") == "0,CONNECT\r\n");
    test_client b(h.io, *h.module->server_port());
    CHECK(h.until("1,CONNECT\r\n") == "1,CONNECT\r\n");
    test_client c(h.io, *h.module->server_port());  // over CIPSERVERMAXCONN: turned away
    CHECK(h.run_until([&] { return c.eof; }));
    asio::write(b.socket, asio::buffer(std::string("test")));
    CHECK(h.until("test\r\n") == "\r\n+IPD,1,4:test\r\n");
    h.send("AT+CIPSEND=0,4\r\n");
    CHECK(h.until(">") == "\r\nOK\r\n\r\n>");
    h.send("ping");
    CHECK(h.until("SEND OK\r\n") == "\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
    CHECK(h.run_until([&] { return a.got == "ping"; }));
    const std::string status = h.command("AT+CIPSTATUS");
    CHECK(status.starts_with("STATUS:3\r\n+CIPSTATUS:0,\"TCP\",\"127.0.0.1\","));
    CHECK(status.find(",1\r\n+CIPSTATUS:1,\"TCP\",\"127.0.0.1\",") != std::string::npos);
    CHECK(h.command("AT+CIPCLOSE=0") == "0,CLOSED\r\n\r\nOK\r\n");
    CHECK(h.run_until([&] { return a.eof; }));
}

TEST_CASE("AT+CIPSTO closes a server's idle client")
{
    sim_harness h(quiet());
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTO=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTO?") == "+CIPSTO:1\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSERVER=1,0") == "\r\nOK\r\n");
    test_client a(h.io, *h.module->server_port());
    CHECK(h.until("0,CONNECT\r\n") == "0,CONNECT\r\n");
    const auto start = std::chrono::steady_clock::now();
    CHECK(h.until("0,CLOSED\r\n", std::chrono::seconds(3)) == "0,CLOSED\r\n");
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(800));
    CHECK(h.run_until([&] { return a.eof; }));
}

TEST_CASE("SYSMSG bit 1 announces links with +LINK_CONN; CIPDINFO adds the remote to +IPD")
{
    sim_harness h(quiet());
    echo_server server(h.io);
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+SYSMSG=2") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPDINFO=1") == "\r\nOK\r\n");
    const std::string connect = h.command(server.start_line("AT+CIPSTARTEX="));
    const std::string prefix = "+LINK_CONN:0,0,\"TCP\",0,\"127.0.0.1\"," + std::to_string(server.port()) + ",";
    CHECK(connect.starts_with(prefix));
    CHECK(connect.ends_with("\r\n\r\nOK\r\n"));
    h.send("AT+CIPSEND=0,3\r\n");
    h.until(">");
    h.send("abc");
    h.until("SEND OK\r\n");
    CHECK(h.until("abc\r\n") == "\r\n+IPD,0,3,\"127.0.0.1\"," + std::to_string(server.port()) + ":abc\r\n");
}

TEST_CASE("UDP: send to the fixed remote and to another one, receive datagrams (transcripts 03, 04)")
{
    sim_harness h(quiet());
    udp::socket peer(h.io, {asio::ip::address_v4::loopback(), 0});
    udp::socket other(h.io, {asio::ip::address_v4::loopback(), 0});
    const auto port = peer.local_endpoint().port();
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTART=4,\"UDP\",\"127.0.0.1\"," + std::to_string(port) + ",0,2") == "4,CONNECT\r\n\r\nOK\r\n");
    h.send("AT+CIPSEND=4,7\r\n");
    CHECK(h.until(">") == "\r\nOK\r\n\r\n>");
    h.send("abcdefg");
    CHECK(h.until("SEND OK\r\n") == "\r\nRecv 7 bytes\r\n\r\nSEND OK\r\n");
    std::array<char, 64> b;
    udp::endpoint module_end;
    bool got = false;
    std::size_t n = 0;
    peer.async_receive_from(asio::buffer(b), module_end, [&](std::error_code, std::size_t k) { got = true, n = k; });
    REQUIRE(h.run_until([&] { return got; }));
    CHECK(std::string(b.data(), n) == "abcdefg");
    peer.send_to(asio::buffer(std::string("test")), module_end);
    CHECK(h.until("test\r\n") == "\r\n+IPD,4,4:test\r\n");
    h.send("AT+CIPSEND=4,2,\"127.0.0.1\"," + std::to_string(other.local_endpoint().port()) + "\r\n");
    h.until(">");
    h.send("hi");
    CHECK(h.until("SEND OK\r\n") == "\r\nRecv 2 bytes\r\n\r\nSEND OK\r\n");
    got = false;
    other.async_receive_from(asio::buffer(b), module_end, [&](std::error_code, std::size_t k) { got = true, n = k; });
    REQUIRE(h.run_until([&] { return got; }));
    CHECK(std::string(b.data(), n) == "hi");
    // Mode 2: the remote is now `other`.
    CHECK(h.command("AT+CIPSTATUS").find("+CIPSTATUS:4,\"UDP\",\"127.0.0.1\"," +
                                         std::to_string(other.local_endpoint().port())) != std::string::npos);
    CHECK(h.command("AT+CIPCLOSE=4") == "4,CLOSED\r\n\r\nOK\r\n");
}

TEST_CASE("CIPSENDEX: \\0 ends the data early, \\<c> sends c (\\\\0 a literal \\0); Recv counts what is sent")
{
    sim_harness h(quiet());
    echo_server server(h.io);
    CHECK(h.command(server.start_line()) == "CONNECT\r\n\r\nOK\r\n");
    h.send("AT+CIPSENDEX=20\r\n");
    CHECK(h.until(">") == "\r\nOK\r\n\r\n>");
    h.send("ab\\\\0c");  // split inside nothing special
    h.send("d\\");       // an escape split across writes
    h.send("0");
    CHECK(h.until("SEND OK\r\n") == "\r\nRecv 6 bytes\r\n\r\nSEND OK\r\n");
    CHECK(h.until("cd\r\n") == "\r\n+IPD,6:ab\\0cd\r\n");
    CHECK(h.command("AT") == "\r\nOK\r\n");  // back in command mode
    h.send("AT+CIPSENDEX=4\r\n");
    h.until(">");
    h.send("a\\b\\");  // full length: backslash-b is b; a backslash with nothing after it is itself
    CHECK(h.until("SEND OK\r\n") == "\r\nRecv 3 bytes\r\n\r\nSEND OK\r\n");
    CHECK(h.until("\r\n+IPD,3:ab\\\r\n") == "\r\n+IPD,3:ab\\\r\n");
}

TEST_CASE("CIPSEND refuses more than the personality's limit")
{
    sim_harness h(quiet());
    echo_server server(h.io);
    CHECK(h.command(server.start_line()) == "CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSEND=2049", "ERROR\r\n") == "\r\nERROR\r\n");
    CHECK(h.command("AT+CIPSEND=2048") == "\r\nOK\r\n");
}

TEST_CASE("passive receive: notifications, CIPRECVLEN, CIPRECVDATA, CLOSED after the data is read (transcript 08)")
{
    sim_harness h(quiet());
    echo_server server(h.io);
    CHECK(h.command("AT+CIPRECVMODE=1") == "\r\nOK\r\n");
    CHECK(h.command(server.start_line()) == "CONNECT\r\n\r\nOK\r\n");
    h.send("AT+CIPSEND=4\r\n");
    h.until(">");
    h.send("test");
    h.until("SEND OK\r\n");
    CHECK(h.until("+IPD,4\r\n") == "\r\n+IPD,4\r\n");
    CHECK(h.command("AT+CIPRECVLEN?") == "+CIPRECVLEN:4\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPRECVDATA=3") == "+CIPRECVDATA:3,tes\r\nOK\r\n");
    CHECK(h.command("AT+CIPDINFO=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPRECVDATA=100") ==
          "+CIPRECVDATA:1,\"127.0.0.1\"," + std::to_string(server.port()) + ",t\r\nOK\r\n");
    CHECK(h.command("AT+CIPRECVDATA=100", "ERROR\r\n") == "\r\nERROR\r\n");
    // The peer hangs up with data still buffered: CLOSED only once it is read.
    h.send("AT+CIPSEND=4\r\n");
    h.until(">");
    h.send("more");
    h.until("SEND OK\r\n");
    CHECK(h.until("+IPD,4\r\n") == "\r\n+IPD,4\r\n");
    h.send("AT+CIPSEND=5\r\n");
    h.until(">");
    h.send("close");
    h.until("SEND OK\r\n");
    h.run_for(std::chrono::milliseconds(50));
    CHECK(h.received.empty());
    CHECK(h.command("AT+CIPRECVDATA=100", "CLOSED\r\n") ==
          "+CIPRECVDATA:4,\"127.0.0.1\"," + std::to_string(server.port()) + ",more\r\nOK\r\nCLOSED\r\n");
}

TEST_CASE("passive receive with back-pressure: 1 MB arrives in order, never more than 5744 bytes buffered")
{
    sim_harness h(quiet());
    tcp::acceptor acceptor(h.io, {asio::ip::address_v4::loopback(), 0});
    std::string sent(1 << 20, '\0');
    for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
    bool sender_done = false;
    asio::co_spawn(h.io, [&]() -> asio::awaitable<void> {
        auto [ec, s] = co_await acceptor.async_accept(sim::use_tuple);
        if (ec) co_return;
        auto [wec, n] = co_await asio::async_write(s, asio::buffer(sent), sim::use_tuple);
        (void)wec;
        (void)n;
        sender_done = true;
        std::array<char, 16> b;
        auto [rec, rn] = co_await s.async_read_some(asio::buffer(b), sim::use_tuple);  // until the module closes
        (void)rec;
        (void)rn;
    }, asio::detached);
    CHECK(h.command("AT+CIPRECVMODE=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTART=\"TCP\",\"127.0.0.1\"," + std::to_string(acceptor.local_endpoint().port())) ==
          "CONNECT\r\n\r\nOK\r\n");
    std::string got;
    static const std::regex notification("\r\n\\+IPD,[0-9]+\r\n");
    int rounds = 0;
    while (got.size() < sent.size() && rounds++ < 20000) {
        h.send("AT+CIPRECVDATA=2048\r\n");
        // Read one answer: skip notifications, then a frame or ERROR.
        REQUIRE(h.run_until([&] {
            const std::string clean = std::regex_replace(h.received, notification, "");
            return clean.find("\r\nOK\r\n") != std::string::npos || clean.find("ERROR\r\n") != std::string::npos;
        }));
        std::string clean = std::regex_replace(h.received, notification, "");
        h.received.clear();
        if (clean.find("ERROR\r\n") != std::string::npos && clean.find("+CIPRECVDATA:") == std::string::npos) {
            h.run_for(std::chrono::milliseconds(2));  // nothing buffered yet
            continue;
        }
        const std::size_t head = clean.find("+CIPRECVDATA:");
        REQUIRE(head != std::string::npos);
        const std::size_t comma = clean.find(',', head);
        const std::size_t n = std::stoul(clean.substr(head + 13, comma - head - 13));
        REQUIRE(n <= 2048);
        got += clean.substr(comma + 1, n);
        REQUIRE(clean.substr(comma + 1 + n) == "\r\nOK\r\n");
    }
    CHECK(got.size() == sent.size());
    CHECK(got == sent);
    CHECK(sender_done);
    CHECK(h.module->max_buffered_seen() <= sim::passive_buffer_limit);
    CHECK(h.module->max_buffered_seen() > 0);
}

TEST_CASE("passthrough: raw bytes both ways, +++ alone ends it (transcript 07)")
{
    sim_harness h(quiet());
    echo_server server(h.io);
    CHECK(h.command(server.start_line()) == "CONNECT\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPMODE=1") == "\r\nOK\r\n");
    h.send("AT+CIPSEND\r\n");
    CHECK(h.until(">") == "\r\nOK\r\n\r\n>");
    h.send("hello\r\nAT\r\n");
    CHECK(h.until("AT\r\n") == "hello\r\nAT\r\n");  // echoed by the server, not answered
    h.run_for(std::chrono::milliseconds(40));
    h.send("+++");
    h.run_for(std::chrono::milliseconds(60));
    CHECK(h.received.empty());
    CHECK(h.command("AT+CIPMODE=0") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPCLOSE") == "CLOSED\r\n\r\nOK\r\n");
}

TEST_CASE("CIPDOMAIN uses the host resolver; CIPDNS, CIPSNTPTIME, PING answer in the table's forms")
{
    sim_harness h(quiet());
    CHECK(h.command("AT+CIPDOMAIN=\"localhost\"") == "+CIPDOMAIN:\"127.0.0.1\"\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPDOMAIN=\"no-such-host.invalid\"", "ERROR\r\n") == "\r\nERROR\r\n");
    CHECK(h.command("AT+CIPDNS=1,\"1.1.1.1\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPDNS?") == "+CIPDNS:1,\"1.1.1.1\"\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSNTPTIME?") == "+CIPSNTPTIME:Thu Jan  1 00:00:00 1970\r\nOK\r\n");
    CHECK(h.command("AT+CIPSNTPCFG=1,8,\"cn.ntp.org.cn\",\"ntp.sjtu.edu.cn\"") == "\r\nOK\r\n");
    const std::string t = h.command("AT+CIPSNTPTIME?");
    CHECK(t.starts_with("+CIPSNTPTIME:"));
    CHECK(t.find(" 1970") == std::string::npos);
    const std::string ping = h.command("AT+PING=\"127.0.0.1\"");
    CHECK(std::regex_match(ping, std::regex("\\+PING:[0-9]+\r\n\r\nOK\r\n")));
}

TEST_CASE("faults appear only when configured")
{
    {
        sim_harness h(quiet());
        for (int i = 0; i < 50; ++i) CHECK(h.command("AT") == "\r\nOK\r\n");
    }
    sim::module_options o = quiet();
    o.faults.busy_before_result = 1.0;
    sim_harness h(o);
    CHECK(h.command("AT") == "busy p...\r\n\r\nOK\r\n");
    sim::module_options e = quiet();
    e.faults.err_code_busy = 1.0;
    sim_harness he(e);
    CHECK(he.command("AT") == "ERR CODE:0x010b0000\r\n\r\nbusy p...\r\n\r\nOK\r\n");
}
