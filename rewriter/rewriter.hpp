// The rewriter: replaces the x86-64 `syscall` sites of a static program by jumps to
// per-site trampolines that call the kernel's direct entry through one slot (see
// README.md and abi/rewrite.h). Works on bytes in memory: utx-rewrite writes the result
// to a file, utx-run --rewrite puts it into the guest's root image.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace utx::rewrite {

enum class Packing : uint8_t {
    Backward,  // the syscall and instructions before it
    Forward,   // the syscall and instructions after it
    Both,      // instructions on both sides
};

struct SiteOutcome {
    uint64_t addr = 0;     // the syscall instruction
    std::string function;  // symbol or sub_ADDR
    bool rewritten = false;
    Packing packing = Packing::Backward;
    uint64_t start = 0, end = 0;  // the patched range (rewritten sites)
    uint64_t trampoline = 0;      // its trampoline (link-time address)
    std::string reason;           // why the site was left (the others)
};

struct Report {
    bool already_rewritten = false;
    std::vector<SiteOutcome> sites;  // by address
    uint64_t segment_vaddr = 0, segment_offset = 0, segment_size = 0;

    size_t found() const { return sites.size(); }
    size_t rewritten() const;
    size_t packed(Packing packing) const;
    // Rewritten sites / sites, in percent (100 when there are no sites).
    double percent() const;
};

struct Rewritten {
    std::vector<uint8_t> bytes;  // the new file (the input itself when nothing changed)
    Report report;
};

// Throws analyze::InputError naming `name` for a file the rewriter does not take: not an
// ELF, malformed, another machine, riscv64, dynamically linked.
Rewritten rewrite_program(const std::string& name, std::vector<uint8_t> input);

// One line: "N syscall sites, R rewritten (B backward, F forward, M both ways), L left: P%".
std::string summary(const Report& report);

}  // namespace utx::rewrite
