// espat::sim: the simulated module compiled once (ESPAT_SIM_SEPARATE_COMPILATION; see
// espat/sim/module.hpp). The static library `espat_sim` (CMake: espat::sim; meson:
// espat_sim_dep, espat-sim.pc) is this file, built; espat's tests, examples and benchmarks link it.
#include <espat/sim/module_src.hpp>
