// Tests over the whole command table: every command line the host sends in the sample
// transcripts is one the table knows, read back by the device side and written again
// byte for byte.
#include <espat/commands/host.hpp>
#include <espat/commands/table.hpp>
#include <espat/commands/table_checks.hpp>  // the table-wide checks, made here once
#include <espat/proto/transcript.hpp>

#include <doctest/doctest.h>
#include <test_data.hpp>

#include <filesystem>
#include <string>

using namespace espat::commands;

namespace {

// Re-encodes a decoded request with the host encoder of its own form.
std::string reencode(const any_request& r)
{
    return espat::commands::visit(
        [](const auto& req) {
            using R = std::decay_t<decltype(req)>;
            using C = typename R::command;
            using F = typename R::form;
            std::string out;
            if constexpr (F::kind == form_kind::set) {
                if (encode_set<C>(out, req.params)) out = "<refused>";
            } else if constexpr (F::kind == form_kind::query) {
                encode_query<C>(out);
            } else if constexpr (F::kind == form_kind::test) {
                encode_test<C>(out);
            } else {
                encode_execute<C>(out);
            }
            return out;
        },
        r);
}

}  // namespace

TEST_CASE("commands: every host command line of the sample transcripts round-trips through the table")
{
    int lines_checked = 0;
    for (const auto& entry : std::filesystem::directory_iterator(espat::test::data_dir() / "transcripts")) {
        if (entry.path().extension() != ".txt") continue;
        auto text = espat::test::read_file(entry.path());
        REQUIRE(text);
        auto parsed = espat::proto::parse_transcript(*text);
        REQUIRE_MESSAGE(parsed.error.empty(), entry.path().filename().string() << ": " << parsed.error);
        // What AT+CIPMUX set last, as a module would know it; unknown until the transcript says
        // (case 14 was captured mid-session, in multi-link mode).
        std::optional<bool> multiple_links;
        for (const auto& line : parsed.lines) {
            if (line.dir != espat::proto::transcript_line::direction::host) continue;
            // Payloads after a '>' prompt and "+++" are data, not command lines.
            if (!line.bytes.starts_with("AT") || !line.bytes.ends_with("\r\n")) continue;
            INFO(entry.path().filename().string() << ": " << line.bytes);
            auto request = decode_request<any_request>(line.bytes, {.multiple_links = multiple_links});
            REQUIRE(request);
            CHECK(reencode(*request) == line.bytes);
            if (line.bytes.starts_with("AT+CIPMUX=")) multiple_links = line.bytes == "AT+CIPMUX=1\r\n";
            ++lines_checked;
        }
    }
    CHECK(lines_checked >= 40);
}

TEST_CASE("commands: unknown commands and malformed lines are not requests")
{
    for (const char* line : {"?", "AT+NOSUCH", "AT+CIPMUX=2", "AT+CIPMUX=1,2", "AT+CIPSTART", "AT+CWJAP=\"a\"", "at+cipmux?"})
        CHECK_MESSAGE(!decode_request<any_request>(line), line);
}

TEST_CASE("commands: the table holds every command the reference lists")
{
    const char* reference[] = {"AT+CIPSTATUS", "AT+CIPDOMAIN", "AT+CIPSTART", "AT+CIPSTARTEX", "AT+CIPSEND", "AT+CIPSENDEX",
                               "AT+CIPCLOSE", "AT+CIFSR", "AT+CIPMUX", "AT+CIPSERVER", "AT+CIPSERVERMAXCONN", "AT+CIPMODE",
                               "AT+SAVETRANSLINK", "AT+CIPSTO", "AT+CIPSNTPCFG", "AT+CIPSNTPTIME", "AT+CIUPDATE",
                               "AT+CIPDINFO", "AT+CIPSSLCCONF", "AT+CIPSSLCCN", "AT+CIPSSLCSNI", "AT+CIPSSLCALPN",
                               "AT+CIPSSLCPSK", "AT+CIPRECONNINTV", "AT+CIPRECVMODE", "AT+CIPRECVDATA", "AT+CIPRECVLEN",
                               "AT+PING", "AT+CIPDNS", "AT+CIPTCPOPT", "AT+CIPSTATE", "AT+CIPRECVTYPE", "AT", "ATE0",
                               "ATE1", "AT+RST", "AT+RESTORE", "AT+GMR", "AT+SYSSTORE", "AT+SYSLOG", "AT+SYSMSG",
                               "AT+UART_CUR", "AT+CWMODE", "AT+CWJAP", "AT+CWQAP", "AT+CWLAP", "AT+CIPSTA",
                               "AT+CWSAP", "AT+CIPAP"};
    std::vector<std::string_view> names;
    []<class... C>(std::vector<std::string_view>& out, detail::type_list<C...>*) {
        (out.push_back(C::command), ...);
    }(names, static_cast<all_command_list*>(nullptr));
    for (const char* cmd : reference)
        CHECK_MESSAGE(std::find(names.begin(), names.end(), std::string_view(cmd)) != names.end(), cmd);
}

TEST_CASE("commands: AT+CWSAP and AT+CIPAP, for a module serving a SoftAP")
{
    std::string out;
    REQUIRE_FALSE(encode_set<cwsap>(out, {.ssid = "ESP32_softAP", .password = "1234567890", .channel = 5,
                                          .encryption = espat::wifi_auth::wpa2_psk}));
    CHECK(out == "AT+CWSAP=\"ESP32_softAP\",\"1234567890\",5,3\r\n");
    out.clear();
    CHECK(encode_set<cwsap>(out, {.ssid = "a\r\nAT+RST", .password = "", .channel = 1, .encryption = espat::wifi_auth::open}) ==
          espat::errc::invalid_argument);
    CHECK(out.empty());

    const response_line sap[] = {{"CWSAP", R"("my,"ap"","pass word",11,4,3,1)"}};
    CHECK(decode_response<cwsap::query>(sap) ==
          espat::softap_config{"my,\"ap\"", "pass word", 11, espat::wifi_auth::wpa_wpa2_psk, 3, true});
    const response_line old_sap[] = {{"CWSAP", R"("ESP8266","",1,0)"}};  // NONOS: four fields
    CHECK(decode_response<cwsap::query>(old_sap) == espat::softap_config{"ESP8266", "", 1, espat::wifi_auth::open, {}, {}});

    const response_line ap[] = {{"CIPAP", R"(ip:"192.168.4.1")"}, {"CIPAP", R"(gateway:"192.168.4.1")"},
                                {"CIPAP", R"(netmask:"255.255.255.0")"}};
    auto addresses = decode_response<cipap::query>(ap);
    REQUIRE(addresses);
    CHECK(addresses->ip == asio::ip::make_address("192.168.4.1"));
    CHECK(addresses->netmask == asio::ip::make_address("255.255.255.0"));
    std::string reply;
    encode_reply<cipap::query>(reply, *addresses);
    CHECK(reply == "+CIPAP:ip:\"192.168.4.1\"\r\n+CIPAP:gateway:\"192.168.4.1\"\r\n+CIPAP:netmask:\"255.255.255.0\"\r\n");
}
