// espat/detail/sendex_data.hpp — what AT+CIPSENDEX makes of the bytes after its prompt, from
// Espressif's notes on the command (ESP-AT since 2.1): "\0" ends the data early, "\<c>" stands
// for c (so "\\0" is the two characters "\0" and "\\" one backslash), every other byte is
// itself. escape_sendex_data() and read_sendex_data() are inverse: the data read back from an
// escaped string is the string, whole.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace espat::detail {

// Every backslash doubled: nothing in the data can end it early or lose a character.
[[nodiscard]] inline std::string escape_sendex_data(std::string_view data)
{
    std::string out;
    out.reserve(data.size());
    for (const char c : data) {
        if (c == '\\') out += '\\';
        out += c;
    }
    return out;
}

struct sendex_reading {
    std::size_t sent = 0;            // bytes the module sends: escapes resolved
    std::size_t raw_before_end = 0;  // bytes taken before "\0" (all of them if none came)
    bool ended_early = false;        // "\0" came
};

// What the module sends of `raw`, the bytes it took after the prompt (appended to `out` if
// given). A backslash that is the last byte has nothing to escape and is itself.
inline sendex_reading read_sendex_data(std::string_view raw, std::string* out = nullptr)
{
    sendex_reading r;
    std::size_t i = 0;
    while (i < raw.size()) {
        char c = raw[i];
        std::size_t step = 1;
        if (c == '\\' && i + 1 < raw.size()) {
            if (raw[i + 1] == '0') {
                r.ended_early = true;
                break;
            }
            c = raw[i + 1];
            step = 2;
        }
        if (out) *out += c;
        ++r.sent;
        i += step;
    }
    r.raw_before_end = i;
    return r;
}

}  // namespace espat::detail
