#include "kernel/mm/slab.h"

#include "kernel/lib/log.h"
#include "kernel/mm/memory.h"

namespace utx::kernel {
namespace {

// Every allocation starts with a header that says how to free it.
struct Header {
    uint64_t size_class;  // kClasses and up: a large allocation of (size_class - kClasses) pages
    uint64_t magic;
};
constexpr uint64_t kMagic = 0x75747868656170ULL;  // "utxheap"

int size_class(size_t total) {
    size_t s = 32;
    for (int c = 0; c < SlabHeap::kClasses - 1; ++c, s <<= 1)
        if (total <= s) return c;
    return -1;  // larger than 2 KiB: whole pages
}

}  // namespace

void* SlabHeap::alloc(size_t size, PagesAlloc pages) {
    const size_t total = size + sizeof(Header);
    const int c = size_class(total);
    if (c < 0) {
        const uint64_t count = page_up(total) / kPageSize;
        auto* h = static_cast<Header*>(pages(count));
        if (!h) return nullptr;
        h->size_class = kClasses + count;
        h->magic = kMagic;
        return h + 1;
    }
    if (!free_lists[c]) {
        auto* page = static_cast<uint8_t*>(pages(1));
        if (!page) return nullptr;
        const size_t object = size_t(32) << c;
        for (size_t off = 0; off + object <= kPageSize; off += object) {
            auto* o = reinterpret_cast<FreeObject*>(page + off);
            o->next = free_lists[c];
            free_lists[c] = o;
        }
    }
    FreeObject* o = free_lists[c];
    free_lists[c] = o->next;
    auto* h = reinterpret_cast<Header*>(o);
    h->size_class = uint64_t(c);
    h->magic = kMagic;
    return h + 1;
}

void SlabHeap::free(void* p, PagesFree pages) {
    if (!p) return;
    auto* h = static_cast<Header*>(p) - 1;
    KASSERT(h->magic == kMagic);
    h->magic = 0;
    if (h->size_class >= kClasses) {
        pages(h, h->size_class - kClasses);
        return;
    }
    const uint64_t size_class = h->size_class;  // the free-list link overwrites the header
    auto* o = reinterpret_cast<FreeObject*>(h);
    o->next = free_lists[size_class];
    free_lists[size_class] = o;
}

}  // namespace utx::kernel
