// The sample capture through parser and JSON and back: the payload strings espat-decode
// prints decode to exactly the frame bytes the capture holds, however the bytes are fed.
#include <espat/proto/json.hpp>
#include <espat/proto/parser.hpp>

#include <doctest/doctest.h>
#include <json_object.hpp>
#include <recorder.hpp>
#include <test_data.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using espat::proto::event_kind;
using namespace std::string_literals;

namespace {

// examples/data/sample-capture.bin, found from tests/data (the one directory the build names).
std::string sample_capture()
{
    const auto path =
        (espat::test::data_dir() / ".." / ".." / "examples" / "data" / "sample-capture.bin").lexically_normal();
    INFO("capture: " << path.string());
    auto bytes = espat::test::read_file(path);
    REQUIRE(bytes.has_value());
    return *bytes;
}

struct frame {
    std::string kind;
    std::string payload;
};

// The frames make_sample_capture.py writes, spelled out here again so the test does not
// trust the generator, the parser or the JSON codec to agree with themselves.
std::vector<frame> expected_frames()
{
    std::string recv_120 = "chunk:";
    for (unsigned i = 0; i < 114; ++i) recv_120.push_back(static_cast<char>((i * 37 + 11) & 0xff));
    return {
        {"ipd", "HTTP/1.1 200 OK\r\n\r\nOK\r\n+IPD,1,4:fake\r\n>\x00\xff\x00" "end"s},
        {"ipd", "pong"},
        {"recv_data", recv_120},
        {"ipd", "hello"},
    };
}

// The JSON Lines of the capture fed `chunk` bytes at a time, as espat-decode prints them.
std::string json_lines(const std::string& capture, std::size_t chunk)
{
    espat::proto::parser p;
    std::string out;
    for (std::size_t pos = 0; pos < capture.size(); pos += chunk) {
        p.feed(std::string_view(capture).substr(pos, chunk), [&](const espat::proto::event& e) {
            espat::proto::append_json(out, e);
            out.push_back('\n');
        });
    }
    CHECK(p.idle());
    return out;
}

}  // namespace

TEST_CASE("decode: the sample capture's payloads survive parser and JSON exactly")
{
    const std::string capture = sample_capture();
    const auto want = expected_frames();
    std::string want_all;
    for (const auto& f : want) want_all += f.payload;

    for (std::size_t chunk : {capture.size(), std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
        CAPTURE(chunk);
        const std::string jsonl = json_lines(capture, chunk);
        std::vector<frame> got;
        std::string got_all;
        std::size_t start = 0;
        for (std::size_t nl; (nl = jsonl.find('\n', start)) != std::string::npos; start = nl + 1) {
            const std::string line = jsonl.substr(start, nl - start);
            const auto object = espat::test::read_json_object(line);
            INFO("line: " << line);
            REQUIRE(object.has_value());
            const auto* payload = espat::test::find_field(*object, "payload");
            if (payload == nullptr) continue;
            REQUIRE(payload->is_string);
            // A frame's length field counts exactly the payload bytes.
            const auto* value = espat::test::find_field(*object, "value");
            REQUIRE(value != nullptr);
            CHECK(value->value == std::to_string(payload->value.size()));
            got.push_back({(*object)[0].value, payload->value});
            got_all += payload->value;
        }
        REQUIRE(got.size() == want.size());
        for (std::size_t i = 0; i < want.size(); ++i) {
            CAPTURE(i);
            CHECK(got[i].kind == want[i].kind);
            CHECK(got[i].payload == want[i].payload);
        }
        CHECK(got_all == want_all);
    }
}

TEST_CASE("decode: the sample capture's JSON Lines are the golden file espat-decode is checked against")
{
    const auto golden = espat::test::read_file(espat::test::data_dir() / "sample-capture.jsonl");
    REQUIRE(golden.has_value());
    const std::string capture = sample_capture();
    CHECK(json_lines(capture, 4096) == *golden);
    CHECK(json_lines(capture, 1) == *golden);
}
