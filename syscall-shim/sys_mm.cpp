// syscall-shim/sys_mm.cpp: the address space calls, on kernel/mm/address_space.
#include "kernel/mm/address_space.h"
#include "kernel/fs/file.h"
#include "kernel/fs/hostfs.h"
#include "kernel/fs/vfs.h"
#include "kernel/mm/memory.h"
#include "minifs/fs.h"
#include "syscall-shim/fd_table.h"
#include "syscall-shim/handlers.h"

namespace utx::kernel {
namespace {

constexpr uint32_t kMapAnonymous = 0x20, kMapTypeMask = 0x03;

// A file beneath a host mount: its pages are copied in at mmap time, so a private mapping
// is exact and a read-only shared one shows the file as it was then. A writable shared
// mapping would have to write back to the host: not yet (ENODEV).
int64_t map_host_file(uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags,
                      OpenFile& f, uint64_t offset) {
    const bool shared = (flags & kMapTypeMask) != 0x02;
    if (shared && (prot & kProtWrite)) return -ENODEV;
    AddressSpace& as = current_address_space();
    const uint32_t private_flags = (flags & ~kMapTypeMask) | 0x02 | kMapAnonymous;
    int64_t start = as.mmap(addr, len, prot, private_flags);
    if (start < 0) return start;
    for (uint64_t off = 0; off < page_up(len); off += kPageSize) {
        uint64_t pa = as.present_page(uint64_t(start) + off, false);
        if (!pa) {
            as.munmap(uint64_t(start), len);
            return -ENOMEM;
        }
        IoBuffer page{reinterpret_cast<uint64_t>(phys_to_virt(pa)), kPageSize};
        const int64_t n = hostfs_io(abi::kFsRead, f, int64_t(offset + off), &page, 1);
        if (n < 0) {
            as.munmap(uint64_t(start), len);
            return n;
        }
        if (n < int64_t(kPageSize)) break;  // the end of the file: the rest stays zero
    }
    return start;
}

// A file mapping. A shared one maps the file's own pages, so that it and read/write see the
// same bytes; a private one gets a copy of them made now.
int64_t map_file(uint64_t addr, uint64_t len, uint32_t prot, uint32_t flags, uint64_t fd,
                 uint64_t offset) {
    OpenFile* f = fd_lookup(fd);
    if (!f) return -EBADF;
    if ((f->flags & kOAccMode) == kOWrOnly) return -EACCES;
    if (f->kind == FileKind::Device && f->device == kDevZero)
        return current_address_space().mmap(addr, len, prot, flags | kMapAnonymous);
    if (f->kind == FileKind::HostFile && (f->host_mode & 0170000) == 0100000)
        return map_host_file(addr, len, prot, flags, *f, offset);
    if (f->kind != FileKind::Inode || !f->inode->is_regular()) return -ENODEV;
    if ((flags & kMapTypeMask) != 0x02) {
        const bool may_write = (f->flags & kOAccMode) == kORdWr;
        if ((prot & kProtWrite) && !may_write) return -EACCES;
        const FileBacking backing{f->inode, offset / kPageSize, may_write};
        return current_address_space().mmap(addr, len, prot, flags, &backing);
    }
    AddressSpace& as = current_address_space();
    int64_t start = as.mmap(addr, len, prot, flags | kMapAnonymous);
    if (start < 0) return start;
    const uint64_t size = f->inode->size;
    for (uint64_t off = 0; off < page_up(len) && offset + off < size; off += kPageSize) {
        uint64_t pa = as.present_page(uint64_t(start) + off, false);
        if (!pa) {
            as.munmap(uint64_t(start), len);
            return -ENOMEM;
        }
        uint64_t n = size - (offset + off) < kPageSize ? size - (offset + off) : kPageSize;
        vfs()->read(f->inode, offset + off, phys_to_virt(pa), n);
    }
    return start;
}

}  // namespace

int64_t sys_brk(SyscallArgs& a) { return int64_t(current_address_space().brk(a.arg[0])); }

int64_t sys_mmap(SyscallArgs& a) {
    const uint64_t addr = a.arg[0], len = a.arg[1], offset = a.arg[5];
    const uint32_t prot = uint32_t(a.arg[2]), flags = uint32_t(a.arg[3]);
    if (offset & (kPageSize - 1)) return -EINVAL;
    if (prot & ~uint32_t(7 | 0x01000000 | 0x02000000)) return -EINVAL;  // + GROWSDOWN/UP
    if (flags & kMapAnonymous) return current_address_space().mmap(addr, len, prot & 7, flags);
    return map_file(addr, len, prot & 7, flags, a.arg[4], offset);
}

int64_t sys_munmap(SyscallArgs& a) { return current_address_space().munmap(a.arg[0], a.arg[1]); }

int64_t sys_mprotect(SyscallArgs& a) {
    constexpr uint64_t kProtGrowsDown = 0x01000000, kProtGrowsUp = 0x02000000;
    const uint64_t prot = a.arg[2];
    if (prot & kProtGrowsUp) return -EINVAL;  // x86-64 has no upward-growing mappings
    if (prot & ~uint64_t(7 | 8 /* PROT_SEM */ | kProtGrowsDown)) return -EINVAL;
    if (prot & kProtGrowsDown) {
        // Only a mapping that grows down may be changed "down to its start".
        const AddressSpace& as = current_address_space();
        bool grows_down = false;
        for (size_t i = 0; i < as.vma_count(); ++i) {
            const Vma& v = as.vmas()[i];
            if (v.start <= a.arg[0] && a.arg[0] < v.end) grows_down = v.flags & kVmaGrowsDown;
        }
        if (!grows_down) return -EINVAL;
    }
    return current_address_space().mprotect(a.arg[0], a.arg[1], uint32_t(prot & 7));
}

int64_t sys_mremap(SyscallArgs& a) {
    return current_address_space().mremap(a.arg[0], a.arg[1], a.arg[2], uint32_t(a.arg[3]),
                                          a.arg[4]);
}

int64_t sys_msync(SyscallArgs& a) {
    constexpr uint32_t kAsync = 1, kInvalidate = 2, kSync = 4;  // MS_*
    const uint64_t start = a.arg[0];
    const uint32_t flags = uint32_t(a.arg[2]);
    if (flags & ~(kAsync | kInvalidate | kSync)) return -EINVAL;
    if (start & (kPageSize - 1)) return -EINVAL;
    if ((flags & kAsync) && (flags & kSync)) return -EINVAL;
    const uint64_t end = start + page_up(a.arg[1]);
    if (end < start) return -ENOMEM;
    if (end == start) return 0;
    // Nothing to write back: shared file mappings are the file's own pages, in memory like
    // the rest of it. What is left is Linux's answer for a range with unmapped pages in it.
    return current_address_space().fully_mapped(start, end) ? 0 : -ENOMEM;
}

int64_t sys_madvise(SyscallArgs& a) {
    const int advice = int(a.arg[2]);
    const bool known = (advice >= 0 && advice <= 4) || (advice >= 8 && advice <= 25) ||
                       advice == 100 || advice == 101;
    if (!known) return -EINVAL;
    return current_address_space().madvise(a.arg[0], a.arg[1], advice);
}

}  // namespace utx::kernel
