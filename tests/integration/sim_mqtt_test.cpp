// The simulated module's MQTT commands against a real broker: Debian's mosquitto, started per
// test on a free loopback port from a generated configuration (killed at the end, also when the
// test fails), the module driven through the client (typed commands where the table's work, raw
// command lines and data phases otherwise), and a second MQTT client (libmosquitto, its own
// thread) that checks what reached the broker and publishes what the module must receive.
#include "net_rig.hpp"

#include <espat/commands/mqtt.hpp>

#include <mosquitto.h>

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using espat::test::awaitable;
using espat::test::eventually;
using espat::test::pipe_client;
using espat::test::pipe_network;
namespace cmd = espat::commands;

namespace {

constexpr std::uint32_t mqtt_error(std::uint32_t code) { return 0x010a0000u | code; }
std::error_code module_error(std::uint32_t code) { return espat::make_module_error(mqtt_error(code)); }

std::uint16_t free_port()
{
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::address_v4::loopback(), 0});
    return a.local_endpoint().port();
}

bool accepts(std::uint16_t port)
{
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    std::error_code ec;
    s.connect({asio::ip::address_v4::loopback(), port}, ec);
    return !ec;
}

// mosquitto on 127.0.0.1:<port>, anonymous, no persistence, logging everything to a file in
// its own temporary folder; with `tls`, also TLS listeners with the test server certificate on
// tls_port() (client certificates optional) and mutual_port() (required, signed by the test
// CA). Killed (SIGKILL) by kill() or the destructor.
class broker {
public:
    explicit broker(bool tls = false) : port_(free_port())
    {
        char tmpl[] = "/tmp/espat-mqtt-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir_ = tmpl;
        std::filesystem::permissions(dir_, std::filesystem::perms::all);  // mosquitto drops root for its own user
        std::ofstream conf(dir_ / "mosquitto.conf");
        conf << "per_listener_settings false\nallow_anonymous true\npersistence false\n"
             << "log_dest file " << (dir_ / "mosquitto.log").string() << "\n"
             << "log_type all\nconnection_messages true\n"
             << "listener " << port_ << " 127.0.0.1\n";
        if (tls) {
            const auto& certs = espat::test::test_certs();
            std::ofstream(dir_ / "ca.pem") << certs.ca;
            std::ofstream(dir_ / "server.pem") << certs.server.certificate;
            std::ofstream(dir_ / "server.key") << certs.server.private_key;
            tls_port_ = free_port();
            mutual_port_ = free_port();
            for (const auto port : {tls_port_, mutual_port_}) {
                conf << "listener " << port << " 127.0.0.1\n"
                     << "cafile " << (dir_ / "ca.pem").string() << "\ncertfile " << (dir_ / "server.pem").string()
                     << "\nkeyfile " << (dir_ / "server.key").string() << "\n"
                     << "require_certificate " << (port == mutual_port_ ? "true" : "false") << "\n";
            }
        }
        conf.close();
        start();
    }
    ~broker()
    {
        kill();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    broker(const broker&) = delete;
    broker& operator=(const broker&) = delete;

    void start()
    {
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            const int null = ::open("/dev/null", O_RDWR);
            ::dup2(null, 1);
            ::dup2(null, 2);
            const std::string conf = (dir_ / "mosquitto.conf").string();
            ::execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (const auto port : {port_, tls_port_, mutual_port_}) {
            if (port == 0) continue;
            for (int i = 0; i < 500 && !accepts(port); ++i) std::this_thread::sleep_for(10ms);
            REQUIRE_MESSAGE(accepts(port), "mosquitto did not start on port ", port);
        }
    }
    void kill()
    {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::uint16_t tls_port() const { return tls_port_; }
    [[nodiscard]] std::uint16_t mutual_port() const { return mutual_port_; }
    [[nodiscard]] std::string log() const
    {
        std::ifstream in(dir_ / "mosquitto.log");
        return {std::istreambuf_iterator<char>(in), {}};
    }

private:
    std::uint16_t port_, tls_port_ = 0, mutual_port_ = 0;
    std::filesystem::path dir_;
    pid_t pid_ = -1;
};

// The test's own MQTT client: libmosquitto with its network thread; what it received, under a lock.
class peer {
public:
    struct message {
        std::string topic, payload;
        int qos = 0;
        bool retain = false;
    };

    peer(std::uint16_t port, const char* id)
    {
        mosquitto_lib_init();
        m_ = mosquitto_new(id, true, this);
        REQUIRE(m_ != nullptr);
        mosquitto_connect_callback_set(m_, [](mosquitto*, void* self, int rc) {
            if (rc == 0) static_cast<peer*>(self)->connected_ = true;
        });
        mosquitto_subscribe_callback_set(m_, [](mosquitto*, void* self, int, int, const int*) { ++static_cast<peer*>(self)->subacks_; });
        mosquitto_message_callback_set(m_, [](mosquitto*, void* self, const mosquitto_message* msg) {
            auto* p = static_cast<peer*>(self);
            std::lock_guard lock(p->mutex_);
            p->messages_.push_back({msg->topic, std::string(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen)),
                                    msg->qos, msg->retain});
        });
        REQUIRE(mosquitto_connect(m_, "127.0.0.1", port, 60) == MOSQ_ERR_SUCCESS);
        REQUIRE(mosquitto_loop_start(m_) == MOSQ_ERR_SUCCESS);
        for (int i = 0; i < 500 && !connected_; ++i) std::this_thread::sleep_for(10ms);
        REQUIRE(connected_);
    }
    ~peer()
    {
        mosquitto_disconnect(m_);
        mosquitto_loop_stop(m_, true);
        mosquitto_destroy(m_);
    }
    peer(const peer&) = delete;
    peer& operator=(const peer&) = delete;

    void subscribe(const std::string& topic, int qos)
    {
        const int before = subacks_;
        REQUIRE(mosquitto_subscribe(m_, nullptr, topic.c_str(), qos) == MOSQ_ERR_SUCCESS);
        for (int i = 0; i < 500 && subacks_ == before; ++i) std::this_thread::sleep_for(10ms);
        REQUIRE(subacks_ > before);
    }
    void publish(const std::string& topic, const std::string& payload, int qos = 0, bool retain = false)
    {
        REQUIRE(mosquitto_publish(m_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos, retain) ==
                MOSQ_ERR_SUCCESS);
    }
    std::vector<message> messages() const
    {
        std::lock_guard lock(mutex_);
        return messages_;
    }
    std::size_t count() const
    {
        std::lock_guard lock(mutex_);
        return messages_.size();
    }

private:
    mosquitto* m_ = nullptr;
    std::atomic<bool> connected_{false};
    std::atomic<int> subacks_{0};
    mutable std::mutex mutex_;
    std::vector<message> messages_;
};

// What the module reported: +MQTTSUBRECV fragments, +MQTTCONNECTED, +MQTTDISCONNECTED.
struct reports {
    struct fragment {
        std::string topic, payload;
    };
    std::vector<fragment> received;
    int connected = 0, disconnected = 0;

    void listen(pipe_client& esp)
    {
        esp.add_report_listener([this](const espat::proto::event& e) {
            using k = espat::proto::event_kind;
            if (e.kind == k::mqtt_message) received.push_back({std::string(e.args), std::string(e.payload)});
            else if (e.kind == k::mqtt_connected) ++connected;
            else if (e.kind == k::mqtt_disconnected) ++disconnected;
        });
    }
    // The payload of every fragment received on `topic`, joined.
    std::string joined(const std::string& topic) const
    {
        std::string all;
        for (const auto& f : received)
            if (f.topic == topic) all += f.payload;
        return all;
    }
};

// ESP-AT 3.2: AT+MQTTLONG* (3.0+), 8192 bytes after a prompt, ALREADY SUBSCRIBE (before 4.1).
espat::sim::module_options options()
{
    espat::sim::module_options o;
    o.firmware = espat::sim::esp_at_3();
    o.mqtt_timeout = 10s;
    o.mqtt_reconnect_interval = 100ms;
    return o;
}

awaitable<espat::proto::command_result> raw(pipe_client& esp, std::string line, std::optional<std::string> payload = {},
                                            bool ok_ends_data = false)
{
    espat::proto::command c{.line = std::move(line) + "\r\n", .timeout = 10000ms, .payload = std::move(payload)};
    c.ok_ends_data = ok_ends_data;
    auto [ec, r] = co_await esp.async_send_command(std::move(c), espat::test::as_tuple);
    (void)ec;
    co_return r;
}

// AT+MQTTUSERCFG (TCP, client id "espat-sim"), AT+MQTTCONNCFG (keep-alive, will), AT+MQTTCONN.
awaitable<void> connect(pipe_client& esp, std::uint16_t port, bool reconnect = false)
{
    const espat::mqttusercfg_request user{.scheme = espat::mqtt_scheme::tcp, .client_id = "espat-sim", .username = "", .password = "", .path = ""};
    auto u = co_await esp.async_set<cmd::mqttusercfg>(user);
    REQUIRE(u);
    const espat::mqttconncfg_request conn{.keep_alive = 30s, .session = espat::mqtt_session::clean, .will_topic = "espat/will",
                                          .will_message = "gone", .will_qos = espat::mqtt_qos::at_least_once, .will_retain = false};
    auto c = co_await esp.async_set<cmd::mqttconncfg>(conn);
    REQUIRE(c);
    const espat::mqttconn_request to{.host = "127.0.0.1", .port = *espat::mqtt_port::checked(port), .reconnect = reconnect};
    auto r = co_await esp.async_set<cmd::mqttconn>(to);
    REQUIRE(r);
}

awaitable<espat::mqtt_state> state_now(pipe_client& esp)
{
    auto q = co_await esp.async_query<cmd::mqttconn>();
    REQUIRE(q);
    co_return q->state;
}

}  // namespace

TEST_CASE("sim mqtt: publishes reach the broker with their topic, bytes, QoS and retain flag")
{
    broker b;
    peer watcher(b.port(), "watcher");
    watcher.subscribe("espat/#", 2);
    espat::test::rig t(options());
    reports seen;
    seen.listen(t.esp);
    t.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        co_await connect(esp, b.port());
        CHECK(seen.connected == 1);  // +MQTTCONNECTED before OK
        auto q = co_await esp.async_query<cmd::mqttconn>();
        REQUIRE(q);
        CHECK(q->state == espat::mqtt_state::connected);
        CHECK(q->scheme == espat::mqtt_scheme::tcp);
        CHECK(q->host == "127.0.0.1");
        CHECK(q->port == b.port());

        // AT+MQTTPUB: a string parameter, escaped by the table (quotes, commas, backslashes).
        const espat::mqttpub_request pub{.topic = "espat/text", .data = "a \"quoted\", \\ value", .qos = espat::mqtt_qos::at_least_once,
                                         .retain = false};
        auto p = co_await esp.async_set<cmd::mqttpub>(pub);
        REQUIRE(p);
        const espat::mqttpub_request exactly{.topic = "espat/q2", .data = "two", .qos = espat::mqtt_qos::exactly_once, .retain = false};
        auto p2 = co_await esp.async_set<cmd::mqttpub>(exactly);
        REQUIRE(p2);
        const espat::mqttpub_request kept{.topic = "espat/kept", .data = "retained", .qos = espat::mqtt_qos::at_most_once, .retain = true};
        auto p3 = co_await esp.async_set<cmd::mqttpub>(kept);
        REQUIRE(p3);

        // AT+MQTTPUBRAW: binary bytes through the prompt, then +MQTTPUB:OK.
        std::string binary("\0\r\nOK\r\n+MQTTSUBRECV:0,\"x\",3,abc\r\n>\"\\,", 36);
        auto r1 = co_await raw(esp, "AT+MQTTPUBRAW=0,\"espat/raw\"," + std::to_string(binary.size()) + ",1,0", binary);
        CHECK(r1.ec == std::error_code{});
        CHECK(r1.final_result == espat::proto::event_kind::send_ok);
        const std::string big = espat::test::pattern(6000, 7);
        auto r2 = co_await raw(esp, "AT+MQTTPUBRAW=0,\"espat/big\",6000,0,0", big);
        CHECK(r2.ec == std::error_code{});

        auto all = [&] { return watcher.count() >= 5; };
        REQUIRE(co_await eventually(all));
        const auto got = watcher.messages();
        auto find = [&](const std::string& topic) {
            const auto it = std::find_if(got.begin(), got.end(), [&](const auto& m) { return m.topic == topic; });
            REQUIRE(it != got.end());
            return *it;
        };
        CHECK(find("espat/text").payload == "a \"quoted\", \\ value");
        CHECK(find("espat/text").qos == 1);
        CHECK(find("espat/q2").qos == 2);
        CHECK(find("espat/kept").payload == "retained");
        CHECK(find("espat/raw").payload == binary);
        CHECK(find("espat/raw").qos == 1);
        CHECK(find("espat/big").payload == big);
        CHECK(find("espat/big").qos == 0);
    });
    // Retained: a client that subscribes later gets it, with the retain flag.
    peer late(b.port(), "late");
    late.subscribe("espat/kept", 0);
    for (int i = 0; i < 500 && late.count() == 0; ++i) std::this_thread::sleep_for(10ms);
    REQUIRE(late.count() == 1);
    CHECK(late.messages()[0].retain);
    CHECK(late.messages()[0].payload == "retained");
}

TEST_CASE("sim mqtt: messages from the broker arrive as +MQTTSUBRECV, exact, in fragments; unsubscribe stops them")
{
    broker b;
    peer sender(b.port(), "sender");
    espat::test::rig t(options());
    reports seen;
    seen.listen(t.esp);
    t.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        co_await connect(esp, b.port());
        const espat::mqttsub_request in{.topic = "espat/in/#", .qos = espat::mqtt_qos::at_least_once};
        auto s1 = co_await esp.async_set<cmd::mqttsub>(in);
        REQUIRE(s1);
        // A topic of quotes and commas: escaped on the way in, printed raw by the module.
        const espat::mqttsub_request odd{.topic = "a\"b,c", .qos = espat::mqtt_qos::at_most_once};
        auto s2 = co_await esp.async_set<cmd::mqttsub>(odd);
        REQUIRE(s2);
        auto again = co_await esp.async_send_command("AT+MQTTSUB=0,\"espat/in/#\",1", 10000ms);
        CHECK(again);  // firmware before 4.1: ALREADY SUBSCRIBE, then OK

        auto subs = co_await esp.async_query<cmd::mqttsub>();
        REQUIRE(subs);
        REQUIRE(subs->size() == 2);
        CHECK((*subs)[0].topic == "espat/in/#");
        CHECK((*subs)[0].qos == espat::mqtt_qos::at_least_once);
        CHECK((*subs)[0].state == espat::mqtt_state::subscribed);
        CHECK((*subs)[1].topic == "a\"b,c");
        CHECK(co_await state_now(esp) == espat::mqtt_state::subscribed);

        const std::string binary("\0\r\nOK\r\n+MQTTDISCONNECTED:0\r\n+MQTTSUBRECV:0,\"t\",1,x", 48);
        sender.publish("espat/in/one", binary, 1);
        sender.publish("a\"b,c", "odd topic");
        const std::string big = espat::test::pattern(3000, 11);
        sender.publish("espat/in/big", big, 0);
        auto arrived = [&] { return seen.joined("espat/in/big").size() == big.size() && !seen.joined("a\"b,c").empty(); };
        REQUIRE(co_await eventually(arrived));
        CHECK(seen.joined("espat/in/one") == binary);
        CHECK(seen.joined("a\"b,c") == "odd topic");
        CHECK(seen.joined("espat/in/big") == big);
        // Bounded: the message came in fragments that fit the firmware's 1024-byte buffer.
        for (const auto& f : seen.received) CHECK(f.payload.size() <= 1024);
        CHECK(std::count_if(seen.received.begin(), seen.received.end(), [](const auto& f) { return f.topic == "espat/in/big"; }) >= 3);

        // A topic whose header a host could not frame ('",<digits>,' inside) is dropped.
        const auto got = seen.received.size();
        sender.publish("espat/in/x\",5,y", "unframeable", 0);
        sender.publish("espat/in/after", "framed", 0);
        auto framed = [&] { return !seen.joined("espat/in/after").empty(); };
        REQUIRE(co_await eventually(framed));
        CHECK(seen.received.size() == got + 1);

        const espat::mqttunsub_request out{.topic = "espat/in/#"};
        auto u = co_await esp.async_set<cmd::mqttunsub>(out);
        REQUIRE(u);
        auto left = co_await esp.async_query<cmd::mqttsub>();
        REQUIRE(left);
        REQUIRE(left->size() == 1);
        CHECK((*left)[0].topic == "a\"b,c");
        auto none = co_await esp.async_send_command("AT+MQTTUNSUB=0,\"espat/never\"", 10000ms);
        CHECK(none);  // NO UNSUBSCRIBE, then OK

        // Ordered by the broker: once the second arrived, the first would have.
        const auto before = seen.received.size();
        sender.publish("espat/in/one", "after unsubscribe", 0);
        sender.publish("a\"b,c", "still subscribed", 0);
        auto second = [&] { return seen.joined("a\"b,c") == "odd topicstill subscribed"; };
        REQUIRE(co_await eventually(second));
        CHECK(seen.received.size() == before + 1);

        const espat::mqttunsub_request last{.topic = "a\"b,c"};
        auto u2 = co_await esp.async_set<cmd::mqttunsub>(last);
        REQUIRE(u2);
        CHECK(co_await state_now(esp) == espat::mqtt_state::connected_no_subscription);
        auto empty = co_await esp.async_query<cmd::mqttsub>();
        REQUIRE(empty);
        REQUIRE(empty->size() == 1);
        CHECK((*empty)[0].topic.empty());
    });
}

TEST_CASE("sim mqtt: long client id, user name and password through the prompt")
{
    broker b;
    espat::test::rig t(options());
    t.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        const espat::mqttusercfg_request user{.scheme = espat::mqtt_scheme::tcp, .client_id = "short", .username = "", .password = "", .path = ""};
        auto u = co_await esp.async_set<cmd::mqttusercfg>(user);
        REQUIRE(u);
        const std::string id = "espat-" + std::string(300, 'i');
        const std::string name = "user-" + std::string(100, 'u');
        auto r1 = co_await raw(esp, "AT+MQTTLONGCLIENTID=0," + std::to_string(id.size()), id, true);
        CHECK(r1.ec == std::error_code{});
        auto r2 = co_await raw(esp, "AT+MQTTLONGUSERNAME=0," + std::to_string(name.size()), name, true);
        CHECK(r2.ec == std::error_code{});
        auto r3 = co_await raw(esp, "AT+MQTTLONGPASSWORD=0,5", std::string("p,w\"d"), true);
        CHECK(r3.ec == std::error_code{});
        auto bad = co_await raw(esp, "AT+MQTTLONGCLIENTID=0,1025");
        CHECK(bad.ec == module_error(0x6016));
        const espat::mqttconn_request to{.host = "127.0.0.1", .port = *espat::mqtt_port::checked(b.port()), .reconnect = false};
        auto c = co_await esp.async_set<cmd::mqttconn>(to);
        REQUIRE(c);
        auto in_log = [&] { return b.log().find(id) != std::string::npos; };
        REQUIRE(co_await eventually(in_log));
        CHECK(b.log().find("u'" + name + "'") != std::string::npos);
    });
}

TEST_CASE("sim mqtt: refusals with the reference's ERR CODEs")
{
    broker b;
    espat::test::rig t(options());
    t.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        auto expect = [&](std::string line, std::uint32_t code) -> awaitable<void> {
            auto r = co_await raw(esp, std::move(line));
            CHECK(r.ec == module_error(code));
        };
        co_await expect("AT+MQTTCONN=0,\"127.0.0.1\",1883,0", 0x6001);                   // not configured
        co_await expect("AT+MQTTCONNCFG=0,60,0,\"w\",\"m\",0,0", 0x6001);
        co_await expect("AT+MQTTPUB=0,\"t\",\"d\",0,0", 0x6051);                          // not connected
        co_await expect("AT+MQTTPUBRAW=0,\"t\",3,0,0", 0x6051);
        co_await expect("AT+MQTTSUB=0,\"t\",0", 0x6051);
        co_await expect("AT+MQTTCLEAN=0", 0x6003);                                      // nothing to clean
        co_await expect("AT+MQTTUSERCFG=1,1,\"id\",\"\",\"\",0,0,\"\"", 0x6011);          // link 0 only
        co_await expect("AT+MQTTUSERCFG=0,6,\"id\",\"\",\"\",0,0,\"mqtt\"", 0x6013);      // WebSocket: not simulated
        co_await expect("AT+MQTTUSERCFG=0,1,\"id\",\"" + std::string(65, 'u') + "\",\"\",0,0,\"\"", 0x6019);
        co_await expect("AT+MQTTUSERCFG=0,1,\"id\",\"\",\"" + std::string(65, 'p') + "\",0,0,\"\"", 0x601C);
        co_await expect("AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0,\"" + std::string(33, 'x') + "\"", 0x6029);
        co_await expect("AT+MQTTUSERCFG=0,1,\"\",\"\",\"\",0,0,\"\"", 0x6015);            // empty client id
        auto u = co_await esp.async_send_command("AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0,\"\"", 2000ms);
        REQUIRE(u);
        co_await expect("AT+MQTTCONNCFG=0,7201,0,\"w\",\"m\",0,0", 0x602D);
        co_await expect("AT+MQTTCONNCFG=0,60,0,\"\",\"m\",0,0", 0x6031);                  // a will needs a topic
        co_await expect("AT+MQTTCONN=0,\"127.0.0.1\",1883,0,5000", 0x6008);              // <timeout_ms> is 5.0's
        co_await expect("AT+MQTTCONN=0,\"" + std::string(129, 'h') + "\",1883,0", 0x603C);
        co_await expect("AT+MQTTCONN=0,\"127.0.0.1\"," + std::to_string(free_port()) + ",0", 0x600B);  // nobody there
        CHECK(co_await state_now(esp) == espat::mqtt_state::user_configured);
        auto c = co_await esp.async_send_command("AT+MQTTCONN=0,\"127.0.0.1\"," + std::to_string(b.port()) + ",0", 10000ms);
        REQUIRE(c);
        co_await expect("AT+MQTTCONN=0,\"127.0.0.1\"," + std::to_string(b.port()) + ",0", 0x6004);  // already connected
        co_await expect("AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0,\"\"", 0x6004);
        co_await expect("AT+MQTTPUB=0,\"" + std::string(129, 't') + "\",\"d\",0,0", 0x6043);
        co_await expect("AT+MQTTPUB=0,\"\",\"d\",0,0", 0x6042);
        co_await expect("AT+MQTTPUBRAW=0,\"t\",8193,0,0", 0x604C);                       // over the simulator's limit
        co_await expect("AT+MQTTPUB=0,\"t\",\"d\",3,0", 0x6048);
        // The module still works after all that.
        auto p = co_await esp.async_send_command("AT+MQTTPUB=0,\"t\",\"d\",1,0", 10000ms);
        CHECK(p);
    });
}

TEST_CASE("sim mqtt: a broker that goes away gives +MQTTDISCONNECTED, state 3 and refusals until AT+MQTTCLEAN")
{
    broker b;
    espat::test::rig t(options());
    reports seen;
    seen.listen(t.esp);
    t.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        co_await connect(esp, b.port(), false);
        auto s = co_await esp.async_send_command("AT+MQTTSUB=0,\"espat/x\",0", 10000ms);
        REQUIRE(s);
        b.kill();
        auto lost = [&] { return seen.disconnected == 1; };
        REQUIRE(co_await eventually(lost));
        CHECK(co_await state_now(esp) == espat::mqtt_state::disconnected);
        auto p = co_await raw(esp, "AT+MQTTPUB=0,\"t\",\"d\",0,0");
        CHECK(p.ec == module_error(0x6051));
        auto sub = co_await raw(esp, "AT+MQTTSUB=0,\"t\",0");
        CHECK(sub.ec == module_error(0x6051));
        auto conn = co_await raw(esp, "AT+MQTTCONN=0,\"127.0.0.1\"," + std::to_string(b.port()) + ",0");
        CHECK(conn.ec == module_error(0x6002));  // <reconnect>=0: AT+MQTTCLEAN and configure again
        const espat::mqttclean_request all{};
        auto clean = co_await esp.async_set<cmd::mqttclean>(all);
        REQUIRE(clean);
        // AT+MQTTCLEAN frees everything: state 0, no host, no subscription.
        auto q = co_await esp.async_query<cmd::mqttconn>();
        REQUIRE(q);
        CHECK(q->state == espat::mqtt_state::uninitialized);
        CHECK(q->host.empty());
        CHECK_FALSE(q->port.has_value());
        auto subs = co_await esp.async_query<cmd::mqttsub>();
        REQUIRE(subs);
        REQUIRE(subs->size() == 1);
        CHECK((*subs)[0].topic.empty());
        auto again = co_await raw(esp, "AT+MQTTCLEAN=0");
        CHECK(again.ec == module_error(0x6003));
        CHECK(seen.disconnected == 1);
    });
}

TEST_CASE("sim mqtt: with <reconnect>=1 the module connects again by itself when the broker is back")
{
    broker b;
    espat::test::rig t(options());
    reports seen;
    seen.listen(t.esp);
    t.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        co_await connect(esp, b.port(), true);
        auto s = co_await esp.async_send_command("AT+MQTTSUB=0,\"espat/x\",0", 10000ms);
        REQUIRE(s);
        b.kill();
        auto lost = [&] { return seen.disconnected == 1; };
        REQUIRE(co_await eventually(lost));
        CHECK(co_await state_now(esp) == espat::mqtt_state::disconnected);
        b.start();
        auto back = [&] { return seen.connected == 2; };
        REQUIRE(co_await eventually(back, 20s));
        // A clean session: the broker forgot the subscription, and so does the module.
        CHECK(co_await state_now(esp) == espat::mqtt_state::connected);
        peer watcher(b.port(), "watcher");
        watcher.subscribe("espat/back", 0);
        auto p = co_await esp.async_send_command("AT+MQTTPUB=0,\"espat/back\",\"again\",1,0", 10000ms);
        REQUIRE(p);
        auto got = [&] { return watcher.count() == 1; };
        REQUIRE(co_await eventually(got));
        CHECK(watcher.messages()[0].payload == "again");
    }, 40s);
}

TEST_CASE("sim mqtt: AT+MQTTCLEAN disconnects and forgets; the module connects again after a new configuration")
{
    broker b;
    peer sender(b.port(), "sender");
    espat::test::rig t(options());
    reports seen;
    seen.listen(t.esp);
    t.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        co_await connect(esp, b.port());
        auto s = co_await esp.async_send_command("AT+MQTTSUB=0,\"espat/c\",0", 10000ms);
        REQUIRE(s);
        auto clean = co_await esp.async_send_command("AT+MQTTCLEAN=0", 10000ms);
        REQUIRE(clean);
        CHECK(co_await state_now(esp) == espat::mqtt_state::uninitialized);
        auto conn = co_await raw(esp, "AT+MQTTCONN=0,\"127.0.0.1\"," + std::to_string(b.port()) + ",0");
        CHECK(conn.ec == module_error(0x6001));  // the configuration went with it
        auto left = [&] { return b.log().find("Client espat-sim disconnected") != std::string::npos; };
        REQUIRE(co_await eventually(left));
        co_await connect(esp, b.port());
        auto s2 = co_await esp.async_send_command("AT+MQTTSUB=0,\"espat/d\",0", 10000ms);
        REQUIRE(s2);
        sender.publish("espat/c", "old", 0);
        sender.publish("espat/d", "new", 0);
        auto got = [&] { return !seen.joined("espat/d").empty(); };
        REQUIRE(co_await eventually(got));
        CHECK(seen.joined("espat/c").empty());  // the old subscription did not survive AT+MQTTCLEAN
    });
}

TEST_CASE("sim mqtt: the TLS schemes with the module's flashed certificates; WebSocket refused")
{
    broker b(true);
    peer watcher(b.port(), "watcher");
    watcher.subscribe("espat/tls/#", 1);
    const auto& certs = espat::test::test_certs();
    auto o = options();
    // Slot 0 (<cert_key_ID> 0, <CA_ID> 0): the test CA, and a client certificate it signed.
    o.tls = {{.ca_certificate = certs.ca, .certificate = certs.client.certificate, .private_key = certs.client.private_key,
              .psk = std::nullopt}};
    espat::test::rig t(o);
    t.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        // One connection per scheme: configure, connect to `host`:`port`, publish, clean.
        auto attempt = [&](int scheme, std::string host, std::uint16_t port) -> awaitable<std::error_code> {
            auto u = co_await raw(esp, "AT+MQTTUSERCFG=0," + std::to_string(scheme) + ",\"tls" + std::to_string(scheme) + "\",\"\",\"\",0,0,\"\"");
            REQUIRE(u.ec == std::error_code{});
            auto c = co_await raw(esp, "AT+MQTTCONN=0,\"" + host + "\"," + std::to_string(port) + ",0");
            if (!c.ec) {
                auto p = co_await raw(esp, "AT+MQTTPUB=0,\"espat/tls/" + std::to_string(scheme) + "\",\"over TLS\",1,0");
                CHECK(p.ec == std::error_code{});
            }
            auto q = co_await esp.async_query<cmd::mqttconn>();
            REQUIRE(q);
            if (!c.ec) CHECK(q->scheme == static_cast<espat::mqtt_scheme>(scheme));
            auto clean = co_await raw(esp, "AT+MQTTCLEAN=0");
            CHECK(clean.ec == std::error_code{});
            co_return c.ec;
        };
        CHECK(co_await attempt(2, "127.0.0.1", b.tls_port()) == std::error_code{});  // nothing checked
        CHECK(co_await attempt(3, "localhost", b.tls_port()) == std::error_code{});  // the server's name checked
        CHECK(co_await attempt(3, "127.0.0.1", b.tls_port()) == std::error_code{});  // its IP address
        CHECK(co_await attempt(5, "localhost", b.mutual_port()) == std::error_code{});
        CHECK(co_await attempt(4, "127.0.0.1", b.mutual_port()) == std::error_code{});
        CHECK(co_await attempt(2, "127.0.0.1", b.mutual_port()) == module_error(0x600B));  // no certificate sent
        CHECK(co_await attempt(3, "127.0.0.1", b.port()) == module_error(0x600B));        // no TLS there
        auto ws = co_await raw(esp, "AT+MQTTUSERCFG=0,6,\"ws\",\"\",\"\",0,0,\"mqtt\"");
        CHECK(ws.ec == module_error(0x6013));
        auto got = [&] { return watcher.count() == 5; };
        REQUIRE(co_await eventually(got));
        for (const auto& m : watcher.messages()) CHECK(m.payload == "over TLS");
    });
}

TEST_CASE("sim mqtt: a server certificate the module's CA did not sign fails the connection")
{
    broker b(true);
    const auto& certs = espat::test::test_certs();
    auto o = options();
    o.tls = {{.ca_certificate = certs.unrelated_ca, .certificate = {}, .private_key = {}, .psk = std::nullopt}};
    espat::test::rig t(o);
    t.run([&](pipe_client& esp, pipe_network&) -> awaitable<void> {
        auto u = co_await raw(esp, "AT+MQTTUSERCFG=0,3,\"tls\",\"\",\"\",0,0,\"\"");
        REQUIRE(u.ec == std::error_code{});
        auto c = co_await raw(esp, "AT+MQTTCONN=0,\"localhost\"," + std::to_string(b.tls_port()) + ",0");
        CHECK(c.ec == module_error(0x600B));
        auto mutual = co_await raw(esp, "AT+MQTTUSERCFG=0,5,\"tls\",\"\",\"\",0,0,\"\"");
        REQUIRE(mutual.ec == std::error_code{});
        auto none = co_await raw(esp, "AT+MQTTCONN=0,\"localhost\"," + std::to_string(b.mutual_port()) + ",0");
        CHECK(none.ec == module_error(0x6009));  // no client certificate flashed: the TLS settings cannot work
    });
}
