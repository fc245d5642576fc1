// A descriptor whose field codec does not match its member's type must not compile.
// expect: a field's member must hold its codec's value type
#include <espat/commands/descriptor.hpp>

struct request {
    espat::required<std::string> name;
};

#ifdef ESPAT_COMPILE_FAIL
using bad = espat::commands::field<&request::name, espat::commands::integer<int>>;
#else
using bad = espat::commands::field<&request::name, espat::commands::quoted<32>>;
#endif

int main() { return bad::is_optional ? 1 : 0; }
