// Tests of the parser's MQTT and HTTP output: +MQTTSUBRECV messages and the chunks of HTTP
// bodies (length-framed, like +IPD), and the MQTT reports; each fed whole, one byte at a time
// and split at every point.
#include <espat/proto/parser.hpp>

#include <doctest/doctest.h>
#include <parse_every_split.hpp>
#include <recorder.hpp>

#include <sstream>
#include <string>
#include <vector>

using espat::proto::event;
using espat::proto::event_kind;
using espat::proto::parser;
using espat::proto::parser_limits;
using espat::proto::protocol_error_reason;
using espat::test::owned_event;
using espat::test::parse_in_chunks;
using espat::test::parse_whole;
using namespace std::string_literals;

namespace {

// Whole, byte by byte and at every split, all agreeing (parse_every_split.hpp).
std::vector<owned_event> parse(std::string_view bytes, parser_limits limits = {})
{
    return espat::test::parse_every_split(bytes, limits);
}
using espat::test::kinds;

void check_error(const owned_event& e, protocol_error_reason why, std::string_view frame, int link)
{
    CHECK(e.kind == event_kind::protocol_error);
    CHECK(e.value == static_cast<std::uint32_t>(why));
    CHECK(e.name == frame);
    CHECK(e.link == link);
}

}  // namespace

namespace doctest {
template <class T>
struct StringMaker<std::vector<T>> {
    static String convert(const std::vector<T>& v)
    {
        std::ostringstream os;
        os << '{';
        for (const auto& x : v) os << x << ' ';
        os << '}';
        return os.str().c_str();
    }
};
}  // namespace doctest

TEST_CASE("parser: +MQTTSUBRECV is a message frame: link, topic, length, payload")
{
    // The reference's example, as ESP-AT prints it: the payload, then CR LF.
    const auto ev = parse("+MQTTSUBRECV:0,\"topic\",4,test\r\n");
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == event_kind::mqtt_message);
    CHECK(ev[0].link == 0);
    CHECK(ev[0].value == 4);
    CHECK(ev[0].name == "MQTTSUBRECV");
    CHECK(ev[0].args == "topic");
    CHECK(ev[0].payload == "test");
    CHECK(espat::proto::is_report(event_kind::mqtt_message));
}

TEST_CASE("parser: an MQTT payload is counted, never scanned: CR LF, OK, +IPD and headers inside are data")
{
    const std::string payload = "a\r\nOK\r\n+IPD,0,2:hi\r\n+MQTTSUBRECV:0,\"x\",1,y\r\n\0\xff"s;
    const std::string bytes = "+MQTTSUBRECV:0,\"sensors/1\"," + std::to_string(payload.size()) + "," + payload + "\r\n\r\nOK\r\n";
    const auto ev = parse(bytes);
    REQUIRE(kinds(ev) == std::vector{event_kind::mqtt_message, event_kind::ok});
    CHECK(ev[0].payload == payload);
    CHECK(ev[0].args == "sensors/1");
}

TEST_CASE("parser: an MQTT topic is printed unescaped: '\"' and ',' are part of it up to the first '\",<len>,'")
{
    auto ev = parse("+MQTTSUBRECV:0,\"a\",b\"c\",3,xyz\r\n");
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].args == "a\",b\"c");
    CHECK(ev[0].payload == "xyz");
    ev = parse("+MQTTSUBRECV:0,\"a\",1x\",2,ab\r\n");
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].args == "a\",1x");
    CHECK(ev[0].payload == "ab");
    ev = parse("+MQTTSUBRECV:0,\"\"\",1,q\r\n");  // a topic of one quote
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].args == "\"");
    CHECK(ev[0].payload == "q");
    ev = parse("+MQTTSUBRECV:0,\"\",0,\r\nOK\r\n");  // an empty topic and an empty payload
    REQUIRE(kinds(ev) == std::vector{event_kind::mqtt_message, event_kind::ok});
    CHECK(ev[0].args.empty());
    CHECK(ev[0].payload.empty());
}

TEST_CASE("parser: fragments of one MQTT message, with and without a line end between them")
{
    const auto ev = parse("+MQTTSUBRECV:0,\"t\",3,abc+MQTTSUBRECV:0,\"t\",2,de\r\n+MQTTDISCONNECTED:0\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::mqtt_message, event_kind::mqtt_message, event_kind::mqtt_disconnected});
    CHECK(ev[0].payload == "abc");
    CHECK(ev[1].payload == "de");
    CHECK(ev[2].link == 0);
}

TEST_CASE("parser: an MQTT frame whose chunk ends with its payload is held, and released on silence")
{
    parser p;
    espat::test::recorder r;
    p.feed("+MQTTSUBRECV:0,\"t\",2,hi", r);
    CHECK(r.events.empty());
    CHECK(p.frame_held());
    p.release_held_frame(r);
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0].payload == "hi");
    CHECK(r.events[0].args == "t");
    p.feed("\r\nOK\r\n", r);
    CHECK(kinds(r.events) == std::vector{event_kind::mqtt_message, event_kind::ok});
}

TEST_CASE("parser: MQTT reports and answers that are lines")
{
    const auto ev = parse("+MQTTCONNECTED:0,1,\"broker.test\",\"1883\",\"\",0\r\n+MQTTDISCONNECTED:0\r\n"
                          "+MQTTSUB:0,6,\"t\",1\r\n+MQTTCONN:0,4,1,\"h\",\"1883\",\"\",1\r\n+MQTTPUB:OK\r\n+MQTTPUB:FAIL\r\n"
                          "+MQTTSUBRECV\r\n+MQTTPUB:OKAY\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::mqtt_connected, event_kind::mqtt_disconnected, event_kind::info,
                                     event_kind::info, event_kind::send_ok, event_kind::send_fail, event_kind::info,
                                     event_kind::info});
    CHECK(ev[0].link == 0);
    CHECK(ev[0].args == "0,1,\"broker.test\",\"1883\",\"\",0");
    CHECK(ev[2].name == "MQTTSUB");
    CHECK(ev[3].name == "MQTTCONN");
    CHECK(ev[4].text == "+MQTTPUB:OK");
    CHECK(ev[6].name == "MQTTSUBRECV");  // no ':': no header, a line
    CHECK(ev[7].args == "OKAY");
}

TEST_CASE("parser: a huge announced MQTT length is a protocol error; memory stays bounded, the next line parses")
{
    parser_limits limits;
    limits.max_mqtt_payload = 64;
    const std::string data(200, 'x');
    const auto ev = parse("+MQTTSUBRECV:0,\"t\",4294967295," + data + "\r\nOK\r\n" + "+MQTTSUBRECV:0,\"t\",65," + data +
                              "\r\n+MQTTSUBRECV:0,\"t\",99999999999," + data + "\r\nOK\r\n",
                          limits);
    REQUIRE(kinds(ev) == std::vector{event_kind::protocol_error, event_kind::ok, event_kind::protocol_error,
                                     event_kind::protocol_error, event_kind::ok});
    check_error(ev[0], protocol_error_reason::frame_too_long, "MQTTSUBRECV", 0);
    check_error(ev[2], protocol_error_reason::frame_too_long, "MQTTSUBRECV", 0);
    // Eleven digits are no length: the header never ends well, and the line end ends it.
    check_error(ev[3], protocol_error_reason::bad_frame_header, "MQTTSUBRECV", 0);
}

TEST_CASE("parser: a truncated MQTT frame followed by a normal line: an error for link 0, then sync again")
{
    // Announced 10, printed 3: the count takes the next line's start, and what follows it is
    // not what may follow a payload.
    const auto ev = parse("+MQTTSUBRECV:0,\"t\",10,abc\r\n+MQTTDISCONNECTED:0\r\n\r\nOK\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::protocol_error, event_kind::text, event_kind::ok});
    check_error(ev[0], protocol_error_reason::frame_trailer, "MQTTSUBRECV", 0);
    CHECK(ev[1].text == "DISCONNECTED:0");
}

TEST_CASE("parser: bad MQTT headers resynchronise at the next line")
{
    // A line end inside the topic ends the header there.
    auto ev = parse("+MQTTSUBRECV:0,\"to\r\nOK\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::protocol_error, event_kind::ok});
    check_error(ev[0], protocol_error_reason::bad_frame_header, "MQTTSUBRECV", 0);
    // No link digit, no opening quote, a two-digit link: dropped up to the line end.
    for (const char* bad : {"+MQTTSUBRECV:x,\"t\",1,a\r\nOK\r\n", "+MQTTSUBRECV:0,t\",1,a\r\nOK\r\n",
                            "+MQTTSUBRECV:10,\"t\",1,a\r\nOK\r\n"}) {
        CAPTURE(bad);
        ev = parse(bad);
        REQUIRE(kinds(ev) == std::vector{event_kind::protocol_error, event_kind::ok});
        CHECK(ev[0].value == static_cast<std::uint32_t>(protocol_error_reason::bad_frame_header));
    }
    // A topic longer than a line may be: bounded by max_line.
    parser_limits limits;
    limits.max_line = 40;
    ev = parse("+MQTTSUBRECV:0,\"" + std::string(100, 'a') + "\",1,b\r\nOK\r\n", limits);
    REQUIRE(kinds(ev) == std::vector{event_kind::protocol_error, event_kind::ok});
    check_error(ev[0], protocol_error_reason::bad_frame_header, "MQTTSUBRECV", 0);
    ev = parse("+MQTTSUBRECV:0,\"" + std::string(30, 'a') + "\",1,b\r\nOK\r\n", limits);
    REQUIRE(kinds(ev) == std::vector{event_kind::mqtt_message, event_kind::ok});
    CHECK(ev[0].args == std::string(30, 'a'));
}

TEST_CASE("parser: HTTP body chunks are frames named by their command")
{
    const auto ev = parse("+HTTPCLIENT:6,{\"a\":1\r\n+HTTPCLIENT:1,}\r\n\r\nOK\r\n+HTTPCGET:3,abc\r\n\r\nOK\r\n"
                          "+HTTPCPOST:2,ok\r\nSEND OK\r\n+HTTPCPUT:0,\r\nSEND FAIL\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::http_data, event_kind::http_data, event_kind::ok, event_kind::http_data,
                                     event_kind::ok, event_kind::http_data, event_kind::send_ok, event_kind::http_data,
                                     event_kind::send_fail});
    CHECK(ev[0].name == "HTTPCLIENT");
    CHECK(ev[0].payload == "{\"a\":1");
    CHECK(ev[1].payload == "}");
    CHECK(ev[3].name == "HTTPCGET");
    CHECK(ev[5].name == "HTTPCPOST");
    CHECK(ev[7].name == "HTTPCPUT");
    CHECK(ev[7].payload.empty());
    CHECK_FALSE(espat::proto::is_report(event_kind::http_data));
}

TEST_CASE("parser: an HTTP chunk is binary-safe, and a HEAD answer's headers are chunks")
{
    const std::string chunk = "\r\nOK\r\n+IPD,0,5:\r\nERROR\r\n+HTTPCGET:9,\0\x80"s;
    const auto ev = parse("+HTTPCGET:" + std::to_string(chunk.size()) + "," + chunk + "\r\n\r\nOK\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::http_data, event_kind::ok});
    CHECK(ev[0].payload == chunk);
    // The reference's HEAD example: one header per chunk, counted without a leading space.
    const auto head = parse("+HTTPCLIENT:30,Content-Type: application/json\r\n+HTTPCLIENT:17,Content-Length: 0\r\n\r\nOK\r\n");
    REQUIRE(kinds(head) == std::vector{event_kind::http_data, event_kind::http_data, event_kind::ok});
    CHECK(head[0].payload == "Content-Type: application/json");
    CHECK(head[1].payload == "Content-Length: 0");
}

TEST_CASE("parser: HTTP answers that are lines stay lines")
{
    const auto ev = parse("+HTTPGETSIZE:1024\r\n+HTTPCHEAD:0,\"accept: */*\"\r\n+HTTPURLCFG:20,http://a.test/x?a,b\r\n"
                          "+HTTPC\r\n+HTTPCLIENT\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::info, event_kind::info, event_kind::info, event_kind::info, event_kind::info});
    CHECK(ev[0].name == "HTTPGETSIZE");
    CHECK(ev[0].args == "1024");
    CHECK(ev[2].args == "20,http://a.test/x?a,b");
}

TEST_CASE("parser: an HTTP chunk must be followed by CR LF; bad and huge sizes resynchronise")
{
    auto ev = parse("+HTTPCGET:3,abcd\r\n\r\nOK\r\n");  // one byte more than announced
    REQUIRE(kinds(ev) == std::vector{event_kind::protocol_error, event_kind::text, event_kind::ok});
    check_error(ev[0], protocol_error_reason::frame_trailer, "HTTPCGET", -1);
    parser_limits limits;
    limits.max_http_payload = 16;
    ev = parse("+HTTPCLIENT:17," + std::string(17, 'z') + "\r\n+HTTPCLIENT:x,\r\n+HTTPCLIENT:12345678901,\r\n\r\nOK\r\n",
               limits);
    REQUIRE(kinds(ev) == std::vector{event_kind::protocol_error, event_kind::protocol_error, event_kind::protocol_error,
                                     event_kind::ok});
    check_error(ev[0], protocol_error_reason::frame_too_long, "HTTPCLIENT", -1);
    check_error(ev[1], protocol_error_reason::bad_frame_header, "HTTPCLIENT", -1);
    check_error(ev[2], protocol_error_reason::bad_frame_header, "HTTPCLIENT", -1);
    // A header cut by a line end ends there: the next line is parsed.
    ev = parse("+HTTPCPOST:12\r\nSEND OK\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::protocol_error, event_kind::send_ok});
}

TEST_CASE("parser: MQTT and HTTP payloads are views into the caller's buffer when contiguous")
{
    const std::string bytes = "+MQTTSUBRECV:0,\"t\",5,hello\r\n+HTTPCGET:5,world\r\n";
    parser p;
    std::vector<std::string_view> views;
    p.feed(bytes, [&](const event& e) { views.push_back(e.payload); });
    REQUIRE(views.size() == 2);
    CHECK(views[0].data() == bytes.data() + bytes.find("hello"));
    CHECK(views[1].data() == bytes.data() + bytes.find("world"));
}

TEST_CASE("parser: a mixed MQTT, HTTP and +IPD stream agrees whole, byte by byte and at every split")
{
    const std::string stream = "AT+MQTTSUB=0,\"t\",1\r\n+MQTTSUBRECV:0,\"t\",3,a\r\n\r\nOK\r\n"
                               "+IPD,0,4:+MQT\r\n+MQTTSUBRECV:0,\"t\",4,+IPD\r\n"
                               "AT+HTTPCGET=\"http://a.test/\"\r\n+HTTPCGET:4,OK\r\n\r\n+MQTTCONNECTED:0,1,\"h\",\"1\",\"\",1\r\n"
                               "+HTTPCGET:2,\r\n\r\n\r\nOK\r\n";
    const auto ev = parse(stream);
    CHECK(kinds(ev) == std::vector{event_kind::echo, event_kind::mqtt_message, event_kind::ok, event_kind::ipd,
                                   event_kind::mqtt_message, event_kind::echo, event_kind::http_data,
                                   event_kind::mqtt_connected, event_kind::http_data, event_kind::ok});
}
