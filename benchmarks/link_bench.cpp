// benchmarks/link_bench.cpp — TCP link throughput through a pty against espat::sim::module,
// as a share of what the serial line can carry, and unpaced beside a raw pty copy.
//
// Rig: per simulated module a pty; the module serves the master through
// sim::paced_stream (its output takes as long as a UART at the baud rate, 8N1 = 10 bits a
// byte); the client opens the slave as asio::serial_port, also wrapped in paced_stream, so
// the host -> module direction (commands, CIPSEND data) is paced at the same rate: both
// directions of the line are modelled, and a send's figure is a share of the rate the
// module can read at. The module's links go to a loopback TCP peer. Modules and peers run on
// a device thread; the clients on the host thread (this one).
//
// Figures (payload bytes per second over line rate = baud / 10 bytes per second):
//   receive, active   the peer sends; the module writes +IPD frames; the host reads the link.
//                     Timed from the first read to the last, so connection set-up is out.
//   receive, passive  the same with AT+CIPRECVDATA reads driven by the host's demand.
//   send              the host async_writes to the link (AT+CIPSEND per 2048 bytes, ESP-AT
//                     2.x), timed from the call to its completion (the last SEND OK); and the
//                     same against an ESP-AT 4.x module, whose AT+CIPSEND takes 8192 bytes.
//   unpaced           the same three with pacing off, in MB/s, beside a raw pty copy of the
//                     same number of bytes (write(2) on one end, read(2) on the other, two
//                     threads) in each direction: the pty's own ceiling in this process.
//   modules per host thread  N modules at 921600 baud, each with a link in active receive,
//                     all N clients on the one host thread: the smallest per-link share and
//                     the host thread's CPU load, for N = 1, 2, 4, 8, 16.
//
// Flags: --quick (CI smoke run: one baud rate, short transfers), --summary_out=FILE.
#include "bench_support.hpp"

#include <espat/client.hpp>
#include <espat/net/network.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/paced_stream.hpp>
#include <espat/sim/pty.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/serial_port.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace bench = espat::bench;
using asio::awaitable;
using espat::net::receive_mode;
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// The host's serial port, its writes paced like the module's: the client needs close(),
// which paced_stream leaves to the layer below.
class paced_serial_port : public espat::sim::paced_stream<asio::serial_port> {
public:
    using paced_stream::paced_stream;
    void close(std::error_code& ec) { lowest_layer().close(ec); }
};

using paced_client = espat::basic_client<paced_serial_port>;
using paced_network = espat::net::basic_network<paced_client>;

// send: ESP-AT 2.x, the reference's firmware (AT+CIPSEND up to 2048 bytes); send_large: an
// ESP-AT 4.x module, whose AT+CIPSEND takes up to 8192 bytes, so a chunk's fixed costs
// (command, prompt, Recv, SEND OK and the turns between them) are spread over four times the data.
enum class traffic { receive_active, receive_passive, send, send_large };

[[nodiscard]] bool is_send(traffic t) noexcept { return t == traffic::send || t == traffic::send_large; }

std::string_view name_of(traffic t)
{
    switch (t) {
    case traffic::receive_active: return "receive, active";
    case traffic::receive_passive: return "receive, passive";
    case traffic::send: return "send";
    case traffic::send_large: return "send, ESP-AT 4.x (8192 per CIPSEND)";
    }
    return {};
}

// ---------------------------------------------------------------------------------------
// The device side: a simulated module on a paced pty, and a loopback TCP peer.
// ---------------------------------------------------------------------------------------

class module_on_pty {
public:
    module_on_pty(bench::device_thread& device, unsigned baud, espat::sim::personality firmware = espat::sim::esp_at_2())
        : device_(device)
    {
        device_.run_on([this, baud, &firmware] {
            espat::sim::module_options options;
            options.firmware = std::move(firmware);
            parts_ = std::make_unique<parts>(device_.io.get_executor(), baud, std::move(options));
            asio::co_spawn(device_.io, parts_->module.serve(parts_->paced_master), asio::detached);
        });
    }
    ~module_on_pty()
    {
        device_.run_on([this] {
            parts_->module.stop();
            parts_->paced_master.cancel();
        });
        // Let serve() see the stop before its stream goes away.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        device_.run_on([this] { parts_.reset(); });
    }
    module_on_pty(const module_on_pty&) = delete;
    module_on_pty& operator=(const module_on_pty&) = delete;

    [[nodiscard]] const std::string& slave_path() const { return parts_->pty.slave_path; }

private:
    struct parts {
        parts(const asio::any_io_executor& ex, unsigned baud, espat::sim::module_options options)
            : pty(espat::sim::open_pty(ex)), paced_master(pty.master, baud), module(ex, std::move(options))
        {
        }
        espat::sim::pty pty;
        espat::sim::paced_stream<asio::posix::stream_descriptor&> paced_master;
        espat::sim::module module;
    };
    bench::device_thread& device_;
    std::unique_ptr<parts> parts_;
};

// Sends `bytes` to every connection (then waits for the host to close), or, as a sink,
// counts what each connection brings.
class tcp_peer {
public:
    enum class role { source, sink };

    tcp_peer(bench::device_thread& device, role r, std::size_t bytes) : device_(device)
    {
        device_.run_on([this, r, bytes] {
            acceptor_.emplace(device_.io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
            port = acceptor_->local_endpoint().port();
            auto accept_loop = [this, r, bytes]() -> awaitable<void> {
                for (;;) {
                    auto [ec, socket] = co_await acceptor_->async_accept(as_tuple);
                    if (ec) co_return;
                    auto shared = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
                    if (r == role::source) asio::co_spawn(device_.io, send_all(shared, bytes), asio::detached);
                    else asio::co_spawn(device_.io, count_all(shared), asio::detached);
                }
            };
            asio::co_spawn(device_.io, accept_loop, asio::detached);
        });
    }
    ~tcp_peer()
    {
        device_.run_on([this] { acceptor_.reset(); });
    }
    tcp_peer(const tcp_peer&) = delete;
    tcp_peer& operator=(const tcp_peer&) = delete;

    std::uint16_t port = 0;
    std::atomic<std::size_t> received{0};

private:
    static awaitable<void> send_all(std::shared_ptr<asio::ip::tcp::socket> s, std::size_t bytes)
    {
        const std::string chunk(16384, 'x');
        while (bytes > 0) {
            const std::size_t n = std::min(bytes, chunk.size());
            auto [ec, written] = co_await asio::async_write(*s, asio::buffer(chunk.data(), n), as_tuple);
            if (ec) co_return;
            bytes -= written;
        }
        char sink[64];
        auto [ec, n] = co_await s->async_read_some(asio::buffer(sink), as_tuple);  // until the host closes
        (void)ec;
        (void)n;
    }
    awaitable<void> count_all(std::shared_ptr<asio::ip::tcp::socket> s)
    {
        std::vector<char> buffer(65536);
        for (;;) {
            auto [ec, n] = co_await s->async_read_some(asio::buffer(buffer), as_tuple);
            if (ec) co_return;
            received += n;
        }
    }

    bench::device_thread& device_;
    std::optional<asio::ip::tcp::acceptor> acceptor_;
};

// ---------------------------------------------------------------------------------------
// The host side: clients on this thread, each with a link and a transfer.
// ---------------------------------------------------------------------------------------

struct transfer_result {
    std::size_t bytes = 0;   // payload bytes in the timed span
    double seconds = NAN;
    std::string failure;
    [[nodiscard]] double bytes_per_second() const { return static_cast<double>(bytes) / seconds; }
};

awaitable<transfer_result> receive_bulk(paced_network::link& link, std::size_t total)
{
    transfer_result r;
    std::vector<char> buffer(16384);
    std::size_t received = 0;
    bench::clock::time_point first{}, last{};
    while (received < total) {
        auto [ec, n] = co_await link.async_read_some(asio::buffer(buffer), as_tuple);
        if (ec) {
            r.failure = "read: " + ec.message();
            co_return r;
        }
        last = bench::clock::now();
        if (received == 0) first = last;  // the first read's bytes came before the clock started
        else r.bytes += n;
        received += n;
    }
    r.seconds = bench::seconds_between(first, last);
    co_return r;
}

awaitable<transfer_result> send_bulk(paced_network::link& link, std::size_t total)
{
    transfer_result r;
    const std::string payload(total, 'y');
    const auto start = bench::clock::now();
    auto [ec, n] = co_await asio::async_write(link, asio::buffer(payload), as_tuple);
    r.seconds = bench::seconds_between(start, bench::clock::now());
    r.bytes = n;
    if (ec) r.failure = "write: " + ec.message();
    co_return r;
}

struct host_run {
    std::vector<transfer_result> per_link;
    double host_cpu_share = NAN;  // host thread CPU seconds / wall seconds over the run
};

// Starts one client per module, each connects to the peer and runs `what`, all on this thread.
host_run run_clients(const std::vector<std::unique_ptr<module_on_pty>>& modules, unsigned baud, traffic what,
                     std::uint16_t peer_port, std::size_t bytes)
{
    asio::io_context io;
    std::vector<std::unique_ptr<paced_client>> clients;
    host_run out;
    out.per_link.resize(modules.size());
    std::size_t unfinished = modules.size();
    for (std::size_t i = 0; i < modules.size(); ++i) {
        espat::client_options options;
        options.start_probe_timeout = std::chrono::milliseconds(300);
        clients.push_back(std::make_unique<paced_client>(
            paced_serial_port(asio::serial_port(io, modules[i]->slave_path()), baud), options));
    }
    const double cpu_before = bench::thread_cpu_seconds();
    const auto wall_before = bench::clock::now();
    for (std::size_t i = 0; i < modules.size(); ++i) {
        paced_client& esp = *clients[i];
        transfer_result& result = out.per_link[i];
        auto script = [&esp, &result, what, peer_port, bytes]() -> awaitable<void> {
            auto started = co_await esp.async_start();
            if (!started) {
                result.failure = "start: " + started.error().message();
                co_return;
            }
            espat::net::network_options no;
            no.stream_receive = what == traffic::receive_active ? receive_mode::active : receive_mode::passive;
            no.receive_buffer = 256 * 1024;  // active data beyond it would fail the link
            paced_network net(esp, no);
            auto net_started = co_await net.async_start();
            if (!net_started) {
                result.failure = "network start: " + net_started.error().message();
                co_return;
            }
            auto link = co_await net.async_connect("127.0.0.1", peer_port);
            if (!link) {
                result.failure = "connect: " + link.error().message();
                co_return;
            }
            if (is_send(what)) result = co_await send_bulk(*link, bytes);
            else result = co_await receive_bulk(*link, bytes);
            auto [close_ec] = co_await link->async_close(as_tuple);
            (void)close_ec;
        };
        asio::co_spawn(io, script, [&](std::exception_ptr e) {
            if (e) out.per_link[i].failure = "exception";
            if (--unfinished == 0) io.stop();
        });
    }
    // Generous: the slowest configuration moves half a second of line time per link.
    bench::run_until_stopped(io, std::chrono::seconds(30));
    out.host_cpu_share = (bench::thread_cpu_seconds() - cpu_before) / bench::seconds_between(wall_before, bench::clock::now());
    for (auto& r : out.per_link)
        if (unfinished != 0 && r.failure.empty() && std::isnan(r.seconds)) r.failure = "did not finish in time";
    return out;
}

struct measurement {
    unsigned baud = 0;
    traffic what{};
    std::size_t modules = 1;
    host_run run;
    double device_cpu_share = NAN;
    std::size_t peer_received = 0;  // send: what the peer got

    [[nodiscard]] double line_rate() const { return baud / 10.0; }
    [[nodiscard]] double worst_rate() const
    {
        double worst = INFINITY;
        for (const auto& r : run.per_link) worst = std::min(worst, r.failure.empty() ? r.bytes_per_second() : 0.0);
        return worst;
    }
    [[nodiscard]] double worst_share() const { return worst_rate() / line_rate(); }
    [[nodiscard]] std::string failures() const
    {
        std::string s;
        for (const auto& r : run.per_link)
            if (!r.failure.empty()) s += (s.empty() ? "" : "; ") + r.failure;
        return s;
    }
};

measurement measure(bench::device_thread& device, unsigned baud, traffic what, std::size_t module_count, std::size_t bytes)
{
    measurement m;
    m.baud = baud;
    m.what = what;
    m.modules = module_count;
    tcp_peer peer(device, is_send(what) ? tcp_peer::role::sink : tcp_peer::role::source, bytes);
    std::vector<std::unique_ptr<module_on_pty>> modules;
    const auto firmware = what == traffic::send_large ? espat::sim::esp_at_4() : espat::sim::esp_at_2();
    for (std::size_t i = 0; i < module_count; ++i) modules.push_back(std::make_unique<module_on_pty>(device, baud, firmware));
    const double device_cpu_before = device.cpu_seconds();
    const auto wall_before = bench::clock::now();
    m.run = run_clients(modules, baud, what, peer.port, bytes);
    m.device_cpu_share = (device.cpu_seconds() - device_cpu_before) / bench::seconds_between(wall_before, bench::clock::now());
    if (is_send(what)) {
        // The last SEND OK comes after the module wrote to its socket; give loopback a moment.
        for (int i = 0; i < 100 && peer.received < bytes * module_count; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        m.peer_received = peer.received;
        if (m.peer_received != bytes * module_count && m.failures().empty())
            m.run.per_link.front().failure = "peer received " + std::to_string(m.peer_received) + " bytes";
    }
    return m;
}

// The raw pty copy: `bytes` written on one end with write(2) by a second thread, read with
// read(2) on the other. Bytes per second.
double raw_pty_copy(std::size_t bytes, bool device_to_host)
{
    bench::raw_pty pty;
    const int writer_fd = device_to_host ? pty.master : pty.slave;
    const int reader_fd = device_to_host ? pty.slave : pty.master;
    const std::string payload(bytes, 'z');
    std::string scratch(16384, '\0');
    const auto start = bench::clock::now();
    std::thread writer([&] { bench::write_all(writer_fd, payload); });
    bench::read_exactly(reader_fd, bytes, scratch);
    const auto end = bench::clock::now();
    writer.join();
    return static_cast<double>(bytes) / bench::seconds_between(start, end);
}

struct plan {
    std::vector<unsigned> bauds{921600, 3000000, 5000000};
    double line_seconds = 0.5;        // payload per paced transfer, in line time
    std::size_t unpaced_bytes = 4u << 20;
    std::vector<std::size_t> module_counts{1, 2, 4, 8, 16};
};

double target_for(traffic t) { return t == traffic::receive_active ? 0.95 : 0.90; }

std::string summary(const plan& p, const std::vector<measurement>& paced, const std::vector<measurement>& unpaced,
                    double raw_down, double raw_up, const std::vector<measurement>& scaling)
{
    std::ostringstream o;
    o << "### Link throughput (`benchmarks/link_bench.cpp`)\n\n" << bench::machine_line() << "\n\n";
    o << "A TCP link through a pty to `espat::sim::module` (ESP-AT 2.x personality: AT+CIPSEND ≤ 2048 bytes, "
         "passive reads ≤ the module's 5744-byte buffer; the second send row is an ESP-AT 4.x module, whose "
         "AT+CIPSEND takes up to 8192 bytes), its peer on loopback. Both directions of the line are "
         "paced with `sim::paced_stream` (8N1: the line carries baud / 10 bytes/s): the module's output, and the "
         "host's serial port, so a send is measured against the rate the module can read at. Each transfer "
         "carries "
      << bench::fmt(p.line_seconds, 2)
      << " s of line time per link. *share* = payload bytes/s ÷ line rate; the line's own baseline is 1.0 "
         "(framing — `+IPD,0,2920,\"127.0.0.1\",port:`, `AT+CIPSEND=0,2048`, `SEND OK` — is part of the cost). "
         "Host and device CPU: busy share of the host thread (clients) and the device thread (modules, peers, "
         "pacing) over the run.\n\n";
    o << "| baud | line rate (kB/s) | traffic | payload kB/s | share of line rate | target | verdict | host CPU | "
         "device CPU |\n|---:|---:|---|---:|---:|---:|---|---:|---:|\n";
    for (const auto& m : paced) {
        const std::string failed = m.failures();
        const double share = m.worst_share();
        o << "| " << m.baud << " | " << bench::fmt(m.line_rate() / 1e3, 1) << " | " << name_of(m.what) << " | "
          << bench::fmt(m.worst_rate() / 1e3, 1) << " | " << bench::fmt(share, 3) << " | ≥ "
          << bench::fmt(target_for(m.what), 2) << " | "
          << (failed.empty() ? (share >= target_for(m.what) ? "**met**" : "**missed**") : "**failed**: " + failed)
          << " | " << bench::fmt(m.run.host_cpu_share * 100, 0) << " % | " << bench::fmt(m.device_cpu_share * 100, 0)
          << " % |\n";
    }
    o << "\nUnpaced (" << p.unpaced_bytes
      << " bytes per transfer), beside a raw pty copy of the same number of bytes in the same direction "
         "(write(2) and read(2) on two threads, no framing):\n\n";
    o << "| traffic | espat MB/s | raw pty copy MB/s | espat / raw | host CPU | device CPU |\n|---|---:|---:|---:|---:|---:|\n";
    for (const auto& m : unpaced) {
        const double raw = is_send(m.what) ? raw_up : raw_down;
        const std::string failed = m.failures();
        o << "| " << name_of(m.what) << (is_send(m.what) ? " (host → module)" : " (module → host)") << " | "
          << (failed.empty() ? bench::fmt(m.worst_rate() / 1e6, 1) : "failed: " + failed) << " | "
          << bench::fmt(raw / 1e6, 1) << " | " << bench::fmt(m.worst_rate() / raw, 3) << "x | "
          << bench::fmt(m.run.host_cpu_share * 100, 0) << " % | " << bench::fmt(m.device_cpu_share * 100, 0) << " % |\n";
    }
    o << "\nModules served by one host io_context thread, each at 921600 baud with one link in active receive "
         "(all clients on the host thread; all modules, peers and pacing on the device thread):\n\n";
    o << "| modules | smallest per-link share | aggregate payload kB/s | host CPU | device CPU | ≥ 0.95 |\n"
         "|---:|---:|---:|---:|---:|---|\n";
    std::size_t most_at_target = 0, first_short = 0;
    for (const auto& m : scaling) {
        double aggregate = 0;
        for (const auto& r : m.run.per_link) aggregate += r.failure.empty() ? r.bytes_per_second() : 0;
        const bool ok = m.failures().empty() && m.worst_share() >= 0.95;
        if (ok && first_short == 0) most_at_target = m.modules;
        if (!ok && first_short == 0) first_short = m.modules;
        o << "| " << m.modules << " | " << bench::fmt(m.worst_share(), 3) << " | " << bench::fmt(aggregate / 1e3, 1)
          << " | " << bench::fmt(m.run.host_cpu_share * 100, 0) << " % | " << bench::fmt(m.device_cpu_share * 100, 0)
          << " % | " << (ok ? "yes" : (m.failures().empty() ? "no" : "failed: " + m.failures())) << " |\n";
    }
    o << "\nEvery link at ≥ 0.95 of line rate up to " << most_at_target << " module(s)"
      << (first_short == 0 ? " (every count tried)" : "; first short at " + std::to_string(first_short)) << ".\n";
    return o.str();
}

}  // namespace

int main(int argc, char** argv)
{
    const bench::flags f = bench::parse_flags(argc, argv, "espat_link_bench");
    plan p;
    if (f.quick) p = plan{{3000000}, 0.1, 256u << 10, {1, 2}};
    try {
        bench::device_thread device;
        std::vector<measurement> paced, unpaced, scaling;
        for (unsigned baud : p.bauds) {
            const auto bytes = static_cast<std::size_t>(baud / 10.0 * p.line_seconds);
            for (traffic t : {traffic::receive_active, traffic::receive_passive, traffic::send, traffic::send_large}) {
                paced.push_back(measure(device, baud, t, 1, bytes));
                const auto& m = paced.back();
                std::cout << baud << " baud, " << name_of(t) << ": share " << bench::fmt(m.worst_share(), 3)
                          << (m.failures().empty() ? "" : " FAILED " + m.failures()) << '\n'
                          << std::flush;
            }
        }
        const double raw_down = raw_pty_copy(p.unpaced_bytes, true);
        const double raw_up = raw_pty_copy(p.unpaced_bytes, false);
        for (traffic t : {traffic::receive_active, traffic::receive_passive, traffic::send, traffic::send_large}) {
            unpaced.push_back(measure(device, 0, t, 1, p.unpaced_bytes));
            const auto& m = unpaced.back();
            // line_rate() is 0 when unpaced: report MB/s instead of a share.
            std::cout << "unpaced, " << name_of(t) << ": " << bench::fmt(m.worst_rate() / 1e6, 1) << " MB/s"
                      << (m.failures().empty() ? "" : " FAILED " + m.failures()) << '\n'
                      << std::flush;
        }
        std::cout << "raw pty copy: " << bench::fmt(raw_down / 1e6, 1) << " MB/s master → slave, "
                  << bench::fmt(raw_up / 1e6, 1) << " MB/s slave → master\n";
        for (std::size_t n : p.module_counts) {
            const auto bytes = static_cast<std::size_t>(921600 / 10.0 * p.line_seconds);
            scaling.push_back(measure(device, 921600, traffic::receive_active, n, bytes));
            const auto& m = scaling.back();
            std::cout << n << " modules at 921600: smallest share " << bench::fmt(m.worst_share(), 3)
                      << (m.failures().empty() ? "" : " FAILED " + m.failures()) << '\n'
                      << std::flush;
        }
        const int written = bench::emit_summary(summary(p, paced, unpaced, raw_down, raw_up, scaling), f, "espat_link_bench");
        // A missed target is a figure; a transfer that failed is a bug (and fails the smoke run).
        for (const auto* group : {&paced, &unpaced, &scaling})
            for (const auto& m : *group)
                if (!m.failures().empty()) return 1;
        return written;
    } catch (const std::exception& e) {
        std::cerr << "espat_link_bench: " << e.what() << '\n';
        return 1;
    }
}
