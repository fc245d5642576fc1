// The simulated module (espat::sim), compiled in three parts (ESPAT_SIM_SEPARATE_COMPILATION):
// this one is module_core's members of each command group but MQTT (see dispatch.cpp, mqtt.cpp).
#include <espat/sim/core_at1.hpp>
#include <espat/sim/core_basic_wifi.hpp>
#include <espat/sim/core_link_data.hpp>
#include <espat/sim/core_links.hpp>
#include <espat/sim/core_passthrough.hpp>
#include <espat/sim/core_servers.hpp>
#include <espat/sim/core_services.hpp>
#include <espat/sim/core_tls.hpp>
