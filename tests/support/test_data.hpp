// test_data.hpp — test helper: where tests/data is, and reading its files whole, in binary.
// The build defines ESPAT_TEST_DATA_DIR; ESPAT_TEST_DATA in the environment is the fallback.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

namespace espat::test {

// The absolute path of tests/data. Tests must never reach into ../shared or depend on the
// working directory, so when neither setting names a directory the result is a path that
// does not exist and says why: callers fail on it with that text in their message.
inline std::filesystem::path data_dir()
{
#ifdef ESPAT_TEST_DATA_DIR
    const std::filesystem::path configured = ESPAT_TEST_DATA_DIR;
    std::error_code ec;
    if (std::filesystem::is_directory(configured, ec)) return configured;
#else
    const std::filesystem::path configured = "(ESPAT_TEST_DATA_DIR is not defined and ESPAT_TEST_DATA is not set)";
#endif
    // A moved build tree or a test binary run by hand: let the environment say.
    if (const char* env = std::getenv("ESPAT_TEST_DATA"); env != nullptr && *env != '\0') return env;
    return configured;
}

// The whole file, byte for byte; nullopt when it cannot be read.
inline std::optional<std::string> read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return std::nullopt;
    return bytes;
}

}  // namespace espat::test
