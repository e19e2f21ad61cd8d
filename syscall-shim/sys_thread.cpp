// syscall-shim/sys_thread.cpp: threads (clone with CLONE_THREAD), their exit, and futexes.
#include "kernel/lib/string.h"
#include "kernel/mm/user_access.h"
#include "kernel/process.h"
#include "kernel/sched/sched.h"
#include "kernel/time.h"
#include "syscall-shim/handlers.h"

namespace utx::kernel {
namespace {

constexpr uint64_t kCloneVm = 0x100, kCloneFs = 0x200, kCloneFiles = 0x400,
                   kCloneSighand = 0x800, kClonePidfd = 0x1000, kClonePtrace = 0x2000,
                   kCloneVfork = 0x4000, kCloneParent = 0x8000, kCloneThread = 0x10000,
                   kCloneNewns = 0x20000, kCloneSysvsem = 0x40000, kCloneSettls = 0x80000,
                   kCloneParentSettid = 0x100000, kCloneChildCleartid = 0x200000,
                   kCloneDetached = 0x400000, kCloneUntraced = 0x800000,
                   kCloneChildSettid = 0x1000000, kCloneIo = 0x80000000ULL;
constexpr uint64_t kCloneNamespaces = 0x7e020000ULL;  // NEWNS, NEWCGROUP … NEWNET
constexpr uint64_t kThreadFlags = kCloneVm | kCloneFs | kCloneFiles | kCloneSighand | kCloneThread;

// --- futexes ------------------------------------------------------------------------
// Waiters hang on a queue per hash bucket; each remembers its address and bitset. One
// address space, so the user address is the key.
constexpr size_t kFutexBuckets = 64;
WaitQueue g_futex[kFutexBuckets];

WaitQueue& bucket(uint64_t addr) { return g_futex[(addr >> 2) % kFutexBuckets]; }

int futex_wake(uint64_t addr, int max, uint32_t bitset) {
    int n = 0;
    WaitQueue& q = bucket(addr);
    for (Thread* t = q.head; t && n < max;) {
        Thread* next = t->queue_next;
        if (t->futex_addr == addr && (t->futex_bitset & bitset)) {
            thread_wake(t);
            ++n;
        }
        t = next;
    }
    return n;
}

// Wakes up to `wake` waiters on addr and moves up to `requeue` more to addr2.
int64_t futex_requeue(uint64_t addr, uint64_t addr2, int wake, int requeue) {
    int64_t n = futex_wake(addr, wake, ~0u);
    WaitQueue& from = bucket(addr);
    WaitQueue& to = bucket(addr2);
    int moved = 0;
    for (Thread* t = from.head; t && moved < requeue;) {
        Thread* next = t->queue_next;
        if (t->futex_addr == addr) {
            wait_queue_remove(from, t);
            t->futex_addr = addr2;
            wait_queue_append(to, t);
            ++moved;
        }
        t = next;
    }
    return n + moved;
}

int64_t futex_wait(uint64_t addr, uint32_t expected, uint32_t bitset, uint64_t deadline_ns) {
    uint32_t value;
    if (!UserPtr<uint32_t>(addr).read(value)) return -EFAULT;
    if (value != expected) return -EAGAIN;
    Thread& t = current_thread();
    t.futex_addr = addr;
    t.futex_bitset = bitset;
    const int64_t r = thread_wait(bucket(addr), deadline_ns);
    return r == -EINTR ? -ERESTARTSYS : r;
}

struct Timespec {
    int64_t sec, nsec;
};

// The CLOCK_MONOTONIC deadline of a futex timeout: relative for FUTEX_WAIT, absolute on
// the chosen clock for FUTEX_WAIT_BITSET. 0: none.
int64_t futex_deadline(uint64_t addr, bool absolute, bool realtime, uint64_t& deadline) {
    deadline = 0;
    if (!addr) return 0;
    Timespec ts;
    if (!UserPtr<Timespec>(addr).read(ts)) return -EFAULT;
    if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1'000'000'000) return -EINVAL;
    const uint64_t ns = uint64_t(ts.sec) * 1'000'000'000 + uint64_t(ts.nsec);
    const uint64_t now = monotonic_ns();
    if (!absolute) deadline = now + ns;
    else if (!realtime) deadline = ns;
    else {
        const uint64_t real = realtime_ns();
        deadline = ns > real ? now + (ns - real) : now;
    }
    if (deadline == 0) deadline = 1;
    return 0;
}

// FUTEX_WAKE_OP: *addr2 = *addr2 OP oparg, then wake on addr, and on addr2 if the old value
// passes CMP cmparg.
int64_t futex_wake_op(uint64_t addr, int wake, uint64_t addr2, int wake2, uint32_t encoded) {
    const uint32_t op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
    uint32_t oparg = (encoded >> 12) & 0xfff;
    const uint32_t cmparg = encoded & 0xfff;
    if (encoded & (8u << 28)) oparg = 1u << (oparg & 31);  // FUTEX_OP_OPARG_SHIFT
    uint32_t old;
    if (!UserPtr<uint32_t>(addr2).read(old)) return -EFAULT;
    uint32_t now;
    switch (op) {
        case 0: now = oparg; break;        // SET
        case 1: now = old + oparg; break;  // ADD
        case 2: now = old | oparg; break;  // OR
        case 3: now = old & ~oparg; break; // ANDN
        case 4: now = old ^ oparg; break;  // XOR
        default: return -ENOSYS;
    }
    if (!UserPtr<uint32_t>(addr2).write(now)) return -EFAULT;
    const int32_t o = int32_t(old), c = int32_t(cmparg);
    bool pass;
    switch (cmp) {
        case 0: pass = o == c; break;
        case 1: pass = o != c; break;
        case 2: pass = o < c; break;
        case 3: pass = o <= c; break;
        case 4: pass = o > c; break;
        case 5: pass = o >= c; break;
        default: return -ENOSYS;
    }
    int64_t n = futex_wake(addr, wake, ~0u);
    if (pass) n += futex_wake(addr2, wake2, ~0u);
    return n;
}

}  // namespace

int64_t sys_futex(SyscallArgs& a) {
    enum {
        kWait = 0, kWake = 1, kRequeue = 3, kCmpRequeue = 4, kWakeOp = 5, kLockPi = 6,
        kUnlockPi = 7, kTrylockPi = 8, kWaitBitset = 9, kWakeBitset = 10,
        kWaitRequeuePi = 11, kCmpRequeuePi = 12, kLockPi2 = 13
    };
    constexpr uint64_t kPrivate = 128, kClockRealtime = 256;
    const uint64_t addr = a.arg[0], op = a.arg[1];
    const uint32_t val = uint32_t(a.arg[2]);
    const uint64_t cmd = op & ~(kPrivate | kClockRealtime);
    const bool realtime = op & kClockRealtime;
    if (addr & 3) return -EINVAL;
    if (realtime && cmd != kWait && cmd != kWaitBitset && cmd != kWaitRequeuePi && cmd != kLockPi2)
        return -ENOSYS;
    uint64_t deadline;
    switch (cmd) {
        case kWait:
        case kWaitBitset: {
            const uint32_t bitset = cmd == kWait ? ~0u : uint32_t(a.arg[5]);
            if (!bitset) return -EINVAL;
            if (int64_t r = futex_deadline(a.arg[3], cmd == kWaitBitset, realtime, deadline); r < 0)
                return r;
            return futex_wait(addr, val, bitset, deadline);
        }
        case kWake:
        case kWakeBitset: {
            const uint32_t bitset = cmd == kWake ? ~0u : uint32_t(a.arg[5]);
            if (!bitset) return -EINVAL;
            return futex_wake(addr, int(val > 0x7fffffff ? 0x7fffffff : val), bitset);
        }
        case kRequeue:
        case kCmpRequeue: {
            if (int32_t(val) < 0 || int32_t(a.arg[3]) < 0) return -EINVAL;
            if (a.arg[4] & 3) return -EINVAL;
            if (cmd == kCmpRequeue) {
                uint32_t now;
                if (!UserPtr<uint32_t>(addr).read(now)) return -EFAULT;
                if (now != uint32_t(a.arg[5])) return -EAGAIN;
            }
            return futex_requeue(addr, a.arg[4], int(val), int(a.arg[3]));
        }
        case kWakeOp:
            if (a.arg[4] & 3) return -EINVAL;
            return futex_wake_op(addr, int(val), a.arg[4], int(a.arg[3]), uint32_t(a.arg[5]));
        case kLockPi:
        case kUnlockPi:
        case kTrylockPi:
        case kWaitRequeuePi:
        case kCmpRequeuePi:
        case kLockPi2:
            return -ENOSYS;  // priority inheritance: glibc's PI mutexes only
        default:
            return -ENOSYS;
    }
}

// syscall-shim/sys_process.cpp: fork and clone without CLONE_THREAD.
int64_t process_clone(TrapFrame& frame, uint64_t flags, uint64_t stack, uint64_t ptid,
                      uint64_t ctid, uint64_t tls);

int64_t sys_clone(SyscallArgs& a) {
    const uint64_t flags = a.arg[0], stack = a.arg[1], ptid = a.arg[2], ctid = a.arg[3],
                   tls = a.arg[4];
    // Linux's consistency rules first.
    if ((flags & kCloneThread) && !(flags & kCloneSighand)) return -EINVAL;
    if ((flags & kCloneSighand) && !(flags & kCloneVm)) return -EINVAL;
    if ((flags & kCloneFs) && (flags & kCloneNewns)) return -EINVAL;
    if ((flags & kClonePidfd) && (flags & kCloneParentSettid)) return -EINVAL;
    if (!(flags & kCloneThread)) {
        // A new process: a copy of this VM, so nothing can be shared with it but what the
        // VMM shares. vfork (CLONE_VM | CLONE_VFORK, as posix_spawn asks) becomes a fork.
        const uint64_t shared = flags & (kCloneFs | kCloneFiles | kCloneSighand | kCloneParent |
                                         kCloneNamespaces | kClonePidfd);
        if (shared || ((flags & kCloneVm) && !(flags & kCloneVfork))) return -ENOSYS;
        return process_clone(*a.frame, flags, stack, ptid, ctid, tls);
    }
    if ((flags & kThreadFlags) != kThreadFlags) return -ENOSYS;
    if (flags & (kCloneNamespaces | kCloneVfork | kClonePidfd)) return -EINVAL;
    (void)kClonePtrace, (void)kCloneParent, (void)kCloneSysvsem, (void)kCloneDetached,
        (void)kCloneUntraced, (void)kCloneIo;
    TrapFrame frame = *a.frame;
    frame.rax = 0;  // the new thread's clone() returns 0
    if (stack) frame.rsp = stack;
    Thread* t = thread_spawn(frame);
    if (!t) return -EAGAIN;
    if (flags & kCloneSettls) t->fs_base = tls;
    if (flags & kCloneChildCleartid) t->clear_child_tid = ctid;
    // One address space: the child's copies of these words are the parent's.
    if ((flags & kCloneParentSettid) && !UserPtr<int32_t>(ptid).write(t->tid)) return -EFAULT;
    if ((flags & kCloneChildSettid) && !UserPtr<int32_t>(ctid).write(t->tid)) return -EFAULT;
    return t->tid;
}

int64_t sys_gettid(SyscallArgs&) { return current_thread().tid; }

int64_t sys_set_tid_address(SyscallArgs& a) {
    current_thread().clear_child_tid = a.arg[0];
    return current_thread().tid;
}

namespace {

// A thread that is not the last one goes. CLONE_CHILD_CLEARTID: zero the word and wake its
// waiter (pthread_join).
[[noreturn]] void exit_thread() {
    Thread& t = current_thread();
    if (t.clear_child_tid && UserPtr<int32_t>(t.clear_child_tid).write(0))
        futex_wake(t.clear_child_tid, 1, ~0u);
    thread_exit();
}

}  // namespace

int64_t sys_exit(SyscallArgs& a) {
    if (thread_count() == 1) process_exit(int(a.arg[0]));
    exit_thread();
}

void thread_exit_if_zapped() {
    if (current_thread().zapped) exit_thread();
    process_stop_point();  // and a stopped process's threads wait for SIGCONT here
}

}  // namespace utx::kernel
