// The simulated module (espat::sim), compiled in parts so a build runs them in parallel and shows
// progress: this one is module_core's members of core_basic_wifi.hpp and core_at1.hpp
// (ESPAT_SIM_SEPARATE_COMPILATION).
#include <espat/sim/core_at1.hpp>
#include <espat/sim/core_basic_wifi.hpp>
