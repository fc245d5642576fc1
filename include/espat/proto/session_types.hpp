// espat/proto/session_types.hpp — what goes into a session and what comes out of it: commands,
// their results and the actions it hands out; its options and statistics.
#pragma once

#include <espat/proto/event.hpp>
#include <espat/proto/parser.hpp>
#include <espat/proto/response_lines.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace espat::proto {

using session_clock = std::chrono::steady_clock;
using command_id = std::uint64_t;

// One command as the command layer encoded it.
struct command {
    std::string line;                                   // "AT+...\r\n", exactly as written
    std::chrono::milliseconds timeout{1000};            // for each phase: result, prompt, send
    std::optional<std::string> payload{};               // AT+CIPSEND data, written after '>'
    std::size_t recv_request = 0;                       // AT+CIPRECVDATA: the asked size
    int busy_retries = 3;                               // deadline extensions, and re-sends
    bool passthrough = false;                           // AT+CIPSEND in CIPMODE=1: done at '>'
    // No line: silence, "+++" alone, silence (the guards), then done. Start-up sends it to a
    // module that may have booted into passthrough (AT+SAVETRANSLINK) and hears lines as data.
    bool escape = false;
    // AT+CIPSENDEX: the module resolves the payload's escapes and stops at "\0"
    // (detail/sendex_data.hpp), so its "Recv <n> bytes" counts fewer than were written.
    bool escaped_data = false;
    // A data phase that ends at OK rather than SEND OK / SEND FAIL (AT+MQTTLONGCLIENTID and its
    // kin: OK, '>', the value's bytes, OK).
    bool ok_ends_data = false;
    // A send's link (for attribution: see protocol_error_reason::send_corrupted); -1 if none.
    int link = -1;
    // A send: the data length the module takes from a command line it echoed, for an echo
    // that is not the line written (a byte lost or doubled on the way); nullopt if that line
    // is no send. See session::set_echo().
    std::optional<std::size_t> (*data_length)(std::string_view echoed_line) = nullptr;
};

struct command_result {
    std::error_code ec;                          // {} on OK / SEND OK
    std::optional<event_kind> final_result;      // none on timeout, reset, cancel
    response_lines lines;                        // info and text lines, in order
    std::vector<std::string> diagnostics;        // raw status / error lines (ERR CODE, busy, ...)
    std::optional<std::uint32_t> module_error;   // the last ERR CODE
    std::vector<std::string> frames;             // +CIPRECVDATA payloads; the chunks of an HTTP body
};

struct write_bytes {
    std::string bytes;
    friend bool operator==(const write_bytes&, const write_bytes&) = default;
};
struct arm_timer {
    session_clock::time_point deadline;  // time_point::max(): disarm
    friend bool operator==(const arm_timer&, const arm_timer&) = default;
};
struct complete {
    command_id id;
    command_result result;
};
struct report {
    owned_event event;
};
// "ready": the module rebooted. A report sink (set_report_sink) got the "ready" event itself,
// in wire order; without one, this action stands for it among the report actions.
struct module_reset {};

using action = std::variant<write_bytes, arm_timer, complete, report, module_reset>;

struct session_options {
    std::chrono::milliseconds probe_timeout{1000};   // the "AT" probe after a timeout
    int max_probes = 3;                              // then the queue continues regardless
    std::chrono::milliseconds quiet{50};             // silence after the probe's OK
    std::chrono::milliseconds backoff_initial{100};  // busy ERROR: first re-send delay, doubled
    std::chrono::milliseconds backoff_max{1600};
    // Silence before "+++". The module ends a passthrough packet after 20 ms of silence
    // (AT+TRANSINTVL's default) measured where the bytes arrive: a host guard of exactly 20 ms
    // can reach it shorter, and "+++" then joins the data before it and goes to the peer as
    // data. So it has plus_gap's margin (below). Raise both if AT+TRANSINTVL is raised.
    std::chrono::milliseconds guard_before{60};
    std::chrono::milliseconds guard_after{1000};     // after "+++", before the next command
    parser_limits limits{};
    // What one response may hold: its lines, the data of AT+CIPRECVDATA and the diagnostics
    // (busy, status and protocol error lines). Past it the rest is dropped and the command,
    // drained to its final result as usual, fails with errc::response_too_large, so memory
    // stays bounded whatever the module sends and however long a busy command is extended.
    std::size_t max_response_bytes = 64 * 1024;
    // How long a +IPD frame whose payload ended a read waits for what follows it before it is
    // handed out unverified (firmware that prints nothing after a payload may go quiet).
    std::chrono::milliseconds frame_hold{20};
    // Passthrough: the module leaves it on a packet of exactly "+++" (a packet ends after 20 ms
    // of silence, or at 2048 bytes), so the line never goes quiet after application bytes that
    // end in three '+': the third and later are held back, and go with the data that follows
    // or, if none comes, after plus_gap of silence, at most two in a packet. The gap must reach
    // the module as silence: longer than 20 ms, and than what the UART still has to send of
    // the bytes before it. Turning the guard off is for tests.
    bool passthrough_guard = true;
    std::chrono::milliseconds plus_gap{60};
};

// What the session dropped or recovered from; for logs and tests.
struct session_stats {
    std::size_t stray_lines = 0;         // lines and results with no command to take them
    std::size_t late_send_results = 0;   // SEND OK / SEND FAIL no current send can own
    std::size_t noise = 0;               // boot garbage
    std::size_t protocol_errors = 0;
    std::size_t timeouts = 0;
    std::size_t busy_resends = 0;
    std::size_t resyncs = 0;
    std::size_t resync_failures = 0;     // probes exhausted
    std::size_t resets = 0;
    std::size_t garbled_echoes = 0;      // a command line the module echoed otherwise than written
    std::size_t frames_released = 0;     // +IPD frames handed out unverified after frame_hold
};

}  // namespace espat::proto
