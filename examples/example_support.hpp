// example_support.hpp — what espat's co_await examples share: the common flags (--port, --baud,
// --ssid, --password), running a script against a serial port or the in-process simulator, and
// turning the script's end (its status, or an exception) into the program's exit status.
#pragma once

#include <espat/client.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/pipe.hpp>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/serial_port.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace espat::examples {

struct common_settings {
    std::optional<std::string> port;  // serial device: real hardware; unset: the simulator
    unsigned baud = 115200;
    std::string ssid = "espressif";  // the simulator's access point
    std::string password = "1234567890";
};

// async_start() (AT, ATE0, AT+GMR, ...) and AT+CWJAP: false, with the reason on stderr, when either
// fails. The request is a named variable, never a temporary inside the co_await expression:
// g++ 12 destroys such temporaries twice.
template <class Client>
asio::awaitable<bool> start_and_join(Client& esp, const common_settings& s)
{
    auto fw = co_await esp.async_start();
    if (!fw) {
        std::cerr << "no module: " << fw.error().message() << "\n";
        co_return false;
    }
    std::cout << "module: AT version " << fw->info.at_version.to_string() << "\n";
    const cwjap_request join{.ssid = s.ssid, .password = s.password};
    auto joined = co_await esp.template async_set<commands::cwjap>(join);
    if (!joined) {
        std::cerr << "joining " << s.ssid << ": " << joined.error().message() << "\n";
        co_return false;
    }
    std::cout << "joined " << s.ssid << "\n";
    co_return true;
}

class command_line {
public:
    // `usage` lists the flags after the program's name; `help` says what the program does and
    // what its own flags mean, for --help (the common flags are explained here).
    command_line(const char* program, const char* usage, const char* help)
        : program_(program), usage_(usage), help_(help)
    {
    }

    [[noreturn]] void fail(const char* why) const
    {
        std::fprintf(stderr, "%s: %s\nusage: %s %s\n(%s --help says more)\n", program_, why, program_, usage_,
                     program_);
        std::exit(2);
    }

    // --help: what the program does and every flag, on standard output; exit status 0.
    [[noreturn]] void help() const
    {
        std::printf("usage: %s %s\n\n%s\n"
                    "Common options:\n"
                    "  --port DEVICE   the module's serial port (e.g. /dev/ttyUSB0); without it the program\n"
                    "                  runs against espat's simulated module, in-process: no hardware\n"
                    "  --baud N        the port's baud rate (default 115200)\n"
                    "  --ssid S        the Wi-Fi network to join (default: the simulator's, \"espressif\")\n"
                    "  --password P    its password\n"
                    "  -h, --help      print this text and exit\n",
                    program_, usage_, help_);
        std::exit(0);
    }

    // A number in [min, max], or the usage message.
    template <class T>
    T number(const std::string& text, T min = std::numeric_limits<T>::min(), T max = std::numeric_limits<T>::max()) const
    {
        std::size_t used = 0;
        unsigned long long v = 0;
        try {
            v = std::stoull(text, &used);
        } catch (const std::exception&) {
            fail("not a number");
        }
        if (used != text.size() || text.starts_with('-') || v < static_cast<unsigned long long>(min) ||
            v > static_cast<unsigned long long>(max))
            fail("number out of range");
        return static_cast<T>(v);
    }

    // The common flags go to the returned settings; any other flag to extra(flag, value), which
    // takes its value by calling value() and returns false for a flag it does not know.
    template <class Extra>
    common_settings parse(int argc, char** argv, Extra extra) const
    {
        common_settings s;
        for (int i = 1; i < argc; ++i) {
            const std::string_view a = argv[i];
            auto value = [&]() -> std::string {
                if (i + 1 >= argc) fail("missing value");
                return argv[++i];
            };
            if (a == "--help" || a == "-h") help();
            else if (a == "--port") s.port = value();
            else if (a == "--baud") s.baud = number<unsigned>(value(), 1);
            else if (a == "--ssid") s.ssid = value();
            else if (a == "--password") s.password = value();
            else if (!extra(a, value)) fail("unknown argument");
        }
        return s;
    }

private:
    const char* program_;
    const char* usage_;
    const char* help_;
};

// Runs one script — a callable taking the client (a template over its type) and returning
// asio::awaitable<int>, the exit status — on a real module or on the simulated one.
class runner {
public:
    explicit runner(const char* program) : program_(program) {}
    runner(const runner&) = delete;
    runner& operator=(const runner&) = delete;

    asio::io_context& io() noexcept { return io_; }
    // The simulated module, once on_simulator() made it.
    sim::module& module() { return *module_; }

    // Ends the run with this exit status (on the io_context's thread).
    void finish(int status)
    {
        status_ = status;
        finished_ = true;
        io_.stop();
    }

    // co_spawn's completion for a script: its status, or 1 and the exception's message.
    auto finisher()
    {
        return [this](std::exception_ptr e, int status) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    std::cerr << program_ << ": " << x.what() << "\n";
                } catch (...) {
                    std::cerr << program_ << ": an exception that is not a std::exception\n";
                }
            }
            finish(e ? 1 : status);  // on an exception co_spawn passes a default status (0)
        };
    }

    // A real module on a serial port, until the script ends (or finish()).
    template <class Script>
    int on_serial(const common_settings& s, Script script, client_options options = {})
    {
        asio::serial_port serial(io_);
        std::error_code ec;
        serial.open(*s.port, ec);
        if (!ec) serial.set_option(asio::serial_port::baud_rate(s.baud), ec);
        if (ec) {
            std::cerr << program_ << ": " << *s.port << ": " << ec.message() << "\n";
            return 1;
        }
        espat::client esp(std::move(serial), options);
        asio::co_spawn(esp.get_executor(), script(esp), finisher());
        io_.run();
        wind_down(esp);
        return status_;
    }

    // The simulated module over an in-process pipe, until the script ends (or finish()), or
    // for at most `limit` when one is given.
    template <class Script>
    int on_simulator(Script script, sim::module_options module_options = {}, client_options options = {},
                     std::optional<std::chrono::seconds> limit = std::chrono::seconds(30))
    {
        module_.emplace(io_.get_executor(), std::move(module_options));
        auto ends = sim::make_pipe(io_.get_executor());
        asio::co_spawn(io_, module_->serve(ends.second), asio::detached);
        basic_client<sim::pipe_end> esp(std::move(ends.first), options);
        asio::co_spawn(esp.get_executor(), script(esp), finisher());
        if (limit) io_.run_for(*limit);
        else io_.run();
        if (!finished_) std::cerr << program_ << ": did not finish in time\n";
        wind_down(esp);
        return status_;
    }

private:
    // Before the client goes out of scope: coroutines still suspended on it (a server's
    // per-link loops, a script that ran out of time) must end while it exists, not when the
    // io_context is destroyed later. Closing the client fails what they wait for, so they unwind.
    template <class Client>
    void wind_down(Client& esp)
    {
        esp.close();
        if (module_) module_->stop();
        io_.restart();
        io_.run_for(std::chrono::milliseconds(500));
    }

    const char* program_;
    asio::io_context io_;  // first: destroyed last, after everything that runs on it
    std::optional<sim::module> module_;
    int status_ = 1;
    bool finished_ = false;
};

}  // namespace espat::examples
