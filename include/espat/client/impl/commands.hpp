// espat/client/impl/commands.hpp — basic_client's command calls: a command line and its typed
// answer, the raw escape hatch, and the data paths (AT+CIPSEND, AT+CIPRECVDATA, passthrough).
//
// Templates on the command and the caller's token, compiled where they are called; out of the
// class so that client.hpp reads as the client's interface (client.hpp includes this file).
#pragma once

#include <espat/client.hpp>

namespace espat {

template <class AsyncStream>
template <class Token>
auto basic_client<AsyncStream>::async_send_command(proto::command command, Token&& token)
{
    return detail::initiate_result<proto::command_result>(
        [this](auto handler, auto form, proto::command c) {
            auto whole = [](proto::command_result&& r) {
                return detail::with_error<proto::command_result>{r.ec, std::move(r)};
            };
            auto done = detail::make_completion<proto::command_result>(
                std::move(handler), detail::composed_transform<decltype(whole), decltype(form)>{whole, form}, strand_, arena_);
            if (c.payload && !c.escaped_data) c.escaped_data = is_sendex_line(c.line);
            const std::error_code refused = c.escape || commands::sendable_line(c.line)
                                                ? std::error_code{}
                                                : make_error_code(errc::invalid_argument);
            post_op(op_request{std::move(c), std::move(done), refused});
        },
        token, std::move(command));
}

template <class AsyncStream>
template <class Token>
auto basic_client<AsyncStream>::async_send_data(std::optional<link_id> link, std::string data, call_options o,
                                                Token&& token)
{
    std::string line;
    std::error_code ec = make_error_code(errc::invalid_argument);
    const auto length = send_length::checked(static_cast<std::int64_t>(data.size()));
    if (length) ec = commands::encode_set<commands::cipsend>(line, cipsend_request{link, *length});
    const std::size_t n = data.size();
    return async_send_payload<commands::cipsend>(std::move(line), ec, std::move(data), n, link, o,
                                                 std::forward<Token>(token));
}

template <class AsyncStream>
template <class Token>
auto basic_client<AsyncStream>::async_send_data_ex(std::optional<link_id> link, std::string_view data,
                                                   std::optional<asio::ip::udp::endpoint> to, call_options o,
                                                   Token&& token)
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

template <class AsyncStream>
template <class Token>
auto basic_client<AsyncStream>::async_recv_data(std::optional<link_id> link, std::size_t max, call_options o,
                                                Token&& token)
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

template <class AsyncStream>
template <class Token>
auto basic_client<AsyncStream>::async_enter_passthrough(call_options o, Token&& token)
{
    std::string line;
    commands::encode_execute<commands::cipsend>(line);
    proto::command c{.line = std::move(line), .timeout = timeout_of<commands::cipsend>(o),
                     .busy_retries = o.busy_retries, .passthrough = true};
    return async_initiate_result<void>(
        std::move(c), {}, {}, version_range{}, 0, [](std::size_t, proto::command_result&&) -> result<void> { return {}; },
        std::forward<Token>(token));
}

template <class AsyncStream>
template <class C>
auto basic_client<AsyncStream>::redacted_line(const typename C::set::request& request) -> std::string
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

template <class AsyncStream>
template <class Form>
auto basic_client<AsyncStream>::decode_typed(proto::command_result&& r) -> result<typename Form::response::value_type>
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

template <class AsyncStream>
template <class C, class Token>
auto basic_client<AsyncStream>::async_send_payload(std::string line, std::error_code refused, std::string payload,
                                                   std::size_t n, std::optional<link_id> link, const call_options& o,
                                                   Token&& token)
{
    proto::command c{.line = std::move(line), .timeout = timeout_of<C>(o), .payload = std::move(payload),
                     .busy_retries = o.busy_retries,
                     .escaped_data = std::is_same_v<C, commands::cipsendex> || std::is_same_v<C, commands::cipsendex_udp>,
                     .link = link ? static_cast<int>(link->value()) : 0, .data_length = &basic_client::echoed_send_length};
    return async_initiate_result<std::size_t>(
        std::move(c), refused, {}, version_range{}, n,
        [](std::size_t sent, proto::command_result&&) -> result<std::size_t> { return sent; },
        std::forward<Token>(token));
}

template <class AsyncStream>
template <class C, class Form, class Token>
auto basic_client<AsyncStream>::async_typed(std::string line, std::error_code refused, std::string shown,
                                            const call_options& o, Token&& token)
{
    using value_type = typename Form::response::value_type;
    proto::command c{.line = std::move(line), .timeout = timeout_of<C>(o), .busy_retries = o.busy_retries};
    if constexpr (requires { typename C::failure_line; }) {
        // The table reads why it failed (AT+CWJAP's +CWJAP:<code>): that is its error.
        using T = std::conditional_t<std::is_same_v<value_type, commands::nothing>, void, value_type>;
        auto finish = [this](std::size_t, proto::command_result&& r) -> result<T> {
            if constexpr (std::is_same_v<typename Form::response, commands::no_info>) return finish_nothing{this}(0, std::move(r));
            else return decode_typed<Form>(std::move(r));
        };
        return async_initiate_result<T>(
            std::move(c), refused, std::move(shown), version_range::template of<C>(), 0,
            finish_with_reason<C, decltype(finish)>{std::move(finish)}, std::forward<Token>(token));
    } else if constexpr (std::is_same_v<typename Form::response, commands::no_info>) {
        // A form answered by its final result alone shares one finish with all the others: the
        // machinery from here to the handler is then compiled once per token, not per command.
        return async_initiate_result<void>(std::move(c), refused, std::move(shown), version_range::template of<C>(), 0,
                                           finish_nothing{this}, std::forward<Token>(token));
    } else {
        return async_initiate_result<value_type>(
            std::move(c), refused, std::move(shown), version_range::template of<C>(), 0,
            [this](std::size_t, proto::command_result&& r) { return decode_typed<Form>(std::move(r)); },
            std::forward<Token>(token));
    }
}

template <class AsyncStream>
template <class C, class Finish>
struct basic_client<AsyncStream>::finish_with_reason {
    Finish finish;
    auto operator()(std::size_t extra, proto::command_result&& r) { return finish(extra, std::move(r)); }
    std::error_code failed(const proto::command_result& r) const
    {
        if (r.ec != errc::command_failed && r.ec.category() != module_category()) return r.ec;
        std::vector<commands::response_line> lines;
        lines.reserve(r.lines.size());
        for (const auto& l : r.lines) lines.push_back({l.name, l.args});
        return commands::failure_reason<C>(r.ec, lines);
    }
};

template <class AsyncStream>
template <class T, class Finish, class Token>
auto basic_client<AsyncStream>::async_initiate_result(proto::command c, std::error_code refused, std::string shown,
                                                      version_range versions, std::size_t extra, Finish finish,
                                                      Token&& token)
{
    return detail::initiate_result<T>(
        [this](auto handler, auto form, proto::command c, std::error_code refused, std::string shown,
               version_range versions, std::size_t extra, Finish finish) {
            auto value = [finish = std::move(finish), extra](proto::command_result&& r) mutable -> result<T> {
                if (r.ec) {
                    if constexpr (requires { finish.failed(r); }) return tl::make_unexpected(finish.failed(r));
                    return tl::make_unexpected(r.ec);
                }
                return finish(extra, std::move(r));
            };
            auto done = detail::make_completion<proto::command_result>(
                std::move(handler), detail::composed_transform<decltype(value), decltype(form)>{std::move(value), form},
                strand_, arena_);
            post_op(op_request{std::move(c), std::move(done), refused, std::move(shown), versions});
        },
        std::forward<Token>(token), std::move(c), refused, std::move(shown), versions, extra, std::move(finish));
}

}  // namespace espat
