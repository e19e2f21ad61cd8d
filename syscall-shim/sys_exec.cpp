// syscall-shim/sys_exec.cpp: execve and execveat. The new program replaces the old one in
// the same process, so in the same VM: the pid, the descriptors without close-on-exec, the
// working directory, the signal mask and pending signals stay; the address space, the
// other threads, the handlers and the POSIX timers go, as on Linux.
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/exec/elf_loader.h"
#include "kernel/fs/file.h"
#include "kernel/fs/procfs.h"
#include "kernel/lib/string.h"
#include "kernel/mm/address_space.h"
#include "kernel/mm/memory.h"
#include "kernel/mm/user_access.h"
#include "kernel/process.h"
#include "kernel/random.h"
#include "kernel/sched/sched.h"
#include "kernel/signal.h"
#include "syscall-shim/fd_table.h"
#include "syscall-shim/handlers.h"

namespace utx::kernel {

int64_t fs_open_exec(int64_t dirfd, const char* path, size_t len, bool nofollow,
                     OpenFile*& out);

namespace {

constexpr int32_t kAtFdcwd = -100;
constexpr uint64_t kAtSymlinkNofollow = 0x100, kAtEmptyPath = 0x1000;
constexpr size_t kMaxArgStrlen = 32 * kPageSize;  // MAX_ARG_STRLEN: one string
constexpr size_t kArgMax = 2 << 20;               // RLIMIT_STACK / 4: strings and pointers
constexpr int kMaxInterpreters = 4;               // BINPRM_MAX_RECURSION
constexpr size_t kPathMax = 4096;
constexpr int kSigSegv = 11;

// The argument and environment strings, NUL-separated, argv's first (ExecArgs.strings).
struct Strings {
    char* buf = nullptr;
    size_t len = 0, cap = 0;
    uint32_t argc = 0, envc = 0;

    ~Strings() { kfree(buf); }
    bool reserve(size_t need) {
        if (len + need <= cap) return true;
        size_t next = cap ? cap : 4096;
        while (next < len + need) next *= 2;
        auto* grown = static_cast<char*>(kmalloc(next));
        if (!grown) return false;
        memcpy(grown, buf, len);
        kfree(buf);
        buf = grown;
        cap = next;
        return true;
    }
    bool append(const char* s, size_t n) {
        if (!reserve(n + 1)) return false;
        memcpy(buf + len, s, n);
        buf[len + n] = 0;
        len += n + 1;
        return true;
    }
    char* release() {
        char* b = buf;
        buf = nullptr;
        return b;
    }
};

// Appends the strings of a user array of string pointers (argv or envp; null: none).
int64_t copy_strings(uint64_t array, Strings& out, uint32_t& count) {
    count = 0;
    if (!array) return 0;
    for (;; ++count) {
        uint64_t p;
        if (!UserPtr<uint64_t>(array + 8ULL * count).read(p)) return -EFAULT;
        if (!p) return 0;
        if (count >= 0x7fffffff) return -E2BIG;
        for (size_t i = 0;; ++i) {
            if (i >= kMaxArgStrlen) return -E2BIG;
            char c;
            if (!copy_from_user(&c, p + i, 1)) return -EFAULT;
            if (!out.reserve(1)) return -ENOMEM;
            out.buf[out.len++] = c;
            if (!c) break;
        }
        if (out.len + 8ULL * (out.argc + count + 2) > kArgMax) return -E2BIG;
    }
}

// "#!interpreter [argument]" on the first line: the interpreter's path and its one optional
// argument (the rest of the line, trimmed), as Linux's binfmt_script reads them. Returns
// false when the file does not start with "#!".
bool parse_shebang(char* line, size_t n, char*& interp, char*& arg) {
    if (n < 2 || line[0] != '#' || line[1] != '!') return false;
    line[n] = 0;
    char* end = line + 2;
    while (*end && *end != '\n') ++end;
    *end = 0;
    auto blank = [](char c) { return c == ' ' || c == '\t'; };
    char* p = line + 2;
    while (blank(*p)) ++p;
    interp = p;
    while (*p && !blank(*p)) ++p;
    arg = nullptr;
    if (*p) {
        *p++ = 0;
        while (blank(*p)) ++p;
        char* last = p + strlen(p);
        while (last > p && blank(last[-1])) *--last = 0;
        if (*p) arg = p;
    }
    return true;
}

int64_t read_file(void* ctx, uint64_t offset, void* dst, size_t len) {
    IoBuffer b{reinterpret_cast<uint64_t>(dst), len};
    size_t done = 0;
    while (done < len) {
        b = {reinterpret_cast<uint64_t>(dst) + done, len - done};
        int64_t n = file_pread(*static_cast<OpenFile*>(ctx), &b, 1, offset + done);
        if (n < 0) return n;
        if (n == 0) break;
        done += size_t(n);
    }
    return int64_t(done);
}

// The program's strings from the last execve, which /proc/self/cmdline and environ show.
char* g_exec_strings;

int64_t do_execve(int64_t dirfd, uint64_t path_addr, uint64_t argv, uint64_t envp,
                  uint64_t flags, TrapFrame& frame) {
    if (flags & ~(kAtSymlinkNofollow | kAtEmptyPath)) return -EINVAL;
    char filename[kPathMax];
    int64_t n = copy_string_from_user(filename, sizeof filename, path_addr);
    if (n < 0) return n;
    if (n == 0 && !(flags & kAtEmptyPath)) return -ENOENT;
    if (n == 0 && (int32_t(dirfd) == kAtFdcwd || !fd_lookup_any(uint64_t(dirfd)))) return -EBADF;

    Strings args;
    uint32_t argc, envc;
    if (int64_t r = copy_strings(argv, args, argc); r < 0) return r;
    args.argc = argc;
    Strings env;
    if (int64_t r = copy_strings(envp, env, envc); r < 0) return r;
    if (args.len + env.len + 8ULL * (argc + envc + 2) > kArgMax) return -E2BIG;

    // Follow "#!" lines to the program that runs: each interpreter goes first in argv,
    // then its argument, then the script's path in place of argv[0].
    char path[kPathMax];
    memcpy(path, filename, size_t(n) + 1);
    size_t path_len = size_t(n);
    OpenFile* file = nullptr;
    ExecFile exec{read_file, nullptr, 0};
    for (int depth = 0;; ++depth) {
        const bool first = depth == 0;
        int64_t r = fs_open_exec(first ? dirfd : kAtFdcwd, path, path_len,
                                 first && (flags & kAtSymlinkNofollow), file);
        if (r < 0) return r;
        LinuxStat st;
        if ((r = file_stat(*file, st)) < 0) {
            file_put(file);
            return r;
        }
        exec = ExecFile{read_file, file, uint64_t(st.size)};
        char line[256];
        int64_t got = read_file(file, 0, line, sizeof line - 1);
        char *interp, *arg;
        if (got < 0 || !parse_shebang(line, size_t(got), interp, arg)) {
            r = got < 0 ? got : exec_check(exec);
            if (r == 0) break;
            file_put(file);
            return r;
        }
        file_put(file);
        if (depth + 1 >= kMaxInterpreters) return -ELOOP;
        if (!*interp) return -ENOEXEC;
        // argv becomes: interpreter [argument] script argv[1..].
        Strings next;
        bool ok = next.append(interp, strlen(interp)) && (!arg || next.append(arg, strlen(arg))) &&
                  next.append(path, path_len);
        const size_t first_len = args.argc ? strlen(args.buf) + 1 : 0;
        ok = ok && next.reserve(args.len - first_len);
        if (!ok) return -ENOMEM;
        memcpy(next.buf + next.len, args.buf + first_len, args.len - first_len);
        next.len += args.len - first_len;
        next.argc = (arg ? 3 : 2) + (args.argc ? args.argc - 1 : 0);
        kfree(args.buf);
        args.buf = next.release();
        args.len = next.len;
        args.cap = next.cap;
        args.argc = next.argc;
        if (args.len + env.len + 8ULL * (args.argc + envc + 2) > kArgMax) return -E2BIG;
        path_len = strlen(interp);
        memmove(path, interp, path_len + 1);
    }

    // The point of no return: from here a failure can only kill the process.
    if (!args.reserve(env.len)) {
        file_put(file);
        return -ENOMEM;
    }
    memcpy(args.buf + args.len, env.buf, env.len);
    args.len += env.len;
    args.envc = envc;

    sched_zap_others();
    Thread& t = current_thread();
    Process& p = current_process();
    t.tid = p.pid;  // a thread other than the leader takes its place

    AddressSpace& as = current_address_space();
    as.clear();
    process_vfork_release();  // a vfork parent goes on once the child's old image is gone
    uint8_t random[32];
    random_bytes(random, sizeof random);
    TrapFrame next{};
    const ExecArgs exec_args{args.buf, args.argc, args.envc, filename, random};
    const int64_t loaded = exec_load(as, exec, exec_args, next);
    // /proc/self/exe names the image that runs now: the link keeps pointing to where it
    // lives (taking "/proc/self/exe" itself would make the link point to itself).
    if (file->path && !(strlen(file->path) >= 6 && memcmp(file->path, "/proc/", 6) == 0)) {
        const size_t len = strlen(file->path);
        const size_t keep = len < sizeof p.exec_path ? len : sizeof p.exec_path - 1;
        memcpy(p.exec_path, file->path, keep);
        p.exec_path[keep] = 0;
    }
    file_put(file);
    if (loaded < 0) process_kill(kSigSegv, 0, 0);

    for (int fd = 0; fd < kMaxFds; ++fd)
        if (p.fds[fd].file && p.fds[fd].cloexec) fd_close(fd);
    signal_exec_reset(t);
    posix_timers_exec_reset();
    t.fs_base = t.gs_base = 0;
    wrmsr(kMsrFsBase, 0);
    wrmsr(kMsrKernelGsBase, 0);
    t.clear_child_tid = t.robust_list = 0;
    fpu_reset();
    const char* base = filename;
    for (const char* c = filename; *c; ++c)
        if (*c == '/') base = c + 1;
    memset(p.comm, 0, sizeof p.comm);
    for (size_t i = 0; i < sizeof p.comm - 1 && base[i]; ++i) p.comm[i] = base[i];
    p.dumpable = true;

    size_t args_len = 0;
    for (uint32_t i = 0; i < args.argc; ++i) args_len += strlen(args.buf + args_len) + 1;
    kfree(g_exec_strings);
    g_exec_strings = args.release();
    procfs_init(g_exec_strings, args_len, args.len);
    frame = next;
    return 0;
}

}  // namespace

int64_t sys_execve(SyscallArgs& a) {
    return do_execve(kAtFdcwd, a.arg[0], a.arg[1], a.arg[2], 0, *a.frame);
}

int64_t sys_execveat(SyscallArgs& a) {
    return do_execve(int64_t(int32_t(a.arg[0])), a.arg[1], a.arg[2], a.arg[3], a.arg[4],
                     *a.frame);
}

}  // namespace utx::kernel
