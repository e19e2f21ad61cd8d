// kernel/vdso/image/vclock.cpp: clock_gettime, gettimeofday, time and clock_getres in user
// mode, from the vvar page with the kernel's own arithmetic (kernel/vdso/vvar.h). A clock
// the vDSO does not serve (CPU time, an invalid id) takes the system call, so its result and
// its error are the kernel's.
#include "kernel/vdso/image/syscall.h"
#include "kernel/vdso/vvar.h"

using namespace utx::vdso;

// On the vvar page right below the ELF header (vdso.lds), read rip-relatively.
extern "C" ClockData vvar_clock __attribute__((visibility("hidden")));

namespace {

struct Timespec {
    int64_t sec, nsec;
};
struct Timeval {
    int64_t sec, usec;
};
struct Timezone {
    int32_t minuteswest, dsttime;
};

}  // namespace

extern "C" {

VDSO_EXPORT int __vdso_clock_gettime(int clock, Timespec* ts) {
    uint64_t ns;
    if (!clock_now_ns(vvar_clock, uint32_t(clock), &ns, true))
        return int(fallback_syscall(kSysClockGettime, clock, long(ts)));
    ts->sec = int64_t(ns / kNsPerSec);
    ts->nsec = int64_t(ns % kNsPerSec);
    return 0;
}

VDSO_EXPORT int __vdso_gettimeofday(Timeval* tv, Timezone* tz) {
    if (tv) {
        uint64_t ns;
        if (!clock_now_ns(vvar_clock, kRealtime, &ns, true))
            return int(fallback_syscall(kSysGettimeofday, long(tv), long(tz)));
        tv->sec = int64_t(ns / kNsPerSec);
        tv->usec = int64_t(ns % kNsPerSec / 1000);
    }
    if (tz) {
        *tz = read_consistent(vvar_clock, [](const ClockData& d) {
            return Timezone{d.tz_minuteswest, d.tz_dsttime};
        });
    }
    return 0;
}

VDSO_EXPORT long __vdso_time(long* t) {
    uint64_t ns;
    if (!clock_now_ns(vvar_clock, kRealtime, &ns, true))
        return fallback_syscall(kSysTime, long(t), 0);
    const long seconds = long(ns / kNsPerSec);
    if (t) *t = seconds;
    return seconds;
}

VDSO_EXPORT int __vdso_clock_getres(int clock, Timespec* res) {
    uint64_t ns = 0;
    const bool served = read_consistent(vvar_clock, [clock, &ns](const ClockData& d) {
        if (!vdso_serves(d, uint32_t(clock))) return false;
        ns = clock_resolution_ns(d, uint32_t(clock));
        return true;
    });
    if (!served) return int(fallback_syscall(kSysClockGetres, clock, long(res)));
    if (res) {
        res->sec = int64_t(ns / kNsPerSec);
        res->nsec = int64_t(ns % kNsPerSec);
    }
    return 0;
}

// The names without the prefix, weak, as Linux's vDSO has them.
VDSO_EXPORT int clock_gettime(int, Timespec*) __attribute__((weak, alias("__vdso_clock_gettime")));
VDSO_EXPORT int gettimeofday(Timeval*, Timezone*)
    __attribute__((weak, alias("__vdso_gettimeofday")));
VDSO_EXPORT long time(long*) __attribute__((weak, alias("__vdso_time")));
VDSO_EXPORT int clock_getres(int, Timespec*) __attribute__((weak, alias("__vdso_clock_getres")));

}  // extern "C"
