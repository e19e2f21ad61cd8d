#include "kernel/process.h"

#include "kernel/fs/file.h"
#include "kernel/ipc/family.h"
#include "kernel/fs/vfs.h"
#include "kernel/lib/string.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/platform/host_events.h"
#include "kernel/platform/hypercall.h"
#include "kernel/sched/sched.h"
#include "kernel/signal.h"

namespace utx::kernel {

void syscall_report_summary();

namespace {
Process g_process;
constexpr uint64_t kInfinity = ~0ULL;
}  // namespace

Process& current_process() { return g_process; }

void process_init(const char* exec_path, uint32_t uid, uint32_t gid, bool trace) {
    Process& p = g_process;
    size_t n = strlen(exec_path);
    if (n >= sizeof p.exec_path) n = sizeof p.exec_path - 1;
    memcpy(p.exec_path, exec_path, n);
    p.exec_path[n] = 0;
    const char* base = p.exec_path;
    for (const char* c = p.exec_path; *c; ++c)
        if (*c == '/') base = c + 1;
    for (size_t i = 0; i < sizeof p.comm - 1 && base[i]; ++i) p.comm[i] = base[i];
    p.uid = uid;
    p.gid = gid;
    p.trace = trace;
    for (int fd = 0; fd < 3; ++fd) p.fds[fd] = FdEntry{file_open_host(fd), false};
    for (auto& r : p.rlimits) r = {kInfinity, kInfinity};
    p.rlimits[3] = {8ULL << 20, kInfinity};   // RLIMIT_STACK
    p.rlimits[4] = {0, kInfinity};            // RLIMIT_CORE
    p.rlimits[6] = {4096, 4096};              // RLIMIT_NPROC
    p.rlimits[7] = {kMaxFds, kMaxFds};        // RLIMIT_NOFILE
    p.rlimits[8] = {8ULL << 20, 8ULL << 20};  // RLIMIT_MEMLOCK
    p.rlimits[11] = {4096, 4096};             // RLIMIT_SIGPENDING
    p.rlimits[12] = {819200, 819200};         // RLIMIT_MSGQUEUE
    p.rlimits[13] = {0, 0};                   // RLIMIT_NICE
    p.rlimits[14] = {0, 0};                   // RLIMIT_RTPRIO
}

namespace {
WaitQueue g_child_queue;
uint64_t g_child_events;
bool g_stopped;           // job control: SIGSTOP and the like took effect
bool g_vfork_child;       // a vfork child whose parent waits for its exec or end
WaitQueue g_stop_queue;   // its threads, until SIGCONT
}  // namespace

void process_vfork_child() { g_vfork_child = true; }

void process_vfork_release() {
    if (!g_vfork_child) return;
    g_vfork_child = false;
    host_process(abi::kProcVfork, 0, 0);
}

void process_vfork_wait(int child) {
    // Woken as by a pipe another VM changed (kProcWake), or by the child's end (SIGCHLD).
    while (host_process(abi::kProcVfork, 1, uint64_t(child)) == 0) family_wait_uninterruptible();
}

void process_stop(int sig) {
    if (!g_stopped) {
        g_stopped = true;
        host_process(abi::kProcJob, uint64_t(sig), 0);  // the parent's wait and SIGCHLD
        sched_kick_others();
    }
    process_stop_point();
}

void process_continue() {
    if (!g_stopped) return;
    g_stopped = false;
    wake_up(g_stop_queue, 1 << 30);
    host_process(abi::kProcJob, 0, 0);
}

void process_stop_point() {
    // Only SIGCONT (or SIGKILL, which ends the process where it is sent) gets it going.
    while (g_stopped) thread_wait_uninterruptible(g_stop_queue);
}

WaitQueue& process_child_queue() { return g_child_queue; }
uint64_t process_child_events() { return g_child_events; }

void process_child_event() {
    ++g_child_events;
    wake_up(g_child_queue, 1 << 30);
    family_woken();  // a vfork parent waits there for its child, which may have ended
    uint64_t code = 0;
    if (host_process(abi::kProcChildEvents, 0, 0, &code) > 0) process_child_told(int(code));
}

void process_child_told(int code) {
    constexpr int kCldStopped = 5;
    constexpr uint64_t kSaNocldstop = 1;
    // SA_NOCLDSTOP: no SIGCHLD when children stop (nor, as Linux has it, continue).
    if (code >= kCldStopped && (current_process().actions[kSigChld].flags & kSaNocldstop)) return;
    signal_send_process(kSigChld, SignalInfo{code, 0, 0, 0, 0, 0, 0});
}

void process_after_fork(int pid, int parent) {
    Thread* old_idle = nullptr;
    smp_after_fork(old_idle);
    sched_after_fork(pid, old_idle);
    Thread& t = current_thread();
    signal_after_fork(t);
    host_events_after_fork();
    posix_timers_exec_reset();
    g_process.pid = pid;
    g_process.ppid = parent;
    g_child_queue = WaitQueue{};  // the parent's waiters stayed there
    g_stop_queue = WaitQueue{};
}

void process_exit(int status) {
    if (g_process.trace) syscall_report_summary();
    files_at_exit();
    vfs_at_exit();
    process_vfork_release();
    host_exit(status & 0xff, 0, 0, 0);
}

void process_kill(int signal, uint64_t fault_address, uint64_t rip) {
    if (g_process.trace) syscall_report_summary();
    files_at_exit();
    vfs_at_exit();
    process_vfork_release();
    host_exit(128 + signal, signal, fault_address, rip);
}

}  // namespace utx::kernel
