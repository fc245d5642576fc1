// fuzz_session.cpp — libFuzzer target for espat::proto::session, the sans-I/O conversation.
//
// An input is a program: a few option bytes, then operations a driver and a module could
// perform in any order (submit every kind of command, cancel, leave passthrough, raw writes,
// write completions, time passing, timers firing, module output fed in arbitrary chunks, mostly
// built from realistic ESP-AT tokens). After each step the session's actions are checked; at
// the end the module falls silent and the driver keeps completing writes and firing timers,
// and every command must complete within a bound computed from the options. See README.md.
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -D_GLIBCXX_ASSERTIONS \
//       -Iinclude tests/fuzz/fuzz_session.cpp -o fuzz_session
#include <espat/proto/session.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

using namespace espat::proto;
using std::chrono::milliseconds;
using clock_type = session::clock;
using time_point = clock_type::time_point;
constexpr time_point never = time_point::max();

// Input layout (missing bytes read as 0):
//   [0]      flags: bit 0 small max_response_bytes, bit 1 small parser limits, bit 2 late
//            timers (they fire when the driver next looks, not at their deadline), bit 3 report
//            sink instead of report actions, bits 4-5 +CIPRECVDATA remote mode, bit 6 short
//            session times
//   [1..2]   max_response_bytes = 1 + v % 2048  (small only)
//   [3]      max_probes = v % 4
//   [4..5]   parser max_line = 1 + v % 512      (small parser limits only; payloads 64)
//   [6..]    operations: an opcode byte, then its arguments (see run_program)

// The module's output, as realistic pieces: the fuzzer strings them together and mixes in raw
// bytes, so deep states are reached at once. "%R" stands for "Recv <n> bytes" with n the
// payload size of the last send submitted.
constexpr std::string_view tokens[] = {
    "\r\nOK\r\n",
    "\r\nERROR\r\n",
    "busy p...\r\n",
    "busy s...\r\n",
    "ERR CODE:0x010b0000\r\n",
    "ERR CODE:0x01090000\r\n",
    "\r\n>",
    "> ",
    "%R",
    "Recv 5 bytes\r\n",
    "\r\nSEND OK\r\n",
    "\r\nSEND FAIL\r\n",
    "SET OK\r\n",
    "\r\nFAIL\r\n",
    "+IPD,0,5:hello",
    "+IPD,5:hello\r\n",
    "+IPD,1,3,\"10.0.0.2\",80:abc",
    "+IPD,0,12\r\n",
    "+CIPRECVDATA:5,hello",
    "+CIPRECVDATA:0,",
    "+CIPRECVDATA,3:abc",
    "+CIPRECVDATA:4,\"10.0.0.2\",80,data",
    "\r\nready\r\n",
    "0,CLOSED\r\n",
    "0,CONNECT\r\n",
    "CLOSED\r\n",
    "WIFI CONNECTED\r\nWIFI GOT IP\r\n",
    "WIFI DISCONNECT\r\n",
    "+CWJAP:\"espressif\",\"24:0a:c4:10:20:30\",6,-45\r\n",
    "+CIPSTATUS:0,\"TCP\",\"10.0.0.2\",80,1234,0\r\n",
    "STATUS:2\r\n",
    "AT version:2.2.0.0\r\n",
    "AT+L1\r\n",
    "ALREADY CONNECTED\r\n",
    "link is not valid\r\n",
    "DNS Fail\r\n",
    "UNLINK\r\n",
    "no change\r\n",
    "+CIPUPDATE:3\r\n",
    "+LINK_CONN:0,0,\"TCP\",0,\"10.0.0.2\",80,1234\r\n",
    "\r\n",
    "\xff\xfe\x00garbage\r\n",
    "+IPD,x:\r\n",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    // With echo (ATE1): the last line written echoed back as it was (%E), with a byte doubled
    // (%G), after a stray byte (%X), and the probe's echo.
    "%E",
    "%E",
    "%G",
    "%X",
    "ATE1\r\n",
};
constexpr std::size_t token_count = std::size(tokens);

struct reader {
    const std::uint8_t* p;
    std::size_t n;
    bool empty() const { return n == 0; }
    std::uint8_t u8()
    {
        if (n == 0) return 0;
        --n;
        return *p++;
    }
    std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
    std::string_view bytes(std::size_t k)
    {
        k = std::min(k, n);
        std::string_view s(reinterpret_cast<const char*>(p), k);
        p += k;
        n -= k;
        return s;
    }
};

std::string escaped(std::string_view s, std::size_t max = 120)
{
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '\r') out += "\\r";
        else if (c == '\n') out += "\\n";
        else if (c == '\\') out += "\\\\";
        else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
        else {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        }
    }
    if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
    return out;
}

struct tracked {
    command cmd;
    bool completed = false;
    bool cancelled = false;  // cancel() was called for it (while it was not yet completed)
};

struct harness {
    session_options opt;
    bool late_timers = false;
    bool use_sink = false;
    session s;
    time_point start = time_point{} + std::chrono::hours(1);
    time_point now = start;
    time_point armed = never;
    bool write_outstanding = false;
    std::string outstanding_bytes;
    time_point last_write_done = start;  // when the module last got host bytes
    std::optional<time_point> plus_done;  // the escape's "+++" was written at; cleared by a write or reset
    bool plus_outstanding = false;
    std::map<command_id, tracked> commands;
    std::map<std::string, command_id> line_owner;
    std::vector<command_result> results;  // kept, for recycle()
    std::size_t last_payload_size = 5;
    std::string last_line = "AT";  // the last command line written, without its line end
    std::uint64_t seq = 0;
    std::deque<std::string> trace;  // the last steps, printed on failure
    bool dump = false;

    explicit harness(session_options o) : opt(o), s(o) {}

    void note(std::string what)
    {
        if (dump) std::fprintf(stderr, "  %s\n", what.c_str());
        trace.push_back(std::move(what));
        if (trace.size() > 60) trace.pop_front();
    }

    [[noreturn]] void fail(const std::string& why)
    {
        std::fprintf(stderr, "\n=== espat session fuzz failure: %s\nstate %d, t=+%lld ms, options: max_response_bytes=%zu "
                     "max_probes=%d probe_timeout=%lld quiet=%lld backoff=%lld..%lld guards=%lld/%lld max_line=%zu%s%s\n"
                     "last steps:\n",
                     why.c_str(), static_cast<int>(s.current_state()), ms(now - start), opt.max_response_bytes,
                     opt.max_probes, static_cast<long long>(opt.probe_timeout.count()),
                     static_cast<long long>(opt.quiet.count()), static_cast<long long>(opt.backoff_initial.count()),
                     static_cast<long long>(opt.backoff_max.count()), static_cast<long long>(opt.guard_before.count()),
                     static_cast<long long>(opt.guard_after.count()), opt.limits.max_line,
                     late_timers ? ", late timers" : "", use_sink ? ", report sink" : "");
        for (const auto& t : trace) std::fprintf(stderr, "  %s\n", t.c_str());
        std::fflush(stderr);
        __builtin_trap();
    }

    static long long ms(clock_type::duration d)
    {
        return static_cast<long long>(std::chrono::duration_cast<milliseconds>(d).count());
    }

    // ---- actions ----

    void drain(std::size_t reports_allowed)
    {
        std::size_t writes = 0, timers = 0, reports = 0;
        while (auto a = s.next_action()) {
            if (auto* w = std::get_if<write_bytes>(&*a)) {
                on_write(w->bytes);
                ++writes;
            } else if (auto* t = std::get_if<arm_timer>(&*a)) {
                armed = t->deadline;
                note(armed == never ? "  timer off" : "  timer +" + std::to_string(ms(armed - now)));
                // A driver whose timer fires on time never sees a deadline already past.
                if (!late_timers && armed != never && armed < now) fail("a timer armed for a deadline in the past");
                ++timers;
            } else if (auto* c = std::get_if<complete>(&*a)) {
                on_complete(*c);
            } else if (auto* r = std::get_if<report>(&*a)) {
                if (use_sink) fail("a report action although a report sink is set");
                check_report(r->event.kind);
                ++reports;
            } else {
                note("  module_reset");
                // A rebooted module is in command mode: the guards around "+++" are moot.
                plus_done.reset();
                plus_outstanding = false;
            }
        }
        // The action queue is bounded by what one call can cause: at most one write (one is
        // outstanding at a time), a few timer changes, one report per event.
        if (writes > 1) fail("more than one write_bytes from one call");
        if (timers > 4) fail("more than four arm_timer actions from one call");
        if (reports > reports_allowed) fail("more report actions than events the bytes can hold");
    }

    void check_report(event_kind k)
    {
        // Protocol errors of +IPD frames and the like go to the links as reports too.
        // So do HTTP body chunks no command can own.
        if (!is_report(k) && k != event_kind::protocol_error && k != event_kind::http_data)
            fail("a report of a kind that is not a report: " + std::string(to_string(k)));
    }

    void on_write(const std::string& bytes)
    {
        note("  write " + escaped(bytes));
        if (write_outstanding)
            fail("a second write_bytes before on_write_done of \"" + escaped(outstanding_bytes) + "\"");
        write_outstanding = true;
        outstanding_bytes = bytes;
        if (bytes.size() > 2 && bytes.starts_with("AT") && bytes.ends_with("\r\n")) last_line = bytes.substr(0, bytes.size() - 2);
        if (plus_done && now - *plus_done < opt.guard_after)
            fail("bytes written " + std::to_string(ms(now - *plus_done)) + " ms after the escape's \"+++\" (guard_after " +
                 std::to_string(opt.guard_after.count()) + " ms)");
        plus_done.reset();
        if (bytes == "+++") {
            if (now - last_write_done < opt.guard_before)
                fail("\"+++\" written " + std::to_string(ms(now - last_write_done)) + " ms after the last write (guard_before " +
                     std::to_string(opt.guard_before.count()) + " ms)");
            plus_outstanding = true;
        }
        if (auto it = line_owner.find(bytes); it != line_owner.end()) {
            const tracked& t = commands.at(it->second);
            if (t.completed)
                fail("the line of command " + std::to_string(it->second) + " written after it completed");
        }
    }

    void on_complete(complete& c)
    {
        auto it = commands.find(c.id);
        note("  complete " + std::to_string(c.id) + " " + c.result.ec.message() +
             (c.result.final_result ? " [" + std::string(to_string(*c.result.final_result)) + "]" : ""));
        if (it == commands.end()) fail("completion of an unknown command id " + std::to_string(c.id));
        if (it->second.completed) fail("command " + std::to_string(c.id) + " completed twice");
        it->second.completed = true;

        // Bounded memory: what a result holds stays within max_response_bytes, plus the line
        // saying it was exceeded; each kept line, diagnostic or frame counts at least a byte.
        const command_result& r = c.result;
        std::size_t bytes = 0, entries = 0;
        for (const line_view l : r.lines) bytes += l.name.size() + l.args.size(), ++entries;
        for (const auto& d : r.diagnostics) bytes += d.size(), ++entries;
        for (const auto& f : r.frames) bytes += f.size(), ++entries;
        constexpr std::size_t slack = 128;
        if (bytes > opt.max_response_bytes + slack)
            fail("result of command " + std::to_string(c.id) + " holds " + std::to_string(bytes) +
                 " bytes, max_response_bytes is " + std::to_string(opt.max_response_bytes));
        // Each kept entry costs a byte at least; beyond them come the line saying the limit was
        // reached and the one saying why a damaged answer failed.
        if (entries > opt.max_response_bytes + 2)
            fail("result of command " + std::to_string(c.id) + " holds " + std::to_string(entries) +
                 " lines, diagnostics and frames, max_response_bytes is " + std::to_string(opt.max_response_bytes));
        if (!r.ec && r.final_result && *r.final_result != event_kind::ok && *r.final_result != event_kind::set_ok &&
            *r.final_result != event_kind::send_ok && *r.final_result != event_kind::prompt)
            fail("success with final result " + std::string(to_string(*r.final_result)));
        if (results.size() < 8) results.push_back(std::move(c.result));
    }

    // ---- the driver's calls ----

    command_id submit(command c, std::string what)
    {
        const command_id id = s.submit(c, now);
        note("submit " + std::to_string(id) + " " + what);
        if (commands.count(id)) fail("submit returned an id already used: " + std::to_string(id));
        if (!c.line.empty()) line_owner[c.line] = id;
        commands[id] = tracked{std::move(c)};
        drain(0);
        return id;
    }

    void write_done()
    {
        if (!write_outstanding) return;  // only the write handed out can complete
        note("write_done");
        write_outstanding = false;
        last_write_done = now;
        if (plus_outstanding) plus_done = now;
        plus_outstanding = false;
        s.on_write_done(now);
        drain(0);
    }

    // The driver's timer fires (a real one at or after its deadline, then it is disarmed), or
    // on_timer is called early, which the session must take as a stale timer.
    void fire_timer()
    {
        note("on_timer");
        if (armed != never && now >= armed) armed = never;
        s.on_timer(now);
        drain(1);  // a +IPD frame that waited frame_hold for what follows it is handed out
    }

    // Time passes; a timer on time fires at its deadline, a late one when the driver looks.
    void advance(clock_type::duration d)
    {
        const time_point target = now + d;
        note("advance +" + std::to_string(ms(d)));
        int firings = 0;
        while (armed != never && armed <= target) {
            if (!late_timers) now = std::max(now, armed);
            else now = target;
            if (++firings > 10000) fail("the timer keeps firing without time passing");
            fire_timer();
        }
        now = target;
    }

    void feed(std::string_view bytes, reader& in)
    {
        note("feed \"" + escaped(bytes) + "\"");
        // In chunks of the fuzzer's choosing: a size byte per chunk (0: all that is left).
        std::size_t pos = 0;
        while (pos < bytes.size()) {
            std::size_t k = in.u8();
            if (k == 0) k = bytes.size() - pos;
            k = std::min(k, bytes.size() - pos);
            // Each chunk in its own heap block, freed after on_bytes: a view kept past it is caught.
            std::string chunk(bytes.substr(pos, k));
            if (use_sink) sink_reports = 0;
            s.on_bytes(chunk, now);
            drain(k + 1);
            if (use_sink && sink_reports > k + 1) fail("more reports than events the bytes can hold");
            pos += k;
        }
    }

    std::size_t sink_reports = 0;
    static void sink(void* context, const event& e)
    {
        auto* h = static_cast<harness*>(context);
        h->check_report(e.kind);
        ++h->sink_reports;
    }

    // ---- the end: the module falls silent ----

    void finish()
    {
        note("-- the module falls silent --");
        // The longest any one command can take once nothing more is said: its own timeout (no
        // busy extension without output), the probes, the quiet time, a guarded "+++" and a
        // backoff; the current deadline may already have been moved by busy extensions.
        milliseconds longest_timeout{0};
        std::size_t pending = 0;
        for (const auto& [id, t] : commands) {
            if (t.completed) continue;
            ++pending;
            longest_timeout = std::max(longest_timeout, t.cmd.timeout);
        }
        const milliseconds per_command = longest_timeout + opt.probe_timeout * opt.max_probes + opt.quiet +
                                         opt.guard_before + opt.guard_after + opt.backoff_max + milliseconds{1};
        // The state's own deadline: the armed timer may be an earlier one (a frame's hold).
        const time_point wanted = s.deadline() != never ? std::max(armed == never ? now : armed, s.deadline()) : armed;
        const clock_type::duration current = wanted != never && wanted > now ? wanted - now : clock_type::duration{};
        // '+' the passthrough guard holds go out two at a time, plus_gap apart, before "+++".
        const auto releases = static_cast<long long>(s.held_plus() / 2 + 1);
        const time_point bound = now + current + per_command * static_cast<long long>(pending + 2) + opt.plus_gap * releases;
        const time_point silent_from = now;

        bool left = false;
        for (int steps = 0;; ++steps) {
            if (steps > 100000) fail("no end after 100000 driver steps");
            if (write_outstanding) {
                write_done();
            } else if (s.current_state() == session::state::passthrough && !left) {
                note("leave_passthrough");
                s.leave_passthrough(now);
                left = true;  // it waits for held '+' to go out first
                drain(0);
            } else if (armed != never) {
                now = std::max(now, armed);
                if (now > bound) break;
                fire_timer();
            } else {
                break;
            }
        }
        for (const auto& [id, t] : commands)
            if (!t.completed)
                fail("command " + std::to_string(id) + " has not completed " + std::to_string(ms(now - silent_from)) +
                     " ms after the module fell silent (bound " + std::to_string(ms(bound - silent_from)) + " ms)");
        if (s.in_flight() || s.queued() != 0) fail("commands left in the session after all completed");
    }
};

session_options read_options(reader& in, bool& late, bool& sink, remote_info& remote, bool& echo)
{
    session_options o;
    const std::uint8_t flags = in.u8();
    const std::uint16_t max_response = in.u16();
    const std::uint8_t probes = in.u8();
    const std::uint16_t max_line = in.u16();
    if (flags & 1) o.max_response_bytes = 1 + max_response % 2048;
    if (flags & 2) {
        o.limits.max_line = 1 + max_line % 512;
        o.limits.max_ipd_payload = 64;
        o.limits.max_recv_payload = 64;
    }
    late = (flags & 4) != 0;
    echo = (flags & 128) != 0;  // answers anchored to the echo of their line (ATE1)
    sink = (flags & 8) != 0;
    constexpr remote_info modes[] = {remote_info::detect, remote_info::absent, remote_info::present, remote_info::detect};
    remote = modes[(flags >> 4) & 3];
    o.max_probes = probes % 4;
    if (flags & 64) {
        o.probe_timeout = milliseconds{30};
        o.quiet = milliseconds{5};
        o.backoff_initial = milliseconds{3};
        o.backoff_max = milliseconds{20};
        o.guard_before = milliseconds{2};
        o.guard_after = milliseconds{10};
    }
    return o;
}

// The data length a send line says (its last number), as the client's command table reads it.
std::optional<std::size_t> send_length_of(std::string_view echoed)
{
    const auto comma = echoed.rfind(',');
    if (!echoed.starts_with("AT+CIPSEND") || comma == std::string_view::npos || comma + 1 == echoed.size()) return std::nullopt;
    std::size_t n = 0;
    for (char c : echoed.substr(comma + 1)) {
        if (c < '0' || c > '9' || n > 100000) return std::nullopt;
        n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    return n;
}

milliseconds timeout_of(std::uint8_t v)
{
    // 0..2550 ms in steps of 10, with a few long ones.
    return v >= 250 ? milliseconds{60000} : milliseconds{v * 10};
}

void run_program(harness& h, reader& in)
{
    std::vector<command_id> ids;
    for (int ops = 0; !in.empty() && ops < 400; ++ops) {
        const std::uint8_t op = in.u8();
        switch (op % 16) {
        case 0:
        case 1: {  // a plain command
            const std::uint8_t t = in.u8();
            const std::uint8_t retries = in.u8();
            command c;
            c.line = "AT+L" + std::to_string(++h.seq) + "\r\n";
            c.timeout = timeout_of(t);
            c.busy_retries = retries % 8 == 7 ? retries : retries % 4;
            ids.push_back(h.submit(c, escaped(c.line) + " timeout " + std::to_string(c.timeout.count()) + " retries " +
                                          std::to_string(c.busy_retries)));
            break;
        }
        case 2: {  // AT+CIPSEND with its data
            const std::uint8_t t = in.u8();
            const std::uint8_t len = in.u8();
            command c;
            const std::size_t n = len % 4 == 0 ? 5 : len;
            c.line = "AT+CIPSEND=" + std::to_string(++h.seq) + "," + std::to_string(n) + "\r\n";
            c.timeout = timeout_of(t);
            c.payload = std::string(n, static_cast<char>('a' + h.seq % 26));
            c.link = static_cast<int>(h.seq % 5);
            c.data_length = &send_length_of;
            h.last_payload_size = n;
            ids.push_back(h.submit(c, escaped(c.line) + " with data, timeout " + std::to_string(c.timeout.count())));
            break;
        }
        case 3: {  // AT+CIPRECVDATA
            const std::uint8_t t = in.u8();
            const std::uint8_t want = in.u8();
            command c;
            c.recv_request = want % 8 == 0 ? 5 : want;
            c.line = "AT+CIPRECVDATA=" + std::to_string(++h.seq) + "," + std::to_string(c.recv_request) + "\r\n";
            c.timeout = timeout_of(t);
            ids.push_back(h.submit(c, escaped(c.line) + " timeout " + std::to_string(c.timeout.count())));
            break;
        }
        case 4: {  // AT+CIPSEND into passthrough
            const std::uint8_t t = in.u8();
            command c;
            c.line = "AT+CIPSEND" + std::to_string(++h.seq) + "\r\n";
            c.timeout = timeout_of(t);
            c.passthrough = true;
            ids.push_back(h.submit(c, escaped(c.line) + " passthrough, timeout " + std::to_string(c.timeout.count())));
            break;
        }
        case 5: {  // the start-up escape
            command c;
            c.escape = true;
            c.line.clear();
            ids.push_back(h.submit(c, "escape"));
            break;
        }
        case 6: {  // cancel one of the commands, or an id never handed out
            const std::uint8_t pick = in.u8();
            command_id id = ids.empty() || pick == 255 ? 1000 + pick : ids[pick % ids.size()];
            h.note("cancel " + std::to_string(id));
            if (auto it = h.commands.find(id); it != h.commands.end() && !it->second.completed) it->second.cancelled = true;
            h.s.cancel(id, h.now);
            h.drain(0);
            break;
        }
        case 7:
            h.note("leave_passthrough");
            h.s.leave_passthrough(h.now);
            h.drain(0);
            break;
        case 8: {  // raw bytes for the link (never "+++" alone: the net layer keeps that out)
            const std::uint8_t len = in.u8();
            std::string bytes = "raw" + std::to_string(++h.seq) + std::string(len % 16, '+');
            h.note("write_raw " + escaped(bytes));
            h.s.write_raw(std::move(bytes), h.now);
            h.drain(0);
            break;
        }
        case 9:
        case 10: h.write_done(); break;
        case 11: {
            const std::uint8_t v = in.u8();
            h.advance(v < 200 ? milliseconds{v} : milliseconds{(v - 199) * 250});
            break;
        }
        case 12: h.fire_timer(); break;
        case 13: {  // module output made of tokens
            const std::uint8_t count = static_cast<std::uint8_t>(1 + in.u8() % 4);
            std::string bytes;
            for (int i = 0; i < count; ++i) {
                std::string_view t = tokens[in.u8() % token_count];
                if (t == "%R") bytes += "\r\nRecv " + std::to_string(h.last_payload_size) + " bytes\r\n";
                else if (t == "%E") bytes += h.last_line + "\r\n";
                else if (t == "%G") bytes += h.last_line + h.last_line.back() + "\r\n";
                else if (t == "%X") bytes += "x" + h.last_line + "\r\n";
                else bytes += t;
            }
            h.feed(bytes, in);
            break;
        }
        case 14: {  // raw module output
            const std::size_t len = in.u8();
            const std::string bytes(in.bytes(len));
            h.feed(bytes, in);
            break;
        }
        case 15: {  // the client hands a result's lines back
            if (!h.results.empty()) {
                h.note("recycle");
                h.s.recycle(std::move(h.results.back().lines));
                h.results.pop_back();
            }
            break;
        }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    reader in{data, size};
    bool late = false, sink = false;
    remote_info remote = remote_info::detect;
    bool echo = false;
    const session_options o = read_options(in, late, sink, remote, echo);
    harness h(o);
    h.late_timers = late;
    h.use_sink = sink;
    static const bool dump = std::getenv("ESPAT_FUZZ_DUMP") != nullptr;
    h.dump = dump;
    if (sink) h.s.set_report_sink(&harness::sink, &h);
    h.s.set_recv_data_remote(remote);
    h.s.set_echo(echo);
    run_program(h, in);
    h.finish();
    return 0;
}
