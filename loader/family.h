// loader/family.h: the process tree of one utx-run, shared by the VMMs of all its processes.
//
// Each guest process is a VM in a host process of its own (fork via VM clone); the host
// process tree mirrors the guest's, and the first utx-run is a child subreaper, so orphans
// come back to it as they come back to pid 1 in the guest. The table lives in one
// MAP_SHARED mapping made before the first fork, so every VMM of the tree sees it: guest
// pids (one namespace per tree, the first process is pid 1), parents, process groups and
// sessions (pid 1 starts in a group and a session led from outside the tree: 0, as a pid
// namespace shows them), the wait status of processes that ended and are not reaped yet,
// and signals sent between processes.
#pragma once
#include <pthread.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>

namespace utx::loader {

inline constexpr uint32_t kMaxFamily = 4096;  // --pids may not ask for more

// CPU time in microseconds, user and system.
struct Usage {
    uint64_t user_us = 0, system_us = 0;
};
Usage usage_from(const rusage& r);  // a struct rusage's times
Usage usage_of(int who);            // getrusage(who)'s

class Family {
public:
    // The table, shared with every process forked from here on; null (errno set) when the
    // mapping cannot be made. `max_pids` caps the processes alive or not yet reaped.
    static Family* create(uint32_t max_pids);

    // A new process, child of `parent`: its pid, or -EAGAIN past the cap.
    int32_t add(int32_t parent);
    void set_host_pid(int32_t pid, pid_t host);
    // Forgets a process whose host fork failed.
    void remove(int32_t pid);
    // Process `pid` ended with `wait_status` (Linux's encoding) unless it had already been
    // recorded; its children now have pid 1 for a parent. Returns the parent's host pid
    // (0 when unknown).
    // `usage`: the CPU time the process took (its VMM's), which its parent's wait adds to
    // the parent's children's time.
    pid_t exited(int32_t pid, int wait_status, const struct Usage& usage);
    // The host process `host` ended with `wait_status` and was reaped: a VMM killed
    // outright could not record its own end, so it is recorded here; and its host pid, free
    // for reuse now, is no longer signalled.
    void host_exited(pid_t host, int wait_status, const struct Usage& usage);

    // wait4 and waitid for `caller`: 0 when a matching child has changed state in a way
    // `options` asks for (WEXITED: ended, reaped unless `keep`; WUNTRACED: stopped, status
    // 0x7f | signal << 8; WCONTINUED: continued, status 0xffff; each stop or continue is
    // reported once unless `keep`), with its pid and status set; 1 when matching children
    // exist but none has; or -ECHILD.
    // `news`: the parent had not been told of this change yet (take_child_events).
    // `usage` ← the reaped child's CPU time (zero for a stop or a continue).
    int wait(int32_t caller, int64_t selector, int options, bool keep, int32_t& pid, int& status,
             bool& news, Usage& usage);
    // vfork: `pid` (a vfork child) has exec'd or is ending; returns its parent's pid, to
    // wake. And whether the parent may go on: that happened, or the child is gone.
    int32_t vfork_release(int32_t pid);
    bool vfork_released(int32_t parent, int32_t child);
    // The CPU time of `pid`'s children it has reaped (and theirs, as Linux counts).
    Usage children_usage(int32_t pid);
    // Job control: `pid` stopped (by signal `sig`) or continued (sig 0). Returns its
    // parent's host pid, to ring with SIGCHLD (0 when unknown).
    pid_t job_changed(int32_t pid, int sig);
    // Children of `parent` that ended, stopped or continued since the last call (or wait),
    // now counted as told; `code` ← CLD_EXITED, CLD_STOPPED or CLD_CONTINUED for the last.
    int take_child_events(int32_t parent, int& code);
    // kill: marks `sig` pending for each target and rings it (the host signal `doorbell`).
    // SIGKILL too goes to the target's guest, whose kernel ends the process at a safe point
    // (what it holds in the family region is let go); its VMM ends it outright if that
    // does not happen soon. 0, or -ESRCH; `self` says whether the caller is a target.
    int kill(int32_t caller, int64_t selector, int sig, int doorbell, bool& self);
    // The signals other processes sent to `pid` since the last call (bit N-1: signal N).
    uint64_t take_signals(int32_t pid);
    // kProcWake: marks each target (pids[0..n), or every process but `caller` when n < 0)
    // woken and rings it with `doorbell`.
    void wake(int32_t caller, const int32_t* pids, int n, int doorbell);
    // Whether another process woke `pid` since the last call.
    bool take_wake(int32_t pid);
    int32_t parent_of(int32_t pid);
    // Process groups and sessions, with setpgid(2)'s and setsid(2)'s rules (pid 0: the
    // caller). Results as those calls return them.
    int set_pgid(int32_t caller, int32_t pid, int32_t pgid);
    int32_t pgid_of(int32_t caller, int32_t pid);
    int32_t set_sid(int32_t caller);
    int32_t sid_of(int32_t caller, int32_t pid);
    // The terminal's foreground process group (0: outside the tree), and tcsetpgrp's rule:
    // the group must be in the caller's session (-EPERM: in another, -ESRCH: none).
    int32_t foreground() const { return foreground_; }
    int set_foreground(int32_t caller, int32_t pgid);
    // Host pids of every process but `except` whose VMM may still run: what pid 1's end
    // kills.
    int running_hosts(int32_t except, pid_t* out, int max);

private:
    struct Entry {
        int32_t pid;  // 0: free
        int32_t parent;
        int32_t pgid;
        int32_t sid;
        pid_t host;
        bool zombie;
        bool told;  // its parent knows it ended
        int wait_status;
        std::atomic<uint64_t> signals;
        std::atomic<bool> woken;
        enum Job : uint8_t { kNoJobNews, kStopped, kContinued } job;  // not yet waited for
        bool job_told;  // its parent knows of `job`
        int stop_sig;
        bool vfork_released;   // kProcVfork: its vfork parent may go on
        Usage usage;           // its own, once it ended
        Usage children_usage;  // of the children it reaped
    };
    Entry* find(int32_t pid);
    // One field of `pid`'s entry, read under the lock; `missing` when there is none.
    int32_t field_of(int32_t pid, int32_t Entry::*field, int32_t missing);
    void lock();
    void unlock();

    // Process-shared and robust: a VMM killed while it holds the lock (SIGKILL from a
    // guest's kill) does not stop the others.
    pthread_mutex_t lock_;
    uint32_t max_pids_;
    int32_t foreground_;
    int32_t next_pid_;
    Entry entries_[kMaxFamily];
};

}  // namespace utx::loader
