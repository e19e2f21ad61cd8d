// kernel/mm/heap.cpp: kmalloc, a SlabHeap over frames. Large requests take contiguous
// frames: once the application's pages are spread over memory, consecutive single frames
// rarely line up.
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"
#include "kernel/mm/slab.h"

namespace utx::kernel {
namespace {

SlabHeap g_heap;

void* frames(size_t count) {
    const uint64_t first = count == 1 ? frame_alloc() : frames_alloc_contiguous(count);
    return first ? phys_to_virt(first) : nullptr;
}

void unframes(void* first, size_t count) {
    const uint64_t pa = virt_to_phys(reinterpret_cast<uint64_t>(first));
    for (size_t i = 0; i < count; ++i) frame_free(pa + i * kPageSize);
}

}  // namespace

void* kmalloc(size_t size) { return g_heap.alloc(size, frames); }

void* kzalloc(size_t size) {
    void* p = kmalloc(size);
    if (p) memset(p, 0, size);
    return p;
}

void kfree(void* p) { g_heap.free(p, unframes); }

}  // namespace utx::kernel
