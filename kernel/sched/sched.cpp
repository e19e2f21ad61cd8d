#include "kernel/sched/sched.h"

#include "abi/boot_info.h"
#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/smp.h"
#include "kernel/ipc/family.h"
#include "kernel/lib/log.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"
#include "kernel/platform/host_events.h"
#include "kernel/lib/errno.h"
#include "kernel/signal.h"
#include "kernel/time.h"

extern "C" void context_switch(uint64_t* save_rsp, uint64_t next_rsp);
extern "C" void thread_first_entry();
extern "C" void idle_first_entry();

namespace utx::kernel {
namespace {

constexpr size_t kKernelStackSize = 32 * 1024;
constexpr uint64_t kTimeSliceNs = 10'000'000;  // while others wait to run

Thread g_first;
Thread* g_all;           // every thread not yet reaped
WaitQueue g_zap_waiter;  // the execve waiting for the other threads to go
Thread* g_run_head;      // runnable, not running
Thread* g_run_tail;
Thread* g_timed;         // timed waits, soonest deadline first
Thread* g_dead;          // exited, stacks still to free
size_t g_live;
int g_next_tid = 2;
size_t g_fpu_size;       // bytes of the save area
bool g_xsave;
KTimer* g_ktimers;       // armed kernel timers, soonest first

// A save area aligned for xsave (64 bytes): allocated with room to align, the offset kept
// just before the aligned start so that it can be freed.
uint8_t* fpu_alloc() {
    auto* raw = static_cast<uint8_t*>(kzalloc(g_fpu_size + 64 + 8));
    if (!raw) return nullptr;
    uint8_t* area = reinterpret_cast<uint8_t*>((reinterpret_cast<uint64_t>(raw) + 8 + 63) & ~63ULL);
    reinterpret_cast<uint64_t*>(area)[-1] = uint64_t(area - raw);
    return area;
}
void fpu_free(uint8_t* area) {
    if (area) kfree(area - reinterpret_cast<uint64_t*>(area)[-1]);
}

bool allowed_on(const Thread* t, uint32_t cpu) { return t->affinity >> cpu & 1; }

// The run queue's invariants, checked where a broken one would otherwise corrupt it
// silently: a thread is queued once, only while runnable, never an idle thread, and not
// while another CPU runs it.
void run_queue_check(const Thread* t, const char* what) {
    if (t->queued || t->idle || t->state != Thread::State::Runnable)
        panic("run queue: %s thread %d (state %d, queued %d, idle %d)", what, t->tid,
              int(t->state), int(t->queued), int(t->idle));
    for (uint32_t i = 0; i < cpu_count(); ++i)
        if (cpu_at(i).current == t && i != this_cpu().index)
            panic("run queue: %s thread %d, which CPU %u runs", what, t->tid, i);
}

void run_queue_push(Thread* t) {
    run_queue_check(t, "pushing");
    t->queued = true;
    t->run_next = nullptr;
    if (g_run_tail) g_run_tail->run_next = t;
    else g_run_head = t;
    g_run_tail = t;
}

// The first queued thread that may run on `cpu`.
Thread* run_queue_pop(uint32_t cpu) {
    Thread* prev = nullptr;
    for (Thread* t = g_run_head; t; prev = t, t = t->run_next) {
        if (!allowed_on(t, cpu)) continue;
        if (prev) prev->run_next = t->run_next;
        else g_run_head = t->run_next;
        if (g_run_tail == t) g_run_tail = prev;
        t->queued = false;
        return t;
    }
    return nullptr;
}

bool runnable_for(uint32_t cpu) {
    const Thread* prev = nullptr;
    for (Thread* t = g_run_head; t; prev = t, t = t->run_next) {
        if (reinterpret_cast<uint64_t>(t) < abi::kDirectMapBase || !t->queued)
            panic("run queue corrupt: %p after thread %d (head %p tail %p)", t,
                  prev ? prev->tid : -1, g_run_head, g_run_tail);
        if (allowed_on(t, cpu)) return true;
    }
    return false;
}

// Before a thread's memory goes back: nothing the scheduler keeps may still point to it.
void check_unreferenced(const Thread* t) {
    for (const Thread* q = g_run_head; q; q = q->run_next)
        if (q == t) panic("reaping thread %d, on the run queue", t->tid);
    if (g_run_tail == t) panic("reaping thread %d, the run queue's tail", t->tid);
    for (const Thread* q = g_timed; q; q = q->timed_next)
        if (q == t) panic("reaping thread %d, in the timed waits", t->tid);
    for (uint32_t i = 0; i < cpu_count(); ++i)
        if (cpu_at(i).current == t) panic("reaping thread %d, current on CPU %u", t->tid, i);
    for (const Thread* q = g_all; q; q = q->all_next)
        if (q->queue && q->queue->head == t) panic("reaping thread %d, heading a wait queue", t->tid);
}

void arm_timer();

// `t` was just queued: an idle CPU it may run on takes it. The calling CPU's own idle loop
// finds it without help; a halted CPU needs an interrupt. With no CPU free, the calling
// CPU's time slice begins (if `t` may run here), or a thread that computes without a
// system call would keep the CPU from it for good.
void wake_cpu_for(Thread* t) {
    PerCpu& self = this_cpu();
    if (self.current == self.idle && allowed_on(t, self.index)) return;
    for (uint32_t i = 0; i < cpu_count(); ++i) {
        PerCpu& cpu = cpu_at(i);
        if (&cpu == &self || !cpu.halted || !allowed_on(t, i)) continue;
        cpu.halted = false;  // one wake-up per idle CPU
        // It sees `wake` while it polls; once it has stopped polling it needs an interrupt.
        // Each side stores, then loads what the other stores: one of them sees the other.
        __atomic_store_n(&cpu.wake, true, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&cpu.polling, __ATOMIC_SEQ_CST)) cpu_kick(cpu);
        return;
    }
    if (allowed_on(t, self.index)) arm_timer();
}

void timed_insert(Thread* t) {
    Thread** p = &g_timed;
    while (*p && (*p)->deadline_tsc <= t->deadline_tsc) p = &(*p)->timed_next;
    t->timed_next = *p;
    *p = t;
}

void timed_remove(Thread* t) {
    for (Thread** p = &g_timed; *p; p = &(*p)->timed_next)
        if (*p == t) {
            *p = t->timed_next;
            return;
        }
}

void make_runnable(Thread* t) {
    if (t->queue) wait_queue_remove(*t->queue, t);
    if (t->deadline_tsc) timed_remove(t);
    t->deadline_tsc = 0;
    t->state = Thread::State::Runnable;
    run_queue_push(t);
    wake_cpu_for(t);
}

// Timed waits whose deadline has passed end now, and the alarm rings.
void expire_deadlines() {
    const uint64_t now = rdtsc();
    while (g_ktimers && g_ktimers->deadline_tsc <= now) {
        KTimer* t = g_ktimers;
        g_ktimers = t->next;
        t->deadline_tsc = 0;
        t->fire(t);  // may arm it (or another) again
    }
    while (g_timed && g_timed->deadline_tsc <= now) {
        Thread* t = g_timed;
        t->timed_out = true;
        make_runnable(t);
    }
}

// This CPU's timer for the next event: the soonest deadline, or the end of the time slice
// when a thread waits to run; off otherwise, so that a lone thread never exits the VM. A
// timer already armed no later than needed is kept: moving it would cost a VM exit each
// time. So is one armed earlier than needed (a slice whose waiting thread has run since):
// turning it off now and on again at the next wake-up costs two, while letting it fire
// costs one interrupt that finds nothing to do and turns it off.
void arm_timer() {
    uint64_t when = g_timed ? g_timed->deadline_tsc : 0;
    if (g_ktimers && (!when || g_ktimers->deadline_tsc < when)) when = g_ktimers->deadline_tsc;
    const uint64_t armed = this_cpu().timer_armed;
    if (runnable_for(this_cpu().index)) {
        const uint64_t slice = tsc_deadline_for(monotonic_ns() + kTimeSliceNs);
        if (armed && armed <= slice && (!when || armed <= when)) return;
        if (!when || slice < when) when = slice;
    } else if (armed && (!when || armed <= when)) {
        return;
    }
    apic_arm(when);
}

void reap_dead() {
    while (g_dead) {
        Thread* t = g_dead;
        g_dead = t->run_next;
        if (t->queued || t->queue) panic("reaping thread %d, still queued", t->tid);
        check_unreferenced(t);
        for (Thread** p = &g_all; *p; p = &(*p)->all_next)
            if (*p == t) {
                *p = t->all_next;
                break;
            }
        kfree(t->kernel_stack);
        fpu_free(t->fpu);
        if (t != &g_first) kfree(t);  // the first thread is static (it may go first: execve)
    }
}

// Idle threads have no application state to switch.
void switch_to(Thread* next) {
    PerCpu& cpu = this_cpu();
    Thread* prev = cpu.current;
    if (next == prev) return;
    if (!prev->idle) fpu_save(prev->fpu);
    cpu.current = next;
    next->cpu = cpu.index;
    cpu_set_kernel_stack(next->kernel_stack_top);
    if (!next->idle) {
        wrmsr(kMsrFsBase, next->fs_base);
        wrmsr(kMsrKernelGsBase, next->gs_base);
        fpu_restore(next->fpu);
    }
    context_switch(&prev->saved_rsp, next->saved_rsp);
    // Back in `prev`, on its own stack: whatever exited meanwhile can be freed.
    reap_dead();
}

// Runs the next runnable thread, or this CPU's idle thread. The caller has queued itself
// if it stays runnable.
void schedule() {
    PerCpu& cpu = this_cpu();
    expire_deadlines();
    Thread* next = run_queue_pop(cpu.index);
    if (!next) next = cpu.idle;
    arm_timer();
    switch_to(next);
}

// The current thread `t` waits on `q` (and until `deadline_ns`, 0: none) until woken.
void block_on(Thread* t, WaitQueue& q, uint64_t deadline_ns) {
    t->state = Thread::State::Blocked;
    wait_queue_append(q, t);
    if (deadline_ns) {
        t->deadline_tsc = tsc_deadline_for(deadline_ns);
        if (!t->deadline_tsc) t->deadline_tsc = 1;
        timed_insert(t);
    }
    // Other processes must be able to make what this thread waits for happen.
    const uint32_t family_depth = family_release_all();
    schedule();
    family_retake(family_depth);
}

// How long an idle CPU polls for work before it halts. A thread woken on another CPU
// often comes back within microseconds (a futex ping-pong, a pipe between two threads);
// polling spares both sides the interrupt and the VM exits of a halt, as Linux's haltpoll
// does in guests. An idle guest still halts (costs the host nothing) after that.
constexpr uint64_t kIdlePollNs = 100'000;

// Waits, without the lock, for `wake` (a thread for this CPU, or a timer interrupt), an
// event from the VMM or any interrupt: polling first while cpu.polling, then halted. While
// it polls, the VMM need not raise an NMI for a socket's readiness.
void idle_wait(PerCpu& cpu, bool poll_host) {
    irq_enable();
    if (cpu.polling) {
        if (poll_host) host_events_polling(true);
        const uint64_t end = tsc_deadline_for(monotonic_ns() + kIdlePollNs);
        while (!__atomic_load_n(&cpu.wake, __ATOMIC_ACQUIRE) && !host_events_waiting() &&
               rdtsc() < end)
            cpu_relax();
        if (poll_host) host_events_polling(false);
    }
    irq_disable();
    __atomic_store_n(&cpu.polling, false, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&cpu.wake, __ATOMIC_SEQ_CST) || host_events_waiting()) return;
    // sti takes effect after the next instruction: no interrupt is lost before hlt. An NMI
    // (signals from the VMM) is not held back by sti, so one that comes just before the
    // hlt moves the return address past it (traps.cpp) instead of being slept on. On PVM,
    // where the interrupt flag is set before sti, an interrupt may come there too.
    if (g_pvm) pvm_set_interrupt_flag(true);
    asm volatile("sti\n.globl idle_halt\nidle_halt: hlt\ncli" ::: "memory");
    if (g_pvm) pvm_set_interrupt_flag(false);
}

// The stack as context_switch leaves it: six callee-saved registers, then `entry`.
uint64_t initial_stack(uint64_t top, void (*entry)()) {
    auto* sp = reinterpret_cast<uint64_t*>(top);
    *--sp = reinterpret_cast<uint64_t>(entry);
    for (int i = 0; i < 6; ++i) *--sp = 0;
    return reinterpret_cast<uint64_t>(sp);
}

}  // namespace

Thread* sched_create_idle(size_t stack_size) {
    auto* t = static_cast<Thread*>(kzalloc(sizeof(Thread)));
    if (!t) return nullptr;
    t->kernel_stack = static_cast<uint8_t*>(kmalloc(stack_size));
    if (!t->kernel_stack) {
        kfree(t);
        return nullptr;
    }
    t->idle = true;
    t->state = Thread::State::Runnable;
    t->kernel_stack_top = (reinterpret_cast<uint64_t>(t->kernel_stack) + stack_size) & ~15ULL;
    // The first CPU switches to it; the others start on this stack (ap_entry).
    t->saved_rsp = initial_stack(t->kernel_stack_top - 16, &idle_first_entry);
    return t;
}

void sched_idle() {
    PerCpu& cpu = this_cpu();
    for (;;) {
        reap_dead();
        expire_deadlines();
        if (Thread* next = run_queue_pop(cpu.index)) {
            arm_timer();
            switch_to(next);
            continue;
        }
        arm_timer();
        cpu.halted = true;
        // With threads waiting for host sockets, the VMM's report may come any moment.
        const bool poll_host = net_waiters();
        __atomic_store_n(&cpu.polling, cpu_count() > 1 || poll_host, __ATOMIC_SEQ_CST);
        kernel_unlock();
        idle_wait(cpu, poll_host);
        kernel_enter();
        cpu.halted = false;
        __atomic_store_n(&cpu.wake, false, __ATOMIC_RELAXED);
        host_events_take();
    }
}

uint64_t sched_online_mask() {
    const uint32_t n = cpu_count();
    return n >= 64 ? ~0ULL : (1ULL << n) - 1;
}

namespace {

// The current thread may no longer run on this CPU: it moves to one it may run on.
bool move_if_disallowed() {
    Thread& t = current_thread();
    if (allowed_on(&t, this_cpu().index)) return false;
    run_queue_push(&t);
    wake_cpu_for(&t);
    schedule();
    return true;
}

}  // namespace

int sched_set_affinity(Thread* t, uint64_t mask) {
    mask &= sched_online_mask();
    if (!mask) return -EINVAL;
    t->affinity = mask;
    if (t == &current_thread()) {
        move_if_disallowed();
    } else if (t->state == Thread::State::Runnable && !allowed_on(t, t->cpu)) {
        // Running on a CPU it may no longer use: that CPU's next entry moves it.
        PerCpu& cpu = cpu_at(t->cpu);
        if (cpu.current == t) cpu_kick(cpu);
    }
    return 0;
}

void sched_init(uint64_t boot_stack_top) {
    uint32_t r[4];
    cpuid(1, 0, r);
    g_xsave = r[2] & (1u << 27);  // OSXSAVE: fpu_init turned XSAVE on
    if (g_xsave) {
        // The standard format's size for the components enabled: the end of the last one.
        g_fpu_size = 576;  // the legacy area and the header
        const uint64_t features = fpu_xfeatures();
        for (uint32_t i = 2; i < 64; ++i) {
            if (!(features & (1ULL << i))) continue;
            cpuid(0xd, i, r);  // eax: size, ebx: offset
            if (r[0] + r[1] > g_fpu_size) g_fpu_size = r[0] + r[1];
        }
    } else {
        g_fpu_size = 512;
    }
    g_first.tid = 1;
    g_first.altstack_flags = 2;  // SS_DISABLE
    g_first.state = Thread::State::Runnable;
    g_first.kernel_stack_top = boot_stack_top;
    g_first.fpu = fpu_alloc();
    g_first.affinity = ~0ULL;
    if (!g_first.fpu) panic("out of memory for the first thread");
    g_all = &g_first;
    g_live = 1;
    PerCpu& cpu = this_cpu();
    cpu.current = &g_first;
    cpu.idle = sched_create_idle(16 * 1024);
    if (!cpu.idle) panic("out of memory for the idle thread");
}

Thread& current_thread() { return *this_cpu().current; }
size_t thread_count() { return g_live; }

Thread* thread_list() { return g_all; }

Thread* thread_find(int tid) {
    for (Thread* t = g_all; t; t = t->all_next)
        if (t->tid == tid && t->state != Thread::State::Dead) return t;
    return nullptr;
}

Thread* thread_spawn(const TrapFrame& frame) {
    auto* t = static_cast<Thread*>(kzalloc(sizeof(Thread)));
    if (!t) return nullptr;
    t->kernel_stack = static_cast<uint8_t*>(kmalloc(kKernelStackSize));
    t->fpu = fpu_alloc();
    if (!t->kernel_stack || !t->fpu) {
        kfree(t->kernel_stack);
        fpu_free(t->fpu);
        kfree(t);
        return nullptr;
    }
    fpu_save(t->fpu);  // the parent's registers, as clone(2) copies them
    t->kernel_stack_top = (reinterpret_cast<uint64_t>(t->kernel_stack) + kKernelStackSize) & ~15ULL;
    // Its first switch returns into thread_first_entry, which enters user mode with the
    // frame at the top of the stack.
    auto* f = reinterpret_cast<TrapFrame*>(t->kernel_stack_top - sizeof(TrapFrame));
    *f = frame;
    t->saved_rsp = initial_stack(reinterpret_cast<uint64_t>(f), &thread_first_entry);
    const Thread& parent = current_thread();
    t->tid = g_next_tid++;
    t->fs_base = parent.fs_base;
    t->gs_base = parent.gs_base;
    t->signal_mask = parent.signal_mask;  // a new thread inherits the mask
    t->affinity = parent.affinity;        // and the CPUs it may use
    t->altstack_flags = 2;                // SS_DISABLE: clone(2) gives none
    t->all_next = g_all;
    g_all = t;
    ++g_live;
    t->state = Thread::State::Blocked;
    make_runnable(t);
    arm_timer();  // if no CPU is free, time slices begin
    return t;
}

void thread_exit() {
    Thread* t = &current_thread();
    if (t->queued || t->queue || t->deadline_tsc)
        panic("thread %d exits while queued (run %d, wait %d, timed %d)", t->tid,
              int(t->queued), t->queue != nullptr, t->deadline_tsc != 0);
    t->state = Thread::State::Dead;
    --g_live;
    if (g_live == 1) wake_up(g_zap_waiter, 1);
    t->run_next = g_dead;
    g_dead = t;
    schedule();
    panic("an exited thread was scheduled");
}

void sched_after_fork(int pid, Thread* old_idle) {
    Thread* self = &current_thread();
    reap_dead();
    for (Thread** p = &g_all; *p;) {
        Thread* t = *p;
        if (t == self || t->idle) {
            p = &t->all_next;
            continue;
        }
        // Waiting, queued or running on a CPU this VM does not have: it never runs here.
        if (t->queue) wait_queue_remove(*t->queue, t);
        if (t->deadline_tsc) timed_remove(t);
        *p = t->all_next;
        kfree(t->kernel_stack);
        fpu_free(t->fpu);
        if (t != &g_first) kfree(t);
    }
    g_run_head = g_run_tail = nullptr;
    g_live = 1;
    self->tid = pid;
    self->affinity = ~0ULL;  // this VM has one CPU
    self->cpu = 0;
    if (old_idle) {
        kfree(old_idle->kernel_stack);
        kfree(old_idle);
    }
    sched_rearm_timer();
}

void sched_zap_others() {
    Thread* self = &current_thread();
    for (Thread* t = g_all; t; t = t->all_next) {
        if (t == self || t->idle || t->state == Thread::State::Dead) continue;
        t->zapped = true;
        if (t->state == Thread::State::Blocked) {
            t->interrupted = true;
            make_runnable(t);
        }
    }
    // Those running in the application on other CPUs: the reschedule interrupt brings them
    // into the kernel, whose way out ends them. A queued one ends when it next runs.
    sched_kick_others();
    // Not interruptible: a signal for this thread waits for the new program.
    while (g_live > 1) thread_wait_uninterruptible(g_zap_waiter);
}


void thread_wait_uninterruptible(WaitQueue& q) { block_on(&current_thread(), q, 0); }

void sched_kick_others() {
    Thread* self = &current_thread();
    for (uint32_t i = 0; i < cpu_count(); ++i) {
        Thread* t = cpu_at(i).current;
        if (i != this_cpu().index && t != self && !t->idle) cpu_kick(cpu_at(i));
    }
}

int64_t thread_wait(WaitQueue& q, uint64_t deadline_ns) {
    Thread* t = &current_thread();
    if (t->zapped || signal_interrupts(*t)) return -EINTR;
    t->timed_out = false;
    t->interrupted = false;
    block_on(t, q, deadline_ns);
    if (t->interrupted) return -EINTR;
    return t->timed_out ? -ETIMEDOUT : 0;
}

void thread_interrupt(Thread* t) {
    if (t->state != Thread::State::Blocked) return;
    t->interrupted = true;
    make_runnable(t);
}

void ktimer_cancel(KTimer& t) {
    if (!t.deadline_tsc) return;
    for (KTimer** p = &g_ktimers; *p; p = &(*p)->next)
        if (*p == &t) {
            *p = t.next;
            break;
        }
    t.deadline_tsc = 0;
}

void ktimer_arm(KTimer& t, uint64_t deadline_ns) {
    ktimer_cancel(t);
    t.deadline_tsc = tsc_deadline_for(deadline_ns);
    if (!t.deadline_tsc) t.deadline_tsc = 1;  // already due
    KTimer** p = &g_ktimers;
    while (*p && (*p)->deadline_tsc <= t.deadline_tsc) p = &(*p)->next;
    t.next = *p;
    *p = &t;
    arm_timer();
}

uint64_t ktimer_deadline_ns(const KTimer& t) {
    return t.deadline_tsc ? monotonic_ns_at(t.deadline_tsc) : 0;
}

void fpu_save(uint8_t* area) {
    const uint64_t m = fpu_xfeatures();
    if (g_xsave)
        asm volatile("xsave64 (%0)" : : "r"(area), "a"(uint32_t(m)), "d"(uint32_t(m >> 32))
                     : "memory");
    else asm volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void fpu_restore(const uint8_t* area) {
    const uint64_t m = fpu_xfeatures();
    if (g_xsave)
        asm volatile("xrstor64 (%0)" : : "r"(area), "a"(uint32_t(m)), "d"(uint32_t(m >> 32))
                     : "memory");
    else asm volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

void fpu_reset() {
    // x87 and SSE at their reset values; for XRSTOR, XSTATE_BV 0 puts every component in
    // its initial state (MXCSR still comes from the image).
    alignas(64) static uint8_t clean[4096];
    clean[0] = 0x7f, clean[1] = 0x03;                     // FCW 0x37f
    clean[24] = 0x80, clean[25] = 0x1f;                   // MXCSR 0x1f80
    fpu_restore(clean);
}

size_t fpu_state_size() { return g_fpu_size; }
bool fpu_uses_xsave() { return g_xsave; }

void thread_wake(Thread* t) {
    if (t->state == Thread::State::Blocked) make_runnable(t);
}

int wake_up(WaitQueue& q, int max) {
    int n = 0;
    while (q.head && n < max) {
        thread_wake(q.head);
        ++n;
    }
    return n;
}

void wait_queue_append(WaitQueue& q, Thread* t) {
    t->queue = &q;
    t->queue_next = nullptr;
    if (q.tail) q.tail->queue_next = t;
    else q.head = t;
    q.tail = t;
}

void wait_queue_remove(WaitQueue& q, Thread* t) {
    Thread* prev = nullptr;
    for (Thread* w = q.head; w; prev = w, w = w->queue_next) {
        if (w != t) continue;
        if (prev) prev->queue_next = w->queue_next;
        else q.head = w->queue_next;
        if (q.tail == w) q.tail = prev;
        break;
    }
    t->queue = nullptr;
    t->queue_next = nullptr;
}

void sched_migrate_if_needed() { move_if_disallowed(); }

void sched_rearm_timer() {
    this_cpu().timer_armed = 0;
    arm_timer();
}

void sched_yield_now() {
    if (move_if_disallowed() || !runnable_for(this_cpu().index)) return;
    run_queue_push(&current_thread());
    schedule();
}

void sched_timer_tick() {
    expire_deadlines();
    if (move_if_disallowed()) return;
    if (runnable_for(this_cpu().index)) {
        run_queue_push(&current_thread());
        schedule();
    } else {
        arm_timer();
    }
}

}  // namespace utx::kernel

using namespace utx::kernel;

// A new thread's first run (switch.S, thread_first_entry): into the application.
extern "C" [[noreturn]] void thread_start(const TrapFrame* frame) {
    reap_dead();
    thread_exit_if_zapped();
    enter_user(*frame);
}

extern "C" [[noreturn]] void idle_start() { sched_idle(); }
