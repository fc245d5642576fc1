// The umbrella header compiles alone, and the config header makes asio::awaitable usable on
// every supported compiler (clang 14 + libstdc++ needs ASIO_HAS_CO_AWAIT, set by espat).
#include <espat.hpp>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <doctest/doctest.h>

#if !defined(ASIO_HAS_CO_AWAIT)
#error "espat/config.hpp must make asio::awaitable available"
#endif

namespace {
asio::awaitable<int> answer() { co_return 42; }
}  // namespace

TEST_CASE("config: a coroutine runs through asio with espat's configuration")
{
    asio::io_context io;
    int got = 0;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> { got = co_await answer(); }, asio::detached);
    io.run();
    CHECK(got == 42);
    CHECK(ESPAT_VERSION_MAJOR == 0);
}
