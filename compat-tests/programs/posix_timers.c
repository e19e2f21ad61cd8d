// covers: timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete, rt_sigtimedwait
// POSIX timers: one-shot and periodic with a signal (si_code SI_TIMER and sigev_value),
// absolute CLOCK_REALTIME expiry, overruns while the signal is blocked, SIGEV_THREAD (a
// thread of the C library's, woken by SIGEV_THREAD_ID), and the errors.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t fired, last_code, last_value;

static void on_timer(int sig, siginfo_t *info, void *uc) {
    (void)sig;
    (void)uc;
    fired++;
    last_code = info->si_code;
    last_value = info->si_value.sival_int;
}

static sem_t thread_fired;
static void on_thread(union sigval v) {
    if (v.sival_int == 7) sem_post(&thread_fired);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_timer;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1, none, old;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &usr1, &old);

    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    ev.sigev_value.sival_int = 42;
    timer_t t;
    expect("timer_create", timer_create(CLOCK_MONOTONIC, &ev, &t) == 0);
    struct itimerspec one = {{0, 0}, {0, 20 * 1000 * 1000}}, cur;
    expect("timer_settime one-shot", timer_settime(t, 0, &one, NULL) == 0);
    expect("timer_gettime shows it running", timer_gettime(t, &cur) == 0 && cur.it_value.tv_nsec > 0 && cur.it_interval.tv_nsec == 0);
    EXPECT_ERRNO("sigsuspend until it fires", sigsuspend(&none), EINTR);
    expect("the handler saw SI_TIMER and sigev_value", fired == 1 && last_code == SI_TIMER && last_value == 42);
    expect("a spent one-shot timer reads zero", timer_gettime(t, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

    // Periodic.
    struct itimerspec every = {{0, 5 * 1000 * 1000}, {0, 5 * 1000 * 1000}};
    fired = 0;
    timer_settime(t, 0, &every, NULL);
    for (int i = 0; i < 3; ++i) sigsuspend(&none);
    expect("periodic: three expirations", fired >= 3);
    struct itimerspec off = {{0, 0}, {0, 0}};
    timer_settime(t, 0, &off, &cur);
    expect("disarming returns the old setting", cur.it_interval.tv_nsec == 5 * 1000 * 1000);

    // Overruns while the signal stays blocked.
    struct itimerspec fast = {{0, 2 * 1000 * 1000}, {0, 2 * 1000 * 1000}};
    timer_settime(t, 0, &fast, NULL);
    struct timespec nap = {0, 40 * 1000 * 1000};
    nanosleep(&nap, NULL);
    siginfo_t si;
    expect("sigwaitinfo takes the pending timer signal", sigwaitinfo(&usr1, &si) == SIGUSR1 && si.si_code == SI_TIMER);
    expect("overruns counted while it was pending", si.si_overrun >= 3);
    timer_settime(t, 0, &off, NULL);

    // An absolute CLOCK_REALTIME expiry.
    timer_t rt;
    expect("timer_create CLOCK_REALTIME", timer_create(CLOCK_REALTIME, &ev, &rt) == 0);
    struct itimerspec at = {{0, 0}, {0, 0}};
    clock_gettime(CLOCK_REALTIME, &at.it_value);
    at.it_value.tv_nsec += 20 * 1000 * 1000;
    if (at.it_value.tv_nsec >= 1000000000) at.it_value.tv_sec++, at.it_value.tv_nsec -= 1000000000;
    expect("TIMER_ABSTIME", timer_settime(rt, TIMER_ABSTIME, &at, NULL) == 0);
    struct timespec limit = {2, 0};
    expect("it fires", sigtimedwait(&usr1, &si, &limit) == SIGUSR1 && si.si_value.sival_int == 42);
    expect("timer_delete", timer_delete(rt) == 0);

    // SIGEV_THREAD: the C library's thread runs the function.
    sem_init(&thread_fired, 0, 0);
    struct sigevent tev;
    memset(&tev, 0, sizeof tev);
    tev.sigev_notify = SIGEV_THREAD;
    tev.sigev_notify_function = on_thread;
    tev.sigev_value.sival_int = 7;
    timer_t tt;
    expect("timer_create SIGEV_THREAD", timer_create(CLOCK_MONOTONIC, &tev, &tt) == 0);
    timer_settime(tt, 0, &one, NULL);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    expect("SIGEV_THREAD runs the function", sem_timedwait(&thread_fired, &deadline) == 0);
    timer_delete(tt);

    // Errors.
    expect("timer_delete", timer_delete(t) == 0);
    EXPECT_ERRNO("timer_create with a bad clock", timer_create(12345, &ev, &rt), EINVAL);
    expect("timer_create with a good one", timer_create(CLOCK_MONOTONIC, &ev, &rt) == 0);
    struct itimerspec bad = {{0, 0}, {0, 1000000000}};
    EXPECT_ERRNO("timer_settime with nsec out of range", timer_settime(rt, 0, &bad, NULL), EINVAL);
    timer_delete(rt);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return check_exit_status();
}
