// espat/detail/stacks.hpp — the stacks espat::compiled holds already built: the client and the
// links over asio::serial_port, asio::ip::tcp::socket (serial-over-network bridges) and the
// simulator's in-process pipe. With ESPAT_SEPARATE_COMPILATION the headers declare them
// `extern template` and <espat/src.hpp> defines them, so other files do not instantiate them.
#pragma once

// What is instantiated for one stream type: the client; the network and its link types.
// `prefix` is `extern template` (declaration) or `template` (definition).
#define ESPAT_DETAIL_CLIENT_STACK(prefix, Stream) prefix class ::espat::basic_client<Stream>;

#define ESPAT_DETAIL_NET_STACK(prefix, Stream)                                  \
    prefix class ::espat::net::basic_network<::espat::basic_client<Stream>>;     \
    prefix class ::espat::net::basic_link<::espat::basic_client<Stream>>;        \
    prefix class ::espat::net::basic_udp_link<::espat::basic_client<Stream>>;    \
    prefix class ::espat::net::basic_server<::espat::basic_client<Stream>>;      \
    prefix class ::espat::net::basic_passthrough<::espat::basic_client<Stream>>;
