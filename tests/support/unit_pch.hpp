// unit_pch.hpp — the headers most unit tests include, precompiled once for all of them
// (tests/CMakeLists.txt). Only library, Asio, doctest and standard headers: nothing here may
// define a test helper.
#pragma once

#include <doctest/doctest.h>

#include <espat/commands/device.hpp>
#include <espat/commands/host.hpp>
#include <espat/commands/table.hpp>
#include <espat/proto/parser.hpp>
#include <espat/proto/transcript.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
