// The simulated module, compiled once for all of espat's tests, examples and benchmarks
// (ESPAT_SIM_SEPARATE_COMPILATION; see espat/sim/module.hpp).
#include <espat/sim/module_src.hpp>
