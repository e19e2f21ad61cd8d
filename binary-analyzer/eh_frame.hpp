// Function starts from .eh_frame: every FDE's initial location begins a function, which
// seeds disassembly of stripped binaries. And the exception-handling landing pads of the
// functions that have an LSDA (.gcc_except_table), which are jump targets no direct
// branch shows.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace utx::analyze {

struct Fde {
    uint64_t start = 0;  // the function's first instruction
    uint64_t size = 0;
    std::optional<uint64_t> lsda;  // where its LSDA is, when it has one
    bool lsda_indirect = false;    // `lsda` is the address of a pointer to the LSDA
    bool lsda_unreadable = false;  // its CIE announces an LSDA the record does not give
};

// Every FDE of `section` (.eh_frame loaded at `section_addr`). Malformed records end the
// walk; what was read until then is returned.
std::vector<Fde> eh_frame_fdes(std::span<const uint8_t> section, uint64_t section_addr);

// The landing pads of one LSDA (GCC's call-site table). `bytes` starts at the LSDA, loaded
// at `lsda_addr`, and may run past its end; `function_start` is the FDE's start, the
// default base of landing-pad offsets. A malformed table gives what was read until then.
std::vector<uint64_t> lsda_landing_pads(std::span<const uint8_t> bytes, uint64_t lsda_addr,
                                        uint64_t function_start);

// `section` holds .eh_frame as loaded at `section_addr`. Malformed records end the walk;
// what was read until then is returned.
std::vector<uint64_t> eh_frame_function_starts(std::span<const uint8_t> section,
                                               uint64_t section_addr);

}  // namespace utx::analyze
