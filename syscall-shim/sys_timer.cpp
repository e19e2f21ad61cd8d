// syscall-shim/sys_timer.cpp: POSIX timers (timer_create & co.) on the kernel's timers:
// SIGEV_SIGNAL to the process, SIGEV_THREAD_ID to one thread (what glibc's and musl's
// SIGEV_THREAD is built on), SIGEV_NONE; CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME.
#include "kernel/lib/string.h"
#include "kernel/mm/user_access.h"
#include "kernel/process.h"
#include "kernel/sched/sched.h"
#include "kernel/signal.h"
#include "kernel/time.h"
#include "syscall-shim/handlers.h"

namespace utx::kernel {
namespace {

constexpr uint64_t kNsPerSec = 1'000'000'000;
constexpr int kClockRealtime = 0, kClockMonotonic = 1, kClockBoottime = 7;
constexpr int kSigevSignal = 0, kSigevNone = 1, kSigevThreadId = 4;
constexpr int kMaxTimers = 64;

struct PosixTimer {
    KTimer kt;       // first: the KTimer's address is the timer's
    bool used;
    int clock;
    int notify, signo, tid;
    uint64_t value;  // sigev_value
    uint64_t interval_ns;
    uint64_t expires_ns;   // CLOCK_MONOTONIC of the expiry armed last (the period's start)
    int32_t overrun;       // expirations since the signal was sent, not yet delivered
    int32_t last_overrun;  // what timer_getoverrun reports
};
PosixTimer g_timers[kMaxTimers];

struct Timespec {
    int64_t sec, nsec;
};
struct Itimerspec {
    Timespec interval, value;
};
struct Sigevent {
    uint64_t value;
    int32_t signo, notify;
    int32_t tid;
    int32_t pad[11];
};
static_assert(sizeof(Sigevent) == 64);

bool valid(const Timespec& t) { return t.sec >= 0 && t.nsec >= 0 && uint64_t(t.nsec) < kNsPerSec; }
uint64_t to_ns(const Timespec& t) { return uint64_t(t.sec) * kNsPerSec + uint64_t(t.nsec); }
Timespec to_timespec(uint64_t ns) { return {int64_t(ns / kNsPerSec), int64_t(ns % kNsPerSec)}; }

PosixTimer* lookup(uint64_t id) {
    return id < uint64_t(kMaxTimers) && g_timers[id].used ? &g_timers[id] : nullptr;
}

void expire(KTimer* kt) {
    auto* t = reinterpret_cast<PosixTimer*>(kt);
    const int id = int(t - g_timers);
    if (t->interval_ns) {
        // The next period from the one that just ended; periods already missed count as
        // overruns, as Linux does.
        // Counted from when it was due, not from when it ran (late on a busy host).
        const uint64_t now = monotonic_ns();
        uint64_t next = t->expires_ns + t->interval_ns;
        while (next <= now) {
            next += t->interval_ns;
            ++t->overrun;
        }
        t->expires_ns = next;
        ktimer_arm(*kt, next);
    }
    if (t->notify == kSigevNone) return;
    Thread* target = t->notify == kSigevThreadId ? thread_find(t->tid) : nullptr;
    const uint64_t pending = target ? target->pending : signal_pending(current_thread());
    if (pending & sigbit(t->signo)) {  // not yet delivered: one more overrun of that signal
        ++t->overrun;
        return;
    }
    const SignalInfo info{kSiTimer, 0, 0, 0, id, 0, t->value};  // overruns: when taken
    if (target) signal_send_thread(*target, t->signo, info);
    else signal_send_process(t->signo, info);
}

}  // namespace

int32_t posix_timer_take_overrun(int32_t id) {
    if (id < 0 || id >= kMaxTimers || !g_timers[id].used) return 0;
    PosixTimer& t = g_timers[id];
    t.last_overrun = t.overrun;
    t.overrun = 0;
    return t.last_overrun;
}

int64_t sys_timer_create(SyscallArgs& a) {
    const int clock = int(a.arg[0]);
    if (clock != kClockRealtime && clock != kClockMonotonic && clock != kClockBoottime)
        return clock >= 0 && clock <= 11 ? -EOPNOTSUPP : -EINVAL;  // CPU-time clocks: not yet
    Sigevent ev{0, kSigAlrm, kSigevSignal, 0, {}};
    if (a.arg[1] && !UserPtr<Sigevent>(a.arg[1]).read(ev)) return -EFAULT;
    const int notify = ev.notify & ~kSigevThreadId;
    if (ev.notify != kSigevNone && ev.notify != kSigevSignal && ev.notify != kSigevThreadId &&
        ev.notify != (kSigevThreadId | kSigevSignal))
        return -EINVAL;
    (void)notify;
    if (ev.notify != kSigevNone && (ev.signo < 1 || ev.signo > kNumSignals)) return -EINVAL;
    if ((ev.notify & kSigevThreadId) && !thread_find(ev.tid)) return -EINVAL;
    int id = 0;
    while (id < kMaxTimers && g_timers[id].used) ++id;
    if (id == kMaxTimers) return -EAGAIN;
    PosixTimer& t = g_timers[id];
    t = PosixTimer{};
    t.kt.fire = expire;
    t.used = true;
    t.clock = clock;
    t.notify = (ev.notify & kSigevThreadId) ? kSigevThreadId : ev.notify;
    t.signo = ev.signo;
    t.tid = ev.tid;
    t.value = a.arg[1] ? ev.value : uint64_t(id);  // no sigevent: sigev_value is the id
    if (!UserPtr<int32_t>(a.arg[2]).write(id)) {
        t.used = false;
        return -EFAULT;
    }
    return 0;
}

int64_t sys_timer_settime(SyscallArgs& a) {
    constexpr uint64_t kTimerAbstime = 1;
    PosixTimer* t = lookup(a.arg[0]);
    if (!t) return -EINVAL;
    Itimerspec next;
    if (!UserPtr<Itimerspec>(a.arg[2]).read(next)) return -EFAULT;
    if (!valid(next.interval) || !valid(next.value)) return -EINVAL;
    if (a.arg[3]) {
        const uint64_t at = ktimer_deadline_ns(t->kt), now = monotonic_ns();
        const Itimerspec old{to_timespec(t->interval_ns),
                             to_timespec(at ? (at > now ? at - now : 1) : 0)};
        if (!UserPtr<Itimerspec>(a.arg[3]).write(old)) return -EFAULT;
    }
    uint64_t value = to_ns(next.value);
    t->interval_ns = to_ns(next.interval);
    t->overrun = 0;
    if (!value) {
        ktimer_cancel(t->kt);
        return 0;
    }
    uint64_t deadline = monotonic_ns() + value;
    if (a.arg[1] & kTimerAbstime) {
        // An absolute time on the timer's clock, to CLOCK_MONOTONIC (the kernel's).
        const uint64_t now = t->clock == kClockRealtime ? realtime_ns() : monotonic_ns();
        deadline = monotonic_ns() + (value > now ? value - now : 0);
    }
    t->expires_ns = deadline;
    ktimer_arm(t->kt, deadline);
    return 0;
}

int64_t sys_timer_gettime(SyscallArgs& a) {
    PosixTimer* t = lookup(a.arg[0]);
    if (!t) return -EINVAL;
    const uint64_t at = ktimer_deadline_ns(t->kt), now = monotonic_ns();
    const Itimerspec cur{to_timespec(t->interval_ns),
                         to_timespec(at ? (at > now ? at - now : 1) : 0)};
    return UserPtr<Itimerspec>(a.arg[1]).write(cur) ? 0 : -EFAULT;
}

int64_t sys_timer_getoverrun(SyscallArgs& a) {
    PosixTimer* t = lookup(a.arg[0]);
    return t ? t->last_overrun : -EINVAL;
}

void posix_timers_exec_reset() {
    for (PosixTimer& t : g_timers) {
        ktimer_cancel(t.kt);
        t.used = false;
    }
}

int64_t sys_timer_delete(SyscallArgs& a) {
    PosixTimer* t = lookup(a.arg[0]);
    if (!t) return -EINVAL;
    ktimer_cancel(t->kt);
    t->used = false;
    return 0;
}

}  // namespace utx::kernel
