// loader/hypercalls.h: serves the guest's requests (abi/hypercall.h), whatever the backend.
#pragma once
#include <cstdint>
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

class HypercallHandler {
public:
    explicit HypercallHandler(const GuestMemory& mem, HostFs* host_fs = nullptr,
                              bool trace = false)
        : mem_(mem), host_fs_(host_fs), trace_(trace) {}

    // Serves the request whose address vCPU `vcpu` left in its mailbox. A malformed request
    // (bad address, unknown op) ends the guest with a panic naming the problem.
    void handle(uint32_t vcpu);

    const GuestExit& exit() const { return exit_; }
    bool finished() const { return exit_.kind != GuestExit::Kind::Running; }
    void fail(std::string message) {
        exit_.kind = GuestExit::Kind::Panicked;
        exit_.message = std::move(message);
    }

private:
    const GuestMemory& mem_;
    HostFs* host_fs_;
    bool trace_;  // --trace: the guest may report paths it did not find
    GuestExit exit_;
};

}  // namespace utx::loader
