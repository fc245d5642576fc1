// fuzz_parser.cpp — libFuzzer target for espat::proto::parser.
//
// The first `header_size` bytes of an input are parameters (limits, +CIPRECVDATA remote
// mode, an announced AT+CIPRECVDATA request, a split seed, passthrough offsets); the rest is
// the module's byte stream. The stream is parsed whole and in several splits by fresh
// parsers with the same settings; the event lists must be identical, and every event must
// satisfy the invariants checked in `checker`. See README.md in this folder.
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Itests/support \
//       tests/fuzz/fuzz_parser.cpp -o fuzz_parser
#include <espat/proto/parser.hpp>

#include <recorder.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using espat::proto::event;
using espat::proto::event_kind;
using espat::proto::parser;
using espat::proto::parser_limits;
using espat::proto::remote_info;
using espat::test::owned_event;
using espat::test::recorder;

// Input layout (all little-endian; missing bytes read as 0):
//   [0]      flags: bit 0 small limits, bits 1-2 remote_info (0,3 detect, 1 absent,
//            2 present), bit 3 call expect_recv_data, bits 4-5 split size bound
//            (4, 16, 64, 512), bits 6-7 unused
//   [1..2]   max_line          = MIN_LINE + v % (1025 - MIN_LINE)   (small limits only)
//   [3..4]   max_ipd_payload   = MIN_PAYLOAD + v % (4097 - MIN_PAYLOAD)   (and max_mqtt_payload)
//   [5..6]   max_recv_payload  = MIN_PAYLOAD + v % (4097 - MIN_PAYLOAD)   (and max_http_payload)
//   [7]      expect_recv_data size: v < 128 ? v : (v - 127) * 64
//   [8..9]   PRNG seed for the split sizes
//   [10..11] passthrough on at  v % (stream size + 1)
//   [12..13] passthrough off at on + v % (stream size - on + 1)
//   [14..]   the module's byte stream
constexpr std::size_t header_size = 14;

// The smallest limits tried: smaller than any real use, so the limit paths are exercised
// (the parser raises max_line to its longest frame prefix; the target reads limits() back).
#ifndef ESPAT_FUZZ_MIN_LINE
#define ESPAT_FUZZ_MIN_LINE 1
#endif
#ifndef ESPAT_FUZZ_MIN_PAYLOAD
#define ESPAT_FUZZ_MIN_PAYLOAD 0
#endif
constexpr std::size_t min_line = ESPAT_FUZZ_MIN_LINE;
constexpr std::size_t min_payload = ESPAT_FUZZ_MIN_PAYLOAD;

struct params {
    parser_limits limits{};
    bool small = false;
    remote_info remote = remote_info::detect;
    bool expect = false;
    std::size_t expect_size = 0;
    std::size_t max_chunk = 16;
    std::uint64_t seed = 0;
    std::size_t pt_on = 0, pt_off = 0;
};

params read_params(const std::uint8_t* data, std::size_t size)
{
    std::uint8_t h[header_size] = {};
    std::memcpy(h, data, std::min(size, header_size));
    auto u16 = [&](std::size_t i) { return static_cast<std::size_t>(h[i] | (h[i + 1] << 8)); };
    const std::size_t stream_size = size > header_size ? size - header_size : 0;

    params p;
    p.small = (h[0] & 1) != 0;
    if (p.small) {
        p.limits.max_line = min_line + u16(1) % (1025 - min_line);
        p.limits.max_ipd_payload = min_payload + u16(3) % (4097 - min_payload);
        p.limits.max_recv_payload = min_payload + u16(5) % (4097 - min_payload);
        // The MQTT and HTTP frames share those two (the layout keeps the seeds' meaning).
        p.limits.max_mqtt_payload = p.limits.max_ipd_payload;
        p.limits.max_http_payload = p.limits.max_recv_payload;
    }
    constexpr remote_info modes[] = {remote_info::detect, remote_info::absent, remote_info::present,
                                     remote_info::detect};
    p.remote = modes[(h[0] >> 1) & 3];
    p.expect = (h[0] & 8) != 0;
    p.expect_size = h[7] < 128 ? h[7] : static_cast<std::size_t>(h[7] - 127) * 64;
    constexpr std::size_t bounds[] = {4, 16, 64, 512};
    p.max_chunk = bounds[(h[0] >> 4) & 3];
    p.seed = u16(8) * 0x9e3779b97f4a7c15ull + 1;
    p.pt_on = u16(10) % (stream_size + 1);
    p.pt_off = p.pt_on + u16(12) % (stream_size - p.pt_on + 1);
    return p;
}

// splitmix64: small, deterministic, good enough for chunk sizes.
struct prng {
    std::uint64_t s;
    std::uint64_t next()
    {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    std::size_t between(std::size_t lo, std::size_t hi) { return lo + next() % (hi - lo + 1); }
};

// --- diagnostics --------------------------------------------------------------------------

std::string escaped(std::string_view s, std::size_t max = 200)
{
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        switch (c) {
        case '\r': out += "\\r"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        default:
            if (c >= 0x20 && c < 0x7f) {
                out += static_cast<char>(c);
            } else {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", c);
                out += buf;
            }
        }
    }
    if (s.size() > max) out += "...";
    return out;
}

std::string describe(const owned_event& e)
{
    std::string s(to_string(e.kind));
    s += "{link=" + std::to_string(e.link) + " value=" + std::to_string(e.value);
    if (!e.text.empty()) s += " text=\"" + escaped(e.text) + '"';
    if (!e.name.empty() || !e.args.empty()) s += " name=\"" + escaped(e.name) + "\" args=\"" + escaped(e.args) + '"';
    if (!e.remote_host.empty()) s += " remote=\"" + escaped(e.remote_host) + "\":" + std::to_string(e.remote_port);
    if (!e.payload.empty()) s += " payload[" + std::to_string(e.payload.size()) + "]=\"" + escaped(e.payload, 64) + '"';
    return s + '}';
}

const char* mode_name(remote_info m)
{
    switch (m) {
    case remote_info::detect: return "detect";
    case remote_info::absent: return "absent";
    case remote_info::present: return "present";
    }
    return "?";
}

[[noreturn]] void fail(const params& p, std::string_view stream, const std::string& what)
{
    std::fprintf(stderr,
                 "\n=== espat parser fuzz failure: %s\n"
                 "limits: max_line=%zu max_ipd_payload=%zu max_recv_payload=%zu%s; remote=%s; "
                 "expect_recv_data(%s); max_chunk=%zu; passthrough [%zu, %zu)\n"
                 "stream (%zu bytes): \"%s\"\n",
                 what.c_str(), p.limits.max_line, p.limits.max_ipd_payload, p.limits.max_recv_payload,
                 p.small ? " (small)" : " (default)", mode_name(p.remote),
                 p.expect ? std::to_string(p.expect_size).c_str() : "not called", p.max_chunk, p.pt_on, p.pt_off,
                 stream.size(), escaped(stream, 4096).c_str());
    std::fflush(stderr);
    __builtin_trap();
}

// --- per-event invariants -----------------------------------------------------------------

// A feed of the stream: the chunks given to one parser, each in its own exactly-sized heap
// block freed right after feed() returns, so ASan reports a view that outlives its chunk or a
// read past a chunk's end.
struct checker {
    const params& prm;
    parser_limits lim;  // the limits the parser says it applies (parser::limits())
    std::string_view stream;
    bool in_place;             // one chunk per segment: every payload must be a view into it
    const char* chunk = nullptr;
    std::size_t chunk_size = 0;
    std::size_t chunk_at = 0;  // offset of the chunk in the stream
    std::size_t payload_end = 0;  // stream offset just past the last in-place payload
    std::string payloads;      // all frame payloads, concatenated
    recorder rec;

    std::size_t bound() const
    {
        return std::max({lim.max_line, lim.max_ipd_payload, lim.max_recv_payload, lim.max_mqtt_payload, lim.max_http_payload});
    }

    // The longest text a line event may carry, an echo rejoined after a report included.
    std::size_t line_bound(const event&) const { return lim.max_line; }

    [[noreturn]] void fail_event(const event& e, const std::string& why) const
    {
        fail(prm, stream, why + " in " + describe(owned_event(e)));
    }

    void operator()(const event& e)
    {
        if (static_cast<int>(e.kind) >= espat::proto::event_kind_count)
            fail(prm, stream, "event kind out of range: " + std::to_string(static_cast<int>(e.kind)));

        // Memory is bounded: no view is longer than the limits allow. A frame header is not a
        // line: it is bounded by the parser's fixed header buffer, and its remote host by the
        // longest IPv6 address with a zone (45), whatever max_line says. raw_data is the
        // caller's own chunk; a protocol_error's text is a string literal.
        const std::size_t b = std::max(bound(), line_bound(e));
        for (std::string_view v : {e.text, e.name, e.args})
            if (v.size() > b && e.kind != event_kind::protocol_error)
                fail_event(e, "a view of " + std::to_string(v.size()) + " bytes exceeds max(limits)");
        if (e.kind != event_kind::raw_data && e.payload.size() > b)
            fail_event(e, "payload exceeds max(limits)");
        if (e.remote_host.size() > 45) fail_event(e, "remote host longer than an IPv6 address");
        if (e.link < -1 || e.link > 15) fail_event(e, "link id out of range");

        switch (e.kind) {
        case event_kind::protocol_error:
            // The parser's own reasons; send_corrupted and passthrough_left are the session's.
            if (e.value < 1 || e.value > static_cast<std::uint32_t>(espat::proto::protocol_error_reason::damaged_frame))
                fail_event(e, "protocol_error reason out of range");
            if (!e.payload.empty()) fail_event(e, "protocol_error with a payload");
            break;
        case event_kind::ipd:
            if (e.value > lim.max_ipd_payload) fail_event(e, "+IPD longer than max_ipd_payload");
            [[fallthrough]];
        case event_kind::recv_data:
            if (e.kind == event_kind::recv_data && e.value > lim.max_recv_payload)
                fail_event(e, "+CIPRECVDATA longer than max_recv_payload");
            if (e.payload.size() != e.value) fail_event(e, "payload.size() != value");
            check_payload(e);
            break;
        case event_kind::mqtt_message:
            if (e.value > lim.max_mqtt_payload) fail_event(e, "+MQTTSUBRECV longer than max_mqtt_payload");
            if (e.payload.size() != e.value) fail_event(e, "payload.size() != value");
            if (e.link < 0 || e.link > 9) fail_event(e, "an MQTT message without its one-digit link id");
            if (e.args.size() > lim.max_line) fail_event(e, "an MQTT topic longer than max_line");
            if (e.name != "MQTTSUBRECV") fail_event(e, "an MQTT message not named MQTTSUBRECV");
            check_payload(e);
            break;
        case event_kind::http_data:
            if (e.value > lim.max_http_payload) fail_event(e, "an HTTP chunk longer than max_http_payload");
            if (e.payload.size() != e.value) fail_event(e, "payload.size() != value");
            if (e.name != "HTTPCLIENT" && e.name != "HTTPCGET" && e.name != "HTTPCPOST" && e.name != "HTTPCPUT")
                fail_event(e, "an HTTP chunk not named by its command");
            check_payload(e);
            break;
        case event_kind::raw_data:
            // Passthrough hands out the rest of the chunk, in place.
            if (e.payload.empty() || !inside_chunk(e.payload) ||
                e.payload.data() + e.payload.size() != chunk + chunk_size)
                fail_event(e, "raw_data is not the rest of the chunk");
            check_payload(e);
            break;
        case event_kind::ipd_notify:
            if (!e.payload.empty()) fail_event(e, "ipd_notify with a payload");
            break;
        default:
            if (!e.payload.empty()) fail_event(e, "a line event with a payload");
            if (e.text.empty()) fail_event(e, "a line event with no text");
            if (e.text.size() > line_bound(e))
                fail_event(e, "line text longer than max_line (" + std::to_string(e.text.size()) + " bytes)");
            break;
        }
        rec(e);
    }

    bool inside_chunk(std::string_view v) const
    {
        return chunk != nullptr && v.data() >= chunk && v.data() + v.size() <= chunk + chunk_size;
    }

    // Reassembly: a payload handed out in place must come after the previous one; with one
    // chunk per segment every payload must be in place and equal the stream at its position.
    void check_payload(const event& e)
    {
        payloads.append(e.payload);
        if (e.payload.empty()) return;
        if (inside_chunk(e.payload)) {
            const std::size_t at = chunk_at + static_cast<std::size_t>(e.payload.data() - chunk);
            if (at < payload_end) fail_event(e, "payload overlaps the previous payload");
            if (stream.substr(at, e.payload.size()) != e.payload) fail_event(e, "payload differs from the input");
            payload_end = at + e.payload.size();
        } else if (in_place) {
            fail_event(e, "payload of a frame wholly inside one chunk is not a view into it");
        } else if (stream.substr(payload_end).find(e.payload) == std::string_view::npos) {
            fail_event(e, "gathered payload is not found in the input after the previous payload");
        }
    }

    void feed(parser& p, std::size_t at, std::size_t n)
    {
        if (n == 0) return;
        auto block = std::make_unique<char[]>(n);
        std::memcpy(block.get(), stream.data() + at, n);
        chunk = block.get();
        chunk_size = n;
        chunk_at = at;
        p.feed(std::string_view(block.get(), n), *this);
        chunk = nullptr;
        chunk_size = 0;
    }
};

// --- feeds --------------------------------------------------------------------------------

struct result {
    std::vector<owned_event> events;
    std::string payloads;
    std::size_t events_before_toggle = 0;  // events emitted before the passthrough offset
    bool idle = false;                     // parser::idle() after the last byte
};

parser make_parser(const params& p)
{
    parser ps(p.limits);
    ps.set_recv_data_remote(p.remote);
    if (p.expect) ps.expect_recv_data(p.expect_size);
    return ps;
}

// Feeds the stream in segments ending at `cuts` (the last is the stream's end), turning
// passthrough on after the first segment and off after the second when `toggle`. Within a
// segment, chunk sizes come from next_size; with `in_place` each segment is one chunk.
template <class NextSize>
result run(const params& prm, std::string_view stream, std::initializer_list<std::size_t> cuts, bool toggle,
           bool in_place, NextSize next_size)
{
    parser ps = make_parser(prm);
    checker c{prm, ps.limits(), stream, in_place, nullptr, 0, 0, 0, {}, {}};
    std::size_t pos = 0;
    std::size_t before = 0;
    int seg = 0;
    for (std::size_t seg_end : cuts) {
        while (pos < seg_end) {
            const std::size_t n =
                in_place ? seg_end - pos : std::min(std::max<std::size_t>(next_size(), 1), seg_end - pos);
            c.feed(ps, pos, n);
            pos += n;
        }
        if (seg == 0) before = c.rec.events.size();
        if (toggle && seg == 0) ps.set_passthrough(true);
        if (toggle && seg == 1) {
            if (!ps.passthrough()) fail(prm, stream, "parser left passthrough mode by itself");
            ps.set_passthrough(false);
        }
        ++seg;
    }
    const bool was_idle = ps.idle();
    ps.flush(c.rec);  // a held echo comes out the same way whatever the splits
    return {std::move(c.rec.events), std::move(c.payloads), before, was_idle};
}

void compare(const params& prm, std::string_view stream, const char* variant, const char* how,
             const result& whole, const result& split)
{
    const auto& a = whole.events;
    const auto& b = split.events;
    if (a == b && whole.payloads == split.payloads) {
        if (whole.idle != split.idle)
            fail(prm, stream,
                 std::string(variant) + ": idle() after the whole feed is " + (whole.idle ? "true" : "false") +
                     ", after the " + how + " it is not");
        return;
    }
    std::size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
    std::string msg = std::string(variant) + ": whole feed and " + how + " differ at event " + std::to_string(i) +
                      " (whole has " + std::to_string(a.size()) + " events, split " + std::to_string(b.size()) + ")";
    for (std::size_t k = i > 2 ? i - 2 : 0; k < std::max(a.size(), b.size()) && k < i + 3; ++k) {
        msg += "\n  [" + std::to_string(k) + "] whole: " + (k < a.size() ? describe(a[k]) : "(none)");
        msg += "\n  [" + std::to_string(k) + "] split: " + (k < b.size() ? describe(b[k]) : "(none)");
    }
    if (a == b) msg += "\n  event lists equal but payload concatenations differ";
    fail(prm, stream, msg);
}

template <class Run>
void check_variant(const params& prm, std::string_view stream, const char* variant, Run run_with)
{
    const result whole = run_with(true, [] { return std::size_t{0}; });

    compare(prm, stream, variant, "1-byte feed", whole, run_with(false, [] { return std::size_t{1}; }));

    prng r{prm.seed};
    compare(prm, stream, variant, "random split", whole,
            run_with(false, [&] { return r.between(1, prm.max_chunk); }));

    // Large pieces too: a frame header or payload crossing one boundary of a big chunk.
    prng r2{prm.seed * 31 + 7};
    const std::size_t big = std::max<std::size_t>(stream.size() / 2, 1);
    compare(prm, stream, variant, "large random split", whole,
            run_with(false, [&] { return r2.between(1, big); }));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const params prm = read_params(data, size);
    if (size <= header_size) return 0;
    const std::string_view stream(reinterpret_cast<const char*>(data) + header_size, size - header_size);

    const std::size_t end = stream.size();
    static const bool dump = std::getenv("ESPAT_FUZZ_DUMP") != nullptr;
    if (dump) {
        const result whole = run(prm, stream, {end}, false, true, [] { return std::size_t{0}; });
        std::fprintf(stderr, "%zu events:\n", whole.events.size());
        for (const auto& e : whole.events) std::fprintf(stderr, "  %s\n", describe(e).c_str());
    }
    check_variant(prm, stream, "plain", [&](bool in_place, auto next_size) {
        return run(prm, stream, {end}, false, in_place, next_size);
    });
    check_variant(prm, stream, "passthrough toggled", [&](bool in_place, auto next_size) {
        return run(prm, stream, {prm.pt_on, prm.pt_off, end}, true, in_place, next_size);
    });

    // The passthrough variant starts with the same bytes as the plain one: until the toggle
    // both parsers must have said the same things.
    auto huge = [] { return ~std::size_t{0}; };
    const result plain = run(prm, stream, {prm.pt_on, end}, false, false, huge);
    const result toggled = run(prm, stream, {prm.pt_on, prm.pt_off, end}, true, true, huge);
    const std::size_t n = toggled.events_before_toggle;
    const auto prefix_end = plain.events.begin() + static_cast<std::ptrdiff_t>(n);
    if (plain.events_before_toggle != n || !std::equal(plain.events.begin(), prefix_end, toggled.events.begin()))
        fail(prm, stream, "the events before the passthrough offset differ between the two variants");
    return 0;
}
