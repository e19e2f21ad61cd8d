// What the rewriter needs to know about one x86-64 instruction beyond the analyzer's
// neutral view: the addresses it names (immediates, absolute and RIP-relative memory
// operands), where a RIP-relative displacement sits in its bytes, and whether it may be
// moved into a trampoline.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

namespace utx::rewrite {

struct InsnFacts {
    uint8_t length = 0;
    bool is_lea = false;
    // A RIP-relative memory operand: its absolute address and the offset of its 32-bit
    // displacement in the instruction's bytes.
    bool rip_relative = false;
    uint64_t rip_target = 0;
    uint8_t rip_disp_offset = 0;
    // Constants that may be addresses: immediates and the displacement of a memory operand
    // without base register (e.g. `mov $0x401234, %edi`, `jmp *0x4a0000(,%rax,8)`).
    std::array<uint64_t, 3> constants{};
    uint8_t constant_count = 0;
    // Why the instruction cannot run from a trampoline (nullptr: it can).
    const char* not_movable = nullptr;
};

class X86Inspector {
  public:
    X86Inspector();
    ~X86Inspector();
    X86Inspector(const X86Inspector&) = delete;
    X86Inspector& operator=(const X86Inspector&) = delete;

    // Decodes the instruction at the start of `bytes`, loaded at `addr`. False when the
    // bytes are not a valid instruction.
    bool inspect(std::span<const uint8_t> bytes, uint64_t addr, InsnFacts& out) const;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace utx::rewrite
