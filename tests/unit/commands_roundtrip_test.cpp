// Randomized round trips over every descriptor of espat::commands::all_command_list.
//
// What this file proves, for random VALID values (fixed std::mt19937 seeds, one per iteration,
// named in every failure message):
//  1. Requests: every set form's request, written by encode_set, is either refused only for
//     the 256-byte line limit (nothing written), or read back by the device side
//     (decode_request<any_request>) as that same form holding the same parameters; and no
//     request ever puts "\r\n" (or a lone CR, LF or NUL) anywhere but at the end of its line.
//  2. Replies: every form's response value, written by encode_reply and read through the real
//     protocol parser (espat::proto::parser), decodes back to the same value.
//
// Values come from sampler<Codec>, one specialisation per codec: a codec without one does not
// compile, so a new codec cannot slip into the table untested. Shapes are sampled the same way
// (shape_sampler / line_sampler).
#include <espat/commands/device.hpp>
#include <espat/commands/host.hpp>
#include <espat/commands/table.hpp>
#include <espat/proto/parser.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

using namespace espat::commands;
namespace cmd = espat::commands;

namespace {

constexpr int request_iterations = 200;
constexpr int reply_iterations = 100;
constexpr std::uint32_t request_base_seed = 0x5e7'0000;
constexpr std::uint32_t reply_base_seed = 0x4e9'0000;

using rng = std::mt19937;

// ---------------------------------------------------------------------------------------------
// Random primitives.

bool one_in(rng& g, int n) { return std::uniform_int_distribution<int>(0, n - 1)(g) == 0; }

template <class T>
T uniform(rng& g, T lo, T hi)
{
    if constexpr (std::is_signed_v<T>)
        return static_cast<T>(std::uniform_int_distribution<long long>(lo, hi)(g));
    else
        return static_cast<T>(std::uniform_int_distribution<unsigned long long>(lo, hi)(g));
}

// Uniform over lo..hi, with each end itself one time in eight, so the limits are always hit.
template <class T>
T uniform_with_ends(rng& g, T lo, T hi)
{
    switch (std::uniform_int_distribution<int>(0, 15)(g)) {
    case 0: return lo;
    case 1: return hi;
    default: return uniform<T>(g, lo, hi);
    }
}

// Where a random string goes decides which bytes it may hold.
enum class text_use {
    request,      // a request parameter: escaped by the host, so anything but CR, LF, NUL
    reply_field,  // an ordinary response field: the module does not escape, so no ',' or '"'
                  // either (they would split or end the field: the line format cannot carry them)
    reply_free,   // a response line's free field (an SSID, a common name): read around the
                  // other fields, so ',' and '"' are fine
};

// A random length up to max: mostly short (lines stay readable and under 256 bytes), sometimes
// anything up to max, and max itself now and then.
std::size_t random_length(rng& g, std::size_t max)
{
    if (one_in(g, 16)) return max;
    if (one_in(g, 4)) return uniform<std::size_t>(g, 0, max);
    return uniform<std::size_t>(g, 0, std::min<std::size_t>(max, 12));
}

// Never CR, LF or NUL: a value holding one is not valid (the encoder refuses it by design).
char random_char(rng& g, text_use use)
{
    static constexpr std::string_view specials = ",\"\\ ,\"\\ \t";
    for (;;) {
        char c;
        switch (std::uniform_int_distribution<int>(0, 5)(g)) {
        case 0: c = specials[uniform<std::size_t>(g, 0, specials.size() - 1)]; break;
        case 1: c = static_cast<char>(uniform<int>(g, 0x80, 0xff)); break;   // UTF-8 bytes and the like
        default: c = static_cast<char>(uniform<int>(g, 0x20, 0x7e)); break;  // printable ASCII
        }
        if (use == text_use::reply_field && (c == ',' || c == '"')) continue;
        return c;
    }
}

std::string random_text(rng& g, std::size_t max, text_use use)
{
    std::string s(random_length(g, max), ' ');
    for (char& c : s) c = random_char(g, use);
    return s;
}

// Bytes as a readable C string, for failure messages.
std::string shown(std::string_view s)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\r') out += "\\r";
        else if (c == '\n') out += "\\n";
        else if (c == '\\' || c == '"') out += '\\', out += ch;
        else if (c >= 0x20 && c < 0x7f) out += ch;
        else out += "\\x", out += hex[c >> 4], out += hex[c & 15];
    }
    return out + "\"";
}

// ---------------------------------------------------------------------------------------------
// sampler<Codec>::sample(g, use): a random valid value of the codec's value type. Deliberately
// no primary definition: a codec without a sampler is a compile error.

template <class Codec>
struct sampler;

template <std::integral T>
struct sampler<integer<T>> {
    static T sample(rng& g, text_use) { return uniform_with_ends<T>(g, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()); }
};

template <class B>
struct sampler<ranged<B>> {
    static B sample(rng& g, text_use) { return *B::checked(uniform_with_ends<std::int64_t>(g, B::min, B::max)); }
};

template <class T, T Max>
struct sampler<bitmask<T, Max>> {
    static T sample(rng& g, text_use) { return uniform_with_ends<T>(g, 0, Max); }
};

template <>
struct sampler<flag> {
    static bool sample(rng& g, text_use) { return one_in(g, 2); }
};

template <class E>
struct sampler<number<E>> {
    static E sample(rng& g, text_use)
    {
        const auto& values = espat::enum_numbers<E>::values;
        return values[uniform<std::size_t>(g, 0, std::size(values) - 1)];
    }
};

template <class E>
struct sampler<keyword<E>> {
    static E sample(rng& g, text_use)
    {
        const auto& words = espat::enum_keywords<E>::words;
        return words[uniform<std::size_t>(g, 0, std::size(words) - 1)].first;
    }
};

template <std::size_t N>
struct sampler<quoted<N>> {
    static std::string sample(rng& g, text_use use) { return random_text(g, quoted<N>::max_length, use); }
};

// Never sent by the host (its encode refuses ',', '"', '\'): reply text only, and a bare field
// has no quotes to hold ',' either.
template <>
struct sampler<bare_text> {
    static std::string sample(rng& g, text_use) { return random_text(g, 40, text_use::reply_field); }
};

template <>
struct sampler<ip_address> {
    static asio::ip::address sample(rng& g, text_use)
    {
        if (one_in(g, 2)) return asio::ip::address_v4(uniform<std::uint32_t>(g, 0, 0xffffffffu));
        asio::ip::address_v6::bytes_type b{};
        for (auto& x : b) x = uniform<std::uint8_t>(g, 0, 255);
        if (one_in(g, 4)) std::fill(b.begin() + 2, b.begin() + 12, 0);  // "::"-compressed forms
        return asio::ip::address_v6(b);
    }
};

template <>
struct sampler<bare_ip_address> : sampler<ip_address> {};

template <>
struct sampler<cmd::mac> {
    static espat::mac_address sample(rng& g, text_use)
    {
        espat::mac_address m;
        for (auto& x : m.bytes) x = uniform<std::uint8_t>(g, 0, 255);
        return m;
    }
};

template <class D, std::int64_t Max, std::int64_t Min>
struct sampler<cmd::duration<D, Max, Min>> {
    static D sample(rng& g, text_use) { return D(uniform_with_ends<std::int64_t>(g, Min, Max)); }
};

// 0001-01-01 .. 9999-12-31: the asctime line prints the year as a plain number.
template <>
struct sampler<cmd::asctime> {
    static std::chrono::sys_seconds sample(rng& g, text_use)
    {
        using namespace std::chrono;
        const auto lo = sys_days{year{1} / 1 / 1}.time_since_epoch().count() * 86400LL;
        const auto hi = sys_days{year{9999} / 12 / 31}.time_since_epoch().count() * 86400LL + 86399;
        return sys_seconds{seconds{one_in(g, 2) ? uniform<long long>(g, 0, 4102444800LL) : uniform<long long>(g, lo, hi)}};
    }
};

template <std::integral T>
struct sampler<tolerant_count<T>> {
    static std::optional<T> sample(rng& g, text_use)
    {
        if (one_in(g, 4)) return std::nullopt;
        return uniform_with_ends<T>(g, 0, std::numeric_limits<T>::max());
    }
};

// Items of a list are split at every comma outside quotes, in a reply as well: an item can never
// be a free field, so reply items keep to reply_field's bytes.
template <class Item, std::size_t Min, std::size_t Max>
struct sampler<list_of<Item, Min, Max>> {
    static std::vector<typename Item::value_type> sample(rng& g, text_use use)
    {
        const text_use item_use = use == text_use::request ? use : text_use::reply_field;
        std::vector<typename Item::value_type> v(uniform<std::size_t>(g, Min, Max));
        for (auto& x : v) x = sampler<Item>::sample(g, item_use);
        return v;
    }
};

template <class List>
struct sampler<counted<List>> {
    static auto sample(rng& g, text_use use) { return sampler<List>::sample(g, use); }
};

// Either spelling: whole hours -12..14, or [+|-]hhmm within -12:00..+14:00.
template <>
struct sampler<time_zone> {
    static espat::utc_offset sample(rng& g, text_use)
    {
        if (one_in(g, 2)) return *espat::utc_offset::checked(uniform_with_ends<int>(g, -12, 14));
        for (;;) {
            const int hh = uniform<int>(g, -12, 14), mm = uniform<int>(g, 0, 59);
            const int v = hh * 100 + (hh < 0 ? -mm : mm);
            if (auto o = espat::utc_offset::checked(v); o && o->hhmm_form()) return *o;
        }
    }
};

template <class Codec, fixed_string Word>
struct sampler<or_keyword<Codec, Word>> {
    static std::optional<typename Codec::value_type> sample(rng& g, text_use use)
    {
        if (one_in(g, 4)) return std::nullopt;
        return sampler<Codec>::sample(g, use);
    }
};

template <class Codec>
struct sampler<in_quotes<Codec>> : sampler<Codec> {};

// ---------------------------------------------------------------------------------------------
// Requests.

// One stored member of a request (fixed parameters store none), in the form the struct holds it.
template <class F>
auto sample_member(rng& g)
{
    if constexpr (F::is_fixed) {
        return std::tuple<>{};
    } else {
        using M = typename F::member_type;
        if constexpr (F::is_optional) {
            if (one_in(g, 2)) return std::tuple<M>{M{}};
            return std::tuple<M>{M{sampler<typename F::codec_type>::sample(g, text_use::request)}};
        } else {
            return std::tuple<M>{M(sampler<typename F::codec_type>::sample(g, text_use::request))};
        }
    }
}

// Aggregate initialisation in field order, skipping fixed fields: as decode_params_impl builds
// a request. The braced list samples the members left to right, the same on every compiler.
template <class Request, class... F, std::size_t... I>
Request sample_request(rng& g, std::index_sequence<I...>)
{
    std::tuple<decltype(sample_member<F>(g))...> parts{sample_member<F>(g)...};
    auto members = std::tuple_cat(std::move(std::get<I>(parts))...);
    return std::apply([](auto&&... m) { return Request{std::move(m)...}; }, std::move(members));
}

// The leading [<link ID>,] of a request: nullopt when the form has none, else whether it is given.
template <class Request, class... F>
std::optional<bool> leading_present(const Request& r)
{
    std::optional<bool> present;
    auto one = [&]<class Field>(Field*) {
        if constexpr (Field::is_leading) present = Field::get(r) != nullptr;
    };
    (one(static_cast<F*>(nullptr)), ...);
    return present;
}

// A line is one command: its only CR, LF (and never a NUL) are the "\r\n" at its end.
bool single_command_line(std::string_view line)
{
    if (!line.ends_with("\r\n")) return false;
    line.remove_suffix(2);
    return line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

struct request_tally {
    int descriptors = 0, encoded = 0, too_long = 0;
};

template <class C, class... F>
void check_requests(fields<F...>*, std::uint32_t base_seed, request_tally& tally)
{
    using Request = typename C::set::request;
    ++tally.descriptors;
    for (int i = 0; i < request_iterations; ++i) {
        const std::uint32_t seed = base_seed + static_cast<std::uint32_t>(i);
        INFO(C::command, " set form, seed ", seed);
        rng g(seed);
        const Request request = sample_request<Request, F...>(g, std::index_sequence_for<F...>{});
        const std::optional<bool> leading = leading_present<Request, F...>(request);

        const std::string before = "AT\r\n";  // what was in the buffer already must stay as it was
        std::string out = before;
        int bad_param = -2;
        const std::error_code ec = encode_set<C>(out, request, &bad_param);
        CHECK_MESSAGE(bad_param == -1, "a valid parameter was refused: index ", bad_param);
        if (ec) {
            // Only the 256-byte line limit may refuse valid parameters; nothing is written then.
            CHECK(ec == espat::errc::invalid_argument);
            CHECK(out == before);
            ++tally.too_long;
            continue;
        }
        const std::string line = out.substr(before.size());
        INFO("line: ", shown(line));
        CHECK(line.size() <= max_command_line);
        CHECK(single_command_line(line));
        ++tally.encoded;

        request_context ctx;
        if (leading) ctx.multiple_links = *leading;
        const auto decoded = decode_request<any_request>(line, ctx);
        REQUIRE_MESSAGE(decoded.has_value(), "the device side does not read the line");
        const auto* same_form = espat::commands::get_if<request_of<C, typename C::set>>(&*decoded);
        CHECK_MESSAGE(same_form != nullptr, "read as another form (variant index ", decoded->index(), ")");
        if (same_form) CHECK_MESSAGE(same_form->params == request, "read back with different parameters");
    }
}

// ---------------------------------------------------------------------------------------------
// Replies: shape_sampler<Shape>::sample(g) and line_sampler<Line>::sample(g).

template <class Line>
struct line_sampler;
template <class Shape>
struct shape_sampler;

// A line's value: every field sampled; an optional one left out one time in three, except
// where the line needs it (strict_line's MinFields: canonical form). The free field (FreeIndex)
// may hold ',' and '"'; the others may not (see text_use).
template <class Value, std::size_t FreeIndex, std::size_t MinFields, class... F>
Value sample_line_value(rng& g, fields<F...>*)
{
    Value v{};
    std::size_t index = 0;
    auto one = [&]<class Field>(Field*) {
        const std::size_t i = index++;
        const text_use use = i == FreeIndex ? text_use::reply_free : text_use::reply_field;
        if constexpr (Field::is_whole) {
            v = sampler<typename Field::codec_type>::sample(g, use);
        } else {
            if constexpr (Field::is_optional)
                if (i >= MinFields && one_in(g, 3)) return;
            Field::set(v, sampler<typename Field::codec_type>::sample(g, use));
        }
    };
    (one(static_cast<F*>(nullptr)), ...);
    return v;
}

template <class Value, fixed_string Prefix, class Fields, std::size_t FreeIndex>
struct line_sampler<line<Value, Prefix, Fields, FreeIndex>> {
    static Value sample(rng& g) { return sample_line_value<Value, FreeIndex, 0>(g, static_cast<Fields*>(nullptr)); }
};

template <class Value, fixed_string Prefix, class Fields, std::size_t FreeIndex>
struct line_sampler<plain_line<Value, Prefix, Fields, FreeIndex>> {
    static Value sample(rng& g) { return sample_line_value<Value, FreeIndex, 0>(g, static_cast<Fields*>(nullptr)); }
};

template <class Value, fixed_string Prefix, class Fields, std::size_t FreeIndex, std::size_t MinFields>
struct line_sampler<strict_line<Value, Prefix, Fields, FreeIndex, MinFields>> {
    static Value sample(rng& g)
    {
        return sample_line_value<Value, FreeIndex, MinFields>(g, static_cast<Fields*>(nullptr));
    }
};

template <class Line>
struct line_sampler<parenthesized<Line>> {
    static auto sample(rng& g) { return line_sampler<Line>::sample(g); }
};

template <>
struct shape_sampler<no_info> {
    static nothing sample(rng&) { return {}; }
};

template <class Line>
struct shape_sampler<one<Line>> {
    static auto sample(rng& g) { return line_sampler<Line>::sample(g); }
};

template <class Line>
struct shape_sampler<maybe<Line>> {
    static typename maybe<Line>::value_type sample(rng& g)
    {
        if (one_in(g, 4)) return std::nullopt;
        return line_sampler<Line>::sample(g);
    }
};

template <class Line>
struct shape_sampler<many<Line>> {
    static typename many<Line>::value_type sample(rng& g)
    {
        typename many<Line>::value_type v(uniform<std::size_t>(g, 0, 4));
        for (auto& x : v) x = line_sampler<Line>::sample(g);
        return v;
    }
};

template <class Value, class... Parts>
struct shape_sampler<record<Value, Parts...>> {
    static Value sample(rng& g)
    {
        Value v{};
        ((v.*Parts::member = shape_sampler<typename Parts::shape>::sample(g)), ...);
        return v;
    }
};

// Every key: optional members left out one time in four.
template <class Value, fixed_string Prefix, char Sep, class... Keys>
struct shape_sampler<keyed<Value, Prefix, Sep, Keys...>> {
    static Value sample(rng& g)
    {
        Value v{};
        auto one = [&]<class K>(K*) {
            using F = typename K::field_type;
            if (F::is_optional && one_in(g, 4)) return;
            F::set(v, sampler<typename F::codec_type>::sample(g, text_use::reply_field));
        };
        (one(static_cast<Keys*>(nullptr)), ...);
        return v;
    }
};

// Canonical form: the lines fill the slots in order, so the present slots are a prefix (a value
// with a gap would be written as fewer lines and read into the earlier slots: ambiguous by design).
template <class Value, fixed_string Prefix, class... Slots>
struct shape_sampler<sequence<Value, Prefix, Slots...>> {
    static Value sample(rng& g)
    {
        Value v{};
        const std::size_t present = uniform<std::size_t>(g, 0, sizeof...(Slots));
        std::size_t index = 0;
        auto one = [&]<class S>(S*) {
            using F = typename S::field_type;
            if (index++ < present) F::set(v, sampler<typename F::codec_type>::sample(g, text_use::reply_field));
        };
        (one(static_cast<Slots*>(nullptr)), ...);
        return v;
    }
};

// one_of writes its first shape: the value is sampled for it (the others are checked apart, by
// check_alternatives).
template <class First, class... Rest>
struct shape_sampler<one_of<First, Rest...>> {
    static auto sample(rng& g) { return shape_sampler<First>::sample(g); }
};

// AT+GMR's text lines, in the canonical form the encoder writes: the version line starts with
// "AT version:<a.b.c.d>" and at_version / chip are what that line says (they are derived from
// it when read); an empty sdk / compile / bin value means "no such line"; other lines are
// printable ASCII (a text line with other bytes is noise to the parser) and start with none
// of the known keys, nor with a wording the parser takes for another event ("OK", "ready",
// '+', '>', "<id>,CONNECT"...): here they all start "vendor ".
template <>
struct shape_sampler<text_block<firmware_info_text>> {
    static std::string printable_text(rng& g, std::size_t max)
    {
        std::string s(random_length(g, max), ' ');
        for (char& c : s) c = static_cast<char>(uniform<int>(g, 0x20, 0x7e));
        return s;
    }
    static espat::firmware_info sample(rng& g)
    {
        espat::firmware_info info;
        std::string line = "AT version:";
        const int parts = uniform<int>(g, 2, 4);
        for (int i = 0; i < parts; ++i) {
            if (i) line += '.';
            line += std::to_string(uniform_with_ends<int>(g, 0, 65535));
        }
        if (one_in(g, 2)) {
            static constexpr std::string_view chips[] = {"ESP32", "ESP8266", "ESP32C3", "ESP32S2"};
            line += "(" + printable_text(g, 8) + " - " + std::string(chips[uniform<std::size_t>(g, 0, 3)]) + " - " +
                    printable_text(g, 20) + ")";
        } else if (one_in(g, 2)) {
            line += "(" + printable_text(g, 30) + ")";
        }
        info.at_version_line = line;
        info.at_version = *espat::version::parse(line.substr(firmware_info_text::at_version_key.size()));
        info.chip = firmware_info_text::chip_of(line.substr(firmware_info_text::at_version_key.size()));
        if (!one_in(g, 4)) info.sdk_version = printable_text(g, 20);
        if (!one_in(g, 4)) info.compile_time = printable_text(g, 24);
        if (!one_in(g, 4)) info.bin_version = printable_text(g, 20);
        const std::size_t others = uniform<std::size_t>(g, 0, 3);
        for (std::size_t i = 0; i < others; ++i) info.other_lines.push_back("vendor " + printable_text(g, 30));
        return info;
    }
};

// ---------------------------------------------------------------------------------------------
// Reply bytes -> response lines, through the real parser.

struct parsed_reply {
    std::vector<std::pair<std::string, std::string>> lines;  // name, args (owned: event views are short-lived)
    std::string problem;                                      // empty when every event was a response line

    std::vector<response_line> views() const
    {
        std::vector<response_line> v;
        for (const auto& [name, args] : lines) v.push_back({name, args});
        return v;
    }
};

parsed_reply parse_reply(std::string_view bytes)
{
    parsed_reply out;
    espat::proto::parser p;
    auto on_event = [&](const espat::proto::event& e) {
        using espat::proto::event_kind;
        if (e.kind == event_kind::info) out.lines.emplace_back(e.name, e.args);
        else if (e.kind == event_kind::text) out.lines.emplace_back(std::string(), e.text);
        else out.problem += "unexpected " + std::string(to_string(e.kind)) + " event " + shown(e.text) + "; ";
    };
    p.feed(bytes, on_event);
    p.flush(on_event);
    if (!p.idle()) out.problem += "bytes left over after the last line; ";
    return out;
}

template <class Shape>
void check_replies_of_shape(std::string_view what, std::uint32_t base_seed, int& checked)
{
    for (int i = 0; i < reply_iterations; ++i) {
        const std::uint32_t seed = base_seed + static_cast<std::uint32_t>(i);
        INFO(what, ", seed ", seed);
        rng g(seed);
        const typename Shape::value_type value = shape_sampler<Shape>::sample(g);
        std::string bytes;
        Shape::encode(bytes, value);
        INFO("reply: ", shown(bytes));
        const parsed_reply parsed = parse_reply(bytes);
        CHECK_MESSAGE(parsed.problem.empty(), parsed.problem);
        const auto lines = parsed.views();
        const auto decoded = Shape::decode(lines);
        CHECK_MESSAGE(decoded.has_value(), "the reply does not decode");
        if (decoded) CHECK_MESSAGE(*decoded == value, "the reply decodes to another value");
        ++checked;
    }
}

// A descriptor form's response through encode_reply / decode_response (the public entry points).
template <class Form>
void check_replies(std::string_view what, std::uint32_t base_seed, int& checked)
{
    using Shape = typename Form::response;
    for (int i = 0; i < reply_iterations; ++i) {
        const std::uint32_t seed = base_seed + static_cast<std::uint32_t>(i);
        INFO(what, ", seed ", seed);
        rng g(seed);
        const typename Shape::value_type value = shape_sampler<Shape>::sample(g);
        std::string bytes;
        encode_reply<Form>(bytes, value);
        INFO("reply: ", shown(bytes));
        const parsed_reply parsed = parse_reply(bytes);
        CHECK_MESSAGE(parsed.problem.empty(), parsed.problem);
        const auto lines = parsed.views();
        const auto decoded = decode_response<Form>(lines);
        CHECK_MESSAGE(decoded.has_value(), "the reply does not decode");
        if (decoded) CHECK_MESSAGE(*decoded == value, "the reply decodes to another value");
        ++checked;
    }
}

// The other shapes of a one_of (older firmware's layouts), each round-tripped on its own: one_of
// only ever writes its first.
template <class Shape>
struct alternatives {
    static void check(std::string_view, std::uint32_t, int&) {}
};
template <class First, class... Rest>
struct alternatives<one_of<First, Rest...>> {
    static void check(std::string_view what, std::uint32_t base_seed, int& checked)
    {
        std::uint32_t n = 0;
        auto one = [&]<class Shape>(Shape*) {
            ++n;
            check_replies_of_shape<Shape>(std::string(what) + " (alternative shape " + std::to_string(n) + ")",
                                          base_seed + 0x1000 * n, checked);
        };
        (one(static_cast<Rest*>(nullptr)), ...);
    }
};

struct reply_tally {
    int forms = 0, values = 0;
};

template <class Form>
void check_form_replies(std::string_view command, std::string_view form, std::uint32_t base_seed, reply_tally& tally)
{
    const std::string what = std::string(command) + " " + std::string(form) + " reply";
    ++tally.forms;
    check_replies<Form>(what, base_seed, tally.values);
    alternatives<typename Form::response>::check(what, base_seed, tally.values);
}

template <class C>
void check_descriptor_replies(std::uint32_t base_seed, reply_tally& tally)
{
    if constexpr (has_test<C>) check_form_replies<typename C::test>(C::command, "test", base_seed + 0x100, tally);
    if constexpr (has_query<C>) check_form_replies<typename C::query>(C::command, "query", base_seed + 0x200, tally);
    if constexpr (has_set<C>) check_form_replies<typename C::set>(C::command, "set", base_seed + 0x300, tally);
    if constexpr (has_execute<C>) check_form_replies<typename C::execute>(C::command, "execute", base_seed + 0x400, tally);
}

template <class... C>
constexpr std::size_t count_of(cmd::detail::type_list<C...>*)
{
    return sizeof...(C);
}
constexpr std::size_t descriptor_count = count_of(static_cast<all_command_list*>(nullptr));

}  // namespace

TEST_CASE("commands round trip: random valid requests of every set form encode, stay one line, and read back")
{
    request_tally tally;
    []<class... C>(request_tally& t, cmd::detail::type_list<C...>*) {
        std::uint32_t index = 0;
        auto one = [&]<class D>(D*) {
            const std::uint32_t base = request_base_seed + 0x10000 * index++;
            if constexpr (has_set<D>) check_requests<D>(static_cast<typename D::set::params*>(nullptr), base, t);
        };
        (one(static_cast<C*>(nullptr)), ...);
    }(tally, static_cast<all_command_list*>(nullptr));

    MESSAGE("requests: ", tally.descriptors, " set forms of ", descriptor_count, " descriptors, ", tally.encoded,
            " lines encoded and read back, ", tally.too_long, " refused for the 256-byte limit");
    CHECK(tally.descriptors >= 40);
    // Most values must fit, or the test proves little.
    CHECK(tally.encoded > 9 * (tally.encoded + tally.too_long) / 10);
}

TEST_CASE("commands round trip: random reply values of every form survive encode_reply, the parser and decode")
{
    reply_tally tally;
    []<class... C>(reply_tally& t, cmd::detail::type_list<C...>*) {
        std::uint32_t index = 0;
        auto one = [&]<class D>(D*) { check_descriptor_replies<D>(reply_base_seed + 0x10000 * index++, t); };
        (one(static_cast<C*>(nullptr)), ...);
    }(tally, static_cast<all_command_list*>(nullptr));

    MESSAGE("replies: ", tally.forms, " forms of ", descriptor_count, " descriptors, ", tally.values, " values");
    CHECK(tally.forms >= descriptor_count);
}
