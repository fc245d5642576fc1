// Tests of the MQTT and HTTP command descriptors: the reference's example lines encode
// byte-exactly and decode back on the device side, every documented response form decodes to
// its typed value from real-looking module output, and hostile strings are escaped or refused.
#include <espat/commands/device.hpp>
#include <espat/commands/host.hpp>
#include <espat/commands/table.hpp>
#include <espat/proto/parser.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

using namespace espat;
using namespace espat::commands;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {

// Named bounded values (clang 14 miscompiles two consteval temporaries in one function).
constexpr mqtt_port port1883{1883}, port8883{8883};
constexpr mqtt_publish_length len19{19};
constexpr mqtt_long_length long1024{1024}, long5{5};
constexpr http_body_length body427{427}, body0{0};
constexpr http_url_length url32{32}, url0{0};
constexpr http_header_length head18{18};
constexpr http_buffer_size buf2048{2048}, buf4096{4096};

template <class C>
std::string set_line(const typename C::set::request& r)
{
    std::string out;
    const std::error_code ec = encode_set<C>(out, r);
    CHECK_MESSAGE(!ec, C::command, ": ", ec.message());
    return out;
}

// The error of a request that cannot be sent; the output is left as it was.
template <class C>
std::error_code set_error(const typename C::set::request& r)
{
    std::string out = "before";
    const std::error_code ec = encode_set<C>(out, r);
    CHECK(out == "before");
    return ec;
}

template <class C>
std::optional<typename C::set::request> device_set(std::string_view line)
{
    auto d = decode_request<any_request>(line);
    if (!d) return std::nullopt;
    auto* r = espat::commands::get_if<request_of<C, typename C::set>>(&*d);
    if (!r) return std::nullopt;
    return r->params;
}

// A reference example: the typed request encodes to exactly `line`, and `line` decodes on the
// device side to the same request of the same descriptor.
template <class C>
void check_example(std::string_view line, const typename C::set::request& r)
{
    const std::string with_end = std::string(line) + "\r\n";
    CHECK(set_line<C>(r) == with_end);
    CHECK(device_set<C>(with_end) == r);
}

// The module's bytes through the real parser; its information lines go to the form's decoder.
template <class Form>
std::optional<typename Form::response::value_type> decode_bytes(std::string_view bytes)
{
    std::vector<std::pair<std::string, std::string>> owned;
    proto::parser p;
    p.feed(bytes, [&](const proto::event& e) {
        if (e.kind == proto::event_kind::info) owned.emplace_back(e.name, e.args);
    });
    std::vector<response_line> lines;
    for (const auto& [n, a] : owned) lines.push_back({n, a});
    return decode_response<Form>(lines);
}

template <class Form>
std::string reply(const typename Form::response::value_type& v)
{
    std::string out;
    encode_reply<Form>(out, v);
    return out;
}

const std::string injections[] = {"t\r\nAT+RST", "t\rAT+RST", "t\nAT+RST", "t\0AT+RST"s, "\r", "\n", std::string(1, '\0')};

}  // namespace

TEST_CASE("commands: MQTT set forms encode as the reference shows them and read back")
{
    check_example<mqttusercfg>("AT+MQTTUSERCFG=0,1,\"ESP32\",\"espressif\",\"1234567890\",0,0,\"\"",
                               {.scheme = mqtt_scheme::tcp, .client_id = "ESP32", .username = "espressif",
                                .password = "1234567890", .path = ""});
    check_example<mqttusercfg>("AT+MQTTUSERCFG=0,7,\"id\",\"\",\"\",0,0,\"mqtt\"",
                               {.scheme = mqtt_scheme::wss, .client_id = "id", .username = "", .password = "", .path = "mqtt"});
    check_example<mqttlongclientid>("AT+MQTTLONGCLIENTID=0,1024", {long1024});
    check_example<mqttlongusername>("AT+MQTTLONGUSERNAME=0,5", {long5});
    check_example<mqttlongpassword>("AT+MQTTLONGPASSWORD=0,1024", {long1024});
    check_example<mqttconncfg>("AT+MQTTCONNCFG=0,0,0,\"lwt/topic\",\"offline\",1,1",
                               {.keep_alive = 0s, .session = mqtt_session::clean, .will_topic = "lwt/topic",
                                .will_message = "offline", .will_qos = mqtt_qos::at_least_once, .will_retain = true});
    check_example<mqttconn>("AT+MQTTCONN=0,\"192.168.10.234\",1883,0", {.host = "192.168.10.234", .port = port1883, .reconnect = false});
    check_example<mqttconn>("AT+MQTTCONN=0,\"broker.test\",8883,1,20000",
                            {.host = "broker.test", .port = port8883, .reconnect = true, .timeout = 20000ms});
    // The reference's own example of a JSON payload in a quoted parameter.
    check_example<mqttpub>("AT+MQTTPUB=0,\"topic\",\"\\\"{\\\"timestamp\\\":\\\"20201121085253\\\"}\\\"\",0,0",
                           {.topic = "topic", .data = "\"{\"timestamp\":\"20201121085253\"}\"", .qos = mqtt_qos::at_most_once,
                            .retain = false});
    check_example<mqttpubraw>("AT+MQTTPUBRAW=0,\"topic\",19,0,0",
                              {.topic = "topic", .length = len19, .qos = mqtt_qos::at_most_once, .retain = false});
    check_example<mqttsub>("AT+MQTTSUB=0,\"topic\",1", {.topic = "topic", .qos = mqtt_qos::at_least_once});
    check_example<mqttsub>("AT+MQTTSUB=0,\"a/+/#\",2,5000", {.topic = "a/+/#", .qos = mqtt_qos::exactly_once, .timeout = 5000ms});
    check_example<mqttunsub>("AT+MQTTUNSUB=0,\"topic\"", {.topic = "topic"});
    check_example<mqttclean>("AT+MQTTCLEAN=0", {});

    // Only link 0 exists: a device does not read another, and nothing can write one.
    CHECK_FALSE(device_set<mqttclean>("AT+MQTTCLEAN=1\r\n"));
    CHECK_FALSE(device_set<mqttsub>("AT+MQTTSUB=1,\"t\",0\r\n"));
    // Ranges: keep-alive 0..7200 s, the module's timeout 3..60 s, QoS 0..2, scheme 1..10.
    CHECK(set_error<mqttconncfg>({.keep_alive = 7201s, .session = mqtt_session::clean, .will_topic = "t", .will_message = "m",
                                  .will_qos = mqtt_qos::at_most_once, .will_retain = false}) == errc::invalid_argument);
    CHECK(set_error<mqttsub>({.topic = "t", .qos = mqtt_qos::at_most_once, .timeout = 2999ms}) == errc::invalid_argument);
    CHECK(set_error<mqttsub>({.topic = "t", .qos = static_cast<mqtt_qos>(3)}) == errc::invalid_argument);
    CHECK(set_error<mqttusercfg>({.scheme = static_cast<mqtt_scheme>(11), .client_id = "c", .username = "", .password = "",
                                  .path = ""}) == errc::invalid_argument);
    CHECK_FALSE(device_set<mqttsub>("AT+MQTTSUB=0,\"t\",3\r\n"));
    CHECK_FALSE(device_set<mqttusercfg>("AT+MQTTUSERCFG=0,0,\"c\",\"\",\"\",0,0,\"\"\r\n"));
    CHECK_FALSE(device_set<mqttusercfg>("AT+MQTTUSERCFG=0,1,\"c\",\"\",\"\",1,0,\"\"\r\n"));  // one certificate slot
}

TEST_CASE("commands: HTTP set forms encode as the reference shows them and read back")
{
    check_example<httpclient_post>("AT+HTTPCLIENT=3,1,\"http://httpbin.org/post\",,,1,\"{\\\"form\\\":{\\\"purpose\\\":\\\"test\\\"}}\"",
                                   {.content_type = http_content_type::json, .url = "http://httpbin.org/post",
                                    .transport = http_transport::tcp, .data = "{\"form\":{\"purpose\":\"test\"}}"});
    check_example<httpclient>("AT+HTTPCLIENT=2,0,\"http://httpbin.org/get\",,,1",
                              {.method = http_method::get, .content_type = http_content_type::form_urlencoded,
                               .url = "http://httpbin.org/get", .transport = http_transport::tcp});
    check_example<httpclient>("AT+HTTPCLIENT=1,0,\"\",\"httpbin.org\",\"/get?a=1\",2,\"accept: */*\",\"x-a: b\\,c\"",
                              {.method = http_method::head, .content_type = http_content_type::form_urlencoded, .url = "",
                               .host = "httpbin.org", .path = "/get?a=1", .transport = http_transport::tls,
                               .headers = http_headers{"accept: */*", "x-a: b,c"}});
    check_example<httpclient_post>("AT+HTTPCLIENT=3,0,\"http://a.test/p\",,,1,\"a=1\",\"x-k: v\"",
                                   {.content_type = http_content_type::form_urlencoded, .url = "http://a.test/p",
                                    .transport = http_transport::tcp, .data = "a=1", .headers = http_headers{"x-k: v"}});
    check_example<httpgetsize>("AT+HTTPGETSIZE=\"http://www.baidu.com/img/bdlogo.gif\"",
                               {.url = "http://www.baidu.com/img/bdlogo.gif"});
    check_example<httpcget>("AT+HTTPCGET=\"http://a.test/f\",2048,4096,10000",
                            {.url = "http://a.test/f", .tx_size = buf2048, .rx_size = buf4096, .timeout = 10000ms});
    check_example<httpcget>("AT+HTTPCGET=\"\",,4096", {.url = "", .rx_size = buf4096});
    check_example<httpcpost>("AT+HTTPCPOST=\"http://httpbin.org/post\",427,1,\"content-type: application/json\"",
                             {.url = "http://httpbin.org/post", .length = body427,
                              .headers = http_headers{"content-type: application/json"}});
    check_example<httpcput>("AT+HTTPCPUT=\"http://a.test/put\",0", {.url = "http://a.test/put", .length = body0});
    check_example<httpurlcfg>("AT+HTTPURLCFG=32", {url32});
    check_example<httpurlcfg>("AT+HTTPURLCFG=0", {url0});
    check_example<httpchead>("AT+HTTPCHEAD=18", {head18});

    // POST is the other descriptor: the bodyless one has no POST, and reads none.
    CHECK_FALSE(device_set<httpclient>("AT+HTTPCLIENT=3,1,\"http://a/\",,,1,\"body\"\r\n"));
    CHECK(device_set<httpclient_post>("AT+HTTPCLIENT=3,1,\"http://a/\",,,1,\"body\"\r\n"));
    CHECK(set_error<httpclient>({.method = static_cast<http_method>(3), .content_type = http_content_type::json, .url = "u",
                                 .transport = http_transport::tcp}) == errc::invalid_argument);
    // An empty header list has no count to write; 10241 bytes is over <rx size>.
    CHECK(set_error<httpcpost>({.url = "u", .length = body427, .headers = http_headers{}}) == errc::invalid_argument);
    CHECK_FALSE(device_set<httpcget>("AT+HTTPCGET=\"u\",,10241\r\n"));
    // The header count must match the headers.
    CHECK_FALSE(device_set<httpcpost>("AT+HTTPCPOST=\"u\",4,2,\"a: b\"\r\n"));
}

TEST_CASE("commands: hostile MQTT and HTTP strings are escaped or refused, never a second command line")
{
    // Escaped, and read back the same.
    check_example<mqttpub>("AT+MQTTPUB=0,\"a\\,b\",\"\\\\\\\"\\,\",1,1",
                           {.topic = "a,b", .data = "\\\",", .qos = mqtt_qos::at_least_once, .retain = true});
    check_example<mqttusercfg>("AT+MQTTUSERCFG=0,1,\"id\\\"\",\"u\\,\",\"p\\\\\",0,0,\"\"",
                               {.scheme = mqtt_scheme::tcp, .client_id = "id\"", .username = "u,", .password = "p\\", .path = ""});
    for (const auto& s : injections) {
        CAPTURE(s);
        CHECK(set_error<mqttusercfg>({.scheme = mqtt_scheme::tcp, .client_id = s, .username = "", .password = "", .path = ""}) ==
              errc::invalid_argument);
        CHECK(set_error<mqttusercfg>({.scheme = mqtt_scheme::tcp, .client_id = "c", .username = s, .password = "", .path = ""}) ==
              errc::invalid_argument);
        CHECK(set_error<mqttusercfg>({.scheme = mqtt_scheme::tcp, .client_id = "c", .username = "", .password = s, .path = ""}) ==
              errc::invalid_argument);
        CHECK(set_error<mqttusercfg>({.scheme = mqtt_scheme::ws, .client_id = "c", .username = "", .password = "", .path = s}) ==
              errc::invalid_argument);
        CHECK(set_error<mqttconncfg>({.keep_alive = 60s, .session = mqtt_session::clean, .will_topic = s, .will_message = "m",
                                      .will_qos = mqtt_qos::at_most_once, .will_retain = false}) == errc::invalid_argument);
        CHECK(set_error<mqttconncfg>({.keep_alive = 60s, .session = mqtt_session::clean, .will_topic = "t", .will_message = s,
                                      .will_qos = mqtt_qos::at_most_once, .will_retain = false}) == errc::invalid_argument);
        CHECK(set_error<mqttconn>({.host = s, .port = port1883, .reconnect = false}) == errc::invalid_argument);
        CHECK(set_error<mqttpub>({.topic = s, .data = "d", .qos = mqtt_qos::at_most_once, .retain = false}) ==
              errc::invalid_argument);
        CHECK(set_error<mqttpub>({.topic = "t", .data = s, .qos = mqtt_qos::at_most_once, .retain = false}) ==
              errc::invalid_argument);
        CHECK(set_error<mqttpubraw>({.topic = s, .length = len19, .qos = mqtt_qos::at_most_once, .retain = false}) ==
              errc::invalid_argument);
        CHECK(set_error<mqttsub>({.topic = s, .qos = mqtt_qos::at_most_once}) == errc::invalid_argument);
        CHECK(set_error<mqttunsub>({.topic = s}) == errc::invalid_argument);
        CHECK(set_error<httpclient>({.method = http_method::get, .content_type = http_content_type::json, .url = s,
                                     .transport = http_transport::tcp}) == errc::invalid_argument);
        CHECK(set_error<httpclient>({.method = http_method::get, .content_type = http_content_type::json, .url = "",
                                     .host = s, .path = "/", .transport = http_transport::tcp}) == errc::invalid_argument);
        CHECK(set_error<httpclient>({.method = http_method::get, .content_type = http_content_type::json, .url = "",
                                     .host = "h", .path = s, .transport = http_transport::tcp}) == errc::invalid_argument);
        CHECK(set_error<httpclient>({.method = http_method::get, .content_type = http_content_type::json, .url = "u",
                                     .transport = http_transport::tcp, .headers = http_headers{"a: b", s}}) ==
              errc::invalid_argument);
        CHECK(set_error<httpclient_post>({.content_type = http_content_type::json, .url = "u", .transport = http_transport::tcp,
                                          .data = s}) == errc::invalid_argument);
        CHECK(set_error<httpgetsize>({.url = s}) == errc::invalid_argument);
        CHECK(set_error<httpcget>({.url = s}) == errc::invalid_argument);
        CHECK(set_error<httpcpost>({.url = s, .length = body427}) == errc::invalid_argument);
        CHECK(set_error<httpcput>({.url = "u", .length = body427, .headers = http_headers{s}}) == errc::invalid_argument);
    }
    // Over their maximum: a 129-byte topic, a 65-byte password, a 257-byte client id.
    CHECK(set_error<mqttsub>({.topic = std::string(129, 't'), .qos = mqtt_qos::at_most_once}) == errc::invalid_argument);
    CHECK(set_error<mqttusercfg>({.scheme = mqtt_scheme::tcp, .client_id = "c", .username = "",
                                  .password = std::string(65, 'p'), .path = ""}) == errc::invalid_argument);
    CHECK(set_error<mqttusercfg>({.scheme = mqtt_scheme::tcp, .client_id = std::string(257, 'c'), .username = "",
                                  .password = "", .path = ""}) == errc::invalid_argument);
    // Each fits its field, not the 256-byte line together: AT+MQTTLONG* is for these.
    CHECK(set_error<mqttusercfg>({.scheme = mqtt_scheme::tcp, .client_id = std::string(200, 'c'), .username = std::string(64, 'u'),
                                  .password = "", .path = ""}) == errc::invalid_argument);
    // 120 commas double when escaped: 240 bytes of data over the line.
    CHECK(set_error<mqttpub>({.topic = "t", .data = std::string(120, ','), .qos = mqtt_qos::at_most_once, .retain = false}) ==
          errc::invalid_argument);
    // Whatever passes is one line.
    for (const auto& s : {"a\"b"s, "\\"s, ","s, "\"\""s, "x,\"AT+RST\""s}) {
        const std::string line = set_line<mqttpub>({.topic = s, .data = s, .qos = mqtt_qos::at_most_once, .retain = false});
        CHECK(line.find_first_of("\r\n") == line.size() - 2);
        CHECK(device_set<mqttpub>(line) == mqttpub_request{.topic = s, .data = s, .qos = mqtt_qos::at_most_once, .retain = false});
    }
}

TEST_CASE("commands: AT+MQTTUSERCFG's password is a member named password, so the client can redact it")
{
    const mqttusercfg_request r{.scheme = mqtt_scheme::tls, .client_id = "c", .username = "u", .password = "s3cr3t", .path = ""};
    static_assert(requires(mqttusercfg_request x) { x.password = std::string("********"); });
    // What redacted_line in client/impl/commands.hpp does: the same request, the password replaced.
    auto copy = r;
    copy.password = std::string("********");
    const std::string shown = set_line<mqttusercfg>(copy);
    CHECK(shown == "AT+MQTTUSERCFG=0,2,\"c\",\"u\",\"********\",0,0,\"\"\r\n");
    CHECK(shown.find("s3cr3t") == std::string::npos);
}

TEST_CASE("commands: MQTT answers decode from what the module prints")
{
    // AT+MQTTCONN? when connected (the port printed in quotes) and when nothing is configured.
    auto conn = decode_bytes<mqttconn::query>("+MQTTCONN:0,4,1,\"192.168.10.234\",\"1883\",\"\",0\r\n\r\nOK\r\n");
    REQUIRE(conn);
    CHECK(conn->state == mqtt_state::connected);
    CHECK(conn->scheme == mqtt_scheme::tcp);
    CHECK(conn->host == "192.168.10.234");
    CHECK(conn->port == 1883);
    CHECK(conn->path.empty());
    CHECK_FALSE(conn->reconnect);
    CHECK(reply<mqttconn::query>(*conn) == "+MQTTCONN:0,4,1,\"192.168.10.234\",\"1883\",\"\",0\r\n");
    conn = decode_bytes<mqttconn::query>("+MQTTCONN:0,0,0,\"\",\"\",\"\",0\r\n\r\nOK\r\n");
    REQUIRE(conn);
    CHECK(conn->state == mqtt_state::uninitialized);
    CHECK_FALSE(conn->scheme);
    CHECK_FALSE(conn->port);
    CHECK(reply<mqttconn::query>(*conn) == "+MQTTCONN:0,0,0,\"\",\"\",\"\",0\r\n");
    // A WebSocket connection with a path, the port bare as the docs draw it.
    conn = decode_bytes<mqttconn::query>("+MQTTCONN:0,6,7,\"broker.test\",443,\"mqtt\",1\r\n");
    REQUIRE(conn);
    CHECK(conn->scheme == mqtt_scheme::wss);
    CHECK(conn->port == 443);
    CHECK(conn->path == "mqtt");
    CHECK(conn->reconnect);

    // AT+MQTTSUB?: one line per subscription; topics unescaped; none: one empty line.
    auto subs = decode_bytes<mqttsub::query>("+MQTTSUB:0,6,\"sensors/+\",1\r\n+MQTTSUB:0,6,\"a,\"b\",2\r\n\r\nOK\r\n");
    REQUIRE(subs);
    REQUIRE(subs->size() == 2);
    CHECK((*subs)[0] == mqtt_subscription{0, mqtt_state::subscribed, "sensors/+", mqtt_qos::at_least_once});
    CHECK((*subs)[1].topic == "a,\"b");
    CHECK((*subs)[1].qos == mqtt_qos::exactly_once);
    subs = decode_bytes<mqttsub::query>("+MQTTSUB:0,4,\"\",0\r\n\r\nOK\r\n");
    REQUIRE(subs);
    REQUIRE(subs->size() == 1);
    CHECK((*subs)[0].topic.empty());

    // The +MQTTCONNECTED report's arguments, as the parser hands them out.
    proto::parser p;
    std::optional<mqtt_connection> connected;
    p.feed("+MQTTCONNECTED:0,2,\"broker.test\",\"8883\",\"\",1\r\n", [&](const proto::event& e) {
        if (e.kind == proto::event_kind::mqtt_connected) connected = mqtt_connected_line::decode_args(e.args);
    });
    REQUIRE(connected);
    CHECK(*connected == mqtt_connection{0, mqtt_scheme::tls, "broker.test", 8883, "", true});

    // The set forms end in a final result only.
    CHECK(decode_bytes<mqttusercfg::set>("\r\nOK\r\n") == nothing{});
    CHECK(decode_bytes<mqttconn::set>("+MQTTCONNECTED:0,1,\"h\",\"1883\",\"\",0\r\n\r\nOK\r\n") == nothing{});
}

TEST_CASE("commands: HTTP answers decode from what the module prints")
{
    CHECK(decode_bytes<httpgetsize::set>("+HTTPGETSIZE:4096\r\n\r\nOK\r\n") == 4096u);
    CHECK_FALSE(decode_bytes<httpgetsize::set>("\r\nOK\r\n"));

    auto url = decode_bytes<httpurlcfg::query>("+HTTPURLCFG:32,http://a.test/path?x=1,y=\"2\"&z=3\r\n\r\nOK\r\n");
    REQUIRE(url);
    REQUIRE(*url);
    CHECK((*url)->length == 32);
    CHECK((*url)->url == "http://a.test/path?x=1,y=\"2\"&z=3");
    CHECK((*url)->url.size() == (*url)->length);
    url = decode_bytes<httpurlcfg::query>("\r\nOK\r\n");  // nothing stored
    REQUIRE(url);
    CHECK_FALSE(*url);

    const auto heads = decode_bytes<httpchead::query>("+HTTPCHEAD:0,\"accept: application/json\"\r\n"
                                                      "+HTTPCHEAD:1,\"x-note: a,\"b\"\"\r\n\r\nOK\r\n");
    REQUIRE(heads);
    REQUIRE(heads->size() == 2);
    CHECK((*heads)[0] == http_stored_header{0, "accept: application/json"});
    CHECK((*heads)[1].header == "x-note: a,\"b\"");

    // The request commands' body chunks are frames, not lines: what is left is the result.
    CHECK(decode_bytes<httpclient::set>("+HTTPCLIENT:5,hello\r\n\r\nOK\r\n") == nothing{});
    CHECK(decode_bytes<httpcget::set>("+HTTPCGET:10,+HTTPCGET:\r\n\r\nOK\r\n") == nothing{});
}

TEST_CASE("commands: the MQTT and HTTP commands carry their firmware range")
{
    CHECK(mqttusercfg::since == version{2, 0, 0, 0});
    CHECK(mqttlongpassword::since == version{2, 2, 2, 0});
    CHECK(httpgetsize::since == version{2, 1, 0, 0});
    CHECK(httpcpost::since == version{2, 2, 0, 0});
    CHECK(httpcget::since == version{2, 3, 0, 0});
    CHECK(httpurlcfg::since == version{2, 3, 0, 0});
    CHECK(httpcput::since == version{3, 0, 0, 0});
    CHECK(httpchead::since == version{3, 1, 0, 0});
}
