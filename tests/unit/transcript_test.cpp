// Replays every sample transcript's device bytes through the parser, fed whole, byte by byte,
// split at every point and at random, and checks the events against the transcript's '=' lines.
#include <espat/proto/parser.hpp>
#include <espat/proto/transcript.hpp>

#include <doctest/doctest.h>
#include <recorder.hpp>
#include <test_data.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

using espat::proto::event;
using espat::proto::event_kind;
using espat::proto::transcript_line;
using espat::test::owned_event;
using espat::test::parse_in_chunks;
using espat::test::parse_whole;

namespace {

// ---- reading the '= event: ...' descriptions --------------------------------------------

// One word of a description: `word`, `"quoted"`, `key=value` or `key="quoted value"`.
struct token {
    std::string key;      // empty for a positional word
    std::string value;    // unquoted and unescaped
    bool quoted = false;  // the value was written in quotes
};

// Undoes \" \\ \r \n \t \xNN inside a quoted description value. Not the transcript's own
// unescape: a quoted value needs \" and may start or end with a space.
std::optional<std::string> unescape_quoted(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\') {
            out.push_back(s[i]);
            continue;
        }
        if (++i == s.size()) return std::nullopt;
        switch (s[i]) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case 'r': out.push_back('\r'); break;
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'x': {
            if (s.size() - i < 3) return std::nullopt;
            const int hi = espat::detail::hex_value(s[i + 1]), lo = espat::detail::hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
            break;
        }
        default: return std::nullopt;
        }
    }
    return out;
}

// Splits a description into tokens, stopping at a "(note)" that only explains; nullopt when
// a quote is not closed or an escape is bad.
std::optional<std::vector<token>> tokenize(std::string_view s)
{
    std::vector<token> out;
    std::size_t i = 0;
    while (i < s.size()) {
        if (s[i] == ' ') {
            ++i;
            continue;
        }
        if (s[i] == '(') break;
        token t;
        std::size_t start = i;
        while (i < s.size() && s[i] != ' ' && s[i] != '"' && s[i] != '=') ++i;
        std::string_view word = s.substr(start, i - start);
        if (i < s.size() && s[i] == '=') {
            t.key = word;
            ++i;
            start = i;
            while (i < s.size() && s[i] != ' ' && s[i] != '"') ++i;
            word = s.substr(start, i - start);
        }
        if (i < s.size() && s[i] == '"') {
            if (!word.empty()) return std::nullopt;  // a quote glued to a word
            start = ++i;
            while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
            if (i >= s.size()) return std::nullopt;
            auto v = unescape_quoted(s.substr(start, i - start));
            if (!v) return std::nullopt;
            t.value = std::move(*v);
            t.quoted = true;
            ++i;
        } else {
            t.value = word;
        }
        out.push_back(std::move(t));
    }
    return out;
}

std::optional<std::uint32_t> number(std::string_view s) { return espat::detail::parse_u32(s); }

// An owned copy of an event built from fields, so expectations compare with ==.
struct event_spec {
    event_kind kind{};
    int link = -1;
    std::uint32_t value = 0;
    std::string text, name, args, remote_host, payload;
    std::uint16_t remote_port = 0;

    owned_event make() const
    {
        event e;
        e.kind = kind;
        e.link = static_cast<std::int8_t>(link);
        e.value = value;
        e.text = text;
        e.name = name;
        e.args = args;
        e.remote_host = remote_host;
        e.remote_port = remote_port;
        e.payload = payload;
        return owned_event(e);
    }
};

// What one description means: unknown, no event, or one event.
struct reading {
    bool known = false;
    std::optional<owned_event> expected;
};

reading none() { return {true, std::nullopt}; }
reading one(const event_spec& s) { return {true, s.make()}; }

// The key=value tokens of a frame description: [link=] len= [data=] [ip= port=], nothing else.
bool frame_fields(const std::vector<token>& t, event_spec& s, bool with_data, bool with_link)
{
    bool have_len = false, have_data = false;
    for (std::size_t i = 1; i < t.size(); ++i) {
        const std::string& key = t[i].key;
        const auto n = number(t[i].value);
        if (key == "link" && with_link && n && *n <= 9) {
            s.link = static_cast<int>(*n);
        } else if (key == "len" && n) {
            s.value = *n;
            have_len = true;
        } else if (key == "data" && with_data) {
            s.payload = t[i].value;
            have_data = true;
        } else if (key == "ip" && with_data) {
            s.remote_host = t[i].value;
        } else if (key == "port" && with_data && n && *n <= 65535) {
            s.remote_port = static_cast<std::uint16_t>(*n);
        } else {
            return false;
        }
    }
    // A data description must agree with its own length, or the transcript is wrong.
    return have_len && have_data == with_data && (!have_data || s.payload.size() == s.value);
}

// Maps a description (the text after "= ") to the event it announces. Every wording the
// sample transcripts use is here; anything else is unknown and fails the test, so a new
// transcript cannot pass without its expectations being read.
reading read_description(std::string_view desc)
{
    constexpr std::string_view prefix = "event: ";
    if (!desc.starts_with(prefix)) return {};
    desc.remove_prefix(prefix.size());
    // Directions to the host that the device answers with nothing.
    if (desc.starts_with("no device response expected")) return none();

    const auto tokens = tokenize(desc);
    if (!tokens || tokens->empty()) return {};
    const std::vector<token>& t = *tokens;
    // The whole description as plain words, when it has no key=value or quoted token.
    std::string phrase;
    for (const auto& w : t) {
        if (!w.key.empty() || w.quoted) {
            phrase.clear();
            break;
        }
        phrase += (phrase.empty() ? "" : " ") + w.value;
    }
    const std::string& head = t[0].value;
    event_spec s;

    // Fixed phrases, each naming one fixed wording.
    struct fixed {
        std::string_view phrase;
        event_kind kind;
        std::string_view text;
    };
    static constexpr fixed fixed_phrases[] = {
        {"final OK", event_kind::ok, "OK"},
        {"final ERROR", event_kind::error, "ERROR"},
        {"final FAIL", event_kind::fail, "FAIL"},
        {"final SEND OK", event_kind::send_ok, "SEND OK"},
        {"final SEND FAIL", event_kind::send_fail, "SEND FAIL"},
        {"final SET OK", event_kind::set_ok, "SET OK"},
        {"prompt", event_kind::prompt, ">"},
        {"send ok", event_kind::send_ok, "SEND OK"},
        {"send fail", event_kind::send_fail, "SEND FAIL"},
        {"ready", event_kind::ready, "ready"},
        {"wifi connected", event_kind::wifi_connected, "WIFI CONNECTED"},
        {"wifi got ip", event_kind::wifi_got_ip, "WIFI GOT IP"},
        {"wifi disconnect", event_kind::wifi_disconnect, "WIFI DISCONNECT"},
    };
    for (const auto& f : fixed_phrases) {
        if (phrase == f.phrase) {
            s.kind = f.kind;
            s.text = f.text;
            return one(s);
        }
    }
    if (phrase == "empty line") return none();

    if (head == "recv" && t.size() == 3 && !phrase.empty() && t[2].value == "bytes") {
        const auto n = number(t[1].value);
        if (!n) return {};
        s.kind = event_kind::recv_bytes;
        s.value = *n;
        s.text = "Recv " + t[1].value + " bytes";
        return one(s);
    }
    // "link [<id>] connected|closed"
    if (head == "link" && !phrase.empty() && (t.size() == 2 || t.size() == 3)) {
        const std::string& what = t.back().value;
        std::string prefix_id;
        if (t.size() == 3) {
            const auto id = number(t[1].value);
            if (!id || *id > 9) return {};
            s.link = static_cast<int>(*id);
            prefix_id = t[1].value + ",";
        }
        if (what == "connected") {
            s.kind = event_kind::connect;
            s.text = prefix_id + "CONNECT";
        } else if (what == "closed") {
            s.kind = event_kind::closed;
            s.text = prefix_id + "CLOSED";
        } else {
            return {};
        }
        return one(s);
    }
    if (head == "ipd") {
        s.kind = event_kind::ipd;
        return frame_fields(t, s, true, true) ? one(s) : reading{};
    }
    if (head == "ipd-notify") {
        s.kind = event_kind::ipd_notify;
        return frame_fields(t, s, false, true) ? one(s) : reading{};
    }
    if (head == "ciprecvdata") {
        s.kind = event_kind::recv_data;
        return frame_fields(t, s, true, false) ? one(s) : reading{};
    }
    if (head == "echo" && t.size() == 2 && t[1].key.empty() && t[1].quoted) {
        s.kind = event_kind::echo;
        s.text = t[1].value;
        return one(s);
    }
    // Information lines: "+NAME:args" with the args the description spells out.
    auto info = [&](std::string name, std::string args) {
        s.kind = event_kind::info;
        s.text = "+" + name + ":" + args;
        s.name = std::move(name);
        s.args = std::move(args);
        return one(s);
    };
    // "cipsta ip=\"192.168.3.112\"" is the line +CIPSTA:ip:"192.168.3.112" (quotes printed).
    if ((head == "cipsta" || head == "cipap") && t.size() == 2 && !t[1].key.empty() && t[1].quoted)
        return info(head == "cipsta" ? "CIPSTA" : "CIPAP", t[1].key + ":\"" + t[1].value + "\"");
    // "sntp time=\"Mon Oct 18 20:12:27 2021\"" is +CIPSNTPTIME:Mon Oct 18 20:12:27 2021 (no quotes).
    if (head == "sntp" && t.size() == 2 && t[1].key == "time" && t[1].quoted) return info("CIPSNTPTIME", t[1].value);
    // "ciprecvlen [4]" or "ciprecvlen [4,0,-1]": the per-link lengths as printed.
    if (head == "ciprecvlen" && t.size() == 2 && t[1].key.empty() && !t[1].quoted && t[1].value.size() >= 2 &&
        t[1].value.front() == '[' && t[1].value.back() == ']')
        return info("CIPRECVLEN", t[1].value.substr(1, t[1].value.size() - 2));
    return {};
}

// ---- running the transcripts -------------------------------------------------------------

struct sample {
    std::string name;
    std::vector<transcript_line> lines;
};

std::vector<sample> load_samples()
{
    const auto dir = espat::test::data_dir() / "transcripts";
    INFO("transcript directory: " << dir.string());
    REQUIRE(std::filesystem::is_directory(dir));
    std::vector<std::filesystem::path> paths;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        if (entry.is_regular_file() && entry.path().extension() == ".txt") paths.push_back(entry.path());
    std::sort(paths.begin(), paths.end());
    REQUIRE(!paths.empty());
    std::vector<sample> out;
    for (const auto& p : paths) {
        const auto text = espat::test::read_file(p);
        INFO("transcript " << p.filename().string());
        REQUIRE(text.has_value());
        auto parsed = espat::proto::parse_transcript(*text);
        INFO("line " << parsed.error_line << ": " << parsed.error);
        REQUIRE(parsed.ok());
        out.push_back({p.filename().string(), std::move(parsed.lines)});
    }
    return out;
}

// Reports the first difference between two event lists, printing both events.
void check_same_events(const std::vector<owned_event>& actual, const std::vector<owned_event>& expected,
                       std::string_view what)
{
    INFO(what);
    CHECK(actual.size() == expected.size());
    const std::size_t n = std::min(actual.size(), expected.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (!(actual[i] == expected[i])) {
            INFO("event #" << i);
            CHECK(actual[i] == expected[i]);
            return;
        }
    }
    if (actual.size() > n) FAIL_CHECK("first extra event: " << actual[n]);
    if (expected.size() > n) FAIL_CHECK("first missing event: " << expected[n]);
}

}  // namespace

TEST_CASE("transcripts: descriptions of the samples' wordings are read")
{
    const auto ipd = read_description("event: ipd link=0 len=8 data=\"test,28,\"");
    REQUIRE(ipd.expected.has_value());
    CHECK(ipd.expected->kind == event_kind::ipd);
    CHECK(ipd.expected->link == 0);
    CHECK(ipd.expected->value == 8);
    CHECK(ipd.expected->payload == "test,28,");

    const auto single = read_description("event: ipd len=4 data=\"test\" (single-connection form, no link id)");
    REQUIRE(single.expected.has_value());
    CHECK(single.expected->link == -1);

    const auto link = read_description("event: link 4 closed");
    REQUIRE(link.expected.has_value());
    CHECK(link.expected->text == "4,CLOSED");

    CHECK(read_description("event: empty line (ignore)").known);
    CHECK_FALSE(read_description("event: empty line (ignore)").expected.has_value());
    CHECK(read_description("event: final OK (length accepted)").expected.has_value());

    // Anything the matcher does not know must fail the replay, never be skipped.
    CHECK_FALSE(read_description("event: something new").known);
    CHECK_FALSE(read_description("event: final MAYBE").known);
    CHECK_FALSE(read_description("event: ipd len=5 data=\"test\"").known);  // length disagrees
    CHECK_FALSE(read_description("event: ipd len=4").known);
    CHECK_FALSE(read_description("event: echo \"unterminated").known);
    CHECK_FALSE(read_description("final OK").known);
    CHECK_FALSE(read_description("event: \"prompt\"").known);  // a quoted string is not a phrase
    CHECK_FALSE(read_description("event: cipsta ip=192.168.3.112").known);  // quotes are printed
}

TEST_CASE("transcripts: every sample gives the same events however its bytes are split")
{
    for (const auto& s : load_samples()) {
        INFO("transcript " << s.name);
        const std::string bytes = espat::proto::device_stream(s.lines);
        REQUIRE(!bytes.empty());
        const auto whole = parse_whole(bytes);

        check_same_events(parse_in_chunks(bytes, [] { return std::size_t{1}; }), whole, "one byte at a time");
        if (auto split = espat::test::first_disagreeing_split(bytes, whole)) {
            bool first = true;
            const auto events = parse_in_chunks(bytes, [&] {
                const std::size_t n = first ? *split : bytes.size();
                first = false;
                return n;
            });
            check_same_events(events, whole, "split in two at byte " + std::to_string(*split));
        }
        // std::mt19937's output is fixed by the standard (distributions are not): the same
        // chunk sizes on every platform.
        std::mt19937 rng(20240601u);
        for (int run = 0; run < 200; ++run) {
            const std::size_t max_chunk = 1 + rng() % 64;
            const auto events = parse_in_chunks(bytes, [&] { return 1 + rng() % max_chunk; });
            if (events != whole) {
                check_same_events(events, whole, "random split run " + std::to_string(run));
                break;
            }
        }
    }
}

TEST_CASE("transcripts: every sample's events are what its '=' lines say, in order")
{
    using dir = transcript_line::direction;
    for (const auto& s : load_samples()) {
        INFO("transcript " << s.name);
        std::vector<owned_event> expected;
        // Fed '<' line by '<' line: each '=' line describes the bytes just above it, so by
        // then the events it names must have come out, and no others.
        espat::proto::parser p;
        espat::test::recorder r;
        std::size_t descriptions = 0;
        bool readable = true, in_step = true;
        for (const auto& line : s.lines) {
            if (line.dir == dir::device) p.feed(line.bytes, r);
            if (line.dir != dir::expect) continue;
            // A description follows the bytes it reads: a +IPD frame with nothing after it yet
            // (NONOS prints no line end) is handed out as after the line went quiet.
            p.release_held_frame(r);
            ++descriptions;
            const reading rd = read_description(line.bytes);
            if (!rd.known) {
                FAIL_CHECK("unknown description: '" << line.bytes << "' (teach read_description its meaning)");
                readable = false;
                break;
            }
            if (rd.expected) expected.push_back(*rd.expected);
            // A +CIPRECVDATA frame is judged by the CR LF after it, in the next line's bytes.
            if (p.awaiting_trailer()) continue;
            if (in_step && r.events.size() != expected.size()) {  // the first place they part
                check_same_events(r.events, expected, "events up to '= " + line.bytes + "'");
                in_step = false;
            }
        }
        if (!readable) continue;
        CHECK(descriptions > 0);
        check_same_events(r.events, expected, "all events, fed line by line");
        check_same_events(parse_whole(espat::proto::device_stream(s.lines)), expected, "all events, fed whole");
    }
}
