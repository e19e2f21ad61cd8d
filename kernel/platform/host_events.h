// kernel/platform/host_events.h: the guest side of the VMM→guest event channel
// (abi/host_events.h): signals sent to utx-run, and readiness reports of host sockets.
#pragma once
#include <stdint.h>

namespace utx::kernel {

// Takes what the VMM posted since the last call: the signals go to the process (as from
// outside its pid namespace: si_pid 0), and threads waiting for host sockets whose state
// changed are woken. Cheap when nothing is new; called, under the kernel lock, where the
// kernel may act on events: on the way back to user mode, when an idle vCPU wakes, and
// before a thread waits for a host socket.
void host_events_take();
// In a forked child: what the VMM had posted for the parent is the parent's.
// fork: the counts the child starts from, taken just before the clone.
void host_events_before_fork();
void host_events_after_fork();
// Whether the VMM posted something not taken yet (without the lock: the idle loop polls it).
bool host_events_waiting();

// Around a wait of the calling thread that a host socket can end: while any thread waits
// so, the VMM raises an NMI for new readiness reports. net_wait_begin() returns true when
// a report came in already (and was taken): the caller looks again instead of waiting,
// and still calls net_wait_end().
bool net_wait_begin();
void net_wait_end();
// Whether any thread waits for a host socket (the idle loop polls rather than halts).
bool net_waiters();
// An idle vCPU polls for events: no NMI is needed meanwhile (each side stores, then loads
// what the other stores, so a report posted as polling ends is seen by one of them).
void host_events_polling(bool on);

}  // namespace utx::kernel
