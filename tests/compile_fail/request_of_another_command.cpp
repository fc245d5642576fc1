// The request of one command cannot be sent as another's.
// expect: invalid initiali|convert|no viable|no matching|cannot initialize|could not
#include <espat/commands/host.hpp>
#include <espat/commands/tcpip.hpp>

int main()
{
    std::string out;
    const espat::cipmux_request mux{.mode = espat::mux_mode::multiple};
#ifdef ESPAT_COMPILE_FAIL
    auto ec = espat::commands::encode_set<espat::commands::cipstart_tcp>(out, mux);
#else
    auto ec = espat::commands::encode_set<espat::commands::cipmux>(out, mux);
#endif
    return ec ? 1 : 0;
}
