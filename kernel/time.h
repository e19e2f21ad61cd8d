// kernel/time.h: clocks from the TSC and the frequency in BootInfo; no VM exit.
#pragma once
#include <stdint.h>

namespace utx::kernel {

void time_init(uint64_t tsc_khz);
uint64_t monotonic_ns();
uint64_t realtime_ns();
uint64_t boot_ns();  // since the kernel started (uptime)
// Waits until monotonic_ns() >= deadline (other threads run meanwhile): 0, or -EINTR when
// a signal came first.
int64_t sleep_until(uint64_t deadline_ns);
// The TSC value at which monotonic_ns() reaches `deadline_ns` (0 when already past).
uint64_t tsc_deadline_for(uint64_t deadline_ns);
uint64_t monotonic_ns_at(uint64_t tsc);

}  // namespace utx::kernel
