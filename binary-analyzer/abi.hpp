// Per-architecture calling and syscall conventions that data flow relies on.
#pragma once

#include <cstdint>
#include <string>

#include "insn.hpp"

namespace utx::analyze {

struct Abi {
    Arch arch;
    uint8_t syscall_number_reg;  // rax / a7
    uint32_t caller_saved;       // registers a call may change (bit per register)
    uint32_t syscall_clobbers;   // registers the syscall instruction changes
};

const Abi& abi_for(Arch arch);
std::string register_name(Arch arch, unsigned reg);
const char* arch_name(Arch arch);

}  // namespace utx::analyze
