// Tests of the JSON form of events: the string codec is byte-exact both ways, and each kind's
// object holds exactly the fields the schema table (json.hpp, README) gives it.
#include <espat/proto/json.hpp>
#include <espat/proto/parser.hpp>

#include <doctest/doctest.h>
#include <json_object.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <vector>

using espat::proto::append_json;
using espat::proto::append_json_string;
using espat::proto::decode_json_string;
using espat::proto::event;
using espat::proto::event_kind;
using espat::test::read_json_object;
using namespace std::string_literals;

namespace {

std::string encode(std::string_view bytes)
{
    std::string out;
    append_json_string(out, bytes);
    return out;
}

std::string to_json(const event& e)
{
    std::string out;
    append_json(out, e);
    return out;
}

// The keys of an object, in order, joined by spaces (so a failure prints them).
std::string keys_of(const std::string& json)
{
    const auto object = read_json_object(json);
    INFO("json: " << json);
    REQUIRE(object.has_value());
    std::string keys;
    for (const auto& f : *object) keys += (keys.empty() ? "" : " ") + f.key;
    return keys;
}

std::string joined(const std::vector<std::string>& keys)
{
    std::string out;
    for (const auto& k : keys) out += (out.empty() ? "" : " ") + k;
    return out;
}

// Every field filled, so only the schema decides what is written.
event full_event(event_kind k)
{
    event e;
    e.kind = k;
    e.link = 3;
    e.remote_port = 8080;
    e.value = 1;  // a valid protocol_error_reason too
    e.text = "the line";
    e.name = "NAME";
    e.args = "a,b";
    e.remote_host = "192.168.3.102";
    e.payload = "data";
    return e;
}

// The schema, written out again independently of json.hpp's table: keys after "event" when
// every optional field is present.
const std::map<event_kind, std::vector<std::string>>& schema()
{
    using k = event_kind;
    static const std::vector<std::string> none{}, text{"text"}, info{"name", "args"}, link{"link"},
        frame_remote{"remote_host", "remote_port", "payload"};
    static const std::map<event_kind, std::vector<std::string>> table = {
        {k::ok, none},
        {k::error, none},
        {k::fail, none},
        {k::send_ok, none},
        {k::send_fail, none},
        {k::set_ok, none},
        {k::prompt, none},
        {k::echo, text},
        {k::info, info},
        {k::text, text},
        {k::noise, text},
        {k::err_code, {"code", "value"}},
        {k::busy, {"busy"}},
        {k::already_connected, none},
        {k::link_invalid, none},
        {k::unlink, none},
        {k::no_change, none},
        {k::dns_fail, none},
        {k::recv_bytes, {"value"}},
        {k::ready, none},
        {k::connect, link},
        {k::connect_fail, link},
        {k::closed, link},
        {k::wifi_connected, none},
        {k::wifi_got_ip, none},
        {k::wifi_disconnect, none},
        {k::link_conn, {"link", "value", "name", "args"}},
        {k::update_progress, {"value", "name", "args"}},
        {k::sta_connected, info},
        {k::sta_disconnected, info},
        {k::dist_sta_ip, info},
        {k::time_updated, info},
        {k::ipd, {"link", "value", "remote_host", "remote_port", "payload"}},
        {k::ipd_notify, {"link", "value", "remote_host", "remote_port"}},
        {k::recv_data, {"value", "remote_host", "remote_port", "payload"}},
        {k::mqtt_connected, {"link", "name", "args"}},
        {k::mqtt_disconnected, {"link", "name", "args"}},
        {k::mqtt_message, {"link", "value", "topic", "payload"}},
        {k::http_data, {"value", "name", "payload"}},
        {k::raw_data, {"payload"}},
        {k::protocol_error, {"link", "reason"}},
    };
    return table;
}

std::vector<std::string> without(std::vector<std::string> keys, std::initializer_list<std::string_view> drop)
{
    std::erase_if(keys, [&](const std::string& key) { return std::find(drop.begin(), drop.end(), key) != drop.end(); });
    return keys;
}

}  // namespace

TEST_CASE("json: every byte round-trips")
{
    std::string all;
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
    const std::string json = encode(all);
    CHECK(decode_json_string(json) == all);
    // Plain ASCII whatever the bytes: valid UTF-8, safe in any terminal or log.
    CHECK(std::all_of(json.begin(), json.end(), [](char c) { return c >= 0x20 && c < 0x7f; }));
    for (int b = 0; b < 256; ++b) {
        CAPTURE(b);
        const std::string one(1, static_cast<char>(b));
        CHECK(decode_json_string(encode(one)) == one);
        CHECK(decode_json_string(encode("\"" + one + "\\")) == "\"" + one + "\\");
    }
    CHECK(decode_json_string(encode("")) == "");
}

TEST_CASE("json: strings use short escapes, \\u00XX for the rest and readable ASCII as is")
{
    CHECK(encode("test") == R"("test")");
    CHECK(encode("a\"b\\c") == R"("a\"b\\c")");
    CHECK(encode("\r\n\t") == R"("\r\n\t")");
    CHECK(encode("\x00\x01\x1f\x7f\x80\xff"s) == R"("\u0000\u0001\u001f\u007f\u0080\u00ff")");
    CHECK(encode("/ ~") == R"("/ ~")");
}

TEST_CASE("json: decoding accepts what other JSON tools write for the same bytes")
{
    CHECK(decode_json_string(R"("\u00E9\u00e9")") == "\xe9\xe9");
    CHECK(decode_json_string("\"\xc3\xa9\xc2\x80\"") == "\xe9\x80");  // raw UTF-8 for U+00E9, U+0080
    CHECK(decode_json_string(R"("\/\b\f")") == "/\b\f");
    CHECK(decode_json_string("\"\x7f\"") == "\x7f");
}

TEST_CASE("json: decoding refuses what is not one string of code points up to U+00FF")
{
    for (std::string_view bad : {R"("\u0100")", R"("\ud800")", R"("\u00e")", R"("\u00eg")", R"("\x41")", R"("\")",
                                 R"("a"b")", R"("a" )", R"(a)", R"(")", R"()", "\"\x01\"", "\"\xe2\x82\xac\"",
                                 "\"\xc3\"", "\"\xc3\x41\"", "\"\x80\""}) {
        CAPTURE(bad);
        CHECK_FALSE(decode_json_string(bad).has_value());
    }
}

TEST_CASE("json: each kind's JSON has exactly its fields")
{
    REQUIRE(schema().size() == static_cast<std::size_t>(espat::proto::event_kind_count));
    for (int i = 0; i < espat::proto::event_kind_count; ++i) {
        const auto k = static_cast<event_kind>(i);
        CAPTURE(espat::proto::to_string(k));
        const std::vector<std::string>& fields = schema().at(k);

        event e = full_event(k);
        std::vector<std::string> want{"event"};
        want.insert(want.end(), fields.begin(), fields.end());
        CHECK(keys_of(to_json(e)) == joined(want));

        // The optional fields go when the line did not carry them.
        e.link = -1;
        e.remote_host = {};
        e.remote_port = 0;
        CHECK(keys_of(to_json(e)) == joined(without(want, {"link", "remote_host", "remote_port"})));

        const auto object = read_json_object(to_json(e));
        REQUIRE(object.has_value());
        CHECK((*object)[0].value == espat::proto::to_string(k));
    }
}

TEST_CASE("json: field values")
{
    event e = full_event(event_kind::err_code);
    e.value = 0x010b0000;
    CHECK(to_json(e) == R"({"event":"err_code","code":"0x010b0000","value":17498112})");
    e.value = 0xffffffff;
    CHECK(to_json(e) == R"({"event":"err_code","code":"0xffffffff","value":4294967295})");

    e = full_event(event_kind::busy);
    e.value = 'p';
    CHECK(to_json(e) == R"({"event":"busy","busy":"p"})");

    e = full_event(event_kind::protocol_error);
    e.value = static_cast<std::uint32_t>(espat::proto::protocol_error_reason::frame_too_long);
    CHECK(to_json(e) == R"({"event":"protocol_error","link":3,"reason":"frame_too_long"})");
    e.link = -1;  // what is left of a header: no link to name
    e.value = static_cast<std::uint32_t>(espat::proto::protocol_error_reason::damaged_frame);
    CHECK(to_json(e) == R"({"event":"protocol_error","reason":"damaged_frame"})");

    const std::string payload = "\r\n\x00\xff"s;
    e = full_event(event_kind::ipd);
    e.link = 0;
    e.value = 4;
    e.payload = payload;
    CHECK(to_json(e) ==
          R"({"event":"ipd","link":0,"value":4,"remote_host":"192.168.3.102","remote_port":8080,"payload":"\r\n\u0000\u00ff"})");
}

TEST_CASE("json: what the parser reads, as JSON")
{
    espat::proto::parser p;
    std::string out;
    p.feed("ATE0\r\n\r\nOK\r\n+CIPSTA:ip:\"192.168.3.112\"\r\n1,CLOSED\r\n"
           "+LINK_CONN:0,1,\"TCP\",1,\"192.168.3.110\",51234,333\r\n\xe0\x00\r\n"
           "+IPD,0,3,\"10.0.0.1\",80:a\"b\r\n+IPD,2,10\r\n"s,
           [&](const event& e) {
               append_json(out, e);
               out.push_back('\n');
           });
    CHECK(out == R"({"event":"echo","text":"ATE0"}
{"event":"ok"}
{"event":"info","name":"CIPSTA","args":"ip:\"192.168.3.112\""}
{"event":"closed","link":1}
{"event":"link_conn","link":1,"value":0,"name":"LINK_CONN","args":"0,1,\"TCP\",1,\"192.168.3.110\",51234,333"}
{"event":"noise","text":"\u00e0\u0000"}
{"event":"ipd","link":0,"value":3,"remote_host":"10.0.0.1","remote_port":80,"payload":"a\"b"}
{"event":"ipd_notify","link":2,"value":10}
)");
}
