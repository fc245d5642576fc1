// espat/src.hpp — espat compiled once, as Asio's asio/impl/src.hpp does it: in a program built
// with ESPAT_SEPARATE_COMPILATION defined everywhere, include this in exactly one source file
// (the espat::compiled target of the CMake and meson packages is that file, built). It builds
// the stacks of detail/stacks.hpp; other files then compile only the calls they make.
#pragma once

#if !defined(ESPAT_SEPARATE_COMPILATION)
#error "espat/src.hpp is for builds with ESPAT_SEPARATE_COMPILATION defined (see README.md)"
#endif

#include <espat/client.hpp>
#include <espat/detail/stacks.hpp>
#include <espat/net/network.hpp>
#include <espat/sim/pipe.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/serial_port.hpp>

ESPAT_DETAIL_CLIENT_STACK(template, ::asio::serial_port)
ESPAT_DETAIL_CLIENT_STACK(template, ::asio::ip::tcp::socket)
ESPAT_DETAIL_CLIENT_STACK(template, ::espat::sim::pipe_end)
ESPAT_DETAIL_NET_STACK(template, ::asio::serial_port)
ESPAT_DETAIL_NET_STACK(template, ::asio::ip::tcp::socket)
ESPAT_DETAIL_NET_STACK(template, ::espat::sim::pipe_end)
