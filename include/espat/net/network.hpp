// espat/net/network.hpp — the module's TCP/IP stack as the host uses it: prepares the module
// for links (multiple connections, receive mode, remote info), opens TCP and SSL links, and
// owns the link table the module's reports are routed through.
//
// Use it from the client's executor; it must outlive its links.
#pragma once

#include <espat/commands/tcpip.hpp>
#include <espat/error.hpp>
#include <espat/net/link.hpp>
#include <espat/net/link_table.hpp>

#include <asio/awaitable.hpp>
#include <asio/bind_executor.hpp>
#include <asio/use_awaitable.hpp>

#include <tl/expected.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

namespace espat::net {

struct network_options {
    // Passive for streams: a slow reader slows the peer instead of losing data.
    receive_mode stream_receive = receive_mode::passive;
    // Bytes held on the host per link; active data beyond it fails the link (receive_overflow).
    std::size_t receive_buffer = 16 * 1024;
    // The most one AT+CIPRECVDATA asks for (the parser's max_recv_payload bounds it too).
    std::size_t fetch_limit = 8192;
};

struct connect_options {
    // Per link where the firmware has AT+CIPRECVTYPE (3.3+); older firmware has one mode for
    // every link, set by start() from network_options.
    std::optional<receive_mode> receive{};
    std::optional<std::chrono::seconds> keep_alive{};  // TCP keep-alive, 1..7200 s
};

template <class Client>
class basic_network {
public:
    using client_type = Client;
    using executor_type = typename Client::executor_type;
    using link = basic_link<Client>;
    template <class T>
    using result = tl::expected<T, std::error_code>;

    explicit basic_network(Client& client, network_options options = {})
        : client_(client), options_(options), table_(client.get_executor())
    {
        listener_ = client_.add_report_listener([this](const proto::event& e) { table_.on_report(e); });
    }
    basic_network(const basic_network&) = delete;
    basic_network& operator=(const basic_network&) = delete;
    ~basic_network()
    {
        client_.remove_report_listener(listener_);
        table_.fail_all(make_error_code(errc::link_closed));
    }

    Client& client() noexcept { return client_; }
    link_table<executor_type>& table() noexcept { return table_; }
    [[nodiscard]] const network_options& options() const noexcept { return options_; }
    [[nodiscard]] std::size_t max_send_length() const noexcept
    {
        const auto& fw = client_.firmware();
        return fw ? fw->max_send_length : 2048;
    }

    // Prepares the module: AT+CIPMUX=1 (five links), AT+CIPDINFO=1 (remote address on every
    // +IPD and +CIPRECVDATA, so a payload can never be mistaken for one), and on firmware
    // without per-link AT+CIPRECVTYPE the one AT+CIPRECVMODE for all links. Run it after the
    // client's start(), and again after a module reset.
    asio::awaitable<result<void>> start()
    {
        // Requests are named, never temporaries in a co_await expression (g++ 12 may destroy
        // those twice).
        const cipmux_request multiple{mux_mode::multiple};
        auto mux = co_await client_.template async_set<commands::cipmux>(multiple);
        if (!mux) co_return tl::make_unexpected(mux.error());
        const cipdinfo_request show_remote{true};
        auto dinfo = co_await client_.template async_set<commands::cipdinfo>(show_remote);
        if (!dinfo) co_return tl::make_unexpected(dinfo.error());
        if (!per_link_receive_mode()) {
            const ciprecvmode_request one_mode{options_.stream_receive};
            auto mode = co_await client_.template async_set<commands::ciprecvmode>(one_mode);
            if (!mode) co_return tl::make_unexpected(mode.error());
            global_mode_ = options_.stream_receive;
        }
        co_return result<void>{};
    }

    // AT+CIPSTART=<id>,"TCP",<host>,<port>[,<keep alive>] on the lowest free id.
    asio::awaitable<result<link>> connect(std::string host, std::uint16_t port, connect_options o = {})
    {
        co_return co_await open_stream(link_type::tcp, std::move(host), port, o);
    }

    // The same with "SSL": TLS runs on the module (configure it with AT+CIPSSLC* first).
    asio::awaitable<result<link>> connect_ssl(std::string host, std::uint16_t port, connect_options o = {})
    {
        co_return co_await open_stream(link_type::ssl, std::move(host), port, o);
    }

    // Passive mode: asks the module for what a reader of `want` bytes can take. The answer goes
    // to the link's buffer whatever happens to the reader, so cancelling a read loses nothing.
    void start_fetch(const typename link_table<executor_type>::state_ptr& s, std::size_t want)
    {
        if (s->fetching || !s->attached) return;
        const std::size_t n = s->rx.fetch_size(want, options_.fetch_limit);
        if (n == 0) return;
        s->fetching = true;
        client_.async_recv_data(link_id::checked(s->id), n, call_options{},
                                asio::bind_executor(client_.get_executor(), [this, s, n](result<std::string> r) {
                                    s->fetching = false;
                                    on_fetched(s, n, std::move(r));
                                }));
    }

    // Closes a link nobody will wait for (a link object dropped, a failed write).
    void close_in_background(const typename link_table<executor_type>::state_ptr& s)
    {
        if (!s->attached) return;
        const int id = s->id;
        const std::uint32_t generation = s->generation;
        client_.template async_set<commands::cipclose>(
            cipclose_request{close_link_id::checked(id).value()}, call_options{},
            asio::bind_executor(client_.get_executor(), [this, id, generation](result<commands::nothing>) {
                if (table_.current(link_handle{id, generation})) table_.detach(id);
            }));
    }

private:
    [[nodiscard]] bool per_link_receive_mode() const noexcept
    {
        const auto& fw = client_.firmware();
        return fw && fw->has_ciprecvtype;
    }

    asio::awaitable<result<link>> open_stream(link_type type, std::string host, std::uint16_t port, connect_options o)
    {
        const auto id = table_.free_id();
        if (!id) co_return tl::make_unexpected(make_error_code(errc::link_invalid));
        const receive_mode mode = per_link_receive_mode() ? o.receive.value_or(options_.stream_receive) : global_mode_;
        // Attached before the command: data may follow "<id>,CONNECT" before the OK is read.
        auto state = table_.attach(*id, type, mode, options_.receive_buffer);
        if (per_link_receive_mode()) {
            // Before the connect, so no byte of the link arrives in the other mode.
            const ciprecvtype_request link_mode{close_link_id::checked(*id), mode};
            auto m = co_await client_.template async_set<commands::ciprecvtype>(link_mode);
            if (!m) {
                table_.detach(*id);
                co_return tl::make_unexpected(m.error());
            }
        }
        cipstart_tcp_request r{link_id::checked(*id), std::move(host), port, o.keep_alive, std::nullopt};
        result<commands::nothing> started;
        if (type == link_type::ssl) started = co_await client_.template async_set<commands::cipstart_ssl>(r);
        else started = co_await client_.template async_set<commands::cipstart_tcp>(r);
        if (!started) {
            if (table_.current(link_handle{state->id, state->generation})) table_.detach(*id);
            co_return tl::make_unexpected(started.error());
        }
        if (!state->attached) {
            // Closed again before the OK was read (the peer hung up at once): the data it sent
            // is still readable, then eof.
        }
        co_return link{this, std::move(state)};
    }

    void on_fetched(const typename link_table<executor_type>::state_ptr& s, std::size_t asked, result<std::string> r)
    {
        if (r) {
            s->rx.on_data(*r);
            if (r->size() < asked) {
                s->rx.on_module_buffered(0);  // the module gave all it had
            } else if (s->rx.module_buffered() == 0 && s->attached) {
                query_buffered(s);  // a full read: more may have come since the notification
            }
        } else if (r.error() == make_error_code(errc::command_failed) || r.error() == make_error_code(errc::link_invalid)) {
            s->rx.on_module_buffered(0);  // nothing (more) to read, or the link went away: its CLOSED follows
        } else if (r.error() != make_error_code(errc::device_reset)) {
            s->rx.fail(r.error());  // a timeout or a broken line: the stream can no longer be trusted
        }
        s->notify();
    }

    void query_buffered(const typename link_table<executor_type>::state_ptr& s)
    {
        client_.template async_query<commands::ciprecvlen>(
            call_options{}, asio::bind_executor(client_.get_executor(), [s](result<receive_lengths> r) {
                if (r && static_cast<std::size_t>(s->id) < r->size()) {
                    const auto& len = (*r)[static_cast<std::size_t>(s->id)];
                    if (len && *len > 0) {
                        s->rx.on_module_buffered(*len);
                        s->notify();
                    }
                }
            }));
    }

    Client& client_;
    network_options options_;
    link_table<executor_type> table_;
    listener_id listener_ = 0;
    receive_mode global_mode_ = receive_mode::active;  // the module's default after a reset
};

}  // namespace espat::net
