// integration_pch.hpp — the headers nearly every integration test includes, precompiled once
// for all of them (tests/CMakeLists.txt): parsing them took about 6 of a test's 10-25 s.
// Only library, Asio, doctest and standard headers: nothing here may define a test helper.
#pragma once

#include <doctest/doctest.h>

#include <espat/client.hpp>
#include <espat/net/network.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/pipe.hpp>
#include <espat/sim/pty.hpp>
#include <espat/tasks.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>
