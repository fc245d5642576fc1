// espat/proto/session_echo.hpp — the echo of a command's line (ATE1): what comes before it is
// older, and an echo that is not the line written fails the command.
#pragma once

#include <espat/proto/session.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace espat::proto {

// The command's line is out and its echo has not come (whole): an echo, or what the
// module made of the line, decides; anything else is an earlier exchange's and dropped.
inline void session::on_echo_wait(const event& e, clock::time_point now)
{
    entry& c = *current_;
    std::string_view line = c.cmd.line;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    const std::string_view t = e.text;
    const bool echo_like = e.kind == event_kind::echo || e.kind == event_kind::text || e.kind == event_kind::noise;
    if (c.echo == echo_state::partial) {
        // The rest of an echo a frame cut short comes as a line of its own; anything else
        // means the echo ended where it did: a byte was lost from the line.
        const std::string_view rest = line.substr(c.echo_have);
        if (echo_like && t == rest) return echo_verified(c);
        if (echo_like && t.size() < rest.size() && rest.starts_with(t)) {
            c.echo_have += t.size();
            return expect_echo_rest(line.substr(c.echo_have));
        }
        if (echo_like) return echo_garbled(c, std::string(line.substr(0, c.echo_have)) + std::string(t));
        echo_garbled(c, std::string(line.substr(0, c.echo_have)));
        return on_command_event(e, now);
    }
    if (e.kind == event_kind::echo) {
        if (t == line) return echo_verified(c);
        if (!t.empty() && t.size() < line.size() && line.starts_with(t)) {
            c.echo = echo_state::partial;
            c.echo_have = t.size();
            return expect_echo_rest(line.substr(c.echo_have));
        }
    }
    if (echo_like && t.size() > line.size() && t.ends_with(line)) {
        // Stray bytes, then the line: the module answers the whole (with ERROR). They were
        // the end of the send before, one byte longer than it said: a doubled byte.
        ++stats_.garbled_echoes;
        c.echo = echo_state::leftover;
        c.damaged = true;
        if (last_send_link_ >= 0) {
            event lost;
            lost.kind = event_kind::protocol_error;
            lost.value = static_cast<std::uint32_t>(protocol_error_reason::send_corrupted);
            lost.text = to_string(protocol_error_reason::send_corrupted);
            lost.name = "CIPSEND";
            lost.link = static_cast<std::int8_t>(last_send_link_);
            last_send_link_ = -1;
            to_sink(lost);
        }
        return;
    }
    if (e.kind == event_kind::echo) return echo_garbled(c, std::string(t));
    // A busy line or an ERR CODE comes whether or not the echo did: it extends the deadline.
    if (e.kind == event_kind::busy || e.kind == event_kind::err_code) return on_command_event(e, now);
    if (e.kind == event_kind::prompt && (c.cmd.payload || c.cmd.passthrough)) {
        // The module wants data after a line whose echo was lost beyond recognition: it
        // took some send, of a length nobody can tell. It gets zeros, never the caller's
        // bytes (they would reach its command interpreter if it wanted fewer).
        ++stats_.garbled_echoes;
        c.echo = echo_state::garbled;
        c.damaged = !c.cmd.passthrough;
        return on_command_event(e, now);
    }
    ++stats_.stray_lines;
}

inline void session::echo_verified(entry& c)
{
    c.echo = echo_state::verified;
    last_send_link_ = -1;  // bytes left over by a send would have come before this line
    expect_echo_rest({});
}

inline void session::echo_garbled(entry& c, std::string echoed)
{
    ++stats_.garbled_echoes;
    expect_echo_rest({});
    c.echo = echo_state::garbled;
    c.damaged = true;
    if (c.cmd.data_length) c.echoed_length = c.cmd.data_length(echoed);
    // The same send after all (a doubled link id "00", say): nothing is wrong with it.
    if (c.echoed_length && c.cmd.payload && *c.echoed_length == c.cmd.payload->size()) {
        c.echo = echo_state::verified;
        c.damaged = false;
    }
}

// The parser may take the rest of a cut echo for what follows a +IPD payload.
inline void session::expect_echo_rest(std::string_view rest)
{
    echo_rest_.assign(rest);
    parser_.expect_echo_rest(echo_rest_);
}

}  // namespace espat::proto
