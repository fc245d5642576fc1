// host_replay.hpp — test helper: plays the HOST side of a transcript against the simulator
// (the opposite of espat/sim/replay.hpp, which plays the device) and compares what the
// simulator answers with the transcript's '<' bytes.
//
// Host lines go out in order, each once the device bytes before it have arrived; a line that
// is not a command (no CR LF, after a prompt) is payload. The peers the transcript talks to are
// loopback peers started here; what they send is taken from the transcript (an +IPD's payload,
// a passive-mode notification's bytes from the +CIPRECVDATA frames after it), and what they
// receive must be the host's payloads. What depends on the environment is matched by a small,
// explicit set of placeholder rules (placeholder_rules()); documented addresses in host lines
// are rewritten to the loopback peers by the test (replay_setup::host_rewrites).
//
// Kept with the tests, not in include/espat/sim/: the rules and peers are what these
// transcripts need, not a general tool.
#pragma once

#include "sim_harness.hpp"
#include "test_certs.hpp"

#include <espat/proto/transcript.hpp>
#include <espat/sim/replay.hpp>  // make_replay_script: the transcript with its file line numbers
#include <espat/sim/tls.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>

#include <map>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace espat::test {

// ----------------------------------------------------------------------------------------
// Placeholders: where the expected bytes hold an instance of one of these, the simulator's
// bytes may hold any instance of the same kind.

struct placeholder_rule {
    std::string name;
    std::regex pattern;
};

inline const std::vector<placeholder_rule>& placeholder_rules()
{
    static const std::vector<placeholder_rule> rules{
        // An IPv4 address, with the port after it where one follows ("ip",port or ip,port).
        {"IPv4 address [and port]", std::regex(R"(\d{1,3}(?:\.\d{1,3}){3}(?:"?,\d{1,5}(?=[,:\r]))?)")},
        {"MAC address", std::regex(R"([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})")},
        {"asctime() time", std::regex(R"([A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] \d\d:\d\d:\d\d \d{4})")},
        {"ping time", std::regex(R"(\+PING:\d+)")},
    };
    return rules;
}

struct stream_match {
    bool matched = false;
    std::size_t expect_pos = 0;  // how far `expect` matched
    std::size_t actual_pos = 0;  // how far `actual` matched (consumed, when matched)
};

// Whether `actual` starts with what `expect` describes, placeholders applied.
inline stream_match match_stream(std::string_view expect, std::string_view actual)
{
    using iter = std::string_view::const_iterator;
    std::size_t i = 0, j = 0;
    while (i < expect.size()) {
        bool took = false;
        for (const auto& rule : placeholder_rules()) {
            std::match_results<iter> e, a;
            if (!std::regex_search(expect.begin() + i, expect.end(), e, rule.pattern,
                                   std::regex_constants::match_continuous))
                continue;
            if (!std::regex_search(actual.begin() + j, actual.end(), a, rule.pattern,
                                   std::regex_constants::match_continuous))
                return {false, i, j};
            // An instance running to the end of what arrived may still be growing.
            if (j + a.length() == actual.size() && i + e.length() != expect.size()) return {false, i, j};
            i += e.length();
            j += a.length();
            took = true;
            break;
        }
        if (took) continue;
        if (j == actual.size() || expect[i] != actual[j]) return {false, i, j};
        ++i, ++j;
    }
    return {true, i, j};
}

// ----------------------------------------------------------------------------------------
// Loopback peers.

using tls_stream = asio::ssl::stream<asio::ip::tcp::socket>;

// One connection (or UDP socket) of a peer. Everything it reads is kept and logged in order.
class peer_conn : public std::enable_shared_from_this<peer_conn> {
public:
    virtual ~peer_conn() = default;
    virtual void send(std::string data) = 0;
    std::string received;
    bool ended = false;
    std::error_code end_reason;  // eof after a TLS close_notify; stream_truncated without
    std::shared_ptr<std::string> log;  // all peers' received bytes, in order (outlives the world)
};

class tcp_conn final : public peer_conn {
public:
    explicit tcp_conn(asio::ip::tcp::socket s) : socket(std::move(s)) {}
    static asio::awaitable<void> read(std::shared_ptr<tcp_conn> self)
    {
        std::array<char, 4096> b;
        for (;;) {
            auto [ec, n] = co_await self->socket.async_read_some(asio::buffer(b), sim::use_tuple);
            if (ec) {
                self->ended = true, self->end_reason = ec;
                co_return;
            }
            self->received.append(b.data(), n);
            if (self->log) self->log->append(b.data(), n);
        }
    }
    void send(std::string data) override
    {
        auto keep = std::make_shared<std::string>(std::move(data));
        auto self = std::static_pointer_cast<tcp_conn>(shared_from_this());
        asio::async_write(socket, asio::buffer(*keep), [self, keep](std::error_code, std::size_t) {});
    }
    asio::ip::tcp::socket socket;
};

class tls_conn final : public peer_conn {
public:
    tls_conn(asio::ip::tcp::socket s, asio::ssl::context& context) : stream(std::move(s), context) {}
    static asio::awaitable<void> run(std::shared_ptr<tls_conn> self, tls_stream::handshake_type role)
    {
        auto [hec] = co_await self->stream.async_handshake(role, sim::use_tuple);
        if (hec) {
            self->ended = true, self->end_reason = hec;
            co_return;
        }
        self->ready = true;
        std::array<char, 4096> b;
        for (;;) {
            auto [ec, n] = co_await self->stream.async_read_some(asio::buffer(b), sim::use_tuple);
            if (ec) {
                self->ended = true, self->end_reason = ec;
                co_return;
            }
            self->received.append(b.data(), n);
            if (self->log) self->log->append(b.data(), n);
        }
    }
    void send(std::string data) override
    {
        auto keep = std::make_shared<std::string>(std::move(data));
        auto self = std::static_pointer_cast<tls_conn>(shared_from_this());
        asio::async_write(stream, asio::buffer(*keep), [self, keep](std::error_code, std::size_t) {});
    }
    tls_stream stream;
    bool ready = false;
};

class udp_conn final : public peer_conn {
public:
    explicit udp_conn(asio::io_context& io) : socket(io, {asio::ip::address_v4::loopback(), 0}) {}
    static asio::awaitable<void> read(std::shared_ptr<udp_conn> self)
    {
        std::array<char, 65536> b;
        for (;;) {
            asio::ip::udp::endpoint from;
            auto [ec, n] = co_await self->socket.async_receive_from(asio::buffer(b), from, sim::use_tuple);
            if (ec) co_return;
            self->module_end = from;
            self->received.append(b.data(), n);
            if (self->log) self->log->append(b.data(), n);
        }
    }
    void send(std::string data) override
    {
        std::error_code ec;
        socket.send_to(asio::buffer(data), module_end, 0, ec);
    }
    asio::ip::udp::socket socket;
    asio::ip::udp::endpoint module_end;
};

// A loopback server the module connects to (AT+CIPSTART "TCP" or "SSL"); keeps every
// connection it accepted.
class peer_server {
public:
    peer_server(asio::io_context& io, std::shared_ptr<std::string> log, std::shared_ptr<asio::ssl::context> tls = nullptr)
        : acceptor_(io, {asio::ip::address_v4::loopback(), 0}), tls_(std::move(tls)), log_(log)
    {
        asio::co_spawn(io, accept(), asio::detached);
    }
    ~peer_server()
    {
        std::error_code ec;
        acceptor_.close(ec);
    }
    [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::vector<std::shared_ptr<peer_conn>> accepted;

private:
    asio::awaitable<void> accept()
    {
        for (;;) {
            auto [ec, s] = co_await acceptor_.async_accept(sim::use_tuple);
            if (ec) co_return;
            if (tls_) {
                auto c = std::make_shared<tls_conn>(std::move(s), *tls_);
                c->log = log_;
                accepted.push_back(c);
                asio::co_spawn(acceptor_.get_executor(), tls_conn::run(c, tls_stream::server), asio::detached);
            } else {
                auto c = std::make_shared<tcp_conn>(std::move(s));
                c->log = log_;
                accepted.push_back(c);
                asio::co_spawn(acceptor_.get_executor(), tcp_conn::read(c), asio::detached);
            }
        }
    }
    asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<asio::ssl::context> tls_;
    std::shared_ptr<std::string> log_;
};

// TLS contexts of the loopback peers, from the in-memory test certificates.
inline std::shared_ptr<asio::ssl::context> peer_tls_server_context(bool require_client_certificate)
{
    const auto& certs = test_certs();
    sim::tls_server_config config;
    config.verify_clients = require_client_certificate;
    auto context = sim::make_tls_server_context(
        config, {.ca_certificate = certs.ca, .certificate = certs.server.certificate,
                 .private_key = certs.server.private_key, .psk = std::nullopt});
    if (!context) return nullptr;
    return std::make_shared<asio::ssl::context>(std::move(*context));
}
inline std::shared_ptr<asio::ssl::context> peer_tls_client_context()
{
    const auto& certs = test_certs();
    sim::tls_client_config config;
    config.auth = espat::ssl_auth_mode::mutual;
    auto context = sim::make_tls_client_context(
        config, {.ca_certificate = certs.ca, .certificate = certs.client.certificate,
                 .private_key = certs.client.private_key, .psk = std::nullopt});
    if (!context) return nullptr;
    return std::make_shared<asio::ssl::context>(std::move(*context));
}

// ----------------------------------------------------------------------------------------
// The replay.

struct replay_setup {
    // Documented text -> loopback text, applied to every '>' line (addresses, ports, names).
    std::vector<std::pair<std::string, std::string>> host_rewrites;
    // A '<' line (by its 1-based line in the file) the simulator is held to instead of the
    // file's bytes; the test says why next to each.
    std::map<std::size_t, std::string> device_edits;
    // Clients of the module's server (a "CONNECT" no CIPSTART asked for) speak TLS with the
    // test client certificate.
    bool server_clients_tls = false;
    // Espressif's examples page ends a "+IPD,...:<data>" at its data; the byte-exact ESP-AT 2.0
    // capture (transcript 14) and the simulator's 2.x personalities send CR LF after it. Set:
    // that CR LF is expected after each such +IPD line that lacks it.
    bool ipd_line_end = false;
    // How long the device bytes of one line may take (a difference is reported after it).
    std::chrono::milliseconds patience{3000};
};

// The loopback world one replay runs in: a TCP server, a TLS server, two UDP peers; the test maps the transcript's addresses to their ports.
class replay_world {
public:
    // `tls_peer_wants_client_certificate`: the TLS server peer asks the module for its
    // certificate (mutual authentication).
    explicit replay_world(sim_harness& h, bool tls_peer_wants_client_certificate = false)
        : h_(h), tcp(h.io, log_), tls(h.io, log_, peer_tls_server_context(tls_peer_wants_client_certificate)),
          udp_a(std::make_shared<udp_conn>(h.io)), udp_b(std::make_shared<udp_conn>(h.io))
    {
        for (auto& u : {udp_a, udp_b}) {
            u->log = log_;
            asio::co_spawn(h.io, udp_conn::read(u), asio::detached);
        }
    }
    [[nodiscard]] std::uint16_t udp_a_port() const { return udp_a->socket.local_endpoint().port(); }
    [[nodiscard]] std::uint16_t udp_b_port() const { return udp_b->socket.local_endpoint().port(); }

    // Runs the transcript; empty when the simulator answered as the transcript says, else the
    // first difference with its context.
    std::string run(std::string_view transcript, const replay_setup& setup)
    {
        const sim::replay_script script = sim::make_replay_script(transcript);
        if (!script.ok()) return "transcript line " + std::to_string(script.error_line) + ": " + script.error;
        std::string last_command;
        for (const auto& step : script.steps) {
            if (step.dir == sim::replay_step::direction::host) {
                std::string bytes = step.bytes;
                for (const auto& [from, to] : setup.host_rewrites)
                    for (std::size_t at; (at = bytes.find(from)) != std::string::npos;) bytes.replace(at, from.size(), to);
                if (bytes == "+++") {
                    // Passthrough's exit: a packet of its own, a pause on either side.
                    h_.run_for(std::chrono::milliseconds(60));
                    h_.send(bytes);
                    h_.run_for(std::chrono::milliseconds(60));
                    continue;
                }
                if (bytes.ends_with("\r\n")) {
                    last_command = bytes;
                } else {
                    payloads_ += bytes;
                }
                h_.send(bytes);
                continue;
            }
            auto edit = setup.device_edits.find(step.line);
            std::string expect = edit == setup.device_edits.end() ? step.bytes : edit->second;
            static const std::regex ipd_with_data(R"(^\r\n\+IPD,[^:\r]*:[\s\S]*)");
            if (setup.ipd_line_end && std::regex_match(expect, ipd_with_data) && !expect.ends_with("\r\n"))
                expect += "\r\n";
            if (std::string why = act_for(step.bytes, last_command, script, step.line, setup); !why.empty())
                return "transcript line " + std::to_string(step.line) + ": " + why;
            if (std::string why = expect_bytes(expect, step.line, setup.patience); !why.empty()) return why;
        }
        // Nothing more may come, and the peers must have got the host's payloads.
        h_.run_for(std::chrono::milliseconds(60));
        if (!h_.received.empty())
            return "after the last line the simulator sent more: \"" + proto::escape_transcript_bytes(h_.received) + "\"";
        const std::string& log = *log_;
        h_.run_until([&] { return log.size() >= payloads_.size(); }, std::chrono::seconds(3));
        if (log != payloads_)
            return "the peers received \"" + proto::escape_transcript_bytes(log) + "\", the host sent \"" +
                   proto::escape_transcript_bytes(payloads_) + "\"";
        return {};
    }

    std::map<int, std::shared_ptr<peer_conn>> links;  // module link id -> its peer's end

private:
    // Waits (bounded) until the simulator's output starts with `expect`; takes it out.
    std::string expect_bytes(const std::string& expect, std::size_t line, std::chrono::milliseconds patience)
    {
        stream_match m;
        const bool ok = h_.run_until([&] {
            m = match_stream(expect, h_.received);
            return m.matched;
        }, patience);
        if (ok) {
            h_.received.erase(0, m.actual_pos);
            return {};
        }
        auto show = [](std::string_view s, std::size_t at) {
            const std::size_t from = at > 24 ? at - 24 : 0;
            return proto::escape_transcript_bytes(s.substr(from, at - from)) + "[HERE]" +
                   proto::escape_transcript_bytes(s.substr(at, 48));
        };
        return "transcript line " + std::to_string(line) + ": first difference\n  expected: " + show(expect, m.expect_pos) +
               "\n  simulator: " + show(h_.received, m.actual_pos) +
               (m.actual_pos == h_.received.size() ? "  (nothing more came)" : "");
    }

    // What a peer does before the device bytes of one line can come: a client connects to the
    // module's server, a CIPSTART's connection is bound to its link id, a peer sends.
    std::string act_for(const std::string& device, const std::string& last_command, const sim::replay_script& script,
                        std::size_t line, const replay_setup& setup)
    {
        static const std::regex connect(R"(^(?:(\d),)?CONNECT\r\n$)");
        static const std::regex ipd_mux(R"(^\r\n\+IPD,(\d),(\d+)(?:,[^:]*)?:)");
        static const std::regex ipd_single(R"(^\r\n\+IPD,(\d+)(?:,"?[0-9.]+"?,\d+)?:)");
        static const std::regex notify(R"(^\r\n\+IPD,(\d+)(?:,(\d+))?\r\n$)");
        std::smatch m;
        if (std::regex_match(device, m, connect)) {
            const int id = m[1].matched ? std::stoi(m[1]) : 0;
            if (last_command.starts_with("AT+CIPSTART")) return bind_started(id, last_command);
            return connect_client(id, setup);
        }
        if (std::regex_search(device, m, ipd_mux)) return peer_send(std::stoi(m[1]), device.substr(m.length(), std::stoul(m[2])));
        if (std::regex_search(device, m, ipd_single)) return peer_send(0, device.substr(m.length(), std::stoul(m[1])));
        if (std::regex_match(device, m, notify)) {
            const int id = m[2].matched ? std::stoi(m[1]) : 0;
            const std::size_t len = std::stoul(m[2].matched ? m[2].str() : m[1].str());
            // The bytes are those the +CIPRECVDATA frames after this line hand out.
            std::string later;
            for (const auto& s : script.steps)
                if (s.dir == sim::replay_step::direction::device && s.line > line) later += s.bytes;
            static const std::regex frame(R"(\+CIPRECVDATA:(\d+),(?:"[^"]*",\d+,)?)");
            std::string data;
            for (std::sregex_iterator it(later.begin(), later.end(), frame), end; it != end && data.size() < len; ++it)
                data += later.substr(static_cast<std::size_t>(it->position() + it->length()), std::stoul((*it)[1]));
            if (data.size() < len) return "the +CIPRECVDATA frames after a passive notification hold fewer bytes";
            return peer_send(id, data.substr(0, len));
        }
        return {};
    }

    std::string bind_started(int id, const std::string& command)
    {
        static const std::regex target(R"regex("(TCP|UDP|SSL)","127\.0\.0\.1",(\d+))regex");
        std::smatch m;
        if (!std::regex_search(command, m, target)) return "a CIPSTART to no loopback peer: " + command;
        const auto port = static_cast<std::uint16_t>(std::stoul(m[2]));
        if (m[1] == "UDP") {
            for (auto& u : {udp_a, udp_b})
                if (u->socket.local_endpoint().port() == port) links[id] = u;
            return links.count(id) ? std::string{} : "no UDP peer on the CIPSTART's port";
        }
        peer_server& server = m[1] == "SSL" ? tls : tcp;
        const std::size_t seen = bound_[&server];
        if (!h_.run_until([&] { return server.accepted.size() > seen; }, std::chrono::seconds(3)))
            return "the peer saw no connection for the CIPSTART";
        links[id] = server.accepted[seen];
        bound_[&server] = seen + 1;
        return {};
    }

    std::string connect_client(int id, const replay_setup& setup)
    {
        if (!h_.module->server_port()) return "a CONNECT with neither a CIPSTART nor a server";
        asio::ip::tcp::socket s(h_.io);
        std::error_code ec;
        s.connect({asio::ip::address_v4::loopback(), *h_.module->server_port()}, ec);
        if (ec) return "could not connect to the module's server: " + ec.message();
        if (setup.server_clients_tls) {
            if (!client_tls_) client_tls_ = peer_tls_client_context();
            auto c = std::make_shared<tls_conn>(std::move(s), *client_tls_);
            c->log = log_;
            asio::co_spawn(h_.io, tls_conn::run(c, tls_stream::client), asio::detached);
            links[id] = c;
        } else {
            auto c = std::make_shared<tcp_conn>(std::move(s));
            c->log = log_;
            asio::co_spawn(h_.io, tcp_conn::read(c), asio::detached);
            links[id] = c;
        }
        return {};
    }

    std::string peer_send(int id, std::string data)
    {
        auto it = links.find(id);
        if (it == links.end()) return "data for link " + std::to_string(id) + ", which no peer holds";
        if (auto* t = dynamic_cast<tls_conn*>(it->second.get()))
            if (!h_.run_until([&] { return t->ready || t->ended; }, std::chrono::seconds(3)) || !t->ready)
                return "the TLS peer's handshake did not complete";
        it->second->send(std::move(data));
        return {};
    }

    sim_harness& h_;
    std::shared_ptr<std::string> log_ = std::make_shared<std::string>();

public:
    peer_server tcp;
    peer_server tls;
    std::shared_ptr<udp_conn> udp_a, udp_b;

private:
    std::map<peer_server*, std::size_t> bound_;
    std::shared_ptr<asio::ssl::context> client_tls_;
    std::string payloads_;
};

}  // namespace espat::test
