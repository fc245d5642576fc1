// espat-sim — a simulated ESP-AT module on a pseudo-terminal (or a TCP port), for trying a
// driver with no hardware attached:
//
//   espat-sim [--firmware 2|3|4|esp8266|nonos] [--echo on|off] [--ap SSID:PASSWORD]...
//             [--start joined|not-joined] [--listen HOST:PORT] [--reset-delay MS]
//             [--ipd-delay MS] [--bind-address ADDR] [--allow CIDR|any]...
//             [--flow-control on|off] [--trace | --trace=FILE]
//
// (espat_sim_options.hpp has all the flags.) With a pty, the slave's path is the first line of
// standard output (then e.g. `picocom /dev/pts/7`); with --listen, "listening HOST:PORT" is. It
// serves until SIGINT or SIGTERM. Over TCP one host is served at a time, each with a fresh module.
//
// It is a real network proxy: whoever drives it opens connections and sends datagrams from
// this host. By default its links reach loopback only (127.0.0.0/8, ::1) and its server and
// UDP sockets live on 127.0.0.1; --allow and --bind-address widen that, deliberately.
//
// Baud-rate pacing, byte faults and the trace are stream wrappers around the transport
// (module::serve takes any Asio stream), stacked in serve_on() below.
#include "espat_sim_options.hpp"

#include <espat/sim/links.hpp>  // use_tuple
#include <espat/sim/faulty_stream.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/paced_stream.hpp>
#include <espat/sim/pty.hpp>
#include <espat/sim/traced_stream.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using espat_sim::options;
using espat_sim::usage_text;

int usage(const char* why)
{
    std::fprintf(stderr, "espat-sim: %s\n%s", why, usage_text);
    return 2;
}

// The module's output goes through the line faults, then the baud pacing, then the trace, then
// the transport: faults act on bytes as sent, pacing on what reaches the wire, and the trace
// records what the wire carried, when it did, both ways.
template <class Stream>
asio::awaitable<void> serve_on(espat::sim::module& module, Stream& transport, const options& o,
                               espat::sim::line_trace* trace)
{
    using traced = espat::sim::traced_stream<Stream&>;
    using paced = espat::sim::paced_stream<traced&>;
    traced wire(transport, trace);
    paced paced_wire(wire, o.baud);
    espat::sim::faulty_stream<paced&> line(paced_wire, o.line_faults);
    co_await module.serve(line);
}

asio::awaitable<void> serve_tcp(asio::ip::tcp::acceptor& acceptor, const options& o, espat::sim::line_trace* trace)
{
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(espat::sim::use_tuple);
        if (ec) co_return;
        if (trace) {
            std::error_code ignored;
            const auto peer = socket.remote_endpoint(ignored);
            // Each host gets a fresh module: a trace of several is their exchanges one after another.
            trace->comment("a host connected from " + peer.address().to_string() + ":" + std::to_string(peer.port()) +
                           ": a fresh module serves it");
        }
        espat::sim::module module(acceptor.get_executor(), o.module);
        co_await serve_on(module, socket, o, trace);
        if (trace) trace->comment("the host disconnected");
    }
}

// The trace's first lines: what it is, when it began, and the command line that made it.
void begin_trace(espat::sim::line_trace& trace, int argc, char** argv)
{
    char when[32] = "?";
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    if (::gmtime_r(&now, &utc)) std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
    std::string command = "espat-sim";
    for (int i = 1; i < argc; ++i) command.append(" ").append(argv[i]);
    trace.comment("espat-sim trace, begun " + std::string(when) + ": every byte of the serial line in the transcript\n"
                  "format, '>' host to module, '<' module to host; '# t=S' before each read or write is\n"
                  "when it completed, in seconds since the trace began.\n" + command);
}

}  // namespace

int main(int argc, char** argv)
{
    options o;
    if (const char* why = espat_sim::parse(std::vector<std::string_view>(argv + 1, argv + argc), o)) {
        if (*why == '\0') {  // --help
            std::fputs(usage_text, stdout);
            return 0;
        }
        return usage(why);
    }
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> trace_file(nullptr, &std::fclose);
    std::optional<espat::sim::line_trace> trace;
    if (o.trace) {
        std::FILE* to = stderr;
        if (!o.trace_file.empty()) {
            trace_file.reset(std::fopen(o.trace_file.c_str(), "w"));
            if (!trace_file) {
                std::fprintf(stderr, "espat-sim: cannot write the trace to %s: %s\n", o.trace_file.c_str(),
                             std::strerror(errno));
                return 1;
            }
            to = trace_file.get();
        }
        trace.emplace(espat::sim::file_trace_sink(to));
        begin_trace(*trace, argc, argv);
    }
    espat::sim::line_trace* tracing = trace ? &*trace : nullptr;
    // With the trace on standard error, a message there is a comment of it, so it stays a transcript.
    auto complain = [&](const std::string& message) {
        if (tracing && o.trace_file.empty()) tracing->comment("espat-sim: " + message);
        else std::fprintf(stderr, "espat-sim: %s\n", message.c_str());
    };
    try {
        asio::io_context io;
        asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](std::error_code, int) { io.stop(); });
        if (o.listen_host) {
            const auto host = asio::ip::make_address(*o.listen_host);
            if (!host.is_loopback())
                complain("warning: listening on " + *o.listen_host + ", not a loopback address: whoever reaches it "
                         "can open connections from this host through the module");
            asio::ip::tcp::acceptor acceptor(io, {host, o.listen_port});
            std::printf("listening %s:%u\n", o.listen_host->c_str(), unsigned(acceptor.local_endpoint().port()));
            std::fflush(stdout);
            asio::co_spawn(io, serve_tcp(acceptor, o, tracing), asio::detached);
            io.run();
        } else {
            auto pty = espat::sim::open_pty(io.get_executor());
            espat::sim::module module(io.get_executor(), o.module);
            std::printf("%s\n", pty.slave_path.c_str());
            std::fflush(stdout);
            if (tracing) tracing->comment("pty " + pty.slave_path);
            asio::co_spawn(io, serve_on(module, pty.master, o, tracing), [&](std::exception_ptr) { io.stop(); });
            io.run();
        }
    } catch (const std::exception& e) {
        complain(e.what());
        return 1;
    }
    return 0;
}
