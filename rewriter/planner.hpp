// Chooses, for each syscall site, the range of instructions a 5-byte `jmp` replaces, or
// says why the site must stay as it is. The safety rules live here (README.md, "Safety").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "rewriter.hpp"

namespace utx::analyze {
class CodeMap;
class ElfImage;
struct SiteReport;
}  // namespace utx::analyze

namespace utx::rewrite {

class BranchTargets;
class ElfFile;
class X86Inspector;
struct InsnFacts;

struct Plan {
    uint32_t site = 0;             // index of the syscall in the code map
    uint32_t first = 0, last = 0;  // the displaced instructions, inclusive (site among them)
    uint64_t start = 0, end = 0;   // the patched range
    Packing packing = Packing::Backward;
};

// Where the trampolines will lie: every jump and RIP-relative operand must reach all of it.
struct Reach {
    uint64_t lo = 0, hi = 0;
};

class Planner {
  public:
    Planner(const analyze::ElfImage& image, const ElfFile& file, const analyze::CodeMap& code,
            const BranchTargets& targets, const X86Inspector& inspector, Reach reach);

    // Marks the munmap sites that may unmap their own stack, and the syscalls after them.
    void find_stack_teardowns(const std::vector<analyze::SiteReport>& sites);

    // A plan for the site at code-map index `site`, or false with `reason` set. Ranges
    // never overlap the ones planned before (sites come in address order).
    bool plan(uint32_t site, const analyze::SiteReport& report, Plan& out, std::string& reason);

    // The facts of an instruction of the code map (decoded again).
    bool facts(uint32_t index, InsnFacts& out) const;
    std::span<const uint8_t> bytes_of(uint32_t index) const;

  private:
    bool number_allows(const analyze::SiteReport& report, std::string& reason) const;
    bool tears_down_stack(uint32_t site, std::vector<uint32_t>& reached) const;
    // Empty when displacing `before` instructions before and `after` after the site works.
    std::string obstacle(uint32_t site, unsigned before, unsigned after, Plan& out) const;
    bool adjacent(uint32_t a, uint32_t b) const;
    bool fits(uint64_t from_lo, uint64_t from_hi, uint64_t to_lo, uint64_t to_hi) const;

    const analyze::ElfImage& image_;
    const ElfFile& file_;
    const analyze::CodeMap& code_;
    const BranchTargets& targets_;
    const X86Inspector& inspector_;
    Reach reach_;
    // Per instruction: decoded from a known path. Instructions of the analyzer's linear
    // sweep count when a jump-table entry or landing pad leads to them.
    std::vector<bool> reached_;
    uint64_t patched_end_ = 0;                             // end of the last planned range
    std::unordered_map<uint32_t, std::string> stackless_;  // site index -> why
};

}  // namespace utx::rewrite
