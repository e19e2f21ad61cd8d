// syscall-shim/sys_mm.cpp: the address space calls, on kernel/mm/address_space.
#include "kernel/mm/address_space.h"
#include "kernel/mm/memory.h"
#include "syscall-shim/fd_table.h"
#include "syscall-shim/handlers.h"

namespace utx::kernel {

int64_t sys_brk(SyscallArgs& a) { return int64_t(current_address_space().brk(a.arg[0])); }

int64_t sys_mmap(SyscallArgs& a) {
    constexpr uint32_t kMapAnonymous = 0x20;
    const uint64_t addr = a.arg[0], len = a.arg[1], offset = a.arg[5];
    const uint32_t prot = uint32_t(a.arg[2]), flags = uint32_t(a.arg[3]);
    if (offset & (kPageSize - 1)) return -EINVAL;
    if (prot & ~uint32_t(7 | 0x01000000 | 0x02000000)) return -EINVAL;  // + GROWSDOWN/UP
    if (!(flags & kMapAnonymous)) {
        // Files arrive with minifs; the stdio streams (pipes, terminals) cannot be mapped.
        return fd_lookup(a.arg[4]) ? -ENODEV : -EBADF;
    }
    return current_address_space().mmap(addr, len, prot & 7, flags);
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

int64_t sys_madvise(SyscallArgs& a) {
    const int advice = int(a.arg[2]);
    const bool known = (advice >= 0 && advice <= 4) || (advice >= 8 && advice <= 25) ||
                       advice == 100 || advice == 101;
    if (!known) return -EINVAL;
    return current_address_space().madvise(a.arg[0], a.arg[1], advice);
}

}  // namespace utx::kernel
