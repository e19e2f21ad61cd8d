// Function starts from .eh_frame: every FDE's initial location begins a function, which
// seeds disassembly of stripped binaries.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace utx::analyze {

// `section` holds .eh_frame as loaded at `section_addr`. Malformed records end the walk;
// what was read until then is returned.
std::vector<uint64_t> eh_frame_function_starts(std::span<const uint8_t> section,
                                               uint64_t section_addr);

}  // namespace utx::analyze
