#include "kernel/fs/vfs.h"

#include "kernel/fs/file.h"
#include "kernel/fs/hostfs.h"
#include "kernel/ipc/family.h"
#include "kernel/lib/new.h"
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

minifs::Fs* g_fs;  // in the family region
minifs::Inode* g_cwd;       // null while the cwd is beneath a host mount:
uint32_t g_host_cwd_mount;  // which one,
char* g_host_cwd_rel;       // and where from its root
minifs::MountCrossing g_crossing;
char g_hop_rel[kPathBuffer];     // a host hop's path
char g_hop_escape[kPathBuffer];  // the rest of a path that left a mount through ".."

}  // namespace

VfsAccess::VfsAccess() : fs_(g_fs) { family_lock(); }
VfsAccess::~VfsAccess() { family_unlock(); }
VfsAccess vfs() { return VfsAccess(); }
VfsHold::VfsHold() { family_lock(); }
VfsHold::~VfsHold() { family_unlock(); }

void vfs_init(const uint8_t* image, size_t len, const char* mounts, size_t mounts_len,
              uint32_t mount_count, const char* cwd) {
    // In the family region: the processes forked from this one share it.
    void* place = family_alloc(sizeof(minifs::Fs));
    if (!place) panic("minifs: the family region is too small");
    g_fs = new (place) minifs::Fs();
    minifs::Config config;
    config.allocator = {family_alloc, family_free, family_alloc_page, family_free_page};
    config.now_ns = realtime_ns;
    // Shared file mappings map file pages: out of the page tables before the file frees them.
    config.releasing_pages = [](minifs::Inode* inode, uint64_t first, uint64_t end) {
        current_address_space().unmap_file_pages(inode, first, end);
    };
    // Like tmpfs, half of the guest's memory: the family region is that size (loader/
    // boot_image.h), and an eighth of it stays for pipes.
    config.budget_bytes = family_size() / 8 * 7;
    if (int r = vfs()->init(config); r < 0) panic("minifs: cannot initialise (%d)", r);
    minifs::UnpackError error{};
    if (int r = minifs::unpack(vfs(), vfs()->root(), image, len, &error); r < 0)
        panic("root image: %s at offset %lu (%s)", error.reason, (unsigned long)error.offset,
              errno_name(-r));
    g_cwd = vfs()->root();
    vfs()->ref(g_cwd);
    hostfs_init(mounts, mounts_len, mount_count);
    constexpr int64_t kAtFdcwd = -100;
    const size_t cwd_len = strlen(cwd);
    int64_t r = vfs_route(
        kAtFdcwd, cwd, cwd_len,
        [](minifs::Inode* start, minifs::Name path) -> int64_t {
            auto dir = minifs::resolve(vfs(), vfs_context(), start, path,
                                       minifs::kFollowLast | minifs::kMustBeDir);
            if (dir.ok()) vfs_set_cwd(*dir);
            return dir.ok() ? 0 : dir.error();
        },
        [](uint32_t mount, const char* rel) -> int64_t {
            LinuxStat st;
            int64_t e = hostfs_path_op(abi::kFsStat, mount, rel, 1, 0, 0, nullptr, &st, sizeof st);
            if (e == 0 && (st.mode & 0170000) != 0040000) e = -ENOTDIR;
            return e < 0 ? e : vfs_set_host_cwd(mount, rel);
        });
    if (r < 0) {
        // The user's mistake, not a kernel failure: say it like utx-run's own errors.
        klog("utx-run: working directory %s: %s in the guest's file system\n", cwd,
             errno_name(int(-r)));
        host_exit(125, 0, 0, 0);
    }
}

minifs::PathContext vfs_context(bool cross_mounts) {
    const Process& p = current_process();
    minifs::PathContext ctx;
    ctx.root = vfs()->root();
    ctx.cred.uid = p.uid;
    ctx.cred.gid = p.gid;
    ctx.crossing = cross_mounts ? &g_crossing : nullptr;
    return ctx;
}

minifs::Inode* vfs_cwd() { return g_cwd; }

void vfs_set_cwd(minifs::Inode* dir) {
    vfs()->ref(dir);
    if (g_cwd) vfs()->unref(g_cwd);
    g_cwd = dir;
    kfree(g_host_cwd_rel);
    g_host_cwd_rel = nullptr;
}

void vfs_for_fork(bool undo) {
    if (!g_cwd) return;
    if (!undo) vfs()->ref(g_cwd);
    else vfs()->unref(g_cwd);
}

void vfs_at_exit() {
    if (g_cwd) vfs()->unref(g_cwd);
    g_cwd = nullptr;
}

int64_t vfs_set_host_cwd(uint32_t mount, const char* rel) {
    const size_t len = strlen(rel);
    char* copy = static_cast<char*>(kmalloc(len + 1));
    if (!copy) return -ENOMEM;
    memcpy(copy, rel, len + 1);
    if (g_cwd) vfs()->unref(g_cwd);
    g_cwd = nullptr;
    kfree(g_host_cwd_rel);
    g_host_cwd_rel = copy;
    g_host_cwd_mount = mount;
    return 0;
}

namespace {

// A host hop: `base` (a directory's path from the mount's root, without "." or "..") then
// `path`. A ".." that climbs above the root leaves the mount: the rest of the path goes
// on from the directory the mount covers. That is judged from the names alone, so a
// symlink followed by ".." inside the mount may be misjudged, but only ever towards the
// guest's own file system: the VMM confines whatever reaches it to the mount.
int64_t host_hop(uint32_t mount, const char* base, minifs::Name path, VfsHop& hop) {
    int64_t depth = 0;
    for (const char* p = base; *p;) {
        while (*p == '/') ++p;
        if (!*p) break;
        ++depth;
        while (*p && *p != '/') ++p;
    }
    minifs::Inode* mountpoint = hostfs_mountpoint(mount);
    for (size_t i = 0; i < path.len && mountpoint->is_dir();) {
        while (i < path.len && path.data[i] == '/') ++i;
        size_t end = i;
        while (end < path.len && path.data[end] != '/') ++end;
        const minifs::Name component(path.data + i, end - i);
        if (component.is_dotdot() && --depth < 0) {
            // Out of the mount: the rest, from the directory that holds the mountpoint.
            const size_t rest = path.len - end;
            memcpy(g_hop_escape, path.data + end, rest);
            if (rest == 0) g_hop_escape[0] = '.';
            hop.start = mountpoint->dir.parent ? mountpoint->dir.parent : vfs()->root();
            hop.path = minifs::Name(g_hop_escape, rest ? rest : 1);
            return 0;
        }
        if (component.len > 0 && !component.is_dot() && !component.is_dotdot()) ++depth;
        i = end;
    }
    const size_t base_len = strlen(base);
    const bool slash = base_len > 0 && path.len > 0;
    if (base_len + slash + path.len >= sizeof g_hop_rel) return -ENAMETOOLONG;
    memcpy(g_hop_rel, base, base_len);
    if (slash) g_hop_rel[base_len] = '/';
    memcpy(g_hop_rel + base_len + slash, path.data, path.len);
    g_hop_rel[base_len + slash + path.len] = 0;
    hop.mount = mount;
    hop.rel = g_hop_rel;
    return 1;
}

}  // namespace

int64_t vfs_first_hop(int64_t dirfd, const char* path, size_t len, VfsHop& hop) {
    constexpr int64_t kAtFdcwd = -100;
    hop.path = minifs::Name(path, len);
    if (len == 0) return -ENOENT;
    if (path[0] == '/') {
        hop.start = vfs()->root();
        return 0;
    }
    if (int32_t(dirfd) == kAtFdcwd) {
        hop.start = g_cwd;
        return g_cwd ? 0 : host_hop(g_host_cwd_mount, g_host_cwd_rel, hop.path, hop);
    }
    if (dirfd < 0 || dirfd >= kMaxFds) return -EBADF;
    OpenFile* f = current_process().fds[dirfd].file;
    if (!f) return -EBADF;
    if (is_host_dir(*f)) return host_hop(f->mount, f->host_rel, hop.path, hop);
    if (f->kind != FileKind::Inode || !f->inode->is_dir()) return -ENOTDIR;
    hop.start = f->inode;
    return 0;
}

int64_t vfs_crossing_hop(VfsHop& hop) {
    const int64_t mount = hostfs_mount_of(g_crossing.mountpoint);
    if (mount < 0) return -EIO;
    return host_hop(uint32_t(mount), "", minifs::Name(g_crossing.rest, g_crossing.rest_len), hop);
}

namespace {

char g_missing[8192];  // NUL-separated absolute paths, each once
size_t g_missing_len;

// Appends `path` to `out` (absolute, `len` bytes so far) as Linux would walk it by name:
// "." dropped, ".." taking one name off, repeated slashes folded.
size_t append_normalized(char* out, size_t len, size_t cap, const char* path, size_t n) {
    for (size_t i = 0; i < n;) {
        while (i < n && path[i] == '/') ++i;
        size_t end = i;
        while (end < n && path[end] != '/') ++end;
        const minifs::Name c(path + i, end - i);
        if (c.is_dotdot()) {
            while (len > 1 && out[len - 1] != '/') --len;
            if (len > 1) --len;
        } else if (c.len > 0 && !c.is_dot()) {
            if (len + 1 + c.len >= cap) return 0;
            if (len > 1) out[len++] = '/';
            memcpy(out + len, c.data, c.len);
            len += c.len;
        }
        i = end;
    }
    return len;
}

}  // namespace

void vfs_note_missing(int64_t dirfd, const char* path, size_t len) {
    if (!current_process().trace) return;
    char abs[kPathBuffer] = "/";
    size_t n = 1;
    if (path[0] != '/') {
        constexpr int64_t kAtFdcwd = -100;
        char base[kPathBuffer];
        const char* from = base;
        if (int32_t(dirfd) == kAtFdcwd) {
            if (vfs_cwd_path(base, sizeof base) <= 0) return;
        } else {
            OpenFile* f = dirfd >= 0 && dirfd < kMaxFds ? current_process().fds[dirfd].file : nullptr;
            if (!f || !f->path) return;
            from = f->path;
        }
        n = append_normalized(abs, 1, sizeof abs, from, strlen(from));
    }
    n = n ? append_normalized(abs, n, sizeof abs, path, len) : 0;
    if (n == 0) return;
    abs[n] = 0;
    for (size_t at = 0; at < g_missing_len; at += strlen(g_missing + at) + 1)
        if (strcmp(g_missing + at, abs) == 0) return;
    if (g_missing_len + n + 1 > sizeof g_missing) return;  // enough to go on with
    memcpy(g_missing + g_missing_len, abs, n + 1);
    g_missing_len += n + 1;
}

void vfs_report_missing() {
    if (g_missing_len) klog("utx-run: paths the program looked up and did not find:\n");
    for (size_t at = 0; at < g_missing_len; at += strlen(g_missing + at) + 1)
        host_request(abi::kHcTraceMissing, 0, 0, 0, g_missing + at, strlen(g_missing + at));
}

int64_t vfs_cwd_path(char* buf, size_t size) {
    if (g_cwd) return vfs_path_of(g_cwd, buf, size);
    const char* guest = hostfs_guest_path(g_host_cwd_mount);
    const size_t a = strlen(guest), b = strlen(g_host_cwd_rel);
    const size_t len = a + (b ? 1 + b : 0) + 1;
    if (len > size) return -ERANGE;
    memcpy(buf, guest, a);
    if (b) {
        buf[a] = '/';
        memcpy(buf + a + 1, g_host_cwd_rel, b);
    }
    buf[len - 1] = 0;
    return int64_t(len);
}

int64_t copy_path_from_user(uint64_t addr, char* buf) {
    int64_t n = copy_string_from_user(buf, kPathBuffer, addr);
    return n;
}

void vfs_statfs(LinuxStatfs& out) {
    constexpr int64_t kTmpfsMagic = 0x01021994, kStValid = 0x20, kStRelatime = 0x1000;
    const minifs::FsStats s = vfs()->stats();
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
    if (!dir->is_dir() || (dir != vfs()->root() && !dir->dir.parent)) return -ENOENT;
    char tmp[kPathBuffer];
    size_t pos = sizeof tmp;
    tmp[--pos] = 0;
    for (minifs::Inode* node = dir; node != vfs()->root();) {
        minifs::Inode* parent = node->dir.parent;
        if (!parent) return -ENOENT;
        minifs::DirentInfo e;
        bool found = false;
        for (uint64_t cookie = 0; vfs()->dir_next(parent, cookie, &e) == 1; cookie = e.cookie) {
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
