// syscall-shim/sys_file.cpp: I/O on file descriptors. Until minifs lands ([files]) the only
// files are the host's stdin, stdout and stderr, reached through the VMM.
#include "kernel/ipc/pipe.h"
#include "kernel/lib/string.h"
#include "kernel/platform/hypercall.h"
#include "kernel/process.h"
#include "kernel/time.h"
#include "syscall-shim/fd_table.h"
#include "syscall-shim/handlers.h"
#include "syscall-shim/user_access.h"

namespace utx::kernel {
namespace {

constexpr int kSigPipe = 13;
constexpr uint64_t kMaxIov = 1024;  // IOV_MAX
constexpr uint64_t kMaxRw = 0x7ffff000;  // MAX_RW_COUNT

struct Iovec {
    uint64_t base, len;
};

// A write to a closed pipe raises SIGPIPE unless it is ignored or blocked.
int64_t check_epipe(int64_t r) {
    if (r == -EPIPE) {
        auto& p = current_process();
        if (p.actions[kSigPipe].handler == 0 && !(p.signal_mask & (1ULL << (kSigPipe - 1))))
            process_kill(kSigPipe, 0, 0);
    }
    return r;
}

// Writes all of the user buffers, in chunks one request can carry.
int64_t write_buffers(FdEntry& e, IoBuffer* bufs, size_t count) {
    int64_t total = 0;
    size_t i = 0;
    while (i < count) {
        int64_t n = host_io(abi::kHcWrite, e.host_fd, bufs + i, count - i);
        if (n < 0) return total ? total : check_epipe(n);
        if (n == 0) break;
        total += n;
        uint64_t left = uint64_t(n);
        while (i < count && left >= bufs[i].len) left -= bufs[i++].len;
        if (i < count) {
            bufs[i].addr += left;
            bufs[i].len -= left;
        }
    }
    return total;
}

constexpr uint32_t kONonblock = 04000;

// Nothing else runs in this VM yet, so a pipe that stays empty (or full) with its other end
// open can never change: Linux would block forever, and so do we.
[[noreturn]] void block_forever() {
    for (;;) cpu_halt();
}

int64_t pipe_read(FdEntry& e, IoBuffer* bufs, size_t count) {
    if (e.write_end) return -EBADF;
    Pipe& p = *e.pipe;
    if (p.count == 0) {
        if (p.writers == 0) return 0;
        if (e.status_flags & kONonblock) return -EAGAIN;
        block_forever();
    }
    int64_t total = 0;
    UserAccessScope scope;
    for (size_t i = 0; i < count && p.count; ++i)
        total += int64_t(p.read(reinterpret_cast<uint8_t*>(bufs[i].addr), bufs[i].len));
    return total;
}

int64_t pipe_write(FdEntry& e, IoBuffer* bufs, size_t count) {
    if (!e.write_end) return -EBADF;
    Pipe& p = *e.pipe;
    if (p.readers == 0) return check_epipe(-EPIPE);
    int64_t total = 0;
    UserAccessScope scope;
    for (size_t i = 0; i < count; ++i) {
        size_t n = p.write(reinterpret_cast<const uint8_t*>(bufs[i].addr), bufs[i].len);
        total += int64_t(n);
        if (n < bufs[i].len) {
            if (e.status_flags & kONonblock) return total ? total : -EAGAIN;
            block_forever();
        }
    }
    return total;
}

int64_t do_read(FdEntry& e, IoBuffer* bufs, size_t count) {
    if (e.kind == FdKind::Pipe) return pipe_read(e, bufs, count);
    return host_io(abi::kHcRead, e.host_fd, bufs, count);
}

int64_t do_write(FdEntry& e, IoBuffer* bufs, size_t count) {
    if (e.kind == FdKind::Pipe) return pipe_write(e, bufs, count);
    return write_buffers(e, bufs, count);
}

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

IoBuffer g_iov[kMaxIov];

}  // namespace

int64_t sys_read(SyscallArgs& a) {
    FdEntry* e = fd_lookup(a.arg[0]);
    if (!e) return -EBADF;
    uint64_t len = a.arg[2] < kMaxRw ? a.arg[2] : kMaxRw;
    if (len == 0) return 0;
    if (!user_writable(a.arg[1], len)) return -EFAULT;
    IoBuffer b{a.arg[1], len};
    return do_read(*e, &b, 1);
}

int64_t sys_write(SyscallArgs& a) {
    FdEntry* e = fd_lookup(a.arg[0]);
    if (!e) return -EBADF;
    uint64_t len = a.arg[2] < kMaxRw ? a.arg[2] : kMaxRw;
    if (len == 0) return 0;
    if (!user_readable(a.arg[1], len)) return -EFAULT;
    IoBuffer b{a.arg[1], len};
    return do_write(*e, &b, 1);
}

int64_t sys_readv(SyscallArgs& a) {
    FdEntry* e = fd_lookup(a.arg[0]);
    if (!e) return -EBADF;
    int64_t n = load_iov(a.arg[1], a.arg[2], g_iov, true);
    if (n < 0) return n;
    return do_read(*e, g_iov, size_t(n));
}

int64_t sys_writev(SyscallArgs& a) {
    FdEntry* e = fd_lookup(a.arg[0]);
    if (!e) return -EBADF;
    int64_t n = load_iov(a.arg[1], a.arg[2], g_iov, false);
    if (n < 0) return n;
    return do_write(*e, g_iov, size_t(n));
}

int64_t sys_close(SyscallArgs& a) {
    FdEntry* e = fd_lookup(a.arg[0]);
    if (!e) return -EBADF;
    e->open = false;
    if (e->kind == FdKind::Pipe) Pipe::release(e->pipe, e->write_end);
    return 0;
}

namespace {
int64_t dup_to(FdEntry& from, int to, bool cloexec) {
    FdEntry& slot = current_process().fds[to];
    if (from.kind == FdKind::Pipe) ++(from.write_end ? from.pipe->writers : from.pipe->readers);
    if (slot.open && slot.kind == FdKind::Pipe) Pipe::release(slot.pipe, slot.write_end);
    slot = from;
    slot.open = true;
    slot.cloexec = cloexec;
    return to;
}
}  // namespace

int64_t sys_dup(SyscallArgs& a) {
    FdEntry* e = fd_lookup(a.arg[0]);
    if (!e) return -EBADF;
    int fd = fd_allocate(0);
    return fd < 0 ? fd : dup_to(*e, fd, false);
}

int64_t sys_dup3(SyscallArgs& a) {
    constexpr uint64_t kOCloexec = 02000000;
    if (a.arg[2] & ~kOCloexec) return -EINVAL;
    if (a.arg[0] == a.arg[1]) return -EINVAL;
    FdEntry* e = fd_lookup(a.arg[0]);
    if (!e) return -EBADF;
    if (a.arg[1] >= uint64_t(kMaxFds)) return -EBADF;
    return dup_to(*e, int(a.arg[1]), a.arg[2] & kOCloexec);
}

int64_t sys_dup2(SyscallArgs& a) {
    FdEntry* e = fd_lookup(a.arg[0]);
    if (!e) return -EBADF;
    if (a.arg[0] == a.arg[1]) return int64_t(a.arg[1]);
    if (a.arg[1] >= uint64_t(kMaxFds)) return -EBADF;
    return dup_to(*e, int(a.arg[1]), false);
}

int64_t sys_fcntl(SyscallArgs& a) {
    enum { F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4,
           F_DUPFD_CLOEXEC = 1030 };
    constexpr uint32_t kSettable = 02000 | 04000 | 020000 | 040000 | 01000000;  // APPEND, NONBLOCK, ASYNC, DIRECT, NOATIME
    FdEntry* e = fd_lookup(a.arg[0]);
    if (!e) return -EBADF;
    switch (int(a.arg[1])) {
        case F_DUPFD:
        case F_DUPFD_CLOEXEC: {
            if (a.arg[2] >= uint64_t(kMaxFds)) return -EINVAL;
            int fd = fd_allocate(int(a.arg[2]));
            return fd < 0 ? fd : dup_to(*e, fd, int(a.arg[1]) == F_DUPFD_CLOEXEC);
        }
        case F_GETFD:
            return e->cloexec ? 1 : 0;
        case F_SETFD:
            e->cloexec = a.arg[2] & 1;
            return 0;
        case F_GETFL: {
            if (e->kind == FdKind::Pipe) return (e->write_end ? 1 : 0) | e->status_flags;
            int64_t host = host_request(abi::kHcFcntl, uint64_t(e->host_fd), F_GETFL, 0);
            if (host < 0) return host;
            return (host & ~int64_t(kSettable)) | e->status_flags;
        }
        case F_SETFL:
            e->status_flags = uint32_t(a.arg[2]) & kSettable;
            return 0;
        default:
            return -EINVAL;
    }
}

int64_t sys_ioctl(SyscallArgs& a) {
    constexpr uint64_t kTcgets = 0x5401, kTiocgwinsz = 0x5413, kFionbio = 0x5421,
                       kFionread = 0x541b;
    constexpr size_t kTermiosSize = 36, kWinsizeSize = 8;
    FdEntry* e = fd_lookup(a.arg[0]);
    if (!e) return -EBADF;
    uint8_t buf[64];
    size_t size;
    switch (a.arg[1]) {
        case kTcgets: size = kTermiosSize; break;
        case kTiocgwinsz: size = kWinsizeSize; break;
        case kFionbio: {
            int on;
            if (!UserPtr<int>(a.arg[2]).read(on)) return -EFAULT;
            if (on) e->status_flags |= 04000;
            else e->status_flags &= ~04000u;
            return 0;
        }
        case kFionread:
            if (e->kind != FdKind::Pipe) return -ENOTTY;
            return UserPtr<int>(a.arg[2]).write(int(e->pipe->count)) ? 0 : -EFAULT;
        default: return -ENOTTY;
    }
    if (e->kind == FdKind::Pipe) return -ENOTTY;
    int64_t r = host_request(abi::kHcIoctl, uint64_t(e->host_fd), a.arg[1], 0, buf, size);
    if (r < 0) return r;
    return copy_to_user(a.arg[2], buf, size) ? 0 : -EFAULT;
}

int64_t sys_lseek(SyscallArgs& a) {
    FdEntry* e = fd_lookup(a.arg[0]);
    if (!e) return -EBADF;
    if (e->kind == FdKind::Pipe) return -ESPIPE;
    if (a.arg[2] > 4) return -EINVAL;
    return host_request(abi::kHcLseek, uint64_t(e->host_fd), a.arg[1], a.arg[2]);
}

namespace {

struct LinuxStat {
    uint64_t dev, ino, nlink;
    uint32_t mode, uid, gid, pad0;
    uint64_t rdev;
    int64_t size, blksize, blocks;
    uint64_t atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns;
    int64_t unused[3];
};
static_assert(sizeof(LinuxStat) == 144);

int64_t stat_fd(uint64_t fd, LinuxStat& st) {
    FdEntry* e = fd_lookup(fd);
    if (!e) return -EBADF;
    if (e->kind == FdKind::Pipe) {
        memset(&st, 0, sizeof st);
        st.dev = 0xc;  // pipefs
        st.ino = e->pipe->inode;
        st.nlink = 1;
        st.mode = 010600;  // S_IFIFO | 0600
        st.uid = current_process().uid;
        st.gid = current_process().gid;
        st.blksize = 4096;
        return 0;
    }
    return host_request(abi::kHcFstat, uint64_t(e->host_fd), 0, 0, &st, sizeof st);
}

constexpr int64_t kAtFdcwd = -100;
constexpr uint64_t kAtEmptyPath = 0x1000;

}  // namespace

int64_t sys_fstat(SyscallArgs& a) {
    LinuxStat st;
    int64_t r = stat_fd(a.arg[0], st);
    if (r < 0) return r;
    return copy_to_user(a.arg[1], &st, sizeof st) ? 0 : -EFAULT;
}

int64_t sys_newfstatat(SyscallArgs& a) {
    char path[256];
    int64_t n = copy_string_from_user(path, sizeof path, a.arg[1]);
    if (n < 0) return n;
    if (a.arg[3] & ~uint64_t(0x100 | 0x800 | 0x1000)) return -EINVAL;
    if (n == 0) {
        if (!(a.arg[3] & kAtEmptyPath)) return -ENOENT;
        SyscallArgs f{{a.arg[0], a.arg[2]}, a.frame};
        return sys_fstat(f);
    }
    if (int64_t(a.arg[0]) != kAtFdcwd && path[0] != '/' && !fd_lookup(a.arg[0])) return -EBADF;
    return -ENOENT;  // no file system yet: only open descriptors can be examined
}

int64_t sys_statx(SyscallArgs& a) {
    struct StatxTimestamp {
        int64_t sec;
        uint32_t nsec;
        int32_t reserved;
    };
    struct Statx {
        uint32_t mask, blksize;
        uint64_t attributes;
        uint32_t nlink, uid, gid;
        uint16_t mode, spare0;
        uint64_t ino, size, blocks, attributes_mask;
        StatxTimestamp atime, btime, ctime, mtime;
        uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
        uint64_t spare2[14];
    };
    static_assert(sizeof(Statx) == 256);
    char path[256];
    int64_t n = copy_string_from_user(path, sizeof path, a.arg[1]);
    if (n < 0) return n;
    if (a.arg[3] & 0x80000000u) return -EINVAL;  // STATX__RESERVED
    if (n != 0) return int64_t(a.arg[0]) == kAtFdcwd || path[0] == '/' || fd_lookup(a.arg[0])
                           ? -ENOENT
                           : -EBADF;
    if (!(a.arg[2] & kAtEmptyPath)) return -ENOENT;
    LinuxStat st;
    int64_t r = stat_fd(a.arg[0], st);
    if (r < 0) return r;
    Statx sx = {};
    sx.mask = 0x7ff;  // STATX_BASIC_STATS
    sx.blksize = uint32_t(st.blksize);
    sx.nlink = uint32_t(st.nlink);
    sx.uid = st.uid;
    sx.gid = st.gid;
    sx.mode = uint16_t(st.mode);
    sx.ino = st.ino;
    sx.size = uint64_t(st.size);
    sx.blocks = uint64_t(st.blocks);
    sx.atime = {int64_t(st.atime), uint32_t(st.atime_ns), 0};
    sx.mtime = {int64_t(st.mtime), uint32_t(st.mtime_ns), 0};
    sx.ctime = {int64_t(st.ctime), uint32_t(st.ctime_ns), 0};
    sx.rdev_major = uint32_t((st.rdev >> 8) & 0xfff);
    sx.rdev_minor = uint32_t((st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00));
    sx.dev_major = uint32_t((st.dev >> 8) & 0xfff);
    sx.dev_minor = uint32_t((st.dev & 0xff) | ((st.dev >> 12) & 0xfff00));
    return copy_to_user(a.arg[4], &sx, sizeof sx) ? 0 : -EFAULT;
}

namespace {

int64_t readlink_common(uint64_t path_addr, uint64_t buf, uint64_t size) {
    char path[256];
    int64_t n = copy_string_from_user(path, sizeof path, path_addr);
    if (n < 0) return n;
    if (int64_t(size) <= 0) return -EINVAL;
    if (strcmp(path, "/proc/self/exe") != 0) return -ENOENT;
    const char* exe = current_process().exec_path;
    uint64_t len = strlen(exe);
    if (len > size) len = size;
    return copy_to_user(buf, exe, len) ? int64_t(len) : -EFAULT;
}

}  // namespace

int64_t sys_readlink(SyscallArgs& a) { return readlink_common(a.arg[0], a.arg[1], a.arg[2]); }

int64_t sys_readlinkat(SyscallArgs& a) {
    return readlink_common(a.arg[1], a.arg[2], a.arg[3]);
}

int64_t sys_pipe2(SyscallArgs& a) {
    constexpr uint64_t kOCloexec = 02000000, kODirect = 040000;
    if (a.arg[1] & ~(kOCloexec | kONonblock | kODirect)) return -EINVAL;
    if (!user_writable(a.arg[0], 8)) return -EFAULT;
    int rfd = fd_allocate(0);
    if (rfd < 0) return rfd;
    auto& fds = current_process().fds;
    fds[rfd].open = true;  // reserve it while looking for the second descriptor
    int wfd = fd_allocate(0);
    fds[rfd].open = false;
    if (wfd < 0) return wfd;
    Pipe* pipe = Pipe::create();
    if (!pipe) return -ENFILE;
    const bool cloexec = a.arg[1] & kOCloexec;
    const uint32_t flags = uint32_t(a.arg[1] & kONonblock);
    fds[rfd] = FdEntry{true, cloexec, FdKind::Pipe, false, -1, flags, pipe};
    fds[wfd] = FdEntry{true, cloexec, FdKind::Pipe, true, -1, flags, pipe};
    const int32_t pair[2] = {rfd, wfd};
    copy_to_user(a.arg[0], pair, sizeof pair);
    return 0;
}

int64_t sys_pipe(SyscallArgs& a) {
    SyscallArgs with_flags{{a.arg[0], 0}, a.frame};
    return sys_pipe2(with_flags);
}

int64_t sys_getcwd(SyscallArgs& a) {
    if (a.arg[1] < 2) return -ERANGE;
    return copy_to_user(a.arg[0], "/", 2) ? 2 : -EFAULT;
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
            FdEntry* e = fd_lookup(uint64_t(fds[i].fd));
            if (!e) {
                fds[i].revents = 0x20;  // POLLNVAL
            } else if (e->kind == FdKind::Pipe) {
                constexpr int16_t kPollIn = 1, kPollOut = 4, kPollErr = 8, kPollHup = 0x10;
                const Pipe& p = *e->pipe;
                int16_t r = 0;
                if (!e->write_end && p.count) r |= kPollIn;
                if (!e->write_end && !p.writers) r |= kPollHup;
                if (e->write_end && p.space()) r |= kPollOut;
                if (e->write_end && !p.readers) r |= kPollErr;
                fds[i].revents = int16_t(r & (fds[i].events | kPollErr | kPollHup));
            } else {
                int64_t r = host_request(abi::kHcPoll, uint64_t(e->host_fd),
                                         uint64_t(uint16_t(fds[i].events)),
                                         uint64_t(nfds == 1 ? wait_ms : 0));
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
