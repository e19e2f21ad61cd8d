// loader/elf_check.h: validation of the program utx-run is asked to boot.
#pragma once
#include <cstdint>
#include <span>
#include <string>

namespace utx::loader {

enum class ElfArch { X86_64, Riscv64 };

struct ElfSummary {
    ElfArch arch;
    bool position_independent;  // ET_DYN (static-pie)
    uint64_t entry;
};

// Checks that `bytes` is a complete static ELF64 executable utx can boot. On failure returns
// false and sets `error` to one line that names the problem (without the file name).
bool check_elf(std::span<const uint8_t> bytes, ElfSummary& summary, std::string& error);

}  // namespace utx::loader
