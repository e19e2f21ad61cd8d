// loader/host_signals.h: signals sent to utx-run (Ctrl-C on its terminal, kill) are passed
// on to the guest, as they would reach the program natively: utx-run records them, ORs
// them into the guest's word at abi::kHostSignalsGpa and raises an NMI in the guest, whose
// kernel sends them to the program.
#pragma once
#include <signal.h>

#include <cstdint>

#include "loader/guest_memory.h"

namespace utx::loader {

// Another VMM of the process tree has signals for this one's guest (loader/family.h).
inline int doorbell_signal() { return SIGRTMIN + 1; }

// Handlers for SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 (no SA_RESTART: a
// blocking call of the VMM returns EINTR and the backend looks here). `wake_fd` (may be -1)
// gets a byte written for each signal, for a backend that waits in poll(); `kick`, if set,
// is called from the handler (KVM: immediate_exit).
void host_signals_install(int wake_fd, void (*kick)());
// Our KVM VMM, which forks: SIGCHLD (a child process ended) and doorbell_signal() arrive the
// same way.
void host_signals_install_family();
// The signals that arrived since the last call, as a bit mask (bit N-1 for signal N).
uint64_t host_signals_take();
// Adds `bits` to the guest's pending word.
void host_signals_post(const GuestMemory& mem, uint64_t bits);

}  // namespace utx::loader
