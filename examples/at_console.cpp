// at_console — an interactive AT console: each line read from standard input goes to the module
// as one command line; its reply lines and final result are printed when it completes, and the
// module's reports (+IPD, CONNECT/CLOSED, WIFI ..., ready) whenever they arrive. A line with a
// control character is refused, never sent. End of input ends the console (exit status 0).
// After AT+CIPSEND=[<link>,]<n> (or AT+CIPSENDEX) it shows the module's '>' and takes the next
// n bytes typed as the data, line ends (CR LF) included, as a terminal would send them. The data
// is taken before the command goes out (the client writes it at the module's real '>'), so a
// module that refuses the send (no such link) says so after the data was typed.
//
// For a command of espat's table it also decodes the reply as the table's typed answer for that
// form (test, query, set or execute) and prints that value as one line of JSON text
// (espat/commands/describe.hpp), member names as keys:
//   decoded AT+CIPSTA query: {"ip":"192.168.4.2","gateway":"192.168.4.1",...}
// or says that the reply does not decode, or that the command is not in the table.
//
// With no arguments it talks to espat's simulated module (in-process). With --port it drives a
// real module:
//   at_console --port /dev/ttyUSB0 [--baud 115200]
// (--ssid and --password are accepted and unused: join with AT+CWJAP="ssid","password").
#include "example_support.hpp"

#include <espat/client.hpp>
#include <espat/commands/describe.hpp>
#include <espat/commands/host.hpp>
#include <espat/commands/table.hpp>
#include <espat/proto/json.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using asio::experimental::as_tuple;
using asio::use_awaitable;

// ---- standard input, line by line, without blocking the io_context ------------------------

// A thread reads standard input (a terminal, a pipe or a file alike) and posts each line to the
// io_context, where next() takes them in order.
class stdin_lines {
public:
    explicit stdin_lines(const asio::any_io_executor& ex) : ex_(ex), wake_(ex), thread_([this] { read_input(); }) {}
    stdin_lines(const stdin_lines&) = delete;
    stdin_lines& operator=(const stdin_lines&) = delete;
    // Before the io_context goes: the thread posts to it.
    ~stdin_lines()
    {
        stop_ = true;
        thread_.join();
    }

    // The next line (without its line end), or nothing at the end of input.
    asio::awaitable<std::optional<std::string>> next()
    {
        while (lines_.empty() && !ended_) {
            wake_.expires_at(asio::steady_timer::time_point::max());
            co_await wake_.async_wait(as_tuple(use_awaitable));
        }
        if (lines_.empty()) co_return std::nullopt;
        std::string line = std::move(lines_.front());
        lines_.pop_front();
        co_return line;
    }

private:
    // On the reading thread. poll() with a timeout, so that the destructor can stop it.
    void read_input()
    {
        std::string partial;
        std::array<char, 4096> buffer;
        while (!stop_) {
            pollfd p{STDIN_FILENO, POLLIN, 0};
            const int ready = ::poll(&p, 1, 100);
            if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
            const ssize_t n = ready < 0 ? -1 : ::read(STDIN_FILENO, buffer.data(), buffer.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            partial.append(buffer.data(), static_cast<std::size_t>(n));
            for (std::size_t end = partial.find('\n'); end != std::string::npos; end = partial.find('\n')) {
                post_line(partial.substr(0, end));
                partial.erase(0, end + 1);
            }
        }
        if (!partial.empty()) post_line(std::move(partial));
        asio::post(ex_, [this] {
            ended_ = true;
            wake_.cancel();
        });
    }
    void post_line(std::string line)
    {
        asio::post(ex_, [this, l = std::move(line)]() mutable {
            lines_.push_back(std::move(l));
            wake_.cancel();
        });
    }

    asio::any_io_executor ex_;
    asio::steady_timer wake_;  // next() sleeps here; a posted line or the end wakes it
    std::deque<std::string> lines_;
    bool ended_ = false;
    std::atomic<bool> stop_{false};
    std::thread thread_;  // last: it starts once everything above exists
};

// ---- the command table, looked up by a line's command name and form -----------------------

struct command_form {
    std::string name;  // "AT+CWJAP"
    espat::commands::form_kind kind;
};

// AT+X=? test, AT+X? query, AT+X=... set, AT+X execute.
command_form form_of(std::string_view line)
{
    const std::size_t end = std::min(line.find_first_of("=?"), line.size());
    command_form f{std::string(line.substr(0, end)), espat::commands::form_kind::execute};
    std::transform(f.name.begin(), f.name.end(), f.name.begin(), [](unsigned char c) { return std::toupper(c); });
    const std::string_view rest = line.substr(end);
    if (rest == "=?") f.kind = espat::commands::form_kind::test;
    else if (rest == "?") f.kind = espat::commands::form_kind::query;
    else if (!rest.empty()) f.kind = espat::commands::form_kind::set;
    return f;
}

// What the table made of a reply: whether any descriptor has the form, and if one decoded the
// reply, its typed answer as JSON text.
struct table_answer {
    bool in_table = false;
    std::optional<std::string> decoded;
};

// What the table says about a command: its timeout, and the typed answer a reply decodes to for
// that form. Several descriptors may share a name (AT+CIPSTART's TCP, UDP and SSL forms): the
// first one that decodes the reply will do.
template <class... C>
struct table_lookup {
    static std::optional<std::chrono::milliseconds> timeout(const command_form& f)
    {
        std::optional<std::chrono::milliseconds> t;
        const auto check = [&](std::string_view name, std::uint32_t ms) {
            if (!t && f.name == name) t = std::chrono::milliseconds(ms);
        };
        (check(C::command, C::timeout_ms), ...);
        return t;
    }

    static table_answer decode(const command_form& f, std::span<const espat::commands::response_line> lines)
    {
        table_answer answer;
        (try_one<C>(f, lines, answer), ...);
        return answer;
    }

private:
    template <class Form>
    static void decode_as(std::span<const espat::commands::response_line> lines, table_answer& answer)
    {
        answer.in_table = true;
        if (const auto v = espat::commands::decode_response<Form>(lines))
            answer.decoded = espat::commands::describe<typename Form::response>(*v);
    }

    template <class D>
    static void try_one(const command_form& f, std::span<const espat::commands::response_line> lines,
                        table_answer& answer)
    {
        if (f.name != D::command || answer.decoded) return;
        using kind = espat::commands::form_kind;
        if constexpr (espat::commands::has_test<D>)
            if (f.kind == kind::test) decode_as<typename D::test>(lines, answer);
        if constexpr (espat::commands::has_query<D>)
            if (f.kind == kind::query) decode_as<typename D::query>(lines, answer);
        if constexpr (espat::commands::has_set<D>)
            if (f.kind == kind::set) decode_as<typename D::set>(lines, answer);
        if constexpr (espat::commands::has_execute<D>)
            if (f.kind == kind::execute) decode_as<typename D::execute>(lines, answer);
    }
};
using table = espat::commands::all_commands<table_lookup>;

std::string_view form_name(espat::commands::form_kind k)
{
    switch (k) {
    case espat::commands::form_kind::test: return "test";
    case espat::commands::form_kind::query: return "query";
    case espat::commands::form_kind::set: return "set";
    case espat::commands::form_kind::execute: return "execute";
    }
    return "?";
}

// ---- the console ---------------------------------------------------------------------------

// Where the line has a control character (tab and escape included), or nothing. The line end is
// not part of the line: the client adds "\r\n".
std::optional<std::size_t> control_character(std::string_view line)
{
    for (std::size_t i = 0; i < line.size(); ++i) {
        const auto c = static_cast<unsigned char>(line[i]);
        if (c < 0x20 || c == 0x7f) return i;
    }
    return std::nullopt;
}

void print_result(const espat::proto::command_result& r, const command_form& f)
{
    for (const auto& l : r.lines) {
        if (l.name.empty()) std::cout << l.args << "\n";
        else if (l.name == "STATUS") std::cout << l.name << ":" << l.args << "\n";
        else std::cout << "+" << l.name << ":" << l.args << "\n";
    }
    for (const auto& d : r.diagnostics) std::cout << d << "\n";
    if (!r.ec && r.final_result == espat::proto::event_kind::send_ok) std::cout << "SEND OK\n";
    else if (!r.ec) std::cout << "OK\n";
    else if (r.final_result == espat::proto::event_kind::error) std::cout << "ERROR (" << r.ec.message() << ")\n";
    else std::cout << "failed: " << r.ec.message() << "\n";

    if (r.ec) return;
    std::vector<espat::commands::response_line> lines;
    for (const auto& l : r.lines) lines.push_back({l.name, l.args});
    const table_answer answer = table::decode(f, lines);
    const std::string form = f.name + " " + std::string(form_name(f.kind));
    if (answer.decoded) std::cout << "decoded " << form << ": " << *answer.decoded << "\n";
    else if (answer.in_table) std::cout << "(" << form << ": the reply does not decode as the table's)\n";
    else std::cout << "(" << form << ": not in espat's command table)\n";
}

// The data of AT+CIPSEND=[<link>,]<n> (and AT+CIPSENDEX, the UDP forms): n bytes from the
// lines that follow, as a terminal sends them after the module's '>': a line's end is data
// too (CR LF) while more bytes are due, and what goes beyond n is not sent. Nothing when the
// input ends first.
asio::awaitable<std::optional<std::string>> send_data(stdin_lines& input, std::size_t n, bool echo_input)
{
    std::cout << "> " << std::flush;  // the module's prompt: type the data
    std::string data;
    while (data.size() < n) {
        auto line = co_await input.next();
        if (!line) co_return std::nullopt;
        if (line->ends_with('\r')) line->pop_back();
        data += *line;
        if (echo_input) std::cout << *line << "\n";  // a terminal shows what was typed
        if (data.size() < n) data += "\r\n";
    }
    if (data.size() > n) {
        const std::size_t extra = data.size() - n;
        std::cout << "(" << extra << (extra == 1 ? " byte" : " bytes") << " beyond the " << n
                  << " announced not sent)\n";
        data.resize(n);
    }
    co_return data;
}

template <class Client>
asio::awaitable<int> console(Client& esp, stdin_lines& input)
{
    auto fw = co_await esp.async_start();
    if (!fw) {
        std::cerr << "no module: " << fw.error().message() << "\n";
        co_return 1;
    }
    std::cout << "module: AT version " << fw->info.at_version.to_string()
              << "; type AT commands, one per line (end of input quits)\n";

    // Reports, as they arrive (on the client's strand, between or during commands).
    const espat::listener_id listener = esp.add_report_listener([](const espat::proto::event& e) {
        std::string json;
        espat::proto::append_json(json, e);
        std::cout << "report: " << json << "\n" << std::flush;
    });

    const bool echo_input = ::isatty(STDIN_FILENO) == 0;  // a terminal shows what was typed
    while (auto line = co_await input.next()) {
        if (line->ends_with('\r')) line->pop_back();
        if (line->empty()) continue;
        if (auto at = control_character(*line)) {
            char code[8];
            std::snprintf(code, sizeof code, "0x%02x", static_cast<unsigned char>((*line)[*at]));
            std::cout << "refused: control character " << code << " at column " << *at + 1 << "; nothing was sent\n";
            continue;
        }
        if (echo_input) std::cout << "> " << *line << "\n";
        const command_form form = form_of(*line);
        const auto timeout = table::timeout(form).value_or(std::chrono::seconds(10));
        espat::proto::command command{.line = *line + "\r\n", .timeout = timeout};
        if (form.name == "AT+CIPSEND" && form.kind == espat::commands::form_kind::execute) {
            std::cout << "refused: AT+CIPSEND without a length enters passthrough, which this console does not "
                         "carry; give the length (AT+CIPSEND=<link>,<n>), or use net.async_open_passthrough() in a "
                         "program\n";
            continue;
        }
        if (const auto n = Client::echoed_send_length(*line)) {
            auto data = co_await send_data(input, *n, echo_input);
            if (!data) {
                std::cout << "(input ended before the " << *n << " bytes of data: nothing was sent)\n";
                break;
            }
            command.payload = std::move(*data);
        }
        // as_tuple: the whole result (lines, ERR CODE, diagnostics) also when the command failed.
        const auto [ec, r] = co_await esp.async_send_command(std::move(command), asio::experimental::as_tuple(asio::use_awaitable));
        print_result(r, form);
        std::cout << std::flush;
    }
    esp.remove_report_listener(listener);
    co_return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    const espat::examples::command_line cl(
        "at_console", "[--port DEVICE [--baud N]]",
        "An interactive AT console: each line of standard input goes to the module as one command\n"
        "line; its reply is printed when it completes, the module's reports whenever they arrive,\n"
        "and for a command of espat's table the typed answer as JSON. A line with a control\n"
        "character is refused. After AT+CIPSEND=[<link>,]<n> it shows '>' and sends the next n\n"
        "bytes typed as the data. End of input ends it. Without --port: the simulated module.\n"
        "(--ssid and --password are accepted and unused: join with AT+CWJAP=\"ssid\",\"password\".)\n");
    const espat::examples::common_settings s =
        cl.parse(argc, argv, [](std::string_view, auto&) { return false; });
    espat::examples::runner run("at_console");
    stdin_lines input(run.io().get_executor());  // after the runner: stopped before its io_context goes
    if (s.port) return run.on_serial(s, [&](auto& esp) { return console(esp, input); });
    return run.on_simulator([&](auto& esp) { return console(esp, input); }, {}, {}, std::nullopt);
}
