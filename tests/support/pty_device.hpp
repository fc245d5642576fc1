// pty_device.hpp — test helper: the simulated module serving a fresh pseudo-terminal's master,
// echo off; the client opens the slave as a serial port (open_port()).
#pragma once

#include <espat/sim/module.hpp>
#include <espat/sim/pty.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/serial_port.hpp>

#include <utility>

namespace espat::test {

struct pty_device {
    // line_checked: the module hears the host only at its own UART settings
    // (module_options::host_line, read from the slave), as on a real serial line.
    explicit pty_device(sim::module_options mo = {}, bool line_checked = false)
        : pty(sim::open_pty(io.get_executor())), module(io.get_executor(), adapted(std::move(mo), line_checked, pty))
    {
        asio::co_spawn(io, module.serve(pty.master), asio::detached);
    }
    // The slave as a serial port at 115200 baud, no flow control.
    asio::serial_port open_port()
    {
        using base = asio::serial_port_base;
        asio::serial_port port(io, pty.slave_path);
        port.set_option(base::baud_rate(115200));
        port.set_option(base::flow_control(base::flow_control::none));
        return port;
    }

    asio::io_context io;
    sim::pty pty;
    sim::module module;

private:
    static sim::module_options adapted(sim::module_options mo, bool line_checked, const sim::pty& p)
    {
        mo.echo = false;
        if (line_checked) mo.host_line = [&p] { return p.host_line(); };
        return mo;
    }
};

}  // namespace espat::test
