// Tests of the command table's building blocks: lexical rules, value types, codecs, and the
// generic encoders/decoders, on small descriptors defined here.
#include <espat/commands/device.hpp>
#include <espat/commands/host.hpp>

#include <doctest/doctest.h>

#include <ostream>
#include <string>
#include <vector>

using namespace espat;
using namespace espat::commands;
using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

enum class colour : std::uint8_t { red = 0, green = 1, blue = 5 };
enum class proto_kind { tcp, udp };

}  // namespace

template <>
struct espat::enum_numbers<colour> {
    static constexpr colour values[] = {colour::red, colour::green, colour::blue};
};
template <>
struct espat::enum_keywords<proto_kind> {
    static constexpr std::pair<proto_kind, std::string_view> words[] = {{proto_kind::tcp, "TCP"}, {proto_kind::udp, "UDP"}};
};

namespace {

// AT+DEMO=[<id>,]"TCP",<name>,<port>[,<colour>][,<wait>]
struct demo_request {
    std::optional<link_id> id{};
    required<std::string> name;
    required<std::uint16_t> port;
    std::optional<colour> hue{};
    std::optional<std::chrono::seconds> wait{};
    friend bool operator==(const demo_request&, const demo_request&) = default;
};

struct demo_status {
    std::string name;
    std::int32_t rssi = 0;
    std::optional<colour> hue;
    friend bool operator==(const demo_status&, const demo_status&) = default;
};

struct demo {
    static constexpr std::string_view command = "AT+DEMO";
    static constexpr std::uint32_t timeout_ms = 1000;
    using set = set_form<demo_request,
                         fields<leading_field<&demo_request::id, ranged<link_id>>, fixed<keyword<proto_kind>, proto_kind::tcp>,
                                field<&demo_request::name, quoted<32>>, field<&demo_request::port, integer<std::uint16_t>>,
                                field<&demo_request::hue, number<colour>>,
                                field<&demo_request::wait, duration<std::chrono::seconds, 7200>>>>;
    // +DEMO:<name>,<rssi>[,<colour>] with a name that may hold ',' and '"'
    using query = query_form<many<line<demo_status, "DEMO",
                                       fields<field<&demo_status::name, quoted<32>>, field<&demo_status::rssi, integer<std::int32_t>>,
                                              field<&demo_status::hue, number<colour>>>,
                                       0>>>;
    using execute = execute_form<>;
};

struct other {
    static constexpr std::string_view command = "AT+OTHER";
    static constexpr std::uint32_t timeout_ms = 1000;
    using query = query_form<one<line<colour, "OTHER", fields<whole<number<colour>>>>>>;
    using test = test_form<no_info>;
};

struct long_request {
    required<std::string> a;
};
struct long_cmd {
    static constexpr std::string_view command = "AT+LONG";
    static constexpr std::uint32_t timeout_ms = 1000;
    using set = set_form<long_request, fields<field<&long_request::a, quoted<1000>>>>;
};

using device_requests = device_request<demo, other>;

std::string set_line(const demo_request& r)
{
    std::string out;
    auto ec = encode_set<demo>(out, r);
    return ec ? "error: "s + ec.message() : out;
}

}  // namespace

TEST_CASE("commands: quoted strings escape , \" and \\ and round-trip every other byte")
{
    std::string all;
    for (int b = 1; b < 256; ++b)
        if (b != '\r' && b != '\n') all += static_cast<char>(b);
    std::string out;
    append_quoted(out, all);
    CHECK(out.find("\\,") != std::string::npos);
    CHECK(out.find("\\\"") != std::string::npos);
    CHECK(out.find("\\\\") != std::string::npos);
    auto back = unquote_escaped(out);
    REQUIRE(back);
    CHECK(*back == all);
    CHECK_FALSE(unquote_escaped("\"a\"b\""));  // an unescaped quote inside
    CHECK_FALSE(unquote_escaped("\"a\\\""));   // a trailing lone backslash
    CHECK_FALSE(unquote_escaped("abc"));
}

TEST_CASE("commands: request parameters split at commas outside quotes, honouring escapes")
{
    auto v = split_request_params(R"(1,"a\,b","c\"d",,"e\\",5)");
    REQUIRE(v.size() == 6);
    CHECK(v[1] == R"("a\,b")");
    CHECK(v[2] == R"("c\"d")");
    CHECK(v[3].empty());
    CHECK(v[4] == R"("e\\")");
    CHECK(split_request_params("").empty());
}

TEST_CASE("commands: response fields around a free field that may hold ',' and '\"'")
{
    auto v = split_response_fields(R"("my,"wifi"",-40,1)", 3, 0);
    REQUIRE(v);
    CHECK((*v)[0] == R"("my,"wifi"")");
    CHECK((*v)[1] == "-40");
    CHECK((*v)[2] == "1");
    CHECK_FALSE(split_response_fields("1,2", 3, 0));
    CHECK(split_response_fields("a,\"b,c\",d", 3));
}

TEST_CASE("commands: AT+CIPSENDEX data doubles every backslash; the module's reading gives it back whole")
{
    CHECK(escape_sendex_data("") == "");
    CHECK(escape_sendex_data("plain text 0") == "plain text 0");
    CHECK(escape_sendex_data("a\\0b") == "a\\\\0b");
    CHECK(escape_sendex_data("\\\\0") == "\\\\\\\\0");
    CHECK(escape_sendex_data("end\\") == "end\\\\");
    CHECK(escape_sendex_data(std::string_view("\\\0", 2)) == std::string_view("\\\\\0", 3));  // NUL is not '0'
    // The module's reading (detail/sendex_data.hpp): "\0" ends the data, "\<c>" is c.
    std::string out;
    auto r = espat::detail::read_sendex_data("ab\\\\c\\xd\\0ef", &out);
    CHECK(out == "ab\\cxd");
    CHECK(r.sent == 6);
    CHECK(r.raw_before_end == 8);
    CHECK(r.ended_early);
    out.clear();
    r = espat::detail::read_sendex_data("tail\\", &out);  // nothing after the backslash: itself
    CHECK(out == "tail\\");
    CHECK_FALSE(r.ended_early);
    // Every byte string survives the escape and the reading, at every length up to 3 over a
    // small alphabet that holds the special bytes.
    const std::string alphabet = std::string("\\0a") + '\0';
    std::vector<std::string> all{""};
    for (int len = 1; len <= 3; ++len) {
        std::vector<std::string> next;
        for (const auto& s : all)
            for (char c : alphabet) next.push_back(s + c);
        for (const auto& data : next) {
            std::string back;
            const auto read = espat::detail::read_sendex_data(escape_sendex_data(data), &back);
            CHECK(back == data);
            CHECK_FALSE(read.ended_early);
            CHECK(read.sent == data.size());
        }
        all = std::move(next);
    }
}

TEST_CASE("commands: bounded integers check their range at run time through checked()")
{
    using t = bounded<int, 0, 7200>;
    CHECK(t::checked(7200)->value() == 7200);
    CHECK_FALSE(t::checked(7201));
    CHECK_FALSE(t::checked(-1));
    constexpr t c = 10;  // a constant is checked when compiled (see tests/compile_fail)
    CHECK(c.value() == 10);
}

TEST_CASE("commands: MAC addresses and versions")
{
    auto m = mac_address::parse("62:01:94:0e:5b:28");
    REQUIRE(m);
    CHECK(m->to_string() == "62:01:94:0e:5b:28");
    CHECK(mac_address::parse("62:01:94:0E:5B:28") == m);
    CHECK_FALSE(mac_address::parse("62:01:94:0e:5b"));
    CHECK_FALSE(mac_address::parse("62-01-94-0e-5b-28"));

    auto v = version::parse("2.2.0.0(s-b097cdf - ESP8266 - Jun 17 2021)");
    REQUIRE(v);
    CHECK(*v == version{2, 2, 0, 0});
    CHECK(*version::parse("1.7.4") < *v);
    CHECK(*version::parse("3.3.0.0") > *v);
    CHECK_FALSE(version::parse("v3"));
}

TEST_CASE("commands: asctime with space- and zero-padded days")
{
    using namespace std::chrono;
    auto esp32 = asctime::parse("Thu Jan  1 00:02:08 1970");
    REQUIRE(esp32);
    CHECK(esp32->time_since_epoch() == seconds{128});
    auto esp8266 = asctime::parse("Thu Jan 01 00:00:00 1970");
    REQUIRE(esp8266);
    CHECK(esp8266->time_since_epoch() == seconds{0});
    auto doc = asctime::parse("Mon Oct 18 20:12:27 2021");
    REQUIRE(doc);
    CHECK(asctime::format(*doc) == "Mon Oct 18 20:12:27 2021");
    CHECK(asctime::format(*esp32) == "Thu Jan  1 00:02:08 1970");
    CHECK_FALSE(asctime::parse("Thu Foo  1 00:02:08 1970"));
    CHECK_FALSE(asctime::parse("Thu Feb 30 00:02:08 1970"));
    CHECK_FALSE(asctime::parse("Thu Jan  1 00:02:08"));
}

TEST_CASE("commands: addresses decode with or without quotes in responses")
{
    CHECK(ip_address::decode_response("\"119.9.92.99\"")->to_string() == "119.9.92.99");
    CHECK(ip_address::decode_response("119.9.92.99")->to_string() == "119.9.92.99");
    CHECK(ip_address::decode_response("\"fe80::1\"")->is_v6());
    CHECK_FALSE(ip_address::decode_response("\"999.1.1.1\""));
    CHECK_FALSE(ip_address::decode_request("119.9.92.99"));  // requests always quote
}

TEST_CASE("commands: a leading optional parameter disappears with its comma")
{
    CHECK(set_line({.name = "x", .port = 80}) == "AT+DEMO=\"TCP\",\"x\",80\r\n");
    CHECK(set_line({.id = link_id{3}, .name = "x", .port = 80}) == "AT+DEMO=3,\"TCP\",\"x\",80\r\n");
}

TEST_CASE("commands: an omitted middle parameter keeps its comma, trailing ones vanish")
{
    CHECK(set_line({.name = "x", .port = 80, .wait = std::chrono::seconds{5}}) == "AT+DEMO=\"TCP\",\"x\",80,,5\r\n");
    CHECK(set_line({.name = "x", .port = 80, .hue = colour::blue}) == "AT+DEMO=\"TCP\",\"x\",80,5\r\n");
}

TEST_CASE("commands: values that cannot be sent are refused, never sent")
{
    for (std::string bad : {"a\r\nAT+RST"s, "a\nb"s, "a\rb"s, "a\0b"s, std::string(33, 'x')}) {
        std::string out = "kept";
        int index = -1;
        CHECK(encode_set<demo>(out, {.name = bad, .port = 1}, &index) == errc::invalid_argument);
        CHECK(out == "kept");
        CHECK(index == 2);
    }
    std::string out;
    CHECK(encode_set<demo>(out, {.name = "x", .port = 1, .hue = static_cast<colour>(3)}) == errc::invalid_argument);
    CHECK(encode_set<demo>(out, {.name = "x", .port = 1, .wait = std::chrono::seconds{7201}}) == errc::invalid_argument);
    CHECK(out.empty());
}

TEST_CASE("commands: a line over 256 bytes is refused")
{
    std::string out;
    CHECK_FALSE(encode_set<long_cmd>(out, {.a = std::string(244, 'x')}));  // 8 + 2 + 244 + 2 = 256
    CHECK(out.size() == 256);
    out.clear();
    CHECK(encode_set<long_cmd>(out, {.a = std::string(245, 'x')}) == errc::invalid_argument);
    CHECK(out.empty());
    // Escaping counts: 200 commas become 400 bytes.
    CHECK(encode_set<long_cmd>(out, {.a = std::string(200, ',')}) == errc::invalid_argument);
}

TEST_CASE("commands: test, query and execute forms")
{
    std::string out;
    encode_test<other>(out);
    encode_query<other>(out);
    encode_execute<demo>(out);
    CHECK(out == "AT+OTHER=?\r\nAT+OTHER?\r\nAT+DEMO\r\n");
}

TEST_CASE("commands: the device decodes what the host encodes")
{
    const demo_request requests[] = {
        {.name = "x", .port = 80},
        {.id = link_id{4}, .name = "a\"b,c\\d", .port = 65535, .hue = colour::green},
        {.name = "", .port = 0, .wait = std::chrono::seconds{7200}},
    };
    for (const auto& r : requests) {
        std::string line = set_line(r);
        auto d = decode_request<device_requests>(line);
        REQUIRE(d);
        using set_request = request_of<demo, demo::set>;
        REQUIRE(espat::commands::holds_alternative<set_request>(*d));
        CHECK(d->get_if<set_request>()->params == r);
    }
    CHECK(decode_request<device_requests>("AT+OTHER=?\r\n")->index() == 3);
    CHECK(decode_request<device_requests>("AT+OTHER?")->index() == 4);
    CHECK(decode_request<device_requests>("AT+DEMO")->index() == 2);
}

TEST_CASE("commands: the device refuses what does not parse")
{
    for (auto bad : {"AT+DEMO=\"UDP\",\"x\",80"sv, "AT+DEMO=\"TCP\",\"x\""sv, "AT+DEMO=9,\"TCP\",\"x\",80"sv,
                     "AT+DEMO=\"TCP\",\"x\",80,4"sv, "AT+DEMO=\"TCP\",x,80"sv, "AT+DEMO=\"TCP\",\"x\",80,1,2,3"sv,
                     "AT+OTHER"sv, "AT+NOPE?"sv, "AT+DEMO?x"sv, "?"sv})
        CHECK_MESSAGE(!decode_request<device_requests>(bad), bad);
}

TEST_CASE("commands: responses decode, including a free field parsed from the end")
{
    response_line lines[] = {{"DEMO", R"("my,"net"",-40,5)"}, {"NOISE", "x"}, {"DEMO", R"("plain",-90)"}};
    auto v = decode_response<demo::query>(lines);
    REQUIRE(v);
    REQUIRE(v->size() == 2);
    CHECK((*v)[0] == demo_status{"my,\"net\"", -40, colour::blue});
    CHECK((*v)[1] == demo_status{"plain", -90, std::nullopt});

    std::string reply;
    encode_reply<demo::query>(reply, *v);
    CHECK(reply == "+DEMO:\"my,\"net\"\",-40,5\r\n+DEMO:\"plain\",-90\r\n");

    response_line bad[] = {{"DEMO", "\"x\",notanumber"}};
    CHECK_FALSE(decode_response<demo::query>(bad));

    response_line one_line[] = {{"OTHER", "5"}};
    CHECK(decode_response<other::query>(one_line) == colour::blue);
    CHECK_FALSE(decode_response<other::query>(std::span<const response_line>{}));
}
