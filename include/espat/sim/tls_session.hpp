// espat/sim/tls_session.hpp — what a finished handshake agreed on, read off the SSL object:
// the ALPN protocol and the server name the client asked for.
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace espat::sim {

// The protocol ALPN settled on; empty when none was (no offer, or no overlap).
inline std::string negotiated_alpn(const SSL* ssl)
{
    const unsigned char* name = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl, &name, &length);
    if (name == nullptr) return {};
    return {reinterpret_cast<const char*>(name), length};
}

// The SNI host name the client sent; empty when it sent none.
inline std::string requested_server_name(const SSL* ssl)
{
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    return name == nullptr ? std::string{} : std::string{name};
}

}  // namespace espat::sim
