// Tests of the sans-I/O parser: every form the reference and real firmware print, each one
// checked fed whole, one byte at a time and split at every point.
#include <espat/proto/parser.hpp>

#include <doctest/doctest.h>
#include <parse_every_split.hpp>
#include <recorder.hpp>

#include <algorithm>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using espat::proto::event;
using espat::proto::event_kind;
using espat::proto::parser;
using espat::proto::parser_limits;
using espat::proto::protocol_error_reason;
using espat::proto::remote_info;
using espat::test::owned_event;
using espat::test::parse_in_chunks;
using espat::test::parse_whole;
using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

// Whole, byte by byte and at every split, all agreeing (parse_every_split.hpp).
std::vector<owned_event> parse(std::string_view bytes, parser_limits limits = {})
{
    return espat::test::parse_every_split(bytes, limits);
}
using espat::test::kinds;

const owned_event& only(const std::vector<owned_event>& events)
{
    REQUIRE(events.size() == 1);
    return events.front();
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

TEST_CASE("parser: final results")
{
    CHECK(kinds(parse("\r\nOK\r\n\r\nERROR\r\nSEND OK\r\nSEND FAIL\r\nSET OK\r\nFAIL\r\n")) ==
          std::vector{event_kind::ok, event_kind::error, event_kind::send_ok, event_kind::send_fail,
                      event_kind::set_ok, event_kind::fail});
    CHECK(espat::proto::is_final(event_kind::send_fail));
    CHECK_FALSE(espat::proto::is_final(event_kind::err_code));
    CHECK_FALSE(espat::proto::is_final(event_kind::busy));
    CHECK_FALSE(espat::proto::is_final(event_kind::already_connected));
}

TEST_CASE("parser: near misses of fixed wordings are text")
{
    CHECK(kinds(parse("OK \r\nok\r\nERRORS\r\nSEND\r\nready!\r\nRecv x bytes\r\nRecv 4\r\n")) ==
          std::vector<event_kind>(7, event_kind::text));
}

TEST_CASE("parser: the 2.x prompt has no line end and is reported at once")
{
    parser p;
    espat::test::recorder r;
    p.feed("\r\nOK\r\n\r\n>"sv, r);
    CHECK(kinds(r.events) == std::vector{event_kind::ok, event_kind::prompt});
    CHECK(p.idle());
}

TEST_CASE("parser: the NONOS prompt's trailing space is part of the prompt")
{
    auto ev = parse("\r\nOK\r\n> \r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
    CHECK(kinds(ev) == std::vector{event_kind::ok, event_kind::prompt, event_kind::recv_bytes, event_kind::send_ok});
    CHECK(ev[2].value == 4);
}

TEST_CASE("parser: '>' inside a line is not a prompt")
{
    CHECK(only(parse("a>b\r\n")).kind == event_kind::text);
}

TEST_CASE("parser: echo lines, and AT+GMR's 'AT version' is not one")
{
    auto ev = parse("AT\r\nATE0\r\nAT+CIPSEND=0,8\r\nAT version:2.0.0.0(e44648c - Nov  4 2019 02:18:57)\r\n");
    CHECK(kinds(ev) == std::vector{event_kind::echo, event_kind::echo, event_kind::echo, event_kind::text});
    CHECK(ev[2].text == "AT+CIPSEND=0,8");
}

TEST_CASE("parser: very old NONOS echoes end in \\r\\r\\n")
{
    auto ev = parse("AT+CIPMUX=1\r\r\n\r\nOK\r\n");
    CHECK(kinds(ev) == std::vector{event_kind::echo, event_kind::ok});
    CHECK(ev[0].text == "AT+CIPMUX=1");
}

TEST_CASE("parser: a report injected inside an echo is split out and the echo rejoined")
{
    // From a real module: "1,CONNECT\r\n" printed while "AT+CIPSEND=0,98" was being echoed.
    auto ev = parse("AT+CIPSEND=0,1,CONNECT\r\n98\r\n\r\nOK\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::connect, event_kind::echo, event_kind::ok});
    CHECK(ev[0].link == 1);
    CHECK(ev[1].text == "AT+CIPSEND=0,98");

    SUBCASE("a report at the very end of the echo leaves the echo whole")
    {
        auto ev2 = parse("AT+CWJAP=\"a\",\"b\"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
        CHECK(kinds(ev2) == std::vector{event_kind::wifi_connected, event_kind::echo, event_kind::wifi_got_ip,
                                        event_kind::ok});
        CHECK(ev2[1].text == "AT+CWJAP=\"a\",\"b\"");
    }
}

TEST_CASE("parser: ERR CODE lines carry the code and are not final")
{
    auto ev = parse("ERR CODE:0x010b0000\r\n\r\nbusy p...\r\nERR CODE:0x01030000\r\n\r\nERROR\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::err_code, event_kind::busy, event_kind::err_code, event_kind::error});
    CHECK(ev[0].value == 0x010b0000u);
    CHECK(ev[1].value == 'p');
    CHECK(ev[2].value == 0x01030000u);
    CHECK(only(parse("ERR CODE:0xZZ\r\n")).kind == event_kind::text);
}

TEST_CASE("parser: busy s... of old NONOS")
{
    auto e = only(parse("busy s...\r\n"));
    CHECK(e.kind == event_kind::busy);
    CHECK(e.value == 's');
}

TEST_CASE("parser: status lines before results")
{
    CHECK(kinds(parse("ALREADY CONNECTED\r\n\r\nERROR\r\nlink is not valid\r\nUNLINK\r\nno change\r\nDNS Fail\r\n")) ==
          std::vector{event_kind::already_connected, event_kind::error, event_kind::link_invalid, event_kind::unlink,
                      event_kind::no_change, event_kind::dns_fail});
    auto recv = only(parse("\r\nRecv 2048 bytes\r\n"));
    CHECK(recv.kind == event_kind::recv_bytes);
    CHECK(recv.value == 2048);
}

TEST_CASE("parser: link reports with and without a link id")
{
    auto ev = parse("CONNECT\r\n3,CONNECT\r\nCLOSED\r\n4,CLOSED\r\nCONNECT FAIL\r\n2,CONNECT FAIL\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::connect, event_kind::connect, event_kind::closed, event_kind::closed,
                                     event_kind::connect_fail, event_kind::connect_fail});
    CHECK(ev[0].link == -1);
    CHECK(ev[1].link == 3);
    CHECK(ev[2].link == -1);
    CHECK(ev[3].link == 4);
    CHECK(ev[5].link == 2);
    CHECK(only(parse("12,CONNECT\r\n")).kind == event_kind::text);
}

TEST_CASE("parser: Wi-Fi and station reports")
{
    auto ev = parse("WIFI DISCONNECT\r\nready\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n"
                    "+STA_CONNECTED:\"62:01:94:0e:5b:28\"\r\n+DIST_STA_IP:\"62:01:94:0e:5b:28\",\"192.168.4.2\"\r\n"
                    "+STA_DISCONNECTED:\"62:01:94:0e:5b:28\"\r\n+TIME_UPDATED\r\n");
    CHECK(kinds(ev) == std::vector{event_kind::wifi_disconnect, event_kind::ready, event_kind::wifi_connected,
                                   event_kind::wifi_got_ip, event_kind::sta_connected, event_kind::dist_sta_ip,
                                   event_kind::sta_disconnected, event_kind::time_updated});
    CHECK(ev[5].args == "\"62:01:94:0e:5b:28\",\"192.168.4.2\"");
    for (const auto& e : ev) CHECK(espat::proto::is_report(e.kind));
}

TEST_CASE("parser: +LINK_CONN carries its status and link id")
{
    auto e = only(parse("+LINK_CONN:0,2,\"TCP\",0,\"127.0.0.1\",7007,41190\r\n"));
    CHECK(e.kind == event_kind::link_conn);
    CHECK(e.value == 0);
    CHECK(e.link == 2);
    CHECK(e.args == "0,2,\"TCP\",0,\"127.0.0.1\",7007,41190");
}

TEST_CASE("parser: +CIPUPDATE progress")
{
    auto ev = parse("+CIPUPDATE:1\r\n+CIPUPDATE:4\r\n\r\nOK\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::update_progress, event_kind::update_progress, event_kind::ok});
    CHECK(ev[1].value == 4);
}

TEST_CASE("parser: information lines split into name and args")
{
    auto ev = parse("+CIPSTA:ip:\"192.168.3.112\"\r\nSTATUS:2\r\n+CIPSTATUS:0,\"TCP\",\"1.2.3.4\",80,5000,0\r\n"
                    "+CIPSNTPTIME:Thu Jan  1 00:02:08 1970\r\n+CWMODE:1\r\n+CIPRECVLEN:100,,,,,\r\n");
    REQUIRE(ev.size() == 6);
    for (const auto& e : ev) CHECK(e.kind == event_kind::info);
    CHECK(ev[0].name == "CIPSTA");
    CHECK(ev[0].args == "ip:\"192.168.3.112\"");
    CHECK(ev[1].name == "STATUS");
    CHECK(ev[1].args == "2");
    CHECK(ev[3].args == "Thu Jan  1 00:02:08 1970");
    CHECK(ev[5].args == "100,,,,,");
}

TEST_CASE("parser: NONOS ping answers without the PING name")
{
    auto ev = parse("+24\r\n+timeout\r\n+PING:39\r\n+PING:TIMEOUT\r\n");
    REQUIRE(ev.size() == 4);
    for (const auto& e : ev) {
        CHECK(e.kind == event_kind::info);
        CHECK(e.name == "PING");
    }
    CHECK(ev[0].args == "24");
    CHECK(ev[1].args == "timeout");
    CHECK(ev[2].args == "39");
}

TEST_CASE("parser: unknown text and boot noise keep sync")
{
    std::string boot = "\x00\xff\xfe\x81 ets Jan  8 2013\r\n\x9c\xe2\r\nlocal port:2390\r\nto read 41 bytes\r\n\r\nready\r\n"s;
    auto ev = parse(boot);
    CHECK(kinds(ev) == std::vector{event_kind::noise, event_kind::noise, event_kind::text, event_kind::text,
                                   event_kind::ready});
}

TEST_CASE("parser: boot garbage running straight into ready")
{
    auto ev = parse("\xa5\x13\xffready\r\n"s);
    REQUIRE(kinds(ev) == std::vector{event_kind::noise, event_kind::ready});
    CHECK(ev[0].text == "\xa5\x13\xff"s);
}

TEST_CASE("parser: active +IPD, single and multi link")
{
    auto ev = parse("\r\n+IPD,4:test\r\n+IPD,0,8:test,28,\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::ipd, event_kind::ipd});
    CHECK(ev[0].link == -1);
    CHECK(ev[0].value == 4);
    CHECK(ev[0].payload == "test");
    CHECK(ev[1].link == 0);
    CHECK(ev[1].payload == "test,28,");
    CHECK_FALSE(ev[1].remote_host.size());
}

TEST_CASE("parser: +IPD with remote address, quoted (2.x) and bare (NONOS)")
{
    auto ev = parse("+IPD,4,5,\"192.168.1.48\",65267:hello\r\n+IPD,0,5,192.168.3.137,8080:world"
                    "+IPD,3,\"10.0.0.1\",53:abc+IPD,2,\"fe80::1:2\",443:xy\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::ipd, event_kind::ipd, event_kind::ipd, event_kind::ipd});
    CHECK(ev[0].link == 4);
    CHECK(ev[0].remote_host == "192.168.1.48");
    CHECK(ev[0].remote_port == 65267);
    CHECK(ev[0].payload == "hello");
    CHECK(ev[1].remote_host == "192.168.3.137");
    CHECK(ev[1].remote_port == 8080);
    CHECK(ev[1].payload == "world");
    CHECK(ev[2].link == -1);
    CHECK(ev[2].value == 3);
    CHECK(ev[2].remote_host == "10.0.0.1");
    CHECK(ev[3].remote_host == "fe80::1:2");  // the ':' inside the quotes does not end the header
    CHECK(ev[3].payload == "xy");
}

TEST_CASE("parser: passive +IPD notifications")
{
    auto ev = parse("\r\n+IPD,4\r\n+IPD,1,5744\r\n+IPD,0,100,\"192.168.1.48\",65267\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::ipd_notify, event_kind::ipd_notify, event_kind::ipd_notify});
    CHECK(ev[0].link == -1);
    CHECK(ev[0].value == 4);
    CHECK(ev[1].link == 1);
    CHECK(ev[1].value == 5744);
    CHECK(ev[2].remote_port == 65267);
}

TEST_CASE("parser: a payload is counted, never scanned")
{
    std::string payload;
    for (int b = 0; b < 256; ++b) payload += static_cast<char>(b);
    payload += "\r\nOK\r\n+IPD,0,5:>\r\nSEND OK\r\n0,CLOSED\r\n"s;
    std::string stream = "+IPD,1," + std::to_string(payload.size()) + ":" + payload + "\r\n\r\nOK\r\n";
    auto ev = parse(stream);
    REQUIRE(kinds(ev) == std::vector{event_kind::ipd, event_kind::ok});
    CHECK(ev[0].payload == payload);
}

TEST_CASE("parser: what follows a payload with no line end (NONOS, ESP32 1.x)")
{
    auto ev = parse("+IPD,0,2:{}0,CLOSED\r\n+IPD,1,3:abc+IPD,1,1:d\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::ipd, event_kind::closed, event_kind::ipd, event_kind::ipd});
    CHECK(ev[0].payload == "{}");
    CHECK(ev[1].link == 0);
    CHECK(ev[2].payload == "abc");
    CHECK(ev[3].payload == "d");
}

TEST_CASE("parser: +IPD between the prompt and Recv")
{
    auto ev = parse("\r\nOK\r\n\r\n>\r\n+IPD,0,3:abc\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
    CHECK(kinds(ev) == std::vector{event_kind::ok, event_kind::prompt, event_kind::ipd, event_kind::recv_bytes,
                                   event_kind::send_ok});
}

TEST_CASE("parser: a zero-length +IPD is a frame with an empty payload")
{
    auto ev = parse("+IPD,0,0:\r\nOK\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::ipd, event_kind::ok});
    CHECK(ev[0].payload.empty());
}

TEST_CASE("parser: +CIPRECVDATA without and with the remote address")
{
    auto plain = parse("+CIPRECVDATA:4,test\r\nOK\r\n");
    REQUIRE(kinds(plain) == std::vector{event_kind::recv_data, event_kind::ok});
    CHECK(plain[0].payload == "test");
    CHECK(plain[0].link == -1);

    auto remote = parse("+CIPRECVDATA:22,\"127.0.0.1\",7007,0123456789\r\nabcdefghij\r\n\r\nOK\r\n");
    REQUIRE(kinds(remote) == std::vector{event_kind::recv_data, event_kind::ok});
    CHECK(remote[0].remote_host == "127.0.0.1");
    CHECK(remote[0].remote_port == 7007);
    CHECK(remote[0].payload == "0123456789\r\nabcdefghij");
}

TEST_CASE("parser: NONOS 1.7 +CIPRECVDATA,<len>:")
{
    auto ev = parse("+CIPRECVDATA,5:he\r\no\r\nOK\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::recv_data, event_kind::ok});
    CHECK(ev[0].payload == "he\r\no");
}

TEST_CASE("parser: the session says whether +CIPRECVDATA carries the address")
{
    const auto stream = "+CIPRECVDATA:4,\"ab\"\r\nOK\r\n"sv;
    parser p;
    espat::test::recorder r;
    p.set_recv_data_remote(remote_info::absent);  // CIPDINFO=0: a leading '"' is data
    p.feed(stream, r);
    REQUIRE(kinds(r.events) == std::vector{event_kind::recv_data, event_kind::ok});
    CHECK(r.events[0].payload == "\"ab\"");

    parser q;
    espat::test::recorder r2;
    q.set_recv_data_remote(remote_info::present);  // CIPDINFO=1 with a bare address
    q.feed("+CIPRECVDATA:2,10.1.2.3,99,hi\r\nOK\r\n"sv, r2);
    REQUIRE(kinds(r2.events) == std::vector{event_kind::recv_data, event_kind::ok});
    CHECK(r2.events[0].remote_host == "10.1.2.3");
    CHECK(r2.events[0].payload == "hi");
}

TEST_CASE("parser: a +CIPRECVDATA longer than requested is a protocol error")
{
    parser p;
    espat::test::recorder r;
    p.expect_recv_data(3);
    p.feed("+CIPRECVDATA:4,test\r\nOK\r\n"sv, r);
    REQUIRE(kinds(r.events) == std::vector{event_kind::protocol_error, event_kind::ok});
    CHECK(r.events[0].value == static_cast<unsigned>(protocol_error_reason::frame_too_long));

    // The request applies to one frame only.
    r.events.clear();
    p.feed("+CIPRECVDATA:4,test\r\nOK\r\n"sv, r);
    CHECK(kinds(r.events) == std::vector{event_kind::recv_data, event_kind::ok});
}

TEST_CASE("parser: an over-long line is dropped and the next line parsed")
{
    parser_limits limits;
    limits.max_line = 16;
    // The limit counts the line's '\r': 15 characters plus "\r" fit in 16.
    auto ev = parse("0123456789abcdefXYZ\r\nOK\r\n0123456789abcde\r\n", limits);
    REQUIRE(kinds(ev) == std::vector{event_kind::protocol_error, event_kind::ok, event_kind::text});
    CHECK(ev[0].value == static_cast<unsigned>(protocol_error_reason::line_too_long));
}

TEST_CASE("parser: memory stays bounded when a line never ends")
{
    parser p;
    espat::test::recorder r;
    const std::string junk(64 * 1024, 'x');
    for (int i = 0; i < 160; ++i) p.feed(junk, r);  // 10 MiB with no line end
    p.feed("\r\nOK\r\n"sv, r);
    CHECK(kinds(r.events) == std::vector{event_kind::protocol_error, event_kind::ok});
}

TEST_CASE("parser: impossible +IPD lengths and bad headers resynchronise at the next line")
{
    auto ev = parse("+IPD,0,2921:abc\r\nOK\r\n+IPD,x,4:abcd\r\nERROR\r\n+IPD,0,99999999999:\r\nOK\r\n"
                    "+IPD,0,4,\"1.2.3.4\",99999:abcd\r\nOK\r\n+IPD,1,2,3,4,5:ab\r\nOK\r\n+IPD,9\r\n");
    CHECK(kinds(ev) == std::vector{event_kind::protocol_error, event_kind::ok, event_kind::protocol_error,
                                   event_kind::error, event_kind::protocol_error, event_kind::ok,
                                   event_kind::protocol_error, event_kind::ok, event_kind::protocol_error,
                                   event_kind::ok, event_kind::ipd_notify});
    CHECK(ev[0].value == static_cast<unsigned>(protocol_error_reason::frame_too_long));
    CHECK(ev[2].value == static_cast<unsigned>(protocol_error_reason::bad_frame_header));
}

TEST_CASE("parser: a bad passive notification does not swallow the next line")
{
    auto ev = parse("+IPD,a,b\r\nOK\r\n");
    CHECK(kinds(ev) == std::vector{event_kind::protocol_error, event_kind::ok});
}

TEST_CASE("parser: a header that never ends is bounded")
{
    std::string stream = "+IPD," + std::string(200, '1') + "\r\nOK\r\n";
    CHECK(kinds(parse(stream)) == std::vector{event_kind::protocol_error, event_kind::ok});
    std::string recv = "+CIPRECVDATA:" + std::string(50, '7') + ",x\r\nOK\r\n";
    CHECK(kinds(parse(recv)) == std::vector{event_kind::protocol_error, event_kind::ok});
}

TEST_CASE("parser: payloads are views into the caller's buffer when contiguous")
{
    const std::string stream = "\r\n+IPD,0,10:0123456789\r\n";
    parser p;
    bool in_place = false;
    p.feed(stream, [&](const event& e) {
        if (e.kind == event_kind::ipd)
            in_place = e.payload.data() >= stream.data() && e.payload.data() + e.payload.size() <= stream.data() + stream.size();
    });
    CHECK(in_place);

    // Split inside the payload: gathered, then handed out whole.
    parser q;
    std::string got;
    bool gathered = false;
    auto h = [&](const event& e) {
        if (e.kind != event_kind::ipd) return;
        got = std::string(e.payload);
        gathered = e.payload.data() < stream.data() || e.payload.data() >= stream.data() + stream.size();
    };
    q.feed(std::string_view(stream).substr(0, 15), h);
    CHECK(got.empty());
    q.feed(std::string_view(stream).substr(15), h);
    CHECK(got == "0123456789");
    CHECK(gathered);
}

TEST_CASE("parser: passthrough mode hands every byte out as data")
{
    parser p;
    espat::test::recorder r;
    p.feed("\r\nOK\r\n\r\n>"sv, r);
    p.set_passthrough(true);
    CHECK(p.passthrough());
    p.feed("OK\r\n+IPD,0,1:x"sv, r);
    p.feed("\xff"sv, r);
    p.set_passthrough(false);
    p.feed("\r\nOK\r\n"sv, r);
    REQUIRE(kinds(r.events) == std::vector{event_kind::ok, event_kind::prompt, event_kind::raw_data, event_kind::ok});
    CHECK(r.events[2].payload == "OK\r\n+IPD,0,1:x\xff"s);
}

TEST_CASE("parser: reset forgets a partial frame")
{
    parser p;
    espat::test::recorder r;
    p.feed("+IPD,0,100:abc"sv, r);
    CHECK_FALSE(p.idle());
    p.reset();
    CHECK(p.idle());
    p.feed("ready\r\n"sv, r);
    CHECK(kinds(r.events) == std::vector{event_kind::ready});
}

TEST_CASE("parser: random splits of a long mixed stream agree with a whole feed")
{
    std::string stream;
    std::mt19937 rng(12345);
    const char* lines[] = {"\r\nOK\r\n", "ERR CODE:0x010b0000\r\n\r\nbusy p...\r\n", "\r\n>", "> ",
                           "AT+CIPSEND=0,1,CONNECT\r\n98\r\n", "+CIPSTA:ip:\"1.2.3.4\"\r\n", "0,CLOSED\r\n",
                           "+IPD,2,4\r\n", "\xff\xfe\r\n", "WIFI GOT IP\r\n", "+CIPRECVDATA:3,\"1.2.3.4\",5,a\nb\r\n"};
    for (int i = 0; i < 400; ++i) {
        if (rng() % 3 == 0) {
            std::size_t n = rng() % 300;
            std::string payload;
            for (std::size_t j = 0; j < n; ++j) payload += static_cast<char>(rng());
            stream += "+IPD," + std::to_string(rng() % 5) + "," + std::to_string(n) + ":" + payload;
        } else {
            stream += lines[rng() % std::size(lines)];
        }
    }
    auto whole = parse_whole(stream);
    CHECK(whole.size() > 400);
    for (int round = 0; round < 50; ++round) {
        std::mt19937 sizes(static_cast<unsigned>(round));
        auto split = parse_in_chunks(stream, [&] { return std::size_t{1} + sizes() % (round < 25 ? 8 : 600); });
        REQUIRE(split == whole);
    }
    CHECK(parse_in_chunks(stream, [] { return std::size_t{1}; }) == whole);
}

TEST_CASE("parser: a rejoined echo never exceeds the line limit")
{
    parser_limits limits;
    limits.max_line = 32;
    auto ev = parse("AT+CIPSENDEX=0,1,CONNECT\r\nYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY\r\n", limits);
    REQUIRE(kinds(ev) == std::vector{event_kind::connect, event_kind::echo, event_kind::text});
    CHECK(ev[1].text == "AT+CIPSENDEX=0,");
    for (const auto& e : ev) CHECK(e.text.size() <= 32);
}

TEST_CASE("parser: a line limit below the longest frame prefix is raised to it")
{
    parser_limits limits;
    limits.max_line = 5;
    parser p(limits);
    CHECK(p.limits().max_line == 13);
    CHECK(kinds(parse("+CIPRECVDATA,1:x\r\nOK\r\n", limits)) == std::vector{event_kind::recv_data, event_kind::ok});
    CHECK(kinds(parse("+CIPRE\nOK\n", limits)) == std::vector{event_kind::info, event_kind::ok});
}

TEST_CASE("parser: an echo held for its rest is released by an empty line, a prompt or a frame")
{
    // The report came after the whole echo: the echo's own "\r\n" follows the report's.
    auto ev = parse("AT+CIPSEND=0,41,CONNECT\r\n\r\n+IPD,1,5:hello\r\n\r\nOK\r\n");
    REQUIRE(kinds(ev) == std::vector{event_kind::connect, event_kind::echo, event_kind::ipd, event_kind::ok});
    CHECK(ev[1].text == "AT+CIPSEND=0,4");

    auto prompt = parse("AT+CIPSEND=0,1,CONNECT\r\n>");
    REQUIRE(kinds(prompt) == std::vector{event_kind::connect, event_kind::echo, event_kind::prompt});
    CHECK(prompt[1].text == "AT+CIPSEND=0,");

    auto frame = parse("AT+CIPSEND=0,1,CONNECT\r\n+IPD,1,2:ab\r\n");
    CHECK(kinds(frame) == std::vector{event_kind::connect, event_kind::echo, event_kind::ipd});
}

TEST_CASE("parser: flush hands out a held echo at the end of the input")
{
    parser p;
    espat::test::recorder r;
    p.feed("AT+CIPSEND=0,1,CONNECT\r\n"sv, r);
    CHECK(kinds(r.events) == std::vector{event_kind::connect});
    CHECK_FALSE(p.idle());
    p.flush(r);
    CHECK(kinds(r.events) == std::vector{event_kind::connect, event_kind::echo});
    CHECK(p.idle());
    p.flush(r);  // nothing more
    CHECK(r.events.size() == 2);
}

TEST_CASE("parser: a held echo ends before an over-long line's protocol error, however split")
{
    parser_limits limits;
    limits.max_line = 16;
    auto ev = parse("ATECONNECT\r\n\r01234567890123456789\nOK\r\n", limits);
    CHECK(kinds(ev) == std::vector{event_kind::connect, event_kind::echo, event_kind::protocol_error, event_kind::ok});
}

// ---- a wire that loses or doubles bytes -----------------------------------------------------

namespace {
std::uint32_t reason(protocol_error_reason r) { return static_cast<std::uint32_t>(r); }
}  // namespace

TEST_CASE("parser: a +IPD payload with a doubled or a lost byte is dropped with an error for its link")
{
    // Doubled: the announced 5 bytes end one early, and "e" is not what may follow a payload.
    auto doubled = parse("\r\n+IPD,3,5:abccde\r\n\r\n+IPD,1,3:xyz\r\n");
    REQUIRE(kinds(doubled) == std::vector{event_kind::protocol_error, event_kind::text, event_kind::ipd});
    CHECK(doubled[0].value == reason(protocol_error_reason::frame_trailer));
    CHECK(doubled[0].link == 3);
    CHECK(doubled[0].name == "IPD");
    CHECK(doubled[2].link == 1);  // the next frame is intact and comes through
    CHECK(doubled[2].payload == "xyz");

    // Lost: the payload takes the CR of the line end, and a lone LF is not a line end.
    auto lost = parse("\r\n+IPD,3,5:abce\r\n\r\n+IPD,1,3:xyz\r\n");
    REQUIRE(kinds(lost) == std::vector{event_kind::protocol_error, event_kind::ipd});
    CHECK(lost[0].link == 3);
    CHECK(lost[1].payload == "xyz");

    // Every byte value: a lost byte anywhere in the payload is seen.
    std::string payload;
    for (int b = 0; b < 256; ++b) payload += static_cast<char>(b);
    for (std::size_t at = 0; at < payload.size(); at += 17) {
        std::string damaged = payload;
        damaged.erase(at, 1);
        const auto ev = parse_whole("+IPD,0,256:" + damaged + "\r\n+IPD,0,1:x\r\n");
        INFO("lost byte " << at);
        REQUIRE_FALSE(ev.empty());
        CHECK(ev.front().kind == event_kind::protocol_error);
        CHECK(std::none_of(ev.begin(), ev.end(), [](const owned_event& e) { return e.kind == event_kind::ipd && e.value == 256; }));
    }
}

TEST_CASE("parser: a +CIPRECVDATA payload must be followed by CR LF")
{
    auto doubled = parse("+CIPRECVDATA:5,abccde\r\nOK\r\n");
    REQUIRE(kinds(doubled) == std::vector{event_kind::protocol_error, event_kind::text, event_kind::ok});
    CHECK(doubled[0].value == reason(protocol_error_reason::frame_trailer));
    CHECK(doubled[0].name == "CIPRECVDATA");
    auto lost = parse("+CIPRECVDATA,5:abce\r\nOK\r\n");
    REQUIRE(kinds(lost) == std::vector{event_kind::protocol_error, event_kind::ok});
    // NONOS glues nothing to a +CIPRECVDATA payload: a report right after it is an error too.
    CHECK(kinds(parse("+CIPRECVDATA:2,ab0,CLOSED\r\nOK\r\n")).front() == event_kind::protocol_error);
    CHECK(kinds(parse("+CIPRECVDATA:2,ab\r\nOK\r\n")) == std::vector{event_kind::recv_data, event_kind::ok});
}

TEST_CASE("parser: what may follow a +IPD payload with no line end: frames, reports, an echo")
{
    auto ev = parse("+IPD,0,1:a+IPD,0,1:b1,CLOSED\r\n+IPD,0,1:cCLOSED\r\n+IPD,0,1:dWIFI DISCONNECT\r\n"
                    "+IPD,0,1:eAT+CIPSEND=0,4\r\n+IPD,0,1:fready\r\n+IPD,0,1:g+LINK_CONN:0,1,\"TCP\",0,\"1.2.3.4\",5,6\r\n");
    CHECK(kinds(ev) == std::vector{event_kind::ipd, event_kind::ipd, event_kind::closed, event_kind::ipd,
                                   event_kind::closed, event_kind::ipd, event_kind::wifi_disconnect, event_kind::ipd,
                                   event_kind::echo, event_kind::ipd, event_kind::ready, event_kind::ipd,
                                   event_kind::link_conn});
    // Near misses are not: a doubled digit, a CLOSED without its line end, a lone LF.
    for (const char* after : {"00,CLOSED\r\n", "CLOSEDX", "\n", "\r\r\n", "ATx", "+IPDX"}) {
        INFO("after the payload: " << after);
        CHECK(kinds(parse("+IPD,0,1:a"s + after)).front() == event_kind::protocol_error);
    }
}

TEST_CASE("parser: a frame whose chunk ends with its payload is held for what follows")
{
    parser p;
    espat::test::recorder r;
    p.feed("+IPD,2,5:hello"sv, r);
    CHECK(r.events.empty());
    CHECK(p.frame_held());
    CHECK_FALSE(p.idle());
    p.feed("\r"sv, r);  // still undecided: the buffer it pointed into is gone, the copy is kept
    CHECK(r.events.empty());
    p.feed("\n+IPD,2,1:x"sv, r);
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0].payload == "hello");
    p.feed("0,CL"sv, r);  // NONOS: a report glued to the payload, split too
    CHECK(r.events.size() == 1);
    p.feed("OSED\r\n"sv, r);
    CHECK(kinds(r.events) == std::vector{event_kind::ipd, event_kind::ipd, event_kind::closed});
    CHECK(p.idle());
}

TEST_CASE("parser: a zero-length frame whose header ends the chunk is held like any other (found by fuzz_parser)")
{
    // Byte by byte, the header's ':' ended the last chunk with nothing of the (empty) payload
    // left to come: the frame must be held for what follows, as it is when the header and the
    // next bytes come in one chunk, or the session's frame hold never hands it out.
    for (const bool byte_by_byte : {false, true}) {
        INFO("byte by byte: " << byte_by_byte);
        parser p;
        espat::test::recorder r;
        const std::string_view frame = "+IPD,3,0:";
        if (byte_by_byte)
            for (const char c : frame) p.feed(std::string_view(&c, 1), r);
        else
            p.feed(frame, r);
        CHECK(r.events.empty());
        CHECK(p.frame_held());
        p.feed("\r\n"sv, r);
        REQUIRE(r.events.size() == 1);
        CHECK(r.events[0].kind == event_kind::ipd);
        CHECK(r.events[0].link == 3);
        CHECK(r.events[0].payload.empty());
        CHECK(p.idle());
    }
}

TEST_CASE("parser: a held frame released on silence is still judged by what comes later")
{
    parser p;
    espat::test::recorder r;
    p.feed("+IPD,2,5,\"10.0.0.7\",80:hello"sv, r);
    p.release_held_frame(r);  // the line went quiet (the session's frame hold time)
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0].payload == "hello");
    CHECK(r.events[0].remote_host == "10.0.0.7");
    CHECK_FALSE(p.frame_held());
    p.release_held_frame(r);  // once only
    CHECK(r.events.size() == 1);
    p.feed("o+IPD,2,1:x\r\n"sv, r);  // the payload had one more byte: late, but not silent
    REQUIRE(kinds(r.events) == std::vector{event_kind::ipd, event_kind::protocol_error, event_kind::protocol_error});
    CHECK(r.events[1].value == reason(protocol_error_reason::frame_trailer));
    CHECK(r.events[1].link == 2);
    CHECK(r.events[2].value == reason(protocol_error_reason::damaged_frame));  // "o+IPD..." lost a frame
}

TEST_CASE("parser: what is left of a damaged +IPD header is a protocol error, not text")
{
    for (const char* damaged : {"IPD,0,5:hello", "+PD,0,5:hello", "+ID,0,5:hello", "+IP,0,5:hello", "+IPD0,5:hello",
                                "++IPD,0,5:hello", "+IIPD,0,5:hello", "+IPPD,0,5:hello", "+IPDD,0,5:hello"}) {
        INFO(damaged);
        auto ev = parse("\r\n"s + damaged + "\r\nOK\r\n");
        REQUIRE(kinds(ev) == std::vector{event_kind::protocol_error, event_kind::ok});
        CHECK(ev[0].value == reason(protocol_error_reason::damaged_frame));
        CHECK(ev[0].link == -1);
    }
    // Text that merely names a command is text.
    CHECK(kinds(parse("AT version:2.2.0.0 +CIPDINFO\r\n")) == std::vector{event_kind::text});
}

TEST_CASE("parser: a lost LF before a frame leaves a lone CR, which starts nothing")
{
    auto ev = parse("OK\r\n\r+IPD,0,3:abc\r\n\r\r\nOK\r\n");
    CHECK(kinds(ev) == std::vector{event_kind::ok, event_kind::ipd, event_kind::ok});
}

TEST_CASE("parser: a bad header is attributed to its link unless it swallowed another frame")
{
    auto ev = parse("+IPD,1,5hello\r\n+IPD,2,5hello+IPD,3,2:ab\r\n+IPD,4,5:hello");
    REQUIRE(ev.size() >= 2);
    CHECK(ev[0].kind == event_kind::protocol_error);
    CHECK(ev[0].link == 1);
    CHECK(ev[1].kind == event_kind::protocol_error);
    CHECK(ev[1].link == -1);  // link 3's frame went into link 2's broken header
    // The bytes a bad header's resynchronisation drops are searched for frames too.
    auto dropped = parse("+IPD,1,x:ab+IPD,3,2:ab\r\nOK\r\n");
    REQUIRE_FALSE(dropped.empty());
    CHECK(std::any_of(dropped.begin(), dropped.end(), [](const owned_event& e) {
        return e.kind == event_kind::protocol_error && e.value == reason(protocol_error_reason::damaged_frame);
    }));
}

TEST_CASE("parser: the rest of an echo may follow a +IPD payload printed inside it")
{
    parser p;
    espat::test::recorder r;
    const std::string line = "AT+CIPSEND=0,5";
    p.feed("AT+CIP\r\n+IPD,1,2:ab"sv, r);
    p.expect_echo_rest(std::string_view(line).substr(6));
    p.feed("SEND=0,5\r\n"sv, r);
    CHECK(kinds(r.events) == std::vector{event_kind::echo, event_kind::ipd, event_kind::text});
}
