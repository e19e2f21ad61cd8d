// kernel/arch/x86_64/traps.cpp: exceptions. A fault in the application becomes the signal
// Linux would send (for now: the default action, termination); a fault in the kernel is a
// panic with the state, never a hang or a reset.
#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/lib/log.h"
#include "kernel/mm/address_space.h"
#include "kernel/mm/memory.h"
#include "kernel/process.h"
#include "kernel/sched/sched.h"
#include "kernel/platform/host_events.h"
#include "kernel/signal.h"

extern "C" char idle_halt[];  // the idle loop's hlt (kernel/sched/sched.cpp)

namespace {

const char* vector_name(uint64_t v) {
    static const char* names[] = {
        "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
        "invalid opcode", "device not available", "double fault", "coprocessor overrun",
        "invalid TSS", "segment not present", "stack fault", "general protection",
        "page fault", "reserved", "x87 floating point", "alignment check", "machine check",
        "SIMD floating point", "virtualization", "control protection"};
    return v < sizeof names / sizeof names[0] ? names[v] : "reserved";
}

}  // namespace

using namespace utx::kernel;

namespace {

void handle_user_trap(TrapFrame* f) {
    if (f->vector == kTimerVector) {
        // Deadlines and time slices.
        ++smp_stats_mut().user_timer_ticks;
        sched_timer_tick();
        return;
    }
    if (f->vector == kRescheduleVector) {
        // Sent to wake this CPU from its idle halt; arriving late, it only moves a thread
        // whose affinity no longer allows this CPU.
        sched_migrate_if_needed();
        return;
    }
    if (f->vector == 2) return;  // the VMM's NMI: signals sent to utx-run, taken below
    uint64_t cr2 = f->vector == 14 ? read_cr2() : 0;
    switch (f->vector) {
        case 14: {
            bool present = f->error & 1, write = f->error & 2, exec = f->error & 16;
            using Fault = AddressSpace::Fault;
            Fault result = Fault::Invalid;
            if (!present || write || exec)
                result = current_address_space().handle_fault(cr2, write, exec);
            if (result == Fault::Resolved) return;
            if (result == Fault::Bus) process_kill(kSigBus, cr2, f->rip);
            if (result == Fault::OutOfMemory) {
                // Linux's OOM killer would pick this process: it is the only one.
                klog("utx-run: out of guest memory (%lu MiB); raise -m\n",
                     (unsigned long)(frames_total_count() * kPageSize >> 20));
                process_kill(kSigKill, cr2, f->rip);
            }
            signal_fault(kSigSegv, present ? kSegvAccerr : kSegvMaperr, cr2, *f);
            break;
        }
        case 0:
            signal_fault(kSigFpe, kFpeIntdiv, f->rip, *f);
            break;
        case 16:
        case 19:
            signal_fault(kSigFpe, 0, f->rip, *f);
            break;
        case 6:
            signal_fault(kSigIll, kIllIllopn, f->rip, *f);
            break;
        case 1:
        case 3:
            signal_fault(kSigTrap, kTrapBrkpt, f->rip, *f);
            break;
        case 17:
            signal_fault(kSigBus, kBusAdrerr, f->rip, *f);
            break;
        case 13:
        case 12:
        case 11:
        default:
            signal_fault(kSigSegv, kSiKernel, 0, *f);
            break;
    }
}

// An interrupt or NMI that came between the idle loop's sti and its hlt returns past the
// hlt: the idle loop looks at what the interrupt brought before it sleeps.
void not_into_idle_halt(TrapFrame* f) {
    if (f->rip == reinterpret_cast<uint64_t>(idle_halt)) f->rip += 1;
}

// On PVM, kvm_pvm gives some NMIs (those it injects as it re-enters the guest after an
// exit to the VMM, seen after a hypercall's `out`) the frame of an NMI from user mode
// wherever the vCPU was: the user selectors, the GS bases left as they were, the frame at
// the top of the thread's kernel stack (trap_stub_2 in entry.S sees to the stack and the
// GS bases). Returned through as such, an NMI in the kernel would carry on the kernel in
// user mode; the rip says where it was (kernel addresses are never user code).
void pvm_repair_nmi_frame(TrapFrame* f) {
    if ((f->cs & 3) && int64_t(f->rip) < 0) {
        f->cs = kKernelCs;
        f->ss = kKernelSs;
    }
}

}  // namespace

extern "C" void trap_dispatch(TrapFrame* f) {
    if (g_pvm && f->vector == 2) pvm_repair_nmi_frame(f);
    // Interrupts first: they need no lock, or take it as an entry from the application.
    if (f->vector == kTimerVector || f->vector == kRescheduleVector) {
        if (f->vector == kTimerVector) this_cpu().timer_armed = 0;  // fired: re-arm even if equal
        apic_eoi();
        // In the kernel it can only be the idle loop, which looks at the queue and the time
        // (on PVM it may have come just before the idle loop's hlt: not into it, then).
        if (!(f->cs & 3)) {
            not_into_idle_halt(f);
            __atomic_store_n(&this_cpu().wake, true, __ATOMIC_RELEASE);
            return;
        }
    } else if (f->vector == kTlbFlushVector) {
        tlb_flush_interrupt();
        apic_eoi();
        return;
    } else if (f->vector == kSpuriousVector) {
        return;
    } else if (f->vector == 2 && !(f->cs & 3)) {
        // The VMM's NMI in the kernel, wherever it was (even before swapgs: nothing here
        // may use %gs): the signals wait for the next way out to user mode or the idle
        // loop, which look for them.
        not_into_idle_halt(f);  // the idle loop looks for the signals first
        return;
    } else if (!(f->cs & 3)) {
        const uint64_t cr2 = f->vector == 14 ? read_cr2() : 0;
        panic("%s in the kernel at rip %#lx (error %#lx, cr2 %#lx, rsp %#lx)",
              vector_name(f->vector), f->rip, f->error, cr2, f->rsp);
    }
    kernel_enter();
    handle_user_trap(f);
    thread_exit_if_zapped();
    host_events_take();
    signal_deliver(*f, false);
    kernel_exit();
}
