// covers: poll, ppoll, select, pselect6, epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, eventfd, eventfd2, timerfd_create, timerfd_settime, timerfd_gettime
// Waiting for descriptors while other threads make them ready: a producer and a consumer
// over a pipe through poll, select and epoll, eventfd counters between threads, timerfd
// ticks, epoll's level-triggered, edge-triggered and one-shot entries, signals that end a
// wait, and the temporary sigmask of ppoll, pselect6 and epoll_pwait. Timing checks only
// ask for lower bounds. Prints only what must be the same everywhere.
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(int ms) {
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

// --- a producer writing numbered words into a pipe, a little at a time ---

enum { kWords = 200 };

static void *produce(void *arg) {
    int fd = *(int *)arg;
    for (uint32_t i = 1; i <= kWords; ++i) {
        if (write(fd, &i, sizeof i) != sizeof i) abort();
        if (i % 50 == 0) sleep_ms(5);
    }
    close(fd);
    return NULL;
}

enum Waiter { kPoll, kSelect, kEpoll };

// Reads every word through the waiter until end of file; true when all came in order.
static int consume(enum Waiter how) {
    int p[2];
    if (pipe2(p, O_NONBLOCK) != 0) return 0;
    pthread_t t;
    pthread_create(&t, NULL, produce, &p[1]);
    int ep = -1;
    if (how == kEpoll) {
        ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 77};
        epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    }
    uint32_t next = 1;
    int ok = 1, eof = 0;
    while (!eof) {
        if (how == kPoll) {
            struct pollfd pfd = {p[0], POLLIN, 0};
            if (poll(&pfd, 1, -1) != 1 || !(pfd.revents & (POLLIN | POLLHUP))) ok = 0;
        } else if (how == kSelect) {
            fd_set r;
            FD_ZERO(&r);
            FD_SET(p[0], &r);
            if (select(p[0] + 1, &r, NULL, NULL, NULL) != 1 || !FD_ISSET(p[0], &r)) ok = 0;
        } else {
            struct epoll_event ev;
            if (epoll_wait(ep, &ev, 1, -1) != 1 || ev.data.u32 != 77) ok = 0;
        }
        uint32_t buf[64];
        ssize_t n;
        while ((n = read(p[0], buf, sizeof buf)) > 0)
            for (ssize_t i = 0; i < n / 4; ++i) ok &= buf[i] == next++;
        if (n == 0) eof = 1;
        if (!ok) break;
    }
    pthread_join(t, NULL);
    close(p[0]);
    if (ep >= 0) close(ep);
    return ok && next == kWords + 1;
}

// --- eventfd ---

struct Delayed {
    int fd, ms;
    uint64_t value;
};

static void *write_later(void *arg) {
    struct Delayed *d = arg;
    sleep_ms(d->ms);
    if (write(d->fd, &d->value, 8) != 8) abort();
    return NULL;
}

static void test_eventfd(void) {
    uint64_t v;
    int fd = eventfd(0, EFD_NONBLOCK);
    expect("eventfd", fd >= 0);
    EXPECT_ERRNO("eventfd read empty", read(fd, &v, 8), EAGAIN);
    v = 3;
    write(fd, &v, 8);
    v = 4;
    write(fd, &v, 8);
    expect("eventfd read sums", read(fd, &v, 8) == 8 && v == 7);
    uint32_t small;
    EXPECT_ERRNO("eventfd short read", read(fd, &small, 4), EINVAL);
    EXPECT_ERRNO("eventfd short write", write(fd, &small, 4), EINVAL);
    v = UINT64_MAX;
    EXPECT_ERRNO("eventfd write max", write(fd, &v, 8), EINVAL);
    v = UINT64_MAX - 1;
    expect("eventfd write to the limit", write(fd, &v, 8) == 8);
    v = 1;
    EXPECT_ERRNO("eventfd overflow", write(fd, &v, 8), EAGAIN);
    struct pollfd pfd = {fd, POLLIN | POLLOUT, 0};
    expect("eventfd full polls in only", poll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN);
    close(fd);

    fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    int ones = 0;
    while (read(fd, &v, 8) == 8 && v == 1) ++ones;
    expect("eventfd semaphore", ones == 3 && errno == EAGAIN);
    close(fd);
    EXPECT_ERRNO("eventfd2 bad flags", syscall(SYS_eventfd2, 0, 0x10), EINVAL);
    fd = eventfd(0, EFD_CLOEXEC);
    expect("eventfd cloexec", fcntl(fd, F_GETFD) == FD_CLOEXEC);
    expect("eventfd is read-write", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);

    // A blocking read waits for another thread's write.
    struct Delayed d = {fd, 20, 42};
    pthread_t t;
    pthread_create(&t, NULL, write_later, &d);
    expect("eventfd blocking read", read(fd, &v, 8) == 8 && v == 42);
    pthread_join(t, NULL);
    close(fd);
}

// --- timerfd ---

static void test_timerfd(void) {
    uint64_t ticks;
    EXPECT_ERRNO("timerfd bad clock", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
    EXPECT_ERRNO("timerfd bad flags", timerfd_create(CLOCK_MONOTONIC, 1), EINVAL);
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    expect("timerfd_create", fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
    EXPECT_ERRNO("timerfd disarmed read", read(fd, &ticks, 8), EAGAIN);
    struct itimerspec its = {{0, 10000000}, {0, 10000000}}, cur;
    expect("timerfd_settime", timerfd_settime(fd, 0, &its, NULL) == 0);
    timerfd_gettime(fd, &cur);
    expect("timerfd_gettime", cur.it_interval.tv_nsec == 10000000 && cur.it_value.tv_sec == 0 &&
                                  cur.it_value.tv_nsec <= 10000000);
    sleep_ms(55);
    expect("timerfd counts ticks", read(fd, &ticks, 8) == 8 && ticks >= 5);
    uint32_t small;
    EXPECT_ERRNO("timerfd short read", read(fd, &small, 4), EINVAL);
    struct pollfd pfd = {fd, POLLIN, 0};
    uint64_t start = now_ns();
    expect("timerfd poll waits for a tick", poll(&pfd, 1, 1000) == 1 && pfd.revents == POLLIN);
    expect("timerfd ticks after read", read(fd, &ticks, 8) == 8 && ticks >= 1);
    (void)start;
    its.it_value.tv_nsec = 500000000;
    expect("timerfd old value", timerfd_settime(fd, 0, &its, &cur) == 0 &&
                                    cur.it_interval.tv_nsec == 10000000);
    struct itimerspec off = {{0, 0}, {0, 0}};
    timerfd_settime(fd, 0, &off, NULL);
    timerfd_gettime(fd, &cur);
    expect("timerfd disarmed", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
    struct itimerspec bad = {{0, 0}, {0, 1000000000}};
    EXPECT_ERRNO("timerfd bad nsec", timerfd_settime(fd, 0, &bad, NULL), EINVAL);
    EXPECT_ERRNO("timerfd bad settime flags", timerfd_settime(fd, 4, &its, NULL), EINVAL);
    int efd = eventfd(0, 0);
    EXPECT_ERRNO("timerfd_settime on eventfd", timerfd_settime(efd, 0, &its, NULL), EINVAL);
    EXPECT_ERRNO("timerfd_gettime on eventfd", timerfd_gettime(efd, &cur), EINVAL);
    EXPECT_ERRNO("timerfd_gettime bad fd", timerfd_gettime(999, &cur), EBADF);
    close(efd);
    close(fd);

    // An absolute realtime one-shot timer read by a blocking read.
    fd = timerfd_create(CLOCK_REALTIME, 0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    now.tv_nsec += 20000000;
    if (now.tv_nsec >= 1000000000) now.tv_sec++, now.tv_nsec -= 1000000000;
    struct itimerspec at = {{0, 0}, now};
    timerfd_settime(fd, TFD_TIMER_ABSTIME, &at, NULL);
    start = now_ns();
    expect("timerfd absolute blocking read",
           read(fd, &ticks, 8) == 8 && ticks == 1 && now_ns() - start >= 10000000);
    close(fd);
    fd = timerfd_create(CLOCK_BOOTTIME, 0);
    expect("timerfd boottime", fd >= 0);
    close(fd);
}

// --- poll and select details ---

static void test_poll_select(void) {
    int p[2];
    pipe(p);
    struct pollfd pfd[3] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {-1, POLLIN, 0}};
    expect("poll write end ready", poll(pfd, 3, 0) == 1 && pfd[1].revents == POLLOUT &&
                                       pfd[0].revents == 0 && pfd[2].revents == 0);
    uint64_t start = now_ns();
    expect("poll times out", poll(pfd, 1, 30) == 0 && now_ns() - start >= 30000000);
    struct pollfd nval = {900, POLLIN, 0};
    expect("poll closed fd", poll(&nval, 1, 0) == 1 && nval.revents == POLLNVAL);
    EXPECT_ERRNO("poll too many", syscall(SYS_poll, pfd, 1u << 30, 0), EINVAL);
    struct timespec ts = {0, 20000000};
    start = now_ns();
    expect("ppoll times out", ppoll(pfd, 1, &ts, NULL) == 0 && now_ns() - start >= 20000000);
    ts.tv_nsec = -1;
    EXPECT_ERRNO("ppoll bad timeout", ppoll(pfd, 1, &ts, NULL), EINVAL);

    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(p[1], &w);
    expect("select write end", select(p[1] + 1, &r, &w, NULL, NULL) == 1 && !FD_ISSET(p[0], &r) &&
                                   FD_ISSET(p[1], &w));
    struct timeval tv = {0, 30000};
    FD_SET(p[0], &r);
    start = now_ns();
    expect("select times out", select(p[0] + 1, &r, NULL, NULL, &tv) == 0 &&
                                   now_ns() - start >= 30000000 && !FD_ISSET(p[0], &r));
    FD_ZERO(&r);
    FD_SET(50, &r);
    EXPECT_ERRNO("select closed fd", select(51, &r, NULL, NULL, NULL), EBADF);
    EXPECT_ERRNO("select negative nfds", select(-1, NULL, NULL, NULL, NULL), EINVAL);
    tv.tv_usec = -1;
    EXPECT_ERRNO("select bad timeout", select(0, NULL, NULL, NULL, &tv), EINVAL);
    // Both ends: one hit in each set; the write end closed makes the read end readable.
    close(p[1]);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    expect("select sees end of file", select(p[0] + 1, &r, NULL, NULL, NULL) == 1);
    pfd[0].revents = 0;
    expect("poll sees hangup", poll(pfd, 1, -1) == 1 && pfd[0].revents == POLLHUP);
    close(p[0]);
}

// --- epoll ---

static int wait0(int ep, struct epoll_event *ev, int max) { return epoll_wait(ep, ev, max, 0); }

static void test_epoll(void) {
    struct epoll_event ev = {.events = EPOLLIN}, out[4];
    EXPECT_ERRNO("epoll_create1 bad flags", epoll_create1(1), EINVAL);
    EXPECT_ERRNO("epoll_create 0", syscall(SYS_epoll_create, 0), EINVAL);
    int ep = epoll_create1(0);
    expect("epoll_create1", ep >= 0 && fcntl(ep, F_GETFD) == 0);
    int old = syscall(SYS_epoll_create, 1);
    expect("epoll_create", old >= 0);
    EXPECT_ERRNO("epoll add itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
    int dir = open("/", O_RDONLY | O_DIRECTORY);
    EXPECT_ERRNO("epoll add a directory", epoll_ctl(ep, EPOLL_CTL_ADD, dir, &ev), EPERM);
    close(dir);
    int p[2], q[2];
    pipe(p);
    pipe(q);
    EXPECT_ERRNO("epoll_ctl not epoll", epoll_ctl(p[0], EPOLL_CTL_ADD, q[0], &ev), EINVAL);
    EXPECT_ERRNO("epoll_ctl bad fd", epoll_ctl(ep, EPOLL_CTL_ADD, 900, &ev), EBADF);
    EXPECT_ERRNO("epoll mod missing", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), ENOENT);
    EXPECT_ERRNO("epoll del missing", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
    EXPECT_ERRNO("epoll bad op", epoll_ctl(ep, 9, p[0], &ev), EINVAL);
    EXPECT_ERRNO("epoll_wait maxevents 0", epoll_wait(ep, out, 0, 0), EINVAL);
    EXPECT_ERRNO("epoll_wait not epoll", epoll_wait(p[0], out, 1, 0), EINVAL);
    EXPECT_ERRNO("epoll_wait bad fd", epoll_wait(900, out, 1, 0), EBADF);

    // Nested instances may not form a loop.
    expect("epoll nests", epoll_ctl(old, EPOLL_CTL_ADD, ep, &ev) == 0);
    EXPECT_ERRNO("epoll loop", epoll_ctl(ep, EPOLL_CTL_ADD, old, &ev), ELOOP);

    // Level-triggered: reported while readable.
    ev.data.u32 = 1;
    expect("epoll add", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
    EXPECT_ERRNO("epoll add twice", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST);
    expect("epoll empty", wait0(ep, out, 4) == 0);
    write(p[1], "a", 1);
    expect("epoll level 1", wait0(ep, out, 4) == 1 && out[0].data.u32 == 1 &&
                                out[0].events == EPOLLIN);
    expect("epoll level 2", wait0(ep, out, 4) == 1);
    struct pollfd pfd = {ep, POLLIN, 0};
    expect("epoll fd is pollable", poll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN);
    expect("nested epoll ready", epoll_wait(old, out, 4, 0) == 1 && out[0].events == EPOLLIN);

    // Two ready entries, one event at a time: level-triggered ones take turns.
    ev.data.u32 = 2;
    epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev);
    write(q[1], "b", 1);
    int first = wait0(ep, out, 1) == 1 ? (int)out[0].data.u32 : 0;
    int second = wait0(ep, out, 1) == 1 ? (int)out[0].data.u32 : 0;
    expect("epoll turns", first && second && first != second);
    expect("epoll both", wait0(ep, out, 4) == 2);

    // Edge-triggered: once per new readiness.
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u32 = 3;
    expect("epoll mod", epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &ev) == 0);
    epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
    expect("epoll edge first", wait0(ep, out, 4) == 1 && out[0].data.u32 == 3);
    expect("epoll edge then quiet", wait0(ep, out, 4) == 0);
    char c;
    read(q[0], &c, 1);
    expect("epoll edge drained", wait0(ep, out, 4) == 0);
    write(q[1], "c", 1);
    expect("epoll edge again", wait0(ep, out, 4) == 1 && out[0].data.u32 == 3);
    read(q[0], &c, 1);

    // One-shot: one report until re-armed.
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u32 = 4;
    epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &ev);
    write(q[1], "d", 1);
    expect("epoll oneshot", wait0(ep, out, 4) == 1 && out[0].data.u32 == 4);
    expect("epoll oneshot disabled", wait0(ep, out, 4) == 0);
    epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &ev);
    expect("epoll oneshot rearmed", wait0(ep, out, 4) == 1);

    // Hangup, and the entry going with the file's last descriptor.
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u32 = 5;
    epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &ev);
    close(q[1]);
    expect("epoll hangup", wait0(ep, out, 4) == 1 && out[0].events == (EPOLLIN | EPOLLHUP));
    close(q[0]);
    expect("epoll forgets closed files", wait0(ep, out, 4) == 0);

    // A wait ended by another thread's eventfd write.
    int efd = eventfd(0, 0);
    ev.events = EPOLLIN;
    ev.data.u64 = 0x1122334455667788u;
    epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
    struct Delayed d = {efd, 20, 9};
    pthread_t t;
    pthread_create(&t, NULL, write_later, &d);
    expect("epoll waits for eventfd",
           epoll_wait(ep, out, 4, 5000) == 1 && out[0].data.u64 == 0x1122334455667788u);
    pthread_join(t, NULL);
    close(efd);

    // A timerfd wakes an epoll wait by itself.
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec its = {{0, 0}, {0, 20000000}};
    timerfd_settime(tfd, 0, &its, NULL);
    ev.data.u32 = 6;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    expect("epoll waits for timerfd", epoll_wait(ep, out, 4, 5000) == 1 && out[0].data.u32 == 6);
    close(tfd);
    close(p[0]);
    close(p[1]);
    close(old);
    close(ep);
}

// --- signals ending waits ---

static volatile sig_atomic_t alarms, usr1s;
static void on_alarm(int sig) { (void)sig, alarms++; }
static void on_usr1(int sig) { (void)sig, usr1s++; }

static void arm_alarm(int ms) {
    struct itimerval it = {{0, 0}, {0, ms * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void test_signals(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;  // poll, select and epoll_wait still end with EINTR
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    int p[2];
    pipe(p);
    struct pollfd pfd = {p[0], POLLIN, 0};
    arm_alarm(20);
    EXPECT_ERRNO("poll interrupted", poll(&pfd, 1, -1), EINTR);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    arm_alarm(20);
    EXPECT_ERRNO("select interrupted", select(p[0] + 1, &r, NULL, NULL, NULL), EINTR);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN}, out;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    arm_alarm(20);
    EXPECT_ERRNO("epoll_wait interrupted", epoll_wait(ep, &out, 1, -1), EINTR);
    expect("handlers ran", alarms == 3);

    // ppoll's mask: SIGUSR1, blocked by the thread, is let in during the wait only.
    sigset_t block, none, only_alarm, cur;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&none);
    sigemptyset(&only_alarm);
    sigaddset(&only_alarm, SIGALRM);
    sigprocmask(SIG_BLOCK, &block, NULL);
    raise(SIGUSR1);
    expect("usr1 pending", usr1s == 0);
    struct timespec ts = {5, 0};
    EXPECT_ERRNO("ppoll with mask", ppoll(&pfd, 1, &ts, &none), EINTR);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    expect("ppoll handler ran", usr1s == 1 && sigismember(&cur, SIGUSR1));
    // A mask blocking SIGALRM: the wait times out and the signal stays pending.
    sigprocmask(SIG_BLOCK, &only_alarm, NULL);
    arm_alarm(10);
    ts.tv_sec = 0;
    ts.tv_nsec = 40000000;
    expect("ppoll mask blocks", ppoll(&pfd, 1, &ts, &only_alarm) == 0 && alarms == 3);
    sigpending(&cur);
    expect("alarm pending after ppoll", sigismember(&cur, SIGALRM));
    ts.tv_sec = 5;
    ts.tv_nsec = 0;
    EXPECT_ERRNO("pselect with mask", pselect(p[0] + 1, &r, NULL, NULL, &ts, &none), EINTR);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    expect("pselect handler ran",
           alarms == 4 && sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGALRM));
    sigprocmask(SIG_UNBLOCK, &only_alarm, NULL);
    raise(SIGUSR1);
    EXPECT_ERRNO("epoll_pwait with mask", epoll_pwait(ep, &out, 1, 5000, &none), EINTR);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    expect("epoll_pwait handler ran", usr1s == 2 && sigismember(&cur, SIGUSR1));
    // Something ready: no signal is delivered and the mask is back; the pending one waits.
    write(p[1], "x", 1);
    raise(SIGUSR1);
    ts.tv_sec = 5;
    ts.tv_nsec = 0;
    expect("ppoll ready with mask", ppoll(&pfd, 1, &ts, &none) == 1 && usr1s == 2);
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    expect("usr1 after unblocking", usr1s == 3);
    close(ep);
    close(p[0]);
    close(p[1]);
}

int main(void) {
    expect("poll producer/consumer", consume(kPoll));
    expect("select producer/consumer", consume(kSelect));
    expect("epoll producer/consumer", consume(kEpoll));
    test_eventfd();
    test_timerfd();
    test_poll_select();
    test_epoll();
    test_signals();
    return check_exit_status();
}
