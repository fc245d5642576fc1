// The simulated module (espat::sim), compiled in parts so a build runs them in parallel and shows
// progress: this one is module_core's members of core_services.hpp (ESPAT_SIM_SEPARATE_COMPILATION).
#include <espat/sim/core_services.hpp>
