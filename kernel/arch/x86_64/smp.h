// kernel/arch/x86_64/smp.h: more than one vCPU: starting them, the kernel lock, IPIs and
// TLB shootdowns.
//
// The kernel runs under one lock (a ticket lock): a CPU takes it when it enters the kernel
// from the application and gives it back on the way out, or while it idles. Inside the
// kernel, interrupts stay off (except in the idle loop), so kernel code is written as for
// one CPU. Threads run in parallel wherever they spend their time: in the application.
#pragma once
#include <stdint.h>

#include "kernel/arch/x86_64/cpu.h"

namespace utx::abi {
struct BootInfo;
}

namespace utx::kernel {

uint32_t cpu_count();         // CPUs online
PerCpu& cpu_at(uint32_t index);  // index < cpu_count()

// The first CPU's block (index 0), before anything else in kernel_main.
PerCpu& boot_cpu();
// Starts the other vCPUs (BootInfo.vcpu_count), each into its idle thread. Under the QEMU
// backend through INIT and STARTUP IPIs into a real-mode trampoline; under our VMM, which
// enters long mode directly, with a hypercall. Called by the first CPU holding the lock.
void smp_start(const abi::BootInfo& info);

// Long waits (for the kernel lock, for the VMM) halt in short slices instead of spinning
// where that matters: under the QEMU backend, each vCPU is a host thread that competes for
// the host's cores with the VMM and the other vCPUs, and a spinning vCPU can hold up the
// very thread it waits for (KVM has pause-loop exiting for that; TCG has nothing).
void set_wait_by_halting(bool on);
bool wait_by_halting();
// Halts until any interrupt, at most a few tens of microseconds (the LAPIC timer).
void halt_briefly();
// Whether halt_briefly ran since the last call: the scheduler's timer must be set again.
bool halted_since_rearm();

void kernel_lock();
void kernel_unlock();
// Entering the kernel from the application (syscall, exception, interrupt): takes the
// lock and applies any TLB flush requested meanwhile.
void kernel_enter();
// Leaving it for the application: gives the lock back.
void kernel_exit();

// After changing or removing page table entries of the application: every other CPU that
// may hold them in its TLB flushes before this returns (the local TLB was flushed page by
// page already). Frames unmapped may be reused only after this.
void tlb_shootdown();
// kTlbFlushVector arrived.
void tlb_flush_interrupt();

// In a VM just forked (kHcProcess fork), on its only vCPU, which the VMM made vCPU 0 with
// the state of the parent's calling vCPU: this CPU becomes CPU 0, the others are gone, and
// the kernel lock is held by this CPU alone. `old_idle0` receives CPU 0's former idle
// thread when this was another CPU (its saved context cannot be trusted: it may have been
// running), for the caller to free; null otherwise.
void smp_after_fork(Thread*& old_idle0);

// Wakes `cpu` from its idle halt (kRescheduleVector).
void cpu_kick(PerCpu& cpu);

// What the vCPUs did, for --trace's summary (each an interrupt, VM exits under KVM).
struct SmpStats {
    uint64_t wake_ipis;       // kRescheduleVector sent
    uint64_t shootdowns;      // tlb_shootdown that had to interrupt other CPUs
    uint64_t shootdown_ipis;  // kTlbFlushVector sent
    uint64_t user_timer_ticks;  // the LAPIC timer interrupting the application
};
SmpStats& smp_stats_mut();
const SmpStats& smp_stats();

}  // namespace utx::kernel
