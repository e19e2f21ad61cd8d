// kernel/mm/memory.h: physical frames, the direct map and kernel allocation.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "abi/boot_info.h"

namespace utx::kernel {

inline constexpr uint64_t kPageSize = 4096;
inline uint64_t page_down(uint64_t v) { return v & ~(kPageSize - 1); }
inline uint64_t page_up(uint64_t v) { return (v + kPageSize - 1) & ~(kPageSize - 1); }

inline void* phys_to_virt(uint64_t pa) {
    return reinterpret_cast<void*>(abi::kDirectMapBase + pa);
}
// Kernel addresses by subtraction, user addresses through the current page tables.
// Returns ~0 for an unmapped user address.
uint64_t virt_to_phys(uint64_t va);

// Frame allocator over the RAM that BootInfo leaves free.
void frames_init(uint64_t mem_size, uint64_t first_free);
uint64_t frame_alloc();            // zeroed frame, 0 when memory is exhausted
// `count` physically contiguous zeroed frames (the address of the first), 0 when no free
// run is that long.
uint64_t frames_alloc_contiguous(uint64_t count);
void frame_free(uint64_t pa);
uint64_t frames_free_count();
uint64_t frames_total_count();

// Kernel heap: small objects from size classes, large ones from whole frames.
void* kmalloc(size_t size);
void* kzalloc(size_t size);
void kfree(void* p);

}  // namespace utx::kernel
