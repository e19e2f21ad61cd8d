#include "kernel/time.h"

#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/platform/hypercall.h"
#include "kernel/lib/errno.h"
#include "kernel/sched/sched.h"
#include "kernel/vdso/vdso.h"

namespace utx::kernel {
namespace {

// The clock lives in the vvar page (kernel/vdso/vvar.h): the vDSO reads the same data with
// the same arithmetic.
uint64_t g_tsc_khz;
constexpr uint64_t kCoarseResolutionNs = 4'000'000;  // one jiffy at HZ=250
constexpr uint64_t kTaiOffsetNs = 37 * vdso::kNsPerSec;

const vdso::ClockData& clock() { return vvar_clock(); }

}  // namespace

void time_init(uint64_t tsc_khz) {
    g_tsc_khz = tsc_khz ? tsc_khz : 1'000'000;
    abi::HcRequest req{};
    req.op = abi::kHcClock;
    uint64_t before = rdtsc();
    hypercall(req);
    uint64_t after = rdtsc();
    vdso::ClockData& c = vvar_clock();
    vdso::begin_update(c);
    c.tsc_base = before + (after - before) / 2;
    c.shift = 32;
    c.mult = (1'000'000ULL << 32) / g_tsc_khz;
    c.real_base_ns = req.args[0];
    c.mono_base_ns = req.args[1];
    c.tai_offset_ns = kTaiOffsetNs;
    c.hres_resolution_ns = 1;
    c.coarse_resolution_ns = kCoarseResolutionNs;
    c.tz_minuteswest = c.tz_dsttime = 0;
    c.vdso_clocks = vdso::kVdsoClocks;
    vdso::end_update(c);
}

bool clock_read_ns(uint32_t clock_id, uint64_t* ns) {
    return vdso::clock_now_ns(clock(), clock_id, ns, false);
}

uint64_t clock_resolution_ns(uint32_t clock_id) {
    return vdso::read_consistent(clock(), [clock_id](const vdso::ClockData& c) {
        return vdso::clock_resolution_ns(c, clock_id);
    });
}

Timezone clock_timezone() {
    return vdso::read_consistent(clock(), [](const vdso::ClockData& c) {
        return Timezone{c.tz_minuteswest, c.tz_dsttime};
    });
}

uint64_t monotonic_ns_at(uint64_t tsc) {
    return vdso::read_consistent(clock(), [tsc](const vdso::ClockData& c) {
        return c.mono_base_ns + vdso::ns_since_base(c, tsc);
    });
}

uint64_t boot_ns() {
    return vdso::read_consistent(clock(), [](const vdso::ClockData& c) {
        return vdso::ns_since_base(c, vdso::read_tsc());
    });
}

uint64_t monotonic_ns() {
    uint64_t ns = 0;
    clock_read_ns(vdso::kMonotonic, &ns);
    return ns;
}

uint64_t realtime_ns() {
    uint64_t ns = 0;
    clock_read_ns(vdso::kRealtime, &ns);
    return ns;
}

uint64_t tsc_deadline_for(uint64_t deadline_ns) {
    struct Base {
        uint64_t mono_ns, tsc;
    };
    const Base base = vdso::read_consistent(
        clock(), [](const vdso::ClockData& c) { return Base{c.mono_base_ns, c.tsc_base}; });
    const uint64_t mono_base = base.mono_ns, tsc_base = base.tsc;
    if (deadline_ns <= mono_base) return 0;
    const unsigned __int128 ns = deadline_ns - mono_base;
    const unsigned __int128 ticks = ns * g_tsc_khz / 1'000'000;
    return ticks > ~0ULL - tsc_base ? ~0ULL : tsc_base + uint64_t(ticks);
}

int64_t sleep_until(uint64_t deadline_ns) {
    if (deadline_ns <= monotonic_ns()) return 0;
    WaitQueue nobody;  // only the deadline (or a signal) ends this wait
    const int64_t r = thread_wait(nobody, deadline_ns);
    return r == -EINTR ? r : 0;
}

}  // namespace utx::kernel
