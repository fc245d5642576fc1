// espat/net/network.hpp — the module's TCP/IP stack as the host uses it: prepares the module
// for links (multiple connections, receive mode, remote info), opens TCP and SSL links, and
// owns the link table the module's reports are routed through.
//
// Use it from the client's executor; it must outlive its links.
#pragma once

#include <espat/as_expected.hpp>
#include <espat/commands/host.hpp>
#include <espat/commands/tcpip.hpp>
#include <espat/error.hpp>
#include <espat/net/link.hpp>
#include <espat/net/link_table.hpp>
#include <espat/net/passthrough.hpp>
#include <espat/net/server.hpp>
#include <espat/net/udp_link.hpp>

#include <asio/awaitable.hpp>
#include <asio/bind_executor.hpp>
#include <asio/dispatch.hpp>
#include <asio/co_spawn.hpp>
#include <asio/compose.hpp>
#include <asio/detached.hpp>
#include <asio/ip/address.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <tl/expected.hpp>

#include <algorithm>
#include <atomic>
#include <array>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace espat::net {

struct network_options {
    // Passive for streams: a slow reader slows the peer instead of losing data.
    receive_mode stream_receive = receive_mode::passive;
    // Bytes held on the host per link; active data beyond it fails the link (receive_overflow).
    std::size_t receive_buffer = 16 * 1024;
    // The most one AT+CIPRECVDATA asks for (the parser's max_recv_payload bounds it too).
    std::size_t fetch_limit = 8192;
    // A read that has waited this long with nothing arriving asks the module how the links
    // stand (AT+CIPSTATUS or AT+CIPSTATE?, and AT+CIPRECVLEN? for passive links), so a CLOSED
    // or a passive notification lost on the wire cannot leave it waiting for good. 0: never.
    std::chrono::milliseconds reconcile_after{3000};
    // The timeout of the commands links run on their own (a write's AT+CIPSEND, a passive
    // read's AT+CIPRECVDATA, closes, the link list and lengths): the command table's unless set.
    std::optional<std::chrono::milliseconds> link_timeout{};
    // async_start() closes the links the module lists (AT+CIPSTATE? or AT+CIPSTATUS): a module that
    // stayed powered while the host program restarted still holds the last run's links, which
    // no handle here owns, and refuses AT+CIPMUX=1 and their ids ("ALREADY CONNECTED") while
    // they last. false: left alone (a program that shares the module with another host). For a
    // clean module whatever was left, client_options::reset_on_start reboots it instead.
    bool close_leftover_links = true;
};

// What the network noticed on the wire and did about it; for logs and tests.
struct network_stats {
    std::size_t anomalies = 0;          // protocol errors reported for links (frames, lost bytes)
    std::size_t links_failed = 0;       // stream links failed by one (errc::protocol_error)
    std::size_t datagrams_lost = 0;     // UDP datagrams a broken frame may have held
    std::size_t reconciles = 0;         // link lists read because a read waited reconcile_after
    std::size_t closes_found = 0;       // links the module no longer listed: their CLOSED was lost
    std::size_t strays_closed = 0;      // module links nobody owned that sent data, closed
    std::size_t leftovers_closed = 0;   // links async_start() found open (an earlier program's) and closed
};

// AT+CIPSTART's <UDP mode> needs <local port>. A remote address of 255.255.255.255 makes the
// module send and receive broadcast; one of 224.0.0.0..239.255.255.255 multicast (the reference's
// note on AT+CIPSTART): nothing else is asked of the host.
struct udp_options {
    std::optional<std::uint16_t> local_port{};  // the module's port; needed for mode
    std::optional<udp_mode> mode{};              // fixed, change_once, changeable (needs local_port)
};

// AT+CIPSSLCPSK=<id>,<"psk">,<"hint">, named as the command names them (ESP-AT hands the first to
// esp-tls as the key, the second as the identity sent). ESP8266 only: not on ESP32.
struct module_psk {
    std::string psk;   // at most 32 bytes
    std::string hint;  // at most 32 bytes
};

// Module TLS for one SSL link: the AT+CIPSSLC* commands, sent for the link's id before its
// AT+CIPSTART. The module keeps them per id (in NVS), so nothing of an earlier link on the id may
// carry over: AT+CIPSSLCCONF is always sent; a common name or SNI left there is set back to its
// default, the host connected to; ALPN, PSK (and SNI with an IP address, which means none) cannot
// be cleared, so such a link takes a free id this network never set them on, if there is one.
struct tls_options {
    ssl_auth_mode auth = ssl_auth_mode::none;  // AT+CIPSSLCCONF: verify_server needs a flashed CA
    std::uint8_t pki_number = 0;               // which flashed certificate and key (client_certificate, mutual)
    std::uint8_t ca_number = 0;                // which flashed CA (verify_server, mutual)
    std::optional<std::string> common_name{};  // AT+CIPSSLCCN: the name the server's certificate must carry
    std::optional<std::string> server_name{};  // AT+CIPSSLCSNI: SNI in the ClientHello
    alpn_list alpn{};                          // AT+CIPSSLCALPN: 1..3 protocols, none if empty
    std::optional<module_psk> psk{};           // AT+CIPSSLCPSK
};

// AT+CIPTCPOPT for the link's id, before its AT+CIPSTART (TCP and SSL). Unset options are sent
// as the reference's defaults when the id had options from an earlier link, so none leak.
struct tcp_options {
    std::optional<std::chrono::seconds> linger{};             // SO_LINGER: linger_off (-1), or seconds
    std::optional<bool> no_delay{};                           // TCP_NODELAY
    std::optional<std::chrono::milliseconds> send_timeout{};  // SO_SNDTIMEO, 0: none
    [[nodiscard]] bool empty() const noexcept { return !linger && !no_delay && !send_timeout; }
};

struct connect_options {
    // AT+CIPSTART's timeout (DNS and the handshake): the command table's (10 s) unless set.
    std::optional<std::chrono::milliseconds> timeout{};
    // Per link where the firmware has AT+CIPRECVTYPE (3.3+); older firmware has one mode for
    // every link, set by async_start() from network_options.
    std::optional<receive_mode> receive{};
    std::optional<std::chrono::seconds> keep_alive{};  // TCP keep-alive, 0 (off) or 1..7200 s
    tcp_options tcp{};
    tls_options tls{};  // connect_ssl only
};

template <class Client>
class basic_network {
public:
    using client_type = Client;
    using executor_type = typename Client::executor_type;
    using link = basic_link<Client>;
    using udp_link = basic_udp_link<Client>;
    using server = basic_server<Client>;
    using passthrough = basic_passthrough<Client>;
    template <class T>
    using result = tl::expected<T, std::error_code>;
    using default_token = use_expected_t;
    explicit basic_network(Client& client, network_options options = {});
    basic_network(const basic_network&) = delete;
    basic_network& operator=(const basic_network&) = delete;
    ~basic_network();

    Client& client() noexcept { return client_; }
    link_table<executor_type>& table() noexcept { return table_; }
    // Expires when the network is destroyed. Its destructor does not wait for the operations
    // and callbacks it started (a link's read, a write's SEND OK, a background CIPCLOSE): those
    // hold this and, expired, touch nothing of the network and end with operation_aborted.
    [[nodiscard]] std::weak_ptr<void> lifetime() const noexcept { return alive_; }
    [[nodiscard]] const network_options& options() const noexcept { return options_; }
    [[nodiscard]] const network_stats& stats() const noexcept { return stats_; }
    // The options of the commands links run on their own (network_options::link_timeout).
    [[nodiscard]] call_options link_call() const noexcept { return call_options{options_.link_timeout}; }
    [[nodiscard]] std::size_t max_send_length() const noexcept
    {
        const auto& fw = client_.firmware();
        return fw ? fw->max_send_length : 2048;
    }

    // The operations below complete error first (void(std::error_code[, T])) on any completion
    // token; without one, co_await yields result<T> (espat/as_expected.hpp).

    // Prepares the module: out of a saved passthrough link's state if start-up found one
    // (firmware_profile::left_passthrough), the links an earlier program left closed
    // (network_options::close_leftover_links), AT+CIPMUX=1 (five links), AT+CIPDINFO=1 (remote address on every
    // +IPD and +CIPRECVDATA, so a payload can never be mistaken for one), and on firmware
    // without per-link AT+CIPRECVTYPE the one AT+CIPRECVMODE for all links. Run it after the
    // client's async_start(), and again after a module reset: until then, opening a link, a
    // server or passthrough fails with errc::device_reset. void(std::error_code).
    template <class Token = default_token>
    auto async_start(Token&& token = {})
    {
        return espat::detail::async_run(client_.get_executor(), start_steps(), std::forward<Token>(token));
    }

    // AT+CIPSTART=<id>,"TCP",<host>,<port>[,<keep alive>] on the lowest free id, after
    // AT+CIPTCPOPT=<id>,... when o.tcp asks for socket options (see tcp_options). Options the
    // firmware lacks (not_supported) or values it cannot take (invalid_argument) fail first,
    // with nothing sent. void(std::error_code, link).
    template <class Token = default_token>
    auto async_connect(std::string host, std::uint16_t port, connect_options o = {}, Token&& token = {})
    {
        return espat::detail::async_run(client_.get_executor(), connect_steps(std::move(host), port, std::move(o)),
                                        std::forward<Token>(token));
    }

    // The same with "SSL": TLS runs on the module, set up by o.tls (AT+CIPSSLCCONF, CN, SNI, ALPN,
    // PSK for the id, before the AT+CIPSTART; see tls_options). A failed handshake (a server the
    // module cannot verify) is the AT+CIPSTART's ERROR: its ERR CODE, or command_failed.
    // void(std::error_code, link).
    template <class Token = default_token>
    auto async_connect_ssl(std::string host, std::uint16_t port, connect_options o = {}, Token&& token = {})
    {
        return espat::detail::async_run(client_.get_executor(), connect_ssl_steps(std::move(host), port, std::move(o)),
                                        std::forward<Token>(token));
    }

    // AT+CIPSTART=<id>,"UDP",<host>,<port>[,<local port>,<mode>]. UDP is received in active mode
    // (datagram boundaries come with each +IPD); firmware before 3.3 has one receive mode for
    // every link, so there UDP needs network_options::stream_receive = active
    // (errc::receive_mode_conflict otherwise). void(std::error_code, udp_link).
    template <class Token = default_token>
    auto async_open_udp(std::string host, std::uint16_t port, udp_options o = {}, Token&& token = {})
    {
        return espat::detail::async_run(client_.get_executor(), open_udp_steps(std::move(host), port, std::move(o)),
                                        std::forward<Token>(token));
    }

    // AT+CIPSERVERMAXCONN, AT+CIPSERVER=1,<port> (with ssl: AT+CIPSERVER=1,<port>,"SSL",<CA
    // enable>, ESP32 only), AT+CIPSTO. Incoming links take free ids. A step that fails undoes
    // the ones before it (the limit as it was, the server stopped). void(std::error_code, server).
    template <class Token = default_token>
    auto async_listen(std::uint16_t port, server_options o = {}, Token&& token = {})
    {
        return espat::detail::async_run(client_.get_executor(), listen_steps(port, std::move(o)), std::forward<Token>(token));
    }

    // Passthrough mode on one TCP link: AT+CIPMUX=0, AT+CIPMODE=1, AT+CIPSTART, AT+CIPSEND; then
    // the stream carries the link's bytes. Needs every other link closed and no server (the
    // module allows passthrough in single-link mode only). async_close_passthrough() goes back.
    // `timeout`: AT+CIPSTART's, as connect_options::timeout. void(std::error_code, passthrough).
    template <class Token = default_token>
    auto async_open_passthrough(std::string host, std::uint16_t port,
                                std::optional<std::chrono::milliseconds> timeout = {}, Token&& token = {})
    {
        return espat::detail::async_run(client_.get_executor(), open_passthrough_steps(std::move(host), port, timeout),
                                        std::forward<Token>(token));
    }

    // Leaves passthrough ("+++" between the guard silences), closes its link and returns the
    // module to AT+CIPMODE=0 and AT+CIPMUX=1. Bytes received before stay readable, then eof.
    // void(std::error_code).
    template <class Token = default_token>
    auto async_close_passthrough(Token&& token = {})
    {
        return espat::detail::async_run(client_.get_executor(), close_passthrough_steps(), std::forward<Token>(token));
    }

    // For basic_server.
    [[nodiscard]] bool server_open() const noexcept { return server_open_; }
    [[nodiscard]] std::error_code server_failure() const noexcept
    {
        if (server_failure_) return server_failure_;
        return server_open_ ? std::error_code{} : make_error_code(errc::link_closed);
    }
    [[nodiscard]] std::size_t incoming_wakeups() const noexcept { return incoming_wakeups_; }
    asio::steady_timer& incoming_wake() noexcept { return incoming_wake_; }
    typename link_table<executor_type>::state_ptr take_incoming();
    asio::awaitable<result<link>> adopt_incoming(typename link_table<executor_type>::state_ptr s);
    asio::awaitable<result<void>> stop_server(bool close_links);

    // Passive mode: asks the module for what a reader of `want` bytes can take. The answer goes
    // to the link's buffer whatever happens to the reader, so cancelling a read loses nothing.
    void start_fetch(const typename link_table<executor_type>::state_ptr& s, std::size_t want);

    // Link sends (link writes, UDP sends) take turns, so that cancelling one is clean: a send
    // whose turn has not come waits and, cancelled, leaves the queue with nothing of it sent
    // (operation_aborted); one whose turn came completes with no error holding the turn, is
    // handed to the client and seen through to SEND OK / SEND FAIL whatever its caller asks (no
    // cancellation slot), so its bytes went out whole or not at all, and its completion says
    // which. The holder ends the turn with send_done().
    template <class Token>
    auto async_send_turn(Token&& token)
    {
        return asio::async_compose<Token, void(std::error_code)>(send_turn_op{this, lifetime()}, token, client_.get_executor());
    }
    void send_done();

    // ---- a stream link's read and write (net/impl/link_ops.hpp) ----
    // basic_link's operations hand their handler over type-erased: what follows is compiled
    // once (in espat::compiled with ESPAT_SEPARATE_COMPILATION), not once per handler type.
    using state_ptr = typename link_table<executor_type>::state_ptr;
    using io_completion = espat::detail::completion_ptr<espat::detail::io_result>;

    template <class Handler>
    io_completion make_io_completion(Handler&& handler) const
    {
        return espat::detail::make_completion<espat::detail::io_result>(
            std::forward<Handler>(handler), espat::detail::identity_transform{}, client_.get_executor(), client_.arena());
    }
    // In the caller's context: connect the caller's cancellation, then run on the client's
    // executor (at once when the caller is on it). A read takes what is buffered, or waits
    // for data, the close or a failure; a write sends one AT+CIPSEND chunk of `data` in its turn.
    void start_read(state_ptr s, asio::mutable_buffer into, io_completion done);
    void start_write(state_ptr s, std::string data, io_completion done);

    // A step of a link's composed operation, bound to run on the client's executor, where the
    // network's and the links' state lives (the caller's executor sees only the completion),
    // with the client's handler arena: a link read per +IPD frame allocates nothing of its own
    // on a concrete executor.
    template <class Self>
    auto on_client(Self&& self) const
    {
        return asio::bind_executor(client_.get_executor(), client_.with_arena(std::forward<Self>(self)));
    }

    // Completes a link's composed operation on its caller's executor (the handler's own),
    // never inside its initiating call.
    template <class Self, class... Args>
    static void complete_later(Self self, Args... args)
    {
        auto ex = self.get_executor();
        asio::post(ex, [self = std::move(self), args...]() mutable { self.complete(args...); });
    }

    // Completes a link's composed operation from one of its steps, which run on the client's
    // executor (on_client): the handler runs on its own executor, at once where that allows
    // (asio::dispatch: the caller's io_context, on its thread), never on the client's strand
    // when the caller's executor is another.
    // Where dispatch would run the handler at once (detail::runs_inline), it is called directly:
    // through a coroutine's asio::any_io_executor, dispatch wraps it on the heap first.
    template <class Self, class... Args>
    static void complete_on_caller(Self& self, Args... args)
    {
        auto ex = self.get_executor();
        if (espat::detail::runs_inline(ex)) return self.complete(args...);
        asio::dispatch(ex, [self = std::move(self), args...]() mutable { self.complete(args...); });
    }

    // The first step of a link's read. Started on the client's strand already (a read issued
    // from the previous read's completion, which runs there when the caller's executor allows),
    // it runs at once: posted, it would queue behind the strand's running function, and the
    // strand then re-posts itself, a heap allocation per read. Elsewhere it is posted to the
    // client's executor. Returns whether the step runs now; a step running in the initiating
    // call completes through finish_step, never at once.
    template <class Self>
    bool begin_on_client(Self& self) const
    {
        if (client_.get_executor().running_in_this_thread()) return true;
        asio::post(client_.get_executor(), on_client(std::move(self)));
        return false;
    }
    template <class Self, class... Args>
    static void finish_step(Self& self, bool initiating, Args... args)
    {
        if (initiating) return complete_later(std::move(self), args...);
        complete_on_caller(self, args...);
    }
    [[nodiscard]] std::size_t sends_waiting() const noexcept { return send_queue_.size(); }

    // Closes a link nobody will wait for (a link object dropped, a failed write). A link may be
    // dropped on any thread, so whether it is still attached is read on the client's executor
    // (at once when already there).
    void close_in_background(typename link_table<executor_type>::state_ptr s);

    // ---- a wire that loses or doubles bytes ----

    // A link's reader waits for data, a notification or a close; after reconcile_after with
    // none it asks the module how the links stand (reconcile), then waits again.
    template <class Self>
    void wait_on_link(const typename link_table<executor_type>::state_ptr& s, Self&& self)
    {
        arm_wake(s);
        s->wake.async_wait(on_client(std::forward<Self>(self)));
    }
    // The wake timer of a reader about to wait: reconcile_after for an established link, else
    // only a notification (link_state::notify) or a cancellation ends the wait.
    void arm_wake(const typename link_table<executor_type>::state_ptr& s)
    {
        if (options_.reconcile_after.count() > 0 && s->established && s->attached)
            s->wake.expires_after(options_.reconcile_after);
        else
            s->wake.expires_at(asio::steady_timer::time_point::max());
    }

    // Reads the module's list of links, once for every reader that waited out reconcile_after.
    // A link it no longer lists is closed (its CLOSED was lost on the wire): its reader gets
    // what it received, then eof. A passive link's buffered length is read again (its "+IPD"
    // notification may have been lost).
    void reconcile();
    // The links the module lists: AT+CIPSTATE? where the firmware has it, else AT+CIPSTATUS.
    // The operations' coroutines (the async_ functions above run them).
    asio::awaitable<result<void>> start_steps();
    asio::awaitable<result<link>> connect_steps(std::string host, std::uint16_t port, connect_options o);
    asio::awaitable<result<link>> connect_ssl_steps(std::string host, std::uint16_t port, connect_options o);
    asio::awaitable<result<udp_link>> open_udp_steps(std::string host, std::uint16_t port, udp_options o);
    asio::awaitable<result<server>> listen_steps(std::uint16_t port, server_options o);
    asio::awaitable<result<passthrough>> open_passthrough_steps(std::string host, std::uint16_t port,
                                                                std::optional<std::chrono::milliseconds> timeout);
    asio::awaitable<result<void>> close_passthrough_steps();

    asio::awaitable<result<std::vector<link_status>>> module_links();
    // A failed operation's undo (impl/open.hpp): see undone().
    std::error_code undone(std::error_code first, std::error_code undo);
    asio::awaitable<std::error_code> undo_listen(std::error_code first, bool created, std::optional<std::uint8_t> old_max);
    asio::awaitable<std::error_code> ready_to_open();
    asio::awaitable<std::error_code> settle();

    // SEND FAIL: the stream the peer gets has a hole, so the link ends, with send_failed after
    // what it received before: active data still arriving before the close is taken; a passive
    // link's data still on the module is fetched first (as far as the host buffer takes it).
    void end_after_send_failure(const typename link_table<executor_type>::state_ptr& s, std::error_code ec);

private:
    // A protocol error the session reported for the links: a +IPD frame that broke (its link,
    // if the header said), what is left of a lost header (no link), stray bytes a send left on
    // the module (send_corrupted: that send's link). Nothing received after a hole is handed
    // out: an active stream link that may have lost data fails with errc::protocol_error and
    // is closed; a UDP link counts a datagram lost (datagrams may be); a passive link lost at
    // most a notification, so its buffered length is read again. Links that cannot have been
    // touched go on.
    void on_anomaly(const proto::event& e);

    void damage(const typename link_table<executor_type>::state_ptr& s, bool send);

    // +IPD data for an id no link owns. With a server listening it is a link whose CONNECT was
    // lost: nobody can read it whole, so it is closed (its peer sees the close). Otherwise it is
    // a link given up, whose close is under way.
    void on_stray_data(int id);

    void on_link_list(const std::vector<link_status>* listed);

    // SEND FAIL on a passive link: what the module holds now came before the failure. The
    // reader fetches it as usual (on_fetched closes the link once the module holds nothing
    // more); with nothing held the link is closed at once.
    asio::awaitable<void> drain_then_close(typename link_table<executor_type>::state_ptr s, std::weak_ptr<void> life);

private:
    // The steps of a link's read and write. `net` is null once the network is destroyed (a
    // step may still run then: the network's destructor fails its links and wakes them).
    void begin_read(const state_ptr& s, asio::mutable_buffer into, io_completion done, std::uint64_t ticket, bool initiating);
    static void read_step(basic_network* net, const state_ptr& s, bool initiating, std::error_code ec);
    void wait_for_read(const state_ptr& s, std::uint64_t ticket);
    static void finish_read(const state_ptr& s, bool initiating, std::error_code ec, std::size_t n);
    static void cancel_read(const state_ptr& s, std::uint64_t ticket);
    void begin_write(const state_ptr& s, std::string data, io_completion done, std::uint64_t ticket, bool initiating);
    static void write_turn(basic_network* net, const state_ptr& s, std::error_code turn);
    static void write_sent(basic_network* net, const state_ptr& s, result<std::size_t> r);
    static void finish_write(const state_ptr& s, bool initiating, std::error_code ec, std::size_t n);
    static void cancel_write(const state_ptr& s, std::uint64_t ticket);
    void connect_cancellation(espat::detail::erased_completion<espat::detail::io_result>& done, const state_ptr& s,
                              std::uint64_t ticket, void (*cancel)(const state_ptr&, std::uint64_t));
    [[nodiscard]] static std::error_code write_refusal(const state_ptr& s);

    struct send_turn_op {
        basic_network* net;
        std::weak_ptr<void> life;
        std::uint64_t ticket = 0;
        bool queued = false;

        template <class Self>
        void operator()(Self& self, std::error_code = {})
        {
            if (life.expired()) return complete_on_caller(self, asio::error::operation_aborted);
            assert(net->client_.get_executor().running_in_this_thread() && "the send queue lives on the client's executor");
            if (!queued) {
                queued = true;
                ticket = net->next_send_ticket_++;
                net->send_queue_.push_back(ticket);
            } else if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none) {
                std::erase(net->send_queue_, ticket);
                net->send_wake_.cancel();  // the next in line may be first now
                return complete_on_caller(self, asio::error::operation_aborted);
            }
            if (net->send_busy_ || net->send_queue_.front() != ticket) return net->send_wake_.async_wait(std::move(self));
            net->send_queue_.pop_front();
            net->send_busy_ = true;
            complete_on_caller(self, std::error_code{});
        }
    };

    // An AT+CIPSTART that was cancelled, timed out or refused as busy may still open its link
    // (a CONNECT after the caller gave up). Its id stays attached, so that CONNECT is not taken
    // for an incoming one, until an AT+CIPCLOSE=<id> (an ERROR if it never opened) frees it.
    [[nodiscard]] static bool outcome_unknown(std::error_code ec) noexcept
    {
        return ec == make_error_code(errc::cancelled) || ec == make_error_code(errc::timeout) ||
               ec == make_error_code(errc::busy);
    }

    [[nodiscard]] bool any_attached() const noexcept;

    // A passthrough attempt failed after it changed the module's modes: back to normal mode in
    // the order the firmware takes (AT+CIPMUX=1 is refused while AT+CIPMODE=1 lasts or a link is
    // open): AT+CIPMODE=0, AT+CIPCLOSE for a link that may have opened, AT+CIPMUX=1. Returns
    // `first`, the failure that started it.
    asio::awaitable<std::error_code> undo_passthrough(std::error_code first, bool mode_set, bool maybe_connected);

    // Back to AT+CIPMUX=1 after passthrough (or a failed attempt); returns `first` if set, else
    // what the restore says.
    asio::awaitable<std::error_code> restore_multiple(std::error_code first);

    [[nodiscard]] bool per_link_receive_mode() const noexcept;

    // What this network set on each id with the per-link option commands: the module keeps it
    // for the id's next link (see tls_options and tcp_options).
    struct id_settings {
        bool tcp_options = false;  // AT+CIPTCPOPT other than the defaults
        bool common_name = false, server_name = false, alpn = false, psk = false;
    };

    static bool is_ip_literal(const std::string& host);

    // Whether an SSL link to `host` with `o` on `id` would inherit a TLS string an earlier link
    // set there that cannot be put back: the common name, and SNI for a DNS name, can (they
    // default to the host the link connects to, and are set to it), ALPN and PSK cannot.
    [[nodiscard]] bool inherits_tls(int id, const std::string& host, const tls_options& o) const;

    // The lowest free id, for an SSL link the lowest that inherits no TLS string if one does.
    [[nodiscard]] std::optional<int> choose_id(link_type type, const std::string& host, const tls_options& tls) const;

    [[nodiscard]] bool chip_is(std::string_view prefix) const;

    template <class C>
    [[nodiscard]] std::error_code usable(const typename C::set::request& r) const
    {
        if (!client_.template supports<C>()) return make_error_code(errc::not_supported);
        std::string line;
        return commands::encode_set<C>(line, r);
    }

    // The per-link commands an AT+CIPSTART with these options needs, checked (firmware, values)
    // before anything is sent, then sent in order for `id`.
    struct stream_plan {
        std::optional<ciptcpopt_request> tcp{};
        std::optional<cipsslcconf_request> conf{};
        std::optional<cipsslccn_request> cn{};
        std::optional<cipsslcsni_request> sni{};
        std::optional<cipsslcalpn_request> alpn{};
        std::optional<cipsslcpsk_request> psk{};
        cipstart_tcp_request start;
    };

    result<stream_plan> plan_stream(link_type type, int id, std::string host, std::uint16_t port, const connect_options& o) const;

    template <class C>
    asio::awaitable<std::error_code> send_option(const std::optional<typename C::set::request>& r)
    {
        if (!r) co_return std::error_code{};
        auto done = co_await client_.template async_set<C>(*r);
        co_return done ? std::error_code{} : done.error();
    }

    asio::awaitable<std::error_code> send_plan(int id, const stream_plan& p, const connect_options& o);

    // AT+CIPSTART=<id>,... rather than AT+CIPSTARTEX: the per-link option commands must name the
    // id before the link exists, and the state must be attached to it before CONNECT can come.
    asio::awaitable<result<link>> open_stream(link_type type, std::string host, std::uint16_t port, connect_options o);

    // Firmware with AT+CIPRECVTYPE: the link's receive mode, once it exists. Data that came
    // before the answer arrived in the module's default mode and is in the link already
    // (receive_state takes +IPD data in either mode). On failure the link is closed.
    asio::awaitable<std::error_code> set_link_mode(const typename link_table<executor_type>::state_ptr& s, receive_mode mode);

    void on_fetched(const typename link_table<executor_type>::state_ptr& s, std::size_t asked, result<std::string> r);

    void finish_fetch(const typename link_table<executor_type>::state_ptr& s, std::size_t asked, result<std::string> r);

    void query_buffered(const typename link_table<executor_type>::state_ptr& s);

    Client& client_;
    network_options options_;
    link_table<executor_type> table_;
    listener_id listener_ = 0;
    std::atomic<std::uint64_t> op_tickets_{1};  // names link reads and writes for cancellation; taken in callers' contexts
    receive_mode global_mode_ = receive_mode::active;  // the module's default after a reset
    bool prepared_ = false;  // async_start() ran since the last reset (or ever): links may open
    bool unsettled_ = false;  // a failed undo left the modes unknown: the next operation settles them
    std::size_t single_link_closes_ = 0;  // "CLOSED" reports of single-link mode (passthrough's link)
    asio::steady_timer incoming_wake_;   // async_accept() sleeps here; an incoming CONNECT wakes it
    std::size_t incoming_wakeups_ = 0;
    bool server_open_ = false;
    std::error_code server_failure_;
    typename basic_passthrough<Client>::state_ptr passthrough_;
    std::array<id_settings, max_links> settings_{};
    // Link sends take turns (see async_send_turn): one is with the client at a time, the others wait
    // here in ticket order, so a cancelled one is removed before anything of it was sent.
    asio::steady_timer send_wake_;
    bool send_busy_ = false;
    std::deque<std::uint64_t> send_queue_;
    std::uint64_t next_send_ticket_ = 0;
    network_stats stats_;
    bool reconciling_ = false;
    unsigned stray_closing_ = 0;  // ids whose stray close is under way, a bit each
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // see lifetime()
};

}  // namespace espat::net

// The out-of-class members, by concern.
#include <espat/net/impl/link_ops.hpp>
#include <espat/net/impl/open.hpp>
#include <espat/net/impl/upkeep.hpp>

#if defined(ESPAT_SEPARATE_COMPILATION)
// Built once in espat::compiled (espat/src.hpp): not instantiated again here.
#include <espat/client.hpp>
#include <espat/detail/stacks.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/serial_port.hpp>

ESPAT_DETAIL_NET_STACK(extern template, ::asio::serial_port)
ESPAT_DETAIL_NET_STACK(extern template, ::asio::ip::tcp::socket)
#endif
