#include "loader/options.h"

#include <charconv>
#include <cstring>
#include <string>

namespace utx::loader {

const char* usage_text() {
    return "usage: utx-run [options] PROG [ARGS...]\n"
           "Boots the static Linux x86-64 ELF program PROG in its own virtual machine.\n"
           "\n"
           "options:\n"
           "  -m SIZE            guest memory (default 512M; K, M, G suffixes), and half as\n"
           "                     much again for files and pipes the process tree shares\n"
           "  -c N               virtual CPUs, at most 64 (default: the host's core count\n"
           "                     with KVM, 1 with the QEMU backend)\n"
           "  --pids N           processes the program may have at once, itself included\n"
           "                     (default 512, at most 4096); fork fails with EAGAIN past it\n"
           "  -e NAME=VALUE      add to the program's environment (repeatable)\n"
           "  --clear-env        start from an empty environment instead of utx-run's own\n"
           "  --copy HOST:GUEST  copy a host file or directory into the guest's file system\n"
           "  -v HOST:GUEST[:ro] make a host directory or file visible at GUEST (read-only\n"
           "                     with :ro); what the program writes there is on the host\n"
           "  -w DIR             the program's working directory (default /)\n"
           "  --trace            print every system call strace-style to stderr, the faults\n"
           "                     of child processes too, and a summary (with the counts of\n"
           "                     --stats)\n"
           "  --isolate          run the program in user mode, apart from the kernel\n"
           "  --rewrite          rewrite the program's syscall sites into calls (as utx-rewrite\n"
           "                     does) before booting it; --no-rewrite (the default) does not\n"
           "  --backend B        kvm, qemu or auto (the default: kvm, or qemu with a notice\n"
           "                     when /dev/kvm is missing or is PVM)\n"
           "  --which-backend    print the backend auto picks here (and why qemu) and exit\n"
           "  --net MODE         what the program's sockets may reach: none, loopback (the\n"
           "                     default: the host's loopback only) or host (any address)\n"
           "  -p [ADDR:]HOSTPORT:GUESTPORT\n"
           "                     publish: a bind of GUESTPORT binds HOSTPORT on the host's\n"
           "                     loopback (or ADDR) instead (repeatable)\n"
           "  --stats            count VM exits (hypercalls, NMIs) and print them at exit\n"
           "  -h, --help         this text\n"
           "  --version          the version\n";
}

std::optional<uint64_t> parse_size(const std::string& text) {
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end == text.data()) return std::nullopt;
    std::string suffix(end, text.data() + text.size());
    uint64_t scale = 1;
    if (suffix == "" ) scale = value < 65536 ? 1ULL << 20 : 1;  // bare small numbers are MiB
    else if (suffix == "K" || suffix == "k") scale = 1ULL << 10;
    else if (suffix == "M" || suffix == "m") scale = 1ULL << 20;
    else if (suffix == "G" || suffix == "g") scale = 1ULL << 30;
    else return std::nullopt;
    if (value > (1ULL << 46) / scale) return std::nullopt;
    return value * scale;
}

std::optional<Options> parse_options(int argc, const char* const* argv, std::string& error) {
    Options o;
    int i = 1;
    auto value = [&](const char* flag) -> const char* {
        if (i + 1 >= argc) {
            error = std::string("option ") + flag + " needs a value";
            return nullptr;
        }
        return argv[++i];
    };
    // A number from 1 to `max` for `flag`.
    auto count = [&](const char* flag, const char* what, uint32_t max, uint32_t& out) {
        const char* v = value(flag);
        if (!v) return false;
        uint32_t n = 0;
        const char* end = v + std::strlen(v);
        auto [ptr, ec] = std::from_chars(v, end, n);
        if (ec != std::errc() || ptr != end || n < 1 || n > max) {
            error = std::string("invalid ") + what + " '" + v + "' (1 to " + std::to_string(max) +
                    ")";
            return false;
        }
        out = n;
        return true;
    };
    for (; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a.empty() || a[0] != '-') break;
        if (a == "-h" || a == "--help") {
            o.help = true;
            return o;
        } else if (a == "--version") {
            o.version = true;
            return o;
        } else if (a == "--which-backend") {
            o.which_backend = true;
            return o;
        } else if (a == "-m" || a == "--memory") {
            const char* v = value("-m");
            if (!v) return std::nullopt;
            auto size = parse_size(v);
            if (!size || *size < (32ULL << 20) || *size % 4096) {
                error = std::string("invalid memory size '") + v + "' (at least 32M)";
                return std::nullopt;
            }
            o.memory = *size;
        } else if (a == "-c" || a == "--cpus") {
            if (!count("-c", "CPU count", kMaxCpus, o.cpus)) return std::nullopt;
        } else if (a == "--pids") {
            if (!count("--pids", "process limit", kMaxPids, o.pids)) return std::nullopt;
        } else if (a == "-e" || a == "--env") {
            const char* v = value("-e");
            if (!v) return std::nullopt;
            if (!std::strchr(v, '=') || v[0] == '=') {
                error = std::string("invalid environment entry '") + v + "' (expected NAME=VALUE)";
                return std::nullopt;
            }
            o.extra_env.emplace_back(v);
        } else if (a == "--copy") {
            const char* v = value("--copy");
            if (!v) return std::nullopt;
            o.copies.emplace_back(v);
        } else if (a == "-v" || a == "--volume") {
            const char* v = value("-v");
            if (!v) return std::nullopt;
            o.mounts.emplace_back(v);
        } else if (a == "-w" || a == "--workdir") {
            const char* v = value("-w");
            if (!v) return std::nullopt;
            if (v[0] != '/') {
                error = std::string("working directory '") + v + "' must be an absolute path";
                return std::nullopt;
            }
            o.workdir = v;
        } else if (a == "--net") {
            const char* v = value("--net");
            if (!v) return std::nullopt;
            auto mode = parse_net_mode(v);
            if (!mode) {
                error = std::string("unknown network mode '") + v + "' (none, loopback or host)";
                return std::nullopt;
            }
            o.net.mode = *mode;
        } else if (a == "-p" || a == "--publish") {
            const char* v = value("-p");
            if (!v) return std::nullopt;
            PortMapping m;
            if (!parse_port_mapping(v, m, error)) return std::nullopt;
            for (const auto& other : o.net.published) {
                if (other.guest_port == m.guest_port &&
                    (!other.family || !m.family || other.family == m.family)) {
                    error = std::string("-p ") + v + ": guest port " +
                            std::to_string(m.guest_port) + " is published twice";
                    return std::nullopt;
                }
            }
            o.net.published.push_back(m);
        } else if (a == "--stats") {
            o.stats = true;
        } else if (a == "--clear-env") {
            o.clear_env = true;
        } else if (a == "--trace") {
            o.trace = true;
        } else if (a == "--isolate") {
            o.isolate = true;
        } else if (a == "--rewrite") {
            o.rewrite = true;
        } else if (a == "--no-rewrite") {
            o.rewrite = false;
        } else if (a == "--backend") {
            const char* v = value("--backend");
            if (!v) return std::nullopt;
            std::string b = v;
            if (b == "kvm") o.backend = BackendChoice::Kvm;
            else if (b == "qemu") o.backend = BackendChoice::Qemu;
            else if (b == "auto") o.backend = BackendChoice::Auto;
            else {
                error = "unknown backend '" + b + "' (kvm, qemu or auto)";
                return std::nullopt;
            }
        } else {
            error = "unknown option '" + a + "' (see utx-run --help)";
            return std::nullopt;
        }
    }
    if (o.net.mode == NetMode::None && !o.net.published.empty()) {
        error = "-p publishes nothing with --net none";
        return std::nullopt;
    }
    if (i >= argc) {
        error = "no program given (see utx-run --help)";
        return std::nullopt;
    }
    o.program = argv[i++];
    for (; i < argc; ++i) o.args.emplace_back(argv[i]);
    return o;
}

}  // namespace utx::loader
