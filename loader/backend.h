// loader/backend.h: what runs the prepared guest: our KVM VMM or QEMU.
#pragma once
#include <cstdint>
#include <string>

#include "loader/boot_image.h"
#include "loader/guest_memory.h"
#include "loader/hypercalls.h"

namespace utx::loader {

struct RunConfig {
    uint32_t vcpus = 1;
    bool trace = false;
    // The VMM forks (kHcProcess fork): in the child process, once its guest has ended,
    // this settles the child's end and exits the host process (it never returns). `started`
    // false: the child's VM could not be made (`error` says why).
    void (*child_done)(bool started, const std::string& error) = nullptr;
    // In the child, before its VM runs: what the child needs of its own (false: it cannot
    // run, `error` says why).
    bool (*child_start)(std::string& error) = nullptr;
};

// Boots the prepared memory and serves hypercalls until the guest exits or fails. Returns
// false with `error` set when the virtual machine cannot be created at all.
bool run_kvm(GuestMemory& mem, const BootLayout& layout, const RunConfig& config,
             HypercallHandler& handler, std::string& error);
bool run_qemu(GuestMemory& mem, const BootLayout& layout, const RunConfig& config,
              HypercallHandler& handler, std::string& error);

// Whether /dev/kvm can be opened; `why` says why not.
bool kvm_available(std::string& why);
// Whether /dev/kvm is PVM (kvm_pvm), where the kernel runs as a PVM guest.
bool kvm_is_pvm();
// Whether --backend auto takes KVM: kvm_available, and not PVM while the kernel's PVM
// platform is incomplete (--backend kvm takes it there).
bool kvm_by_default(std::string& why);
// TSC frequency of this host in kHz (KVM reports it; otherwise it is measured).
uint64_t host_tsc_khz();

}  // namespace utx::loader
