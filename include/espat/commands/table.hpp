// espat/commands/table.hpp — the whole command table as one list. The checks that must hold over
// all of it are in table_checks.hpp, made once per build (by espat's own tests), not in every file.
#pragma once

#include <espat/commands/basic.hpp>
#include <espat/commands/descriptor.hpp>
#include <espat/commands/device.hpp>
#include <espat/commands/http.hpp>
#include <espat/commands/mqtt.hpp>
#include <espat/commands/tcpip.hpp>
#include <espat/commands/wifi.hpp>
#include <espat/commands/wifi_at1.hpp>

namespace espat::commands {

namespace detail {
template <class... C>
struct basic_wifi_list {
    using type = type_list<C...>;
};
template <class... C>
struct tcpip_list {
    using type = type_list<C...>;
};
template <class... C>
struct mqtt_http_list {
    using type = type_list<C...>;
};

template <class List, template <class...> class To>
struct apply_list;
template <class... C, template <class...> class To>
struct apply_list<type_list<C...>, To> {
    using type = To<C...>;
};
}  // namespace detail

// Every command descriptor, in the order of the manual: basic, Wi-Fi, TCP/IP, MQTT, HTTP (new
// commands go last: the decoders fuzzer's seeds name forms by their index in this list).
using all_command_list = typename detail::concat<
    typename detail::basic_wifi_list<at, ate0, ate1, rst, restore, gmr, sysstore, syslog, sysmsg, sysmsg_cur,
                                     sysmsg_def, uart_cur, uart_def, rfpower, cwmode, cwmode_cur, cwmode_def, cwjap,
                                     cwjap_cur, cwjap_def, cwqap, cwlap, cwlapopt, cwstate, cwdhcp, cwdhcp_cur,
                                     cwdhcp_def, cwautoconn, cipsta, cipsta_cur, cipsta_def, cipstamac, cipstamac_cur,
                                     cipstamac_def, cwsap, cwsap_cur, cwsap_def, cipap, cipap_cur, cipap_def, cipapmac,
                                     cipapmac_cur, cipapmac_def>::type,
    typename tcpip_commands<detail::tcpip_list>::type,
    typename detail::mqtt_http_list<mqttusercfg, mqttlongclientid, mqttlongusername, mqttlongpassword, mqttconncfg,
                                    mqttconn, mqttpub, mqttpubraw, mqttsub, mqttunsub, mqttclean, httpclient,
                                    httpclient_post, httpgetsize, httpcget, httpcpost, httpcput, httpurlcfg,
                                    httpchead>::type>::type;

// all_commands<L> is L<every descriptor...>: all_commands<device_request> is what a simulated
// module decodes.
template <template <class...> class List>
using all_commands = typename detail::apply_list<all_command_list, List>::type;

// The request variant a simulated module decodes any command line into.
using any_request = all_commands<device_request>;

}  // namespace espat::commands
