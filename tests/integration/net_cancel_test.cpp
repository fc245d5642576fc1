// Cancelling writes on links: queued behind another link's send, while the module is asked for
// the prompt, while data is on its way. The rule the link keeps (link.hpp): a chunk still waiting
// for its turn is dropped with nothing sent; a chunk handed to the module is never cut, so the
// peer receives exactly the bytes the completions counted. After any cancel the link and its
// neighbours go on working, in step with the module.
#include "net_rig.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/post.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>

using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;
using espat::test::as_tuple;
using espat::test::eventually;
using espat::test::pattern;
using espat::test::rig;
using client_type = espat::test::pipe_client;
using network_type = espat::test::pipe_network;

namespace {

// A loopback peer per connection that keeps everything it receives and echoes nothing until
// told: what it got is the evidence.
struct collecting_peer {
    struct conn {
        std::string received;
        asio::ip::tcp::socket* socket = nullptr;
    };
    explicit collecting_peer(asio::io_context& io) : acceptor(io, {asio::ip::address_v4::loopback(), 0})
    {
        asio::co_spawn(io, accept_loop(), asio::detached);
    }
    awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(as_tuple);
            if (ec) co_return;
            auto c = std::make_shared<conn>();
            conns.push_back(c);
            asio::co_spawn(acceptor.get_executor(), session(std::move(socket), c), asio::detached);
        }
    }
    static awaitable<void> session(asio::ip::tcp::socket s, std::shared_ptr<conn> c)
    {
        char buf[4096];
        for (;;) {
            auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), as_tuple);
            if (ec) co_return;
            c->received.append(buf, n);
            // An echo of the last byte only, so the link's read side is exercised too.
            auto [wec, wn] = co_await asio::async_write(s, asio::buffer(buf + n - 1, 1), as_tuple);
            (void)wn;
            if (wec) co_return;
        }
    }
    std::uint16_t port() const { return acceptor.local_endpoint().port(); }
    asio::ip::tcp::acceptor acceptor;
    std::vector<std::shared_ptr<conn>> conns;
};

struct write_outcome {
    bool done = false;
    std::error_code ec;
    std::size_t n = 0;
};

// Starts asio::async_write on `link` with a cancellation slot the test controls.
void start_write(network_type::link& link, const std::string& data, asio::cancellation_signal& signal,
                 std::shared_ptr<write_outcome> out)
{
    asio::async_write(link, asio::buffer(data),
                      asio::bind_cancellation_slot(signal.slot(), [out](std::error_code ec, std::size_t n) {
                          out->ec = ec;
                          out->n = n;
                          out->done = true;
                      }));
}

// After a cancelled write: a marker written next must arrive right after the counted bytes, and
// nothing else may be in between.
awaitable<void> check_stream_after(network_type::link& link, collecting_peer::conn& peer, const std::string& data,
                                   std::size_t counted, const char* marker)
{
    const std::string m(marker);
    co_await asio::async_write(link, asio::buffer(m), use_awaitable);
    const std::string expected = data.substr(0, counted) + m;
    const auto cond9 = [&] { return peer.received.size() >= expected.size(); };
    const bool ok9 = co_await espat::test::eventually(cond9);
    CHECK(ok9);
    CHECK(peer.received.size() == expected.size());
    CHECK(peer.received == expected);
}

// Reads what the peer echoed (one byte per segment it received) until `last` came.
awaitable<void> drain_echo_until(network_type::link& link, char last)
{
    char b = 0;
    while (b != last) co_await asio::async_read(link, asio::buffer(&b, 1), use_awaitable);
}

}  // namespace

TEST_CASE("write cancellation: a write queued behind another link's send is dropped whole, nothing of it sent")
{
    rig r;
    collecting_peer peer(r.io);
    r.run([&](client_type&, network_type& net) -> awaitable<void> {
        auto a = co_await net.async_connect("127.0.0.1", peer.port());
        auto b = co_await net.async_connect("127.0.0.1", peer.port());
        REQUIRE(a);
        REQUIRE(b);
        const auto cond10 = [&] { return peer.conns.size() == 2; };
        const bool ok10 = co_await espat::test::eventually(cond10);
        REQUIRE(ok10);
        const std::string big = pattern(6000, 1);
        const std::string small = pattern(100, 2);
        asio::cancellation_signal sig_a, sig_b;
        auto out_a = std::make_shared<write_outcome>();
        auto out_b = std::make_shared<write_outcome>();
        start_write(*a, big, sig_a, out_a);  // takes the turn at once
        start_write(*b, small, sig_b, out_b);  // waits behind it
        CHECK(net.sends_waiting() == 1);
        sig_b.emit(asio::cancellation_type::terminal);
        const auto cond11 = [&] { return out_a->done && out_b->done; };
        const bool ok11 = co_await espat::test::eventually(cond11);
        REQUIRE(ok11);
        CHECK(out_b->ec == asio::error::operation_aborted);
        CHECK(out_b->n == 0);
        CHECK_FALSE(out_a->ec);
        CHECK(out_a->n == big.size());
        CHECK(net.sends_waiting() == 0);
        CHECK(b->is_open());
        // Both links go on: link b's peer got nothing before the marker, link a's got it all.
        co_await check_stream_after(*b, *peer.conns[1], small, 0, "B");
        co_await check_stream_after(*a, *peer.conns[0], big, big.size(), "A");
        co_await drain_echo_until(*a, 'A');
        co_await drain_echo_until(*b, 'B');
    });
}

TEST_CASE("write cancellation at any point of a long write: whole chunks or nothing, and the link goes on")
{
    // The cancel comes after `hops` turns of the event loop, so it lands somewhere else each
    // time: before the first AT+CIPSEND, while the module is asked for the prompt, while a
    // chunk's data is on its way, between chunks, after the end.
    for (int hops = 0; hops <= 120; hops += 4) {
        CAPTURE(hops);
        rig r;
        collecting_peer peer(r.io);
        r.run([&](client_type&, network_type& net) -> awaitable<void> {
            auto a = co_await net.async_connect("127.0.0.1", peer.port());
            auto other = co_await net.async_connect("127.0.0.1", peer.port());
            REQUIRE(a);
            REQUIRE(other);
            const auto cond12 = [&] { return peer.conns.size() == 2; };
            const bool ok12 = co_await espat::test::eventually(cond12);
            REQUIRE(ok12);
            const std::string data = pattern(20000, 3);  // ten AT+CIPSENDs of 2048 bytes
            asio::cancellation_signal sig;
            auto out = std::make_shared<write_outcome>();
            start_write(*a, data, sig, out);
            auto ex = co_await asio::this_coro::executor;
            for (int i = 0; i < hops; ++i) co_await asio::post(ex, use_awaitable);
            sig.emit(asio::cancellation_type::terminal);
            const auto cond13 = [&] { return out->done; };
            const bool ok13 = co_await espat::test::eventually(cond13);
            REQUIRE(ok13);
            // Counted bytes are whole chunks (or all of it, if the write had finished).
            INFO(out->n << " bytes counted");
            CHECK((out->n % 2048 == 0 || out->n == data.size()));
            if (out->n < data.size()) CHECK(out->ec == asio::error::operation_aborted);
            CHECK(a->is_open());
            co_await check_stream_after(*a, *peer.conns[0], data, out->n, "Z");
            co_await drain_echo_until(*a, 'Z');
            // The other link, too.
            const std::string hello = "other link";
            co_await asio::async_write(*other, asio::buffer(hello), use_awaitable);
            co_await check_stream_after(*other, *peer.conns[1], hello, hello.size(), "!");
            co_await drain_echo_until(*other, '!');
        });
    }
}

TEST_CASE("write cancellation with awaitable operators: write || timer leaves the link and the client in step")
{
    rig r;
    espat::test::tcp_peer echo(r.io, espat::test::echo_session);
    r.run([&](client_type& esp, network_type& net) -> awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        auto link = co_await net.async_connect("127.0.0.1", echo.port());
        REQUIRE(link);
        const std::string data = pattern(12000, 4);
        asio::steady_timer t(co_await asio::this_coro::executor, 2ms);
        auto which = co_await (asio::async_write(*link, asio::buffer(data), use_awaitable) || t.async_wait(use_awaitable));
        (void)which;  // whichever won, the rule holds
        // The echo brings back exactly a prefix of whole chunks: read until a marker.
        co_await asio::async_write(*link, asio::buffer(std::string("\x01" "END")), use_awaitable);
        std::string back;
        co_await asio::async_read_until(*link, asio::dynamic_buffer(back), "\x01" "END", use_awaitable);
        const std::size_t prefix = back.size() - 4;
        CAPTURE(prefix);
        CAPTURE(which.index());
        CHECK((prefix % 2048 == 0 || prefix == data.size()));
        CHECK(back.substr(0, prefix) == data.substr(0, prefix));
        // Commands still get their own answers.
        auto mux = co_await esp.template async_query<espat::commands::cipmux>();
        CHECK(mux);
        if (mux) CHECK(*mux == espat::mux_mode::multiple);
    });
}

TEST_CASE("udp send cancellation: a datagram queued behind a link's send is not sent; the next one is")
{
    espat::sim::module_options mo;
    mo.firmware = espat::sim::esp_at_4();  // per-link receive mode: UDP beside passive TCP
    rig r(mo);
    collecting_peer peer(r.io);
    asio::ip::udp::socket udp_peer(r.io, {asio::ip::address_v4::loopback(), 0});
    r.run([&](client_type&, network_type& net) -> awaitable<void> {
        auto tcp = co_await net.async_connect("127.0.0.1", peer.port());
        REQUIRE(tcp);
        auto udp = co_await net.async_open_udp("127.0.0.1", udp_peer.local_endpoint().port());
        REQUIRE(udp);
        const auto cond14 = [&] { return peer.conns.size() == 1; };
        const bool ok14 = co_await espat::test::eventually(cond14);
        REQUIRE(ok14);
        const std::string big = pattern(8000, 5);
        asio::cancellation_signal sig_tcp, sig_udp;
        auto out_tcp = std::make_shared<write_outcome>();
        start_write(*tcp, big, sig_tcp, out_tcp);
        auto out_udp = std::make_shared<write_outcome>();
        udp->async_send(asio::buffer(std::string("dropped")),
                        asio::bind_cancellation_slot(sig_udp.slot(), [out_udp](std::error_code ec, std::size_t n) {
                            out_udp->ec = ec;
                            out_udp->n = n;
                            out_udp->done = true;
                        }));
        sig_udp.emit(asio::cancellation_type::terminal);
        const auto cond15 = [&] { return out_tcp->done && out_udp->done; };
        const bool ok15 = co_await espat::test::eventually(cond15);
        REQUIRE(ok15);
        CHECK(out_udp->ec == asio::error::operation_aborted);
        CHECK(out_tcp->n == big.size());
        co_await udp->async_send(asio::buffer(std::string("kept")), use_awaitable);
        char buf[64];
        asio::ip::udp::endpoint from;
        const std::size_t n = co_await udp_peer.async_receive_from(asio::buffer(buf), from, use_awaitable);
        CHECK(std::string(buf, n) == "kept");  // the first datagram the peer ever saw
    });
}

TEST_CASE("a network destroyed with link operations pending: each ends, and the client goes on")
{
    // The contract is that links go before their network; their operations may still be
    // pending then (a chunk with the module, a write waiting for its turn, a read), and must
    // end without touching the network that is gone.
    rig r;
    collecting_peer peer(r.io);
    bool finished = false;
    std::exception_ptr failure;
    asio::co_spawn(
        r.esp.get_executor(),
        [&]() -> awaitable<void> {
            REQUIRE(co_await r.esp.async_start());
            auto net = std::make_unique<network_type>(r.esp);
            REQUIRE(co_await net->async_start());
            auto a = co_await net->async_connect("127.0.0.1", peer.port());
            auto b = co_await net->async_connect("127.0.0.1", peer.port());
            REQUIRE(a);
            REQUIRE(b);
            auto la = std::make_unique<network_type::link>(std::move(*a));
            auto lb = std::make_unique<network_type::link>(std::move(*b));
            const std::string data = pattern(4096, 7);
            auto wa = std::make_shared<write_outcome>(), wb = std::make_shared<write_outcome>();
            auto rd = std::make_shared<write_outcome>();
            auto record = [](std::shared_ptr<write_outcome> out) {
                return [out](std::error_code ec, std::size_t n) {
                    out->ec = ec;
                    out->n = n;
                    out->done = true;
                };
            };
            la->async_write_some(asio::buffer(data), record(wa));  // takes the send turn
            lb->async_write_some(asio::buffer(data), record(wb));  // waits for it
            char buf[16];
            lb->async_read_some(asio::buffer(buf), record(rd));
            la.reset();
            lb.reset();
            net.reset();
            const auto all_done = [&] { return wa->done && wb->done && rd->done; };
            const bool ended = co_await eventually(all_done);
            REQUIRE(ended);
            CHECK(wb->ec == asio::error::operation_aborted);
            CHECK(wb->n == 0);
            CHECK(rd->ec);
            // The chunk handed over was seen through: whole, or failed, never cut.
            if (!wa->ec) CHECK(wa->n > 0);
            else CHECK(wa->n == 0);
            // The client is in step with the module: a command after all that succeeds.
            auto at = co_await r.esp.at();
            CHECK(at);
        },
        [&](std::exception_ptr e) {
            failure = e;
            finished = true;
            r.io.stop();
        });
    r.io.run_for(std::chrono::seconds(20));
    REQUIRE_MESSAGE(finished, "the script did not finish in time");
    if (failure) std::rethrow_exception(failure);
}
