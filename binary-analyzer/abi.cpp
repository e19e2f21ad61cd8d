#include "abi.hpp"

namespace utx::analyze {

namespace {

constexpr uint32_t bit(unsigned reg) {
    return 1u << reg;
}

// rax rcx rdx rsi rdi r8-r11 on x86-64 (System V); ra t0-t6 a0-a7 on riscv64.
constexpr Abi kX86{Arch::X86_64, 0,
                   bit(0) | bit(1) | bit(2) | bit(6) | bit(7) | bit(8) | bit(9) | bit(10) | bit(11),
                   bit(0) | bit(1) | bit(11)};
constexpr Abi kRiscv{Arch::RiscV64, 17,
                     bit(1) | bit(5) | bit(6) | bit(7) | 0x3fc00u /* a0-a7 */ | bit(28) | bit(29) |
                         bit(30) | bit(31),
                     bit(10)};

const char* const kX86Names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                   "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
const char* const kRiscvNames[32] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2",
                                     "s0",   "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
                                     "a6",   "a7", "s2",  "s3",  "s4", "s5", "s6", "s7",
                                     "s8",   "s9", "s10", "s11", "t3", "t4", "t5", "t6"};

}  // namespace

const Abi& abi_for(Arch arch) {
    return arch == Arch::X86_64 ? kX86 : kRiscv;
}

std::string register_name(Arch arch, unsigned reg) {
    if (arch == Arch::X86_64) return reg < 16 ? kX86Names[reg] : "?";
    return reg < 32 ? kRiscvNames[reg] : "?";
}

const char* arch_name(Arch arch) {
    return arch == Arch::X86_64 ? "x86_64" : "riscv64";
}

}  // namespace utx::analyze
