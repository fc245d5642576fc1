// espat/client/options.hpp — what a client is configured with and what it reports about itself:
// options, counters, the firmware profile chosen at start-up, and the last failure's details.
#pragma once

#include <espat/commands/firmware.hpp>
#include <espat/commands/tcpip.hpp>
#include <espat/proto/session.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace espat {

// Per call: the descriptor's timeout unless given; busy extensions and re-sends.
struct call_options {
    std::optional<std::chrono::milliseconds> timeout{};
    int busy_retries = 3;
};

struct client_options {
    proto::session_options session{};
    // Start-up: "AT" until OK, each attempt waiting this long (a module still booting is silent
    // or prints noise), at most this many attempts.
    std::chrono::milliseconds start_probe_timeout{500};
    int start_attempts = 10;
    // After this many unanswered probes start-up sends "+++" between guard times
    // (session_options::guard_before / guard_after): a module that booted into passthrough
    // (AT+SAVETRANSLINK=1) takes "AT" as data for its link and answers only in command mode.
    // 0: never.
    int passthrough_escape_after = 1;
    // The serial line, for a client over a serial port (asio::basic_serial_port, or a stream with
    // its get_option / set_option of baud_rate and flow_control); ignored for other streams.
    // Start-up's last step sends AT+UART_CUR=<rate>,8,1,0,<flow control>; the module answers at
    // the old settings and switches, the port follows, and "AT" at the new settings is tried
    // baud_verify_attempts times. Unset: the port's rate.
    std::optional<std::uint32_t> baud_rate{};
    // RTS/CTS hardware flow control on both sides: AT+UART_CUR's flow control 3 and the port's
    // flow_control::hardware, verified after the switch ("AT", and AT+UART_CUR? where the
    // firmware answers it). For high rates, where the host or the module cannot always empty
    // its receive FIFO in time; the module's RTS and CTS pins must be wired to the port's CTS and
    // RTS. When the port refuses it, the module answers ERROR, or the line is silent with it
    // (pins not wired), start-up goes on with no flow control on both sides and
    // firmware_profile::line says why (flow_control_refusal); the baud rate change still applies.
    bool rts_cts = false;
    int baud_verify_attempts = 3;
    // Before its first write the client reads for this long: what the module printed before
    // (boot text, "ready", stray bytes waiting in the port's buffer) is then no command's
    // answer. 0: write at once.
    std::chrono::milliseconds initial_drain{20};
    // async_start() reboots the module first (AT+RST, then its "ready" within ready_timeout): clean
    // whatever an earlier program left (links, a server, passthrough, modes), at the cost of a
    // boot (a second or two on real modules) and of the settings not kept in flash. Off: start()
    // takes the module as it is, and the network's async_start() closes leftover links
    // (net::network_options::close_leftover_links).
    bool reset_on_start = false;
    std::chrono::milliseconds ready_timeout{5000};
    // An unexpected "ready" runs the start-up sequence again (if async_start() ran before).
    bool restart_after_reset = true;
    // Wi-Fi events kept for next_wifi_event(); beyond it the oldest are dropped (and counted).
    std::size_t wifi_event_capacity = 32;
};

// What the client has done, for logs, tests and benchmarks.
struct client_stats {
    std::size_t bytes_in = 0;
    std::size_t bytes_out = 0;
    std::size_t commands = 0;        // submitted to the module (start-up's included)
    std::size_t failures = 0;        // completed with an error (cancellations included)
    std::size_t cancellations = 0;
    std::size_t starts = 0;          // start-up sequences run, first and after resets
    std::size_t wifi_events_dropped = 0;
    proto::session_stats session{};  // timeouts, busy re-sends (retries), resyncs, resets, ...
};

// Why RTS/CTS flow control, asked for with client_options::rts_cts, is not in effect.
enum class flow_control_refusal : std::uint8_t {
    none,          // not asked for, or in effect
    port,          // the serial port refused flow_control::hardware (or did not keep it)
    module,        // the module answered ERROR to AT+UART_CUR with flow control 3
    verification,  // both took it, then the line stayed silent (RTS/CTS not wired?) or
                   // AT+UART_CUR? showed no flow control: switched off again on both sides
};

// The serial line as start-up left it, the same on both sides.
struct line_settings {
    std::uint32_t baud_rate = 0;  // the port's rate (0: the port did not say)
    bool rts_cts = false;         // RTS/CTS hardware flow control
    flow_control_refusal refused = flow_control_refusal::none;

    friend bool operator==(const line_settings&, const line_settings&) = default;
};

// What AT+GMR said and the forms chosen from it (DESIGN.md "Firmware versions").
struct firmware_profile {
    firmware_info info{};
    std::size_t max_send_length = 2048;  // one AT+CIPSEND's limit
    bool has_cipstate = false;           // AT+CIPSTATE? (4.1+) instead of AT+CIPSTATUS
    bool has_ciprecvtype = false;        // per-link AT+CIPRECVTYPE (3.3+) instead of AT+CIPRECVMODE
    // Start-up found the module in passthrough and left it with "+++" (a link saved by
    // AT+SAVETRANSLINK=1, most likely): it is in command mode now, with AT+CIPMODE=1 and its
    // link 0 open, and the saved link is left as it is (AT+SAVETRANSLINK=0,... clears it).
    bool left_passthrough = false;
    // For a client over a serial port: the line settings in effect (client_options::baud_rate,
    // rts_cts). When start-up was asked to change none, the port's own.
    std::optional<line_settings> line{};

    [[nodiscard]] static firmware_profile of(firmware_info info)
    {
        firmware_profile p;
        const version v = info.at_version;
        p.max_send_length = max_send_length_for(v);
        p.has_cipstate = !(v < commands::cipstate::since);
        p.has_ciprecvtype = !(v < commands::ciprecvtype::since);
        p.info = std::move(info);
        return p;
    }

private:
    static std::size_t max_send_length_for(const version& v) { return espat::max_send_length(v); }
};

// The details of a failed command that an error_code cannot carry: what was sent (passwords
// redacted), the module's ERR CODE, and the raw status lines it printed.
struct command_failure {
    std::string command;                       // the command line without its line end
    std::error_code ec;
    std::optional<std::uint32_t> module_error;
    std::vector<std::string> diagnostics;      // ERR CODE, busy p..., UNLINK, ...
    proto::response_lines lines;               // information lines of the failed response
};

}  // namespace espat
