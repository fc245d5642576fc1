// espat-sim — a simulated ESP-AT module on a pseudo-terminal (or a TCP port), for trying a
// driver with no hardware attached:
//
//   espat-sim [--firmware 2|3|4|esp8266|nonos] [--echo on|off] [--ap SSID:PASSWORD]...
//             [--start joined|not-joined] [--listen HOST:PORT] [--reset-delay MS]
//             [--bind-address ADDR] [--allow CIDR|any]... [--flow-control on|off]
//
// With a pty, the slave's path is the first line of standard output (then e.g.
// `picocom /dev/pts/7`); with --listen, "listening HOST:PORT" is. It serves until SIGINT or
// SIGTERM. Over TCP one host is served at a time, each with a fresh module.
//
// It is a real network proxy: whoever drives it opens connections and sends datagrams from
// this host. By default its links reach loopback only (127.0.0.0/8, ::1) and its server and
// UDP sockets live on 127.0.0.1; --allow and --bind-address widen that, deliberately.
//
// Baud-rate pacing and byte faults are stream wrappers around the transport (module::serve
// takes any Asio stream): wrap `pty.master` or the accepted socket where marked below.
#include <espat/sim/links.hpp>  // use_tuple
#include <espat/sim/faulty_stream.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/paced_stream.hpp>
#include <espat/sim/pty.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct options {
    espat::sim::module_options module;
    unsigned baud = 0;                          // 0: output as fast as the transport takes it
    espat::sim::byte_fault_options line_faults;  // what happens to bytes on the wire
    std::optional<std::string> listen_host;
    std::uint16_t listen_port = 0;
    std::vector<espat::sim::network_prefix> allowed;  // --allow; none given: loopback only
    bool allow_any = false;                           // --allow any
};

constexpr const char* usage_text =
    "usage: espat-sim [--firmware 2|3|4|esp8266|nonos] [--echo on|off] [--ap SSID:PASSWORD]...\n"
    "                 [--start joined|not-joined] [--listen HOST:PORT] [--reset-delay MS]\n"
    "                 [--baud N] [--fault NAME=P]... [--seed N]\n"
    "                 [--bind-address ADDR] [--allow CIDR|any]... [--flow-control on|off]\n"
    "\n"
    "Serves a simulated ESP-AT module on a pseudo-terminal (its path is the first line of\n"
    "standard output) or, with --listen, on a TCP port, until SIGINT or SIGTERM.\n"
    "It is a real network proxy: its links are connections and datagrams from this host.\n"
    "\n"
    "  --firmware 2        ESP32, ESP-AT 2.2.0 (default): AT+CIPRECVMODE, AT+CIPSTATUS, CIPSEND <= 2048\n"
    "  --firmware 3        ESP32, ESP-AT 3.2.0: what lwESP expects of an ESP32 (>= 3.2.0), CIPSEND <= 8192\n"
    "  --firmware 4        ESP32, ESP-AT 4.1.0: AT+CIPRECVTYPE and AT+CIPSTATE instead\n"
    "  --firmware esp8266  ESP8266, ESP-AT 2.2.1: 2.x framing, AT+CIPSSLSIZE accepted\n"
    "  --firmware nonos    ESP8266, NONOS AT 1.7.4: AT 1.x's _CUR/_DEF commands, \"> \" prompt, bare +IPD addresses\n"
    "  --echo on|off       echo at power-on (a reset turns it on again, as on a module)\n"
    "  --ap SSID:PASSWORD  an access point the station can join (repeatable; default espressif:1234567890)\n"
    "  --start             joined (default): on the first AP with an IP; not-joined: as after AT+RESTORE\n"
    "  --reset-delay MS    OK of AT+RST / AT+RESTORE to \"ready\" (default 50, at least 20: lwESP\n"
    "                      flushes its tty on the OK and would lose an earlier \"ready\")\n"
    "  --listen HOST:PORT  serve the module on a TCP port instead of a pty; keep HOST a loopback\n"
    "                      address: whoever connects drives a network proxy on this host\n"
    "  --bind-address ADDR where AT+CIPSERVER listens and UDP links bind (default 127.0.0.1; ::1\n"
    "                      or :: for IPv6 remotes when it is loopback or 0.0.0.0); UDP links to\n"
    "                      other hosts need 0.0.0.0 or this host's address on their network\n"
    "  --allow CIDR|any    a network links may reach, both ways (repeatable): connects, datagrams,\n"
    "                      server clients, pings. Default: 127.0.0.0/8 and ::1/128 only; given,\n"
    "                      exactly the networks listed; any: every network. Outside them the\n"
    "                      module acts as one that cannot reach the network (ERROR, SEND FAIL)\n"
    "  --flow-control on|off  AT+UART_CUR accepts RTS/CTS (default on); off: ERROR, as a module\n"
    "                      without the pins\n"
    "  --baud N            pace the module's output at N baud, 8N1 (default: unpaced)\n"
    "  --fault NAME=P      inject a fault with probability P (0..1) per occasion; repeatable. Module:\n"
    "                      busy, err-code-busy, reset, send-fail, echo-split, report-in-send,\n"
    "                      closed-early. Line (module -> host bytes): drop, duplicate, split, delay\n"
    "  --seed N            seed of the fault generators (default 1: runs repeat)\n";

int usage(const char* why)
{
    std::fprintf(stderr, "espat-sim: %s\n%s", why, usage_text);
    return 2;
}

template <class T>
bool parse_number(std::string_view s, T& out)
{
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

// Returns an error message, or nullptr.
const char* parse(int argc, char** argv, options& o)
{
    bool default_aps = true;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") return "";
        if (i + 1 >= argc) return "missing value after a flag";
        const std::string_view value = argv[++i];
        if (flag == "--firmware") {
            if (value == "2") o.module.firmware = espat::sim::esp_at_2();
            else if (value == "3") o.module.firmware = espat::sim::esp_at_3();
            else if (value == "4") o.module.firmware = espat::sim::esp_at_4();
            else if (value == "esp8266") o.module.firmware = espat::sim::esp8266_at_2();
            else if (value == "nonos") o.module.firmware = espat::sim::nonos();
            else return "--firmware takes 2, 3, 4, esp8266 or nonos";
        } else if (flag == "--echo") {
            if (value != "on" && value != "off") return "--echo takes on or off";
            o.module.echo = value == "on";
        } else if (flag == "--ap") {
            const auto colon = value.find(':');
            if (colon == std::string_view::npos) return "--ap takes SSID:PASSWORD";
            if (default_aps) o.module.access_points.clear();
            default_aps = false;
            o.module.access_points.push_back({std::string(value.substr(0, colon)), std::string(value.substr(colon + 1))});
        } else if (flag == "--start") {
            if (value == "joined") o.module.start = espat::sim::start_state::joined;
            else if (value == "not-joined") o.module.start = espat::sim::start_state::not_joined;
            else return "--start takes joined or not-joined";
        } else if (flag == "--listen") {
            const auto colon = value.rfind(':');
            if (colon == std::string_view::npos || !parse_number(value.substr(colon + 1), o.listen_port))
                return "--listen takes HOST:PORT";
            o.listen_host = std::string(value.substr(0, colon));
        } else if (flag == "--baud") {
            if (!parse_number(value, o.baud) || o.baud == 0) return "--baud takes a positive number";
        } else if (flag == "--seed") {
            std::uint32_t seed = 0;
            if (!parse_number(value, seed)) return "--seed takes a number";
            o.module.faults.seed = seed;
            o.line_faults.seed = seed;
        } else if (flag == "--fault") {
            const auto eq = value.find('=');
            if (eq == std::string_view::npos) return "--fault takes NAME=PROBABILITY";
            const std::string_view name = value.substr(0, eq);
            double p = -1;
            try {
                p = std::stod(std::string(value.substr(eq + 1)));
            } catch (const std::exception&) {
            }
            if (!(p >= 0 && p <= 1)) return "--fault: the probability is a number from 0 to 1";
            auto& f = o.module.faults;
            auto& l = o.line_faults;
            if (name == "busy") f.busy_before_result = p;
            else if (name == "err-code-busy") f.err_code_busy = p;
            else if (name == "reset") f.spontaneous_reset = p;
            else if (name == "send-fail") f.send_fail = p;
            else if (name == "echo-split") f.report_inside_echo = p;
            else if (name == "report-in-send") f.report_inside_send = p;
            else if (name == "closed-early") f.closed_before_data_read = p;
            else if (name == "drop") l.drop_probability = p;
            else if (name == "duplicate") l.duplicate_probability = p;
            else if (name == "split") l.split_probability = p;
            else if (name == "delay") l.delay_probability = p;
            else return "--fault: unknown fault name";
        } else if (flag == "--bind-address") {
            std::error_code ec;
            o.module.bind_address = asio::ip::make_address(std::string(value), ec);
            if (ec) return "--bind-address takes an IPv4 or IPv6 address";
        } else if (flag == "--allow") {
            if (value == "any") {
                o.allow_any = true;
            } else if (auto n = espat::sim::network_prefix::parse(value)) {
                o.allowed.push_back(*n);
            } else {
                return "--allow takes an address prefix (10.0.0.0/8, ::1/128, an address) or any";
            }
        } else if (flag == "--flow-control") {
            if (value != "on" && value != "off") return "--flow-control takes on or off";
            o.module.uart_flow_control = value == "on";
        } else if (flag == "--reset-delay") {
            unsigned ms = 0;
            if (!parse_number(value, ms) || ms < 20) return "--reset-delay takes milliseconds, at least 20";
            o.module.reset_delay = std::chrono::milliseconds(ms);
        } else {
            return "unknown flag";
        }
    }
    // Loopback unless told otherwise: the module's links are this host's connections.
    if (o.allow_any) o.module.allowed_networks.clear();
    else if (o.allowed.empty()) o.module.allowed_networks = espat::sim::loopback_networks();
    else o.module.allowed_networks = o.allowed;
    return nullptr;
}

// The module's output goes through the line faults, then the baud pacing, then the transport:
// faults act on bytes as sent, pacing on what reaches the wire.
template <class Stream>
asio::awaitable<void> serve_on(espat::sim::module& module, Stream& transport, const options& o)
{
    espat::sim::paced_stream<Stream&> paced(transport, o.baud);
    espat::sim::faulty_stream<espat::sim::paced_stream<Stream&>&> line(paced, o.line_faults);
    co_await module.serve(line);
}

asio::awaitable<void> serve_tcp(asio::ip::tcp::acceptor& acceptor, const options& o)
{
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(espat::sim::use_tuple);
        if (ec) co_return;
        espat::sim::module module(acceptor.get_executor(), o.module);
        co_await serve_on(module, socket, o);
    }
}

}  // namespace

int main(int argc, char** argv)
{
    options o;
    if (const char* why = parse(argc, argv, o)) {
        if (*why == '\0') {  // --help
            std::fputs(usage_text, stdout);
            return 0;
        }
        return usage(why);
    }
    try {
        asio::io_context io;
        asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](std::error_code, int) { io.stop(); });
        if (o.listen_host) {
            const auto host = asio::ip::make_address(*o.listen_host);
            if (!host.is_loopback())
                std::fprintf(stderr, "espat-sim: warning: listening on %s, not a loopback address: whoever reaches it "
                                     "can open connections from this host through the module\n",
                             o.listen_host->c_str());
            asio::ip::tcp::acceptor acceptor(io, {host, o.listen_port});
            std::printf("listening %s:%u\n", o.listen_host->c_str(), unsigned(acceptor.local_endpoint().port()));
            std::fflush(stdout);
            asio::co_spawn(io, serve_tcp(acceptor, o), asio::detached);
            io.run();
        } else {
            auto pty = espat::sim::open_pty(io.get_executor());
            espat::sim::module module(io.get_executor(), o.module);
            std::printf("%s\n", pty.slave_path.c_str());
            std::fflush(stdout);
            asio::co_spawn(io, serve_on(module, pty.master, o), [&](std::exception_ptr) { io.stop(); });
            io.run();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "espat-sim: %s\n", e.what());
        return 1;
    }
    return 0;
}
