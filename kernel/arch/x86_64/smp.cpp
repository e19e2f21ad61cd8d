#include "kernel/arch/x86_64/smp.h"

#include "abi/boot_info.h"
#include "kernel/arch/x86_64/apic.h"
#include "kernel/lib/errno.h"
#include "kernel/lib/log.h"
#include "kernel/lib/string.h"
#include "kernel/mm/address_space.h"
#include "kernel/mm/memory.h"
#include "kernel/platform/hypercall.h"
#include "kernel/sched/sched.h"
#include "kernel/time.h"

extern "C" const uint8_t ap_trampoline[], ap_trampoline_end[], ap_trampoline_params[];
extern "C" void ap_entry();

namespace utx::kernel {
namespace {

PerCpu g_cpus[kMaxCpus];
uint32_t g_cpu_count = 1;

// The kernel lock: a ticket lock, so that CPUs get it in the order they asked.
struct {
    uint32_t next;
    uint32_t serving;
} g_lock;

uint64_t g_tlb_generation;  // bumped by each shootdown (under the lock)
SmpStats g_stats;           // under the lock

constexpr uint64_t kIdleStackSize = 16 * 1024;

struct ApTrampolineParams {
    uint64_t cr3, rsp, rdi, entry;
};

// A starting CPU's state: kStarting until it comes online, or until the first CPU gives up
// on it (an emulated CPU on a very busy host can be slow): then it must never join.
enum : uint8_t { kStarting, kOnline, kAbandoned };
uint8_t g_start_state[kMaxCpus];

bool wait_online(uint32_t index) {
    const uint64_t give_up = monotonic_ns() + 10'000'000'000ULL;
    uint8_t& state = g_start_state[index];
    while (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != kOnline) {
        uint8_t expected = kStarting;
        if (monotonic_ns() > give_up &&
            __atomic_compare_exchange_n(&state, &expected, kAbandoned, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return false;
        cpu_relax();
    }
    return true;
}

}  // namespace

uint32_t cpu_count() { return g_cpu_count; }
PerCpu& cpu_at(uint32_t index) { return g_cpus[index]; }
PerCpu& boot_cpu() { return g_cpus[0]; }

bool g_wait_by_halting;
constexpr uint32_t kSpinsBeforeHalt = 2000;
constexpr uint64_t kHaltSliceNs = 50'000;

void set_wait_by_halting(bool on) { g_wait_by_halting = on; }
bool wait_by_halting() { return g_wait_by_halting && apic_ready(); }

void halt_briefly() {
    PerCpu& cpu = this_cpu();
    apic_arm(tsc_deadline_for(monotonic_ns() + kHaltSliceNs));
    cpu.halted_in_wait = true;
    // Interrupts here only wake it: traps.cpp's kernel-mode paths.
    irq_enable_halt_disable();
}

bool halted_since_rearm() {
    PerCpu& cpu = this_cpu();
    const bool was = cpu.halted_in_wait;
    cpu.halted_in_wait = false;
    return was;
}

void kernel_lock() {
    const uint32_t ticket = __atomic_fetch_add(&g_lock.next, 1, __ATOMIC_RELAXED);
    for (uint32_t i = 0; __atomic_load_n(&g_lock.serving, __ATOMIC_ACQUIRE) != ticket; ++i) {
        if (i < kSpinsBeforeHalt || !wait_by_halting()) cpu_relax();
        else halt_briefly();
    }
}

void kernel_unlock() {
    __atomic_store_n(&g_lock.serving, g_lock.serving + 1, __ATOMIC_RELEASE);
}

void kernel_enter() {
    PerCpu& cpu = this_cpu();
    __atomic_store_n(&cpu.in_user, false, __ATOMIC_SEQ_CST);
    kernel_lock();
    if (halted_since_rearm()) sched_rearm_timer();
    // A shootdown that did not wait for this CPU (it was already on its way in).
    if (cpu.tlb_generation != g_tlb_generation) {
        flush_tlb();
        __atomic_store_n(&cpu.tlb_generation, g_tlb_generation, __ATOMIC_RELEASE);
    }
}

void kernel_exit() {
    __atomic_store_n(&this_cpu().in_user, true, __ATOMIC_SEQ_CST);
    kernel_unlock();
}

void tlb_shootdown() {
    if (g_cpu_count == 1) return;
    const uint64_t generation = __atomic_add_fetch(&g_tlb_generation, 1, __ATOMIC_SEQ_CST);
    PerCpu& self = this_cpu();
    self.tlb_generation = generation;
    // Only CPUs in the application can be using the old entries now: the others are in the
    // kernel (waiting for the lock, or idle) and flush in kernel_enter.
    bool waiting = false;
    for (uint32_t i = 0; i < g_cpu_count; ++i) {
        PerCpu& cpu = g_cpus[i];
        if (&cpu == &self || !__atomic_load_n(&cpu.in_user, __ATOMIC_SEQ_CST)) continue;
        apic_send_ipi(cpu.apic_id, kTlbFlushVector);
        ++g_stats.shootdown_ipis;
        waiting = true;
    }
    if (!waiting) return;
    ++g_stats.shootdowns;
    for (uint32_t i = 0; i < g_cpu_count; ++i) {
        PerCpu& cpu = g_cpus[i];
        if (&cpu == &self) continue;
        while (__atomic_load_n(&cpu.in_user, __ATOMIC_SEQ_CST) &&
               __atomic_load_n(&cpu.tlb_generation, __ATOMIC_ACQUIRE) < generation)
            cpu_relax();
    }
}

void tlb_flush_interrupt() {
    const uint64_t generation = __atomic_load_n(&g_tlb_generation, __ATOMIC_ACQUIRE);
    flush_tlb();
    __atomic_store_n(&this_cpu().tlb_generation, generation, __ATOMIC_RELEASE);
}

void cpu_kick(PerCpu& cpu) {
    ++g_stats.wake_ipis;
    apic_send_ipi(cpu.apic_id, kRescheduleVector);
}

void smp_after_fork(Thread*& old_idle0) {
    PerCpu& was = this_cpu();
    PerCpu& cpu = g_cpus[0];
    old_idle0 = nullptr;
    if (&was != &cpu) {
        old_idle0 = cpu.idle;
        cpu.current = was.current;
        cpu.idle = was.idle;
        cpu.current->cpu = 0;
        cpu.idle->cpu = 0;
        cpu_init(cpu, cpu.current->kernel_stack_top);
        cpu_set_kernel_stack(cpu.current->kernel_stack_top);
        // cpu_init loads null selectors, which clear the FS base on Intel (and QEMU): the
        // caller's TLS comes back, and its GS base, which cpu_init set for the kernel.
        wrmsr(kMsrFsBase, cpu.current->fs_base);
        wrmsr(kMsrKernelGsBase, cpu.current->gs_base);
    }
    cpu.apic_id = apic_ready() ? apic_id() : 0;
    cpu.online = true;
    cpu.timer_armed = 0;
    cpu.halted = cpu.polling = cpu.wake = cpu.halted_in_wait = false;
    cpu.in_user = false;
    cpu.tlb_generation = g_tlb_generation;
    for (uint32_t i = 1; i < kMaxCpus; ++i) g_cpus[i].online = false;
    g_cpu_count = 1;
    // Tickets other CPUs of the parent had taken have no CPU to use them here.
    __atomic_store_n(&g_lock.next, g_lock.serving + 1, __ATOMIC_RELEASE);
}

const SmpStats& smp_stats() { return g_stats; }
SmpStats& smp_stats_mut() { return g_stats; }

void smp_start(const abi::BootInfo& info) {
    g_cpus[0].apic_id = apic_ready() ? apic_id() : 0;
    g_cpus[0].online = true;
    uint32_t wanted = info.vcpu_count ? info.vcpu_count : 1;
    if (wanted > kMaxCpus) wanted = kMaxCpus;
    if (wanted > 1 && !apic_ready()) {
        klog("utx: no local APIC: running on one vCPU\n");
        return;
    }
    const bool qemu = info.flags & abi::kBootFlagQemu;
    if (qemu)
        memcpy(phys_to_virt(abi::kApTrampolineGpa), ap_trampoline,
               size_t(ap_trampoline_end - ap_trampoline));
    for (uint32_t i = 1; i < wanted; ++i) {
        PerCpu& cpu = g_cpus[i];
        cpu.index = i;
        cpu.idle = sched_create_idle(kIdleStackSize);
        if (!cpu.idle || !hypercall_cpu_init(cpu)) panic("out of memory for CPU %u", i);
        cpu.current = cpu.idle;
        const uint64_t rsp = cpu.idle->kernel_stack_top;
        const uint64_t rdi = reinterpret_cast<uint64_t>(&cpu);
        const uint64_t entry = reinterpret_cast<uint64_t>(&ap_entry);
        if (qemu) {
            auto* params = static_cast<ApTrampolineParams*>(phys_to_virt(
                abi::kApTrampolineGpa + uint64_t(ap_trampoline_params - ap_trampoline)));
            *params = {abi::kBootPageTablesGpa, rsp, rdi, entry};
            apic_start_cpu(i, uint8_t(abi::kApTrampolineGpa >> 12));
        } else if (int64_t rc = host_start_cpu(i, entry, rsp, rdi); rc < 0) {
            panic("the VMM cannot start vCPU %u: %s", i, errno_name(int(-rc)));
        }
        if (!wait_online(i)) {
            klog("utx: vCPU %u did not start; running on %u\n", i, i);
            break;
        }
        g_cpu_count = i + 1;
    }
}

}  // namespace utx::kernel

using namespace utx::kernel;

// A CPU other than the first, on its idle thread's stack (ap_entry).
extern "C" [[noreturn]] void ap_main(PerCpu* cpu) {
    current_address_space().page_table().activate();
    cpu_init(*cpu, cpu->idle->kernel_stack_top);
    fpu_init();
    protection_init();
    apic_init_cpu();
    cpu->apic_id = apic_id();
    uint8_t expected = kStarting;
    if (!__atomic_compare_exchange_n(&g_start_state[cpu->index], &expected, kOnline, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        for (;;) asm volatile("cli; hlt");  // too late: the kernel runs without this CPU
    }
    cpu->online = true;
    kernel_lock();
    sched_idle();
}
