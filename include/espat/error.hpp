// espat/error.hpp — espat's error codes: the library's own conditions, and the module's
// "ERR CODE:0x........" numbers as a category of their own so nothing the module said is lost.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <system_error>

namespace espat {

// Conditions the library reports.
enum class errc {
    timeout = 1,         // the module did not answer in time
    busy,                // the module kept answering "busy p..."
    device_reset,        // the module rebooted ("ready") while the operation was pending
    link_closed,         // the link was closed by the peer or the module
    link_invalid,        // the link id is unknown to the module, or a stale handle
    send_failed,         // SEND FAIL
    protocol_error,      // the module's output could not be parsed
    command_failed,      // ERROR (or FAIL) with no ERR CODE to say more
    invalid_argument,    // a value the command cannot carry (CR, LF, NUL, out of range, too long)
    already_connected,   // ALREADY CONNECTED
    dns_failed,          // DNS Fail
    not_supported,       // the module's firmware has no such command or form
    cancelled,           // the caller cancelled the operation
    receive_overflow,    // active receive: data came faster than it was read and was lost
    response_too_large,  // a response held more than session_options::max_response_bytes
    undo_failed,         // an operation failed, and undoing what it had changed failed too
    receive_mode_conflict,  // UDP needs active receive; this firmware's one mode for all links is passive
    // Why a join (AT+CWJAP) failed, from the module's +CWJAP:<code> line.
    join_timeout,        // the AP did not answer in time
    wrong_password,      // the AP refused the password
    ap_not_found,        // no AP with that SSID (and BSSID) in range
    join_failed,         // the connection failed for another reason
};

namespace detail {

class espat_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "espat"; }
    std::string message(int ev) const override
    {
        switch (static_cast<errc>(ev)) {
        case errc::timeout: return "the module did not answer in time";
        case errc::busy: return "the module is busy processing a previous command";
        case errc::device_reset: return "the module reset";
        case errc::link_closed: return "the link is closed";
        case errc::link_invalid: return "the link is not valid";
        case errc::send_failed: return "the module failed to send the data";
        case errc::protocol_error: return "the module's output could not be parsed";
        case errc::command_failed: return "the module answered ERROR";
        case errc::invalid_argument: return "the argument cannot be sent to the module";
        case errc::already_connected: return "the link is already connected";
        case errc::dns_failed: return "the module could not resolve the host name";
        case errc::not_supported: return "the module's firmware does not support this";
        case errc::cancelled: return "the operation was cancelled";
        case errc::receive_overflow: return "received data overflowed the link's buffer (use passive receive mode)";
        case errc::response_too_large: return "the module's response was larger than the session keeps for one command";
        case errc::undo_failed: return "the operation failed, and undoing its changes failed too: the module's modes are set again by the next operation";
        case errc::receive_mode_conflict:
            return "UDP links need active receive, and this firmware has one receive mode for all links, passive for "
                   "streams here: set network_options::stream_receive to receive_mode::active to use UDP links";
        case errc::join_timeout: return "joining the access point timed out";
        case errc::wrong_password: return "the access point refused the password";
        case errc::ap_not_found: return "no access point with that SSID was found";
        case errc::join_failed: return "joining the access point failed";
        }
        return "unknown espat error";
    }
    std::error_condition default_error_condition(int ev) const noexcept override
    {
        switch (static_cast<errc>(ev)) {
        case errc::timeout: return std::errc::timed_out;
        case errc::invalid_argument: return std::errc::invalid_argument;
        case errc::cancelled: return std::errc::operation_canceled;
        case errc::not_supported: return std::errc::not_supported;
        default: return {ev, *this};
        }
    }
};

// Values are the module's 32-bit ERR CODE numbers, e.g. 0x01030000.
class module_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "esp-at"; }
    std::string message(int ev) const override
    {
        const auto code = static_cast<std::uint32_t>(ev);
        char hex[24];
        std::snprintf(hex, sizeof hex, "ERR CODE:0x%08x", static_cast<unsigned>(code));
        // The module's code is 0x01<error type><parameter index>00 per the ESP-AT manual.
        const char* what = "error";
        switch ((code >> 16) & 0xff) {
        case 0x01: what = "no terminator"; break;
        case 0x02: what = "no \"AT\" found"; break;
        case 0x03: what = "parameter length mismatch"; break;
        case 0x04: what = "parameter type mismatch"; break;
        case 0x05: what = "parameter number mismatch"; break;
        case 0x06: what = "invalid parameter"; break;
        case 0x07: what = "parse parameter fail"; break;
        case 0x08: what = "command not supported"; break;
        case 0x09: what = "command execution failed"; break;
        case 0x0a: what = "buffer processing error"; break;
        case 0x0b: what = "previous command still processing"; break;
        default: break;
        }
        return std::string(hex) + " (" + what + ")";
    }
};

}  // namespace detail

inline const std::error_category& espat_category() noexcept
{
    static const detail::espat_category_impl c;
    return c;
}

inline const std::error_category& module_category() noexcept
{
    static const detail::module_category_impl c;
    return c;
}

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), espat_category()}; }

// The error a module's ERR CODE line stands for.
inline std::error_code make_module_error(std::uint32_t err_code) noexcept
{
    return {static_cast<int>(err_code), module_category()};
}

}  // namespace espat

template <>
struct std::is_error_code_enum<espat::errc> : std::true_type {};
