// kernel/fs/hostfs.h: host mounts (-v HOST:GUEST[:ro]): the mountpoints in minifs and the
// requests that carry file operations beneath them to the VMM (abi::kHcFs). The VMM
// confines every path to the mount; the kernel only decides which paths lead there.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "abi/hypercall.h"
#include "kernel/fs/file.h"
#include "minifs/fs.h"

namespace utx::kernel {

inline constexpr uint32_t kMaxMounts = 64;

// Marks the mountpoints (NUL-separated guest paths, in mount index order) in minifs; a
// broken list is the VMM's fault and panics.
void hostfs_init(const char* paths, size_t len, uint32_t count);
uint32_t hostfs_count();
// A minifs inode's mount index, or -1 when no host mount covers it.
int64_t hostfs_mount_of(const minifs::Inode* inode);
minifs::Inode* hostfs_mountpoint(uint32_t mount);
const char* hostfs_guest_path(uint32_t mount);
bool hostfs_read_only(uint32_t mount);

// A path operation (abi::HostFsOp) on `rel` beneath mount `mount`; `rel2` is the second
// path (rename, link) or a symlink's target, `out` an output buffer (stat, readlink).
int64_t hostfs_path_op(abi::HostFsOp op, uint32_t mount, const char* rel, uint64_t a2 = 0,
                       uint64_t a3 = 0, uint64_t a4 = 0, const char* rel2 = nullptr,
                       void* out = nullptr, size_t out_len = 0);
// Opens `rel` with open(2) flags; the new description's path is the guest's path of it.
int64_t hostfs_open(uint32_t mount, const char* rel, uint32_t flags, uint32_t mode,
                    OpenFile*& out);
// An operation on an open host file (kFsFstat, kFsFtruncate, …); `buf` as its b3.
int64_t hostfs_fd_op(abi::HostFsOp op, const OpenFile& f, uint64_t a2 = 0, uint64_t a3 = 0,
                     void* buf = nullptr, size_t len = 0);
// Reads or writes (kFsRead, kFsWrite) at `offset`, or at the file offset when it is -1.
int64_t hostfs_io(abi::HostFsOp op, const OpenFile& f, int64_t offset, const IoBuffer* bufs,
                  size_t count);
void hostfs_close(const OpenFile& f);

}  // namespace utx::kernel
