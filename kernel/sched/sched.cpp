#include "kernel/sched/sched.h"

#include "kernel/arch/x86_64/apic.h"
#include "kernel/lib/log.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"
#include "kernel/lib/errno.h"
#include "kernel/signal.h"
#include "kernel/time.h"

extern "C" void context_switch(uint64_t* save_rsp, uint64_t next_rsp);
extern "C" void thread_first_entry();

namespace utx::kernel {
namespace {

constexpr size_t kKernelStackSize = 32 * 1024;
constexpr uint64_t kTimeSliceNs = 10'000'000;  // while others wait to run

Thread g_first;
Thread* g_current;
Thread* g_all;           // every thread not yet reaped
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

void run_queue_push(Thread* t) {
    t->run_next = nullptr;
    if (g_run_tail) g_run_tail->run_next = t;
    else g_run_head = t;
    g_run_tail = t;
}

Thread* run_queue_pop() {
    Thread* t = g_run_head;
    if (t) {
        g_run_head = t->run_next;
        if (!g_run_head) g_run_tail = nullptr;
    }
    return t;
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

// The timer for the next event: the soonest deadline, or the end of the time slice when
// another thread waits to run; off otherwise, so that a lone thread never exits the VM.
void arm_timer() {
    uint64_t when = g_timed ? g_timed->deadline_tsc : 0;
    if (g_ktimers && (!when || g_ktimers->deadline_tsc < when)) when = g_ktimers->deadline_tsc;
    if (g_run_head) {
        const uint64_t slice = tsc_deadline_for(monotonic_ns() + kTimeSliceNs);
        if (!when || slice < when) when = slice;
    }
    apic_arm(when);
}

void reap_dead() {
    while (g_dead) {
        Thread* t = g_dead;
        g_dead = t->run_next;
        for (Thread** p = &g_all; *p; p = &(*p)->all_next)
            if (*p == t) {
                *p = t->all_next;
                break;
            }
        kfree(t->kernel_stack);
        fpu_free(t->fpu);
        kfree(t);
    }
}

void switch_to(Thread* next) {
    Thread* prev = g_current;
    if (next == prev) return;
    fpu_save(prev->fpu);
    g_current = next;
    cpu_set_kernel_stack(next->kernel_stack_top);
    wrmsr(kMsrFsBase, next->fs_base);
    wrmsr(kMsrKernelGsBase, next->gs_base);
    fpu_restore(next->fpu);
    context_switch(&prev->saved_rsp, next->saved_rsp);
    // Back in `prev`, on its own stack: whatever exited meanwhile can be freed.
    reap_dead();
}

// Runs the next runnable thread; with none, idles (halted) until a deadline or an
// interrupt makes one runnable. The caller has queued itself if it stays runnable.
void schedule() {
    for (;;) {
        expire_deadlines();
        if (Thread* next = run_queue_pop()) {
            arm_timer();
            switch_to(next);
            return;
        }
        if (g_current->state == Thread::State::Runnable) {
            arm_timer();
            return;
        }
        arm_timer();
        // sti takes effect after the next instruction: no wake-up is lost before hlt. An
        // NMI (signals from the VMM) is not held back by sti, so one that comes just before
        // the hlt moves the return address past it (traps.cpp) instead of being slept on.
        asm volatile("sti\n.globl idle_halt\nidle_halt: hlt\ncli" ::: "memory");
        signal_take_host();
    }
}

}  // namespace

void sched_init(uint64_t boot_stack_top) {
    uint32_t r[4];
    cpuid(1, 0, r);
    g_xsave = r[2] & (1u << 27);  // OSXSAVE: fpu_init turned XSAVE on
    if (g_xsave) {
        cpuid(0xd, 0, r);
        g_fpu_size = r[1];  // for the features enabled in XCR0
    } else {
        g_fpu_size = 512;
    }
    g_first.tid = 1;
    g_first.altstack_flags = 2;  // SS_DISABLE
    g_first.state = Thread::State::Runnable;
    g_first.kernel_stack_top = boot_stack_top;
    g_first.fpu = fpu_alloc();
    if (!g_first.fpu) panic("out of memory for the first thread");
    g_current = g_all = &g_first;
    g_live = 1;
}

Thread& current_thread() { return *g_current; }
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
    // The stack as context_switch leaves it: six callee-saved registers, then the return
    // into thread_first_entry, which enters user mode with the frame above it.
    auto* f = reinterpret_cast<TrapFrame*>(t->kernel_stack_top - sizeof(TrapFrame));
    *f = frame;
    auto* sp = reinterpret_cast<uint64_t*>(f);
    *--sp = reinterpret_cast<uint64_t>(&thread_first_entry);
    for (int i = 0; i < 6; ++i) *--sp = 0;
    t->saved_rsp = reinterpret_cast<uint64_t>(sp);
    t->tid = g_next_tid++;
    t->fs_base = g_current->fs_base;
    t->gs_base = g_current->gs_base;
    t->signal_mask = g_current->signal_mask;  // a new thread inherits the mask
    t->altstack_flags = 2;                    // SS_DISABLE: clone(2) gives none
    t->all_next = g_all;
    g_all = t;
    ++g_live;
    t->state = Thread::State::Runnable;
    run_queue_push(t);
    arm_timer();  // two threads now share the vCPU: time slices begin
    return t;
}

void thread_exit() {
    Thread* t = g_current;
    t->state = Thread::State::Dead;
    --g_live;
    t->run_next = g_dead;
    g_dead = t;
    schedule();
    panic("an exited thread was scheduled");
}

int64_t thread_wait(WaitQueue& q, uint64_t deadline_ns) {
    Thread* t = g_current;
    if (signal_interrupts(*t)) return -EINTR;
    t->timed_out = false;
    t->interrupted = false;
    t->state = Thread::State::Blocked;
    wait_queue_append(q, t);
    if (deadline_ns) {
        t->deadline_tsc = tsc_deadline_for(deadline_ns);
        if (!t->deadline_tsc) t->deadline_tsc = 1;
        timed_insert(t);
    }
    schedule();
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
    if (g_xsave) asm volatile("xsave64 (%0)" : : "r"(area), "a"(~0u), "d"(~0u) : "memory");
    else asm volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void fpu_restore(const uint8_t* area) {
    if (g_xsave) asm volatile("xrstor64 (%0)" : : "r"(area), "a"(~0u), "d"(~0u) : "memory");
    else asm volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
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

void sched_yield_now() {
    if (!g_run_head) return;
    run_queue_push(g_current);
    schedule();
}

void sched_timer_tick() {
    expire_deadlines();
    if (g_run_head) {
        run_queue_push(g_current);
        schedule();
    } else {
        arm_timer();
    }
}

}  // namespace utx::kernel
