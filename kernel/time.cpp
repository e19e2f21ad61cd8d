#include "kernel/time.h"

#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/platform/hypercall.h"
#include "kernel/lib/errno.h"
#include "kernel/sched/sched.h"

namespace utx::kernel {
namespace {

uint64_t g_tsc_base;       // TSC at the clock synchronisation
uint64_t g_mono_base_ns;   // host CLOCK_MONOTONIC then
uint64_t g_real_base_ns;   // host CLOCK_REALTIME then
uint64_t g_mult;           // ns = (tsc delta * mult) >> 32
uint64_t g_tsc_khz;

uint64_t tsc_to_ns(uint64_t delta) {
    return uint64_t((unsigned __int128)delta * g_mult >> 32);
}

}  // namespace

void time_init(uint64_t tsc_khz) {
    g_tsc_khz = tsc_khz ? tsc_khz : 1'000'000;
    g_mult = (1'000'000ULL << 32) / g_tsc_khz;
    abi::HcRequest req{};
    req.op = abi::kHcClock;
    uint64_t before = rdtsc();
    hypercall(req);
    uint64_t after = rdtsc();
    g_tsc_base = before + (after - before) / 2;
    g_real_base_ns = req.args[0];
    g_mono_base_ns = req.args[1];
}

uint64_t monotonic_ns_at(uint64_t tsc) {
    return g_mono_base_ns + (tsc > g_tsc_base ? tsc_to_ns(tsc - g_tsc_base) : 0);
}

uint64_t boot_ns() { return tsc_to_ns(rdtsc() - g_tsc_base); }
uint64_t monotonic_ns() { return g_mono_base_ns + boot_ns(); }
uint64_t realtime_ns() { return g_real_base_ns + boot_ns(); }

uint64_t tsc_deadline_for(uint64_t deadline_ns) {
    if (deadline_ns <= g_mono_base_ns) return 0;
    const unsigned __int128 ns = deadline_ns - g_mono_base_ns;
    const unsigned __int128 ticks = ns * g_tsc_khz / 1'000'000;
    return ticks > ~0ULL - g_tsc_base ? ~0ULL : g_tsc_base + uint64_t(ticks);
}

int64_t sleep_until(uint64_t deadline_ns) {
    if (deadline_ns <= monotonic_ns()) return 0;
    WaitQueue nobody;  // only the deadline (or a signal) ends this wait
    const int64_t r = thread_wait(nobody, deadline_ns);
    return r == -EINTR ? r : 0;
}

}  // namespace utx::kernel
