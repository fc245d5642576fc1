// A port given as a string must not compile.
// expect: invalid initiali|convert|no viable|no matching|cannot initialize
#include <espat/commands/host.hpp>
#include <espat/commands/tcpip.hpp>

int main()
{
    std::string out;
#ifdef ESPAT_COMPILE_FAIL
    auto ec = espat::commands::encode_set<espat::commands::cipstart_tcp>(out, {.host = "example.com", .port = "eighty"});
#else
    auto ec = espat::commands::encode_set<espat::commands::cipstart_tcp>(out, {.host = "example.com", .port = 80});
#endif
    return ec ? 1 : 0;
}
