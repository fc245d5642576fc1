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

// Compile-time range checks of constants (espat::bounded) use a consteval constructor. clang 14
// crashes generating code for a braced temporary of such a class (`espat::link_id{3}`), so
// there the constructor is constexpr: still checked at compile time in constant expressions,
// and by an exception otherwise.
#if defined(__clang__) && __clang_major__ < 15
#define ESPAT_CONSTEVAL constexpr
#else
#define ESPAT_CONSTEVAL consteval
#endif

#if __cplusplus < 202002L
#error "espat needs C++20"
#endif
