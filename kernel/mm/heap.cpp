// kernel/mm/heap.cpp: kmalloc. Power-of-two size classes carved from frames; larger
// requests take contiguous frames.
#include "kernel/lib/log.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"

namespace utx::kernel {
namespace {

// Every allocation starts with a header that says how to free it.
struct Header {
    uint64_t size_class;  // kClasses and up: a large allocation of (size_class - kClasses) pages
    uint64_t magic;
};
constexpr uint64_t kMagic = 0x75747868656170ULL;  // "utxheap"
constexpr int kClasses = 8;                        // 32 B .. 4 KiB, header included

struct FreeObject {
    FreeObject* next;
};
FreeObject* g_free_lists[kClasses];

int size_class(size_t total) {
    size_t s = 32;
    for (int c = 0; c < kClasses - 1; ++c, s <<= 1)
        if (total <= s) return c;
    return -1;  // larger than 2 KiB: whole frames
}

void* allocate_large(uint64_t pages) {
    uint64_t first = frames_alloc_contiguous(pages);
    if (!first) return nullptr;
    auto* h = static_cast<Header*>(phys_to_virt(first));
    h->size_class = kClasses + pages;
    h->magic = kMagic;
    return h + 1;
}

}  // namespace

void* kmalloc(size_t size) {
    size_t total = size + sizeof(Header);
    int c = size_class(total);
    if (c < 0) return allocate_large(page_up(total) / kPageSize);
    if (!g_free_lists[c]) {
        uint64_t pa = frame_alloc();
        if (!pa) return nullptr;
        size_t object = size_t(32) << c;
        auto* page = static_cast<uint8_t*>(phys_to_virt(pa));
        for (size_t off = 0; off + object <= kPageSize; off += object) {
            auto* o = reinterpret_cast<FreeObject*>(page + off);
            o->next = g_free_lists[c];
            g_free_lists[c] = o;
        }
    }
    FreeObject* o = g_free_lists[c];
    g_free_lists[c] = o->next;
    auto* h = reinterpret_cast<Header*>(o);
    h->size_class = uint64_t(c);
    h->magic = kMagic;
    return h + 1;
}

void* kzalloc(size_t size) {
    void* p = kmalloc(size);
    if (p) memset(p, 0, size);
    return p;
}

void kfree(void* p) {
    if (!p) return;
    auto* h = static_cast<Header*>(p) - 1;
    KASSERT(h->magic == kMagic);
    h->magic = 0;
    if (h->size_class >= kClasses) {
        uint64_t pa = virt_to_phys(reinterpret_cast<uint64_t>(h));
        for (uint64_t i = 0; i < h->size_class - kClasses; ++i) frame_free(pa + i * kPageSize);
        return;
    }
    const uint64_t size_class = h->size_class;  // the free-list link overwrites the header
    auto* o = reinterpret_cast<FreeObject*>(h);
    o->next = g_free_lists[size_class];
    g_free_lists[size_class] = o;
}

}  // namespace utx::kernel
