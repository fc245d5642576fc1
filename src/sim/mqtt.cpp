// The simulated module (espat::sim), compiled in parts so a build runs them in parallel and shows
// progress: this one is module_core's members of core_mqtt.hpp (ESPAT_SIM_SEPARATE_COMPILATION).
#include <espat/sim/core_mqtt.hpp>
