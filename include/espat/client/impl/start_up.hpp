// espat/client/impl/start_up.hpp — basic_client's start-up: the probes, echo on, the firmware
// profile, and for a serial port the line settings (baud rate, RTS/CTS) on both sides.
//
// Out of the class so that a program built with ESPAT_SEPARATE_COMPILATION compiles them once,
// in espat::compiled, for the stacks of detail/stacks.hpp (client.hpp includes this file).
#pragma once

#include <espat/client.hpp>

namespace espat {

template <class AsyncStream>
auto basic_client<AsyncStream>::internal_command(std::string_view line, std::chrono::milliseconds timeout)
    -> asio::awaitable<proto::command_result>
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

template <class AsyncStream>
auto basic_client<AsyncStream>::internal_escape() -> asio::awaitable<proto::command_result>
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

template <class AsyncStream>
auto basic_client<AsyncStream>::start_sequence(bool reset_first) -> asio::awaitable<result<firmware_profile>>
{
    // One start-up at a time: a second would interleave its commands with the first's. A
    // caller that comes while one runs (a script's async_start() during the restart a module
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
    // A caller that cancels async_start() makes the next co_await here throw; the start-up must
    // still end (gate open, joiners woken), or every later command and async_start() would wait
    // for good. Its result is then errc::cancelled, and async_start() may be called again.
    std::exception_ptr thrown;
    try {
        // A reset during start-up starts it over, a few times.
        for (int round = 0; round < 3; ++round) {
            ++stats_.starts;
            r = co_await start_steps(reset_first && round == 0);
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

// AT+RST, then its "ready" within client_options::ready_timeout.
template <class AsyncStream>
auto basic_client<AsyncStream>::reset_module() -> asio::awaitable<result<void>>
{
    ready_seen_ = false;  // before the command: its OK and "ready" may come in one read
    proto::command_result rst = co_await internal_command("AT+RST\r\n", std::chrono::milliseconds{commands::rst::timeout_ms});
    if (fatal_) co_return tl::make_unexpected(fatal_);
    if (rst.ec && rst.ec != errc::device_reset) co_return tl::make_unexpected(rst.ec);
    if (!ready_seen_) {
        ready_wait_.expires_after(options_.ready_timeout);
        std::error_code woken;
        co_await ready_wait_.async_wait(asio::redirect_error(asio::use_awaitable, woken));
    }
    if (fatal_) co_return tl::make_unexpected(fatal_);
    if (!ready_seen_) co_return tl::make_unexpected(make_error_code(errc::timeout));
    co_return result<void>{};
}

template <class AsyncStream>
auto basic_client<AsyncStream>::start_up_done() -> asio::awaitable<result<void>>
{
    // The gate closes with the reset's "ready", before the restart's coroutine runs.
    while ((starting_ || gate_closed_) && !fatal_) {
        std::error_code woken;
        co_await start_done_.async_wait(asio::redirect_error(asio::use_awaitable, woken));
    }
    co_return result<void>{};
}

template <class AsyncStream>
auto basic_client<AsyncStream>::start_steps(bool reset_first) -> asio::awaitable<result<firmware_profile>>
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
    for (int round = 0; round < 2 && !alive; ++round) {
        if (round == 1) {
            // Silence at the rate start-up switched the line to: the module may have reset
            // unheard (its "ready" came at its default rate, which the port had left), and
            // listens at its defaults now. The same probes again at the port's own settings.
            bool switched = false;
            if constexpr (detail::serial_line<AsyncStream>) {
                switched = probe_error == errc::timeout && port_switched();
                if (switched) restore_port();
            }
            if (!switched) break;
            escaped_after = -1;
        }
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
    }
    if (!alive) co_return tl::make_unexpected(probe_error);
    // The module answered at the port's settings: a reset heard before (its "ready" during the
    // probes) no longer says that the port must go back at the next start-up.
    module_uart_reset_ = false;
    if (reset_first) {
        // A clean module whatever an earlier program left: the steps run again on the new boot.
        auto reset = co_await reset_module();
        co_return tl::make_unexpected(reset ? make_error_code(errc::device_reset) : reset.error());
    }

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

template <class AsyncStream>
template <class S>
auto basic_client<AsyncStream>::apply_line_settings() -> asio::awaitable<result<line_settings>>
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

    const auto uart_timeout = std::chrono::milliseconds{commands::uart_cur::timeout_ms};
    proto::command_result set = co_await send_uart_cur(*checked, flow, uart_timeout);
    if (set.ec && flow && set.final_result == proto::event_kind::error) {
        flow = false;  // the module has no RTS/CTS (or will not use them): it keeps its settings
        why = flow_control_refusal::module;
        if (!options_.baud_rate) co_return refused(why);
        set = co_await send_uart_cur(*checked, false, uart_timeout);
    }
    if (set.ec) co_return tl::make_unexpected(set.ec);

    // The module switched after its OK: the port follows.
    std::error_code ec;
    stream_.set_option(serial_base::baud_rate(rate), ec);
    if (!ec) set_port_flow(flow, ec);
    const bool port_set = !ec;
    if (port_set) {
        ec = co_await check_line(flow);
        if (!ec) co_return line_settings{rate, flow, why};
        // The module rebooted, its UART back at its defaults: start-up starts over (and puts
        // the port back first).
        if (ec == errc::device_reset) co_return tl::make_unexpected(ec);
    }

    if (flow) {
        // Off again on both sides, at the new rate. Probes still waiting in the port for a
        // CTS that never came must not reach the module later, as answers to nothing.
        why = port_set ? flow_control_refusal::verification : flow_control_refusal::port;
        discard_output();
        std::error_code ignored;
        set_port_flow(false, ignored);
        proto::command_result off = co_await send_uart_cur(*checked, false, uart_timeout);
        if (off.ec == errc::device_reset) co_return tl::make_unexpected(off.ec);
        if (!off.ec) {
            const std::error_code off_ec = co_await check_line(false);
            if (!off_ec) co_return line_settings{rate, false, why};
            if (off_ec == errc::device_reset) co_return tl::make_unexpected(off_ec);
        }
    }

    // Both as they were. The module answered OK, so it has most likely switched, and what
    // failed is the check (a busy module, a lost answer): at the settings the port has now it
    // is told its old ones, then the port takes them. A module that never switched hears
    // noise and answers nothing; either way both ends are at the old settings after.
    std::error_code ignored;
    discard_output();
    if (const auto old_checked = uart_baud_rate::checked(old); port_set && old_checked) {
        const bool old_hardware = old_flow.value() == serial_base::flow_control::hardware;
        proto::command_result back = co_await send_uart_cur(*old_checked, old_hardware, options_.start_probe_timeout);
        if (back.ec == errc::device_reset) co_return tl::make_unexpected(back.ec);
        discard_output();
    }
    stream_.set_option(old_rate, ignored);
    stream_.set_option(old_flow, ignored);
    proto::command_result probe = co_await internal_command("AT\r\n", options_.start_probe_timeout);
    if (!options_.baud_rate && !probe.ec) co_return refused(why);
    co_return tl::make_unexpected(ec ? ec : make_error_code(errc::timeout));
}

template <class AsyncStream>
auto basic_client<AsyncStream>::send_uart_cur(uart_baud_rate rate, bool rts_cts, std::chrono::milliseconds timeout)
    -> asio::awaitable<proto::command_result>
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
    proto::command_result r = co_await internal_command(line, timeout);
    co_return r;
}

template <class AsyncStream>
auto basic_client<AsyncStream>::check_line(bool rts_cts) -> asio::awaitable<std::error_code>
{
    std::error_code ec = make_error_code(errc::timeout);
    for (int attempt = 0; attempt < options_.baud_verify_attempts && ec && !fatal_; ++attempt) {
        proto::command_result probe = co_await internal_command("AT\r\n", options_.start_probe_timeout);
        ec = probe.ec;
        if (ec == errc::device_reset) break;  // its UART is at the defaults now: no use probing on
    }
    if (fatal_) co_return fatal_;
    if (ec || !rts_cts) co_return ec;
    proto::command_result query = co_await internal_command("AT+UART_CUR?\r\n", std::chrono::milliseconds{commands::uart_cur::timeout_ms});
    if (query.ec) co_return query.final_result == proto::event_kind::error ? std::error_code{} : query.ec;
    auto config = decode_typed<typename commands::uart_cur::query>(std::move(query));
    if (!config) co_return config.error();
    co_return config->flow_control == uart_flow_control::rts_cts ? std::error_code{} : make_error_code(errc::not_supported);
}

template <class AsyncStream>
template <class S>
auto basic_client<AsyncStream>::set_port_flow(bool hardware, std::error_code& ec) -> void
{
    const serial_base::flow_control wanted(hardware ? serial_base::flow_control::hardware : serial_base::flow_control::none);
    stream_.set_option(wanted, ec);
    if (ec) return;
    serial_base::flow_control now;
    stream_.get_option(now, ec);
    if (!ec && now.value() != wanted.value()) ec = make_error_code(errc::not_supported);
}

template <class AsyncStream>
template <class S>
auto basic_client<AsyncStream>::restore_port() -> void
{
    if (!port_before_) return;
    std::error_code ignored;
    discard_output();
    stream_.set_option(port_before_->rate, ignored);
    stream_.set_option(port_before_->flow, ignored);
}

template <class AsyncStream>
template <class S>
auto basic_client<AsyncStream>::port_switched() -> bool
{
    if (!port_before_) return false;
    serial_base::baud_rate rate;
    serial_base::flow_control flow;
    std::error_code rate_ec, flow_ec;
    stream_.get_option(rate, rate_ec);
    stream_.get_option(flow, flow_ec);
    if (rate_ec || flow_ec) return false;
    return rate.value() != port_before_->rate.value() || flow.value() != port_before_->flow.value();
}

template <class AsyncStream>
auto basic_client<AsyncStream>::discard_output() -> void
{
#if !defined(_WIN32)
    if constexpr (requires { stream_.native_handle(); }) ::tcflush(stream_.native_handle(), TCOFLUSH);
#endif
}

}  // namespace espat
