// json_object.hpp — test helper: reads back the flat JSON objects append_json writes, so tests
// check field sets and decoded values without a JSON library.
#pragma once

#include <espat/proto/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace espat::test {

struct json_field {
    std::string key;
    std::string value;  // a string's bytes (decoded), or a number's digits
    bool is_string = false;
};

// Reads `{"k":"v","n":12,...}` — flat, strings and unsigned integers only, no spaces, which
// is all append_json writes. Fields stay in their order; nullopt on anything else.
inline std::optional<std::vector<json_field>> read_json_object(std::string_view s)
{
    std::size_t i = 0;
    // The end (exclusive) of the quoted string starting at i, honouring backslash escapes.
    auto string_end = [&]() -> std::optional<std::size_t> {
        if (i >= s.size() || s[i] != '"') return std::nullopt;
        for (std::size_t j = i + 1; j < s.size(); ++j) {
            if (s[j] == '\\') ++j;
            else if (s[j] == '"') return j + 1;
        }
        return std::nullopt;
    };
    auto read_string = [&]() -> std::optional<std::string> {
        const auto end = string_end();
        if (!end) return std::nullopt;
        auto v = espat::proto::decode_json_string(s.substr(i, *end - i));
        i = *end;
        return v;
    };
    if (s.size() < 2 || s.front() != '{' || s.back() != '}') return std::nullopt;
    ++i;
    std::vector<json_field> out;
    if (s[i] == '}') return i + 1 == s.size() ? std::optional(out) : std::nullopt;
    for (;;) {
        json_field f;
        auto key = read_string();
        if (!key || i >= s.size() || s[i] != ':') return std::nullopt;
        f.key = std::move(*key);
        ++i;
        if (i < s.size() && s[i] == '"') {
            auto v = read_string();
            if (!v) return std::nullopt;
            f.value = std::move(*v);
            f.is_string = true;
        } else {
            const std::size_t start = i;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
            if (i == start) return std::nullopt;
            f.value = s.substr(start, i - start);
        }
        out.push_back(std::move(f));
        if (i >= s.size()) return std::nullopt;
        if (s[i] == '}') return i + 1 == s.size() ? std::optional(out) : std::nullopt;
        if (s[i++] != ',') return std::nullopt;
    }
}

// The field named `key`, if the object has it.
inline const json_field* find_field(const std::vector<json_field>& object, std::string_view key)
{
    for (const auto& f : object)
        if (f.key == key) return &f;
    return nullptr;
}

}  // namespace espat::test
