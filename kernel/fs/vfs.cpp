#include "kernel/fs/vfs.h"

#include "kernel/fs/file.h"
#include "kernel/lib/errno.h"
#include "kernel/lib/log.h"
#include "kernel/lib/string.h"
#include "kernel/mm/address_space.h"
#include "kernel/mm/memory.h"
#include "kernel/mm/user_access.h"
#include "kernel/platform/hypercall.h"
#include "kernel/process.h"
#include "kernel/time.h"
#include "minifs/cpio.h"

namespace utx::kernel {
namespace {

minifs::Fs g_fs;
minifs::Inode* g_cwd;

void* fs_page() {
    uint64_t pa = frame_alloc();
    return pa ? phys_to_virt(pa) : nullptr;
}
void fs_unpage(void* p) { frame_free(virt_to_phys(reinterpret_cast<uint64_t>(p))); }

}  // namespace

minifs::Fs& vfs() { return g_fs; }

void vfs_init(const uint8_t* image, size_t len, const char* cwd) {
    minifs::Config config;
    config.allocator = {kmalloc, kfree, fs_page, fs_unpage};
    config.now_ns = realtime_ns;
    // Shared file mappings map file pages: out of the page tables before the file frees them.
    config.releasing_pages = [](minifs::Inode* inode, uint64_t first, uint64_t end) {
        current_address_space().unmap_file_pages(inode, first, end);
    };
    // Like tmpfs: the file system may take half of the guest's memory.
    config.budget_bytes = frames_total_count() * kPageSize / 2;
    if (int r = g_fs.init(config); r < 0) panic("minifs: cannot initialise (%d)", r);
    minifs::UnpackError error{};
    if (int r = minifs::unpack(g_fs, g_fs.root(), image, len, &error); r < 0)
        panic("root image: %s at offset %lu (%s)", error.reason, (unsigned long)error.offset,
              errno_name(-r));
    auto dir = minifs::resolve(g_fs, vfs_context(), g_fs.root(), minifs::Name(cwd),
                               minifs::kFollowLast | minifs::kMustBeDir);
    if (!dir.ok()) {
        // The user's mistake, not a kernel failure: say it like utx-run's own errors.
        klog("utx-run: working directory %s: %s in the guest's file system\n", cwd,
             errno_name(-dir.error()));
        host_exit(125, 0, 0, 0);
    }
    vfs_set_cwd(*dir);
}

minifs::PathContext vfs_context() {
    const Process& p = current_process();
    minifs::PathContext ctx;
    ctx.root = g_fs.root();
    ctx.cred.uid = p.uid;
    ctx.cred.gid = p.gid;
    return ctx;
}

minifs::Inode* vfs_cwd() { return g_cwd; }

void vfs_set_cwd(minifs::Inode* dir) {
    g_fs.ref(dir);
    if (g_cwd) g_fs.unref(g_cwd);
    g_cwd = dir;
}

int64_t vfs_start(int64_t dirfd, minifs::Inode*& start) {
    constexpr int64_t kAtFdcwd = -100;
    if (int32_t(dirfd) == kAtFdcwd) {
        start = g_cwd;
        return 0;
    }
    if (dirfd < 0 || dirfd >= kMaxFds) return -EBADF;
    OpenFile* f = current_process().fds[dirfd].file;
    if (!f) return -EBADF;
    if (f->kind != FileKind::Inode || !f->inode->is_dir()) return -ENOTDIR;
    start = f->inode;
    return 0;
}

int64_t copy_path_from_user(uint64_t addr, char* buf) {
    int64_t n = copy_string_from_user(buf, kPathBuffer, addr);
    return n;
}

void vfs_statfs(LinuxStatfs& out) {
    constexpr int64_t kTmpfsMagic = 0x01021994, kStValid = 0x20, kStRelatime = 0x1000;
    const minifs::FsStats s = g_fs.stats();
    const uint64_t free = s.used_bytes < s.budget_bytes ? s.budget_bytes - s.used_bytes : 0;
    memset(&out, 0, sizeof out);
    out.type = kTmpfsMagic;
    out.bsize = out.frsize = int64_t(kPageSize);
    out.blocks = int64_t(s.budget_bytes / kPageSize);
    out.bfree = out.bavail = int64_t(free / kPageSize);
    // Inodes cost metadata from the same budget: as many more as the free space holds.
    out.ffree = int64_t(free / sizeof(minifs::Inode));
    out.files = int64_t(s.inodes) + out.ffree;
    out.namelen = int64_t(minifs::kNameMax);
    out.flags = kStValid | kStRelatime;  // rw,relatime, as /proc/mounts says
}

int64_t vfs_path_of(minifs::Inode* dir, char* buf, size_t size) {
    // Walk up through the parents, writing names from the end of the buffer.
    if (!dir->is_dir() || (dir != g_fs.root() && !dir->dir.parent)) return -ENOENT;
    char tmp[kPathBuffer];
    size_t pos = sizeof tmp;
    tmp[--pos] = 0;
    for (minifs::Inode* node = dir; node != g_fs.root();) {
        minifs::Inode* parent = node->dir.parent;
        if (!parent) return -ENOENT;
        minifs::DirentInfo e;
        bool found = false;
        for (uint64_t cookie = 0; g_fs.dir_next(parent, cookie, &e) == 1; cookie = e.cookie) {
            if (e.ino == node->ino && !e.name.is_dot() && !e.name.is_dotdot()) {
                found = true;
                break;
            }
        }
        if (!found || e.name.len + 1 > pos) return found ? -ENAMETOOLONG : -ENOENT;
        pos -= e.name.len;
        memcpy(tmp + pos, e.name.data, e.name.len);
        tmp[--pos] = '/';
        node = parent;
    }
    if (pos == sizeof tmp - 1) tmp[--pos] = '/';
    size_t len = sizeof tmp - pos;  // with the NUL
    if (len > size) return -ERANGE;
    memcpy(buf, tmp + pos, len);
    return int64_t(len);
}

}  // namespace utx::kernel
