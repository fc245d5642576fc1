// espat_sim_options.hpp — espat-sim's command line: its flags, their help text and the parser
// that turns them into the simulator's options. Shared with the tests that run the README's
// recipes (tests/integration/sim_drivers_test.cpp), so a recipe's flags are tested exactly as
// espat-sim reads them.
#pragma once

#include <espat/sim/faulty_stream.hpp>
#include <espat/sim/module_options.hpp>
#include <espat/sim/networks.hpp>

#include <asio/ip/address.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace espat_sim {

struct options {
    espat::sim::module_options module;
    unsigned baud = 0;                          // 0: output as fast as the transport takes it
    espat::sim::byte_fault_options line_faults;  // what happens to bytes on the wire
    std::optional<std::string> listen_host;
    std::uint16_t listen_port = 0;
    std::vector<espat::sim::network_prefix> allowed;  // --allow; none given: loopback only
    bool allow_any = false;                           // --allow any
    bool trace = false;                               // --trace or --trace=FILE
    std::string trace_file;                           // empty: standard error
};

inline constexpr const char* usage_text =
    "usage: espat-sim [--firmware 2|3|4|esp8266|nonos] [--echo on|off] [--ap SSID:PASSWORD]...\n"
    "                 [--start joined|not-joined] [--listen HOST:PORT] [--reset-delay MS]\n"
    "                 [--ipd-delay MS] [--baud N] [--fault NAME=P]... [--seed N]\n"
    "                 [--bind-address ADDR] [--allow CIDR|any]... [--flow-control on|off]\n"
    "                 [--trace | --trace=FILE]\n"
    "\n"
    "Serves a simulated ESP-AT module on a pseudo-terminal (its path is the first line of\n"
    "standard output) or, with --listen, on a TCP port, until SIGINT or SIGTERM.\n"
    "It is a real network proxy: its links are connections and datagrams from this host.\n"
    "\n"
    "  --firmware 2        ESP32, ESP-AT 2.2.0 (default): AT+CIPRECVMODE, AT+CIPSTATUS, CIPSEND <= 2048\n"
    "  --firmware 3        ESP32, ESP-AT 3.2.0: what lwESP expects of an ESP32 (>= 3.2.0), CIPSEND <= 8192,\n"
    "                      AT+CIPSTATE? beside AT+CIPSTATUS\n"
    "  --firmware 4        ESP32, ESP-AT 4.1.0: AT+CIPRECVTYPE and AT+CIPSTATE instead\n"
    "  --firmware esp8266  ESP8266, ESP-AT 2.2.2: 2.x framing, AT+CIPSTATE? beside AT+CIPSTATUS,\n"
    "                      AT+CIPSSLSIZE accepted\n"
    "  --firmware nonos    ESP8266, NONOS AT 1.7.4: AT 1.x's _CUR/_DEF commands, \"> \" prompt, bare +IPD addresses\n"
    "  --echo on|off       echo at power-on (a reset turns it on again, as on a module)\n"
    "  --ap SSID:PASSWORD  an access point the station can join (repeatable; default espressif:1234567890)\n"
    "  --start             joined (default): on the first AP with an IP; not-joined: as after AT+RESTORE\n"
    "  --reset-delay MS    OK of AT+RST / AT+RESTORE to \"ready\" (default 50, at least 20: lwESP\n"
    "                      flushes its tty on the OK and would lose an earlier \"ready\")\n"
    "  --ipd-delay MS      a peer's data reaches the host (+IPD) this long after it reached the\n"
    "                      module (default 3; 0: at once). A real network never answers within\n"
    "                      microseconds, and drivers that drop what follows SEND OK in a read\n"
    "                      (Adafruit's) lose an echo that comes out with it\n"
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
    "  --seed N            seed of the fault generators (default 1: runs repeat)\n"
    "  --trace             every byte of the serial line, both ways, on standard error: a transcript\n"
    "                      ('>' host to module, '<' module to host, '# t=S' the time of each read or\n"
    "                      write in seconds) that espat's replay tools read\n"
    "  --trace=FILE        the same into FILE (created or truncated)\n"
    "  -h, --help          print this text and exit\n";

template <class T>
bool parse_number(std::string_view s, T& out)
{
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

// Reads the flags (without the program name) into `o`. Returns an error message; "" for
// --help; nullptr when all is well.
inline const char* parse(const std::vector<std::string_view>& args, options& o)
{
    bool default_aps = true;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view flag = args[i];
        if (flag == "--help" || flag == "-h") return "";
        // The one flag whose value is optional, so it is given with '=' or not at all.
        if (flag == "--trace") {
            o.trace = true;
            o.trace_file.clear();
            continue;
        }
        if (flag.starts_with("--trace=")) {
            o.trace = true;
            o.trace_file = std::string(flag.substr(8));
            if (o.trace_file.empty()) return "--trace=FILE needs a file name (--trace alone: standard error)";
            continue;
        }
        if (i + 1 >= args.size()) return "missing value after a flag";
        const std::string_view value = args[++i];
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
        } else if (flag == "--ipd-delay") {
            unsigned ms = 0;
            if (!parse_number(value, ms)) return "--ipd-delay takes milliseconds (0 or more)";
            o.module.ipd_delay = std::chrono::milliseconds(ms);
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

// The same from a command line written out ("--firmware 3 --start not-joined"): the flags
// separated by spaces, none of them holding one.
inline const char* parse_line(std::string_view line, options& o)
{
    std::vector<std::string_view> args;
    while (!line.empty()) {
        const auto space = line.find(' ');
        if (space != 0) args.push_back(line.substr(0, space));
        if (space == std::string_view::npos) break;
        line.remove_prefix(space + 1);
    }
    return parse(args, o);
}

}  // namespace espat_sim
