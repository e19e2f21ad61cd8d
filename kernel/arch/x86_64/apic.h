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
// The calling CPU's APIC: its id, and setting it up like the first CPU's (after apic_init).
uint32_t apic_id();
void apic_init_cpu();
// An interrupt `vector` to the CPU with APIC id `apic_id`.
void apic_send_ipi(uint32_t apic_id, uint8_t vector);
// INIT, then two STARTUPs at real-mode address page * 4096 (how a PC starts another CPU).
void apic_start_cpu(uint32_t apic_id, uint8_t page);

}  // namespace utx::kernel
