// syscall-shim/sys_time.cpp: clocks and sleeping, from the TSC (kernel/time). Programs
// mostly read the clocks through the vDSO instead (kernel/vdso): these are its fallback and
// what a program calling syscall() directly gets, with the same results.
#include "kernel/time.h"
#include "kernel/mm/user_access.h"
#include "kernel/vdso/vvar.h"
#include "syscall-shim/handlers.h"

namespace utx::kernel {
namespace {

struct Timespec {
    int64_t sec, nsec;
};
constexpr uint64_t kNsPerSec = vdso::kNsPerSec;
using vdso::kMonotonic, vdso::kMonotonicCoarse, vdso::kMonotonicRaw, vdso::kProcessCputime,
    vdso::kRealtimeCoarse, vdso::kThreadCputime;

// Nanoseconds on `clock`, or -EINVAL. The clocks from the TSC are computed as the vDSO
// computes them (kernel/vdso/vvar.h).
int64_t clock_now(uint64_t clock) {
    if (clock == kProcessCputime || clock == kThreadCputime)
        // One thread that never waits for another: its CPU time is its lifetime.
        return int64_t(boot_ns());
    uint64_t ns;
    if (clock > 0xffff'ffff || !clock_read_ns(uint32_t(clock), &ns)) return -EINVAL;
    return int64_t(ns);
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
    const int64_t now = clock_now(a.arg[0]);
    if (now < 0) return now;
    const bool cpu_clock = a.arg[0] == kProcessCputime || a.arg[0] == kThreadCputime;
    Timespec res = to_timespec(cpu_clock ? 1 : clock_resolution_ns(uint32_t(a.arg[0])));
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
        const Timezone tz = clock_timezone();
        if (!UserPtr<Timezone>(a.arg[1]).write(tz)) return -EFAULT;
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
