// syscall-shim/sys_file.cpp: I/O on file descriptors, over the open file descriptions of
// kernel/fs/file.
#include "kernel/fs/file.h"
#include "kernel/fs/lock.h"
#include "kernel/fs/vfs.h"
#include "kernel/lib/string.h"
#include "kernel/platform/hypercall.h"
#include "kernel/process.h"
#include "syscall-shim/fd_table.h"
#include "syscall-shim/handlers.h"
#include "syscall-shim/iov.h"
#include "kernel/mm/user_access.h"
#include "minifs/fs.h"

namespace utx::kernel {

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

namespace {

bool readable(const OpenFile& f) { return (f.flags & kOAccMode) != kOWrOnly; }
bool writable(const OpenFile& f) { return (f.flags & kOAccMode) != 0; }

// Whether the file has positions to read and write at (Linux's FMODE_PREAD): not a pipe,
// nor one of the host's streams.
bool has_positions(const OpenFile& f) {
    return f.kind == FileKind::Inode || f.kind == FileKind::Device ||
           f.kind == FileKind::HostFile;
}


// preadv2/pwritev2 flags (RWF_*) of Linux 6.1: HIPRI, DSYNC, SYNC, NOWAIT, APPEND.
constexpr uint64_t kRwfNowait = 0x08, kRwfAppend = 0x10, kRwfSupported = 0x1f;
constexpr int64_t kCurrentOffset = -1;  // preadv2/pwritev2: at the file offset, and move it

// The transfer itself, at `offset` or (kCurrentOffset) at the file offset. RWF_HIPRI,
// RWF_DSYNC and RWF_SYNC ask for nothing a RAM file system does not do anyway; RWF_NOWAIT
// and RWF_APPEND are O_NONBLOCK and O_APPEND for this call only.
int64_t transfer(OpenFile& f, IoBuffer* bufs, size_t count, bool write, int64_t offset,
                 uint64_t rwf) {
    uint64_t total = 0;
    for (size_t i = 0; i < count; ++i) total += bufs[i].len;
    if (total == 0) return 0;  // Linux looks at nothing more, the flags included
    if (rwf & ~kRwfSupported) return -EOPNOTSUPP;
    if (offset != kCurrentOffset && total > uint64_t(INT64_MAX - offset)) return -EINVAL;
    const uint32_t per_call =
        (rwf & kRwfNowait ? kONonblock : 0) | (write && (rwf & kRwfAppend) ? kOAppend : 0);
    const uint32_t saved = f.flags;
    f.flags |= per_call;
    int64_t r;
    if (offset == kCurrentOffset)
        r = write ? file_write(f, bufs, count) : file_read(f, bufs, count);
    else
        r = write ? file_pwrite(f, bufs, count, uint64_t(offset))
                  : file_pread(f, bufs, count, uint64_t(offset));
    f.flags = (f.flags & ~per_call) | (saved & per_call);
    return r;
}

// readv, writev and their positioned forms, in Linux's order of checks: the descriptor, a
// position where there is none (ESPIPE), the access mode, the iovec array.
int64_t vectored_io(uint64_t fd, uint64_t iov, uint64_t iovcnt, int64_t offset, uint64_t rwf,
                    bool write) {
    OpenFile* f = fd_lookup(fd);
    if (!f) return -EBADF;
    if (offset != kCurrentOffset && !has_positions(*f)) return -ESPIPE;
    if (!(write ? writable(*f) : readable(*f))) return -EBADF;
    IovArray bufs;
    int64_t n = bufs.load(iov, iovcnt, !write);
    if (n < 0) return n;
    // The call may wait: the description stays while another thread closes the descriptor.
    file_get(f);
    n = transfer(*f, bufs.data(), size_t(n), write, offset, rwf);
    file_put(f);
    return n;
}

// pread64 and pwrite64: one buffer at an offset.
int64_t positioned_io(uint64_t fd, uint64_t buf, uint64_t len, int64_t offset, bool write) {
    if (offset < 0) return -EINVAL;
    OpenFile* f = fd_lookup(fd);
    if (!f) return -EBADF;
    if (!has_positions(*f)) return -ESPIPE;
    if (!(write ? writable(*f) : readable(*f))) return -EBADF;
    if (len > kMaxRw) len = kMaxRw;
    if (!(write ? user_readable(buf, len) : user_writable(buf, len))) return -EFAULT;
    IoBuffer b{buf, len};
    return transfer(*f, &b, 1, write, offset, 0);
}

// preadv2 and pwritev2: offset -1 is the file offset.
int64_t vectored_io2(SyscallArgs& a, bool write) {
    const int64_t offset = int64_t(a.arg[3]);
    if (offset < kCurrentOffset) return -EINVAL;
    return vectored_io(a.arg[0], a.arg[1], a.arg[2], offset, uint32_t(a.arg[5]), write);
}

}  // namespace

int64_t sys_read(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f || !readable(*f)) return -EBADF;
    uint64_t len = a.arg[2] < kMaxRw ? a.arg[2] : kMaxRw;
    if (len == 0) return 0;
    if (!user_writable(a.arg[1], len)) return -EFAULT;
    IoBuffer b{a.arg[1], len};
    file_get(f);  // the call may wait while another thread closes the descriptor
    const int64_t r = file_read(*f, &b, 1);
    file_put(f);
    return r;
}

int64_t sys_write(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f || !writable(*f)) return -EBADF;
    uint64_t len = a.arg[2] < kMaxRw ? a.arg[2] : kMaxRw;
    if (len == 0) return 0;
    if (!user_readable(a.arg[1], len)) return -EFAULT;
    IoBuffer b{a.arg[1], len};
    file_get(f);
    const int64_t r = file_write(*f, &b, 1);
    file_put(f);
    return r;
}

int64_t sys_readv(SyscallArgs& a) {
    return vectored_io(a.arg[0], a.arg[1], a.arg[2], kCurrentOffset, 0, false);
}

int64_t sys_writev(SyscallArgs& a) {
    return vectored_io(a.arg[0], a.arg[1], a.arg[2], kCurrentOffset, 0, true);
}

int64_t sys_pread64(SyscallArgs& a) {
    return positioned_io(a.arg[0], a.arg[1], a.arg[2], int64_t(a.arg[3]), false);
}

int64_t sys_pwrite64(SyscallArgs& a) {
    return positioned_io(a.arg[0], a.arg[1], a.arg[2], int64_t(a.arg[3]), true);
}

// preadv and pwritev: on x86-64 the offset is whole in pos_l (arg 3); pos_h is unused.
int64_t sys_preadv(SyscallArgs& a) {
    if (int64_t(a.arg[3]) < 0) return -EINVAL;
    return vectored_io(a.arg[0], a.arg[1], a.arg[2], int64_t(a.arg[3]), 0, false);
}

int64_t sys_pwritev(SyscallArgs& a) {
    if (int64_t(a.arg[3]) < 0) return -EINVAL;
    return vectored_io(a.arg[0], a.arg[1], a.arg[2], int64_t(a.arg[3]), 0, true);
}

int64_t sys_preadv2(SyscallArgs& a) { return vectored_io2(a, false); }
int64_t sys_pwritev2(SyscallArgs& a) { return vectored_io2(a, true); }

int64_t sys_close(SyscallArgs& a) {
    if (!fd_lookup_any(a.arg[0])) return -EBADF;
    fd_close(int(a.arg[0]));
    return 0;
}

int64_t sys_close_range(SyscallArgs& a) {
    constexpr uint32_t kUnshare = 2, kCloexec = 4;  // CLOSE_RANGE_*
    const uint32_t first = uint32_t(a.arg[0]), last = uint32_t(a.arg[1]),
                   flags = uint32_t(a.arg[2]);
    if (flags & ~(kUnshare | kCloexec)) return -EINVAL;
    if (first > last) return -EINVAL;
    // The one process shares its table with nobody: CLOSE_RANGE_UNSHARE has nothing to do.
    auto& p = current_process();
    for (uint64_t fd = first; fd <= last && fd < uint64_t(kMaxFds); ++fd) {
        if (!p.fds[fd].file) continue;
        if (flags & kCloexec) p.fds[fd].cloexec = true;
        else fd_close(int(fd));
    }
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
    OpenFile* f = fd_lookup_any(a.arg[0]);
    if (!f) return -EBADF;
    int fd = fd_allocate(0);
    return fd < 0 ? fd : dup_to(f, fd, false);
}

int64_t sys_dup3(SyscallArgs& a) {
    if (a.arg[2] & ~uint64_t(kOCloexec)) return -EINVAL;
    if (a.arg[0] == a.arg[1]) return -EINVAL;
    OpenFile* f = fd_lookup_any(a.arg[0]);
    if (!f) return -EBADF;
    if (a.arg[1] >= uint64_t(kMaxFds)) return -EBADF;
    return dup_to(f, int(a.arg[1]), a.arg[2] & kOCloexec);
}

int64_t sys_dup2(SyscallArgs& a) {
    OpenFile* f = fd_lookup_any(a.arg[0]);
    if (!f) return -EBADF;
    if (a.arg[0] == a.arg[1]) return int64_t(a.arg[1]);
    if (a.arg[1] >= uint64_t(kMaxFds)) return -EBADF;
    return dup_to(f, int(a.arg[1]), false);
}

namespace {

// struct flock of x86-64 Linux.
struct Flock {
    int16_t type, whence;
    int64_t start, len;
    int32_t pid;
};
static_assert(sizeof(Flock) == 32);

// The byte range a struct flock names, as Linux's flock64_to_posix_lock works it out.
int64_t range_of(const OpenFile& f, const Flock& l, RecordLock& out) {
    int64_t base;
    switch (l.whence) {
        case 0: base = 0; break;
        case 1: base = int64_t(f.offset); break;
        case 2: base = f.inode ? int64_t(f.inode->size) : 0; break;
        default: return -EINVAL;
    }
    if (l.start > kLockOffsetMax - base) return -EOVERFLOW;
    int64_t start = base + l.start;
    if (start < 0) return -EINVAL;
    int64_t end;
    if (l.len > 0) {
        if (l.len - 1 > kLockOffsetMax - start) return -EOVERFLOW;
        end = start + (l.len - 1);
    } else if (l.len < 0) {
        if (start + l.len < 0) return -EINVAL;
        end = start - 1;
        start += l.len;
    } else {
        end = kLockOffsetMax;
    }
    if (l.type != kLockRead && l.type != kLockWrite && l.type != kLockUnlock) return -EINVAL;
    out = RecordLock{l.type, start, end};
    return 0;
}

// F_GETLK and F_OFD_GETLK: the struct comes back as it went when nothing conflicts, but
// for l_type F_UNLCK.
int64_t get_lock(OpenFile& f, bool ofd, uint64_t addr) {
    Flock l;
    if (!copy_from_user(&l, addr, sizeof l)) return -EFAULT;
    if (!ofd && l.type != kLockRead && l.type != kLockWrite) return -EINVAL;
    RecordLock want;
    if (int64_t r = range_of(f, l, want); r < 0) return r;
    if (ofd && l.pid != 0) return -EINVAL;
    bool holder_is_ofd = false;
    lock_test(f, ofd, want, holder_is_ofd);
    l.type = want.type;
    if (want.type != kLockUnlock) {
        l.whence = 0;
        l.start = want.start;
        l.len = want.end == kLockOffsetMax ? 0 : want.end - want.start + 1;
        l.pid = holder_is_ofd ? -1 : current_process().pid;
    }
    return copy_to_user(addr, &l, sizeof l) ? 0 : -EFAULT;
}

// F_SETLK(W) and F_OFD_SETLK(W): a read lock needs a readable descriptor, a write lock a
// writable one.
int64_t set_lock(OpenFile& f, bool ofd, bool wait, uint64_t addr) {
    Flock l;
    if (!copy_from_user(&l, addr, sizeof l)) return -EFAULT;
    RecordLock want;
    if (int64_t r = range_of(f, l, want); r < 0) return r;
    if ((want.type == kLockRead && !readable(f)) || (want.type == kLockWrite && !writable(f)))
        return -EBADF;
    if (ofd && l.pid != 0) return -EINVAL;
    return lock_set(f, ofd, want, wait);
}

}  // namespace

int64_t sys_fcntl(SyscallArgs& a) {
    enum { F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5,
           F_SETLK = 6, F_SETLKW = 7, F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38,
           F_DUPFD_CLOEXEC = 1030 };
    // O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME
    constexpr uint32_t kSettable = kOAppend | kONonblock | 020000 | 040000 | 01000000;
    OpenFile* f = fd_lookup_any(a.arg[0]);
    if (!f) return -EBADF;
    const int cmd = int(a.arg[1]);
    // An O_PATH descriptor answers only the commands on the descriptor itself.
    if ((f->flags & kOPath) && cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC && cmd != F_GETFD &&
        cmd != F_SETFD && cmd != F_GETFL)
        return -EBADF;
    FdEntry& e = current_process().fds[a.arg[0]];
    switch (cmd) {
        case F_DUPFD:
        case F_DUPFD_CLOEXEC: {
            if (a.arg[2] >= uint64_t(kMaxFds)) return -EINVAL;
            int fd = fd_allocate(int(a.arg[2]));
            return fd < 0 ? fd : dup_to(f, fd, cmd == F_DUPFD_CLOEXEC);
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
        case F_GETLK:
        case F_OFD_GETLK:
            return get_lock(*f, cmd == F_OFD_GETLK, a.arg[2]);
        case F_SETLK:
        case F_SETLKW:
        case F_OFD_SETLK:
        case F_OFD_SETLKW:
            return set_lock(*f, cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW,
                            cmd == F_SETLKW || cmd == F_OFD_SETLKW, a.arg[2]);
        default:
            return -EINVAL;
    }
}

int64_t sys_flock(SyscallArgs& a) {
    constexpr uint32_t kShared = 1, kExclusive = 2, kNonblock = 4, kUnlock = 8, kMand = 32;
    const uint32_t cmd = uint32_t(a.arg[1]);
    if (cmd & kMand) return 0;  // LOCK_MAND never locked anything: Linux ignores it
    int16_t type;
    switch (cmd & ~kNonblock) {
        case kShared: type = kLockRead; break;
        case kExclusive: type = kLockWrite; break;
        case kUnlock: type = kLockUnlock; break;
        default: return -EINVAL;
    }
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    return lock_flock(*f, type, !(cmd & kNonblock));
}

int64_t sys_ioctl(SyscallArgs& a) {
    constexpr uint32_t kFionclex = 0x5450, kFioclex = 0x5451;
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    const uint32_t cmd = uint32_t(a.arg[1]);  // an unsigned int in Linux
    if (cmd == kFioclex || cmd == kFionclex) {
        current_process().fds[a.arg[0]].cloexec = cmd == kFioclex;
        return 0;
    }
    return file_ioctl(*f, cmd, a.arg[2]);
}

int64_t sys_lseek(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    return file_seek(*f, int64_t(a.arg[1]), int(a.arg[2]));
}

int64_t sys_fstat(SyscallArgs& a) {
    OpenFile* f = fd_lookup_any(a.arg[0]);
    if (!f) return -EBADF;
    LinuxStat st;
    if (int64_t r = file_stat(*f, st); r < 0) return r;
    return copy_to_user(a.arg[1], &st, sizeof st) ? 0 : -EFAULT;
}

namespace {

// The file type behind a description, as st_mode's S_IFMT bits (the host's streams ask
// the host).
int64_t type_of(OpenFile& f, uint32_t& type) {
    if (f.inode) {
        type = f.inode->type();
        return 0;
    }
    if (f.kind == FileKind::Socket) {
        type = minifs::kTypeSocket;
        return 0;
    }
    if (f.kind != FileKind::HostStream) {
        type = f.pipe ? minifs::kTypeFifo : 0;  // an anonymous inode has no file type
        return 0;
    }
    LinuxStat st;
    if (int64_t r = file_stat(f, st); r < 0) return r;
    type = st.mode & minifs::kTypeMask;
    return 0;
}

}  // namespace

int64_t sys_fallocate(SyscallArgs& a) {
    constexpr uint32_t kKeepSize = 0x01, kPunchHole = 0x02, kCollapseRange = 0x08,
                       kZeroRange = 0x10, kInsertRange = 0x20, kUnshareRange = 0x40,
                       kKnown = 0x7f;  // FALLOC_FL_* of Linux 6.1
    const uint32_t mode = uint32_t(a.arg[1]);
    const int64_t offset = int64_t(a.arg[2]), len = int64_t(a.arg[3]);
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    // vfs_fallocate's checks, in its order.
    if (offset < 0 || len <= 0) return -EINVAL;
    if (mode & ~kKnown) return -EOPNOTSUPP;
    if ((mode & (kPunchHole | kZeroRange)) == (kPunchHole | kZeroRange)) return -EOPNOTSUPP;
    if ((mode & kPunchHole) && !(mode & kKeepSize)) return -EOPNOTSUPP;
    if ((mode & kCollapseRange) && (mode & ~kCollapseRange)) return -EINVAL;
    if ((mode & kInsertRange) && (mode & ~kInsertRange)) return -EINVAL;
    if ((mode & kUnshareRange) && (mode & ~(kUnshareRange | kKeepSize))) return -EINVAL;
    if (!writable(*f)) return -EBADF;
    uint32_t type;
    if (int64_t r = type_of(*f, type); r < 0) return r;
    if (type == minifs::kTypeFifo) return -ESPIPE;
    if (type == minifs::kTypeDir) return -EISDIR;
    if (type != minifs::kTypeRegular) return -ENODEV;
    if (uint64_t(offset) + uint64_t(len) > minifs::kMaxFileSize) return -EFBIG;
    // A regular file behind a host stream is the host's to allocate, not ours.
    if (f->kind != FileKind::Inode) return -EOPNOTSUPP;
    // Like tmpfs (shmem_fallocate), minifs knows preallocation and punching holes.
    if (mode & ~(kKeepSize | kPunchHole)) return -EOPNOTSUPP;
    if (mode & kPunchHole) return vfs()->punch_hole(f->inode, uint64_t(offset), uint64_t(len));
    return vfs()->allocate(f->inode, uint64_t(offset), uint64_t(len), mode & kKeepSize);
}

// Everything lives in guest memory: there is nothing slower to flush to.
int64_t sys_sync(SyscallArgs&) { return 0; }

int64_t sys_syncfs(SyscallArgs& a) { return fd_lookup(a.arg[0]) ? 0 : -EBADF; }

int64_t sys_sync_file_range(SyscallArgs& a) {
    constexpr uint64_t kValidFlags = 1 | 2 | 4;  // SYNC_FILE_RANGE_WAIT_BEFORE|WRITE|WAIT_AFTER
    const int64_t offset = int64_t(a.arg[1]), nbytes = int64_t(a.arg[2]);
    if (uint32_t(a.arg[3]) & ~kValidFlags) return -EINVAL;
    if (offset < 0 || nbytes < 0 || offset + nbytes < offset) return -EINVAL;
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    uint32_t type = f->host_mode & minifs::kTypeMask;  // a host mount's file
    if (f->kind != FileKind::HostFile)
        if (int64_t r = type_of(*f, type); r < 0) return r;
    if (type != minifs::kTypeRegular && type != minifs::kTypeDir && type != minifs::kTypeSymlink)
        return -ESPIPE;
    return 0;
}

namespace {

// sendfile's checks, in Linux's order (do_sendfile, then do_splice_direct or the splice
// into a pipe), and the copy. `pos`: the offset to read at, or null for the file offset.
int64_t send_file(uint64_t out_fd, uint64_t in_fd, int64_t* pos, uint64_t count) {
    OpenFile* in = fd_lookup(in_fd);
    if (!in || !readable(*in)) return -EBADF;
    if (pos && !has_positions(*in)) return -ESPIPE;
    const int64_t start = pos ? *pos : int64_t(in->offset);
    if (count > uint64_t(INT64_MAX) || start < 0 || count > uint64_t(INT64_MAX - start))
        return -EINVAL;
    if (count > kMaxRw) count = kMaxRw;
    OpenFile* out = fd_lookup(out_fd);
    if (!out || !writable(*out)) return -EBADF;
    if (out->kind != FileKind::PipeWrite && (out->flags & kOAppend)) return -EINVAL;
    // Only a regular file can be spliced from.
    if (in->kind != FileKind::Inode || !in->inode->is_regular()) return -EINVAL;
    int64_t n = file_splice(in->inode, uint64_t(start), *out, nullptr, count);
    if (n > 0) {
        if (pos) *pos = start + n;
        else in->offset = uint64_t(start + n);
    }
    return n;
}

}  // namespace

int64_t sys_sendfile(SyscallArgs& a) {
    const uint64_t offset_addr = a.arg[2];
    if (!offset_addr) return send_file(a.arg[0], a.arg[1], nullptr, a.arg[3]);
    int64_t pos;
    if (!copy_from_user(&pos, offset_addr, sizeof pos)) return -EFAULT;
    int64_t r = send_file(a.arg[0], a.arg[1], &pos, a.arg[3]);
    return copy_to_user(offset_addr, &pos, sizeof pos) ? r : -EFAULT;
}

int64_t sys_copy_file_range(SyscallArgs& a) {
    const uint64_t in_addr = a.arg[1], out_addr = a.arg[3];
    uint64_t len = a.arg[4];
    OpenFile* in = fd_lookup(a.arg[0]);
    if (!in) return -EBADF;
    OpenFile* out = fd_lookup(a.arg[2]);
    if (!out) return -EBADF;
    int64_t pos_in = int64_t(in->offset), pos_out = int64_t(out->offset);
    if (in_addr && !copy_from_user(&pos_in, in_addr, sizeof pos_in)) return -EFAULT;
    if (out_addr && !copy_from_user(&pos_out, out_addr, sizeof pos_out)) return -EFAULT;
    if (uint32_t(a.arg[5]) != 0) return -EINVAL;
    // generic_copy_file_checks (Linux 6.1): no directories, pipes or devices.
    uint32_t in_type, out_type;
    if (int64_t r = type_of(*in, in_type); r < 0) return r;
    if (int64_t r = type_of(*out, out_type); r < 0) return r;
    if (in_type == minifs::kTypeDir || out_type == minifs::kTypeDir) return -EISDIR;
    if (in_type != minifs::kTypeRegular || out_type != minifs::kTypeRegular) return -EINVAL;
    if (!readable(*in) || !writable(*out) || (out->flags & kOAppend)) return -EBADF;
    // A regular file behind a host stream is on another file system: the host's.
    if (in->kind != FileKind::Inode || out->kind != FileKind::Inode) return -EXDEV;
    if (uint64_t(pos_in) + len < uint64_t(pos_in) || uint64_t(pos_out) + len < uint64_t(pos_out))
        return -EOVERFLOW;
    if (pos_in < 0 || pos_out < 0) return -EINVAL;
    const uint64_t size_in = in->inode->size;
    uint64_t count = uint64_t(pos_in) >= size_in ? 0 : size_in - uint64_t(pos_in);
    if (len < count) count = len;
    if (count > uint64_t(INT64_MAX - pos_out)) count = uint64_t(INT64_MAX - pos_out);
    if (in->inode == out->inode && uint64_t(pos_out) + count > uint64_t(pos_in) &&
        uint64_t(pos_out) < uint64_t(pos_in) + count)
        return -EINVAL;  // overlapping ranges of one file
    if (count == 0) return 0;
    if (count > kMaxRw) count = kMaxRw;
    const uint64_t at = uint64_t(pos_out);
    int64_t n = file_splice(in->inode, uint64_t(pos_in), *out, &at, count);
    if (n <= 0) return n;
    pos_in += n;
    pos_out += n;
    if (in_addr) {
        if (!copy_to_user(in_addr, &pos_in, sizeof pos_in)) n = -EFAULT;
    } else {
        in->offset = uint64_t(pos_in);
    }
    if (out_addr) {
        if (!copy_to_user(out_addr, &pos_out, sizeof pos_out)) n = -EFAULT;
    } else {
        out->offset = uint64_t(pos_out);
    }
    return n;
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

}  // namespace utx::kernel
