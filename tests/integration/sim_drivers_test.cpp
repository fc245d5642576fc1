// The simulator as a drop-in module for the host drivers people already use
// (host-drivers.md): each test replays one driver's exchange — exactly the bytes it sends, in
// its order — over a real pseudo-terminal, and checks at every step that the answer is one
// the driver accepts, honouring its quirks (lwESP flushes its tty on the OK of a reset,
// Adafruit flushes input before each command and before a payload, WiFiEspAT overwrites its
// available count on every +IPD). Links go to loopback peers on ports the system picks.
//
// Each exchange runs once for each espat-sim command line the README's driver table gives
// that driver, parsed by espat-sim's own parser (examples/espat_sim_options.hpp); a test
// checks that the table gives exactly those command lines.
#include "espat_sim_options.hpp"
#include "test_certs.hpp"
#include "test_data.hpp"

#include <espat/proto/transcript.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/pty.hpp>
#include <espat/sim/traced_stream.hpp>

#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sim = espat::sim;
using namespace std::chrono_literals;

namespace {

constexpr auto step_limit = 5s;  // every wait in these tests ends by then

bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit = step_limit)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        io.run_for(2ms);
    }
    return true;
}

// The README's recipes: the espat-sim command lines its driver table gives each driver (the
// row whose first cell starts with the name), every one of which must work.
struct recipe {
    std::string_view driver;  // as the row's link text starts: "[lwESP]"
    std::vector<std::string_view> command_lines;
};
const recipe lwesp_recipe{"[lwESP]", {"--firmware 3", "--firmware esp8266"}};
const recipe wifiespat_recipe{"[WiFiEspAT]", {"--firmware 2", "--firmware esp8266"}};
// Not joined at power-on: Adafruit's connect() asks AT+CWJAP? when the module is already
// joined, and its parser of that answer compares bytes with a str, which raises TypeError on
// CPython (Blinka on Linux); joining first, it never asks.
const recipe adafruit_recipe{"[Adafruit ESP_ATcontrol]",
                             {"--firmware 3 --start not-joined", "--firmware esp8266 --start not-joined"}};

// What espat-sim would run with that command line.
sim::module_options options_of(std::string_view command_line)
{
    espat_sim::options o;
    const char* why = espat_sim::parse_line(command_line, o);
    INFO(command_line);
    REQUIRE_MESSAGE(why == nullptr, (why ? why : ""));
    return o.module;
}

// The driver's side of the serial line: the pty's slave opened by path, raw and
// non-blocking, read between turns of the module's io_context (one thread does both).
class serial_driver {
public:
    serial_driver(asio::io_context& io, const std::string& path) : io_(io)
    {
        fd_ = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
        REQUIRE(fd_ >= 0);
        termios t{};
        REQUIRE(::tcgetattr(fd_, &t) == 0);
        ::cfmakeraw(&t);
        ::cfsetspeed(&t, B115200);  // what all three drivers use; a pty ignores it
        REQUIRE(::tcsetattr(fd_, TCSANOW, &t) == 0);
    }
    ~serial_driver() { ::close(fd_); }
    serial_driver(const serial_driver&) = delete;
    serial_driver& operator=(const serial_driver&) = delete;

    void write(std::string_view bytes)
    {
        const auto deadline = std::chrono::steady_clock::now() + step_limit;
        while (!bytes.empty() && std::chrono::steady_clock::now() < deadline) {
            const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
            if (n > 0) bytes.remove_prefix(static_cast<std::size_t>(n));
            else io_.run_for(1ms);
        }
        REQUIRE(bytes.empty());
    }

    // Drops whatever arrived and was not read yet, as tcflush(TCIFLUSH) does in a driver.
    void flush_input()
    {
        ::tcflush(fd_, TCIFLUSH);
        pending_.clear();
    }

    // Everything up to the earliest of the markers, or what came followed by "<TIMEOUT>".
    std::string until_any(const std::vector<std::string_view>& markers, std::chrono::milliseconds limit = step_limit)
    {
        std::size_t end = std::string::npos;
        auto find_end = [&] {
            end = std::string::npos;
            for (auto m : markers)
                if (const auto at = pending_.find(m); at != std::string::npos) end = std::min(end, at + m.size());
            return end != std::string::npos;
        };
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!find_end() && std::chrono::steady_clock::now() < deadline) {
            io_.run_for(2ms);
            read_available();
        }
        if (end == std::string::npos) return std::exchange(pending_, {}) + "<TIMEOUT>";
        std::string out = pending_.substr(0, end);
        pending_.erase(0, end);
        return out;
    }
    std::string until(std::string_view marker) { return until_any({marker}); }

    // A command and its answer up to the final result, the way all three drivers read.
    std::string command(std::string_view line)
    {
        write(std::string(line) + "\r\n");
        return until_any({"OK\r\n", "ERROR\r\n"});
    }

    // Whatever arrives within `d` (for checking that nothing does).
    std::string collect_for(std::chrono::milliseconds d)
    {
        const auto deadline = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < deadline) {
            io_.run_for(2ms);
            read_available();
        }
        return std::exchange(pending_, {});
    }

private:
    void read_available()
    {
        char b[1024];
        for (;;) {
            const ssize_t n = ::read(fd_, b, sizeof b);
            if (n <= 0) return;
            pending_.append(b, static_cast<std::size_t>(n));
        }
    }

    asio::io_context& io_;
    int fd_ = -1;
    std::string pending_;
};

// A TCP peer on loopback that the simulated module connects to (or that connects to its
// server), run by handlers on the test's io_context.
class tcp_peer {
public:
    explicit tcp_peer(asio::io_context& io) : io_(io), acceptor_(io, {asio::ip::address_v4::loopback(), 0})
    {
        acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket s) {
            if (ec) return;
            socket_.emplace(std::move(s));
            read_more();
        });
    }
    [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    // Connects to a listening module instead (its AT+CIPSERVER).
    void connect_to(std::uint16_t port)
    {
        socket_.emplace(io_);
        socket_->async_connect({asio::ip::address_v4::loopback(), port}, [this](std::error_code ec) {
            if (!ec) read_more();
        });
    }

    bool wait_connected() { return run_until(io_, [&] { return socket_ && socket_->is_open(); }); }
    void send(std::string data)
    {
        auto owned = std::make_shared<std::string>(std::move(data));
        asio::async_write(*socket_, asio::buffer(*owned), [owned](std::error_code, std::size_t) {});
        io_.run_for(10ms);  // let it reach the module before the next step
    }
    void close()
    {
        std::error_code ignored;
        socket_->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket_->close(ignored);
    }

    std::string received;
    bool peer_closed = false;

private:
    void read_more()
    {
        socket_->async_read_some(asio::buffer(buffer_), [this](std::error_code ec, std::size_t n) {
            // Aborted: the peer was destroyed, and the bench drains its io_context after that.
            if (ec == asio::error::operation_aborted) return;
            if (ec) {
                peer_closed = true;
                return;
            }
            received.append(buffer_.data(), n);
            read_more();
        });
    }

    asio::io_context& io_;
    asio::ip::tcp::acceptor acceptor_;
    std::optional<asio::ip::tcp::socket> socket_;
    std::array<char, 4096> buffer_{};
};

// The module served over a fresh pty, and the driver's end of it.
struct bench {
    explicit bench(sim::module_options options)
        : pty(sim::open_pty(io.get_executor())), module(io.get_executor(), std::move(options))
    {
        asio::co_spawn(io, module.serve(pty.master), asio::detached);
        driver.emplace(io, pty.slave_path);
    }
    ~bench()
    {
        driver.reset();
        module.stop();
        io.run_for(20ms);
    }

    asio::io_context io;
    sim::pty pty;
    sim::module module;
    std::optional<serial_driver> driver;
};

bool ends_ok(const std::string& reply) { return reply.ends_with("\r\nOK\r\n"); }
bool matches(const std::string& text, const std::string& pattern)
{
    return std::regex_search(text, std::regex(pattern));
}
std::string port_text(std::uint16_t port) { return std::to_string(port); }

// AT+RST / AT+RESTORE as lwESP does them: it flushes its tty on the OK, then waits up to 5 s
// for "ready", which must therefore come at least ~20 ms after the OK.
void lwesp_reset(serial_driver& driver, std::string_view command)
{
    driver.write(std::string(command) + "\r\n");
    const std::string answer = driver.until("OK\r\n");
    CHECK(answer.ends_with("\r\nOK\r\n"));
    const auto ok_at = std::chrono::steady_clock::now();
    driver.flush_input();
    const std::string boot = driver.until("ready\r\n");
    CHECK(boot.ends_with("\r\nready\r\n"));
    CHECK(std::chrono::steady_clock::now() - ok_at >= 15ms);
}

// lwESP's init sequence, after which it needs every answer to be OK (it tolerates ERROR on
// most of these, but the simulator gives real answers to all of them).
void lwesp_init(serial_driver& driver, bool esp8266)
{
    const std::string echo_off = driver.command("ATE0");
    CHECK(ends_ok(echo_off));
    const std::string gmr = driver.command("AT+GMR");
    INFO(gmr);
    CHECK(gmr.starts_with("AT version:"));
    if (esp8266) {
        CHECK(gmr.find(" - ESP8266 - ") != std::string::npos);
        // lwESP warns below 2.2.1 on an ESP8266.
        CHECK(matches(gmr, R"(^AT version:(2\.2\.([1-9]|\d\d)|2\.([3-9]|\d\d)|[3-9])\.)"));
    } else {
        CHECK(gmr.find(" - ESP32 - ") != std::string::npos);
        // lwESP warns below 3.2.0 on an ESP32.
        CHECK(matches(gmr, R"(^AT version:(3\.([2-9]|\d\d)|[4-9])\.)"));
    }
    CHECK(driver.command("AT+SYSMSG=7") == "\r\nOK\r\n");
    CHECK(driver.command("AT+SYSLOG=1") == "\r\nOK\r\n");
    CHECK(driver.command("AT+RFPOWER=40") == "\r\nOK\r\n");
    CHECK(driver.command("AT+CWMODE=3,1") == "\r\nOK\r\n");
    CHECK(driver.command("AT+CWDHCP?") == "+CWDHCP:3\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(driver.command("AT+CIPRECVMODE=1") == "\r\nOK\r\n");
    CHECK(driver.command("AT+CWLAPOPT=1,0x7FF") == "\r\nOK\r\n");
    const std::string status = driver.command("AT+CIPSTATUS");
    CHECK(matches(status, R"(^STATUS:[2-5]\r\n)"));
    CHECK(ends_ok(status));
    CHECK(ends_ok(driver.command("AT+CIPSTATE?")));
    const std::string softap = driver.command("AT+CIPAP?");
    CHECK(softap.starts_with("+CIPAP:ip:\"192.168.4.1\"\r\n"));
    CHECK(ends_ok(softap));
    CHECK(driver.command("AT+CIPAPMAC?") == "+CIPAPMAC:\"26:0a:c4:00:00:01\"\r\n\r\nOK\r\n");
    // The one lwESP does not tolerate failing.
    CHECK(driver.command("AT+CIPDINFO=1") == "\r\nOK\r\n");
}

bool is_esp8266(const bench& b) { return b.module.options().firmware.chip == "ESP8266"; }

// Failed joins, before the one that works: +CWJAP:<n> (2 wrong password, 3 no such AP), then
// (AT+SYSLOG=1) an ERR CODE line and ERROR.
void lwesp_failed_joins(serial_driver& driver)
{
    const std::string wrong_password = driver.command(R"(AT+CWJAP="espressif","wrong-pass")");
    CHECK(matches(wrong_password, R"(^\+CWJAP:2\r\nERR CODE:0x[0-9a-f]{8}\r\n\r\nERROR\r\n$)"));
    const std::string no_ap = driver.command(R"(AT+CWJAP="nobody-here","1234567890")");
    CHECK(matches(no_ap, R"(^\+CWJAP:3\r\nERR CODE:0x[0-9a-f]{8}\r\n\r\nERROR\r\n$)"));
}

void lwesp_start_and_join(bench& b, bool failed_joins_first = false)
{
    auto& driver = *b.driver;
    lwesp_reset(driver, "AT+RST");
    lwesp_reset(driver, "AT+RESTORE");
    lwesp_init(driver, is_esp8266(b));
    lwesp_reset(driver, "AT+RST");
    lwesp_init(driver, is_esp8266(b));
    if (failed_joins_first) lwesp_failed_joins(driver);

    const std::string join = driver.command(R"(AT+CWJAP="espressif","1234567890")");
    CHECK(join == "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+CWDHCP?") == "+CWDHCP:3\r\n\r\nOK\r\n");
    const std::string sta = driver.command("AT+CIPSTA?");
    CHECK(matches(sta, R"(\+CIPSTA:ip:"\d+\.\d+\.\d+\.\d+"\r\n)"));
    CHECK(matches(sta, R"(\+CIPSTA:gateway:"\d+\.\d+\.\d+\.\d+"\r\n)"));
    CHECK(matches(sta, R"(\+CIPSTA:netmask:"\d+\.\d+\.\d+\.\d+"\r\n)"));
    CHECK(driver.command("AT+CIPSTAMAC?") == "+CIPSTAMAC:\"24:0a:c4:00:00:01\"\r\n\r\nOK\r\n");
}

void lwesp_tcp(std::string_view command_line)
{
    bench b(options_of(command_line));
    auto& driver = *b.driver;
    lwesp_start_and_join(b);

    tcp_peer peer(b.io);
    const std::string port = port_text(peer.port());
    const std::string connect = driver.command("AT+CIPSTARTEX=\"TCP\",\"127.0.0.1\"," + port + ",0");
    INFO(connect);
    // SYSMSG bit 1: a plain "0,CONNECT" would make lwESP's connect fail.
    CHECK(matches(connect, R"(^\+LINK_CONN:0,0,"TCP",0,"127\.0\.0\.1",)" + port + R"(,\d+\r\n\r\nOK\r\n$)"));
    REQUIRE(peer.wait_connected());

    const std::string status = driver.command("AT+CIPSTATUS");
    INFO(status);
    CHECK(matches(status, R"(^STATUS:3\r\n\+CIPSTATUS:0,"TCP","127\.0\.0\.1",)" + port + R"(,\d+,0\r\n)"));

    // Send: the prompt right after a line end.
    driver.write("AT+CIPSEND=0,17\r\n");
    CHECK(driver.until(">") == "\r\nOK\r\n\r\n>");
    driver.write("hello from lwESP!");
    const std::string sent = driver.until("SEND OK\r\n");
    CHECK(sent.ends_with("\r\nSEND OK\r\n"));
    CHECK(run_until(b.io, [&] { return peer.received == "hello from lwESP!"; }));

    // Passive receive: +IPD with the buffered length, then CIPRECVLEN and CIPRECVDATA in the
    // CIPDINFO=1 form.
    peer.send("twenty-two bytes here.");
    CHECK(driver.until("\r\n+IPD,0,22\r\n") == "\r\n+IPD,0,22\r\n");
    // Links that are not open: empty fields (the table's form) or -1; lwESP reads both.
    CHECK(matches(driver.command("AT+CIPRECVLEN?"), R"(^\+CIPRECVLEN:22(,(-1)?){4}\r\n\r\nOK\r\n$)"));
    const std::string data = driver.command("AT+CIPRECVDATA=0,22");
    CHECK(data == "+CIPRECVDATA:22,\"127.0.0.1\"," + port + ",twenty-two bytes here.\r\nOK\r\n");

    // A later arrival is notified again, with everything then buffered.
    peer.send("abc");
    CHECK(driver.until("\r\n+IPD,0,3\r\n") == "\r\n+IPD,0,3\r\n");
    peer.send("defg");
    CHECK(driver.command("AT+CIPRECVDATA=0,2") == "+CIPRECVDATA:2,\"127.0.0.1\"," + port + ",ab\r\nOK\r\n");
    peer.send("h");
    CHECK(driver.until("\r\n+IPD,0,6\r\n") == "\r\n+IPD,0,6\r\n");
    CHECK(driver.command("AT+CIPRECVDATA=0,2048") == "+CIPRECVDATA:6,\"127.0.0.1\"," + port + ",cdefgh\r\nOK\r\n");

    // The peer closes: lwESP sees it from "<id>,CLOSED".
    peer.close();
    CHECK(driver.until("0,CLOSED\r\n") == "0,CLOSED\r\n");
    CHECK(driver.command("AT+CIPSTATUS") == "STATUS:4\r\n\r\nOK\r\n");
}

void lwesp_udp_and_server(std::string_view command_line)
{
    bench b(options_of(command_line));
    auto& driver = *b.driver;
    lwesp_start_and_join(b);

    asio::ip::udp::socket udp_peer(b.io, {asio::ip::address_v4::loopback(), 0});
    const std::string udp_port = port_text(udp_peer.local_endpoint().port());
    const std::string connect = driver.command("AT+CIPSTARTEX=\"UDP\",\"127.0.0.1\"," + udp_port + ",,0");
    INFO(connect);
    CHECK(matches(connect, R"(^\+LINK_CONN:0,0,"UDP",0,"127\.0\.0\.1",)" + udp_port + R"(,\d+\r\n\r\nOK\r\n$)"));

    driver.write("AT+CIPSEND=0,5,\"127.0.0.1\"," + udp_port + "\r\n");
    CHECK(driver.until(">") == "\r\nOK\r\n\r\n>");
    driver.write("datum");
    CHECK(driver.until("SEND OK\r\n").ends_with("\r\nSEND OK\r\n"));
    std::array<char, 64> datagram{};
    asio::ip::udp::endpoint from;
    std::size_t got = 0;
    udp_peer.async_receive_from(asio::buffer(datagram), from, [&](std::error_code ec, std::size_t n) {
        if (!ec) got = n;
    });
    CHECK(run_until(b.io, [&] { return got > 0; }));
    CHECK(std::string_view(datagram.data(), got) == "datum");
    CHECK(driver.command("AT+CIPCLOSE=0") == "0,CLOSED\r\n\r\nOK\r\n");

    CHECK(driver.command("AT+CIPSERVERMAXCONN=2") == "\r\nOK\r\n");
    CHECK(driver.command("AT+CIPSERVER=1,0") == "\r\nOK\r\n");
    CHECK(driver.command("AT+CIPSTO=30") == "\r\nOK\r\n");
    const auto server_port = b.module.server_port();
    REQUIRE(server_port);
    tcp_peer client(b.io);
    client.connect_to(*server_port);
    const std::string incoming = driver.until("\r\n");
    INFO(incoming);
    // An incoming link is role 1 in +LINK_CONN.
    CHECK(matches(incoming, R"(^\+LINK_CONN:0,0,"TCP",1,"127\.0\.0\.1",\d+,)" + port_text(*server_port) + R"(\r\n$)"));
}

// A TLS peer on loopback with the test CA's certificate for 127.0.0.1; it keeps what it reads.
class tls_peer {
public:
    explicit tls_peer(asio::io_context& io)
        : context_(asio::ssl::context::tls_server), acceptor_(io, {asio::ip::address_v4::loopback(), 0})
    {
        const auto& certs = espat::test::test_certs();
        context_.use_certificate_chain(asio::buffer(certs.server.certificate));
        context_.use_private_key(asio::buffer(certs.server.private_key), asio::ssl::context::pem);
        acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket s) {
            if (ec) return;
            stream_.emplace(std::move(s), context_);
            stream_->async_handshake(asio::ssl::stream_base::server, [this](std::error_code hec) {
                if (hec) return;
                handshaken = true;
                read_more();
            });
        });
    }
    [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    void send(std::string data)
    {
        auto owned = std::make_shared<std::string>(std::move(data));
        asio::async_write(*stream_, asio::buffer(*owned), [owned](std::error_code, std::size_t) {});
    }

    bool handshaken = false;
    bool ended = false;
    std::string received;

private:
    void read_more()
    {
        stream_->async_read_some(asio::buffer(buffer_), [this](std::error_code ec, std::size_t n) {
            if (ec) {
                ended = true;
                return;
            }
            received.append(buffer_.data(), n);
            read_more();
        });
    }

    asio::ssl::context context_;
    asio::ip::tcp::acceptor acceptor_;
    std::optional<asio::ssl::stream<asio::ip::tcp::socket>> stream_;
    std::array<char, 4096> buffer_{};
};

// lwESP's other calls: failed joins, then an SSL link (AT+CIPSTARTEX="SSL", +LINK_CONN with
// "SSL"), a send, a passive receive, a close.
void lwesp_ssl_and_failed_joins(std::string_view command_line)
{
    bench b(options_of(command_line));
    auto& driver = *b.driver;
    lwesp_start_and_join(b, true);

    tls_peer peer(b.io);
    const std::string port = port_text(peer.port());
    const std::string connect = driver.command("AT+CIPSTARTEX=\"SSL\",\"127.0.0.1\"," + port + ",0");
    INFO(connect);
    CHECK(matches(connect, R"(^\+LINK_CONN:0,0,"SSL",0,"127\.0\.0\.1",)" + port + R"(,\d+\r\n\r\nOK\r\n$)"));
    CHECK(run_until(b.io, [&] { return peer.handshaken; }));

    driver.write("AT+CIPSEND=0,12\r\n");
    CHECK(driver.until(">") == "\r\nOK\r\n\r\n>");
    driver.write("over TLS ...");
    CHECK(driver.until("SEND OK\r\n").ends_with("\r\nSEND OK\r\n"));
    CHECK(run_until(b.io, [&] { return peer.received == "over TLS ..."; }));

    peer.send("and back.");
    CHECK(driver.until("\r\n+IPD,0,9\r\n") == "\r\n+IPD,0,9\r\n");
    CHECK(driver.command("AT+CIPRECVDATA=0,2048") == "+CIPRECVDATA:9,\"127.0.0.1\"," + port + ",and back.\r\nOK\r\n");
    CHECK(driver.command("AT+CIPCLOSE=0") == "0,CLOSED\r\n\r\nOK\r\n");
    CHECK(run_until(b.io, [&] { return peer.ended; }));
}

void wifiespat_exchange(std::string_view command_line)
{
    bench b(options_of(command_line));  // joined at power-on
    auto& driver = *b.driver;
    // Left over from an earlier program (lwESP turns it on): a reset must turn it off again,
    // since WiFiEspAT never sends AT+CIPDINFO and the CIPDINFO=1 form corrupts its data.
    CHECK(ends_ok(driver.command("AT+CIPDINFO=1")));
    CHECK(ends_ok(driver.command("AT+CIPMUX=1")));

    driver.write("AT+RST\r\n");
    CHECK(driver.until("OK\r\n") == "AT+RST\r\n\r\nOK\r\n");
    CHECK(driver.until("ready\r\n").ends_with("\r\nready\r\n"));
    // The module was on Wi-Fi: it rejoins by itself, between commands (never inside an answer).
    CHECK(driver.until("WIFI GOT IP\r\n") == "WIFI CONNECTED\r\nWIFI GOT IP\r\n");
    // Without "ready" it probes with "?" every second: only an ERROR stops the probing.
    CHECK(driver.command("?") == "?\r\n\r\nERROR\r\n");

    CHECK(driver.command("ATE0") == "ATE0\r\n\r\nOK\r\n");  // echo is on after a reset
    CHECK(driver.command("AT+CIPMUX=1") == "\r\nOK\r\n");     // so CIPMUX was 0 again
    CHECK(driver.command("AT+CIPRECVMODE=1") == "\r\nOK\r\n");
    CHECK(driver.command("AT+SYSSTORE=0") == "\r\nOK\r\n");
    CHECK(driver.command("AT+CWAUTOCONN=1") == "\r\nOK\r\n");  // its fallback when SYSSTORE fails
    CHECK(driver.command("AT+CWMODE?") == "+CWMODE:1\r\n\r\nOK\r\n");
    const std::string status = driver.command("AT+CIPSTATUS");
    CHECK(status == "STATUS:2\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+GMR").starts_with("AT version:2."));

    const std::string join = driver.command(R"(AT+CWJAP="espressif","1234567890")");
    CHECK(join.find("WIFI CONNECTED\r\nWIFI GOT IP\r\n") != std::string::npos);
    CHECK(ends_ok(join));
    CHECK(driver.command("AT+CIPSTATUS") == "STATUS:2\r\n\r\nOK\r\n");
    CHECK(ends_ok(driver.command("AT+CIPSTA?")));

    tcp_peer peer(b.io);
    const std::string port = port_text(peer.port());
    // SYSMSG is 0 after the reset: "<id>,CONNECT", not +LINK_CONN.
    CHECK(driver.command("AT+CIPSTART=4,\"TCP\",\"127.0.0.1\"," + port) == "4,CONNECT\r\n\r\nOK\r\n");
    REQUIRE(peer.wait_connected());

    driver.write("AT+CIPSEND=4,21\r\n");
    // 2.x prompt: one '>' with no trailing space.
    CHECK(driver.until(">") == "\r\nOK\r\n\r\n>");
    CHECK(driver.collect_for(20ms).empty());
    driver.write("WiFiEspAT says hello.");
    CHECK(driver.until("SEND OK\r\n").ends_with("\r\nSEND OK\r\n"));
    CHECK(run_until(b.io, [&] { return peer.received == "WiFiEspAT says hello."; }));

    // +IPD sets (overwrites) its available count, so it must be the total buffered.
    peer.send("thirty bytes from the peer....");
    CHECK(driver.until("\r\n+IPD,4,30\r\n") == "\r\n+IPD,4,30\r\n");
    CHECK(driver.command("AT+CIPRECVDATA=4,64") == "+CIPRECVDATA:30,thirty bytes from the peer....\r\nOK\r\n");
    CHECK(matches(driver.command("AT+CIPRECVLEN?"), R"(^\+CIPRECVLEN:((-1)?,){4}0\r\n\r\nOK\r\n$)"));
    peer.send("more");
    CHECK(driver.until("\r\n+IPD,4,4\r\n") == "\r\n+IPD,4,4\r\n");
    CHECK(driver.command("AT+CIPRECVDATA=4,64") == "+CIPRECVDATA:4,more\r\nOK\r\n");

    CHECK(driver.command("AT+CIPCLOSE=4") == "4,CLOSED\r\n\r\nOK\r\n");
    CHECK(run_until(b.io, [&] { return peer.peer_closed; }));

    // A server: "<id>,CONNECT" for a link it did not open is an incoming connection.
    CHECK(driver.command("AT+CIPSERVER=1,0") == "\r\nOK\r\n");
    const auto server_port = b.module.server_port();
    REQUIRE(server_port);
    tcp_peer client(b.io);
    client.connect_to(*server_port);
    CHECK(driver.until("CONNECT\r\n") == "0,CONNECT\r\n");
}

// Adafruit ESP_ATcontrol reads a reply until it ends with OK or ERROR, flushing input first.
std::string adafruit_command(serial_driver& driver, std::string_view line)
{
    driver.flush_input();
    return driver.command(line);
}

void adafruit_begin(serial_driver& driver, bool esp8266)
{
    CHECK(adafruit_command(driver, "AT") == "AT\r\n\r\nOK\r\n");
    CHECK(adafruit_command(driver, "ATE0") == "ATE0\r\n\r\nOK\r\n");
    CHECK(adafruit_command(driver, "AT+UART_CUR=115200,8,1,0,0") == "\r\nOK\r\n");
    CHECK(adafruit_command(driver, "AT") == "\r\nOK\r\n");
    const std::string gmr = adafruit_command(driver, "AT+GMR");
    CHECK(gmr.starts_with("AT version:"));
    CHECK(gmr.find(esp8266 ? " - ESP8266 - " : " - ESP32 - ") != std::string::npos);
    CHECK(adafruit_command(driver, "AT+CIPMUX?") == "+CIPMUX:0\r\n\r\nOK\r\n");
    const std::string ssl_size = adafruit_command(driver, "AT+CIPSSLSIZE=4096");
    if (esp8266) {
        CHECK(ssl_size == "\r\nOK\r\n");
    } else {
        // Expected on an ESP32; the driver then asks AT+CIPSSLCCONF?, which must succeed.
        CHECK(ssl_size == "\r\nERROR\r\n");
        const std::string conf = adafruit_command(driver, "AT+CIPSSLCCONF?");
        CHECK(matches(conf, R"(^\+CIPSSLCCONF:0,0,0,0\r\n\r\nOK\r\n$)"));
    }
}

void adafruit_exchange(std::string_view command_line)
{
    bench b(options_of(command_line));
    auto& driver = *b.driver;
    adafruit_begin(driver, is_esp8266(b));

    CHECK(adafruit_command(driver, "AT+CWSTATE?") == "+CWSTATE:0,\"\"\r\n\r\nOK\r\n");
    CHECK(adafruit_command(driver, "AT+CIPSTATE?") == "\r\nOK\r\n");
    CHECK(adafruit_command(driver, "AT+CIPSTATUS") == "STATUS:5\r\n\r\nOK\r\n");
    CHECK(adafruit_command(driver, "AT+CWMODE?") == "+CWMODE:1\r\n\r\nOK\r\n");

    // A wrong password: +CWJAP:<n> then ERROR, and CWSTATE says disconnected.
    CHECK(adafruit_command(driver, R"(AT+CWJAP="espressif","wrong-pass")") == "+CWJAP:2\r\n\r\nERROR\r\n");
    CHECK(adafruit_command(driver, "AT+CWSTATE?") == "+CWSTATE:4,\"espressif\"\r\n\r\nOK\r\n");

    // It needs both WIFI lines before the OK.
    const std::string join = adafruit_command(driver, R"(AT+CWJAP="espressif","1234567890")");
    CHECK(join == "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
    CHECK(adafruit_command(driver, "AT+CWSTATE?") == "+CWSTATE:2,\"espressif\"\r\n\r\nOK\r\n");
    CHECK(adafruit_command(driver, "AT+CIPSTATUS") == "STATUS:2\r\n\r\nOK\r\n");
    CHECK(adafruit_command(driver, "AT+CWJAP?").starts_with("+CWJAP:\"espressif\",\"24:0a:c4:10:20:30\",6,-45,"));
    const std::string addresses = adafruit_command(driver, "AT+CIFSR");
    INFO(addresses);
    CHECK(matches(addresses, R"(^\+CIFSR:STAIP,"\d+\.\d+\.\d+\.\d+"\r\n\+CIFSR:STAMAC,"24:0a:c4:00:00:01"\r\n\r\nOK\r\n$)"));

    tcp_peer peer(b.io);
    const std::string port = port_text(peer.port());
    // Single-link mode, SYSMSG 0: "CONNECT" with no id.
    CHECK(adafruit_command(driver, "AT+CIPSTART=\"TCP\",\"127.0.0.1\"," + port + ",10") == "CONNECT\r\n\r\nOK\r\n");
    REQUIRE(peer.wait_connected());
    const std::string links = adafruit_command(driver, "AT+CIPSTATE?");
    CHECK(matches(links, R"(^\+CIPSTATE:0,"TCP","127\.0\.0\.1",)" + port + R"(,\d+,0\r\n\r\nOK\r\n$)"));
    CHECK(adafruit_command(driver, "AT+CIPSTATUS").starts_with("STATUS:3\r\n"));

    // Send: wait for the '>' byte, flush input, write, wait for SEND OK.
    driver.flush_input();
    driver.write("AT+CIPSEND=15\r\n");
    CHECK(driver.until(">").ends_with(">"));
    driver.flush_input();
    driver.write("GET / HTTP/1.0\n");
    CHECK(driver.until("SEND OK\r\n").ends_with("\r\nSEND OK\r\n"));
    CHECK(run_until(b.io, [&] { return peer.received == "GET / HTTP/1.0\n"; }));

    // Active receive, CIPDINFO 0, single link: +IPD,<len>:<data>.
    peer.send("HTTP/1.0 200");
    CHECK(driver.until("HTTP/1.0 200") == "\r\n+IPD,12:HTTP/1.0 200");

    CHECK(adafruit_command(driver, "AT+CIPCLOSE") == "CLOSED\r\n\r\nOK\r\n");
    CHECK(adafruit_command(driver, "AT+CIPSTATUS") == "STATUS:4\r\n\r\nOK\r\n");
    CHECK(adafruit_command(driver, "AT+CWQAP").ends_with("\r\nOK\r\n"));
    CHECK(adafruit_command(driver, "AT+CIPSTATUS") == "STATUS:5\r\n\r\nOK\r\n");
}

}  // namespace

TEST_CASE("lwESP: init twice, join, TCP connect with +LINK_CONN, send, passive receive, close"
          * doctest::timeout(60))
{
    for (const auto command_line : lwesp_recipe.command_lines) {
        CAPTURE(command_line);
        lwesp_tcp(command_line);
    }
}

TEST_CASE("lwESP: UDP with a remote per send, a server with max connections and timeout"
          * doctest::timeout(60))
{
    for (const auto command_line : lwesp_recipe.command_lines) {
        CAPTURE(command_line);
        lwesp_udp_and_server(command_line);
    }
}

TEST_CASE("lwESP: failed joins, an SSL link with +LINK_CONN, send, passive receive, close" * doctest::timeout(60))
{
    for (const auto command_line : lwesp_recipe.command_lines) {
        CAPTURE(command_line);
        lwesp_ssl_and_failed_joins(command_line);
    }
}

TEST_CASE("WiFiEspAT: reset, ? probe, init, join, connect, send, passive receive without CIPDINFO, close"
          * doctest::timeout(60))
{
    for (const auto command_line : wifiespat_recipe.command_lines) {
        CAPTURE(command_line);
        wifiespat_exchange(command_line);
    }
}

TEST_CASE("Adafruit ESP_ATcontrol: begin, status by CWSTATE and CIPSTATE, join, CIFSR, single-link TCP, send, +IPD, close"
          * doctest::timeout(60))
{
    for (const auto command_line : adafruit_recipe.command_lines) {
        CAPTURE(command_line);
        adafruit_exchange(command_line);
    }
}

TEST_CASE("the ESP8266 personality: AT+CIPSSLSIZE accepted, AT+RFPOWER? without BLE levels" * doctest::timeout(30))
{
    bench b(options_of("--firmware esp8266"));
    CHECK(adafruit_command(*b.driver, "AT+CIPSSLSIZE=4096") == "AT+CIPSSLSIZE=4096\r\n\r\nOK\r\n");
    CHECK(adafruit_command(*b.driver, "AT+RFPOWER?") == "AT+RFPOWER?\r\n+RFPOWER:78\r\n\r\nOK\r\n");
}

TEST_CASE("WiFiEspAT in its AT 1 mode against NONOS: init, _CUR join, addresses and DNS, DHCP, passive receive"
          * doctest::timeout(60))
{
    sim::module_options options;
    options.firmware = sim::nonos();  // espat-sim --firmware nonos
    options.start = sim::start_state::not_joined;
    bench b(options);
    auto& driver = *b.driver;

    // reset(): AT+RST ("ready" may be missed), then what must work.
    driver.write("AT+RST\r\n");
    CHECK(driver.until("OK\r\n") == "AT+RST\r\n\r\nOK\r\n");
    CHECK(driver.until("ready\r\n").ends_with("\r\nready\r\n"));
    CHECK(driver.command("ATE0") == "ATE0\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(driver.command("AT+CIPRECVMODE=1") == "\r\nOK\r\n");
    // No AT+SYSSTORE in AT 1 mode: the plain query gives its default mode, the _CUR one the
    // mode in effect.
    CHECK(driver.command("AT+CWMODE?") == "+CWMODE:1\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+CWMODE_CUR?") == "+CWMODE_CUR:1\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+GMR").starts_with("AT version:1.7."));

    // begin(ssid, pass), not persistent: AT+CWJAP_CUR (the station already runs).
    CHECK(driver.command(R"(AT+CWJAP_CUR="espressif","1234567890")") == "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+CIPSTATUS") == "STATUS:2\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+CWJAP_CUR?") == "+CWJAP_CUR:\"espressif\",\"24:0a:c4:10:20:30\",6,-45\r\n\r\nOK\r\n");
    // localIP(), gatewayIP(), subnetMask(): "+CIPSTA:ip:\"" and its kin (and the _CUR lines,
    // which ARMmbed's esp8266-driver reads); macAddress(): AT+CIPSTAMAC?.
    CHECK(driver.command("AT+CIPSTA?").starts_with("+CIPSTA:ip:\"192.168.4.2\"\r\n+CIPSTA:gateway:\"192.168.4.1\"\r\n"));
    CHECK(driver.command("AT+CIPSTA_CUR?") ==
          "+CIPSTA_CUR:ip:\"192.168.4.2\"\r\n+CIPSTA_CUR:gateway:\"192.168.4.1\"\r\n"
          "+CIPSTA_CUR:netmask:\"255.255.255.0\"\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+CIPSTAMAC?") == "+CIPSTAMAC:\"24:0a:c4:00:00:01\"\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+CIPSTAMAC_CUR?") == "+CIPSTAMAC_CUR:\"24:0a:c4:00:00:01\"\r\n\r\nOK\r\n");

    // config(ip, dns, gateway, subnet) and setDNS(): the _CUR forms; dnsIP() reads one bare
    // address per +CIPDNS_CUR line.
    CHECK(driver.command(R"(AT+CIPSTA_CUR="192.168.4.77","192.168.4.1","255.255.255.0")") == "\r\nOK\r\n");
    CHECK(driver.command(R"(AT+CIPDNS_CUR=1,"9.9.9.9","1.1.1.1")") == "\r\nOK\r\n");
    CHECK(driver.command("AT+CIPDNS_CUR?") == "+CIPDNS_CUR:9.9.9.9\r\n+CIPDNS_CUR:1.1.1.1\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+CIPSTA_CUR?").starts_with("+CIPSTA_CUR:ip:\"192.168.4.77\"\r\n"));
    // Back to DHCP: AT 1's <mode> 1 is the station.
    CHECK(driver.command("AT+CIPDNS_CUR=0") == "\r\nOK\r\n");
    CHECK(driver.command("AT+CWDHCP_CUR=1,1") == "\r\nOK\r\n");
    CHECK(driver.command("AT+CWDHCP?") == "+CWDHCP:3\r\n\r\nOK\r\n");

    // A link, a send after NONOS's "> " prompt, and passive receive in AT 1.7's framing.
    tcp_peer peer(b.io);
    CHECK(driver.command("AT+CIPSTART=0,\"TCP\",\"127.0.0.1\"," + port_text(peer.port())) == "0,CONNECT\r\n\r\nOK\r\n");
    REQUIRE(peer.wait_connected());
    driver.write("AT+CIPSEND=0,5\r\n");
    CHECK(driver.until("> ") == "\r\nOK\r\n> ");  // AT 1.x: a space after '>', which it reads away
    driver.write("hello");
    CHECK(driver.until("SEND OK\r\n").ends_with("\r\nSEND OK\r\n"));
    CHECK(run_until(b.io, [&] { return peer.received == "hello"; }));
    peer.send("from the peer");
    CHECK(driver.until("\r\n+IPD,0,13\r\n") == "\r\n+IPD,0,13\r\n");
    CHECK(driver.command("AT+CIPRECVLEN?") == "+CIPRECVLEN:13,0,0,0,0\r\n\r\nOK\r\n");  // idle links 0
    // "+CIPRECVDATA,<len>:" then the data: AT 1.7's form (not its instruction set's).
    CHECK(driver.command("AT+CIPRECVDATA=0,64") == "+CIPRECVDATA,13:from the peer\r\nOK\r\n");
    CHECK(driver.command("AT+CIPCLOSE=0") == "0,CLOSED\r\n\r\nOK\r\n");
}

TEST_CASE("WiFiEsp (AT 1.x) against NONOS: init, AT+CWJAP_CUR, static IP, SoftAP with the _CUR forms"
          * doctest::timeout(60))
{
    sim::module_options options;
    options.firmware = sim::nonos();
    bench b(options);  // joined at power-on
    auto& driver = *b.driver;

    CHECK(driver.command("AT") == "AT\r\n\r\nOK\r\n");
    driver.write("AT+RST\r\n");
    CHECK(driver.until("ready\r\n").ends_with("\r\nready\r\n"));
    CHECK(driver.until("WIFI GOT IP\r\n") == "WIFI CONNECTED\r\nWIFI GOT IP\r\n");
    for (const char* line : {"ATE0", "AT+CWMODE=1", "AT+CIPMUX=1", "AT+CIPDINFO=1", "AT+CWAUTOCONN=0", "AT+CWDHCP=1,1"})
        CHECK(ends_ok(driver.command(line)));
    CHECK(driver.command("AT+GMR").find("SDK version:") != std::string::npos);

    // wifiConnect(): "use CUR mode to avoid connection at boot".
    CHECK(driver.command(R"(AT+CWJAP_CUR="espressif","1234567890")") ==
          "WIFI DISCONNECT\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
    // config(ip): station DHCP off, then the address.
    CHECK(driver.command("AT+CWDHCP_CUR=1,0") == "\r\nOK\r\n");
    CHECK(driver.command(R"(AT+CIPSTA_CUR="192.168.4.33")") == "\r\nOK\r\n");
    CHECK(driver.command("AT+CIFSR").find("+CIFSR:STAIP,\"192.168.4.33\"\r\n") != std::string::npos);

    // wifiStartAP() and configAP(): a SoftAP for now, not at boot.
    CHECK(driver.command("AT+CWMODE_CUR=2") == "WIFI DISCONNECT\r\n\r\nOK\r\n");  // no station, no AP
    CHECK(driver.command(R"(AT+CWSAP_CUR="esp-ap","12345678",6,4)") == "\r\nOK\r\n");
    CHECK(driver.command("AT+CWDHCP_CUR=0,1") == "\r\nOK\r\n");
    CHECK(driver.command(R"(AT+CIPAP_CUR="192.168.9.1")") == "\r\nOK\r\n");
    CHECK(driver.command("AT+CIPAP?").starts_with("+CIPAP:ip:\"192.168.9.1\"\r\n"));
    CHECK(driver.command("AT+CWSAP_CUR?") == "+CWSAP_CUR:\"esp-ap\",\"12345678\",6,4,10,0\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+CWMODE_DEF?") == "+CWMODE_DEF:1\r\n\r\nOK\r\n");  // nothing of it saved

    // After a reset: station mode again, the SoftAP's saved settings, and no join
    // (AT+CWAUTOCONN=0).
    driver.write("AT+RST\r\n");
    CHECK(driver.until("ready\r\n").ends_with("\r\nready\r\n"));
    CHECK(driver.collect_for(50ms).empty());
    CHECK(driver.command("ATE0") == "ATE0\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+CWMODE_CUR?") == "+CWMODE_CUR:1\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+CIPAP_CUR?").starts_with("+CIPAP_CUR:ip:\"192.168.4.1\"\r\n"));
    CHECK(driver.command("AT+CIPSTATUS") == "STATUS:5\r\n\r\nOK\r\n");
}

TEST_CASE("after a reset: echo on, CIPMUX 0, active receive, SYSMSG 0; driver settings answered" * doctest::timeout(30))
{
    bench b(sim::module_options{});
    auto& driver = *b.driver;
    for (const char* line : {"ATE0", "AT+CIPMUX=1", "AT+CIPRECVMODE=1", "AT+SYSMSG=3", "AT+RFPOWER=60,4,4,4",
                             "AT+CIPSTAMAC=\"1a:fe:34:00:00:02\"", "AT+CWDHCP=0,2"})
        CHECK(ends_ok(driver.command(line)));
    CHECK(driver.command("AT+RFPOWER?") == "+RFPOWER:60,4,4,4\r\n\r\nOK\r\n");
    // A multicast address is no interface's.
    CHECK(driver.command("AT+CIPSTAMAC=\"01:00:5e:00:00:01\"").ends_with("ERROR\r\n"));
    CHECK(driver.command("AT+CWDHCP?") == "+CWDHCP:1\r\n\r\nOK\r\n");

    driver.write("AT+RST\r\n");
    CHECK(driver.until("OK\r\n") == "\r\nOK\r\n");
    driver.flush_input();
    CHECK(driver.until("ready\r\n").ends_with("ready\r\n"));
    CHECK(driver.command("AT+CIPMUX?") == "AT+CIPMUX?\r\n+CIPMUX:0\r\n\r\nOK\r\n");
    CHECK(driver.command("AT+CIPRECVMODE?").find("+CIPRECVMODE:0\r\n") != std::string::npos);
    CHECK(driver.command("AT+SYSMSG?").find("+SYSMSG:0\r\n") != std::string::npos);
    // Flash and driver settings survive it.
    CHECK(driver.command("AT+CIPSTAMAC?").find("+CIPSTAMAC:\"1a:fe:34:00:00:02\"\r\n") != std::string::npos);
    CHECK(driver.command("AT+CWSTATE?").find("+CWSTATE:2,\"espressif\"\r\n") != std::string::npos);
}

namespace {

// The code spans that start with "--" in the README's driver-table row of `driver`: the
// espat-sim command lines it gives for that driver.
std::set<std::string> readme_command_lines(std::string_view driver)
{
    const auto path = espat::test::data_dir() / ".." / ".." / "README.md";
    const auto readme = espat::test::read_file(path);
    REQUIRE_MESSAGE(readme.has_value(), "cannot read " << path);
    const std::string row_start = "\n| " + std::string(driver);
    const auto at = readme->find(row_start);
    REQUIRE_MESSAGE(at != std::string::npos, "no driver-table row starts with " << driver);
    const std::string_view row = std::string_view(*readme).substr(at + 1, readme->find('\n', at + 1) - at - 1);
    std::set<std::string> spans;
    for (std::size_t open = row.find('`'); open != std::string_view::npos; open = row.find('`', open)) {
        const auto close = row.find('`', open + 1);
        if (close == std::string_view::npos) break;
        const std::string_view span = row.substr(open + 1, close - open - 1);
        if (span.starts_with("--")) spans.emplace(span);
        open = close + 1;
    }
    return spans;
}

}  // namespace

TEST_CASE("README: the driver table gives each driver exactly the espat-sim command lines tested here")
{
    for (const recipe* r : {&lwesp_recipe, &wifiespat_recipe, &adafruit_recipe}) {
        CAPTURE(r->driver);
        const std::set<std::string> tested(r->command_lines.begin(), r->command_lines.end());
        CHECK(readme_command_lines(r->driver) == tested);
    }
}

// Adafruit's socket_send() reads what is waiting after the payload until a read ends with
// "SEND OK\r\n", and drops whatever came in that read after it: an echo's +IPD that leaves the
// module in the same burst as the SEND OK is lost. With the default ipd_delay the echo comes
// a few milliseconds later, in a write of its own, so a host that reads promptly (here, one
// woken by the pty as soon as bytes arrive) reads the two apart. The module's side of the
// line is traced too: there the SEND OK and the +IPD are always separate writes.
TEST_CASE("SEND OK and a peer's echo arrive in separate reads with the default ipd_delay" * doctest::timeout(60))
{
    const sim::module_options options = options_of("--firmware 3");
    REQUIRE(options.ipd_delay == sim::module_options{}.ipd_delay);
    REQUIRE(options.ipd_delay > 0ms);

    asio::io_context io;
    std::string trace_text;
    sim::line_trace trace([&](std::string_view record) { trace_text += record; });
    auto pty = sim::open_pty(io.get_executor());
    sim::traced_stream<asio::posix::stream_descriptor&> master(pty.master, &trace);
    sim::module module(io.get_executor(), options);
    asio::co_spawn(io, module.serve(master), asio::detached);

    // The host: the slave, raw, each read kept as it came.
    const int fd = ::open(pty.slave_path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
    REQUIRE(fd >= 0);
    termios t{};
    REQUIRE(::tcgetattr(fd, &t) == 0);
    ::cfmakeraw(&t);
    REQUIRE(::tcsetattr(fd, TCSANOW, &t) == 0);
    asio::posix::stream_descriptor host(io, fd);
    std::vector<std::string> reads;
    std::array<char, 4096> buffer{};
    std::function<void()> read_more = [&] {
        host.async_read_some(asio::buffer(buffer), [&](std::error_code ec, std::size_t n) {
            if (ec) return;
            reads.emplace_back(buffer.data(), n);
            read_more();
        });
    };
    read_more();
    auto everything_since = [&](std::size_t first) {
        std::string all;
        for (std::size_t i = first; i < reads.size(); ++i) all += reads[i];
        return all;
    };
    auto write = [&](const std::string& bytes) { asio::write(host, asio::buffer(bytes)); };

    // An echo peer on loopback.
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    std::optional<asio::ip::tcp::socket> echo;
    std::array<char, 1024> echo_buffer{};
    std::function<void()> echo_more = [&] {
        echo->async_read_some(asio::buffer(echo_buffer), [&](std::error_code ec, std::size_t n) {
            if (ec) return;
            asio::write(*echo, asio::buffer(echo_buffer.data(), n));
            echo_more();
        });
    };
    acceptor.async_accept([&](std::error_code ec, asio::ip::tcp::socket s) {
        if (ec) return;
        echo.emplace(std::move(s));
        echo_more();
    });

    write("ATE0\r\n");
    REQUIRE(run_until(io, [&] { return everything_since(0).ends_with("OK\r\n"); }));
    std::size_t mark = reads.size();
    write("AT+CIPSTART=\"TCP\",\"127.0.0.1\"," + port_text(acceptor.local_endpoint().port()) + "\r\n");
    REQUIRE(run_until(io, [&] { return everything_since(mark) == "CONNECT\r\n\r\nOK\r\n"; }));

    constexpr int rounds = 20;
    for (int round = 0; round < rounds; ++round) {
        CAPTURE(round);
        char payload[8];
        std::snprintf(payload, sizeof payload, "p%04d", round);
        mark = reads.size();
        write("AT+CIPSEND=5\r\n");
        REQUIRE(run_until(io, [&] { return everything_since(mark).ends_with(">"); }));
        write(payload);
        const std::string ipd = "+IPD,5:" + std::string(payload);
        REQUIRE(run_until(io, [&] { return everything_since(mark).find(ipd) != std::string::npos; }));
        const std::string all = everything_since(mark);
        INFO(all);
        CHECK(all.ends_with("\r\nSEND OK\r\n\r\n" + ipd + "\r\n"));
        std::size_t send_ok_read = 0, ipd_read = 0;
        for (std::size_t i = mark; i < reads.size(); ++i) {
            if (reads[i].find("SEND OK") != std::string::npos) send_ok_read = i;
            if (reads[i].find("+IPD") != std::string::npos) ipd_read = i;
        }
        CHECK(reads[send_ok_read].ends_with("SEND OK\r\n"));  // what Adafruit's loop waits for
        CHECK(ipd_read > send_ok_read);
    }

    // The module's writes, from the trace: each a record of '<' lines after a "# t=" comment.
    const auto parsed = espat::proto::parse_transcript(trace_text);
    REQUIRE_MESSAGE(parsed.ok(), parsed.error);
    struct write_record {
        double at = 0;
        std::string bytes;
    };
    std::vector<write_record> writes;
    bool in_write = false;
    double stamp = 0;
    for (const auto& line : parsed.lines) {
        using dir = espat::proto::transcript_line::direction;
        if (line.dir == dir::comment && line.bytes.starts_with("t=")) {
            stamp = std::stod(line.bytes.substr(2));
            in_write = false;
        } else if (line.dir == dir::device) {
            if (!in_write) writes.push_back({stamp, {}});
            in_write = true;
            writes.back().bytes += line.bytes;
        }
    }
    int send_oks = 0;
    double smallest_gap = 1e9;
    for (std::size_t i = 0; i < writes.size(); ++i) {
        if (writes[i].bytes.find("SEND OK") == std::string::npos) continue;
        ++send_oks;
        CHECK(writes[i].bytes.find("+IPD") == std::string::npos);
        if (i + 1 < writes.size() && writes[i + 1].bytes.find("+IPD") != std::string::npos)
            smallest_gap = std::min(smallest_gap, writes[i + 1].at - writes[i].at);
    }
    CHECK(send_oks == rounds);
    MESSAGE("smallest gap between a SEND OK write and the echo's +IPD write: " << smallest_gap * 1000 << " ms");
    module.stop();
    io.run_for(20ms);
}
