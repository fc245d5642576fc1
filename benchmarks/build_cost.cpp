// benchmarks/build_cost.cpp — espat_build_cost: what a program pays at compile time for using
// espat. Compiles, with the build's compiler and -std=c++20 -O2 (build_cost_config.hpp), three
// sources of benchmarks/build_cost/ and times each compile:
//   (a) plain.cpp   — the README's client snippet's program on plain Asio (the baseline);
//   (b) snippet.cpp — the README's client snippet as a whole program, header-only;
//   (c) snippet.cpp with -DESPAT_SEPARATE_COMPILATION (the stacks come from espat::compiled).
// Rounds alternate a, b, c so that each sees the same host; the figures are medians of the
// rounds' wall times, with the compiler's CPU time (user + system) beside them. src/espat.cpp,
// the one-off cost of espat::compiled, is compiled and timed once, first.
//
// Goals: (c) / (a) <= 1.5 and (b) / (a) <= 3.0. A missed goal is a measurement, not a failure:
// the exit status is non-zero only when a compile fails (its output is printed).
//
// Flags: --rounds N (default 3), --quick (one round: the CI smoke run), --summary_out=FILE.
#include "build_cost_config.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;

struct timing {
    double wall = 0;  // seconds
    double cpu = 0;   // the compiler's user + system seconds (its children included)
};

struct compile_case {
    std::string name;
    std::string source;
    std::vector<std::string> extra_flags;
};

std::string join(const std::vector<std::string>& parts)
{
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += ' ';
        out += p;
    }
    return out;
}

double seconds_of(const timeval& tv)
{
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
}

// Runs `argv` with its output in `log_path`; the wall and CPU time it took, or nothing when it
// could not be started or did not exit 0.
std::optional<timing> run(const std::vector<std::string>& argv, const std::string& log_path)
{
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);

    const auto start = clock_type::now();
    pid_t pid = 0;
    const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        std::ofstream(log_path) << "cannot start " << argv[0] << ": " << std::strerror(spawned) << '\n';
        return std::nullopt;
    }
    int status = 0;
    rusage usage{};
    while (::wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) return std::nullopt;
    }
    const auto end = clock_type::now();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
    return timing{std::chrono::duration<double>(end - start).count(),
                  seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime)};
}

std::string first_line_of(const std::string& path)
{
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

std::string read_all(const std::string& path)
{
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string machine_line()
{
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line, model = "unknown CPU";
    while (std::getline(cpuinfo, line)) {
        if (line.starts_with("model name")) {
            model = line.substr(line.find(':') + 2);
            break;
        }
    }
    return model + ", " + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + " logical CPUs";
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fixed(double x, int digits)
{
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", digits, x);
    return buffer;
}

std::string utc_now()
{
    const std::time_t t = std::time(nullptr);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
    return buffer;
}

int usage_error(std::string_view message)
{
    std::cerr << "espat_build_cost: " << message
              << "\nusage: espat_build_cost [--rounds N] [--quick] [--summary_out=FILE]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv)
{
    int rounds = 3;
    bool quick = false;
    std::string summary_out;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--quick") {
            rounds = 1;
            quick = true;
        }
        else if (a == "--rounds" && i + 1 < argc) {
            rounds = std::atoi(argv[++i]);
            if (rounds < 1) return usage_error("--rounds takes a positive number");
        } else if (a.starts_with("--rounds=")) {
            rounds = std::atoi(argv[i] + 9);
            if (rounds < 1) return usage_error("--rounds takes a positive number");
        } else if (a.starts_with("--summary_out=")) summary_out = a.substr(14);
        else return usage_error("unknown argument " + std::string(a));
    }

    namespace cfg = build_cost_config;
    std::vector<std::string> flags(std::begin(cfg::flags), std::end(cfg::flags));
    const std::string sources = cfg::sources_dir;

    char log_template[] = "/tmp/espat_build_cost.XXXXXX";
    const int log_fd = ::mkstemp(log_template);
    if (log_fd < 0) {
        std::perror("espat_build_cost: mkstemp");
        return 1;
    }
    ::close(log_fd);
    const std::string log_path = log_template;

    std::string compiler_version = "(unknown version)";
    if (run({cfg::compiler, "--version"}, log_path)) compiler_version = first_line_of(log_path);

    auto compile = [&](const std::string& source, const std::vector<std::string>& extra) {
        std::vector<std::string> argv{cfg::compiler};
        argv.insert(argv.end(), flags.begin(), flags.end());
        argv.insert(argv.end(), extra.begin(), extra.end());
        argv.insert(argv.end(), {"-c", source, "-o", "/dev/null"});
        auto t = run(argv, log_path);
        if (!t) {
            std::cerr << "espat_build_cost: compile failed: " << join(argv) << '\n' << read_all(log_path);
            ::unlink(log_path.c_str());
            std::exit(1);
        }
        return *t;
    };

    std::cout << "espat_build_cost: " << rounds << " round(s) of (a) plain Asio, (b) the README snippet "
              << "header-only, (c) the snippet with ESPAT_SEPARATE_COMPILATION\n"
              << "compiler: " << cfg::compiler << " (" << compiler_version << ")\n"
              << "flags: " << join(flags) << '\n'
              << std::flush;

    // The one-off cost: espat::compiled's source. First, so the headers are in the page cache
    // when the timed rounds begin. (Not in the CI's --quick run: the build has just compiled it.)
    std::optional<timing> library;
    if (!quick) {
        std::cout << "compiling src/espat.cpp (espat::compiled) ..." << std::flush;
        library = compile(cfg::espat_cpp, {"-DESPAT_SEPARATE_COMPILATION"});
        std::cout << ' ' << fixed(library->wall, 2) << " s\n";
    }

    const std::vector<compile_case> cases{
        {"(a) plain Asio", sources + "/plain.cpp", {}},
        {"(b) snippet, header-only", sources + "/snippet.cpp", {}},
        {"(c) snippet, ESPAT_SEPARATE_COMPILATION", sources + "/snippet.cpp", {"-DESPAT_SEPARATE_COMPILATION"}},
    };
    std::vector<std::vector<double>> wall(cases.size()), cpu(cases.size());
    for (int r = 0; r < rounds; ++r) {
        std::cout << "round " << (r + 1) << ':' << std::flush;
        for (std::size_t c = 0; c < cases.size(); ++c) {
            const timing t = compile(cases[c].source, cases[c].extra_flags);
            wall[c].push_back(t.wall);
            cpu[c].push_back(t.cpu);
            std::cout << ' ' << cases[c].name.substr(0, 3) << ' ' << fixed(t.wall, 2) << " s" << std::flush;
        }
        std::cout << '\n';
    }
    ::unlink(log_path.c_str());

    std::vector<double> wall_median, cpu_median;
    for (std::size_t c = 0; c < cases.size(); ++c) {
        wall_median.push_back(median(wall[c]));
        cpu_median.push_back(median(cpu[c]));
    }

    std::ostringstream md;
    md << "Machine: " << machine_line() << "; " << compiler_version << " (`" << cfg::compiler << "`); run of "
       << utc_now() << ", " << rounds << " round(s), medians.\n\n"
       << "Flags: `" << join(flags) << " -c <source> -o /dev/null`\n\n"
       << "| source | wall s (median) | compiler CPU s (median) | / (a), wall |\n"
       << "|---|---:|---:|---:|\n";
    for (std::size_t c = 0; c < cases.size(); ++c) {
        md << "| " << cases[c].name << " | " << fixed(wall_median[c], 2) << " | " << fixed(cpu_median[c], 2)
           << " | " << fixed(wall_median[c] / wall_median[0], 2) << "x |\n";
    }
    if (library)
        md << "| src/espat.cpp (espat::compiled, once per build) | " << fixed(library->wall, 2) << " | "
           << fixed(library->cpu, 2) << " | " << fixed(library->wall / wall_median[0], 2) << "x |\n";
    md << '\n';

    const double ratio_c = wall_median[2] / wall_median[0];
    const double ratio_b = wall_median[1] / wall_median[0];
    auto verdict = [](double ratio, double goal) { return ratio <= goal ? "**met**" : "**missed**"; };
    md << "| target | measured | verdict |\n"
       << "|---|---:|---|\n"
       << "| (c) / (a) <= 1.5: the snippet with espat::compiled | " << fixed(ratio_c, 2) << "x | "
       << verdict(ratio_c, 1.5) << " |\n"
       << "| (b) / (a) <= 3.0: the snippet header-only | " << fixed(ratio_b, 2) << "x | " << verdict(ratio_b, 3.0)
       << " |\n";

    const std::string markdown = md.str();
    std::cout << '\n' << markdown << std::flush;
    if (!summary_out.empty()) {
        std::ofstream out(summary_out);
        out << markdown;
        if (!out) {
            std::cerr << "espat_build_cost: cannot write " << summary_out << '\n';
            return 1;
        }
    }
    return 0;
}
