#include "kernel/arch/x86_64/apic.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/mm/address_space.h"

namespace utx::kernel {
namespace {

constexpr uint32_t kMsrApicBase = 0x1b, kMsrTscDeadline = 0x6e0;
constexpr uint64_t kApicVirt = 0xffff'c000'0000'0000ULL;  // outside the direct map
constexpr uint32_t kRegId = 0x20, kRegIcrLow = 0x300, kRegIcrHigh = 0x310, kRegEoi = 0xb0, kRegSpurious = 0xf0, kRegLvtTimer = 0x320, kRegLvtLint1 = 0x360,
                   kRegInitialCount = 0x380, kRegCurrentCount = 0x390, kRegDivide = 0x3e0;
constexpr uint32_t kLvtMasked = 1u << 16, kLvtTscDeadline = 2u << 17;

bool g_ready;
bool g_tsc_deadline;
uint64_t g_tsc_khz;
uint64_t g_apic_ticks_per_ms;  // one-shot mode, measured against the TSC

volatile uint32_t& reg(uint32_t offset) {
    return *reinterpret_cast<volatile uint32_t*>(kApicVirt + offset);
}

void calibrate() {
    // 1 ms of TSC against the APIC timer counting down from its maximum.
    reg(kRegLvtTimer) = kTimerVector | kLvtMasked;
    reg(kRegInitialCount) = 0xffffffff;
    uint64_t end = rdtsc() + g_tsc_khz;
    while (rdtsc() < end) cpu_relax();
    g_apic_ticks_per_ms = 0xffffffffULL - reg(kRegCurrentCount);
    reg(kRegInitialCount) = 0;
    reg(kRegLvtTimer) = kTimerVector;
}

}  // namespace

bool apic_init(uint64_t tsc_khz) {
    uint32_t r[4];
    cpuid(1, 0, r);
    if (!(r[3] & (1u << 9)) || !tsc_khz) return false;
    g_tsc_khz = tsc_khz;
    g_tsc_deadline = r[2] & (1u << 24);
    uint64_t base = rdmsr(kMsrApicBase);
    if (!(base & (1u << 11))) wrmsr(kMsrApicBase, base | (1u << 11));
    uint64_t phys = base & 0xf'ffff'f000ULL;
    if (!current_address_space().page_table().map(kApicVirt, phys, kPteWrite | kPteNoCache))
        return false;
    apic_init_cpu();
    if (!g_tsc_deadline) {
        calibrate();
        if (!g_apic_ticks_per_ms) return false;
    }
    g_ready = true;
    return true;
}

void apic_init_cpu() {
    uint64_t base = rdmsr(kMsrApicBase);
    if (!(base & (1u << 11))) wrmsr(kMsrApicBase, base | (1u << 11));
    reg(kRegSpurious) = 0x100 | kSpuriousVector;
    // LINT1 delivers NMIs, as on a PC: QEMU's inject-nmi (signals sent to utx-run) comes
    // that way; masked, as the APIC starts, it would be dropped.
    reg(kRegLvtLint1) = 0x400;
    reg(kRegDivide) = 0xb;  // divide by 1
    reg(kRegLvtTimer) = kTimerVector | (g_tsc_deadline ? kLvtTscDeadline : 0);
    this_cpu().timer_armed = 0;
}

uint32_t apic_id() { return reg(kRegId) >> 24; }

void apic_send_ipi(uint32_t apic_id, uint8_t vector) {
    reg(kRegIcrHigh) = apic_id << 24;
    reg(kRegIcrLow) = vector;  // fixed delivery, physical destination
}

void apic_start_cpu(uint32_t apic_id, uint8_t page) {
    constexpr uint32_t kInit = 0x4500, kStartup = 0x4600, kPending = 1u << 12;
    auto wait_sent = [] {
        while (reg(kRegIcrLow) & kPending) cpu_relax();
    };
    reg(kRegIcrHigh) = apic_id << 24;
    reg(kRegIcrLow) = kInit;
    wait_sent();
    for (int i = 0; i < 2; ++i) {
        reg(kRegIcrHigh) = apic_id << 24;
        reg(kRegIcrLow) = kStartup | page;
        wait_sent();
    }
}

void apic_eoi() { reg(kRegEoi) = 0; }

bool apic_ready() { return g_ready; }

void apic_arm(uint64_t deadline_tsc) {
    if (!g_ready) return;
    uint64_t& armed = this_cpu().timer_armed;
    if (deadline_tsc == armed) return;
    armed = deadline_tsc;
    if (g_tsc_deadline) {
        wrmsr(kMsrTscDeadline, deadline_tsc);
        return;
    }
    if (!deadline_tsc) {
        reg(kRegInitialCount) = 0;
        return;
    }
    const uint64_t now = rdtsc();
    uint64_t delta = deadline_tsc > now ? deadline_tsc - now : 1;
    if (delta > g_tsc_khz * 1000) delta = g_tsc_khz * 1000;  // re-armed each second
    uint64_t ticks = delta * g_apic_ticks_per_ms / g_tsc_khz + 1;
    reg(kRegInitialCount) = ticks > 0xffffffffULL ? 0xffffffffU : uint32_t(ticks);
}

}  // namespace utx::kernel
