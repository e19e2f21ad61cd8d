// syscall-shim/sys_signal.cpp: dispositions, masks, sending, waiting for signals, and the
// ITIMER_REAL alarm. Delivery itself is kernel/signal.cpp.
#include "kernel/lib/string.h"
#include "kernel/mm/user_access.h"
#include "kernel/process.h"
#include "kernel/sched/sched.h"
#include "kernel/signal.h"
#include "kernel/time.h"
#include "kernel/platform/hypercall.h"
#include "syscall-shim/handlers.h"

namespace utx::kernel {
namespace {

constexpr uint64_t kNsPerSec = 1'000'000'000, kNsPerUsec = 1000;

SignalInfo from_caller(int32_t code) {
    return SignalInfo{code, current_process().pid, current_process().uid, 0, 0, 0, 0};
}

bool valid_signal(uint64_t sig) { return sig <= uint64_t(kNumSignals); }

// Waits for a signal without a deadline (pause, rt_sigsuspend): ends with -EINTR once a
// handler is due; signals that kill never come back here.
int64_t wait_for_signal() {
    WaitQueue nobody;
    while (thread_wait(nobody, 0) != -EINTR) {
    }
    return -EINTR;
}

}  // namespace

int64_t sys_rt_sigaction(SyscallArgs& a) {
    const int sig = int(a.arg[0]);
    if (a.arg[3] != 8) return -EINVAL;
    if (sig < 1 || sig > kNumSignals) return -EINVAL;
    Process& p = current_process();
    SigAction next;
    if (a.arg[1]) {
        if (sig == kSigKill || sig == kSigStop) return -EINVAL;
        if (!UserPtr<SigAction>(a.arg[1]).read(next)) return -EFAULT;
    }
    if (a.arg[2] && !UserPtr<SigAction>(a.arg[2]).write(p.actions[sig])) return -EFAULT;
    if (a.arg[1]) {
        next.mask &= ~kUnblockable;
        p.actions[sig] = next;
        // Setting SIG_IGN (or SIG_DFL where the default is to ignore) discards what is
        // pending, as on Linux.
        if (next.handler == 1 || (next.handler == 0 && (sig == kSigChld || sig == kSigUrg ||
                                                        sig == kSigWinch || sig == kSigCont))) {
            SignalInfo dropped;
            for (Thread* t = thread_list(); t; t = t->all_next)
                while (signal_dequeue(*t, sigbit(sig), dropped)) {
                }
        }
    }
    return 0;
}

int64_t sys_rt_sigprocmask(SyscallArgs& a) {
    enum { kBlock = 0, kUnblock = 1, kSetMask = 2 };
    if (a.arg[3] != 8) return -EINVAL;
    Thread& t = current_thread();
    uint64_t set = 0;
    if (a.arg[1]) {
        if (a.arg[0] > kSetMask) return -EINVAL;
        if (!UserPtr<uint64_t>(a.arg[1]).read(set)) return -EFAULT;
    }
    if (a.arg[2] && !UserPtr<uint64_t>(a.arg[2]).write(t.signal_mask)) return -EFAULT;
    if (a.arg[1]) {
        switch (a.arg[0]) {
            case kBlock: t.signal_mask |= set; break;
            case kUnblock: t.signal_mask &= ~set; break;
            case kSetMask: t.signal_mask = set; break;
        }
        t.signal_mask &= ~kUnblockable;
    }
    return 0;
}

int64_t sys_sigaltstack(SyscallArgs& a) {
    struct StackT {
        uint64_t sp;
        int32_t flags;
        int32_t pad;
        uint64_t size;
    };
    constexpr int32_t kSsOnstack = 1, kSsDisable = 2, kSsAutodisarm = int32_t(1u << 31);
    constexpr uint64_t kMinSigStkSz = 2048;
    Thread& t = current_thread();
    const uint64_t sp = a.frame->rsp;
    const bool on = signal_on_altstack(t, sp);
    StackT old{t.altstack_sp,
               (t.altstack_size ? (on ? kSsOnstack : 0) : kSsDisable) |
                   int32_t(t.altstack_flags & uint32_t(kSsAutodisarm)),
               0, t.altstack_size};
    if (a.arg[0]) {
        StackT ss;
        if (!UserPtr<StackT>(a.arg[0]).read(ss)) return -EFAULT;
        if (on) return -EPERM;  // not while running on it
        int32_t mode = ss.flags & ~kSsAutodisarm;
        if (mode != 0 && mode != kSsDisable && mode != kSsOnstack) return -EINVAL;
        if (mode != kSsDisable && ss.size < kMinSigStkSz) return -ENOMEM;
        t.altstack_sp = mode == kSsDisable ? 0 : ss.sp;
        t.altstack_size = mode == kSsDisable ? 0 : ss.size;
        t.altstack_flags = uint32_t(ss.flags);
    }
    if (a.arg[1] && !UserPtr<StackT>(a.arg[1]).write(old)) return -EFAULT;
    return 0;
}

int64_t sys_rt_sigreturn(SyscallArgs& a) { return signal_return(*a.frame); }

int64_t sys_kill(SyscallArgs& a) {
    const int64_t pid = int64_t(int32_t(a.arg[0]));
    const Process& p = current_process();
    if (!valid_signal(a.arg[1])) return -EINVAL;
    if (pid == INT32_MIN) return -ESRCH;
    const int sig = int(a.arg[1]);
    if (pid == p.pid) return sig ? signal_send_process(sig, from_caller(kSiUser)) : 0;
    // Other processes are other VMs: the VMM sends to them, and says whether this process
    // is among the targets (its group, or -1 when it is pid 1's only relative).
    uint64_t self = 0;
    const int64_t r = host_process(abi::kProcKill, uint64_t(pid), uint64_t(sig), &self);
    if (r < 0) return r;
    if (self && sig) return signal_send_process(sig, from_caller(kSiUser));
    return 0;
}

int64_t sys_tgkill(SyscallArgs& a) {
    if (int32_t(a.arg[0]) <= 0 || int32_t(a.arg[1]) <= 0) return -EINVAL;
    if (!valid_signal(a.arg[2])) return -EINVAL;
    Thread* t = thread_find(int(a.arg[1]));
    if (a.arg[0] != uint64_t(current_process().pid) || !t) return -ESRCH;
    return a.arg[2] ? signal_send_thread(*t, int(a.arg[2]), from_caller(kSiTkill)) : 0;
}

int64_t sys_tkill(SyscallArgs& a) {
    if (int32_t(a.arg[0]) <= 0) return -EINVAL;
    if (!valid_signal(a.arg[1])) return -EINVAL;
    Thread* t = thread_find(int(a.arg[0]));
    if (!t) return -ESRCH;
    return a.arg[1] ? signal_send_thread(*t, int(a.arg[1]), from_caller(kSiTkill)) : 0;
}

namespace {

// rt_sigqueueinfo and rt_tgsigqueueinfo: the caller's siginfo (code, pid, uid, value), as
// sigqueue(3) fills it. Only the process itself may claim what the kernel would send
// (si_code >= 0, or SI_TKILL).
int64_t queue_info(uint64_t addr, bool to_self, SignalInfo& info) {
    uint8_t raw[128];
    if (!copy_from_user(raw, addr, sizeof raw)) return -EFAULT;
    info = SignalInfo{};
    memcpy(&info.code, raw + 8, 4);
    memcpy(&info.pid, raw + 16, 4);
    memcpy(&info.uid, raw + 20, 4);
    memcpy(&info.value, raw + 24, 8);
    if ((info.code >= 0 || info.code == kSiTkill) && !to_self) return -EPERM;
    return 0;
}

}  // namespace

int64_t sys_rt_sigqueueinfo(SyscallArgs& a) {
    const int32_t pid = int32_t(a.arg[0]);
    if (!valid_signal(a.arg[1])) return -EINVAL;
    if (pid != current_process().pid) return pid <= 0 ? -EINVAL : -ESRCH;
    SignalInfo info;
    if (int64_t r = queue_info(a.arg[2], true, info); r < 0) return r;
    return a.arg[1] ? signal_send_process(int(a.arg[1]), info) : 0;
}

int64_t sys_rt_tgsigqueueinfo(SyscallArgs& a) {
    if (int32_t(a.arg[0]) <= 0 || int32_t(a.arg[1]) <= 0) return -EINVAL;
    if (!valid_signal(a.arg[2])) return -EINVAL;
    Thread* t = thread_find(int(a.arg[1]));
    if (a.arg[0] != uint64_t(current_process().pid) || !t) return -ESRCH;
    SignalInfo info;
    if (int64_t r = queue_info(a.arg[3], true, info); r < 0) return r;
    return a.arg[2] ? signal_send_thread(*t, int(a.arg[2]), info) : 0;
}

int64_t sys_rt_sigpending(SyscallArgs& a) {
    if (a.arg[1] > 8) return -EINVAL;
    const Thread& t = current_thread();
    const uint64_t blocked_pending = signal_pending(t) & t.signal_mask;
    return copy_to_user(a.arg[0], &blocked_pending, a.arg[1]) ? 0 : -EFAULT;
}

int64_t sys_pause(SyscallArgs&) { return wait_for_signal(); }

int64_t sys_rt_sigsuspend(SyscallArgs& a) {
    if (a.arg[1] != 8) return -EINVAL;
    uint64_t mask;
    if (!UserPtr<uint64_t>(a.arg[0]).read(mask)) return -EFAULT;
    Thread& t = current_thread();
    // The handler's frame records the mask from before the call, which rt_sigreturn restores.
    t.saved_mask = t.signal_mask;
    t.has_saved_mask = true;
    t.signal_mask = mask & ~kUnblockable;
    return wait_for_signal();
}

int64_t sys_rt_sigtimedwait(SyscallArgs& a) {
    struct Timespec {
        int64_t sec, nsec;
    };
    if (a.arg[3] != 8) return -EINVAL;
    uint64_t set;
    if (!UserPtr<uint64_t>(a.arg[0]).read(set)) return -EFAULT;
    set &= ~kUnblockable;
    uint64_t deadline = 0;
    if (a.arg[2]) {
        Timespec ts;
        if (!UserPtr<Timespec>(a.arg[2]).read(ts)) return -EFAULT;
        if (ts.sec < 0 || ts.nsec < 0 || uint64_t(ts.nsec) >= kNsPerSec) return -EINVAL;
        deadline = monotonic_ns() + uint64_t(ts.sec) * kNsPerSec + uint64_t(ts.nsec);
    }
    Thread& t = current_thread();
    SignalInfo info;
    int sig = signal_dequeue(t, set, info);
    while (!sig) {
        if (a.arg[2] && monotonic_ns() >= deadline) return -EAGAIN;
        t.signal_waiting = set;
        WaitQueue nobody;
        const int64_t r = thread_wait(nobody, a.arg[2] ? deadline : 0);
        t.signal_waiting = 0;
        sig = signal_dequeue(t, set, info);
        if (!sig && r == -ETIMEDOUT) return -EAGAIN;
        if (!sig && r == -EINTR) return -EINTR;  // another signal, for a handler
    }
    if (a.arg[1]) {
        uint8_t siginfo[128] = {};
        const int32_t head[3] = {sig, 0, info.code};
        memcpy(siginfo, head, sizeof head);
        if (sig == kSigSegv || sig == kSigBus || sig == kSigFpe || sig == kSigIll) {
            memcpy(siginfo + 16, &info.addr, 8);
        } else if (info.code == kSiTimer) {
            memcpy(siginfo + 16, &info.timerid, 4);
            memcpy(siginfo + 20, &info.overrun, 4);
            memcpy(siginfo + 24, &info.value, 8);
        } else {
            memcpy(siginfo + 16, &info.pid, 4);
            memcpy(siginfo + 20, &info.uid, 4);
            if (info.code == kSiQueue) memcpy(siginfo + 24, &info.value, 8);
        }
        if (!copy_to_user(a.arg[1], siginfo, sizeof siginfo)) return -EFAULT;
    }
    return sig;
}

// --- ITIMER_REAL and alarm ---------------------------------------------------------------

namespace {

struct Timeval {
    int64_t sec, usec;
};
struct Itimerval {
    Timeval interval, value;
};

uint64_t to_ns(const Timeval& tv) { return uint64_t(tv.sec) * kNsPerSec + uint64_t(tv.usec) * kNsPerUsec; }
Timeval to_timeval(uint64_t ns) {
    // Linux rounds a remaining time up to the next microsecond, never to zero.
    return {int64_t(ns / kNsPerSec), int64_t((ns % kNsPerSec + kNsPerUsec - 1) / kNsPerUsec)};
}

Itimerval current_real_timer() {
    uint64_t left, interval;
    signal_real_timer(left, interval);
    Itimerval v{to_timeval(interval), to_timeval(left)};
    if (v.value.usec == 1'000'000) v.value = {v.value.sec + 1, 0};
    return v;
}

void set_real_timer(uint64_t value_ns, uint64_t interval_ns) {
    signal_set_real_timer(value_ns, interval_ns);
}

}  // namespace

int64_t sys_getitimer(SyscallArgs& a) {
    if (a.arg[0] > 2) return -EINVAL;
    if (a.arg[0] != 0) return -EINVAL;  // ITIMER_VIRTUAL and ITIMER_PROF: not yet
    const Itimerval v = current_real_timer();
    return UserPtr<Itimerval>(a.arg[1]).write(v) ? 0 : -EFAULT;
}

int64_t sys_setitimer(SyscallArgs& a) {
    if (a.arg[0] != 0) return -EINVAL;  // ITIMER_VIRTUAL and ITIMER_PROF: not yet
    Itimerval next{};
    if (a.arg[1] && !UserPtr<Itimerval>(a.arg[1]).read(next)) return -EFAULT;
    const Timeval both[2] = {next.interval, next.value};
    for (const Timeval& tv : both)
        if (tv.sec < 0 || tv.usec < 0 || tv.usec >= 1'000'000) return -EINVAL;
    const Itimerval old = current_real_timer();
    set_real_timer(to_ns(next.value), to_ns(next.interval));
    if (a.arg[2] && !UserPtr<Itimerval>(a.arg[2]).write(old)) return -EFAULT;
    return 0;
}

int64_t sys_alarm(SyscallArgs& a) {
    const Itimerval old = current_real_timer();
    set_real_timer(uint64_t(uint32_t(a.arg[0])) * kNsPerSec, 0);
    // Seconds left of the previous alarm, rounded to the nearest (at least 1 if any).
    uint64_t left = uint64_t(old.value.sec) + (old.value.usec >= 500'000 ? 1 : 0);
    if (!left && (old.value.sec || old.value.usec)) left = 1;
    return int64_t(left);
}

}  // namespace utx::kernel
