// tokens_net_test.cpp — the network's operations, links, UDP links and passthrough with every
// kind of completion token (support/every_token.hpp), each checked to complete error first with
// the same error and value as the default token gives. The client's are in tokens_test.cpp.
#include "every_token.hpp"

#include <ostream>

using namespace espat::test;
using namespace std::chrono_literals;
using espat::errc;

TEST_CASE("tokens: the network's operations complete error first with every token")
{
    rig r;
    tcp_peer peer(r.io, echo_session);
    // A port nothing listens on: bound and closed again.
    asio::ip::tcp::acceptor closed(r.io, {asio::ip::address_v4::loopback(), 0});
    const std::uint16_t closed_port = closed.local_endpoint().port();
    closed.close();

    r.run(
        [&](pipe_client&, pipe_network& net) -> awaitable<void> {
            auto seen = [&r] { return r.module.commands_seen(); };
            using link = pipe_network::link;

            co_await with_every_token<no_value>(
                "the network's start-up", [&](auto token) { return net.async_start(std::move(token)); }, seen,
                succeeds<no_value>(), nothing_after<no_value>);

            auto close_link = [](outcome<link>& o) -> awaitable<void> {
                if (!o.value.is_open()) co_return;
                auto [ec] = co_await o.value.async_close(as_tuple);
                CHECK_FALSE(ec);
            };
            co_await with_every_token<link>(
                "connect",
                [&](auto token) { return net.async_connect("127.0.0.1", peer.port(), {}, std::move(token)); }, seen,
                [](const outcome<link>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value.is_open());
                },
                close_link);

            co_await with_every_token<link>(
                "connect to a closed port",
                [&](auto token) { return net.async_connect("127.0.0.1", closed_port, {}, std::move(token)); }, seen,
                [](const outcome<link>& o) {
                    CHECK(o.ec);
                    CHECK_FALSE(o.value.is_open());
                },
                close_link);

            co_await with_every_token<link>(
                "connect_ssl to a server that does not speak TLS",
                [&](auto token) { return net.async_connect_ssl("127.0.0.1", peer.port(), {}, std::move(token)); }, seen,
                fails<link>(), close_link);

            // ESP-AT 2.x: one receive mode for all links, passive for streams by default.
            co_await with_every_token<pipe_network::udp_link>(
                "UDP while streams receive passively on 2.x",
                [&](auto token) { return net.async_open_udp("127.0.0.1", peer.port(), {}, std::move(token)); }, seen,
                fails_with<pipe_network::udp_link>(make_error_code(errc::receive_mode_conflict)),
                nothing_after<pipe_network::udp_link>);

            using server = pipe_network::server;
            auto close_server = [](outcome<server>& o) -> awaitable<void> {
                if (!o.value.is_open()) co_return;
                auto closed = co_await o.value.async_close();
                CHECK(closed);
            };
            co_await with_every_token<server>(
                "listen", [&](auto token) { return net.async_listen(8080, {}, std::move(token)); }, seen,
                [](const outcome<server>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value.is_open());
                },
                close_server);

            auto listening = co_await net.async_listen(8080);
            REQUIRE(listening);
            const auto port = r.module.server_port();
            REQUIRE(port);
            std::vector<std::unique_ptr<asio::ip::tcp::socket>> clients;
            auto connect_one = [&]() -> awaitable<void> {
                clients.push_back(std::make_unique<asio::ip::tcp::socket>(r.io));
                co_await clients.back()->async_connect({asio::ip::address_v4::loopback(), *port}, asio::use_awaitable);
            };
            co_await connect_one();
            auto no_activity = [] { return std::size_t{0}; };
            co_await with_every_token<link>(
                "accept", [&](auto token) { return listening->async_accept(std::move(token)); }, no_activity,
                [](const outcome<link>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value.is_open());
                },
                [&](outcome<link>& o) -> awaitable<void> {
                    co_await close_link(o);
                    co_await connect_one();
                });
            // The last round's connection, taken so that none waits when the server closes.
            auto last = co_await listening->async_accept();
            REQUIRE(last);
            co_await with_every_token<no_value>(
                "a server's close",
                [&](auto token) { return listening->async_close(false, std::move(token)); }, seen, succeeds<no_value>(),
                nothing_after<no_value>);
            co_await with_every_token<link>(
                "accept on a closed server", [&](auto token) { return listening->async_accept(std::move(token)); },
                no_activity, fails_with<link>(make_error_code(errc::link_closed)), nothing_after<link>);
        },
        std::chrono::seconds(60));
}

TEST_CASE("tokens: passthrough opens and closes with every token")
{
    rig r;
    tcp_peer peer(r.io, echo_session);
    r.run(
        [&](pipe_client&, pipe_network& net) -> awaitable<void> {
            auto seen = [&r] { return r.module.commands_seen(); };
            using passthrough = pipe_network::passthrough;
            co_await with_every_token<passthrough>(
                "open passthrough",
                [&](auto token) { return net.async_open_passthrough("127.0.0.1", peer.port(), {}, std::move(token)); },
                seen,
                [](const outcome<passthrough>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value.is_open());
                },
                [&](outcome<passthrough>& o) -> awaitable<void> {
                    if (!o.value.is_open()) co_return;
                    auto closed = co_await net.async_close_passthrough();
                    CHECK(closed);
                });

            // A server keeps the module out of single-link mode: opening fails, nothing changes.
            auto listening = co_await net.async_listen(8080);
            REQUIRE(listening);
            co_await with_every_token<passthrough>(
                "open passthrough while a server runs",
                [&](auto token) { return net.async_open_passthrough("127.0.0.1", peer.port(), {}, std::move(token)); },
                seen, fails<passthrough>(), nothing_after<passthrough>);
            auto stopped = co_await listening->async_close();
            REQUIRE(stopped);

            auto opened = co_await net.async_open_passthrough("127.0.0.1", peer.port());
            REQUIRE(opened);
            // Closing is one operation; its tokens are checked on fresh opens.
            co_await with_every_token<no_value>(
                "close passthrough", [&](auto token) { return net.async_close_passthrough(std::move(token)); }, seen,
                succeeds<no_value>(), [&](outcome<no_value>&) -> awaitable<void> {
                    opened = co_await net.async_open_passthrough("127.0.0.1", peer.port());
                    REQUIRE(opened);
                });
            auto closed = co_await net.async_close_passthrough();
            CHECK(closed);
        },
        std::chrono::seconds(90));
}

// An echo peer that counts what it received: a deferred write must not have sent anything.
struct counting_echo {
    std::size_t received = 0;
    awaitable<void> operator()(asio::ip::tcp::socket s)
    {
        char buf[4096];
        for (;;) {
            auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), as_tuple);
            if (ec) co_return;
            received += n;
            auto [wec, wn] = co_await asio::async_write(s, asio::buffer(buf, n), as_tuple);
            if (wec || wn != n) co_return;
        }
    }
};

TEST_CASE("tokens: a link's reads, writes and close with every token")
{
    rig r;
    counting_echo echo;
    tcp_peer peer(r.io, [&echo](asio::ip::tcp::socket s) { return echo(std::move(s)); });
    r.run([&](pipe_client&, pipe_network& net) -> awaitable<void> {
        auto seen = [&r] { return r.module.commands_seen(); };
        auto peer_received = [&echo] { return echo.received; };
        auto opened = co_await net.async_connect("127.0.0.1", peer.port());
        REQUIRE(opened);
        auto& l = *opened;
        const std::string message = "ping\r\nOK\r\n";
        std::array<char, 64> buf{};
        co_await with_every_token<std::size_t>(
            "a link's write",
            [&](auto token) { return l.async_write_some(asio::buffer(message), std::move(token)); }, peer_received,
            [&](const outcome<std::size_t>& o) {
                CHECK_FALSE(o.ec);
                CHECK(o.value == message.size());
            },
            [&](outcome<std::size_t>&) -> awaitable<void> {
                // The echo, read whole, before the next write.
                std::string echoed;
                while (echoed.size() < message.size()) {
                    auto [ec, n] = co_await l.async_read_some(asio::buffer(buf), as_tuple);
                    REQUIRE_FALSE(ec);
                    echoed.append(buf.data(), n);
                }
                CHECK(echoed == message);
            });
        // One byte on its way before each read: the peer echoes it.
        auto [wec, wn] = co_await asio::async_write(l, asio::buffer("x", 1), as_tuple);
        REQUIRE_FALSE(wec);
        REQUIRE(wn == 1);
        std::string read;
        co_await with_every_token<std::size_t>(
            "a link's read", [&](auto token) { return l.async_read_some(asio::buffer(buf), std::move(token)); },
            [] { return std::size_t{0}; },  // the peer's echo may be fetched at any time
            [&](const outcome<std::size_t>& o) {
                CHECK_FALSE(o.ec);
                CHECK(o.value > 0);
            },
            [&](outcome<std::size_t>& o) -> awaitable<void> {
                read.append(buf.data(), o.value);
                auto [ec, n] = co_await asio::async_write(l, asio::buffer("x", 1), as_tuple);
                CHECK_FALSE(ec);
                CHECK(n == 1);
            });
        CHECK(read.size() >= 8);
        CHECK(read.find_first_not_of('x') == std::string::npos);

        // The close: every kind closes a fresh link.
        co_await with_every_token<no_value>(
            "a link's close", [&](auto token) { return l.async_close(std::move(token)); }, seen, succeeds<no_value>(),
            [&](outcome<no_value>&) -> awaitable<void> {
                CHECK_FALSE(l.is_open());
                auto again = co_await net.async_connect("127.0.0.1", peer.port());
                REQUIRE(again);
                l = std::move(*again);
            });
    });
}

// A UDP echo on 127.0.0.1 that counts the datagrams it received.
struct udp_echo {
    explicit udp_echo(asio::io_context& io) : socket(io, {asio::ip::address_v4::loopback(), 0})
    {
        asio::co_spawn(io, serve(), asio::detached);
    }
    awaitable<void> serve()
    {
        std::array<char, 2048> buf;
        asio::ip::udp::endpoint from;
        for (;;) {
            auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buf), from, as_tuple);
            if (ec) co_return;
            ++received;
            co_await socket.async_send_to(asio::buffer(buf.data(), n), from, as_tuple);
        }
    }
    std::uint16_t port() const { return socket.local_endpoint().port(); }
    asio::ip::udp::socket socket;
    std::size_t received = 0;
};

TEST_CASE("tokens: a UDP link's sends and receives with every token")
{
    rig r;
    udp_echo echo(r.io);
    espat::net::network_options no;
    no.stream_receive = espat::net::receive_mode::active;  // one mode for all links on 2.x: UDP needs active
    r.run(
        [&](pipe_client&, pipe_network& net) -> awaitable<void> {
            auto opened = co_await net.async_open_udp("127.0.0.1", echo.port());
            REQUIRE(opened);
            auto& u = *opened;
            const std::string datagram = "one datagram, \r\nOK\r\n inside";
            std::array<char, 256> buf{};
            auto peer_received = [&echo] { return echo.received; };
            co_await with_every_token<std::size_t>(
                "a UDP link's send", [&](auto token) { return u.async_send(asio::buffer(datagram), std::move(token)); },
                peer_received,
                [&](const outcome<std::size_t>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value == datagram.size());
                },
                [&](outcome<std::size_t>&) -> awaitable<void> {
                    auto [ec, n] = co_await u.async_receive(asio::buffer(buf), as_tuple);
                    REQUIRE_FALSE(ec);
                    CHECK(std::string(buf.data(), n) == datagram);
                });

            // One datagram on its way before each receive.
            auto send_one = [&]() -> awaitable<void> {
                auto [ec, n] = co_await u.async_send(asio::buffer("x", 1), as_tuple);
                REQUIRE_FALSE(ec);
                REQUIRE(n == 1);
            };
            co_await send_one();
            co_await with_every_token<std::size_t>(
                "a UDP link's receive", [&](auto token) { return u.async_receive(asio::buffer(buf), std::move(token)); },
                [] { return std::size_t{0}; },  // a receive sends nothing
                [&](const outcome<std::size_t>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value == 1);
                    CHECK(buf[0] == 'x');
                },
                [&](outcome<std::size_t>&) -> awaitable<void> { co_await send_one(); });

            // The close: every kind closes a fresh link.
            auto seen = [&r] { return r.module.commands_seen(); };
            co_await with_every_token<no_value>(
                "a UDP link's close", [&](auto token) { return u.async_close(std::move(token)); }, seen,
                succeeds<no_value>(), [&](outcome<no_value>&) -> awaitable<void> {
                    CHECK_FALSE(u.is_open());
                    auto again = co_await net.async_open_udp("127.0.0.1", echo.port());
                    REQUIRE(again);
                    u = std::move(*again);
                });
        },
        std::chrono::seconds(30), no);
}

TEST_CASE("tokens: passthrough's reads and writes with every token")
{
    rig r;
    counting_echo echo;
    tcp_peer peer(r.io, [&echo](asio::ip::tcp::socket s) { return echo(std::move(s)); });
    r.run(
        [&](pipe_client& esp_, pipe_network& net) -> awaitable<void> {
            auto opened = co_await net.async_open_passthrough("127.0.0.1", peer.port());
            REQUIRE(opened);
            auto& p = *opened;
            const std::string bytes = "raw bytes\r\nOK\r\n";
            std::array<char, 64> buf{};
            auto peer_received = [&echo] { return echo.received; };
            co_await with_every_token<std::size_t>(
                "passthrough's write", [&](auto token) { return p.async_write_some(asio::buffer(bytes), std::move(token)); },
                peer_received,
                [&](const outcome<std::size_t>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value == bytes.size());
                },
                [&](outcome<std::size_t>&) -> awaitable<void> {
                    std::string echoed;
                    while (echoed.size() < bytes.size()) {
                        auto [ec, n] = co_await p.async_read_some(asio::buffer(buf), as_tuple);
                        REQUIRE_FALSE(ec);
                        echoed.append(buf.data(), n);
                    }
                    CHECK(echoed == bytes);
                });

            auto write_one = [&]() -> awaitable<void> {
                auto [ec, n] = co_await asio::async_write(p, asio::buffer("y", 1), as_tuple);
                REQUIRE_FALSE(ec);
                REQUIRE(n == 1);
            };
            co_await write_one();
            std::string read;
            co_await with_every_token<std::size_t>(
                "passthrough's read", [&](auto token) { return p.async_read_some(asio::buffer(buf), std::move(token)); },
                [] { return std::size_t{0}; },  // a read sends nothing
                [&](const outcome<std::size_t>& o) {
                    CHECK_FALSE(o.ec);
                    CHECK(o.value > 0);
                },
                [&](outcome<std::size_t>& o) -> awaitable<void> {
                    read.append(buf.data(), o.value);
                    co_await write_one();
                });
            CHECK(read.size() >= 8);
            CHECK(read.find_first_not_of('y') == std::string::npos);
            esp_.record_transcript();
            auto closed = co_await net.async_close_passthrough();
            CHECK_MESSAGE(closed, (closed ? std::string() : closed.error().message() + "\n" + esp_.transcript()));
        },
        std::chrono::seconds(30));
}
