// A required request parameter held in a default-constructible member could be left out of a
// designated initialiser unnoticed: the table's checks refuse such a descriptor.
// expect: a required request parameter must be required<T> or bounded
#include <espat/commands/table_checks.hpp>

using namespace espat::commands;

struct name_request {
#ifdef ESPAT_COMPILE_FAIL
    std::string name;
#else
    espat::required<std::string> name;
#endif
};

struct setname {
    static constexpr std::string_view command = "AT+SETNAME";
    static constexpr std::uint32_t timeout_ms = 1000;
    using set = set_form<name_request, fields<field<&name_request::name, quoted<32>>>>;
};

static_assert(detail::descriptor_well_formed<setname>());

int main() { return 0; }
