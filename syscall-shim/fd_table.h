// syscall-shim/fd_table.h: the descriptor table of the process, over open file descriptions.
#pragma once
#include "kernel/fs/file.h"
#include "kernel/lib/errno.h"
#include "kernel/process.h"

namespace utx::kernel {

inline OpenFile* fd_lookup(uint64_t fd) {
    if (fd >= uint64_t(kMaxFds)) return nullptr;
    return current_process().fds[fd].file;
}

// The lowest free descriptor at or above `min`, or -EMFILE.
inline int fd_allocate(int min) {
    auto& p = current_process();
    uint64_t limit = p.rlimits[kRlimitNofile].cur < uint64_t(kMaxFds)
                         ? p.rlimits[kRlimitNofile].cur
                         : kMaxFds;
    for (uint64_t fd = uint64_t(min); fd < limit; ++fd)
        if (!p.fds[fd].file) return int(fd);
    return -EMFILE;
}

// Points `fd` at `file`, consuming one reference the caller holds, and closes what `fd`
// referred to before.
inline void fd_install(int fd, OpenFile* file, bool cloexec) {
    FdEntry& slot = current_process().fds[fd];
    OpenFile* old = slot.file;
    slot = FdEntry{file, cloexec};
    if (old) file_put(old);
}

}  // namespace utx::kernel
