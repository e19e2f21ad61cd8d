#include "kernel/fs/hostfs.h"

#include "kernel/fs/vfs.h"
#include "kernel/lib/errno.h"
#include "kernel/lib/log.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"
#include "kernel/platform/hypercall.h"

namespace utx::kernel {
namespace {

struct Mount {
    minifs::Inode* mountpoint;
    const char* guest_path;  // in the boot blob, which stays mapped
    bool read_only;          // what /proc/self/mounts says; the VMM enforces it
};
Mount g_mounts[kMaxMounts];
uint32_t g_count;

IoBuffer buffer(const void* p, size_t len) {
    return {reinterpret_cast<uint64_t>(p), p ? len : 0};
}

// A kmalloc'ed "a/b" (or "a" when b is empty).
char* join(const char* a, const char* b, size_t b_len) {
    const size_t a_len = strlen(a);
    const bool slash = a_len > 0 && b_len > 0 && a[a_len - 1] != '/';
    char* out = static_cast<char*>(kmalloc(a_len + slash + b_len + 1));
    if (!out) return nullptr;
    memcpy(out, a, a_len);
    if (slash) out[a_len] = '/';
    memcpy(out + a_len + slash, b, b_len);
    out[a_len + slash + b_len] = 0;
    return out;
}

}  // namespace

void hostfs_init(const char* paths, size_t len, uint32_t count) {
    if (count > kMaxMounts) panic("%u host mounts (at most %u)", count, kMaxMounts);
    size_t pos = 0;
    for (uint32_t i = 0; i < count; ++i) {
        size_t n = 0;
        while (pos + n < len && paths[pos + n]) ++n;
        if (pos + n >= len) panic("host mount list is truncated");
        if (n < 2 || (paths[pos] != 'r' && paths[pos] != 'w')) panic("bad host mount entry");
        const bool read_only = paths[pos] == 'r';
        const char* path = paths + pos + 1;
        --n;
        pos += n + 2;
        auto r = minifs::resolve(vfs(), vfs_context(false), vfs()->root(), minifs::Name(path, n),
                                 minifs::kFollowLast);
        if (!r.ok()) panic("host mount %s: %s", path, errno_name(-r.error()));
        minifs::Inode* inode = *r;
        if (inode->mount) panic("host mount %s: mounted twice", path);
        vfs()->ref(inode);
        inode->mount = i + 1;
        g_mounts[i] = {inode, path, read_only};
    }
    g_count = count;
}

uint32_t hostfs_count() { return g_count; }

int64_t hostfs_mount_of(const minifs::Inode* inode) {
    return inode->mount ? int64_t(inode->mount - 1) : -1;
}

minifs::Inode* hostfs_mountpoint(uint32_t mount) { return g_mounts[mount].mountpoint; }
const char* hostfs_guest_path(uint32_t mount) { return g_mounts[mount].guest_path; }
bool hostfs_read_only(uint32_t mount) { return g_mounts[mount].read_only; }

int64_t hostfs_path_op(abi::HostFsOp op, uint32_t mount, const char* rel, uint64_t a2,
                       uint64_t a3, uint64_t a4, const char* rel2, void* out, size_t out_len) {
    const IoBuffer bufs[3] = {buffer(rel, strlen(rel) + 1),
                              buffer(rel2, rel2 ? strlen(rel2) + 1 : 0), buffer(out, out_len)};
    return host_request_buffers(abi::kHcFs, {op, mount, a2, a3, a4}, bufs);
}

int64_t hostfs_open(uint32_t mount, const char* rel, uint32_t flags, uint32_t mode,
                    OpenFile*& out) {
    static char where[kPathBuffer];
    LinuxStat st;
    uint64_t where_len = 0;
    const IoBuffer bufs[3] = {buffer(rel, strlen(rel) + 1), buffer(where, sizeof where - 1),
                              buffer(&st, sizeof st)};
    int64_t handle =
        host_request_buffers(abi::kHcFs, {abi::kFsOpen, mount, flags, mode, 0}, bufs, &where_len);
    if (handle < 0) return handle;
    constexpr uint32_t kOpenOnly = 0100 | 0200 | 0400 | 01000;  // O_CREAT O_EXCL O_NOCTTY O_TRUNC
    OpenFile* f = file_open_host_mount(mount, int(handle), st.mode, flags & ~(kOpenOnly | kOCloexec));
    if (f) {
        where[where_len < sizeof where ? where_len : sizeof where - 1] = 0;
        f->host_rel = join(where, "", 0);
        f->path = join(g_mounts[mount].guest_path, where, strlen(where));
    }
    if (!f || !f->host_rel || !f->path) {
        if (f) file_put(f);
        else host_request_buffers(abi::kHcFs, {abi::kFsClose, uint64_t(handle), 0, 0, 0}, {});
        return -ENOMEM;
    }
    out = f;
    return 0;
}

int64_t hostfs_fd_op(abi::HostFsOp op, const OpenFile& f, uint64_t a2, uint64_t a3, void* buf,
                     size_t len) {
    const IoBuffer bufs[3] = {{}, {}, buffer(buf, len)};
    return host_request_buffers(abi::kHcFs, {op, uint64_t(f.host_fd), a2, a3, 0}, bufs);
}

int64_t hostfs_io(abi::HostFsOp op, const OpenFile& f, int64_t offset, const IoBuffer* bufs,
                  size_t count) {
    return host_io_args(abi::kHcFs, {op, uint64_t(f.host_fd), uint64_t(offset)}, bufs, count);
}

void hostfs_close(const OpenFile& f) { hostfs_fd_op(abi::kFsClose, f); }

}  // namespace utx::kernel
