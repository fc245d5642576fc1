// A request without its required remote host must not compile.
// expect: required|no matching constructor|could not convert|no viable|default constructor
#include <espat/commands/host.hpp>
#include <espat/commands/tcpip.hpp>

int main()
{
    std::string out;
#ifdef ESPAT_COMPILE_FAIL
    auto ec = espat::commands::encode_set<espat::commands::cipstart_tcp>(out, {.port = 80});
#else
    auto ec = espat::commands::encode_set<espat::commands::cipstart_tcp>(out, {.host = "example.com", .port = 80});
#endif
    return ec ? 1 : 0;
}
