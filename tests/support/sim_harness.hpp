// sim_harness.hpp — test helper: a simulated module served over an in-process pipe, with a
// host end that writes bytes and waits (bounded by a deadline) for expected output.
#pragma once

#include <espat/sim/links.hpp>  // use_tuple
#include <espat/sim/module.hpp>
#include <espat/sim/pipe.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace espat::test {

class sim_harness {
public:
    explicit sim_harness(sim::module_options options = {})
    {
        options.echo = options.echo;  // the tests say what they want
        module.emplace(io.get_executor(), std::move(options));
        auto [host_end, module_end] = sim::make_pipe(io.get_executor());
        host.emplace(std::move(host_end));
        device.emplace(std::move(module_end));
        asio::co_spawn(io, module->serve(*device), asio::detached);
        asio::co_spawn(io, read_forever(), asio::detached);
    }
    ~sim_harness()
    {
        module.reset();
        host->close();
        io.run_for(std::chrono::milliseconds(50));
    }

    // Runs the io_context until pred() holds or the time is up; says which.
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds limit = std::chrono::seconds(5))
    {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!pred()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            io.run_one_for(std::chrono::milliseconds(5));
        }
        return true;
    }
    void run_for(std::chrono::milliseconds d) { io.run_for(d); }

    void send(std::string_view bytes)
    {
        bool done = false;
        asio::async_write(*host, asio::buffer(bytes), [&](std::error_code, std::size_t) { done = true; });
        run_until([&] { return done; });
    }

    // Everything received up to and including `marker` (taken out of the received bytes), or
    // what arrived so far followed by "<TIMEOUT>" when it never came.
    std::string until(std::string_view marker, std::chrono::milliseconds limit = std::chrono::seconds(5))
    {
        if (!run_until([&] { return received.find(marker) != std::string::npos; }, limit))
            return std::exchange(received, {}) + "<TIMEOUT>";
        const std::size_t end = received.find(marker) + marker.size();
        std::string out = received.substr(0, end);
        received.erase(0, end);
        return out;
    }
    std::string command(std::string_view line, std::string_view final = "OK\r\n")
    {
        send(std::string(line) + "\r\n");
        return until(final);
    }

    asio::io_context io;
    std::optional<sim::module> module;
    std::optional<sim::pipe_end> host, device;
    std::string received;

private:
    asio::awaitable<void> read_forever()
    {
        std::array<char, 4096> buffer;
        for (;;) {
            auto [ec, n] = co_await host->async_read_some(asio::buffer(buffer), sim::use_tuple);
            if (ec) co_return;
            received.append(buffer.data(), n);
        }
    }
};

}  // namespace espat::test
