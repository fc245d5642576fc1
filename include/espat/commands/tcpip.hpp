// espat/commands/tcpip.hpp — the TCP/IP AT commands (links, servers, sending, passive receive,
// SSL client settings, DNS, SNTP, ping, OTA) as command descriptors, with their value types.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/descriptor.hpp>
#include <espat/commands/tcpip_links.hpp>
#include <espat/commands/tcpip_servers.hpp>
#include <espat/commands/tcpip_services.hpp>
#include <espat/commands/tcpip_tls.hpp>
#include <espat/commands/tcpip_transfer.hpp>
#include <espat/commands/values.hpp>

// Firmware ranges: a descriptor's `since` is the first firmware version that has the command,
// its `until` the first that no longer has it (so CIPSTATUS until 4.1 and CIPSTATE since 4.1
// never overlap). Versions are the ESP-AT version AT+GMR prints (DESIGN.md "Firmware versions").

namespace espat::commands {

// Every TCP/IP descriptor, for whatever takes the whole table:
// `tcpip_commands<device_request>` is the simulator's request variant.
template <template <class...> class List>
using tcpip_commands =
    List<cipstatus, cipstate, cipdomain, cipstart_tcp, cipstart_udp, cipstart_ssl, cipstartex_tcp, cipstartex_udp,
         cipstartex_ssl, cipsend, cipsend_udp, cipsendex, cipsendex_udp, cipclose, cifsr, cipmux, cipserver,
         cipserver_ssl, cipservermaxconn, cipmode, savetranslink_tcp, savetranslink_ssl, savetranslink_udp, cipsto, cipsntpcfg,
         cipsntptime, ciupdate, cipdinfo, cipsslcconf, cipsslccn, cipsslcsni, cipsslcalpn, cipsslcpsk, cipsslsize, cipreconnintv,
         ciprecvmode, ciprecvtype, ciprecvdata, ciprecvlen, ping, cipdns, cipdns_cur, cipdns_def, ciptcpopt>;

namespace detail {
template <class... C>
struct tcpip_all_descriptors {
    static constexpr bool value = (command_descriptor<C> && ...);
};
}  // namespace detail
static_assert(tcpip_commands<detail::tcpip_all_descriptors>::value);

}  // namespace espat::commands
