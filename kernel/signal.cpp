#include "kernel/signal.h"

#include "kernel/ipc/waitfd.h"
#include "kernel/lib/errno.h"
#include "kernel/lib/log.h"
#include "kernel/lib/string.h"
#include "kernel/mm/memory.h"
#include "kernel/mm/user_access.h"
#include "kernel/process.h"
#include "kernel/time.h"

namespace utx::kernel {
namespace {

constexpr uint64_t kSigDfl = 0, kSigIgn = 1;
constexpr uint64_t kSaSiginfo = 4, kSaOnstack = 0x08000000, kSaRestart = 0x10000000,
                   kSaNodefer = 0x40000000, kSaResethand = 0x80000000ULL;
constexpr uint32_t kSsOnstack = 1, kSsDisable = 2, kSsAutodisarm = 1u << 31;
constexpr uint64_t kUcFpXstate = 1, kUcSigcontextSs = 2, kUcStrictRestoreSs = 4;
constexpr uint32_t kFpXstateMagic1 = 0x46505853, kFpXstateMagic2 = 0x46505845;
// The flags a signal handler may change through its frame (Linux's FIX_EFLAGS).
constexpr uint64_t kFixEflags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 |
                                0x10000 | 0x40000;
// Delivered before others, as Linux does: the faults a thread caused itself.
constexpr uint64_t kSynchronous = sigbit(kSigSegv) | sigbit(kSigBus) | sigbit(kSigIll) |
                                  sigbit(kSigTrap) | sigbit(kSigFpe) | sigbit(31 /* SYS */);

struct StackT {
    uint64_t sp;
    int32_t flags;
    int32_t pad;
    uint64_t size;
};
struct SigContext {  // struct sigcontext of x86-64
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp,
        rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate;
    uint64_t reserved1[8];
};
static_assert(sizeof(SigContext) == 256);
struct UContext {
    uint64_t flags, link;
    StackT stack;
    SigContext mcontext;
    uint64_t sigmask;
};
static_assert(sizeof(UContext) == 304);
struct SigInfoUser {
    int32_t signo, errno_, code, pad;
    union {
        struct {
            int32_t pid;
            uint32_t uid;
        } kill;
        struct {
            int32_t tid, overrun;
            uint64_t value;
        } timer;
        uint64_t addr;
        uint8_t raw[112];
    };
};
static_assert(sizeof(SigInfoUser) == 128);
struct RtSigFrame {
    uint64_t pretcode;  // the handler's return address: sa_restorer, which calls rt_sigreturn
    UContext uc;
    SigInfoUser info;
};

uint64_t g_process_pending;
SignalInfo g_process_info[kNumSignals];

// Real-time signals queue: each sending is delivered. The first instance pending for a
// thread (or the process, owner null) sits in pending_info as a standard signal does; the
// others wait here in sending order. Bounded like RLIMIT_SIGPENDING: beyond, EAGAIN.
constexpr int kFirstRealtime = 32;
constexpr int kQueueCapacity = 1024;
struct Queued {
    Thread* owner;
    int sig;
    SignalInfo info;
    Queued* next;
};
Queued g_queue_pool[kQueueCapacity];
Queued* g_queue_free;
bool g_queue_ready;
Queued* g_queued;  // in sending order

bool enqueue_extra(Thread* owner, int sig, const SignalInfo& info) {
    if (!g_queue_ready) {
        for (Queued& q : g_queue_pool) q.next = g_queue_free, g_queue_free = &q;
        g_queue_ready = true;
    }
    Queued* q = g_queue_free;
    if (!q) return false;
    g_queue_free = q->next;
    *q = Queued{owner, sig, info, nullptr};
    Queued** tail = &g_queued;
    while (*tail) tail = &(*tail)->next;
    *tail = q;
    return true;
}

// The next queued instance of `sig` for `owner` into `info`; false when there is none.
bool dequeue_extra(Thread* owner, int sig, SignalInfo& info) {
    for (Queued** p = &g_queued; *p; p = &(*p)->next) {
        Queued* q = *p;
        if (q->owner != owner || q->sig != sig) continue;
        info = q->info;
        *p = q->next;
        q->next = g_queue_free;
        g_queue_free = q;
        return true;
    }
    return false;
}

// Records `sig` as pending in (bits, infos) of `owner`; a real-time one already pending
// queues another instance. False when the queue is full.
bool make_pending(Thread* owner, uint64_t& bits, SignalInfo* infos, int sig,
                  const SignalInfo& info) {
    if (bits & sigbit(sig)) {
        if (sig < kFirstRealtime) return true;  // standard signals do not queue
        return enqueue_extra(owner, sig, info);
    }
    infos[sig - 1] = info;
    bits |= sigbit(sig);
    return true;
}
uint64_t g_alarm_interval_ns;
uint64_t g_alarm_due_ns;  // when ITIMER_REAL was last due
KTimer g_real_timer;
alignas(64) uint8_t g_fpu_image[8192];  // the application's FPU state on its way to or from a frame
alignas(64) uint8_t g_fpu_init[1024];   // XSAVE header all zero: every component's init state

enum class Default { Term, Core, Ignore, Stop };

constexpr uint64_t kStopSignals =
    sigbit(kSigStop) | sigbit(kSigTstp) | sigbit(kSigTtin) | sigbit(kSigTtou);

Default default_action(int sig) {
    switch (sig) {
        case kSigChld: case kSigCont: case kSigUrg: case kSigWinch:
            return Default::Ignore;
        case kSigStop: case kSigTstp: case kSigTtin: case kSigTtou:
            return Default::Stop;
        case kSigQuit: case kSigIll: case kSigTrap: case kSigAbrt: case kSigBus: case kSigFpe:
        case kSigSegv: case 24: case 25: case 31:
            return Default::Core;
        default:
            return Default::Term;
    }
}

bool ignored(int sig) {
    const uint64_t h = current_process().actions[sig].handler;
    return h == kSigIgn || (h == kSigDfl && default_action(sig) == Default::Ignore);
}

void fpu_load_init() {
    if (fpu_uses_xsave()) {
        uint32_t mxcsr = 0x1f80;
        memcpy(g_fpu_init + 24, &mxcsr, 4);
        fpu_restore(g_fpu_init);
    } else {
        uint32_t mxcsr = 0x1f80;
        asm volatile("fninit; ldmxcsr %0" : : "m"(mxcsr));
    }
}

// Builds the frame for `sig` on the user stack and points `f` at its handler. False when
// the frame cannot be written (the stack is gone): the caller kills with SIGSEGV.
bool build_frame(Thread& t, int sig, const SignalInfo& info, const SigAction& act, TrapFrame& f,
                 uint64_t old_mask) {
    uint64_t sp = f.rsp - 128;  // below the red zone
    const StackT saved_stack{t.altstack_sp,
                             int32_t(t.altstack_size == 0 ? kSsDisable
                                     : signal_on_altstack(t, f.rsp) ? kSsOnstack : 0) |
                                 int32_t(t.altstack_flags & kSsAutodisarm),
                             0, t.altstack_size};
    if ((act.flags & kSaOnstack) && t.altstack_size && !signal_on_altstack(t, f.rsp)) {
        sp = t.altstack_sp + t.altstack_size;
        if (t.altstack_flags & kSsAutodisarm) {
            t.altstack_sp = t.altstack_size = 0;
            t.altstack_flags = kSsDisable;
        }
    }
    const size_t fp_size = fpu_state_size();
    const bool xsave = fpu_uses_xsave();
    sp = (sp - fp_size - (xsave ? 4 : 0)) & ~63ULL;
    const uint64_t fpstate = sp;
    sp -= sizeof(RtSigFrame);
    sp = (sp & ~15ULL) - 8;  // as after a call: the handler sees rsp + 8 aligned to 16

    fpu_save(g_fpu_image);
    if (xsave) {
        // The software bytes in the FXSAVE area that tell libc an XSAVE image follows.
        uint32_t sw[12] = {kFpXstateMagic1, uint32_t(fp_size + 4), 0, 0, uint32_t(fp_size)};
        sw[2] = uint32_t(fpu_xfeatures());
        sw[3] = uint32_t(fpu_xfeatures() >> 32);
        memcpy(g_fpu_image + 464, sw, sizeof sw);
    }
    if (!copy_to_user(fpstate, g_fpu_image, fp_size)) return false;
    if (xsave && !UserPtr<uint32_t>(fpstate + fp_size).write(kFpXstateMagic2)) return false;

    RtSigFrame frame{};
    frame.pretcode = act.restorer;
    frame.uc.flags = (xsave ? kUcFpXstate : 0) | kUcSigcontextSs | kUcStrictRestoreSs;
    frame.uc.stack = saved_stack;
    SigContext& mc = frame.uc.mcontext;
    mc = {f.r8, f.r9, f.r10, f.r11, f.r12, f.r13, f.r14, f.r15, f.rdi, f.rsi, f.rbp, f.rbx,
          f.rdx, f.rax, f.rcx, f.rsp, f.rip, f.rflags, uint16_t(f.cs), 0, 0, uint16_t(f.ss),
          0, 0, old_mask, 0, fpstate, {}};
    if (f.vector != uint64_t(-1) && f.vector < 32) {
        mc.err = f.error;
        mc.trapno = f.vector;
        if (f.vector == 14) mc.cr2 = info.addr;
    }
    frame.uc.sigmask = old_mask;
    frame.info.signo = sig;
    frame.info.code = info.code;
    if (sig == kSigSegv || sig == kSigBus || sig == kSigIll || sig == kSigFpe || sig == kSigTrap) {
        frame.info.addr = info.addr;
    } else if (info.code == kSiTimer) {
        frame.info.timer = {info.timerid, info.overrun, info.value};
    } else {
        frame.info.kill.pid = info.pid;
        frame.info.kill.uid = info.uid;
        if (info.code == kSiQueue) memcpy(frame.info.raw + 8, &info.value, 8);  // si_value
    }
    if (!copy_to_user(sp, &frame, sizeof frame)) return false;

    f.rip = act.handler;
    f.rsp = sp;
    f.rdi = uint64_t(sig);
    f.rsi = sp + __builtin_offsetof(RtSigFrame, info);
    f.rdx = sp + __builtin_offsetof(RtSigFrame, uc);
    f.rax = 0;
    f.rflags &= ~(0x100ULL | 0x400ULL);  // TF, DF
    f.cs = kUserCs;
    f.ss = kUserSs;
    fpu_load_init();  // the handler starts from a clean FPU, as on Linux
    return true;
}

// The lowest-numbered ready signal, the thread's faults first.
int next_signal(uint64_t ready) {
    const uint64_t sync = ready & kSynchronous;
    return __builtin_ctzll(sync ? sync : ready) + 1;
}

}  // namespace

// What sending does before anything is queued (Linux's prepare_signal): SIGKILL ends the
// process; SIGCONT continues a stopped one and discards pending stop signals; a stop
// signal discards a pending SIGCONT.
void prepare_signal(int sig) {
    if (sig == kSigKill) process_kill(kSigKill, 0, 0);
    const uint64_t discard = sig == kSigCont ? kStopSignals
                             : (sigbit(sig) & kStopSignals) ? sigbit(kSigCont) : 0;
    if (!discard) return;
    g_process_pending &= ~discard;
    for (Thread* t = thread_list(); t; t = t->all_next) t->pending &= ~discard;
    if (sig == kSigCont) process_continue();
}

int64_t signal_send_thread(Thread& t, int sig, const SignalInfo& info) {
    prepare_signal(sig);
    if (ignored(sig) && !(t.signal_mask & sigbit(sig))) return 0;  // discarded, as on Linux
    if (!make_pending(&t, t.pending, t.pending_info, sig, info)) return -EAGAIN;
    poll_notify();  // a signalfd may be among what someone polls
    if (!(t.signal_mask & sigbit(sig)) || (t.signal_waiting & sigbit(sig))) thread_interrupt(&t);
    return 0;
}

int64_t signal_send_process(int sig, const SignalInfo& info) {
    prepare_signal(sig);
    Thread& self = current_thread();  // a CPU's idle thread when a timer or the VMM sends it
    if (ignored(sig) && (self.idle || !(self.signal_mask & sigbit(sig)))) return 0;
    if (!make_pending(nullptr, g_process_pending, g_process_info, sig, info)) return -EAGAIN;
    poll_notify();
    // Someone who can take it now: the current thread first, else a thread that does not
    // block it.
    if (!self.idle && (!(self.signal_mask & sigbit(sig)) || (self.signal_waiting & sigbit(sig)))) {
        thread_interrupt(&self);
        return 0;
    }
    for (Thread* t = thread_list(); t; t = t->all_next) {
        if (t->state == Thread::State::Dead) continue;
        if (!(t->signal_mask & sigbit(sig)) || (t->signal_waiting & sigbit(sig))) {
            thread_interrupt(t);
            return 0;
        }
    }
    return 0;
}

void signal_fault(int sig, int32_t code, uint64_t addr, const TrapFrame& f) {
    Thread& t = current_thread();
    const uint64_t h = current_process().actions[sig].handler;
    // Blocked or ignored, a fault cannot be survived: the default action (force_sig).
    if (h == kSigDfl || h == kSigIgn || (t.signal_mask & sigbit(sig)))
        process_kill(sig, addr, f.rip);
    t.pending_info[sig - 1] = SignalInfo{code, 0, 0, addr, 0, 0, 0};
    t.pending |= sigbit(sig);
}

bool signal_on_altstack(const Thread& t, uint64_t sp) {
    return t.altstack_size && sp > t.altstack_sp && sp <= t.altstack_sp + t.altstack_size;
}

void signal_set_real_timer(uint64_t value_ns, uint64_t interval_ns) {
    g_real_timer.fire = [](KTimer* t) {
        if (g_alarm_interval_ns) {
            // The next period after the one that was due (Linux's hrtimer_forward): late
            // expiries do not push the timer's phase, and missed periods are skipped.
            const uint64_t now = monotonic_ns();
            do g_alarm_due_ns += g_alarm_interval_ns;
            while (g_alarm_due_ns <= now);
            ktimer_arm(*t, g_alarm_due_ns);
        }
        signal_send_process(kSigAlrm, SignalInfo{kSiKernel, 0, 0, 0, 0, 0, 0});
    };
    g_alarm_interval_ns = value_ns ? interval_ns : 0;
    g_alarm_due_ns = monotonic_ns() + value_ns;
    if (value_ns) ktimer_arm(g_real_timer, g_alarm_due_ns);
    else ktimer_cancel(g_real_timer);
}

void signal_real_timer(uint64_t& value_left_ns, uint64_t& interval_ns) {
    const uint64_t at = ktimer_deadline_ns(g_real_timer), now = monotonic_ns();
    value_left_ns = at ? (at > now ? at - now : 1000) : 0;
    interval_ns = g_alarm_interval_ns;
}

bool signal_interrupts(const Thread& t) {
    const uint64_t pending = t.pending | g_process_pending;
    return (pending & ~t.signal_mask) || (pending & t.signal_waiting);
}

uint64_t signal_pending(const Thread& t) { return t.pending | g_process_pending; }

int signal_dequeue(Thread& t, uint64_t set, SignalInfo& info) {
    // The thread's own signals before the process's, as Linux takes them.
    const uint64_t own = t.pending & set;
    const uint64_t ready = own ? own : g_process_pending & set;
    if (!ready) return 0;
    const int sig = next_signal(ready);
    Thread* owner = own ? &t : nullptr;
    uint64_t& bits = own ? t.pending : g_process_pending;
    SignalInfo* infos = own ? t.pending_info : g_process_info;
    info = infos[sig - 1];
    // A queued real-time instance takes its place, or the signal is no longer pending.
    if (!dequeue_extra(owner, sig, infos[sig - 1])) bits &= ~sigbit(sig);
    if (info.code == kSiTimer) info.overrun = posix_timer_take_overrun(info.timerid);
    return sig;
}

bool signal_deliver(TrapFrame& f, bool in_syscall) {
    Thread& t = current_thread();
    bool changed = false;
    const bool restartable = in_syscall && int64_t(f.rax) == -ERESTARTSYS;
    for (;;) {
        const uint64_t ready = (t.pending | g_process_pending) & ~t.signal_mask;
        if (!ready) break;
        SignalInfo info;
        const int sig = signal_dequeue(t, ready, info);
        SigAction& act = current_process().actions[sig];
        if (act.handler == kSigIgn) continue;
        if (act.handler == kSigDfl) {
            if (default_action(sig) == Default::Ignore) continue;
            if (default_action(sig) == Default::Stop) {
                process_stop(sig);  // back once continued; then the other signals
                continue;
            }
            // A fault is reported with where it happened; a signal sent by kill is not.
            const bool fault = info.code > 0 && (sigbit(sig) & kSynchronous);
            process_kill(sig, fault ? info.addr : 0, fault ? f.rip : 0);
        }
        if (restartable && int64_t(f.rax) == -ERESTARTSYS) {
            if (act.flags & kSaRestart) {
                f.rax = f.error;  // the syscall number, kept by syscall_dispatch
                f.rip -= 2;       // the syscall instruction again
            } else {
                f.rax = uint64_t(-EINTR);
            }
        }
        const uint64_t old_mask = t.has_saved_mask ? t.saved_mask : t.signal_mask;
        t.has_saved_mask = false;
        const SigAction used = act;
        if (act.flags & kSaResethand) act.handler = kSigDfl;
        if (!build_frame(t, sig, info, used, f, old_mask)) process_kill(kSigSegv, f.rsp, f.rip);
        t.signal_mask = (old_mask | used.mask | ((used.flags & kSaNodefer) ? 0 : sigbit(sig))) &
                        ~kUnblockable;
        if (t.has_saved_mask) t.has_saved_mask = false;
        changed = true;
        break;  // one frame at a time; the rest follow after rt_sigreturn
    }
    if (restartable && int64_t(f.rax) == -ERESTARTSYS) {
        // No handler ran: the wait goes on, as if nothing had happened.
        f.rax = f.error;
        f.rip -= 2;
        changed = true;
    }
    if (t.has_saved_mask) {  // rt_sigsuspend's mask ends with the call
        t.signal_mask = t.saved_mask;
        t.has_saved_mask = false;
    }
    return changed;
}

void signal_after_fork(Thread& t) {
    g_process_pending = 0;
    t.pending = 0;
    while (Queued* q = g_queued) {
        g_queued = q->next;
        q->next = g_queue_free;
        g_queue_free = q;
    }
    ktimer_cancel(g_real_timer);
    g_alarm_interval_ns = 0;
}

void signal_exec_reset(Thread& t) {
    constexpr uint64_t kSigIgn = 1;
    for (SigAction& act : current_process().actions)
        act = SigAction{act.handler == kSigIgn ? kSigIgn : 0, 0, 0, 0};
    t.altstack_sp = t.altstack_size = 0;
    t.altstack_flags = kSsDisable;
    t.has_saved_mask = false;
}

int64_t signal_return(TrapFrame& f) {
    Thread& t = current_thread();
    UContext uc;
    const uint64_t frame = f.rsp - 8;  // the handler's ret took pretcode
    if (!copy_from_user(&uc, frame + __builtin_offsetof(RtSigFrame, uc), sizeof uc))
        process_kill(kSigSegv, frame, f.rip);
    const SigContext& mc = uc.mcontext;
    f.r8 = mc.r8, f.r9 = mc.r9, f.r10 = mc.r10, f.r11 = mc.r11, f.r12 = mc.r12, f.r13 = mc.r13;
    f.r14 = mc.r14, f.r15 = mc.r15, f.rdi = mc.rdi, f.rsi = mc.rsi, f.rbp = mc.rbp;
    f.rbx = mc.rbx, f.rdx = mc.rdx, f.rax = mc.rax, f.rcx = mc.rcx, f.rsp = mc.rsp;
    f.rip = mc.rip;
    f.rflags = (f.rflags & ~kFixEflags) | (mc.eflags & kFixEflags) | 0x200;  // IF stays on
    f.cs = kUserCs;
    f.ss = kUserSs;
    t.signal_mask = uc.sigmask & ~kUnblockable;
    // The alternate stack as it was (SS_AUTODISARM turned it off for the handler).
    if (!(uc.stack.flags & kSsDisable) && uc.stack.size) {
        t.altstack_sp = uc.stack.sp;
        t.altstack_size = uc.stack.size;
        t.altstack_flags = uint32_t(uc.stack.flags) & kSsAutodisarm;
    }
    if (!mc.fpstate) {
        fpu_load_init();
    } else {
        const size_t size = fpu_state_size();
        if (!copy_from_user(g_fpu_image, mc.fpstate, size)) process_kill(kSigSegv, mc.fpstate, f.rip);
        // An image xrstor would refuse (#GP in the kernel) is the application's fault.
        uint32_t mxcsr, mask;
        memcpy(&mxcsr, g_fpu_image + 24, 4);
        memcpy(&mask, g_fpu_image + 28, 4);
        bool valid = (mxcsr & ~(mask ? mask : 0xffbf)) == 0;
        if (fpu_uses_xsave()) {
            uint64_t header[8];
            memcpy(header, g_fpu_image + 512, sizeof header);
            valid = valid && (header[0] & ~fpu_xfeatures()) == 0 && header[1] == 0;
            for (int i = 2; i < 8; ++i) valid = valid && header[i] == 0;
            if (!(uc.flags & kUcFpXstate)) {
                // A plain FXSAVE image: only x87 and SSE are in it.
                header[0] &= 3;
                memcpy(g_fpu_image + 512, header, sizeof header);
            }
        }
        if (!valid) process_kill(kSigSegv, mc.fpstate, f.rip);
        fpu_restore(g_fpu_image);
    }
    return int64_t(f.rax);
}

}  // namespace utx::kernel
