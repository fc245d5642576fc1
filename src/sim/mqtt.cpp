// The simulated module (espat::sim), compiled in three parts (ESPAT_SIM_SEPARATE_COMPILATION):
// this one is module_core's MQTT commands and their libmosquitto client (see dispatch.cpp).
#include <espat/sim/core_mqtt.hpp>
