#include "kernel/platform/host_events.h"

#include "abi/host_events.h"
#include "kernel/ipc/family.h"
#include "kernel/mm/memory.h"
#include "kernel/net/host_socket.h"
#include "kernel/process.h"
#include "kernel/signal.h"

namespace utx::kernel {
namespace {

uint32_t g_signals_seen[64];  // signal_counts as taken
uint64_t g_signal_seq_seen;
uint64_t g_net_seq_taken;
uint64_t g_family_seq_seen;
uint32_t g_net_waiters;

abi::HostEvents& events() {
    return *static_cast<abi::HostEvents*>(phys_to_virt(abi::kHostEventsGpa));
}

}  // namespace

void host_events_take() {
    abi::HostEvents& ev = events();
    const uint64_t signal_seq = __atomic_load_n(&ev.signal_seq, __ATOMIC_ACQUIRE);
    if (signal_seq != g_signal_seq_seen) {
        g_signal_seq_seen = signal_seq;
        for (int i = 0; i < 64; ++i) {
            const uint32_t count = __atomic_load_n(&ev.signal_counts[i], __ATOMIC_RELAXED);
            if (count == g_signals_seen[i]) continue;
            g_signals_seen[i] = count;
            if (i + 1 == kSigChld) {
                // The VMM's cue that children (other VMs) ended: the kernel asks which and
                // raises SIGCHLD itself, once for each end, as Linux does at the child's exit.
                process_child_event();
                continue;
            }
            if (i < kNumSignals) signal_send_process(i + 1, SignalInfo{kSiUser, 0, 0, 0, 0, 0, 0});
        }
    }
    // Another VM changed something in the family region this one waits for.
    const uint64_t family_seq = __atomic_load_n(&ev.family_seq, __ATOMIC_ACQUIRE);
    if (family_seq != g_family_seq_seen) {
        g_family_seq_seen = family_seq;
        family_woken();
    }
    // The VMM stores net_seq, then loads net_seq_taken to decide on an NMI (none while the
    // previous one's batch is not taken); here the store of net_seq_taken is followed by a
    // load of net_seq: a batch posted meanwhile is either seen here or gets its NMI.
    uint64_t net_seq = __atomic_load_n(&ev.net_seq, __ATOMIC_SEQ_CST);
    while (net_seq != g_net_seq_taken) {
        g_net_seq_taken = net_seq;
        host_sockets_take_reports();
        __atomic_store_n(&ev.net_seq_taken, net_seq, __ATOMIC_SEQ_CST);
        net_seq = __atomic_load_n(&ev.net_seq, __ATOMIC_SEQ_CST);
    }
}

namespace {
uint32_t g_fork_counts[64];  // the counts as the fork found them (the child inherits these)
uint64_t g_fork_signal_seq, g_fork_family_seq;
}  // namespace

void host_events_before_fork() {
    abi::HostEvents& ev = events();
    g_fork_signal_seq = __atomic_load_n(&ev.signal_seq, __ATOMIC_ACQUIRE);
    g_fork_family_seq = __atomic_load_n(&ev.family_seq, __ATOMIC_ACQUIRE);
    for (int i = 0; i < 64; ++i)
        g_fork_counts[i] = __atomic_load_n(&ev.signal_counts[i], __ATOMIC_RELAXED);
}

void host_events_after_fork() {
    // What the parent's VMM had posted by the fork is the parent's; what the child's VMM
    // posts from then on (it may already have: a kill right after fork) is the child's.
    for (int i = 0; i < 64; ++i) g_signals_seen[i] = g_fork_counts[i];
    g_signal_seq_seen = g_fork_signal_seq;
    g_family_seq_seen = g_fork_family_seq;
    // The threads that waited for sockets stayed in the parent.
    g_net_waiters = 0;
    __atomic_store_n(&events().want_wake, 0u, __ATOMIC_SEQ_CST);
}

bool host_events_waiting() {
    abi::HostEvents& ev = events();
    return __atomic_load_n(&ev.signal_seq, __ATOMIC_SEQ_CST) != g_signal_seq_seen ||
           __atomic_load_n(&ev.family_seq, __ATOMIC_SEQ_CST) != g_family_seq_seen ||
           __atomic_load_n(&ev.net_seq, __ATOMIC_SEQ_CST) != g_net_seq_taken;
}

bool net_wait_begin() {
    if (g_net_waiters++ == 0) __atomic_store_n(&events().want_wake, 1u, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&events().net_seq, __ATOMIC_SEQ_CST) == g_net_seq_taken) return false;
    host_events_take();
    return true;
}

void net_wait_end() {
    if (--g_net_waiters == 0) __atomic_store_n(&events().want_wake, 0u, __ATOMIC_SEQ_CST);
}

bool net_waiters() {
    return g_net_waiters != 0;
}

void host_events_polling(bool on) {
    __atomic_fetch_add(&events().polling, on ? 1u : ~0u, __ATOMIC_SEQ_CST);
}

}  // namespace utx::kernel
