// espat/sim/module_options.hpp — what a simulated module is configured with: its firmware
// personality, the access points it sees, its start state, its timing, where its sockets live
// and which networks they may reach, its faults and its certificates.
#pragma once

#include <espat/config.hpp>

#include <espat/commands/values.hpp>
#include <espat/commands/wifi.hpp>
#include <espat/sim/networks.hpp>
#include <espat/sim/personality.hpp>
#include <espat/sim/tls_credentials.hpp>

#include <asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace espat::sim {

// An access point the simulated station can see and join.
struct access_point_config {
    std::string ssid;
    std::string password;
    espat::mac_address bssid{{0x24, 0x0a, 0xc4, 0x10, 0x20, 0x30}};
    std::uint8_t channel = 6;
    int rssi = -45;
    espat::wifi_auth auth = espat::wifi_auth::wpa2_psk;
};

// Misbehaviour real modules show (firmware-quirks.md), each with its probability per occasion.
// All zero by default: a module built with default options never injects anything.
struct fault_options {
    std::uint32_t seed = 1;
    double busy_before_result = 0;      // "busy p..." before a command's answer
    double err_code_busy = 0;           // "ERR CODE:0x010b0000" + "busy p..." before the answer
    double spontaneous_reset = 0;       // after a command: noise, then "ready"
    double send_fail = 0;               // half the data goes out, then "SEND FAIL"
    double report_inside_echo = 0;      // a report arriving while the host types splits the line's echo
    // Reports (+IPD, CONNECT, CLOSED) that arrive during a send come out between '>' and
    // "Recv <n> bytes" (firmware-quirks.md); without this fault they wait for SEND OK.
    double report_inside_send = 0;
    // Passive mode: the peer's close is reported at once though received data still waits for
    // AT+CIPRECVDATA (some firmware versions); the data stays readable, the link goes once read.
    double closed_before_data_read = 0;
    // A <id>,CLOSED or a passive "+IPD,<id>,<len>" notification is not printed, as if a noisy
    // line had lost it: the host must find out by asking (network_options::reconcile_after).
    double lost_report = 0;
    // The link dies while the module takes a send's data (seen in the field): what arrived
    // before comes out, then <id>,CLOSED, and no Recv, SEND OK or SEND FAIL ever. Passive
    // data held on the module stays readable.
    double closed_during_send = 0;
};

// How the simulator fails a command on purpose (sim::module::fail_command): for tests that fail
// each step of a multi-command operation in each way a module can.
enum class planned_failure {
    error,            // "ERROR", no ERR CODE line
    err_code,         // "ERR CODE:0x01090000" (execution failed), "ERROR"
    busy,             // "busy p..." then "ERROR", for the line and its re-sends in a row for 250 ms
    silence,          // no answer at all (the line is not run)
    reset,            // the module reboots instead of answering ("ready" after reset_delay)
    // The line runs as usual; right after its answer every link the module has open ends as if
    // its peer had hung up: "<id>,CLOSED" ("CLOSED" in single-link mode), or in passthrough the
    // module's own reconnection. A line run while no link is open: nothing happens.
    link_closed,
};

// The host's end of the serial line as its port is set, for a module that can see it (over a
// pseudo-terminal, sim::pty::host_line() reads it from the slave's termios).
struct host_line_settings {
    std::uint32_t baud_rate = 0;
    bool rts_cts = false;  // the host sends only while CTS (the module's RTS) says it may
};

// What the module is like when it starts.
enum class start_state {
    joined,      // station mode, joined to the first access point, IP obtained
    not_joined,  // station mode, no AP joined (what AT+RESTORE leaves)
};

struct module_options {
    personality firmware = esp_at_2();
    std::vector<access_point_config> access_points{{"espressif", "1234567890"}};
    start_state start = start_state::joined;
    bool echo = true;                                   // ATE1 at start-up
    std::chrono::milliseconds reset_delay{50};           // OK of AT+RST -> "ready" (>= 20 ms)
    std::chrono::milliseconds join_delay{5};             // AT+CWJAP -> WIFI CONNECTED
    // A peer's data reaches the host this long after it reached the module: its +IPD (or the
    // passive mode's notification, with the data in the module's buffer) comes out no sooner.
    // On loopback a peer answers within microseconds, which no network through a module's
    // radio does: without the delay an echo's +IPD can leave in the same burst as the SEND OK
    // before it, and a driver that reads what waits after SEND OK and drops the rest (Adafruit's
    // ESP_ATcontrol) loses it. Data already waiting behind data that was delayed follows it at
    // once (a burst is not slowed down). Passthrough data is not delayed. Zero: at once.
    std::chrono::milliseconds ipd_delay{3};
    // The simulator is a real network proxy: its links are sockets of this host. The host address
    // they live on: AT+CIPSERVER listens on it, UDP links bind to it (a UDP socket hears whoever
    // sends to its port), and AT+CIPSTART's <local IP> must be it. For a remote of the other IP
    // family a link takes the same kind of address in that family: loopback 127.0.0.1 <-> ::1,
    // any 0.0.0.0 <-> ::; a specific address has no counterpart, so such a link fails (ERROR).
    // A UDP link to a broadcast or multicast group must hear the group and unicast replies to
    // its port: it binds to the any address, tied to this address's interface (SO_BINDTODEVICE;
    // where that cannot be done, it binds to the group address and hears the group alone). TCP and SSL
    // client links are not bound: the kernel picks their source address, and a connected socket
    // takes data from its peer alone.
    asio::ip::address bind_address = asio::ip::address_v4::loopback();
    // The remote networks links may reach, in both directions: a connect (TCP, SSL, the link
    // AT+SAVETRANSLINK saved), a datagram sent or received, a client of AT+CIPSERVER, AT+PING.
    // Outside them the module behaves as one that cannot reach the network: AT+CIPSTART answers
    // ERROR then CLOSED, a datagram is not sent (SEND FAIL) or not heard, a client is hung up
    // on, a ping times out. Names are still resolved by the host's resolver (AT+CIPDOMAIN), and
    // the address they resolve to is what is checked. Empty: every network.
    std::vector<network_prefix> allowed_networks{};
    // Listen on this host port whatever AT+CIPSERVER asks (0: any free port; read it back with
    // server_port()). Unset: the port asked for (AT+CIPSERVER=1,0 also means any free port).
    std::optional<std::uint16_t> server_port_override{};
    std::size_t output_limit = 64 * 1024;  // link readers wait while this much output is queued
    // AT+UART_CUR takes a flow-control setting (the module's RTS/CTS pins are wired). False: any
    // flow control but 0 is answered ERROR, as by a module without those pins, and the UART
    // keeps its settings.
    bool uart_flow_control = true;
    // The host's end of the line, read as bytes cross. Set, the line carries bytes as a real
    // UART does: only at the module's rate (AT+UART_CUR's, which takes effect once its answer
    // is out; a reset goes back to the default), and from a host that waits for CTS only when
    // the module drives RTS (flow control 3). What a real line turns into noise is lost here.
    // Unset: bytes cross at any setting, as a pty carries them.
    std::function<host_line_settings()> host_line{};
    // MQTT (AT+MQTT*): how long AT+MQTTCONN, a QoS 1/2 publish, a subscribe or an unsubscribe
    // waits for the broker when the command gives no <timeout_ms> (ESP-AT 5.0's default is
    // 15 s; older firmware documents none), and how long a client connected with
    // <reconnect>=1 waits between tries after a loss (esp-mqtt's default reconnect timeout).
    std::chrono::milliseconds mqtt_timeout{15000};
    std::chrono::milliseconds mqtt_reconnect_interval{10000};
    fault_options faults{};
    // The module's flashed TLS partitions: AT+CIPSSLCCONF's <pki_number> and <ca_number> index
    // this list; the SSL server uses the first entry (certificate, key, and CA for clients).
    // Empty: no certificates, so SSL that needs one fails as on a module without them.
    std::vector<tls_credentials> tls{};
};

}  // namespace espat::sim
