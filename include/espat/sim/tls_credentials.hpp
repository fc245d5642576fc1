// espat/sim/tls_credentials.hpp — what a simulated module has flashed for TLS: CA certificates,
// its own certificate and key (the "client_ca", "client_cert"/"client_key" partitions, or the
// server's), and a pre-shared key.
#pragma once

#include <optional>
#include <string>

namespace espat::sim {

// A TLS 1.2 pre-shared key: the identity travels in the handshake, the key never does.
struct tls_psk {
    std::string identity;
    std::string key;  // raw bytes, not hex
    friend bool operator==(const tls_psk&, const tls_psk&) = default;
};

// One set of flashed credentials. A module's partitions are numbered: AT+CIPSSLCCONF's
// <pki_number> picks the certificate and key, <ca_number> the CA, each an index into a list of
// these (tls_client.hpp). Empty strings mean "not flashed".
struct tls_credentials {
    std::string ca_certificate;  // PEM, one or more certificates
    std::string certificate;     // PEM, the module's own, first in its chain
    std::string private_key;     // PEM, the key of `certificate`
    std::optional<tls_psk> psk;
    friend bool operator==(const tls_credentials&, const tls_credentials&) = default;
};

}  // namespace espat::sim
