// The architecture-neutral view of one decoded instruction: how control leaves it and
// what it does to general-purpose registers, as far as syscall-number recovery cares.
#pragma once

#include <array>
#include <cstdint>

namespace utx::analyze {

enum class Arch : uint8_t { X86_64, RiscV64 };

// How control continues after the instruction.
enum class Flow : uint8_t {
    Next,          // falls through
    Jump,          // unconditional direct jump to `target`
    CondJump,      // conditional direct branch to `target`, or falls through
    Call,          // direct call to `target`, returns to the next instruction
    IndirectCall,  // call through a register or memory, returns to the next instruction
    IndirectJump,  // jump through a register or memory (jump tables, tail calls)
    Return,
    Stop,  // hlt, ud2, invalid: nothing follows
};

enum class SyscallKind : uint8_t {
    None,
    Syscall,   // x86-64 `syscall`
    Sysenter,  // x86 `sysenter` (i386 ABI)
    Int80,     // x86 `int 0x80` (i386 ABI)
    Ecall,     // riscv `ecall`
};

// Result width adjustment applied after the operation.
enum class Width : uint8_t {
    Full,
    Zext32,  // x86 32-bit destination: upper half cleared
    Sext32,  // riscv *w instructions: low 32 bits sign-extended
};

enum class EffectKind : uint8_t {
    SetImm,     // dst = imm
    Copy,       // dst = src (then width)
    AddImm,     // dst = src + imm (then width)
    Either,     // dst = dst or src (conditional move)
    InsertImm,  // low `src` bits (8 or 16) of dst = imm, the rest kept (mov al, imm)
    Clobber,    // dst = something we do not model
    LoadMem,    // dst = a value loaded from writable or unknown memory
};

// Where a SetImm constant came from, kept in Effect::src for reporting.
enum ImmOrigin : uint8_t { kImmediate = 0, kZeroIdiom = 1, kAddress = 2, kConstantLoad = 3 };

struct Effect {
    EffectKind kind = EffectKind::Clobber;
    uint8_t dst = 0;
    uint8_t src = 0;
    Width width = Width::Full;
    int64_t imm = 0;
};

inline constexpr uint8_t kNoReg = 0xff;

struct Insn {
    uint64_t addr = 0;
    uint64_t target = 0;  // for Jump, CondJump, Call
    const char* mnemonic = "";
    uint8_t length = 0;
    Flow flow = Flow::Next;
    SyscallKind syscall = SyscallKind::None;
    uint8_t effect_count = 0;
    std::array<Effect, 2> effects{};  // modelled register writes
    uint32_t clobbers = 0;            // other registers written (bit per register)
    // Zero tests, so that an edge can tell a register is 0 (`test rax, rax; je X`: rax is 0
    // at X). x86 `test r, r` (64-bit) sets zero_reg = r. A conditional branch on "zero"
    // (x86 jz/jnz; riscv beq/bne r, zero and c.beqz/c.bnez) sets zero_branch and
    // zero_when_taken (which edge knows the value is 0); riscv branches also set zero_reg,
    // x86 ones take it from the `test` just before them.
    uint8_t zero_reg = kNoReg;
    bool zero_branch = false;
    bool zero_when_taken = false;
    // Decoded only by the linear sweep of a gap: no path from the entry point, a symbol,
    // an unwind-table entry or a call target is known to reach it.
    bool swept = false;

    uint64_t end() const { return addr + length; }
    bool falls_through() const {
        return flow == Flow::Next || flow == Flow::CondJump || flow == Flow::Call ||
               flow == Flow::IndirectCall;
    }
    bool is_call() const { return flow == Flow::Call || flow == Flow::IndirectCall; }
    void add(const Effect& effect) {
        if (effect.kind == EffectKind::Clobber || effect_count == effects.size())
            clobbers |= 1u << effect.dst;
        else
            effects[effect_count++] = effect;
    }
};

}  // namespace utx::analyze
