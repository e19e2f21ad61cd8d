// Every address in the code where control may arrive other than by falling through from
// the instruction before: direct branch and call targets, function starts, symbols, the
// entry point, exception landing pads, jump-table entries, and every code address the
// program names (immediates, RIP-relative operands, pointers in its data, relocations).
// The rewriter never puts such an address inside a patched range. An over-approximation
// only costs a site; a miss could send a jump into the middle of a `jmp` we wrote.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace utx::analyze {
class CodeMap;
class ElfImage;
}  // namespace utx::analyze

namespace utx::rewrite {

class ElfFile;
class X86Inspector;

enum class TargetKind : uint8_t {
    Branch,         // a direct jump or branch goes there
    FunctionStart,  // a call target, symbol, unwind-table entry or the entry point
    LandingPad,     // an exception handler (.gcc_except_table)
    JumpTable,      // read from a table of offsets the code addresses
    AddressTaken,   // an immediate, a RIP-relative operand, a pointer in data, a relocation
};

struct Target {
    uint64_t addr = 0;
    TargetKind kind = TargetKind::Branch;
    bool operator<(const Target& other) const { return addr < other.addr; }
};

// Code whose landing pads could not be read: no site in it is rewritten.
struct UncertainRange {
    uint64_t start = 0, end = 0;
    std::string why;
};

class BranchTargets {
  public:
    BranchTargets(const analyze::ElfImage& image, const ElfFile& file, const analyze::CodeMap& code,
                  const X86Inspector& inspector);

    // The lowest target t with lo < t < hi.
    std::optional<Target> first_inside(uint64_t lo, uint64_t hi) const;
    bool contains(uint64_t addr) const;
    const UncertainRange* uncertain(uint64_t addr) const;
    size_t size() const { return targets_.size(); }
    // Jump-table entries and landing pads: code that no direct branch reaches, which the
    // analyzer found by its linear sweep only.
    const std::vector<uint64_t>& indirect_entries() const { return indirect_entries_; }

  private:
    bool in_code(uint64_t addr) const;
    void add(uint64_t addr, TargetKind kind);
    void add_landing_pads(const analyze::ElfImage& image);
    void add_relative_table(const analyze::ElfImage& image, uint64_t table, uint64_t limit);
    void add_pointers_in_data(const ElfFile& file);

    std::vector<std::pair<uint64_t, uint64_t>> code_;  // [start, end), sorted
    std::vector<Target> targets_;                      // sorted by address
    std::vector<UncertainRange> uncertain_;
    std::vector<uint64_t> indirect_entries_;  // sorted
};

const char* describe(TargetKind kind);

}  // namespace utx::rewrite
