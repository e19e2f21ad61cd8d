// abi/host_events.h: the VMM→guest event channel.
//
// What happens on the host side for the guest (a signal sent to utx-run, a host socket of the
// guest turning readable or writable) is written into guest memory by the VMM, which then
// raises an NMI if the guest might not look by itself soon. The kernel looks on every way out
// to the application, in its idle loop and before it lets a thread wait.
//
// Every word here has one writer, the VMM or the guest: under the QEMU backend with one vCPU,
// TCG does not make the guest's read-modify-write instructions atomic against utx-run, so
// neither side may modify what the other writes. Counters that only grow tell what is new.
#pragma once
#include <stdint.h>

#include "abi/boot_info.h"

namespace utx::abi {

inline constexpr uint32_t kMaxHostSockets = 1024;  // handles 0 .. kMaxHostSockets - 1

struct HostEvents {
    // Written by the VMM.
    uint32_t signal_counts[64];  // how often signal N+1 was sent to utx-run
    uint64_t signal_seq;         // bumped after signal_counts changed
    uint64_t net_seq;            // bumped after HostSocketState words changed (a batch)
    uint64_t family_seq;         // bumped when another process of the tree woke this one
                                 // (kProcWake: something in the family region it waits on
                                 // changed)
    uint64_t vmm_reserved[5];
    // Written by the guest.
    uint64_t net_seq_taken;  // the net_seq whose batch the kernel has taken
    uint32_t want_wake;      // nonzero: a thread waits for a socket; wake the guest with
                             // an NMI when readiness changes
    uint32_t polling;        // idle vCPUs polling net_seq: no NMI is needed meanwhile
    uint64_t guest_reserved[6];
};
static_assert(sizeof(HostEvents) <= 4096);

// One word per host socket handle at kHostSocketStateGpa, written by the VMM only: the
// socket's poll(2) bits as the host reports them (POLLIN, POLLOUT, POLLERR, POLLHUP,
// POLLRDHUP, POLLPRI) in the low half, and in the high half a generation bumped each time the
// VMM learns of a change (new data, room, a connection, the peer's close), so that the
// guest can tell a new edge from a state it has seen.
inline constexpr uint64_t host_socket_state(uint32_t ready, uint32_t generation) {
    return uint64_t(generation) << 32 | ready;
}
inline constexpr uint32_t host_socket_ready(uint64_t state) {
    return uint32_t(state);
}
inline constexpr uint32_t host_socket_generation(uint64_t state) {
    return uint32_t(state >> 32);
}
static_assert(kHostSocketStateGpa + kMaxHostSockets * 8 <= kApTrampolineGpa);

}  // namespace utx::abi
