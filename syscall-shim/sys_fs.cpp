// syscall-shim/sys_fs.cpp: the path side of the file system: open, stat, directories,
// links, renames, permissions, the working directory. Paths resolve in minifs
// (kernel/fs/vfs); /proc is kept current by kernel/fs/procfs.
#include "kernel/fs/file.h"
#include "kernel/fs/hostfs.h"
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
        int64_t n = vfs_cwd_path(cwd, sizeof cwd);
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

// An operation on what (dirfd, path at path_addr, at_flags) names: on_inode(Inode*) in
// minifs, on_file(OpenFile&) for the dirfd itself (AT_EMPTY_PATH), on_host(mount, rel,
// follow) beneath a host mount.
template <class OnInode, class OnFile, class OnHost>
int64_t on_target(int64_t dirfd, uint64_t path_addr, uint64_t at_flags, OnInode&& on_inode,
                  OnFile&& on_file, OnHost&& on_host) {
    int64_t n = user_path(path_addr, g_path);
    if (n < 0) return n;
    if (n == 0) {
        if (!(at_flags & kAtEmptyPath)) return -ENOENT;
        if (int32_t(dirfd) != kAtFdcwd) {
            OpenFile* file = fd_lookup_any(uint64_t(dirfd));  // O_PATH ones too
            return file ? on_file(*file) : -EBADF;
        }
        g_path[0] = '.';  // the working directory itself
        n = 1;
    }
    const bool follow = !(at_flags & kAtSymlinkNofollow);
    // /dev/fd/N and /proc/self/fd/N lead to the open file itself (a pipe of bash's <(...)).
    if (const int64_t linked = follow ? procfs_fd_link(g_path) : -1; linked >= 0) {
        OpenFile* file = fd_lookup_any(uint64_t(linked));
        return file ? on_file(*file) : -ENOENT;
    }
    return vfs_route(
        dirfd, g_path, size_t(n),
        [&](Inode* start, Name path) -> int64_t {
            auto r = minifs::resolve(vfs(), vfs_context(), start, path,
                                     follow ? minifs::kFollowLast : 0);
            return r.ok() ? on_inode(*r) : r.error();
        },
        [&](uint32_t mount, const char* rel) -> int64_t { return on_host(mount, rel, follow); });
}

// stat, lstat, newfstatat and statx: the struct stat of what (dirfd, path, at_flags) names.
int64_t stat_path(int64_t dirfd, uint64_t path_addr, uint64_t at_flags, LinuxStat& st) {
    return on_target(
        dirfd, path_addr, at_flags,
        [&](Inode* inode) -> int64_t {
            inode_stat(inode, st);
            return 0;
        },
        [&](OpenFile& file) { return file_stat(file, st); },
        [&](uint32_t mount, const char* rel, bool follow) {
            return hostfs_path_op(abi::kFsStat, mount, rel, follow, 0, 0, nullptr, &st, sizeof st);
        });
}

int64_t stat_to_user(int64_t dirfd, uint64_t path_addr, uint64_t at_flags, uint64_t buf) {
    LinuxStat st;
    if (int64_t r = stat_path(dirfd, path_addr, at_flags, st); r < 0) return r;
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
        if (int e = vfs()->truncate(inode, 0); e < 0) return e;
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
    if (r < 0) vfs()->unref(*made);  // nobody holds it: it goes
    return r;
}

// The minifs directory a restricted walk starts from: dirfd's, or the working directory.
// openat2's RESOLVE_* restrictions are minifs walks: from beneath a host mount, -EXDEV.
int64_t start_dir(int64_t dirfd, Inode*& start) {
    if (int32_t(dirfd) == kAtFdcwd) {
        start = vfs_cwd();
        return start ? 0 : -EXDEV;
    }
    OpenFile* f = fd_lookup_any(uint64_t(dirfd));
    if (!f) return -EBADF;
    if (f->kind == FileKind::HostFile) return is_host_dir(*f) ? -EXDEV : -ENOTDIR;
    if (!f->inode || !f->inode->is_dir()) return -ENOTDIR;
    start = f->inode;
    return 0;
}

// Resolves (dirfd, path), under openat2's RESOLVE_* restrictions if any, and opens what it
// names, in minifs or beneath a host mount.
int64_t open_path(int64_t dirfd, Name path, uint32_t flags, uint32_t mode, unsigned resolve,
                  OpenFile*& out) {
    const uint32_t perm = mode & 07777 & ~current_process().umask;
    auto in_minifs = [&](Inode* start, Name p, const minifs::PathContext& ctx) -> int64_t {
        if ((flags & kOTmpfile) == kOTmpfile) return open_tmpfile(ctx, start, p, flags, perm, out);
        unsigned open_flags = (flags & kOCreat ? minifs::kOpenCreate : 0) |
                              (flags & kOExcl ? minifs::kOpenExcl : 0) |
                              (flags & kONofollow ? minifs::kOpenNoFollow : 0) |
                              (flags & kODirectory ? minifs::kOpenDirectory : 0) |
                              (flags & kOPath ? minifs::kOpenPath : 0);
        auto found = minifs::open_at(vfs(), ctx, start, p, open_flags, perm);
        if (!found.ok()) return found.error();
        return open_inode((*found).inode, flags, (*found).created, path.data, path.len, out);
    };
    auto on_host = [&](uint32_t mount, const char* rel) {
        return hostfs_open(mount, rel, flags & ~kOCloexec, perm, out);
    };
    if (!resolve)
        return vfs_route(
            dirfd, path.data, path.len,
            [&](Inode* start, Name p) { return in_minifs(start, p, vfs_context()); }, on_host);
    Inode* start = vfs()->root();
    // RESOLVE_IN_ROOT starts at dirfd even for an absolute path, so it must be valid.
    if ((resolve & minifs::kResolveInRoot) || path.data[0] != '/') {
        if (int64_t r = start_dir(dirfd, start); r < 0) return r;
    }
    minifs::PathContext ctx = vfs_context();
    ctx.resolve = resolve;
    ctx.hooks = procfs_path_hooks();
    if (resolve & (minifs::kResolveBeneath | minifs::kResolveInRoot)) ctx.root = start;
    int64_t r = in_minifs(start, path, ctx);
    if (r != -minifs::kECrossMount) return r;
    // A host mount is another file system; beneath it the VMM confines the rest to it.
    if (resolve & minifs::kResolveNoXdev) return -EXDEV;
    VfsHop hop{};
    r = vfs_crossing_hop(hop);
    if (r < 0) return r;
    return r == 1 ? on_host(hop.mount, hop.rel) : -EXDEV;  // ".." back out of the mount
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
    int64_t len;
    if (n == 0) {
        // An empty path is dirfd itself: a symlink opened with O_PATH | O_NOFOLLOW.
        OpenFile* f = nullptr;
        if (int32_t(dirfd) != kAtFdcwd && !(f = fd_lookup_any(uint64_t(dirfd)))) return -EBADF;
        if (f && f->kind == FileKind::HostFile) {
            if ((f->host_mode & 0170000) != 0120000) return -ENOENT;
            len = hostfs_path_op(abi::kFsReadlink, f->mount, f->host_rel, 0, 0, 0, nullptr,
                                 target, cap);
        } else {
            Inode* inode = f ? f->inode : vfs_cwd();
            if (!inode || !inode->is_symlink()) return -ENOENT;
            len = vfs()->readlink(inode, target, cap);
        }
    } else {
        len = vfs_route(
            dirfd, g_path, size_t(n),
            [&](Inode* start, Name path) -> int64_t {
                auto r = minifs::resolve(vfs(), vfs_context(), start, path, 0);
                if (!r.ok()) return r.error();
                if (!(*r)->is_symlink()) return -EINVAL;
                return vfs()->readlink(*r, target, cap);
            },
            [&](uint32_t mount, const char* rel) {
                return hostfs_path_op(abi::kFsReadlink, mount, rel, 0, 0, 0, nullptr, target, cap);
            });
    }
    if (len < 0) return len;
    return copy_to_user(buf, target, size_t(len)) ? len : -EFAULT;
}

int64_t do_access(int64_t dirfd, uint64_t path_addr, uint64_t mode, uint64_t flags) {
    if (mode & ~uint64_t(7)) return -EINVAL;
    if (flags & ~(kAtEaccess | kAtSymlinkNofollow | kAtEmptyPath)) return -EINVAL;
    auto check = [&](Inode* inode) -> int64_t {
        return inode && mode ? minifs::access(inode, vfs_context().cred, int(mode)) : 0;
    };
    return on_target(
        dirfd, path_addr, flags, check, [&](OpenFile& file) { return check(file.inode); },
        [&](uint32_t mount, const char* rel, bool follow) {
            return hostfs_path_op(abi::kFsAccess, mount, rel, mode, follow);
        });
}

int64_t do_mkdir(int64_t dirfd, uint64_t path_addr, uint64_t mode) {
    int64_t n = user_path(path_addr, g_path);
    if (n < 0) return n;
    const uint32_t perm = uint32_t(mode) & 07777 & ~current_process().umask;
    return vfs_route(
        dirfd, g_path, size_t(n),
        [&](Inode* start, Name path) -> int64_t {
            auto r = minifs::mkdir_at(vfs(), vfs_context(), start, path, perm);
            return r.ok() ? 0 : r.error();
        },
        [&](uint32_t mount, const char* rel) {
            return hostfs_path_op(abi::kFsMkdir, mount, rel, perm);
        });
}

int64_t do_unlink(int64_t dirfd, uint64_t path_addr, uint64_t flags) {
    if (flags & ~kAtRemovedir) return -EINVAL;
    int64_t n = user_path(path_addr, g_path);
    if (n < 0) return n;
    return vfs_route(
        dirfd, g_path, size_t(n),
        [&](Inode* start, Name path) -> int64_t {
            return flags & kAtRemovedir ? minifs::rmdir_at(vfs(), vfs_context(), start, path)
                                        : minifs::unlink_at(vfs(), vfs_context(), start, path);
        },
        [&](uint32_t mount, const char* rel) {
            return hostfs_path_op(abi::kFsUnlink, mount, rel, flags & kAtRemovedir);
        });
}

// Where a path of rename or link leads: its parent in minifs, or beneath a host mount.
struct Place {
    Inode* start;  // minifs: the walk's start and the path, unchanged
    Name path;
    int64_t mount;  // host: the mount (-1 for minifs) and the path from its root
    char rel[kPathBuffer];
};
constinit Place g_places[2] = {};

int64_t place_of(int64_t dirfd, const char* path, size_t len, Place& out) {
    return vfs_route(
        dirfd, path, len,
        [&](Inode* start, Name p) -> int64_t {
            auto r = minifs::resolve_parent(vfs(), vfs_context(), start, p);
            if (!r.ok()) return r.error();
            out.start = start;
            out.path = p;
            out.mount = -1;
            return 0;
        },
        [&](uint32_t mount, const char* rel) -> int64_t {
            out.mount = mount;
            const size_t n = strlen(rel);
            memcpy(out.rel, rel, n + 1);
            return 0;
        });
}

// The two paths of rename or link, in g_places; -EXDEV when they lie in different file
// systems (minifs, or two host mounts), as Linux says across mounts.
int64_t two_places(int64_t olddirfd, uint64_t oldpath, int64_t newdirfd, uint64_t newpath) {
    int64_t n1 = user_path(oldpath, g_path);
    if (n1 < 0) return n1;
    int64_t n2 = user_path(newpath, g_path2);
    if (n2 < 0) return n2;
    if (int64_t r = place_of(olddirfd, g_path, size_t(n1), g_places[0]); r < 0) return r;
    if (int64_t r = place_of(newdirfd, g_path2, size_t(n2), g_places[1]); r < 0) return r;
    return g_places[0].mount == g_places[1].mount ? 0 : -EXDEV;
}

int64_t do_rename(int64_t olddirfd, uint64_t oldpath, int64_t newdirfd, uint64_t newpath,
                  uint64_t flags) {
    constexpr uint64_t kNoReplace = 1, kExchange = 2, kWhiteout = 4;
    if (flags & kWhiteout) return -EINVAL;
    if (flags & ~(kNoReplace | kExchange)) return -EINVAL;
    if ((flags & kNoReplace) && (flags & kExchange)) return -EINVAL;
    if (int64_t r = two_places(olddirfd, oldpath, newdirfd, newpath); r < 0) return r;
    const Place &o = g_places[0], &n = g_places[1];
    if (o.mount >= 0)
        return hostfs_path_op(abi::kFsRename, uint32_t(o.mount), o.rel, flags, 0, 0, n.rel);
    return minifs::rename_at(vfs(), vfs_context(), o.start, o.path, n.start, n.path,
                             unsigned(flags));
}

int64_t do_link(int64_t olddirfd, uint64_t oldpath, int64_t newdirfd, uint64_t newpath,
                uint64_t flags) {
    if (flags & ~(kAtSymlinkFollow | kAtEmptyPath)) return -EINVAL;
    if (int64_t r = two_places(olddirfd, oldpath, newdirfd, newpath); r < 0) return r;
    const Place &o = g_places[0], &n = g_places[1];
    const bool follow = flags & kAtSymlinkFollow;
    if (o.mount >= 0)
        return hostfs_path_op(abi::kFsLink, uint32_t(o.mount), o.rel, follow, 0, 0, n.rel);
    return minifs::link_at(vfs(), vfs_context(), o.start, o.path, n.start, n.path, follow);
}

int64_t do_symlink(uint64_t target_addr, int64_t dirfd, uint64_t path_addr) {
    int64_t n1 = user_path(target_addr, g_path2);
    if (n1 < 0) return n1;
    if (n1 == 0) return -ENOENT;
    int64_t n2 = user_path(path_addr, g_path);
    if (n2 < 0) return n2;
    return vfs_route(
        dirfd, g_path, size_t(n2),
        [&](Inode* start, Name path) -> int64_t {
            auto r = minifs::symlink_at(vfs(), vfs_context(), Name(g_path2, size_t(n1)), start,
                                        path);
            return r.ok() ? 0 : r.error();
        },
        [&](uint32_t mount, const char* rel) {
            return hostfs_path_op(abi::kFsSymlink, mount, rel, 0, 0, 0, g_path2);
        });
}

// Owner or root may change modes and times.
int64_t check_owner(const Inode* inode) {
    const Process& p = current_process();
    return p.uid == 0 || p.uid == inode->uid ? 0 : -EPERM;
}

int64_t do_chmod(Inode* inode, uint64_t mode) {
    if (int64_t r = check_owner(inode); r < 0) return r;
    return vfs()->chmod(inode, uint32_t(mode) & 07777);
}

int64_t do_chown(Inode* inode, uint64_t uid, uint64_t gid) {
    if (current_process().uid != 0) {
        // An owner may only change the group to one of its own; never the user.
        if (uint32_t(uid) != 0xffffffff && uint32_t(uid) != inode->uid) return -EPERM;
        if (int64_t r = check_owner(inode); r < 0) return r;
        if (uint32_t(gid) != 0xffffffff && uint32_t(gid) != current_process().gid) return -EPERM;
    }
    return vfs()->chown(inode, uint32_t(uid), uint32_t(gid));
}

// fchmod and fchown on a description: minifs inodes here, host files on the host; pipes
// and host streams are not ours to change.
int64_t chmod_file(OpenFile& f, uint64_t mode) {
    if (f.kind == FileKind::HostFile) return hostfs_fd_op(abi::kFsFchmod, f, mode & 07777);
    return f.inode ? do_chmod(f.inode, mode) : -EPERM;
}

int64_t chown_file(OpenFile& f, uint64_t uid, uint64_t gid) {
    if (f.kind == FileKind::HostFile) return hostfs_fd_op(abi::kFsFchown, f, uid, gid);
    return f.inode ? do_chown(f.inode, uid, gid) : -EPERM;
}

int64_t chmod_path(int64_t dirfd, uint64_t path_addr, uint64_t mode) {
    return on_target(
        dirfd, path_addr, 0, [&](Inode* inode) { return do_chmod(inode, mode); },
        [&](OpenFile& f) { return chmod_file(f, mode); },
        [&](uint32_t mount, const char* rel, bool) {
            return hostfs_path_op(abi::kFsChmod, mount, rel, mode & 07777);
        });
}

int64_t chown_path(int64_t dirfd, uint64_t path_addr, uint64_t at_flags, uint64_t uid,
                   uint64_t gid) {
    return on_target(
        dirfd, path_addr, at_flags, [&](Inode* inode) { return do_chown(inode, uid, gid); },
        [&](OpenFile& f) { return chown_file(f, uid, gid); },
        [&](uint32_t mount, const char* rel, bool follow) {
            return hostfs_path_op(abi::kFsChown, mount, rel, uid, gid, follow);
        });
}

int64_t do_truncate(Inode* inode, int64_t length) {
    if (length < 0) return -EINVAL;
    if (inode->is_dir()) return -EISDIR;
    if (!inode->is_regular()) return -EINVAL;
    return vfs()->truncate(inode, uint64_t(length));
}

}  // namespace

int64_t fs_open_exec(int64_t dirfd, const char* path, size_t len, bool nofollow,
                     OpenFile*& out) {
    if (len) procfs_refresh_for(path);  // execve("/proc/self/exe")
    int64_t r = len == 0 ? reopen(dirfd, 0, out)  // AT_EMPTY_PATH: dirfd itself
                         : open_path(dirfd, Name(path, len), nofollow ? kONofollow : 0, 0, 0, out);
    if (r < 0) return r == -ENXIO ? -EACCES : r;
    // Only a regular file with execute permission runs (a directory, a device: EACCES).
    bool runs = false;
    if (out->kind == FileKind::Inode) {
        runs = out->inode->is_regular() &&
               minifs::access(out->inode, vfs_context().cred, minifs::kMayExec) == 0;
    } else if (out->kind == FileKind::HostFile) {
        runs = (out->host_mode & 0170000) == 0100000 && (out->host_mode & 0111);
    }
    if (runs) return 0;
    file_put(out);
    out = nullptr;
    return -EACCES;
}

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
    auto made = vfs()->create_unnamed(nullptr, 0777, vfs_context().cred);
    if (!made.ok()) return made.error();
    int64_t error = -ENOMEM;
    OpenFile* file = file_open_inode(*made, kORdWr | kOLargefile, &error);
    if (!file) {
        vfs()->unref(*made);  // nobody holds it: it goes
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
    LinuxStat st;
    if (int64_t r = stat_path(int64_t(a.arg[0]), a.arg[1], a.arg[2], st); r < 0) return r;
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
    const uint64_t buf = a.arg[1], size = a.arg[2];
    if (f->kind == FileKind::HostFile) {
        // The host's own linux_dirent64 records, straight into the caller's buffer.
        if (!is_host_dir(*f)) return -ENOTDIR;
        if (!user_writable(buf, size)) return -EFAULT;
        return hostfs_fd_op(abi::kFsGetdents, *f, 0, 0, reinterpret_cast<void*>(buf), size);
    }
    if (f->kind != FileKind::Inode || !f->inode->is_dir()) return -ENOTDIR;
    uint64_t used = 0;
    minifs::DirentInfo e;
    uint8_t record[8 + 8 + 2 + 1 + 256 + 8];
    while (vfs()->dir_next(f->inode, f->offset, &e) == 1) {
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
    vfs()->touch_atime(f->inode);
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
    return vfs_route(
        kAtFdcwd, g_path, size_t(n),
        [&](Inode* start, Name path) -> int64_t {
            auto r = minifs::resolve(vfs(), vfs_context(), start, path,
                                     minifs::kFollowLast | minifs::kMustBeDir);
            if (!r.ok()) return r.error();
            if (int e = minifs::access(*r, vfs_context().cred, minifs::kMayExec); e < 0) return e;
            vfs_set_cwd(*r);
            return 0;
        },
        [&](uint32_t mount, const char* rel) -> int64_t {
            // Opened, to learn the directory's own path from the root (no "..", no links).
            OpenFile* dir;
            if (int64_t e = hostfs_open(mount, rel, kOPath | kODirectory, 0, dir); e < 0) return e;
            int64_t e = hostfs_path_op(abi::kFsAccess, mount, dir->host_rel, 1 /* X_OK */, 1);
            if (e == 0) e = vfs_set_host_cwd(mount, dir->host_rel);
            file_put(dir);
            return e;
        });
}

int64_t sys_fchdir(SyscallArgs& a) {
    OpenFile* f = fd_lookup_any(a.arg[0]);
    if (!f) return -EBADF;
    if (f->kind == FileKind::HostFile) {
        if (!is_host_dir(*f)) return -ENOTDIR;
        if (int64_t e = hostfs_path_op(abi::kFsAccess, f->mount, f->host_rel, 1, 1); e < 0)
            return e;
        return vfs_set_host_cwd(f->mount, f->host_rel);
    }
    if (f->kind != FileKind::Inode || !f->inode->is_dir()) return -ENOTDIR;
    if (int e = minifs::access(f->inode, vfs_context().cred, minifs::kMayExec); e < 0) return e;
    vfs_set_cwd(f->inode);
    return 0;
}

int64_t sys_getcwd(SyscallArgs& a) {
    int64_t n = vfs_cwd_path(g_path, sizeof g_path);
    if (n < 0) return n;
    if (uint64_t(n) > a.arg[1]) return -ERANGE;
    return copy_to_user(a.arg[0], g_path, size_t(n)) ? n : -EFAULT;
}

int64_t sys_chmod(SyscallArgs& a) { return chmod_path(kAtFdcwd, a.arg[0], a.arg[1]); }

int64_t sys_fchmodat(SyscallArgs& a) { return chmod_path(int64_t(a.arg[0]), a.arg[1], a.arg[2]); }

int64_t sys_fchmod(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    return f ? chmod_file(*f, a.arg[1]) : -EBADF;
}

int64_t sys_chown(SyscallArgs& a) { return chown_path(kAtFdcwd, a.arg[0], 0, a.arg[1], a.arg[2]); }

int64_t sys_lchown(SyscallArgs& a) {
    return chown_path(kAtFdcwd, a.arg[0], kAtSymlinkNofollow, a.arg[1], a.arg[2]);
}

int64_t sys_fchownat(SyscallArgs& a) {
    if (a.arg[4] & ~(kAtSymlinkNofollow | kAtEmptyPath)) return -EINVAL;
    return chown_path(int64_t(a.arg[0]), a.arg[1], a.arg[4], a.arg[2], a.arg[3]);
}

int64_t sys_fchown(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    return f ? chown_file(*f, a.arg[1], a.arg[2]) : -EBADF;
}

int64_t sys_truncate(SyscallArgs& a) {
    int64_t n = user_path(a.arg[0], g_path);
    if (n < 0) return n;
    const int64_t length = int64_t(a.arg[1]);
    return vfs_route(
        kAtFdcwd, g_path, size_t(n),
        [&](Inode* start, Name path) -> int64_t {
            auto r = minifs::resolve(vfs(), vfs_context(), start, path, minifs::kFollowLast);
            if (!r.ok()) return r.error();
            if (int e = minifs::access(*r, vfs_context().cred, minifs::kMayWrite); e < 0) return e;
            return do_truncate(*r, length);
        },
        [&](uint32_t mount, const char* rel) -> int64_t {
            if (length < 0) return -EINVAL;
            return hostfs_path_op(abi::kFsTruncate, mount, rel, uint64_t(length));
        });
}

int64_t sys_ftruncate(SyscallArgs& a) {
    OpenFile* f = fd_lookup(a.arg[0]);
    if (!f) return -EBADF;
    if ((f->flags & kOAccMode) == 0) return -EINVAL;
    if (f->kind == FileKind::HostFile) {
        if (int64_t(a.arg[1]) < 0) return -EINVAL;
        return hostfs_fd_op(abi::kFsFtruncate, *f, a.arg[1]);
    }
    if (f->kind != FileKind::Inode) return -EINVAL;
    return do_truncate(f->inode, int64_t(a.arg[1]));
}

// minifs lives in guest memory: there is nothing slower to flush to. Files beneath a host
// mount are flushed on the host, as the program asked.
int64_t sync_file(uint64_t fd, bool data_only) {
    OpenFile* f = fd_lookup(fd);
    if (!f) return -EBADF;
    return f->kind == FileKind::HostFile ? hostfs_fd_op(abi::kFsFsync, *f, data_only) : 0;
}
int64_t sys_fsync(SyscallArgs& a) { return sync_file(a.arg[0], false); }
int64_t sys_fdatasync(SyscallArgs& a) { return sync_file(a.arg[0], true); }

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
    const bool explicit_times = times && !(times[0].nsec == kUtimeNow && times[1].nsec == kUtimeNow);
    auto on_inode = [&](Inode* inode) -> int64_t {
        if (!inode) return -EPERM;  // pipes and host streams: not ours to change
        // Setting times needs the owner; "now" for both is also allowed with write access.
        if (explicit_times) {
            if (int64_t r = check_owner(inode); r < 0) return r;
        } else if (check_owner(inode) < 0 &&
                   minifs::access(inode, vfs_context().cred, minifs::kMayWrite) < 0) {
            return -EACCES;
        }
        return vfs()->utimens(inode, ns[0], ns[1]);
    };
    // The host applies its own rules to the same times (UTIME_NOW and UTIME_OMIT included).
    auto on_file = [&](OpenFile& f) -> int64_t {
        if (f.kind == FileKind::HostFile)
            return hostfs_fd_op(abi::kFsFutimens, f, times != nullptr, 0,
                                const_cast<Timespec*>(times), times ? 2 * sizeof(Timespec) : 0);
        return on_inode(f.inode);
    };
    if (path_addr == 0 && int32_t(dirfd) != kAtFdcwd) {
        if (flags) return -EINVAL;
        OpenFile* f = fd_lookup(uint64_t(dirfd));
        return f ? on_file(*f) : -EBADF;
    }
    if (flags & ~(kAtSymlinkNofollow | kAtEmptyPath)) return -EINVAL;
    return on_target(dirfd, path_addr, flags, on_inode, on_file,
                     [&](uint32_t mount, const char* rel, bool follow) {
                         return hostfs_path_op(abi::kFsUtimens, mount, rel, times != nullptr,
                                               follow, 0, nullptr, const_cast<Timespec*>(times),
                                               times ? 2 * sizeof(Timespec) : 0);
                     });
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
    LinuxStatfs st;
    int64_t r = vfs_route(
        kAtFdcwd, g_path, size_t(n),
        [&](Inode* start, Name path) -> int64_t {
            auto found = minifs::resolve(vfs(), vfs_context(), start, path, minifs::kFollowLast);
            if (!found.ok()) return found.error();
            vfs_statfs(st);
            return 0;
        },
        [&](uint32_t mount, const char* rel) {
            return hostfs_path_op(abi::kFsStatfs, mount, rel, 0, 0, 0, nullptr, &st, sizeof st);
        });
    if (r < 0) return r;
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
    const uint32_t full = (type ? type : minifs::kTypeRegular) |
                          (mode & 07777 & ~current_process().umask);
    return vfs_route(
        int64_t(a.arg[0]), g_path, size_t(n),
        [&](Inode* start, Name path) -> int64_t {
            auto r = minifs::mknod_at(vfs(), vfs_context(), start, path, full, a.arg[3]);
            return r.ok() ? 0 : r.error();
        },
        [&](uint32_t mount, const char* rel) {
            return hostfs_path_op(abi::kFsMknod, mount, rel, full);
        });
}

int64_t sys_mknod(SyscallArgs& a) {
    SyscallArgs at{{uint64_t(kAtFdcwd), a.arg[0], a.arg[1], a.arg[2]}, a.frame};
    return sys_mknodat(at);
}

}  // namespace utx::kernel
