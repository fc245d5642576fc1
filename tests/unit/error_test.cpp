// Tests of espat's error codes: the library's category and the module's ERR CODE category.
#include <espat/error.hpp>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through it

TEST_CASE("error: espat::errc converts to std::error_code with messages")
{
    std::error_code ec = espat::errc::device_reset;
    CHECK(ec.category() == espat::espat_category());
    CHECK(ec.message() == "the module reset");
    CHECK(std::string(ec.category().name()) == "espat");
    for (int v = 1; v <= static_cast<int>(espat::errc::receive_mode_conflict); ++v)  // the last one
        CHECK(espat::make_error_code(static_cast<espat::errc>(v)).message() != "unknown espat error");
}

TEST_CASE("error: portable conditions compare with std::errc")
{
    CHECK(std::error_code(espat::errc::timeout) == std::errc::timed_out);
    CHECK(std::error_code(espat::errc::cancelled) == std::errc::operation_canceled);
    CHECK(std::error_code(espat::errc::busy) != std::errc::timed_out);
}

TEST_CASE("error: the module's ERR CODE keeps its number and says what it means")
{
    auto ec = espat::make_module_error(0x010b0000u);
    CHECK(ec.category() == espat::module_category());
    CHECK(static_cast<std::uint32_t>(ec.value()) == 0x010b0000u);
    CHECK(ec.message() == "ERR CODE:0x010b0000 (previous command still processing)");
    CHECK(espat::make_module_error(0x01030000u).message() == "ERR CODE:0x01030000 (parameter length mismatch)");
    CHECK(ec != espat::make_error_code(espat::errc::busy));
}
