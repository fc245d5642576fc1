// espat/sim/personality.hpp — what distinguishes one firmware generation from another, as data:
// the version (which decides which commands of the table exist, see the descriptors'
// since/until), the AT+GMR lines, and the framing details real modules differ in
// (firmware-quirks.md). The simulated module reads these flags; there is one module, not one
// per firmware.
#pragma once

#include <espat/commands/firmware.hpp>
#include <espat/commands/tcpip.hpp>
#include <espat/commands/values.hpp>

#include <cstddef>
#include <string>

namespace espat::sim {

struct personality {
    std::string name;               // "esp-at-2", for logs and the --firmware flag
    espat::version version;         // decides the command set (descriptors' since/until)
    espat::firmware_info gmr;       // printed by AT+GMR through the table's encoder
    std::string chip;               // "ESP32", "ESP8266"
    std::string prompt;             // after CIPSEND's OK: "\r\n>" (2.x), "> " (NONOS)
    bool line_end_after_ipd = true; // 2.x prints "\r\n" after a +IPD payload; NONOS and ESP32 1.x do not
    bool quoted_ipd_address = true; // CIPDINFO=1: +IPD,0,5,"1.2.3.4",80: (2.x) or bare (NONOS)
    bool nonos_recvdata_header = false;  // NONOS 1.7: +CIPRECVDATA,<len>:<data>, never the remote
    bool idle_recvlen_zero = false;      // AT+CIPRECVLEN? prints 0 for a link that is not open (NONOS 1.7)
    bool nonos_ping_reply = false;       // NONOS: "+24" instead of "+PING:24"
    bool dns_fail_line = false;          // NONOS prints "DNS Fail" before ERROR
    bool unlink_line = false;            // NONOS: AT+CIPCLOSE on a closed link prints "UNLINK" before ERROR
    std::string boot_noise;         // bytes before "ready" after a reset
    // Host drivers' extra commands (host-drivers.md): only the ESP8266 has AT+CIPSSLSIZE (the
    // ESP32 answers ERROR, and Adafruit's driver relies on that), and only the ESP32 has BLE
    // levels in AT+RFPOWER?.
    bool ssl_buffer_size_command = false;
    bool ble_rf_power = true;
    // AT+CIPSTATE? (lwESP and Adafruit's driver ask it, host-drivers.md) came long before 4.1
    // dropped AT+CIPSTATUS, which is where the table dates it. In Espressif's esp-at repository:
    // ESP32 and ESP32-C3 from 2.3/2.4 on (documented 2021-09, first in v2.3.0.0_esp32c3 and
    // v2.4.0.0; not in v2.2.0.0_esp32); ESP8266 from 2.2.2.0 on (ESPAT-2103, added to the
    // ESP8266 AT core in 2024-10 and documented then; v2.2.1.0_esp8266's core has no such
    // command). NONOS never had it.
    bool link_state_query = false;
    // MQTT: the client's buffer, which a received message plus its MQTT header must fit or it
    // comes out as several +MQTTSUBRECV fragments (1024 bytes; ESP8266 MQTT_BUFFER_SIZE_BYTE,
    // 512, which also bounds what AT+MQTTPUBRAW takes, header included); the most AT+MQTTPUBRAW
    // takes on the ESP32 family, whose limit is free heap (this is the simulator's stand-in).
    std::size_t mqtt_buffer = 1024;
    std::size_t mqtt_publish_limit = 8192;

    [[nodiscard]] std::size_t max_send() const noexcept { return espat::max_send_length(version); }
};

namespace detail {
inline espat::firmware_info gmr_info(std::string version_line, std::string sdk, std::string compile, std::string bin)
{
    espat::firmware_info info;
    info.at_version_line = std::move(version_line);
    info.sdk_version = std::move(sdk);
    info.compile_time = std::move(compile);
    info.bin_version = std::move(bin);
    return info;
}
}  // namespace detail

// ESP-AT 2.x on an ESP32, the generation the reference documents (the byte-exact capture of
// transcript 14 is firmware 2.0): prompt "\r\n>", quoted +IPD addresses, CR LF after +IPD data,
// CIPSEND up to 2048 bytes, AT+CIPRECVMODE and AT+CIPSTATUS.
inline personality esp_at_2()
{
    personality p;
    p.name = "esp-at-2";
    p.version = {2, 2, 0, 0};
    p.gmr = detail::gmr_info("AT version:2.2.0.0(c6fa6bf - ESP32 - Jul  2 2021 06:44:05)", "v4.2.2-76-gefa6eca",
                             "Jul  2 2021 06:50:26", "2.2.0(WROOM-32)");
    p.chip = "ESP32";
    p.prompt = "\r\n>";
    // ESP-AT 2.x shows only short noise before "ready" (firmware-quirks.md).
    p.boot_noise = std::string("\x00\xff\xfe\x1c\r\n", 6);
    return p;
}

// ESP-AT 3.2 on an ESP32: what lwESP checks for (AT version line with " - ESP32 - ", >= 3.2.0);
// CIPSEND up to 8192 bytes. Still AT+CIPRECVMODE and AT+CIPSTATUS (CIPRECVTYPE is 3.3+).
inline personality esp_at_3()
{
    personality p = esp_at_2();
    p.name = "esp-at-3";
    p.version = {3, 2, 0, 0};
    p.link_state_query = true;
    p.gmr = detail::gmr_info("AT version:3.2.0.0(s-ec2dec2 - ESP32 - Jul 28 2023 07:05:28)", "v5.0.2-dirty",
                             "Jul 28 2023 07:05:28", "v3.2.0.0(WROOM-32)");
    return p;
}

// ESP-AT 4.1 on an ESP32: per-link AT+CIPRECVTYPE and AT+CIPSTATE replace AT+CIPRECVMODE and
// AT+CIPSTATUS (DESIGN.md "Firmware versions").
inline personality esp_at_4()
{
    personality p = esp_at_2();
    p.name = "esp-at-4";
    p.version = {4, 1, 0, 0};
    p.gmr = detail::gmr_info("AT version:4.1.0.0(b7d3b5c - ESP32 - Mar 26 2024 03:55:12)", "v5.0.6",
                             "Mar 26 2024 03:55:12", "v4.1.0.0(WROOM-32)");
    return p;
}

// ESP-AT 2.2.2 on an ESP8266 (v2.2.2.0_esp8266, the release that Espressif's ESP-AT 2.2
// documentation for the ESP8266 describes; lwESP warns below 2.2.1): the 2.x framing of
// esp_at_2(), AT+CIPSSLSIZE, AT+CIPSTATE?, no BLE. The AT+GMR line carries the AT core
// version of that release (components/at/lib/VERSION) and the date of its tag.
inline personality esp8266_at_2()
{
    personality p = esp_at_2();
    p.name = "esp8266";
    p.version = {2, 2, 2, 0};
    p.gmr = detail::gmr_info("AT version:2.2.2.0(6cdf453 - ESP8266 - Mar 25 2025 08:11:31)", "v3.4-dirty",
                             "Mar 25 2025 08:20:02", "v2.2.2.0 ESP8266 4MB");
    p.chip = "ESP8266";
    p.link_state_query = true;
    p.ssl_buffer_size_command = true;
    p.ble_rf_power = false;
    p.mqtt_buffer = 512;
    p.mqtt_publish_limit = 512;
    return p;
}

// ESP8266 NONOS AT 1.7: prompt "> ", bare +IPD addresses, nothing after a +IPD payload,
// "+CIPRECVDATA,<len>:" (the instruction set says "+CIPRECVDATA:<len>,<data>", the firmware
// prints this: WiFiEspAT's AT 1 mode and ARMmbed's esp8266-driver read it so), idle links 0 in
// AT+CIPRECVLEN? (not -1: jandrassy in espressif/esp-at#223), "+<ms>" ping answers, "DNS Fail";
// its version predates AT+SYSSTORE and has AT 1.x's _CUR/_DEF command pairs instead. The ROM's
// 74880-baud boot text reads as garbage at 115200.
inline personality nonos()
{
    personality p;
    p.name = "nonos";
    p.version = {1, 7, 4, 0};
    p.gmr = detail::gmr_info("AT version:1.7.4.0(May 11 2020 19:13:04)", "3.0.4(9532ceb)", "May 27 2020 10:12:17",
                             "1.7.4");
    p.chip = "ESP8266";
    p.prompt = "> ";
    p.line_end_after_ipd = false;
    p.quoted_ipd_address = false;
    p.nonos_recvdata_header = true;
    p.idle_recvlen_zero = true;
    p.nonos_ping_reply = true;
    p.dns_fail_line = true;
    p.unlink_line = true;
    p.ssl_buffer_size_command = true;
    p.ble_rf_power = false;
    p.boot_noise = std::string("\x00\x8c\x9e\xec\x12\x0c\x8c\x1c\x9c\xe2\x7c\x8c\x0c\x62\xf3\x6c\xe0\x70\x0c\x8c\r\n", 22);
    return p;
}

}  // namespace espat::sim
