// benchmarks/bench_support.hpp — what the I/O benchmarks (client_bench, link_bench) share: a
// second thread for the device side, raw ptys for the baselines, samples and their
// percentiles, the machine line, and the --summary_out / --quick flags.
//
// These benchmarks time real I/O between two threads (the host's and the device's), so they
// run their own loops instead of Google Benchmark's: a figure is a median or a rate over a
// fixed amount of traffic, and its baseline is the same traffic through the same kind of pty
// with no library in the way, measured in the same process.
#pragma once

#include <espat/sim/pty.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

namespace espat::bench {

using clock = std::chrono::steady_clock;

// Runs `io` until it is stopped or `limit` passes. Not io_context::run_for: that returns after
// every handler, and each return frees Asio's per-thread cache of handler memory, so every
// operation would allocate: a cost of the benchmark's loop, not of the code measured.
inline void run_until_stopped(asio::io_context& io, clock::duration limit)
{
    asio::steady_timer deadline(io, limit);
    deadline.async_wait([&io](std::error_code ec) {
        if (!ec) io.stop();
    });
    io.run();
}

inline double seconds_between(clock::time_point a, clock::time_point b)
{
    return std::chrono::duration<double>(b - a).count();
}

// CPU time of the calling thread, for "how busy was the host thread".
inline double thread_cpu_seconds()
{
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The device side (simulated modules, TCP peers) runs on its own thread, as a real module
// runs on its own chip; work is handed to it with run_on().
class device_thread {
public:
    device_thread() : guard_(io.get_executor()), thread_([this] { io.run(); }) {}
    device_thread(const device_thread&) = delete;
    device_thread& operator=(const device_thread&) = delete;
    ~device_thread()
    {
        guard_.reset();
        io.stop();
        thread_.join();
    }

    // Runs `f` on the device thread and waits for it: objects living there are made, used and
    // destroyed there only.
    template <class F>
    auto run_on(F&& f) -> decltype(f())
    {
        std::packaged_task<decltype(f())()> task(std::forward<F>(f));
        auto result = task.get_future();
        asio::post(io, [&task] { task(); });
        return result.get();
    }

    // CPU seconds the device thread used so far.
    double cpu_seconds()
    {
        return run_on([] { return thread_cpu_seconds(); });
    }

    asio::io_context io;

private:
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    std::thread thread_;
};

// A raw-mode pty for the baselines, both ends as blocking descriptors: no Asio, no library.
struct raw_pty {
    raw_pty()
    {
        asio::io_context scratch;
        espat::sim::pty p = espat::sim::open_pty(scratch.get_executor());
        master = p.master.release();
        slave_path = p.slave_path;
        slave = ::open(slave_path.c_str(), O_RDWR | O_NOCTTY);
        if (slave < 0) throw std::runtime_error("cannot open " + slave_path);
    }
    raw_pty(const raw_pty&) = delete;
    raw_pty& operator=(const raw_pty&) = delete;
    ~raw_pty()
    {
        ::close(master);
        ::close(slave);
    }
    int master = -1;  // the device's side
    int slave = -1;   // the host's side
    std::string slave_path;
};

inline void write_all(int fd, std::string_view bytes)
{
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n <= 0) throw std::runtime_error("pty write failed");
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Reads exactly `n` bytes (into `scratch`, which is resized once).
inline void read_exactly(int fd, std::size_t n, std::string& scratch)
{
    if (scratch.size() < 4096) scratch.resize(4096);
    while (n > 0) {
        const ssize_t got = ::read(fd, scratch.data(), std::min(n, scratch.size()));
        if (got <= 0) throw std::runtime_error("pty read failed");
        n -= static_cast<std::size_t>(got);
    }
}

// Latency samples in microseconds.
struct latency {
    std::vector<double> us;

    [[nodiscard]] double percentile(double p) const
    {
        if (us.empty()) return NAN;
        std::vector<double> sorted = us;
        std::sort(sorted.begin(), sorted.end());
        const auto i = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size()))) - 1;
        return sorted[std::min(i, sorted.size() - 1)];
    }
    [[nodiscard]] double median() const { return percentile(50); }
    [[nodiscard]] double p99() const { return percentile(99); }
};

inline std::string fmt(double v, int prec)
{
    if (std::isnan(v)) return "—";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", prec, v);
    return buf;
}

inline std::string cpu_model()
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

inline std::string compiler()
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "g++ " __VERSION__;
#else
    return "unknown compiler";
#endif
}

inline std::string machine_line()
{
    std::string s = "Machine: " + cpu_model() + ", " + std::to_string(std::thread::hardware_concurrency()) +
                    " logical CPUs; " + compiler();
#if defined(__OPTIMIZE__)
    s += ", optimized";
#endif
#if defined(NDEBUG)
    s += ", NDEBUG";
#endif
    return s + ".";
}

// The flags both benchmarks take: --quick (the CI smoke run: small sizes, few configurations)
// and --summary_out=FILE.
struct flags {
    bool quick = false;
    std::string summary_out;
};

inline flags parse_flags(int argc, char** argv, std::string_view program)
{
    flags f;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--quick") f.quick = true;
        else if (a.starts_with("--summary_out=")) f.summary_out = a.substr(14);
        else {
            std::cerr << program << ": unknown argument " << a << "\nusage: " << program
                      << " [--quick] [--summary_out=FILE]\n";
            std::exit(2);
        }
    }
    return f;
}

inline int emit_summary(const std::string& markdown, const flags& f, std::string_view program)
{
    std::cout << '\n' << markdown << std::flush;
    if (f.summary_out.empty()) return 0;
    std::ofstream out(f.summary_out);
    out << markdown;
    if (!out) {
        std::cerr << program << ": cannot write " << f.summary_out << '\n';
        return 1;
    }
    return 0;
}

}  // namespace espat::bench
