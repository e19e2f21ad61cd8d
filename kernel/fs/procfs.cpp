#include "kernel/fs/procfs.h"

#include "kernel/fs/hostfs.h"
#include "kernel/sched/sched.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/fs/file.h"
#include "kernel/net/socket.h"
#include "kernel/fs/vfs.h"
#include "kernel/ipc/family.h"
#include "kernel/ipc/pipe.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/mm/address_space.h"
#include "kernel/mm/memory.h"
#include "kernel/process.h"
#include "kernel/time.h"
#include "minifs/fs.h"

namespace utx::kernel {
namespace {

using minifs::Inode;
using minifs::Name;

const char* g_strings;
size_t g_args_len, g_total_len;
char g_text[16384];
const minifs::Cred kRoot{};

Inode* dir_at(Inode* parent, const char* name, uint32_t mode) {
    auto found = vfs()->lookup(parent, Name(name));
    if (found.ok()) return *found;
    auto made = vfs()->mkdir(parent, Name(name), mode, kRoot);
    return made.ok() ? *made : nullptr;
}

void put_file(Inode* dir, const char* name, const char* data, size_t len, uint32_t mode = 0444) {
    if (!dir) return;
    Inode* file;
    auto found = vfs()->lookup(dir, Name(name));
    if (found.ok()) {
        file = *found;
        vfs()->truncate(file, 0);
    } else {
        auto made = vfs()->create(dir, Name(name), mode, kRoot);
        if (!made.ok()) return;
        file = *made;
    }
    vfs()->write(file, 0, data, len);
}

// Leaves an unchanged link alone, so that a directory being listed keeps its entries
// (and their getdents cookies) while it is refreshed.
void put_link(Inode* dir, const char* name, const char* target) {
    if (!dir) return;
    auto found = vfs()->lookup(dir, Name(name));
    if (found.ok()) {
        if ((*found)->is_symlink() && vfs()->symlink_target(*found).equals(Name(target))) return;
        vfs()->unlink(dir, Name(name));
    }
    (void)vfs()->symlink(dir, Name(name), Name(target), kRoot);
}

void write_maps(Inode* dir) {
    StringBuilder b(g_text, sizeof g_text);
    const AddressSpace& as = current_address_space();
    for (size_t i = 0; i < as.vma_count(); ++i) {
        const Vma& v = as.vmas()[i];
        b.append("%012lx-%012lx %c%c%c%c 00000000 00:00 0", (unsigned long)v.start,
                 (unsigned long)v.end, v.prot & kProtRead ? 'r' : '-',
                 v.prot & kProtWrite ? 'w' : '-', v.prot & kProtExec ? 'x' : '-',
                 v.file ? 's' : 'p');
        if (v.flags & kVmaHeap) b.append("                          [heap]");
        if (v.flags & kVmaStack) b.append("                          [stack]");
        if (v.special) b.append("                          %s", v.special->name);
        b.append("\n");
    }
    put_file(dir, "maps", b.data(), b.length());
}

void write_status(Inode* dir) {
    const Process& p = current_process();
    uint64_t rss_kb = (frames_total_count() - frames_free_count()) * 4;
    StringBuilder b(g_text, sizeof g_text);
    b.append("Name:\t%s\nUmask:\t%04o\nState:\tR (running)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\n"
             "PPid:\t%d\nTracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n"
             "FDSize:\t%d\nVmRSS:\t%8lu kB\nThreads:\t%lu\nSigBlk:\t%016lx\n",
             p.comm, p.umask, p.pid, p.pid, p.ppid, p.uid, p.uid, p.uid, p.uid, p.gid, p.gid,
             p.gid, p.gid, kMaxFds, (unsigned long)rss_kb, (unsigned long)thread_count(),
             (unsigned long)current_thread().signal_mask);
    put_file(dir, "status", b.data(), b.length());
}

void write_fds(Inode* proc_pid) {
    Inode* fd_dir = dir_at(proc_pid, "fd", 0555);
    if (!fd_dir) return;
    // Drop the links of closed descriptors; put_link keeps the others as they are.
    const Process& procs = current_process();
    minifs::DirentInfo e;
    char name[16];
    for (uint64_t cookie = 0; vfs()->dir_next(fd_dir, cookie, &e) == 1; cookie = e.cookie) {
        if (e.name.is_dot() || e.name.is_dotdot()) continue;
        uint64_t fd = 0;
        for (size_t i = 0; i < e.name.len; ++i) fd = fd * 10 + uint64_t(e.name.data[i] - '0');
        if (fd < uint64_t(kMaxFds) && procs.fds[fd].file) continue;
        size_t n = e.name.len < sizeof name - 1 ? e.name.len : sizeof name - 1;
        memcpy(name, e.name.data, n);
        name[n] = 0;
        vfs()->unlink(fd_dir, Name(name));
    }
    const Process& p = current_process();
    char target[4096];
    for (int fd = 0; fd < kMaxFds; ++fd) {
        OpenFile* f = p.fds[fd].file;
        if (!f) continue;
        format(name, sizeof name, "%d", fd);
        if (f->kind == FileKind::PipeRead || f->kind == FileKind::PipeWrite) {
            format(target, sizeof target, "pipe:[%lu]", (unsigned long)f->pipe->inode);
        } else if (f->kind == FileKind::EventFd || f->kind == FileKind::TimerFd ||
                   f->kind == FileKind::Epoll || f->kind == FileKind::SignalFd) {
            format(target, sizeof target, "anon_inode:[%s]",
                   f->kind == FileKind::EventFd    ? "eventfd"
                   : f->kind == FileKind::TimerFd  ? "timerfd"
                   : f->kind == FileKind::SignalFd ? "signalfd"
                                                   : "eventpoll");
        } else if (f->kind == FileKind::HostStream) {
            format(target, sizeof target, "/dev/pts/%d", f->host_fd);
        } else if (f->kind == FileKind::Socket) {
            format(target, sizeof target, "socket:[%lu]", (unsigned long)f->socket->inode);
        } else if (f->path) {
            format(target, sizeof target, "%s", f->path);
        } else if (!(f->inode->is_dir() && vfs_path_of(f->inode, target, sizeof target) > 0)) {
            format(target, sizeof target, "/");
        }
        put_link(fd_dir, name, target);
    }
}

void write_cpuinfo(Inode* proc) {
    uint32_t r[4];
    char vendor[13] = {};
    cpuid(0, 0, r);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    char brand[49] = {};
    cpuid(0x80000000, 0, r);
    if (r[0] >= 0x80000004)
        for (uint32_t i = 0; i < 3; ++i) {
            cpuid(0x80000002 + i, 0, r);
            memcpy(brand + 16 * i, r, 16);
        }
    cpuid(1, 0, r);
    StringBuilder b(g_text, sizeof g_text);
    b.append("processor\t: 0\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
             "model name\t: %s\nstepping\t: %u\ncpu MHz\t\t: 0\ncache size\t: 0 KB\n"
             "physical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\n"
             "flags\t\t:%s%s%s%s\n\n",
             vendor, (r[0] >> 8) & 0xf, (r[0] >> 4) & 0xf, brand, r[0] & 0xf,
             r[3] & (1u << 25) ? " sse" : "", r[3] & (1u << 26) ? " sse2" : "",
             r[2] & (1u << 0) ? " pni" : "", r[2] & (1u << 28) ? " avx" : "");
    put_file(proc, "cpuinfo", b.data(), b.length());
}

// Shmem is the family region in use (minifs, pipes, shared descriptions: what the process
// tree shares, as tmpfs and shared memory are on Linux).
void write_meminfo(Inode* proc) {
    const unsigned long total = (unsigned long)(frames_total_count() * 4),
                        free = (unsigned long)(frames_free_count() * 4),
                        shmem = (unsigned long)(family_bytes_in_use() / 1024);
    StringBuilder b(g_text, sizeof g_text);
    b.append("MemTotal:       %8lu kB\nMemFree:        %8lu kB\nMemAvailable:   %8lu kB\n"
             "Buffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\n"
             "SwapFree:              0 kB\nShmem:          %8lu kB\n",
             total, free, free, shmem);
    put_file(proc, "meminfo", b.data(), b.length());
}

// /proc/self/mounts: minifs, /proc, and each host mount (its guest path).
void write_mounts(Inode* pid) {
    static char text[kMaxMounts * 300 + 128];
    size_t n = 0;
    auto add = [&](const char* s) {
        const size_t len = strlen(s);
        if (n + len < sizeof text) memcpy(text + n, s, len), n += len;
    };
    add("minifs / minifs rw,relatime 0 0\nproc /proc proc rw,relatime 0 0\n");
    for (uint32_t i = 0; i < hostfs_count(); ++i) {
        add("hostfs ");
        add(hostfs_guest_path(i));
        add(hostfs_read_only(i) ? " hostfs ro,relatime 0 0\n" : " hostfs rw,relatime 0 0\n");
    }
    put_file(pid, "mounts", text, n);
}

Inode* proc_dir() {
    auto proc = vfs()->lookup(vfs()->root(), Name("proc"));
    return proc.ok() ? *proc : nullptr;
}

bool is_proc_mount(const Inode* dir) { return dir == proc_dir(); }

// The caller's directory name under /proc: its pid.
Name own_pid_name(char (&buf)[16]) {
    return Name(buf, format(buf, sizeof buf, "%d", current_process().pid));
}

bool is_magic_link(const Inode* dir, Name name) {
    Inode* proc = proc_dir();
    if (!proc) return false;
    char buf[16];
    auto pid = vfs()->lookup(proc, own_pid_name(buf));
    if (!pid.ok()) return false;
    if (dir == *pid) return name.equals(Name("exe")) || name.equals(Name("cwd")) ||
                            name.equals(Name("root"));
    auto fd = vfs()->lookup(*pid, Name("fd"));
    return fd.ok() && dir == *fd;
}

constexpr minifs::PathHooks kPathHooks{is_magic_link, is_proc_mount};

}  // namespace

const minifs::PathHooks* procfs_path_hooks() { return &kPathHooks; }

void procfs_init(const char* strings, size_t args_len, size_t total_len) {
    g_strings = strings;
    g_args_len = args_len;
    g_total_len = total_len;
}

void procfs_refresh_for(const char* path) {
    bool maybe = false;
    for (const char* c = path; *c && !maybe; ++c)
        maybe = (c[0] == 'p' && c[1] == 'r' && c[2] == 'o' && c[3] == 'c') ||
                (c[0] == '/' && c[1] == 'd' && c[2] == 'e' && c[3] == 'v');
    Inode* proc = dir_at(vfs()->root(), "proc", 0555);
    if (!proc) return;
    // Relative paths from inside /proc start from a directory we rewrite too.
    if (!maybe && path[0] != '/')
        for (Inode* d = vfs_cwd(); d && d != vfs()->root() && !maybe; d = d->dir.parent)
            maybe = d == proc;
    if (!maybe) return;
    // The file system is the whole process tree's: each process writes its own directory.
    char own[16];
    own_pid_name(own);
    Inode* pid = dir_at(proc, own, 0555);
    if (!pid) return;
    put_link(proc, "self", own);
    put_link(pid, "exe", current_process().exec_path);
    char cwd[4096];
    if (vfs_cwd_path(cwd, sizeof cwd) > 0) put_link(pid, "cwd", cwd);
    put_link(pid, "root", "/");
    put_file(pid, "cmdline", g_strings, g_args_len);
    put_file(pid, "environ", g_strings + g_args_len, g_total_len - g_args_len, 0400);
    put_file(pid, "comm", current_process().comm, strlen(current_process().comm));
    write_maps(pid);
    write_status(pid);
    write_fds(pid);
    write_mounts(pid);
    put_link(proc, "mounts", "self/mounts");
    static bool cpuinfo_written;
    if (!cpuinfo_written) write_cpuinfo(proc);  // cpuid exits the VM: once is enough
    cpuinfo_written = true;
    write_meminfo(proc);
    const uint64_t up = boot_ns();
    char line[64];
    size_t n = format(line, sizeof line, "%lu.%02lu 0.00\n", (unsigned long)(up / 1000000000),
                      (unsigned long)(up / 10000000 % 100));
    put_file(proc, "uptime", line, n);
    const char* version = "Linux version 6.1.0-utx (utx) #1 SMP utx\n";
    put_file(proc, "version", version, strlen(version));
}

void procfs_point_self(const char* path, size_t len) {
    bool maybe = false;
    for (size_t i = 0; i + 4 <= len && !maybe; ++i) maybe = memcmp(path + i, "proc", 4) == 0;
    if (!maybe && (len == 0 || path[0] != '/')) maybe = true;  // relative: may start inside
    if (!maybe) return;
    Inode* proc = proc_dir();
    if (!proc) return;
    char own[16];
    own_pid_name(own);
    put_link(proc, "self", own);
}

int64_t procfs_fd_link(const char* path) {
    static const char* const kStd[] = {"/dev/stdin", "/dev/stdout", "/dev/stderr"};
    for (int i = 0; i < 3; ++i)
        if (strcmp(path, kStd[i]) == 0) return i;
    char own[32];
    format(own, sizeof own, "/proc/%d/fd/", current_process().pid);
    const char* const prefixes[] = {"/dev/fd/", "/proc/self/fd/", own};
    for (const char* prefix : prefixes) {
        size_t len = strlen(prefix);
        if (memcmp(path, prefix, len) != 0 || !path[len]) continue;
        int64_t fd = 0;
        for (const char* c = path + len; *c; ++c) {
            if (*c < '0' || *c > '9' || fd >= kMaxFds) return -1;
            fd = fd * 10 + (*c - '0');
        }
        return fd;
    }
    return -1;
}

}  // namespace utx::kernel
