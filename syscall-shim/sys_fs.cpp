// syscall-shim/sys_fs.cpp: the path side of the file system: open, stat, directories,
// links, renames, permissions, the working directory. Paths resolve in minifs
// (kernel/fs/vfs); /proc is kept current by kernel/fs/procfs.
#include "kernel/fs/file.h"
#include "kernel/fs/procfs.h"
#include "kernel/fs/vfs.h"
#include "kernel/mm/memory.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/mm/user_access.h"
#include "kernel/process.h"
#include "minifs/path.h"
#include "syscall-shim/fd_table.h"
#include "syscall-shim/handlers.h"

namespace utx::kernel {
namespace {

using minifs::Inode;
using minifs::Name;

constexpr int64_t kAtFdcwd = -100;
constexpr uint64_t kAtSymlinkNofollow = 0x100, kAtRemovedir = 0x200, kAtSymlinkFollow = 0x400,
                   kAtNoAutomount = 0x800, kAtEmptyPath = 0x1000, kAtEaccess = 0x200;
constexpr uint32_t kOCreat = 0100, kOExcl = 0200, kONoctty = 0400, kOTrunc = 01000,
                   kOLargefile = 0100000, kODirectory = 0200000, kONofollow = 0400000,
                   kOTmpfileBit = 020000000,  // __O_TMPFILE; O_TMPFILE adds O_DIRECTORY
                   kOTmpfile = kOTmpfileBit | kODirectory;
constexpr uint64_t kValidOpenFlags = 037777703;  // VALID_OPEN_FLAGS
constexpr uint64_t kOPathFlags = kODirectory | kONofollow | kOPath | kOCloexec;
constexpr uint64_t kResolveCached = 0x20, kResolveKnown = 0x3f;  // RESOLVE_*

char g_path[kPathBuffer];
char g_path2[kPathBuffer];

// Copies the path argument into `buf`; returns its length or -errno. /proc is brought up
// to date first when the path may lead there.
int64_t user_path(uint64_t addr, char* buf) {
    int64_t n = copy_path_from_user(addr, buf);
    if (n > 0) procfs_refresh_for(buf);
    return n;
}

// Remembers the absolute path a file was opened by (best effort: not normalised).
void record_path(OpenFile* file, const char* path, size_t len) {
    char cwd[kPathBuffer];
    size_t prefix = 0;
    if (path[0] != '/') {
        int64_t n = vfs_path_of(vfs_cwd(), cwd, sizeof cwd);
        if (n <= 0) return;
        prefix = size_t(n - 1);
    }
    const bool slash = prefix > 1;
    char* out = static_cast<char*>(kmalloc(prefix + slash + len + 1));
    if (!out) return;
    memcpy(out, cwd, prefix);
    if (slash) out[prefix] = '/';
    memcpy(out + prefix + slash, path, len);
    out[prefix + slash + len] = 0;
    file->path = out;
}

// Where `path` starts: dirfd's directory (or the cwd for AT_FDCWD); an absolute path
// ignores dirfd, even a bad one, as Linux does.
int64_t start_for(int64_t dirfd, const char* path, Inode*& start) {
    int64_t r = vfs_start(dirfd, start);
    if (r < 0 && path[0] != '/') return r;
    if (r < 0) start = vfs_cwd();
    return 0;
}

// Two paths with their dirfds, for rename and link: into g_path and g_path2.
struct TwoPaths {
    Inode *old_start, *new_start;
    Name old_path, new_path;
};
int64_t two_paths(int64_t olddirfd, uint64_t oldpath, int64_t newdirfd, uint64_t newpath,
                  TwoPaths& out);

// Resolves (dirfd, path) with `flags` (minifs kFollowLast / kMustBeDir).
int64_t lookup(int64_t dirfd, const char* path, size_t len, unsigned flags, Inode*& out) {
    Inode* start;
    if (int64_t r = start_for(dirfd, path, start); r < 0) return r;
    auto r = minifs::resolve(vfs(), vfs_context(), start, Name(path, len), flags);
    if (!r.ok()) return r.error();
    out = *r;
    return 0;
}

// The inode a stat-like call names: a path, or the dirfd itself with AT_EMPTY_PATH.
int64_t stat_target(int64_t dirfd, uint64_t path_addr, uint64_t at_flags, Inode*& inode,
                    OpenFile*& file) {
    inode = nullptr;
    file = nullptr;
    int64_t n = user_path(path_addr, g_path);
    if (n < 0) return n;
    if (n == 0) {
        if (!(at_flags & kAtEmptyPath)) return -ENOENT;
        if (int32_t(dirfd) == kAtFdcwd) {
            inode = vfs_cwd();
            return 0;
        }
        file = fd_lookup_any(uint64_t(dirfd));
        return file ? 0 : -EBADF;
    }
    unsigned flags = at_flags & kAtSymlinkNofollow ? 0 : minifs::kFollowLast;
    return lookup(dirfd, g_path, size_t(n), flags, inode);
}

int64_t stat_into(Inode* inode, OpenFile* file, LinuxStat& st) {
    if (file) return file_stat(*file, st);
    inode_stat(inode, st);
    return 0;
}

// stat, lstat and newfstatat: the struct stat of what (dirfd, path, at_flags) names.
int64_t stat_to_user(int64_t dirfd, uint64_t path_addr, uint64_t at_flags, uint64_t buf) {
    Inode* inode;
    OpenFile* file;
    if (int64_t r = stat_target(dirfd, path_addr, at_flags, inode, file); r < 0) return r;
    LinuxStat st;
    if (int64_t r = stat_into(inode, file, st); r < 0) return r;
    return copy_to_user(buf, &st, sizeof st) ? 0 : -EFAULT;
}

// openat2's struct open_how; open, openat and creat make one too (legacy_how).
struct OpenHow {
    uint64_t flags, mode, resolve;
};

// What the older calls pass (Linux's build_open_how): unknown flags dropped, O_PATH beating
// everything else, a mode only for creating; O_LARGEFILE always on a 64-bit kernel.
OpenHow legacy_how(uint32_t flags, uint32_t mode) {
    OpenHow how{(flags | kOLargefile) & kValidOpenFlags, mode & 07777, 0};
    if (how.flags & kOPath) how.flags &= kOPathFlags;
    if (!(how.flags & (kOCreat | kOTmpfileBit))) how.mode = 0;
    return how;
}

// build_open_flags' checks, in its order: openat2 checks everything it is given.
int64_t check_how(const OpenHow& how) {
    const uint64_t flags = how.flags & ~uint64_t(kOCloexec);
    if (flags & ~kValidOpenFlags) return -EINVAL;
    if (how.resolve & ~kResolveKnown) return -EINVAL;
    if ((how.resolve & minifs::kResolveBeneath) && (how.resolve & minifs::kResolveInRoot))
        return -EINVAL;
    if (flags & (kOCreat | kOTmpfileBit)) {
        if (how.mode & ~uint64_t(07777)) return -EINVAL;
    } else if (how.mode != 0) {
        return -EINVAL;
    }
    if ((flags & kOTmpfileBit) && (!(flags & kODirectory) || (flags & kOAccMode) == 0))
        return -EINVAL;
    if ((flags & kOPath) && (flags & ~kOPathFlags)) return -EINVAL;
    // Nothing is ever out of the cache here, but creating is never "cached".
    if ((how.resolve & kResolveCached) && (flags & (kOTrunc | kOCreat | kOTmpfileBit)))
        return -EAGAIN;
    return 0;
}

// What open does with the inode it found or made: access checks, O_TRUNC, a description.
int64_t open_inode(Inode* inode, uint32_t flags, bool created, const char* path, size_t len,
                   OpenFile*& out) {
    if (flags & kOPath) {
        // Only names the file: no permission on it needed, nothing of it opened.
        out = file_open_path(inode, flags & kOPathFlags);
        if (!out) return -ENOMEM;
        record_path(out, path, len);
        return 0;
    }
    if (inode->is_symlink()) return -ELOOP;  // only O_PATH can have one (reopened)
    const uint32_t acc = flags & kOAccMode;
    if (inode->is_dir() && (acc != 0 || (flags & (kOTrunc | kOCreat)))) return -EISDIR;
    if (!created) {
        int mask = (acc == 0 ? minifs::kMayRead
                             : acc == kOWrOnly ? minifs::kMayWrite
                                               : minifs::kMayRead | minifs::kMayWrite);
        if (int e = minifs::access(inode, vfs_context().cred, mask); e < 0) return e;
    }
    if ((flags & kOTrunc) && inode->is_regular() && acc != 0) {
        if (int e = vfs().truncate(inode, 0); e < 0) return e;
    }
    int64_t error = -ENOMEM;
    out = file_open_inode(inode, flags & ~(kOCreat | kOExcl | kONoctty | kOTrunc), &error);
    if (!out) return error;
    record_path(out, path, len);
    return 0;
}

// /dev/stdin, /dev/fd/N, /proc/self/fd/N: the description of that descriptor again. An O_PATH
// one on either side makes a new description of its inode instead: that is how a file an
// O_PATH descriptor names is opened for I/O.
int64_t reopen(int64_t fd, uint32_t flags, OpenFile*& out) {
    OpenFile* target = fd_lookup_any(uint64_t(fd));
    if (!target) return -ENOENT;
    if ((flags & kOPath) && !target->inode) return -ENXIO;  // O_PATH needs an inode here
    if ((flags | target->flags) & kOPath) {
        const char* path = target->path ? target->path : "/";
        return open_inode(target->inode, flags, false, path, strlen(path), out);
    }
    file_get(target);
    out = target;
    return 0;
}

// O_TMPFILE: an unnamed file in the directory `path` names; /proc/self/fd shows it as
// Linux does, "<directory>/#<inode> (deleted)".
int64_t open_tmpfile(const minifs::PathContext& ctx, Inode* start, Name path, uint32_t flags,
                     uint32_t perm, OpenFile*& out) {
    auto made = minifs::tmpfile_at(vfs(), ctx, start, path,
                                   flags & kONofollow ? minifs::kOpenNoFollow : 0, perm);
    if (!made.ok()) return made.error();
    size_t n = format(g_path2, sizeof g_path2, "%s/#%lu (deleted)", path.data,
                      (unsigned long)(*made)->ino);  // path: NUL-terminated in g_path
    if (n >= sizeof g_path2) n = sizeof g_path2 - 1;
    int64_t r = open_inode(*made, flags, true, g_path2, n, out);
    if (r < 0) vfs().unref(*made);  // nobody holds it: it goes
    return r;
}

// Resolves (dirfd, path) under openat2's RESOLVE_* restrictions and opens what it names.
int64_t open_path(int64_t dirfd, Name path, uint32_t flags, uint32_t mode, unsigned resolve,
                  OpenFile*& out) {
    Inode* start;
    // RESOLVE_IN_ROOT starts at dirfd even for an absolute path, so it must be valid.
    int64_t r = resolve & minifs::kResolveInRoot ? vfs_start(dirfd, start)
                                                 : start_for(dirfd, path.data, start);
    if (r < 0) return r;
    minifs::PathContext ctx = vfs_context();
    ctx.resolve = resolve;
    ctx.hooks = procfs_path_hooks();
    if (resolve & (minifs::kResolveBeneath | minifs::kResolveInRoot)) ctx.root = start;
    const uint32_t perm = mode & 07777 & ~current_process().umask;
    if ((flags & kOTmpfile) == kOTmpfile) return open_tmpfile(ctx, start, path, flags, perm, out);
    unsigned open_flags = (flags & kOCreat ? minifs::kOpenCreate : 0) |
                          (flags & kOExcl ? minifs::kOpenExcl : 0) |
                          (flags & kONofollow ? minifs::kOpenNoFollow : 0) |
                          (flags & kODirectory ? minifs::kOpenDirectory : 0) |
                          (flags & kOPath ? minifs::kOpenPath : 0);
    auto found = minifs::open_at(vfs(), ctx, start, path, open_flags, perm);
    if (!found.ok()) return found.error();
    return open_inode((*found).inode, flags, (*found).created, path.data, path.len, out);
}

int64_t do_open(int64_t dirfd, uint64_t path_addr, const OpenHow& how) {
    if (int64_t r = check_how(how); r < 0) return r;
    const uint32_t flags = uint32_t(how.flags);
    int64_t n = user_path(path_addr, g_path);
    if (n < 0) return n;
    if (n == 0) return -ENOENT;
    int fd = fd_allocate(0);
    if (fd < 0) return fd;
    const unsigned resolve = unsigned(how.resolve & ~kResolveCached);
    OpenFile* file = nullptr;
    // Under RESOLVE_* restrictions the magic links of /proc walk like other paths, so that
    // the restrictions see them.
    const int64_t linked = resolve ? -1 : procfs_fd_link(g_path);
    int64_t r = linked >= 0 ? reopen(linked, flags, file)
                            : open_path(dirfd, Name(g_path, size_t(n)), flags,
                                        uint32_t(how.mode), resolve, file);
    if (r < 0) return r;
    fd_install(fd, file, flags & kOCloexec);
    return fd;
}

int64_t do_readlink(int64_t dirfd, uint64_t path_addr, uint64_t buf, uint64_t size) {
    if (int32_t(size) <= 0) return -EINVAL;  // an int in Linux
    int64_t n = user_path(path_addr, g_path);
    if (n < 0) return n;
    char target[kPathBuffer];
    const size_t cap = uint32_t(size) < sizeof target ? size_t(uint32_t(size)) : sizeof target;
    Inode* inode;
    if (n == 0) {
        // An empty path is dirfd itself: a symlink opened with O_PATH | O_NOFOLLOW.
        if (int32_t(dirfd) == kAtFdcwd) {
            inode = vfs_cwd();
        } else {
            OpenFile* f = fd_lookup_any(uint64_t(dirfd));
            if (!f) return -EBADF;
            inode = f->inode;
        }
        if (!inode || !inode->is_symlink()) return -ENOENT;
    } else {
        if (int64_t r = lookup(dirfd, g_path, size_t(n), 0, inode); r < 0) return r;
        if (!inode->is_symlink()) return -EINVAL;
    }
    int64_t len = vfs().readlink(inode, target, cap);
    if (len < 0) return len;
    return copy_to_user(buf, target, size_t(len)) ? len : -EFAULT;
}

int64_t do_access(int64_t dirfd, uint64_t path_addr, uint64_t mode, uint64_t flags) {
    if (mode & ~uint64_t(7)) return -EINVAL;
    if (flags & ~(kAtEaccess | kAtSymlinkNofollow | kAtEmptyPath)) return -EINVAL;
    Inode* inode;
    OpenFile* file;
    if (int64_t r = stat_target(dirfd, path_addr, flags, inode, file); r < 0) return r;
    if (file) inode = file->inode;
    if (!inode || mode == 0) return 0;
    return minifs::access(inode, vfs_context().cred, int(mode));
}

int64_t do_mkdir(int64_t dirfd, uint64_t path_addr, uint64_t mode) {
    int64_t n = user_path(path_addr, g_path);
    if (n < 0) return n;
    Inode* start;
    if (int64_t r = start_for(dirfd, g_path, start); r < 0) return r;
    auto r = minifs::mkdir_at(vfs(), vfs_context(), start,
                              Name(g_path, size_t(n)),
                              uint32_t(mode) & 07777 & ~current_process().umask);
    return r.ok() ? 0 : r.error();
}

int64_t do_unlink(int64_t dirfd, uint64_t path_addr, uint64_t flags) {
    if (flags & ~kAtRemovedir) return -EINVAL;
    int64_t n = user_path(path_addr, g_path);
    if (n < 0) return n;
    Inode* start;
    if (int64_t r = start_for(dirfd, g_path, start); r < 0) return r;
    Inode* s = start;
    return flags & kAtRemovedir ? minifs::rmdir_at(vfs(), vfs_context(), s, Name(g_path, size_t(n)))
                                : minifs::unlink_at(vfs(), vfs_context(), s, Name(g_path, size_t(n)));
}

int64_t two_paths(int64_t olddirfd, uint64_t oldpath, int64_t newdirfd, uint64_t newpath,
                  TwoPaths& out) {
    int64_t n1 = user_path(oldpath, g_path);
    if (n1 < 0) return n1;
    int64_t n2 = user_path(newpath, g_path2);
    if (n2 < 0) return n2;
    if (int64_t r = start_for(olddirfd, g_path, out.old_start); r < 0) return r;
    if (int64_t r = start_for(newdirfd, g_path2, out.new_start); r < 0) return r;
    out.old_path = Name(g_path, size_t(n1));
    out.new_path = Name(g_path2, size_t(n2));
    return 0;
}

int64_t do_rename(int64_t olddirfd, uint64_t oldpath, int64_t newdirfd, uint64_t newpath,
                  uint64_t flags) {
    constexpr uint64_t kNoReplace = 1, kExchange = 2, kWhiteout = 4;
    if (flags & kWhiteout) return -EINVAL;
    if (flags & ~(kNoReplace | kExchange)) return -EINVAL;
    if ((flags & kNoReplace) && (flags & kExchange)) return -EINVAL;
    TwoPaths t;
    if (int64_t r = two_paths(olddirfd, oldpath, newdirfd, newpath, t); r < 0) return r;
    return minifs::rename_at(vfs(), vfs_context(), t.old_start, t.old_path, t.new_start,
                             t.new_path, unsigned(flags));
}

int64_t do_link(int64_t olddirfd, uint64_t oldpath, int64_t newdirfd, uint64_t newpath,
                uint64_t flags) {
    if (flags & ~(kAtSymlinkFollow | kAtEmptyPath)) return -EINVAL;
    TwoPaths t;
    if (int64_t r = two_paths(olddirfd, oldpath, newdirfd, newpath, t); r < 0) return r;
    return minifs::link_at(vfs(), vfs_context(), t.old_start, t.old_path, t.new_start,
                           t.new_path, flags & kAtSymlinkFollow);
}

int64_t do_symlink(uint64_t target_addr, int64_t dirfd, uint64_t path_addr) {
    int64_t n1 = user_path(target_addr, g_path2);
    if (n1 < 0) return n1;
    if (n1 == 0) return -ENOENT;
    int64_t n2 = user_path(path_addr, g_path);
    if (n2 < 0) return n2;
    Inode* start;
    if (int64_t r = start_for(dirfd, g_path, start); r < 0) return r;
    auto r = minifs::symlink_at(vfs(), vfs_context(), Name(g_path2, size_t(n1)),
                                start, Name(g_path, size_t(n2)));
    return r.ok() ? 0 : r.error();
}

// Owner or root may change modes and times.
int64_t check_owner(const Inode* inode) {
    const Process& p = current_process();
    return p.uid == 0 || p.uid == inode->uid ? 0 : -EPERM;
}

int64_t do_chmod(Inode* inode, uint64_t mode) {
    if (int64_t r = check_owner(inode); r < 0) return r;
    return vfs().chmod(inode, uint32_t(mode) & 07777);
}

int64_t do_chown(Inode* inode, uint64_t uid, uint64_t gid) {
    if (current_process().uid != 0) {
        // An owner may only change the group to one of its own; never the user.
        if (uint32_t(uid) != 0xffffffff && uint32_t(uid) != inode->uid) return -EPERM;
        if (int64_t r = check_owner(inode); r < 0) return r;
        if (uint32_t(gid) != 0xffffffff && uint32_t(gid) != current_process().gid) return -EPERM;
    }
    return vfs().chown(inode, uint32_t(uid), uint32_t(gid));
}

int64_t do_truncate(Inode* inode, int64_t length) {
    if (length < 0) return -EINVAL;
    if (inode->is_dir()) return -EISDIR;
    if (!inode->is_regular()) return -EINVAL;
    return vfs().truncate(inode, uint64_t(length));
}

}  // namespace

int64_t sys_open(SyscallArgs& a) {
    return do_open(kAtFdcwd, a.arg[0], legacy_how(uint32_t(a.arg[1]), uint32_t(a.arg[2])));
}
int64_t sys_openat(SyscallArgs& a) {
    return do_open(int64_t(a.arg[0]), a.arg[1],
                   legacy_how(uint32_t(a.arg[2]), uint32_t(a.arg[3])));
}
int64_t sys_creat(SyscallArgs& a) {
    return do_open(kAtFdcwd, a.arg[0],
                   legacy_how(kOCreat | kOWrOnly | kOTrunc, uint32_t(a.arg[1])));
}

int64_t sys_openat2(SyscallArgs& a) {
    constexpr uint64_t kSizeVer0 = sizeof(OpenHow);  // OPEN_HOW_SIZE_VER0
    const uint64_t how_addr = a.arg[2], size = a.arg[3];
    if (size < kSizeVer0) return -EINVAL;
    if (size > kPageSize) return -E2BIG;
    // A bigger struct from a newer program is fine while what we do not know is zero.
    uint8_t tail[64];
    for (uint64_t off = kSizeVer0; off < size; off += sizeof tail) {
        const size_t n = size - off < sizeof tail ? size_t(size - off) : sizeof tail;
        if (!copy_from_user(tail, how_addr + off, n)) return -EFAULT;
        for (size_t i = 0; i < n; ++i)
            if (tail[i]) return -E2BIG;
    }
    OpenHow how;
    if (!copy_from_user(&how, how_addr, sizeof how)) return -EFAULT;
    // Unlike the older calls, openat2 adds O_LARGEFILE only where O_PATH allows it.
    if (!(how.flags & kOPath)) how.flags |= kOLargefile;
    return do_open(int64_t(a.arg[0]), a.arg[1], how);
}

int64_t sys_memfd_create(SyscallArgs& a) {
    constexpr uint32_t kCloexec = 1, kAllowSealing = 2, kHugetlb = 4, kHugeSizes = 0x3fu << 26;
    constexpr size_t kNameMax = 249;  // MFD_NAME_MAX_LEN: NAME_MAX less "memfd:"
    const uint32_t flags = uint32_t(a.arg[1]);
    const uint32_t known = kCloexec | kAllowSealing | kHugetlb | (flags & kHugetlb ? kHugeSizes : 0);
    if (flags & ~known) return -EINVAL;
    char name[kNameMax + 1];
    int64_t n = copy_string_from_user(name, sizeof name, a.arg[0]);
    if (n < 0) return n == -ENAMETOOLONG ? -EINVAL : n;
    int fd = fd_allocate(0);
    if (fd < 0) return fd;
    // What a Linux built without hugetlbfs answers.
    if (flags & kHugetlb) return -ENOSYS;
    // An inode of its own with no name (shmem's internal mount on Linux), mode 0777 as there.
    auto made = vfs().create_unnamed(nullptr, 0777, vfs_context().cred);
    if (!made.ok()) return made.error();
    int64_t error = -ENOMEM;
    OpenFile* file = file_open_inode(*made, kORdWr | kOLargefile, &error);
    if (!file) {
        vfs().unref(*made);  // nobody holds it: it goes
        return error;
    }
    const size_t len = format(g_path, sizeof g_path, "/memfd:%s (deleted)", name);
    record_path(file, g_path, len);
    fd_install(fd, file, flags & kCloexec);
    return fd;
}

int64_t sys_stat(SyscallArgs& a) { return stat_to_user(kAtFdcwd, a.arg[0], 0, a.arg[1]); }

int64_t sys_lstat(SyscallArgs& a) {
    return stat_to_user(kAtFdcwd, a.arg[0], kAtSymlinkNofollow, a.arg[1]);
}

int64_t sys_newfstatat(SyscallArgs& a) {
    if (a.arg[3] & ~(kAtSymlinkNofollow | kAtNoAutomount | kAtEmptyPath)) return -EINVAL;
    return stat_to_user(int64_t(a.arg[0]), a.arg[1], a.arg[3], a.arg[2]);
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
    constexpr uint64_t kSyncTypeMask = 0x6000;
    if (a.arg[3] & 0x80000000u) return -EINVAL;  // STATX__RESERVED
    if (a.arg[2] & ~(kAtSymlinkNofollow | kAtNoAutomount | kAtEmptyPath | kSyncTypeMask))
        return -EINVAL;
    Inode* inode;
    OpenFile* file;
    if (int64_t r = stat_target(int64_t(a.arg[0]), a.arg[1], a.arg[2], inode, file); r < 0)
        return r;
    LinuxStat st;
    if (int64_t r = stat_into(inode, file, st); r < 0) return r;
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

int64_t sys_getdents64(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    if (f->kind != FileKind::Inode || !f->inode->is_dir()) return -ENOTDIR;
    const uint64_t buf = a.arg[1], size = a.arg[2];
    uint64_t used = 0;
    minifs::DirentInfo e;
    uint8_t record[8 + 8 + 2 + 1 + 256 + 8];
    while (vfs().dir_next(f->inode, f->offset, &e) == 1) {
        const uint64_t reclen = (19 + e.name.len + 1 + 7) & ~uint64_t(7);
        if (used + reclen > size) {
            if (used == 0) return -EINVAL;
            break;
        }
        memset(record, 0, reclen);
        memcpy(record, &e.ino, 8);
        memcpy(record + 8, &e.cookie, 8);
        const uint16_t len16 = uint16_t(reclen);
        memcpy(record + 16, &len16, 2);
        record[18] = uint8_t(e.type);
        memcpy(record + 19, e.name.data, e.name.len);
        if (!copy_to_user(buf + used, record, reclen)) return used ? int64_t(used) : -EFAULT;
        used += reclen;
        f->offset = e.cookie;
    }
    vfs().touch_atime(f->inode);
    return int64_t(used);
}

int64_t sys_mkdir(SyscallArgs& a) { return do_mkdir(kAtFdcwd, a.arg[0], a.arg[1]); }
int64_t sys_mkdirat(SyscallArgs& a) { return do_mkdir(int64_t(a.arg[0]), a.arg[1], a.arg[2]); }
int64_t sys_rmdir(SyscallArgs& a) { return do_unlink(kAtFdcwd, a.arg[0], kAtRemovedir); }
int64_t sys_unlink(SyscallArgs& a) { return do_unlink(kAtFdcwd, a.arg[0], 0); }
int64_t sys_unlinkat(SyscallArgs& a) { return do_unlink(int64_t(a.arg[0]), a.arg[1], a.arg[2]); }
int64_t sys_rename(SyscallArgs& a) { return do_rename(kAtFdcwd, a.arg[0], kAtFdcwd, a.arg[1], 0); }
int64_t sys_renameat(SyscallArgs& a) {
    return do_rename(int64_t(a.arg[0]), a.arg[1], int64_t(a.arg[2]), a.arg[3], 0);
}
int64_t sys_renameat2(SyscallArgs& a) {
    return do_rename(int64_t(a.arg[0]), a.arg[1], int64_t(a.arg[2]), a.arg[3], a.arg[4]);
}
int64_t sys_link(SyscallArgs& a) { return do_link(kAtFdcwd, a.arg[0], kAtFdcwd, a.arg[1], 0); }
int64_t sys_linkat(SyscallArgs& a) {
    return do_link(int64_t(a.arg[0]), a.arg[1], int64_t(a.arg[2]), a.arg[3], a.arg[4]);
}
int64_t sys_symlink(SyscallArgs& a) { return do_symlink(a.arg[0], kAtFdcwd, a.arg[1]); }
int64_t sys_symlinkat(SyscallArgs& a) {
    return do_symlink(a.arg[0], int64_t(a.arg[1]), a.arg[2]);
}
int64_t sys_readlink(SyscallArgs& a) { return do_readlink(kAtFdcwd, a.arg[0], a.arg[1], a.arg[2]); }
int64_t sys_readlinkat(SyscallArgs& a) {
    return do_readlink(int64_t(a.arg[0]), a.arg[1], a.arg[2], a.arg[3]);
}
int64_t sys_access(SyscallArgs& a) { return do_access(kAtFdcwd, a.arg[0], a.arg[1], 0); }
int64_t sys_faccessat(SyscallArgs& a) {
    return do_access(int64_t(a.arg[0]), a.arg[1], a.arg[2], 0);
}
int64_t sys_faccessat2(SyscallArgs& a) {
    return do_access(int64_t(a.arg[0]), a.arg[1], a.arg[2], a.arg[3]);
}

int64_t sys_chdir(SyscallArgs& a) {
    int64_t n = user_path(a.arg[0], g_path);
    if (n < 0) return n;
    Inode* dir;
    if (int64_t r = lookup(kAtFdcwd, g_path, size_t(n), minifs::kFollowLast | minifs::kMustBeDir,
                           dir);
        r < 0)
        return r;
    if (int e = minifs::access(dir, vfs_context().cred, minifs::kMayExec); e < 0) return e;
    vfs_set_cwd(dir);
    return 0;
}

int64_t sys_fchdir(SyscallArgs& a) {
    OpenFile* f = fd_lookup_any(a.arg[0]);
    if (!f) return -EBADF;
    if (f->kind != FileKind::Inode || !f->inode->is_dir()) return -ENOTDIR;
    if (int e = minifs::access(f->inode, vfs_context().cred, minifs::kMayExec); e < 0) return e;
    vfs_set_cwd(f->inode);
    return 0;
}

int64_t sys_getcwd(SyscallArgs& a) {
    int64_t n = vfs_path_of(vfs_cwd(), g_path, sizeof g_path);
    if (n < 0) return n;
    if (uint64_t(n) > a.arg[1]) return -ERANGE;
    return copy_to_user(a.arg[0], g_path, size_t(n)) ? n : -EFAULT;
}

int64_t sys_chmod(SyscallArgs& a) {
    Inode* inode;
    OpenFile* file;
    if (int64_t r = stat_target(kAtFdcwd, a.arg[0], 0, inode, file); r < 0) return r;
    return do_chmod(inode, a.arg[1]);
}

int64_t sys_fchmodat(SyscallArgs& a) {
    Inode* inode;
    OpenFile* file;
    if (int64_t r = stat_target(int64_t(a.arg[0]), a.arg[1], 0, inode, file); r < 0) return r;
    return do_chmod(inode, a.arg[2]);
}

int64_t sys_fchmod(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    if (!f->inode) return -EPERM;  // pipes and host streams: not ours to change
    return do_chmod(f->inode, a.arg[1]);
}

int64_t sys_chown(SyscallArgs& a) {
    Inode* inode;
    OpenFile* file;
    if (int64_t r = stat_target(kAtFdcwd, a.arg[0], 0, inode, file); r < 0) return r;
    return do_chown(inode, a.arg[1], a.arg[2]);
}

int64_t sys_lchown(SyscallArgs& a) {
    Inode* inode;
    OpenFile* file;
    if (int64_t r = stat_target(kAtFdcwd, a.arg[0], kAtSymlinkNofollow, inode, file); r < 0)
        return r;
    return do_chown(inode, a.arg[1], a.arg[2]);
}

int64_t sys_fchownat(SyscallArgs& a) {
    if (a.arg[4] & ~(kAtSymlinkNofollow | kAtEmptyPath)) return -EINVAL;
    Inode* inode;
    OpenFile* file;
    if (int64_t r = stat_target(int64_t(a.arg[0]), a.arg[1], a.arg[4], inode, file); r < 0)
        return r;
    if (file) inode = file->inode;
    if (!inode) return -EPERM;
    return do_chown(inode, a.arg[2], a.arg[3]);
}

int64_t sys_fchown(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    if (!f->inode) return -EPERM;
    return do_chown(f->inode, a.arg[1], a.arg[2]);
}

int64_t sys_truncate(SyscallArgs& a) {
    int64_t n = user_path(a.arg[0], g_path);
    if (n < 0) return n;
    Inode* inode;
    if (int64_t r = lookup(kAtFdcwd, g_path, size_t(n), minifs::kFollowLast, inode); r < 0)
        return r;
    if (int e = minifs::access(inode, vfs_context().cred, minifs::kMayWrite); e < 0) return e;
    return do_truncate(inode, int64_t(a.arg[1]));
}

int64_t sys_ftruncate(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    if (f->kind != FileKind::Inode || (f->flags & kOAccMode) == 0) return -EINVAL;
    return do_truncate(f->inode, int64_t(a.arg[1]));
}

int64_t sys_fsync(SyscallArgs& a) {
    // Everything lives in guest memory: there is nothing slower to flush to.
    return fd_lookup(a.arg[0]) ? 0 : -EBADF;
}
int64_t sys_fdatasync(SyscallArgs& a) { return sys_fsync(a); }

namespace {

struct Timespec {
    int64_t sec, nsec;
};

// utimensat and the older calls: `times` (null: both now) on what (dirfd, path) names, or
// on dirfd itself when the path pointer is null (futimens).
int64_t do_utimes(int64_t dirfd, uint64_t path_addr, const Timespec* times, uint64_t flags) {
    constexpr int64_t kUtimeNow = (1l << 30) - 1, kUtimeOmit = (1l << 30) - 2;
    int64_t ns[2] = {minifs::kTimeNow, minifs::kTimeNow};
    for (int i = 0; times && i < 2; ++i) {
        if (times[i].nsec == kUtimeNow) ns[i] = minifs::kTimeNow;
        else if (times[i].nsec == kUtimeOmit) ns[i] = minifs::kTimeOmit;
        else if (times[i].nsec < 0 || times[i].nsec >= 1'000'000'000) return -EINVAL;
        else ns[i] = times[i].sec * 1'000'000'000 + times[i].nsec;
    }
    Inode* inode = nullptr;
    if (path_addr == 0 && int32_t(dirfd) != kAtFdcwd) {
        if (flags) return -EINVAL;
        OpenFile* f = fd_lookup(uint64_t(dirfd));
        if (!f) return -EBADF;
        inode = f->inode;
    } else {
        if (flags & ~(kAtSymlinkNofollow | kAtEmptyPath)) return -EINVAL;
        OpenFile* file;
        if (int64_t r = stat_target(dirfd, path_addr, flags, inode, file); r < 0) return r;
        if (file) inode = file->inode;
    }
    if (!inode) return -EPERM;  // pipes and host streams: not ours to change
    // Setting times needs the owner; "now" for both is also allowed with write access.
    const bool explicit_times = times && !(times[0].nsec == kUtimeNow && times[1].nsec == kUtimeNow);
    if (explicit_times) {
        if (int64_t r = check_owner(inode); r < 0) return r;
    } else if (check_owner(inode) < 0 &&
               minifs::access(inode, vfs_context().cred, minifs::kMayWrite) < 0) {
        return -EACCES;
    }
    return vfs().utimens(inode, ns[0], ns[1]);
}

// futimesat and utimes: struct timeval pairs, in microseconds.
int64_t do_utimes_timeval(int64_t dirfd, uint64_t path_addr, uint64_t times_addr) {
    struct Timeval {
        int64_t sec, usec;
    } tv[2];
    if (!times_addr) return do_utimes(dirfd, path_addr, nullptr, 0);
    if (!copy_from_user(tv, times_addr, sizeof tv)) return -EFAULT;
    // Checked here, before the scaling could hide a bad value (or make UTIME_NOW of one).
    for (const Timeval& t : tv)
        if (t.usec < 0 || t.usec >= 1'000'000) return -EINVAL;
    const Timespec times[2] = {{tv[0].sec, tv[0].usec * 1000}, {tv[1].sec, tv[1].usec * 1000}};
    return do_utimes(dirfd, path_addr, times, 0);
}

}  // namespace

int64_t sys_utimensat(SyscallArgs& a) {
    constexpr int64_t kUtimeOmit = (1l << 30) - 2;
    Timespec times[2];
    if (!a.arg[2]) return do_utimes(int64_t(a.arg[0]), a.arg[1], nullptr, a.arg[3]);
    if (!copy_from_user(times, a.arg[2], sizeof times)) return -EFAULT;
    if (times[0].nsec == kUtimeOmit && times[1].nsec == kUtimeOmit) return 0;  // nothing to do
    return do_utimes(int64_t(a.arg[0]), a.arg[1], times, a.arg[3]);
}

int64_t sys_futimesat(SyscallArgs& a) {
    return do_utimes_timeval(int64_t(a.arg[0]), a.arg[1], a.arg[2]);
}

int64_t sys_utimes(SyscallArgs& a) { return do_utimes_timeval(kAtFdcwd, a.arg[0], a.arg[1]); }

int64_t sys_utime(SyscallArgs& a) {
    struct Utimbuf {
        int64_t actime, modtime;
    } buf;
    if (!a.arg[1]) return do_utimes(kAtFdcwd, a.arg[0], nullptr, 0);
    if (!copy_from_user(&buf, a.arg[1], sizeof buf)) return -EFAULT;
    const Timespec times[2] = {{buf.actime, 0}, {buf.modtime, 0}};
    return do_utimes(kAtFdcwd, a.arg[0], times, 0);
}

int64_t sys_statfs(SyscallArgs& a) {
    int64_t n = user_path(a.arg[0], g_path);
    if (n < 0) return n;
    Inode* inode;
    if (int64_t r = lookup(kAtFdcwd, g_path, size_t(n), minifs::kFollowLast, inode); r < 0)
        return r;
    LinuxStatfs st;
    vfs_statfs(st);
    return copy_to_user(a.arg[1], &st, sizeof st) ? 0 : -EFAULT;
}

int64_t sys_fstatfs(SyscallArgs& a) {
    OpenFile* f = fd_lookup_any(a.arg[0]);
    if (!f) return -EBADF;
    LinuxStatfs st;
    if (int64_t r = file_statfs(*f, st); r < 0) return r;
    return copy_to_user(a.arg[1], &st, sizeof st) ? 0 : -EFAULT;
}

int64_t sys_mknodat(SyscallArgs& a) {
    int64_t n = user_path(a.arg[1], g_path);
    if (n < 0) return n;
    const uint32_t mode = uint32_t(a.arg[2]);
    const uint32_t type = mode & minifs::kTypeMask;
    if (type == minifs::kTypeDir) return -EPERM;
    if ((type == minifs::kTypeChar || type == minifs::kTypeBlock) && current_process().uid != 0)
        return -EPERM;
    Inode* start;
    if (int64_t r = start_for(int64_t(a.arg[0]), g_path, start); r < 0) return r;
    const uint32_t full = (type ? type : minifs::kTypeRegular) |
                          (mode & 07777 & ~current_process().umask);
    auto r = minifs::mknod_at(vfs(), vfs_context(), start,
                              Name(g_path, size_t(n)), full, a.arg[3]);
    return r.ok() ? 0 : r.error();
}

int64_t sys_mknod(SyscallArgs& a) {
    SyscallArgs at{{uint64_t(kAtFdcwd), a.arg[0], a.arg[1], a.arg[2]}, a.frame};
    return sys_mknodat(at);
}

}  // namespace utx::kernel
