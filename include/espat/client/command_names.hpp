// espat/client/command_names.hpp — every command of the table by name, as basic_client's
// members (esp.cwmode.query(), esp.cipdomain("example.com")): ESPAT_CLIENT_COMMANDS(X) applies
// X to each name. client.hpp declares the members and checks at compile time that the list
// names every command of the table.
#pragma once

#define ESPAT_CLIENT_COMMANDS(X)                                                                                        \
    X(at) X(ate0) X(ate1) X(rst) X(restore) X(gmr) X(sysstore) X(syslog) X(sysmsg) X(uart_cur) X(cwmode) X(cwjap)       \
    X(cwqap) X(cwlap) X(cipsta) X(cwsap) X(cipap) X(cipstatus) X(cipstate) X(cipdomain) X(cipstart_tcp)                 \
    X(cipstart_udp) X(cipstart_ssl) X(cipstartex_tcp) X(cipstartex_udp) X(cipstartex_ssl) X(cipsend) X(cipsend_udp)     \
    X(cipsendex) X(cipsendex_udp) X(cipclose) X(cifsr) X(cipmux) X(cipserver) X(cipserver_ssl) X(cipservermaxconn)      \
    X(cipmode) X(savetranslink_tcp) X(savetranslink_ssl) X(savetranslink_udp) X(cipsto) X(cipsntpcfg) X(cipsntptime)    \
    X(ciupdate) X(cipdinfo) X(cipsslcconf) X(cipsslccn) X(cipsslcsni) X(cipsslcalpn) X(cipsslcpsk) X(cipreconnintv)     \
    X(ciprecvmode) X(ciprecvtype) X(ciprecvdata) X(ciprecvlen) X(ping) X(cipdns) X(ciptcpopt) X(rfpower) X(cwlapopt)    \
    X(cwstate) X(cwdhcp) X(cwautoconn) X(cipstamac) X(cipapmac) X(cipsslsize) X(uart_def) X(sysmsg_cur)               \
    X(sysmsg_def) X(cwmode_cur) X(cwmode_def) X(cwjap_cur) X(cwjap_def) X(cwsap_cur) X(cwsap_def) X(cwdhcp_cur)        \
    X(cwdhcp_def) X(cipstamac_cur) X(cipstamac_def) X(cipapmac_cur) X(cipapmac_def) X(cipsta_cur) X(cipsta_def)        \
    X(cipap_cur) X(cipap_def) X(cipdns_cur) X(cipdns_def) X(mqttusercfg) X(mqttlongclientid) X(mqttlongusername)      \
    X(mqttlongpassword) X(mqttconncfg) X(mqttconn) X(mqttpub) X(mqttpubraw) X(mqttsub) X(mqttunsub) X(mqttclean)      \
    X(httpclient) X(httpclient_post) X(httpgetsize) X(httpcget) X(httpcpost) X(httpcput) X(httpurlcfg) X(httpchead)
