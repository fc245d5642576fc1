// espat/sim/module_core.hpp — the simulated ESP-AT module's implementation (sim::module, in
// module.hpp, is its interface). A simulated ESP-AT module. It reads command lines from the host,
// decodes them with the command table (espat/commands/device.hpp: the same descriptors the
// host encodes with, so the two cannot disagree on syntax), runs them against the host's real
// network stack (links are real sockets, see links.hpp) and writes the answers, encoded by the
// table, to an output queue. It knows nothing of its transport: serve() runs it over any Asio
// stream (sim::pipe, a pty's stream_descriptor, a TCP socket), or a caller feeds
// on_host_bytes() and drains next_output() itself.
//
// Everything runs on one executor (one io_context thread); nothing locks.
#pragma once

#include <espat/config.hpp>

#include <espat/commands/device.hpp>
#include <espat/commands/table.hpp>
#include <espat/sim/links.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/module_options.hpp>
#include <espat/sim/personality.hpp>
#include <espat/sim/tls.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace espat::sim {

namespace detail {

namespace cmd = espat::commands;

template <class C>
using exec_of = cmd::request_of<C, typename C::execute>;
template <class C>
using query_of = cmd::request_of<C, typename C::query>;
template <class C>
using set_of = cmd::request_of<C, typename C::set>;

// ESP-AT's ERR CODE values: 0x01 <sub code> 0000 (esp_at.h's ESP_AT_SUB_*).
namespace err_code {
inline constexpr std::uint32_t parameter_parse_failed = 0x01080000;
inline constexpr std::uint32_t unsupported_command = 0x01090000;
inline constexpr std::uint32_t execution_failed = 0x010a0000;
inline constexpr std::uint32_t still_processing = 0x010b0000;
}  // namespace err_code

// Whether the word of a command line names a command of the table (its parameters then did
// not parse) or nothing the module knows.
inline bool known_command_word(std::string_view line)
{
    const auto word = cmd::detail::split_command_line(line).word;
    return []<class... C>(cmd::detail::type_list<C...>*, std::string_view w) {
        return ((C::command == w) || ...);
    }(static_cast<cmd::all_command_list*>(nullptr), word);
}

class module_core : public std::enable_shared_from_this<module_core> {
public:
    module_core(asio::any_io_executor ex, module_options options)
        : ex_(std::move(ex)), opts_(std::move(options)), rng_(opts_.faults.seed), out_signal_(ex_),
          output_room_(ex_), input_room_(ex_), passthrough_wake_(ex_)
    {
        for (auto* t : {&out_signal_, &output_room_, &input_room_, &passthrough_wake_})
            t->expires_at(asio::steady_timer::time_point::max());
        reset_state();
        echo_ = opts_.echo;
        if (opts_.start == start_state::joined && !opts_.access_points.empty()) joined_ = 0;
    }

    [[nodiscard]] const asio::any_io_executor& executor() const noexcept { return ex_; }
    [[nodiscard]] const module_options& options() const noexcept { return opts_; }

    // Ends everything: links and the server close, waiting coroutines return.
    void stop()
    {
        if (stopped_) return;
        stopped_ = true;
        close_all_links(false);
        close_server();
        for (auto* t : {&out_signal_, &output_room_, &input_room_, &passthrough_wake_}) t->cancel();
    }
    [[nodiscard]] bool stopped() const noexcept { return stopped_; }

    // A reset from outside (power, the EN pin): from now on the module hears nothing until it
    // has rebooted.
    void power_cycle()
    {
        if (stopped_) return;
        input_ = input_mode::rebooting;
        asio::co_spawn(ex_, reboot(shared_from_this(), false), asio::detached);
    }

    // Bytes from the host, split anywhere.
    void on_host_bytes(std::string_view bytes)
    {
        while (!bytes.empty() && !stopped_) {
            switch (input_) {
            case input_mode::rebooting: return;  // a rebooting module hears nothing
            case input_mode::command: bytes = take_command_bytes(bytes); break;
            case input_mode::send_data: bytes = take_send_bytes(bytes); break;
            case input_mode::passthrough: take_passthrough_bytes(bytes); return;
            }
        }
    }

    // Waits for module output and returns all of it; empty once stopped (or cancelled).
    asio::awaitable<std::string> next_output()
    {
        while (out_.empty() && !stopped_) {
            auto [ec] = co_await out_signal_.async_wait(use_tuple);
            (void)ec;
            auto cs = co_await asio::this_coro::cancellation_state;
            if (cs.cancelled() != asio::cancellation_type::none) co_return std::string{};
        }
        std::string chunk = std::move(out_);
        out_.clear();
        output_room_.cancel();
        co_return chunk;
    }

    // The serve() loop's reader waits here while passthrough data is not yet forwarded.
    asio::awaitable<void> wait_input_room()
    {
        while (passthrough_data_.size() > 4 * passthrough_packet && !stopped_) {
            auto [ec] = co_await input_room_.async_wait(use_tuple);
            (void)ec;
            auto cs = co_await asio::this_coro::cancellation_state;
            if (cs.cancelled() != asio::cancellation_type::none) co_return;
        }
    }

    [[nodiscard]] std::optional<std::uint16_t> server_port() const
    {
        if (!server_) return std::nullopt;
        std::error_code ec;
        return server_->local_endpoint(ec).port();
    }
    [[nodiscard]] std::size_t buffered(std::uint8_t id) const
    {
        return id < links_.size() && links_[id] ? links_[id]->passive_data.size() : 0;
    }
    [[nodiscard]] std::size_t max_buffered_seen() const noexcept { return max_buffered_seen_; }

private:
    enum class input_mode { command, send_data, passthrough, rebooting };
    static constexpr std::size_t passthrough_packet = 2048;
    static constexpr auto passthrough_gap = std::chrono::milliseconds(20);

    // ------------------------------------------------------------------------------------
    // Output.

    void emit(std::string_view bytes)
    {
        if (stopped_) return;
        out_ += bytes;
        out_signal_.cancel();
    }
    void ok() { emit("\r\nOK\r\n"); }
    void error(std::uint32_t code = err_code::execution_failed)
    {
        if (syslog_) {
            char line[32];
            std::snprintf(line, sizeof line, "ERR CODE:0x%08x\r\n", static_cast<unsigned>(code));
            emit(line);
        }
        emit("\r\nERROR\r\n");
    }
    // The information lines of an answer, written by the table.
    template <class Form, class Value>
    void reply(const Value& v)
    {
        std::string s;
        cmd::encode_reply<Form>(s, v);
        emit(s);
    }
    [[nodiscard]] std::string link_prefix(std::uint8_t id) const
    {
        return mux_ ? std::to_string(id) + "," : std::string{};
    }
    void report_connect(const link& l)
    {
        if (has(sysmsg_, system_messages::link_conn_details)) {
            std::string s = "+LINK_CONN:0," + std::to_string(l.id) + ",\"";
            s += l.type == link_type::udp ? "UDP" : l.type == link_type::ssl ? "SSL" : "TCP";
            s += "\"," + std::to_string(static_cast<int>(l.role)) + ",\"" + l.remote_ip.to_string() + "\"," +
                 std::to_string(l.remote_port) + "," + std::to_string(l.local_port) + "\r\n";
            emit_report(s);
        } else {
            emit_report(link_prefix(l.id) + "CONNECT\r\n");
        }
    }
    void report_closed(std::uint8_t id)
    {
        if (chance(opts_.faults.lost_report)) return;  // lost on the wire
        emit_report(link_prefix(id) + "CLOSED\r\n");
    }
    // Output that is no command's answer (link reports, +IPD). Held during a send until its
    // SEND OK / SEND FAIL unless the report_inside_send fault lets it through; the
    // report_inside_echo fault tucks it into the echo of the line the host is typing.
    void emit_report(std::string_view bytes)
    {
        if (in_send_phase_ && !reports_inside_send_) {
            held_reports_ += bytes;
            return;
        }
        if (input_ == input_mode::command && echo_ && !line_.empty() && !line_overflow_ &&
            chance(opts_.faults.report_inside_echo)) {
            pending_echo_split_ += bytes;
            return;
        }
        emit(bytes);
    }
    void release_held_reports()
    {
        in_send_phase_ = false;
        emit(std::exchange(held_reports_, std::string{}));
    }

    bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

    // ------------------------------------------------------------------------------------
    // Input.

    std::string_view take_command_bytes(std::string_view bytes)
    {
        const std::size_t lf = bytes.find('\n');
        const std::string_view part = bytes.substr(0, lf == std::string_view::npos ? bytes.size() : lf + 1);
        // Memory stays bounded: past the line limit, bytes are only counted until the LF.
        if (!line_overflow_) {
            if (line_.size() + part.size() > cmd::max_command_line) line_overflow_ = true;
            else line_ += part;
        }
        if (lf != std::string_view::npos) complete_line();
        return bytes.substr(part.size());
    }

    void complete_line()
    {
        std::string line = std::move(line_);
        line_.clear();
        const bool overflow = std::exchange(line_overflow_, false);
        if (echo_ && !overflow) {
            if (!pending_echo_split_.empty() && line.size() > 4) {
                // A report that arrives while the line comes in splits its echo (quirks).
                emit(std::string_view(line).substr(0, line.size() / 2));
                emit(pending_echo_split_);
                emit(std::string_view(line).substr(line.size() / 2));
                pending_echo_split_.clear();
            } else {
                emit(line);
                emit(std::exchange(pending_echo_split_, std::string{}));
            }
        }
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        if (overflow) {
            error(err_code::parameter_parse_failed);
            return;
        }
        if (line.empty()) return;  // a bare line end: nothing to answer
        if (busy_) {
            emit("busy p...\r\n");
            return;
        }
        busy_ = true;
        asio::co_spawn(ex_, run_command(shared_from_this(), std::move(line)), asio::detached);
    }

    asio::awaitable<void> run_command(std::shared_ptr<module_core> keep, std::string line)
    {
        (void)keep;
        const auto& f = opts_.faults;
        if (chance(f.err_code_busy)) emit("ERR CODE:0x010b0000\r\n\r\nbusy p...\r\n");
        if (chance(f.busy_before_result)) emit("busy p...\r\n");
        try {
            auto request = cmd::decode_request<cmd::any_request>(line, {.multiple_links = mux_});
            if (!request) {
                error(known_command_word(line) ? err_code::parameter_parse_failed : err_code::unsupported_command);
            } else {
                asio::awaitable<void> op = request->visit([this](const auto& r) { return dispatch(r); });
                co_await std::move(op);
            }
        } catch (const std::exception&) {
            error();  // a value the simulator could not handle is the module's ERROR, not a crash
        }
        if (input_ != input_mode::send_data) busy_ = false;
        else busy_ = false;  // the data phase has its own state; lines are not read meanwhile
        if (!stopped_ && input_ == input_mode::command && chance(f.spontaneous_reset))
            asio::co_spawn(ex_, reboot(shared_from_this(), false), asio::detached);
    }

    // Commands outside the personality's version range do not exist on that module.
    template <class R>
    [[nodiscard]] bool available() const
    {
        using C = typename R::command;
        if constexpr (requires { C::since; })
            if (opts_.firmware.version < C::since) return false;
        if constexpr (requires { C::until; })
            if (!(opts_.firmware.version < C::until)) return false;
        return true;
    }

    template <class R>
    asio::awaitable<void> dispatch(const R& r)
    {
        if (!available<R>()) {
            error(err_code::unsupported_command);
            co_return;
        }
        co_await handle(r);
    }

    // Forms the simulator does not implement (test forms, TLS settings until the SSL link
    // type exists): what a module without them answers.
    template <class R>
    asio::awaitable<void> handle(const R&)
    {
        error(err_code::unsupported_command);
        co_return;
    }

    // ------------------------------------------------------------------------------------
    // State.

    void reset_state()
    {
        echo_ = true;
        mux_ = false;
        show_remote_ = false;
        recv_mode_ = recv_mode::active;
        sysmsg_ = system_messages::none;
        syslog_ = false;
        passthrough_mode_ = transfer_mode::normal;
        server_max_conn_ = 5;
        server_timeout_ = std::chrono::seconds(180);
        any_link_closed_ = false;
        input_ = input_mode::command;
        line_.clear();
        line_overflow_ = false;
        busy_ = false;
        uart_ = {};  // AT+UART_CUR lasts until a reset (AT+UART_DEF, which is not simulated, would not)
    }

    [[nodiscard]] bool station_enabled() const
    {
        return wifi_mode_ == wifi_mode::station || wifi_mode_ == wifi_mode::station_softap;
    }
    [[nodiscard]] bool has_ip() const { return joined_.has_value(); }

    [[nodiscard]] std::optional<std::uint8_t> free_link_id() const
    {
        for (std::uint8_t i = 0; i < links_.size(); ++i)
            if (!links_[i]) return i;
        return std::nullopt;
    }
    [[nodiscard]] bool any_link() const
    {
        return std::any_of(links_.begin(), links_.end(), [](const auto& l) { return l != nullptr; });
    }
    // The link a command names: its leading id in multi-link mode, link 0 in single.
    [[nodiscard]] std::shared_ptr<link> link_for(const std::optional<link_id>& id) const
    {
        const std::uint8_t i = mux_ ? (id ? id->value() : 0xff) : 0;
        if (i >= links_.size() || (!mux_ && id)) return nullptr;
        return links_[i];
    }

    // ------------------------------------------------------------------------------------
    // Where links live and what they may reach (module_options::bind_address, allowed_networks).

    [[nodiscard]] bool may_reach(const asio::ip::address& remote) const { return allows(opts_.allowed_networks, remote); }
    // An address of this module's (AT+CIPSTART's <local IP>): the bind address, any loopback
    // address when that is loopback, any address when that is a wildcard.
    [[nodiscard]] bool own_address(const asio::ip::address& a) const
    {
        const auto& b = opts_.bind_address;
        return b.is_unspecified() || a == b || (b.is_loopback() && a.is_loopback());
    }
    // The host address a link to `remote` binds to: the bind address, or the same kind of
    // address in the remote's family; none for a specific address of the other family.
    [[nodiscard]] std::optional<asio::ip::address> local_address_for(const asio::ip::address& remote) const
    {
        const auto& b = opts_.bind_address;
        if (b.is_v4() == remote.is_v4()) return b;
        if (b.is_unspecified())
            return remote.is_v4() ? asio::ip::address(asio::ip::address_v4::any()) : asio::ip::address(asio::ip::address_v6::any());
        if (b.is_loopback())
            return remote.is_v4() ? asio::ip::address(asio::ip::address_v4::loopback())
                                  : asio::ip::address(asio::ip::address_v6::loopback());
        return std::nullopt;
    }
    // Why a link to `remote` (from `local_ip`, when AT+CIPSTART gave one) may not be opened.
    [[nodiscard]] std::error_code refusal(const asio::ip::address& remote, const std::optional<asio::ip::address>& local_ip) const
    {
        if (!may_reach(remote)) return asio::error::network_unreachable;
        if (local_ip && !own_address(*local_ip)) return std::make_error_code(std::errc::address_not_available);
        return {};
    }

    // Opens and binds a UDP link's socket for `remote`: to the bind address (or <local IP>). A
    // broadcast or multicast link must hear both the group and unicast replies to its port, so
    // it binds to the wildcard: plainly when the bind address is one, else tied to the bind
    // address's interface (Linux), or where that cannot be done to the group address alone
    // (the group, no unicast replies). Its group's interface is <local IP>, else the bind address.
    std::error_code open_udp_socket(udp_link& u, const asio::ip::address& remote, const std::optional<asio::ip::address>& local_ip,
                                    std::uint16_t local_port)
    {
        std::error_code ec = refusal(remote, local_ip);
        const auto local = local_address_for(remote);
        if (!ec && !local) ec = asio::error::address_family_not_supported;
        if (!ec) u.socket.open(remote.is_v4() ? asio::ip::udp::v4() : asio::ip::udp::v6(), ec);
        if (ec) return ec;
        const bool group = is_group_address(remote);
        asio::ip::address at = local_ip ? *local_ip : *local;
        if (group) {
            std::optional<asio::ip::address> interface = local_ip;
            if (!interface && !local->is_unspecified()) interface = *local;
            ec = prepare_group_socket(u.socket, remote, interface);
            const asio::ip::address any = remote.is_v4() ? asio::ip::address(asio::ip::address_v4::any())
                                                         : asio::ip::address(asio::ip::address_v6::any());
            at = local->is_unspecified() || (!ec && !tie_to_interface_of(u.socket, *local)) ? any : remote;
        }
        if (!ec) u.socket.bind({at, local_port}, ec);
        if (!ec) u.local_port = u.socket.local_endpoint(ec).port();
        return ec;
    }

    void remove_link(std::uint8_t id, bool report)
    {
        auto l = links_[id];
        if (!l) return;
        links_[id].reset();
        l->closed = true;
        // A link the module ends (CIPCLOSE, CIPSTO) says goodbye first: TLS sends close_notify,
        // and the socket closes once the peer answers or after a short wait at most.
        if (report && !stopped_) {
            asio::co_spawn(ex_, say_goodbye(l), asio::detached);
            asio::co_spawn(ex_, close_after(l, std::chrono::milliseconds(200)), asio::detached);
        } else {
            l->close();
        }
        l->wake_reader();
        any_link_closed_ = true;
        if (report) report_closed(id);
    }
    static asio::awaitable<void> say_goodbye(std::shared_ptr<link> l)
    {
        co_await l->say_goodbye();
        l->close();
    }
    static asio::awaitable<void> close_after(std::shared_ptr<link> l, std::chrono::milliseconds limit)
    {
        asio::steady_timer t(l->room.get_executor());
        t.expires_after(limit);
        auto [ec] = co_await t.async_wait(use_tuple);
        (void)ec;
        l->close();
    }
    void close_all_links(bool report)
    {
        for (std::uint8_t i = 0; i < links_.size(); ++i) remove_link(i, report);
    }
    void close_server()
    {
        if (!server_) return;
        std::error_code ec;
        server_->close(ec);
        server_.reset();
    }

    void start_reader(const std::shared_ptr<link>& l)
    {
        asio::co_spawn(ex_, read_link(shared_from_this(), l), asio::detached);
    }

    // ------------------------------------------------------------------------------------
    // Receiving: a coroutine per link moves socket data to the host (+IPD) or to the link's
    // passive buffer, waiting for room in either so memory stays bounded.

    asio::awaitable<void> read_link(std::shared_ptr<module_core> keep, std::shared_ptr<link> l)
    {
        (void)keep;
        std::vector<char> buffer(l->is_stream() ? 2920 : 65536);
        while (!stopped_ && !l->closed) {
            std::size_t want = buffer.size();
            if (l->mode == recv_mode::passive && l->is_stream()) {
                if (l->passive_data.size() >= passive_buffer_limit) {
                    auto [ec] = co_await l->room.async_wait(use_tuple);
                    (void)ec;
                    continue;
                }
                want = std::min(want, passive_buffer_limit - l->passive_data.size());
            } else if (out_.size() + held_reports_.size() >= opts_.output_limit) {
                auto [ec] = co_await output_room_.async_wait(use_tuple);
                (void)ec;
                continue;
            }
            const received r = co_await l->receive(asio::buffer(buffer.data(), want));
            if (stopped_ || l->closed) co_return;
            if (r.ec) {
                if (r.ec == asio::error::operation_aborted) continue;
                if (lose_passthrough_link(l)) co_return;
                peer_closed(l);
                co_return;
            }
            deliver(*l, std::string_view(buffer.data(), r.size), r);
        }
    }

    void deliver(link& l, std::string_view data, const received& r)
    {
        l.last_activity = std::chrono::steady_clock::now();
        if (input_ == input_mode::passthrough && l.id == 0) {
            emit(data);  // passthrough: the data itself, no framing
            return;
        }
        if (l.mode == recv_mode::passive) {
            // UDP loses what does not fit; TCP never reads more than fits (read_link).
            if (l.passive_data.size() + data.size() > passive_buffer_limit) return;
            l.passive_data += data;
            l.passive_from_ip = r.from_ip;
            l.passive_from_port = r.from_port;
            max_buffered_seen_ = std::max(max_buffered_seen_, l.passive_data.size());
            if (!l.notified) {
                l.notified = true;
                if (!chance(opts_.faults.lost_report))  // else lost on the wire
                    emit_report("\r\n+IPD," + link_prefix(l.id) + std::to_string(l.passive_data.size()) + "\r\n");
            }
            return;
        }
        // +IPD is a length-framed frame, not an information line: the table has no encoder
        // for it (the parser reads it as a frame), so it is written here, per personality.
        std::string head = "\r\n+IPD," + link_prefix(l.id) + std::to_string(data.size());
        if (show_remote_) head += "," + address_text(r.from_ip) + "," + std::to_string(r.from_port);
        head += ':';
        head += data;
        if (opts_.firmware.line_end_after_ipd) head += "\r\n";
        emit_report(head);
    }

    [[nodiscard]] std::string address_text(const asio::ip::address& a) const
    {
        return opts_.firmware.quoted_ipd_address ? "\"" + a.to_string() + "\"" : a.to_string();
    }

    void peer_closed(const std::shared_ptr<link>& l)
    {
        if (l->closed || links_[l->id] != l) return;
        // Passive mode: CLOSED waits until the buffered data is read (the reference).
        if (l->mode == recv_mode::passive && !l->passive_data.empty()) {
            l->peer_closed = true;
            if (chance(opts_.faults.closed_before_data_read)) {
                l->closed_reported = true;
                report_closed(l->id);
            }
            return;
        }
        remove_link(l->id, true);
    }

    // ------------------------------------------------------------------------------------
    // Sending.

    struct pending_send {
        std::shared_ptr<link> target;
        std::size_t length = 0;
        bool escaped = false;  // AT+CIPSENDEX: "\0" ends the data, "\\0" is a literal "\0"
        std::optional<asio::ip::udp::endpoint> to;
        std::string raw;       // bytes as the host sent them
        std::string data;      // bytes to send (escapes resolved)
        std::size_t scanned = 0;
        bool ended_early = false;
    };

    template <class Request>
    void begin_send(const Request& r, bool escaped, std::optional<asio::ip::udp::endpoint> to)
    {
        if (passthrough_mode_ == transfer_mode::passthrough) return error();
        auto l = link_for(r.link);
        if (!l) {
            emit("link is not valid\r\n");
            return error();
        }
        if (r.length.value() > opts_.firmware.max_send()) return error(err_code::parameter_parse_failed);
        if (to && l->type != link_type::udp) return error();
        send_ = pending_send{l, r.length.value(), escaped, to, {}, {}, 0, false};
        ok();
        input_ = input_mode::send_data;
        emit(opts_.firmware.prompt);
        in_send_phase_ = true;
        reports_inside_send_ = chance(opts_.faults.report_inside_send);
    }

    std::string_view take_send_bytes(std::string_view bytes)
    {
        const std::size_t n = std::min(bytes.size(), send_.length - send_.raw.size());
        send_.raw.append(bytes.substr(0, n));
        if (!send_.escaped) {
            if (send_.raw.size() == send_.length) finish_data();
            return bytes.substr(n);
        }
        // Resolve escapes as far as they can be decided.
        const bool complete = send_.raw.size() == send_.length;
        std::size_t& i = send_.scanned;
        while (i < send_.raw.size()) {
            const std::string_view rest = std::string_view(send_.raw).substr(i);
            if (rest[0] != '\\') {
                send_.data += rest[0];
                ++i;
                continue;
            }
            if (rest.size() < 3 && !complete && (rest.size() == 1 || rest[1] == '\\')) break;  // undecided
            if (rest.size() >= 2 && rest[1] == '0') {
                send_.ended_early = true;
                i += 2;
                break;
            }
            if (rest.size() >= 3 && rest[1] == '\\' && rest[2] == '0') {
                send_.data += "\\0";
                i += 3;
                continue;
            }
            send_.data += '\\';
            ++i;
        }
        if (send_.ended_early || complete) {
            finish_data();
            // What followed "\0" in this chunk is not data: the module is back in command mode.
            return send_.ended_early ? bytes.substr(n - std::min(n, send_.raw.size() - i)) : bytes.substr(n);
        }
        return bytes.substr(n);
    }

    void finish_data()
    {
        input_ = input_mode::command;
        busy_ = true;
        if (!send_.escaped) send_.data = send_.raw;
        if (send_.ended_early) send_.raw.resize(send_.scanned);
        asio::co_spawn(ex_, complete_send(shared_from_this(), std::move(send_)), asio::detached);
        send_ = {};
    }

    asio::awaitable<void> complete_send(std::shared_ptr<module_core> keep, pending_send s)
    {
        (void)keep;
        emit("\r\nRecv " + std::to_string(s.raw.size()) + " bytes\r\n");
        const bool fail = chance(opts_.faults.send_fail);
        std::string_view payload = s.data;
        if (fail) payload = payload.substr(0, payload.size() / 2);
        std::error_code ec;
        if (!s.target->closed && !payload.empty()) ec = co_await s.target->send(payload, s.to);
        if (stopped_) co_return;
        s.target->last_activity = std::chrono::steady_clock::now();
        emit(ec || fail || s.target->closed ? "\r\nSEND FAIL\r\n" : "\r\nSEND OK\r\n");
        release_held_reports();
        busy_ = false;
    }

    // ------------------------------------------------------------------------------------
    // Passthrough: host bytes go out in packets, at most 2048 bytes or after 20 ms of
    // silence; a packet of exactly "+++" ends it.

    void take_passthrough_bytes(std::string_view bytes)
    {
        passthrough_data_ += bytes;
        last_host_byte_ = std::chrono::steady_clock::now();
        passthrough_wake_.cancel();
    }

    // Starts a passthrough session (AT+CIPSEND's, or the one a saved link boots into): host
    // bytes are data for link 0 from now on. Returns the session's number; the relay loop and
    // any reconnection belong to that session alone, and a reset, "+++" or a later session
    // ends them.
    std::uint64_t enter_passthrough()
    {
        input_ = input_mode::passthrough;
        passthrough_data_.clear();
        last_host_byte_ = std::chrono::steady_clock::now();
        const std::uint64_t session = ++passthrough_sessions_;
        // It follows link 0, which a reconnection replaces (lose_passthrough_link).
        asio::co_spawn(ex_, run_passthrough(shared_from_this(), session), asio::detached);
        return session;
    }
    [[nodiscard]] bool in_passthrough_session(std::uint64_t session) const
    {
        return !stopped_ && input_ == input_mode::passthrough && passthrough_sessions_ == session;
    }

    asio::awaitable<void> run_passthrough(std::shared_ptr<module_core> keep, std::uint64_t session)
    {
        (void)keep;
        asio::steady_timer gap(ex_);
        while (in_passthrough_session(session)) {
            if (passthrough_data_.empty()) {
                auto [ec] = co_await passthrough_wake_.async_wait(use_tuple);
                (void)ec;
                continue;
            }
            std::string packet;
            if (passthrough_data_.size() >= passthrough_packet) {
                packet = passthrough_data_.substr(0, passthrough_packet);
                passthrough_data_.erase(0, passthrough_packet);
            } else {
                const auto quiet_until = last_host_byte_ + passthrough_gap;
                if (std::chrono::steady_clock::now() < quiet_until) {
                    gap.expires_at(quiet_until);
                    auto [ec] = co_await gap.async_wait(use_tuple);
                    (void)ec;
                    continue;
                }
                packet = std::exchange(passthrough_data_, std::string{});
                if (packet == "+++") {
                    input_ = input_mode::command;
                    if (has(sysmsg_, system_messages::quit_passthrough)) emit("+QUITT\r\n");
                    break;
                }
            }
            input_room_.cancel();
            if (const auto target = links_[0]; target && !target->closed) {
                std::error_code ec = co_await target->send(packet, std::nullopt);
                (void)ec;  // a real module keeps the data mode; the peer's loss shows as CLOSED
            }
        }
        input_room_.cancel();
    }

    // ------------------------------------------------------------------------------------
    // Reset.

    // A reboot ends whatever passthrough session ran (its relay loop and its reconnection
    // tries) with its link; a link saved by AT+SAVETRANSLINK=1 then starts a new session at
    // "ready" (firmware-quirks.md: the module "boots straight into passthrough: no prompt until
    // the host sends +++"), which connects once the module has its IP again.
    asio::awaitable<void> reboot(std::shared_ptr<module_core> keep, bool factory)
    {
        (void)keep;
        input_ = input_mode::rebooting;
        const std::uint64_t this_boot = ++boots_;
        ++passthrough_sessions_;     // the old session is over...
        passthrough_wake_.cancel();  // ...and its relay loop sees it now
        const bool was_joined = joined_.has_value();
        if (was_joined) emit("WIFI DISCONNECT\r\n");
        in_send_phase_ = false;
        held_reports_.clear();
        close_all_links(false);
        close_server();
        passthrough_data_.clear();
        asio::steady_timer t(ex_);
        t.expires_after(opts_.reset_delay);
        auto [ec] = co_await t.async_wait(use_tuple);
        (void)ec;
        if (stopped_ || boots_ != this_boot) co_return;  // stopped, or a later reset took over
        reset_state();
        if (factory) {
            joined_.reset();
            wifi_mode_ = wifi_mode::station;
            store_ = true;
            saved_passthrough_ = false;
            saved_link_.reset();
            rf_power_ = default_rf_power(opts_.firmware);
            dhcp_interfaces_ = dhcp_interfaces::station | dhcp_interfaces::softap;
            auto_connect_ = true;
            join_attempted_ = false;
        }
        if (!auto_connect_) joined_.reset();
        emit(opts_.firmware.boot_noise);
        emit("\r\nready\r\n");
        std::optional<std::uint64_t> saved_session;
        std::optional<saved_transparent_link> target;
        if (saved_passthrough_ && saved_link_) {
            passthrough_mode_ = transfer_mode::passthrough;
            target = *saved_link_;
            saved_session = enter_passthrough();
        }
        if (joined_) {
            // A module that was on Wi-Fi joins again by itself (firmware-quirks.md).
            t.expires_after(opts_.join_delay);
            auto [ec2] = co_await t.async_wait(use_tuple);
            (void)ec2;
            // Not inside a command's answer: Adafruit's driver fails the command whose reply
            // holds an unsolicited WIFI CONNECTED (host-drivers.md). (In the saved link's
            // passthrough there is no command; after its "+++", the same rule.)
            while (!stopped_ && boots_ == this_boot && (busy_ || input_ == input_mode::send_data ||
                                                         (input_ == input_mode::passthrough && !saved_session))) {
                t.expires_after(std::chrono::milliseconds(2));
                auto [ec3] = co_await t.async_wait(use_tuple);
                (void)ec3;
            }
            if (stopped_ || !joined_ || boots_ != this_boot) co_return;  // a later reset took over
            emit_report("WIFI CONNECTED\r\nWIFI GOT IP\r\n");
            if (saved_session) co_await reconnect_passthrough(this_boot, *saved_session, *target);
        }
    }

    // ------------------------------------------------------------------------------------
    // Handlers: basic commands.

    asio::awaitable<void> handle(const exec_of<cmd::at>&) { ok(); co_return; }
    asio::awaitable<void> handle(const exec_of<cmd::ate0>&) { echo_ = false; ok(); co_return; }
    asio::awaitable<void> handle(const exec_of<cmd::ate1>&) { echo_ = true; ok(); co_return; }
    asio::awaitable<void> handle(const exec_of<cmd::rst>&)
    {
        ok();
        asio::co_spawn(ex_, reboot(shared_from_this(), false), asio::detached);
        co_return;
    }
    asio::awaitable<void> handle(const exec_of<cmd::restore>&)
    {
        // Open links say CLOSED before the OK (firmware-quirks.md).
        for (std::uint8_t i = links_.size(); i-- > 0;) remove_link(i, true);
        ok();
        asio::co_spawn(ex_, reboot(shared_from_this(), true), asio::detached);
        co_return;
    }
    asio::awaitable<void> handle(const exec_of<cmd::gmr>&)
    {
        reply<cmd::gmr::execute>(opts_.firmware.gmr);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::sysstore>&) { reply<cmd::sysstore::query>(store_); ok(); co_return; }
    asio::awaitable<void> handle(const set_of<cmd::sysstore>& r) { store_ = r.params.store_in_flash.value; ok(); co_return; }
    asio::awaitable<void> handle(const query_of<cmd::syslog>&) { reply<cmd::syslog::query>(syslog_); ok(); co_return; }
    asio::awaitable<void> handle(const set_of<cmd::syslog>& r) { syslog_ = r.params.error_codes.value; ok(); co_return; }
    asio::awaitable<void> handle(const query_of<cmd::sysmsg>&) { reply<cmd::sysmsg::query>(sysmsg_); ok(); co_return; }
    asio::awaitable<void> handle(const set_of<cmd::sysmsg>& r) { sysmsg_ = r.params.messages.value; ok(); co_return; }
    asio::awaitable<void> handle(const query_of<cmd::uart_cur>&) { reply<cmd::uart_cur::query>(uart_); ok(); co_return; }
    asio::awaitable<void> handle(const set_of<cmd::uart_cur>& r)
    {
        // Remembered and reported until a reset; pacing the output at the rate (and honouring
        // RTS/CTS) is the transport's business.
        const auto& p = r.params;
        if (p.flow_control.value != uart_flow_control::none && !opts_.uart_flow_control) {
            error();  // no RTS/CTS pins: the UART keeps its settings
            co_return;
        }
        uart_ = {p.baud_rate.value(), p.data_bits.value, p.stop_bits.value, p.parity.value, p.flow_control.value};
        ok();
        co_return;
    }

    // ------------------------------------------------------------------------------------
    // Handlers: Wi-Fi.

    asio::awaitable<void> handle(const query_of<cmd::cwmode>&) { reply<cmd::cwmode::query>(wifi_mode_); ok(); co_return; }
    asio::awaitable<void> handle(const set_of<cmd::cwmode>& r)
    {
        wifi_mode_ = r.params.mode.value;
        if (!station_enabled() && joined_) {
            joined_.reset();
            emit_report("WIFI DISCONNECT\r\n");
        }
        ok();
        co_return;
    }

    asio::awaitable<void> join(const std::string& ssid, const std::string& password)
    {
        if (!station_enabled()) {
            error();
            co_return;
        }
        if (joined_) {
            joined_.reset();
            emit_report("WIFI DISCONNECT\r\n");
        }
        joining_ssid_ = ssid;
        join_attempted_ = true;
        last_join_ssid_ = ssid;
        asio::steady_timer t(ex_);
        t.expires_after(opts_.join_delay);
        auto [ec] = co_await t.async_wait(use_tuple);
        (void)ec;
        joining_ssid_.reset();
        if (stopped_) co_return;
        const auto& aps = opts_.access_points;
        const auto it = std::find_if(aps.begin(), aps.end(), [&](const auto& ap) { return ap.ssid == ssid; });
        std::optional<join_failure> failure;
        if (it == aps.end()) failure = join_failure::ap_not_found;
        else if (it->password != password) failure = join_failure::wrong_password;
        if (failure) {
            reply<cmd::cwjap::set>(std::optional<join_failure>(failure));
            error();
            co_return;
        }
        joined_ = static_cast<std::size_t>(it - aps.begin());
        last_ssid_ = ssid;
        last_password_ = password;
        emit_report("WIFI CONNECTED\r\nWIFI GOT IP\r\n");
        ok();
    }
    asio::awaitable<void> handle(const set_of<cmd::cwjap>& r)
    {
        co_await join(r.params.ssid.value, r.params.password.value);
    }
    asio::awaitable<void> handle(const exec_of<cmd::cwjap>&)
    {
        if (last_ssid_.empty() && !joined_) {
            reply<cmd::cwjap::execute>(std::optional<join_failure>(join_failure::ap_not_found));
            error();
            co_return;
        }
        const std::string ssid = joined_ ? opts_.access_points[*joined_].ssid : last_ssid_;
        const std::string password = joined_ ? opts_.access_points[*joined_].password : last_password_;
        co_await join(ssid, password);
    }
    asio::awaitable<void> handle(const query_of<cmd::cwjap>&)
    {
        std::optional<station_connection> c;
        if (joined_) {
            const auto& ap = opts_.access_points[*joined_];
            c = station_connection{ap.ssid, ap.bssid, ap.channel, ap.rssi, false, std::chrono::seconds(1),
                                   std::uint16_t{3}, wifi_scan_mode::fast, pmf_mode::capable};
        }
        reply<cmd::cwjap::query>(c);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const exec_of<cmd::cwqap>&)
    {
        if (joined_) {
            joined_.reset();
            emit_report("WIFI DISCONNECT\r\n");
        }
        ok();
        co_return;
    }
    [[nodiscard]] std::vector<access_point> scan(std::optional<std::string_view> ssid) const
    {
        std::vector<access_point> out;
        for (const auto& ap : opts_.access_points) {
            if (ssid && ap.ssid != *ssid) continue;
            out.push_back(access_point{ap.auth, ap.ssid, ap.rssi, ap.bssid, ap.channel, 0, 0, wifi_cipher::ccmp,
                                       wifi_cipher::ccmp, std::uint8_t{7}, false});
        }
        return out;
    }
    asio::awaitable<void> handle(const exec_of<cmd::cwlap>&)
    {
        reply<cmd::cwlap::execute>(scan(std::nullopt));
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::cwlap>& r)
    {
        reply<cmd::cwlap::set>(scan(r.params.ssid.value));
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cipsta>&)
    {
        station_addresses a;
        if (joined_) a = station_;
        else a = {asio::ip::make_address("0.0.0.0"), asio::ip::make_address("0.0.0.0"), asio::ip::make_address("0.0.0.0")};
        reply<cmd::cipsta::query>(a);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::cipsta>& r)
    {
        station_.ip = r.params.ip.value;
        if (r.params.gateway) station_.gateway = r.params.gateway;
        if (r.params.netmask) station_.netmask = r.params.netmask;
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cipap>&) { reply<cmd::cipap::query>(softap_); ok(); co_return; }
    asio::awaitable<void> handle(const set_of<cmd::cipap>& r)
    {
        softap_.ip = r.params.ip.value;
        if (r.params.gateway) softap_.gateway = r.params.gateway;
        if (r.params.netmask) softap_.netmask = r.params.netmask;
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cwsap>&) { reply<cmd::cwsap::query>(softap_config_); ok(); co_return; }
    asio::awaitable<void> handle(const set_of<cmd::cwsap>& r)
    {
        const auto& p = r.params;
        if (wifi_mode_ == wifi_mode::station || wifi_mode_ == wifi_mode::off) {
            error();
            co_return;
        }
        softap_config_ = {p.ssid.value, p.password.value, p.channel.value(), p.encryption.value,
                          p.max_connections ? std::optional<std::uint8_t>(p.max_connections->value()) : std::uint8_t{10},
                          p.ssid_hidden.value_or(false)};
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const exec_of<cmd::cifsr>&)
    {
        local_addresses a;
        if (wifi_mode_ == wifi_mode::softap || wifi_mode_ == wifi_mode::station_softap) {
            a.ap_ip = softap_.ip;
            a.ap_mac = softap_mac_;
        }
        if (station_enabled()) {
            a.sta_ip = joined_ ? station_.ip : asio::ip::make_address("0.0.0.0");
            a.sta_mac = station_mac_;
        }
        reply<cmd::cifsr::execute>(a);
        ok();
        co_return;
    }

    // ------------------------------------------------------------------------------------
    // Handlers: TCP/IP settings.

    asio::awaitable<void> handle(const query_of<cmd::cipmux>&)
    {
        reply<cmd::cipmux::query>(mux_ ? mux_mode::multiple : mux_mode::single);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::cipmux>& r)
    {
        const bool want = r.params.mode.value == mux_mode::multiple;
        if (want == mux_) {
            ok();
            co_return;
        }
        // The mode changes only with no link and no server, and never in passthrough mode.
        if (any_link() || server_ || (want && passthrough_mode_ == transfer_mode::passthrough)) {
            if (any_link()) emit("link is builded\r\n");
            error();
            co_return;
        }
        mux_ = want;
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::cipdinfo>& r) { show_remote_ = r.params.show_remote.value; ok(); co_return; }
    asio::awaitable<void> handle(const query_of<cmd::cipmode>&) { reply<cmd::cipmode::query>(passthrough_mode_); ok(); co_return; }
    asio::awaitable<void> handle(const set_of<cmd::cipmode>& r)
    {
        if (r.params.mode.value == transfer_mode::passthrough && mux_) {
            error();
            co_return;
        }
        passthrough_mode_ = r.params.mode.value;
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cipsto>&) { reply<cmd::cipsto::query>(server_timeout_); ok(); co_return; }
    asio::awaitable<void> handle(const set_of<cmd::cipsto>& r) { server_timeout_ = r.params.timeout.value; ok(); co_return; }
    asio::awaitable<void> handle(const query_of<cmd::cipservermaxconn>&)
    {
        reply<cmd::cipservermaxconn::query>(server_max_conn_);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::cipservermaxconn>& r)
    {
        if (server_) {
            error();  // set before the server starts (the reference)
            co_return;
        }
        server_max_conn_ = r.params.count.value();
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cipreconnintv>&)
    {
        reply<cmd::cipreconnintv::query>(reconnect_interval_);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::cipreconnintv>& r)
    {
        reconnect_interval_ = r.params.interval.value;
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::ciprecvmode>&) { reply<cmd::ciprecvmode::query>(recv_mode_); ok(); co_return; }
    asio::awaitable<void> handle(const set_of<cmd::ciprecvmode>& r)
    {
        recv_mode_ = r.params.mode.value;
        for (auto& l : links_)
            if (l) set_link_mode(*l, recv_mode_);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::ciprecvtype>&)
    {
        std::vector<link_recv_mode> modes;
        for (std::uint8_t i = 0; i < (mux_ ? 5 : 1); ++i)
            modes.push_back({*link_id::checked(i), links_[i] ? links_[i]->mode : recv_mode_});
        reply<cmd::ciprecvtype::query>(modes);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::ciprecvtype>& r)
    {
        const auto& p = r.params;
        if (!p.link || p.link->value() == 5) {
            recv_mode_ = p.mode.value;
            for (auto& l : links_)
                if (l) set_link_mode(*l, recv_mode_);
        } else if (links_[p.link->value()]) {
            set_link_mode(*links_[p.link->value()], p.mode.value);
        } else {
            error();
            co_return;
        }
        ok();
        co_return;
    }
    void set_link_mode(link& l, recv_mode m)
    {
        l.mode = m;
        l.wake_reader();
    }
    asio::awaitable<void> handle(const query_of<cmd::ciprecvlen>&)
    {
        receive_lengths lengths;
        for (std::uint8_t i = 0; i < (mux_ ? 5 : 1); ++i) {
            if (links_[i]) lengths.emplace_back(static_cast<std::uint32_t>(links_[i]->passive_data.size()));
            else lengths.emplace_back(std::nullopt);
        }
        reply<cmd::ciprecvlen::query>(lengths);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::ciprecvdata>& r)
    {
        auto l = link_for(r.params.link);
        if (!l || l->mode != recv_mode::passive || l->passive_data.empty()) {
            error();
            co_return;
        }
        const std::size_t n = std::min<std::size_t>(r.params.length.value(), l->passive_data.size());
        // +CIPRECVDATA is a length-framed frame like +IPD (the parser's recv_data event): no
        // table encoder exists for it.
        std::string head;
        if (opts_.firmware.nonos_recvdata_header) {
            head = "+CIPRECVDATA," + std::to_string(n) + ":";
        } else {
            head = "+CIPRECVDATA:" + std::to_string(n) + ",";
            if (show_remote_)
                head += "\"" + l->passive_from_ip.to_string() + "\"," + std::to_string(l->passive_from_port) + ",";
        }
        emit(head);
        emit(std::string_view(l->passive_data).substr(0, n));
        l->passive_data.erase(0, n);
        l->notified = false;
        l->wake_reader();
        ok();
        if (l->peer_closed && l->passive_data.empty()) remove_link(l->id, !l->closed_reported);
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cipsntpcfg>&) { reply<cmd::cipsntpcfg::query>(sntp_); ok(); co_return; }
    asio::awaitable<void> handle(const set_of<cmd::cipsntpcfg>& r)
    {
        const auto& p = r.params;
        sntp_ = {p.enable.value, p.timezone, p.server1, p.server2, p.server3};
        if (!sntp_.server1) sntp_.server1 = "pool.ntp.org";
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const exec_of<cmd::cipsntpcfg>&)
    {
        sntp_.server1 = sntp_.server2 = sntp_.server3 = std::nullopt;
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cipsntptime>&)
    {
        // The host clock stands in for the NTP servers; not enabled means not synchronised
        // (1970). Real firmware prints no blank line before this OK (firmware-quirks.md).
        std::chrono::sys_seconds t{};
        if (sntp_.enabled)
            t = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) + sntp_.timezone.offset();
        reply<cmd::cipsntptime::query>(t);
        emit("OK\r\n");
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cipdns>&) { reply<cmd::cipdns::query>(dns_); ok(); co_return; }
    asio::awaitable<void> handle(const set_of<cmd::cipdns>& r)
    {
        const auto& p = r.params;
        if (p.mode.value == dns_mode::automatic) dns_ = default_dns();
        else dns_ = {p.mode.value, p.dns1, p.dns2, p.dns3};
        ok();
        co_return;
    }
    static dns_config default_dns()
    {
        return {dns_mode::automatic, asio::ip::make_address("208.67.222.222"), asio::ip::make_address("8.8.8.8"),
                std::nullopt};
    }
    asio::awaitable<void> handle(const query_of<cmd::ciptcpopt>&)
    {
        std::vector<socket_options> all(tcp_options_.begin(), tcp_options_.end());
        reply<cmd::ciptcpopt::query>(all);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::ciptcpopt>& r)
    {
        const auto& p = r.params;
        const std::uint8_t first = !mux_ ? 0 : p.link ? p.link->value() : 0;
        const bool all = mux_ && p.link && p.link->value() == 5;
        if (mux_ && !p.link) {
            error();
            co_return;
        }
        for (std::uint8_t i = all ? 0 : first; i <= (all ? 4 : first); ++i) {
            auto& o = tcp_options_[i];
            if (p.linger) o.linger = *p.linger;
            if (p.no_delay) o.no_delay = *p.no_delay;
            if (p.send_timeout) o.send_timeout = *p.send_timeout;
            if (links_[i]) apply_tcp_options(*links_[i]);
        }
        ok();
        co_return;
    }
    // AT+CIPTCPOPT's options on the link's TCP socket: a TCP link's, or the one under an SSL
    // link's TLS (UDP links have none).
    static asio::ip::tcp::socket* tcp_socket_of(link& l)
    {
        if (auto* t = dynamic_cast<tcp_link*>(&l)) return &t->socket;
        if (auto* s = dynamic_cast<tls_link*>(&l)) return &s->stream.next_layer();
        return nullptr;
    }
    void apply_tcp_options(link& l)
    {
        auto* socket = tcp_socket_of(l);
        if (!socket) return;
        const auto& o = tcp_options_[l.id];
        std::error_code ec;
        socket->set_option(asio::ip::tcp::no_delay(o.no_delay), ec);
        socket->set_option(asio::socket_base::linger(o.linger.count() >= 0, static_cast<int>(std::max<std::int64_t>(o.linger.count(), 0))), ec);
        if (o.send_timeout.count() > 0) {
            timeval tv{static_cast<time_t>(o.send_timeout.count() / 1000),
                       static_cast<suseconds_t>((o.send_timeout.count() % 1000) * 1000)};
            ::setsockopt(socket->native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        }
    }

    // ------------------------------------------------------------------------------------
    // Handlers: links.

    asio::awaitable<void> handle(const exec_of<cmd::cipstatus>&)
    {
        reply<cmd::cipstatus::execute>(connection_status{station_state_now(), link_statuses()});
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cipstate>&)
    {
        reply<cmd::cipstate::query>(link_statuses());
        ok();
        co_return;
    }
    [[nodiscard]] station_state station_state_now() const
    {
        if (!joined_) return station_state::no_ap;
        bool stream = false, datagram = false;
        for (const auto& l : links_) {
            if (!l) continue;
            (l->type == link_type::udp ? datagram : stream) = true;
        }
        if (stream) return station_state::connected;
        if (datagram || any_link_closed_) return station_state::disconnected;
        return station_state::got_ip;
    }
    [[nodiscard]] std::vector<link_status> link_statuses() const
    {
        std::vector<link_status> out;
        for (const auto& l : links_)
            if (l) out.push_back({*link_id::checked(l->id), l->type, l->remote_ip, l->remote_port, l->local_port, l->role});
        return out;
    }

    asio::awaitable<void> handle(const set_of<cmd::cipdomain>& r)
    {
        auto address = co_await resolve(r.params.domain.value);
        if (stopped_) co_return;
        if (!address) {
            if (opts_.firmware.dns_fail_line) emit("DNS Fail\r\n");
            error();
            co_return;
        }
        reply<cmd::cipdomain::set>(*address);
        ok();
    }

    asio::awaitable<std::optional<asio::ip::address>> resolve(const std::string& host)
    {
        std::error_code ec;
        const auto literal = asio::ip::make_address(host, ec);
        if (!ec) co_return literal;
        asio::ip::tcp::resolver resolver(ex_);
        auto [rec, results] = co_await resolver.async_resolve(asio::ip::tcp::v4(), host, "", use_tuple);
        if (rec || results.empty()) co_return std::nullopt;
        co_return results.begin()->endpoint().address();
    }

    // AT+PING: measured as the time for the host's TCP stack to answer a connection attempt to
    // the address (accepted or refused both prove it is there); no answer in 1 s is a timeout.
    asio::awaitable<void> handle(const set_of<cmd::ping>& r)
    {
        auto address = co_await resolve(r.params.host.value);
        if (stopped_) co_return;
        std::optional<std::chrono::milliseconds> rtt;
        if (address && may_reach(*address)) {  // else: as from a module that cannot reach it
            asio::ip::tcp::socket probe(ex_);
            asio::steady_timer limit(ex_, std::chrono::seconds(1));
            limit.async_wait([&probe](std::error_code e) {
                if (!e) {
                    std::error_code ignored;
                    probe.close(ignored);
                }
            });
            const auto start = std::chrono::steady_clock::now();
            auto [ec] = co_await probe.async_connect({*address, 7}, use_tuple);
            limit.cancel();
            if (!ec || ec == asio::error::connection_refused)
                rtt = std::chrono::ceil<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
            // Let the cancelled timer's handler run before probe goes away.
            asio::steady_timer settle(ex_, std::chrono::milliseconds(0));
            auto [ec2] = co_await settle.async_wait(use_tuple);
            (void)ec2;
        }
        if (stopped_) co_return;
        if (opts_.firmware.nonos_ping_reply) {
            // "+24" / "+timeout": a NONOS form the table reads but does not write.
            emit(rtt ? "+" + std::to_string(rtt->count()) + "\r\n" : std::string("+timeout\r\n"));
        } else {
            reply<cmd::ping::set>(ping_time(rtt));
        }
        if (rtt) ok();
        else error();
    }

    template <class Request>
    asio::awaitable<void> start_tcp(std::optional<std::uint8_t> id, const Request& p)
    {
        if (!joined_) {
            error();
            co_return;
        }
        if (!id) {
            emit("link is not valid\r\n");  // every id taken
            error();
            co_return;
        }
        if (links_[*id]) {
            emit("ALREADY CONNECTED\r\n");
            error();
            co_return;
        }
        auto l = std::make_shared<tcp_link>(ex_, *id, link_role::client);
        l->mode = recv_mode_;
        links_[*id] = l;  // reserved while connecting
        auto address = co_await resolve(p.host.value);
        if (stopped_) co_return;
        std::error_code ec;
        std::optional<asio::ip::address> local_ip;
        if (p.local_ip) local_ip = *p.local_ip;
        if (address) ec = refusal(*address, local_ip);  // a network it cannot reach: the connect fails
        if (address && !ec) {
            l->socket.open(address->is_v4() ? asio::ip::tcp::v4() : asio::ip::tcp::v6(), ec);
            if (local_ip && !ec) l->socket.bind({*local_ip, 0}, ec);
            if (!ec) {
                asio::steady_timer limit(ex_, std::chrono::seconds(5));
                limit.async_wait([l](std::error_code e) {
                    if (!e) l->close();
                });
                auto [cec] = co_await l->socket.async_connect({*address, p.port.value}, use_tuple);
                limit.cancel();
                ec = cec;
            }
        }
        if (stopped_) co_return;
        if (!address || ec || links_[*id] != l) {
            if (links_[*id] == l) links_[*id].reset();
            l->close();
            if (!address && opts_.firmware.dns_fail_line) emit("DNS Fail\r\n");
            error();
            report_closed(*id);  // ERROR first, then CLOSED (firmware-quirks.md)
            co_return;
        }
        l->remote_ip = *address;
        l->remote_port = p.port.value;
        l->local_port = l->socket.local_endpoint(ec).port();
        if (p.keep_alive && p.keep_alive->count() > 0) l->socket.set_option(asio::socket_base::keep_alive(true), ec);
        apply_tcp_options(*l);
        report_connect(*l);
        ok();
        start_reader(l);
    }

    template <class Request>
    asio::awaitable<void> start_udp(std::optional<std::uint8_t> id, const Request& p)
    {
        // A peer-changing mode needs a local port; mode 0 does not (lwESP sends ",,0").
        if (!joined_ || (p.mode && *p.mode != udp_mode::fixed && !p.local_port)) {
            error();
            co_return;
        }
        if (!id) {
            emit("link is not valid\r\n");
            error();
            co_return;
        }
        if (links_[*id]) {
            emit("ALREADY CONNECTED\r\n");
            error();
            co_return;
        }
        auto l = std::make_shared<udp_link>(ex_, *id, p.mode.value_or(udp_mode::fixed), opts_.allowed_networks);
        l->mode = recv_mode_;
        links_[*id] = l;
        auto address = co_await resolve(p.host.value);
        if (stopped_) co_return;
        std::error_code ec;
        if (address) {
            // A broadcast or multicast remote: <local IP> names the interface of the group.
            std::optional<asio::ip::address> local_ip;
            if (p.local_ip) local_ip = *p.local_ip;
            ec = open_udp_socket(*l, *address, local_ip, p.local_port.value_or(0));
        }
        if (!address || ec || links_[*id] != l) {
            if (links_[*id] == l) links_[*id].reset();
            l->close();
            error();
            report_closed(*id);
            co_return;
        }
        l->remote_ip = *address;
        l->remote_port = p.port.value;
        report_connect(*l);
        ok();
        start_reader(l);
    }

    [[nodiscard]] std::optional<std::uint8_t> id_for_start(const std::optional<link_id>& requested) const
    {
        if (!mux_) return std::uint8_t{0};
        if (!requested) return std::nullopt;
        return requested->value();
    }
    asio::awaitable<void> handle(const set_of<cmd::cipstart_tcp>& r)
    {
        if (!mux_ && r.params.link) {
            error();
            co_return;
        }
        co_await start_tcp(id_for_start(r.params.link), r.params);
    }
    asio::awaitable<void> handle(const set_of<cmd::cipstart_udp>& r)
    {
        if (!mux_ && r.params.link) {
            error();
            co_return;
        }
        co_await start_udp(id_for_start(r.params.link), r.params);
    }
    // AT+CIPSTARTEX: the module picks the lowest free id (link 0 in single mode).
    [[nodiscard]] std::optional<std::uint8_t> id_for_startex() const
    {
        if (!mux_) return links_[0] ? std::nullopt : std::optional<std::uint8_t>(0);
        return free_link_id();
    }
    asio::awaitable<void> handle(const set_of<cmd::cipstartex_tcp>& r)
    {
        if (!mux_ && links_[0]) {
            emit("ALREADY CONNECTED\r\n");
            error();
            co_return;
        }
        co_await start_tcp(id_for_startex(), r.params);
    }
    asio::awaitable<void> handle(const set_of<cmd::cipstartex_udp>& r)
    {
        if (!mux_ && links_[0]) {
            emit("ALREADY CONNECTED\r\n");
            error();
            co_return;
        }
        co_await start_udp(id_for_startex(), r.params);
    }
    // "SSL" links: see "Handlers: TLS" below.

    asio::awaitable<void> handle(const set_of<cmd::cipsend>& r) { begin_send(r.params, false, std::nullopt); co_return; }
    asio::awaitable<void> handle(const set_of<cmd::cipsendex>& r) { begin_send(r.params, true, std::nullopt); co_return; }
    asio::awaitable<void> handle(const set_of<cmd::cipsend_udp>& r)
    {
        begin_send(r.params, false, asio::ip::udp::endpoint(r.params.remote_ip.value, r.params.remote_port.value));
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::cipsendex_udp>& r)
    {
        begin_send(r.params, true, asio::ip::udp::endpoint(r.params.remote_ip.value, r.params.remote_port.value));
        co_return;
    }
    // AT+CIPSEND with no parameters: passthrough sending (AT+CIPMODE=1, single link).
    asio::awaitable<void> handle(const exec_of<cmd::cipsend>&)
    {
        auto l = links_[0];
        if (passthrough_mode_ != transfer_mode::passthrough || mux_ || !l) {
            error();
            co_return;
        }
        if (auto* u = dynamic_cast<udp_link*>(l.get()); u && u->peer_mode != udp_mode::fixed) {
            error();
            co_return;
        }
        ok();
        emit(opts_.firmware.prompt);
        enter_passthrough();
    }

    asio::awaitable<void> handle(const set_of<cmd::cipclose>& r)
    {
        const std::uint8_t id = r.params.link.value();
        if (id == 5) {
            for (std::uint8_t i = 0; i < links_.size(); ++i) remove_link(i, true);
            ok();
            co_return;
        }
        if (!links_[id]) {
            error();
            co_return;
        }
        remove_link(id, true);
        ok();
    }
    asio::awaitable<void> handle(const exec_of<cmd::cipclose>&)
    {
        if (mux_ || !links_[0]) {
            error();
            co_return;
        }
        remove_link(0, true);
        ok();
    }

    asio::awaitable<void> handle(const set_of<cmd::cipserver>& r)
    {
        const auto& p = r.params;
        if (p.mode.value == server_mode::remove) {
            if (!server_) emit("no change\r\n");
            close_server();
            ok();
            co_return;
        }
        if (!mux_ || server_) {
            error();  // a server needs AT+CIPMUX=1, and there is only one
            co_return;
        }
        const std::uint16_t port = opts_.server_port_override ? *opts_.server_port_override : p.port.value_or(333);
        auto acceptor = open_listener(port);
        if (!acceptor) {
            error();
            co_return;
        }
        server_ = acceptor;
        asio::co_spawn(ex_, accept_clients(shared_from_this(), acceptor), asio::detached);
        ok();
    }

    asio::awaitable<void> accept_clients(std::shared_ptr<module_core> keep, std::shared_ptr<asio::ip::tcp::acceptor> acceptor)
    {
        (void)keep;
        for (;;) {
            auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
            if (stopped_ || server_ != acceptor) co_return;
            if (ec) continue;
            const auto clients = std::count_if(links_.begin(), links_.end(),
                                               [](const auto& l) { return l && l->role == link_role::server; });
            const auto id = free_link_id();
            if (!id || clients >= server_max_conn_ || !from_reachable(socket)) {
                std::error_code ignored;
                socket.close(ignored);  // no room: the client sees the connection close
                continue;
            }
            auto l = std::make_shared<tcp_link>(std::move(socket), *id, link_role::server);
            l->mode = recv_mode_;
            links_[*id] = l;
            apply_tcp_options(*l);
            report_connect(*l);
            start_reader(l);
            asio::co_spawn(ex_, expire_idle(shared_from_this(), l), asio::detached);
        }
    }

    // Whether a server's client comes from a network links may reach.
    [[nodiscard]] bool from_reachable(const asio::ip::tcp::socket& socket) const
    {
        std::error_code ec;
        const auto peer = socket.remote_endpoint(ec);
        return !ec && may_reach(peer.address());
    }

    // AT+CIPSTO: a server's client that says nothing for the timeout is closed.
    asio::awaitable<void> expire_idle(std::shared_ptr<module_core> keep, std::shared_ptr<link> l)
    {
        (void)keep;
        asio::steady_timer t(ex_);
        while (!stopped_ && !l->closed) {
            t.expires_after(std::chrono::milliseconds(100));
            auto [ec] = co_await t.async_wait(use_tuple);
            (void)ec;
            if (stopped_ || l->closed || links_[l->id] != l) co_return;
            if (server_timeout_.count() > 0 &&
                std::chrono::steady_clock::now() - l->last_activity >= server_timeout_)
                remove_link(l->id, true);
        }
    }

    // ------------------------------------------------------------------------------------
    // Handlers: the rest of TCP/IP.

    asio::awaitable<void> handle(const set_of<cmd::savetranslink_tcp>& r)
    {
        save_stream_link(link_type::tcp, r.params);
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::savetranslink_ssl>& r)
    {
        save_stream_link(link_type::ssl, r.params);
        co_return;
    }
    // AT+SAVETRANSLINK's TCP and SSL forms take the same parameters.
    template <class Request>
    void save_stream_link(link_type type, const Request& p)
    {
        saved_passthrough_ = p.mode.value == transfer_mode::passthrough;
        saved_link_ = saved_transparent_link{type, p.host.value, p.port.value, std::nullopt, p.keep_alive};
        ok();
    }
    asio::awaitable<void> handle(const set_of<cmd::savetranslink_udp>& r)
    {
        saved_passthrough_ = r.params.mode.value == transfer_mode::passthrough;
        saved_link_ = saved_transparent_link{link_type::udp, r.params.host.value, r.params.port.value, r.params.local_port,
                                             std::nullopt};
        ok();
        co_return;
    }
    // OTA: the simulated download always succeeds, with the progress reports of a real one.
    asio::awaitable<void> update_firmware()
    {
        if (!joined_) {
            emit("+CIPUPDATE:1\r\n");
            error();
            co_return;
        }
        asio::steady_timer t(ex_);
        for (int stage = 1; stage <= 4; ++stage) {
            t.expires_after(std::chrono::milliseconds(10));
            auto [ec] = co_await t.async_wait(use_tuple);
            (void)ec;
            if (stopped_) co_return;
            emit("+CIPUPDATE:" + std::to_string(stage) + "\r\n");
        }
        ok();
        asio::co_spawn(ex_, reboot(shared_from_this(), false), asio::detached);
    }
    asio::awaitable<void> handle(const exec_of<cmd::ciupdate>&) { co_await update_firmware(); }
    asio::awaitable<void> handle(const set_of<cmd::ciupdate>&) { co_await update_firmware(); }

    // ------------------------------------------------------------------------------------
    // Handlers: what the popular host drivers send beyond the reference (host-drivers.md:
    // lwESP, WiFiEspAT, Adafruit ESP_ATcontrol run unmodified against the simulator).

    asio::awaitable<void> handle(const query_of<cmd::rfpower>&)
    {
        reply<cmd::rfpower::query>(rf_power_);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::rfpower>& r)
    {
        const auto& p = r.params;
        rf_power_.wifi = p.wifi.value();
        if (opts_.firmware.ble_rf_power) {
            if (p.ble_advertising) rf_power_.ble_advertising = p.ble_advertising;
            if (p.ble_scan) rf_power_.ble_scan = p.ble_scan;
            if (p.ble_connection) rf_power_.ble_connection = p.ble_connection;
        }
        ok();
        co_return;
    }
    // The scan options are remembered; AT+CWLAP prints every field whatever the mask.
    asio::awaitable<void> handle(const set_of<cmd::cwlapopt>& r)
    {
        scan_print_mask_ = r.params.print_mask.value;
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cwdhcp>&)
    {
        reply<cmd::cwdhcp::query>(dhcp_interfaces_);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::cwdhcp>& r)
    {
        const std::uint8_t mask = r.params.interfaces.value();
        dhcp_interfaces_ = r.params.enable.value ? (dhcp_interfaces_ | mask) : (dhcp_interfaces_ & ~mask);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cwautoconn>&)
    {
        reply<cmd::cwautoconn::query>(auto_connect_);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::cwautoconn>& r)
    {
        auto_connect_ = r.params.enable.value;
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cipstamac>&)
    {
        reply<cmd::cipstamac::query>(station_mac_);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::cipstamac>& r)
    {
        // Bit 0 of the first byte marks a multicast address, which no interface may have.
        if (r.params.mac.value.bytes[0] & 1) {
            error();
            co_return;
        }
        station_mac_ = r.params.mac.value;
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cipapmac>&)
    {
        reply<cmd::cipapmac::query>(softap_mac_);
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const set_of<cmd::cipapmac>& r)
    {
        if (r.params.mac.value.bytes[0] & 1) {
            error();
            co_return;
        }
        softap_mac_ = r.params.mac.value;
        ok();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cwstate>&)
    {
        reply<cmd::cwstate::query>(wifi_status_now());
        ok();
        co_return;
    }
    [[nodiscard]] wifi_status wifi_status_now() const
    {
        if (joined_) return {wifi_state::got_ip, opts_.access_points[*joined_].ssid};
        if (joining_ssid_) return {wifi_state::connecting, *joining_ssid_};
        if (join_attempted_) return {wifi_state::disconnected, last_join_ssid_};
        return {wifi_state::not_started, std::string{}};
    }
    // AT+CIPSTATE? exists on 2.1+ modules although the table dates it from 4.1, where it
    // replaced AT+CIPSTATUS for the host's use (personality::link_state_query).
    asio::awaitable<void> dispatch(const query_of<cmd::cipstate>& r)
    {
        if (!opts_.firmware.link_state_query && !available<query_of<cmd::cipstate>>()) {
            error(err_code::unsupported_command);
            co_return;
        }
        co_await handle(r);
    }
    // The ESP8266's TLS buffer size: ESP32 firmware has no such command.
    asio::awaitable<void> handle(const set_of<cmd::cipsslsize>&)
    {
        if (!opts_.firmware.ssl_buffer_size_command) {
            error(err_code::unsupported_command);
            co_return;
        }
        ok();
        co_return;
    }
    static rf_power default_rf_power(const personality& firmware)
    {
        if (!firmware.ble_rf_power) return rf_power{78};
        return rf_power{78, std::uint8_t{5}, std::uint8_t{5}, std::uint8_t{5}};
    }
    // (Adafruit's driver asks AT+CIPSSLCCONF? after AT+CIPSSLSIZE fails: the TLS handlers below
    // answer it.)

    // ------------------------------------------------------------------------------------
    // Handlers: TLS. SSL client links (AT+CIPSTART="SSL"), the SSL server (AT+CIPSERVER with
    // "SSL", ESP32 only) and the AT+CIPSSLC* settings. The settings are kept per link id and,
    // as the firmware keeps them in NVS, survive a reset.

    // TLS over a slow Wi-Fi link: the reference allows 10 s per handshake packet. Loopback
    // needs far less; a bound is what matters.
    static constexpr auto tls_handshake_limit = std::chrono::seconds(10);

    // The link ids an AT+CIPSSLC* set command addresses: link 0 in single mode (the id is then
    // not part of the syntax); in multi-link mode the id given, 5 meaning every link.
    [[nodiscard]] std::vector<std::uint8_t> ssl_config_targets(const std::optional<close_link_id>& link) const
    {
        if (!mux_) return {0};
        if (!link) return {};
        if (*link == all_links) return {0, 1, 2, 3, 4};
        return {link->value()};
    }
    template <class Request>
    asio::awaitable<void> set_ssl_client(const Request& r)
    {
        const auto targets = ssl_config_targets(r.params.link);
        if (targets.empty()) {
            error();
            co_return;
        }
        for (const std::uint8_t id : targets) ssl_client_[id].apply(r.params);
        ok();
    }
    [[nodiscard]] std::uint8_t ssl_config_count() const { return mux_ ? 5 : 1; }

    asio::awaitable<void> handle(const set_of<cmd::cipsslcconf>& r) { co_await set_ssl_client(r); }
    asio::awaitable<void> handle(const set_of<cmd::cipsslccn>& r) { co_await set_ssl_client(r); }
    asio::awaitable<void> handle(const set_of<cmd::cipsslcsni>& r) { co_await set_ssl_client(r); }
    asio::awaitable<void> handle(const set_of<cmd::cipsslcalpn>& r) { co_await set_ssl_client(r); }
    asio::awaitable<void> handle(const set_of<cmd::cipsslcpsk>& r)
    {
        // "This command is not currently supported on ESP32" (the reference).
        if (opts_.firmware.chip == "ESP32") {
            error(err_code::unsupported_command);
            co_return;
        }
        co_await set_ssl_client(r);
    }
    // Queries: CIPSSLCCONF answers for every link; the others only for links where something
    // was set (an empty name or list has no line to print).
    asio::awaitable<void> handle(const query_of<cmd::cipsslcconf>&)
    {
        std::vector<ssl_client_config> lines;
        for (std::uint8_t i = 0; i < ssl_config_count(); ++i) {
            const auto& c = ssl_client_[i];
            lines.push_back({*link_id::checked(i), c.auth, c.pki_number, c.ca_number});
        }
        reply<cmd::cipsslcconf::query>(lines);
        ok();
        co_return;
    }
    // One line per link whose setting `Member` is not empty.
    template <class Command, auto Member>
    void reply_ssl_setting()
    {
        using line = typename Command::query::response::value_type::value_type;
        std::vector<line> lines;
        for (std::uint8_t i = 0; i < ssl_config_count(); ++i)
            if (const auto& v = ssl_client_[i].*Member; !v.empty()) lines.push_back({*link_id::checked(i), v});
        reply<typename Command::query>(lines);
        ok();
    }
    asio::awaitable<void> handle(const query_of<cmd::cipsslccn>&)
    {
        reply_ssl_setting<cmd::cipsslccn, &tls_client_config::common_name>();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cipsslcsni>&)
    {
        reply_ssl_setting<cmd::cipsslcsni, &tls_client_config::server_name>();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cipsslcalpn>&)
    {
        reply_ssl_setting<cmd::cipsslcalpn, &tls_client_config::alpn>();
        co_return;
    }
    asio::awaitable<void> handle(const query_of<cmd::cipsslcpsk>&)
    {
        if (opts_.firmware.chip == "ESP32") {
            error(err_code::unsupported_command);
            co_return;
        }
        std::vector<ssl_psk> lines;
        for (std::uint8_t i = 0; i < ssl_config_count(); ++i)
            if (const auto& psk = ssl_client_[i].psk) lines.push_back({*link_id::checked(i), psk->key, psk->identity});
        reply<cmd::cipsslcpsk::query>(lines);
        ok();
        co_return;
    }

    // An SSL client link for `id` with a context made from `config` (that id's AT+CIPSSLC*
    // settings); null when they cannot work (a certificate the module lacks).
    [[nodiscard]] std::shared_ptr<tls_link> make_tls_client_link(std::uint8_t id, const tls_client_config& config)
    {
        auto context = make_tls_client_context(config, opts_.tls);
        if (!context) return nullptr;
        auto shared_context = std::make_shared<asio::ssl::context>(std::move(*context));
        return std::make_shared<tls_link>(ex_, shared_context, id, link_role::client);
    }
    // Connects an SSL client link and runs the handshake `config` asks for, within
    // tls_handshake_limit: AT+CIPSTART="SSL" and a saved SSL link (at boot, or reconnecting
    // in passthrough) alike. `host` is the name given, which the certificate must match.
    asio::awaitable<std::error_code> connect_tls(const std::shared_ptr<tls_link>& l, const asio::ip::address& address,
                                                 std::uint16_t port, const tls_client_config& config,
                                                 const std::string& host, const std::optional<asio::ip::address>& local_ip)
    {
        std::error_code ec;
        auto& socket = l->stream.next_layer();
        socket.open(address.is_v4() ? asio::ip::tcp::v4() : asio::ip::tcp::v6(), ec);
        if (local_ip && !ec) socket.bind({*local_ip, 0}, ec);
        if (ec) co_return ec;
        asio::steady_timer limit(ex_, tls_handshake_limit);
        limit.async_wait([l](std::error_code e) {
            if (!e) l->close();
        });
        const asio::ip::tcp::endpoint peer(address, port);
        auto [cec] = co_await socket.async_connect(peer, use_tuple);
        ec = cec;
        if (!ec) ec = prepare_tls_client_stream(l->stream, config, host);
        if (!ec) {
            auto [hec] = co_await l->stream.async_handshake(tls_link::stream_type::client, use_tuple);
            ec = hec;
        }
        limit.cancel();
        if (!ec) {
            std::error_code ignored;
            l->remote_ip = address;
            l->remote_port = port;
            l->remote_host = host;
            l->local_port = socket.local_endpoint(ignored).port();
        }
        co_return ec;
    }

    // AT+CIPSTART="SSL": connect as for TCP, then the TLS handshake the link's settings ask
    // for. Settings that cannot work (a certificate the module lacks) and a failed handshake
    // both end like a failed connect: ERROR, then CLOSED.
    template <class Request>
    asio::awaitable<void> start_ssl(std::optional<std::uint8_t> id, const Request& p)
    {
        if (!joined_) {
            error();
            co_return;
        }
        if (!id) {
            emit("link is not valid\r\n");
            error();
            co_return;
        }
        if (links_[*id]) {
            emit("ALREADY CONNECTED\r\n");
            error();
            co_return;
        }
        const tls_client_config config = ssl_client_[*id];
        auto l = make_tls_client_link(*id, config);
        if (!l) {
            error();
            report_closed(*id);
            co_return;
        }
        l->mode = recv_mode_;
        links_[*id] = l;  // reserved while connecting
        auto address = co_await resolve(p.host.value);
        if (stopped_) co_return;
        std::error_code ec;
        std::optional<asio::ip::address> local_ip;
        if (p.local_ip) local_ip = *p.local_ip;
        if (address) ec = refusal(*address, local_ip);
        if (address && !ec) ec = co_await connect_tls(l, *address, p.port.value, config, p.host.value, local_ip);
        if (stopped_) co_return;
        if (!address || ec || links_[*id] != l) {
            if (links_[*id] == l) links_[*id].reset();
            l->close();
            if (!address && opts_.firmware.dns_fail_line) emit("DNS Fail\r\n");
            error();
            report_closed(*id);
            co_return;
        }
        if (p.keep_alive && p.keep_alive->count() > 0)
            l->stream.next_layer().set_option(asio::socket_base::keep_alive(true), ec);
        apply_tcp_options(*l);
        report_connect(*l);
        ok();
        start_reader(l);
    }
    asio::awaitable<void> handle(const set_of<cmd::cipstart_ssl>& r)
    {
        if (!mux_ && r.params.link) {
            error();
            co_return;
        }
        co_await start_ssl(id_for_start(r.params.link), r.params);
    }
    asio::awaitable<void> handle(const set_of<cmd::cipstartex_ssl>& r)
    {
        if (!mux_ && links_[0]) {
            emit("ALREADY CONNECTED\r\n");
            error();
            co_return;
        }
        co_await start_ssl(id_for_startex(), r.params);
    }

    // AT+CIPSERVER=1,<port>,"SSL",<CA enable>: a TLS server with the first flashed credentials;
    // with CA enable, clients must present a certificate the flashed CA signed. A client whose
    // handshake fails never becomes a link (no CONNECT).
    asio::awaitable<void> handle(const set_of<cmd::cipserver_ssl>& r)
    {
        const auto& p = r.params;
        if (opts_.firmware.chip != "ESP32") {
            error();  // "[ESP32 Only]"
            co_return;
        }
        if (p.mode.value == server_mode::remove) {
            if (!server_) emit("no change\r\n");
            close_server();
            ok();
            co_return;
        }
        if (!mux_ || server_) {
            error();
            co_return;
        }
        tls_server_config config;
        config.apply(p);
        const tls_credentials none{};
        auto context = make_tls_server_context(config, opts_.tls.empty() ? none : opts_.tls.front());
        const std::uint16_t port = opts_.server_port_override ? *opts_.server_port_override : p.port.value_or(333);
        auto acceptor = context ? open_listener(port) : nullptr;
        if (!acceptor) {
            error();
            co_return;
        }
        server_ = acceptor;
        auto shared_context = std::make_shared<asio::ssl::context>(std::move(*context));
        asio::co_spawn(ex_, accept_tls_clients(shared_from_this(), acceptor, shared_context), asio::detached);
        ok();
    }

    [[nodiscard]] std::shared_ptr<asio::ip::tcp::acceptor> open_listener(std::uint16_t port)
    {
        auto acceptor = std::make_shared<asio::ip::tcp::acceptor>(ex_);
        std::error_code ec;
        const asio::ip::tcp::endpoint at(opts_.bind_address, port);
        acceptor->open(at.protocol(), ec);
        if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor->bind(at, ec);
        if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
        if (ec) return nullptr;
        return acceptor;
    }

    asio::awaitable<void> accept_tls_clients(std::shared_ptr<module_core> keep, std::shared_ptr<asio::ip::tcp::acceptor> acceptor,
                                             std::shared_ptr<asio::ssl::context> context)
    {
        (void)keep;
        for (;;) {
            auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
            if (stopped_ || server_ != acceptor) co_return;
            if (ec) continue;
            if (!from_reachable(socket)) {
                std::error_code ignored;
                socket.close(ignored);  // a network the module cannot reach: hung up on, no handshake
                continue;
            }
            // Each handshake runs by itself: a slow client does not hold up the next.
            auto admission = admit_tls_client(shared_from_this(), acceptor, context, std::move(socket));
            asio::co_spawn(ex_, std::move(admission), asio::detached);
        }
    }

    asio::awaitable<void> admit_tls_client(std::shared_ptr<module_core> keep, std::shared_ptr<asio::ip::tcp::acceptor> acceptor,
                                           std::shared_ptr<asio::ssl::context> context, asio::ip::tcp::socket socket)
    {
        (void)keep;
        auto l = std::make_shared<tls_link>(std::move(socket), std::move(context), 0, link_role::server);
        asio::steady_timer limit(ex_, tls_handshake_limit);
        limit.async_wait([l](std::error_code e) {
            if (!e) l->close();
        });
        auto [ec] = co_await l->stream.async_handshake(tls_link::stream_type::server, use_tuple);
        limit.cancel();
        if (stopped_ || server_ != acceptor || ec) {
            l->close();
            co_return;
        }
        const auto clients = std::count_if(links_.begin(), links_.end(),
                                           [](const auto& other) { return other && other->role == link_role::server; });
        const auto id = free_link_id();
        if (!id || clients >= server_max_conn_) {
            l->close();  // no room: the client sees the connection close
            co_return;
        }
        l->id = *id;
        l->mode = recv_mode_;
        links_[*id] = l;
        apply_tcp_options(*l);
        report_connect(*l);
        start_reader(l);
        asio::co_spawn(ex_, expire_idle(shared_from_this(), l), asio::detached);
    }

    // ------------------------------------------------------------------------------------
    // Boot into a link saved by AT+SAVETRANSLINK=1 (reboot()): at "ready" the module is in
    // passthrough, and after the Wi-Fi reports it connects link 0; it prints no CONNECT and no
    // '>' (firmware-quirks.md: "no prompt until the host sends +++"). While the peer cannot be
    // reached it tries again every AT+CIPRECONNINTV (the reference: "keep trying to reconnect
    // until +++ is input"), dropping the host's bytes meanwhile. "+++" leaves it in command
    // mode with AT+CIPMODE=1 and the link open; "+++", a reset or stop() ends the tries.

    struct saved_transparent_link {
        link_type type = link_type::tcp;  // TCP, UDP or SSL (TLS with link 0's AT+CIPSSLC* settings)
        std::string host;
        std::uint16_t port = 0;
        std::optional<std::uint16_t> local_port;         // UDP
        std::optional<std::chrono::seconds> keep_alive;  // TCP, SSL
    };

    // The link of a passthrough session (AT+CIPSEND's or the saved one) broke: the module prints
    // nothing (its output is the peer's data now) and keeps reconnecting every AT+CIPRECONNINTV
    // until it has the link back or the host sends "+++" (the reference, AT+CIPMODE: "if the
    // TCP connection breaks, ESP32 will keep trying to reconnect until +++ is input";
    // AT+CIPRECONNINTV: "when the TCP/UDP/SSL transmission broke"). TCP and SSL links are
    // reconnected, SSL with a new handshake; a UDP link does not break.
    bool lose_passthrough_link(const std::shared_ptr<link>& l)
    {
        if (input_ != input_mode::passthrough || l->id != 0 || links_[0] != l || !l->is_stream()) return false;
        links_[0].reset();
        l->closed = true;
        l->close();
        const saved_transparent_link target{l->type, l->remote_host.empty() ? l->remote_ip.to_string() : l->remote_host,
                                            l->remote_port, std::nullopt, std::nullopt};
        asio::co_spawn(ex_, reconnect_in_background(shared_from_this(), boots_, passthrough_sessions_, target), asio::detached);
        return true;
    }
    asio::awaitable<void> reconnect_in_background(std::shared_ptr<module_core> keep, std::uint64_t this_boot,
                                                  std::uint64_t session, saved_transparent_link target)
    {
        (void)keep;
        co_await reconnect_passthrough(this_boot, session, target);
    }

    // Tries `target` for link 0, then again every AT+CIPRECONNINTV, while the same passthrough
    // session goes on with no link: "+++", a reset or stop() ends the tries.
    asio::awaitable<void> reconnect_passthrough(std::uint64_t this_boot, std::uint64_t session, saved_transparent_link target)
    {
        auto trying = [&] { return boots_ == this_boot && in_passthrough_session(session) && !links_[0]; };
        asio::steady_timer pause(ex_);
        while (trying()) {
            if (auto opened = co_await open_saved_link(target); opened && trying()) {
                opened->mode = recv_mode_;
                links_[0] = opened;
                apply_tcp_options(*opened);
                start_reader(opened);
                co_return;
            } else if (opened) {
                opened->close();
            }
            pause.expires_after(std::max<std::chrono::steady_clock::duration>(reconnect_interval_, std::chrono::milliseconds(100)));
            auto [ec] = co_await pause.async_wait(use_tuple);
            (void)ec;
        }
    }

    asio::awaitable<std::shared_ptr<link>> open_saved_link(const saved_transparent_link& target)
    {
        auto address = co_await resolve(target.host);
        // A network it may not reach: tried again later, as an unreachable peer is.
        if (stopped_ || !address || !may_reach(*address)) co_return nullptr;
        std::shared_ptr<link> opened;
        std::error_code ec;
        if (target.type == link_type::udp) {
            auto u = std::make_shared<udp_link>(ex_, 0, udp_mode::fixed, opts_.allowed_networks);
            ec = open_udp_socket(*u, *address, std::nullopt, target.local_port.value_or(0));
            opened = u;
        } else if (target.type == link_type::ssl) {
            // As AT+CIPSTART="SSL" on link 0: its AT+CIPSSLC* settings (kept in NVS), the same
            // handshake (the reference, AT+CIPSSLCCONF: "If you use AT+SAVETRANSLINK to set SSL
            // passthrough mode, the ESP will establish an SSL connection based on this
            // configuration after next power on").
            const tls_client_config config = ssl_client_[0];
            auto t = make_tls_client_link(0, config);
            if (!t) co_return nullptr;
            ec = co_await connect_tls(t, *address, target.port, config, target.host, std::nullopt);
            if (!ec && target.keep_alive && target.keep_alive->count() > 0)
                t->stream.next_layer().set_option(asio::socket_base::keep_alive(true), ec);
            opened = t;
        } else {
            auto t = std::make_shared<tcp_link>(ex_, 0, link_role::client);
            const asio::ip::tcp::endpoint peer(*address, target.port);
            auto [cec] = co_await t->socket.async_connect(peer, use_tuple);
            ec = cec;
            if (!ec) t->local_port = t->socket.local_endpoint(ec).port();
            if (!ec && target.keep_alive && target.keep_alive->count() > 0)
                t->socket.set_option(asio::socket_base::keep_alive(true), ec);
            opened = t;
        }
        if (ec) {
            opened->close();
            co_return nullptr;
        }
        opened->remote_ip = *address;
        opened->remote_port = target.port;
        opened->remote_host = target.host;
        co_return opened;
    }

    // ------------------------------------------------------------------------------------

    asio::any_io_executor ex_;
    module_options opts_;
    std::mt19937 rng_;
    bool stopped_ = false;

    std::string out_;
    asio::steady_timer out_signal_;     // cancelled when output is queued
    asio::steady_timer output_room_;    // cancelled when the output queue is drained
    asio::steady_timer input_room_;     // cancelled when passthrough data went out
    asio::steady_timer passthrough_wake_;

    input_mode input_ = input_mode::command;
    std::string line_;
    bool line_overflow_ = false;
    bool busy_ = false;
    std::string pending_echo_split_;
    pending_send send_;
    std::string passthrough_data_;
    std::chrono::steady_clock::time_point last_host_byte_{};

    // Settings a reset returns to their defaults (reset_state()).
    bool echo_ = true;
    bool mux_ = false;
    bool show_remote_ = false;
    recv_mode recv_mode_ = recv_mode::active;
    system_messages sysmsg_ = system_messages::none;
    bool syslog_ = false;
    transfer_mode passthrough_mode_ = transfer_mode::normal;
    std::uint64_t passthrough_sessions_ = 0;  // a reconnection belongs to one passthrough session
    std::uint8_t server_max_conn_ = 5;
    std::chrono::seconds server_timeout_{180};
    bool any_link_closed_ = false;
    uart_config uart_{};

    // Settings that survive a reset (flash, or the Wi-Fi driver's own state).
    bool store_ = true;
    wifi_mode wifi_mode_ = wifi_mode::station;
    std::optional<std::size_t> joined_;  // index into opts_.access_points
    std::string last_ssid_, last_password_;
    station_addresses station_{asio::ip::make_address("192.168.4.2"), asio::ip::make_address("192.168.4.1"),
                               asio::ip::make_address("255.255.255.0")};
    softap_addresses softap_{asio::ip::make_address("192.168.4.1"), asio::ip::make_address("192.168.4.1"),
                             asio::ip::make_address("255.255.255.0")};
    softap_config softap_config_{"ESP_SIM", "", 1, wifi_auth::open, std::uint8_t{10}, false};
    sntp_config sntp_{false, 0, std::string("pool.ntp.org"), std::nullopt, std::nullopt};
    dns_config dns_ = default_dns();
    deciseconds reconnect_interval_{1};  // the reference: "default is 1"
    bool saved_passthrough_ = false;
    std::array<socket_options, 5> tcp_options_{{{*link_id::checked(0)}, {*link_id::checked(1)}, {*link_id::checked(2)},
                                                {*link_id::checked(3)}, {*link_id::checked(4)}}};

    std::array<std::shared_ptr<link>, 5> links_{};
    std::shared_ptr<asio::ip::tcp::acceptor> server_;
    std::size_t max_buffered_seen_ = 0;

    // Host drivers' extra settings (host-drivers.md); all survive a reset.
    rf_power rf_power_ = default_rf_power(opts_.firmware);
    std::uint16_t scan_print_mask_ = cwlap_all_fields;
    std::uint8_t dhcp_interfaces_ = dhcp_interfaces::station | dhcp_interfaces::softap;
    bool auto_connect_ = true;  // rejoin the last AP after a reset
    mac_address station_mac_{{0x24, 0x0a, 0xc4, 0x00, 0x00, 0x01}};
    mac_address softap_mac_{{0x26, 0x0a, 0xc4, 0x00, 0x00, 0x01}};
    std::optional<std::string> joining_ssid_;  // AT+CWSTATE? 3 while a join runs
    bool join_attempted_ = false;              // AT+CWSTATE? 4 rather than 0 once not joined
    std::string last_join_ssid_;               // the AP of the last join, successful or not
    std::uint64_t boots_ = 0;                  // resets so far: a rejoin belongs to one boot

    // TLS, send-phase reports and the saved passthrough link.
    std::array<tls_client_config, 5> ssl_client_{};  // AT+CIPSSLC* per link id (kept in NVS)
    bool in_send_phase_ = false;        // from CIPSEND's '>' to its SEND OK / SEND FAIL
    bool reports_inside_send_ = false;  // this send lets reports through (a fault)
    std::string held_reports_;          // reports waiting for the send to end
    std::optional<saved_transparent_link> saved_link_;  // AT+SAVETRANSLINK's target (flash)
};

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// sim::module's members that need the core (declared in module.hpp).

ESPAT_SIM_DECL module::module(asio::any_io_executor ex, module_options options)
    : core_(std::make_shared<detail::module_core>(std::move(ex), std::move(options)))
{
}
ESPAT_SIM_DECL module::~module() { core_->stop(); }
ESPAT_SIM_DECL void module::on_host_bytes(std::string_view bytes) { core_->on_host_bytes(bytes); }
ESPAT_SIM_DECL asio::awaitable<std::string> module::next_output() { return output_of(core_); }
ESPAT_SIM_DECL void module::stop() { core_->stop(); }
ESPAT_SIM_DECL void module::reset() { core_->power_cycle(); }
ESPAT_SIM_DECL std::optional<std::uint16_t> module::server_port() const { return core_->server_port(); }
ESPAT_SIM_DECL std::size_t module::buffered(std::uint8_t link) const { return core_->buffered(link); }
ESPAT_SIM_DECL std::size_t module::max_buffered_seen() const { return core_->max_buffered_seen(); }
ESPAT_SIM_DECL const module_options& module::options() const { return core_->options(); }

ESPAT_SIM_DECL bool module::stopped(const detail::module_core& core) { return core.stopped(); }
ESPAT_SIM_DECL void module::feed(detail::module_core& core, std::string_view bytes) { core.on_host_bytes(bytes); }
ESPAT_SIM_DECL asio::awaitable<void> module::wait_input_room(std::shared_ptr<detail::module_core> core)
{
    co_await core->wait_input_room();
}
ESPAT_SIM_DECL asio::awaitable<std::string> module::output_of(std::shared_ptr<detail::module_core> core)
{
    std::string s = co_await core->next_output();
    co_return s;
}

}  // namespace espat::sim
