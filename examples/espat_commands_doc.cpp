// espat-commands-doc: prints the README's command reference from the command table itself, so
// the documentation can never describe a command the code does not have.
//
//   espat-commands-doc                 print the Markdown table
//   espat-commands-doc --check FILE    exit 1 if FILE's copy (between the command-reference
//                                      markers) differs from the table
//   espat-commands-doc --update FILE   rewrite FILE's copy
#include <espat/commands/table.hpp>

#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <typeinfo>

namespace {

using namespace espat::commands;

constexpr std::string_view begin_marker = "<!-- command-reference -->";
constexpr std::string_view end_marker = "<!-- /command-reference -->";

void replace_all(std::string& s, std::string_view from, std::string_view to)
{
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
}

// Removes every ", std::allocator<...>" (and similar defaulted arguments) with its brackets.
void erase_template_argument(std::string& s, std::string_view start)
{
    for (std::size_t at = s.find(start); at != std::string::npos; at = s.find(start, at)) {
        std::size_t i = at + start.size();
        for (int depth = 1; i < s.size() && depth > 0; ++i) {
            if (s[i] == '<') ++depth;
            else if (s[i] == '>') --depth;
        }
        while (i < s.size() && s[i] == ' ') ++i;
        s.erase(at, i - at);
    }
}

// The type's name as a user writes it. typeid names demangle the same with g++ and clang
// (both use the Itanium ABI and libstdc++), so the output does not depend on the compiler.
template <class T>
std::string type_name()
{
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(typeid(T).name(), nullptr, nullptr, &status), std::free);
    std::string s = status == 0 ? d.get() : typeid(T).name();
    replace_all(s, "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >", "std::string");
    erase_template_argument(s, ", std::allocator<");
    replace_all(s, "std::chrono::duration<long, std::ratio<1l, 1000l> >", "std::chrono::milliseconds");
    replace_all(s, "std::chrono::duration<long, std::ratio<1l, 10l> >", "deciseconds");
    replace_all(s, "std::chrono::duration<long, std::ratio<1l, 1l> >", "std::chrono::seconds");
    replace_all(s, "std::chrono::time_point<std::chrono::_V2::system_clock, std::chrono::seconds>", "std::chrono::sys_seconds");
    replace_all(s, "espat::commands::", "");
    replace_all(s, "espat::", "");
    replace_all(s, " >", ">");
    return s;
}

template <class F>
std::string result_of()
{
    using R = typename F::response::value_type;
    if constexpr (std::is_same_v<R, nothing>) return "—";
    else return "`" + type_name<R>() + "`";
}

// "4.1" for 4.1.0.0: the firmware versions the table names are at most two parts deep.
std::string short_version(const espat::version& v)
{
    std::string s = std::to_string(v.major) + '.' + std::to_string(v.minor);
    if (v.patch || v.build) s += '.' + std::to_string(v.patch);
    if (v.build) s += '.' + std::to_string(v.build);
    return s;
}

template <class C>
void row(std::ostringstream& out)
{
    std::string forms, request = "—", results;
    auto add = [&](std::string_view syntax, std::string_view what, const std::string& result) {
        if (!forms.empty()) forms += "<br>";
        forms += "`";
        forms += C::command;
        forms += syntax;
        forms += "`";
        if (!results.empty()) results += "<br>";
        results += what;
        results += ": ";
        results += result;
    };
    if constexpr (has_test<C>) add("=?", "test", result_of<typename C::test>());
    if constexpr (has_query<C>) add("?", "query", result_of<typename C::query>());
    if constexpr (has_set<C>) {
        add("=…", "set", result_of<typename C::set>());
        request = "`" + type_name<typename C::set::request>() + "`";
    }
    if constexpr (has_execute<C>) add("", "execute", result_of<typename C::execute>());
    std::string firmware = "all";
    if constexpr (requires { C::since; }) firmware = "from " + short_version(C::since);
    if constexpr (requires { C::until; }) {
        if constexpr (requires { C::since; }) firmware += ", ";
        else firmware.clear();
        firmware += "before " + short_version(C::until);
    }
    out << "| `" << type_name<C>() << "` | " << forms << " | " << request << " | " << results << " | "
        << C::timeout_ms << " | " << firmware << " |\n";
}

template <class... C>
struct table_printer {
    static std::string print()
    {
        std::ostringstream out;
        out << "| descriptor | forms | set request | result | timeout (ms) | firmware |\n";
        out << "|---|---|---|---|---:|---|\n";
        (row<C>(out), ...);
        return out.str();
    }
};

std::string generated() { return all_commands<table_printer>::print(); }

constexpr const char* usage_text = "usage: espat-commands-doc [--check FILE | --update FILE]\n";

int usage()
{
    std::cerr << usage_text << "(espat-commands-doc --help says more)\n";
    return 2;
}

int help()
{
    std::cout << usage_text
              << "\nPrints the reference of espat's command table (every command, its forms, request and\n"
                 "result types, timeout and firmware) as the Markdown table the README holds, between\n"
                 "<!-- command-reference --> and <!-- /command-reference -->.\n"
                 "\n"
                 "Options:\n"
                 "  --check FILE    exit status 1 when FILE's table differs from the command table's\n"
                 "  --update FILE   rewrite FILE's table from the command table\n"
                 "  -h, --help      print this text and exit\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    const std::string table = generated();
    if (argc == 1) {
        std::cout << table;
        return 0;
    }
    if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) return help();
    if (argc != 3) return usage();
    const std::string_view mode = argv[1];
    if (mode != "--check" && mode != "--update") return usage();

    std::ifstream in(argv[2], std::ios::binary);
    if (!in) {
        std::cerr << "espat-commands-doc: cannot read " << argv[2] << "\n";
        return 2;
    }
    std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t b = doc.find(begin_marker), e = doc.find(end_marker);
    if (b == std::string::npos || e == std::string::npos || e < b) {
        std::cerr << "espat-commands-doc: " << argv[2] << " has no " << begin_marker << " ... " << end_marker << " section\n";
        return 2;
    }
    const std::size_t body = b + begin_marker.size() + 1;  // after the marker's line end
    const std::string current = doc.substr(body, e - body);
    if (mode == "--check") {
        if (current == table) return 0;
        std::cerr << "espat-commands-doc: the command reference in " << argv[2]
                  << " differs from the command table; run: espat-commands-doc --update " << argv[2] << "\n";
        return 1;
    }
    doc.replace(body, e - body, table);
    std::ofstream outf(argv[2], std::ios::binary | std::ios::trunc);
    outf << doc;
    return outf ? 0 : 1;
}
