#include "kernel/ipc/family.h"

#include "abi/boot_info.h"
#include "abi/hypercall.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/ipc/waitfd.h"
#include "kernel/lib/log.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"
#include "kernel/mm/slab.h"
#include "kernel/platform/hypercall.h"
#include "kernel/process.h"

namespace utx::kernel {
namespace {

constexpr uint64_t kFamilyMagic = 0x7574'7846'616d'696cULL;  // "utxFamil"

// Page 0 of the region; the allocation bitmap (1 = in use) follows from page 1.
struct Header {
    uint64_t magic;
    uint32_t lock_next, lock_serving;  // the family lock's tickets
    int32_t lock_owner;                // the pid of the VM that holds it (0: none)
    uint32_t lock_depth;               // how often that VM took it
    uint32_t lock_sleepers;            // VMs waiting for it in their VMM
    SlabHeap heap;                     // family_alloc
    uint64_t pages;                    // in the region
    uint64_t free_pages;
    uint64_t hint;                     // where the last search ended
    uint64_t next_id;
};

constexpr uint32_t kSpinsBeforeSleep = 4000;

Header* g_header;
uint64_t* g_bitmap;
WaitQueue g_waiters;  // this VM's threads waiting for the region

bool used(uint64_t page) { return g_bitmap[page / 64] >> (page % 64) & 1; }
void mark(uint64_t first, size_t count, bool in_use) {
    for (uint64_t p = first; p < first + count; ++p) {
        if (in_use) g_bitmap[p / 64] |= 1ULL << (p % 64);
        else g_bitmap[p / 64] &= ~(1ULL << (p % 64));
    }
}

uint8_t* page_address(uint64_t page) {
    return reinterpret_cast<uint8_t*>(g_header) + page * kPageSize;
}

}  // namespace

void family_init(const abi::BootInfo& info) {
    if (info.family.size < 4 * kPageSize) panic("the VMM gave no family region");
    g_header = static_cast<Header*>(phys_to_virt(info.family.gpa));
    g_bitmap = reinterpret_cast<uint64_t*>(page_address(1));
    if (g_header->magic == kFamilyMagic) return;
    const uint64_t pages = info.family.size / kPageSize;
    const uint64_t bitmap_pages = (pages + 8 * kPageSize - 1) / (8 * kPageSize);
    memset(g_bitmap, 0, bitmap_pages * kPageSize);
    mark(0, 1 + bitmap_pages, true);
    g_header->pages = pages;
    g_header->free_pages = pages - 1 - bitmap_pages;
    g_header->hint = 1 + bitmap_pages;
    g_header->next_id = 1;
    g_header->lock_next = g_header->lock_serving = 0;
    g_header->lock_owner = 0;
    g_header->lock_depth = 0;
    g_header->lock_sleepers = 0;
    g_header->heap = SlabHeap{};
    __atomic_store_n(&g_header->magic, kFamilyMagic, __ATOMIC_RELEASE);
}

// Taken again by the VM that holds it (a minifs call inside a path walk): only the VM's
// own kernel, which holds its kernel lock, ever stores its pid as the owner.
void family_lock() {
    Header& h = *g_header;
    const int32_t self = current_process().pid;
    if (__atomic_load_n(&h.lock_owner, __ATOMIC_RELAXED) == self) {
        ++h.lock_depth;
        return;
    }
    const uint32_t ticket = __atomic_fetch_add(&h.lock_next, 1, __ATOMIC_RELAXED);
    // Spin a little; then sleep in the VMM (a host futex), so that the holder, which may be
    // waiting for a host CPU this vCPU spins on, gets it.
    for (uint32_t i = 0; __atomic_load_n(&h.lock_serving, __ATOMIC_ACQUIRE) != ticket; ++i) {
        if (i < kSpinsBeforeSleep) {
            cpu_relax();
            continue;
        }
        __atomic_fetch_add(&h.lock_sleepers, 1, __ATOMIC_SEQ_CST);
        for (uint32_t now; (now = __atomic_load_n(&h.lock_serving, __ATOMIC_SEQ_CST)) != ticket;)
            host_process(abi::kProcLockWait, virt_to_phys(reinterpret_cast<uint64_t>(&h.lock_serving)), now);
        __atomic_fetch_sub(&h.lock_sleepers, 1, __ATOMIC_SEQ_CST);
    }
    __atomic_store_n(&h.lock_owner, self, __ATOMIC_RELAXED);
    h.lock_depth = 1;
}

void family_unlock() {
    Header& h = *g_header;
    if (--h.lock_depth) return;
    __atomic_store_n(&h.lock_owner, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&h.lock_serving, h.lock_serving + 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&h.lock_sleepers, __ATOMIC_SEQ_CST))
        host_process(abi::kProcLockWake, virt_to_phys(reinterpret_cast<uint64_t>(&h.lock_serving)), 0);
}

bool family_locked() { return g_header && g_header->lock_owner == current_process().pid; }

uint32_t family_release_all() {
    if (!family_locked()) return 0;
    const uint32_t depth = g_header->lock_depth;
    g_header->lock_depth = 1;
    family_unlock();
    return depth;
}

void family_retake(uint32_t depth) {
    if (!depth) return;
    family_lock();
    g_header->lock_depth = depth;
}

void* family_alloc_pages(size_t count) {
    Header& h = *g_header;
    if (!count || count > h.free_pages) return nullptr;
    // First fit from the hint, round to it again; a run does not wrap past the last page.
    uint64_t run = 0;
    for (uint64_t i = 0; i < h.pages; ++i) {
        const uint64_t p = (h.hint + i) % h.pages;
        if (p == 0) run = 0;
        run = used(p) ? 0 : run + 1;
        if (run < count) continue;
        const uint64_t first = p + 1 - count;
        mark(first, count, true);
        h.free_pages -= count;
        h.hint = p + 1;
        memset(page_address(first), 0, count * kPageSize);
        return page_address(first);
    }
    return nullptr;
}

void family_free_pages(void* p, size_t count) {
    if (!p) return;
    const uint64_t first = uint64_t(static_cast<uint8_t*>(p) - page_address(0)) / kPageSize;
    for (uint64_t i = first; i < first + count; ++i)
        if (!used(i)) panic("family region: page %lu freed twice", (unsigned long)i);
    mark(first, count, false);
    g_header->free_pages += count;
}

uint64_t family_next_id() { return g_header->next_id++; }

void* family_alloc(size_t size) {
    family_lock();
    void* p = g_header->heap.alloc(size, family_alloc_pages);
    family_unlock();
    return p;
}

void family_free(void* p) {
    family_lock();
    g_header->heap.free(p, family_free_pages);
    family_unlock();
}

void* family_alloc_page() {
    family_lock();
    void* p = family_alloc_pages(1);
    family_unlock();
    return p;
}

void family_free_page(void* p) {
    family_lock();
    family_free_pages(p, 1);
    family_unlock();
}

uint64_t family_size() { return g_header->pages * kPageSize; }

uint64_t family_bytes_in_use() {
    family_lock();
    const uint64_t bytes = (g_header->pages - g_header->free_pages) * kPageSize;
    family_unlock();
    return bytes;
}

void family_register(FamilyWaiters& w) {
    const int32_t self = current_process().pid;
    int free = -1;
    for (int i = 0; i < FamilyWaiters::kSlots; ++i) {
        if (w.pid[i] == self) return;
        if (!w.pid[i] && free < 0) free = i;
    }
    if (free >= 0) w.pid[free] = self;
    else w.overflow = 1;
}

FamilyWaiters family_take(FamilyWaiters& w) {
    FamilyWaiters taken = w;
    w = FamilyWaiters{};
    return taken;
}

void family_wake(const FamilyWaiters& w) {
    // This VM's waiters, always: as every change to a pipe did before pipes were shared
    // (a poller here need not be in the list: it may have been taken by an earlier change).
    family_woken();
    if (w.overflow) {
        host_process(abi::kProcWake, uint64_t(-1), 0);
        return;
    }
    const int32_t self = current_process().pid;
    int32_t others[FamilyWaiters::kSlots];
    int n = 0;
    for (int32_t pid : w.pid)
        if (pid && pid != self) others[n++] = pid;
    for (int i = 0; i < n; i += 2)
        host_process(abi::kProcWake, uint64_t(others[i]), i + 1 < n ? uint64_t(others[i + 1]) : 0);
}

int64_t family_wait(uint64_t deadline) { return thread_wait(g_waiters, deadline); }
void family_wait_uninterruptible() { thread_wait_uninterruptible(g_waiters); }

void family_woken() {
    wake_up(g_waiters, 1 << 30);
    poll_notify();
}

}  // namespace utx::kernel
