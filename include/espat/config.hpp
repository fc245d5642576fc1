// espat/config.hpp — the library's version and the compiler settings every other header relies on.
// Included first by every header that touches Asio, so users never set these in their builds.
#pragma once

#define ESPAT_VERSION_MAJOR 0
#define ESPAT_VERSION_MINOR 1
#define ESPAT_VERSION_PATCH 0

#ifndef ASIO_STANDALONE
#define ASIO_STANDALONE 1
#endif

// clang 14 with libstdc++ 12: Asio 1.22 silently disables asio::awaitable unless told the
// compiler has co_await (it only probes for libc++ / MSVC / g++).
#if defined(__clang__) && !defined(ASIO_HAS_CO_AWAIT)
#define ASIO_HAS_CO_AWAIT 1
#endif

#if __cplusplus < 202002L
#error "espat needs C++20"
#endif
