// syscall-shim/sys_file.cpp: I/O on file descriptors, over the open file descriptions of
// kernel/fs/file.
#include "kernel/fs/file.h"
#include "kernel/lib/string.h"
#include "kernel/platform/hypercall.h"
#include "kernel/process.h"
#include "kernel/time.h"
#include "syscall-shim/fd_table.h"
#include "syscall-shim/handlers.h"
#include "kernel/mm/user_access.h"

namespace utx::kernel {
namespace {

constexpr uint64_t kMaxIov = 1024;       // IOV_MAX
constexpr uint64_t kMaxRw = 0x7ffff000;  // MAX_RW_COUNT

struct Iovec {
    uint64_t base, len;
};

// Reads the iovec array, validates it and the buffers. Returns the count or -errno.
int64_t load_iov(uint64_t iov_addr, uint64_t iovcnt, IoBuffer* out, bool write_to_user) {
    if (iovcnt > kMaxIov) return -EINVAL;
    uint64_t total = 0;
    for (uint64_t i = 0; i < iovcnt; ++i) {
        Iovec v;
        if (!copy_from_user(&v, iov_addr + i * sizeof v, sizeof v)) return -EFAULT;
        if (int64_t(v.len) < 0) return -EINVAL;
        total += v.len;
        if (total > kMaxRw) v.len -= total - kMaxRw, total = kMaxRw;
        bool ok = write_to_user ? user_writable(v.base, v.len) : user_readable(v.base, v.len);
        if (!ok) return -EFAULT;
        out[i] = {v.base, v.len};
    }
    return int64_t(iovcnt);
}

bool readable(const OpenFile& f) { return (f.flags & kOAccMode) != kOWrOnly; }
bool writable(const OpenFile& f) { return (f.flags & kOAccMode) != 0; }

IoBuffer g_iov[kMaxIov];

}  // namespace

int64_t sys_read(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f || !readable(*f)) return -EBADF;
    uint64_t len = a.arg[2] < kMaxRw ? a.arg[2] : kMaxRw;
    if (len == 0) return 0;
    if (!user_writable(a.arg[1], len)) return -EFAULT;
    IoBuffer b{a.arg[1], len};
    return file_read(*f, &b, 1);
}

int64_t sys_write(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f || !writable(*f)) return -EBADF;
    uint64_t len = a.arg[2] < kMaxRw ? a.arg[2] : kMaxRw;
    if (len == 0) return 0;
    if (!user_readable(a.arg[1], len)) return -EFAULT;
    IoBuffer b{a.arg[1], len};
    return file_write(*f, &b, 1);
}

int64_t sys_readv(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f || !readable(*f)) return -EBADF;
    int64_t n = load_iov(a.arg[1], a.arg[2], g_iov, true);
    if (n < 0) return n;
    return file_read(*f, g_iov, size_t(n));
}

int64_t sys_writev(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f || !writable(*f)) return -EBADF;
    int64_t n = load_iov(a.arg[1], a.arg[2], g_iov, false);
    if (n < 0) return n;
    return file_write(*f, g_iov, size_t(n));
}

int64_t sys_pread64(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f || !readable(*f)) return -EBADF;
    if (int64_t(a.arg[3]) < 0) return -EINVAL;
    uint64_t len = a.arg[2] < kMaxRw ? a.arg[2] : kMaxRw;
    if (!user_writable(a.arg[1], len)) return -EFAULT;
    IoBuffer b{a.arg[1], len};
    return file_pread(*f, &b, 1, a.arg[3]);
}

int64_t sys_pwrite64(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f || !writable(*f)) return -EBADF;
    if (int64_t(a.arg[3]) < 0) return -EINVAL;
    uint64_t len = a.arg[2] < kMaxRw ? a.arg[2] : kMaxRw;
    if (!user_readable(a.arg[1], len)) return -EFAULT;
    IoBuffer b{a.arg[1], len};
    return file_pwrite(*f, &b, 1, a.arg[3]);
}

int64_t sys_close(SyscallArgs& a) {
    if (!fd_lookup(a.arg[0])) return -EBADF;
    FdEntry& slot = current_process().fds[a.arg[0]];
    OpenFile* f = slot.file;
    slot = FdEntry{nullptr, false};
    file_put(f);
    return 0;
}

namespace {
int64_t dup_to(OpenFile* from, int to, bool cloexec) {
    file_get(from);
    fd_install(to, from, cloexec);
    return to;
}
}  // namespace

int64_t sys_dup(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    int fd = fd_allocate(0);
    return fd < 0 ? fd : dup_to(f, fd, false);
}

int64_t sys_dup3(SyscallArgs& a) {
    if (a.arg[2] & ~uint64_t(kOCloexec)) return -EINVAL;
    if (a.arg[0] == a.arg[1]) return -EINVAL;
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    if (a.arg[1] >= uint64_t(kMaxFds)) return -EBADF;
    return dup_to(f, int(a.arg[1]), a.arg[2] & kOCloexec);
}

int64_t sys_dup2(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    if (a.arg[0] == a.arg[1]) return int64_t(a.arg[1]);
    if (a.arg[1] >= uint64_t(kMaxFds)) return -EBADF;
    return dup_to(f, int(a.arg[1]), false);
}

int64_t sys_fcntl(SyscallArgs& a) {
    enum { F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4,
           F_DUPFD_CLOEXEC = 1030 };
    // O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME
    constexpr uint32_t kSettable = kOAppend | kONonblock | 020000 | 040000 | 01000000;
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    FdEntry& e = current_process().fds[a.arg[0]];
    switch (int(a.arg[1])) {
        case F_DUPFD:
        case F_DUPFD_CLOEXEC: {
            if (a.arg[2] >= uint64_t(kMaxFds)) return -EINVAL;
            int fd = fd_allocate(int(a.arg[2]));
            return fd < 0 ? fd : dup_to(f, fd, int(a.arg[1]) == F_DUPFD_CLOEXEC);
        }
        case F_GETFD:
            return e.cloexec ? 1 : 0;
        case F_SETFD:
            e.cloexec = a.arg[2] & 1;
            return 0;
        case F_GETFL:
            return file_getfl(*f);
        case F_SETFL:
            f->flags = (f->flags & ~kSettable) | (uint32_t(a.arg[2]) & kSettable);
            return 0;
        default:
            return -EINVAL;
    }
}

int64_t sys_ioctl(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    return file_ioctl(*f, a.arg[1], a.arg[2]);
}

int64_t sys_lseek(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    return file_seek(*f, int64_t(a.arg[1]), int(a.arg[2]));
}

namespace {

int64_t stat_fd(uint64_t fd, LinuxStat& st) {
    OpenFile* f = fd_lookup(fd);
    return f ? file_stat(*f, st) : -EBADF;
}

}  // namespace

int64_t sys_fstat(SyscallArgs& a) {
    LinuxStat st;
    int64_t r = stat_fd(a.arg[0], st);
    if (r < 0) return r;
    return copy_to_user(a.arg[1], &st, sizeof st) ? 0 : -EFAULT;
}

int64_t sys_pipe2(SyscallArgs& a) {
    constexpr uint64_t kODirect = 040000;
    if (a.arg[1] & ~uint64_t(kOCloexec | kONonblock | kODirect)) return -EINVAL;
    if (!user_writable(a.arg[0], 8)) return -EFAULT;
    int rfd = fd_allocate(0);
    if (rfd < 0) return rfd;
    int wfd = fd_allocate(rfd + 1);
    if (wfd < 0) return wfd;
    OpenFile *read_end, *write_end;
    if (!file_open_pipe(uint32_t(a.arg[1]), read_end, write_end)) return -ENFILE;
    const bool cloexec = a.arg[1] & kOCloexec;
    fd_install(rfd, read_end, cloexec);
    fd_install(wfd, write_end, cloexec);
    const int32_t pair[2] = {rfd, wfd};
    copy_to_user(a.arg[0], pair, sizeof pair);
    return 0;
}

int64_t sys_pipe(SyscallArgs& a) {
    SyscallArgs with_flags{{a.arg[0], 0}, a.frame};
    return sys_pipe2(with_flags);
}

int64_t sys_poll(SyscallArgs& a) {
    struct PollFd {
        int32_t fd;
        int16_t events, revents;
    };
    const uint64_t nfds = a.arg[1];
    const int64_t timeout_ms = int32_t(a.arg[2]);
    if (nfds > uint64_t(kMaxFds)) return -EINVAL;
    PollFd fds[16];
    if (nfds > 16) return -ENOMEM;
    if (!copy_from_user(fds, a.arg[0], nfds * sizeof(PollFd))) return -EFAULT;
    // Ask the host about each descriptor without waiting; if nothing is ready and the call
    // may wait, wait on the host for the single descriptor case.
    auto scan = [&](int64_t wait_ms) -> int64_t {
        int64_t ready = 0;
        for (uint64_t i = 0; i < nfds; ++i) {
            fds[i].revents = 0;
            if (fds[i].fd < 0) continue;
            OpenFile* f = fd_lookup(uint64_t(fds[i].fd));
            if (!f) {
                fds[i].revents = 0x20;  // POLLNVAL
            } else {
                int64_t r = file_poll(*f, fds[i].events, nfds == 1 ? wait_ms : 0);
                if (r < 0) return r;
                fds[i].revents = int16_t(r);
            }
            if (fds[i].revents) ++ready;
        }
        return ready;
    };
    const uint64_t deadline = monotonic_ns() + uint64_t(timeout_ms) * 1'000'000;
    int64_t ready = scan(timeout_ms);
    while (ready == 0 && nfds > 1 && timeout_ms != 0 &&
           (timeout_ms < 0 || monotonic_ns() < deadline))
        ready = scan(10);
    if (ready < 0) return ready;
    return copy_to_user(a.arg[0], fds, nfds * sizeof(PollFd)) ? ready : -EFAULT;
}

}  // namespace utx::kernel
