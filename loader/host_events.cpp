#include "loader/host_events.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "abi/host_events.h"

namespace utx::loader {
namespace {

std::atomic<uint64_t> g_signals{0};  // arrived, not yet passed to the guest
std::atomic<bool> g_nmi_requested{false};
std::atomic<bool> g_family_wake{false};
std::atomic<uint64_t> g_nmis{0};
int g_wake_fd = -1;
void (*g_kick)() = nullptr;

void notify_backend() {
    if (g_kick) g_kick();
    if (g_wake_fd >= 0) {
        const int saved = errno;
        char byte = 1;
        (void)!write(g_wake_fd, &byte, 1);
        errno = saved;
    }
}

void on_signal(int sig) {
    g_signals.fetch_or(1ULL << (sig - 1));
    notify_backend();
}

}  // namespace

void host_events_install(int wake_fd, void (*kick)()) {
    g_wake_fd = wake_fd;
    g_kick = kick;
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2})
        sigaction(sig, &sa, nullptr);
}

void host_events_install_family() {
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGCHLD, host_events_doorbell_signal()}) sigaction(sig, &sa, nullptr);
}

void host_events_forget() {
    g_signals.store(0);
    g_nmi_requested.store(false);
    g_family_wake.store(false);
}

void host_events_post_family_wake() {
    g_family_wake.store(true);
}

void host_events_request_nmi() {
    g_nmi_requested.store(true);
    notify_backend();
}

bool host_events_service(const GuestMemory& mem,
                         const std::function<uint64_t(uint64_t)>& filter) {
    bool nmi = g_nmi_requested.exchange(false);
    uint64_t bits = g_signals.exchange(0);
    if (bits && filter) bits = filter(bits);
    auto* ev = mem.object<abi::HostEvents>(abi::kHostEventsGpa);
    if (!ev) return nmi;
    if (g_family_wake.exchange(false)) {
        __atomic_store_n(&ev->family_seq, ev->family_seq + 1, __ATOMIC_SEQ_CST);
        nmi = true;
    }
    if (!bits) return nmi;
    while (bits) {
        const int index = __builtin_ctzll(bits);
        bits &= bits - 1;
        __atomic_store_n(&ev->signal_counts[index], ev->signal_counts[index] + 1, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&ev->signal_seq, ev->signal_seq + 1, __ATOMIC_SEQ_CST);
    return true;
}

uint64_t host_events_nmi_count() {
    return g_nmis.load();
}
void host_events_count_nmi() {
    g_nmis.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace utx::loader
