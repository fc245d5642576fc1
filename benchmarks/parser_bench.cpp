// benchmarks/parser_bench.cpp — throughput of espat::proto::parser beside baselines measured
// in the same run over the same bytes with the same chunking:
//   memchr_lines   — find each '\n' with memchr, carrying a line cut by a chunk's end over as
//                    a length: the least work any line parser must do;
//   memcpy_payload — copy each frame's payload bytes, chunk by chunk as they arrive, into a
//                    buffer (frame positions known in advance): the least work a copying
//                    frame parser must do.
//
// Streams (each ~256 KiB, pre-built; a chunk size only slices the buffer, and every slice is
// handed over by one out-of-line call, to the parser and to the baselines alike):
//   lines            "\r\nOK\r\n", "\r\nSEND OK\r\n", "Recv 64 bytes\r\n", "0,CONNECT\r\n", ...
//                    (eleven short results, reports and information lines) in order, repeated
//   lines_shuffled   the same lines in a weighted random order no branch predictor can learn
//   ipd<N>           "\r\n+IPD,0,<N>:<payload>\r\n", N = 16, 256, 1460, 2048
//   ipd_remote<N>    "\r\n+IPD,3,<N>,\"192.168.101.110\",61234:<payload>\r\n", N = 16, 1460
// Payloads are pseudo-random bytes 0..255 with "\r\n", "+IPD", "\r\nOK\r\n" and the like
// planted in them. Before anything is timed, every stream is decoded at every chunk size and
// checked event by event (kind, link, value, name, payload bytes, remote address); a
// mismatch ends the program with status 1.
//
// Counters: bytes_per_second, per_frame (CPU time per message or frame), and for frame
// streams zero_copy (share of payloads handed out as views into the caller's chunk) beside
// contiguous (share whose payload lay within one chunk, i.e. could be).
//
// After Google Benchmark's own output comes a Markdown summary: parser vs baseline, ratios,
// ns per frame, zero-copy share, and the project's targets with their margins (to stderr
// when --benchmark_format is json or csv). --summary_out=<file> also writes it to a file.
// Google Benchmark flags work as usual: --benchmark_filter, --benchmark_min_time=0.01 (the
// CI smoke run), --benchmark_repetitions=N (the summary then uses medians), --benchmark_out.
//
//   g++ -std=c++20 -O2 -DNDEBUG -Iinclude benchmarks/parser_bench.cpp -lbenchmark -lpthread

#include <espat/proto/event.hpp>
#include <espat/proto/parser.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

namespace {

using espat::proto::event;
using espat::proto::event_kind;

constexpr std::size_t stream_target = 256 * 1024;
constexpr std::size_t chunk_sizes[] = {1, 64, 4096};

// ---------------------------------------------------------------------------------------
// Streams and what the parser must make of them
// ---------------------------------------------------------------------------------------

struct expected_event {
    event_kind kind = event_kind::text;
    std::int8_t link = -1;
    std::uint32_t value = 0;
    std::string_view name;         // info lines
    std::size_t payload_off = 0;   // frames: where the payload lies in the stream
    std::size_t payload_len = 0;
    std::string_view remote_host;  // frames with remote info
    std::uint16_t remote_port = 0;
};

expected_event expect(event_kind k, int link = -1, std::uint32_t value = 0, std::string_view name = {})
{
    expected_event e;
    e.kind = k;
    e.link = static_cast<std::int8_t>(link);
    e.value = value;
    e.name = name;
    return e;
}

enum class group : char { lines = 'a', ipd = 'b', ipd_remote = 'c' };

struct stream {
    std::string name;
    group grp;
    std::size_t payload_size = 0;  // frames: N
    std::string bytes;
    std::vector<expected_event> expect;                     // in order
    std::vector<std::pair<std::size_t, std::size_t>> frames;  // payload (offset, length)
    std::size_t units = 0;  // messages (lines) or frames per pass: the "frame" of ns/frame

    // Frames whose payload lies within one chunk: those the parser can hand out in place.
    [[nodiscard]] std::size_t contiguous_frames(std::size_t chunk) const
    {
        std::size_t n = 0;
        for (auto [off, len] : frames)
            if (len != 0 && off / chunk == (off + len - 1) / chunk) ++n;
        return n;
    }
};

// splitmix64: a fixed, portable pseudo-random sequence, so every run sees the same bytes.
struct prng {
    std::uint64_t s;
    std::uint64_t next() noexcept
    {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    std::size_t below(std::size_t n) noexcept { return static_cast<std::size_t>(next() % n); }
};

// `lines`: the eleven messages in this order, repeated. `lines_shuffled`: the same messages
// drawn at random, weighted like a busy session (sends and their results dominate), so no
// branch predictor can learn the order: the harder and, for a real session, likelier case.
stream make_lines_stream(bool shuffled)
{
    struct message {
        std::string_view bytes;
        expected_event ev;
        unsigned weight;
    };
    const message mix[] = {
        {"\r\nOK\r\n", expect(event_kind::ok), 3},
        {"\r\nSEND OK\r\n", expect(event_kind::send_ok), 2},
        {"Recv 64 bytes\r\n", expect(event_kind::recv_bytes, -1, 64), 2},
        {"0,CONNECT\r\n", expect(event_kind::connect, 0), 1},
        {"1,CLOSED\r\n", expect(event_kind::closed, 1), 1},
        {"WIFI GOT IP\r\n", expect(event_kind::wifi_got_ip), 1},
        {"+CIPSTA:ip:\"192.168.3.112\"\r\n", expect(event_kind::info, -1, 0, "CIPSTA"), 1},
        {"busy p...\r\n", expect(event_kind::busy, -1, 'p'), 1},
        {"ERR CODE:0x01030000\r\n", expect(event_kind::err_code, -1, 0x01030000u), 1},
        {"\r\nERROR\r\n", expect(event_kind::error), 1},
        {"+CIPRECVLEN:100,,,,,\r\n", expect(event_kind::info, -1, 0, "CIPRECVLEN"), 1},
    };
    unsigned total_weight = 0;
    for (const auto& m : mix) total_weight += m.weight;

    stream s;
    s.name = shuffled ? "lines_shuffled" : "lines";
    s.grp = group::lines;
    prng rng{0x5eed0001};
    for (std::size_t i = 0; s.bytes.size() < stream_target; ++i) {
        const message* m = mix + i % std::size(mix);
        if (shuffled) {
            std::size_t pick = rng.below(total_weight);
            m = mix;
            while (pick >= m->weight) pick -= m->weight, ++m;
        }
        s.bytes += m->bytes;
        s.expect.push_back(m->ev);
        ++s.units;
    }
    return s;
}

// Payload bytes: uniformly random, then (in most frames) one of these planted somewhere, so
// a parser that scans payloads instead of counting them goes wrong.
void fill_payload(char* p, std::size_t n, prng& rng)
{
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>(rng.next() & 0xff);
    static constexpr std::string_view plants[] = {"\r\n", "+IPD", "\r\n+IPD,0,5:", "\r\nOK\r\n",
                                                  "\n", "\r", "\r\nERROR\r\n", ">"};
    if (rng.below(4) == 0) return;
    const std::string_view t = plants[rng.below(std::size(plants))];
    if (t.size() > n) return;
    std::memcpy(p + rng.below(n - t.size() + 1), t.data(), t.size());
}

stream make_ipd_stream(std::size_t n, bool remote)
{
    stream s;
    s.payload_size = n;
    s.grp = remote ? group::ipd_remote : group::ipd;
    s.name = (remote ? "ipd_remote" : "ipd") + std::to_string(n);
    const std::string header = remote ? "\r\n+IPD,3," + std::to_string(n) + ",\"192.168.101.110\",61234:"
                                      : "\r\n+IPD,0," + std::to_string(n) + ":";
    prng rng{0x5eed0100 + n + (remote ? 1 : 0)};
    while (s.bytes.size() < stream_target) {
        s.bytes += header;
        const std::size_t off = s.bytes.size();
        s.bytes.resize(off + n);
        fill_payload(s.bytes.data() + off, n, rng);
        s.bytes += "\r\n";
        expected_event e = expect(event_kind::ipd, remote ? 3 : 0, static_cast<std::uint32_t>(n));
        e.payload_off = off;
        e.payload_len = n;
        if (remote) {
            e.remote_host = "192.168.101.110";
            e.remote_port = 61234;
        }
        s.expect.push_back(e);
        s.frames.emplace_back(off, n);
        ++s.units;
    }
    return s;
}

std::vector<stream>& streams()
{
    static std::vector<stream> all = [] {
        std::vector<stream> v;
        v.push_back(make_lines_stream(false));
        v.push_back(make_lines_stream(true));
        for (std::size_t n : {16, 256, 1460, 2048}) v.push_back(make_ipd_stream(n, false));
        for (std::size_t n : {16, 1460}) v.push_back(make_ipd_stream(n, true));
        return v;
    }();
    return all;
}

// Decodes `s` in chunks of `chunk` bytes and compares every event with what it must be.
// Returns an empty string on success, else what went wrong.
std::string verify(const stream& s, std::size_t chunk)
{
    espat::proto::parser p;
    std::size_t i = 0;
    std::string err;
    auto fail = [&](const std::string& what) {
        if (err.empty()) err = s.name + " chunk " + std::to_string(chunk) + " event " + std::to_string(i) + ": " + what;
    };
    const std::string_view all = s.bytes;
    for (std::size_t off = 0; off < all.size() && err.empty(); off += chunk) {
        p.feed(all.substr(off, chunk), [&](const event& e) {
            if (i >= s.expect.size()) return fail("extra event " + std::string(to_string(e.kind)));
            const expected_event& x = s.expect[i];
            if (e.kind != x.kind)
                return fail("kind " + std::string(to_string(e.kind)) + ", expected " + std::string(to_string(x.kind)) +
                            " (text \"" + std::string(e.text) + "\")");
            if (e.link != x.link) return fail("link " + std::to_string(e.link));
            if (x.value != 0 && e.value != x.value) return fail("value " + std::to_string(e.value));
            if (!x.name.empty() && e.name != x.name) return fail("name " + std::string(e.name));
            if (e.payload != all.substr(x.payload_off, x.payload_len)) return fail("payload differs");
            if (e.remote_host != x.remote_host || e.remote_port != x.remote_port) return fail("remote differs");
            ++i;
        });
    }
    if (err.empty() && i != s.expect.size())
        err = s.name + " chunk " + std::to_string(chunk) + ": " + std::to_string(i) + " events, expected " +
              std::to_string(s.expect.size());
    if (err.empty() && !p.idle()) err = s.name + " chunk " + std::to_string(chunk) + ": parser not idle at the end";
    return err;
}

// ---------------------------------------------------------------------------------------
// The benchmarks
// ---------------------------------------------------------------------------------------

// What the handler accumulates: cheap, but it depends on every event, so nothing is elided.
struct sink {
    std::uint64_t events = 0;
    std::uint64_t kinds = 0;
    std::uint64_t payload_bytes = 0;
    std::uint64_t in_place = 0;  // payloads that point into the caller's buffer
};

void set_common_counters(benchmark::State& state, const stream& s)
{
    const auto iters = static_cast<std::int64_t>(state.iterations());
    state.SetBytesProcessed(iters * static_cast<std::int64_t>(s.bytes.size()));
    // Inverted rate: CPU seconds per message or frame (the console shows e.g. "26.8ns").
    state.counters["per_frame"] = benchmark::Counter(static_cast<double>(s.units),
                                                     benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

// Each chunk is handed over by one out-of-line call, as a reader loop would after each read.
// The parser and both baselines are driven the same way, so they pay the same per-chunk
// cost; and the parser's code is not inlined into this loop, where register allocation
// made chunk-1 figures swing by 1.5x from one harmless edit to the next.
template <class Consumer>
void drive(Consumer& c, const stream& s, std::size_t chunk)
{
    const char* p = s.bytes.data();
    const char* const end = p + s.bytes.size();
    while (p != end) {
        const std::size_t n = std::min(chunk, static_cast<std::size_t>(end - p));
        c.feed(p, n);
        p += n;
    }
}

struct parser_consumer {
    espat::proto::parser parser;
    sink k;
    const char* base;
    std::size_t size;

    [[gnu::noinline]] void feed(const char* data, std::size_t n)
    {
        parser.feed(std::string_view(data, n), [this](const event& e) {
            ++k.events;
            k.kinds += static_cast<std::uint64_t>(e.kind);
            k.payload_bytes += e.payload.size();
            const auto d = reinterpret_cast<std::uintptr_t>(e.payload.data()) - reinterpret_cast<std::uintptr_t>(base);
            k.in_place += (!e.payload.empty() && d < size) ? 1u : 0u;
        });
    }
};

void bm_parser(benchmark::State& state, const stream* s, std::size_t chunk)
{
    auto c = std::make_unique<parser_consumer>();
    c->base = s->bytes.data();
    c->size = s->bytes.size();
    for (auto _ : state) {
        drive(*c, *s, chunk);
        benchmark::DoNotOptimize(c->k);
    }
    const sink& total = c->k;
    if (state.iterations() > 0 && total.events != s->expect.size() * state.iterations()) {
        state.SkipWithError("wrong number of events");
        return;
    }
    set_common_counters(state, *s);
    if (!s->frames.empty() && state.iterations() > 0) {
        const double frames = static_cast<double>(s->frames.size()) * static_cast<double>(state.iterations());
        state.counters["zero_copy"] = static_cast<double>(total.in_place) / frames;
        state.counters["contiguous"] = static_cast<double>(s->contiguous_frames(chunk)) / static_cast<double>(s->frames.size());
    }
}

// Finds each '\n' with memchr; a line cut by a chunk's end is carried over as a length.
struct memchr_consumer {
    std::size_t lines = 0;
    std::size_t line_bytes = 0;
    std::size_t carry = 0;

    [[gnu::noinline]] void feed(const char* p, std::size_t n)
    {
        const char* const end = p + n;
        while (p != end) {
            const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
            if (nl == nullptr) {
                carry += static_cast<std::size_t>(end - p);
                return;
            }
            const char* q = static_cast<const char*>(nl);
            line_bytes += carry + static_cast<std::size_t>(q - p);
            carry = 0;
            ++lines;
            p = q + 1;
        }
    }
};

void bm_memchr_lines(benchmark::State& state, const stream* s, std::size_t chunk)
{
    memchr_consumer c;
    for (auto _ : state) {
        drive(c, *s, chunk);
        benchmark::DoNotOptimize(c);
    }
    set_common_counters(state, *s);
}

// Copies the payload bytes each chunk holds into a buffer, where each frame's payload is
// gathered (positions known in advance: no parsing at all).
struct memcpy_consumer {
    const char* base;
    const std::pair<std::size_t, std::size_t>* frames;
    std::size_t nframes;
    std::size_t next = 0;  // the frame whose payload is due next
    char* dst;

    [[gnu::noinline]] void feed(const char* p, std::size_t n)
    {
        const std::size_t cs = static_cast<std::size_t>(p - base), ce = cs + n;
        while (next != nframes) {
            const std::size_t fs = frames[next].first, fe = fs + frames[next].second;
            if (fs >= ce) return;
            const std::size_t lo = std::max(fs, cs), hi = std::min(fe, ce);
            std::memcpy(dst + (lo - fs), base + lo, hi - lo);
            if (fe > ce) return;
            ++next;
        }
    }
};

void bm_memcpy_payload(benchmark::State& state, const stream* s, std::size_t chunk)
{
    auto dst = std::make_unique<char[]>(s->payload_size);
    memcpy_consumer c{s->bytes.data(), s->frames.data(), s->frames.size(), 0, dst.get()};
    for (auto _ : state) {
        c.next = 0;
        drive(c, *s, chunk);
        benchmark::DoNotOptimize(c.dst);
        benchmark::ClobberMemory();
    }
    set_common_counters(state, *s);
}

// ---------------------------------------------------------------------------------------
// Registration, and what the summary needs to know about each benchmark
// ---------------------------------------------------------------------------------------

enum class kind { parser, memchr_lines, memcpy_payload };

struct bench_info {
    kind k;
    std::size_t stream_index;
    std::size_t chunk;
};

std::map<std::string, bench_info>& registry()
{
    static std::map<std::string, bench_info> r;
    return r;
}

std::string chunk_name(std::size_t c) { return "chunk:" + std::to_string(c); }

void register_all()
{
    auto& all = streams();
    for (std::size_t si = 0; si < all.size(); ++si) {
        const stream* s = &all[si];
        for (std::size_t c : chunk_sizes) {
            auto add = [&](kind k, const char* prefix, void (*fn)(benchmark::State&, const stream*, std::size_t)) {
                std::string name = std::string(prefix) + "/" + s->name + "/" + chunk_name(c);
                benchmark::RegisterBenchmark(name.c_str(), fn, s, c);
                registry().emplace(name, bench_info{k, si, c});
            };
            add(kind::parser, "parser", bm_parser);
            add(kind::memchr_lines, "memchr_lines", bm_memchr_lines);
            if (s->grp != group::lines) add(kind::memcpy_payload, "memcpy_payload", bm_memcpy_payload);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reporter: forwards everything to the usual reporter, keeps the runs for the summary
// ---------------------------------------------------------------------------------------

struct result {
    double bytes_per_second = NAN;
    double ns_per_frame = NAN;
    double zero_copy = NAN;
    double contiguous = NAN;
    bool median = false;
};

class collecting_reporter : public benchmark::BenchmarkReporter {
public:
    explicit collecting_reporter(std::unique_ptr<benchmark::BenchmarkReporter> inner) : inner_(std::move(inner)) {}

    bool ReportContext(const Context& context) override { return inner_->ReportContext(context); }

    void ReportRuns(const std::vector<Run>& runs) override
    {
        for (const Run& r : runs) {
            if (r.error_occurred) continue;
            const bool is_median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
            if (r.run_type == Run::RT_Aggregate && !is_median) continue;
            const std::string name = r.run_name.str();
            result& out = results_[name];
            if (out.median && !is_median) continue;  // a median, once there, wins
            out = result{};
            out.median = is_median;
            auto get = [&](const char* key) {
                auto it = r.counters.find(key);
                return it == r.counters.end() ? NAN : static_cast<double>(it->second);
            };
            out.bytes_per_second = get("bytes_per_second");
            out.ns_per_frame = get("per_frame") * 1e9;
            out.zero_copy = get("zero_copy");
            out.contiguous = get("contiguous");
        }
        inner_->ReportRuns(runs);
    }

    void Finalize() override { inner_->Finalize(); }

    [[nodiscard]] const std::map<std::string, result>& results() const { return results_; }

private:
    std::unique_ptr<benchmark::BenchmarkReporter> inner_;
    std::map<std::string, result> results_;
};

// What --benchmark_format, --benchmark_color and --benchmark_counters_tabular ask for, read
// before benchmark::Initialize takes them out of argv.
struct display_options {
    std::string format = "console";
    std::string color = "auto";
    bool tabular = false;
};

display_options read_display_options(int argc, char** argv)
{
    display_options d;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a.starts_with("--benchmark_format=")) d.format = a.substr(19);
        else if (a.starts_with("--benchmark_color=")) d.color = a.substr(18);
        else if (a == "--benchmark_counters_tabular" || a == "--benchmark_counters_tabular=true") d.tabular = true;
    }
    return d;
}

// The display reporter Google Benchmark would have made from those flags (its factory is
// internal).
std::unique_ptr<benchmark::BenchmarkReporter> make_display_reporter(const display_options& d)
{
    const std::string& format = d.format;
    const std::string& color = d.color;
    const bool tabular = d.tabular;
    if (format == "json") return std::make_unique<benchmark::JSONReporter>();
    if (format == "csv") {
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
        return std::make_unique<benchmark::CSVReporter>();
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    }
    const bool is_tty = ::isatty(STDOUT_FILENO) != 0;
    const char* term = std::getenv("TERM");
    const bool use_color = color == "true" || color == "yes" || color == "1" ||
                           (color == "auto" && is_tty && term != nullptr && std::string_view(term) != "dumb");
    int opts = benchmark::ConsoleReporter::OO_None;
    if (use_color) opts |= benchmark::ConsoleReporter::OO_Color;
    if (tabular) opts |= benchmark::ConsoleReporter::OO_Tabular;
    return std::make_unique<benchmark::ConsoleReporter>(static_cast<benchmark::ConsoleReporter::OutputOptions>(opts));
}

// ---------------------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------------------

std::string cpu_model()
{
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("model name")) {
            auto colon = line.find(':');
            if (colon != std::string::npos) {
                auto v = line.substr(colon + 1);
                v.erase(0, v.find_first_not_of(" \t"));
                return v;
            }
        }
    }
    return "unknown CPU";
}

std::string compiler()
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "g++ " __VERSION__;
#else
    return "unknown compiler";
#endif
}

std::string fmt(double v, int prec)
{
    if (std::isnan(v)) return "—";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", prec, v);
    return buf;
}

std::string pct(double v) { return std::isnan(v) ? "—" : fmt(v * 100.0, 0) + " %"; }
std::string times(double v) { return std::isnan(v) ? "—" : fmt(v, 2) + "x"; }

std::string summary(const std::map<std::string, result>& results)
{
    auto find = [&](kind k, std::size_t si, std::size_t c) -> const result* {
        for (const auto& [name, info] : registry()) {
            if (info.k == k && info.stream_index == si && info.chunk == c) {
                auto it = results.find(name);
                return it == results.end() ? nullptr : &it->second;
            }
        }
        return nullptr;
    };
    auto gbps = [](const result* r) { return r ? r->bytes_per_second / 1e9 : NAN; };
    bool medians = false;
    for (const auto& [name, r] : results) medians = medians || r.median;

    std::ostringstream o;
    o << "### Parser throughput (`benchmarks/parser_bench.cpp`)\n\n";
    o << "Machine: " << cpu_model() << ", " << std::thread::hardware_concurrency() << " logical CPUs; " << compiler();
#if defined(__OPTIMIZE__)
    o << ", optimized";
#endif
#if defined(NDEBUG)
    o << ", NDEBUG";
#endif
    o << ".\n\n"
         "GB/s: 10^9 bytes of input per CPU second" << (medians ? " (medians of the repetitions)" : "") << ". "
         "Each ~256 KiB stream is pre-built and handed over in slices of `chunk` bytes, one out-of-line call per "
         "slice, the same for the parser and the baselines, which run in the same process over the same bytes: "
         "*memchr lines* finds each `\\n` with memchr (a line cut by a slice's end is carried over as a length); "
         "*memcpy payload* copies every payload byte into a buffer as its slice arrives (frame positions known, "
         "no parsing). ns/frame: per message for the `lines` streams, per `+IPD` frame otherwise. Zero-copy: "
         "share of frames the handler received as a view into the caller's slice (in brackets: share whose "
         "payload lay within one slice, i.e. could be).\n\n";
    o << "| stream | chunk | parser GB/s | baseline | baseline GB/s | parser / baseline | memchr lines GB/s | "
         "parser / memchr | parser ns/frame | zero-copy (possible) |\n";
    o << "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|\n";
    const auto& all = streams();
    for (std::size_t si = 0; si < all.size(); ++si) {
        const stream& s = all[si];
        for (std::size_t c : chunk_sizes) {
            const result* p = find(kind::parser, si, c);
            if (!p) continue;
            const result* mc = find(kind::memchr_lines, si, c);
            const bool lines = s.grp == group::lines;
            const result* base = lines ? mc : find(kind::memcpy_payload, si, c);
            const double pg = gbps(p), bg = gbps(base), mg = gbps(mc);
            o << "| " << s.name << " | " << c << " | " << fmt(pg, 2) << " | " << (lines ? "memchr lines" : "memcpy payload")
              << " | " << fmt(bg, 2) << " | " << times(pg / bg) << " | " << (lines ? "—" : fmt(mg, 2)) << " | "
              << (lines ? "—" : times(pg / mg)) << " | " << fmt(p->ns_per_frame, 1) << " | "
              << (lines ? "—" : pct(p->zero_copy) + " (" + pct(p->contiguous) + ")") << " |\n";
        }
    }

    // Targets, each with how far the figure is from it.
    auto stream_index = [&](std::string_view name) -> std::optional<std::size_t> {
        for (std::size_t i = 0; i < all.size(); ++i)
            if (all[i].name == name) return i;
        return std::nullopt;
    };
    auto verdict = [](bool measured, bool ok) { return !measured ? "not run" : ok ? "**met**" : "**missed**"; };
    auto at_least = [](double v, double target) {  // margin for "v >= target"
        if (std::isnan(v)) return std::string("—");
        return v >= target ? "+" + fmt((v / target - 1) * 100, 0) + " %" : "needs " + times(target / v);
    };
    auto ratio_at = [&](std::string_view name, std::size_t chunk) {
        const auto si = stream_index(name);
        const result* p = si ? find(kind::parser, *si, chunk) : nullptr;
        const result* b = si ? find(kind::memchr_lines, *si, chunk) : nullptr;
        return std::pair{p && b ? p->bytes_per_second / b->bytes_per_second : NAN, gbps(p)};
    };
    o << "\n| target | measured | margin | verdict |\n|---|---|---|---|\n";
    {
        const auto [r, g] = ratio_at("lines", 4096);
        o << "| `lines`, chunk 4096: ≥ 0.6x memchr lines (lwESP: 0.35–0.45 GB/s) | " << times(r) << " (" << fmt(g, 2)
          << " GB/s) | " << at_least(r, 0.6) << " | " << verdict(!std::isnan(r), r >= 0.6) << " |\n";
    }
    {
        const auto si = stream_index("ipd16");
        const result* p = si ? find(kind::parser, *si, 4096) : nullptr;
        const double ns = p ? p->ns_per_frame : NAN;
        const std::string margin = std::isnan(ns) ? "—"
                                   : ns <= 12.0   ? fmt(12.0 - ns, 1) + " ns to spare"
                                                  : fmt(ns - 12.0, 1) + " ns over (needs " + times(ns / 12.0) + ")";
        o << "| `ipd16` (16-byte +IPD), chunk 4096: ≤ 12 ns/frame (lwESP: 53–70 ns) | " << fmt(ns, 1) << " ns | "
          << margin << " | " << verdict(!std::isnan(ns), ns <= 12.0) << " |\n";
    }
    {  // large payloads in place whenever contiguous, at every chunk size
        bool any = false, ok = true;
        std::string detail;
        for (std::size_t si = 0; si < all.size(); ++si) {
            if (all[si].payload_size < 256) continue;
            for (std::size_t c : chunk_sizes) {
                const result* p = find(kind::parser, si, c);
                if (!p || std::isnan(p->zero_copy)) continue;
                any = true;
                ok = ok && std::fabs(p->zero_copy - p->contiguous) < 1e-9;
                if (c == 4096) detail += (detail.empty() ? "" : ", ") + all[si].name + " " + pct(p->zero_copy);
            }
        }
        o << "| payloads ≥ 256 B passed without a copy whenever contiguous (zero-copy = possible, every chunk) | "
          << (detail.empty() ? "—" : "chunk 4096: " + detail) << " | " << (any ? (ok ? "none missed" : "some copied") : "—")
          << " | " << verdict(any, ok) << " |\n";
    }
    {  // chunk 1 >= 0.4 GB/s on every stream
        std::size_t run = 0, met = 0;
        double worst = INFINITY, base_lo = INFINITY, base_hi = 0;
        std::string worst_name;
        for (std::size_t si = 0; si < all.size(); ++si) {
            const result* p = find(kind::parser, si, 1);
            if (!p) continue;
            ++run;
            met += gbps(p) >= 0.4 ? 1 : 0;
            if (gbps(p) < worst) worst = gbps(p), worst_name = all[si].name;
            for (kind k : {kind::memchr_lines, kind::memcpy_payload}) {
                if (const result* b = find(k, si, 1)) {
                    base_lo = std::min(base_lo, gbps(b));
                    base_hi = std::max(base_hi, gbps(b));
                }
            }
        }
        o << "| chunk 1: ≥ 0.4 GB/s on every stream (lwESP: 0.10–0.15 GB/s) | " << met << " of " << run
          << " streams; slowest " << worst_name << " " << fmt(run ? worst : NAN, 2) << " GB/s (baselines at chunk 1: "
          << fmt(base_hi > 0 ? base_lo : NAN, 2) << "–" << fmt(base_hi > 0 ? base_hi : NAN, 2) << " GB/s) | "
          << at_least(run ? worst : NAN, 0.4) << " | " << verdict(run != 0, run != 0 && met == run) << " |\n";
    }
    {  // for reference, no target of their own
        const auto [r, g] = ratio_at("lines_shuffled", 4096);
        const auto si = stream_index("ipd_remote16");
        const result* p = si ? find(kind::parser, *si, 4096) : nullptr;
        o << "| (reference) `lines_shuffled`, chunk 4096, vs memchr lines | " << times(r) << " (" << fmt(g, 2)
          << " GB/s) | — | — |\n";
        o << "| (reference) `ipd_remote16` (+IPD with remote address), chunk 4096 | " << fmt(p ? p->ns_per_frame : NAN, 1)
          << " ns/frame | — | — |\n";
    }
    return o.str();
}

}  // namespace

int main(int argc, char** argv)
{
    // Our own flag, taken out before Google Benchmark sees the rest.
    std::string summary_out;
    {
        int w = 1;
        for (int i = 1; i < argc; ++i) {
            const std::string_view a = argv[i];
            if (a.starts_with("--summary_out=")) summary_out = a.substr(14);
            else argv[w++] = argv[i];
        }
        argc = w;
        argv[argc] = nullptr;
    }

    const display_options display = read_display_options(argc, argv);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

    // Nothing is timed unless the parser decodes every stream exactly, at every chunk size.
    for (const stream& s : streams()) {
        for (std::size_t c : chunk_sizes) {
            if (std::string err = verify(s, c); !err.empty()) {
                std::cerr << "parser_bench: verification failed: " << err << '\n';
                return 1;
            }
        }
    }
    register_all();

    collecting_reporter reporter(make_display_reporter(display));
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();

    if (!reporter.results().empty()) {
        const std::string md = summary(reporter.results());
        (display.format == "console" ? std::cout : std::cerr) << '\n' << md << std::flush;
        if (!summary_out.empty()) {
            std::ofstream f(summary_out);
            f << md;
            if (!f) {
                std::cerr << "parser_bench: cannot write " << summary_out << '\n';
                return 1;
            }
        }
    }
    return 0;
}
