// fuzz_decoders.cpp — libFuzzer target for the command table's generated codecs: every form's
// typed response decoder (commands::decode_response<Form>) over arbitrary response lines, the
// device-side reply encoder (encode_reply<Form>) on what was decoded, and every set form's
// request encoder (encode_set<C>) on hostile values.
//
// The first bytes pick a form of a command of all_command_list; for a set form a length byte
// and that many bytes build a request; the rest are the module's response lines. See README.md.
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -D_GLIBCXX_ASSERTIONS \
//       -Iinclude tests/fuzz/fuzz_decoders.cpp -o fuzz_decoders
#include <espat/commands/device.hpp>
#include <espat/commands/host.hpp>
#include <espat/commands/table.hpp>
#include <espat/proto/parser.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

namespace cmd = espat::commands;

// Input layout (missing bytes read as 0):
//   [0..1]  the form: an index into every form of every command, in table order (mod count)
//   [2]     set forms: n, the number of bytes after it that build the request (value_from)
//   [3..]   n request bytes, then the module's response, split into lines at '\n'. A line that
//           starts with a byte below 0x08 starts instead with one of the ways the form's
//           response lines begin ("+CWJAP:", "STATUS:", "+CIPSTA:ip:", ...), picked by it.
//           For a set form the first line (at most 256 bytes) is also read as the device reads
//           the form's parameter list.

struct reader {
    const std::uint8_t* p;
    std::size_t n;
    std::uint8_t u8()
    {
        if (n == 0) return 0;
        --n;
        return *p++;
    }
    template <class T>
    T integral()
    {
        std::make_unsigned_t<T> v = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<std::make_unsigned_t<T>>(v << 8 | u8());
        return static_cast<T>(v);
    }
    std::string text(std::size_t max)
    {
        const std::size_t want = max > 255 ? static_cast<std::size_t>(u8() | u8() << 8) : u8();
        const std::size_t k = std::min<std::size_t>(want % (max + 1), n);
        std::string s(reinterpret_cast<const char*>(p), k);
        p += k;
        n -= k;
        return s;
    }
};

std::string shown(std::string_view s, std::size_t max = 400)
{
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '\r') out += "\\r";
        else if (c == '\n') out += "\\n";
        else if (c == '\\' || c == '"') out += '\\', out += static_cast<char>(c);
        else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
        else {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        }
    }
    if (s.size() > max) out += "...";
    return out;
}

bool dump = false;  // ESPAT_FUZZ_DUMP: say what each input reached

[[noreturn]] void fail(std::string_view command, std::string_view form, const std::string& why)
{
    std::fprintf(stderr, "\n=== espat decoders fuzz failure: %.*s %.*s: %s\n", static_cast<int>(command.size()),
                 command.data(), static_cast<int>(form.size()), form.data(), why.c_str());
    std::fflush(stderr);
    __builtin_trap();
}

// ---------------------------------------------------------------------------------------------
// Response lines: how each shape's lines begin, so the fuzzer need not guess prefixes.

template <class Shape>
struct starts_of {
    static void add(std::vector<std::string>&) {}  // no_info, text_block: no fixed start
};
template <class V, cmd::fixed_string P, class F, std::size_t I>
struct starts_of<cmd::line<V, P, F, I>> {
    static void add(std::vector<std::string>& out) { out.push_back("+" + std::string(P.view()) + ":"); }
};
template <class V, cmd::fixed_string P, class F, std::size_t I>
struct starts_of<cmd::plain_line<V, P, F, I>> {
    static void add(std::vector<std::string>& out) { out.push_back(std::string(P.view()) + ":"); }
};
template <class V, cmd::fixed_string P, class F, std::size_t I, std::size_t M>
struct starts_of<cmd::strict_line<V, P, F, I, M>> {
    static void add(std::vector<std::string>& out) { out.push_back("+" + std::string(P.view()) + ":"); }
};
template <class L>
struct starts_of<cmd::parenthesized<L>> {
    static void add(std::vector<std::string>& out) { out.push_back("+" + std::string(L::prefix) + ":("); }
};
template <class L>
struct starts_of<cmd::one<L>> : starts_of<L> {};
template <class L>
struct starts_of<cmd::maybe<L>> : starts_of<L> {};
template <class L>
struct starts_of<cmd::many<L>> : starts_of<L> {};
template <class V, class... Parts>
struct starts_of<cmd::record<V, Parts...>> {
    static void add(std::vector<std::string>& out) { (starts_of<typename Parts::shape>::add(out), ...); }
};
template <class V, cmd::fixed_string P, char Sep, class... Keys>
struct starts_of<cmd::keyed<V, P, Sep, Keys...>> {
    static void add(std::vector<std::string>& out)
    {
        (out.push_back("+" + std::string(P.view()) + ":" + std::string(Keys::name) + Sep), ...);
    }
};
template <class V, cmd::fixed_string P, class... Slots>
struct starts_of<cmd::sequence<V, P, Slots...>> {
    static void add(std::vector<std::string>& out) { out.push_back("+" + std::string(P.view()) + ":"); }
};
template <class First, class... Rest>
struct starts_of<cmd::one_of<First, Rest...>> {
    static void add(std::vector<std::string>& out)
    {
        starts_of<First>::add(out);
        (starts_of<Rest>::add(out), ...);
    }
};
template <>
struct starts_of<cmd::text_block<cmd::firmware_info_text>> {
    static void add(std::vector<std::string>& out)
    {
        out.push_back(std::string(cmd::firmware_info_text::at_version_key));
        out.push_back(std::string(cmd::firmware_info_text::sdk_version_key));
    }
};

// Whether a decoded value can be written back the way it was read. The module does not escape
// what it prints, so some strings the lenient decoders accept have no reply that reads back the
// same (the unit test's samplers avoid the same bytes): a '"' in a quoted field other than the
// line's free one, a ',' in one when the line has a free field (the fields around it are split
// at every comma), a ',' or '"' in a bare field, and in a list item wherever the list is (its
// items are split at every comma outside quotes). Such values are not round-tripped.
enum class place { ordinary, beside_free, free };

template <class Codec>
struct carried {
    template <class V>
    static bool check(const V&, place) { return true; }
};
template <std::size_t N>
struct carried<cmd::quoted<N>> {
    static bool check(const std::string& v, place at)
    {
        if (at == place::free) return true;
        return v.find('"') == std::string::npos && (at == place::ordinary || v.find(',') == std::string::npos);
    }
};
template <>
struct carried<cmd::bare_text> {
    static bool check(const std::string& v, place at)
    {
        return at == place::free || v.find_first_of(",\"") == std::string::npos;
    }
};
template <class Item, std::size_t Min, std::size_t Max>
struct carried<cmd::list_of<Item, Min, Max>> {
    template <class V>
    static bool check(const V& items, place)
    {
        for (const auto& x : items) {
            if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::string>)
                if (x.find_first_of(",\"") != std::string::npos) return false;
            if (!carried<Item>::check(x, place::beside_free)) return false;
        }
        return true;
    }
};
template <class List>
struct carried<cmd::counted<List>> : carried<List> {};
template <class Codec>
struct carried<cmd::in_quotes<Codec>> : carried<Codec> {};
template <class Codec, cmd::fixed_string Word>
struct carried<cmd::or_keyword<Codec, Word>> {
    template <class V>
    static bool check(const V& v, place at)
    {
        return !v || carried<Codec>::check(*v, at);
    }
};

template <class Shape>
struct writable {
    template <class V>
    static bool check(const V&) { return true; }  // no_info, keyed, sequence, text_block: whole lines
};
template <class V, class... F, std::size_t Free>
bool line_writable(const V& v, cmd::fields<F...>*, std::integral_constant<std::size_t, Free>)
{
    bool ok = true;
    std::size_t i = 0;
    auto one = [&]<class Field>(Field*) {
        const std::size_t index = i++;
        const place at = index == Free ? place::free : Free < sizeof...(F) ? place::beside_free : place::ordinary;
        if (!ok) return;
        if constexpr (Field::is_whole) {
            ok = carried<typename Field::codec_type>::check(v, at);
        } else if (const auto* p = Field::get(v)) {
            ok = carried<typename Field::codec_type>::check(*p, at);
        }
    };
    (one(static_cast<F*>(nullptr)), ...);
    return ok;
}
template <class V, cmd::fixed_string P, class F, std::size_t I>
struct writable<cmd::line<V, P, F, I>> {
    static bool check(const V& v) { return line_writable(v, static_cast<F*>(nullptr), std::integral_constant<std::size_t, I>{}); }
};
template <class V, cmd::fixed_string P, class F, std::size_t I>
struct writable<cmd::plain_line<V, P, F, I>> : writable<cmd::line<V, P, F, I>> {};
template <class V, cmd::fixed_string P, class F, std::size_t I, std::size_t M>
struct writable<cmd::strict_line<V, P, F, I, M>> : writable<cmd::line<V, P, F, I>> {};
template <class L>
struct writable<cmd::parenthesized<L>> : writable<L> {};
template <class L>
struct writable<cmd::one<L>> : writable<L> {};
template <class L>
struct writable<cmd::maybe<L>> {
    template <class V>
    static bool check(const V& v) { return !v || writable<L>::check(*v); }
};
template <class L>
struct writable<cmd::many<L>> {
    template <class V>
    static bool check(const V& v)
    {
        return std::all_of(v.begin(), v.end(), [](const auto& x) { return writable<L>::check(x); });
    }
};
template <class V, class... Parts>
struct writable<cmd::record<V, Parts...>> {
    static bool check(const V& v) { return (writable<typename Parts::shape>::check(v.*Parts::member) && ...); }
};
template <class First, class... Rest>
struct writable<cmd::one_of<First, Rest...>> : writable<First> {};  // written in the first shape

// What a session hands a decoder: the information and text lines among the module's output,
// read by the real parser (final results, echo, reports and the rest are not response lines).
struct parsed {
    std::vector<std::pair<std::string, std::string>> lines;
    std::vector<std::string> others;  // what else the bytes held
    std::vector<cmd::response_line> views() const
    {
        std::vector<cmd::response_line> v;
        v.reserve(lines.size());
        for (const auto& [name, args] : lines) v.push_back({name, args});
        return v;
    }
};

parsed parse(std::string_view bytes)
{
    parsed out;
    espat::proto::parser p;
    auto on_event = [&](const espat::proto::event& e) {
        using espat::proto::event_kind;
        if (e.kind == event_kind::info) out.lines.emplace_back(e.name, e.args);
        else if (e.kind == event_kind::text) out.lines.emplace_back(std::string(), e.text);
        else out.others.push_back(std::string(to_string(e.kind)) + " \"" + shown(e.text) + "\"");
    };
    p.feed(bytes, on_event);
    p.flush(on_event);
    return out;
}

std::string response_bytes(reader& in, const std::vector<std::string>& starts)
{
    std::string bytes;
    std::string_view rest(reinterpret_cast<const char*>(in.p), in.n);
    while (!rest.empty()) {
        const std::size_t lf = rest.find('\n');
        std::string_view line = rest.substr(0, lf);
        rest = lf == std::string_view::npos ? std::string_view{} : rest.substr(lf + 1);
        if (!line.empty() && static_cast<unsigned char>(line[0]) < 0x08 && !starts.empty()) {
            bytes += starts[static_cast<unsigned char>(line[0]) % starts.size()];
            line.remove_prefix(1);
        }
        bytes += line;
        bytes += "\r\n";
    }
    return bytes;
}

template <class Form>
void check_response(std::string_view command, std::string_view form, reader& in)
{
    using Shape = typename Form::response;
    static const std::vector<std::string> starts = [] {
        std::vector<std::string> s;
        starts_of<Shape>::add(s);
        return s;
    }();
    const std::string bytes = response_bytes(in, starts);
    const parsed got = parse(bytes);
    const auto lines = got.views();
    const auto value = cmd::decode_response<Form>(lines);
    if (dump)
        std::fprintf(stderr, "  response of %zu lines: %s\n", lines.size(),
                     !value ? "not read" : writable<Shape>::check(*value) ? "read, round trip checked" : "read, not writable");
    if (!value || !writable<Shape>::check(*value)) return;

    // What a simulated module prints for that value must read back as the same value.
    std::string reply;
    cmd::encode_reply<Form>(reply, *value);
    const parsed again = parse(reply);
    const auto lines2 = again.views();
    const auto value2 = cmd::decode_response<Form>(lines2);
    auto why = [&](const char* what) {
        std::string s = std::string(what) + "\n  response: \"" + shown(bytes) + "\"\n  reply:    \"" + shown(reply) + "\"";
        for (const auto& o : again.others) s += "\n  the reply also held: " + o;
        return s;
    };
    if (!value2) fail(command, form, why("the reply encoded from a decoded value does not decode"));
    if (!(*value2 == *value)) fail(command, form, why("the reply encoded from a decoded value decodes to another value"));
}

// ---------------------------------------------------------------------------------------------
// Requests: values of every codec built from bytes, valid or not, for encode_set to write or
// refuse. value_from<Codec> has no primary definition: a new codec must be added here.

template <class Codec>
struct value_from;

template <std::integral T>
struct value_from<cmd::integer<T>> {
    static T make(reader& in) { return in.integral<T>(); }
};
template <class B>
struct value_from<cmd::ranged<B>> {
    static B make(reader& in)
    {
        const auto span = static_cast<std::uint64_t>(B::max - B::min) + 1;
        const std::uint64_t v = in.integral<std::uint64_t>();
        return *B::checked(B::min + static_cast<std::int64_t>(span == 0 ? v : v % span));
    }
};
template <class T, T Max>
struct value_from<cmd::bitmask<T, Max>> {
    static T make(reader& in) { return in.integral<T>(); }  // may exceed Max: refused
};
template <>
struct value_from<cmd::flag> {
    static bool make(reader& in) { return (in.u8() & 1) != 0; }
};
template <class E>
struct value_from<cmd::number<E>> {
    static E make(reader& in) { return static_cast<E>(in.integral<std::underlying_type_t<E>>()); }  // may be invalid
};
template <class E>
struct value_from<cmd::keyword<E>> {
    static E make(reader& in) { return static_cast<E>(in.integral<std::underlying_type_t<E>>()); }
};
template <std::size_t N>
struct value_from<cmd::quoted<N>> {
    static std::string make(reader& in) { return in.text(N + 8); }  // CR, LF, NUL, quotes, too long
};
template <>
struct value_from<cmd::bare_text> {
    static std::string make(reader& in) { return in.text(64); }
};
template <>
struct value_from<cmd::ip_address> {
    static asio::ip::address make(reader& in)
    {
        const std::uint8_t kind = in.u8();
        if (kind % 2 == 0) return asio::ip::address_v4(in.integral<std::uint32_t>());
        asio::ip::address_v6::bytes_type b{};
        for (auto& x : b) x = in.u8();
        return asio::ip::address_v6(b, kind % 4 == 3 ? in.u8() : 0);
    }
};
template <>
struct value_from<cmd::mac> {
    static espat::mac_address make(reader& in)
    {
        espat::mac_address m;
        for (auto& x : m.bytes) x = in.u8();
        return m;
    }
};
template <class D, std::int64_t Max, std::int64_t Min>
struct value_from<cmd::duration<D, Max, Min>> {
    static D make(reader& in) { return D(static_cast<typename D::rep>(in.integral<std::int64_t>())); }
};
template <>
struct value_from<cmd::asctime> {
    // Years 1..9999, as a clock can hold them.
    static std::chrono::sys_seconds make(reader& in)
    {
        return std::chrono::sys_seconds{std::chrono::seconds{in.integral<std::int64_t>() % 253402300800LL}};
    }
};
template <std::integral T>
struct value_from<cmd::tolerant_count<T>> {
    static std::optional<T> make(reader& in)
    {
        if (in.u8() % 4 == 0) return std::nullopt;
        return in.integral<T>();
    }
};
template <class Item, std::size_t Min, std::size_t Max>
struct value_from<cmd::list_of<Item, Min, Max>> {
    static std::vector<typename Item::value_type> make(reader& in)
    {
        std::vector<typename Item::value_type> v(in.u8() % (Max + 2));
        for (auto& x : v) x = value_from<Item>::make(in);
        return v;
    }
};
template <class List>
struct value_from<cmd::counted<List>> {
    static auto make(reader& in) { return value_from<List>::make(in); }
};
template <>
struct value_from<cmd::time_zone> {
    static espat::utc_offset make(reader& in)
    {
        for (int tries = 0; tries < 4; ++tries)
            if (auto o = espat::utc_offset::checked(in.integral<std::int16_t>())) return *o;
        return *espat::utc_offset::checked(0);
    }
};
template <class Codec, cmd::fixed_string Word>
struct value_from<cmd::or_keyword<Codec, Word>> {
    static std::optional<typename Codec::value_type> make(reader& in)
    {
        if (in.u8() % 4 == 0) return std::nullopt;
        return value_from<Codec>::make(in);
    }
};

template <class Codec>
struct value_from<cmd::in_quotes<Codec>> : value_from<Codec> {};

template <class F>
auto member_from(reader& in)
{
    if constexpr (F::is_fixed) {
        return std::tuple<>{};
    } else {
        using M = typename F::member_type;
        if constexpr (F::is_optional) {
            if (in.u8() % 3 == 0) return std::tuple<M>{M{}};
            return std::tuple<M>{M{value_from<typename F::codec_type>::make(in)}};
        } else {
            return std::tuple<M>{M(value_from<typename F::codec_type>::make(in))};
        }
    }
}

template <class Request, class... F, std::size_t... I>
Request request_from(reader& in, std::index_sequence<I...>)
{
    // Braced: the members are built left to right.
    std::tuple<decltype(member_from<F>(in))...> parts{member_from<F>(in)...};
    auto members = std::tuple_cat(std::move(std::get<I>(parts))...);
    return std::apply([](auto&&... m) { return Request{std::move(m)...}; }, std::move(members));
}

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

// Writes `request` with encode_set: refused, the buffer is as it was; written, it is one command
// line of at most 256 bytes, and the device side reads it back as the same request.
template <class C, class... F>
void check_encoded(const typename C::set::request& request, std::string_view origin)
{
    using Request = typename C::set::request;
    const std::string before = "AT\r\n";  // what the buffer held must stay as it was
    std::string out = before;
    int bad = -2;
    const std::error_code ec = cmd::encode_set<C>(out, request, &bad);
    auto where = [&](std::string what) { return what + " (a request " + std::string(origin) + ")"; };
    if (bad < -1 || bad >= static_cast<int>(sizeof...(F)))
        fail(C::command, "set", where("bad_param out of range: " + std::to_string(bad)));
    if (dump) std::fprintf(stderr, "  request %s: %s\n", std::string(origin).c_str(), ec ? "refused" : "written");
    if (ec) {
        if (out != before) fail(C::command, "set", where("a refused request changed the buffer: \"" + shown(out) + "\""));
        return;
    }
    if (bad != -1) fail(C::command, "set", where("encoded although parameter " + std::to_string(bad) + " was refused"));
    const std::string_view line = std::string_view(out).substr(before.size());
    if (line.size() > cmd::max_command_line)
        fail(C::command, "set", where("a line of " + std::to_string(line.size()) + " bytes: \"" + shown(line) + "\""));
    if (!line.ends_with("\r\n") ||
        line.substr(0, line.size() - 2).find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
        fail(C::command, "set", where("not one command line: \"" + shown(line) + "\""));

    const auto split = cmd::detail::split_command_line(line);
    if (split.word != C::command || split.kind != cmd::form_kind::set)
        fail(C::command, "set", where("the line does not read as this command's set form: \"" + shown(line) + "\""));
    const std::optional<bool> leading = leading_present<Request, F...>(request);
    const auto hint = !leading ? cmd::detail::leading_hint::unknown
                      : *leading ? cmd::detail::leading_hint::present
                                 : cmd::detail::leading_hint::absent;
    const auto decoded = cmd::detail::decode_params<Request>(split.params, typename C::set::params{}, hint);
    if (!decoded) fail(C::command, "set", where("the device side does not read \"" + shown(line) + "\""));
    if (!(*decoded == request)) fail(C::command, "set", where("\"" + shown(line) + "\" reads back as another request"));
}

// A request built from bytes, valid or not.
template <class C, class... F>
void check_request(reader& in, cmd::fields<F...>*)
{
    using Request = typename C::set::request;
    const Request request = request_from<Request, F...>(in, std::index_sequence_for<F...>{});
    check_encoded<C, F...>(request, "built from bytes");
}

// A parameter list as the device reads it (the simulator's decoder), with each link id hint;
// what it reads is written again as above.
template <class C, class... F>
void check_device_read(std::string_view params, cmd::fields<F...>*)
{
    using Request = typename C::set::request;
    constexpr bool has_leading = (F::is_leading || ...);
    using cmd::detail::leading_hint;
    for (const leading_hint hint : {leading_hint::unknown, leading_hint::present, leading_hint::absent}) {
        if (!has_leading && hint != leading_hint::unknown) break;
        const auto r = cmd::detail::decode_params<Request>(params, typename C::set::params{}, hint);
        if (r) check_encoded<C, F...>(*r, "the device read from \"" + shown(params) + "\"");
    }
}

// ---------------------------------------------------------------------------------------------
// The forms of the table, in order.

struct form_entry {
    std::string_view command;
    std::string_view form;
    void (*run)(reader&);
};

template <class C, class Form>
void run_form(reader& in)
{
    constexpr std::string_view name = Form::kind == cmd::form_kind::test    ? "test"
                                      : Form::kind == cmd::form_kind::query ? "query"
                                      : Form::kind == cmd::form_kind::set   ? "set"
                                                                            : "execute";
    if constexpr (Form::kind == cmd::form_kind::set) {
        const std::size_t n = std::min<std::size_t>(in.u8(), in.n);
        reader request{in.p, n};
        in.p += n;
        in.n -= n;
        check_request<C>(request, static_cast<typename Form::params*>(nullptr));
        // The first line of the response bytes, read as the device reads a parameter list.
        const std::string_view rest(reinterpret_cast<const char*>(in.p), in.n);
        check_device_read<C>(rest.substr(0, std::min(rest.find('\n'), cmd::max_command_line)),
                             static_cast<typename Form::params*>(nullptr));
    }
    check_response<Form>(C::command, name, in);
}

template <class C>
void add_forms(std::vector<form_entry>& out)
{
    if constexpr (cmd::has_test<C>) out.push_back({C::command, "test", &run_form<C, typename C::test>});
    if constexpr (cmd::has_query<C>) out.push_back({C::command, "query", &run_form<C, typename C::query>});
    if constexpr (cmd::has_set<C>) out.push_back({C::command, "set", &run_form<C, typename C::set>});
    if constexpr (cmd::has_execute<C>) out.push_back({C::command, "execute", &run_form<C, typename C::execute>});
}

const std::vector<form_entry>& all_forms()
{
    static const std::vector<form_entry> forms = [] {
        std::vector<form_entry> v;
        []<class... C>(std::vector<form_entry>& out, cmd::detail::type_list<C...>*) {
            (add_forms<C>(out), ...);
        }(v, static_cast<cmd::all_command_list*>(nullptr));
        return v;
    }();
    return forms;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto& forms = all_forms();
    reader in{data, size};
    const std::uint16_t pick = static_cast<std::uint16_t>(in.u8() << 8 | in.u8());
    const form_entry& f = forms[pick % forms.size()];
    static const bool dump_wanted = std::getenv("ESPAT_FUZZ_DUMP") != nullptr;
    dump = dump_wanted;
    if (dump) std::fprintf(stderr, "form %u of %zu: %.*s %.*s\n", pick % static_cast<unsigned>(forms.size()), forms.size(),
                           static_cast<int>(f.command.size()), f.command.data(), static_cast<int>(f.form.size()), f.form.data());
    f.run(in);
    return 0;
}
