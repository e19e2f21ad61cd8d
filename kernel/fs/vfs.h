// kernel/fs/vfs.h: the root file system (minifs, filled from the boot image) and the path
// side of the file syscalls: where a relative path starts, who asks, the working directory.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/fs/procfs.h"
#include "minifs/path.h"

namespace utx::kernel {

struct LinuxStatfs;

// Sets up minifs over guest memory, unpacks the cpio image and marks the host mounts
// (NUL-separated guest paths); the working directory must exist. Panics with the reason
// when the image is broken (the VMM's fault).
void vfs_init(const uint8_t* image, size_t len, const char* mounts, size_t mounts_len,
              uint32_t mount_count, const char* cwd);

// minifs lives in the family region, shared by every VM of the process tree: each use
// holds the family lock (kernel/ipc/family.h) until the end of the full expression, as
// vfs()->call(...) or minifs::resolve(vfs(), ...). Sequences that must not interleave with
// other processes' (a path walk and what it leads to) hold it around them: vfs_route does.
class VfsAccess {
public:
    VfsAccess();
    ~VfsAccess();
    VfsAccess(const VfsAccess&) = delete;
    VfsAccess& operator=(const VfsAccess&) = delete;
    minifs::Fs* operator->() const { return fs_; }
    operator minifs::Fs&() const { return *fs_; }

private:
    minifs::Fs* fs_;
};
VfsAccess vfs();
// The caller's context for minifs walks, which hand over at host mounts (vfs_route). With
// cross_mounts false, mountpoints are walked as the directories of the image.
minifs::PathContext vfs_context(bool cross_mounts = true);
// The working directory in minifs, or null when it lies beneath a host mount.
minifs::Inode* vfs_cwd();
void vfs_set_cwd(minifs::Inode* dir);  // takes a reference, drops the old one
// fork holds the working directory for the child (`undo`: the fork failed); exit drops it.
void vfs_for_fork(bool undo);
void vfs_at_exit();
// A working directory beneath host mount `mount`, at `rel` from its root (copied).
int64_t vfs_set_host_cwd(uint32_t mount, const char* rel);

// One step of a path's resolution: in minifs from `start`, or on a host mount at `rel`.
struct VfsHop {
    minifs::Inode* start;
    minifs::Name path;
    uint32_t mount;
    const char* rel;  // valid until the next hop
};
// The first hop of (dirfd, path): 0 for minifs, 1 for a host mount, or -errno (EBADF,
// ENOTDIR for dirfd; an absolute path ignores dirfd, as Linux does).
int64_t vfs_first_hop(int64_t dirfd, const char* path, size_t len, VfsHop& hop);
// The hop after a minifs walk failed with -kECrossMount.
int64_t vfs_crossing_hop(VfsHop& hop);

// Runs a path operation where (dirfd, path) leads: on_minifs(Inode* start, Name path) in
// minifs, whose walks may hand over to a host mount, then on_host(uint32_t mount, const
// char* rel) there. A ".." out of a mount's root continues in the directory it covers.
template <class OnMinifs, class OnHost>
int64_t vfs_route_hops(int64_t dirfd, const char* path, size_t len, OnMinifs& on_minifs,
                       OnHost& on_host) {
    VfsHop hop{};
    int64_t r = vfs_first_hop(dirfd, path, len, hop);
    for (unsigned hops = 0; r >= 0 && hops < 40; ++hops) {
        if (r == 1) return on_host(hop.mount, hop.rel);
        int64_t m = on_minifs(hop.start, hop.path);
        if (m != -minifs::kECrossMount) return m;
        r = vfs_crossing_hop(hop);
    }
    return r < 0 ? r : -40;  // ELOOP: mounts and ".." sending the walk round in circles
}

// Under --trace, remembers a path that was not found, for the exit summary.
void vfs_note_missing(int64_t dirfd, const char* path, size_t len);
// The paths not found, one report each (the VMM adds what the host has).
void vfs_report_missing();

// The family lock around a whole path operation (it is given up while a thread waits).
struct VfsHold {
    VfsHold();
    ~VfsHold();
    VfsHold(const VfsHold&) = delete;
};

template <class OnMinifs, class OnHost>
int64_t vfs_route(int64_t dirfd, const char* path, size_t len, OnMinifs&& on_minifs,
                  OnHost&& on_host) {
    VfsHold hold;
    procfs_point_self(path, len);
    int64_t r = vfs_route_hops(dirfd, path, len, on_minifs, on_host);
    if (r == -2 /* ENOENT */) vfs_note_missing(dirfd, path, len);
    return r;
}

// Copies a user path (PATH_MAX, ENAMETOOLONG, EFAULT); returns its length.
int64_t copy_path_from_user(uint64_t addr, char* buf);
inline constexpr size_t kPathBuffer = 4096;

// statfs(2) of the root file system: tmpfs-like, with blocks and inodes from minifs's
// byte budget.
void vfs_statfs(LinuxStatfs& out);

// The absolute path of a directory (for getcwd), or -ENOENT once it is removed.
int64_t vfs_path_of(minifs::Inode* dir, char* buf, size_t size);
// The absolute path of the working directory, wherever it is.
int64_t vfs_cwd_path(char* buf, size_t size);

}  // namespace utx::kernel
