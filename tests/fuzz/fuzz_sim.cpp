// fuzz_sim.cpp — libFuzzer target for the simulated module (espat::sim::module): its command
// line reader and decoder, the AT+CIPSEND / AT+CIPSENDEX data phase, passthrough and the rest
// of its state, fed arbitrary host bytes in arbitrary chunks.
//
// A fresh module per input; its output is drained all along. After the input the module must
// still answer: AT+GMR gets its version line and OK within a bounded time, after at most ending
// a half-sent AT+CIPSEND's data and leaving passthrough with a guarded "+++". See README.md.
//
// The simulator is compiled once, with the fuzzer's instrumentation, in the library
// espat_fuzz_sim_core (src/sim/*.cpp, ESPAT_SIM_SEPARATE_COMPILATION); this file
// sees only its interface.
//
// The module runs against the host's real network stack. So that no input reaches beyond this
// machine, this program replaces the C library's connect, sendto, sendmsg and getaddrinfo: only
// loopback addresses can be reached, host names do not resolve, multicast groups are not joined.
// The MQTT client (libmosquitto) goes through the same functions.
#include <espat/sim/module.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

// ---- the network fence ----------------------------------------------------------------------

namespace {

bool loopback(const sockaddr* a, socklen_t len)
{
    if (a == nullptr) return true;  // a connected socket's own peer, already checked
    if (a->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(a);
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (a->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a);
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return true;
        return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
    }
    return a->sa_family == AF_UNIX;
}

}  // namespace

extern "C" int connect(int fd, const sockaddr* addr, socklen_t len)
{
    if (!loopback(addr, len)) {
        errno = ENETUNREACH;
        return -1;
    }
    return static_cast<int>(syscall(SYS_connect, fd, addr, len));
}

extern "C" ssize_t sendto(int fd, const void* buf, size_t n, int flags, const sockaddr* addr, socklen_t len)
{
    if (!loopback(addr, len)) {
        errno = ENETUNREACH;
        return -1;
    }
    return syscall(SYS_sendto, fd, buf, n, flags, addr, len);
}

extern "C" ssize_t sendmsg(int fd, const msghdr* msg, int flags)
{
    if (msg != nullptr && !loopback(static_cast<const sockaddr*>(msg->msg_name), msg->msg_namelen)) {
        errno = ENETUNREACH;
        return -1;
    }
    return syscall(SYS_sendmsg, fd, msg, flags);
}

extern "C" int setsockopt(int fd, int level, int name, const void* value, socklen_t len)
{
    // Joining a group would announce it on the network (IGMP / MLD).
    if ((level == IPPROTO_IP && (name == IP_ADD_MEMBERSHIP || name == IP_ADD_SOURCE_MEMBERSHIP)) ||
        (level == IPPROTO_IPV6 && name == IPV6_JOIN_GROUP) ||
        ((level == IPPROTO_IP || level == IPPROTO_IPV6) && name == MCAST_JOIN_GROUP)) {
        errno = EPERM;
        return -1;
    }
    return static_cast<int>(syscall(SYS_setsockopt, fd, level, name, value, len));
}

// Names never resolve. Literal addresses do (libmosquitto, the simulator's MQTT client, reads
// even those with getaddrinfo): the C library's own, told to take literals only.
extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res)
{
    using real_fn = int (*)(const char*, const char*, const addrinfo*, addrinfo**);
    static const auto real = reinterpret_cast<real_fn>(dlsym(RTLD_NEXT, "getaddrinfo"));
    if (res != nullptr) *res = nullptr;
    if (real == nullptr || node == nullptr) return EAI_NONAME;
    addrinfo literal{};
    if (hints != nullptr) literal = *hints;
    literal.ai_flags |= AI_NUMERICHOST;
    return real(node, service, &literal, res);
}

// ---- the target -----------------------------------------------------------------------------

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Input layout:
//   [0]   flags: bit 0 echo off, bits 1-3 firmware (ESP-AT 2, 3, 4, ESP8266 2.x, NONOS),
//         bit 4 start not joined, bit 5 faults on, bit 6 the host sends line by line and the
//         module does what it can at once after each (else a chunk may hold several lines: the
//         host types ahead), bit 7 as bit 6 and 2 ms pass after each line (timers run)
//   [1]   seed of the chunk sizes and of the module's faults
//   [2..] the host's bytes, fed in chunks of 1..64 bytes
constexpr std::size_t header_size = 2;

struct rng {
    std::uint32_t s;
    std::uint32_t next()
    {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        return s;
    }
};

std::string shown(std::string_view s, std::size_t max = 600)
{
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '\r') out += "\\r";
        else if (c == '\n') out += "\\n";
        else if (c == '\\') out += "\\\\";
        else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
        else {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        }
    }
    if (s.size() > max) out += "...";
    return out;
}

struct run {
    asio::io_context io;
    std::unique_ptr<espat::sim::module> module;
    std::string out;        // everything the module printed
    std::size_t input = 0;  // bytes the host sent

    explicit run(espat::sim::module_options o)
    {
        module = std::make_unique<espat::sim::module>(io.get_executor(), std::move(o));
        asio::co_spawn(io, drain(), asio::detached);
    }
    ~run()
    {
        module.reset();  // stops it: links close, its coroutines end at their next step
        io.poll();
    }

    asio::awaitable<void> drain()
    {
        for (;;) {
            if (!module) co_return;
            std::string chunk = co_await module->next_output();
            if (chunk.empty()) co_return;
            out += chunk;
        }
    }

    // Runs what is ready, without waiting for timers.
    void settle()
    {
        for (int i = 0; i < 1000 && io.poll() > 0; ++i) {
        }
        check_output();
    }
    void wait(steady::duration d)
    {
        const auto until = steady::now() + d;
        while (steady::now() < until) io.run_one_until(until);
        settle();
    }
    void send(std::string_view bytes)
    {
        input += bytes.size();
        module->on_host_bytes(bytes);
        settle();
    }

    [[noreturn]] void fail(const std::string& why, std::string_view host)
    {
        std::fprintf(stderr, "\n=== espat sim fuzz failure: %s\nhost bytes (%zu): \"%s\"\nmodule output (%zu, the end): \"%s\"\n",
                     why.c_str(), host.size(), shown(host, 2000).c_str(), out.size(),
                     shown(std::string_view(out).substr(out.size() > 2000 ? out.size() - 2000 : 0)).c_str());
        std::fflush(stderr);
        __builtin_trap();
    }

    std::string_view host_bytes;
    // Output stays bounded: no command prints more than a few KiB (AT+CIPRECVDATA's 5744 bytes
    // the most), and each line takes at least one host byte; echo and +IPD at most repeat input.
    void check_output()
    {
        const std::size_t bound = 64 * 1024 + 64 * input;
        if (out.size() > bound)
            fail("the module printed " + std::to_string(out.size()) + " bytes for " + std::to_string(input) +
                     " bytes of input",
                 host_bytes);
    }

    // The module answers AT+GMR (version line, then OK) after `from` in its output.
    bool answered(std::size_t from) const
    {
        const std::size_t v = out.find("AT version:", from);
        return v != std::string::npos && out.find("\r\nOK\r\n", v) != std::string::npos;
    }

    // Probes until answered, or `limit` passes, or the module stays silent for 40 ms (it is
    // not reading lines: a data phase or passthrough). The probe is sent again every 25 ms (a
    // module that was rebooting heard nothing) and after each "busy"; its first line end ends
    // a line the input left unfinished.
    bool probe(steady::duration limit)
    {
        const std::size_t mark = out.size();
        const auto until = steady::now() + limit;
        std::size_t busy_seen = mark;
        send("\r\nAT+GMR\r\n");
        auto last_probe = steady::now(), last_output = steady::now();
        std::size_t seen = out.size();
        while (steady::now() < until) {
            if (answered(mark)) return true;
            if (out.size() != seen) seen = out.size(), last_output = steady::now();
            if (steady::now() - last_output >= 40ms) return false;
            const std::size_t busy = out.find("busy ", busy_seen);
            if (busy != std::string::npos || steady::now() - last_probe >= 25ms) {
                if (busy != std::string::npos) busy_seen = busy + 1;
                send("AT+GMR\r\n");
                last_probe = steady::now();
            }
            wait(1ms);
        }
        return answered(mark);
    }
};

espat::sim::personality firmware(int k)
{
    switch (k % 5) {
    case 1: return espat::sim::esp_at_3();
    case 2: return espat::sim::esp_at_4();
    case 3: return espat::sim::esp8266_at_2();
    case 4: return espat::sim::nonos();
    default: return espat::sim::esp_at_2();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < header_size || size > 16384) return -1;  // not added to the corpus
    const std::uint8_t flags = data[0];
    const std::uint8_t seed = data[1];
    const std::string_view host(reinterpret_cast<const char*>(data) + header_size, size - header_size);

    espat::sim::module_options o;
    o.echo = (flags & 1) == 0;
    o.firmware = firmware((flags >> 1) & 7);
    o.start = (flags & 16) ? espat::sim::start_state::not_joined : espat::sim::start_state::joined;
    o.reset_delay = 20ms;
    o.join_delay = 1ms;
    o.server_port_override = 0;  // any free port: parallel runs do not collide
    // AT+MQTTCONN to a loopback port that accepts and never answers MQTT (the module's own
    // server): it gives up before the probe below does.
    o.mqtt_timeout = 200ms;
    o.mqtt_reconnect_interval = 50ms;
    if (flags & 32) {
        o.faults.seed = seed + 1u;
        o.faults.busy_before_result = 0.1;
        o.faults.err_code_busy = 0.1;
        o.faults.spontaneous_reset = 0.02;
        o.faults.send_fail = 0.2;
        o.faults.report_inside_echo = 0.2;
        o.faults.report_inside_send = 0.2;
        o.faults.closed_before_data_read = 0.5;
    }
    const bool interactive = (flags & 64) != 0;
    const bool pause_per_line = (flags & 128) != 0;

    run r(o);
    r.host_bytes = host;
    r.settle();
    rng g{seed * 2654435761u + 1};
    for (std::size_t pos = 0; pos < host.size();) {
        const std::size_t n = std::min<std::size_t>(1 + g.next() % 64, host.size() - pos);
        std::string_view chunk = host.substr(pos, n);
        pos += n;
        if (!interactive && !pause_per_line) {
            r.send(chunk);
            continue;
        }
        // Line by line: the host waits for what each line caused before the next one.
        while (!chunk.empty()) {
            const std::size_t lf = chunk.find('\n');
            const std::string_view part = chunk.substr(0, lf == std::string_view::npos ? chunk.size() : lf + 1);
            r.send(part);
            chunk.remove_prefix(part.size());
            if (lf != std::string_view::npos && pause_per_line) r.wait(2ms);
        }
    }

    static const bool dump = std::getenv("ESPAT_FUZZ_DUMP") != nullptr;
    struct print_at_end {
        run& r;
        ~print_at_end()
        {
            if (dump) std::fprintf(stderr, "module output: \"%s\"\n", shown(r.out, 100000).c_str());
        }
    } printer{r};

    // The module must still answer. Escalating: a plain probe (a reboot or a busy command is
    // waited out); then a data phase is ended (up to 8192 bytes of '\n': data there, empty lines
    // in command mode); then passthrough is left with "+++" between 30 ms silences.
    if (r.probe(1s)) return 0;
    for (int round = 0; round < 2; ++round) {
        r.send(std::string(8192, '\n'));
        if (r.probe(1s)) return 0;
        r.wait(30ms);
        r.send("+++");
        r.wait(30ms);
        if (r.probe(1s)) return 0;
    }
    r.fail("the module stopped answering: AT+GMR got no version line and OK", host);
}
