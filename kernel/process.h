// kernel/process.h: the state of the one Linux process this VM runs.
#pragma once
#include <stdint.h>

#include "kernel/mm/address_space.h"

namespace utx::kernel {

inline constexpr int kMaxFds = 1024;  // RLIMIT_NOFILE soft limit
inline constexpr int kSignals = 64;

struct OpenFile;

// A file descriptor: a reference to an open file description (kernel/fs/file.h).
struct FdEntry {
    OpenFile* file;  // null: the descriptor is free
    bool cloexec;
};

struct SigAction {
    uint64_t handler;
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

struct Rlimit {
    uint64_t cur, max;
};
inline constexpr int kRlimits = 16;
inline constexpr int kRlimitStack = 3, kRlimitNofile = 7;

struct Process {
    int pid = 1, ppid = 0;
    int pgid = 0, sid = 0;  // led from outside the tree (the VMM's table has the truth)
    uint32_t uid = 0, gid = 0;
    char exec_path[256]{};
    FdEntry fds[kMaxFds]{};
    SigAction actions[kSignals + 1]{};
    Rlimit rlimits[kRlimits]{};
    uint32_t umask = 022;
    char comm[16]{};             // PR_SET_NAME; starts as the program's file name
    uint64_t pdeath_signal = 0;
    bool dumpable = true;
    bool trace = false;
};

Process& current_process();

// The children of this process are other VMs (fork via VM clone): their state changes
// reach the guest as SIGCHLD from the VMM, which wakes whoever waits here.
struct WaitQueue;
WaitQueue& process_child_queue();
uint64_t process_child_events();  // grows with each SIGCHLD from the VMM
void process_child_event();
// SIGCHLD (si_code `code`: CLD_EXITED, CLD_STOPPED, CLD_CONTINUED) for a child's change
// the VMM had not told this process of (wait4 found it first).
void process_child_told(int code = 1);
// Job control. A stop signal's default action: the process stops, every thread at its next
// way out to the application, until SIGCONT; the parent is told (WUNTRACED, SIGCHLD).
void process_stop(int sig);
// SIGCONT was sent: a stopped process goes on (WCONTINUED, SIGCHLD).
void process_continue();
// A thread's way out to the application: it waits here while the process is stopped.
void process_stop_point();
// vfork: the child marks itself; its exec or its end lets the parent go on; the parent
// waits for that (whatever signals come, as on Linux).
void process_vfork_child();
void process_vfork_release();
void process_vfork_wait(int child);
// In the child of a fork, on its only vCPU: the process is `pid`, child of `parent`, with
// only the calling thread, no pending signals and no timers.
void process_after_fork(int pid, int parent);
void process_init(const char* exec_path, uint32_t uid, uint32_t gid, bool trace);
// Ends the process with an exit status, or as killed by a signal (like Linux reports it).
[[noreturn]] void process_exit(int status);
[[noreturn]] void process_kill(int signal, uint64_t fault_address, uint64_t rip);

}  // namespace utx::kernel
