// jobs.c: job control between processes: stop and continue signals, wait4 with WUNTRACED
// and WCONTINUED, waitid with WSTOPPED and WCONTINUED, SIGCHLD's codes, signals held while
// stopped. Under utx each process is a VM of its own and the parent learns of its child's
// stops through the VMM.
// Covers: kill, wait4, waitid, rt_sigaction, getrusage.
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t last_code, chld_count;
static int report[2];

static void on_chld(int sig, siginfo_t *info, void *ctx) {
    (void)sig;
    (void)ctx;
    last_code = info->si_code;
    chld_count++;
}

static void on_usr1(int sig) {
    (void)sig;
    if (write(report[1], "u", 1) != 1) _exit(2);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

// Waits for SIGCHLD's handler to have run `n` times in all (it may come before or after
// the wait that found the change).
static int chld_seen(int n) {
    for (int i = 0; i < 500 && chld_count < n; ++i) sleep_ms(10);
    return chld_count >= n;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    int status = 0;

    // A child that stops itself, is continued, and exits.
    pid_t pid = fork();
    if (pid == 0) {
        raise(SIGSTOP);
        _exit(7);
    }
    expect("WUNTRACED reports the stop",
           waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
    expect("SIGCHLD with CLD_STOPPED", chld_seen(1) && last_code == CLD_STOPPED);
    expect("a stop is reported once", waitpid(pid, &status, WUNTRACED | WNOHANG) == 0);
    expect("kill(SIGCONT)", kill(pid, SIGCONT) == 0);
    expect("exit 7 once continued", waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7);
    // Two more changes, but SIGCHLD is a standard signal: two sent before the handler
    // runs are one.
    expect("SIGCHLD again for the continue and the exit", chld_seen(2) && chld_count <= 3);

    // Stopped from outside, seen through waitid; continued; then ended. In a group of its
    // own, whose parent is in another group of the session: Linux discards SIGTSTP for an
    // orphaned group, which the test's own group may be.
    pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        for (;;) sleep_ms(10);
    }
    expect("setpgid(child, child)", setpgid(pid, pid) == 0 || errno == EACCES);
    siginfo_t si;
    expect("kill(SIGTSTP)", kill(pid, SIGTSTP) == 0);
    memset(&si, 0, sizeof si);
    expect("waitid WSTOPPED: CLD_STOPPED, SIGTSTP",
           waitid(P_PID, (id_t)pid, &si, WSTOPPED) == 0 && si.si_code == CLD_STOPPED &&
               si.si_status == SIGTSTP && si.si_pid == pid);
    expect("wait4 without WUNTRACED does not see it", waitpid(pid, &status, WNOHANG) == 0);
    expect("kill(SIGCONT)", kill(pid, SIGCONT) == 0);
    memset(&si, 0, sizeof si);
    expect("waitid WCONTINUED: CLD_CONTINUED",
           waitid(P_PID, (id_t)pid, &si, WCONTINUED) == 0 && si.si_code == CLD_CONTINUED &&
               si.si_status == SIGCONT);
    expect("kill(SIGTERM)", kill(pid, SIGTERM) == 0);
    expect("it ends by SIGTERM", waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);

    // Signals sent to a stopped process wait until it is continued.
    expect("pipe", pipe(report) == 0);
    signal(SIGUSR1, on_usr1);
    pid = fork();
    if (pid == 0) {
        for (;;) sleep_ms(10);
    }
    expect("kill(SIGSTOP)", kill(pid, SIGSTOP) == 0);
    expect("stopped", waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status));
    expect("kill(SIGUSR1) to the stopped child", kill(pid, SIGUSR1) == 0);
    struct pollfd pfd = {report[0], POLLIN, 0};
    expect("its handler does not run while stopped", poll(&pfd, 1, 300) <= 0);
    expect("kill(SIGCONT)", kill(pid, SIGCONT) == 0);
    char c = 0;
    int ready;
    while ((ready = poll(&pfd, 1, 10000)) < 0 && errno == EINTR) {
    }  // SIGCHLD for the continue interrupts it (poll is never restarted)
    expect("then it runs", ready == 1 && read(report[0], &c, 1) == 1 && c == 'u');
    kill(pid, SIGKILL);
    expect("SIGKILL ends it", waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    EXPECT_ERRNO("tcgetpgrp of a pipe", tcgetpgrp(report[0]), ENOTTY);
    EXPECT_ERRNO("tcsetpgrp of a pipe", tcsetpgrp(report[0], getpgrp()), ENOTTY);

    // SA_NOCLDSTOP: no SIGCHLD for stops.
    sa.sa_flags |= SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    const int before = chld_count;
    pid = fork();
    if (pid == 0) {
        raise(SIGSTOP);
        _exit(0);
    }
    expect("stopped again", waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status));
    sleep_ms(200);
    expect("no SIGCHLD for it under SA_NOCLDSTOP", chld_count == before);
    kill(pid, SIGCONT);
    expect("exits 0", waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);

    // A child's CPU time comes back with wait4 and adds up in RUSAGE_CHILDREN.
    struct rusage before_children, ru, after_children;
    getrusage(RUSAGE_CHILDREN, &before_children);
    pid = fork();
    if (pid == 0) {
        struct timespec start, now;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
        do {
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
        } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < 300000000L);
        _exit(0);
    }
    expect("wait4 with a rusage", wait4(pid, &status, 0, &ru) == pid && WIFEXITED(status));
    const long used_us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
    expect("it says the child computed 300 ms or so", used_us >= 150000 && used_us < 30000000);
    getrusage(RUSAGE_CHILDREN, &after_children);
    const long grew_us = (after_children.ru_utime.tv_sec - before_children.ru_utime.tv_sec) * 1000000L +
                         (after_children.ru_utime.tv_usec - before_children.ru_utime.tv_usec) +
                         (after_children.ru_stime.tv_sec - before_children.ru_stime.tv_sec) * 1000000L +
                         (after_children.ru_stime.tv_usec - before_children.ru_stime.tv_usec);
    expect("RUSAGE_CHILDREN grew by as much", grew_us >= used_us);
    return check_failures ? 1 : 0;
}
