// commands/describe.hpp: typed answers decoded from real module replies, as one line of JSON
// text each, checked byte for byte; and every response form of the table renders, valid JSON.
#include <espat/commands/describe.hpp>
#include <espat/commands/host.hpp>
#include <espat/commands/table.hpp>
#include <espat/proto/parser.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace cmd = espat::commands;
using namespace std::chrono_literals;

namespace {

// A reply's information and text lines as the session collects them, through the real parser.
struct reply {
    std::vector<std::pair<std::string, std::string>> owned;  // name, args (event views are short-lived)
    std::vector<cmd::response_line> lines;
};

reply parse(std::string_view bytes)
{
    reply r;
    espat::proto::parser p;
    auto on_event = [&](const espat::proto::event& e) {
        using espat::proto::event_kind;
        if (e.kind == event_kind::info) r.owned.emplace_back(e.name, e.args);
        else if (e.kind == event_kind::text) r.owned.emplace_back(std::string(), e.text);
        else FAIL("not a response line: ", to_string(e.kind));
    };
    p.feed(bytes, on_event);
    p.flush(on_event);
    for (const auto& [name, args] : r.owned) r.lines.push_back({name, args});
    return r;
}

// The reply decoded as Form's typed answer, described; "(does not decode)" when it does not.
template <class Form>
std::string described(std::string_view bytes)
{
    const reply r = parse(bytes);
    const auto v = cmd::decode_response<Form>(r.lines);
    if (!v) return "(does not decode)";
    return cmd::describe<typename Form::response>(*v);
}

template <class Form>
std::string described_lines(std::span<const cmd::response_line> lines)
{
    const auto v = cmd::decode_response<Form>(lines);
    if (!v) return "(does not decode)";
    return cmd::describe<typename Form::response>(*v);
}

// Whether s is one JSON value and nothing else (RFC 8259 grammar, no whitespace: describe
// writes none).
class json_checker {
public:
    static bool valid(std::string_view s)
    {
        json_checker c{s};
        return c.value() && c.i_ == s.size();
    }

private:
    explicit json_checker(std::string_view s) : s_(s) {}

    bool eat(char c)
    {
        if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
        return false;
    }
    bool word(std::string_view w)
    {
        if (s_.substr(i_, w.size()) != w) return false;
        i_ += w.size();
        return true;
    }
    bool value()
    {
        if (i_ >= s_.size() || ++depth_ > 64) return false;
        bool ok = false;
        switch (s_[i_]) {
        case '{': ok = members('}', true); break;
        case '[': ok = members(']', false); break;
        case '"': ok = string(); break;
        case 't': ok = word("true"); break;
        case 'f': ok = word("false"); break;
        case 'n': ok = word("null"); break;
        default: ok = number(); break;
        }
        --depth_;
        return ok;
    }
    bool members(char close, bool keyed)
    {
        ++i_;
        if (eat(close)) return true;
        do {
            if (keyed && !(string() && eat(':'))) return false;
            if (!value()) return false;
        } while (eat(','));
        return eat(close);
    }
    bool string()
    {
        if (!eat('"')) return false;
        while (i_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[i_++]);
            if (c == '"') return true;
            if (c < 0x20) return false;
            if (c != '\\') continue;
            if (i_ >= s_.size()) return false;
            const char e = s_[i_++];
            if (e == 'u') {
                for (int k = 0; k < 4; ++k)
                    if (i_ >= s_.size() || espat::detail::hex_value(s_[i_++]) < 0) return false;
            } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
                return false;
            }
        }
        return false;
    }
    bool number()
    {
        eat('-');
        const std::size_t start = i_;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
        return i_ > start && (i_ - start == 1 || s_[start] != '0');
    }

    std::string_view s_;
    std::size_t i_ = 0;
    int depth_ = 0;
};

// Every form of every descriptor of the table: its response shape is one describe() knows, and
// describe<Shape> is instantiated here, so a new shape or value type without a rendering does
// not compile.
template <class... C>
struct every_response {
    template <class Form>
    static constexpr bool describable()
    {
        static_assert(cmd::describable_shape<typename Form::response>, "a response shape describe() does not know");
        return true;
    }
    template <class D>
    static constexpr bool forms_describable()
    {
        if constexpr (cmd::has_test<D>) describable<typename D::test>();
        if constexpr (cmd::has_query<D>) describable<typename D::query>();
        if constexpr (cmd::has_set<D>) describable<typename D::set>();
        if constexpr (cmd::has_execute<D>) describable<typename D::execute>();
        return true;
    }
    static constexpr bool value = (forms_describable<C>() && ...);

    struct rendered {
        std::string what;
        std::string text;
    };

    // The value-initialised answer of every form, described (every optional empty, every list
    // empty, every number 0); and where the answer is a list or an optional, also one holding a
    // value-initialised item, so the items' shapes render too.
    static std::vector<rendered> render_defaults()
    {
        std::vector<rendered> out;
        auto one = [&]<class D, class Form>(D*, Form*, std::string_view form) {
            using Shape = typename Form::response;
            using V = typename Shape::value_type;
            const std::string what = std::string(D::command) + " " + std::string(form);
            out.push_back({what, cmd::describe<Shape>(V{})});
            if constexpr (requires { typename V::value_type; } && !std::is_same_v<V, std::string>)
                out.push_back({what + " (one item)", cmd::describe<Shape>(V{typename V::value_type{}})});
        };
        auto forms = [&]<class D>(D*) {
            if constexpr (cmd::has_test<D>) one(static_cast<D*>(nullptr), static_cast<typename D::test*>(nullptr), "test");
            if constexpr (cmd::has_query<D>) one(static_cast<D*>(nullptr), static_cast<typename D::query*>(nullptr), "query");
            if constexpr (cmd::has_set<D>) one(static_cast<D*>(nullptr), static_cast<typename D::set*>(nullptr), "set");
            if constexpr (cmd::has_execute<D>)
                one(static_cast<D*>(nullptr), static_cast<typename D::execute*>(nullptr), "execute");
        };
        (forms(static_cast<C*>(nullptr)), ...);
        return out;
    }
};

}  // namespace

static_assert(cmd::all_commands<every_response>::value);

// Member names come from the member pointers, at compile time, on g++ and clang alike.
static_assert(cmd::detail::member_name<&espat::station_connection::ssid> == "ssid");
static_assert(cmd::detail::member_name<&espat::access_point::auth> == "auth");  // offset 0
static_assert(cmd::detail::member_name<&espat::station_addresses::ipv6_link_local> == "ipv6_link_local");
static_assert(cmd::detail::member_name<&espat::connection_status::links> == "links");

TEST_CASE("describe: a line of several fields, every one present (AT+UART_CUR?, AT+CWJAP? on ESP32 2.x)")
{
    CHECK(described<cmd::uart_cur::query>("+UART_CUR:115200,8,1,0,3\r\n") ==
          R"({"baud_rate":115200,"data_bits":8,"stop_bits":1,"parity":0,"flow_control":3})");
    CHECK(described<cmd::cwjap::query>("+CWJAP:\"espressif\",\"24:0a:c4:10:20:30\",6,-45,0,1,3,0,1\r\n") ==
          R"({"ssid":"espressif","bssid":"24:0a:c4:10:20:30","channel":6,"rssi":-45,"pci_authentication":false,)"
          R"("reconnect_interval":"1s","listen_interval":3,"scan_mode":0,"pmf":1})");
}

TEST_CASE("describe: optional fields a firmware does not print are null (NONOS AT+CWJAP?, ESP8266 AT+RFPOWER?)")
{
    CHECK(described<cmd::cwjap::query>("+CWJAP:\"home\",\"aa:bb:cc:dd:ee:ff\",11,-70\r\n") ==
          R"({"ssid":"home","bssid":"aa:bb:cc:dd:ee:ff","channel":11,"rssi":-70,"pci_authentication":null,)"
          R"("reconnect_interval":null,"listen_interval":null,"scan_mode":null,"pmf":null})");
    CHECK(described<cmd::rfpower::query>("+RFPOWER:78\r\n") ==
          R"({"wifi":78,"ble_advertising":null,"ble_scan":null,"ble_connection":null})");
    // Not joined: no +CWJAP line at all.
    CHECK(described<cmd::cwjap::query>("") == "null");
    CHECK(described<cmd::cwsap::query>("+CWSAP:\"ESP_SIM\",\"\",1,0\r\n") ==
          R"({"ssid":"ESP_SIM","password":"","channel":1,"encryption":0,"max_connections":null,"ssid_hidden":null})");
}

TEST_CASE("describe: key lines (AT+CIPSTA?, AT+CIFSR), named by member, both AT+CIFSR layouts alike")
{
    CHECK(described<cmd::cipsta::query>("+CIPSTA:ip:\"192.168.4.2\"\r\n+CIPSTA:gateway:\"192.168.4.1\"\r\n"
                                        "+CIPSTA:netmask:\"255.255.255.0\"\r\n") ==
          R"({"ip":"192.168.4.2","gateway":"192.168.4.1","netmask":"255.255.255.0","ipv6_link_local":null,)"
          R"("ipv6_global":null})");
    CHECK(described<cmd::cipsta::query>("+CIPSTA:ip:\"10.0.0.7\"\r\n+CIPSTA:ip6ll:\"fe80::260a:c4ff:fe00:1\"\r\n") ==
          R"({"ip":"10.0.0.7","gateway":null,"netmask":null,"ipv6_link_local":"fe80::260a:c4ff:fe00:1","ipv6_global":null})");
    const std::string keyed = described<cmd::cifsr::execute>("+CIFSR:STAIP,\"192.168.4.2\"\r\n");
    CHECK(keyed == R"({"ap_ip":null,"ap_mac":null,"sta_ip":"192.168.4.2","sta_mac":null})");
    // The older bare form: the SoftAP's address line, then the station's.
    CHECK(described<cmd::cifsr::execute>("+CIFSR:0.0.0.0\r\n+CIFSR:192.168.4.2\r\n") ==
          R"({"ap_ip":"0.0.0.0","ap_mac":null,"sta_ip":"192.168.4.2","sta_mac":null})");
    CHECK(described<cmd::cipdns::query>("+CIPDNS:208.67.222.222\r\n") ==
          R"({"mode":null,"dns1":"208.67.222.222","dns2":null,"dns3":null})");
}

TEST_CASE("describe: lists of lines (AT+CWLAP, AT+CIPSTATE?) and a record of two shapes (AT+CIPSTATUS)")
{
    CHECK(described<cmd::cwlap::execute>("+CWLAP:(3,\"espressif\",-45,\"24:0a:c4:10:20:30\",6,0,0,4,4,7,0)\r\n"
                                         "+CWLAP:(0,\"guest\",-80,\"24:0a:c4:10:20:31\",11,0,0,0,0,7,1)\r\n") ==
          R"([{"auth":3,"ssid":"espressif","rssi":-45,"bssid":"24:0a:c4:10:20:30","channel":6,"freq_offset":0,)"
          R"("freq_calibration":0,"pairwise_cipher":4,"group_cipher":4,"phy_modes":7,"wps":false},)"
          R"({"auth":0,"ssid":"guest","rssi":-80,"bssid":"24:0a:c4:10:20:31","channel":11,"freq_offset":0,)"
          R"("freq_calibration":0,"pairwise_cipher":0,"group_cipher":0,"phy_modes":7,"wps":true}])");
    // NONOS 1.5: seven fields.
    CHECK(described<cmd::cwlap::execute>("+CWLAP:(4,\"lab\",-61,\"aa:bb:cc:dd:ee:ff\",1,-3,0)\r\n") ==
          R"([{"auth":4,"ssid":"lab","rssi":-61,"bssid":"aa:bb:cc:dd:ee:ff","channel":1,"freq_offset":-3,)"
          R"("freq_calibration":0,"pairwise_cipher":null,"group_cipher":null,"phy_modes":null,"wps":null}])");
    CHECK(described<cmd::cwlap::execute>("") == "[]");

    CHECK(described<cmd::cipstate::query>("+CIPSTATE:0,\"TCP\",\"192.168.1.10\",80,50000,0\r\n"
                                          "+CIPSTATE:3,\"UDP\",\"::1\",5353,5353,1\r\n") ==
          R"([{"link":0,"type":"TCP","remote_ip":"192.168.1.10","remote_port":80,"local_port":50000,"role":0},)"
          R"({"link":3,"type":"UDP","remote_ip":"::1","remote_port":5353,"local_port":5353,"role":1}])");
    CHECK(described<cmd::cipstatus::execute>("STATUS:3\r\n+CIPSTATUS:1,\"SSL\",\"93.184.216.34\",443,41000,0\r\n") ==
          R"({"state":3,"links":[{"link":1,"type":"SSL","remote_ip":"93.184.216.34","remote_port":443,)"
          R"("local_port":41000,"role":0}]})");
    CHECK(described<cmd::cipsslcalpn::query>("+CIPSSLCALPN:0,\"h2\",\"http/1.1\"\r\n") ==
          R"([{"link":0,"protocols":["h2","http/1.1"]}])");
}

TEST_CASE("describe: single values (a whole line), times, durations and the empty answer")
{
    CHECK(described<cmd::cwmode::query>("+CWMODE:3\r\n") == "3");
    CHECK(described<cmd::sysstore::query>("+SYSSTORE:1\r\n") == "true");
    CHECK(described<cmd::cipstamac::query>("+CIPSTAMAC:\"24:0a:c4:00:00:01\"\r\n") == R"("24:0a:c4:00:00:01")");
    CHECK(described<cmd::cipdomain::set>("+CIPDOMAIN:\"93.184.216.34\"\r\n") == R"("93.184.216.34")");
    CHECK(described<cmd::cipsntptime::query>("+CIPSNTPTIME:Thu Jan  1 00:02:08 1970\r\n") == R"("1970-01-01T00:02:08Z")");
    CHECK(described<cmd::cipsntptime::query>("+CIPSNTPTIME:Mon Dec 02 13:04:05 2024\r\n") == R"("2024-12-02T13:04:05Z")");
    CHECK(described<cmd::cipsto::query>("+CIPSTO:7200\r\n") == R"("7200s")");
    CHECK(described<cmd::cipreconnintv::query>("+CIPRECONNINTV:15\r\n") == R"("1500ms")");  // 100 ms steps
    CHECK(described<cmd::ping::set>("+PING:12\r\n") == R"("12ms")");
    CHECK(described<cmd::ping::set>("+PING:TIMEOUT\r\n") == "null");
    CHECK(described<cmd::ciprecvlen::query>("+CIPRECVLEN:0,-1,5,,0\r\n") == "[0,null,5,null,0]");
    CHECK(described<cmd::cipsntpcfg::query>("+CIPSNTPCFG:1,800,\"pool.ntp.org\",\"time.google.com\"\r\n") ==
          R"({"enabled":true,"timezone":800,"server1":"pool.ntp.org","server2":"time.google.com","server3":null})");
    CHECK(described<cmd::at::execute>("") == "{}");
    CHECK(described<cmd::sysmsg::query>("+SYSMSG:3\r\n") == "3");  // a mask, no enumerator: its number
    CHECK(cmd::describe_value(espat::link_type::udp) == R"("UDP")");
    CHECK(cmd::describe_value(static_cast<espat::link_type>(9)) == "9");  // no keyword: its number
}

TEST_CASE("describe: AT+GMR's firmware_info, which no shape reads, names its members through named_members")
{
    CHECK(described<cmd::gmr::execute>("AT version:2.2.0.0(c6fa6bf - ESP32 - Jul  2 2021 06:44:05)\r\n"
                                       "SDK version:v4.2.2-76-gefa6eca\r\n"
                                       "compile time(3a696ba):Jul  2 2021 11:54:43\r\n"
                                       "Bin version:2.2.0(WROOM-32)\r\n") ==
          R"j({"at_version":"2.2.0.0","at_version_line":"AT version:2.2.0.0(c6fa6bf - ESP32 - Jul  2 2021 06:44:05)",)j"
          R"j("chip":"ESP32","sdk_version":"v4.2.2-76-gefa6eca","compile_time":"Jul  2 2021 11:54:43",)j"
          R"j("bin_version":"2.2.0(WROOM-32)","other_lines":[]})j");
    CHECK(described<cmd::gmr::execute>("AT version:1.7.4.0(May 11 2020 19:13:04)\r\nAi-Thinker Technology Co. Ltd.\r\n") ==
          R"j({"at_version":"1.7.4.0","at_version_line":"AT version:1.7.4.0(May 11 2020 19:13:04)","chip":null,)j"
          R"j("sdk_version":"","compile_time":"","bin_version":"","other_lines":["Ai-Thinker Technology Co. Ltd."]})j");
}

namespace {
struct unnamed_pair {  // a struct neither a shape nor named_members describes
    int number;
    std::string text;
};
}  // namespace

TEST_CASE("describe: a struct nothing names comes out positional, in declaration order")
{
    CHECK(cmd::describe_value(unnamed_pair{7, "x"}) == R"([7,"x"])");
}

TEST_CASE("describe: strings keep '\"' and '\\' escaped and every byte outside printable ASCII as \\u00XX")
{
    // The module prints an SSID as it is, unescaped, and AT+CWJAP? reads it as the free field.
    CHECK(described<cmd::cwjap::query>("+CWJAP:\"say \"hi\", \\o/\",\"24:0a:c4:10:20:30\",6,-45\r\n") ==
          R"({"ssid":"say \"hi\", \\o/","bssid":"24:0a:c4:10:20:30","channel":6,"rssi":-45,"pci_authentication":null,)"
          R"("reconnect_interval":null,"listen_interval":null,"scan_mode":null,"pmf":null})");
    // Control bytes, DEL and UTF-8 bytes, straight into the decoder (the parser keeps a line's
    // bytes but ends it at CR or LF).
    const std::string args = std::string("2,\"a\x01\tb\x7f\xc3\xa9\r\"");
    const cmd::response_line line{"CWSTATE", args};
    CHECK(described_lines<cmd::cwstate::query>(std::span(&line, 1)) == R"({"state":2,"ssid":"a\u0001\tb\u007f\u00c3\u00a9\r"})");
    CHECK(cmd::describe_value(std::string("\"\\\n\0", 4)) == R"("\"\\\n\u0000")");
}

TEST_CASE("describe: every response form of the table renders, as valid JSON")
{
    const auto all = cmd::all_commands<every_response>::render_defaults();
    CHECK(all.size() >= 60);
    for (const auto& r : all) {
        INFO(r.what, ": ", r.text);
        CHECK(json_checker::valid(r.text));
    }
}
