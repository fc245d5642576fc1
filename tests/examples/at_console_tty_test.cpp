// at_console as a person uses it: on a pseudo-terminal, so that libedit edits the line being
// typed, against the simulated module (in-process) and a TCP peer on 127.0.0.1. What the console
// writes goes through a small model of the terminal's screen, so the checks are on what the
// person sees: a command's reply, the up arrow recalling a command, a report arriving while a
// line is half typed (printed above it, the line drawn again as it was, on one row and wrapped
// over two), a send's data after '>', which stays out of the history, Ctrl-D ending the console
// with status 0 and the terminal back in its normal mode, standard input never made
// non-blocking, and --history across two runs.
// Every wait is bounded: a console that hangs fails the test, and is killed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char** environ;

#if !defined(ESPAT_AT_CONSOLE)
#error "ESPAT_AT_CONSOLE: the path of the at_console program (tests/CMakeLists.txt)"
#endif

using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;
constexpr auto patience = 10s;  // for any one thing to appear; the whole test has ctest's limit

// ---- the screen ------------------------------------------------------------------------------

// What a terminal shows, from the bytes written to it: printable text with xterm's line wrap,
// CR, LF, BS, TAB, and the CSI sequences libedit and the console use (cursor moves, erase in line
// and display, insert and delete characters). Rows scroll up into a history that is kept, so the
// whole session can be read afterwards; cursor moves reach the last `height` rows only.
class screen {
public:
    screen(std::size_t width, std::size_t height) : width_(width), height_(height), rows_(1) {}

    void resize(std::size_t width, std::size_t height)
    {
        width_ = width;
        height_ = height;
        col_ = std::min(col_, width_ - 1);
    }

    void feed(std::string_view bytes)
    {
        for (const char c : bytes) put(c);
    }

    std::size_t cursor_row() const { return row_; }
    std::size_t cursor_column() const { return std::min(col_, width_ - 1); }
    std::size_t rows() const { return rows_.size(); }
    // A row without its trailing blanks.
    std::string row(std::size_t r) const
    {
        if (r >= rows_.size()) return {};
        std::string s = rows_[r];
        s.erase(s.find_last_not_of(' ') + 1);
        return s;
    }
    std::string current_row() const { return row(row_); }
    // Control sequences met that the model does not know (a test reports them).
    const std::set<std::string>& unknown() const { return unknown_; }

    std::string text() const
    {
        std::string all;
        for (std::size_t r = 0; r < rows_.size(); ++r) all += row(r) + (r == row_ ? "   <- cursor\n" : "\n");
        return all;
    }

private:
    void put(char c)
    {
        if (!escape_.empty()) return sequence(c);
        switch (c) {
        case '\x1b': escape_ = "\x1b"; return;
        case '\r': col_ = 0; return;
        case '\n': line_feed(); return;
        case '\b': col_ = std::min(col_, width_ - 1) - (col_ > 0 ? 1 : 0); return;
        case '\t': col_ = std::min(width_ - 1, (col_ / 8 + 1) * 8); return;
        case '\a': return;
        default: break;
        }
        if (static_cast<unsigned char>(c) < 0x20) return;
        if (col_ >= width_) {  // the wrap left pending by the last column
            col_ = 0;
            line_feed();
        }
        cell(row_, col_) = c;
        ++col_;
    }

    void line_feed()
    {
        ++row_;
        if (row_ >= rows_.size()) rows_.resize(row_ + 1);
    }

    // A row as wide as the screen at least (blanks added).
    std::string& full_row(std::size_t r)
    {
        if (rows_[r].size() < width_) rows_[r].resize(width_, ' ');
        return rows_[r];
    }
    char& cell(std::size_t r, std::size_t c) { return full_row(r)[c]; }

    std::size_t top() const { return rows_.size() > height_ ? rows_.size() - height_ : 0; }

    void sequence(char c)
    {
        escape_ += c;
        if (escape_.size() == 2 && c != '[') {  // ESC and one character (ESC =, ESC >, ...)
            escape_.clear();
            return;
        }
        if (escape_.size() == 2) return;
        if (static_cast<unsigned char>(c) < 0x40 || static_cast<unsigned char>(c) > 0x7e) return;  // parameters
        const std::string params = escape_.substr(2, escape_.size() - 3);
        const std::string whole = escape_;
        escape_.clear();
        if (!params.empty() && params[0] == '?') return;  // private modes (keypad, cursor keys, ...)
        const std::size_t n = params.empty() ? 1 : std::max<std::size_t>(1, std::strtoul(params.c_str(), nullptr, 10));
        const std::size_t p = params.empty() ? 0 : std::strtoul(params.c_str(), nullptr, 10);
        col_ = std::min(col_, width_ - 1);
        switch (c) {
        case 'A': row_ = row_ >= top() + n ? row_ - n : top(); break;
        case 'B': row_ = std::min(row_ + n, rows_.size() - 1); break;
        case 'C': col_ = std::min(col_ + n, width_ - 1); break;
        case 'D': col_ = col_ >= n ? col_ - n : 0; break;
        case 'G': col_ = std::min(n - 1, width_ - 1); break;
        case 'K': {
            std::string& r = full_row(row_);
            if (p == 0) r.replace(col_, std::string::npos, r.size() - col_, ' ');
            else if (p == 1) r.replace(0, col_ + 1, col_ + 1, ' ');
            else r.assign(r.size(), ' ');
            break;
        }
        case 'J':
            if (p != 0) {
                unknown_.insert(whole);
                break;
            }
            full_row(row_).resize(col_);
            rows_.resize(row_ + 1);
            break;
        case '@': {
            std::string& r = full_row(row_);
            r.insert(col_, std::min(n, width_ - col_), ' ');
            r.resize(std::max(width_, r.size() - std::min(n, width_ - col_)));
            break;
        }
        case 'P': {
            std::string& r = full_row(row_);
            r.erase(col_, std::min(n, r.size() - col_));
            r.resize(std::max(width_, r.size()), ' ');
            break;
        }
        case 'm': break;  // colours
        default: unknown_.insert(whole); break;
        }
    }

    std::size_t width_;
    std::size_t height_;
    std::vector<std::string> rows_;
    std::size_t row_ = 0;
    std::size_t col_ = 0;  // == width_: after the last column, before the wrap
    std::string escape_;   // an escape sequence begun
    std::set<std::string> unknown_;
};

// Bytes as C escapes, for failure messages.
std::string escaped(std::string_view bytes)
{
    std::string out;
    for (const char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\n') out += "\\n\n";
        else if (c == '\\') out += "\\\\";
        else if (c >= 0x20 && c < 0x7f) out += ch;
        else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        }
    }
    return out;
}

// ---- at_console on a pseudo-terminal ---------------------------------------------------------

class console_on_pty {
public:
    static constexpr std::size_t width = 200;
    static constexpr std::size_t height = 40;

    explicit console_on_pty(const std::vector<std::string>& args, const std::string& home) : screen_(width, height)
    {
        master_ = ::posix_openpt(O_RDWR | O_NOCTTY);
        REQUIRE(master_ >= 0);
        REQUIRE(::grantpt(master_) == 0);
        REQUIRE(::unlockpt(master_) == 0);
        const std::string slave = ::ptsname(master_);
        set_size(width, height);

        // Everything the child needs is made before the fork.
        std::vector<std::string> all{ESPAT_AT_CONSOLE};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : all) argv.push_back(a.data());
        argv.push_back(nullptr);
        // The environment as it is (sanitizer options among it), with a known terminal type and a
        // home without an ~/.editrc.
        std::vector<std::string> env;
        for (char** e = environ; *e != nullptr; ++e) {
            const std::string_view v = *e;
            if (!v.starts_with("TERM=") && !v.starts_with("HOME=") && !v.starts_with("EDITRC=")) env.emplace_back(v);
        }
        env.push_back("TERM=xterm");
        env.push_back("HOME=" + home);
        std::vector<char*> envp;
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);

        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            // A session of its own, the pty's slave its controlling terminal and its standard streams.
            ::setsid();
            const int fd = ::open(slave.c_str(), O_RDWR);
            if (fd < 0) ::_exit(126);
            ::ioctl(fd, TIOCSCTTY, 0);
            ::dup2(fd, STDIN_FILENO);
            ::dup2(fd, STDOUT_FILENO);
            ::dup2(fd, STDERR_FILENO);
            if (fd > STDERR_FILENO) ::close(fd);
            ::close(master_);
            ::execve(argv[0], argv.data(), envp.data());
            ::_exit(127);
        }
    }

    console_on_pty(const console_on_pty&) = delete;
    console_on_pty& operator=(const console_on_pty&) = delete;

    ~console_on_pty()
    {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        if (master_ >= 0) ::close(master_);
    }

    void set_size(std::size_t columns, std::size_t rows)
    {
        winsize size{};
        size.ws_col = static_cast<unsigned short>(columns);
        size.ws_row = static_cast<unsigned short>(rows);
        REQUIRE(::ioctl(master_, TIOCSWINSZ, &size) == 0);  // the console gets SIGWINCH
        screen_.resize(columns, rows);
    }

    void type(std::string_view keys)
    {
        while (!keys.empty()) {
            const ssize_t n = ::write(master_, keys.data(), keys.size());
            if (n < 0 && errno == EINTR) continue;
            REQUIRE(n > 0);
            keys.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    // Reads what the console writes until `done` holds for the screen and the text written since
    // the last expect(), or `patience` passes (false).
    bool until(const std::function<bool(const screen&, std::string_view)>& done)
    {
        const auto deadline = steady::now() + patience;
        for (;;) {
            if (done(screen_, std::string_view(output_).substr(seen_))) return true;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
            if (left <= 0ms || !read_some(left)) return done(screen_, std::string_view(output_).substr(seen_));
        }
    }

    // Waits for `text` in what the console writes next; what follows it is for the next expect().
    bool expect(std::string_view text)
    {
        return until([&](const screen&, std::string_view fresh) {
            const std::size_t at = fresh.find(text);
            if (at == std::string_view::npos) return false;
            seen_ += at + text.size();
            return true;
        });
    }

    // Waits until the cursor's row reads `text`, the cursor after it (a trailing blank is the
    // cursor's column, not on the row).
    bool line_reads(std::string_view text)
    {
        return until([&](const screen& s, std::string_view) {
            std::string_view shown = text;
            while (shown.ends_with(' ')) shown.remove_suffix(1);
            return s.current_row() == shown && s.cursor_column() == text.size();
        });
    }

    // The exit status once the console has ended by itself, or nothing after `patience`.
    std::optional<int> exit_status()
    {
        const auto deadline = steady::now() + patience;
        while (steady::now() < deadline) {
            int status = 0;
            const pid_t ended = ::waitpid(pid_, &status, WNOHANG);
            if (ended == pid_) {
                pid_ = -1;
                while (read_some(100ms)) {
                }
                if (WIFEXITED(status)) return WEXITSTATUS(status);
                return 128 + WTERMSIG(status);
            }
            if (!read_some(50ms)) ::usleep(20'000);
        }
        return std::nullopt;
    }

    termios terminal_modes() const
    {
        termios t{};
        ::tcgetattr(master_, &t);  // the slave's modes, which the pair shares
        return t;
    }

    // The flags of the console's standard input (its open file description, which a shell
    // shares), from /proc; nothing when they cannot be read.
    std::optional<long> input_flags() const
    {
        std::ifstream info("/proc/" + std::to_string(pid_) + "/fdinfo/0");
        for (std::string field; info >> field;) {
            if (field != "flags:") continue;
            std::string octal;
            info >> octal;
            return std::strtol(octal.c_str(), nullptr, 8);
        }
        return std::nullopt;
    }

    const screen& shown() const { return screen_; }

    std::string transcript() const
    {
        std::string unknown;
        for (const auto& u : screen_.unknown()) unknown += escaped(u) + " ";
        return "--- the screen ---\n" + screen_.text() + "--- the bytes written ---\n" + escaped(output_) +
               "\n--- control sequences the screen model ignored: " + (unknown.empty() ? "none" : unknown) + "\n";
    }

private:
    // One read, waiting at most `limit`; false when nothing came (or the console is gone).
    bool read_some(std::chrono::milliseconds limit)
    {
        pollfd p{master_, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(limit.count()));
        if (ready <= 0 || (p.revents & POLLIN) == 0) return false;
        char buffer[4096];
        const ssize_t n = ::read(master_, buffer, sizeof buffer);
        if (n <= 0) return false;  // EIO: no slave open any more
        output_.append(buffer, static_cast<std::size_t>(n));
        screen_.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
        return true;
    }

    int master_ = -1;
    pid_t pid_ = -1;
    std::string output_;  // every byte the console wrote
    std::size_t seen_ = 0;  // how far expect() has read output_
    screen screen_;
};

// ---- a TCP peer on 127.0.0.1 -----------------------------------------------------------------

class tcp_peer {
public:
    tcp_peer()
    {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(listener_ >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(listener_, 1) == 0);
        socklen_t length = sizeof a;
        REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &length) == 0);
        port_ = ntohs(a.sin_port);
    }
    tcp_peer(const tcp_peer&) = delete;
    tcp_peer& operator=(const tcp_peer&) = delete;
    ~tcp_peer()
    {
        if (link_ >= 0) ::close(link_);
        ::close(listener_);
    }

    unsigned port() const { return port_; }

    bool accept()
    {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(patience).count())) != 1) return false;
        link_ = ::accept(listener_, nullptr, nullptr);
        return link_ >= 0;
    }

    void send(std::string_view bytes) { REQUIRE(::send(link_, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size())); }

    // What arrives until `size` bytes came or `patience` passed.
    std::string receive(std::size_t size)
    {
        std::string got;
        const auto deadline = steady::now() + patience;
        while (got.size() < size && steady::now() < deadline) {
            pollfd p{link_, POLLIN, 0};
            if (::poll(&p, 1, 100) != 1) continue;
            char buffer[256];
            const ssize_t n = ::recv(link_, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            got.append(buffer, static_cast<std::size_t>(n));
        }
        return got;
    }

private:
    int listener_ = -1;
    int link_ = -1;
    unsigned port_ = 0;
};

// A folder of its own for the console's home and history file, removed at the end.
struct scratch_dir {
    std::string path;
    scratch_dir()
    {
        char name[] = "/tmp/espat-at-console-tty.XXXXXX";
        REQUIRE(::mkdtemp(name) != nullptr);
        path = name;
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    ~scratch_dir()
    {
        ::unlink((path + "/history").c_str());
        ::rmdir(path.c_str());
    }
};

std::vector<std::string> lines_of(const std::string& file)
{
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
}

}  // namespace

TEST_CASE("at_console on a terminal: editing, history, reports while typing, a send's data, Ctrl-D")
{
    scratch_dir dir;
    const std::string history = dir.path + "/history";
    tcp_peer peer;
    {
        console_on_pty console({"--history", history}, dir.path);
        INFO(console.transcript());  // on a failure: the screen and the bytes
        REQUIRE(console.expect("module: AT version"));
        REQUIRE(console.line_reads("esp> "));

        // A command typed reaches the module; its reply is shown, then the prompt again.
        console.type("AT+GMR\r");
        REQUIRE(console.expect("decoded AT+GMR execute"));
        REQUIRE(console.line_reads("esp> "));
        // Standard input stays blocking while the console waits for keys: libedit reads it, and a
        // shell shares it.
        if (const std::optional<long> flags = console.input_flags()) CHECK((*flags & O_NONBLOCK) == 0);

        // The up arrow recalls it; Enter sends it again.
        console.type("\x1b[A");
        REQUIRE(console.line_reads("esp> AT+GMR"));
        console.type("\r");
        REQUIRE(console.expect("decoded AT+GMR execute"));
        REQUIRE(console.line_reads("esp> "));

        // A TCP link to the peer, whose data the module then reports as +IPD.
        console.type("AT+CIPSTART=\"TCP\",\"127.0.0.1\"," + std::to_string(peer.port()) + "\r");
        REQUIRE(peer.accept());
        REQUIRE(console.expect("decoded AT+CIPSTART set"));
        REQUIRE(console.line_reads("esp> "));

        // A report while a line is half typed: printed on rows of its own above the line, which is
        // drawn again as it was, the cursor at its end; the line, finished, reaches the module whole.
        console.type("AT+CIPSTA");
        REQUIRE(console.line_reads("esp> AT+CIPSTA"));
        peer.send("ping");
        REQUIRE(console.expect("report: "));
        REQUIRE(console.line_reads("esp> AT+CIPSTA"));
        {
            const screen& s = console.shown();
            const std::string report = s.row(s.cursor_row() - 1);
            CHECK(report.starts_with("report: {\"event\":\"ipd\""));
            CHECK(report.find("ping") != std::string::npos);
            CHECK(s.row(s.cursor_row() - 2) == "decoded AT+CIPSTART set: {}");
        }
        // The cursor in the middle of the line (Ctrl-B twice) stays there across a report.
        console.type("\x02\x02");
        peer.send("pong");
        REQUIRE(console.expect("pong"));
        REQUIRE(console.until([](const screen& s, std::string_view) {
            return s.current_row() == "esp> AT+CIPSTA" && s.cursor_column() == 12;
        }));
        console.type("\x05?\r");  // Ctrl-E: to the end
        REQUIRE(console.expect("decoded AT+CIPSTA query"));
        REQUIRE(console.line_reads("esp> "));

        // The same on a narrow terminal, the half-typed line wrapped over two rows: both are
        // erased before the report and drawn again after it; no copy of them is left above.
        console.set_size(20, console_on_pty::height);
        const std::string wrapped = "AT+CWJAP=\"espressif\"";  // 5 + 20 columns: a row of 20, one of 5
        console.type(wrapped);
        REQUIRE(console.until([&](const screen& s, std::string_view) {
            return s.current_row() == "ssif\"" && s.cursor_column() == 5 &&
                   s.row(s.cursor_row() - 1) == "esp> AT+CWJAP=\"espre";
        }));
        peer.send("wrap");
        REQUIRE(console.expect("wrap"));
        REQUIRE(console.until([&](const screen& s, std::string_view) {
            return s.current_row() == "ssif\"" && s.cursor_column() == 5 &&
                   s.row(s.cursor_row() - 1) == "esp> AT+CWJAP=\"espre";
        }));
        {
            const screen& s = console.shown();
            std::size_t copies = 0;
            for (std::size_t r = 0; r < s.rows(); ++r) copies += s.row(r).starts_with("esp> AT+CWJAP") ? 1 : 0;
            CHECK(copies == 1);
            CHECK(s.row(s.cursor_row() - 2).ends_with("}"));  // the report's end
        }
        console.type("\x15");  // Ctrl-U: the line goes, unsent
        REQUIRE(console.line_reads("esp> "));
        console.set_size(console_on_pty::width, console_on_pty::height);

        // AT+CIPSEND=<n>: the module's '>', then n bytes typed, which reach the peer.
        console.type("AT+CIPSEND=5\r");
        REQUIRE(console.line_reads("> "));
        console.type("hello\r");
        REQUIRE(console.expect("SEND OK"));
        CHECK(peer.receive(5) == "hello");
        REQUIRE(console.line_reads("esp> "));

        // Data over two lines: the line end typed is data too (CR LF), the second line has no
        // prompt, as a terminal shows it after the module's '>'.
        console.type("AT+CIPSEND=12\r");
        REQUIRE(console.line_reads("> "));
        console.type("hello\r");
        REQUIRE(console.line_reads(""));
        console.type("world\r");
        REQUIRE(console.expect("SEND OK"));
        CHECK(peer.receive(12) == "hello\r\nworld");
        REQUIRE(console.line_reads("esp> "));

        // The data is not in the history: the up arrow gives the command before it.
        console.type("\x1b[A");
        REQUIRE(console.line_reads("esp> AT+CIPSEND=12"));
        console.type("\x15");
        REQUIRE(console.line_reads("esp> "));

        // Ctrl-D on the empty line: status 0, and the terminal in its normal mode again.
        console.type("\x04");
        const std::optional<int> status = console.exit_status();
        REQUIRE(status.has_value());
        CHECK(*status == 0);
        const termios modes = console.terminal_modes();
        CHECK((modes.c_lflag & ICANON) != 0);
        CHECK((modes.c_lflag & ECHO) != 0);
        CHECK(console.shown().unknown().empty());
    }

    // The history file: each command once in a row, no data.
    const std::vector<std::string> saved = lines_of(history);
    CHECK(std::count(saved.begin(), saved.end(), "AT+GMR") == 1);
    CHECK(std::count(saved.begin(), saved.end(), "AT+CIPSTA?") == 1);
    CHECK(std::count(saved.begin(), saved.end(), "AT+CIPSEND=5") == 1);
    CHECK(std::count(saved.begin(), saved.end(), "AT+CIPSEND=12") == 1);
    CHECK(std::none_of(saved.begin(), saved.end(), [](const std::string& l) {
        return l.find("hello") != std::string::npos || l.find("world") != std::string::npos;
    }));
    CHECK(std::none_of(saved.begin(), saved.end(), [](const std::string& l) { return l.find("espressif") != std::string::npos; }));

    // A second run reads it: three up arrows give the command before the two sends.
    {
        console_on_pty console({"--history", history}, dir.path);
        INFO(console.transcript());
        REQUIRE(console.line_reads("esp> "));
        console.type("\x1b[A\x1b[A\x1b[A");
        REQUIRE(console.line_reads("esp> AT+CIPSTA?"));
        console.type("\r");
        REQUIRE(console.expect("decoded AT+CIPSTA query"));
        REQUIRE(console.line_reads("esp> "));
        console.type("\x04");
        const std::optional<int> status = console.exit_status();
        REQUIRE(status.has_value());
        CHECK(*status == 0);
    }
}
