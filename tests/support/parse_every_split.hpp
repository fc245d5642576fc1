// parse_every_split.hpp — test helper for the parser's tests: parse bytes whole, one byte at a
// time and at every two-chunk split, check that all agree, and hand back the events.
#pragma once

#include "recorder.hpp"

#include <doctest/doctest.h>

#include <string_view>
#include <vector>

namespace espat::test {

inline std::vector<owned_event> parse_every_split(std::string_view bytes, proto::parser_limits limits = {})
{
    auto whole = parse_whole(bytes, limits);
    CHECK(parse_in_chunks(bytes, [] { return std::size_t{1}; }, limits) == whole);
    if (auto split = first_disagreeing_split(bytes, whole, limits)) FAIL_CHECK("split at " << *split << " differs");
    return whole;
}

// The kinds of the events, in order.
inline std::vector<proto::event_kind> kinds(const std::vector<owned_event>& events)
{
    std::vector<proto::event_kind> k;
    for (const auto& e : events) k.push_back(e.kind);
    return k;
}

}  // namespace espat::test
