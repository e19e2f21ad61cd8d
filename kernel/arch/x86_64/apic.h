// kernel/arch/x86_64/apic.h: the local APIC timer, so that a waiting vCPU halts instead of
// spinning (an idle guest costs the host nothing).
#pragma once
#include <stdint.h>

namespace utx::kernel {

// Maps the local APIC and programs its timer (TSC-deadline where offered, one-shot
// otherwise). Returns false where there is no usable APIC; waits then spin.
bool apic_init(uint64_t tsc_khz);
// Programs the timer to interrupt at `deadline_tsc` (0: no interrupt). Without a usable
// APIC it does nothing: the scheduler then spins on the TSC while idle.
void apic_arm(uint64_t deadline_tsc);
bool apic_ready();
void apic_eoi();

}  // namespace utx::kernel
