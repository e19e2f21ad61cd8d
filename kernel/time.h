// kernel/time.h: clocks from the TSC and the frequency in BootInfo; no VM exit. The clock
// data is published in the vvar page, where the vDSO computes the same time without a
// system call (kernel/vdso/vvar.h).
#pragma once
#include <stdint.h>

namespace utx::kernel {

void time_init(uint64_t tsc_khz);
uint64_t monotonic_ns();
uint64_t realtime_ns();
uint64_t boot_ns();  // since the kernel started (uptime)
// The time on one of Linux's clocks computed from the TSC (vdso::ClockId); false for the
// CPU-time clocks and invalid ids.
bool clock_read_ns(uint32_t clock_id, uint64_t* ns);
// What clock_getres reports for a clock that clock_read_ns reads.
uint64_t clock_resolution_ns(uint32_t clock_id);
// What gettimeofday stores in a struct timezone.
struct Timezone {
    int32_t minuteswest, dsttime;
};
Timezone clock_timezone();
// Waits until monotonic_ns() >= deadline (other threads run meanwhile): 0, or -EINTR when
// a signal came first.
int64_t sleep_until(uint64_t deadline_ns);
// The TSC value at which monotonic_ns() reaches `deadline_ns` (0 when already past).
uint64_t tsc_deadline_for(uint64_t deadline_ns);
uint64_t monotonic_ns_at(uint64_t tsc);

}  // namespace utx::kernel
