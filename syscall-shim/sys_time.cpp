// syscall-shim/sys_time.cpp: clocks and sleeping, from the TSC (kernel/time).
#include "kernel/time.h"
#include "syscall-shim/handlers.h"
#include "kernel/mm/user_access.h"

namespace utx::kernel {
namespace {

struct Timespec {
    int64_t sec, nsec;
};
constexpr uint64_t kNsPerSec = 1'000'000'000ULL;
constexpr int64_t kCoarseResolutionNs = 4'000'000;  // one jiffy at HZ=250

enum Clock {
    kRealtime = 0, kMonotonic = 1, kProcessCputime = 2, kThreadCputime = 3,
    kMonotonicRaw = 4, kRealtimeCoarse = 5, kMonotonicCoarse = 6, kBoottime = 7,
    kRealtimeAlarm = 8, kBoottimeAlarm = 9, kTai = 11,
};

// Nanoseconds on `clock`, or -EINVAL.
int64_t clock_now(uint64_t clock) {
    switch (clock) {
        case kRealtime:
        case kRealtimeCoarse:
        case kRealtimeAlarm:
            return int64_t(realtime_ns());
        case kTai:
            return int64_t(realtime_ns() + 37 * kNsPerSec);
        case kMonotonic:
        case kMonotonicRaw:
        case kMonotonicCoarse:
        case kBoottime:
        case kBoottimeAlarm:
            return int64_t(monotonic_ns());
        case kProcessCputime:
        case kThreadCputime:
            // One thread that never waits for another: its CPU time is its lifetime.
            return int64_t(boot_ns());
        default:
            return -EINVAL;
    }
}

Timespec to_timespec(uint64_t ns) { return {int64_t(ns / kNsPerSec), int64_t(ns % kNsPerSec)}; }

// Sleeps until `deadline` on `clock`, as nanosleep and clock_nanosleep do.
int64_t sleep_on(uint64_t clock, bool absolute, const Timespec& t, uint64_t rem_addr) {
    if (t.sec < 0 || t.nsec < 0 || uint64_t(t.nsec) >= kNsPerSec) return -EINVAL;
    int64_t now = clock_now(clock);
    if (now < 0) return now;
    uint64_t req = uint64_t(t.sec) * kNsPerSec + uint64_t(t.nsec);
    uint64_t wait = absolute ? (req > uint64_t(now) ? req - uint64_t(now) : 0) : req;
    const uint64_t deadline = monotonic_ns() + wait;
    if (sleep_until(deadline) == 0) return 0;
    // Interrupted by a signal's handler: EINTR, and for a relative sleep the time left.
    if (!absolute && rem_addr) {
        const uint64_t now = monotonic_ns();
        if (!UserPtr<Timespec>(rem_addr).write(to_timespec(deadline > now ? deadline - now : 0)))
            return -EFAULT;
    }
    return -EINTR;
}

}  // namespace

int64_t sys_clock_gettime(SyscallArgs& a) {
    int64_t ns = clock_now(a.arg[0]);
    if (ns < 0) return ns;
    return UserPtr<Timespec>(a.arg[1]).write(to_timespec(uint64_t(ns))) ? 0 : -EFAULT;
}

int64_t sys_clock_getres(SyscallArgs& a) {
    if (clock_now(a.arg[0]) < 0) return -EINVAL;
    const bool coarse = a.arg[0] == kRealtimeCoarse || a.arg[0] == kMonotonicCoarse;
    Timespec res{0, coarse ? kCoarseResolutionNs : 1};
    if (!a.arg[1]) return 0;
    return UserPtr<Timespec>(a.arg[1]).write(res) ? 0 : -EFAULT;
}

int64_t sys_gettimeofday(SyscallArgs& a) {
    struct Timeval {
        int64_t sec, usec;
    };
    uint64_t ns = realtime_ns();
    if (a.arg[0] &&
        !UserPtr<Timeval>(a.arg[0]).write({int64_t(ns / kNsPerSec), int64_t(ns % kNsPerSec / 1000)}))
        return -EFAULT;
    if (a.arg[1]) {
        const int32_t tz[2] = {0, 0};
        if (!copy_to_user(a.arg[1], tz, sizeof tz)) return -EFAULT;
    }
    return 0;
}

int64_t sys_time(SyscallArgs& a) {
    int64_t t = int64_t(realtime_ns() / kNsPerSec);
    if (a.arg[0] && !UserPtr<int64_t>(a.arg[0]).write(t)) return -EFAULT;
    return t;
}

int64_t sys_nanosleep(SyscallArgs& a) {
    Timespec t;
    if (!UserPtr<Timespec>(a.arg[0]).read(t)) return -EFAULT;
    return sleep_on(kMonotonic, false, t, a.arg[1]);
}

int64_t sys_clock_nanosleep(SyscallArgs& a) {
    constexpr uint64_t kTimerAbstime = 1;
    const uint64_t clock = a.arg[0];
    if (clock == kThreadCputime) return -EINVAL;
    if (clock_now(clock) < 0) return -EINVAL;
    if (clock == kMonotonicRaw || clock == kRealtimeCoarse || clock == kMonotonicCoarse)
        return -EOPNOTSUPP;
    Timespec t;
    if (!UserPtr<Timespec>(a.arg[2]).read(t)) return -EFAULT;
    return sleep_on(clock, a.arg[1] & kTimerAbstime, t, a.arg[3]);
}

}  // namespace utx::kernel
