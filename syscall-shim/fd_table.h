// syscall-shim/fd_table.h: file descriptor lookup shared by the syscall families.
#pragma once
#include "kernel/lib/errno.h"
#include "kernel/process.h"

namespace utx::kernel {

inline FdEntry* fd_lookup(uint64_t fd) {
    if (fd >= uint64_t(kMaxFds)) return nullptr;
    FdEntry& e = current_process().fds[fd];
    return e.open ? &e : nullptr;
}

// The lowest free descriptor at or above `min`, or -EMFILE.
inline int fd_allocate(int min) {
    auto& p = current_process();
    uint64_t limit = p.rlimits[kRlimitNofile].cur < uint64_t(kMaxFds) ? p.rlimits[kRlimitNofile].cur : kMaxFds;
    for (uint64_t fd = uint64_t(min); fd < limit; ++fd)
        if (!p.fds[fd].open) return int(fd);
    return -EMFILE;
}

}  // namespace utx::kernel
