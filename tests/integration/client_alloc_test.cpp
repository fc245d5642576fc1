// Heap allocations of the client's hot paths, counted by replacing operator new in this test
// executable: the targets are 0 per +IPD frame in steady state and few per command.
#include <espat/client.hpp>
#include <espat/net/network.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>

#include <doctest/doctest.h>
#include <fake_module.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace

// g++ inlines the replacement into Asio and then sees a "new" released by free().
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n)
{
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace std::chrono_literals;
using espat::test::fake_module;

namespace {

// Allocations while the client takes in `frames` +IPD frames of 100 bytes (sent by the fake
// module in one go, before counting starts) and hands them to a listener.
std::size_t allocations_for_frames(int frames, std::size_t& delivered)
{
    asio::io_context io;
    auto ends = espat::sim::make_pipe(io.get_executor(), 1 << 20);
    fake_module module(std::move(ends.second));
    module.start();
    espat::client_options o;
    o.start_probe_timeout = 200ms;
    espat::basic_client<espat::sim::pipe_end> esp(std::move(ends.first), o);
    std::size_t counted = 0;
    delivered = 0;
    espat::test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto started = co_await esp.async_start();
        REQUIRE(started);
        esp.add_report_listener([&](const espat::proto::event& e) {
            if (e.kind == espat::proto::event_kind::ipd && e.payload.size() == 100) ++delivered;
        });
        std::string burst;
        for (int i = 0; i < frames; ++i) burst += "+IPD,0,100:" + std::string(100, static_cast<char>('a' + i % 26)) + "\r\n";
        module.send(std::move(burst));
        asio::steady_timer t(io);
        // Let the fake module's write land in the pipe before counting the client's side.
        t.expires_after(5ms);
        co_await t.async_wait(asio::use_awaitable);
        const std::size_t before = allocations.load();
        while (delivered < static_cast<std::size_t>(frames)) {
            t.expires_after(1ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        counted = allocations.load() - before;
    });
    return counted;
}

// Allocations while a link in active mode reads `frames` +IPD frames of 100 bytes through
// basic_network, one 100-byte async_read_some each, from a coroutine on the io_context's
// type-erased executor (asio::any_io_executor, as every awaitable's): the client's reader, the
// link table and the link's read operation, start to end. The module announces the frames in
// one burst, before counting starts, so most reads find their frame buffered and some wait.
std::size_t allocations_for_link_reads(int frames, std::size_t& received)
{
    asio::io_context io;
    auto ends = espat::sim::make_pipe(io.get_executor(), 128);
    fake_module module(std::move(ends.second));
    module.script = [](fake_module& m, const std::string& line) {
        if (line.starts_with("AT+CIPSTART=0,")) {
            m.send("0,CONNECT\r\n\r\nOK\r\n");
            return true;
        }
        if (line == "AT+CIPSTATUS") {  // no links left open
            m.send("STATUS:2\r\n\r\nOK\r\n");
            return true;
        }
        if (!line.starts_with("AT+CIP")) return false;
        m.send("\r\nOK\r\n");  // AT+CIPMUX=1, AT+CIPDINFO=1, AT+CIPRECVMODE=0, ...
        return true;
    };
    module.start();
    espat::client_options o;
    o.start_probe_timeout = 200ms;
    espat::basic_client<espat::sim::pipe_end> esp(std::move(ends.first), o);
    espat::net::network_options no;
    no.stream_receive = espat::net::receive_mode::active;
    no.receive_buffer = 1 << 20;  // the whole burst
    espat::net::basic_network<espat::basic_client<espat::sim::pipe_end>> net(esp, no);
    std::size_t counted = 0;
    received = 0;
    espat::test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        REQUIRE(co_await esp.async_start());
        REQUIRE(co_await net.async_start());
        auto link = co_await net.async_connect("192.0.2.7", 80);
        REQUIRE(link);
        std::string burst;
        for (int i = 0; i < frames; ++i) burst += "+IPD,0,100:" + std::string(100, static_cast<char>('a' + i % 26)) + "\r\n";
        module.send(std::move(burst));
        std::array<char, 100> buffer{};
        const auto read_frame = [&]() -> asio::awaitable<void> {
            auto [ec, n] = co_await link->async_read_some(asio::buffer(buffer), asio::experimental::as_tuple(asio::use_awaitable));
            REQUIRE(!ec);
            REQUIRE(n == 100);
            CHECK(buffer[0] == static_cast<char>('a' + static_cast<int>(received % 26)));
            ++received;
        };
        for (int i = 0; i < 10; ++i) co_await read_frame();  // warm up recycled memory
        const std::size_t before = allocations.load();
        while (received < static_cast<std::size_t>(frames)) co_await read_frame();
        counted = allocations.load() - before;
        auto closed = co_await link->async_close(asio::experimental::as_tuple(asio::use_awaitable));
        (void)closed;
    });
    return counted;
}

}  // namespace

TEST_CASE("client allocations: none per +IPD frame in steady state")
{
    std::size_t few_delivered = 0, many_delivered = 0;
    const std::size_t few = allocations_for_frames(20, few_delivered);
    const std::size_t many = allocations_for_frames(2000, many_delivered);
    CHECK(few_delivered == 20);
    CHECK(many_delivered == 2000);
    MESSAGE("allocations: 20 frames -> " << few << ", 2000 frames -> " << many);
    // The same fixed cost (timer waits of the test loop) whatever the number of frames.
    CHECK(many <= few + 20);
}

TEST_CASE("client allocations: none per +IPD frame read through a link")
{
    // Before, each read cost up to two: asio::dispatch of the completion through the
    // coroutine's any_io_executor, and the strand re-posting itself for a read started inside it.
    std::size_t few_received = 0, many_received = 0;
    const std::size_t few = allocations_for_link_reads(20, few_received);
    const std::size_t many = allocations_for_link_reads(2000, many_received);
    CHECK(few_received == 20);
    CHECK(many_received == 2000);
    MESSAGE("allocations reading through a link: 20 frames -> " << few << ", 2000 frames -> " << many);
    CHECK(many <= few + 20);  // 1990 more frames, at most a few recycling-cache misses more
}

TEST_CASE("client allocations: per command, client and fake module together")
{
    asio::io_context io;
    auto ends = espat::sim::make_pipe(io.get_executor());
    fake_module module(std::move(ends.second));
    module.script = [](fake_module& m, const std::string& line) {
        if (line != "AT+CWMODE?") return false;
        m.send("+CWMODE:1\r\n\r\nOK\r\n");
        return true;
    };
    module.start();
    espat::client_options o;
    o.start_probe_timeout = 200ms;
    espat::basic_client<espat::sim::pipe_end> esp(std::move(ends.first), o);
    espat::test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto started = co_await esp.async_start();
        REQUIRE(started);
        for (int i = 0; i < 10; ++i) (void)co_await esp.cwmode.query();  // warm up recycled memory
        module.lines.reserve(1000);
        const std::size_t before = allocations.load();
        for (int i = 0; i < 200; ++i) {
            auto mode = co_await esp.cwmode.query();
            REQUIRE(mode);
        }
        const double per_command = static_cast<double>(allocations.load() - before) / 200.0;
        MESSAGE("allocations per typed query (client + fake module): " << per_command);
        CHECK(per_command < 30);  // a ceiling against regressions: most of it is the pipe and the fake module
    });
}

TEST_CASE("client allocations: a typed answer's information lines cost none of their own")
{
    // AT+CIPSTA? answered with three lines, then with five (the IPv6 ones too): the value holds
    // addresses, no heap memory, and the lines go to one buffer the session reuses, so two more
    // lines per command must not mean more allocations (they were two per line).
    asio::io_context io;
    auto ends = espat::sim::make_pipe(io.get_executor());
    fake_module module(std::move(ends.second));
    bool ipv6 = false;
    module.script = [&ipv6](fake_module& m, const std::string& line) {
        if (line != "AT+CIPSTA?") return false;
        std::string reply;
        reply.reserve(512);  // the same one allocation for either answer
        reply += "+CIPSTA:ip:\"192.168.3.112\"\r\n+CIPSTA:gateway:\"192.168.3.1\"\r\n"
                 "+CIPSTA:netmask:\"255.255.255.0\"\r\n";
        if (ipv6) reply += "+CIPSTA:ip6ll:\"fe80::2a6f:7fff:fe10:2030\"\r\n+CIPSTA:ip6gl:\"2001:db8::2a6f:7fff:fe10:2030\"\r\n";
        reply += "\r\nOK\r\n";
        m.send(std::move(reply));
        return true;
    };
    module.start();
    espat::client_options o;
    o.start_probe_timeout = 200ms;
    espat::basic_client<espat::sim::pipe_end> esp(std::move(ends.first), o);
    std::size_t three_lines = 0, five_lines = 0;
    espat::test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto started = co_await esp.async_start();
        REQUIRE(started);
        module.lines.reserve(1000);
        const auto measure = [&](bool with_ipv6) -> asio::awaitable<std::size_t> {
            ipv6 = with_ipv6;
            for (int i = 0; i < 10; ++i) (void)co_await esp.cipsta.query();  // warm up recycled memory
            const std::size_t before = allocations.load();
            for (int i = 0; i < 100; ++i) {
                auto a = co_await esp.cipsta.query();
                REQUIRE(a);
                CHECK(a->ipv6_global.has_value() == with_ipv6);
            }
            co_return allocations.load() - before;
        };
        three_lines = co_await measure(false);
        five_lines = co_await measure(true);
    });
    MESSAGE("allocations for 100 AT+CIPSTA?: 3 lines -> " << three_lines << ", 5 lines -> " << five_lines);
    CHECK(five_lines <= three_lines + 10);  // two strings per line would be 400 more, and each
                                            // IPv6 address copied to a std::string another 200
}
