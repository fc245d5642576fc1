// udp_time — the time from an NTP server two ways: an SNTP query (RFC 4330) the host makes over a
// UDP link of the module, and the module's own SNTP client (AT+CIPSNTPCFG, AT+CIPSNTPTIME?),
// printed side by side, as one co_await script.
//
// With no arguments it runs against espat's simulated module (in-process) and a small SNTP
// server on 127.0.0.1 that answers with this host's clock (the simulator's own SNTP client
// reads the host clock too). With --port it drives a real module:
//   udp_time --port /dev/ttyUSB0 [--baud 115200] --ssid NAME --password PW
//            [--ntp-server pool.ntp.org] [--ntp-port 123]
// Against the simulator, --bad-reply short|mode|originate makes the local server answer wrongly
// in that way, to see the check refuse the reply (the tests do).
#include "example_support.hpp"

#include <espat/client.hpp>
#include <espat/net/network.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>

namespace {

using asio::experimental::as_tuple;
using asio::use_awaitable;
using std::chrono::system_clock;

struct settings {
    espat::examples::common_settings common;
    std::string ntp_server = "pool.ntp.org";
    std::uint16_t ntp_port = 123;
    std::string bad_reply;  // the local server's fault: "", "short", "mode" or "originate"
};

settings parse(int argc, char** argv)
{
    const espat::examples::command_line cl(
        "udp_time",
        "[--port DEVICE [--baud N]] [--ssid S] [--password P] [--ntp-server HOST] [--ntp-port N] "
        "[--bad-reply short|mode|originate]",
        "The time from an NTP server two ways: an SNTP query (RFC 4330) the host makes over a UDP\n"
        "link of the module, and the module's own SNTP client (AT+CIPSNTPTIME?), side by side.\n"
        "Without --port: against the simulated module and an SNTP server on 127.0.0.1 with this\n"
        "host's clock.\n"
        "\n"
        "Options:\n"
        "  --ntp-server HOST  the NTP server (default pool.ntp.org with --port)\n"
        "  --ntp-port N       its port (default 123)\n"
        "  --bad-reply short|mode|originate\n"
        "                     simulator only: the local server answers wrongly in that way, to see\n"
        "                     the reply refused (exit status 1)\n");
    settings s;
    s.common = cl.parse(argc, argv, [&](std::string_view flag, auto& value) {
        if (flag == "--ntp-server") s.ntp_server = value();
        else if (flag == "--ntp-port") s.ntp_port = cl.number<std::uint16_t>(value(), 1);
        else if (flag == "--bad-reply") s.bad_reply = value();
        else return false;
        return true;
    });
    if (s.bad_reply != "" && s.bad_reply != "short" && s.bad_reply != "mode" && s.bad_reply != "originate")
        cl.fail("--bad-reply is short, mode or originate");
    return s;
}

// ---- SNTP (RFC 4330): 48-byte packets, 64-bit timestamps (seconds since 1900, 2^-32 fractions) ----

using ntp_packet = std::array<unsigned char, 48>;
constexpr std::uint64_t ntp_unix_offset = 2208988800ULL;  // 1900-01-01 to 1970-01-01, in seconds
constexpr std::size_t originate_at = 24, receive_at = 32, transmit_at = 40;

std::uint64_t to_ntp(system_clock::time_point t)
{
    const auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
    const auto seconds = static_cast<std::uint64_t>(since_epoch.count() / 1'000'000'000) + ntp_unix_offset;
    const auto nanos = static_cast<std::uint64_t>(since_epoch.count() % 1'000'000'000);
    return (seconds << 32) | ((nanos << 32) / 1'000'000'000);
}

system_clock::time_point from_ntp(std::uint64_t ntp)
{
    const auto seconds = static_cast<std::int64_t>(ntp >> 32) - static_cast<std::int64_t>(ntp_unix_offset);
    const auto nanos = static_cast<std::int64_t>(((ntp & 0xffffffffULL) * 1'000'000'000) >> 32);
    return system_clock::time_point(
        std::chrono::duration_cast<system_clock::duration>(std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos)));
}

std::uint64_t read_timestamp(const ntp_packet& p, std::size_t at)
{
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | p[at + i];
    return v;
}

void write_timestamp(ntp_packet& p, std::size_t at, std::uint64_t v)
{
    for (std::size_t i = 0; i < 8; ++i) p[at + i] = static_cast<unsigned char>(v >> (56 - 8 * i));
}

int mode_of(const ntp_packet& p) { return p[0] & 0x7; }

// A client request: version 4, mode 3; its transmit timestamp comes back as the originate one.
ntp_packet make_request(std::uint64_t transmit)
{
    ntp_packet p{};
    p[0] = (4 << 3) | 3;
    write_timestamp(p, transmit_at, transmit);
    return p;
}

// What is wrong with a reply to `request`, or nothing.
std::optional<std::string> check_reply(const ntp_packet& reply, std::size_t length, const ntp_packet& request)
{
    if (length < reply.size()) return "the reply has " + std::to_string(length) + " bytes, fewer than 48";
    if (mode_of(reply) != 4) return "the reply's mode is " + std::to_string(mode_of(reply)) + ", not 4 (server)";
    if (read_timestamp(reply, originate_at) != read_timestamp(request, transmit_at))
        return "the reply's originate timestamp is not our transmit timestamp (not an answer to this request)";
    if (reply[1] == 0) return "the server sent a kiss-o'-death (stratum 0): it asks us to stop";
    if (read_timestamp(reply, transmit_at) == 0) return "the reply has no transmit timestamp";
    return std::nullopt;
}

std::string utc(system_clock::time_point t, bool with_millis)
{
    const std::time_t seconds = system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    std::ostringstream out;
    out << std::put_time(&tm, "%Y-%m-%d %H:%M:%S");
    if (with_millis) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - std::chrono::floor<std::chrono::seconds>(t));
        out << '.' << std::setw(3) << std::setfill('0') << ms.count();
    }
    out << " UTC";
    return out.str();
}

// ---- the script ----------------------------------------------------------------------------

// One SNTP exchange over the module's UDP link: the server's transmit time, or nothing (with
// the reason on stderr). A lost datagram is asked again, twice.
template <class UdpLink>
asio::awaitable<std::optional<system_clock::time_point>> sntp_query(UdpLink& link)
{
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (int attempt = 1; attempt <= 3; ++attempt) {
        const ntp_packet request = make_request(to_ntp(system_clock::now()));
        auto [send_ec, sent] = co_await link.async_send(asio::buffer(request), as_tuple(use_awaitable));
        (void)sent;
        if (send_ec) {
            std::cerr << "sending the SNTP request: " << send_ec.message() << "\n";
            co_return std::nullopt;
        }
        ntp_packet reply{};
        timer.expires_after(std::chrono::seconds(3));
        auto first = co_await (link.async_receive(asio::buffer(reply), as_tuple(use_awaitable)) ||
                               timer.async_wait(as_tuple(use_awaitable)));
        if (first.index() == 1) {
            std::cerr << "no SNTP reply within 3 s (attempt " << attempt << " of 3)\n";
            continue;
        }
        auto [receive_ec, length] = std::get<0>(first);
        if (receive_ec) {
            std::cerr << "receiving the SNTP reply: " << receive_ec.message() << "\n";
            co_return std::nullopt;
        }
        if (auto wrong = check_reply(reply, length, request)) {
            std::cerr << "udp_time: bad SNTP reply: " << *wrong << "\n";
            co_return std::nullopt;
        }
        std::cout << "SNTP reply: version " << ((reply[0] >> 3) & 0x7) << ", mode 4 (server), stratum "
                  << int(reply[1]) << ", " << length << " bytes\n";
        co_return from_ntp(read_timestamp(reply, transmit_at));
    }
    co_return std::nullopt;
}

template <class Client>
asio::awaitable<int> udp_time(Client& esp, const settings& s)
{
    if (!co_await espat::examples::start_and_join(esp, s.common)) co_return 1;

    // Firmware before 3.3 has one receive mode for all links, and UDP needs active.
    espat::net::network_options options;
    options.stream_receive = espat::net::receive_mode::active;
    espat::net::basic_network<Client> net(esp, options);
    if (auto ok = co_await net.async_start(); !ok) {
        std::cerr << "network: " << ok.error().message() << "\n";
        co_return 1;
    }

    // 1. The host's SNTP client, over a UDP link of the module.
    auto link = co_await net.async_open_udp(s.ntp_server, s.ntp_port);
    if (!link) {
        std::cerr << "opening a UDP link to " << s.ntp_server << ": " << link.error().message() << "\n";
        co_return 1;
    }
    const auto server_time = co_await sntp_query(*link);
    if (!server_time) co_return 1;
    std::cout << "SNTP server " << s.ntp_server << ":" << s.ntp_port << " transmit time: " << utc(*server_time, true)
              << "\n";

    // 2. The module's own SNTP client, at UTC+0, asking the same server. Until it has synchronised
    // it counts from 1970: a real module needs a few seconds.
    const espat::cipsntpcfg_request sntp{.enable = true, .timezone = 0, .server1 = s.ntp_server};
    if (auto configured = co_await esp.template async_set<espat::commands::cipsntpcfg>(sntp); !configured) {
        std::cerr << "AT+CIPSNTPCFG: " << configured.error().message() << "\n";
        co_return 1;
    }
    constexpr std::chrono::sys_days synchronised = std::chrono::year(2000) / 1 / 1;
    asio::steady_timer pause(co_await asio::this_coro::executor);
    for (int attempt = 0;; ++attempt) {
        auto module_time = co_await esp.template async_query<espat::commands::cipsntptime>();
        if (!module_time) {
            std::cerr << "AT+CIPSNTPTIME?: " << module_time.error().message() << "\n";
            co_return 1;
        }
        if (*module_time >= synchronised) {
            std::cout << "module's clock (AT+CIPSNTPTIME?): " << utc(*module_time, false) << "\n";
            break;
        }
        if (attempt == 15) {
            std::cerr << "the module's SNTP client has not synchronised after 15 s\n";
            co_return 1;
        }
        pause.expires_after(std::chrono::seconds(1));
        co_await pause.async_wait(use_awaitable);
    }
    co_return 0;
}

// ---- the simulator's side: an SNTP server on 127.0.0.1 with this host's clock --------------

asio::awaitable<void> serve_sntp(asio::ip::udp::socket& socket, std::string bad_reply)
{
    for (;;) {
        ntp_packet request{};
        asio::ip::udp::endpoint client;
        auto [ec, n] = co_await socket.async_receive_from(asio::buffer(request), client, as_tuple(use_awaitable));
        if (ec == asio::error::operation_aborted) co_return;
        if (ec || n < request.size() || mode_of(request) != 3) continue;
        const std::uint64_t received = to_ntp(system_clock::now());
        ntp_packet reply{};
        reply[0] = (4 << 3) | 4;  // no leap warning, version 4, mode 4 (server)
        reply[1] = 1;             // stratum 1: a reference clock (this host's)
        reply[2] = request[2];    // poll interval, as asked
        reply[3] = static_cast<unsigned char>(-20);  // precision: about a microsecond
        const std::string_view reference_id = "LOCL";
        std::copy(reference_id.begin(), reference_id.end(), reply.begin() + 12);
        write_timestamp(reply, 16, received);  // reference time
        write_timestamp(reply, originate_at, read_timestamp(request, transmit_at));
        write_timestamp(reply, receive_at, received);
        write_timestamp(reply, transmit_at, to_ntp(system_clock::now()));
        if (bad_reply == "mode") reply[0] = (4 << 3) | 3;
        if (bad_reply == "originate") write_timestamp(reply, originate_at, 12345);
        const std::size_t length = bad_reply == "short" ? 40 : reply.size();
        co_await socket.async_send_to(asio::buffer(reply, length), client, as_tuple(use_awaitable));
    }
}

}  // namespace

int main(int argc, char** argv)
{
    const settings s = parse(argc, argv);
    espat::examples::runner run("udp_time");
    if (s.common.port) return run.on_serial(s.common, [&](auto& esp) { return udp_time(esp, s); });

    // No hardware: both the UDP query and the module's SNTP client ask a server on 127.0.0.1.
    asio::ip::udp::socket sntp_server(run.io(), {asio::ip::address_v4::loopback(), 0});
    settings local = s;
    local.ntp_server = "127.0.0.1";
    local.ntp_port = sntp_server.local_endpoint().port();
    asio::co_spawn(run.io(), serve_sntp(sntp_server, s.bad_reply), asio::detached);
    return run.on_simulator([&](auto& esp) { return udp_time(esp, local); });
}
