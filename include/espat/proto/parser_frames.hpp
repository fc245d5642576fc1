// espat/proto/parser_frames.hpp — the parser's length-framed data: +IPD, +CIPRECVDATA, +MQTTSUBRECV
// and +HTTP... headers, parsed in place or byte by byte, and their payloads, counted and never scanned.
#pragma once

#include <espat/detail/chars.hpp>
#include <espat/proto/parser.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace espat::proto {

// The link id a +IPD header begins with ("<id>,..."), if it does: a header broken further
// on is still that link's. -1 when it cannot say, or when the bytes taken for the header
// hold the start of another frame (NONOS prints frames back to back): that one is lost too.
inline int parser::header_link(std::string_view hv) noexcept
{
    if (holds_frame_remnant(hv)) return -1;
    return hv.size() >= 3 && espat::detail::is_digit(hv[0]) && hv[1] == ',' && espat::detail::is_digit(hv[2]) ? hv[0] - '0' : -1;
}

// After "+IPD,": the usual headers ("<id>,<len>:", "<len>:", and either with
// ',"<ip>",<port>' before the ':') parsed straight from the chunk when all of the header
// is in it, and the frame handed out at once when its payload is too. Anything else, or
// a header cut by the chunk's end, goes through on_ipd_header as before.
template <class H>
inline const char* parser::ipd_in_place(const char* const p, const char* const end, H& h)
{
    using espat::detail::is_digit;
    const char* q = p;
    // Up to `max` digits; 0 digits or more than `max` fails (the slow path judges those).
    auto number = [&](std::size_t max, std::uint32_t& v) noexcept {
        const char* const first = q;
        std::uint32_t x = 0;
        while (q != end && is_digit(*q)) {
            if (static_cast<std::size_t>(q - first) == max) return false;
            x = x * 10 + static_cast<std::uint32_t>(*q++ - '0');
        }
        v = x;
        return q != first && q != end;
    };
    event& e = frame_;
    reset_event(e, event_kind::ipd);
    std::uint32_t a = 0, len = 0;
    if (!number(5, a)) return fallback_ipd(p);
    if (*q == ',' && q + 1 != end && is_digit(q[1])) {  // "<id>,<len>"
        ++q;
        if (a > 9 || q - p != 2 || !number(5, len)) return fallback_ipd(p);
        e.link = static_cast<std::int8_t>(a);
    } else {
        len = a;
    }
    if (len > limits_.max_ipd_payload) return fallback_ipd(p);
    e.value = len;
    if (*q == ',') {  // ,"<ip>",<port>
        if (++q == end || *q != '"') return fallback_ipd(p);
        const char* const host = ++q;
        while (q != end && *q != '"') {
            const char c = *q++;
            if (espat::detail::hex_value(c) < 0 && c != '.' && c != ':' && c != '%') return fallback_ipd(p);
        }
        const std::size_t host_len = static_cast<std::size_t>(q - host);
        if (q == end || host_len == 0 || host_len > 45 || ++q == end || *q++ != ',') return fallback_ipd(p);
        std::uint32_t port = 0;
        if (q == end || !number(5, port) || port > 65535) return fallback_ipd(p);
        e.remote_host = std::string_view(host, host_len);
        e.remote_port = static_cast<std::uint16_t>(port);
    }
    if (*q != ':') return fallback_ipd(p);
    ++q;
    if (static_cast<std::size_t>(end - q) >= len) {  // payload here too: hand it out in place
        e.payload = std::string_view(q, len);
        const char* const after = q + len;
        if (end - after >= 2 && after[0] == '\r' && after[1] == '\n') {  // the usual: CR LF follows
            h(static_cast<const event&>(e));
            return after;
        }
        return end_of_frame(after, end, h);
    }
    if (!e.remote_host.empty()) {  // the frame outlives this chunk: keep the host
        std::memcpy(header_.data(), e.remote_host.data(), e.remote_host.size());
        e.remote_host = std::string_view(header_.data(), e.remote_host.size());
    }
    frame_have_ = 0;
    state_ = state::payload;
    return q;
}

inline const char* parser::fallback_ipd(const char* p) noexcept
{
    begin_frame(prefix::ipd);
    return p;
}

// +IPD,<fields> up to ':' (data follows) or the line end (a passive-mode notification).
template <class H>
inline const char* parser::on_ipd_header(const char* p, const char* end, H& h)
{
    while (p != end) {
        const char c = *p++;
        if (c == '\n' || (c == ':' && !in_quotes_)) {
            finish_ipd_header(c == ':', h);
            return p;
        }
        if (c == '"') in_quotes_ = !in_quotes_;
        if (header_len_ == max_header) {
            bad_header(protocol_error_reason::bad_frame_header, false, h, "IPD",
                       header_link(std::string_view(header_.data(), header_len_)));
            return p;
        }
        header_[header_len_++] = c;
    }
    return end;
}

template <class H>
inline void parser::finish_ipd_header(bool with_data, H& h)
{
    std::string_view hv(header_.data(), header_len_);
    while (!with_data && !hv.empty() && hv.back() == '\r') hv.remove_suffix(1);
    event e;
    e.kind = with_data ? event_kind::ipd : event_kind::ipd_notify;
    if (!parse_ipd_fields(hv, e))
        return bad_header(protocol_error_reason::bad_frame_header, !with_data, h, "IPD", header_link(hv));
    if (!with_data) {
        state_ = state::line;
        h(static_cast<const event&>(e));
        return;
    }
    if (e.value > limits_.max_ipd_payload)
        return bad_header(protocol_error_reason::frame_too_long, false, h, "IPD", e.link);
    begin_payload(e);
}

// [<id>,]<len>[,<ip>,<port>]: one, two, three or four fields.
inline bool parser::parse_ipd_fields(std::string_view hv, event& e) noexcept
{
    std::string_view f[4];
    std::size_t n = 0, start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i <= hv.size(); ++i) {
        if (i == hv.size() || (hv[i] == ',' && !quoted)) {
            if (n == 4) return false;
            f[n++] = hv.substr(start, i - start);
            start = i + 1;
        } else if (hv[i] == '"') {
            quoted = !quoted;
        }
    }
    const bool has_id = n == 2 || n == 4;
    if (has_id) {
        auto id = espat::detail::parse_u32(f[0]);
        if (!id || *id > 9) return false;
        e.link = static_cast<std::int8_t>(*id);
    }
    auto len = espat::detail::parse_u32(f[has_id ? 1 : 0]);
    if (!len) return false;
    e.value = *len;
    if (n >= 3) return parse_remote(f[n - 2], f[n - 1], e);
    return true;
}

inline bool parser::valid_host(std::string_view host) noexcept
{
    if (host.empty() || host.size() > 45) return false;
    for (char c : host)
        if (espat::detail::hex_value(c) < 0 && c != '.' && c != ':' && c != '%') return false;
    return true;
}

inline bool parser::parse_remote(std::string_view host, std::string_view port, event& e) noexcept
{
    host = espat::detail::strip_quotes(host);
    auto pv = espat::detail::parse_u32(port);
    if (!valid_host(host) || !pv || *pv > 65535) return false;
    e.remote_host = host;
    e.remote_port = static_cast<std::uint16_t>(*pv);
    return true;
}

// +CIPRECVDATA:<len>,[<ip>,<port>,]<data> or NONOS +CIPRECVDATA,<len>:<data>
template <class H>
inline const char* parser::on_recv_header(const char* p, const char* end, H& h)
{
    while (p != end) {
        const char c = *p;
        switch (phase_) {
        case recv_phase::length:
        case recv_phase::nonos_length: {
            ++p;
            const char stop = phase_ == recv_phase::length ? ',' : ':';
            if (c != stop) {
                if (!espat::detail::is_digit(c) || header_len_ == 10) {
                    bad_header(protocol_error_reason::bad_frame_header, c == '\n', h, "CIPRECVDATA");
                    return p;
                }
                header_[header_len_++] = c;
                break;
            }
            auto len = espat::detail::parse_u32(std::string_view(header_.data(), header_len_));
            const std::size_t limit =
                recv_request_ != 0 ? std::min(recv_request_, limits_.max_recv_payload) : limits_.max_recv_payload;
            recv_request_ = 0;
            if (!len) {
                bad_header(protocol_error_reason::bad_frame_header, false, h, "CIPRECVDATA");
                return p;
            }
            if (*len > limit) {
                bad_header(protocol_error_reason::frame_too_long, false, h, "CIPRECVDATA");
                return p;
            }
            frame_ = event{};
            frame_.kind = event_kind::recv_data;
            frame_.value = *len;
            header_len_ = 0;
            if (phase_ == recv_phase::nonos_length) return begin_payload(frame_), p;
            phase_ = recv_phase::remote_or_data;
            break;
        }
        case recv_phase::remote_or_data:
            if (recv_remote_ == remote_info::present || (recv_remote_ == remote_info::detect && c == '"')) {
                phase_ = recv_phase::remote_host;
                in_quotes_ = false;
                port_digits_ = 0;
                break;
            }
            return begin_payload(frame_), p;
        case recv_phase::remote_host:
            ++p;
            if (c == ',' && !in_quotes_) {
                phase_ = recv_phase::remote_port;
                break;
            }
            if (c == '"') in_quotes_ = !in_quotes_;
            if (c == '\n' || header_len_ == max_header) {
                bad_header(protocol_error_reason::bad_frame_header, c == '\n', h, "CIPRECVDATA");
                return p;
            }
            header_[header_len_++] = c;
            break;
        case recv_phase::remote_port:
            ++p;
            if (c == ',' && port_digits_ > 0) {
                const std::string_view host(header_.data(), header_len_);
                const std::string_view port(header_.data() + header_len_, port_digits_);
                if (!parse_remote(host, port, frame_)) {
                    bad_header(protocol_error_reason::bad_frame_header, false, h, "CIPRECVDATA");
                    return p;
                }
                return begin_payload(frame_), p;
            }
            if (!espat::detail::is_digit(c) || port_digits_ == 5 ||
                header_len_ + port_digits_ == max_header) {
                bad_header(protocol_error_reason::bad_frame_header, c == '\n', h, "CIPRECVDATA");
                return p;
            }
            header_[header_len_ + port_digits_++] = c;
            break;
        }
    }
    return end;
}

// +MQTTSUBRECV:<id>,"<topic>",<len>,<data>. The module prints the topic unescaped, so it may
// hold '"' and ','; the header ends at the first '",<digits>,' after the opening quote (a topic
// holding that sequence itself is read short: no later byte could tell, the payload being
// anything). The header is gathered in line_buf_, which no line uses while a frame is read, so
// a topic is bounded by max_line whatever the chunks; a line end inside it ends the header.
template <class H>
inline const char* parser::on_mqtt_header(const char* p, const char* end, H& h)
{
    using espat::detail::is_digit;
    char* const buf = line_buf_.get();
    // The link id, once the header has shown one: its errors are that link's.
    auto link = [&] { return header_len_ >= 2 && mqtt_phase_ != mqtt_phase::link ? buf[0] - '0' : -1; };
    while (p != end) {
        const char c = *p++;
        if (c == '\n' || header_len_ == limits_.max_line) {
            bad_header(protocol_error_reason::bad_frame_header, c == '\n', h, "MQTTSUBRECV", link());
            return p;
        }
        buf[header_len_++] = c;
        switch (mqtt_phase_) {
        case mqtt_phase::link:  // one digit: link ids are 0..9 (only 0 exists)
            if (header_len_ == 1 && is_digit(c)) break;
            if (header_len_ == 2 && c == ',') {
                mqtt_phase_ = mqtt_phase::open_quote;
                break;
            }
            bad_header(protocol_error_reason::bad_frame_header, false, h, "MQTTSUBRECV", -1);
            return p;
        case mqtt_phase::open_quote:
            if (c != '"') {
                bad_header(protocol_error_reason::bad_frame_header, false, h, "MQTTSUBRECV", link());
                return p;
            }
            mqtt_phase_ = mqtt_phase::topic;
            break;
        case mqtt_phase::topic:
            if (c == '"') {
                mqtt_phase_ = mqtt_phase::after_quote;
                mqtt_quote_at_ = header_len_ - 1;
            }
            break;
        case mqtt_phase::after_quote:
            if (c == ',') {
                mqtt_phase_ = mqtt_phase::length;
                mqtt_digits_ = 0;
            } else if (c == '"') {
                mqtt_quote_at_ = header_len_ - 1;
            } else {
                mqtt_phase_ = mqtt_phase::topic;  // the quote was the topic's
            }
            break;
        case mqtt_phase::length:
            if (is_digit(c) && mqtt_digits_ < 10) {
                ++mqtt_digits_;
            } else if (c == ',' && mqtt_digits_ > 0) {
                finish_mqtt_header(h);
                return p;
            } else if (c == '"') {
                mqtt_phase_ = mqtt_phase::after_quote;
                mqtt_quote_at_ = header_len_ - 1;
            } else {
                mqtt_phase_ = mqtt_phase::topic;
            }
            break;
        }
    }
    return end;
}

template <class H>
inline void parser::finish_mqtt_header(H& h)
{
    const std::string_view hv(line_buf_.get(), header_len_);
    const int link = hv[0] - '0';
    const auto len = espat::detail::parse_u32(hv.substr(mqtt_quote_at_ + 2, mqtt_digits_));
    if (!len) return bad_header(protocol_error_reason::bad_frame_header, false, h, "MQTTSUBRECV", link);
    if (*len > limits_.max_mqtt_payload) return bad_header(protocol_error_reason::frame_too_long, false, h, "MQTTSUBRECV", link);
    event e;
    e.kind = event_kind::mqtt_message;
    e.link = static_cast<std::int8_t>(link);
    e.value = *len;
    e.name = "MQTTSUBRECV";
    e.args = hv.substr(3, mqtt_quote_at_ - 3);  // after <id>,"
    begin_payload(e);
}

// +HTTPCLIENT:<size>,<data> (and +HTTPCGET:, +HTTPCPOST:, +HTTPCPUT:): decimal digits, a
// comma, the chunk.
template <class H>
inline const char* parser::on_http_header(const char* p, const char* end, H& h)
{
    while (p != end) {
        const char c = *p++;
        if (c != ',') {
            if (!espat::detail::is_digit(c) || header_len_ == 10) {
                bad_header(protocol_error_reason::bad_frame_header, c == '\n', h, http_name_);
                return p;
            }
            header_[header_len_++] = c;
            continue;
        }
        const auto len = espat::detail::parse_u32(std::string_view(header_.data(), header_len_));
        if (!len) {
            bad_header(protocol_error_reason::bad_frame_header, false, h, http_name_);
            return p;
        }
        if (*len > limits_.max_http_payload) {
            bad_header(protocol_error_reason::frame_too_long, false, h, http_name_);
            return p;
        }
        event e;
        e.kind = event_kind::http_data;
        e.value = *len;
        e.name = http_name_;
        begin_payload(e);
        return p;
    }
    return end;
}

inline std::string_view parser::frame_name() const noexcept
{
    switch (frame_.kind) {
    case event_kind::ipd: return "IPD";
    case event_kind::recv_data: return "CIPRECVDATA";
    default: return frame_.name;  // MQTTSUBRECV, HTTPCLIENT, ...
    }
}

inline void parser::begin_payload(const event& e) noexcept
{
    frame_ = e;
    frame_have_ = 0;
    state_ = state::payload;  // a zero-length frame is complete at once (on_payload)
}

// Counts payload bytes, never scans them: they may hold "\r\n", "OK", "+IPD" or anything.
template <class H>
inline const char* parser::on_payload(const char* p, const char* end, H& h)
{
    const std::size_t avail = static_cast<std::size_t>(end - p);
    const std::size_t need = frame_.value - frame_have_;
    if (frame_have_ == 0 && avail >= need) {  // all of it here: hand it out in place
        frame_.payload = std::string_view(p, need);
        return end_of_frame(p + need, end, h);
    }
    const std::size_t take = std::min(avail, need);
    copy_small(frame_buf_.get() + frame_have_, p, take);
    frame_have_ += take;
    if (frame_have_ == frame_.value) {
        frame_.payload = std::string_view(frame_buf_.get(), frame_have_);
        return end_of_frame(p + take, end, h);
    }
    return p + take;
}

}  // namespace espat::proto
