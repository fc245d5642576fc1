// Tests of the transcript format facility: escaping round-trips every byte, bad lines are
// reported with their line number, and the sample transcripts parse and write back.
#include <espat/proto/transcript.hpp>

#include <doctest/doctest.h>
#include <test_data.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

using espat::proto::append_transcript_line;
using espat::proto::escape_transcript_bytes;
using espat::proto::parse_transcript;
using espat::proto::transcript_line;
using dir = transcript_line::direction;
using namespace std::string_literals;

namespace {

std::string all_bytes()
{
    std::string s;
    for (int b = 0; b < 256; ++b) s.push_back(static_cast<char>(b));
    return s;
}

// The bytes of a single '<' line holding `escaped`, as parse_transcript reads them back.
std::string reparse_device_line(const std::string& escaped)
{
    const auto r = parse_transcript("< " + escaped + "\n");
    INFO("escaped: " << escaped << " / error: " << r.error);
    REQUIRE(r.ok());
    REQUIRE(r.lines.size() == 1);
    CHECK(r.lines[0].dir == dir::device);
    return r.lines[0].bytes;
}

}  // namespace

TEST_CASE("transcript: every byte round-trips through escape and parse")
{
    const std::string bytes = all_bytes();
    CHECK(reparse_device_line(escape_transcript_bytes(bytes)) == bytes);
    for (int b = 0; b < 256; ++b) {
        const std::string one(1, static_cast<char>(b));
        CAPTURE(b);
        CHECK(reparse_device_line(escape_transcript_bytes(one)) == one);
        const std::string framed = "a" + one + "b";
        CHECK(reparse_device_line(escape_transcript_bytes(framed)) == framed);
    }
    // The escaped text is one line of printable ASCII whatever the bytes.
    const std::string escaped = escape_transcript_bytes(bytes);
    CHECK(std::all_of(escaped.begin(), escaped.end(), [](char c) { return c >= 0x20 && c < 0x7f; }));
}

TEST_CASE("transcript: escapes are the ones the format names")
{
    CHECK(escape_transcript_bytes("\r\n\t\\") == R"(\r\n\t\\)");
    CHECK(escape_transcript_bytes("\x00\x7f\xff"s) == R"(\x00\x7f\xff)");
    CHECK(escape_transcript_bytes("+IPD,0,4:test") == "+IPD,0,4:test");
    // Spaces inside stay readable; at either end they would be invisible.
    CHECK(escape_transcript_bytes("> ") == R"(>\x20)");
    CHECK(escape_transcript_bytes(" a b ") == R"(\x20a b\x20)");
    CHECK(escape_transcript_bytes(" ") == R"(\x20)");
    CHECK(escape_transcript_bytes("") == "");

    const auto r = parse_transcript(R"(< \x41\x4a\x4A\\x\r\n)" "\n");
    REQUIRE(r.ok());
    CHECK(r.lines[0].bytes == "AJJ\\x\r\n");
}

TEST_CASE("transcript: each directive and what it keeps")
{
    const auto r = parse_transcript("# source: a capture\n"
                                    "> AT\\r\\n\n"
                                    "\n"
                                    "< \\r\\nOK\\r\\n\n"
                                    "= event: final OK\n"
                                    "#no space\n"
                                    ">\n");
    REQUIRE(r.ok());
    const std::vector<transcript_line> want = {
        {dir::comment, "source: a capture"}, {dir::host, "AT\r\n"}, {dir::device, "\r\nOK\r\n"},
        {dir::expect, "event: final OK"},    {dir::comment, "no space"}, {dir::host, ""},
    };
    CHECK(r.lines == want);
    CHECK(espat::proto::host_stream(r.lines) == "AT\r\n");
    CHECK(espat::proto::device_stream(r.lines) == "\r\nOK\r\n");
}

TEST_CASE("transcript: streams join their lines in order, whatever lies between")
{
    const auto r = parse_transcript("< \\r\\n+IPD,0,\n> AT\n< 4:te\n# split inside a frame\n< st\n> \\r\\n\n");
    REQUIRE(r.ok());
    CHECK(espat::proto::device_stream(r.lines) == "\r\n+IPD,0,4:test");
    CHECK(espat::proto::host_stream(r.lines) == "AT\r\n");
}

TEST_CASE("transcript: a file saved with CR LF line ends reads the same")
{
    const auto lf = parse_transcript("> AT\\r\\n\n< \\r\\nOK\\r\\n\n= event: final OK\n");
    const auto crlf = parse_transcript("> AT\\r\\n\r\n< \\r\\nOK\\r\\n\r\n= event: final OK\r\n");
    REQUIRE(lf.ok());
    REQUIRE(crlf.ok());
    CHECK(lf.lines == crlf.lines);
}

TEST_CASE("transcript: bad lines are refused with their line number")
{
    struct bad_case {
        std::string text;
        std::size_t line;
    };
    const bad_case cases[] = {
        {"< ok\n< \\q\n", 2},               // unknown escape
        {"< \\x4\n", 1},                    // one hex digit
        {"< \\xg0\n", 1},                   // not hex
        {"# c\n\n< abc\\\n", 3},            // a lone backslash ends the line
        {"< trailing \n", 1},               // a raw space at the end
        {"<  leading\n", 1},                // a raw space at the start
        {"> a\n! what\n", 2},               // unknown directive
        {"<OK\n", 1},                       // no space after the directive
        {"= ok\n=event: final OK\n", 2},    // same for '='
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        const auto r = parse_transcript(c.text);
        CHECK_FALSE(r.ok());
        CHECK_FALSE(static_cast<bool>(r));
        CHECK(r.error_line == c.line);
        CHECK(r.lines.empty());
    }
}

TEST_CASE("transcript: written lines read back as they were")
{
    const std::vector<transcript_line> lines = {
        {dir::comment, "recorded by a test"},
        {dir::host, "AT+CIPSEND=0,4\r\n"},
        {dir::device, "\r\nOK\r\n\r\n>"},
        {dir::host, " \x00\xff "s},
        {dir::device, all_bytes()},
        {dir::expect, "event: prompt"},
        {dir::comment, ""},
    };
    std::string text;
    for (const auto& l : lines) append_transcript_line(text, l);
    const auto r = parse_transcript(text);
    REQUIRE(r.ok());
    CHECK(r.lines == lines);
}

TEST_CASE("transcript: the samples parse and write back unchanged")
{
    const auto dir_path = espat::test::data_dir() / "transcripts";
    INFO("transcript directory: " << dir_path.string());
    REQUIRE(std::filesystem::is_directory(dir_path));
    int samples = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir_path)) {
        if (entry.path().extension() != ".txt") continue;
        ++samples;
        INFO("transcript " << entry.path().filename().string());
        const auto text = espat::test::read_file(entry.path());
        REQUIRE(text.has_value());
        const auto r = parse_transcript(*text);
        INFO("line " << r.error_line << ": " << r.error);
        REQUIRE(r.ok());
        CHECK_FALSE(espat::proto::device_stream(r.lines).empty());
        CHECK(std::any_of(r.lines.begin(), r.lines.end(), [](const auto& l) { return l.dir == dir::expect; }));

        std::string written;
        for (const auto& l : r.lines) append_transcript_line(written, l);
        const auto again = parse_transcript(written);
        REQUIRE(again.ok());
        CHECK(again.lines == r.lines);
    }
    CHECK(samples > 0);
}
