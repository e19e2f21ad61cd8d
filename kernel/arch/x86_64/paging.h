// kernel/arch/x86_64/paging.h: 4-level page tables for the application half.
#pragma once
#include <stdint.h>

namespace utx::kernel {

// Protection of a mapped page; present pages are always readable on x86-64.
inline constexpr uint64_t kPteWrite = 1u << 0, kPteExec = 1u << 1, kPteUser = 1u << 2,
                          kPteNoCache = 1u << 3;  // device memory (PCD | PWT)

class PageTable {
public:
    // A new table sharing the kernel half (direct map) of the boot tables.
    static PageTable create(uint64_t boot_pml4);
    PageTable() = default;
    explicit PageTable(uint64_t pml4) : pml4_(pml4) {}

    uint64_t root() const { return pml4_; }
    // Maps one 4 KiB page; false when a table frame cannot be allocated.
    bool map(uint64_t va, uint64_t pa, uint64_t flags);
    // Returns the frame that was mapped at va (0 if none) and clears the entry; `flush`:
    // invalidates this CPU's TLB entry for va too (otherwise the caller flushes).
    uint64_t unmap(uint64_t va, bool flush = true);
    // Physical address mapped at va (page base), 0 if not present; flags out if given.
    uint64_t lookup(uint64_t va, uint64_t* flags = nullptr) const;
    // Changes the protection of a present page; false if not present. `flush` as for unmap.
    bool protect(uint64_t va, uint64_t flags, bool flush = true);
    // Takes the whole lower (user) half out of the table and this CPU's TLB; `detached`
    // receives the 256 top-level entries. Once no CPU can use them any more (after a
    // shootdown), free_detached frees their tables, calling `leaf` for each page mapped.
    void detach_user(uint64_t (&detached)[256]);
    static void free_detached(const uint64_t (&detached)[256],
                              void (*leaf)(uint64_t va, uint64_t pa, void* ctx), void* ctx);
    void activate() const;

private:
    uint64_t* entry(uint64_t va, bool create) const;
    uint64_t pml4_ = 0;
};

}  // namespace utx::kernel
