// kernel/signal.h: sending signals, delivering them to handlers with Linux's x86-64 signal
// frame (siginfo, ucontext, the XSAVE image), rt_sigreturn, and the default actions.
//
// A signal is pending on a thread (tgkill, faults) or on the process (kill, alarm); the
// lowest-numbered one the thread does not block is delivered when it next returns to user
// mode. Standard and real-time signals alike are pending at most once (no queue yet).
#pragma once
#include <stdint.h>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/sched/sched.h"

namespace utx::kernel {

inline constexpr int kSigHup = 1, kSigInt = 2, kSigQuit = 3, kSigIll = 4, kSigTrap = 5,
                     kSigAbrt = 6, kSigBus = 7, kSigFpe = 8, kSigKill = 9, kSigUsr1 = 10,
                     kSigSegv = 11, kSigPipe = 13, kSigAlrm = 14, kSigTerm = 15, kSigChld = 17,
                     kSigCont = 18, kSigStop = 19, kSigTstp = 20, kSigTtin = 21, kSigTtou = 22,
                     kSigUrg = 23, kSigWinch = 28;
inline constexpr uint64_t sigbit(int sig) { return 1ULL << (sig - 1); }
inline constexpr uint64_t kUnblockable = sigbit(kSigKill) | sigbit(kSigStop);
// si_code values.
inline constexpr int32_t kSiUser = 0, kSiKernel = 0x80, kSiQueue = -1, kSiTimer = -2, kSiTkill = -6,
                         kSegvMaperr = 1, kSegvAccerr = 2, kBusAdrerr = 2, kIllIllopn = 2,
                         kFpeIntdiv = 1, kTrapBrkpt = 1;

// kill(): pending on the process, for the first thread that does not block it. -EAGAIN when
// a real-time signal finds its queue full.
int64_t signal_send_process(int sig, const SignalInfo& info);
// tgkill(), faults: pending on one thread.
int64_t signal_send_thread(Thread& t, int sig, const SignalInfo& info);
// A fault in the application: delivered to its handler next, or, blocked or ignored, the
// default action at once (as Linux's force_sig).
void signal_fault(int sig, int32_t code, uint64_t addr, const TrapFrame& f);
// ITIMER_REAL (and alarm): SIGALRM to the process after `value_ns` (0: disarmed), then
// every `interval_ns` (0: once).
void signal_set_real_timer(uint64_t value_ns, uint64_t interval_ns);
void signal_real_timer(uint64_t& value_left_ns, uint64_t& interval_ns);

// Whether a signal the thread does not block is pending (it ends waits).
bool signal_interrupts(const Thread& t);
// A POSIX timer's signal is being taken: the expirations it missed meanwhile, which
// timer_getoverrun then reports (syscall-shim/sys_timer.cpp).
int32_t posix_timer_take_overrun(int32_t id);
// Whether `sp` lies on the thread's alternate signal stack.
bool signal_on_altstack(const Thread& t, uint64_t sp);
// Signals pending on the thread or the process.
uint64_t signal_pending(const Thread& t);
// Takes a pending signal out of `set` for rt_sigtimedwait / signalfd; 0 when none.
int signal_dequeue(Thread& t, uint64_t set, SignalInfo& info);

// On the way back to user mode: acts on the pending signals. A handler gets its frame
// built and `f` pointed at it; a syscall's -ERESTARTSYS becomes EINTR or a restart.
// Returns true when `f` changed beyond rax (the syscall must return with iret).
bool signal_deliver(TrapFrame& f, bool in_syscall);
// execve: handlers back to SIG_DFL (ignored signals stay ignored), no alternate stack;
// the mask and pending signals stay, as Linux keeps them.
void signal_exec_reset(Thread& t);
// fork, in the child: no signal is pending, no alarm is armed (POSIX timers go with
// posix_timers_exec_reset).
void signal_after_fork(Thread& t);
// execve: the process's POSIX timers are deleted (syscall-shim/sys_timer.cpp).
void posix_timers_exec_reset();
// rt_sigreturn: `f` back to what the frame saved. Returns the restored rax.
int64_t signal_return(TrapFrame& f);

}  // namespace utx::kernel
