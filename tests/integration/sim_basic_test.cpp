// The simulated module's basic and Wi-Fi commands over an in-process pipe: echo, unknown
// commands, line limits, reset, AT+GMR per personality, joining access points.
#include "loopback.hpp"
#include "sim_harness.hpp"

#include <espat/commands/firmware.hpp>

#include <doctest/doctest.h>

#include <string>

using espat::test::quiet;
using espat::test::sim_harness;
namespace sim = espat::sim;

namespace {
}  // namespace

TEST_CASE("AT answers OK, echoed while echo is on, not after ATE0")
{
    sim_harness h;
    CHECK(h.command("AT") == "AT\r\n\r\nOK\r\n");
    CHECK(h.command("ATE0") == "ATE0\r\n\r\nOK\r\n");  // ATE0 itself is still echoed
    CHECK(h.command("AT") == "\r\nOK\r\n");
    CHECK(h.command("ATE1") == "\r\nOK\r\n");
    CHECK(h.command("AT") == "AT\r\n\r\nOK\r\n");
}

TEST_CASE("a command line split into single bytes is read the same")
{
    sim_harness h(quiet());
    for (char c : std::string("AT+CIPMUX?\r\n")) h.send(std::string(1, c));
    CHECK(h.until("OK\r\n") == "+CIPMUX:0\r\n\r\nOK\r\n");
}

TEST_CASE("unknown commands, bad parameters and over-long lines answer ERROR")
{
    sim_harness h(quiet());
    CHECK(h.command("?", "ERROR\r\n") == "\r\nERROR\r\n");
    CHECK(h.command("AT+NOSUCH", "ERROR\r\n") == "\r\nERROR\r\n");
    CHECK(h.command("AT+CIPMUX=7", "ERROR\r\n") == "\r\nERROR\r\n");
    CHECK(h.command("AT+" + std::string(300, 'X'), "ERROR\r\n") == "\r\nERROR\r\n");
    CHECK(h.command("AT") == "\r\nOK\r\n");  // and the module still works
}

TEST_CASE("AT+SYSLOG=1 puts ERR CODE lines before ERROR")
{
    sim_harness h(quiet());
    CHECK(h.command("AT+SYSLOG=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+NOSUCH", "ERROR\r\n") == "ERR CODE:0x01090000\r\n\r\nERROR\r\n");
    CHECK(h.command("AT+CIPMUX=7", "ERROR\r\n") == "ERR CODE:0x01080000\r\n\r\nERROR\r\n");
    CHECK(h.command("AT+SYSLOG?") == "+SYSLOG:1\r\n\r\nOK\r\n");
}

TEST_CASE("AT+RST: OK, at least 20 ms later noise and ready, then the settings are back to defaults")
{
    sim_harness h(quiet());
    CHECK(h.command("AT+CIPMUX=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPDINFO=1") == "\r\nOK\r\n");
    CHECK(h.command("AT+SYSMSG=3") == "\r\nOK\r\n");
    h.send("AT+RST\r\n");
    CHECK(h.until("OK\r\n") == "\r\nOK\r\n");
    const auto ok_at = std::chrono::steady_clock::now();
    const std::string boot = h.until("ready\r\n");
    CHECK(std::chrono::steady_clock::now() - ok_at >= std::chrono::milliseconds(20));
    CHECK(boot.starts_with("WIFI DISCONNECT\r\n"));
    CHECK(boot.ends_with("\r\nready\r\n"));
    CHECK(h.until("WIFI GOT IP\r\n") == "WIFI CONNECTED\r\nWIFI GOT IP\r\n");
    CHECK(h.command("AT") == "AT\r\n\r\nOK\r\n");  // echo is on again
    CHECK(h.command("AT+CIPMUX?") == "AT+CIPMUX?\r\n+CIPMUX:0\r\n\r\nOK\r\n");
    CHECK(h.command("AT+SYSMSG?") == "AT+SYSMSG?\r\n+SYSMSG:0\r\n\r\nOK\r\n");
}

TEST_CASE("AT+RESTORE closes links, reboots and forgets the access point")
{
    sim_harness h(quiet());
    h.send("AT+RESTORE\r\n");
    CHECK(h.until("OK\r\n") == "\r\nOK\r\n");
    CHECK(h.until("ready\r\n").ends_with("ready\r\n"));
    h.run_for(std::chrono::milliseconds(30));
    CHECK(h.received.empty());  // no automatic join after a factory reset
    CHECK(h.command("AT+CWJAP?") == "AT+CWJAP?\r\n\r\nOK\r\n");
}

TEST_CASE("a line sent while a command runs is answered busy p...")
{
    sim_harness h(quiet());
    h.send("AT+CWJAP=\"espressif\",\"1234567890\"\r\nAT\r\n");
    const std::string answer = h.until("\r\nOK\r\n");
    CHECK(answer.find("busy p...\r\n") != std::string::npos);
    CHECK(answer.find("WIFI GOT IP\r\n") != std::string::npos);
}

TEST_CASE("AT+GMR prints each personality's lines, which the table reads back")
{
    for (const auto& fw : {sim::esp_at_2(), sim::esp_at_3(), sim::esp_at_4(), sim::nonos()}) {
        CAPTURE(fw.name);
        sim::module_options o = quiet();
        o.firmware = fw;
        sim_harness h(o);
        const std::string answer = h.command("AT+GMR");
        REQUIRE(answer.ends_with("\r\nOK\r\n"));
        CHECK(answer.starts_with("AT version:" + fw.gmr.at_version_line.substr(11)));
        std::vector<std::string_view> lines;
        std::string_view rest(answer);
        rest.remove_suffix(6);
        while (!rest.empty()) {
            const auto e = rest.find("\r\n");
            lines.push_back(rest.substr(0, e));
            rest.remove_prefix(e + 2);
        }
        auto info = espat::commands::firmware_info_text::decode(lines);
        REQUIRE(info);
        CHECK(info->at_version == fw.version);
    }
    // lwESP's check: "AT version:" first, " - ESP32 - " in it, at least 3.2.0.
    CHECK(sim::esp_at_3().gmr.at_version_line.find(" - ESP32 - ") != std::string::npos);
}

TEST_CASE("commands outside a personality's version are unknown to it")
{
    sim::module_options o = quiet();
    sim_harness h2(o);
    CHECK(h2.command("AT+CIPSTATE?", "ERROR\r\n") == "\r\nERROR\r\n");  // 4.1+
    CHECK(h2.command("AT+CIPRECVMODE?") == "+CIPRECVMODE:0\r\n\r\nOK\r\n");
    o.firmware = sim::esp_at_4();
    sim_harness h4(o);
    CHECK(h4.command("AT+CIPRECVMODE?", "ERROR\r\n") == "\r\nERROR\r\n");  // replaced in 3.3
    CHECK(h4.command("AT+CIPSTATE?") == "\r\nOK\r\n");
    o.firmware = sim::nonos();
    sim_harness hn(o);
    CHECK(hn.command("AT+SYSSTORE=0", "ERROR\r\n") == "\r\nERROR\r\n");  // 2.0+
}

TEST_CASE("AT+CWJAP: a configured AP joins, a wrong password and an unknown SSID fail with their codes")
{
    sim::module_options o = quiet();
    o.start = sim::start_state::not_joined;
    o.access_points = {{"home", "secret123"}, {"office", "pa55word"}};
    sim_harness h(o);
    CHECK(h.command("AT+CIPSTATUS") == "STATUS:5\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWJAP=\"home\",\"wrong\"", "ERROR\r\n") == "+CWJAP:2\r\n\r\nERROR\r\n");
    CHECK(h.command("AT+CWJAP=\"nowhere\",\"x\"", "ERROR\r\n") == "+CWJAP:3\r\n\r\nERROR\r\n");
    CHECK(h.command("AT+CWJAP=\"home\",\"secret123\"") == "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTATUS") == "STATUS:2\r\n\r\nOK\r\n");
    const std::string q = h.command("AT+CWJAP?");
    CHECK(q.starts_with("+CWJAP:\"home\",\"24:0a:c4:10:20:30\",6,-45"));
    CHECK(h.command("AT+CWJAP=\"office\",\"pa55word\"") == "WIFI DISCONNECT\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWQAP") == "WIFI DISCONNECT\r\n\r\nOK\r\n");
    const std::string scan = h.command("AT+CWLAP");
    CHECK(scan.find("+CWLAP:(3,\"home\",-45,\"24:0a:c4:10:20:30\",6") == 0);
    CHECK(scan.find("\"office\"") != std::string::npos);
    CHECK(h.command("AT+CWLAP=\"office\"").find("home") == std::string::npos);
}

TEST_CASE("Wi-Fi and address queries answer what the drivers need")
{
    sim_harness h(quiet());
    CHECK(h.command("AT+CWMODE?") == "+CWMODE:1\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWMODE=3,1") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTA?") ==
          "+CIPSTA:ip:\"192.168.4.2\"\r\n+CIPSTA:gateway:\"192.168.4.1\"\r\n+CIPSTA:netmask:\"255.255.255.0\"\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPAP?").starts_with("+CIPAP:ip:\"192.168.4.1\"\r\n"));
    const std::string cifsr = h.command("AT+CIFSR");
    CHECK(cifsr.find("+CIFSR:APIP,\"192.168.4.1\"\r\n") != std::string::npos);
    CHECK(cifsr.find("+CIFSR:STAIP,\"192.168.4.2\"\r\n") != std::string::npos);
    CHECK(h.command("AT+SYSSTORE=0") == "\r\nOK\r\n");
    CHECK(h.command("AT+UART_CUR=921600,8,1,0,0") == "\r\nOK\r\n");
    CHECK(h.command("AT+UART_CUR?") == "+UART_CUR:921600,8,1,0,0\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWSAP=\"ESP32_softAP\",\"1234567890\",5,3") == "\r\nOK\r\n");
}

namespace {
// AT+RST, its "ready" and the rejoin the module makes by itself; echo off again.
void reset_and_rejoin(sim_harness& h)
{
    h.send("AT+RST\r\n");
    CHECK(h.until("OK\r\n") == "\r\nOK\r\n");
    CHECK(h.until("ready\r\n").ends_with("\r\nready\r\n"));
    CHECK(h.until("WIFI GOT IP\r\n") == "WIFI CONNECTED\r\nWIFI GOT IP\r\n");
    CHECK(h.command("ATE0") == "ATE0\r\n\r\nOK\r\n");
}
}  // namespace

TEST_CASE("NONOS _CUR/_DEF pairs answer +<CMD>_CUR: / +<CMD>_DEF:; _CUR lasts until reset, _DEF survives it")
{
    sim::module_options o = quiet();
    o.firmware = sim::nonos();
    sim_harness h(o);
    CHECK(h.command("AT+CWMODE_CUR?") == "+CWMODE_CUR:1\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWMODE_CUR=3") == "\r\nOK\r\n");
    CHECK(h.command("AT+CWMODE_CUR?") == "+CWMODE_CUR:3\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWMODE_DEF?") == "+CWMODE_DEF:1\r\n\r\nOK\r\n");  // flash: unchanged
    CHECK(h.command("AT+CWMODE?") == "+CWMODE:3\r\n\r\nOK\r\n");          // the plain query: in effect
    CHECK(h.command("AT+CWMODE_DEF=0", "ERROR\r\n") == "\r\nERROR\r\n");  // modes 1..3
    CHECK(h.command("AT+CWJAP_CUR?") == "+CWJAP_CUR:\"espressif\",\"24:0a:c4:10:20:30\",6,-45\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWJAP_DEF?") == "+CWJAP_DEF:\"espressif\",\"24:0a:c4:10:20:30\",6,-45\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWJAP_CUR=\"espressif\",\"wrong\"", "ERROR\r\n") ==
          "WIFI DISCONNECT\r\n+CWJAP:2\r\n\r\nERROR\r\n");
    CHECK(h.command("AT+CWJAP_CUR=\"espressif\",\"1234567890\"") == "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTA_CUR?") == "+CIPSTA_CUR:ip:\"192.168.4.2\"\r\n+CIPSTA_CUR:gateway:\"192.168.4.1\"\r\n"
                                         "+CIPSTA_CUR:netmask:\"255.255.255.0\"\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTA_CUR=\"192.168.4.9\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTA_DEF?").starts_with("+CIPSTA_DEF:ip:\"192.168.4.2\"\r\n"));
    CHECK(h.command("AT+CIPAP_DEF=\"192.168.7.1\",\"192.168.7.1\",\"255.255.255.0\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTAMAC_CUR?") == "+CIPSTAMAC_CUR:\"24:0a:c4:00:00:01\"\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTAMAC_DEF=\"1a:fe:34:00:00:02\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPAPMAC_CUR=\"1a:fe:34:00:00:03\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPAPMAC_DEF?") == "+CIPAPMAC_DEF:\"26:0a:c4:00:00:01\"\r\n\r\nOK\r\n");
    // AT 1.x's DHCP: <mode> 0 SoftAP, 1 station, 2 both, then <en>; the mask's bit 0 is the SoftAP.
    CHECK(h.command("AT+CWDHCP_CUR?") == "+CWDHCP_CUR:3\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWDHCP_CUR=1,0") == "\r\nOK\r\n");
    CHECK(h.command("AT+CWDHCP_CUR?") == "+CWDHCP_CUR:1\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWDHCP_DEF=0,0") == "\r\nOK\r\n");
    CHECK(h.command("AT+CWDHCP_DEF?") == "+CWDHCP_DEF:2\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWDHCP_CUR=3,1", "ERROR\r\n") == "\r\nERROR\r\n");
    CHECK(h.command("AT+CWSAP_DEF=\"saved\",\"12345678\",11,3") == "\r\nOK\r\n");  // the SoftAP runs (mode 3)
    CHECK(h.command("AT+CWSAP_CUR?") == "+CWSAP_CUR:\"saved\",\"12345678\",11,3,10,0\r\n\r\nOK\r\n");
    // DNS: one bare line per server.
    CHECK(h.command("AT+CIPDNS_CUR?") == "+CIPDNS_CUR:208.67.222.222\r\n+CIPDNS_CUR:8.8.8.8\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPDNS_DEF=1,\"9.9.9.9\"") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPDNS_DEF?") == "+CIPDNS_DEF:9.9.9.9\r\n\r\nOK\r\n");
    CHECK(h.command("AT+UART_DEF=921600,8,1,0,0") == "\r\nOK\r\n");
    CHECK(h.command("AT+UART_DEF?") == "+UART_DEF:921600,8,1,0,0\r\n\r\nOK\r\n");
    CHECK(h.command("AT+SYSMSG_DEF=2") == "\r\nOK\r\n");
    CHECK(h.command("AT+SYSMSG_CUR=4", "ERROR\r\n") == "\r\nERROR\r\n");  // bit 2 is ESP-AT 2.x's

    reset_and_rejoin(h);  // flash: mode 1, the AP, AT+CIPSTA as before
    CHECK(h.command("AT+CWMODE_CUR?") == "+CWMODE_CUR:1\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPSTA_CUR?").starts_with("+CIPSTA_CUR:ip:\"192.168.4.2\"\r\n"));
    CHECK(h.command("AT+CIPAP_CUR?").starts_with("+CIPAP_CUR:ip:\"192.168.7.1\"\r\n"));
    CHECK(h.command("AT+CIPSTAMAC_CUR?") == "+CIPSTAMAC_CUR:\"1a:fe:34:00:00:02\"\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPAPMAC_CUR?") == "+CIPAPMAC_CUR:\"26:0a:c4:00:00:01\"\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWDHCP_CUR?") == "+CWDHCP_CUR:2\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWSAP_CUR?").starts_with("+CWSAP_CUR:\"saved\","));
    CHECK(h.command("AT+CIPDNS_CUR?") == "+CIPDNS_CUR:9.9.9.9\r\n\r\nOK\r\n");
    CHECK(h.command("AT+UART_CUR?") == "+UART_CUR:921600,8,1,0,0\r\n\r\nOK\r\n");
    CHECK(h.command("AT+SYSMSG?") == "+SYSMSG:2\r\n\r\nOK\r\n");

    // A join with AT+CWJAP_CUR is not the AP of the next boot; AT+CWJAP_DEF's is.
    CHECK(h.command("AT+RESTORE").ends_with("\r\nOK\r\n"));
    CHECK(h.until("ready\r\n").ends_with("\r\nready\r\n"));
    CHECK(h.command("ATE0") == "ATE0\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWJAP_CUR=\"espressif\",\"1234567890\"") == "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
    h.send("AT+RST\r\n");
    CHECK(h.until("ready\r\n").ends_with("\r\nready\r\n"));
    h.run_for(std::chrono::milliseconds(30));
    CHECK(h.received.empty());  // no join
    CHECK(h.command("ATE0") == "ATE0\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWJAP_DEF=\"espressif\",\"1234567890\"") == "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
    reset_and_rejoin(h);
}

TEST_CASE("ESP-AT 2.x: AT 1.x's pairs are unknown; AT+SYSSTORE=0 keeps a setting until reset, AT+UART_DEF beyond")
{
    sim_harness h(quiet());
    CHECK(h.command("AT+CWMODE_CUR?", "ERROR\r\n") == "\r\nERROR\r\n");
    CHECK(h.command("AT+CWJAP_DEF=\"espressif\",\"1234567890\"", "ERROR\r\n") == "\r\nERROR\r\n");
    CHECK(h.command("AT+CIPSTAMAC=\"1a:fe:34:00:00:02\"") == "\r\nOK\r\n");  // SYSSTORE=1: saved
    CHECK(h.command("AT+SYSSTORE=0") == "\r\nOK\r\n");
    CHECK(h.command("AT+CIPAPMAC=\"1a:fe:34:00:00:03\"") == "\r\nOK\r\n");  // not saved
    CHECK(h.command("AT+CWMODE=3") == "\r\nOK\r\n");
    CHECK(h.command("AT+UART_DEF=230400,8,1,0,0") == "\r\nOK\r\n");  // saved whatever AT+SYSSTORE says
    reset_and_rejoin(h);
    CHECK(h.command("AT+CIPSTAMAC?") == "+CIPSTAMAC:\"1a:fe:34:00:00:02\"\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CIPAPMAC?") == "+CIPAPMAC:\"26:0a:c4:00:00:01\"\r\n\r\nOK\r\n");
    CHECK(h.command("AT+CWMODE?") == "+CWMODE:1\r\n\r\nOK\r\n");
    CHECK(h.command("AT+UART_CUR?") == "+UART_CUR:230400,8,1,0,0\r\n\r\nOK\r\n");
    CHECK(h.command("AT+UART_DEF?") == "+UART_DEF:230400,8,1,0,0\r\n\r\nOK\r\n");
}
