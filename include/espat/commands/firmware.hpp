// espat/commands/firmware.hpp — what AT+GMR says about the firmware: the typed firmware_info
// and the block codec that reads it from (and writes it as) the response's text lines.
#pragma once

#include <espat/commands/values.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace espat {

// The answer to AT+GMR. Firmwares print it as text lines, e.g. ESP-AT 2.0 (ESP32):
//   AT version:2.0.0.0(e44648c - Nov  4 2019 02:18:57)
//   SDK version:v3.3
//   compile time(b85a8df):Nov  4 2019 02:23:26
//   Bin version:2.0.0(WROOM-32)
// ESP-AT 2.2+ / 3.x name the chip ("AT version:3.2.0.0(s-ec2dec2 - ESP32 - Jul 28 2023 07:05:28)");
// ESP8266 NONOS prints "AT version:1.7.4.0(May 11 2020 19:13:04)", "SDK version:3.0.4(9532ceb)",
// "compile time:May 27 2020 10:12:17", "Bin version(Wroom 02):1.7.4"; some vendor builds print
// lines of no known kind ("Ai-Thinker Technology Co. Ltd.").
struct firmware_info {
    version at_version{};                  // 2.0.0.0, 3.2.0.0, 1.7.4.0 ("-dev" and the rest are in the line)
    std::string at_version_line;           // the whole "AT version:..." line as printed
    std::optional<std::string> chip{};     // "ESP32", "ESP8266", "ESP32C3" when the version line names it
    std::string sdk_version;               // after "SDK version:" ("v3.3", "3.0.4(9532ceb)"); empty if none
    std::string compile_time;              // after "compile time[(<commit>)]:"; empty if none
    std::string bin_version;               // after "Bin version[(<module>)]:" ("2.0.0(WROOM-32)", "1.7.4")
    std::vector<std::string> other_lines;  // lines of no known kind, in order

    friend bool operator==(const firmware_info&, const firmware_info&) = default;
};

}  // namespace espat

namespace espat::commands {

// Reads the text lines of AT+GMR into firmware_info, in any order; the "AT version:" line is
// required (once), the others are optional. Writes the canonical lines back: the AT version
// line as it was read (or "AT version:<version>" when none was), then "SDK version:",
// "compile time:", "Bin version:" for the values present (a parenthesised qualifier between
// the key and its colon - a commit, a module name - is not kept), then the other lines.
struct firmware_info_text {
    using value_type = firmware_info;

    static constexpr std::string_view at_version_key = "AT version:";
    static constexpr std::string_view sdk_version_key = "SDK version:";

    // The chip named between " - " separators inside the version line's parentheses, as
    // ESP-AT 2.2+ prints it ("(ca41ec4 - ESP32 - Sep 16 2020 11:28:17)"): a word of
    // capital letters and digits starting "ESP".
    [[nodiscard]] static std::optional<std::string> chip_of(std::string_view version_text)
    {
        constexpr std::string_view sep = " - ";
        std::size_t pos = version_text.find(sep);
        while (pos != std::string_view::npos) {
            const std::size_t start = pos + sep.size();
            const std::size_t end = version_text.find(sep, start);
            if (end == std::string_view::npos) break;
            const std::string_view word = version_text.substr(start, end - start);
            bool ok = word.size() > 3 && word.starts_with("ESP");
            for (char c : word) ok = ok && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
            if (ok) return std::string(word);
            pos = end;
        }
        return std::nullopt;
    }

    // For "compile time[(...)]:value" and "Bin version[(...)]:value": the value, or nullopt
    // when the line is not that key.
    [[nodiscard]] static std::optional<std::string_view> value_after(std::string_view line, std::string_view key)
    {
        if (!line.starts_with(key)) return std::nullopt;
        std::string_view rest = line.substr(key.size());
        if (rest.starts_with('(')) {
            const std::size_t close = rest.find(')');
            if (close == std::string_view::npos) return std::nullopt;
            rest.remove_prefix(close + 1);
        }
        if (!rest.starts_with(':')) return std::nullopt;
        return rest.substr(1);
    }

    [[nodiscard]] static std::optional<firmware_info> decode(std::span<const std::string_view> lines)
    {
        firmware_info info;
        bool have_version = false, have_sdk = false, have_compile = false, have_bin = false;
        for (std::string_view l : lines) {
            if (l.empty()) continue;
            if (l.starts_with(at_version_key)) {
                if (have_version) return std::nullopt;  // two version lines: which one?
                auto v = version::parse(l.substr(at_version_key.size()));
                if (!v) return std::nullopt;
                have_version = true;
                info.at_version = *v;
                info.at_version_line = std::string(l);
                info.chip = chip_of(l.substr(at_version_key.size()));
            // A key with nothing after it is another line: an empty value means "no such line"
            // (encode leaves it out), so taking one as the value would lose the line.
            } else if (!have_sdk && l.starts_with(sdk_version_key) && l.size() > sdk_version_key.size()) {
                have_sdk = true;
                info.sdk_version = std::string(l.substr(sdk_version_key.size()));
            } else if (auto c = value_after(l, "compile time"); c && !c->empty() && !have_compile) {
                have_compile = true;
                info.compile_time = std::string(*c);
            } else if (auto b = value_after(l, "Bin version"); b && !b->empty() && !have_bin) {
                have_bin = true;
                info.bin_version = std::string(*b);
            } else {
                info.other_lines.emplace_back(l);
            }
        }
        if (!have_version) return std::nullopt;
        return info;
    }

    static void encode(std::string& out, const firmware_info& v)
    {
        auto put = [&](std::string_view key, std::string_view value) {
            out += key;
            out += value;
            out += "\r\n";
        };
        if (!v.at_version_line.empty()) put({}, v.at_version_line);
        else put(at_version_key, v.at_version.to_string());
        if (!v.sdk_version.empty()) put(sdk_version_key, v.sdk_version);
        if (!v.compile_time.empty()) put("compile time:", v.compile_time);
        if (!v.bin_version.empty()) put("Bin version:", v.bin_version);
        for (const auto& l : v.other_lines) put({}, l);
    }
};

}  // namespace espat::commands
