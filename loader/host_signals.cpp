#include "loader/host_signals.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

#include "abi/boot_info.h"

namespace utx::loader {
namespace {

std::atomic<uint64_t> g_pending{0};
int g_wake_fd = -1;
void (*g_kick)() = nullptr;

void on_signal(int sig) {
    g_pending.fetch_or(1ULL << (sig - 1));
    if (g_kick) g_kick();
    if (g_wake_fd >= 0) {
        const int saved = errno;
        char byte = 1;
        (void)!write(g_wake_fd, &byte, 1);
        errno = saved;
    }
}

}  // namespace

void host_signals_install(int wake_fd, void (*kick)()) {
    g_wake_fd = wake_fd;
    g_kick = kick;
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaction(sig, &sa, nullptr);
}

void host_signals_install_family() {
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGCHLD, doorbell_signal()}) sigaction(sig, &sa, nullptr);
}

uint64_t host_signals_take() { return g_pending.exchange(0); }

void host_signals_post(const GuestMemory& mem, uint64_t bits) {
    if (auto* word = mem.object<uint64_t>(abi::kHostSignalsGpa))
        __atomic_fetch_or(word, bits, __ATOMIC_SEQ_CST);
}

}  // namespace utx::loader
