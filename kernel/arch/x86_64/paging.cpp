#include "kernel/arch/x86_64/paging.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"

namespace utx::kernel {
namespace {

constexpr uint64_t kPresent = 1, kWritable = 2, kUser = 4, kHuge = 0x80;
constexpr uint64_t kNoExec = 1ULL << 63;
constexpr uint64_t kAddrMask = 0x000f'ffff'ffff'f000ULL;

uint64_t* table(uint64_t pa) { return static_cast<uint64_t*>(phys_to_virt(pa)); }

uint64_t hw_flags(uint64_t flags) {
    uint64_t f = kPresent;
    if (flags & kPteWrite) f |= kWritable;
    if (flags & kPteUser) f |= kUser;
    if (!(flags & kPteExec)) f |= kNoExec;
    if (flags & kPteNoCache) f |= 0x18;
    return f;
}

}  // namespace

PageTable PageTable::create(uint64_t boot_pml4) {
    uint64_t pa = frame_alloc();
    if (!pa) return PageTable();
    // Kernel half: the entries the VMM prepared (direct map).
    memcpy(table(pa) + 256, table(boot_pml4) + 256, 256 * sizeof(uint64_t));
    return PageTable(pa);
}

uint64_t* PageTable::entry(uint64_t va, bool create) const {
    uint64_t* t = table(pml4_);
    for (int level = 3; level > 0; --level) {
        uint64_t& e = t[(va >> (12 + 9 * level)) & 511];
        if (!(e & kPresent)) {
            if (!create) return nullptr;
            uint64_t pa = frame_alloc();
            if (!pa) return nullptr;
            e = pa | kPresent | kWritable | kUser;
        } else if (e & kHuge) {
            return nullptr;
        }
        t = table(e & kAddrMask);
    }
    return &t[(va >> 12) & 511];
}

bool PageTable::map(uint64_t va, uint64_t pa, uint64_t flags) {
    uint64_t* e = entry(va, true);
    if (!e) return false;
    *e = pa | hw_flags(flags);
    return true;
}

uint64_t PageTable::unmap(uint64_t va, bool flush) {
    uint64_t* e = entry(va, false);
    if (!e || !(*e & kPresent)) return 0;
    uint64_t pa = *e & kAddrMask;
    *e = 0;
    if (flush) invlpg(va);
    return pa;
}

void PageTable::detach_user(uint64_t (&detached)[256]) {
    uint64_t* top = table(pml4_);
    memcpy(detached, top, sizeof detached);
    memset(top, 0, sizeof detached);
    flush_tlb();
}

namespace {

// Frees the table at `pa` (level 3: a PDPT .. 1: a page table) and what hangs below it.
void free_table(uint64_t pa, int level, uint64_t base,
                void (*leaf)(uint64_t va, uint64_t pa, void* ctx), void* ctx) {
    const uint64_t* t = table(pa);
    for (uint64_t i = 0; i < 512; ++i) {
        const uint64_t e = t[i];
        if (!(e & kPresent)) continue;
        const uint64_t va = base + (i << (12 + 9 * (level - 1)));
        if (level == 1)
            leaf(va, e & kAddrMask, ctx);
        else if (!(e & kHuge))  // the user half holds no huge pages; skip one if it did
            free_table(e & kAddrMask, level - 1, va, leaf, ctx);
    }
    frame_free(pa);
}

}  // namespace

void PageTable::free_detached(const uint64_t (&detached)[256],
                              void (*leaf)(uint64_t va, uint64_t pa, void* ctx), void* ctx) {
    for (uint64_t i = 0; i < 256; ++i)
        if (detached[i] & kPresent) free_table(detached[i] & kAddrMask, 3, i << 39, leaf, ctx);
}

uint64_t PageTable::lookup(uint64_t va, uint64_t* flags) const {
    uint64_t* e = entry(va, false);
    if (!e || !(*e & kPresent)) return 0;
    if (flags)
        *flags = (*e & kWritable ? kPteWrite : 0) | (*e & kNoExec ? 0 : kPteExec) |
                 (*e & kUser ? kPteUser : 0);
    return *e & kAddrMask;
}

bool PageTable::protect(uint64_t va, uint64_t flags, bool flush) {
    uint64_t* e = entry(va, false);
    if (!e || !(*e & kPresent)) return false;
    *e = (*e & kAddrMask) | hw_flags(flags);
    if (flush) invlpg(va);
    return true;
}

void PageTable::activate() const { write_cr3(pml4_); }

}  // namespace utx::kernel
