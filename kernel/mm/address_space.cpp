#include "kernel/mm/address_space.h"

#include "kernel/arch/x86_64/smp.h"
#include "kernel/fs/vfs.h"
#include "kernel/lib/errno.h"
#include "kernel/lib/log.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"
#include "kernel/process.h"
#include "minifs/fs.h"

namespace utx::kernel {
namespace {

// Linux's mmap flag bits we act on.
constexpr uint32_t kMapShared = 0x01, kMapPrivate = 0x02, kMapSharedValidate = 0x03,
                   kMapFixed = 0x10, kMapAnonymous = 0x20, kMapGrowsDown = 0x100,
                   kMapPopulate = 0x8000, kMapFixedNoReplace = 0x100000;
constexpr uint32_t kMremapMayMove = 1, kMremapFixed = 2;
constexpr int kMadvDontNeed = 4, kMadvFree = 8, kMadvRemove = 9;

AddressSpace g_address_space;
constexpr uint64_t kStackGuardGap = 256 * kPageSize;

// Whether `b` continues `a` (which ends where b starts) as one mapping: the same kind and,
// for a file or a special mapping, the next pages of it.
bool continues(const Vma& a, const Vma& b) {
    return a.end == b.start && a.prot == b.prot && a.flags == b.flags && a.file == b.file &&
           a.special == b.special &&
           ((!a.file && !a.special) || a.pgoff + (a.end - a.start) / kPageSize == b.pgoff);
}

// Ranges of up to this many pages are invalidated page by page, longer ones by one flush.
constexpr uint64_t kFlushEachUpTo = 16;

// Whether the frames mapped by `v` are its own, to free when it goes: not a file's pages,
// not the kernel's.
bool owns_frames(const Vma& v) { return !v.file && !(v.special && v.special->kernel_frames); }

// A VMA's share of its file: each holds one reference.
void hold_file(const Vma& v) {
    if (v.file) vfs()->ref(v.file);
}
void drop_file(const Vma& v) {
    if (v.file) vfs()->unref(v.file);
}

// `v` over [start, end) instead, with the file pages that fall there and its own reference.
Vma part_of(const Vma& v, uint64_t start, uint64_t end) {
    Vma part = v;
    part.start = start;
    part.end = end;
    if (v.file || v.special) part.pgoff = v.pgoff + (start - v.start) / kPageSize;
    hold_file(part);
    return part;
}

}  // namespace

AddressSpace& current_address_space() { return g_address_space; }

uint64_t pte_flags_for(uint32_t prot) {
    // PROT_NONE pages stay supervisor-only: present for the kernel, a fault for the program.
    if (!(prot & (kProtRead | kProtWrite | kProtExec))) return 0;
    return kPteUser | (prot & kProtWrite ? kPteWrite : 0) | (prot & kProtExec ? kPteExec : 0);
}

bool AddressSpace::init(uint64_t boot_pml4) {
    pt_ = PageTable::create(boot_pml4);
    return pt_.root() != 0;
}

int AddressSpace::find(uint64_t addr) const {
    size_t lo = 0, hi = count_;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (vmas_[mid].end <= addr) lo = mid + 1;
        else hi = mid;
    }
    return lo < count_ && vmas_[lo].start <= addr ? int(lo) : -1;
}

bool AddressSpace::insert(const Vma& v) {
    size_t i = 0;
    while (i < count_ && vmas_[i].start < v.start) ++i;
    // Merge with neighbours of the same kind; the merged mapping keeps one file reference.
    if (i > 0 && continues(vmas_[i - 1], v)) {
        vmas_[i - 1].end = v.end;
        drop_file(v);
        if (i < count_ && continues(vmas_[i - 1], vmas_[i])) {
            vmas_[i - 1].end = vmas_[i].end;
            drop_file(vmas_[i]);
            memmove(&vmas_[i], &vmas_[i + 1], (count_ - i - 1) * sizeof(Vma));
            --count_;
        }
        return true;
    }
    if (i < count_ && continues(v, vmas_[i])) {
        vmas_[i].start = v.start;
        vmas_[i].pgoff = v.pgoff;
        drop_file(v);
        return true;
    }
    if (count_ == kMaxVmas) {
        drop_file(v);
        return false;
    }
    memmove(&vmas_[i + 1], &vmas_[i], (count_ - i) * sizeof(Vma));
    vmas_[i] = v;
    ++count_;
    return true;
}

bool AddressSpace::split_at(uint64_t addr) {
    int i = find(addr);
    if (i < 0 || vmas_[i].start == addr) return true;
    if (count_ == kMaxVmas) return false;
    memmove(&vmas_[i + 1], &vmas_[i], (count_ - size_t(i)) * sizeof(Vma));
    ++count_;
    vmas_[i].end = addr;
    vmas_[i + 1] = part_of(vmas_[i + 1], addr, vmas_[i + 1].end);
    return true;
}

void AddressSpace::clear() {
    // The whole lower half at once: its tables come out of the page table and the TLBs
    // first, then they are walked for the frames mapped, instead of a look-up and an
    // invalidation for every page of every mapping.
    uint64_t detached[256];
    pt_.detach_user(detached);
    tlb_shootdown();
    struct Cursor {
        const Vma* vmas;
        size_t count, i;
    } cursor{vmas_, count_, 0};
    // Leaves come in ascending order of address, as the VMAs are sorted.
    PageTable::free_detached(
        detached,
        [](uint64_t va, uint64_t pa, void* ctx) {
            auto& c = *static_cast<Cursor*>(ctx);
            while (c.i < c.count && c.vmas[c.i].end <= va) ++c.i;
            if (c.i < c.count && c.vmas[c.i].start <= va && owns_frames(c.vmas[c.i]))
                frame_free(pa);
        },
        &cursor);
    for (size_t i = 0; i < count_; ++i) drop_file(vmas_[i]);  // after: a file may free pages
    count_ = 0;
    brk_start_ = brk_ = 0;
}

void AddressSpace::unmap_pages(uint64_t start, uint64_t end, bool free_frames) {
    // Another CPU may still reach a frame through its TLB until the shootdown: frames are
    // freed after it, a batch at a time.
    constexpr size_t kBatch = 256;
    uint64_t frames[kBatch];
    size_t n = 0;
    bool unmapped = false;
    // Past a few pages, one flush of this CPU's TLB costs less than an invalidation each
    // (on PVM each is a VM exit).
    const bool each = (end - start) / kPageSize <= kFlushEachUpTo;
    auto flush = [&] {
        if (unmapped && !each) flush_tlb();
        if (unmapped) tlb_shootdown();
        for (size_t i = 0; i < n; ++i) frame_free(frames[i]);
        n = 0;
        unmapped = false;
    };
    for (uint64_t va = start; va < end; va += kPageSize) {
        const uint64_t pa = pt_.unmap(va, each);
        if (!pa) continue;
        unmapped = true;
        if (!free_frames) continue;
        frames[n++] = pa;
        if (n == kBatch) flush();
    }
    flush();
}

void AddressSpace::unmap_file_pages(const minifs::Inode* file, uint64_t first, uint64_t end) {
    for (size_t i = 0; i < count_; ++i) {
        const Vma& v = vmas_[i];
        if (v.file != file) continue;
        const uint64_t pages = (v.end - v.start) / kPageSize;
        const uint64_t lo = first > v.pgoff ? first : v.pgoff;
        const uint64_t hi = end < v.pgoff + pages ? end : v.pgoff + pages;
        if (lo < hi)
            unmap_pages(v.start + (lo - v.pgoff) * kPageSize, v.start + (hi - v.pgoff) * kPageSize,
                        false);
    }
}

void AddressSpace::remove(uint64_t start, uint64_t end) {
    split_at(start);
    split_at(end);
    size_t w = 0;
    for (size_t r = 0; r < count_; ++r) {
        if (vmas_[r].start >= start && vmas_[r].end <= end) {
            unmap_pages(vmas_[r].start, vmas_[r].end, owns_frames(vmas_[r]));
            drop_file(vmas_[r]);  // after the pages are out of the tables: it may free them
            continue;
        }
        vmas_[w++] = vmas_[r];
    }
    count_ = w;
}

bool AddressSpace::range_free(uint64_t start, uint64_t end) const {
    for (size_t i = 0; i < count_; ++i)
        if (vmas_[i].start < end && vmas_[i].end > start) return false;
    return true;
}

uint64_t AddressSpace::find_gap(uint64_t len) const {
    // Top-down from mmap_base, as Linux does.
    uint64_t top = mmap_base_;
    for (size_t i = count_; i-- > 0;) {
        const Vma& v = vmas_[i];
        if (v.start >= top) continue;
        if (v.end <= top && top - v.end >= len) return top - len;
        top = v.start;
    }
    return top >= len + kMmapMin ? top - len : 0;
}

bool AddressSpace::add_region(uint64_t start, uint64_t end, uint32_t prot, uint32_t flags) {
    return insert(Vma{start, end, prot, flags, nullptr, 0, nullptr});
}

bool AddressSpace::add_special(uint64_t start, uint64_t end, uint32_t prot,
                               const SpecialMapping& special) {
    return insert(Vma{start, end, prot, 0, nullptr, 0, &special});
}

int64_t AddressSpace::mmap(uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags,
                           const FileBacking* backing) {
    uint32_t type = flags & kMapSharedValidate;
    if (len == 0 || (type != kMapPrivate && type != kMapShared && type != kMapSharedValidate))
        return -EINVAL;
    if (!(flags & kMapAnonymous) && !backing) return -EBADF;
    if (len > kUserTop) return -ENOMEM;
    len = page_up(len);
    bool fixed = flags & (kMapFixed | kMapFixedNoReplace);
    if (fixed) {
        if (addr & (kPageSize - 1)) return -EINVAL;
        if (addr < kMmapMin || addr > kUserTop - len) return -ENOMEM;
        if (!range_free(addr, addr + len)) {
            if (flags & kMapFixedNoReplace) return -EEXIST;
            remove(addr, addr + len);
        }
    } else {
        addr = page_down(addr);
        if (addr < kMmapMin || addr > kUserTop - len || !range_free(addr, addr + len))
            addr = find_gap(len);
        if (!addr) return -ENOMEM;
    }
    uint32_t vflags = flags & kMapGrowsDown ? kVmaGrowsDown : 0;
    Vma v{addr, addr + len, prot & 7, vflags, nullptr, 0, nullptr};
    if (backing) {
        v.file = backing->file;
        v.pgoff = backing->pgoff;
        if (backing->may_write) v.flags |= kVmaMayWrite;
        hold_file(v);
    }
    if (!insert(v)) return -ENOMEM;
    if (flags & kMapPopulate)
        for (uint64_t va = addr; va < addr + len; va += kPageSize)
            if (!present_page(va, false)) break;
    return int64_t(addr);
}

int64_t AddressSpace::munmap(uint64_t addr, uint64_t len) {
    if ((addr & (kPageSize - 1)) || len == 0 || addr >= kUserTop || len > kUserTop - addr)
        return -EINVAL;
    remove(addr, addr + page_up(len));
    return 0;
}

int64_t AddressSpace::mprotect(uint64_t addr, uint64_t len, uint32_t prot) {
    if (addr & (kPageSize - 1)) return -EINVAL;
    if (prot & ~7u) return -EINVAL;
    uint64_t end = addr + page_up(len);
    if (end < addr || end > kUserTop) return -ENOMEM;
    if (len == 0) return 0;
    if (!fully_mapped(addr, end)) return -ENOMEM;
    // A shared mapping of a file opened read-only can never be written through, and a
    // special mapping gets no more than its max_prot (the vvar page stays read-only).
    for (size_t i = 0; i < count_; ++i) {
        const Vma& v = vmas_[i];
        if (v.end <= addr || end <= v.start) continue;
        if ((prot & kProtWrite) && v.file && !(v.flags & kVmaMayWrite)) return -EACCES;
        if (v.special && (prot & ~v.special->max_prot)) return -EACCES;
    }
    if (!split_at(addr) || !split_at(end)) return -ENOMEM;
    bool changed = false;
    const bool each = (end - addr) / kPageSize <= kFlushEachUpTo;
    for (size_t i = 0; i < count_; ++i) {
        Vma& v = vmas_[i];
        if (v.start < addr || v.end > end) continue;
        v.prot = prot;
        for (uint64_t va = v.start; va < v.end; va += kPageSize)
            changed |= pt_.protect(va, pte_flags_for(prot), each);
    }
    if (changed && !each) flush_tlb();
    if (changed) tlb_shootdown();
    return 0;
}

int64_t AddressSpace::mremap(uint64_t old_addr, uint64_t old_len, uint64_t new_len,
                             uint32_t flags, uint64_t new_addr) {
    if ((old_addr & (kPageSize - 1)) || (flags & ~(kMremapMayMove | kMremapFixed)) ||
        ((flags & kMremapFixed) && !(flags & kMremapMayMove)) || new_len == 0)
        return -EINVAL;
    old_len = page_up(old_len);
    new_len = page_up(new_len);
    int i = find(old_addr);
    if (i < 0 || vmas_[i].end < old_addr + old_len) return -EFAULT;
    Vma v = vmas_[i];
    // A special mapping moves or shrinks but never grows (Linux's VM_DONTEXPAND).
    if (v.special && new_len > old_len) return -EFAULT;
    if (flags & kMremapFixed) {
        if ((new_addr & (kPageSize - 1)) || new_addr > kUserTop - new_len) return -EINVAL;
        if (new_addr < old_addr + old_len && old_addr < new_addr + new_len) return -EINVAL;
    } else {
        if (new_len <= old_len) {
            if (new_len < old_len) remove(old_addr + new_len, old_addr + old_len);
            return int64_t(old_addr);
        }
        if (old_addr + old_len == v.end && range_free(v.end, old_addr + new_len) &&
            old_addr + new_len <= kUserTop) {
            remove(v.end, old_addr + new_len);  // no-op, keeps invariants
            insert(part_of(v, v.end, old_addr + new_len));
            return int64_t(old_addr);
        }
        if (!(flags & kMremapMayMove)) return -ENOMEM;
        new_addr = find_gap(new_len);
        if (!new_addr) return -ENOMEM;
    }
    remove(new_addr, new_addr + new_len);
    // The moved mapping starts with the file page that was at old_addr.
    Vma moved = part_of(v, old_addr, old_addr + new_len);
    moved.start = new_addr;
    moved.end = new_addr + new_len;
    if (!insert(moved)) return -ENOMEM;
    uint64_t move = old_len < new_len ? old_len : new_len;
    const bool each = move / kPageSize <= kFlushEachUpTo;
    for (uint64_t off = 0; off < move; off += kPageSize) {
        uint64_t pa = pt_.unmap(old_addr + off, each);
        // A file page left unmapped is faulted in again; anonymous memory would be lost.
        if (pa && !pt_.map(new_addr + off, pa, pte_flags_for(v.prot)) && owns_frames(v))
            frame_free(pa);
    }
    if (!each) flush_tlb();
    tlb_shootdown();  // other CPUs stop using the old addresses
    remove(old_addr, old_addr + old_len);
    return int64_t(new_addr);
}

int64_t AddressSpace::madvise(uint64_t addr, uint64_t len, int advice) {
    if (addr & (kPageSize - 1)) return -EINVAL;
    uint64_t end = addr + page_up(len);
    if (end < addr) return -EINVAL;
    if (advice == kMadvDontNeed || advice == kMadvFree || advice == kMadvRemove) {
        for (uint64_t a = addr; a < end;) {
            int i = find(a);
            if (i < 0) return -ENOMEM;
            const Vma& v = vmas_[i];
            uint64_t stop = v.end < end ? v.end : end;
            if (advice == kMadvRemove && v.file) {
                // The file's own pages go (a hole punched, as tmpfs does), not just ours.
                if (!(v.flags & kVmaMayWrite)) return -EACCES;
                const uint64_t first = v.pgoff + (a - v.start) / kPageSize;
                vfs()->punch_hole(v.file, first * kPageSize, stop - a);
            }
            unmap_pages(a, stop, owns_frames(v));
            a = stop;
        }
    }
    return 0;
}

uint64_t AddressSpace::brk(uint64_t new_brk) {
    if (new_brk < brk_start_) return brk_;
    uint64_t old_top = page_up(brk_), new_top = page_up(new_brk);
    if (new_top > old_top) {
        if (new_top > mmap_base_ || !range_free(old_top, new_top)) return brk_;
        if (!insert(Vma{old_top, new_top, kProtRead | kProtWrite, kVmaHeap, nullptr, 0, nullptr}))
            return brk_;
    } else if (new_top < old_top) {
        remove(new_top, old_top);
    }
    brk_ = new_brk;
    return brk_;
}

uint64_t AddressSpace::present_page(uint64_t va, bool write) {
    va = page_down(va);
    uint64_t pa = pt_.lookup(va);
    if (pa) return pa;
    if (handle_fault(va, write, false) != Fault::Resolved) return 0;
    return pt_.lookup(va);
}

AddressSpace::Fault AddressSpace::handle_fault(uint64_t addr, bool write, bool exec) {
    if (addr >= kUserTop) return Fault::Invalid;
    int i = find(addr);
    if (i < 0) {
        // Grow a stack downwards within RLIMIT_STACK, keeping Linux's guard gap (256
        // pages) above the mapping below it.
        size_t j = 0;
        while (j < count_ && vmas_[j].end <= addr) ++j;
        if (j == count_ || !(vmas_[j].flags & kVmaGrowsDown)) return Fault::Invalid;
        uint64_t new_start = page_down(addr);
        const uint64_t limit = current_process().rlimits[kRlimitStack].cur;
        if (vmas_[j].end - new_start > limit) return Fault::Invalid;
        if (j > 0 && vmas_[j - 1].end + kStackGuardGap > new_start) return Fault::Invalid;
        vmas_[j].start = new_start;
        i = int(j);
    }
    const Vma& v = vmas_[i];
    if ((write && !(v.prot & kProtWrite)) || (exec && !(v.prot & kProtExec)) ||
        !(v.prot & (kProtRead | kProtWrite | kProtExec)))
        return Fault::Invalid;
    uint64_t va = page_down(addr);
    if (pt_.lookup(va)) return Fault::Resolved;  // another path mapped it already
    if (v.file) return map_file_page(v, va);
    if (v.special) return map_special_page(v, va);
    uint64_t pa = frame_alloc();
    if (!pa) return Fault::OutOfMemory;
    if (!pt_.map(va, pa, pte_flags_for(v.prot))) {
        frame_free(pa);
        return Fault::OutOfMemory;
    }
    return Fault::Resolved;
}

AddressSpace::Fault AddressSpace::map_file_page(const Vma& v, uint64_t va) {
    const uint64_t index = v.pgoff + (va - v.start) / kPageSize;
    // Past the page that holds the end of the file is SIGBUS, as on Linux.
    if (index >= (v.file->size + kPageSize - 1) / kPageSize) return Fault::Bus;
    // A hole gets its page now; with no space left for it tmpfs answers SIGBUS too.
    auto page = vfs()->page_for_write(v.file, index);
    if (!page.ok()) return Fault::Bus;
    if (!pt_.map(va, virt_to_phys(reinterpret_cast<uint64_t>(*page)), pte_flags_for(v.prot)))
        return Fault::OutOfMemory;
    return Fault::Resolved;
}

AddressSpace::Fault AddressSpace::map_special_page(const Vma& v, uint64_t va) {
    const int64_t pa = v.special->page(v.pgoff + (va - v.start) / kPageSize);
    if (pa == -ENOMEM) return Fault::OutOfMemory;
    if (pa < 0) return Fault::Bus;
    if (!pt_.map(va, uint64_t(pa), pte_flags_for(v.prot))) {
        if (owns_frames(v)) frame_free(uint64_t(pa));
        return Fault::OutOfMemory;
    }
    return Fault::Resolved;
}

bool AddressSpace::fully_mapped(uint64_t start, uint64_t end) const {
    for (uint64_t a = start; a < end;) {
        int i = find(a);
        if (i < 0) return false;
        a = vmas_[i].end;
    }
    return true;
}

bool AddressSpace::prepare_access(uint64_t addr, uint64_t len, bool write) {
    if (len == 0) return true;
    if (addr >= kUserTop || len > kUserTop - addr) return false;
    for (uint64_t va = page_down(addr); va < addr + len; va += kPageSize) {
        int i = find(va);
        uint32_t need = write ? kProtWrite : kProtRead;
        if (i >= 0 && !(vmas_[i].prot & need)) return false;
        if (!present_page(va, write)) return false;
    }
    return true;
}

}  // namespace utx::kernel

namespace utx::kernel {

uint64_t virt_to_phys(uint64_t va) {
    if (va >= abi::kDirectMapBase) return va - abi::kDirectMapBase;
    uint64_t pa = current_address_space().page_table().lookup(page_down(va));
    return pa ? pa + (va & (kPageSize - 1)) : ~0ULL;
}

void AddressSpace::hold_files_for_fork(bool undo) {
    VfsHold hold;
    for (size_t i = 0; i < count_; ++i) {
        if (undo) drop_file(vmas_[i]);
        else hold_file(vmas_[i]);
    }
}

}  // namespace utx::kernel
