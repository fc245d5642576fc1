// recorder.hpp — test helper: owned copies of parser events, so events from different
// feeds (whole, byte by byte, random splits) can be stored and compared.
#pragma once

#include <espat/proto/parser.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace espat::proto {
inline std::ostream& operator<<(std::ostream& os, event_kind k) { return os << to_string(k); }

inline std::ostream& operator<<(std::ostream& os, const owned_event& e)
{
    os << to_string(e.kind) << "{link=" << e.link << " value=" << e.value;
    if (!e.text.empty()) os << " text=\"" << e.text << '"';
    if (!e.name.empty()) os << " name=" << e.name << " args=\"" << e.args << '"';
    if (!e.remote_host.empty()) os << " remote=" << e.remote_host << ':' << e.remote_port;
    if (!e.payload.empty() || e.kind == event_kind::ipd || e.kind == event_kind::recv_data ||
        e.kind == event_kind::mqtt_message || e.kind == event_kind::http_data)
        os << " payload[" << e.payload.size() << "]";
    return os << '}';
}
}  // namespace espat::proto

namespace espat::test {

using proto::owned_event;

// Raw-data events in passthrough mode are split wherever the input was; everything else is
// one event per thing the module said. Adjacent raw_data events are merged so feeds compare.
struct recorder {
    std::vector<owned_event> events;
    void operator()(const proto::event& e)
    {
        if (e.kind == proto::event_kind::raw_data && !events.empty() &&
            events.back().kind == proto::event_kind::raw_data) {
            events.back().payload.append(e.payload);
            return;
        }
        events.emplace_back(e);
    }
};

// Feeds `bytes` in chunks whose sizes come from `next_size` (called until all is fed). At the
// end of the input a +IPD frame that waits for what follows it is handed out, as the session
// does once the line goes quiet.
template <class NextSize>
std::vector<owned_event> parse_in_chunks(std::string_view bytes, NextSize next_size,
                                         proto::parser_limits limits = {})
{
    proto::parser p(limits);
    recorder r;
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        std::size_t n = next_size();
        if (n == 0) n = 1;
        n = std::min(n, bytes.size() - pos);
        p.feed(bytes.substr(pos, n), r);
        pos += n;
    }
    p.release_held_frame(r);
    return std::move(r.events);
}

inline std::vector<owned_event> parse_whole(std::string_view bytes, proto::parser_limits limits = {})
{
    return parse_in_chunks(bytes, [&] { return bytes.size(); }, limits);
}

// Feeds `bytes` split in two at every point; returns the first split whose events differ
// from `whole`, or nullopt when all agree.
inline std::optional<std::size_t> first_disagreeing_split(std::string_view bytes, const std::vector<owned_event>& whole,
                                                          proto::parser_limits limits = {})
{
    for (std::size_t split = 1; split < bytes.size(); ++split) {
        bool first = true;
        auto events = parse_in_chunks(
            bytes,
            [&] {
                const std::size_t n = first ? split : bytes.size();
                first = false;
                return n;
            },
            limits);
        if (events != whole) return split;
    }
    return std::nullopt;
}

}  // namespace espat::test
