// espat/sim/tls_server.hpp — the TLS side of a simulated module's SSL server
// (AT+CIPSERVER=1,<port>,"SSL",<SSL CA enable>): its flashed certificate and key, and, with the
// CA flag, the clients' certificates checked against the flashed CA.
//
// Errors as in tls_client.hpp: std::error_code, no exception for TLS reasons.
#pragma once

#include <espat/config.hpp>

#include <espat/commands/tcpip.hpp>
#include <espat/error.hpp>
#include <espat/sim/detail/tls_context_state.hpp>
#include <espat/sim/tls_credentials.hpp>
#include <espat/sim/tls_error.hpp>

#include <asio/buffer.hpp>
#include <asio/ssl/context.hpp>

#include <openssl/ssl.h>

#include <tl/expected.hpp>

#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace espat::sim {

struct tls_server_config {
    // <SSL CA enable>: every client must present a certificate the flashed CA signed.
    bool verify_clients = false;
    // Protocols the server accepts, most preferred first; it picks the first the client also
    // offers. Empty, or no overlap: the handshake goes on without ALPN (what OpenSSL's
    // s_server does; RFC 7301 would also allow a fatal alert).
    alpn_list alpn;
    // Told the SNI name of each client that sends one, during its handshake. ESP-AT's server
    // has a single certificate, so the name only informs (tests, logs); it selects nothing.
    std::function<void(std::string_view)> on_server_name;

    void apply(const cipserver_ssl_request& request) { verify_clients = request.ca_enable.get(); }
};

namespace detail {

inline unsigned int find_server_psk(SSL* ssl, const char* identity, unsigned char* key, unsigned int max_key_length)
{
    const tls_context_state* state = state_of(ssl);
    if (state == nullptr || !state->psk || identity == nullptr) return 0;
    const tls_psk& psk = *state->psk;
    // 0 rejects the identity: the handshake fails with an unknown_psk_identity alert.
    if (psk.identity != identity || psk.key.size() > max_key_length) return 0;
    std::memcpy(key, psk.key.data(), psk.key.size());
    return static_cast<unsigned int>(psk.key.size());
}

inline int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_length, const unsigned char* offered,
                       unsigned int offered_length, void* /*arg*/)
{
    const tls_context_state* state = state_of(ssl);
    if (state == nullptr || state->alpn_preference.empty()) return SSL_TLSEXT_ERR_NOACK;
    unsigned char* chosen = nullptr;
    // The first list wins ties, so ours goes first. `chosen` points into one of the two lists,
    // both of which outlive the handshake step that copies it.
    const int result = SSL_select_next_proto(
        &chosen, out_length, reinterpret_cast<const unsigned char*>(state->alpn_preference.data()),
        static_cast<unsigned int>(state->alpn_preference.size()), offered, offered_length);
    if (result != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

inline int report_server_name(SSL* ssl, int* alert, void* /*arg*/)
{
    const tls_context_state* state = state_of(ssl);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (state == nullptr || !state->on_server_name || name == nullptr) return SSL_TLSEXT_ERR_OK;
    try {
        state->on_server_name(name);
    } catch (...) {  // an exception must not unwind through OpenSSL's C frames
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    return SSL_TLSEXT_ERR_OK;
}

}  // namespace detail

// An OpenSSL server context for the module's SSL server. Refuses (errc::invalid_argument)
// credentials with neither a certificate and key nor a PSK, and verify_clients without a CA.
// With a PSK in the credentials, TLS 1.2 clients may also connect with that PSK.
inline tl::expected<asio::ssl::context, std::error_code> make_tls_server_context(const tls_server_config& config,
                                                                                 const tls_credentials& flashed)
{
    const auto refuse = [] { return tl::make_unexpected(make_error_code(errc::invalid_argument)); };
    const bool has_certificate = !flashed.certificate.empty() && !flashed.private_key.empty();
    if (!has_certificate && !flashed.psk) return refuse();
    if (config.verify_clients && flashed.ca_certificate.empty()) return refuse();
    const std::optional<std::string> alpn_wire = detail::alpn_wire_format(config.alpn);
    if (!alpn_wire) return refuse();

    try {
        asio::ssl::context context(asio::ssl::context::tls_server);
        std::error_code ec;
        if (has_certificate) {
            context.use_certificate_chain(asio::buffer(flashed.certificate), ec);
            if (!ec) context.use_private_key(asio::buffer(flashed.private_key), asio::ssl::context::pem, ec);
            if (ec) return tl::make_unexpected(ec);
        }
        if (config.verify_clients) {
            context.add_certificate_authority(asio::buffer(flashed.ca_certificate), ec);
            if (!ec)
                context.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert, ec);
        } else {
            context.set_verify_mode(asio::ssl::verify_none, ec);
        }
        if (ec) return tl::make_unexpected(ec);

        SSL_CTX* handle = context.native_handle();
        detail::tls_context_state* state = detail::state_of(handle);
        if (state == nullptr) return tl::make_unexpected(take_openssl_error(make_error_code(errc::invalid_argument)));
        state->alpn_preference = *alpn_wire;
        state->on_server_name = config.on_server_name;
        SSL_CTX_set_alpn_select_cb(handle, &detail::select_alpn, nullptr);
        SSL_CTX_set_tlsext_servername_callback(handle, &detail::report_server_name);

        if (flashed.psk) {
            state->psk = flashed.psk;
            SSL_CTX_set_psk_server_callback(handle, &detail::find_server_psk);
            // DEFAULT leaves the PSK suites out; a PSK client offers nothing else.
            if (SSL_CTX_set_cipher_list(handle, "DEFAULT:PSK") != 1)
                return tl::make_unexpected(take_openssl_error(make_error_code(errc::not_supported)));
        }
        return context;
    } catch (const std::system_error& e) {  // asio::ssl::context's constructor: SSL_CTX_new failed
        return tl::make_unexpected(e.code());
    }
}

}  // namespace espat::sim
