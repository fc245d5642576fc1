// tls_client — TLS two ways over an ESP-AT module: module TLS (the module runs TLS; SNI, ALPN
// and server verification set through connect_options) and host TLS (asio::ssl::stream over a
// plain TCP link: the module only carries ciphertext). Each sends an HTTP HEAD and prints the
// status line.
//
// With no arguments it runs against espat's simulated module (in-process) and a small TLS server
// on 127.0.0.1 with certificates made at start, so it needs no hardware. With --port it drives a
// real module (module TLS then does not verify the server: that needs a CA flashed in it):
//   tls_client --port /dev/ttyUSB0 [--baud 115200] --ssid NAME --password PW --host example.com
//              [--tls-port 443]
#include <espat/client.hpp>
#include <espat/net/network.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/pipe.hpp>
#include <espat/sim/tls.hpp>

#include "example_support.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/serial_port.hpp>
#include <asio/ssl.hpp>
#include <asio/write.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

struct settings {
    espat::examples::common_settings common;
    std::string host = "localhost";
    std::uint16_t tls_port = 0;  // 0: the local demo server's
    std::string ca;              // PEM the host trusts (the demo's CA); empty: the system's
    bool module_verifies = false;
};

settings parse(int argc, char** argv)
{
    const espat::examples::command_line cl(
        "tls_client", "[--port DEVICE [--baud N]] [--ssid S] [--password P] [--host H] [--tls-port N]",
        "TLS two ways over the module, each sending an HTTP HEAD and printing the status line:\n"
        "module TLS (the module runs TLS; SNI, ALPN and server verification set through\n"
        "connect_options) and host TLS (asio::ssl::stream over a plain TCP link: the module only\n"
        "carries ciphertext). Without --port: against the simulated module and a TLS server on\n"
        "127.0.0.1 with certificates made at start. With --port, module TLS does not verify the\n"
        "server (that needs a CA flashed in the module).\n"
        "\n"
        "Options:\n"
        "  --host H        the TLS server (default: localhost)\n"
        "  --tls-port N    its port (default 443 with --port; else the local server's)\n");
    settings s;
    s.common = cl.parse(argc, argv, [&](std::string_view flag, auto& value) {
        if (flag == "--host") s.host = value();
        else if (flag == "--tls-port") s.tls_port = cl.number<std::uint16_t>(value(), 1);
        else return false;
        return true;
    });
    if (s.common.port && s.tls_port == 0) s.tls_port = 443;
    return s;
}

// ---- the demo's certificates: a CA and, signed by it, "localhost" (EC P-256, one day) ----

struct pem_pair {
    std::string certificate, key;
};

void require(bool ok, const char* what)
{
    if (!ok) throw std::runtime_error(std::string("making the demo certificates: ") + what);
}

std::string pem_of(X509* cert)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    require(bio && PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(n)};
}

std::string pem_of(EVP_PKEY* key)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    require(bio && PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
            "PEM_write_bio_PrivateKey");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(n)};
}

void extend(X509* cert, X509* issuer, int nid, const char* value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    require(e != nullptr && X509_add_ext(cert, e, -1) == 1, value);
    X509_EXTENSION_free(e);
}

// Signed by (issuer, issuer_key), or self-signed when issuer is null.
X509* certify(const char* name, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, long serial)
{
    X509* cert = X509_new();
    require(cert != nullptr, "X509_new");
    X509_set_version(cert, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    X509_set_pubkey(cert, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(name), -1, -1, 0);
    X509* signer = issuer != nullptr ? issuer : cert;
    X509_set_issuer_name(cert, X509_get_subject_name(signer));
    if (issuer == nullptr) {
        extend(cert, signer, NID_basic_constraints, "critical,CA:TRUE");
        extend(cert, signer, NID_key_usage, "critical,keyCertSign");
    } else {
        extend(cert, signer, NID_basic_constraints, "critical,CA:FALSE");
        extend(cert, signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    }
    require(X509_sign(cert, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
    return cert;
}

struct demo_certificates {
    std::string ca;
    pem_pair server;
};

demo_certificates make_demo_certificates()
{
    EVP_PKEY* ca_key = EVP_EC_gen("P-256");
    EVP_PKEY* server_key = EVP_EC_gen("P-256");
    require(ca_key != nullptr && server_key != nullptr, "EVP_EC_gen");
    X509* ca = certify("tls_client demo CA", ca_key, nullptr, nullptr, 1);
    X509* server = certify("localhost", server_key, ca, ca_key, 2);
    demo_certificates out{pem_of(ca), {pem_of(server), pem_of(server_key)}};
    X509_free(server);
    X509_free(ca);
    EVP_PKEY_free(server_key);
    EVP_PKEY_free(ca_key);
    return out;
}

// ---- the demo's TLS server: answers a HEAD with what the handshake carried ----

asio::awaitable<void> answer(asio::ssl::stream<asio::ip::tcp::socket> tls)
{
    co_await tls.async_handshake(asio::ssl::stream_base::server, asio::use_awaitable);
    std::string request;
    co_await asio::async_read_until(tls, asio::dynamic_buffer(request), "\r\n\r\n", asio::use_awaitable);
    const std::string sni = espat::sim::requested_server_name(tls.native_handle());
    const std::string alpn = espat::sim::negotiated_alpn(tls.native_handle());
    const std::string response = "HTTP/1.1 200 OK\r\nX-SNI: " + (sni.empty() ? "-" : sni) +
                                 "\r\nX-ALPN: " + (alpn.empty() ? "-" : alpn) + "\r\nContent-Length: 0\r\n\r\n";
    co_await asio::async_write(tls, asio::buffer(response), asio::use_awaitable);
    auto [ec] = co_await tls.async_shutdown(asio::experimental::as_tuple(asio::use_awaitable));
    (void)ec;  // the client may have gone already
}

asio::awaitable<void> serve_tls(asio::ip::tcp::acceptor& acceptor, asio::ssl::context& context)
{
    for (;;) {
        auto socket = co_await acceptor.async_accept(asio::use_awaitable);
        asio::co_spawn(acceptor.get_executor(), answer(asio::ssl::stream<asio::ip::tcp::socket>(std::move(socket), context)),
                       asio::detached);
    }
}

// ---- the script ----

template <class Stream>
asio::awaitable<std::string> head(Stream& stream, const std::string& host)
{
    const std::string request = "HEAD / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    co_await asio::async_write(stream, asio::buffer(request), asio::use_awaitable);
    std::string response;
    const std::size_t end =
        co_await asio::async_read_until(stream, asio::dynamic_buffer(response), "\r\n\r\n", asio::use_awaitable);
    co_return response.substr(0, end);
}

template <class Client>
asio::awaitable<int> run(Client& esp, const settings& s)
{
    auto fw = co_await esp.async_start();
    if (!fw) {
        std::cerr << "no module: " << fw.error().message() << "\n";
        co_return 1;
    }
    std::cout << "module: AT version " << fw->info.at_version.to_string() << "\n";
    const espat::cwjap_request join{.ssid = s.common.ssid, .password = s.common.password};
    auto joined = co_await esp.template async_set<espat::commands::cwjap>(join);
    if (!joined) {
        std::cerr << "joining " << s.common.ssid << ": " << joined.error().message() << "\n";
        co_return 1;
    }
    espat::net::basic_network<Client> net(esp);
    if (auto ok = co_await net.async_start(); !ok) {
        std::cerr << "network: " << ok.error().message() << "\n";
        co_return 1;
    }

    // 1. Module TLS: the AT+CIPSSLC* settings go with the connect.
    espat::net::connect_options o;
    o.tls.server_name = s.host;
    o.tls.alpn = {"h2", "http/1.1"};
    if (s.module_verifies) o.tls.auth = espat::ssl_auth_mode::verify_server;  // CA 0 of the module
    auto secure = co_await net.async_connect_ssl(s.host, s.tls_port, o);
    if (!secure) {
        std::cerr << "module TLS to " << s.host << ": " << secure.error().message() << "\n";
        co_return 1;
    }
    const std::string by_module = co_await head(*secure, s.host);
    std::cout << "module TLS: " << by_module;

    // 2. Host TLS over a plain TCP link: OpenSSL on the host, the module carries ciphertext.
    auto plain = co_await net.async_connect(s.host, s.tls_port);
    if (!plain) {
        std::cerr << "TCP to " << s.host << ": " << plain.error().message() << "\n";
        co_return 1;
    }
    asio::ssl::context context(asio::ssl::context::tls_client);
    if (s.ca.empty()) context.set_default_verify_paths();
    else context.add_certificate_authority(asio::buffer(s.ca));
    context.set_verify_mode(asio::ssl::verify_peer);
    asio::ssl::stream<typename espat::net::basic_network<Client>::link&> tls(*plain, context);
    tls.set_verify_callback(asio::ssl::host_name_verification(s.host));
    SSL_set_tlsext_host_name(tls.native_handle(), s.host.c_str());
    static constexpr unsigned char offer[] = "\x08http/1.1";
    SSL_set_alpn_protos(tls.native_handle(), offer, sizeof offer - 1);
    co_await tls.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    const std::string by_host = co_await head(tls, s.host);
    std::cout << "host TLS: " << by_host;
    std::cout << "tls_client: done\n";
    co_return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    const settings s = parse(argc, argv);
    asio::io_context io;
    int status = 1;
    auto finish = [&](std::exception_ptr e, int rc) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::cerr << "tls_client: " << x.what() << "\n";
            }
        }
        status = rc;
        io.stop();
    };

    if (s.common.port) {
        asio::serial_port serial(io, *s.common.port);
        serial.set_option(asio::serial_port::baud_rate(s.common.baud));
        espat::client esp(std::move(serial));
        asio::co_spawn(esp.get_executor(), run(esp, s), finish);
        io.run();
        return status;
    }

    // No hardware: a simulated module that has the demo CA flashed, and a TLS server on loopback.
    const demo_certificates certs = make_demo_certificates();
    espat::sim::tls_server_config server_config;
    server_config.alpn = {"http/1.1"};
    const espat::sim::tls_credentials server_credentials{
        .ca_certificate = certs.ca, .certificate = certs.server.certificate, .private_key = certs.server.key, .psk = {}};
    auto server_context = espat::sim::make_tls_server_context(server_config, server_credentials);
    if (!server_context) {
        std::cerr << "tls_client: server context: " << server_context.error().message() << "\n";
        return 1;
    }
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    asio::co_spawn(io, serve_tls(acceptor, *server_context), asio::detached);

    settings local = s;
    local.tls_port = acceptor.local_endpoint().port();
    local.ca = certs.ca;
    local.module_verifies = true;
    espat::sim::module_options mo;
    mo.tls = {espat::sim::tls_credentials{.ca_certificate = certs.ca, .certificate = {}, .private_key = {}, .psk = {}}};
    espat::sim::module module(io.get_executor(), mo);
    auto ends = espat::sim::make_pipe(io.get_executor());
    asio::co_spawn(io, module.serve(ends.second), asio::detached);
    espat::basic_client<espat::sim::pipe_end> esp(std::move(ends.first));
    asio::co_spawn(esp.get_executor(), run(esp, local), finish);
    io.run_for(std::chrono::seconds(30));
    return status;
}
