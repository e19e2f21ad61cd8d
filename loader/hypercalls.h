// loader/hypercalls.h: serves the guest's requests (abi/hypercall.h), whatever the backend.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "abi/hypercall.h"

#include "loader/family.h"
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
    // The host fds behind the guest's fds 0, 1 and 2: utx-run's own stdin, stdout and stderr
    // unless a test (or the fuzzer) puts others there. The guest reaches no other host fd.
    void set_stdio(std::array<int, 3> fds) { stdio_ = fds; }

    // Processes (kHcProcess): the tree's table and this VM's pid in it. Without a table
    // the process has no relatives (wait: ECHILD; kill reaches only itself).
    void set_family(Family* family, int32_t pid) { family_ = family, pid_ = pid; }
    int32_t pid() const { return pid_; }
    Family* family() const { return family_; }
    // kProcFork: only a backend that can clone its VM allows it (else -ENOSYS). The request
    // is left unanswered; the vCPU's loop then sees take_fork() and answers it through
    // answer_fork() in the parent and in the child.
    void allow_fork(bool on) { fork_allowed_ = on; }
    bool take_fork(uint32_t vcpu, uint64_t& request_gpa, int32_t& child_pid);
    void answer_fork(uint64_t request_gpa, int64_t result, int32_t pid, int32_t parent);
    // In a child just forked: a handler of its own (the lock was copied in whatever state
    // another thread of the parent left it; nothing has ended yet).
    void reset_after_fork(int32_t pid);
    // A kProcFork request taken with take_fork() that cannot be served: the child's entry
    // leaves the table and the request gets `error`.
    void refuse_fork(uint64_t request_gpa, int32_t child, int64_t error);
    // The VMM's fork for a kProcFork request taken with take_fork(): the host process
    // forks (output flushed first). In the parent (the host pid, or -1 when it failed) the
    // table records the child and the request is answered with its pid or -EAGAIN; in the
    // child (0) the table has the child's host pid and every signal is held until its VM
    // runs (a doorbell rung while the VM is made would interrupt it).
    pid_t fork_host(uint64_t request_gpa, int32_t child);
    // In the child, once it has let go of the parent's VM: the handler becomes the child's
    // and answers the request as the child; the parent's signals not passed on yet are
    // forgotten, and the doorbell rings, so that the first service looks at the table
    // (what another process announced for the child meanwhile was forgotten with them).
    void become_child(uint64_t request_gpa, int32_t child);
    // The filter for host_events_service in a process tree (host_events_install_family):
    // on SIGCHLD, children that ended without recording it are reaped and recorded; the
    // doorbell becomes the signals other processes of the tree sent (and their wakes).
    // SIGCHLD goes on to the guest, which looks at its children then. Needs family().
    uint64_t family_signals(uint64_t bits);
    // This process's CPU time: its VMM's, plus what the backend says its helpers used (the
    // QEMU backend: its QEMU process, where the guest runs).
    void set_helper_usage(std::function<Usage()> helper) { helper_usage_ = std::move(helper); }
    Usage self_usage() const;

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

    int64_t serve_process(uint32_t vcpu, uint64_t request_gpa, const uint64_t (&a)[6],
                          abi::HcRequest* req, bool& answered_later);

    std::recursive_mutex mutex_;
    Family* family_ = nullptr;
    int32_t pid_ = 1;
    bool fork_allowed_ = false;
    struct {
        bool pending = false;
        uint32_t vcpu = 0;
        uint64_t request_gpa = 0;
        int32_t child = 0;
    } fork_;
    std::atomic<bool> finished_{false};
    StartCpu start_cpu_;
    std::function<Usage()> helper_usage_;
    std::array<int, 3> stdio_{0, 1, 2};
    const GuestMemory& mem_;
    HostFs* host_fs_;
    HostNet* host_net_;
    bool trace_;
    std::atomic<uint64_t> hypercalls_{0}, exits_{0};  // --trace: the guest may report paths it did not find
    GuestExit exit_;
};

}  // namespace utx::loader
