// syscall-shim/trace.cpp: strace-style lines: name(decoded arguments) = result or errno.
#include "syscall-shim/trace.h"

#include "kernel/sched/sched.h"

#include "kernel/lib/format.h"
#include "kernel/lib/log.h"
#include "kernel/lib/string.h"
#include "kernel/platform/hypercall.h"
#include "kernel/mm/user_access.h"

namespace utx::kernel {
namespace {

// How to print each argument: d = signed int, x = hex, s = string, b = buffer whose length
// is the next argument (printed after the call for reads), p = pointer. Unlisted syscalls
// print their six arguments as numbers.
struct Signature {
    const char* name;
    const char* args;
};
constexpr Signature kSignatures[] = {
    {"read", "dBu"},      {"write", "dbu"},          {"open", "sxo"},
    {"openat", "dsxo"},   {"close", "d"},            {"stat", "sp"},
    {"lstat", "sp"},      {"fstat", "dp"},           {"newfstatat", "dspx"},
    {"lseek", "ddd"},     {"mmap", "pxxxdx"},        {"mprotect", "pxx"},
    {"munmap", "px"},     {"brk", "p"},              {"ioctl", "dxp"},
    {"readv", "dpd"},     {"writev", "dpd"},         {"access", "so"},
    {"exit", "d"},        {"exit_group", "d"},       {"readlink", "spu"},
    {"readlinkat", "dspu"}, {"arch_prctl", "xp"},    {"execve", "spp"},
    {"getrandom", "pux"}, {"clock_gettime", "dp"},   {"uname", "p"},
    {"fcntl", "dxx"},     {"dup", "d"},              {"dup2", "dd"},
    {"rt_sigaction", "dppu"}, {"rt_sigprocmask", "dppu"}, {"set_tid_address", "p"},
    {"prlimit64", "ddpp"}, {"statx", "dsxxp"},       {"poll", "pud"},
    {"socket", "ddd"},    {"bind", "dpu"},           {"connect", "dpu"},
    {"listen", "dd"},     {"accept", "dpp"},         {"accept4", "dppx"},
    {"sendto", "dbuxpu"}, {"recvfrom", "dBuxpp"},    {"sendmsg", "dpx"},
    {"recvmsg", "dpx"},   {"shutdown", "dd"},        {"getsockname", "dpp"},
    {"getpeername", "dpp"}, {"setsockopt", "dddpu"}, {"getsockopt", "dddpp"},
    {"socketpair", "dddp"}, {"epoll_wait", "dpdd"},  {"epoll_ctl", "dddp"},
};

char g_line[1024];

const char* signature_for(const char* name) {
    if (!name) return nullptr;
    for (const auto& s : kSignatures)
        if (strcmp(s.name, name) == 0) return s.args;
    return nullptr;
}

void append_string(StringBuilder& b, uint64_t addr, size_t max) {
    if (!addr) {
        b.append("NULL");
        return;
    }
    b.append("\"");
    size_t i = 0;
    for (; i < max; ++i) {
        char c;
        if (!copy_from_user(&c, addr + i, 1)) {
            b.append("\"... <bad address>");
            return;
        }
        if (c == 0) break;
        if (c == '\n') b.append("\\n");
        else if (c == '"' || c == '\\') b.append("\\%c", c);
        else if (c >= 32 && c < 127) b.append("%c", c);
        else b.append("\\%o", (unsigned char)c);
    }
    b.append(i == max ? "\"..." : "\"");
}

void append_buffer(StringBuilder& b, uint64_t addr, uint64_t len) {
    const size_t shown = len < 32 ? len : 32;
    b.append("\"");
    for (size_t i = 0; i < shown; ++i) {
        char c;
        if (!copy_from_user(&c, addr + i, 1)) {
            b.append("\"... <bad address>");
            return;
        }
        if (c == '\n') b.append("\\n");
        else if (c == '"' || c == '\\') b.append("\\%c", c);
        else if (c >= 32 && c < 127) b.append("%c", c);
        else b.append("\\%o", (unsigned char)c);
    }
    b.append(len > shown ? "\"..." : "\"");
}

void append_args(StringBuilder& b, const char* sig, const SyscallArgs& a, bool after,
                 int64_t result) {
    int n = sig ? int(strlen(sig)) : 6;
    for (int i = 0; i < n; ++i) {
        if (i) b.append(", ");
        uint64_t v = a.arg[i];
        char kind = sig ? sig[i] : 'x';
        switch (kind) {
            case 'd': b.append("%d", int(v)); break;  // int arguments: fds, AT_FDCWD
            case 'u': b.append("%lu", (unsigned long)v); break;
            case 'o': b.append("%#lo", (unsigned long)v); break;
            case 's': append_string(b, v, 64); break;
            case 'b': append_buffer(b, v, a.arg[i + 1]); break;
            case 'B':
                if (after && result >= 0) append_buffer(b, v, uint64_t(result));
                else b.append("%#lx", (unsigned long)v);
                break;
            case 'p': v ? b.append("%#lx", (unsigned long)v) : b.append("NULL"); break;
            default: v < 4096 ? b.append("%lu", (unsigned long)v) : b.append("%#lx", (unsigned long)v);
        }
    }
}

void emit(StringBuilder& b) { host_write(2, b.data(), b.length()); }

}  // namespace

void trace_enter(uint64_t nr, const SyscallArgs& args) {
    const char* name = syscall_name(nr);
    // Calls that do not return are printed before they run.
    if (name && (strcmp(name, "exit") == 0 || strcmp(name, "exit_group") == 0)) {
        StringBuilder b(g_line, sizeof g_line);
        b.append("[pid %d] %s(", current_thread().tid, name);
        append_args(b, signature_for(name), args, false, 0);
        b.append(") = ?\n");
        emit(b);
    }
}

void trace_exit(uint64_t nr, const SyscallArgs& args, int64_t result) {
    const char* name = syscall_name(nr);
    StringBuilder b(g_line, sizeof g_line);
    b.append("[pid %d] ", current_thread().tid);  // the thread, as strace -f shows it
    if (name) b.append("%s(", name);
    else b.append("syscall_%lu(", (unsigned long)nr);
    append_args(b, signature_for(name), args, true, result);
    if (result < 0 && result > -4096) {
        const char* e = errno_name(int(-result));
        b.append(") = -1 %s\n", e ? e : "E?");
    } else if (result > 0xffff || result < -4096) {
        b.append(") = %#lx\n", (unsigned long)result);
    } else {
        b.append(") = %ld\n", (long)result);
    }
    emit(b);
}

}  // namespace utx::kernel
