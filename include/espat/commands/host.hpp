// espat/commands/host.hpp — the host side of the command table: typed request -> command
// line bytes, and collected response lines -> typed result. Generated from the descriptors.
#pragma once

#include <espat/commands/descriptor.hpp>
#include <espat/error.hpp>

#include <span>
#include <string>
#include <system_error>

namespace espat::commands {

namespace detail {
inline std::error_code finish_line(std::string& out, std::size_t start)
{
    out += "\r\n";
    if (out.size() - start > max_command_line) {
        out.resize(start);
        return make_error_code(errc::invalid_argument);
    }
    return {};
}
}  // namespace detail

template <has_test C>
void encode_test(std::string& out)
{
    out += C::command;
    out += "=?\r\n";
}

template <has_query C>
void encode_query(std::string& out)
{
    out += C::command;
    out += "?\r\n";
}

template <has_execute C>
void encode_execute(std::string& out)
{
    out += C::command;
    out += "\r\n";
}

// Appends "AT+X=<params>\r\n". A parameter that cannot be sent (CR, LF or NUL in a string,
// over its length, out of range) or a line over 256 bytes leaves `out` as it was and
// returns errc::invalid_argument; `bad_param`, if given, receives the parameter's index.
template <has_set C>
std::error_code encode_set(std::string& out, const typename C::set::request& r, int* bad_param = nullptr)
{
    const std::size_t start = out.size();
    out += C::command;
    out += '=';
    const int bad = detail::encode_params(out, r, typename C::set::params{});
    if (bad_param) *bad_param = bad;
    if (bad >= 0) {
        out.resize(start);
        return make_error_code(errc::invalid_argument);
    }
    return detail::finish_line(out, start);
}

// Why a command failed, for a command whose table entry reads the lines before its ERROR
// (C::failure_line: AT+CWJAP's +CWJAP:<code>, say): that reason's error code; else `ec`.
template <class C>
std::error_code failure_reason(std::error_code ec, std::span<const response_line> lines)
{
    if constexpr (requires { typename C::failure_line; }) {
        if (auto reason = C::failure_line::decode(lines); reason && *reason) return make_error_code(**reason);
    }
    return ec;
}

// Reads the information lines of a successful response into the form's typed result.
template <class Form>
std::optional<typename Form::response::value_type> decode_response(std::span<const response_line> lines)
{
    return Form::response::decode(lines);
}

}  // namespace espat::commands
