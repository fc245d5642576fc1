// AT+CIPSTART has no query form: asking for one must not compile.
// expect: constraints|satisf|no matching function|candidate template ignored
#include <espat/commands/host.hpp>
#include <espat/commands/tcpip.hpp>

int main()
{
    std::string out;
#ifdef ESPAT_COMPILE_FAIL
    espat::commands::encode_query<espat::commands::cipstart_tcp>(out);
#else
    espat::commands::encode_query<espat::commands::cipmux>(out);
#endif
    return out.empty();
}
