// espat/client/impl/reports.hpp — basic_client's reports: listeners, Wi-Fi events, a module
// reset, the transcript and the statistics.
//
// Out of the class so that a program built with ESPAT_SEPARATE_COMPILATION compiles them once,
// in espat::compiled, for the stacks of detail/stacks.hpp (client.hpp includes this file).
#pragma once

#include <espat/client.hpp>

namespace espat {

template <class AsyncStream>
auto basic_client<AsyncStream>::add_report_listener(std::function<void(const proto::event&)> listener) -> listener_id
{
    listeners_.push_back({next_listener_, std::move(listener)});
    return next_listener_++;
}

template <class AsyncStream>
auto basic_client<AsyncStream>::remove_report_listener(listener_id id) -> void
{
    for (auto& l : listeners_)
        if (l.first == id) l.second = nullptr;  // erased after the current delivery
    if (delivering_ == 0) compact_listeners();
}

template <class AsyncStream>
auto basic_client<AsyncStream>::deliver(const proto::event& e) -> void
{
    if (auto w = wifi_event_of(e)) push_wifi_event(std::move(*w));
    ++delivering_;
    for (std::size_t i = 0; i < listeners_.size(); ++i)  // a listener may add listeners
        if (listeners_[i].second) listeners_[i].second(e);
    if (--delivering_ == 0) compact_listeners();
}

template <class AsyncStream>
auto basic_client<AsyncStream>::compact_listeners() -> void
{
    std::erase_if(listeners_, [](const auto& l) { return !l.second; });
}

template <class AsyncStream>
auto basic_client<AsyncStream>::on_module_reset() -> void
{
    module_uart_reset_ = true;  // AT+UART_CUR lasts until a reset
    // The listeners had "ready" from the session's sink, in wire order (on_report).
    ready_seen_ = true;
    ready_wait_.cancel();
    // A start-up in progress sees device_reset and starts over by itself.
    if (started_ && options_.restart_after_reset && !starting_) {
        gate_closed_ = true;  // from now on: nothing of the user's before the module is set up again
        asio::co_spawn(strand_, start_sequence(), [this](std::exception_ptr, result<firmware_profile> r) {
            last_restart_error_ = r ? std::error_code{} : r.error();
        });
    }
}

template <class AsyncStream>
auto basic_client<AsyncStream>::push_wifi_event(wifi_event e) -> void
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

template <class AsyncStream>
auto basic_client<AsyncStream>::add_wifi_waiter(std::uint64_t ticket, wifi_completion done) -> void
{
    if (fatal_) return done->complete(tl::make_unexpected(fatal_));
    if (!wifi_events_.empty()) {
        wifi_event e = std::move(wifi_events_.front());
        wifi_events_.pop_front();
        return done->complete(std::move(e));
    }
    wifi_waiters_.emplace_back(ticket, std::move(done));
}

template <class AsyncStream>
auto basic_client<AsyncStream>::cancel_wifi_waiter(std::uint64_t ticket) -> void
{
    auto it = std::find_if(wifi_waiters_.begin(), wifi_waiters_.end(), [&](const auto& w) { return w.first == ticket; });
    if (it == wifi_waiters_.end()) return;  // already given an event
    auto done = std::move(it->second);
    wifi_waiters_.erase(it);
    done->complete(tl::make_unexpected(make_error_code(errc::cancelled)));
}

template <class AsyncStream>
auto basic_client<AsyncStream>::record(proto::transcript_line::direction dir, std::string_view bytes) -> void
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

template <class AsyncStream>
auto basic_client<AsyncStream>::record_transcript(bool on) -> void
{
    if (on) transcript_.emplace();
    else transcript_.reset();
}

template <class AsyncStream>
auto basic_client<AsyncStream>::stats() const -> client_stats
{
    client_stats s = stats_;
    s.session = session_.stats();
    return s;
}

template <class AsyncStream>
auto basic_client<AsyncStream>::is_sendex_line(std::string_view line) -> bool
{
    if (line.ends_with("\r\n")) line.remove_suffix(2);
    return commands::decode_request<commands::device_request<commands::cipsendex, commands::cipsendex_udp>>(line)
        .has_value();
}

template <class AsyncStream>
auto basic_client<AsyncStream>::echoed_send_length(std::string_view echoed) -> std::optional<std::size_t>
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

}  // namespace espat
