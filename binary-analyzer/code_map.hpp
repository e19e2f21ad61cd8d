// The disassembled code of one object: recursive disassembly from the entry point,
// symbols, unwind-table function starts and call targets, then a linear sweep over
// whatever recursion missed. Gives instructions by address, branch predecessors and
// function starts, which is the CFG that backward data flow walks.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "elf_image.hpp"
#include "insn.hpp"

namespace utx::analyze {

class Decoder;

class CodeMap {
  public:
    CodeMap(const ElfImage& image, const Decoder& decoder, std::vector<uint64_t> function_seeds);

    const std::vector<Insn>& insns() const { return insns_; }
    std::optional<uint32_t> index_of(uint64_t addr) const;
    // Direct jumps, branches and calls whose target is `addr`.
    std::span<const uint32_t> branch_preds(uint64_t addr) const;
    bool is_function_start(uint64_t addr) const;
    // Every known function start, sorted: seeds, call targets and presumed gap starts.
    const std::vector<uint64_t>& function_starts() const { return function_starts_; }
    // The closest function start at or below `addr` (0 when none).
    uint64_t function_of(uint64_t addr) const;
    // False for a direct call to a function that never returns (exit, abort, __libc_fatal):
    // the instruction after it is not reached from the call.
    bool call_returns(const Insn& call) const;
    // Instructions decoded only by the linear sweep (no path from a seed reached them).
    size_t swept() const { return swept_; }

  private:
    struct Region {
        uint64_t addr;
        std::span<const uint8_t> bytes;
        std::vector<int32_t> slot;  // per byte: instruction index, kInterior, kData or kUnknown
    };
    Region* region_of(uint64_t addr);
    const Region* region_of(uint64_t addr) const;
    void descend(const Decoder& decoder, std::vector<uint64_t> work);
    void sweep_gaps(const Decoder& decoder);
    void finish();
    void find_noreturn_functions();
    bool may_return(uint64_t function, uint32_t stamp, std::vector<uint32_t>& visited,
                    std::vector<uint32_t>& stack) const;

    std::vector<Region> regions_;
    std::vector<Insn> insns_;
    std::vector<uint64_t> function_starts_;             // sorted, unique
    std::vector<std::pair<uint64_t, uint32_t>> preds_;  // (target, source index), sorted
    std::vector<uint32_t> pred_sources_;                // sources in preds_ order
    std::vector<uint64_t> noreturn_;                    // sorted function starts
    size_t swept_ = 0;
    bool sweeping_ = false;
};

}  // namespace utx::analyze
