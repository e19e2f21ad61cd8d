// kernel/mm/slab.h: a heap of power-of-two size classes carved from pages, larger requests
// taking contiguous pages. Where the pages come from is the owner's: the kernel heap
// (kmalloc) takes frames; the family region's heap (kernel/ipc/family.h) takes pages of
// the region and keeps its SlabHeap inside the region, so every VM of the tree shares it.
// Not locked: the owner serialises.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace utx::kernel {

struct SlabHeap {
    static constexpr int kClasses = 8;  // 32 B .. 4 KiB, header included
    struct FreeObject {
        FreeObject* next;
    };
    // `count` contiguous pages (not necessarily zeroed), or null; and their return.
    using PagesAlloc = void* (*)(size_t count);
    using PagesFree = void (*)(void* first, size_t count);

    FreeObject* free_lists[kClasses];

    void* alloc(size_t size, PagesAlloc pages);
    void free(void* p, PagesFree pages);
};

}  // namespace utx::kernel
