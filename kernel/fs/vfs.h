// kernel/fs/vfs.h: the root file system (minifs, filled from the boot image) and the path
// side of the file syscalls: where a relative path starts, who asks, the working directory.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "minifs/path.h"

namespace utx::kernel {

struct LinuxStatfs;

// Sets up minifs over guest memory and unpacks the cpio image; the working directory must
// exist. Returns 0 or panics with the reason (a broken image is the VMM's fault).
void vfs_init(const uint8_t* image, size_t len, const char* cwd);

minifs::Fs& vfs();
minifs::PathContext vfs_context();
minifs::Inode* vfs_cwd();
void vfs_set_cwd(minifs::Inode* dir);  // takes a reference, drops the old one

// The directory a *at() path starts from: the cwd for AT_FDCWD, else the directory open as
// dirfd (-EBADF, -ENOTDIR). Absolute paths ignore it, as Linux does.
int64_t vfs_start(int64_t dirfd, minifs::Inode*& start);

// Copies a user path (PATH_MAX, ENAMETOOLONG, EFAULT); returns its length.
int64_t copy_path_from_user(uint64_t addr, char* buf);
inline constexpr size_t kPathBuffer = 4096;

// statfs(2) of the root file system: tmpfs-like, with blocks and inodes from minifs's
// byte budget.
void vfs_statfs(LinuxStatfs& out);

// The absolute path of a directory (for getcwd), or -ENOENT once it is removed.
int64_t vfs_path_of(minifs::Inode* dir, char* buf, size_t size);

}  // namespace utx::kernel
