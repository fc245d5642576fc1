// espat/client/command_handle.hpp — esp.NAME: one command of the table as a member of the
// client, with its forms as calls (esp.cwmode.query(), esp.cipdomain("example.com")).
#pragma once

#include <espat/client/options.hpp>
#include <espat/commands/descriptor.hpp>

#include <utility>

namespace espat {

// esp.NAME: the forms of one command. esp.cipdomain("example.com") builds the set form's
// request from its arguments; esp.cipstatus() runs the one form that takes none.
template <class Client, class C>
class command_handle {
public:
    using descriptor = C;
    explicit command_handle(Client& client) noexcept : client_(&client) {}
    command_handle(const command_handle&) = delete;
    command_handle& operator=(const command_handle&) = delete;

    template <class Token = typename Client::default_token>
        requires commands::has_test<C>
    auto test(call_options o = {}, Token&& token = {})
    {
        return client_->template async_test<C>(o, std::forward<Token>(token));
    }
    template <class Token = typename Client::default_token>
        requires commands::has_query<C>
    auto query(call_options o = {}, Token&& token = {})
    {
        return client_->template async_query<C>(o, std::forward<Token>(token));
    }
    template <class Token = typename Client::default_token>
        requires commands::has_execute<C>
    auto execute(call_options o = {}, Token&& token = {})
    {
        return client_->template async_execute<C>(o, std::forward<Token>(token));
    }
    template <class D = C, class Token = typename Client::default_token>
        requires commands::has_set<D>
    auto set(const typename D::set::request& request, call_options o = {}, Token&& token = {})
    {
        return client_->template async_set<D>(request, o, std::forward<Token>(token));
    }

    template <class... Args>
    auto operator()(Args&&... args)
    {
        if constexpr (sizeof...(Args) == 0) {
            static_assert(commands::has_query<C> != commands::has_execute<C>,
                          "this command has both a query and an execute form (or neither): call .query() or .execute()");
            if constexpr (commands::has_execute<C>) return execute();
            else return query();
        } else {
            static_assert(commands::has_set<C>, "this command has no set form");
            return set(typename C::set::request{std::forward<Args>(args)...});
        }
    }

private:
    Client* client_;
};

}  // namespace espat
