// kernel/sched/sched.h: the threads of the process and the scheduler that runs them on the
// vCPUs: one run queue served round robin by every CPU (so threads spread over idle CPUs
// by themselves), preemption by each CPU's LAPIC timer only while a thread is waiting to
// run (each tick is a VM exit), timed waits, CPU affinity, and per CPU an idle thread that
// halts until the next deadline or interrupt.
//
// The kernel itself is not preemptible: interrupts are off in it except while it idles, and
// one lock covers it (kernel/arch/x86_64/smp.h), so the scheduler's and its callers' data
// need no locks of their own.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/arch/x86_64/cpu.h"

namespace utx::kernel {

struct Thread;

// What a signal carries to its handler (the parts of siginfo_t utx fills).
struct SignalInfo {
    int32_t code;    // si_code: SI_USER, SI_TKILL, SEGV_MAPERR, …
    int32_t pid;     // sender (kill, tgkill)
    uint32_t uid;
    uint64_t addr;   // si_addr of a fault
    int32_t timerid;  // SI_TIMER: the POSIX timer, its overruns and sigev_value
    int32_t overrun;
    uint64_t value;
};
inline constexpr int kNumSignals = 64;

// Threads blocked on one thing (a futex, a pipe, a child), woken first come first served.
struct WaitQueue {
    Thread* head = nullptr;
    Thread* tail = nullptr;
};

struct Thread {
    enum class State : uint8_t { Runnable, Blocked, Dead };
    int tid;
    State state;
    bool timed_out;             // the last wait ended at its deadline
    uint64_t saved_rsp;         // the kernel context while another thread runs
    uint8_t* kernel_stack;      // null for the first thread (the boot stack)
    uint64_t kernel_stack_top;
    uint8_t* fpu;               // the application's x87/SSE/AVX registers while switched out
    uint64_t fs_base, gs_base;  // the application's TLS registers
    uint64_t clear_child_tid;   // set_tid_address / CLONE_CHILD_CLEARTID
    uint64_t robust_list;
    // Signals (kernel/signal.h).
    uint64_t signal_mask;
    uint64_t pending;           // sent to this thread
    SignalInfo pending_info[kNumSignals];
    uint64_t altstack_sp, altstack_size;
    uint32_t altstack_flags;
    uint64_t signal_waiting;    // rt_sigtimedwait: blocked signals that end its wait
    uint64_t saved_mask;        // rt_sigsuspend: the mask to restore after the handler
    bool has_saved_mask;
    bool interrupted;           // a signal ended the last wait
    // Waiting.
    WaitQueue* queue;           // the queue it waits on, or null
    Thread* queue_next;
    uint64_t deadline_tsc;      // a timed wait's end (0: none)
    Thread* timed_next;         // timed waits, soonest first
    uint64_t futex_addr;        // kernel/sched/futex.cpp
    uint32_t futex_bitset;
    // Scheduling.
    bool idle;                  // a CPU's idle thread: never queued, never seen by the program
    bool zapped;                // execve in another thread: exit at the next way out
    uint64_t affinity;          // CPUs it may run on (bit N: CPU N)
    uint32_t cpu;               // where it runs or last ran
    bool queued;                // on the run queue (run_next links it)
    Thread* run_next;           // the run queue's next, or the dead list's
    Thread* all_next;
};

// The first thread (tid 1): the one that boots and runs the program's entry.
void sched_init(uint64_t boot_stack_top);
Thread& current_thread();
size_t thread_count();  // threads not yet exited
Thread* thread_find(int tid);
Thread* thread_list();  // every thread through all_next (exited ones too, until reaped)

// A new thread that enters user mode with `frame` (and a copy of the caller's FPU state);
// null when memory is short.
Thread* thread_spawn(const TrapFrame& frame);
// Ends the calling thread, which is not the last one.
[[noreturn]] void thread_exit();

// execve: makes every other thread of the process exit (at its next way out to user mode,
// or at once from a wait) and returns once they all have.
void sched_zap_others();
// The calling thread's way out to user mode: it exits here when sched_zap_others() marked
// it, as if it had called exit(2) (syscall-shim/sys_thread.cpp).
void thread_exit_if_zapped();
// Waits on `q` until woken, whatever signals come (execve's wait, a stopped process).
void thread_wait_uninterruptible(WaitQueue& q);
// Threads of the process running on other CPUs enter the kernel (a reschedule interrupt),
// whose way out looks at what changed.
void sched_kick_others();

// In a VM just forked, after smp_after_fork: the calling thread is the process's only one
// (the others stayed in the parent) and takes the tid `pid`; `old_idle` (may be null) is
// an idle thread no CPU has any more.
void sched_after_fork(int pid, Thread* old_idle);

// Blocks the calling thread on `q` until thread_wake / wake_up, or until `deadline_ns`
// (CLOCK_MONOTONIC; 0 waits without limit): 0, -ETIMEDOUT when the deadline ended it, or
// -EINTR when a signal it does not block arrived (then, or already before).
int64_t thread_wait(WaitQueue& q, uint64_t deadline_ns);
// A signal for `t`: ends its wait (as -EINTR) if it is waiting.
void thread_interrupt(Thread* t);
void thread_wake(Thread* t);        // t must be waiting
int wake_up(WaitQueue& q, int max);  // wakes up to `max` waiters; returns how many
void wait_queue_remove(WaitQueue& q, Thread* t);
void wait_queue_append(WaitQueue& q, Thread* t);

// A CPU's idle thread with a kernel stack of `stack_size` bytes; its first run (on that
// stack) is sched_idle(). Null when memory is short.
Thread* sched_create_idle(size_t stack_size);
// The idle loop of the calling CPU, which holds the kernel lock.
[[noreturn]] void sched_idle();
// Restricts `t` to the CPUs in `mask` (intersected with those online): 0, or -EINVAL when
// none is left. A thread that may no longer run where it is moves at once.
int sched_set_affinity(Thread* t, uint64_t mask);
uint64_t sched_online_mask();

// Gives the vCPU to the next runnable thread, if any.
void sched_yield_now();
// Programs this CPU's timer again for the scheduler's next event (after another use).
void sched_rearm_timer();
// Moves the current thread if its affinity no longer allows this CPU.
void sched_migrate_if_needed();
// The LAPIC timer fired while the application ran: deadlines and the time slice.
void sched_timer_tick();
// A kernel timer: fire(timer) runs from the scheduler (in the kernel, interrupts off, on
// whatever thread is current) once CLOCK_MONOTONIC reaches its deadline. It may re-arm
// itself. ITIMER_REAL, POSIX timers.
struct KTimer {
    void (*fire)(KTimer*);
    uint64_t deadline_tsc;  // 0: not armed
    KTimer* next;
};
void ktimer_arm(KTimer& t, uint64_t deadline_ns);  // re-arms one already armed
void ktimer_cancel(KTimer& t);
uint64_t ktimer_deadline_ns(const KTimer& t);      // 0 when not armed
// The application's FPU registers to and from a 64-byte aligned area of fpu_state_size().
void fpu_save(uint8_t* area);
void fpu_restore(const uint8_t* area);
// The calling thread's FPU registers to their initial state (execve).
void fpu_reset();
// Bytes of the application's FPU state (the XSAVE or FXSAVE image).
size_t fpu_state_size();
bool fpu_uses_xsave();

}  // namespace utx::kernel
