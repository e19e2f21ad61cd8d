// covers: signalfd4, signalfd, rt_sigprocmask, poll, epoll_wait
// signalfd: blocked signals read as struct signalfd_siginfo, one or several per read;
// polled and watched by epoll; a read that waits for a signal another thread sends or a
// timer raises; its mask changed in place; the errors.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"

static pthread_t main_thread;

static void *send_later(void *arg) {
    (void)arg;
    usleep(20000);
    pthread_kill(main_thread, SIGUSR2);
    return NULL;
}

int main(void) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    sigaddset(&mask, SIGALRM);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int fd = signalfd(-1, &mask, SFD_CLOEXEC);
    expect("signalfd", fd >= 0);
    struct pollfd p = {fd, POLLIN, 0};
    expect("nothing pending: not readable", poll(&p, 1, 0) == 0);

    raise(SIGUSR1);
    expect("a pending signal makes it readable", poll(&p, 1, 0) == 1 && (p.revents & POLLIN));
    struct signalfd_siginfo si[4];
    expect("read one", read(fd, si, sizeof si) == sizeof si[0]);
    expect("its signo, code and sender", si[0].ssi_signo == SIGUSR1 && si[0].ssi_code == SI_TKILL && si[0].ssi_pid == (uint32_t)getpid());
    sigset_t pending;
    sigpending(&pending);
    expect("reading took it", !sigismember(&pending, SIGUSR1));

    kill(getpid(), SIGUSR1);
    raise(SIGUSR2);
    ssize_t n = read(fd, si, sizeof si);
    expect("two in one read: the thread's own first, then the process's", n == 2 * (ssize_t)sizeof si[0] && si[0].ssi_signo == SIGUSR2 && si[1].ssi_signo == SIGUSR1 && si[1].ssi_code == SI_USER);
    EXPECT_ERRNO("a buffer smaller than one", read(fd, si, 100), EINVAL);

    // A read that waits: a signal from another thread.
    main_thread = pthread_self();
    pthread_t t;
    pthread_create(&t, NULL, send_later, NULL);
    expect("a waiting read returns the signal another thread sent", read(fd, si, sizeof si[0]) == sizeof si[0] && si[0].ssi_signo == SIGUSR2);
    pthread_join(t, NULL);

    // ... and one a timer raises, watched through epoll.
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
    expect("epoll_ctl ADD a signalfd", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
    struct itimerval it = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct epoll_event out;
    expect("epoll_wait sees the timer's signal", epoll_wait(ep, &out, 1, 5000) == 1 && out.data.u32 == 7);
    expect("which reads as SIGALRM", read(fd, si, sizeof si[0]) == sizeof si[0] && si[0].ssi_signo == SIGALRM);
    close(ep);

    // A new mask in place; non-blocking.
    sigset_t only1;
    sigemptyset(&only1);
    sigaddset(&only1, SIGUSR1);
    expect("signalfd on the same fd changes its mask", signalfd(fd, &only1, 0) == fd);
    raise(SIGUSR2);
    expect("SIGUSR2 pending is no longer its business", poll(&p, 1, 0) == 0);
    int nb = signalfd(-1, &only1, SFD_NONBLOCK);
    EXPECT_ERRNO("non-blocking, nothing of its mask pending", read(nb, si, sizeof si[0]), EAGAIN);
    sigpending(&pending);
    expect("SIGUSR2 is still pending", sigismember(&pending, SIGUSR2));

    EXPECT_ERRNO("bad flags", signalfd(-1, &mask, 0x1), EINVAL);
    EXPECT_ERRNO("bad mask size", syscall(SYS_signalfd4, -1, &mask, 4, 0), EINVAL);
    EXPECT_ERRNO("not a signalfd", signalfd(0, &mask, 0), EINVAL);
    EXPECT_ERRNO("a closed fd", signalfd(77, &mask, 0), EBADF);
    return check_exit_status();
}
