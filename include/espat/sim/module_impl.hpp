// espat/sim/module_impl.hpp — sim::module's members that need the core (declared in module.hpp,
// defined here; module_core.hpp or module_src.hpp includes this file).
#pragma once

#include <espat/sim/module_core.hpp>

namespace espat::sim {

ESPAT_SIM_DECL module::module(asio::any_io_executor ex, module_options options)
    : core_(std::make_shared<detail::module_core>(std::move(ex), std::move(options)))
{
}
ESPAT_SIM_DECL module::~module() { core_->stop(); }
ESPAT_SIM_DECL void module::on_host_bytes(std::string_view bytes) { core_->on_host_bytes(bytes); }
ESPAT_SIM_DECL asio::awaitable<std::string> module::next_output() { return output_of(core_); }
ESPAT_SIM_DECL void module::stop() { core_->stop(); }
ESPAT_SIM_DECL void module::reset() { core_->power_cycle(); }
ESPAT_SIM_DECL void module::fail_command(std::size_t nth, planned_failure how) { core_->plan_failure(nth, how); }
ESPAT_SIM_DECL std::size_t module::commands_seen() const { return core_->commands_seen(); }
ESPAT_SIM_DECL std::optional<std::uint16_t> module::server_port() const { return core_->server_port(); }
ESPAT_SIM_DECL std::size_t module::buffered(std::uint8_t link) const { return core_->buffered(link); }
ESPAT_SIM_DECL std::size_t module::max_buffered_seen() const { return core_->max_buffered_seen(); }
ESPAT_SIM_DECL const module_options& module::options() const { return core_->options(); }
ESPAT_SIM_DECL uart_config module::uart() const { return core_->uart(); }

ESPAT_SIM_DECL bool module::stopped(const detail::module_core& core) { return core.stopped(); }
ESPAT_SIM_DECL void module::feed(detail::module_core& core, std::string_view bytes) { core.on_host_bytes(bytes); }
ESPAT_SIM_DECL asio::awaitable<void> module::wait_input_room(std::shared_ptr<detail::module_core> core)
{
    co_await core->wait_input_room();
}
ESPAT_SIM_DECL asio::awaitable<std::string> module::output_of(std::shared_ptr<detail::module_core> core)
{
    std::string s = co_await core->next_output();
    co_return s;
}
ESPAT_SIM_DECL asio::awaitable<std::string> module::write_of(std::shared_ptr<detail::module_core> core)
{
    std::string s = co_await core->next_write();
    co_return s;
}

}  // namespace espat::sim
