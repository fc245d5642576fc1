// test_certs.hpp — certificates made in memory at test time for the TLS tests: a CA; signed by
// it a server certificate for "localhost" and 127.0.0.1, one with a common name only, and a
// client certificate; and an unrelated CA for negative tests. EC P-256 keys (fast), valid from
// an hour ago for a day. OpenSSL 3's EVP API only: no files, no `openssl` command.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace espat::test {

struct pem_key_pair {
    std::string certificate;
    std::string private_key;
};

struct test_certificates {
    std::string ca;            // the CA that signed server and client
    pem_key_pair server;       // CN=localhost, SAN DNS:localhost, IP:127.0.0.1
    pem_key_pair client;       // CN=espat test client
    pem_key_pair cn_only;      // CN=cn-only.localhost and no subjectAltName: the CN fallback
    std::string unrelated_ca;  // a CA that signed nothing here
};

namespace detail {

struct key_deleter {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct x509_deleter {
    void operator()(X509* cert) const noexcept { X509_free(cert); }
};
struct bio_deleter {
    void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, key_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

// Test set-up failing is a broken environment, not a test result: throw, doctest reports it.
inline void check(bool ok, const char* what)
{
    if (!ok) throw std::runtime_error(std::string("test certificates: ") + what + " failed");
}

struct issued {
    key_ptr key;
    x509_ptr cert;
};

inline void add_extension(X509* cert, X509* issuer, int nid, const char* value)
{
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    check(extension != nullptr, value);
    const int added = X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
    check(added == 1, "X509_add_ext");
}

// A certificate for `common_name` with a fresh key, signed by `issuer` (self-signed when null).
// `alt_names` is a subjectAltName value such as "DNS:localhost,IP:127.0.0.1", or null.
inline issued make_certificate(const char* common_name, const issued* issuer, bool is_ca, long serial,
                               const char* alt_names)
{
    issued made{key_ptr{EVP_EC_gen("P-256")}, x509_ptr{X509_new()}};
    check(made.key && made.cert, "EVP_EC_gen / X509_new");
    X509* cert = made.cert.get();
    check(X509_set_version(cert, X509_VERSION_3) == 1, "X509_set_version");
    check(ASN1_INTEGER_set(X509_get_serialNumber(cert), serial) == 1, "serial number");
    check(X509_gmtime_adj(X509_getm_notBefore(cert), -60L * 60) != nullptr, "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(cert), 24L * 60 * 60) != nullptr, "notAfter");
    check(X509_set_pubkey(cert, made.key.get()) == 1, "X509_set_pubkey");

    X509_NAME* subject = X509_get_subject_name(cert);
    check(X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("espat tests"), -1, -1, 0) == 1,
          "subject O");
    check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0) == 1,
          "subject CN");
    X509* signer_cert = issuer != nullptr ? issuer->cert.get() : cert;
    EVP_PKEY* signer_key = issuer != nullptr ? issuer->key.get() : made.key.get();
    check(X509_set_issuer_name(cert, X509_get_subject_name(signer_cert)) == 1, "X509_set_issuer_name");

    add_extension(cert, signer_cert, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_extension(cert, signer_cert, NID_key_usage,
                  is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    add_extension(cert, signer_cert, NID_subject_key_identifier, "hash");
    if (!is_ca) add_extension(cert, signer_cert, NID_ext_key_usage, "serverAuth,clientAuth");
    if (alt_names != nullptr) add_extension(cert, signer_cert, NID_subject_alt_name, alt_names);

    check(X509_sign(cert, signer_key, EVP_sha256()) > 0, "X509_sign");
    return made;
}

inline std::string drain(BIO* bio)
{
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return {data, static_cast<std::size_t>(size)};
}

inline std::string certificate_pem(const issued& made)
{
    bio_ptr bio{BIO_new(BIO_s_mem())};
    check(bio && PEM_write_bio_X509(bio.get(), made.cert.get()) == 1, "PEM_write_bio_X509");
    return drain(bio.get());
}

inline std::string key_pem(const issued& made)
{
    bio_ptr bio{BIO_new(BIO_s_mem())};
    check(bio && PEM_write_bio_PrivateKey(bio.get(), made.key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "PEM_write_bio_PrivateKey");
    return drain(bio.get());
}

inline test_certificates make_test_certificates()
{
    const issued ca = make_certificate("espat test CA", nullptr, true, 1, nullptr);
    const issued server = make_certificate("localhost", &ca, false, 2, "DNS:localhost,IP:127.0.0.1");
    const issued client = make_certificate("espat test client", &ca, false, 3, nullptr);
    const issued unrelated = make_certificate("espat unrelated CA", nullptr, true, 4, nullptr);
    const issued cn_only = make_certificate("cn-only.localhost", &ca, false, 5, nullptr);
    return {
        .ca = certificate_pem(ca),
        .server = {.certificate = certificate_pem(server), .private_key = key_pem(server)},
        .client = {.certificate = certificate_pem(client), .private_key = key_pem(client)},
        .cn_only = {.certificate = certificate_pem(cn_only), .private_key = key_pem(cn_only)},
        .unrelated_ca = certificate_pem(unrelated),
    };
}

}  // namespace detail

// Made once per test process: key generation is the slow part.
inline const test_certificates& test_certs()
{
    static const test_certificates certificates = detail::make_test_certificates();
    return certificates;
}

}  // namespace espat::test
