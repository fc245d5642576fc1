// benchmarks/client_bench.cpp — what a command costs through espat::basic_client over a real
// pseudo-terminal, beside the same bytes through the same kind of pty with no library.
//
// Each command (AT, AT+CIPSTATUS, AT+CIPSTA?) is timed from the call to its typed result, on
// the host thread; the device answers on a second thread, as a real module answers on its
// own chip. Three rigs, all in this process:
//   raw      the host writes the command line with write(2) and reads the reply's bytes with
//            read(2) on the pty slave; a responder thread answers on the master with bytes
//            captured from the simulator beforehand. The least any driver can take.
//   espat    the client on asio::serial_port on the slave of a second pty, a responder of
//            its own: espat − raw is the library's overhead (Asio, parser, session, typed
//            decoding). Its round trips alternate with raw's, one for one, so that both see
//            the same host conditions.
//   espat+sim  the client against espat::sim::module on the master: what the tests and
//            examples see; the simulator's own cost is inside it.
// Heap allocations are counted by the replaced global operator new below, per thread and
// only inside the measured loops: per command (steady state, after warm-up) and per +IPD
// frame while a link in active mode reads a bulk transfer from a loopback TCP peer.
//
// Flags: --quick (CI smoke run: fewer round trips), --summary_out=FILE (the Markdown summary),
// --trace_allocations=N (print the call stacks of the first N counted allocations to stderr),
// --trace_skip=K (... of the N after the first K: e.g. past the asio::serial_port rounds).
#include "bench_support.hpp"

#include <espat/client.hpp>
#include <espat/commands/basic.hpp>
#include <espat/commands/tcpip.hpp>
#include <espat/commands/wifi.hpp>
#include <espat/net/network.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/pipe.hpp>
#include <espat/sim/pty.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/serial_port.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <execinfo.h>
#include <unistd.h>

// ---------------------------------------------------------------------------------------
// Allocation counting: only the thread that switched it on, only while on.
// ---------------------------------------------------------------------------------------

namespace {
thread_local bool counting_allocations = false;
thread_local std::size_t allocations_counted = 0;
int stacks_to_print = 0;  // --trace_allocations=N: where the first N counted ones come from
long stacks_to_skip = 0;  // --trace_skip=K: ... after the first K counted ones

// Prints the caller's stack (binary+offset; resolve with addr2line -fCe <binary>).
void print_allocation_stack()
{
    counting_allocations = false;  // backtrace() may allocate on its first call
    void* frames[24];
    const int n = ::backtrace(frames, 24);
    ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
    static constexpr char separator[] = "--\n";
    (void)!::write(STDERR_FILENO, separator, sizeof separator - 1);
    counting_allocations = true;
}

void* counted_malloc(std::size_t n)
{
    if (counting_allocations) {
        ++allocations_counted;
        if (stacks_to_skip > 0) {
            --stacks_to_skip;
        } else if (stacks_to_print > 0) {
            --stacks_to_print;
            print_allocation_stack();
        }
    }
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* counted_aligned(std::size_t n, std::align_val_t a)
{
    if (counting_allocations) ++allocations_counted;
    const auto align = static_cast<std::size_t>(a);
    if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
    throw std::bad_alloc();
}
}  // namespace

// g++ inlines the replacement into Asio and then sees a "new" released by free().
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) { return counted_malloc(n); }
void* operator new[](std::size_t n) { return counted_malloc(n); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_aligned(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

namespace bench = espat::bench;
namespace commands = espat::commands;
using asio::awaitable;
using asio::use_awaitable;
using serial_client = espat::basic_client<asio::serial_port>;
// The same client on a port typed with io_context's own executor: no type-erased executor, so
// none of the allocations asio::any_io_executor makes when work is tracked or preferred.
using io_serial_port = asio::basic_serial_port<asio::io_context::executor_type>;
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// The commands timed, as the module sees them.
enum class command { at, cipstatus, cipsta };
constexpr command all_commands[] = {command::at, command::cipstatus, command::cipsta};

std::string_view line_of(command c)
{
    switch (c) {
    case command::at: return "AT";
    case command::cipstatus: return "AT+CIPSTATUS";
    case command::cipsta: return "AT+CIPSTA?";
    }
    return {};
}

using reply_map = std::map<std::string, std::string, std::less<>>;

// What the simulator answers (echo on, as the client runs it: each answer follows the echo of
// its line) to each line the client sends, start-up's included: the responder of the raw and
// espat rigs plays these bytes back, so all rigs move the same bytes.
reply_map capture_simulator_replies()
{
    const std::string lines[] = {"ATE1", "AT", "AT+GMR", "AT+SYSLOG=1", "AT+CIPSTATUS", "AT+CIPSTA?"};
    reply_map replies;
    asio::io_context io;
    espat::sim::module module(io.get_executor());
    // Named members, not a structured binding: clang 14 cannot capture those in a lambda.
    auto ends = espat::sim::make_pipe(io.get_executor());
    espat::sim::pipe_end& host = ends.first;
    espat::sim::pipe_end& device = ends.second;
    asio::co_spawn(io, module.serve(device), asio::detached);
    auto converse = [&]() -> awaitable<void> {
        std::string received;
        char buffer[1024];
        for (const std::string& line : lines) {
            const std::string bytes = line + "\r\n";
            co_await asio::async_write(host, asio::buffer(bytes), use_awaitable);
            received.clear();
            while (!received.ends_with("\r\nOK\r\n") && !received.ends_with("\r\nERROR\r\n")) {
                const std::size_t n = co_await host.async_read_some(asio::buffer(buffer), use_awaitable);
                received.append(buffer, n);
            }
            replies[line] = received;
        }
        module.stop();
        host.close();
    };
    asio::co_spawn(io, converse, asio::detached);
    io.run_for(std::chrono::seconds(5));
    if (replies.size() != std::size(lines)) throw std::runtime_error("the simulator did not answer every command");
    return replies;
}

// A plain echo-style responder on a pty master: each command line gets its captured reply.
// "QUIT" ends it.
void respond_until_quit(int fd, const reply_map& replies)
{
    std::string pending;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) return;
        pending.append(buffer, static_cast<std::size_t>(n));
        for (std::size_t end; (end = pending.find("\r\n")) != std::string::npos;) {
            const std::string_view line(pending.data(), end);
            if (line == "QUIT") return;
            const auto it = replies.find(line);
            bench::write_all(fd, it != replies.end() ? std::string_view(it->second) : "\r\nERROR\r\n");
            pending.erase(0, end + 2);
        }
    }
}

struct round_trips {
    bench::latency times;
    double allocations_per_command = NAN;  // the mean over the timed commands
    std::size_t typical_allocations = 0;   // the median command's count: the steady state
    int commands_over_2 = 0;               // timed commands that allocated more than 2
};

struct sizes {
    int warmup = 300;
    int samples = 3000;
    std::size_t bulk_bytes = 4u << 20;
};

// The raw rig: write(2) the line, read(2) exactly the reply's bytes, on a pty of its own with
// its own responder thread. Its round trips alternate with the client's, one each, so both see
// the same host: this machine's pty latency drifts by tens of µs between runs minutes apart.
class raw_rig {
public:
    raw_rig(command c, const reply_map& replies)
        : responder_(respond_until_quit, pty_.master, std::cref(replies)), request_(std::string(line_of(c)) + "\r\n"),
          reply_size_(replies.find(line_of(c))->second.size())
    {
        scratch_.reserve(4096);
    }
    ~raw_rig()
    {
        bench::write_all(pty_.slave, "QUIT\r\n");
        responder_.join();
    }
    raw_rig(const raw_rig&) = delete;
    raw_rig& operator=(const raw_rig&) = delete;

    double round_trip_us()
    {
        const auto start = bench::clock::now();
        bench::write_all(pty_.slave, request_);
        bench::read_exactly(pty_.slave, reply_size_, scratch_);
        return std::chrono::duration<double, std::micro>(bench::clock::now() - start).count();
    }

private:
    bench::raw_pty pty_;
    std::thread responder_;
    std::string request_;
    std::size_t reply_size_;
    std::string scratch_;
};

// One typed command; false when it failed.
template <class Client>
awaitable<bool> run_command(Client& esp, command c)
{
    switch (c) {
    case command::at: {
        auto r = co_await esp.template async_execute<commands::at>();
        co_return r.has_value();
    }
    case command::cipstatus: {
        auto r = co_await esp.template async_execute<commands::cipstatus>();
        co_return r.has_value();
    }
    case command::cipsta: {
        auto r = co_await esp.template async_query<commands::cipsta>();
        co_return r.has_value();
    }
    }
    co_return false;
}

// Times `samples` commands after `warmup` on a started client; allocations counted on this
// (the host's) thread over the timed ones.
// With `raw`, each command alternates with a raw round trip, timed into `raw_out` and not
// counted (the client is idle meanwhile: it only waits on its port).
template <class Client>
awaitable<round_trips> time_commands(Client& esp, command c, sizes z, raw_rig* raw = nullptr, round_trips* raw_out = nullptr)
{
    round_trips out;
    out.times.us.reserve(static_cast<std::size_t>(z.samples));
    if (raw_out) raw_out->times.us.reserve(static_cast<std::size_t>(z.samples));
    for (int i = 0; i < z.warmup; ++i) {
        const bool ok = co_await run_command(esp, c);
        if (!ok) throw std::runtime_error("warm-up command failed");
        if (raw) (void)raw->round_trip_us();
    }
    std::vector<std::size_t> per_command;
    per_command.reserve(static_cast<std::size_t>(z.samples));
    allocations_counted = 0;
    counting_allocations = true;
    for (int i = 0; i < z.samples; ++i) {
        const std::size_t before = allocations_counted;
        if (raw) {
            counting_allocations = false;
            raw_out->times.us.push_back(raw->round_trip_us());
            counting_allocations = true;
        }
        const auto start = bench::clock::now();
        const bool ok = co_await run_command(esp, c);
        const auto end = bench::clock::now();
        if (!ok) {
            counting_allocations = false;
            throw std::runtime_error(std::string("command failed: ") + std::string(line_of(c)));
        }
        out.times.us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
        per_command.push_back(allocations_counted - before);
    }
    counting_allocations = false;
    out.allocations_per_command = static_cast<double>(allocations_counted) / z.samples;
    out.commands_over_2 = static_cast<int>(std::count_if(per_command.begin(), per_command.end(), [](std::size_t n) { return n > 2; }));
    std::nth_element(per_command.begin(), per_command.begin() + per_command.size() / 2, per_command.end());
    out.typical_allocations = per_command[per_command.size() / 2];
    co_return out;
}

// Runs `script` on a client opened on `slave_path` until it finishes; rethrows its failure.
template <class Port = asio::serial_port, class Script>
void with_client(const std::string& slave_path, Script script)
{
    asio::io_context io;
    Port port(io.get_executor(), slave_path);
    espat::client_options options;
    options.start_probe_timeout = std::chrono::milliseconds(200);
    espat::basic_client<Port> esp(std::move(port), options);
    std::exception_ptr failure;
    bool finished = false;
    auto body = [&]() -> awaitable<void> {
        auto started = co_await esp.async_start();
        if (!started) throw std::runtime_error("start() failed: " + started.error().message());
        auto steps = script(esp);
        co_await std::move(steps);
    };
    asio::co_spawn(io, body, [&](std::exception_ptr e) {
        failure = e;
        finished = true;
        io.stop();
    });
    io.run_for(std::chrono::seconds(60));
    if (failure) std::rethrow_exception(failure);
    if (!finished) throw std::runtime_error("client script did not finish in time");
}

// The espat rig: the client against the same responder as the raw rig; with `raw_out`, the raw
// rig's round trips alternate with the client's.
template <class Port>
round_trips espat_round_trips(command c, const reply_map& replies, const sizes& z, round_trips* raw_out = nullptr)
{
    bench::raw_pty pty;
    std::thread responder(respond_until_quit, pty.master, std::cref(replies));
    round_trips out;
    try {
        std::optional<raw_rig> raw;
        if (raw_out) raw.emplace(c, replies);
        with_client<Port>(pty.slave_path, [&](espat::basic_client<Port>& esp) -> awaitable<void> {
            out = co_await time_commands(esp, c, z, raw ? &*raw : nullptr, raw_out);
        });
    } catch (...) {
        bench::write_all(pty.slave, "QUIT\r\n");
        responder.join();
        throw;
    }
    bench::write_all(pty.slave, "QUIT\r\n");
    responder.join();
    return out;
}

// A simulated module served on a pty master on the device thread; destroyed there too.
struct simulated_module {
    explicit simulated_module(bench::device_thread& device) : device_(device)
    {
        device_.run_on([this] {
            pty_.emplace(espat::sim::open_pty(device_.io.get_executor()));
            module_.emplace(device_.io.get_executor());
            asio::co_spawn(device_.io, module_->serve(pty_->master), asio::detached);
        });
    }
    ~simulated_module()
    {
        device_.run_on([this] {
            module_->stop();
            std::error_code ignored;
            pty_->master.cancel(ignored);
        });
        // Let the serve() coroutine see the stop before its stream goes away.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        device_.run_on([this] {
            module_.reset();
            pty_.reset();
        });
    }
    simulated_module(const simulated_module&) = delete;
    simulated_module& operator=(const simulated_module&) = delete;

    [[nodiscard]] std::string slave_path() const { return pty_->slave_path; }

private:
    bench::device_thread& device_;
    std::optional<espat::sim::pty> pty_;
    std::optional<espat::sim::module> module_;
};

round_trips simulator_round_trips(bench::device_thread& device, command c, const sizes& z)
{
    simulated_module module(device);
    round_trips out;
    with_client(module.slave_path(), [&](serial_client& esp) -> awaitable<void> { out = co_await time_commands(esp, c, z); });
    return out;
}

// A loopback TCP peer on the device thread that sends `bytes` to whoever connects.
struct bulk_sender {
    bulk_sender(bench::device_thread& device, std::size_t bytes) : device_(device)
    {
        device_.run_on([this, bytes] {
            acceptor_.emplace(device_.io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
            port = acceptor_->local_endpoint().port();
            auto serve_one = [this, bytes]() -> awaitable<void> {
                auto [ec, socket] = co_await acceptor_->async_accept(as_tuple);
                if (ec) co_return;
                const std::string chunk(16384, 'x');
                std::size_t left = bytes;
                while (left > 0) {
                    const std::size_t n = std::min(left, chunk.size());
                    auto [wec, written] = co_await asio::async_write(socket, asio::buffer(chunk.data(), n), as_tuple);
                    if (wec) co_return;
                    left -= written;
                }
                // Keep the link open until the host has read everything (it closes the link).
                char sink[64];
                auto [rec, got] = co_await socket.async_read_some(asio::buffer(sink), as_tuple);
                (void)rec;
                (void)got;
            };
            asio::co_spawn(device_.io, serve_one, asio::detached);
        });
    }
    ~bulk_sender()
    {
        device_.run_on([this] { acceptor_.reset(); });
    }
    bulk_sender(const bulk_sender&) = delete;
    bulk_sender& operator=(const bulk_sender&) = delete;

    std::uint16_t port = 0;

private:
    bench::device_thread& device_;
    std::optional<asio::ip::tcp::acceptor> acceptor_;
};

struct frame_allocations {
    std::size_t frames = 0;
    std::size_t bytes = 0;
    double per_frame = NAN;
};

// Allocations per +IPD frame: a link in active mode reads a bulk transfer; counting starts
// once a quarter of it has arrived (steady state) and covers the client's reader, the link
// table and the link reads.
template <class Port>
frame_allocations ipd_allocations(bench::device_thread& device, std::size_t bulk_bytes)
{
    simulated_module module(device);
    bulk_sender peer(device, bulk_bytes);
    frame_allocations out;
    with_client<Port>(module.slave_path(), [&](espat::basic_client<Port>& esp) -> awaitable<void> {
        espat::net::network_options no;
        no.stream_receive = espat::net::receive_mode::active;
        no.receive_buffer = 256 * 1024;  // the reader is on the same thread; never the limit here
        espat::net::basic_network<espat::basic_client<Port>> net(esp, no);
        auto started = co_await net.async_start();
        if (!started) throw std::runtime_error("network start failed: " + started.error().message());
        std::size_t frames_seen = 0;
        const auto listener = esp.add_report_listener([&frames_seen](const espat::proto::event& e) {
            if (e.kind == espat::proto::event_kind::ipd) ++frames_seen;
        });
        auto link = co_await net.async_connect("127.0.0.1", peer.port);
        if (!link) throw std::runtime_error("connect failed: " + link.error().message());
        std::vector<char> buffer(16384);
        std::size_t received = 0, frames_at_start = 0, bytes_at_start = 0;
        while (received < bulk_bytes) {
            if (!counting_allocations && received >= bulk_bytes / 4) {
                frames_at_start = frames_seen;
                bytes_at_start = received;
                allocations_counted = 0;
                counting_allocations = true;
            }
            auto [ec, n] = co_await link->async_read_some(asio::buffer(buffer), as_tuple);
            if (ec) {
                counting_allocations = false;
                throw std::runtime_error("link read failed: " + ec.message());
            }
            received += n;
        }
        counting_allocations = false;
        out.frames = frames_seen - frames_at_start;
        out.bytes = received - bytes_at_start;
        out.per_frame = out.frames ? static_cast<double>(allocations_counted) / static_cast<double>(out.frames) : NAN;
        esp.remove_report_listener(listener);
        auto [close_ec] = co_await link->async_close(as_tuple);
        (void)close_ec;
    });
    return out;
}

struct command_result {
    command c;
    round_trips raw, espat, espat_io, simulated;  // espat_io: the client on io_serial_port
};

// "2, 2.0003": the median command's count, then the mean to four places, so that a rare
// command with more (Asio's per-thread recycling cache missing) shows instead of rounding away.
std::string allocations_cell(const round_trips& r)
{
    return std::to_string(r.typical_allocations) + ", " + bench::fmt(r.allocations_per_command, 4);
}

// The allocation target holds in steady state: the median command allocates at most 2, and at
// most 1 % of commands allocate more.
bool allocations_met(const round_trips& r, const sizes& z)
{
    return r.typical_allocations <= 2 && r.commands_over_2 * 100 <= z.samples;
}

std::string summary(const std::vector<command_result>& results, const frame_allocations& frames,
                    const frame_allocations& frames_io, const sizes& z)
{
    std::ostringstream o;
    o << "### Command round trips (`benchmarks/client_bench.cpp`)\n\n" << bench::machine_line() << "\n\n";
    o << "Round trip of one command from the call to its typed result, over a raw-mode pty, host and device on "
         "separate threads; "
      << z.samples << " timed after " << z.warmup
      << " of warm-up, µs. *raw*: write(2) the line and read(2) the reply's bytes on the pty slave, a plain "
         "responder thread answering on the master with the simulator's own reply bytes (captured at start). "
         "*espat*: `basic_client<asio::serial_port>` on the slave of another pty, a responder of its own, its "
         "round trips alternating with raw's one for one, so both see the same host; *overhead* = espat − raw "
         "(medians). *espat + sim*: the client against `espat::sim::module` on the master. Allocations: global "
         "operator new calls on the host thread per timed command, for the client on `asio::serial_port` (whose "
         "executor is the type-erased `asio::any_io_executor`) and on `asio::basic_serial_port<asio::io_context::"
         "executor_type>` (*io executor*), each against the responder (and the simulator): the median command's "
         "count, and the mean. A mean just over the median is a few commands of thousands that allocated once "
         "more, when Asio's per-thread recycling cache (two blocks, shared by its strand and coroutine "
         "resumptions) had none free.\n\n";
    o << "| command | raw median | raw p99 | espat median | espat p99 | overhead (median) | espat / raw | "
         "espat + sim median | espat + sim p99 | allocations / command: median, mean | allocations / command, io executor |\n";
    o << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& r : results) {
        o << "| `" << line_of(r.c) << "` | " << bench::fmt(r.raw.times.median(), 1) << " | "
          << bench::fmt(r.raw.times.p99(), 1) << " | " << bench::fmt(r.espat.times.median(), 1) << " | "
          << bench::fmt(r.espat.times.p99(), 1) << " | "
          << bench::fmt(r.espat.times.median() - r.raw.times.median(), 1) << " | "
          << bench::fmt(r.espat.times.median() / r.raw.times.median(), 2) << "x | "
          << bench::fmt(r.simulated.times.median(), 1) << " | " << bench::fmt(r.simulated.times.p99(), 1) << " | "
          << allocations_cell(r.espat) << " (sim: " << allocations_cell(r.simulated) << ") | "
          << allocations_cell(r.espat_io) << " |\n";
    }
    o << "\n+IPD frames: a link in active mode read " << frames.bytes << " bytes in " << frames.frames
      << " frames from the simulator (steady state, after the first quarter of the transfer); host-thread "
         "allocations per frame: "
      << bench::fmt(frames.per_frame, 3) << " on `asio::serial_port`, " << bench::fmt(frames_io.per_frame, 3)
      << " with the io executor (" << frames_io.frames << " frames).\n";

    double worst_overhead = -INFINITY;
    std::size_t worst_typical = 0, worst_typical_io = 0;
    int over = 0, over_io = 0;
    bool allocs_ok = true, allocs_io_ok = true;
    for (const auto& r : results) {
        worst_overhead = std::max(worst_overhead, r.espat.times.median() - r.raw.times.median());
        worst_typical = std::max(worst_typical, r.espat.typical_allocations);
        worst_typical_io = std::max(worst_typical_io, r.espat_io.typical_allocations);
        over += r.espat.commands_over_2;
        over_io += r.espat_io.commands_over_2;
        allocs_ok = allocs_ok && allocations_met(r.espat, z);
        allocs_io_ok = allocs_io_ok && allocations_met(r.espat_io, z);
    }
    const auto timed = static_cast<int>(results.size()) * z.samples;
    auto allocations_measured = [timed](std::size_t typical, int more) {
        return "median command " + std::to_string(typical) + "; " + std::to_string(more) + " of " +
               std::to_string(timed) + " commands allocated more";
    };
    auto verdict = [](bool ok) { return ok ? "**met**" : "**missed**"; };
    o << "\n| target | measured | verdict |\n|---|---|---|\n";
    o << "| library overhead < 20 µs median, every command | worst " << bench::fmt(worst_overhead, 1) << " µs | "
      << verdict(worst_overhead < 20) << " |\n";
    o << "| ≤ 2 allocations per command (steady state: the median command, at most 1 % of commands over), "
         "`asio::serial_port` | "
      << allocations_measured(worst_typical, over) << " | " << verdict(allocs_ok) << " |\n";
    o << "| ≤ 2 allocations per command (steady state), io executor | " << allocations_measured(worst_typical_io, over_io)
      << " | " << verdict(allocs_io_ok) << " |\n";
    o << "| 0 allocations per +IPD frame, `asio::serial_port` | " << bench::fmt(frames.per_frame, 3) << " | "
      << verdict(frames.per_frame == 0) << " |\n";
    o << "| 0 allocations per +IPD frame, io executor | " << bench::fmt(frames_io.per_frame, 3) << " | "
      << verdict(frames_io.per_frame == 0) << " |\n";
    return o.str();
}

}  // namespace

int main(int argc, char** argv)
{
    {  // our own flag, taken out before the shared ones are read
        int kept = 1;
        for (int i = 1; i < argc; ++i) {
            const std::string_view a = argv[i];
            if (a.starts_with("--trace_allocations=")) stacks_to_print = std::atoi(argv[i] + 20);
            else if (a.starts_with("--trace_skip=")) stacks_to_skip = std::atol(argv[i] + 13);
            else argv[kept++] = argv[i];
        }
        argc = kept;
    }
    const bench::flags f = bench::parse_flags(argc, argv, "espat_client_bench");
    sizes z;
    if (f.quick) z = sizes{.warmup = 50, .samples = 200, .bulk_bytes = 256u << 10};
    try {
        const auto replies = capture_simulator_replies();
        bench::device_thread device;
        std::vector<command_result> results;
        for (command c : all_commands) {
            command_result r{c, {}, {}, {}, {}};
            r.espat = espat_round_trips<asio::serial_port>(c, replies, z, &r.raw);
            r.espat_io = espat_round_trips<io_serial_port>(c, replies, z);
            r.simulated = simulator_round_trips(device, c, z);
            std::cout << line_of(c) << ": raw " << bench::fmt(r.raw.times.median(), 1) << " µs, espat "
                      << bench::fmt(r.espat.times.median(), 1) << " µs, espat+sim "
                      << bench::fmt(r.simulated.times.median(), 1) << " µs (medians)\n"
                      << std::flush;
            results.push_back(std::move(r));
        }
        const frame_allocations frames = ipd_allocations<asio::serial_port>(device, z.bulk_bytes);
        const frame_allocations frames_io = ipd_allocations<io_serial_port>(device, z.bulk_bytes);
        return bench::emit_summary(summary(results, frames, frames_io, z), f, "espat_client_bench");
    } catch (const std::exception& e) {
        std::cerr << "espat_client_bench: " << e.what() << '\n';
        return 1;
    }
}
