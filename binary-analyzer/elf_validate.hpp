// Checks the raw bytes of an ELF file before any parser sees them, so that a broken
// file gives one precise message instead of a crash or an exception from deep inside.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "insn.hpp"

namespace utx::analyze {

struct ElfFacts {
    Arch arch = Arch::X86_64;
    bool shared_object = false;  // ET_DYN
    uint64_t entry = 0;
};

// Throws InputError(name, message) on the first problem found.
ElfFacts validate_elf(const std::string& name, std::span<const uint8_t> bytes);

}  // namespace utx::analyze
