// loopback.hpp — test helpers for loopback peers: ports the OS picked that nothing uses, and
// the "127.0.0.1",<port> parameters of AT+CIPSTART lines. Tests touch no other address.
#pragma once

#include <espat/sim/module.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

#include <cstdint>
#include <string>

namespace espat::test {

// A loopback TCP port with nothing listening on it (bound, then released).
inline std::uint16_t closed_tcp_port(asio::io_context& io)
{
    asio::ip::tcp::acceptor a(io, {asio::ip::address_v4::loopback(), 0});
    return a.local_endpoint().port();
}

// A loopback UDP port nobody has bound (bound, then released).
inline std::uint16_t free_udp_port(asio::io_context& io)
{
    asio::ip::udp::socket s(io, {asio::ip::address_v4::loopback(), 0});
    return s.local_endpoint().port();
}

// "127.0.0.1",<port>: the remote host and port of an AT+CIPSTART line.
inline std::string loopback_target(std::uint16_t port) { return "\"127.0.0.1\"," + std::to_string(port); }

// A simulated module with echo off, so a test reads answers without the command echoed.
inline sim::module_options quiet(sim::module_options o = {})
{
    o.echo = false;
    return o;
}

}  // namespace espat::test
