// espat/sim/module_src.hpp — the simulator's implementation, for separate compilation: in a
// program built with ESPAT_SIM_SEPARATE_COMPILATION defined, include this in exactly one source
// file (see sim/module.hpp).
#pragma once

#if !defined(ESPAT_SIM_SEPARATE_COMPILATION)
#error "espat/sim/module_src.hpp is for builds with ESPAT_SIM_SEPARATE_COMPILATION defined"
#endif

#include <espat/sim/module_core.hpp>
