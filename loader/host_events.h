// loader/host_events.h: the VMM side of the VMM→guest event channel (abi/host_events.h).
//
// Signals sent to utx-run (Ctrl-C on its terminal, kill) are passed on to the guest as they
// would reach the program natively: utx-run counts them into the guest's HostEvents and
// raises an NMI, whose handler in the kernel sends them to the program. Other threads (the
// network's event thread) ask for an NMI through the same path, so that each backend has
// one place where it injects them.
#pragma once
#include <signal.h>

#include <cstdint>
#include <functional>

#include "loader/guest_memory.h"

namespace utx::loader {

// Handlers for SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 (no SA_RESTART: a
// blocking call of the VMM returns EINTR and the backend looks here). `wake_fd` (may be -1)
// gets a byte written for each signal or NMI request, for a backend that waits in poll();
// `kick`, if set, is called then too (KVM: ends the first vCPU's KVM_RUN). Both are
// async-signal-safe.
void host_events_install(int wake_fd, void (*kick)());
// Our KVM VMM, which forks: SIGCHLD (a child process ended) and the doorbell (another VMM of
// the process tree has signals for this guest, loader/family.h) arrive the same way.
void host_events_install_family();
inline int host_events_doorbell_signal() { return SIGRTMIN + 1; }
// In a forked child: the parent's signals not passed on yet are not the child's.
void host_events_forget();
// From any thread: the guest should get an NMI soon.
void host_events_request_nmi();
// For the backend: passes the signals that arrived since the last call into guest memory
// and tells whether an NMI is due now (signals, or a request). `filter`, if set, may change
// the signals first (bit N-1: signal N).
bool host_events_service(const GuestMemory& mem,
                         const std::function<uint64_t(uint64_t)>& filter = nullptr);
// Another process of the tree woke this one (Family::take_wake): the next service bumps
// HostEvents::family_seq and raises an NMI. Called from the `filter`.
void host_events_post_family_wake();
// NMIs injected so far (--stats).
uint64_t host_events_nmi_count();
void host_events_count_nmi();

}  // namespace utx::loader
