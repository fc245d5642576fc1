// espat/sim/mqtt_client.hpp — the simulated module's MQTT client: one libmosquitto client driven
// from the module's Asio executor (external-loop API, no libmosquitto thread, nothing blocks).
#pragma once

#include <espat/config.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/post.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>

#include <mosquitto.h>
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace espat::sim::detail {

// What the client reports, on the executor, from inside its own calls into libmosquitto: the
// CONNACK (0: accepted), the connection's end (after CONNACK or before it), a received
// PUBLISH, and the end of a publish (QoS 0: written; 1: PUBACK; 2: PUBCOMP), subscribe
// (granted: false when the broker refused, 0x80) and unsubscribe, by message id. A handler must
// not destroy the client; it may call publish() and the others.
struct mqtt_client_handlers {
    std::function<void(int connack)> connected;
    std::function<void()> lost;
    std::function<void(std::string_view topic, std::string_view payload)> message;
    std::function<void(int mid)> published;
    std::function<void(int mid, bool granted)> subscribed;
    std::function<void(int mid)> unsubscribed;
};

// What the client connects with (AT+MQTTUSERCFG, AT+MQTTLONG*, AT+MQTTCONNCFG).
struct mqtt_client_settings {
    std::string client_id, username, password;
    bool clean_session = true;
    std::string will_topic, will_message;
    int will_qos = 0;
    bool will_retain = false;
    // TLS (schemes 2 to 5): the context the module's settings made (tls_client.hpp), with the
    // name to verify already in its parameters; libmosquitto takes a reference to it.
    std::shared_ptr<asio::ssl::context> tls;
};

// Owns a mosquitto client and drives it: the socket's readiness (an Asio descriptor that does
// not own the descriptor: libmosquitto closes it), and a timer for keep-alive every second.
// MQTT 3.1.1, as ESP-AT speaks. Reads stop while pause_reading() says so (the module's output
// queue is full): the broker then waits on TCP, so nothing piles up here.
class mqtt_client : public std::enable_shared_from_this<mqtt_client> {
public:
    mqtt_client(asio::any_io_executor ex, const mqtt_client_settings& s, mqtt_client_handlers h)
        : ex_(std::move(ex)), descriptor_(ex_), misc_(ex_), handlers_(std::move(h))
    {
        static std::once_flag init;
        std::call_once(init, [] { mosquitto_lib_init(); });
        m_ = mosquitto_new(s.client_id.c_str(), s.clean_session, this);
        if (!m_) return;
        mosquitto_int_option(m_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
        if (s.tls) {
            tls_ = s.tls;
            mosquitto_int_option(m_, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);  // the context as made, nothing added
            mosquitto_void_option(m_, MOSQ_OPT_SSL_CTX, tls_->native_handle());
            // The name is checked by the context (the host AT+MQTTCONN named), not by libmosquitto,
            // which knows only the address it was given.
            mosquitto_tls_insecure_set(m_, true);
        }
        if (!s.username.empty() || !s.password.empty())
            mosquitto_username_pw_set(m_, s.username.c_str(), s.password.empty() ? nullptr : s.password.c_str());
        if (!s.will_topic.empty())
            mosquitto_will_set(m_, s.will_topic.c_str(), static_cast<int>(s.will_message.size()), s.will_message.data(),
                               s.will_qos, s.will_retain);
        mosquitto_connect_callback_set(m_, [](mosquitto*, void* self, int rc) {
            if (auto& f = static_cast<mqtt_client*>(self)->handlers_.connected) f(rc);
        });
        mosquitto_disconnect_callback_set(m_, [](mosquitto*, void* self, int) { static_cast<mqtt_client*>(self)->on_lost(); });
        mosquitto_message_callback_set(m_, [](mosquitto*, void* self, const mosquitto_message* msg) {
            auto& f = static_cast<mqtt_client*>(self)->handlers_.message;
            if (f && msg && msg->topic)
                f(msg->topic, std::string_view(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen)));
        });
        mosquitto_publish_callback_set(m_, [](mosquitto*, void* self, int mid) {
            if (auto& f = static_cast<mqtt_client*>(self)->handlers_.published) f(mid);
        });
        mosquitto_subscribe_callback_set(m_, [](mosquitto*, void* self, int mid, int count, const int* granted) {
            if (auto& f = static_cast<mqtt_client*>(self)->handlers_.subscribed)
                f(mid, count > 0 && granted && granted[0] >= 0 && granted[0] <= 2);
        });
        mosquitto_unsubscribe_callback_set(m_, [](mosquitto*, void* self, int mid) {
            if (auto& f = static_cast<mqtt_client*>(self)->handlers_.unsubscribed) f(mid);
        });
    }
    ~mqtt_client() { close(); }
    mqtt_client(const mqtt_client&) = delete;
    mqtt_client& operator=(const mqtt_client&) = delete;

    [[nodiscard]] bool valid() const noexcept { return m_ != nullptr; }

    // Starts a connection to a numeric address (the module resolved the name and checked that
    // it may reach it: libmosquitto's own resolver would block). 0: under way; see handlers.
    int connect(const std::string& address, std::uint16_t port, int keep_alive)
    {
        if (!m_) return MOSQ_ERR_INVAL;
        lost_reported_ = false;
        const int rc = mosquitto_connect_async(m_, address.c_str(), port, keep_alive);
        rearm();
        return rc;
    }
    int publish(int* mid, const std::string& topic, std::string_view payload, int qos, bool retain)
    {
        if (!m_) return MOSQ_ERR_INVAL;
        const int rc = mosquitto_publish(m_, mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos, retain);
        rearm();
        return rc;
    }
    int subscribe(int* mid, const std::string& topic, int qos)
    {
        if (!m_) return MOSQ_ERR_INVAL;
        const int rc = mosquitto_subscribe(m_, mid, topic.c_str(), qos);
        rearm();
        return rc;
    }
    int unsubscribe(int* mid, const std::string& topic)
    {
        if (!m_) return MOSQ_ERR_INVAL;
        const int rc = mosquitto_unsubscribe(m_, mid, topic.c_str());
        rearm();
        return rc;
    }
    // A DISCONNECT to the broker (best effort), then the socket closes: no last will.
    void disconnect()
    {
        if (!m_) return;
        lost_reported_ = true;  // an end asked for is no loss
        mosquitto_disconnect(m_);
        mosquitto_loop_write(m_, 1);
        drop_descriptor();
    }
    // Ends everything at once: the socket closes (libmosquitto's), no handler runs again.
    void close()
    {
        handlers_ = {};
        drop_descriptor();
        misc_.cancel();
        if (m_) mosquitto_destroy(m_);
        m_ = nullptr;
    }

    void pause_reading(bool paused)
    {
        paused_ = paused;
        if (!paused) rearm();
    }

private:
    void on_lost()
    {
        if (lost_reported_) return;
        lost_reported_ = true;
        if (auto& f = handlers_.lost) f();
    }

    void drop_descriptor()
    {
        if (descriptor_.is_open()) descriptor_.release();  // cancels the waits; libmosquitto owns the fd
        ++generation_;
        reading_ = writing_ = false;
        fd_ = -1;
    }

    // After every call into libmosquitto: follow its socket (a new one after a reconnect, none
    // after a loss) and wait for what it wants.
    void rearm()
    {
        if (!m_) return;
        const int fd = mosquitto_socket(m_);
        if (fd != fd_) {
            drop_descriptor();
            if (fd < 0) return;
            std::error_code ec;
            descriptor_.assign(fd, ec);
            if (ec) return;
            fd_ = fd;
        }
        if (fd_ < 0) return;
        if (!reading_ && !paused_) {
            reading_ = true;
            wait(false);
        }
        if (!writing_ && mosquitto_want_write(m_)) {
            writing_ = true;
            wait(true);
        }
        if (!ticking_) {
            auto self = weak_from_this();
            ticking_ = true;
            misc_.expires_after(std::chrono::seconds(1));
            misc_.async_wait([self](std::error_code ec) {
                auto me = self.lock();
                if (!me) return;
                me->ticking_ = false;
                if (ec || !me->m_) return;
                mosquitto_loop_misc(me->m_);
                me->after_loop();
            });
        }
    }
    // Asio's reactor is edge-triggered and a wait is never speculative: what was readable (or
    // writable) before the wait began wakes nothing. So ask the socket first (poll, no wait).
    void wait(bool write)
    {
        auto self = weak_from_this();
        const std::uint64_t gen = generation_;
        auto step = [self, gen, write](std::error_code ec) {
            auto me = self.lock();
            if (!me || gen != me->generation_) return;
            (write ? me->writing_ : me->reading_) = false;
            if (ec || !me->m_) return;
            if (write) mosquitto_loop_write(me->m_, 1);
            else mosquitto_loop_read(me->m_, 1);
            me->after_loop();
        };
        pollfd p{fd_, static_cast<short>(write ? POLLOUT : POLLIN), 0};
        if (::poll(&p, 1, 0) > 0) asio::post(ex_, [step] { step({}); });
        else descriptor_.async_wait(write ? asio::posix::descriptor_base::wait_write : asio::posix::descriptor_base::wait_read, step);
    }
    void after_loop()
    {
        if (!m_) return;
        if (mosquitto_socket(m_) < 0) {
            drop_descriptor();
            on_lost();  // libmosquitto's callback says so too; a connect that never got a socket does not
            return;
        }
        rearm();
    }

    asio::any_io_executor ex_;
    asio::posix::stream_descriptor descriptor_;
    asio::steady_timer misc_;
    mqtt_client_handlers handlers_;
    std::shared_ptr<asio::ssl::context> tls_;
    mosquitto* m_ = nullptr;
    int fd_ = -1;
    std::uint64_t generation_ = 0;
    bool reading_ = false, writing_ = false, ticking_ = false, paused_ = false;
    bool lost_reported_ = false;
};

}  // namespace espat::sim::detail
