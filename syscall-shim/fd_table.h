// syscall-shim/fd_table.h: the descriptor table of the process, over open file descriptions.
#pragma once
#include "kernel/fs/file.h"
#include "kernel/fs/lock.h"
#include "kernel/lib/errno.h"
#include "kernel/process.h"

namespace utx::kernel {

// Any open descriptor, O_PATH ones included (Linux's fdget_raw): for close, dup, fcntl,
// fstat, fchdir and the directory of *at() calls.
inline OpenFile* fd_lookup_any(uint64_t fd) {
    if (fd >= uint64_t(kMaxFds)) return nullptr;
    return current_process().fds[fd].file;
}

// A descriptor to do something with the file through (Linux's fdget): an O_PATH descriptor
// only names a file, so it is none here and the caller's answer is EBADF.
inline OpenFile* fd_lookup(uint64_t fd) {
    OpenFile* f = fd_lookup_any(fd);
    return f && !(f->flags & kOPath) ? f : nullptr;
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

// What closing one descriptor of `file` does: the process's POSIX record locks on the file
// go (whichever descriptor of it is closed), then the descriptor's reference.
inline void fd_release(OpenFile* file) {
    lock_release_posix(*file);
    file_put(file);
}

// Points `fd` at `file`, consuming one reference the caller holds, and closes what `fd`
// referred to before.
inline void fd_install(int fd, OpenFile* file, bool cloexec) {
    FdEntry& slot = current_process().fds[fd];
    OpenFile* old = slot.file;
    slot = FdEntry{file, cloexec};
    if (old) fd_release(old);
}

// Closes an open descriptor.
inline void fd_close(int fd) {
    FdEntry& slot = current_process().fds[fd];
    OpenFile* f = slot.file;
    slot = FdEntry{nullptr, false};
    fd_release(f);
}

}  // namespace utx::kernel
