// Link ids are 0..4: a constant link id 7 must not compile.
// expect: constant expression|consteval|out of range
#include <espat/commands/host.hpp>
#include <espat/commands/tcpip.hpp>

int main()
{
    std::string out;
#if defined(ESPAT_COMPILE_FAIL) && defined(__clang__) && __clang_major__ < 15
    // clang 14 checks constants only where they are constant-evaluated (see ESPAT_CONSTEVAL).
    constexpr espat::link_id bad{7};
    auto ec = espat::commands::encode_set<espat::commands::cipstart_tcp>(out, {.link = bad, .host = "x", .port = 80});
#elif defined(ESPAT_COMPILE_FAIL)
    auto ec = espat::commands::encode_set<espat::commands::cipstart_tcp>(
        out, {.link = espat::link_id{7}, .host = "example.com", .port = 80});
#else
    auto ec = espat::commands::encode_set<espat::commands::cipstart_tcp>(
        out, {.link = espat::link_id{4}, .host = "example.com", .port = 80});
#endif
    return ec ? 1 : 0;
}
