// espat/sim/detail/tls_context_state.hpp — what OpenSSL's C callbacks (PSK, ALPN selection,
// SNI) need to find, owned by the SSL_CTX itself so that it lives exactly as long as the
// context and every SSL object made from it.
//
// Asio keeps its verify callback in the context's app data (ex_data index 0), so this state
// has an ex_data index of its own, whose free function deletes it with the SSL_CTX.
#pragma once

#include <espat/sim/tls_credentials.hpp>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace espat::sim::detail {

struct tls_context_state {
    std::optional<tls_psk> psk;                         // client: what to send; server: what to accept
    std::string alpn_preference;                        // server: wire format, most preferred first
    std::function<void(std::string_view)> on_server_name;  // server: the SNI a client sent
};

inline void free_tls_context_state(void* /*parent*/, void* state, CRYPTO_EX_DATA* /*data*/, int /*index*/,
                                   long /*argl*/, void* /*argp*/)
{
    delete static_cast<tls_context_state*>(state);  // NOLINT: OpenSSL owns the pointer's lifetime
}

inline int tls_context_state_index()
{
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, &free_tls_context_state);
    return index;
}

// The state of `ctx`, created on first use; nullptr when OpenSSL cannot store it.
inline tls_context_state* state_of(SSL_CTX* ctx)
{
    const int index = tls_context_state_index();
    if (index < 0) return nullptr;
    if (auto* existing = static_cast<tls_context_state*>(SSL_CTX_get_ex_data(ctx, index))) return existing;
    auto* created = new tls_context_state{};  // NOLINT: handed to OpenSSL, freed by free_tls_context_state
    if (SSL_CTX_set_ex_data(ctx, index, created) != 1) {
        delete created;  // NOLINT
        return nullptr;
    }
    return created;
}

inline tls_context_state* state_of(const SSL* ssl)
{
    const int index = tls_context_state_index();
    if (index < 0) return nullptr;
    return static_cast<tls_context_state*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), index));
}

// ALPN's wire format (RFC 7301): each name preceded by its one-byte length. Names are 1..255
// bytes; nullopt for one that is not.
template <class Names>
std::optional<std::string> alpn_wire_format(const Names& names)
{
    std::string wire;
    for (const auto& name : names) {
        const std::string_view view{name};
        if (view.empty() || view.size() > 255) return std::nullopt;
        wire.push_back(static_cast<char>(view.size()));
        wire.append(view);
    }
    return wire;
}

}  // namespace espat::sim::detail
