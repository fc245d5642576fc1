// espat/sim/module_core.hpp — the simulated ESP-AT module's implementation (sim::module, in
// module.hpp, is its interface). A simulated ESP-AT module. It reads command lines from the host,
// decodes them with the command table (espat/commands/device.hpp: the same descriptors the
// host encodes with, so the two cannot disagree on syntax), runs them against the host's real
// network stack (links are real sockets, see links.hpp) and writes the answers, encoded by the
// table, to an output queue. It knows nothing of its transport: serve() runs it over any Asio
// stream (sim::pipe, a pty's stream_descriptor, a TCP socket), or a caller feeds
// on_host_bytes() and drains next_output() itself.
//
// This header holds the class, module_core: the module's state and the declarations of its
// members, grouped as the ESP-AT manual groups the commands. C++ has no partial classes, so the
// members are defined out of class (inline functions and templates) in one header per group,
// included at the end of this one; all of them work on the one state declared here:
//   core_dispatch.hpp     the core: output queue and reports, command lines and dispatch, reset
//   core_basic_wifi.hpp   basic commands (AT, AT+RST, AT+GMR, AT+SYS*, ...) and Wi-Fi (AT+CW*, ...)
//   core_at1.hpp          AT 1.x's _CUR / _DEF pairs of them (NONOS)
//   core_links.hpp        links: opening (AT+CIPSTART), closing, status, AT+CIPMUX, AT+CIPTCPOPT
//   core_link_data.hpp    data on links: receiving (+IPD, passive mode), sending (AT+CIPSEND)
//   core_servers.hpp      the TCP server (AT+CIPSERVER, AT+CIPSTO)
//   core_passthrough.hpp  passthrough (AT+CIPMODE=1) and the saved link (AT+SAVETRANSLINK)
//   core_tls.hpp          SSL links, the SSL server, the AT+CIPSSLC* settings
//   core_services.hpp     DNS, ping, SNTP, OTA
//   core_mqtt.hpp         the MQTT client (AT+MQTT*), against a real broker through libmosquitto
// A command's form reaches its handle() overload through dispatch(); a form no group handles
// gets the catch-all handle() template (core_dispatch.hpp).
//
// Everything runs on one executor (one io_context thread); nothing locks.
#pragma once

#include <espat/config.hpp>

#include <espat/commands/device.hpp>
#include <espat/commands/table.hpp>
#include <espat/sim/links.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/module_options.hpp>
#include <espat/sim/detail/module_values.hpp>
#include <espat/sim/detail/mqtt_values.hpp>
#include <espat/sim/personality.hpp>
#include <espat/sim/tls.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace espat::sim {

namespace detail {

namespace cmd = espat::commands;

template <class C>
using exec_of = cmd::request_of<C, typename C::execute>;
template <class C>
using query_of = cmd::request_of<C, typename C::query>;
template <class C>
using set_of = cmd::request_of<C, typename C::set>;

class module_core : public std::enable_shared_from_this<module_core> {
public:
    module_core(asio::any_io_executor ex, module_options options)
        : ex_(std::move(ex)), opts_(std::move(options)), rng_(opts_.faults.seed), out_signal_(ex_),
          output_room_(ex_), input_room_(ex_), passthrough_wake_(ex_)
    {
        for (auto* t : {&out_signal_, &output_room_, &input_room_, &passthrough_wake_})
            t->expires_at(asio::steady_timer::time_point::max());
        // A module that was joined before: its flash holds the AP (and auto-connect is on).
        if (opts_.start == start_state::joined && !opts_.access_points.empty())
            flash_.ap = saved_ap{opts_.access_points[0].ssid, opts_.access_points[0].password};
        reset_state();
        load_flash();
        echo_ = opts_.echo;
        joined_ = boot_join();
    }

    [[nodiscard]] const asio::any_io_executor& executor() const noexcept { return ex_; }
    [[nodiscard]] const module_options& options() const noexcept { return opts_; }

    // The core's public side (core_dispatch.hpp): what sim::module's members call.
    void stop();
    [[nodiscard]] bool stopped() const noexcept { return stopped_; }
    void power_cycle();
    void plan_failure(std::size_t nth, planned_failure how) { planned_.emplace_back(commands_seen_ + nth, how); }
    [[nodiscard]] std::size_t commands_seen() const noexcept { return commands_seen_; }
    void on_host_bytes(std::string_view bytes);
    asio::awaitable<std::string> next_output();
    asio::awaitable<std::string> next_write();
    asio::awaitable<void> wait_input_room();
    [[nodiscard]] std::optional<std::uint16_t> server_port() const;
    [[nodiscard]] std::size_t buffered(std::uint8_t id) const;
    [[nodiscard]] std::size_t max_buffered_seen() const noexcept { return max_buffered_seen_; }
    [[nodiscard]] const uart_config& uart() const noexcept { return uart_; }

private:
    enum class input_mode { command, send_data, mqtt_data, passthrough, rebooting };
    static constexpr std::size_t passthrough_packet = 2048;
    static constexpr auto passthrough_gap = std::chrono::milliseconds(20);

    // AT+CIPSEND's data phase (core_link_data.hpp).
    struct pending_send {
        std::shared_ptr<link> target;
        std::size_t length = 0;
        bool escaped = false;  // AT+CIPSENDEX: "\0" ends the data, "\\0" is a literal "\0"
        std::optional<asio::ip::udp::endpoint> to;
        std::string raw;       // bytes as the host sent them
        std::string data;      // bytes to send (escapes resolved)
        std::size_t scanned = 0;
        bool ended_early = false;
    };

    // The link AT+SAVETRANSLINK saves, or the one a passthrough session reconnects (core_passthrough.hpp).
    struct saved_transparent_link {
        link_type type = link_type::tcp;  // TCP, UDP or SSL (TLS with link 0's AT+CIPSSLC* settings)
        std::string host;
        std::uint16_t port = 0;
        std::optional<std::uint16_t> local_port;         // UDP
        std::optional<std::chrono::seconds> keep_alive;  // TCP, SSL
    };

    // ------------------------------------------------------------------------------------
    // The core (core_dispatch.hpp): output and reports, command lines and dispatch, state, reset.

    // Output.
    void emit(std::string_view bytes);
    void emit_write(std::string_view bytes);
    [[nodiscard]] std::size_t output_queued() const noexcept;
    void ok();
    void error(std::uint32_t code = err_code::execution_failed);
    template <class Form, class Value>
    void reply(const Value& v);
    [[nodiscard]] std::string link_prefix(std::uint8_t id) const;
    void report_connect(const link& l);
    void report_closed(std::uint8_t id);
    void emit_report(std::string_view bytes);
    void release_held_reports();
    bool chance(double p);
    [[nodiscard]] bool line_carries(bool to_module) const;  // module_options::host_line

    // Input.
    std::string_view take_command_bytes(std::string_view bytes);
    void complete_line();
    asio::awaitable<void> run_command(std::shared_ptr<module_core> keep, std::string line);
    template <class R>
    [[nodiscard]] bool available() const;
    template <class R>
    asio::awaitable<void> dispatch(const R& r);
    template <class R>
    asio::awaitable<void> handle(const R&);

    // State.
    void reset_state();
    [[nodiscard]] bool station_enabled() const;
    [[nodiscard]] bool has_ip() const;
    [[nodiscard]] std::optional<std::uint8_t> free_link_id() const;
    [[nodiscard]] bool any_link() const;
    [[nodiscard]] std::shared_ptr<link> link_for(const std::optional<link_id>& id) const;

    // Reset.
    asio::awaitable<void> reboot(std::shared_ptr<module_core> keep, bool factory);
    void load_flash();
    [[nodiscard]] std::optional<std::size_t> boot_join() const;

    // ------------------------------------------------------------------------------------
    // Basic and Wi-Fi commands (core_basic_wifi.hpp).

    // Handlers: basic commands.
    asio::awaitable<void> handle(const exec_of<cmd::at>&);
    asio::awaitable<void> handle(const exec_of<cmd::ate0>&);
    asio::awaitable<void> handle(const exec_of<cmd::ate1>&);
    asio::awaitable<void> handle(const exec_of<cmd::rst>&);
    asio::awaitable<void> handle(const exec_of<cmd::restore>&);
    asio::awaitable<void> handle(const exec_of<cmd::gmr>&);
    asio::awaitable<void> handle(const query_of<cmd::sysstore>&);
    asio::awaitable<void> handle(const set_of<cmd::sysstore>& r);
    asio::awaitable<void> handle(const query_of<cmd::syslog>&);
    asio::awaitable<void> handle(const set_of<cmd::syslog>& r);
    asio::awaitable<void> handle(const query_of<cmd::sysmsg>&);
    asio::awaitable<void> handle(const set_of<cmd::sysmsg>& r);
    asio::awaitable<void> handle(const query_of<cmd::uart_cur>&);
    asio::awaitable<void> handle(const set_of<cmd::uart_cur>& r);
    [[nodiscard]] bool set_uart(const uart_cur_request& p, bool save);

    // Handlers: Wi-Fi. A setting's plain set form saves it in flash as AT+SYSSTORE says (NONOS
    // has no AT+SYSSTORE: always); the helpers take whether to save.
    asio::awaitable<void> handle(const query_of<cmd::cwmode>&);
    asio::awaitable<void> handle(const set_of<cmd::cwmode>& r);
    void set_wifi_mode(wifi_mode mode, bool save);
    asio::awaitable<void> join(const std::string& ssid, const std::string& password, bool save);
    asio::awaitable<void> handle(const set_of<cmd::cwjap>& r);
    asio::awaitable<void> handle(const exec_of<cmd::cwjap>&);
    asio::awaitable<void> handle(const query_of<cmd::cwjap>&);
    asio::awaitable<void> handle(const exec_of<cmd::cwqap>&);
    [[nodiscard]] std::vector<access_point> scan(std::optional<std::string_view> ssid) const;
    asio::awaitable<void> handle(const exec_of<cmd::cwlap>&);
    asio::awaitable<void> handle(const set_of<cmd::cwlap>& r);
    asio::awaitable<void> handle(const query_of<cmd::cipsta>&);
    asio::awaitable<void> handle(const set_of<cmd::cipsta>& r);
    [[nodiscard]] station_addresses station_addresses_shown(const station_addresses& a) const;
    static void set_addresses(station_addresses& to, const cipsta_request& p);
    asio::awaitable<void> handle(const query_of<cmd::cipap>&);
    asio::awaitable<void> handle(const set_of<cmd::cipap>& r);
    asio::awaitable<void> handle(const query_of<cmd::cwsap>&);
    asio::awaitable<void> handle(const set_of<cmd::cwsap>& r);
    [[nodiscard]] bool configure_softap(const cwsap_request& p, bool save);
    asio::awaitable<void> handle(const exec_of<cmd::cifsr>&);

    // Handlers: what the popular host drivers send beyond the reference.
    asio::awaitable<void> handle(const query_of<cmd::rfpower>&);
    asio::awaitable<void> handle(const set_of<cmd::rfpower>& r);
    asio::awaitable<void> handle(const set_of<cmd::cwlapopt>& r);
    asio::awaitable<void> handle(const query_of<cmd::cwdhcp>&);
    asio::awaitable<void> handle(const set_of<cmd::cwdhcp>& r);
    void set_dhcp(std::uint8_t interfaces, bool enable, bool save);
    asio::awaitable<void> handle(const query_of<cmd::cwautoconn>&);
    asio::awaitable<void> handle(const set_of<cmd::cwautoconn>& r);
    asio::awaitable<void> handle(const query_of<cmd::cipstamac>&);
    asio::awaitable<void> handle(const set_of<cmd::cipstamac>& r);
    asio::awaitable<void> handle(const query_of<cmd::cipapmac>&);
    asio::awaitable<void> handle(const set_of<cmd::cipapmac>& r);
    [[nodiscard]] static bool set_mac(mac_address& now, mac_address& saved, const mac_address& mac, bool save);
    asio::awaitable<void> handle(const query_of<cmd::cwstate>&);
    [[nodiscard]] wifi_status wifi_status_now() const;
    [[nodiscard]] std::optional<station_connection> connection_now() const;
    static rf_power default_rf_power(const personality& firmware);

    // Handlers: AT 1.x's _CUR / _DEF pairs (NONOS): the plain commands' logic, _CUR on the
    // setting in effect, _DEF on it and flash; _DEF's queries read flash.
    asio::awaitable<void> handle(const query_of<cmd::uart_def>&);
    asio::awaitable<void> handle(const set_of<cmd::uart_def>& r);
    asio::awaitable<void> handle(const set_of<cmd::sysmsg_cur>& r);
    asio::awaitable<void> handle(const set_of<cmd::sysmsg_def>& r);
    [[nodiscard]] bool set_at1_sysmsg(system_messages messages, bool save);
    asio::awaitable<void> handle(const query_of<cmd::cwmode_cur>&);
    asio::awaitable<void> handle(const set_of<cmd::cwmode_cur>& r);
    asio::awaitable<void> handle(const query_of<cmd::cwmode_def>&);
    asio::awaitable<void> handle(const set_of<cmd::cwmode_def>& r);
    [[nodiscard]] bool set_at1_wifi_mode(wifi_mode mode, bool save);
    asio::awaitable<void> handle(const query_of<cmd::cwjap_cur>&);
    asio::awaitable<void> handle(const set_of<cmd::cwjap_cur>& r);
    asio::awaitable<void> handle(const query_of<cmd::cwjap_def>&);
    asio::awaitable<void> handle(const set_of<cmd::cwjap_def>& r);
    asio::awaitable<void> handle(const query_of<cmd::cwsap_cur>&);
    asio::awaitable<void> handle(const set_of<cmd::cwsap_cur>& r);
    asio::awaitable<void> handle(const query_of<cmd::cwsap_def>&);
    asio::awaitable<void> handle(const set_of<cmd::cwsap_def>& r);
    asio::awaitable<void> handle(const query_of<cmd::cwdhcp_cur>&);
    asio::awaitable<void> handle(const set_of<cmd::cwdhcp_cur>& r);
    asio::awaitable<void> handle(const query_of<cmd::cwdhcp_def>&);
    asio::awaitable<void> handle(const set_of<cmd::cwdhcp_def>& r);
    static std::uint8_t at1_dhcp_bits(std::uint8_t interfaces);
    static std::uint8_t interfaces_of(at1_dhcp_target target);
    asio::awaitable<void> handle(const query_of<cmd::cipstamac_cur>&);
    asio::awaitable<void> handle(const set_of<cmd::cipstamac_cur>& r);
    asio::awaitable<void> handle(const query_of<cmd::cipstamac_def>&);
    asio::awaitable<void> handle(const set_of<cmd::cipstamac_def>& r);
    asio::awaitable<void> handle(const query_of<cmd::cipapmac_cur>&);
    asio::awaitable<void> handle(const set_of<cmd::cipapmac_cur>& r);
    asio::awaitable<void> handle(const query_of<cmd::cipapmac_def>&);
    asio::awaitable<void> handle(const set_of<cmd::cipapmac_def>& r);
    asio::awaitable<void> handle(const query_of<cmd::cipsta_cur>&);
    asio::awaitable<void> handle(const set_of<cmd::cipsta_cur>& r);
    asio::awaitable<void> handle(const query_of<cmd::cipsta_def>&);
    asio::awaitable<void> handle(const set_of<cmd::cipsta_def>& r);
    asio::awaitable<void> handle(const query_of<cmd::cipap_cur>&);
    asio::awaitable<void> handle(const set_of<cmd::cipap_cur>& r);
    asio::awaitable<void> handle(const query_of<cmd::cipap_def>&);
    asio::awaitable<void> handle(const set_of<cmd::cipap_def>& r);

    // ------------------------------------------------------------------------------------
    // Links (core_links.hpp): where they live, opening, closing, status, link settings.

    // Where links live and what they may reach (module_options::bind_address, allowed_networks).
    [[nodiscard]] bool may_reach(const asio::ip::address& remote) const;
    [[nodiscard]] bool own_address(const asio::ip::address& a) const;
    [[nodiscard]] std::optional<asio::ip::address> local_address_for(const asio::ip::address& remote) const;
    [[nodiscard]] std::error_code refusal(const asio::ip::address& remote, const std::optional<asio::ip::address>& local_ip) const;
    std::error_code open_udp_socket(udp_link& u, const asio::ip::address& remote, const std::optional<asio::ip::address>& local_ip,
                                    std::uint16_t local_port);
    void remove_link(std::uint8_t id, bool report);
    static asio::awaitable<void> say_goodbye(std::shared_ptr<link> l);
    static asio::awaitable<void> close_after(std::shared_ptr<link> l, std::chrono::milliseconds limit);
    void close_all_links(bool report);
    void close_server();
    void start_reader(const std::shared_ptr<link>& l);

    // Handlers: links.
    asio::awaitable<void> handle(const exec_of<cmd::cipstatus>&);
    asio::awaitable<void> handle(const query_of<cmd::cipstate>&);
    [[nodiscard]] station_state station_state_now() const;
    [[nodiscard]] std::vector<link_status> link_statuses() const;
    asio::awaitable<void> dispatch(const query_of<cmd::cipstate>& r);
    template <class Request>
    asio::awaitable<void> start_tcp(std::optional<std::uint8_t> id, const Request& p);
    template <class Request>
    asio::awaitable<void> start_udp(std::optional<std::uint8_t> id, const Request& p);
    [[nodiscard]] std::optional<std::uint8_t> id_for_start(const std::optional<link_id>& requested) const;
    asio::awaitable<void> handle(const set_of<cmd::cipstart_tcp>& r);
    asio::awaitable<void> handle(const set_of<cmd::cipstart_udp>& r);
    [[nodiscard]] std::optional<std::uint8_t> id_for_startex() const;
    asio::awaitable<void> handle(const set_of<cmd::cipstartex_tcp>& r);
    asio::awaitable<void> handle(const set_of<cmd::cipstartex_udp>& r);
    asio::awaitable<void> handle(const set_of<cmd::cipclose>& r);
    asio::awaitable<void> handle(const exec_of<cmd::cipclose>&);

    // Handlers: link settings (AT+CIPMUX, AT+CIPTCPOPT).
    asio::awaitable<void> handle(const query_of<cmd::cipmux>&);
    asio::awaitable<void> handle(const set_of<cmd::cipmux>& r);
    asio::awaitable<void> handle(const query_of<cmd::ciptcpopt>&);
    asio::awaitable<void> handle(const set_of<cmd::ciptcpopt>& r);
    static asio::ip::tcp::socket* tcp_socket_of(link& l);
    void apply_tcp_options(link& l);

    // ------------------------------------------------------------------------------------
    // Data on links (core_link_data.hpp): receiving (+IPD, passive mode) and sending.

    // Receiving.
    asio::awaitable<void> read_link(std::shared_ptr<module_core> keep, std::shared_ptr<link> l);
    void deliver(link& l, std::string_view data, const received& r);
    [[nodiscard]] std::string address_text(const asio::ip::address& a) const;
    void peer_closed(const std::shared_ptr<link>& l);

    // Handlers: AT+CIPDINFO and passive receiving.
    asio::awaitable<void> handle(const set_of<cmd::cipdinfo>& r);
    asio::awaitable<void> handle(const query_of<cmd::ciprecvmode>&);
    asio::awaitable<void> handle(const set_of<cmd::ciprecvmode>& r);
    asio::awaitable<void> handle(const query_of<cmd::ciprecvtype>&);
    asio::awaitable<void> handle(const set_of<cmd::ciprecvtype>& r);
    void set_link_mode(link& l, recv_mode m);
    asio::awaitable<void> handle(const query_of<cmd::ciprecvlen>&);
    asio::awaitable<void> handle(const set_of<cmd::ciprecvdata>& r);

    // Sending.
    template <class Request>
    void begin_send(const Request& r, bool escaped, std::optional<asio::ip::udp::endpoint> to);
    std::string_view take_send_bytes(std::string_view bytes);
    void finish_data();
    asio::awaitable<void> complete_send(std::shared_ptr<module_core> keep, pending_send s);

    // Handlers: AT+CIPSEND and AT+CIPSENDEX with parameters (normal transfer mode).
    asio::awaitable<void> handle(const set_of<cmd::cipsend>& r);
    asio::awaitable<void> handle(const set_of<cmd::cipsendex>& r);
    asio::awaitable<void> handle(const set_of<cmd::cipsend_udp>& r);
    asio::awaitable<void> handle(const set_of<cmd::cipsendex_udp>& r);

    // ------------------------------------------------------------------------------------
    // The TCP server (core_servers.hpp).

    // Handlers: servers (AT+CIPSERVER, AT+CIPSERVERMAXCONN, AT+CIPSTO).
    asio::awaitable<void> handle(const query_of<cmd::cipsto>&);
    asio::awaitable<void> handle(const set_of<cmd::cipsto>& r);
    asio::awaitable<void> handle(const query_of<cmd::cipservermaxconn>&);
    asio::awaitable<void> handle(const set_of<cmd::cipservermaxconn>& r);
    asio::awaitable<void> handle(const set_of<cmd::cipserver>& r);
    asio::awaitable<void> accept_clients(std::shared_ptr<module_core> keep, std::shared_ptr<asio::ip::tcp::acceptor> acceptor);
    [[nodiscard]] bool from_reachable(const asio::ip::tcp::socket& socket) const;
    asio::awaitable<void> expire_idle(std::shared_ptr<module_core> keep, std::shared_ptr<link> l);
    [[nodiscard]] std::shared_ptr<asio::ip::tcp::acceptor> open_listener(std::uint16_t port);

    // ------------------------------------------------------------------------------------
    // Passthrough and the saved link (core_passthrough.hpp).

    // Passthrough.
    void take_passthrough_bytes(std::string_view bytes);
    std::uint64_t enter_passthrough();
    [[nodiscard]] bool in_passthrough_session(std::uint64_t session) const;
    asio::awaitable<void> run_passthrough(std::shared_ptr<module_core> keep, std::uint64_t session);

    // Handlers: AT+CIPMODE, AT+CIPSEND with no parameters, AT+CIPRECONNINTV.
    asio::awaitable<void> handle(const query_of<cmd::cipmode>&);
    asio::awaitable<void> handle(const set_of<cmd::cipmode>& r);
    asio::awaitable<void> handle(const exec_of<cmd::cipsend>&);
    asio::awaitable<void> handle(const query_of<cmd::cipreconnintv>&);
    asio::awaitable<void> handle(const set_of<cmd::cipreconnintv>& r);

    // Handlers: AT+SAVETRANSLINK.
    asio::awaitable<void> handle(const set_of<cmd::savetranslink_tcp>& r);
    asio::awaitable<void> handle(const set_of<cmd::savetranslink_ssl>& r);
    template <class Request>
    void save_stream_link(link_type type, const Request& p);
    asio::awaitable<void> handle(const set_of<cmd::savetranslink_udp>& r);

    // Boot into the saved link; reconnect a passthrough session's link.
    bool lose_passthrough_link(const std::shared_ptr<link>& l);
    asio::awaitable<void> reconnect_in_background(std::shared_ptr<module_core> keep, std::uint64_t this_boot,
                                                  std::uint64_t session, saved_transparent_link target);
    asio::awaitable<void> reconnect_passthrough(std::uint64_t this_boot, std::uint64_t session, saved_transparent_link target);
    asio::awaitable<std::shared_ptr<link>> open_saved_link(const saved_transparent_link& target);

    // ------------------------------------------------------------------------------------
    // TLS (core_tls.hpp): SSL links, the SSL server, the AT+CIPSSLC* settings.

    // TLS over a slow Wi-Fi link: the reference allows 10 s per handshake packet. Loopback
    // needs far less; a bound is what matters.
    static constexpr auto tls_handshake_limit = std::chrono::seconds(10);

    asio::awaitable<void> handle(const set_of<cmd::cipsslsize>&);
    [[nodiscard]] std::vector<std::uint8_t> ssl_config_targets(const std::optional<close_link_id>& link) const;
    template <class Request>
    asio::awaitable<void> set_ssl_client(const Request& r);
    [[nodiscard]] std::uint8_t ssl_config_count() const;
    asio::awaitable<void> handle(const set_of<cmd::cipsslcconf>& r);
    asio::awaitable<void> handle(const set_of<cmd::cipsslccn>& r);
    asio::awaitable<void> handle(const set_of<cmd::cipsslcsni>& r);
    asio::awaitable<void> handle(const set_of<cmd::cipsslcalpn>& r);
    asio::awaitable<void> handle(const set_of<cmd::cipsslcpsk>& r);
    asio::awaitable<void> handle(const query_of<cmd::cipsslcconf>&);
    template <class Command, auto Member>
    void reply_ssl_setting();
    asio::awaitable<void> handle(const query_of<cmd::cipsslccn>&);
    asio::awaitable<void> handle(const query_of<cmd::cipsslcsni>&);
    asio::awaitable<void> handle(const query_of<cmd::cipsslcalpn>&);
    asio::awaitable<void> handle(const query_of<cmd::cipsslcpsk>&);
    [[nodiscard]] std::shared_ptr<tls_link> make_tls_client_link(std::uint8_t id, const tls_client_config& config);
    asio::awaitable<std::error_code> connect_tls(const std::shared_ptr<tls_link>& l, const asio::ip::address& address,
                                                 std::uint16_t port, const tls_client_config& config,
                                                 const std::string& host, const std::optional<asio::ip::address>& local_ip);
    template <class Request>
    asio::awaitable<void> start_ssl(std::optional<std::uint8_t> id, const Request& p);
    asio::awaitable<void> handle(const set_of<cmd::cipstart_ssl>& r);
    asio::awaitable<void> handle(const set_of<cmd::cipstartex_ssl>& r);
    asio::awaitable<void> handle(const set_of<cmd::cipserver_ssl>& r);
    asio::awaitable<void> accept_tls_clients(std::shared_ptr<module_core> keep, std::shared_ptr<asio::ip::tcp::acceptor> acceptor,
                                             std::shared_ptr<asio::ssl::context> context);
    asio::awaitable<void> admit_tls_client(std::shared_ptr<module_core> keep, std::shared_ptr<asio::ip::tcp::acceptor> acceptor,
                                           std::shared_ptr<asio::ssl::context> context, asio::ip::tcp::socket socket);

    // ------------------------------------------------------------------------------------
    // DNS, ping, SNTP, OTA (core_services.hpp).

    // Handlers: DNS (AT+CIPDOMAIN, AT+CIPDNS) and AT+PING.
    asio::awaitable<void> handle(const query_of<cmd::cipdns>&);
    asio::awaitable<void> handle(const set_of<cmd::cipdns>& r);
    void set_dns(dns_mode mode, const dns_config& servers, bool save);
    asio::awaitable<void> handle(const query_of<cmd::cipdns_cur>&);
    asio::awaitable<void> handle(const set_of<cmd::cipdns_cur>& r);
    asio::awaitable<void> handle(const query_of<cmd::cipdns_def>&);
    asio::awaitable<void> handle(const set_of<cmd::cipdns_def>& r);
    asio::awaitable<void> handle(const set_of<cmd::cipdomain>& r);
    asio::awaitable<std::optional<asio::ip::address>> resolve(const std::string& host);
    asio::awaitable<void> handle(const set_of<cmd::ping>& r);

    // Handlers: SNTP (AT+CIPSNTPCFG, AT+CIPSNTPTIME).
    asio::awaitable<void> handle(const query_of<cmd::cipsntpcfg>&);
    asio::awaitable<void> handle(const set_of<cmd::cipsntpcfg>& r);
    asio::awaitable<void> handle(const exec_of<cmd::cipsntpcfg>&);
    asio::awaitable<void> handle(const query_of<cmd::cipsntptime>&);

    // Handlers: OTA (AT+CIUPDATE).
    asio::awaitable<void> update_firmware();
    asio::awaitable<void> handle(const exec_of<cmd::ciupdate>&);
    asio::awaitable<void> handle(const set_of<cmd::ciupdate>&);

    // ------------------------------------------------------------------------------------
    // MQTT (core_mqtt.hpp): the one client, link 0, against a real broker.

    asio::awaitable<void> handle(const set_of<cmd::mqttusercfg>& r);
    asio::awaitable<void> handle(const set_of<cmd::mqttlongclientid>& r);
    asio::awaitable<void> handle(const set_of<cmd::mqttlongusername>& r);
    asio::awaitable<void> handle(const set_of<cmd::mqttlongpassword>& r);
    asio::awaitable<void> handle(const set_of<cmd::mqttconncfg>& r);
    asio::awaitable<void> handle(const set_of<cmd::mqttconn>& r);
    asio::awaitable<void> handle(const query_of<cmd::mqttconn>&);
    asio::awaitable<void> handle(const set_of<cmd::mqttpub>& r);
    asio::awaitable<void> handle(const set_of<cmd::mqttpubraw>& r);
    asio::awaitable<void> handle(const set_of<cmd::mqttsub>& r);
    asio::awaitable<void> handle(const query_of<cmd::mqttsub>&);
    asio::awaitable<void> handle(const set_of<cmd::mqttunsub>& r);
    asio::awaitable<void> handle(const set_of<cmd::mqttclean>& r);
    [[nodiscard]] std::optional<std::uint32_t> mqtt_refusal(std::string_view line) const;
    [[nodiscard]] bool mqtt_refuse_timeout(bool given);
    [[nodiscard]] bool mqtt_refuse_state(bool need_connection, bool refuse_connected);
    void mqtt_begin_data(mqtt_data_target target, std::size_t length);
    std::string_view take_mqtt_bytes(std::string_view bytes);
    asio::awaitable<void> complete_mqtt_data(std::shared_ptr<module_core> keep);
    asio::awaitable<bool> mqtt_wait(std::chrono::milliseconds limit);
    void mqtt_done(bool ok);
    asio::awaitable<bool> mqtt_connect(const asio::ip::address& address, std::chrono::milliseconds limit);
    void mqtt_lost();
    void mqtt_message(std::string_view topic, std::string_view payload);
    asio::awaitable<void> mqtt_resume_reading(std::shared_ptr<module_core> keep, std::shared_ptr<mqtt_client> client);
    asio::awaitable<void> mqtt_reconnect(std::shared_ptr<module_core> keep, std::uint64_t connection);
    [[nodiscard]] std::string mqtt_connected_line() const;
    [[nodiscard]] std::shared_ptr<asio::ssl::context> mqtt_tls_context(const std::string& host) const;
    void mqtt_reset();

    // ------------------------------------------------------------------------------------
    // The module's state.

    asio::any_io_executor ex_;
    module_options opts_;
    std::mt19937 rng_;
    bool stopped_ = false;

    // What the module printed and the host has not taken yet, in the writes the firmware's UART
    // task makes: each report (+IPD, CONNECT, CLOSED, WIFI ...) a write of its own, a command's
    // answer one write until a report comes between its parts.
    std::deque<std::string> out_;
    std::size_t out_bytes_ = 0;
    bool out_joinable_ = false;         // the last write in out_ takes more of an answer
    asio::steady_timer out_signal_;     // cancelled when output is queued
    asio::steady_timer output_room_;    // cancelled when the output queue is drained
    asio::steady_timer input_room_;     // cancelled when passthrough data went out
    asio::steady_timer passthrough_wake_;

    input_mode input_ = input_mode::command;
    std::string line_;
    bool line_overflow_ = false;
    bool busy_ = false;
    std::string pending_echo_split_;
    pending_send send_;
    std::string passthrough_data_;
    std::chrono::steady_clock::time_point last_host_byte_{};

    // Settings a reset returns to their defaults (reset_state()), or to what flash holds of
    // them (sysmsg_, uart_: AT+SYSMSG_DEF, AT+UART_DEF).
    bool echo_ = true;
    bool mux_ = false;
    bool show_remote_ = false;
    recv_mode recv_mode_ = recv_mode::active;
    system_messages sysmsg_ = system_messages::none;
    bool syslog_ = false;
    transfer_mode passthrough_mode_ = transfer_mode::normal;
    std::uint64_t passthrough_sessions_ = 0;  // a reconnection belongs to one passthrough session
    std::uint8_t server_max_conn_ = 5;
    std::chrono::seconds server_timeout_{180};
    bool any_link_closed_ = false;
    uart_config uart_{};
    // What the UART runs at: uart_ once the answer that set it is out (uart_switch_pending_).
    uart_config line_uart_{};
    bool uart_switch_pending_ = false;

    flash_settings flash_;  // see flash_settings

    // The settings in effect that flash holds, loaded from it at every boot (load_flash()).
    wifi_mode wifi_mode_{};
    station_addresses station_;  // the IP the station gets when it joins
    softap_addresses softap_;
    softap_config softap_config_;
    std::uint8_t dhcp_interfaces_ = 0;
    mac_address station_mac_, softap_mac_;
    dns_config dns_;

    // Settings that survive a reset (flash, or the Wi-Fi driver's own state).
    bool store_ = true;
    std::optional<std::size_t> joined_;  // index into opts_.access_points
    std::string last_ssid_, last_password_;
    sntp_config sntp_{false, 0, std::string("pool.ntp.org"), std::nullopt, std::nullopt};
    deciseconds reconnect_interval_{1};  // the reference: "default is 1"
    bool saved_passthrough_ = false;
    std::array<socket_options, 5> tcp_options_{{{*link_id::checked(0)}, {*link_id::checked(1)}, {*link_id::checked(2)},
                                                {*link_id::checked(3)}, {*link_id::checked(4)}}};

    std::array<std::shared_ptr<link>, 5> links_{};
    std::shared_ptr<asio::ip::tcp::acceptor> server_;
    std::size_t max_buffered_seen_ = 0;

    // Host drivers' extra settings (host-drivers.md); all survive a reset.
    rf_power rf_power_ = default_rf_power(opts_.firmware);
    std::uint16_t scan_print_mask_ = cwlap_all_fields;
    bool auto_connect_ = true;  // join the AP saved in flash after a reset
    std::optional<std::string> joining_ssid_;  // AT+CWSTATE? 3 while a join runs
    bool join_attempted_ = false;              // AT+CWSTATE? 4 rather than 0 once not joined
    std::string last_join_ssid_;               // the AP of the last join, successful or not
    std::uint64_t boots_ = 0;                  // resets so far: a rejoin belongs to one boot

    // TLS, send-phase reports and the saved passthrough link.
    std::array<tls_client_config, 5> ssl_client_{};  // AT+CIPSSLC* per link id (kept in NVS)
    bool in_send_phase_ = false;        // from CIPSEND's '>' to its SEND OK / SEND FAIL
    bool reports_inside_send_ = false;  // this send lets reports through (a fault)
    std::vector<std::string> held_reports_;  // reports waiting for the send to end, one write each
    std::optional<saved_transparent_link> saved_link_;  // AT+SAVETRANSLINK's target (flash)

    // Failures planned by a test (module::fail_command).
    std::size_t commands_seen_ = 0;
    std::vector<std::pair<std::size_t, planned_failure>> planned_;  // at which line, how
    std::string busy_line_;  // a line failed busy: its re-sends in a row stay busy until busy_until_
    std::chrono::steady_clock::time_point busy_until_{};
    bool close_links_after_line_ = false;  // planned_failure::link_closed for the line running
    bool fail_as_planned(const std::string& line);

    mqtt_module_state mqtt_;  // the MQTT client (core_mqtt.hpp); lost at a reset
};

}  // namespace detail
}  // namespace espat::sim

namespace espat::sim::detail {

// The templates every command group uses, here so that each group's file sees them.
// The information lines of an answer, written by the table.
template <class Form, class Value>
void module_core::reply(const Value& v)
{
    std::string s;
    cmd::encode_reply<Form>(s, v);
    emit(s);
}

// Commands outside the personality's version range do not exist on that module.
template <class R>
bool module_core::available() const
{
    using C = typename R::command;
    if constexpr (requires { C::since; })
        if (opts_.firmware.version < C::since) return false;
    if constexpr (requires { C::until; })
        if (!(opts_.firmware.version < C::until)) return false;
    return true;
}

}  // namespace espat::sim::detail

// module_core's members, defined by command group (each header includes this one, so any of
// them can be opened on its own), and sim::module's members (module_impl.hpp). Header-only,
// they are included here, inline; with ESPAT_SIM_SEPARATE_COMPILATION they are compiled once:
// all in the one file that includes module_src.hpp, or each group in a file of its own, as
// espat's own build does (src/sim/*.cpp), so the simulator builds in parallel and with progress.
#if !defined(ESPAT_SIM_SEPARATE_COMPILATION)
#include <espat/sim/core_dispatch.hpp>
#include <espat/sim/core_basic_wifi.hpp>
#include <espat/sim/core_at1.hpp>
#include <espat/sim/core_links.hpp>
#include <espat/sim/core_link_data.hpp>
#include <espat/sim/core_servers.hpp>
#include <espat/sim/core_passthrough.hpp>
#include <espat/sim/core_tls.hpp>
#include <espat/sim/core_services.hpp>
#include <espat/sim/core_mqtt.hpp>
#include <espat/sim/module_impl.hpp>
#endif
