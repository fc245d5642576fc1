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
// At a terminal (standard input and output both), and when built with libedit, the line being
// typed is edited with libedit (arrow keys, Ctrl-A/Ctrl-E, Ctrl-U, the history with the up and
// down arrows, Ctrl-D on an empty line to quit), while the client keeps running: what arrives
// meanwhile is printed above the line, which is then drawn again as it was. --history FILE keeps
// the commands (never a send's data) in FILE, read at start and written at exit. Anything else
// (a pipe, a file) is read as plain lines, as the tests feed it.
//
// With no arguments it talks to espat's simulated module (in-process). With --port it drives a
// real module:
//   at_console --port /dev/ttyUSB0 [--baud 115200] [--history ~/.at_console_history]
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

#ifdef ESPAT_AT_CONSOLE_LIBEDIT
#include <asio/posix/stream_descriptor.hpp>

#include <editline/readline.h>
#include <fcntl.h>
#include <sys/ioctl.h>

#include <clocale>
#include <cstdlib>
#include <cstring>
#endif

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
#include <sstream>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using asio::experimental::as_tuple;
using asio::use_awaitable;

// ---- where the lines come from and where the output goes -----------------------------------

// What the console asks for: a command line, or a line of a send's data (the first one, after
// the module's '>', or one that follows it). Data lines never go into the history.
enum class line_kind { command, data, more_data };

// The console's input and output: plain lines from standard input (stdin_lines), or a terminal
// with line editing (line_editor).
class console_io {
public:
    console_io() = default;
    console_io(const console_io&) = delete;
    console_io& operator=(const console_io&) = delete;
    virtual ~console_io() = default;

    // The next line (without its line end), or nothing at the end of input.
    virtual asio::awaitable<std::optional<std::string>> next(line_kind kind) = 0;
    // Whole lines of output, shown at once.
    virtual void print(std::string_view text) = 0;
    // How the user ends the console, for the greeting.
    virtual std::string_view how_to_quit() const = 0;
    // No more lines: stop reading (and give a terminal back as it was).
    virtual void close() {}
};

// ---- standard input, line by line, without blocking the io_context ------------------------

// A thread reads standard input (a terminal, a pipe or a file alike) and posts each line to the
// io_context, where next() takes them in order.
class stdin_lines final : public console_io {
public:
    explicit stdin_lines(const asio::any_io_executor& ex) : ex_(ex), wake_(ex), thread_([this] { read_input(); }) {}
    // Before the io_context goes: the thread posts to it.
    ~stdin_lines() override
    {
        stop_ = true;
        thread_.join();
    }

    asio::awaitable<std::optional<std::string>> next(line_kind kind) override
    {
        if (kind == line_kind::data) std::cout << "> " << std::flush;  // the module's prompt: type the data
        while (lines_.empty() && !ended_) {
            wake_.expires_at(asio::steady_timer::time_point::max());
            co_await wake_.async_wait(as_tuple(use_awaitable));
        }
        if (lines_.empty()) co_return std::nullopt;
        std::string line = std::move(lines_.front());
        lines_.pop_front();
        co_return line;
    }

    void print(std::string_view text) override { std::cout << text << std::flush; }
    std::string_view how_to_quit() const override { return "end of input quits"; }

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

#ifdef ESPAT_AT_CONSOLE_LIBEDIT
// ---- a terminal, with libedit editing the line being typed ---------------------------------

// Where the cursor is, in columns from the start of the prompt, as libedit draws the text before
// it: a tab to the next multiple of 8, another control character as ^X, a UTF-8 character in one
// column.
std::size_t drawn_columns(std::string_view text, std::size_t column = 0)
{
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\t') column += 8 - column % 8;
        else if (c < 0x20 || c == 0x7f) column += 2;
        else if ((c & 0xc0) != 0x80) column += 1;  // not a UTF-8 continuation byte
    }
    return column;
}

// Another open file description of the terminal on standard input (-1 when it cannot be opened),
// for Asio to wait on. Asio makes a descriptor it waits on non-blocking, and O_NONBLOCK on
// standard input's own description would reach libedit's reads (EAGAIN: Ctrl-V then reads as the
// end of input) and, once the console has ended, the shell that shares that description.
int reopen_terminal()
{
    const char* name = ::ttyname(STDIN_FILENO);
    return ::open(name != nullptr ? name : "/proc/self/fd/0", O_RDONLY | O_NOCTTY | O_CLOEXEC);
}

// Standard input and output are a terminal: libedit edits the line being typed through readline's
// callback interface, fed a key at a time whenever the terminal has input (`keys`, from
// reopen_terminal(); libedit reads standard input itself), so the io_context runs the client
// while a line is being typed. Output goes above that line: the prompt and the
// line are erased, the text printed, and libedit draws them again, the cursor where it was.
//
// libedit's readline emulation (Debian 12: libedit 3.1-20221030) leaves the terminal in its
// normal mode once a line is accepted, so the handler is installed again for each line; it has no
// call that erases the line (_rl_erase_entire_line does nothing), so print() does it with ANSI
// escapes; rl_redisplay() types a Ctrl-R into the line rather than redrawing it, so redrawing is
// rl_forced_update_display(). libedit reads a key sequence to its end with blocking reads (Escape
// and the key after it, an arrow key's bytes, Ctrl-V and the key it quotes, Escape-x's ": "
// command line to its Enter): meanwhile the io_context waits, and what the module sends waits in
// the port or the pipe.
class line_editor final : public console_io {
public:
    line_editor(const asio::any_io_executor& ex, int keys, std::optional<std::string> history_file)
        : keys_(ex, keys), wake_(ex), history_file_(std::move(history_file))
    {
        std::setlocale(LC_CTYPE, "");  // libedit takes UTF-8 text only under a UTF-8 locale
        rl_readline_name = "at_console";  // ~/.editrc can address it: "at_console:bind ..."
        rl_initialize();
        rl_bind_key('\t', rl_insert);  // a tab is text, not a file name completion
        stifle_history(1000);
        using_history();
        if (history_file_) read_history(history_file_->c_str());  // no file yet: an empty history
        if (history_length > 0)
            if (const HIST_ENTRY* last = history_get(history_base + history_length - 1)) last_entry_ = last->line;
        instance_ = this;
    }
    ~line_editor() override
    {
        close();
        instance_ = nullptr;
    }

    asio::awaitable<std::optional<std::string>> next(line_kind kind) override
    {
        set_prompt(kind == line_kind::command ? "esp> " : kind == line_kind::data ? "> " : "");
        if (!started_ && !ended_) start();
        while (lines_.empty() && !ended_) {
            wake_.expires_at(asio::steady_timer::time_point::max());
            co_await wake_.async_wait(as_tuple(use_awaitable));
        }
        if (lines_.empty()) co_return std::nullopt;
        std::string line = std::move(lines_.front());
        lines_.pop_front();
        // History: commands only, not empty ones, and not the one just before again.
        if (kind == line_kind::command && !line.empty() && line != last_entry_) {
            add_history(line.c_str());
            last_entry_ = line;
        }
        co_return line;
    }

    void print(std::string_view text) override
    {
        if (editing_) erase_line();
        std::cout << text << std::flush;
        if (editing_) rl_forced_update_display();
    }

    std::string_view how_to_quit() const override
    {
        return "Ctrl-D quits; the up and down arrows recall earlier commands";
    }

    // Stops reading keys, gives the terminal back in its normal mode and saves the history.
    void close() override
    {
        if (closed_) return;
        closed_ = true;
        ended_ = true;
        std::error_code ignored;
        keys_.cancel(ignored);
        if (started_) {
            if (editing_) {
                erase_line();  // the unfinished line goes; what was printed stays
                std::cout << std::flush;
            }
            editing_ = false;
            rl_callback_handler_remove();
            if (history_file_)
                if (const int e = write_history(history_file_->c_str()); e != 0)
                    std::cerr << "at_console: cannot write the history to " << *history_file_ << ": "
                              << std::strerror(e) << "\n";
        }
        wake_.cancel();
    }

private:
    void start()
    {
        started_ = true;
        editing_ = true;
        rl_callback_handler_install(prompt_.c_str(), &line_editor::on_line);
        wait_for_keys();
    }

    void wait_for_keys()
    {
        keys_.async_wait(asio::posix::descriptor_base::wait_read, [this](std::error_code ec) {
            if (ec || ended_) return;
            // A terminal that hung up stays readable and has nothing to read: that is the end.
            pollfd p{STDIN_FILENO, POLLIN, 0};
            if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
                end_of_input();
                return;
            }
            track_width();
            rl_callback_read_char();  // one key; the line handler runs on Enter and on Ctrl-D
            if (!ended_) wait_for_keys();
        });
    }

    // libedit's line handler: a line typed (malloc'ed, ours to free), or null for Ctrl-D on an
    // empty line.
    static void on_line(char* typed)
    {
        line_editor& self = *instance_;
        if (typed == nullptr) {
            std::cout << "\n" << std::flush;  // after libedit's "^D"
            self.end_of_input();
            return;
        }
        self.lines_.emplace_back(typed);
        std::free(typed);
        // Back to editing, for the next line (see the class comment).
        rl_callback_handler_install(self.prompt_.c_str(), &line_editor::on_line);
        self.wake_.cancel();
    }

    void end_of_input()
    {
        editing_ = false;
        ended_ = true;
        wake_.cancel();
    }

    // The prompt of the line being typed: the one the console asks for now.
    void set_prompt(std::string prompt)
    {
        if (prompt == prompt_) return;
        if (editing_) erase_line();
        prompt_ = std::move(prompt);
        rl_set_prompt(prompt_.c_str());
        if (editing_) rl_forced_update_display();
    }

    // The terminal's width. libedit learns of a new one from SIGWINCH once per line only (its
    // handler is set again when the next line begins): asking at each key and each print keeps
    // it current.
    std::size_t track_width()
    {
        winsize size{};
        const std::size_t width =
            ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? size.ws_col : 80;
        if (width != width_ && width_ != 0) rl_resize_terminal();
        width_ = width;
        return width;
    }

    // Erases the prompt and the line being typed, wrapped over several rows or not, and leaves the
    // cursor at the start of the prompt's row. The caller prints, then has libedit draw them again.
    void erase_line()
    {
        const std::size_t point = rl_line_buffer != nullptr && rl_point > 0 ? static_cast<std::size_t>(rl_point) : 0;
        const std::size_t column =
            drawn_columns(std::string_view(rl_line_buffer != nullptr ? rl_line_buffer : "", point),
                          drawn_columns(prompt_));
        const std::size_t rows_up = column / track_width();
        std::cout << '\r';
        if (rows_up > 0) std::cout << "\x1b[" << rows_up << 'A';  // up to the prompt's row
        std::cout << "\x1b[J";  // erase to the end of the screen: the line's rows below too
    }

    inline static line_editor* instance_ = nullptr;  // for libedit's line handler, a plain function

    asio::posix::stream_descriptor keys_;  // the terminal, waited on only: libedit reads standard input
    asio::steady_timer wake_;  // next() sleeps here; a line or the end wakes it
    std::optional<std::string> history_file_;
    std::string prompt_ = "esp> ";
    std::string last_entry_;  // the history's newest line
    std::size_t width_ = 0;  // the terminal's, as libedit was last told
    std::deque<std::string> lines_;
    bool started_ = false;  // libedit's handler installed once
    bool editing_ = false;  // a prompt and a line being typed are on the screen
    bool ended_ = false;
    bool closed_ = false;
};
#endif  // ESPAT_AT_CONSOLE_LIBEDIT

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

// A command's reply lines, its result and, for a command of the table, the typed value.
std::string describe_result(const espat::proto::command_result& r, const command_form& f)
{
    std::ostringstream out;
    for (const auto& l : r.lines) {
        if (l.name.empty()) out << l.args << "\n";
        else if (l.name == "STATUS") out << l.name << ":" << l.args << "\n";
        else out << "+" << l.name << ":" << l.args << "\n";
    }
    for (const auto& d : r.diagnostics) out << d << "\n";
    if (!r.ec && r.final_result == espat::proto::event_kind::send_ok) out << "SEND OK\n";
    else if (!r.ec) out << "OK\n";
    else if (r.final_result == espat::proto::event_kind::error) out << "ERROR (" << r.ec.message() << ")\n";
    else out << "failed: " << r.ec.message() << "\n";

    if (r.ec) return std::move(out).str();
    std::vector<espat::commands::response_line> lines;
    for (const auto& l : r.lines) lines.push_back({l.name, l.args});
    const table_answer answer = table::decode(f, lines);
    const std::string form = f.name + " " + std::string(form_name(f.kind));
    if (answer.decoded) out << "decoded " << form << ": " << *answer.decoded << "\n";
    else if (answer.in_table) out << "(" << form << ": the reply does not decode as the table's)\n";
    else out << "(" << form << ": not in espat's command table)\n";
    return std::move(out).str();
}

// The data of AT+CIPSEND=[<link>,]<n> (and AT+CIPSENDEX, the UDP forms): n bytes from the
// lines that follow, as a terminal sends them after the module's '>': a line's end is data
// too (CR LF) while more bytes are due, and what goes beyond n is not sent. Nothing when the
// input ends first.
asio::awaitable<std::optional<std::string>> send_data(console_io& io, std::size_t n, bool echo_input)
{
    std::string data;
    while (data.size() < n) {
        // The module's prompt '>' before the first line (the input shows it as it can).
        auto line = co_await io.next(data.empty() ? line_kind::data : line_kind::more_data);
        if (!line) co_return std::nullopt;
        if (line->ends_with('\r')) line->pop_back();
        data += *line;
        if (echo_input) io.print(*line + "\n");  // a terminal shows what was typed
        if (data.size() < n) data += "\r\n";
    }
    if (data.size() > n) {
        const std::size_t extra = data.size() - n;
        io.print("(" + std::to_string(extra) + (extra == 1 ? " byte" : " bytes") + " beyond the " +
                 std::to_string(n) + " announced not sent)\n");
        data.resize(n);
    }
    co_return data;
}

template <class Client>
asio::awaitable<int> console(Client& esp, console_io& io)
{
    auto fw = co_await esp.async_start();
    if (!fw) {
        std::cerr << "no module: " << fw.error().message() << "\n";
        co_return 1;
    }
    io.print("module: AT version " + fw->info.at_version.to_string() + "; type AT commands, one per line (" +
             std::string(io.how_to_quit()) + ")\n");

    // Reports, as they arrive (on the client's strand, between or during commands).
    const espat::listener_id listener = esp.add_report_listener([&io](const espat::proto::event& e) {
        std::string json;
        espat::proto::append_json(json, e);
        io.print("report: " + json + "\n");
    });

    const bool echo_input = ::isatty(STDIN_FILENO) == 0;  // a terminal shows what was typed
    while (auto line = co_await io.next(line_kind::command)) {
        if (line->ends_with('\r')) line->pop_back();
        if (line->empty()) continue;
        if (auto at = control_character(*line)) {
            char code[8];
            std::snprintf(code, sizeof code, "0x%02x", static_cast<unsigned char>((*line)[*at]));
            io.print("refused: control character " + std::string(code) + " at column " + std::to_string(*at + 1) +
                     "; nothing was sent\n");
            continue;
        }
        if (echo_input) io.print("> " + *line + "\n");
        const command_form form = form_of(*line);
        const auto timeout = table::timeout(form).value_or(std::chrono::seconds(10));
        espat::proto::command command{.line = *line + "\r\n", .timeout = timeout};
        if (form.name == "AT+CIPSEND" && form.kind == espat::commands::form_kind::execute) {
            io.print("refused: AT+CIPSEND without a length enters passthrough, which this console does not "
                     "carry; give the length (AT+CIPSEND=<link>,<n>), or use net.async_open_passthrough() in a "
                     "program\n");
            continue;
        }
        if (const auto n = Client::echoed_send_length(*line)) {
            auto data = co_await send_data(io, *n, echo_input);
            if (!data) {
                io.print("(input ended before the " + std::to_string(*n) + " bytes of data: nothing was sent)\n");
                break;
            }
            command.payload = std::move(*data);
        }
        // as_tuple: the whole result (lines, ERR CODE, diagnostics) also when the command failed.
        const auto [ec, r] = co_await esp.async_send_command(std::move(command), asio::experimental::as_tuple(asio::use_awaitable));
        io.print(describe_result(r, form));
    }
    esp.remove_report_listener(listener);
    io.close();
    co_return 0;
}

}  // namespace

// What --help says about line editing, as this build has it.
#ifdef ESPAT_AT_CONSOLE_LIBEDIT
#define ESPAT_AT_CONSOLE_EDITING_HELP \
    "At a terminal the line being typed is edited with libedit: arrow keys, Ctrl-A, Ctrl-E,\n" \
    "Ctrl-U, the earlier commands with the up and down arrows, Ctrl-D on an empty line to quit;\n" \
    "replies and reports are printed above it as they arrive.\n"
#else
#define ESPAT_AT_CONSOLE_EDITING_HELP \
    "This build has no line editing (libedit was not found when it was built): lines are read\n" \
    "as the terminal gives them, and --history is accepted and ignored.\n"
#endif

int main(int argc, char** argv)
{
    const espat::examples::command_line cl(
        "at_console", "[--port DEVICE [--baud N]] [--history FILE]",
        "An interactive AT console: each line of standard input goes to the module as one command\n"
        "line; its reply is printed when it completes, the module's reports whenever they arrive,\n"
        "and for a command of espat's table the typed answer as JSON. A line with a control\n"
        "character is refused. After AT+CIPSEND=[<link>,]<n> it shows '>' and sends the next n\n"
        "bytes typed as the data. End of input ends it. Without --port: the simulated module.\n"
        "(--ssid and --password are accepted and unused: join with AT+CWJAP=\"ssid\",\"password\".)\n"
        ESPAT_AT_CONSOLE_EDITING_HELP
        "\n"
        "Options:\n"
        "  --history FILE  at a terminal, keep the commands typed (never a send's data) in FILE:\n"
        "                  read at start, written at exit (default: none kept)\n");
    std::optional<std::string> history_file;
    const espat::examples::common_settings s = cl.parse(argc, argv, [&](std::string_view flag, auto& value) {
        if (flag != "--history") return false;
        history_file = value();
        return true;
    });
    espat::examples::runner run("at_console");
    // After the runner: stopped before its io_context goes. Only one of them reads standard input.
    std::optional<stdin_lines> lines;
#ifdef ESPAT_AT_CONSOLE_LIBEDIT
    std::optional<line_editor> editor;
    const int keys = ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1 ? reopen_terminal() : -1;
    console_io& io = keys >= 0 ? static_cast<console_io&>(editor.emplace(run.io().get_executor(), keys, history_file))
                               : lines.emplace(run.io().get_executor());
#else
    console_io& io = lines.emplace(run.io().get_executor());
#endif
    if (s.port) return run.on_serial(s, [&](auto& esp) { return console(esp, io); });
    return run.on_simulator([&](auto& esp) { return console(esp, io); }, {}, {}, std::nullopt);
}
