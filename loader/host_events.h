// loader/host_events.h: the VMM side of the VMM→guest event channel (abi/host_events.h).
//
// Signals sent to utx-run (Ctrl-C on its terminal, kill) are passed on to the guest as they
// would reach the program natively: utx-run counts them into the guest's HostEvents and
// raises an NMI, whose handler in the kernel sends them to the program. Other threads (the
// network's event thread) ask for an NMI through the same path, so that each backend has
// one place where it injects them.
#pragma once
#include <cstdint>

#include "loader/guest_memory.h"

namespace utx::loader {

// Handlers for SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 (no SA_RESTART: a
// blocking call of the VMM returns EINTR and the backend looks here). `wake_fd` (may be -1)
// gets a byte written for each signal or NMI request, for a backend that waits in poll();
// `kick`, if set, is called then too (KVM: ends the first vCPU's KVM_RUN). Both are
// async-signal-safe.
void host_events_install(int wake_fd, void (*kick)());
// From any thread: the guest should get an NMI soon.
void host_events_request_nmi();
// For the backend: passes the signals that arrived since the last call into guest memory
// and tells whether an NMI is due now (signals, or a request).
bool host_events_service(const GuestMemory& mem);
// NMIs injected so far (--stats).
uint64_t host_events_nmi_count();
void host_events_count_nmi();

}  // namespace utx::loader
