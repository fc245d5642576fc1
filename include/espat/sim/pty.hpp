// espat/sim/pty.hpp — a pseudo-terminal for the simulator: the module serves the master side
// as an Asio stream; the host (a test, asio::serial_port, picocom, a driver under test) opens
// the slave path like a serial port.
#pragma once

#include <espat/config.hpp>

#include <espat/sim/module_options.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

namespace espat::sim {

// The module keeps a descriptor of the slave open for as long as the pty lives: without one,
// reading the master fails (EIO) whenever no host has the slave open — before the host comes
// and between two host sessions — and the simulator would stop serving.
class pty {
public:
    pty(asio::posix::stream_descriptor master, std::string slave_path, int slave_keepalive)
        : master(std::move(master)), slave_path(std::move(slave_path)), slave_keepalive_(slave_keepalive)
    {
    }
    pty(pty&& o) noexcept
        : master(std::move(o.master)), slave_path(std::move(o.slave_path)),
          slave_keepalive_(std::exchange(o.slave_keepalive_, -1))
    {
    }
    pty& operator=(pty&&) = delete;
    pty(const pty&) = delete;
    pty& operator=(const pty&) = delete;
    ~pty()
    {
        if (slave_keepalive_ >= 0) ::close(slave_keepalive_);
    }

    asio::posix::stream_descriptor master;
    std::string slave_path;  // /dev/pts/N

    // The host's end of the line as its port set it (the slave's termios): for
    // module_options::host_line, so that the module hears a host at its own rate only.
    [[nodiscard]] host_line_settings host_line() const
    {
        termios t{};
        if (::tcgetattr(slave_keepalive_, &t) != 0) return {};
        return {rate_of(::cfgetospeed(&t)), (t.c_cflag & CRTSCTS) != 0};
    }

private:
    static std::uint32_t rate_of(speed_t speed)
    {
        static constexpr struct {
            speed_t speed;
            std::uint32_t rate;
        } rates[] = {{B9600, 9600},     {B19200, 19200},     {B38400, 38400},     {B57600, 57600},
                     {B115200, 115200}, {B230400, 230400},   {B460800, 460800},   {B500000, 500000},
                     {B576000, 576000}, {B921600, 921600},   {B1000000, 1000000}, {B1152000, 1152000},
                     {B1500000, 1500000}, {B2000000, 2000000}, {B3000000, 3000000}, {B4000000, 4000000}};
        for (const auto& r : rates)
            if (r.speed == speed) return r.rate;
        return 0;
    }

    int slave_keepalive_ = -1;
};

// Opens a pseudo-terminal in raw mode (no echo, no line editing, no CR/LF translation: the
// bytes of the AT protocol pass unchanged both ways); the host opens the slave by path.
inline pty open_pty(const asio::any_io_executor& ex)
{
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0) throw std::system_error(errno, std::generic_category(), "posix_openpt");
    auto fail = [master](const char* what) {
        const int e = errno;
        ::close(master);
        throw std::system_error(e, std::generic_category(), what);
    };
    if (::grantpt(master) != 0) fail("grantpt");
    if (::unlockpt(master) != 0) fail("unlockpt");
    char name[128];
    if (::ptsname_r(master, name, sizeof name) != 0) fail("ptsname_r");
    // Raw mode is a property of the slave's line discipline: set it through the slave once.
    const int slave = ::open(name, O_RDWR | O_NOCTTY);
    if (slave < 0) fail("open slave");
    termios t{};
    if (::tcgetattr(slave, &t) == 0) {
        ::cfmakeraw(&t);
        ::tcsetattr(slave, TCSANOW, &t);
    }
    return pty(asio::posix::stream_descriptor(ex, master), std::string(name), slave);
}

}  // namespace espat::sim
