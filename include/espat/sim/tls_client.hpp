// espat/sim/tls_client.hpp — the TLS client side of a simulated module's SSL link
// (AT+CIPSTART="SSL"): the per-link settings AT+CIPSSLCCONF, CIPSSLCCN, CIPSSLCSNI, CIPSSLCALPN
// and CIPSSLCPSK leave behind, and how they become an OpenSSL context and stream.
//
// Nothing here throws for TLS reasons: failures are std::error_code, in espat's category for
// settings that cannot work, in Asio's SSL category for what OpenSSL refused.
#pragma once

#include <espat/config.hpp>

#include <espat/commands/tcpip.hpp>
#include <espat/error.hpp>
#include <espat/sim/detail/tls_context_state.hpp>
#include <espat/sim/tls_credentials.hpp>
#include <espat/sim/tls_error.hpp>

#include <asio/buffer.hpp>
#include <asio/ip/address.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <tl/expected.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace espat::sim {

// One link's client settings, as the module keeps them between AT+CIPSSLC* commands and
// AT+CIPSTART="SSL". The apply() overloads take the commands' typed requests; which link a
// request addresses (one, or all_links) is the caller's business.
struct tls_client_config {
    ssl_auth_mode auth = ssl_auth_mode::none;
    std::uint8_t pki_number = 0;  // which flashed certificate and key (auth 1 and 3)
    std::uint8_t ca_number = 0;   // which flashed CA (auth 2 and 3)
    // AT+CIPSSLCCN: the name the server's certificate must carry (subjectAltName, or the
    // common name when it has no DNS names: RFC 6125, as mbedTLS and OpenSSL check it). Empty:
    // the host AT+CIPSTART named. Only checked when the client verifies the server (auth 2, 3).
    std::string common_name;
    // AT+CIPSSLCSNI: the server name sent in ClientHello. Empty: the name checked above, when
    // it is a DNS name (RFC 6066 allows no IP literal), as esp-tls does.
    std::string server_name;
    alpn_list alpn;  // AT+CIPSSLCALPN, in the order offered
    // AT+CIPSSLCPSK=<"psk">,<"hint">. The reference calls <"psk"> the identity, but ESP-AT hands
    // both strings to esp-tls's psk_hint_key_t, where the first is the key and the second the
    // identity mbedTLS sends; that is what is modelled: key = <"psk">, identity = <"hint">.
    std::optional<tls_psk> psk;

    void apply(const cipsslcconf_request& request)
    {
        auth = request.auth.get();
        pki_number = request.pki_number.value_or(0);
        ca_number = request.ca_number.value_or(0);
    }
    void apply(const cipsslccn_request& request) { common_name = request.common_name.get(); }
    void apply(const cipsslcsni_request& request) { server_name = request.server_name.get(); }
    void apply(const cipsslcalpn_request& request) { alpn = request.protocols.get(); }
    void apply(const cipsslcpsk_request& request)
    {
        psk = tls_psk{.identity = request.hint.get(), .key = request.psk.get()};
    }

    [[nodiscard]] bool verifies_server() const noexcept
    {
        return auth == ssl_auth_mode::verify_server || auth == ssl_auth_mode::mutual;
    }
    [[nodiscard]] bool presents_certificate() const noexcept
    {
        return auth == ssl_auth_mode::client_certificate || auth == ssl_auth_mode::mutual;
    }
};

namespace detail {

inline unsigned int send_client_psk(SSL* ssl, const char* /*server_hint*/, char* identity,
                                    unsigned int max_identity_length, unsigned char* key,
                                    unsigned int max_key_length)
{
    const tls_context_state* state = state_of(ssl);
    if (state == nullptr || !state->psk) return 0;  // 0: no PSK, the handshake fails
    const tls_psk& psk = *state->psk;
    // The identity goes out NUL-terminated, so it needs one byte more than its length.
    if (psk.identity.size() >= max_identity_length || psk.key.size() > max_key_length) return 0;
    std::memcpy(identity, psk.identity.c_str(), psk.identity.size() + 1);
    std::memcpy(key, psk.key.data(), psk.key.size());
    return static_cast<unsigned int>(psk.key.size());
}

inline bool is_ip_literal(const std::string& name)
{
    std::error_code ec;
    (void)asio::ip::make_address(name, ec);
    return !ec;
}

}  // namespace detail

// An OpenSSL client context for one link. `flashed` are the module's credential partitions:
// config.pki_number and config.ca_number index it. Refuses (errc::invalid_argument) an index
// past its end, or an empty certificate, key or CA where the auth mode needs one.
//
// With a PSK the context offers only TLS 1.2 PSK cipher suites: the modules' mbedTLS does PSK
// in TLS 1.2, and OpenSSL's PSK callbacks in TLS 1.3 would need SHA-256 suites and a server
// doing the same. Certificates are then not used.
inline tl::expected<asio::ssl::context, std::error_code>
make_tls_client_context(const tls_client_config& config, std::span<const tls_credentials> flashed)
{
    const auto refuse = [] { return tl::make_unexpected(make_error_code(errc::invalid_argument)); };
    try {
        asio::ssl::context context(asio::ssl::context::tls_client);
        std::error_code ec;

        if (config.verifies_server()) {
            if (config.ca_number >= flashed.size() || flashed[config.ca_number].ca_certificate.empty()) return refuse();
            context.add_certificate_authority(asio::buffer(flashed[config.ca_number].ca_certificate), ec);
            if (!ec) context.set_verify_mode(asio::ssl::verify_peer, ec);
        } else {
            context.set_verify_mode(asio::ssl::verify_none, ec);
        }
        if (ec) return tl::make_unexpected(ec);

        if (config.presents_certificate()) {
            if (config.pki_number >= flashed.size()) return refuse();
            const tls_credentials& own = flashed[config.pki_number];
            if (own.certificate.empty() || own.private_key.empty()) return refuse();
            context.use_certificate_chain(asio::buffer(own.certificate), ec);
            if (!ec) context.use_private_key(asio::buffer(own.private_key), asio::ssl::context::pem, ec);
            if (ec) return tl::make_unexpected(ec);
        }

        if (config.psk) {
            SSL_CTX* handle = context.native_handle();
            detail::tls_context_state* state = detail::state_of(handle);
            if (state == nullptr) return tl::make_unexpected(take_openssl_error(make_error_code(errc::invalid_argument)));
            state->psk = config.psk;
            SSL_CTX_set_psk_client_callback(handle, &detail::send_client_psk);
            if (SSL_CTX_set_max_proto_version(handle, TLS1_2_VERSION) != 1 || SSL_CTX_set_cipher_list(handle, "PSK") != 1)
                return tl::make_unexpected(take_openssl_error(make_error_code(errc::not_supported)));
        }
        return context;
    } catch (const std::system_error& e) {  // asio::ssl::context's constructor: SSL_CTX_new failed
        return tl::make_unexpected(e.code());
    }
}

// The same with a single set of credentials (pki_number and ca_number 0).
inline tl::expected<asio::ssl::context, std::error_code>
make_tls_client_context(const tls_client_config& config, const tls_credentials& flashed)
{
    return make_tls_client_context(config, std::span<const tls_credentials>(&flashed, 1));
}

// Sets the per-connection parts on a stream made from that context, before async_handshake:
// the name to verify, SNI and ALPN. `connect_host` is the host AT+CIPSTART named (a DNS name
// or an IP literal), the default for the name to check and send.
template <class NextLayer>
std::error_code prepare_tls_client_stream(asio::ssl::stream<NextLayer>& stream, const tls_client_config& config,
                                          std::string_view connect_host = {})
{
    SSL* ssl = stream.native_handle();
    const std::string expected_name{config.common_name.empty() ? connect_host : std::string_view{config.common_name}};

    if (config.verifies_server() && !expected_name.empty()) {
        // SSL_set1_host matches DNS names only; an IP literal is matched against IP SANs.
        const int set = detail::is_ip_literal(expected_name)
                            ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), expected_name.c_str())
                            : SSL_set1_host(ssl, expected_name.c_str());
        if (set != 1) return take_openssl_error(make_error_code(errc::invalid_argument));
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }

    std::string sni = config.server_name;
    if (sni.empty() && !detail::is_ip_literal(expected_name)) sni = expected_name;
    if (!sni.empty() && SSL_set_tlsext_host_name(ssl, sni.c_str()) != 1)
        return take_openssl_error(make_error_code(errc::invalid_argument));

    if (!config.alpn.empty()) {
        const std::optional<std::string> wire = detail::alpn_wire_format(config.alpn);
        if (!wire) return make_error_code(errc::invalid_argument);
        // SSL_set_alpn_protos returns 0 on success, unlike its neighbours.
        if (SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire->data()),
                                static_cast<unsigned int>(wire->size())) != 0)
            return take_openssl_error(make_error_code(errc::invalid_argument));
    }
    return {};
}

}  // namespace espat::sim
