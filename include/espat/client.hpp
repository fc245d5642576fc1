// espat/client.hpp — the Asio driver of an ESP-AT module: one reader, one writer and one timer
// around the sans-I/O session, typed commands from the command table, reports to listeners.
//
// Thread model: every piece of state lives on the client's strand. Operations may be started
// from any thread: their initiation is posted to the strand, and each completion is posted to
// the caller's handler executor. Report listeners run on the strand. The accessors
// (firmware(), stats(), last_failure(), the listener and transcript functions) must be called
// on the strand - or, what tests and single-threaded programs do, with one thread running the
// io_context. Destroy the client only once no handler of it can run (io_context stopped).
//
// Cancellation: each operation connects to its handler's cancellation slot (any type:
// terminal, partial or total). Not yet written: removed, nothing sent. Written: completes at
// once with errc::cancelled; the module's answer is still read and dropped (a send's data is
// still written after its prompt, or the module would take the next command as data). As for
// any Asio operation, the slot is the caller's: with several threads, run a caller that
// cancels (e.g. with awaitable operators) on a strand.
//
// g++ 12: do not write a braced request temporary inside a co_await expression
// (`co_await esp.cwjap.set({"ssid", "pw"})` frees its strings twice, a compiler bug); name the
// request first, or pass the fields: `co_await esp.cwjap("ssid", "pw")`.
#pragma once

#include <espat/config.hpp>

#include <espat/client/command_handle.hpp>
#include <espat/client/command_names.hpp>
#include <espat/client/detail/completion.hpp>
#include <espat/detail/executors.hpp>
#include <espat/client/options.hpp>
#include <espat/client/wifi_event.hpp>
#include <espat/commands/host.hpp>
#include <espat/commands/table.hpp>
#include <espat/error.hpp>
#include <espat/proto/session.hpp>
#include <espat/proto/transcript.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_allocator.hpp>
#include <asio/bind_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/ip/udp.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/serial_port.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <tl/expected.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#if !defined(_WIN32)
#include <termios.h>  // tcflush
#endif

namespace espat {

using listener_id = std::uint64_t;

namespace detail {
// A serial port: its line settings can be read and changed (asio::basic_serial_port on any
// executor, or a stream wrapping one). Start-up applies client_options::baud_rate and rts_cts
// to such a stream. A socket (a serial-over-network bridge) takes any option type in
// set_option / get_option, so the protocol_type names it: its line is the bridge's business.
template <class S>
concept serial_line = !requires { typename S::protocol_type; } && requires(S& s, asio::serial_port_base::baud_rate& rate, asio::serial_port_base::flow_control& flow,
                               std::error_code& ec) {
    s.set_option(rate, ec);
    s.get_option(rate, ec);
    s.set_option(flow, ec);
    s.get_option(flow, ec);
};

// AT+CIPSEND and AT+CIPRECVDATA carry data beside their line: they have their own operations.
// So do the commands the table marks data_after_prompt (AT+MQTTPUBRAW, AT+HTTPCPOST, ...): sent
// as a line alone, the module would wait at '>' for data that never comes.
template <class C>
inline constexpr bool carries_data_v =
    std::is_same_v<C, commands::cipsend> || std::is_same_v<C, commands::cipsend_udp> ||
    std::is_same_v<C, commands::cipsendex> || std::is_same_v<C, commands::cipsendex_udp> ||
    std::is_same_v<C, commands::ciprecvdata> || requires { requires C::data_after_prompt; };
}  // namespace detail

template <class AsyncStream>
class basic_client {
public:
    using stream_type = AsyncStream;
    // The client's strand: on the stream's executor, or for a stream on asio::any_io_executor
    // on the io_context executor inside it; the stream's own when it is on a strand
    // (detail/executors.hpp says why).
    using executor_type = detail::client_strand_t<typename AsyncStream::executor_type>;
    // Every operation completes error first; without a token, co_await yields
    // tl::expected<T, std::error_code> (as_expected.hpp).
    using default_token = use_expected_t;
    template <class T>
    using result = tl::expected<T, std::error_code>;

    explicit basic_client(AsyncStream stream, client_options options = {});
    // Handlers the client posted to its strand refer to it: destroy it once none is pending,
    // i.e. after close() and a run of its executor, or when its io_context will not run again.
    ~basic_client();
    basic_client(const basic_client&) = delete;
    basic_client& operator=(const basic_client&) = delete;

    [[nodiscard]] executor_type get_executor() const noexcept { return strand_; }
    AsyncStream& stream() noexcept { return stream_; }

    // ---- start-up ----

    // AT until OK (boot noise and echo tolerated; no answer: "+++" in case the module booted
    // into passthrough, see client_options::passthrough_escape_after), ATE1 (answers are anchored to their echo), AT+GMR (the firmware profile),
    // AT+SYSLOG=1 (ERROR from old firmware tolerated), and for a serial port the optional
    // line settings (client_options::baud_rate, rts_cts); with client_options::reset_on_start
    // first AT+RST and its "ready". Other operations wait until it is done. After an unexpected "ready" it runs
    // again by itself (client_options::restart_after_reset). A start while one runs (that
    // restart, say) waits for it and completes with its result: void(std::error_code,
    // firmware_profile).
    template <class Token = default_token>
    auto async_start(Token&& token = {})
    {
        return asio::co_spawn(strand_, start_sequence(options_.reset_on_start),
                              detail::error_first(std::forward<Token>(token)));
    }
    // Waits for the start-up that runs, if one does (the restart a module reset set off, say),
    // without starting one; at once when none does: void(std::error_code), never an error.
    // firmware() then describes the module as that start-up found it
    // (firmware_profile::left_passthrough, for one).
    template <class Token = default_token>
    auto async_wait_start_up(Token&& token = {})
    {
        return asio::co_spawn(strand_, start_up_done(), detail::error_first(std::forward<Token>(token)));
    }

    // ---- typed commands: one generic operation per form ----

    template <commands::has_test C, class Token = default_token>
    auto async_test(call_options o = {}, Token&& token = {})
    {
        std::string line;
        commands::encode_test<C>(line);
        return async_typed<C, typename C::test>(std::move(line), {}, {}, o, std::forward<Token>(token));
    }

    template <commands::has_query C, class Token = default_token>
    auto async_query(call_options o = {}, Token&& token = {})
    {
        std::string line;
        commands::encode_query<C>(line);
        return async_typed<C, typename C::query>(std::move(line), {}, {}, o, std::forward<Token>(token));
    }

    template <commands::has_execute C, class Token = default_token>
    auto async_execute(call_options o = {}, Token&& token = {})
    {
        static_assert(!std::is_same_v<C, commands::cipsend>, "AT+CIPSEND (passthrough): use async_enter_passthrough");
        std::string line;
        commands::encode_execute<C>(line);
        return async_typed<C, typename C::execute>(std::move(line), {}, {}, o, std::forward<Token>(token));
    }

    template <commands::has_set C, class Token = default_token>
    auto async_set(const typename C::set::request& request, call_options o = {}, Token&& token = {})
    {
        static_assert(!detail::carries_data_v<C>,
                      "AT+CIPSEND / AT+CIPSENDEX / AT+CIPRECVDATA: use async_send_data / async_send_data_ex / "
                      "async_recv_data; a command with data after its '>' prompt (AT+MQTTPUBRAW, AT+HTTPCPOST, ...) has "
                      "no client operation yet: send it with async_send_command and a payload");
        std::string line;
        const std::error_code ec = commands::encode_set<C>(line, request);
        return async_typed<C, typename C::set>(std::move(line), ec, redacted_line<C>(request), o,
                                               std::forward<Token>(token));
    }

    // ---- the raw escape hatch and the data paths (for the links layer) ----

    // Any command, as the session runs it: the whole result (lines, diagnostics, frames). A line
    // that is not one command line ("...\r\n", no CR, LF or NUL before its end, at most 256
    // bytes: commands::sendable_line) is refused with errc::invalid_argument, nothing sent: a
    // raw line built from user data cannot inject a second command.
    template <class Token = default_token>
    auto async_send_command(proto::command command, Token&& token = {});
    // The same for a line given without its "\r\n" (one is added; a line that already ends in
    // one is taken as it is).
    template <class Token = default_token>
    auto async_send_command(std::string line, std::chrono::milliseconds timeout, Token&& token = {})
    {
        if (!line.ends_with("\r\n")) line += "\r\n";
        return async_send_command(proto::command{.line = std::move(line), .timeout = timeout}, std::forward<Token>(token));
    }

    // AT+CIPSEND=[<link>,]<n>, the data after '>', SEND OK: the number of bytes sent. More than
    // the firmware's limit (firmware().max_send_length) is errc::invalid_argument, not split.
    template <class Token = default_token>
    auto async_send_data(std::optional<link_id> link, std::string data, call_options o = {}, Token&& token = {});

    // AT+CIPSENDEX=[<link>,]<n>[,<remote IP>,<remote port>], the data after '>', SEND OK: the
    // number of the caller's bytes sent. The data goes whole: each backslash in it is sent
    // doubled (commands::escape_sendex_data), so the module never ends it early at "\0" nor
    // drops a backslash, and <n> counts the escaped bytes, which must be within the firmware's
    // limit (else errc::invalid_argument).
    // `to`: a UDP link's remote for this datagram.
    template <class Token = default_token>
    auto async_send_data_ex(std::optional<link_id> link, std::string_view data,
                            std::optional<asio::ip::udp::endpoint> to = std::nullopt, call_options o = {},
                            Token&& token = {});

    // The data length the module takes after a send line it echoed (AT+CIPSEND, AT+CIPSENDEX,
    // their UDP forms), read with the command table as the simulator reads it; nullopt for
    // any other line. The session needs it when the echo is not the line written.
    static std::optional<std::size_t> echoed_send_length(std::string_view echoed);
    // Whether a command line is AT+CIPSENDEX's, whose data the module unescapes (the raw
    // command API marks such a command's payload so: proto::command::escaped_data).
    static bool is_sendex_line(std::string_view line);

    // AT+CIPRECVDATA=[<link>,]<n> in passive receive mode: up to n bytes (fewer when fewer are
    // buffered; "" when none).
    template <class Token = default_token>
    auto async_recv_data(std::optional<link_id> link, std::size_t max, call_options o = {}, Token&& token = {});

    // AT+CIPSEND (AT+CIPMODE=1): done at '>'; then write_raw() and leave_passthrough().
    template <class Token = default_token>
    auto async_enter_passthrough(call_options o = {}, Token&& token = {});
    void write_raw(std::string bytes);
    void leave_passthrough();

    // ---- reports ----

    // Called on the strand for every report, in arrival order, with views valid only during
    // the call: +IPD (payload included), <id>,CONNECT / CLOSED, WIFI ..., +LINK_CONN, ...,
    // and kind `ready` when the module reset. A listener must not block; it may start
    // operations (they begin after it returns) and remove listeners.
    listener_id add_report_listener(std::function<void(const proto::event&)> listener);
    void remove_report_listener(listener_id id);

    // The next Wi-Fi event (WIFI CONNECTED / GOT IP / DISCONNECT, +STA_CONNECTED, ...), from a
    // bounded queue. Cancelling the wait takes no event from the queue.
    template <class Token = default_token>
    auto async_next_wifi_event(Token&& token = {})
    {
        return detail::initiate_result<wifi_event>(
            [this](auto handler, auto form) {
                auto done = detail::make_completion<result<wifi_event>>(std::move(handler), form, strand_, arena_);
                const std::uint64_t ticket = next_ticket_.fetch_add(1, std::memory_order_relaxed);
                connect_cancellation(done->cancellation_slot(), ticket, &basic_client::cancel_wifi_waiter);
                asio::post(strand_, [this, ticket, d = std::move(done)]() mutable { add_wifi_waiter(ticket, std::move(d)); });
            },
            token);
    }

    // ---- observability ----

    // Starts (or restarts) recording both directions in the transcript format; passwords of
    // AT+CWJAP / AT+CWSAP are replaced by ******** (in the echo too).
    void record_transcript(bool on = true);
    [[nodiscard]] std::string transcript() const { return transcript_ ? *transcript_ : std::string{}; }

    [[nodiscard]] client_stats stats() const;
    [[nodiscard]] const std::optional<firmware_profile>& firmware() const noexcept { return profile_; }
    // Why the start-up that a module reset set off failed ({} if it did not).
    [[nodiscard]] std::error_code last_restart_error() const noexcept { return last_restart_error_; }
    // The last command that failed (other than by cancellation): its diagnostics.
    [[nodiscard]] const std::optional<command_failure>& last_failure() const noexcept { return last_failure_; }
    // Whether the module's firmware has command C (true until async_start() read the version).
    template <class C>
    [[nodiscard]] bool supports() const noexcept
    {
        return version_range::template of<C>().contains(profile_);
    }

    // Stops reading and writing; pending operations fail with asio::error::operation_aborted.
    void close();

    // ---- every command of the table by name: esp.cipdomain("example.com"), esp.cwmode.query() ----
    // (a command outside the firmware's range, as AT 1.x's esp.cwmode_cur on ESP-AT 2.x, fails
    // with errc::not_supported before anything is sent). The names: client/command_names.hpp.
#define ESPAT_CLIENT_HANDLE(name) command_handle<basic_client, commands::name> name{*this};
    ESPAT_CLIENT_COMMANDS(ESPAT_CLIENT_HANDLE)
#undef ESPAT_CLIENT_HANDLE

    // The allocator of the client's own handlers and completions: its arena (handler_arena.hpp).
    [[nodiscard]] detail::handler_allocator<void> allocator() const noexcept { return detail::handler_allocator<void>(arena_); }
    // The arena itself, for completions the layers above keep (a link's pending read and write).
    [[nodiscard]] const std::shared_ptr<detail::handler_arena>& arena() const noexcept { return arena_; }

    // Binds the arena to a handler of the client's, or of a layer above on the client's
    // executor (a link's read).
    template <class Handler>
    [[nodiscard]] auto with_arena(Handler&& handler) const
    {
        return asio::bind_allocator(allocator(), std::forward<Handler>(handler));
    }

private:
    using clock = proto::session::clock;
    using command_completion = detail::completion_ptr<proto::command_result>;
    using wifi_completion = detail::completion_ptr<result<wifi_event>>;

    template <class Client, class C>
    friend class command_handle;

    // The firmware range of a descriptor (since / until), checked before anything is sent.
    struct version_range {
        std::optional<version> since{}, until{};
        template <class C>
        static version_range of()
        {
            version_range r;
            if constexpr (requires { C::since; }) r.since = C::since;
            if constexpr (requires { C::until; }) r.until = C::until;
            return r;
        }
        [[nodiscard]] bool contains(const std::optional<firmware_profile>& p) const noexcept
        {
            if (!p) return true;
            const version& v = p->info.at_version;
            return !(since && v < *since) && !(until && !(v < *until));
        }
    };

    struct op_request {
        proto::command command;
        command_completion done;
        std::error_code refused{};     // complete at once with this (a request that cannot be sent)
        std::string shown_line{};      // the line as diagnostics and the transcript show it
        version_range versions{};
        bool internal = false;         // start-up's own commands pass the gate
        std::uint64_t ticket = 0;      // names the operation for cancellation
    };

    struct op_entry {
        std::uint64_t ticket;
        proto::command_id id;                   // 0 while held at the gate
        std::optional<proto::command> held;
        command_completion done;
        std::string line;                       // as sent, or with its password redacted
        std::string secret;                     // the real line when `line` is redacted
    };

    static clock::time_point now() noexcept { return clock::now(); }

    template <class C>
    static std::chrono::milliseconds timeout_of(const call_options& o)
    {
        return o.timeout.value_or(std::chrono::milliseconds{C::timeout_ms});
    }

    // A request with a password is shown with the password replaced.
    template <class C>
    static std::string redacted_line(const typename C::set::request& request);

    template <class Form>
    result<typename Form::response::value_type> decode_typed(proto::command_result&& r);

    // A command whose data follows its prompt (AT+CIPSEND, AT+CIPSENDEX): completes with `n`,
    // the caller's byte count, at SEND OK.
    template <class C, class Token>
    auto async_send_payload(std::string line, std::error_code refused, std::string payload, std::size_t n,
                            std::optional<link_id> link, const call_options& o, Token&& token);

    // One typed command: its line, and the finish that decodes its answer (or reads why it
    // failed, for a command whose table has a failure_line).
    template <class C, class Form, class Token>
    auto async_typed(std::string line, std::error_code refused, std::string shown, const call_options& o, Token&& token);

    // A command whose table reads why it failed (commands::failure_reason): its finish, and that
    // reason as its error when the module answered ERROR.
    template <class C, class Finish>
    struct finish_with_reason;

    struct finish_nothing {
        basic_client* self;
        result<void> operator()(std::size_t, proto::command_result&& r) const
        {
            self->session_.recycle(std::move(r.lines));
            return {};
        }
    };

    // Initiates one command whose result<T> `finish` makes on the strand (T void: a command
    // answered by its final result alone); its handler takes it in the token's form.
    template <class T, class Finish, class Token>
    auto async_initiate_result(proto::command c, std::error_code refused, std::string shown, version_range versions,
                               std::size_t extra, Finish finish, Token&& token);

    // Internal (start-up) commands: on the strand, passing the gate. Not a coroutine itself, so
    // the initiation's lambda is never in a full-expression with co_await (g++ 12).
    // The line is a view: no temporary with a destructor in the callers' co_await expressions.
    asio::awaitable<proto::command_result> internal_command(std::string_view line, std::chrono::milliseconds timeout);

    // "+++" alone between guard times, through the session like any command.
    asio::awaitable<proto::command_result> internal_escape();

    // In the caller's context (the initiation): the caller's cancellation slot may only be
    // used there, so it is connected here, and a cancellation is posted to the strand after
    // the enqueue posted here.
    void post_op(op_request req);

    void connect_cancellation(asio::cancellation_slot slot, std::uint64_t ticket, void (basic_client::*cancel)(std::uint64_t));

    // ---- on the strand from here on ----

    void enqueue(op_request req);

    void submit(op_entry& e, proto::command c);

    void open_gate();

    void cancel_op(std::uint64_t ticket);

    void finish_op(typename std::vector<op_entry>::iterator it, proto::command_result r);

    static std::string strip(std::string_view line);

    void ensure_running();

    void pump();

    static proto::event as_event(const proto::owned_event& o);

    void start_read();

    void on_read(std::error_code ec, std::size_t n);

    void start_write(std::string bytes);

    // The session's deadline, kept lazily: a wait is replaced only for an earlier deadline.
    // A later one (the next command's) or none is left to the pending wait, which on expiry
    // hands the session the time (it ignores an early one) and then waits for what the session
    // wants by then. So a command in steady state costs no timer operation: cancelling a wait
    // puts its handler through the strand, which allocates.
    void arm(clock::time_point deadline);

    void start_timer_wait();

    // The stream failed or was closed: everything pending fails with `ec`, later calls too.
    void shut_down(std::error_code ec);

    // ---- reports ----

    static void on_report(void* self, const proto::event& e) { static_cast<basic_client*>(self)->deliver(e); }

    void deliver(const proto::event& e);

    void compact_listeners();

    void on_module_reset();

    void push_wifi_event(wifi_event e);

    void add_wifi_waiter(std::uint64_t ticket, wifi_completion done);

    void cancel_wifi_waiter(std::uint64_t ticket);

    // ---- transcript ----

    void record(proto::transcript_line::direction dir, std::string_view bytes);

    // ---- start-up ----

    asio::awaitable<result<firmware_profile>> start_sequence(bool reset_first = false);

    asio::awaitable<result<void>> start_up_done();

    asio::awaitable<result<firmware_profile>> start_steps(bool reset_first);
    asio::awaitable<result<void>> reset_module();

    // ---- the serial line (for a serial_line stream) ----

    using serial_base = asio::serial_port_base;
    struct port_settings {
        serial_base::baud_rate rate;
        serial_base::flow_control flow;
    };

    // client_options::baud_rate and rts_cts on both sides, so that they never disagree:
    // 1. RTS/CTS asked for: can the port keep flow_control::hardware? (set, read back, and set
    //    back: a port that waits for CTS the module does not drive yet would send nothing);
    // 2. AT+UART_CUR=<rate>,8,1,0,<3 or 0>; ERROR to 3 means no flow control, and with a rate
    //    to change it is sent again with 0;
    // 3. the module switched after its OK: the port takes the rate and flow control;
    // 4. verified: "AT" answers, and AT+UART_CUR? (where the firmware answers it) shows 3.
    // When 3 or 4 fails with flow control, it goes off on both sides at the new rate (AT+UART_CUR
    // with 0, "AT" again); when that fails too, or without flow control, both go back: the
    // module, which answered OK and so has most likely switched, is told its old settings at
    // the new ones, then the port takes its old settings; the result is the check's error if a
    // rate change was asked for or the line does not answer even then. A reset the check heard
    // ("ready") is device_reset: start-up starts over.
    template <class S = AsyncStream>  // a template: only a serial line instantiates it
    asio::awaitable<result<line_settings>> apply_line_settings();

    // AT+UART_CUR=<rate>,8,1,0,<3 or 0>: the module answers at its old settings, then switches.
    asio::awaitable<proto::command_result> send_uart_cur(uart_baud_rate rate, bool rts_cts,
                                                         std::chrono::milliseconds timeout);

    // "AT" answers within client_options::baud_verify_attempts tries; with flow control, the
    // module also says it uses it (AT+UART_CUR?; firmware that does not answer the query is
    // taken at its "AT"). Empty when verified, else the last probe's error (not_supported: the
    // module says it has no flow control).
    asio::awaitable<std::error_code> check_line(bool rts_cts);

    // The port's flow control set, then read back: `ec` says when the port refused it or did
    // not keep it (a driver may drop CRTSCTS and still report success).
    template <class S = AsyncStream>  // a template: only a serial line instantiates it
    void set_port_flow(bool hardware, std::error_code& ec);

    // A module reset put its UART back to its defaults: the port goes back to what it was
    // before start-up first changed it.
    template <class S = AsyncStream>  // a template: only a serial line instantiates it
    void restore_port();

    // The port is not at what it was before start-up first changed it.
    template <class S = AsyncStream>  // a template: only a serial line instantiates it
    bool port_switched();

    // Drops bytes written to the port but not yet sent (held back by flow control).
    void discard_output();

    // First, so it is made before anything that may allocate from it.
    std::shared_ptr<detail::handler_arena> arena_ = std::make_shared<detail::handler_arena>();
    AsyncStream stream_;
    executor_type strand_;
    asio::steady_timer timer_;
    clock::time_point wanted_deadline_ = clock::time_point::max();  // the session's; see arm()
    std::uint64_t timer_waits_ = 0;                                // numbers them, so a stale one is known
    bool timer_waiting_ = false;
    asio::steady_timer start_done_;  // never expires: cancelled when a start-up ends, to wake its joiners
    asio::steady_timer ready_wait_;  // a start-up's AT+RST waiting for "ready": cancelled by it
    bool ready_seen_ = false;
    proto::session session_;
    client_options options_;
    std::array<char, 4096> read_buffer_{};
    std::string out_;
    std::vector<op_entry> ops_;
    std::vector<std::pair<listener_id, std::function<void(const proto::event&)>>> listeners_;
    std::deque<wifi_event> wifi_events_;
    std::deque<std::pair<std::uint64_t, wifi_completion>> wifi_waiters_;
    std::optional<std::string> transcript_;
    std::optional<firmware_profile> profile_;
    std::optional<result<firmware_profile>> last_start_;  // what the last start-up that ended gave
    std::uint64_t starts_finished_ = 0;
    std::optional<command_failure> last_failure_;
    std::string last_completed_line_;
    std::error_code last_restart_error_;
    client_stats stats_;
    std::error_code fatal_;
    std::atomic<std::uint64_t> next_ticket_{1};  // taken in callers' contexts
    listener_id next_listener_ = 1;
    int delivering_ = 0;
    bool running_ = false;
    bool drained_ = false;  // the initial drain (client_options::initial_drain) was done
    bool started_ = false;
    bool starting_ = false;
    bool gate_closed_ = false;
    // The serial line (serial_line streams): the port before start-up changed it, and whether
    // a module reset put the module's UART back to its defaults since the last start-up.
    std::optional<port_settings> port_before_;
    bool module_uart_reset_ = false;
};

namespace detail {
template <class... C>
struct count_commands {
    static constexpr std::size_t value = sizeof...(C);
};
#define ESPAT_CLIENT_COUNT(name) +1
static_assert(commands::all_commands<count_commands>::value == 0 ESPAT_CLIENT_COMMANDS(ESPAT_CLIENT_COUNT),
              "every command of the table has a named member in basic_client (ESPAT_CLIENT_COMMANDS)");
#undef ESPAT_CLIENT_COUNT
}  // namespace detail

using client = basic_client<asio::serial_port>;

}  // namespace espat

// The out-of-class members, by concern.
#include <espat/client/impl/commands.hpp>
#include <espat/client/impl/io.hpp>
#include <espat/client/impl/reports.hpp>
#include <espat/client/impl/start_up.hpp>

#if defined(ESPAT_SEPARATE_COMPILATION)
// Built once in espat::compiled (espat/src.hpp): not instantiated again here.
#include <espat/detail/stacks.hpp>

#include <asio/ip/tcp.hpp>

ESPAT_DETAIL_CLIENT_STACK(extern template, ::asio::serial_port)
ESPAT_DETAIL_CLIENT_STACK(extern template, ::asio::ip::tcp::socket)
#endif
