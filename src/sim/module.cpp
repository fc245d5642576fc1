// The simulated module (espat::sim), compiled in parts: this one is sim::module's own members
// (ESPAT_SIM_SEPARATE_COMPILATION; the others are module_core's, by command group).
#include <espat/sim/module_impl.hpp>
