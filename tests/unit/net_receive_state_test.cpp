// The per-link receive state: bounded buffering, passive-mode fetch sizes, and the rule that
// eof never hides data received before the close.
#include <espat/net/receive_state.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <ostream>

#include <string>

using espat::net::receive_mode;
using espat::net::receive_state;
using step = receive_state::step;

namespace {
std::string read_all(receive_state& s, std::size_t chunk)
{
    std::string out;
    char buf[64];
    while (s.next(chunk) == step::copy) out.append(buf, s.read(buf, std::min(chunk, sizeof buf)));
    return out;
}
}  // namespace

TEST_CASE("receive_state: active data is read in order across the ring's wrap, in any chunk size")
{
    for (std::size_t chunk : {1u, 3u, 7u, 64u}) {
        receive_state s(receive_mode::active, 10);
        std::string sent, got;
        for (int round = 0; round < 20; ++round) {
            const std::string piece = std::to_string(round) + "ab";
            REQUIRE(s.on_data(piece));
            sent += piece;
            got += read_all(s, chunk);
        }
        CHECK(got == sent);
        CHECK(s.next(16) == step::wait);
    }
}

TEST_CASE("receive_state: active data beyond the buffer fails the link instead of losing bytes silently")
{
    receive_state s(receive_mode::active, 8);
    CHECK(s.on_data("12345"));
    CHECK_FALSE(s.on_data("6789"));
    CHECK(s.failure() == espat::make_error_code(espat::errc::receive_overflow));
    CHECK_FALSE(s.on_data("x"));  // nothing after the hole is taken in
    // What came before the hole is whole: it is read first, then the error.
    CHECK(read_all(s, 3) == "12345");
    CHECK(s.next(1) == step::error);
}

TEST_CASE("receive_state: a close is eof only after everything received before it was read")
{
    receive_state s(receive_mode::active, 32);
    s.on_data("last bytes");
    s.on_closed();
    CHECK(s.next(4) == step::copy);
    CHECK(read_all(s, 4) == "last bytes");
    CHECK(s.next(4) == step::eof);
}

TEST_CASE("receive_state: passive mode fetches what the reader wants, bounded by module, room and limit")
{
    receive_state s(receive_mode::passive, 100);
    CHECK(s.next(50) == step::wait);  // nothing announced
    s.on_module_buffered(30);
    CHECK(s.next(50) == step::fetch);
    CHECK(s.fetch_size(50, 2048) == 30);
    CHECK(s.fetch_size(10, 2048) == 10);
    CHECK(s.fetch_size(50, 8) == 8);
    REQUIRE(s.on_data(std::string(10, 'x')));
    CHECK(s.module_buffered() == 20);
    CHECK(s.next(50) == step::copy);
    CHECK(s.fetch_size(1000, 2048) == 20);
    REQUIRE(s.on_data(std::string(91, 'y')) == false);  // 10 held, 90 free: more than the room: refused, link failed
    CHECK(s.next(1) == step::copy);  // the 10 bytes before the refused answer come first
    CHECK(read_all(s, 64) == std::string(10, 'x'));
    CHECK(s.next(1) == step::error);
}

TEST_CASE("receive_state: passive data still on the module is fetched before eof")
{
    receive_state s(receive_mode::passive, 64);
    s.on_module_buffered(5);
    s.on_closed();
    CHECK(s.next(8) == step::fetch);
    s.on_data("hello");
    CHECK(read_all(s, 8) == "hello");
    CHECK(s.next(8) == step::eof);
}

TEST_CASE("receive_state: a failure comes after the data received before it, and wins over eof")
{
    receive_state s(receive_mode::passive, 64);
    s.on_module_buffered(10);
    s.on_data("abc");
    s.on_closed();
    s.fail(espat::make_error_code(espat::errc::device_reset));
    CHECK(s.module_buffered() == 0);  // what the module held is gone with it
    CHECK(read_all(s, 8) == "abc");
    CHECK(s.next(8) == step::error);
    CHECK(s.failure() == espat::make_error_code(espat::errc::device_reset));
    s.fail(espat::make_error_code(espat::errc::send_failed));  // the first cause is kept
    CHECK(s.failure() == espat::make_error_code(espat::errc::device_reset));
}
