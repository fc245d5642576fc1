// Packaging test: a consumer of espat::sim (CMake) / espat_sim_dep (meson): the simulated
// module, compiled in the package's library, served over an in-process pipe to a client that
// runs its start-up (AT, ATE1, AT+GMR, AT+SYSLOG=1) and one AT; exit 0 when both succeed
// within the deadline.
#include <espat/client.hpp>
#include <espat/sim/module.hpp>
#include <espat/sim/pipe.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <iostream>
#include <utility>

#if !defined(ESPAT_SIM_SEPARATE_COMPILATION)
#error "espat's simulator library must give its users ESPAT_SIM_SEPARATE_COMPILATION"
#endif

namespace {

using client = espat::basic_client<espat::sim::pipe_end>;

asio::awaitable<void> script(client& esp, espat::sim::module& module, int& status)
{
    auto fw = co_await esp.async_start();
    if (!fw) {
        std::cerr << "start-up: " << fw.error().message() << '\n';
    } else {
        auto at = co_await esp.at();
        if (!at) std::cerr << "AT: " << at.error().message() << '\n';
        else {
            std::cout << "simulated module: " << fw->info.at_version_line << "; AT: OK\n";
            status = 0;
        }
    }
    esp.close();
    module.stop();
}

}  // namespace

int main()
{
    asio::io_context io;
    espat::sim::module module(io.get_executor());
    auto ends = espat::sim::make_pipe(io.get_executor());
    asio::co_spawn(io, module.serve(ends.second), asio::detached);
    client esp(std::move(ends.first));
    int status = 1;
    asio::co_spawn(esp.get_executor(), script(esp, module, status), asio::detached);
    io.run_for(std::chrono::seconds(20));
    if (status != 0) std::cerr << "the simulated module's start-up and AT did not complete\n";
    return status;
}
