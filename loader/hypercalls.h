// loader/hypercalls.h: serves the guest's requests (abi/hypercall.h), whatever the backend.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "loader/guest_memory.h"
#include "loader/host_fs.h"

#include "loader/host_net.h"

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
                              bool trace = false, HostNet* host_net = nullptr)
        : mem_(mem), host_fs_(host_fs), host_net_(host_net), trace_(trace) {}

    // Serves the request whose address vCPU `vcpu` left in its mailbox. A malformed request
    // (bad address, unknown op) ends the guest with a panic naming the problem.
    void handle(uint32_t vcpu);
    void set_start_cpu(StartCpu start) { start_cpu_ = std::move(start); }

    // --stats: requests served, and exits of the backend's vCPUs (KVM: every KVM_RUN that
    // returned, hypercalls included).
    uint64_t hypercall_count() const { return hypercalls_.load(std::memory_order_relaxed); }
    void count_exit() { exits_.fetch_add(1, std::memory_order_relaxed); }
    uint64_t exit_count() const { return exits_.load(std::memory_order_relaxed); }

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
    const GuestMemory& mem_;
    HostFs* host_fs_;
    HostNet* host_net_;
    bool trace_;
    std::atomic<uint64_t> hypercalls_{0}, exits_{0};  // --trace: the guest may report paths it did not find
    GuestExit exit_;
};

}  // namespace utx::loader
