// espat-decode — reads raw bytes an ESP-AT module sent (a logic-analyser or serial capture)
// and prints what espat's parser makes of them: one JSON object per event (JSON Lines).
//
//   espat-decode [--chunk N] [--passive-remote=detect|absent|present] [FILE | -]
//
// The input is read in chunks and fed as it comes, as a driver would, so a capture is decoded
// by the same incremental path a live link uses. The schema is in the README ("espat-decode").
#include <espat/proto/json.hpp>
#include <espat/proto/parser.hpp>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#endif

namespace {

constexpr std::size_t default_chunk = 4096;
constexpr std::size_t max_chunk = std::size_t{1} << 24;  // a read buffer, not a limit on input

struct options {
    std::size_t chunk = default_chunk;
    espat::proto::remote_info passive_remote = espat::proto::remote_info::detect;
    std::string path;  // empty or "-": standard input
    bool help = false;
};

constexpr std::string_view usage_text =
    "usage: espat-decode [--chunk N] [--passive-remote=detect|absent|present] [FILE | -]\n"
    "\n"
    "Decodes raw device-to-host ESP-AT bytes (from FILE, or standard input when FILE is\n"
    "absent or '-') and prints one JSON object per parser event, one per line.\n"
    "\n"
    "  --chunk N              read and feed N bytes at a time (default 4096); a read\n"
    "                         waits for N bytes, so use --chunk 1 on a live stream\n"
    "  --passive-remote=MODE  whether +CIPRECVDATA carries the remote address\n"
    "                         (AT+CIPDINFO=1): detect (default), absent, present\n"
    "  --help                 print this text and exit\n"
    "\n"
    "Payload strings map each byte to one code point U+0000..U+00FF; recover the bytes\n"
    "with e.g. Python: bytes(ord(c) for c in obj[\"payload\"]).\n";

void print_error(std::string_view message)
{
    std::fprintf(stderr, "espat-decode: %.*s\n", static_cast<int>(message.size()), message.data());
}

std::optional<espat::proto::remote_info> parse_remote_mode(std::string_view s)
{
    using espat::proto::remote_info;
    if (s == "detect") return remote_info::detect;
    if (s == "absent") return remote_info::absent;
    if (s == "present") return remote_info::present;
    return std::nullopt;
}

std::optional<std::size_t> parse_chunk(std::string_view s)
{
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || end != s.data() + s.size() || n == 0 || n > max_chunk) return std::nullopt;
    return n;
}

// Both "--opt value" and "--opt=value" are accepted. Returns nullopt after printing why.
std::optional<options> parse_args(int argc, char** argv)
{
    options opt;
    bool have_path = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        std::string_view name = arg;
        std::optional<std::string_view> value;
        if (arg.starts_with("--")) {
            if (const auto eq = arg.find('='); eq != std::string_view::npos) {
                name = arg.substr(0, eq);
                value = arg.substr(eq + 1);
            }
        }
        auto take_value = [&]() -> std::optional<std::string_view> {
            if (value) return value;
            if (i + 1 < argc) return std::string_view(argv[++i]);
            print_error(std::string(name) + " needs a value");
            return std::nullopt;
        };
        if (name == "--help" || name == "-h") {
            opt.help = true;
        } else if (name == "--chunk") {
            const auto v = take_value();
            if (!v) return std::nullopt;
            const auto n = parse_chunk(*v);
            if (!n) {
                print_error("--chunk wants a byte count from 1 to " + std::to_string(max_chunk) + ", not '" +
                            std::string(*v) + "'");
                return std::nullopt;
            }
            opt.chunk = *n;
        } else if (name == "--passive-remote") {
            const auto v = take_value();
            if (!v) return std::nullopt;
            const auto mode = parse_remote_mode(*v);
            if (!mode) {
                print_error("--passive-remote wants detect, absent or present, not '" + std::string(*v) + "'");
                return std::nullopt;
            }
            opt.passive_remote = *mode;
        } else if (arg.size() > 1 && arg[0] == '-') {
            print_error("unknown option '" + std::string(arg) + "'");
            return std::nullopt;
        } else {
            if (have_path) {
                print_error("more than one input file given");
                return std::nullopt;
            }
            opt.path = arg;
            have_path = true;
        }
    }
    return opt;
}

bool write_all(std::string_view s)
{
    return std::fwrite(s.data(), 1, s.size(), stdout) == s.size();
}

}  // namespace

int main(int argc, char** argv)
{
    const auto opt = parse_args(argc, argv);
    if (!opt) {
        std::fputs("try 'espat-decode --help'\n", stderr);
        return 2;
    }
    if (opt->help) {
        write_all(usage_text);
        return 0;
    }

    std::FILE* in = stdin;
    const bool from_stdin = opt->path.empty() || opt->path == "-";
    if (from_stdin) {
#ifdef _WIN32
        _setmode(_fileno(stdin), _O_BINARY);  // no CR LF translation of a binary capture
#endif
    } else {
        in = std::fopen(opt->path.c_str(), "rb");
        if (in == nullptr) {
            print_error("cannot open '" + opt->path + "': " + std::strerror(errno));
            return 2;
        }
    }

    espat::proto::parser parser;
    parser.set_recv_data_remote(opt->passive_remote);
    std::vector<char> buf(opt->chunk);
    std::string out;
    bool write_failed = false;
    const auto on_event = [&out](const espat::proto::event& e) {
        espat::proto::append_json(out, e);
        out.push_back('\n');
    };
    for (;;) {
        const std::size_t n = std::fread(buf.data(), 1, buf.size(), in);
        if (n > 0) parser.feed(std::string_view(buf.data(), n), on_event);
        if (!out.empty()) {
            // Written per chunk: memory stays bounded on a long capture, and a live stream
            // read with a small --chunk shows its events as they come.
            write_failed = write_failed || !write_all(out) || std::fflush(stdout) != 0;
            out.clear();
        }
        if (n < buf.size()) {
            if (std::ferror(in)) {
                print_error("error reading '" + (from_stdin ? std::string("standard input") : opt->path) +
                            "': " + std::strerror(errno));
                if (!from_stdin) std::fclose(in);
                return 2;
            }
            if (std::feof(in)) break;
        }
    }
    if (!from_stdin) std::fclose(in);

    // An echo held back for the rest a report interrupted is complete now: nothing follows.
    parser.flush(on_event);
    // A capture may stop mid-line; the parser keeps such bytes until a line end that never
    // comes. Say so, but on stderr: stdout holds events only.
    if (!parser.idle()) print_error("note: input ended inside a line or frame; its bytes produced no event");
    if (write_failed) {
        print_error("error writing standard output");
        return 1;
    }
    return 0;
}
