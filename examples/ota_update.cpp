// ota_update — a firmware update over the air (AT+CIUPDATE), as one co_await script: a progress
// bar from the module's +CIPUPDATE:<n> reports, then the wait for the module's reboot ("ready"),
// then start-up again and the version it now runs.
//
// With no arguments it runs against espat's simulated module (in-process), whose update always
// succeeds and reboots into the same version. With --port it drives a real module, which
// downloads from Espressif's server (or the server its own firmware was built for):
//   ota_update --port /dev/ttyUSB0 [--baud 115200] --ssid NAME --password PW [--tls] [--version v2.2.0.0]
#include "example_support.hpp"

#include <espat/client.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace {

using asio::experimental::as_tuple;
using asio::use_awaitable;

struct settings {
    espat::examples::common_settings common;
    bool tls = false;                    // AT+CIUPDATE=1: download over TLS
    std::optional<std::string> version;  // a version other than the newest
};

settings parse(int argc, char** argv)
{
    const espat::examples::command_line cl(
        "ota_update", "[--port DEVICE [--baud N]] [--ssid S] [--password P] [--tls] [--version V]",
        "A firmware update over the air (AT+CIUPDATE): a progress bar from the module's reports,\n"
        "the wait for its reboot, then start-up again and the version it now runs. Without --port:\n"
        "against the simulated module, whose update always succeeds.\n"
        "\n"
        "Options:\n"
        "  --tls           download over TLS\n"
        "  --version V     the firmware version to fetch (default: the newest)\n");
    settings s;
    s.common = cl.parse(argc, argv, [&](std::string_view flag, auto& value) {
        if (flag == "--tls") s.tls = true;
        else if (flag == "--version") s.version = value();
        else return false;
        return true;
    });
    return s;
}

// The four stages a module reports (+CIPUPDATE:<n>), as the reference names them; the fifth
// step, 100 %, is the OK at the end of the download.
constexpr int steps = 5;
constexpr const char* step_names[steps + 1] = {"",         "found the server", "connected to the server",
                                               "got the software version", "updating", "done"};

void print_progress(int step)
{
    const int width = 20;
    const int filled = width * step / steps;
    std::cout << "[" << std::string(static_cast<std::size_t>(filled), '#')
              << std::string(static_cast<std::size_t>(width - filled), '.') << "] " << 100 * step / steps << " % ("
              << step_names[step] << ")\n";
}

template <class Client>
asio::awaitable<int> ota_update(Client& esp, const settings& s)
{
    if (!co_await espat::examples::start_and_join(esp, s.common)) co_return 1;

    // Reports come to listeners on the client's strand, as they arrive: the progress lines
    // during AT+CIUPDATE, and "ready" once the module has rebooted into the new firmware.
    bool rebooted = false;
    asio::steady_timer reboot_wait(co_await asio::this_coro::executor);
    reboot_wait.expires_at(asio::steady_timer::time_point::max());
    const espat::listener_id listener = esp.add_report_listener([&](const espat::proto::event& e) {
        if (e.kind == espat::proto::event_kind::update_progress && e.value >= 1 && e.value < steps)
            print_progress(static_cast<int>(e.value));
        if (e.kind == espat::proto::event_kind::ready) {
            rebooted = true;
            reboot_wait.cancel();
        }
    });

    std::cout << "updating the firmware (AT+CIUPDATE)\n";
    typename Client::template result<void> updated;
    if (s.tls || s.version) {
        const espat::ciupdate_request request{.mode = s.tls ? espat::ota_mode::tls : espat::ota_mode::tcp,
                                              .version = s.version};
        updated = co_await esp.template async_set<espat::commands::ciupdate>(request);
    } else {
        updated = co_await esp.template async_execute<espat::commands::ciupdate>();
    }
    if (!updated) {
        esp.remove_report_listener(listener);
        std::cerr << "AT+CIUPDATE: " << updated.error().message() << "\n";
        co_return 1;
    }
    print_progress(steps);
    std::cout << "update done; waiting for the module to reboot\n";

    // The module reboots by itself after its OK; give it a minute.
    reboot_wait.expires_after(std::chrono::seconds(60));
    while (!rebooted) {
        auto [ec] = co_await reboot_wait.async_wait(as_tuple(use_awaitable));
        if (!ec) break;  // the minute is up
    }
    esp.remove_report_listener(listener);
    if (!rebooted) {
        std::cerr << "ota_update: the module did not reboot within a minute\n";
        co_return 1;
    }
    std::cout << "module rebooted\n";

    // The client runs start-up again by itself after "ready" (client_options::restart_after_reset);
    // async_start() joins that start-up if it is still running and gives its result.
    auto fw = co_await esp.async_start();
    if (!fw) {
        std::cerr << "start-up after the update: " << fw.error().message() << "\n";
        co_return 1;
    }
    std::cout << "module now runs AT version " << fw->info.at_version.to_string() << "\n";
    co_return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    const settings s = parse(argc, argv);
    espat::examples::runner run("ota_update");
    const espat::client_options options;
    if (s.common.port) return run.on_serial(s.common, [&](auto& esp) { return ota_update(esp, s); }, options);
    return run.on_simulator([&](auto& esp) { return ota_update(esp, s); }, {}, options);
}
