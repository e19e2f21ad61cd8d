// fork.c: fork, wait and kill between processes. Under utx each process is a VM of its own
// (fork via VM clone), so everything here crosses VMs through the VMM.
// Covers: fork, vfork, clone, wait4, waitid, kill, getppid, getpid.
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int global = 1;
static __thread int tls_value;
static volatile sig_atomic_t chld_count, usr1_seen, usr2_seen;

static void on_chld(int sig) {
    (void)sig;
    chld_count++;
}
static void on_usr1(int sig) {
    (void)sig;
    usr1_seen = 1;
}

static void on_usr2(int sig) {
    (void)sig;
    usr2_seen = 1;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *spin(void *arg) {
    (void)arg;
    for (;;) sleep_ms(1000);
    return NULL;
}

static void *nothing(void *arg) { return arg; }

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "exec-child") == 0) {
        printf("exec-child: runs\n");
        return 5;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const pid_t me = getpid();
    struct sigaction sa = {0};
    sa.sa_handler = on_chld;
    sigaction(SIGCHLD, &sa, NULL);

    // Plain fork: the child's memory is a copy; exit status 42 reaches wait4.
    pid_t pid = fork();
    if (pid == 0) {
        global = 2;
        printf("child: getppid is the parent: %s\n", getppid() == me ? "yes" : "no");
        printf("child: its own pid: %s\n", getpid() != me && getpid() > 0 ? "yes" : "no");
        printf("child: gettid is its pid: %s\n", syscall(SYS_gettid) == getpid() ? "yes" : "no");
        _exit(42);
    }
    int status = 0;
    expect("wait4 for it", wait4(pid, &status, 0, NULL) == pid);
    expect("fork returned the child's pid", pid > 0 && pid != me);
    expect("it exited with 42", WIFEXITED(status) && WEXITSTATUS(status) == 42);
    expect("the parent's memory is its own", global == 1);
    EXPECT_ERRNO("wait4 once it is reaped", wait4(pid, &status, 0, NULL), ECHILD);
    EXPECT_ERRNO("wait4 with no children", waitpid(-1, &status, WNOHANG), ECHILD);
    EXPECT_ERRNO("wait4 bad options", waitpid(-1, &status, 0x100), EINVAL);

    // WNOHANG while the child still runs, then a blocking wait.
    pid = fork();
    if (pid == 0) {
        sleep_ms(200);
        _exit(0);
    }
    expect("WNOHANG while it runs", waitpid(pid, &status, WNOHANG) == 0);
    expect("then it ends", waitpid(-1, &status, 0) == pid && WIFEXITED(status) &&
                               WEXITSTATUS(status) == 0);

    // Killed by a signal: raise in the child, kill from the parent.
    pid = fork();
    if (pid == 0) {
        raise(SIGTERM);
        _exit(1);
    }
    expect("raise(SIGTERM) in the child",
           waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    pid = fork();
    if (pid == 0) {
        for (;;) pause();
    }
    expect("kill(child, SIGKILL)", kill(pid, SIGKILL) == 0);
    expect("SIGKILL is its end",
           waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    // A signal with a handler in the child, which then exits by itself. The child says it
    // is ready with SIGUSR2 to its parent.
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigprocmask(SIG_BLOCK, &block, &old);
    struct sigaction u2 = {0};
    u2.sa_handler = on_usr2;
    sigaction(SIGUSR2, &u2, NULL);
    pid = fork();
    if (pid == 0) {
        struct sigaction u = {0};
        u.sa_handler = on_usr1;
        sigaction(SIGUSR1, &u, NULL);
        kill(getppid(), SIGUSR2);
        while (!usr1_seen) pause();
        printf("child: got SIGUSR1\n");
        _exit(3);
    }
    while (!usr2_seen) sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    expect("the child's SIGUSR2 came", usr2_seen);
    const int sent = kill(pid, SIGUSR1) == 0;
    const int reaped_usr1 = waitpid(pid, &status, 0) == pid;
    expect("kill(child, SIGUSR1)", sent);
    expect("its handler ran and it exited 3",
           reaped_usr1 && WIFEXITED(status) && WEXITSTATUS(status) == 3);
    expect("kill(child, 0) once reaped fails", kill(pid, 0) == -1 && errno == ESRCH);
    expect("the parent got SIGCHLD", chld_count > 0);

    // waitid, with the child's status in siginfo.
    pid = fork();
    if (pid == 0) _exit(9);
    siginfo_t info = {0};
    expect("waitid P_PID WEXITED", waitid(P_PID, pid, &info, WEXITED) == 0);
    expect("siginfo says CLD_EXITED, status 9",
           info.si_pid == pid && info.si_code == CLD_EXITED && info.si_status == 9 &&
               info.si_signo == SIGCHLD);
    EXPECT_ERRNO("waitid without WEXITED", waitid(P_ALL, 0, &info, WNOHANG), EINVAL);

    // vfork, then execve in the child.
    pid = vfork();
    if (pid == 0) {
        char *args[] = {argv[0], "exec-child", NULL};
        execve("/proc/self/exe", args, environ);
        _exit(127);
    }
    expect("vfork and execve: exit 5",
           waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 5);

    // vfork suspends the parent until the child ends (or execs).
    int vp[2];
    expect("pipe", pipe(vp) == 0);
    pid = vfork();
    if (pid == 0) {
        sleep_ms(200);
        if (write(vp[1], "v", 1) != 1) _exit(1);
        _exit(0);
    }
    struct pollfd vpfd = {vp[0], POLLIN, 0};
    expect("vfork returns once the child is done", poll(&vpfd, 1, 0) == 1);
    expect("which exited 0", waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(vp[0]);
    close(vp[1]);

    // fork with another thread running: the child has only the caller.
    pthread_t t;
    pthread_create(&t, NULL, spin, NULL);
    pid = fork();
    if (pid == 0) {
        pthread_t u;
        int created = pthread_create(&u, NULL, nothing, NULL), joined = -1;
        if (created == 0) joined = pthread_join(u, NULL);
        int ok = created == 0 && joined == 0;
        if (!ok) fprintf(stderr, "child: pthread_create %d, pthread_join %d\n", created, joined);
        printf("child of a threaded parent: new threads work: %s\n", ok ? "yes" : "no");
        exit(ok ? 0 : 1);
    }
    const int threaded_child = waitpid(pid, &status, 0) == pid;
    if (!threaded_child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "the threaded parent's child: wait status %#x\n", status);
    expect("a threaded parent's child exits 0",
           threaded_child && WIFEXITED(status) && WEXITSTATUS(status) == 0);

    // Several children at once, reaped in any order.
    int reaped = 0;
    for (int i = 0; i < 4; ++i) {
        pid = fork();
        if (pid == 0) _exit(10 + i);
        if (pid < 0) fprintf(stderr, "fork %d: %s\n", i, strerror(errno));
    }
    int sum = 0;
    while ((pid = wait(&status)) > 0) {
        reaped++;
        sum += WEXITSTATUS(status);
        if (!WIFEXITED(status) || WEXITSTATUS(status) < 10 || WEXITSTATUS(status) > 13)
            fprintf(stderr, "child %d: wait status %#x\n", (int)pid, status);
    }
    if (reaped != 4) fprintf(stderr, "reaped %d, then %s\n", reaped, strerror(errno));
    expect("four children reaped", reaped == 4 && sum == 10 + 11 + 12 + 13);

    // A fork from the second CPU (under utx -c 2 the child's VM moves the caller to its
    // first vCPU): the child's TLS is still there. Natively on one CPU, a fork from CPU 0.
    cpu_set_t second;
    CPU_ZERO(&second);
    CPU_SET(1, &second);
    sched_setaffinity(0, sizeof second, &second);
    tls_value = 77;
    pid = fork();
    if (pid == 0) _exit(tls_value);
    expect("a child forked on another CPU has its TLS",
           waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 77);
    return check_failures != 0;
}
