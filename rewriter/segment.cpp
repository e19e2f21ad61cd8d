#include "segment.hpp"

#include <algorithm>
#include <cstring>

#include "abi/rewrite.h"
#include "elf_file.hpp"
#include "trampoline.hpp"

namespace utx::rewrite {

namespace {

constexpr uint64_t kPage = 0x1000;
// How much zero padding the file may grow by to keep the segment congruent.
constexpr uint64_t kMaxCongruencePadding = 4 << 20;
constexpr uint32_t kNoteHeaderSize = 12 + sizeof abi::kRewriteNoteName;
constexpr uint32_t kNoteSize = kNoteHeaderSize + sizeof(abi::RewriteNote);

uint64_t align_up(uint64_t value, uint64_t alignment) {
    return (value + alignment - 1) & ~(alignment - 1);
}

template <typename T>
void store(std::vector<uint8_t>& bytes, uint64_t offset, const T& value) {
    std::memcpy(bytes.data() + offset, &value, sizeof value);
}

}  // namespace

// Linux before 5.18 (and other loaders) compute AT_PHDR as the first PT_LOAD's
// `vaddr - offset` plus e_phoff, whatever segment holds the table; newer Linux uses the
// PT_LOAD that holds e_phoff. A segment whose `vaddr - offset` equals the first PT_LOAD's
// satisfies both, and keeps `&__ehdr_start + e_phoff` right too. That costs zero padding
// in the file up to the end of .bss; above kMaxCongruencePadding the segment goes right
// after the file instead, and only the PT_LOAD rule (Linux 5.18+, utx) finds the table.
SegmentLayout layout_segment(const ElfFile& file) {
    SegmentLayout layout;
    const Elf64Phdr* first = nullptr;
    uint64_t top = 0;
    for (const Elf64Phdr& ph : file.segments()) {
        if (ph.type != PT_LOAD) continue;
        if (!first) first = &ph;
        top = std::max(top, ph.vaddr + ph.memsz);
    }
    const uint64_t memory_end = align_up(top, kPage);
    const uint64_t file_end = align_up(file.bytes().size(), kPage);
    // Only for a sane first segment: page-aligned `vaddr - offset`, not above the end.
    const bool can_be_congruent =
        first && first->offset <= first->vaddr && (first->vaddr - first->offset) % kPage == 0;
    const uint64_t base = can_be_congruent ? first->vaddr - first->offset : 0;
    const uint64_t congruent_offset = std::max(file_end, memory_end - base);
    if (can_be_congruent && congruent_offset - file_end <= kMaxCongruencePadding) {
        layout.offset = congruent_offset;
        layout.vaddr = base + congruent_offset;
        layout.congruent = true;
    } else {
        layout.offset = file_end;
        layout.vaddr = memory_end;
    }
    layout.phdr_count = static_cast<uint32_t>(file.segments().size() + 2);
    layout.note = align_up(uint64_t{layout.phdr_count} * sizeof(Elf64Phdr), 8);
    layout.slot = align_up(layout.note + kNoteSize, 8);
    layout.gate = align_up(layout.slot + 8, 16);
    layout.stub = layout.gate + kGateSize;
    layout.code = align_up(layout.stub + kStubSize, 16);
    return layout;
}

std::vector<uint8_t> assemble(const ElfFile& file, const SegmentLayout& layout,
                              std::vector<uint8_t> patched, std::span<const uint8_t> trampolines,
                              uint32_t site_count) {
    const uint64_t size = layout.code + trampolines.size();
    std::vector<uint8_t> segment(size, 0xcc);

    // The program header table: the old entries (PT_PHDR moved along), the new PT_LOAD
    // after the last PT_LOAD so that they stay sorted, and the note.
    std::vector<Elf64Phdr> phdrs;
    const std::vector<Elf64Phdr>& old = file.segments();
    size_t last_load = 0;
    for (size_t i = 0; i < old.size(); ++i)
        if (old[i].type == PT_LOAD) last_load = i;
    const uint64_t table_size = uint64_t{layout.phdr_count} * sizeof(Elf64Phdr);
    for (size_t i = 0; i < old.size(); ++i) {
        Elf64Phdr ph = old[i];
        if (ph.type == PT_PHDR) {
            ph.offset = layout.offset;
            ph.vaddr = ph.paddr = layout.vaddr;
            ph.filesz = ph.memsz = table_size;
        }
        phdrs.push_back(ph);
        if (i == last_load)
            phdrs.push_back({PT_LOAD, PF_R | PF_X, layout.offset, layout.vaddr, layout.vaddr, size,
                             size, kPage});
    }
    phdrs.push_back({PT_NOTE, PF_R, layout.offset + layout.note, layout.vaddr + layout.note,
                     layout.vaddr + layout.note, kNoteSize, kNoteSize, 4});
    std::memcpy(segment.data(), phdrs.data(), table_size);
    std::fill(segment.begin() + static_cast<ptrdiff_t>(table_size),
              segment.begin() + static_cast<ptrdiff_t>(layout.gate), 0);

    store(segment, layout.note, uint32_t{sizeof abi::kRewriteNoteName});
    store(segment, layout.note + 4, uint32_t{sizeof(abi::RewriteNote)});
    store(segment, layout.note + 8, abi::kRewriteNoteType);
    std::memcpy(segment.data() + layout.note + 12, abi::kRewriteNoteName,
                sizeof abi::kRewriteNoteName);
    const abi::RewriteNote note{abi::kRewriteVersion, site_count, layout.vaddr + layout.slot,
                                layout.vaddr,         size,       layout.vaddr + layout.stub};
    store(segment, layout.note + kNoteHeaderSize, note);

    store(segment, layout.slot, static_cast<int64_t>(layout.stub - layout.slot));
    const std::vector<uint8_t> gate =
        encode_gate_and_stub(layout.vaddr + layout.gate, layout.vaddr + layout.slot);
    std::copy(gate.begin(), gate.end(), segment.begin() + static_cast<ptrdiff_t>(layout.gate));
    std::copy(trampolines.begin(), trampolines.end(),
              segment.begin() + static_cast<ptrdiff_t>(layout.code));

    Elf64Ehdr header = file.header();
    header.phoff = layout.offset;
    header.phnum = static_cast<uint16_t>(layout.phdr_count);
    store(patched, 0, header);
    patched.resize(layout.offset, 0);
    patched.insert(patched.end(), segment.begin(), segment.end());
    return patched;
}

}  // namespace utx::rewrite
