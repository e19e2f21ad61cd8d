// kernel/vdso/vvar.h: the clock data the kernel publishes in the [vvar] page and the
// arithmetic on it. Both the kernel (kernel/time.cpp, the clock syscalls) and the vDSO
// (kernel/vdso/image/) compute the time with these functions from the same data, so a
// clock read with or without a system call gives the same nanoseconds for the same TSC.
// Freestanding: it is compiled into the kernel and into the user-mode vDSO alike.
#pragma once
#include <stdint.h>

namespace utx::vdso {

inline constexpr uint64_t kNsPerSec = 1'000'000'000;
inline constexpr uint64_t kPageSize = 4096;
// The vvar page lies right below the vDSO's ELF header: the vDSO reaches it rip-relatively
// (its linker script places vvar_clock there).
inline constexpr uint64_t kVvarSize = kPageSize;
// The GDT selector (index 8, RPL 3) whose segment limit is (node << 12) | cpu, Linux's
// CPUNODE segment, read by getcpu with `lsl`. Until the GDT has it, lsl fails and getcpu
// makes the system call.
inline constexpr uint16_t kCpuNodeSelector = 8 * 8 | 3;

// Linux's clock ids.
enum ClockId : uint32_t {
    kRealtime = 0,
    kMonotonic = 1,
    kProcessCputime = 2,
    kThreadCputime = 3,
    kMonotonicRaw = 4,
    kRealtimeCoarse = 5,
    kMonotonicCoarse = 6,
    kBoottime = 7,
    kRealtimeAlarm = 8,
    kBoottimeAlarm = 9,
    kTai = 11,
};
// The clocks the vDSO serves without a system call, as Linux's does: not the alarm clocks,
// not the CPU-time clocks.
inline constexpr uint32_t kVdsoClocks = 1u << kRealtime | 1u << kMonotonic | 1u << kMonotonicRaw |
                                        1u << kRealtimeCoarse | 1u << kMonotonicCoarse |
                                        1u << kBoottime | 1u << kTai;

struct ClockData {
    uint32_t seq;          // odd while the kernel rewrites the fields below
    uint32_t vdso_clocks;  // the clocks the vDSO may serve (kVdsoClocks), 0: always syscall
    uint64_t tsc_base;     // TSC at the synchronisation with the host
    uint64_t mult;         // ns since tsc_base = (tsc - tsc_base) * mult >> shift
    uint32_t shift;
    int32_t tz_minuteswest, tz_dsttime;  // what gettimeofday puts in a struct timezone
    uint64_t mono_base_ns;               // CLOCK_MONOTONIC at tsc_base
    uint64_t real_base_ns;               // CLOCK_REALTIME at tsc_base
    uint64_t tai_offset_ns;              // CLOCK_TAI - CLOCK_REALTIME
    uint64_t hres_resolution_ns;         // clock_getres of the precise clocks
    uint64_t coarse_resolution_ns;       // ... and of the *_COARSE ones
};

// The TSC, not read before the loads that precede it (Linux's rdtsc_ordered).
inline uint64_t read_tsc() {
    uint32_t lo, hi;
    asm volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return uint64_t(hi) << 32 | lo;
}

// Nanoseconds from tsc_base to `tsc` (0 for a TSC from before it).
inline uint64_t ns_since_base(const ClockData& d, uint64_t tsc) {
    const uint64_t delta = tsc > d.tsc_base ? tsc - d.tsc_base : 0;
    return uint64_t((unsigned __int128)delta * d.mult >> d.shift);
}

// The time on `clock` at `tsc`, for the clocks computed from the TSC; false for the others
// (the CPU-time clocks, invalid ids).
inline bool clock_ns_at(const ClockData& d, uint32_t clock, uint64_t tsc, uint64_t* ns) {
    switch (clock) {
        case kRealtime:
        case kRealtimeCoarse:
        case kRealtimeAlarm:
            *ns = d.real_base_ns + ns_since_base(d, tsc);
            return true;
        case kTai:
            *ns = d.real_base_ns + d.tai_offset_ns + ns_since_base(d, tsc);
            return true;
        case kMonotonic:
        case kMonotonicRaw:
        case kMonotonicCoarse:
        case kBoottime:
        case kBoottimeAlarm:
            *ns = d.mono_base_ns + ns_since_base(d, tsc);
            return true;
        default:
            return false;
    }
}

// The resolution clock_getres reports for one of clock_ns_at's clocks.
inline uint64_t clock_resolution_ns(const ClockData& d, uint32_t clock) {
    return clock == kRealtimeCoarse || clock == kMonotonicCoarse ? d.coarse_resolution_ns
                                                                 : d.hres_resolution_ns;
}

// Runs read(d) on a consistent state of `d`: again if the kernel rewrote it meanwhile. A
// TSC value that goes with the state is read inside `read`.
template <typename Read>
[[gnu::always_inline]] inline auto read_consistent(const ClockData& d, Read read) {
    for (;;) {
        const uint32_t seq = __atomic_load_n(&d.seq, __ATOMIC_ACQUIRE);
        if (seq & 1) {
            asm volatile("pause");
            continue;
        }
        auto result = read(d);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&d.seq, __ATOMIC_RELAXED) == seq) return result;
    }
}

// Whether the vDSO computes `clock` itself rather than making the system call.
inline bool vdso_serves(const ClockData& d, uint32_t clock) {
    return clock < 32 && (d.vdso_clocks & (1u << clock));
}

// The time on `clock` now. for_vdso: only for the clocks the kernel lets the vDSO serve.
[[gnu::always_inline]] inline bool clock_now_ns(const ClockData& d, uint32_t clock, uint64_t* ns,
                                                bool for_vdso) {
    return read_consistent(d, [clock, ns, for_vdso](const ClockData& s) {
        if (for_vdso && !vdso_serves(s, clock)) return false;
        return clock_ns_at(s, clock, read_tsc(), ns);
    });
}

// The kernel's side of the sequence: every change to the fields sits between these two.
inline void begin_update(ClockData& d) {
    __atomic_store_n(&d.seq, d.seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}
inline void end_update(ClockData& d) {
    __atomic_store_n(&d.seq, d.seq + 1, __ATOMIC_RELEASE);
}

}  // namespace utx::vdso
