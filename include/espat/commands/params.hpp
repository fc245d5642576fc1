// espat/commands/params.hpp — a request's parameter list, written by the host and read by the
// device from a set form's fields: omitted parameters, a leading link id, a last one taking the rest.
#pragma once

#include <espat/commands/codecs.hpp>
#include <espat/commands/fields.hpp>
#include <espat/commands/syntax.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace espat::commands {

// Requests: parameter lists written by the host and read by the device.

namespace detail {

// Writes the parameters; trailing omitted ones are dropped, middle ones keep their comma.
// Returns the index of the first parameter that cannot be sent, or -1.
template <class Request, class... F>
int encode_params(std::string& out, const Request& r, fields<F...>)
{
    int bad = -1, index = 0;
    bool written = false;  // whether any parameter (or its empty place) was written yet
    std::size_t last_present = out.size();
    auto one = [&]<class Field>(Field*) {
        if (bad >= 0) return;
        if constexpr (Field::is_leading) {
            if (Field::get(r) == nullptr) {
                ++index;
                return;
            }
        }
        if (written) out += ',';
        written = true;
        bool ok = true;
        if constexpr (Field::is_fixed) {
            ok = Field::codec_type::encode(out, Field::value());
            last_present = out.size();
        } else {
            if (const auto* v = Field::get(r)) {
                ok = Field::codec_type::encode(out, *v);
                last_present = out.size();
            }
        }
        if (!ok) bad = index;
        ++index;
    };
    (one(static_cast<F*>(nullptr)), ...);
    if (bad < 0) out.resize(last_present);
    return bad;
}

// The member values of a decoded request, in declaration order (fixed parameters hold none).
template <class F, bool Fixed = F::is_fixed>
struct stored {
    using type = std::tuple<typename F::member_type>;
};
template <class F>
struct stored<F, true> {
    using type = std::tuple<>;
};
template <class F>
using stored_t = typename stored<F>::type;

template <class F>
std::optional<stored_t<F>> decode_param(std::optional<std::string_view> tok)
{
    const bool absent = !tok || tok->empty();
    if constexpr (F::is_fixed) {
        if (absent) {
            if constexpr (requires { F::may_be_absent; }) return std::tuple<>{};
            else return std::nullopt;
        }
        auto v = F::codec_type::decode_request(*tok);
        if (!v || !(*v == F::value())) return std::nullopt;
        return std::tuple<>{};
    } else if constexpr (F::is_optional) {
        if (absent) return std::tuple<typename F::member_type>{std::nullopt};
        auto v = F::codec_type::decode_request(*tok);
        if (!v) return std::nullopt;
        return std::tuple<typename F::member_type>{std::move(*v)};
    } else {
        if (absent) return std::nullopt;
        auto v = F::codec_type::decode_request(*tok);
        if (!v) return std::nullopt;
        return std::tuple<typename F::member_type>{typename F::member_type(std::move(*v))};
    }
}

template <class Request, class... F, std::size_t... I>
std::optional<Request> decode_params_impl(const std::vector<std::string_view>& toks, std::index_sequence<I...>)
{
    std::tuple<std::optional<stored_t<F>>...> parts{
        decode_param<F>(I < toks.size() ? std::optional<std::string_view>(toks[I]) : std::nullopt)...};
    if (!(std::get<I>(parts).has_value() && ...)) return std::nullopt;
    auto members = std::tuple_cat(std::move(*std::get<I>(parts))...);
    return std::apply([](auto&&... m) { return Request{std::move(m)...}; }, std::move(members));
}

// The last field's codec takes the rest of the list (detail::takes_rest_v): the parameters
// from its position on are handed to it as one token.
template <class... F>
struct last_takes_rest : std::false_type {};
template <class F0, class... F>
struct last_takes_rest<F0, F...>
    : std::bool_constant<takes_rest_v<typename std::tuple_element_t<sizeof...(F), std::tuple<F0, F...>>::codec_type>> {};
template <class... F>
inline constexpr bool last_takes_rest_v = last_takes_rest<F...>::value;

// Whether the device knows that a leading link id is there (multi-link mode) or not.
enum class leading_hint { unknown, present, absent };

template <class Request, class... F>
std::optional<Request> decode_params_with_rest(std::string_view params, leading_hint hint)
{
    constexpr std::size_t n = sizeof...(F);
    auto attempt = [](std::vector<std::string_view> toks) -> std::optional<Request> {
        if (toks.size() > n) {
            const std::string_view first = toks[n - 1], last = toks.back();
            toks[n - 1] = std::string_view(first.data(), static_cast<std::size_t>(last.data() + last.size() - first.data()));
            toks.resize(n);
        }
        return decode_params_impl<Request, F...>(toks, std::index_sequence_for<F...>{});
    };
    auto toks = split_request_params(params);
    constexpr bool has_leading = ((F::is_leading) || ...);
    if (has_leading && hint == leading_hint::absent) toks.insert(toks.begin(), std::string_view{});
    if (has_leading && hint == leading_hint::present && (toks.empty() || toks.front().empty())) return std::nullopt;
    auto r = attempt(toks);
    if (has_leading && hint == leading_hint::unknown && !r) {
        toks.insert(toks.begin(), std::string_view{});
        r = attempt(std::move(toks));
    }
    return r;
}

template <class Request, class... F>
std::optional<Request> decode_params(std::string_view params, fields<F...>, leading_hint hint = leading_hint::unknown)
{
    if constexpr (last_takes_rest_v<F...>) return decode_params_with_rest<Request, F...>(params, hint);
    auto toks = split_request_params(params);
    constexpr bool has_leading = ((F::is_leading) || ...);
    // Without its leading parameter the list starts one field later.
    if (has_leading && hint == leading_hint::absent) toks.insert(toks.begin(), std::string_view{});
    if (has_leading && hint == leading_hint::present && (toks.empty() || toks.front().empty())) return std::nullopt;
    if (toks.size() > sizeof...(F)) return std::nullopt;
    auto r = decode_params_impl<Request, F...>(toks, std::index_sequence_for<F...>{});
    if (has_leading && hint == leading_hint::unknown && !r && toks.size() < sizeof...(F)) {
        toks.insert(toks.begin(), std::string_view{});
        r = decode_params_impl<Request, F...>(toks, std::index_sequence_for<F...>{});
    }
    return r;
}

}  // namespace detail

}  // namespace espat::commands
