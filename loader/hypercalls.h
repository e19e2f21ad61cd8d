// loader/hypercalls.h: serves the guest's requests (abi/hypercall.h), whatever the backend.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "loader/guest_memory.h"
#include "loader/host_fs.h"

namespace utx::loader {

struct GuestExit {
    enum class Kind { Running, Exited, Killed, Panicked } kind = Kind::Running;
    int status = 0;  // exit status, or the signal for Killed
    uint64_t fault_address = 0;
    uint64_t rip = 0;
    std::string message;  // for Panicked
};

// Serves requests from any number of vCPU threads, one at a time.
class HypercallHandler {
public:
    // kHcStartCpu: starts vCPU `index` at rip with rsp and rdi → 0 or -errno. Only our KVM
    // VMM sets it; without it the request fails with -EINVAL.
    using StartCpu = std::function<int64_t(uint32_t index, uint64_t rip, uint64_t rsp,
                                           uint64_t rdi)>;

    explicit HypercallHandler(const GuestMemory& mem, HostFs* host_fs = nullptr,
                              bool trace = false)
        : mem_(mem), host_fs_(host_fs), trace_(trace) {}

    // Serves the request whose address vCPU `vcpu` left in its mailbox. A malformed request
    // (bad address, unknown op) ends the guest with a panic naming the problem.
    void handle(uint32_t vcpu);
    void set_start_cpu(StartCpu start) { start_cpu_ = std::move(start); }
    // The host fds behind the guest's fds 0, 1 and 2: utx-run's own stdin, stdout and stderr
    // unless a test (or the fuzzer) puts others there. The guest reaches no other host fd.
    void set_stdio(std::array<int, 3> fds) { stdio_ = fds; }

    // After finished() only.
    const GuestExit& exit() const { return exit_; }
    bool finished() const { return finished_.load(std::memory_order_acquire); }
    // Ends the guest with `message`, unless it has already ended.
    void fail(std::string message) {
        std::lock_guard lock(mutex_);
        if (finished()) return;
        exit_.kind = GuestExit::Kind::Panicked;
        exit_.message = std::move(message);
        finished_.store(true, std::memory_order_release);
    }

private:
    void serve(uint32_t vcpu);

    std::recursive_mutex mutex_;
    std::atomic<bool> finished_{false};
    StartCpu start_cpu_;
    std::array<int, 3> stdio_{0, 1, 2};
    const GuestMemory& mem_;
    HostFs* host_fs_;
    bool trace_;  // --trace: the guest may report paths it did not find
    GuestExit exit_;
};

}  // namespace utx::loader
