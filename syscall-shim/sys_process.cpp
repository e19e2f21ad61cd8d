// syscall-shim/sys_process.cpp: identity, exit, limits and the thread-setup calls of one
// single-threaded process (pid 1 of its own VM).
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/fs/file.h"
#include "kernel/fs/vfs.h"
#include "kernel/lib/string.h"
#include "kernel/mm/address_space.h"
#include "kernel/mm/memory.h"
#include "kernel/process.h"
#include "kernel/platform/host_events.h"
#include "kernel/platform/hypercall.h"
#include "kernel/sched/sched.h"
#include "kernel/signal.h"
#include "syscall-shim/handlers.h"
#include "kernel/mm/user_access.h"

namespace utx::kernel {

int64_t sys_exit_group(SyscallArgs& a) { process_exit(int(a.arg[0])); }
int64_t sys_getpid(SyscallArgs&) { return current_process().pid; }
int64_t sys_getppid(SyscallArgs&) {
    // The parent may have gone since (then it is pid 1): the VMM's table knows.
    Process& p = current_process();
    if (p.pid != 1) {
        const int64_t parent = host_process(abi::kProcParent, 0, 0);
        if (parent >= 0) p.ppid = int(parent);
    }
    return p.ppid;
}

namespace {

constexpr uint64_t kCloneVfork = 0x4000, kCloneSettls = 0x80000, kCloneParentSettid = 0x100000,
                   kCloneChildCleartid = 0x200000, kCloneChildSettid = 0x1000000;

}  // namespace

// fork, vfork and clone without CLONE_THREAD: the VMM clones this VM. The child's vCPU goes
// on from the same request, so the child comes back here too, with 0 from the VMM.
int64_t process_clone(TrapFrame& frame, uint64_t flags, uint64_t stack, uint64_t ptid,
                      uint64_t ctid, uint64_t tls) {
    uint64_t pid = 0, parent = 0;
    // What the child's copy refers to in the family region is counted for it first.
    auto holds = [](bool undo) {
        files_for_fork(undo);
        vfs_for_fork(undo);
        current_address_space().hold_files_for_fork(undo);
    };
    holds(false);
    host_events_before_fork();
    const int64_t r = host_process(abi::kProcFork, 0, 0, &pid, &parent);
    if (r < 0) {
        holds(true);
        return r;
    }
    if (r > 0) {
        // vfork: the parent goes on once the child has exec'd or ended.
        if (flags & kCloneVfork) process_vfork_wait(int(r));
        if ((flags & kCloneParentSettid) && !UserPtr<int32_t>(ptid).write(int32_t(r)))
            return -EFAULT;
        return r;
    }
    process_after_fork(int(pid), int(parent));
    if (flags & kCloneVfork) process_vfork_child();
    Thread& t = current_thread();
    if (stack) frame.rsp = stack;
    if (flags & kCloneSettls) {
        t.fs_base = tls;
        wrmsr(kMsrFsBase, tls);
    }
    if (flags & kCloneChildSettid) UserPtr<int32_t>(ctid).write(int32_t(pid));
    t.clear_child_tid = flags & kCloneChildCleartid ? ctid : 0;
    return 0;
}

int64_t sys_fork(SyscallArgs& a) { return process_clone(*a.frame, kSigChld, 0, 0, 0, 0); }
int64_t sys_vfork(SyscallArgs& a) {
    return process_clone(*a.frame, kCloneVfork | kSigChld, 0, 0, 0, 0);
}

namespace {

constexpr uint64_t kWnohang = 1, kWuntraced = 2, kWexited = 4, kWcontinued = 8,
                   kWnowait = 0x01000000, kWnothread = 0x20000000, kWall = 0x40000000,
                   kWclone = 0x80000000;

struct Rusage {
    int64_t utime[2], stime[2];  // struct timeval
    int64_t maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock, msgsnd,
        msgrcv, nsignals, nvcsw, nivcsw;
};
static_assert(sizeof(Rusage) == 144);

// A struct rusage with CPU times in microseconds (the VMM's accounting: a process is its
// VMM, whose host process runs the guest as user time).
bool put_rusage(uint64_t addr, uint64_t user_us, uint64_t system_us, int64_t maxrss_kib = 0) {
    Rusage r{};
    r.utime[0] = int64_t(user_us / 1'000'000);
    r.utime[1] = int64_t(user_us % 1'000'000);
    r.stime[0] = int64_t(system_us / 1'000'000);
    r.stime[1] = int64_t(system_us % 1'000'000);
    r.maxrss = maxrss_kib;
    return copy_to_user(addr, &r, sizeof r);
}

enum { kCldExited = 1, kCldKilled = 2, kCldStopped = 5, kCldContinued = 6 };

// The si_code of SIGCHLD and waitid for a wait status.
int child_code(int status) {
    if (status == 0xffff) return kCldContinued;
    if ((status & 0xff) == 0x7f) return kCldStopped;
    return (status & 0x7f) ? kCldKilled : kCldExited;
}

// The first child matching wait4's `selector` that has ended (its pid, its wait status),
// waiting for one unless WNOHANG: 0 then when none has. The VMM keeps the table; each
// SIGCHLD it sends wakes the waiters to ask again.
int64_t wait_child(int64_t selector, uint64_t options, int& status, uint64_t (&usage)[2]) {
    // wait4 reports ends always; waitid only with WEXITED.
    const uint64_t flags = options & (kWnohang | kWuntraced | kWexited | kWcontinued | kWnowait);
    for (bool interrupted = false;;) {
        const uint64_t seen = process_child_events();
        uint64_t out = 0, news = 0;
        const int64_t r = host_process(abi::kProcWait, uint64_t(selector),
                                       interrupted ? flags | kWnohang : flags, &out, &news,
                                       &usage[0], &usage[1]);
        if (r > 0 && news) process_child_told(child_code(int(out)));  // the SIGCHLD Linux sent
        if (r != 0) {
            status = int(out);
            return r;
        }
        // As Linux: a signal ends the wait only when no child is ready.
        if (interrupted) return -ERESTARTSYS;
        if (options & kWnohang) return 0;
        if (process_child_events() != seen) continue;
        interrupted = thread_wait(process_child_queue(), 0) == -EINTR;
    }
}

}  // namespace

int64_t sys_wait4(SyscallArgs& a) {
    const int64_t selector = int64_t(int32_t(a.arg[0]));
    const uint64_t options = a.arg[2];
    if (options & ~(kWnohang | kWuntraced | kWcontinued | kWnothread | kWall | kWclone))
        return -EINVAL;
    if (selector == INT32_MIN) return -ESRCH;  // -INT_MIN is no process group
    int status = 0;
    uint64_t usage[2] = {};
    const int64_t r = wait_child(selector, options | kWexited, status, usage);
    if (r <= 0) return r;
    if (a.arg[1] && !UserPtr<int32_t>(a.arg[1]).write(status)) return -EFAULT;
    if (a.arg[3] && !put_rusage(a.arg[3], usage[0], usage[1])) return -EFAULT;
    return r;
}

int64_t sys_waitid(SyscallArgs& a) {
    enum { kPAll = 0, kPPid = 1, kPPgid = 2 };
    const uint64_t which = a.arg[0], id = a.arg[1], options = a.arg[3];
    if (options & ~(kWnohang | kWuntraced | kWexited | kWcontinued | kWnowait | kWnothread |
                    kWall | kWclone))
        return -EINVAL;
    if (!(options & (kWexited | kWuntraced | kWcontinued))) return -EINVAL;
    int64_t selector;
    switch (which) {
        case kPAll: selector = -1; break;
        case kPPid:
            if (int32_t(id) <= 0) return -EINVAL;
            selector = int32_t(id);
            break;
        case kPPgid:
            if (int32_t(id) < 0) return -EINVAL;
            selector = id ? -int64_t(int32_t(id)) : 0;
            break;
        default: return -EINVAL;
    }
    int status = 0;
    uint64_t usage[2] = {};
    int64_t r = wait_child(selector, options, status, usage);
    if (r < 0) return r;
    // siginfo_t: si_signo, si_errno, si_code, then si_pid, si_uid, si_status at 16.
    struct {
        int32_t signo, err, code, pad;
        int32_t pid;
        uint32_t uid;
        int32_t status;
        uint8_t rest[128 - 28];
    } info = {};
    if (r > 0) {
        info.signo = kSigChld;
        info.pid = int32_t(r);
        info.uid = current_process().uid;
        info.code = child_code(status);
        info.status = info.code == kCldExited    ? (status >> 8) & 0xff
                      : info.code == kCldKilled  ? status & 0x7f
                      : info.code == kCldStopped ? (status >> 8) & 0xff
                                                 : kSigCont;
    }
    // WNOHANG with nothing to report leaves a zeroed siginfo, as Linux does.
    if (a.arg[2] && !copy_to_user(a.arg[2], &info, sizeof info)) return -EFAULT;
    if (a.arg[4] && !put_rusage(a.arg[4], usage[0], usage[1])) return -EFAULT;
    return 0;
}
int64_t sys_getuid(SyscallArgs&) { return current_process().uid; }
int64_t sys_geteuid(SyscallArgs&) { return current_process().uid; }
int64_t sys_getgid(SyscallArgs&) { return current_process().gid; }
int64_t sys_getegid(SyscallArgs&) { return current_process().gid; }
// Process groups and sessions live in the VMM's table: other processes (VMs) change them.
int64_t sys_getpgrp(SyscallArgs&) { return host_process(abi::kProcGetPgid, 0, 0); }

int64_t sys_getpgid(SyscallArgs& a) {
    return host_process(abi::kProcGetPgid, uint64_t(int64_t(int32_t(a.arg[0]))), 0);
}

int64_t sys_getsid(SyscallArgs& a) {
    return host_process(abi::kProcGetSid, uint64_t(int64_t(int32_t(a.arg[0]))), 0);
}

int64_t sys_setpgid(SyscallArgs& a) {
    const int64_t r = host_process(abi::kProcSetPgid, uint64_t(int64_t(int32_t(a.arg[0]))),
                                   uint64_t(int64_t(int32_t(a.arg[1]))));
    if (r == 0) current_process().pgid = int(host_process(abi::kProcGetPgid, 0, 0));
    return r;
}

int64_t sys_setsid(SyscallArgs&) {
    const int64_t r = host_process(abi::kProcSetSid, 0, 0);
    if (r > 0) current_process().pgid = current_process().sid = int(r);
    return r;
}

int64_t sys_set_robust_list(SyscallArgs& a) {
    if (a.arg[1] != 24) return -EINVAL;  // sizeof(struct robust_list_head)
    current_thread().robust_list = a.arg[0];
    return 0;
}

int64_t sys_arch_prctl(SyscallArgs& a) {
    enum { kSetGs = 0x1001, kSetFs = 0x1002, kGetFs = 0x1003, kGetGs = 0x1004 };
    Thread& p = current_thread();
    switch (a.arg[0]) {
        case kSetFs:
        case kSetGs:
            if (a.arg[1] >= kUserTop + kPageSize) return -EPERM;
            if (a.arg[0] == kSetFs) {
                p.fs_base = a.arg[1];
                wrmsr(kMsrFsBase, a.arg[1]);
            } else {
                // The user's GS base lives in KERNEL_GS_BASE while the kernel runs.
                p.gs_base = a.arg[1];
                wrmsr(kMsrKernelGsBase, a.arg[1]);
            }
            return 0;
        case kGetFs:
            return UserPtr<uint64_t>(a.arg[1]).write(p.fs_base) ? 0 : -EFAULT;
        case kGetGs:
            return UserPtr<uint64_t>(a.arg[1]).write(p.gs_base) ? 0 : -EFAULT;
        default:
            return -EINVAL;
    }
}

int64_t sys_uname(SyscallArgs& a) {
    struct Utsname {
        char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
    } u = {};
    auto set = [](char* field, const char* value) { memcpy(field, value, strlen(value) + 1); };
    set(u.sysname, "Linux");
    set(u.nodename, "utx");
    set(u.release, "6.1.0-utx");
    set(u.version, "#1 SMP utx");
    set(u.machine, "x86_64");
    set(u.domainname, "(none)");
    return UserPtr<Utsname>(a.arg[0]).write(u) ? 0 : -EFAULT;
}

namespace {

int64_t rlimit_common(uint64_t pid, uint64_t resource, uint64_t new_addr, uint64_t old_addr) {
    Process& p = current_process();
    if (pid != 0 && pid != uint64_t(p.pid)) return -ESRCH;
    if (resource >= uint64_t(kRlimits)) return -EINVAL;
    Rlimit next;
    if (new_addr) {
        if (!UserPtr<Rlimit>(new_addr).read(next)) return -EFAULT;
        if (next.cur > next.max) return -EINVAL;
        if (next.max > p.rlimits[resource].max && p.uid != 0) return -EPERM;
        if (resource == 7 && next.max > uint64_t(kMaxFds)) return -EPERM;  // nr_open
    }
    if (old_addr && !UserPtr<Rlimit>(old_addr).write(p.rlimits[resource])) return -EFAULT;
    if (new_addr) p.rlimits[resource] = next;
    return 0;
}

}  // namespace

int64_t sys_prlimit64(SyscallArgs& a) {
    return rlimit_common(a.arg[0], a.arg[1], a.arg[2], a.arg[3]);
}
int64_t sys_getrlimit(SyscallArgs& a) { return rlimit_common(0, a.arg[0], 0, a.arg[1]); }
int64_t sys_setrlimit(SyscallArgs& a) { return rlimit_common(0, a.arg[0], a.arg[1], 0); }

namespace {

// The thread sched_{get,set}affinity name: 0 is the caller; any thread of the process.
Thread* affinity_target(uint64_t tid) {
    if (tid == 0) return &current_thread();
    return tid <= uint64_t(INT32_MAX) ? thread_find(int(tid)) : nullptr;
}

}  // namespace

int64_t sys_sched_getaffinity(SyscallArgs& a) {
    Thread* t = affinity_target(a.arg[0]);
    if (!t) return -ESRCH;
    const uint64_t len = a.arg[1];
    if (len < 8 || (len & 7)) return -EINVAL;
    // Linux copies the kernel's mask (nr_cpu_ids bits rounded up to longs): 8 bytes here.
    const uint64_t mask = t->affinity & sched_online_mask();
    return copy_to_user(a.arg[2], &mask, sizeof mask) ? 8 : -EFAULT;
}

int64_t sys_sched_setaffinity(SyscallArgs& a) {
    Thread* t = affinity_target(a.arg[0]);
    if (!t) return -ESRCH;
    // Bits beyond the first 64 CPUs cannot name a CPU utx has; they are ignored.
    uint64_t mask = 0;
    const uint64_t len = a.arg[1] < 8 ? a.arg[1] : 8;
    if (len && !copy_from_user(&mask, a.arg[2], len)) return -EFAULT;
    return sched_set_affinity(t, mask);
}

int64_t sys_sched_yield(SyscallArgs&) {
    sched_yield_now();
    return 0;
}

int64_t sys_getcpu(SyscallArgs& a) {
    const uint32_t cpu = this_cpu().index, node = 0;
    if (a.arg[0] && !copy_to_user(a.arg[0], &cpu, 4)) return -EFAULT;
    if (a.arg[1] && !copy_to_user(a.arg[1], &node, 4)) return -EFAULT;
    return 0;
}

int64_t sys_umask(SyscallArgs& a) {
    uint32_t old = current_process().umask;
    current_process().umask = uint32_t(a.arg[0]) & 0777;
    return old;
}

}  // namespace utx::kernel

namespace utx::kernel {

int64_t sys_prctl(SyscallArgs& a) {
    enum { kSetPdeathsig = 1, kGetPdeathsig = 2, kGetDumpable = 3, kSetDumpable = 4,
           kSetName = 15, kGetName = 16 };
    Process& p = current_process();
    switch (a.arg[0]) {
        case kSetPdeathsig:
            if (a.arg[1] > uint64_t(kSignals)) return -EINVAL;
            p.pdeath_signal = a.arg[1];
            return 0;
        case kGetPdeathsig:
            return UserPtr<int32_t>(a.arg[1]).write(int32_t(p.pdeath_signal)) ? 0 : -EFAULT;
        case kGetDumpable:
            return p.dumpable ? 1 : 0;
        case kSetDumpable:
            if (a.arg[1] > 1) return -EINVAL;
            p.dumpable = a.arg[1];
            return 0;
        case kSetName: {
            char name[16] = {};
            for (size_t i = 0; i < sizeof name - 1; ++i) {
                if (!copy_from_user(&name[i], a.arg[1] + i, 1)) return -EFAULT;
                if (!name[i]) break;
            }
            memcpy(p.comm, name, sizeof name);
            return 0;
        }
        case kGetName:
            return copy_to_user(a.arg[1], p.comm, sizeof p.comm) ? 0 : -EFAULT;
        default:
            return -EINVAL;
    }
}

}  // namespace utx::kernel

namespace utx::kernel {

int64_t sys_getrusage(SyscallArgs& a) {
    constexpr int64_t kSelf = 0, kChildren = -1, kThread = 1;
    const int64_t who = int32_t(a.arg[0]);
    if (who != kSelf && who != kChildren && who != kThread) return -EINVAL;
    // The times are the VMM's (per process: a thread's are its process's); the peak
    // resident size is the guest memory in use (KiB).
    uint64_t user = 0, system = 0;
    if (host_process(abi::kProcUsage, who == kChildren ? 1 : 0, 0, &user, &system) < 0)
        user = system = 0;
    const int64_t maxrss =
        who == kChildren ? 0 : int64_t((frames_total_count() - frames_free_count()) * 4);
    return put_rusage(a.arg[1], user, system, maxrss) ? 0 : -EFAULT;
}


namespace {

constexpr int kSchedOther = 0, kSchedFifo = 1, kSchedRr = 2, kSchedBatch = 3, kSchedIdle = 5;

bool sched_target_ok(uint64_t pid) {
    return pid == 0 || (pid <= uint64_t(INT32_MAX) && thread_find(int(pid)));
}

// What sched_setscheduler and sched_setparam accept: the normal policies at priority 0,
// the real-time ones at 1..99 for root (they schedule no differently here).
int64_t check_policy(int policy, int32_t priority) {
    switch (policy) {
        case kSchedOther:
        case kSchedBatch:
        case kSchedIdle:
            return priority == 0 ? 0 : -EINVAL;
        case kSchedFifo:
        case kSchedRr:
            if (priority < 1 || priority > 99) return -EINVAL;
            return current_process().uid == 0 ? 0 : -EPERM;
        default:
            return -EINVAL;
    }
}

}  // namespace

int64_t sys_sched_setscheduler(SyscallArgs& a) {
    const int policy = int(a.arg[1]) & ~0x40000000;  // SCHED_RESET_ON_FORK
    if (policy < 0) return -EINVAL;
    int32_t priority;
    if (!a.arg[2]) return -EINVAL;
    if (!copy_from_user(&priority, a.arg[2], sizeof priority)) return -EFAULT;
    if (!sched_target_ok(a.arg[0])) return -ESRCH;
    return check_policy(policy, priority);
}

int64_t sys_sched_getscheduler(SyscallArgs& a) {
    if (int64_t(a.arg[0]) < 0) return -EINVAL;
    return sched_target_ok(a.arg[0]) ? kSchedOther : -ESRCH;
}

int64_t sys_sched_setparam(SyscallArgs& a) {
    int32_t priority;
    if (!a.arg[1] || int64_t(a.arg[0]) < 0) return -EINVAL;
    if (!copy_from_user(&priority, a.arg[1], sizeof priority)) return -EFAULT;
    if (!sched_target_ok(a.arg[0])) return -ESRCH;
    return priority == 0 ? 0 : -EINVAL;
}

int64_t sys_sched_getparam(SyscallArgs& a) {
    if (!a.arg[1] || int64_t(a.arg[0]) < 0) return -EINVAL;
    if (!sched_target_ok(a.arg[0])) return -ESRCH;
    const int32_t priority = 0;
    return copy_to_user(a.arg[1], &priority, sizeof priority) ? 0 : -EFAULT;
}

int64_t sys_sched_get_priority_max(SyscallArgs& a) {
    const int policy = int(a.arg[0]);
    if (policy == kSchedFifo || policy == kSchedRr) return 99;
    return policy == kSchedOther || policy == kSchedBatch || policy == kSchedIdle ? 0 : -EINVAL;
}

int64_t sys_sched_get_priority_min(SyscallArgs& a) {
    const int policy = int(a.arg[0]);
    if (policy == kSchedFifo || policy == kSchedRr) return 1;
    return policy == kSchedOther || policy == kSchedBatch || policy == kSchedIdle ? 0 : -EINVAL;
}

}  // namespace utx::kernel
