#include "branch_targets.hpp"

#include <algorithm>
#include <cstring>

#include "code_map.hpp"
#include "eh_frame.hpp"
#include "elf_file.hpp"
#include "elf_image.hpp"
#include "error.hpp"
#include "x86_insn.hpp"

namespace utx::rewrite {

namespace {

// Jump tables longer than this are not real; the scan of one stops there.
constexpr size_t kMaxTableEntries = 16384;

template <typename T>
T load(std::span<const uint8_t> bytes, size_t offset) {
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof value);
    return value;
}

}  // namespace

const char* describe(TargetKind kind) {
    switch (kind) {
        case TargetKind::Branch:
            return "a branch target";
        case TargetKind::FunctionStart:
            return "a function start";
        case TargetKind::LandingPad:
            return "an exception landing pad";
        case TargetKind::JumpTable:
            return "a jump-table entry";
        case TargetKind::AddressTaken:
            return "an address the program names (operand, pointer in data or relocation)";
    }
    return "a target";
}

BranchTargets::BranchTargets(const analyze::ElfImage& image, const ElfFile& file,
                             const analyze::CodeMap& code, const X86Inspector& inspector) {
    for (const analyze::CodeRegion& region : image.code())
        code_.emplace_back(region.addr, region.addr + region.size);
    std::sort(code_.begin(), code_.end());

    if (image.entry() != 0) add(image.entry(), TargetKind::FunctionStart);
    for (const analyze::FunctionSymbol& symbol : image.functions())
        add(symbol.addr, TargetKind::FunctionStart);
    for (uint64_t start : code.function_starts()) add(start, TargetKind::FunctionStart);
    add_landing_pads(image);

    // Direct control flow, and the addresses every decoded instruction names.
    const std::vector<analyze::CodeRegion>& regions = image.code();
    const bool fixed = !file.position_independent() || file.text_relocations();
    std::vector<uint64_t> tables;  // what a `lea` names: maybe a jump table
    // Every address a RIP-relative operand names: where a table ends at the latest.
    // (Immediates are not used: any number may look like an address.)
    std::vector<uint64_t> named;
    for (const analyze::Insn& insn : code.insns()) {
        if (insn.flow == analyze::Flow::Jump || insn.flow == analyze::Flow::CondJump)
            add(insn.target, TargetKind::Branch);
        else if (insn.flow == analyze::Flow::Call)
            add(insn.target, TargetKind::FunctionStart);
        const auto region = std::find_if(regions.begin(), regions.end(), [&](const auto& r) {
            return insn.addr >= r.addr && insn.addr - r.addr < r.size;
        });
        if (region == regions.end()) continue;
        const auto bytes = image.bytes(*region).subspan(insn.addr - region->addr);
        InsnFacts facts;
        if (!inspector.inspect(bytes, insn.addr, facts)) continue;
        // In a position-independent file a constant holds a code address only through a
        // text relocation.
        for (uint8_t i = 0; fixed && i < facts.constant_count; ++i)
            add(facts.constants[i], TargetKind::AddressTaken);
        if (facts.rip_relative) {
            add(facts.rip_target, TargetKind::AddressTaken);
            named.push_back(facts.rip_target);
            if (facts.is_lea) tables.push_back(facts.rip_target);
        }
    }
    std::sort(named.begin(), named.end());
    named.erase(std::unique(named.begin(), named.end()), named.end());
    std::sort(tables.begin(), tables.end());
    tables.erase(std::unique(tables.begin(), tables.end()), tables.end());
    for (uint64_t table : tables) {
        const auto next = std::upper_bound(named.begin(), named.end(), table);
        add_relative_table(image, table, next == named.end() ? UINT64_MAX : *next);
    }

    bool complete = true;
    for (uint64_t addr : file.relocated_addresses(complete)) add(addr, TargetKind::AddressTaken);
    // In a position-independent file every pointer in data has a relocation; without one
    // (or with packed DT_RELR ones) any word of the data may be a pointer.
    if (!file.position_independent() || !complete) add_pointers_in_data(file);

    // A named address strictly inside an instruction the recursion decoded is a number
    // that happens to look like an address: real code pointers lead to instruction starts,
    // and the recursion (which follows every direct branch) shows no other decoding there.
    const std::vector<analyze::Insn>& insns = code.insns();
    std::erase_if(targets_, [&](const Target& target) {
        if (target.kind != TargetKind::AddressTaken) return false;
        auto it =
            std::upper_bound(insns.begin(), insns.end(), target.addr,
                             [](uint64_t addr, const analyze::Insn& i) { return addr < i.addr; });
        if (it == insns.begin()) return false;
        --it;
        return !it->swept && target.addr > it->addr && target.addr < it->end();
    });

    for (const Target& target : targets_)
        if (target.kind == TargetKind::JumpTable || target.kind == TargetKind::LandingPad)
            indirect_entries_.push_back(target.addr);
    std::sort(indirect_entries_.begin(), indirect_entries_.end());
    indirect_entries_.erase(std::unique(indirect_entries_.begin(), indirect_entries_.end()),
                            indirect_entries_.end());

    // At one address keep the most telling kind (the enum's order).
    std::sort(targets_.begin(), targets_.end(), [](const Target& a, const Target& b) {
        return a.addr != b.addr ? a.addr < b.addr : a.kind < b.kind;
    });
    targets_.erase(std::unique(targets_.begin(), targets_.end(),
                               [](const Target& a, const Target& b) { return a.addr == b.addr; }),
                   targets_.end());
}

bool BranchTargets::in_code(uint64_t addr) const {
    auto it = std::upper_bound(code_.begin(), code_.end(), std::make_pair(addr, UINT64_MAX));
    if (it == code_.begin()) return false;
    --it;
    return addr >= it->first && addr < it->second;
}

void BranchTargets::add(uint64_t addr, TargetKind kind) {
    if (in_code(addr)) targets_.push_back({addr, kind});
}

void BranchTargets::add_landing_pads(const analyze::ElfImage& image) {
    const auto eh = image.eh_frame();
    if (!eh) return;
    for (const analyze::Fde& fde : analyze::eh_frame_fdes(image.bytes(*eh), eh->addr)) {
        if (fde.lsda_unreadable) {
            uncertain_.push_back({fde.start, fde.start + fde.size,
                                  "its unwind entry's exception table pointer is unreadable"});
            continue;
        }
        if (!fde.lsda) continue;
        uint64_t lsda = *fde.lsda;
        if (fde.lsda_indirect) {
            const auto pointer = image.read_constant(lsda, 8);
            if (!pointer) {
                uncertain_.push_back({fde.start, fde.start + fde.size,
                                      "its exception table is behind a pointer in writable data"});
                continue;
            }
            lsda = *pointer;
        }
        const auto bytes = image.loaded_bytes(lsda);
        if (bytes.empty()) {
            uncertain_.push_back(
                {fde.start, fde.start + fde.size,
                 "its exception table at " + analyze::hex(lsda) + " is not in the file"});
            continue;
        }
        for (uint64_t pad : analyze::lsda_landing_pads(bytes, lsda, fde.start))
            add(pad, TargetKind::LandingPad);
    }
    std::sort(uncertain_.begin(), uncertain_.end(),
              [](const UncertainRange& a, const UncertainRange& b) { return a.start < b.start; });
}

// A PIC jump table is an array of 32-bit offsets from its own start, which a `lea` names:
// every entry that lands in code counts, until the first that does not or the next address
// a RIP-relative operand names (where another table, or other data, begins: reading on
// would take the next table's offsets as relative to this one).
void BranchTargets::add_relative_table(const analyze::ElfImage& image, uint64_t table,
                                       uint64_t limit) {
    const auto bytes = image.loaded_bytes(table);
    for (size_t i = 0; i < kMaxTableEntries && 4 * i + 4 <= bytes.size(); ++i) {
        if (table + 4 * i >= limit) break;
        const uint64_t target = table + static_cast<uint64_t>(int64_t{load<int32_t>(bytes, 4 * i)});
        if (!in_code(target)) break;
        targets_.push_back({target, TargetKind::JumpTable});
    }
}

// Absolute pointers anywhere in the loaded file data: 8-byte words, and for a program at a
// fixed address (which can hold 32-bit absolute addresses) 4-byte words too.
void BranchTargets::add_pointers_in_data(const ElfFile& file) {
    const std::span<const uint8_t> bytes = file.bytes();
    const bool fixed = !file.position_independent();
    for (const Elf64Phdr& ph : file.segments()) {
        if (ph.type != PT_LOAD || ph.offset > bytes.size() || ph.filesz > bytes.size() - ph.offset)
            continue;
        // Aligned in memory: vaddr and offset agree modulo the page size.
        const uint64_t first = (ph.vaddr + 3) & ~uint64_t{3};
        for (uint64_t vaddr = first; vaddr + 4 <= ph.vaddr + ph.filesz; vaddr += 4) {
            const uint64_t offset = ph.offset + (vaddr - ph.vaddr);
            if (fixed) add(load<uint32_t>(bytes, offset), TargetKind::AddressTaken);
            if (vaddr % 8 == 0 && vaddr + 8 <= ph.vaddr + ph.filesz)
                add(load<uint64_t>(bytes, offset), TargetKind::AddressTaken);
        }
    }
}

std::optional<Target> BranchTargets::first_inside(uint64_t lo, uint64_t hi) const {
    auto it = std::upper_bound(targets_.begin(), targets_.end(), Target{lo});
    if (it != targets_.end() && it->addr < hi) return *it;
    return std::nullopt;
}

bool BranchTargets::contains(uint64_t addr) const {
    return std::binary_search(targets_.begin(), targets_.end(), Target{addr});
}

const UncertainRange* BranchTargets::uncertain(uint64_t addr) const {
    for (const UncertainRange& range : uncertain_)
        if (addr >= range.start && addr < range.end) return &range;
    return nullptr;
}

}  // namespace utx::rewrite
