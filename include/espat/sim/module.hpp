// espat/sim/module.hpp — a simulated ESP-AT module: it reads command lines from the host,
// decodes them with the command table, runs them against the host's real network stack and
// writes the table's answers. serve() runs it over any Asio stream (sim::pipe, a pty's
// stream_descriptor, a TCP socket); or a caller feeds on_host_bytes() and drains next_output().
//
// Header-only by default. The implementation (module_core.hpp, with its members in one core_*.hpp
// header per command group) instantiates the whole command table, which takes a compiler about
// two minutes; a project that includes the simulator in many files can compile it once instead,
// as Asio does: define ESPAT_SIM_SEPARATE_COMPILATION everywhere and include
// <espat/sim/module_src.hpp> in exactly one source file.
//
// Everything runs on one executor (one io_context thread); nothing locks.
#pragma once

#include <espat/config.hpp>

#include <espat/commands/basic.hpp>
#include <espat/sim/module_options.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#if defined(ESPAT_SIM_SEPARATE_COMPILATION)
#define ESPAT_SIM_DECL
#else
#define ESPAT_SIM_DECL inline
#endif

namespace espat::sim {

namespace detail {
class module_core;
}

// The simulated module. Destroying it stops it: links and the server close, its coroutines end
// at their next step (they keep the state alive until then).
class module {
public:
    ESPAT_SIM_DECL explicit module(asio::any_io_executor ex, module_options options = {});
    module(const module&) = delete;
    module& operator=(const module&) = delete;
    ESPAT_SIM_DECL ~module();

    // Host -> module bytes, split anywhere. Call on the module's executor.
    ESPAT_SIM_DECL void on_host_bytes(std::string_view bytes);
    // Module -> host bytes: waits for some, returns all queued; empty once stopped. (serve()
    // writes them as the module made them instead: each report is a write of its own.)
    ESPAT_SIM_DECL asio::awaitable<std::string> next_output();

    // Reads host bytes from `stream` and writes the module's output to it until the stream
    // ends or fails (or the module stops). Any Asio AsyncReadStream + AsyncWriteStream on the
    // module's executor: sim::pipe_end, asio::posix::stream_descriptor, tcp::socket, and
    // wrappers that pace or corrupt bytes (sim::paced_stream, sim::faulty_stream).
    template <class Stream>
    asio::awaitable<void> serve(Stream& stream)
    {
        using namespace asio::experimental::awaitable_operators;
        co_await (read_host(core_, stream) || write_host(core_, stream));
    }

    ESPAT_SIM_DECL void stop();
    // Power-cycles the module (its EN pin, a brown-out): whatever it is doing (a command, a
    // send, passthrough) it reboots at once, as after AT+RST but without the OK: "ready" after
    // module_options::reset_delay, links and server gone, settings not kept in flash reset.
    ESPAT_SIM_DECL void reset();
    // The nth command line from now (0: the next one) is failed `how` instead of being run;
    // plans add up. Call on the module's executor.
    ESPAT_SIM_DECL void fail_command(std::size_t nth, planned_failure how);
    // Command lines the module has read so far, each re-send counted.
    [[nodiscard]] ESPAT_SIM_DECL std::size_t commands_seen() const;
    // The host port AT+CIPSERVER listens on, once it does.
    [[nodiscard]] ESPAT_SIM_DECL std::optional<std::uint16_t> server_port() const;
    // Bytes a link holds in its passive receive buffer.
    [[nodiscard]] ESPAT_SIM_DECL std::size_t buffered(std::uint8_t link) const;
    // The most bytes any link held in its passive buffer so far (<= the 5744-byte limit).
    [[nodiscard]] ESPAT_SIM_DECL std::size_t max_buffered_seen() const;
    [[nodiscard]] ESPAT_SIM_DECL const module_options& options() const;
    // The UART's settings (AT+UART_CUR's, or the defaults after a reset).
    [[nodiscard]] ESPAT_SIM_DECL uart_config uart() const;

private:
    // The core's side of serve(), out of line so that serve() needs no definition of the core.
    ESPAT_SIM_DECL static bool stopped(const detail::module_core& core);
    ESPAT_SIM_DECL static void feed(detail::module_core& core, std::string_view bytes);
    ESPAT_SIM_DECL static asio::awaitable<void> wait_input_room(std::shared_ptr<detail::module_core> core);
    ESPAT_SIM_DECL static asio::awaitable<std::string> output_of(std::shared_ptr<detail::module_core> core);
    ESPAT_SIM_DECL static asio::awaitable<std::string> write_of(std::shared_ptr<detail::module_core> core);

    template <class Stream>
    static asio::awaitable<void> read_host(std::shared_ptr<detail::module_core> core, Stream& stream)
    {
        std::array<char, 4096> buffer;
        while (!stopped(*core)) {
            co_await wait_input_room(core);
            auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer),
                                                           asio::experimental::as_tuple(asio::use_awaitable));
            if (ec || stopped(*core)) co_return;
            feed(*core, std::string_view(buffer.data(), n));
        }
    }
    // One write to the host per write of the module, as the firmware's UART task writes: a report
    // is never joined to the answer before it, so a host that reads promptly reads them apart.
    template <class Stream>
    static asio::awaitable<void> write_host(std::shared_ptr<detail::module_core> core, Stream& stream)
    {
        while (!stopped(*core)) {
            std::string chunk = co_await write_of(core);
            if (chunk.empty()) co_return;
            auto [ec, n] = co_await asio::async_write(stream, asio::buffer(chunk),
                                                      asio::experimental::as_tuple(asio::use_awaitable));
            (void)n;
            if (ec) co_return;
        }
    }

    std::shared_ptr<detail::module_core> core_;
};

}  // namespace espat::sim

#if !defined(ESPAT_SIM_SEPARATE_COMPILATION)
#include <espat/sim/module_core.hpp>
#endif
