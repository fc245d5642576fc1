// espat/sim/module_src.hpp — the simulator's implementation, for separate compilation: in a
// program built with ESPAT_SIM_SEPARATE_COMPILATION defined, include this in exactly one source
// file (see sim/module.hpp).
#pragma once

#if !defined(ESPAT_SIM_SEPARATE_COMPILATION)
#error "espat/sim/module_src.hpp is for builds with ESPAT_SIM_SEPARATE_COMPILATION defined"
#endif

#include <espat/sim/module_core.hpp>

#include <espat/sim/core_dispatch.hpp>
#include <espat/sim/core_basic_wifi.hpp>
#include <espat/sim/core_at1.hpp>
#include <espat/sim/core_links.hpp>
#include <espat/sim/core_link_data.hpp>
#include <espat/sim/core_servers.hpp>
#include <espat/sim/core_passthrough.hpp>
#include <espat/sim/core_tls.hpp>
#include <espat/sim/core_services.hpp>
#include <espat/sim/core_mqtt.hpp>
#include <espat/sim/module_impl.hpp>
