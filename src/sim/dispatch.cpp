// The simulated module (espat::sim), compiled in three parts (ESPAT_SIM_SEPARATE_COMPILATION):
// this one is module_core's command dispatch, which instantiates the whole command table, and
// sim::module's own members. Three parts, not one per command group: every part parses the same
// headers again, and nine of them took half again the CPU time of two.
#include <espat/sim/core_dispatch.hpp>
#include <espat/sim/module_impl.hpp>
