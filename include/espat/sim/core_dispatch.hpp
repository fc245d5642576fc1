// espat/sim/core_dispatch.hpp — the simulated module's core at work: the public side, the
// output queue and reports, command lines and their dispatch, state, reset (see module_core.hpp).
#pragma once

#include <espat/sim/module_core.hpp>

namespace espat::sim::detail {

// ------------------------------------------------------------------------------------
// The core's public side: what sim::module's members call.

// Ends everything: links and the server close, waiting coroutines return.
ESPAT_SIM_DECL void module_core::stop()
{
    if (stopped_) return;
    stopped_ = true;
    mqtt_reset();
    close_all_links(false);
    close_server();
    for (auto* t : {&out_signal_, &output_room_, &input_room_, &passthrough_wake_}) t->cancel();
}

// A reset from outside (power, the EN pin): from now on the module hears nothing until it
// has rebooted.
ESPAT_SIM_DECL void module_core::power_cycle()
{
    if (stopped_) return;
    input_ = input_mode::rebooting;
    asio::co_spawn(ex_, reboot(shared_from_this(), false), asio::detached);
}

// Bytes from the host, split anywhere.
ESPAT_SIM_DECL void module_core::on_host_bytes(std::string_view bytes)
{
    if (!line_carries(true)) return;
    while (!bytes.empty() && !stopped_) {
        switch (input_) {
        case input_mode::rebooting: return;  // a rebooting module hears nothing
        case input_mode::command: bytes = take_command_bytes(bytes); break;
        case input_mode::send_data: bytes = take_send_bytes(bytes); break;
        case input_mode::mqtt_data: bytes = take_mqtt_bytes(bytes); break;
        case input_mode::passthrough: take_passthrough_bytes(bytes); return;
        }
    }
}

// Waits for module output and returns all of it; empty once stopped (or cancelled).
ESPAT_SIM_DECL asio::awaitable<std::string> module_core::next_output()
{
    while (out_.empty() && !stopped_) {
        auto [ec] = co_await out_signal_.async_wait(use_tuple);
        (void)ec;
        auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none) co_return std::string{};
    }
    std::string all;
    all.reserve(out_bytes_);
    for (const auto& w : out_) all += w;
    out_.clear();
    out_bytes_ = 0;
    out_joinable_ = false;
    output_room_.cancel();
    if (std::exchange(uart_switch_pending_, false)) line_uart_ = uart_;
    co_return all;
}

// Waits for module output and returns its oldest write; empty once stopped (or cancelled).
ESPAT_SIM_DECL asio::awaitable<std::string> module_core::next_write()
{
    while (out_.empty() && !stopped_) {
        auto [ec] = co_await out_signal_.async_wait(use_tuple);
        (void)ec;
        auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none) co_return std::string{};
    }
    for (;;) {
        if (out_.empty()) co_return std::string{};
        std::string write = std::move(out_.front());
        out_.pop_front();
        out_bytes_ -= write.size();
        if (out_.empty()) out_joinable_ = false;  // what the module prints next is a new write
        output_room_.cancel();
        // At the UART's settings until what was printed before a change is out.
        const bool carried = line_carries(false);
        if (out_.empty() && std::exchange(uart_switch_pending_, false)) line_uart_ = uart_;
        if (carried) co_return write;
        while (out_.empty() && !stopped_) {
            auto [ec] = co_await out_signal_.async_wait(use_tuple);
            (void)ec;
            auto cs = co_await asio::this_coro::cancellation_state;
            if (cs.cancelled() != asio::cancellation_type::none) co_return std::string{};
        }
    }
}

// A host port at another rate than the module's UART hears noise, and the module noise from
// it; a host that waits for CTS sends nothing while the module does not drive RTS.
ESPAT_SIM_DECL bool module_core::line_carries(bool to_module) const
{
    if (!opts_.host_line) return true;
    const host_line_settings host = opts_.host_line();
    if (host.baud_rate != line_uart_.baud_rate) return false;
    return !to_module || !host.rts_cts || line_uart_.flow_control == uart_flow_control::rts_cts;
}

// The serve() loop's reader waits here while passthrough data is not yet forwarded.
ESPAT_SIM_DECL asio::awaitable<void> module_core::wait_input_room()
{
    while (passthrough_data_.size() > 4 * passthrough_packet && !stopped_) {
        auto [ec] = co_await input_room_.async_wait(use_tuple);
        (void)ec;
        auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none) co_return;
    }
}

ESPAT_SIM_DECL std::optional<std::uint16_t> module_core::server_port() const
{
    if (!server_) return std::nullopt;
    std::error_code ec;
    return server_->local_endpoint(ec).port();
}
ESPAT_SIM_DECL std::size_t module_core::buffered(std::uint8_t id) const
{
    return id < links_.size() && links_[id] ? links_[id]->passive_data.size() : 0;
}

// ------------------------------------------------------------------------------------
// Output.

// Part of a command's answer (or passthrough data): it joins the write before it unless that
// was a report, or was taken already.
ESPAT_SIM_DECL void module_core::emit(std::string_view bytes)
{
    if (stopped_ || bytes.empty()) return;
    if (!out_joinable_ || out_.empty()) out_.emplace_back();
    out_.back() += bytes;
    out_joinable_ = true;
    out_bytes_ += bytes.size();
    out_signal_.cancel();
}
// A write of its own, joined to nothing before or after it (a report).
ESPAT_SIM_DECL void module_core::emit_write(std::string_view bytes)
{
    if (stopped_ || bytes.empty()) return;
    out_.emplace_back(bytes);
    out_joinable_ = false;
    out_bytes_ += bytes.size();
    out_signal_.cancel();
}
// Bytes the host has not taken, with the reports a send holds back.
ESPAT_SIM_DECL std::size_t module_core::output_queued() const noexcept
{
    std::size_t n = out_bytes_;
    for (const auto& r : held_reports_) n += r.size();
    return n;
}
ESPAT_SIM_DECL void module_core::ok() { emit("\r\nOK\r\n"); }
ESPAT_SIM_DECL void module_core::error(std::uint32_t code)
{
    if (syslog_) {
        char line[32];
        std::snprintf(line, sizeof line, "ERR CODE:0x%08x\r\n", static_cast<unsigned>(code));
        emit(line);
    }
    emit("\r\nERROR\r\n");
}
ESPAT_SIM_DECL std::string module_core::link_prefix(std::uint8_t id) const
{
    return mux_ ? std::to_string(id) + "," : std::string{};
}
ESPAT_SIM_DECL void module_core::report_connect(const link& l)
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
ESPAT_SIM_DECL void module_core::report_closed(std::uint8_t id)
{
    if (chance(opts_.faults.lost_report)) return;  // lost on the wire
    emit_report(link_prefix(id) + "CLOSED\r\n");
}
// Output that is no command's answer (link reports, +IPD): a write of its own. Held during a
// send until its SEND OK / SEND FAIL unless the report_inside_send fault lets it through; the
// report_inside_echo fault tucks it into the echo of the line the host is typing.
ESPAT_SIM_DECL void module_core::emit_report(std::string_view bytes)
{
    if (in_send_phase_ && !reports_inside_send_) {
        held_reports_.emplace_back(bytes);
        return;
    }
    if (input_ == input_mode::command && echo_ && !line_.empty() && !line_overflow_ &&
        chance(opts_.faults.report_inside_echo)) {
        pending_echo_split_ += bytes;
        return;
    }
    emit_write(bytes);
}
ESPAT_SIM_DECL void module_core::release_held_reports()
{
    in_send_phase_ = false;
    for (const auto& r : std::exchange(held_reports_, {})) emit_write(r);
}

ESPAT_SIM_DECL bool module_core::chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

// ------------------------------------------------------------------------------------
// Input.

ESPAT_SIM_DECL std::string_view module_core::take_command_bytes(std::string_view bytes)
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

ESPAT_SIM_DECL void module_core::complete_line()
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
    if (fail_as_planned(line)) return;
    busy_ = true;
    asio::co_spawn(ex_, run_command(shared_from_this(), std::move(line)), asio::detached);
}

// A failure a test planned (module::fail_command) answers the line instead of running it.
ESPAT_SIM_DECL bool module_core::fail_as_planned(const std::string& line)
{
    const std::size_t index = commands_seen_++;
    if (!busy_line_.empty() && line == busy_line_ && std::chrono::steady_clock::now() < busy_until_) {
        emit("busy p...\r\n\r\nERROR\r\n");
        return true;
    }
    busy_line_.clear();
    const auto plan = std::find_if(planned_.begin(), planned_.end(), [&](const auto& p) { return p.first == index; });
    if (plan == planned_.end()) return false;
    const planned_failure how = plan->second;
    planned_.erase(plan);
    if (how == planned_failure::link_closed) {
        close_links_after_line_ = true;  // run_command closes them once the line is answered
        return false;
    }
    switch (how) {
    case planned_failure::error: emit("\r\nERROR\r\n"); break;
    case planned_failure::err_code: emit("ERR CODE:0x01090000\r\n\r\nERROR\r\n"); break;
    case planned_failure::busy:
        busy_line_ = line;
        busy_until_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
        emit("busy p...\r\n\r\nERROR\r\n");
        break;
    case planned_failure::silence: break;
    case planned_failure::reset: power_cycle(); break;
    case planned_failure::link_closed: break;
    }
    return true;
}

ESPAT_SIM_DECL asio::awaitable<void> module_core::run_command(std::shared_ptr<module_core> keep, std::string line)
{
    (void)keep;
    const auto& f = opts_.faults;
    if (chance(f.err_code_busy)) emit("ERR CODE:0x010b0000\r\n\r\nbusy p...\r\n");
    if (chance(f.busy_before_result)) emit("busy p...\r\n");
    try {
        auto request = cmd::decode_request<cmd::any_request>(line, {.multiple_links = mux_});
        if (!request) {
            if (const auto mqtt = mqtt_refusal(line)) error(*mqtt);  // the MQTT commands' own codes
            else error(known_command_word(line) ? err_code::parameter_parse_failed : err_code::unsupported_command);
        } else {
            asio::awaitable<void> op = request->visit([this](const auto& r) { return dispatch(r); });
            co_await std::move(op);
        }
    } catch (const std::exception&) {
        error();  // a value the simulator could not handle is the module's ERROR, not a crash
    }
    if (std::exchange(close_links_after_line_, false))
        for (std::shared_ptr<link> l : links_)  // copies: closing one resets its slot
            if (l && !lose_passthrough_link(l)) peer_closed(l);
    busy_ = false;  // also when a send's data phase follows: it has its own state, and reads no lines
    if (!stopped_ && input_ == input_mode::command && chance(f.spontaneous_reset))
        asio::co_spawn(ex_, reboot(shared_from_this(), false), asio::detached);
}


template <class R>
asio::awaitable<void> module_core::dispatch(const R& r)
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
asio::awaitable<void> module_core::handle(const R&)
{
    error(err_code::unsupported_command);
    co_return;
}

// ------------------------------------------------------------------------------------
// State.

ESPAT_SIM_DECL void module_core::reset_state()
{
    echo_ = true;
    mux_ = false;
    show_remote_ = false;
    recv_mode_ = recv_mode::active;
    sysmsg_ = flash_.sysmsg;
    syslog_ = false;
    passthrough_mode_ = transfer_mode::normal;
    server_max_conn_ = 5;
    server_timeout_ = std::chrono::seconds(180);
    any_link_closed_ = false;
    input_ = input_mode::command;
    line_.clear();
    line_overflow_ = false;
    busy_ = false;
    uart_ = flash_.uart;  // AT+UART_CUR lasts until a reset, AT+UART_DEF beyond
    line_uart_ = uart_;
    uart_switch_pending_ = false;
}

// The settings flash holds, as a boot finds them.
ESPAT_SIM_DECL void module_core::load_flash()
{
    wifi_mode_ = flash_.mode;
    station_ = flash_.station;
    softap_ = flash_.softap;
    softap_config_ = flash_.softap_setup;
    dhcp_interfaces_ = flash_.dhcp;
    station_mac_ = flash_.station_mac;
    softap_mac_ = flash_.softap_mac;
    dns_ = flash_.dns;
}

// The AP a booting module joins: the one saved in flash, if auto-connect is on, the station
// runs and the AP is there with that password.
ESPAT_SIM_DECL std::optional<std::size_t> module_core::boot_join() const
{
    if (!auto_connect_ || !flash_.ap || !station_enabled()) return std::nullopt;
    const auto& aps = opts_.access_points;
    const auto it = std::find_if(aps.begin(), aps.end(), [&](const auto& ap) {
        return ap.ssid == flash_.ap->ssid && ap.password == flash_.ap->password;
    });
    if (it == aps.end()) return std::nullopt;
    return static_cast<std::size_t>(it - aps.begin());
}

ESPAT_SIM_DECL bool module_core::station_enabled() const
{
    return wifi_mode_ == wifi_mode::station || wifi_mode_ == wifi_mode::station_softap;
}
ESPAT_SIM_DECL bool module_core::has_ip() const { return joined_.has_value(); }

ESPAT_SIM_DECL std::optional<std::uint8_t> module_core::free_link_id() const
{
    for (std::uint8_t i = 0; i < links_.size(); ++i)
        if (!links_[i]) return i;
    return std::nullopt;
}
ESPAT_SIM_DECL bool module_core::any_link() const
{
    return std::any_of(links_.begin(), links_.end(), [](const auto& l) { return l != nullptr; });
}
// The link a command names: its leading id in multi-link mode, link 0 in single.
ESPAT_SIM_DECL std::shared_ptr<link> module_core::link_for(const std::optional<link_id>& id) const
{
    const std::uint8_t i = mux_ ? (id ? id->value() : 0xff) : 0;
    if (i >= links_.size() || (!mux_ && id)) return nullptr;
    return links_[i];
}

// ------------------------------------------------------------------------------------
// Reset.

// A reboot ends whatever passthrough session ran (its relay loop and its reconnection
// tries) with its link; a link saved by AT+SAVETRANSLINK=1 then starts a new session at
// "ready" (firmware-quirks.md: the module "boots straight into passthrough: no prompt until
// the host sends +++"), which connects once the module has its IP again.
ESPAT_SIM_DECL asio::awaitable<void> module_core::reboot(std::shared_ptr<module_core> keep, bool factory)
{
    (void)keep;
    input_ = input_mode::rebooting;
    const std::uint64_t this_boot = ++boots_;
    ++passthrough_sessions_;     // the old session is over...
    passthrough_wake_.cancel();  // ...and its relay loop sees it now
    const bool was_joined = joined_.has_value();
    if (was_joined) emit_write("WIFI DISCONNECT\r\n");
    in_send_phase_ = false;
    held_reports_.clear();
    mqtt_reset();  // nothing of the MQTT configuration is kept in flash
    close_all_links(false);
    close_server();
    passthrough_data_.clear();
    asio::steady_timer t(ex_);
    t.expires_after(opts_.reset_delay);
    auto [ec] = co_await t.async_wait(use_tuple);
    (void)ec;
    if (stopped_ || boots_ != this_boot) co_return;  // stopped, or a later reset took over
    if (factory) {
        flash_ = flash_settings{};
        store_ = true;
        saved_passthrough_ = false;
        saved_link_.reset();
        rf_power_ = default_rf_power(opts_.firmware);
        auto_connect_ = true;
        join_attempted_ = false;
    }
    reset_state();
    load_flash();
    joined_ = boot_join();
    emit_write(opts_.firmware.boot_noise);
    emit_write("\r\nready\r\n");
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
        while (!stopped_ && boots_ == this_boot && (busy_ || input_ == input_mode::send_data || input_ == input_mode::mqtt_data ||
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

}  // namespace espat::sim::detail
