// espat/sim/tls_error.hpp — errors of the simulator's TLS: OpenSSL's error queue and its
// certificate verification results as std::error_code, so a failed handshake says why.
//
// Handshake failures arrive from Asio in asio::error::get_ssl_category() (OpenSSL's packed
// error numbers: "certificate verify failed" and nothing more). The verification result kept
// on the SSL object says which check failed; tls_handshake_error() swaps it in.
#pragma once

#include <espat/config.hpp>

#include <asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <string>
#include <system_error>

namespace espat::sim {

namespace detail {

class tls_verify_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "espat.tls_verify"; }
    std::string message(int ev) const override { return X509_verify_cert_error_string(ev); }
};

}  // namespace detail

// Values are OpenSSL's X509_V_ERR_* numbers (X509_V_ERR_HOSTNAME_MISMATCH, ...).
inline const std::error_category& tls_verify_category() noexcept
{
    static const detail::tls_verify_category_impl category;
    return category;
}

// The oldest error OpenSSL queued on this thread, in Asio's SSL category (what Asio's own
// operations report), or `fallback` when the queue is empty. Clears the queue: a stale entry
// must not be blamed on the next operation.
inline std::error_code take_openssl_error(std::error_code fallback)
{
    const unsigned long first = ERR_get_error();
    ERR_clear_error();
    if (first == 0) return fallback;
    return {static_cast<int>(first), asio::error::get_ssl_category()};
}

// The error to report for a failed handshake on `ssl`: the certificate check that failed
// (tls_verify_category) when verification is what failed, else `ec` unchanged. A peer that
// rejected *our* certificate shows up as an alert in `ec`, not here.
inline std::error_code tls_handshake_error(std::error_code ec, const SSL* ssl)
{
    // Without SSL_VERIFY_PEER OpenSSL still records a result, which decided nothing.
    if (!ec || ssl == nullptr || (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) == 0) return ec;
    const long verify_result = SSL_get_verify_result(ssl);
    if (verify_result != X509_V_OK) return {static_cast<int>(verify_result), tls_verify_category()};
    return ec;
}

}  // namespace espat::sim
