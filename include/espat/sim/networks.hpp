// espat/sim/networks.hpp — the remote networks the simulated module's links may reach
// (module_options::allowed_networks): address prefixes such as 10.0.0.0/8 or ::1/128.
#pragma once

#include <espat/config.hpp>

#include <asio/ip/address.hpp>
#include <asio/ip/address_v6.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace espat::sim {

// An IPv4 or IPv6 address prefix: the addresses whose first `length` bits are `address`'s.
struct network_prefix {
    asio::ip::address address{};
    unsigned length = 0;  // 0..32 for IPv4, 0..128 for IPv6

    // "10.0.0.0/8", "::1/128", or an address alone (the one address). Nothing when the
    // address does not parse or the length is out of range.
    [[nodiscard]] static std::optional<network_prefix> parse(std::string_view text)
    {
        const auto slash = text.find('/');
        std::error_code ec;
        const auto a = asio::ip::make_address(std::string(text.substr(0, slash)), ec);
        if (ec) return std::nullopt;
        const unsigned bits = a.is_v4() ? 32 : 128;
        unsigned length = bits;
        if (slash != std::string_view::npos) {
            const std::string_view digits = text.substr(slash + 1);
            const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
            if (err != std::errc() || end != digits.data() + digits.size() || digits.empty() || length > bits)
                return std::nullopt;
        }
        return network_prefix{a, length};
    }

    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address it carries: a socket
    // sending to it reaches that IPv4 host.
    [[nodiscard]] bool contains(const asio::ip::address& a) const noexcept
    {
        const asio::ip::address wanted = unmapped(a);
        const asio::ip::address base = unmapped(address);
        if (wanted.is_v4() != base.is_v4()) return false;
        if (base.is_v4()) {
            if (length == 0) return true;
            const std::uint32_t mask = length >= 32 ? 0xffffffffU : ~(0xffffffffU >> length);
            return (wanted.to_v4().to_uint() & mask) == (base.to_v4().to_uint() & mask);
        }
        const auto x = wanted.to_v6().to_bytes();
        const auto y = base.to_v6().to_bytes();
        unsigned left = length > 128 ? 128 : length;
        for (std::size_t i = 0; i < x.size() && left > 0; ++i) {
            const unsigned take = left >= 8 ? 8 : left;
            const auto mask = static_cast<unsigned char>(0xffU << (8 - take));
            if ((x[i] & mask) != (y[i] & mask)) return false;
            left -= take;
        }
        return true;
    }

    [[nodiscard]] std::string to_string() const { return address.to_string() + "/" + std::to_string(length); }

    friend bool operator==(const network_prefix&, const network_prefix&) = default;

private:
    static asio::ip::address unmapped(const asio::ip::address& a) noexcept
    {
        if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
        return a;
    }
};

// This host's loopback networks: 127.0.0.0/8 and ::1/128.
[[nodiscard]] inline std::vector<network_prefix> loopback_networks()
{
    return {network_prefix{asio::ip::address_v4::loopback(), 8}, network_prefix{asio::ip::address_v6::loopback(), 128}};
}

// Whether a link may exchange data with `a`: an empty list allows every network.
[[nodiscard]] inline bool allows(const std::vector<network_prefix>& allowed, const asio::ip::address& a) noexcept
{
    if (allowed.empty()) return true;
    for (const auto& n : allowed)
        if (n.contains(a)) return true;
    return false;
}

}  // namespace espat::sim
