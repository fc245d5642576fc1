// A table declaring the same form of the same command twice fails its uniqueness check.
// expect: static assertion failed|static_assert failed
#include <espat/commands/table_checks.hpp>

using namespace espat::commands;

#ifdef ESPAT_COMPILE_FAIL
static_assert(detail::table_checks<cipmux, cipsto, cipmux>::unique);
#else
static_assert(detail::table_checks<cipmux, cipsto, cipstart_tcp, cipstart_udp, cipstart_ssl>::unique);
#endif

int main() { return 0; }
