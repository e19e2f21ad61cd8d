// loader/options.h: utx-run's command line.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "loader/net_policy.h"

namespace utx::loader {

enum class BackendChoice { Auto, Kvm, Qemu };

struct Options {
    uint64_t memory = 512ULL << 20;
    uint32_t cpus = 0;  // -c: vCPUs (0: as many as the host has cores, up to kMaxCpus)
    uint32_t pids = 512;  // --pids: processes of the tree alive or not reaped
    BackendChoice backend = BackendChoice::Auto;
    bool trace = false;
    bool isolate = false;
    bool rewrite = false;  // --rewrite: run the program as utx-rewrite rewrites it
    bool clear_env = false;
    bool stats = false;    // --stats: VM exits (hypercalls, NMIs) on stderr at exit
    NetPolicy net;         // --net, -p
    std::vector<std::string> extra_env;  // -e K=V, in order
    std::vector<std::string> copies;     // --copy HOST:GUEST, in order
    std::vector<std::string> mounts;     // -v HOST:GUEST[:ro], in order
    std::string workdir = "/";           // -w DIR
    std::string program;
    std::vector<std::string> args;  // argv[1..] of the program
    bool help = false;
    bool version = false;
    bool which_backend = false;  // --which-backend: print what --backend auto would pick
};

inline constexpr uint32_t kMaxCpus = 64;
inline constexpr uint32_t kMaxPids = 4096;  // loader/family.h's kMaxFamily

// Parses argv; on error returns nullopt with a one-line message in `error`.
std::optional<Options> parse_options(int argc, const char* const* argv, std::string& error);
// Parses sizes such as 512M, 2G, 1048576 (bytes), 64K.
std::optional<uint64_t> parse_size(const std::string& text);
const char* usage_text();

}  // namespace utx::loader
