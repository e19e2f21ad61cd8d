// covers: rt_sigaction, rt_sigprocmask, rt_sigreturn, rt_sigpending, rt_sigsuspend, rt_sigtimedwait, sigaltstack, kill, tgkill, tkill, pause, alarm, setitimer, getitimer, nanosleep, rt_sigqueueinfo
// Signals delivered to handlers as on Linux: siginfo, masks during and after handlers,
// SA_RESETHAND, SA_NODEFER, SA_RESTART, faults recovered with siglongjmp (also on an
// alternate stack after a stack overflow), itimers, sigsuspend, sigtimedwait, a signal for
// one thread, and the FPU registers kept across a handler. With "die SIG" it raises SIG
// with the default action, for the exit status.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t hits, nested_depth, max_depth;
static volatile int last_signo, last_code, last_pid_ok;
static volatile uintptr_t last_addr;
static sigjmp_buf recover;
static char altstack[64 * 1024];

static void counting(int sig) {
    (void)sig;
    hits++;
}

static void with_info(int sig, siginfo_t *info, void *uc) {
    (void)uc;
    hits++;
    last_signo = info->si_signo;
    last_code = info->si_code;
    last_pid_ok = info->si_pid == getpid();
    (void)sig;
}

static volatile int raises_left;
static void nesting(int sig) {
    nested_depth++;
    if (nested_depth > max_depth) max_depth = nested_depth;
    if (raises_left-- > 0) raise(sig);
    nested_depth--;
}

static void fault(int sig, siginfo_t *info, void *uc) {
    (void)uc;
    last_signo = sig;
    last_code = info->si_code;
    last_addr = (uintptr_t)info->si_addr;
    siglongjmp(recover, 1);
}

static volatile int on_altstack;
static void fault_on_altstack(int sig, siginfo_t *info, void *uc) {
    char here;
    on_altstack = &here >= altstack && &here < altstack + sizeof altstack;
    fault(sig, info, uc);
}

static volatile int keep_going = 1;
static int deep(int n) {
    volatile char pad[1024];
    pad[0] = (char)n;
    return keep_going ? deep(n + 1) + pad[0] : 0;  // until the stack runs out
}

static int pipe_fds[2];
static void write_to_pipe(int sig) {
    (void)sig;
    hits++;
    if (write(pipe_fds[1], "x", 1) != 1) abort();
}

static volatile pthread_t handled_in;
static void which_thread(int sig) {
    (void)sig;
    handled_in = pthread_self();
}
static volatile int thread_ready, thread_done;
static void *sleeper(void *arg) {
    (void)arg;
    thread_ready = 1;
    while (!thread_done) usleep(1000);
    return NULL;
}

static volatile double fpu_in_handler;
static void fpu_user(int sig) {
    (void)sig;
    volatile double x = 1.0;
    for (int i = 0; i < 10; ++i) x = x * 3.5 + 0.25;
    fpu_in_handler = x;
}

static void set_handler(int sig, void (*h)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

static void set_action(int sig, void (*h)(int, siginfo_t *, void *), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = flags | SA_SIGINFO;
    sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "die") == 0) {
        raise(atoi(argv[2]));
        return 99;  // not reached
    }

    set_action(SIGUSR1, with_info, 0);
    hits = 0;
    raise(SIGUSR1);
    expect("raise runs the handler", hits == 1);
    expect("siginfo: signo and SI_TKILL", last_signo == SIGUSR1 && last_code == SI_TKILL && last_pid_ok);
    kill(getpid(), SIGUSR1);
    expect("kill: SI_USER from our pid", hits == 2 && last_code == SI_USER && last_pid_ok);

    // Blocked: pending until unblocked.
    sigset_t set, old, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    raise(SIGUSR1);
    sigpending(&pending);
    expect("a blocked signal waits", hits == 2 && sigismember(&pending, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    expect("and arrives when unblocked", hits == 3);
    sigpending(&pending);
    expect("then nothing is pending", !sigismember(&pending, SIGUSR1));

    // The signal is blocked inside its own handler unless SA_NODEFER.
    set_handler(SIGUSR2, nesting, 0);
    max_depth = 0;
    raises_left = 2;
    raise(SIGUSR2);
    expect("without SA_NODEFER a handler is not re-entered", max_depth == 1 && raises_left < 0);
    set_handler(SIGUSR2, nesting, SA_NODEFER);
    max_depth = 0;
    raises_left = 2;
    raise(SIGUSR2);
    expect("with SA_NODEFER it nests", max_depth == 3);

    // SA_RESETHAND: once, then the default.
    set_handler(SIGUSR2, counting, SA_RESETHAND);
    hits = 0;
    raise(SIGUSR2);
    struct sigaction now;
    sigaction(SIGUSR2, NULL, &now);
    expect("SA_RESETHAND runs once and restores SIG_DFL", hits == 1 && now.sa_handler == SIG_DFL);

    // Ignored signals are discarded.
    signal(SIGUSR2, SIG_IGN);
    raise(SIGUSR2);
    expect("SIG_IGN discards", 1);

    // A fault recovered with siglongjmp, and its siginfo.
    set_action(SIGSEGV, fault, 0);
    if (sigsetjmp(recover, 1) == 0) {
        *(volatile int *)unmapped_address = 1;
        expect("not reached", 0);
    }
    expect("SIGSEGV at the faulting address, SEGV_MAPERR", last_signo == SIGSEGV && last_addr == 16 && last_code == SEGV_MAPERR);
    sigprocmask(SIG_SETMASK, NULL, &old);
    expect("siglongjmp restored the mask", !sigismember(&old, SIGSEGV));

    set_action(SIGFPE, fault, 0);
    if (sigsetjmp(recover, 1) == 0) {
        volatile int zero = 0, num = 100;  // (1 / x would be folded into a comparison)
        volatile int r = num / zero;
        (void)r;
    }
    expect("SIGFPE for a division by zero, FPE_INTDIV", last_signo == SIGFPE && last_code == FPE_INTDIV);

    // A stack overflow handled on the alternate stack.
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    expect("sigaltstack", sigaltstack(&ss, NULL) == 0);
    set_action(SIGSEGV, fault_on_altstack, SA_ONSTACK);
    if (sigsetjmp(recover, 1) == 0) deep(0);
    expect("stack overflow: SIGSEGV handled on the alternate stack", last_signo == SIGSEGV && on_altstack);
    stack_t cur;
    sigaltstack(NULL, &cur);
    expect("the alternate stack is still set and not in use", cur.ss_flags == 0 && cur.ss_sp == altstack);

    // The FPU registers survive a handler that uses them.
    set_handler(SIGUSR1, fpu_user, 0);
    volatile double a = 1.5, b = 0;
    for (int i = 0; i < 5; ++i) {
        b = a * 2.25 + b;
        raise(SIGUSR1);
        b = b / 1.5;
    }
    expect("FPU state kept across handlers", b > 5.861 && b < 5.862 && fpu_in_handler > 0);

    // setitimer and pause.
    set_handler(SIGALRM, counting, 0);
    hits = 0;
    struct itimerval it = {{0, 0}, {0, 30000}};
    expect("setitimer", setitimer(ITIMER_REAL, &it, NULL) == 0);
    struct itimerval left;
    getitimer(ITIMER_REAL, &left);
    expect("getitimer shows the time left", left.it_value.tv_sec == 0 && left.it_value.tv_usec > 0 && left.it_value.tv_usec <= 30000);
    EXPECT_ERRNO("pause returns after the handler", pause(), EINTR);
    expect("SIGALRM arrived once", hits == 1);
    getitimer(ITIMER_REAL, &left);
    expect("the one-shot timer is spent", left.it_value.tv_sec == 0 && left.it_value.tv_usec == 0);

    // A periodic timer, waited for with sigsuspend.
    hits = 0;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigprocmask(SIG_BLOCK, &set, &old);
    struct itimerval periodic = {{0, 10000}, {0, 10000}};
    setitimer(ITIMER_REAL, &periodic, NULL);
    sigset_t none;
    sigemptyset(&none);
    for (int i = 0; i < 3; ++i) EXPECT_ERRNO("sigsuspend", sigsuspend(&none), EINTR);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    sigprocmask(SIG_SETMASK, NULL, &set);
    expect("three periods, and the mask is back after sigsuspend", hits >= 3 && sigismember(&set, SIGALRM));
    sigprocmask(SIG_SETMASK, &old, NULL);

    // alarm: the seconds left of the previous one.
    expect("alarm with none set", alarm(100) == 0);
    expect("alarm returns what was left", alarm(0) == 100);

    // nanosleep interrupted: EINTR and the time left.
    it = (struct itimerval){{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec req = {5, 0}, rem = {0, 0};
    EXPECT_ERRNO("nanosleep interrupted", nanosleep(&req, &rem), EINTR);
    expect("with most of the time left", rem.tv_sec >= 3 && rem.tv_sec <= 5);

    // SA_RESTART: a read on an empty pipe goes on after the handler; without it, EINTR.
    expect("pipe", pipe(pipe_fds) == 0);
    char c = 0;
    set_handler(SIGALRM, write_to_pipe, SA_RESTART);
    it = (struct itimerval){{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    expect("SA_RESTART: the read restarts and gets the byte", read(pipe_fds[0], &c, 1) == 1 && c == 'x');
    set_handler(SIGALRM, counting, 0);
    setitimer(ITIMER_REAL, &it, NULL);
    EXPECT_ERRNO("without SA_RESTART: EINTR", read(pipe_fds[0], &c, 1), EINTR);

    // sigtimedwait takes a blocked signal without a handler running.
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    raise(SIGUSR1);
    siginfo_t si;
    expect("sigtimedwait returns the pending signal", sigtimedwait(&set, &si, NULL) == SIGUSR1 && si.si_signo == SIGUSR1);
    struct timespec short_wait = {0, 10 * 1000 * 1000};
    EXPECT_ERRNO("sigtimedwait times out", sigtimedwait(&set, &si, &short_wait), EAGAIN);
    sigprocmask(SIG_SETMASK, &old, NULL);

    // A signal for one thread runs its handler in that thread.
    set_handler(SIGUSR2, which_thread, 0);
    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL);
    while (!thread_ready) sched_yield();
    pthread_kill(t, SIGUSR2);
    while (!handled_in) sched_yield();
    thread_done = 1;
    pthread_join(t, NULL);
    expect("pthread_kill: the handler ran in the target thread", pthread_equal(handled_in, t));

    // Real-time signals queue, each with its value; standard ones do not.
    const int rt = SIGRTMIN + 2;
    sigemptyset(&set);
    sigaddset(&set, rt);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    for (int v = 1; v <= 3; ++v) sigqueue(getpid(), rt, (union sigval){.sival_int = v * 10});
    raise(SIGUSR1);
    raise(SIGUSR1);
    sigset_t usr1_only;
    sigemptyset(&usr1_only);
    sigaddset(&usr1_only, SIGUSR1);
    expect("a standard signal raised twice is taken once", sigtimedwait(&usr1_only, &si, &short_wait) == SIGUSR1);
    EXPECT_ERRNO("and not twice", sigtimedwait(&usr1_only, &si, &short_wait), EAGAIN);
    sigemptyset(&set);
    sigaddset(&set, rt);
    int got[3] = {0, 0, 0};
    for (int i = 0; i < 3; ++i) {
        if (sigtimedwait(&set, &si, &short_wait) == rt && si.si_code == SI_QUEUE && si.si_pid == getpid())
            got[i] = si.si_value.sival_int;
    }
    expect("three sigqueue'd real-time signals, in order, with their values", got[0] == 10 && got[1] == 20 && got[2] == 30);
    EXPECT_ERRNO("and no fourth", sigtimedwait(&set, &si, &short_wait), EAGAIN);
    sigprocmask(SIG_SETMASK, &old, NULL);

    EXPECT_ERRNO("kill with a bad signal", kill(getpid(), 65), EINVAL);
    EXPECT_ERRNO("sigaction on SIGKILL", sigaction(SIGKILL, &now, NULL), EINVAL);
    EXPECT_ERRNO("tgkill to a missing thread", syscall(SYS_tgkill, getpid(), 0x3fffffff, SIGUSR1), ESRCH);
    return check_exit_status();
}
