// The trampoline segment appended to the file: where it goes, and the new program header
// table, note, slot, gate and stub at its start (README.md, "File layout").
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace utx::rewrite {

class ElfFile;

struct SegmentLayout {
    uint64_t offset = 0, vaddr = 0;  // of the segment, both page-aligned
    uint32_t phdr_count = 0;         // entries of the new program header table, at its start
    uint64_t note = 0, slot = 0, gate = 0, stub = 0, code = 0;  // offsets within it
    bool congruent = false;  // vaddr - offset equals the first PT_LOAD's (see README.md)
};

// Places the segment above every PT_LOAD in memory and after the end of the file.
SegmentLayout layout_segment(const ElfFile& file);

// The new file: `patched` (the input with its ranges patched), zeros up to the segment,
// then the segment: program headers, note, slot, gate and stub, and `trampolines` (which
// start at layout.code).
std::vector<uint8_t> assemble(const ElfFile& file, const SegmentLayout& layout,
                              std::vector<uint8_t> patched, std::span<const uint8_t> trampolines,
                              uint32_t site_count);

}  // namespace utx::rewrite
