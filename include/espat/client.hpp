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

// Per call: the descriptor's timeout unless given; busy extensions and re-sends.
struct call_options {
    std::optional<std::chrono::milliseconds> timeout{};
    int busy_retries = 3;
};

using listener_id = std::uint64_t;

namespace detail {
// A serial port: its line settings can be read and changed (asio::basic_serial_port on any
// executor, or a stream wrapping one). Start-up applies client_options::baud_rate and rts_cts
// to such a stream.
template <class S>
concept serial_line = requires(S& s, asio::serial_port_base::baud_rate& rate, asio::serial_port_base::flow_control& flow,
                               std::error_code& ec) {
    s.set_option(rate, ec);
    s.get_option(rate, ec);
    s.set_option(flow, ec);
    s.get_option(flow, ec);
};

// AT+CIPSEND and AT+CIPRECVDATA carry data beside their line: they have their own operations.
template <class C>
inline constexpr bool carries_data_v =
    std::is_same_v<C, commands::cipsend> || std::is_same_v<C, commands::cipsend_udp> ||
    std::is_same_v<C, commands::cipsendex> || std::is_same_v<C, commands::cipsendex_udp> ||
    std::is_same_v<C, commands::ciprecvdata>;
}  // namespace detail

template <class Client, class C>
class command_handle;

template <class AsyncStream>
class basic_client {
public:
    using stream_type = AsyncStream;
    // The client's strand: on the stream's executor, or for a stream on asio::any_io_executor
    // on the io_context executor inside it; the stream's own when it is on a strand
    // (detail/executors.hpp says why).
    using executor_type = detail::client_strand_t<typename AsyncStream::executor_type>;
    using default_token = asio::use_awaitable_t<>;
    template <class T>
    using result = tl::expected<T, std::error_code>;

    explicit basic_client(AsyncStream stream, client_options options = {})
        : stream_(std::move(stream)), strand_(detail::client_strand<typename AsyncStream::executor_type>::make(stream_.get_executor())), timer_(strand_),
          start_done_(strand_, asio::steady_timer::time_point::max()), session_(options.session), options_(options)
    {
        session_.set_report_sink(&basic_client::on_report, this);
    }
    basic_client(const basic_client&) = delete;
    basic_client& operator=(const basic_client&) = delete;

    [[nodiscard]] executor_type get_executor() const noexcept { return strand_; }
    AsyncStream& stream() noexcept { return stream_; }

    // ---- start-up ----

    // AT until OK (boot noise and echo tolerated; no answer: "+++" in case the module booted
    // into passthrough, see client_options::passthrough_escape_after), ATE1 (answers are anchored to their echo), AT+GMR (the firmware profile),
    // AT+SYSLOG=1 (ERROR from old firmware tolerated), and for a serial port the optional
    // line settings (client_options::baud_rate, rts_cts). Other operations wait until it is done. After an unexpected "ready" it runs
    // again by itself (client_options::restart_after_reset). A start while one runs (that
    // restart, say) waits for it and completes with its result. The token's signature is co_spawn's:
    // void(std::exception_ptr, result<firmware_profile>).
    template <class Token = default_token>
    auto async_start(Token&& token = {})
    {
        return asio::co_spawn(strand_, start_sequence(), std::forward<Token>(token));
    }
    asio::awaitable<result<firmware_profile>> start()
    {
        co_return co_await asio::co_spawn(strand_, start_sequence(), asio::use_awaitable);
    }
    // Waits for the start-up that runs, if one does (the restart a module reset set off, say),
    // without starting one; at once when none does. firmware() then describes the module as that
    // start-up found it (firmware_profile::left_passthrough, for one).
    asio::awaitable<void> wait_start_up()
    {
        co_await asio::co_spawn(strand_, start_up_done(), asio::use_awaitable);
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
                      "AT+CIPSEND / AT+CIPSENDEX / AT+CIPRECVDATA: use async_send_data / async_send_data_ex / async_recv_data");
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
    auto async_send_command(proto::command command, Token&& token = {})
    {
        return asio::async_initiate<Token, void(proto::command_result)>(
            [this](auto handler, proto::command c) {
                auto done = detail::make_completion<proto::command_result>(std::move(handler), detail::identity_transform{},
                                                                            strand_, arena_);
                const std::error_code refused = c.escape || commands::sendable_line(c.line)
                                                    ? std::error_code{}
                                                    : make_error_code(errc::invalid_argument);
                post_op(op_request{std::move(c), std::move(done), refused});
            },
            token, std::move(command));
    }
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
    auto async_send_data(std::optional<link_id> link, std::string data, call_options o = {}, Token&& token = {})
    {
        std::string line;
        std::error_code ec = make_error_code(errc::invalid_argument);
        const auto length = send_length::checked(static_cast<std::int64_t>(data.size()));
        if (length) ec = commands::encode_set<commands::cipsend>(line, cipsend_request{link, *length});
        const std::size_t n = data.size();
        return async_send_payload<commands::cipsend>(std::move(line), ec, std::move(data), n, link, o,
                                                     std::forward<Token>(token));
    }

    // AT+CIPSENDEX=[<link>,]<n>[,<remote IP>,<remote port>], the data after '>', SEND OK: the
    // number of the caller's bytes sent. The data goes whole: each "\0" in it is sent escaped
    // (commands::escape_sendex_data), so the module never ends it early, and <n> counts the
    // escaped bytes, which must be within the firmware's limit (else errc::invalid_argument).
    // `to`: a UDP link's remote for this datagram.
    template <class Token = default_token>
    auto async_send_data_ex(std::optional<link_id> link, std::string_view data,
                            std::optional<asio::ip::udp::endpoint> to = std::nullopt, call_options o = {},
                            Token&& token = {})
    {
        std::string wire = commands::escape_sendex_data(data);
        std::string line;
        std::error_code ec = make_error_code(errc::invalid_argument);
        const auto length = send_length::checked(static_cast<std::int64_t>(wire.size()));
        if (length && to)
            ec = commands::encode_set<commands::cipsendex_udp>(
                line, cipsendex_udp_request{link, *length, to->address(), to->port()});
        else if (length)
            ec = commands::encode_set<commands::cipsendex>(line, cipsendex_request{link, *length});
        return async_send_payload<commands::cipsendex>(std::move(line), ec, std::move(wire), data.size(), link, o,
                                                       std::forward<Token>(token));
    }

    // The data length the module takes after a send line it echoed (AT+CIPSEND, AT+CIPSENDEX,
    // their UDP forms), read with the command table as the simulator reads it; nullopt for
    // any other line. The session needs it when the echo is not the line written.
    static std::optional<std::size_t> echoed_send_length(std::string_view echoed)
    {
        using sends = commands::device_request<commands::cipsend, commands::cipsend_udp, commands::cipsendex,
                                               commands::cipsendex_udp>;
        const auto request = commands::decode_request<sends>(echoed);
        if (!request) return std::nullopt;
        return request->visit([](const auto& r) -> std::optional<std::size_t> {
            if constexpr (requires { r.params.length; }) return static_cast<std::size_t>(r.params.length.value());
            else return std::nullopt;
        });
    }

    // AT+CIPRECVDATA=[<link>,]<n> in passive receive mode: up to n bytes (fewer when fewer are
    // buffered; "" when none).
    template <class Token = default_token>
    auto async_recv_data(std::optional<link_id> link, std::size_t max, call_options o = {}, Token&& token = {})
    {
        std::string line;
        std::error_code ec = make_error_code(errc::invalid_argument);
        const auto length = recv_length::checked(static_cast<std::int64_t>(max));
        if (length) ec = commands::encode_set<commands::ciprecvdata>(line, ciprecvdata_request{link, *length});
        proto::command c{.line = std::move(line), .timeout = timeout_of<commands::ciprecvdata>(o), .recv_request = max,
                         .busy_retries = o.busy_retries};
        return async_initiate_result<std::string>(
            std::move(c), ec, {}, version_range{}, 0,
            [](std::size_t, proto::command_result&& r) -> result<std::string> {
                if (r.frames.size() == 1) return std::move(r.frames.front());
                std::string all;
                for (auto& f : r.frames) all += f;
                return all;
            },
            std::forward<Token>(token));
    }

    // AT+CIPSEND (AT+CIPMODE=1): done at '>'; then write_raw() and leave_passthrough().
    template <class Token = default_token>
    auto async_enter_passthrough(call_options o = {}, Token&& token = {})
    {
        std::string line;
        commands::encode_execute<commands::cipsend>(line);
        proto::command c{.line = std::move(line), .timeout = timeout_of<commands::cipsend>(o),
                         .busy_retries = o.busy_retries, .passthrough = true};
        return async_initiate_result<commands::nothing>(
            std::move(c), {}, {}, version_range{}, 0,
            [](std::size_t, proto::command_result&&) -> result<commands::nothing> { return commands::nothing{}; },
            std::forward<Token>(token));
    }
    void write_raw(std::string bytes)
    {
        asio::post(strand_, [this, b = std::move(bytes)]() mutable {
            session_.write_raw(std::move(b), now());
            pump();
        });
    }
    void leave_passthrough()
    {
        asio::post(strand_, [this] {
            session_.leave_passthrough(now());
            pump();
        });
    }

    // ---- reports ----

    // Called on the strand for every report, in arrival order, with views valid only during
    // the call: +IPD (payload included), <id>,CONNECT / CLOSED, WIFI ..., +LINK_CONN, ...,
    // and kind `ready` when the module reset. A listener must not block; it may start
    // operations (they begin after it returns) and remove listeners.
    listener_id add_report_listener(std::function<void(const proto::event&)> listener)
    {
        listeners_.push_back({next_listener_, std::move(listener)});
        return next_listener_++;
    }
    void remove_report_listener(listener_id id)
    {
        for (auto& l : listeners_)
            if (l.first == id) l.second = nullptr;  // erased after the current delivery
        if (delivering_ == 0) compact_listeners();
    }

    // The next Wi-Fi event (WIFI CONNECTED / GOT IP / DISCONNECT, +STA_CONNECTED, ...), from a
    // bounded queue. Cancelling the wait takes no event from the queue.
    template <class Token = default_token>
    auto async_next_wifi_event(Token&& token = {})
    {
        return asio::async_initiate<Token, void(result<wifi_event>)>(
            [this](auto handler) {
                auto done = detail::make_completion<result<wifi_event>>(std::move(handler), detail::identity_transform{},
                                                                        strand_, arena_);
                const std::uint64_t ticket = next_ticket_.fetch_add(1, std::memory_order_relaxed);
                connect_cancellation(done->cancellation_slot(), ticket, &basic_client::cancel_wifi_waiter);
                asio::post(strand_, [this, ticket, d = std::move(done)]() mutable { add_wifi_waiter(ticket, std::move(d)); });
            },
            token);
    }

    // ---- observability ----

    // Starts (or restarts) recording both directions in the transcript format; passwords of
    // AT+CWJAP / AT+CWSAP are replaced by ******** (in the echo too).
    void record_transcript(bool on = true)
    {
        if (on) transcript_.emplace();
        else transcript_.reset();
    }
    [[nodiscard]] std::string transcript() const { return transcript_ ? *transcript_ : std::string{}; }

    [[nodiscard]] client_stats stats() const
    {
        client_stats s = stats_;
        s.session = session_.stats();
        return s;
    }
    [[nodiscard]] const std::optional<firmware_profile>& firmware() const noexcept { return profile_; }
    // Why the start-up that a module reset set off failed ({} if it did not).
    [[nodiscard]] std::error_code last_restart_error() const noexcept { return last_restart_error_; }
    // The last command that failed (other than by cancellation): its diagnostics.
    [[nodiscard]] const std::optional<command_failure>& last_failure() const noexcept { return last_failure_; }
    // Whether the module's firmware has command C (true until start() read the version).
    template <class C>
    [[nodiscard]] bool supports() const noexcept
    {
        return version_range::template of<C>().contains(profile_);
    }

    // Stops reading and writing; pending operations fail with asio::error::operation_aborted.
    void close()
    {
        asio::post(strand_, [this] { shut_down(asio::error::operation_aborted); });
    }

    // ---- every command of the table by name: esp.cipdomain("example.com"), esp.cwmode.query() ----
#define ESPAT_CLIENT_COMMANDS(X)                                                                                        \
    X(at) X(ate0) X(ate1) X(rst) X(restore) X(gmr) X(sysstore) X(syslog) X(sysmsg) X(uart_cur) X(cwmode) X(cwjap)       \
    X(cwqap) X(cwlap) X(cipsta) X(cwsap) X(cipap) X(cipstatus) X(cipstate) X(cipdomain) X(cipstart_tcp)                 \
    X(cipstart_udp) X(cipstart_ssl) X(cipstartex_tcp) X(cipstartex_udp) X(cipstartex_ssl) X(cipsend) X(cipsend_udp)     \
    X(cipsendex) X(cipsendex_udp) X(cipclose) X(cifsr) X(cipmux) X(cipserver) X(cipserver_ssl) X(cipservermaxconn)      \
    X(cipmode) X(savetranslink_tcp) X(savetranslink_ssl) X(savetranslink_udp) X(cipsto) X(cipsntpcfg) X(cipsntptime)    \
    X(ciupdate) X(cipdinfo) X(cipsslcconf) X(cipsslccn) X(cipsslcsni) X(cipsslcalpn) X(cipsslcpsk) X(cipreconnintv)     \
    X(ciprecvmode) X(ciprecvtype) X(ciprecvdata) X(ciprecvlen) X(ping) X(cipdns) X(ciptcpopt) X(rfpower) X(cwlapopt)    \
    X(cwstate) X(cwdhcp) X(cwautoconn) X(cipstamac) X(cipapmac) X(cipsslsize)
#define ESPAT_CLIENT_HANDLE(name) command_handle<basic_client, commands::name> name{*this};
    ESPAT_CLIENT_COMMANDS(ESPAT_CLIENT_HANDLE)
#undef ESPAT_CLIENT_HANDLE

    // The allocator of the client's own handlers and completions: its arena (handler_arena.hpp).
    [[nodiscard]] detail::handler_allocator<void> allocator() const noexcept { return detail::handler_allocator<void>(arena_); }

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
    static std::string redacted_line(const typename C::set::request& request)
    {
        if constexpr (requires { request.password; }) {
            auto copy = request;
            copy.password = std::string("********");
            std::string line;
            if (!commands::encode_set<C>(line, copy)) return line;
            return std::string(C::command) + "=<redacted>\r\n";
        } else {
            return {};
        }
    }

    template <class Form>
    result<typename Form::response::value_type> decode_typed(proto::command_result&& r)
    {
        if (r.ec) return tl::make_unexpected(r.ec);
        std::array<commands::response_line, 16> small;
        std::vector<commands::response_line> large;
        std::span<const commands::response_line> lines;
        if (r.lines.size() <= small.size()) {
            for (std::size_t i = 0; i < r.lines.size(); ++i) small[i] = {r.lines[i].name, r.lines[i].args};
            lines = std::span<const commands::response_line>(small.data(), r.lines.size());
        } else {
            for (const auto& l : r.lines) large.push_back({l.name, l.args});
            lines = large;
        }
        auto value = commands::decode_response<Form>(lines);
        if (!value) {
            last_failure_ = command_failure{last_completed_line_, make_error_code(errc::protocol_error), r.module_error,
                                            std::move(r.diagnostics), std::move(r.lines)};
            return tl::make_unexpected(make_error_code(errc::protocol_error));
        }
        session_.recycle(std::move(r.lines));  // the value owns what it took from them
        return std::move(*value);
    }

    // A command whose data follows its prompt (AT+CIPSEND, AT+CIPSENDEX): completes with `n`,
    // the caller's byte count, at SEND OK.
    template <class C, class Token>
    auto async_send_payload(std::string line, std::error_code refused, std::string payload, std::size_t n,
                            std::optional<link_id> link, const call_options& o, Token&& token)
    {
        proto::command c{.line = std::move(line), .timeout = timeout_of<C>(o), .payload = std::move(payload),
                         .busy_retries = o.busy_retries, .link = link ? static_cast<int>(link->value()) : 0,
                         .data_length = &basic_client::echoed_send_length};
        return async_initiate_result<std::size_t>(
            std::move(c), refused, {}, version_range{}, n,
            [](std::size_t sent, proto::command_result&&) -> result<std::size_t> { return sent; },
            std::forward<Token>(token));
    }

    template <class C, class Form, class Token>
    auto async_typed(std::string line, std::error_code refused, std::string shown, const call_options& o, Token&& token)
    {
        using value_type = typename Form::response::value_type;
        proto::command c{.line = std::move(line), .timeout = timeout_of<C>(o), .busy_retries = o.busy_retries};
        return async_initiate_result<value_type>(
            std::move(c), refused, std::move(shown), version_range::template of<C>(), 0,
            [this](std::size_t, proto::command_result&& r) { return decode_typed<Form>(std::move(r)); },
            std::forward<Token>(token));
    }

    // Initiates one command whose handler takes result<T>, made by `finish` on the strand.
    template <class T, class Finish, class Token>
    auto async_initiate_result(proto::command c, std::error_code refused, std::string shown, version_range versions,
                               std::size_t extra, Finish finish, Token&& token)
    {
        return asio::async_initiate<Token, void(result<T>)>(
            [this](auto handler, proto::command c, std::error_code refused, std::string shown, version_range versions,
                   std::size_t extra, Finish finish) {
                auto transform = [finish = std::move(finish), extra](proto::command_result&& r) mutable -> result<T> {
                    if (r.ec) return tl::make_unexpected(r.ec);
                    return finish(extra, std::move(r));
                };
                auto done = detail::make_completion<proto::command_result>(std::move(handler), std::move(transform), strand_, arena_);
                post_op(op_request{std::move(c), std::move(done), refused, std::move(shown), versions});
            },
            token, std::move(c), refused, std::move(shown), versions, extra, std::move(finish));
    }

    // Internal (start-up) commands: on the strand, passing the gate. Not a coroutine itself, so
    // the initiation's lambda is never in a full-expression with co_await (g++ 12).
    // The line is a view: no temporary with a destructor in the callers' co_await expressions.
    asio::awaitable<proto::command_result> internal_command(std::string_view line, std::chrono::milliseconds timeout)
    {
        return asio::async_initiate<const asio::use_awaitable_t<>&, void(proto::command_result)>(
            [this](auto handler, proto::command c) {
                auto done = detail::make_completion<proto::command_result>(std::move(handler), detail::identity_transform{},
                                                                            strand_, arena_);
                op_request req{std::move(c), std::move(done)};
                req.internal = true;
                post_op(std::move(req));
            },
            asio::use_awaitable, proto::command{.line = std::string(line), .timeout = timeout});
    }

    // "+++" alone between guard times, through the session like any command.
    asio::awaitable<proto::command_result> internal_escape()
    {
        return asio::async_initiate<const asio::use_awaitable_t<>&, void(proto::command_result)>(
            [this](auto handler) {
                auto done = detail::make_completion<proto::command_result>(std::move(handler), detail::identity_transform{},
                                                                            strand_, arena_);
                op_request req{proto::command{.line = "+++", .escape = true}, std::move(done)};
                req.internal = true;
                post_op(std::move(req));
            },
            asio::use_awaitable);
    }

    // In the caller's context (the initiation): the caller's cancellation slot may only be
    // used there, so it is connected here, and a cancellation is posted to the strand after
    // the enqueue posted here.
    void post_op(op_request req)
    {
        req.ticket = next_ticket_.fetch_add(1, std::memory_order_relaxed);
        connect_cancellation(req.done->cancellation_slot(), req.ticket, &basic_client::cancel_op);
        asio::post(strand_, with_arena([this, r = std::move(req)]() mutable { enqueue(std::move(r)); }));
    }

    void connect_cancellation(asio::cancellation_slot slot, std::uint64_t ticket, void (basic_client::*cancel)(std::uint64_t))
    {
        if (!slot.is_connected()) return;
        slot.assign([this, ticket, cancel](asio::cancellation_type type) {
            if (type != asio::cancellation_type::none)
                asio::post(strand_, with_arena([this, ticket, cancel] { (this->*cancel)(ticket); }));
        });
    }

    // ---- on the strand from here on ----

    void enqueue(op_request req)
    {
        ensure_running();
        std::error_code refuse = req.refused;
        if (!refuse && fatal_) refuse = fatal_;
        if (!refuse && !req.versions.contains(profile_)) refuse = make_error_code(errc::not_supported);
        // The firmware's send limit is known only here, on the strand, once start-up read it.
        if (!refuse && profile_ && req.command.payload && req.command.payload->size() > profile_->max_send_length)
            refuse = make_error_code(errc::invalid_argument);
        if (refuse) {
            proto::command_result r;
            r.ec = refuse;
            ++stats_.failures;
            req.done->complete(std::move(r));
            return;
        }
        op_entry entry{req.ticket, 0, std::nullopt, std::move(req.done), std::move(req.shown_line), {}};
        if (entry.line.empty()) entry.line = req.command.line;
        else entry.secret = req.command.line;
        ops_.push_back(std::move(entry));
        if (gate_closed_ && !req.internal) ops_.back().held = std::move(req.command);
        else submit(ops_.back(), std::move(req.command));
        pump();
    }

    void submit(op_entry& e, proto::command c)
    {
        ++stats_.commands;
        e.id = session_.submit(std::move(c), now());
    }

    void open_gate()
    {
        gate_closed_ = false;
        for (auto& e : ops_)
            if (e.held) {
                proto::command c = std::move(*e.held);
                e.held.reset();
                submit(e, std::move(c));
            }
        pump();
    }

    void cancel_op(std::uint64_t ticket)
    {
        auto it = std::find_if(ops_.begin(), ops_.end(), [&](const op_entry& e) { return e.ticket == ticket; });
        if (it == ops_.end()) return;
        if (it->held) {
            proto::command_result r;
            r.ec = make_error_code(errc::cancelled);
            finish_op(it, std::move(r));
            return;
        }
        session_.cancel(it->id, now());
        pump();
    }

    void finish_op(typename std::vector<op_entry>::iterator it, proto::command_result r)
    {
        op_entry e = std::move(*it);
        ops_.erase(it);
        if (r.ec) {
            ++stats_.failures;
            if (r.ec == errc::cancelled) ++stats_.cancellations;
            else last_failure_ = command_failure{strip(e.line), r.ec, r.module_error, r.diagnostics, r.lines};
        }
        last_completed_line_ = strip(e.line);
        e.done->complete(std::move(r));
    }

    static std::string strip(std::string_view line)
    {
        while (line.ends_with('\n') || line.ends_with('\r')) line.remove_suffix(1);
        return std::string(line);
    }

    void ensure_running()
    {
        if (running_ || fatal_) return;
        running_ = true;
        start_read();
    }

    void pump()
    {
        while (auto a = session_.next_action()) {
            if (auto* w = std::get_if<proto::write_bytes>(&*a)) {
                start_write(std::move(w->bytes));
            } else if (auto* t = std::get_if<proto::arm_timer>(&*a)) {
                arm(t->deadline);
            } else if (auto* c = std::get_if<proto::complete>(&*a)) {
                auto it = std::find_if(ops_.begin(), ops_.end(),
                                       [&](const op_entry& e) { return !e.held && e.id == c->id; });
                if (it != ops_.end()) finish_op(it, std::move(c->result));
            } else if (auto* r = std::get_if<proto::report>(&*a)) {
                deliver(as_event(r->event));  // only without a sink; kept for completeness
            } else {
                on_module_reset();
            }
        }
    }

    static proto::event as_event(const proto::owned_event& o)
    {
        proto::event e;
        e.kind = o.kind;
        e.link = static_cast<std::int8_t>(o.link);
        e.remote_port = o.remote_port;
        e.value = o.value;
        e.text = o.text;
        e.name = o.name;
        e.args = o.args;
        e.remote_host = o.remote_host;
        e.payload = o.payload;
        return e;
    }

    void start_read()
    {
        auto on_bytes = [this](std::error_code ec, std::size_t n) { on_read(ec, n); };
        stream_.async_read_some(asio::buffer(read_buffer_), with_arena(asio::bind_executor(strand_, on_bytes)));
    }

    void on_read(std::error_code ec, std::size_t n)
    {
        if (fatal_) return;
        if (n > 0) {
            const std::string_view bytes(read_buffer_.data(), n);
            stats_.bytes_in += n;
            record(proto::transcript_line::direction::device, bytes);
            session_.on_bytes(bytes, now());
            pump();
        }
        if (ec) return shut_down(ec);
        start_read();
    }

    void start_write(std::string bytes)
    {
        out_ = std::move(bytes);
        stats_.bytes_out += out_.size();
        record(proto::transcript_line::direction::host, out_);
        auto written = [this](std::error_code ec, std::size_t) {
            if (fatal_) return;
            if (ec) return shut_down(ec);
            session_.on_write_done(now());
            pump();
        };
        asio::async_write(stream_, asio::buffer(out_), with_arena(asio::bind_executor(strand_, written)));
    }

    // The session's deadline, kept lazily: a wait is replaced only for an earlier deadline.
    // A later one (the next command's) or none is left to the pending wait, which on expiry
    // hands the session the time (it ignores an early one) and then waits for what the session
    // wants by then. So a command in steady state costs no timer operation: cancelling a wait
    // puts its handler through the strand, which allocates.
    void arm(clock::time_point deadline)
    {
        wanted_deadline_ = deadline;
        if (deadline == clock::time_point::max()) return;
        if (timer_waiting_ && timer_.expiry() <= deadline) return;
        timer_.expires_at(deadline);  // a pending wait ends with operation_aborted
        start_timer_wait();
    }

    void start_timer_wait()
    {
        timer_waiting_ = true;
        const std::uint64_t wait = ++timer_waits_;
        auto expired = [this, wait](std::error_code ec) {
            if (ec || fatal_ || wait != timer_waits_) return;  // replaced by a newer wait, or closed
            timer_waiting_ = false;
            session_.on_timer(now());
            pump();
            if (!timer_waiting_ && wanted_deadline_ != clock::time_point::max()) {
                timer_.expires_at(wanted_deadline_);
                start_timer_wait();
            }
        };
        timer_.async_wait(with_arena(asio::bind_executor(strand_, expired)));
    }

    // The stream failed or was closed: everything pending fails with `ec`, later calls too.
    void shut_down(std::error_code ec)
    {
        if (fatal_) return;
        fatal_ = ec;
        timer_.cancel();
        start_done_.cancel();
        std::error_code ignored;
        if constexpr (requires { stream_.close(ignored); }) stream_.close(ignored);
        else stream_.close();
        while (!ops_.empty()) {
            proto::command_result r;
            r.ec = ec;
            finish_op(ops_.begin(), std::move(r));
        }
        for (auto& w : wifi_waiters_) w.second->complete(tl::make_unexpected(ec));
        wifi_waiters_.clear();
    }

    // ---- reports ----

    static void on_report(void* self, const proto::event& e) { static_cast<basic_client*>(self)->deliver(e); }

    void deliver(const proto::event& e)
    {
        if (auto w = wifi_event_of(e)) push_wifi_event(std::move(*w));
        ++delivering_;
        for (std::size_t i = 0; i < listeners_.size(); ++i)  // a listener may add listeners
            if (listeners_[i].second) listeners_[i].second(e);
        if (--delivering_ == 0) compact_listeners();
    }

    void compact_listeners()
    {
        std::erase_if(listeners_, [](const auto& l) { return !l.second; });
    }

    void on_module_reset()
    {
        module_uart_reset_ = true;  // AT+UART_CUR lasts until a reset
        proto::event ready;
        ready.kind = proto::event_kind::ready;
        ready.text = "ready";
        deliver(ready);
        // A start-up in progress sees device_reset and starts over by itself.
        if (started_ && options_.restart_after_reset && !starting_) {
            gate_closed_ = true;  // from now on: nothing of the user's before the module is set up again
            asio::co_spawn(strand_, start_sequence(), [this](std::exception_ptr, result<firmware_profile> r) {
                last_restart_error_ = r ? std::error_code{} : r.error();
            });
        }
    }

    void push_wifi_event(wifi_event e)
    {
        if (!wifi_waiters_.empty()) {
            auto w = std::move(wifi_waiters_.front());
            wifi_waiters_.pop_front();
            w.second->complete(std::move(e));
            return;
        }
        if (wifi_events_.size() >= options_.wifi_event_capacity && !wifi_events_.empty()) {
            wifi_events_.pop_front();
            ++stats_.wifi_events_dropped;
        }
        if (options_.wifi_event_capacity > 0) wifi_events_.push_back(std::move(e));
    }

    void add_wifi_waiter(std::uint64_t ticket, wifi_completion done)
    {
        if (fatal_) return done->complete(tl::make_unexpected(fatal_));
        if (!wifi_events_.empty()) {
            wifi_event e = std::move(wifi_events_.front());
            wifi_events_.pop_front();
            return done->complete(std::move(e));
        }
        wifi_waiters_.emplace_back(ticket, std::move(done));
    }

    void cancel_wifi_waiter(std::uint64_t ticket)
    {
        auto it = std::find_if(wifi_waiters_.begin(), wifi_waiters_.end(), [&](const auto& w) { return w.first == ticket; });
        if (it == wifi_waiters_.end()) return;  // already given an event
        auto done = std::move(it->second);
        wifi_waiters_.erase(it);
        done->complete(tl::make_unexpected(make_error_code(errc::cancelled)));
    }

    // ---- transcript ----

    void record(proto::transcript_line::direction dir, std::string_view bytes)
    {
        if (!transcript_) return;
        std::string shown(bytes);
        for (const auto& e : ops_) {
            if (e.secret.empty()) continue;
            // The line as written, and its echo: both without the line end.
            const std::string secret = strip(e.secret);
            const std::string replacement = strip(e.line);
            for (std::size_t pos = shown.find(secret); pos != std::string::npos; pos = shown.find(secret, pos)) {
                shown.replace(pos, secret.size(), replacement);
                pos += replacement.size();
            }
        }
        proto::append_transcript_line(*transcript_, proto::transcript_line{dir, std::move(shown)});
    }

    // ---- start-up ----

    asio::awaitable<result<firmware_profile>> start_sequence()
    {
        // One start-up at a time: a second would interleave its commands with the first's. A
        // caller that comes while one runs (a script's start() during the restart a module
        // reset set off, say) waits for it and gets its result.
        if (starting_) {
            const std::uint64_t joined = starts_finished_;
            std::error_code woken;
            co_await start_done_.async_wait(asio::redirect_error(asio::use_awaitable, woken));
            // The start-up joined has ended, even if another began before this resumed.
            if (starts_finished_ == joined || !last_start_)
                co_return tl::make_unexpected(fatal_ ? fatal_ : make_error_code(errc::cancelled));
            co_return *last_start_;
        }
        started_ = true;
        starting_ = true;
        gate_closed_ = true;
        ensure_running();
        result<firmware_profile> r = tl::make_unexpected(make_error_code(errc::device_reset));
        // A caller that cancels start() makes the next co_await here throw; the start-up must
        // still end (gate open, joiners woken), or every later command and start() would wait
        // for good. Its result is then errc::cancelled, and start() may be called again.
        std::exception_ptr thrown;
        try {
            // A reset during start-up starts it over, a few times.
            for (int round = 0; round < 3; ++round) {
                ++stats_.starts;
                r = co_await start_steps();
                if (r || r.error() != errc::device_reset) break;
            }
        } catch (const std::system_error& e) {
            r = tl::make_unexpected(e.code() == asio::error::operation_aborted ? make_error_code(errc::cancelled) : e.code());
        } catch (...) {
            thrown = std::current_exception();
            r = tl::make_unexpected(make_error_code(errc::cancelled));
        }
        starting_ = false;
        last_start_ = r;
        ++starts_finished_;
        start_done_.cancel();
        if (!fatal_) open_gate();
        if (thrown) std::rethrow_exception(thrown);
        co_return r;
    }

    asio::awaitable<void> start_up_done()
    {
        // The gate closes with the reset's "ready", before the restart's coroutine runs.
        while ((starting_ || gate_closed_) && !fatal_) {
            std::error_code woken;
            co_await start_done_.async_wait(asio::redirect_error(asio::use_awaitable, woken));
        }
    }

    asio::awaitable<result<firmware_profile>> start_steps()
    {
        using std::chrono::milliseconds;
        // The module's UART is back at its defaults after a reset: so is the port, before the
        // probes (the line settings step below sets both again).
        if constexpr (detail::serial_line<AsyncStream>) {
            if (std::exchange(module_uart_reset_, false)) restore_port();
        }
        // AT until OK: a booting module is silent or prints noise; a stray byte before "AT"
        // makes it answer ERROR. Echo (ATE1) is fine: the parser knows echoes.
        std::error_code probe_error = make_error_code(errc::timeout);
        bool alive = false;
        int escaped_after = -1;  // the probe after which "+++" was sent
        bool left_passthrough = false;
        for (int attempt = 0; attempt < options_.start_attempts && !alive; ++attempt) {
            proto::command_result probe = co_await internal_command("AT\r\n", options_.start_probe_timeout);
            if (fatal_) co_return tl::make_unexpected(fatal_);
            alive = !probe.ec;
            probe_error = probe.ec;
            // The first probe after "+++" answered OK: the module was in passthrough. (In
            // command mode it would have read "+++AT" and answered ERROR.)
            if (alive && escaped_after >= 0 && attempt == escaped_after + 1) left_passthrough = true;
            if (!alive && escaped_after < 0 && probe.ec == errc::timeout && options_.passthrough_escape_after > 0 &&
                attempt + 1 >= options_.passthrough_escape_after) {
                escaped_after = attempt;
                proto::command_result escape = co_await internal_escape();
                if (fatal_) co_return tl::make_unexpected(fatal_);
                if (escape.ec == errc::device_reset) co_return tl::make_unexpected(escape.ec);
            }
        }
        if (!alive) co_return tl::make_unexpected(probe_error);

        // Echo on: the session takes a command's answer from after the echo of its line, and an
        // echo that is not the line written tells that the line was damaged on the way.
        proto::command_result echo_on = co_await internal_command("ATE1\r\n", milliseconds{commands::ate1::timeout_ms});
        if (echo_on.ec) co_return tl::make_unexpected(echo_on.ec);

        proto::command_result gmr = co_await internal_command("AT+GMR\r\n", milliseconds{commands::gmr::timeout_ms});
        if (gmr.ec) co_return tl::make_unexpected(gmr.ec);
        last_completed_line_ = "AT+GMR";
        auto info = decode_typed<typename commands::gmr::execute>(std::move(gmr));
        if (!info) co_return tl::make_unexpected(info.error());

        // ERR CODE lines before ERROR; firmware without AT+SYSLOG answers ERROR, which is fine.
        proto::command_result syslog = co_await internal_command("AT+SYSLOG=1\r\n", milliseconds{commands::syslog::timeout_ms});
        if (syslog.ec == errc::device_reset || syslog.ec == errc::timeout) co_return tl::make_unexpected(syslog.ec);

        std::optional<line_settings> line;
        if constexpr (detail::serial_line<AsyncStream>) {
            result<line_settings> applied = co_await apply_line_settings();
            if (!applied) co_return tl::make_unexpected(applied.error());
            line = *applied;
        }
        profile_ = firmware_profile::of(std::move(*info));
        profile_->left_passthrough = left_passthrough;
        profile_->line = line;
        co_return *profile_;
    }

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
    // with 0, "AT" again); when that fails too, or without flow control, the port goes back to
    // its old settings, and the result is an error if a rate change was asked for or the line
    // does not answer even then.
    asio::awaitable<result<line_settings>> apply_line_settings()
    {
        serial_base::baud_rate old_rate;
        serial_base::flow_control old_flow;
        std::error_code rate_ec, flow_ec;
        stream_.get_option(old_rate, rate_ec);
        stream_.get_option(old_flow, flow_ec);
        const std::uint32_t old = rate_ec ? 0 : old_rate.value();
        if (!options_.baud_rate && !options_.rts_cts)  // nothing asked: the line as the port has it
            co_return line_settings{old, !flow_ec && old_flow.value() == serial_base::flow_control::hardware,
                                    flow_control_refusal::none};

        const auto refused = [old](flow_control_refusal why) -> result<line_settings> {
            return line_settings{old, false, why};
        };
        // A port whose settings cannot be read cannot be changed in step with the module.
        if (rate_ec || flow_ec) {
            if (options_.baud_rate) co_return tl::make_unexpected(rate_ec ? rate_ec : flow_ec);
            co_return refused(flow_control_refusal::port);
        }
        const std::uint32_t rate = options_.baud_rate.value_or(old);
        const auto checked = uart_baud_rate::checked(rate);
        if (!checked) {
            if (options_.baud_rate) co_return tl::make_unexpected(make_error_code(errc::invalid_argument));
            co_return refused(flow_control_refusal::port);  // the port's rate is none AT+UART_CUR can carry
        }
        if (!port_before_) port_before_ = port_settings{old_rate, old_flow};

        bool flow = options_.rts_cts;
        flow_control_refusal why = flow_control_refusal::none;
        if (flow) {
            std::error_code probe_ec;
            set_port_flow(true, probe_ec);
            std::error_code ignored;
            stream_.set_option(old_flow, ignored);
            if (probe_ec) {
                flow = false;
                why = flow_control_refusal::port;
                if (!options_.baud_rate) co_return refused(why);  // the module is told nothing
            }
        }

        proto::command_result set = co_await send_uart_cur(*checked, flow);
        if (set.ec && flow && set.final_result == proto::event_kind::error) {
            flow = false;  // the module has no RTS/CTS (or will not use them): it keeps its settings
            why = flow_control_refusal::module;
            if (!options_.baud_rate) co_return refused(why);
            set = co_await send_uart_cur(*checked, false);
        }
        if (set.ec) co_return tl::make_unexpected(set.ec);

        // The module switched after its OK: the port follows.
        std::error_code ec;
        stream_.set_option(serial_base::baud_rate(rate), ec);
        if (!ec) set_port_flow(flow, ec);
        const bool port_set = !ec;
        if (port_set) {
            const bool works = co_await line_verified(flow);
            if (works) co_return line_settings{rate, flow, why};
            ec = make_error_code(errc::timeout);
        }

        if (flow) {
            // Off again on both sides, at the new rate. Probes still waiting in the port for a
            // CTS that never came must not reach the module later, as answers to nothing.
            why = port_set ? flow_control_refusal::verification : flow_control_refusal::port;
            discard_output();
            std::error_code ignored;
            set_port_flow(false, ignored);
            proto::command_result off = co_await send_uart_cur(*checked, false);
            if (!off.ec) {
                const bool works = co_await line_verified(false);
                if (works) co_return line_settings{rate, false, why};
            }
        }

        // The port as it was: the module may not have switched at all.
        std::error_code ignored;
        discard_output();
        stream_.set_option(old_rate, ignored);
        stream_.set_option(old_flow, ignored);
        proto::command_result probe = co_await internal_command("AT\r\n", options_.start_probe_timeout);
        if (!options_.baud_rate && !probe.ec) co_return refused(why);
        co_return tl::make_unexpected(ec);
    }

    // AT+UART_CUR=<rate>,8,1,0,<3 or 0>: the module answers at its old settings, then switches.
    asio::awaitable<proto::command_result> send_uart_cur(uart_baud_rate rate, bool rts_cts)
    {
        std::string line;
        const std::error_code ec = commands::encode_set<commands::uart_cur>(
            line, uart_cur_request{rate, uart_data_bits::eight, uart_stop_bits::one, uart_parity::none,
                                   rts_cts ? uart_flow_control::rts_cts : uart_flow_control::none});
        if (ec) {
            proto::command_result refused;
            refused.ec = ec;
            co_return refused;
        }
        proto::command_result r = co_await internal_command(line, std::chrono::milliseconds{commands::uart_cur::timeout_ms});
        co_return r;
    }

    // "AT" answers within client_options::baud_verify_attempts tries; with flow control, the
    // module also says it uses it (AT+UART_CUR?; firmware that does not answer the query is
    // taken at its "AT").
    asio::awaitable<bool> line_verified(bool rts_cts)
    {
        bool answered = false;
        for (int attempt = 0; attempt < options_.baud_verify_attempts && !answered && !fatal_; ++attempt) {
            proto::command_result probe = co_await internal_command("AT\r\n", options_.start_probe_timeout);
            answered = !probe.ec;
        }
        if (!answered || !rts_cts) co_return answered;
        proto::command_result query = co_await internal_command("AT+UART_CUR?\r\n", std::chrono::milliseconds{commands::uart_cur::timeout_ms});
        if (query.ec) co_return query.final_result == proto::event_kind::error;
        auto config = decode_typed<typename commands::uart_cur::query>(std::move(query));
        co_return config && config->flow_control == uart_flow_control::rts_cts;
    }

    // The port's flow control set, then read back: `ec` says when the port refused it or did
    // not keep it (a driver may drop CRTSCTS and still report success).
    void set_port_flow(bool hardware, std::error_code& ec)
    {
        const serial_base::flow_control wanted(hardware ? serial_base::flow_control::hardware : serial_base::flow_control::none);
        stream_.set_option(wanted, ec);
        if (ec) return;
        serial_base::flow_control now;
        stream_.get_option(now, ec);
        if (!ec && now.value() != wanted.value()) ec = make_error_code(errc::not_supported);
    }

    // A module reset put its UART back to its defaults: the port goes back to what it was
    // before start-up first changed it.
    void restore_port()
    {
        if (!port_before_) return;
        std::error_code ignored;
        discard_output();
        stream_.set_option(port_before_->rate, ignored);
        stream_.set_option(port_before_->flow, ignored);
    }

    // Drops bytes written to the port but not yet sent (held back by flow control).
    void discard_output()
    {
#if !defined(_WIN32)
        if constexpr (requires { stream_.native_handle(); }) ::tcflush(stream_.native_handle(), TCOFLUSH);
#endif
    }

    // First, so it is made before anything that may allocate from it.
    std::shared_ptr<detail::handler_arena> arena_ = std::make_shared<detail::handler_arena>();
    AsyncStream stream_;
    executor_type strand_;
    asio::steady_timer timer_;
    clock::time_point wanted_deadline_ = clock::time_point::max();  // the session's; see arm()
    std::uint64_t timer_waits_ = 0;                                // numbers them, so a stale one is known
    bool timer_waiting_ = false;
    asio::steady_timer start_done_;  // never expires: cancelled when a start-up ends, to wake its joiners
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
    bool started_ = false;
    bool starting_ = false;
    bool gate_closed_ = false;
    // The serial line (serial_line streams): the port before start-up changed it, and whether
    // a module reset put the module's UART back to its defaults since the last start-up.
    std::optional<port_settings> port_before_;
    bool module_uart_reset_ = false;
};

// esp.NAME: the forms of one command. esp.cipdomain("example.com") builds the set form's
// request from its arguments; esp.cipstatus() runs the one form that takes none.
template <class Client, class C>
class command_handle {
public:
    using descriptor = C;
    explicit command_handle(Client& client) noexcept : client_(&client) {}
    command_handle(const command_handle&) = delete;
    command_handle& operator=(const command_handle&) = delete;

    template <class Token = typename Client::default_token>
        requires commands::has_test<C>
    auto test(call_options o = {}, Token&& token = {})
    {
        return client_->template async_test<C>(o, std::forward<Token>(token));
    }
    template <class Token = typename Client::default_token>
        requires commands::has_query<C>
    auto query(call_options o = {}, Token&& token = {})
    {
        return client_->template async_query<C>(o, std::forward<Token>(token));
    }
    template <class Token = typename Client::default_token>
        requires commands::has_execute<C>
    auto execute(call_options o = {}, Token&& token = {})
    {
        return client_->template async_execute<C>(o, std::forward<Token>(token));
    }
    template <class D = C, class Token = typename Client::default_token>
        requires commands::has_set<D>
    auto set(const typename D::set::request& request, call_options o = {}, Token&& token = {})
    {
        return client_->template async_set<D>(request, o, std::forward<Token>(token));
    }

    template <class... Args>
    auto operator()(Args&&... args)
    {
        if constexpr (sizeof...(Args) == 0) {
            static_assert(commands::has_query<C> != commands::has_execute<C>,
                          "this command has both a query and an execute form (or neither): call .query() or .execute()");
            if constexpr (commands::has_execute<C>) return execute();
            else return query();
        } else {
            static_assert(commands::has_set<C>, "this command has no set form");
            return set(typename C::set::request{std::forward<Args>(args)...});
        }
    }

private:
    Client* client_;
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
