// covers: poll, ppoll, select, pselect6, epoll_wait, epoll_ctl, ioctl, accept, setsockopt
// Waiting on a TCP socket together with a pipe, an eventfd and a timerfd: poll, ppoll,
// select, pselect6 and epoll each see the one that turned ready, and a wait with no timeout
// is ended by another thread's send, write or connect, even one that computes on after it.
// Also FIONBIO on a socket and SO_REUSEPORT. Timing checks only ask for lower bounds; no port numbers are printed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { SOCK, PIPE, EVENT, TIMER, COUNT };
static const char *const names[COUNT] = {"socket", "pipe", "eventfd", "timerfd"};

struct fds {
    int fd[COUNT];  // what is waited on: the socket's accepted end, the pipe's read end, ...
    int peer;       // the socket's connecting end
    int pipe_write;
};

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int listener_at(struct sockaddr_in *addr) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof *addr;
    if (bind(l, (struct sockaddr *)addr, len) != 0 || listen(l, 4) != 0 ||
        getsockname(l, (struct sockaddr *)addr, &len) != 0)
        abort();
    return l;
}

static void open_all(struct fds *f) {
    struct sockaddr_in addr;
    int l = listener_at(&addr);
    f->peer = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(f->peer, (struct sockaddr *)&addr, sizeof addr) != 0) abort();
    f->fd[SOCK] = accept(l, NULL, NULL);
    close(l);
    int p[2];
    if (pipe(p) != 0) abort();
    f->fd[PIPE] = p[0];
    f->pipe_write = p[1];
    f->fd[EVENT] = eventfd(0, 0);
    f->fd[TIMER] = timerfd_create(CLOCK_MONOTONIC, 0);
    if (f->fd[SOCK] < 0 || f->fd[EVENT] < 0 || f->fd[TIMER] < 0) abort();
}

static void close_all(struct fds *f) {
    for (int i = 0; i < COUNT; ++i) close(f->fd[i]);
    close(f->peer);
    close(f->pipe_write);
}

// Makes descriptor `which` readable.
static void make_ready(struct fds *f, int which) {
    uint64_t one = 1;
    struct itimerspec soon = {{0, 0}, {0, 1000000}};
    switch (which) {
        case SOCK:
            if (send(f->peer, "s", 1, 0) != 1) abort();
            break;
        case PIPE:
            if (write(f->pipe_write, "p", 1) != 1) abort();
            break;
        case EVENT:
            if (write(f->fd[EVENT], &one, sizeof one) != 8) abort();
            break;
        case TIMER:
            if (timerfd_settime(f->fd[TIMER], 0, &soon, NULL) != 0) abort();
            break;
    }
}

// Takes descriptor `which`'s readiness away again.
static void consume(struct fds *f, int which) {
    char buf[8];
    if (read(f->fd[which], buf, which == SOCK || which == PIPE ? 1 : 8) <= 0) abort();
}

// Which descriptors each call reports (a bit per descriptor), or -1 on an error.
static int with_poll(struct fds *f, int how, int ms) {
    struct pollfd p[COUNT];
    for (int i = 0; i < COUNT; ++i) p[i] = (struct pollfd){f->fd[i], POLLIN, 0};
    int n;
    if (how == 0) {
        n = poll(p, COUNT, ms);
    } else {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
        sigset_t mask;
        sigemptyset(&mask);
        n = ppoll(p, COUNT, ms < 0 ? NULL : &ts, &mask);
    }
    if (n < 0) return -1;
    int bits = 0;
    for (int i = 0; i < COUNT; ++i)
        if (p[i].revents) bits |= 1 << i;
    return __builtin_popcount((unsigned)bits) == n ? bits : -1;
}

static int with_select(struct fds *f, int how, int ms) {
    fd_set set;
    FD_ZERO(&set);
    int max = 0;
    for (int i = 0; i < COUNT; ++i) {
        FD_SET(f->fd[i], &set);
        if (f->fd[i] > max) max = f->fd[i];
    }
    int n;
    if (how == 0) {
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        n = select(max + 1, &set, NULL, NULL, ms < 0 ? NULL : &tv);
    } else {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
        sigset_t mask;
        sigemptyset(&mask);
        n = pselect(max + 1, &set, NULL, NULL, ms < 0 ? NULL : &ts, &mask);
    }
    if (n < 0) return -1;
    int bits = 0;
    for (int i = 0; i < COUNT; ++i)
        if (FD_ISSET(f->fd[i], &set)) bits |= 1 << i;
    return __builtin_popcount((unsigned)bits) == n ? bits : -1;
}

static int with_epoll(struct fds *f, int how, int ms) {
    (void)how;
    int ep = epoll_create1(0);
    for (int i = 0; i < COUNT; ++i) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, f->fd[i], &ev);
    }
    struct epoll_event out[COUNT];
    int n = epoll_wait(ep, out, COUNT, ms);
    close(ep);
    if (n < 0) return -1;
    int bits = 0;
    for (int i = 0; i < n; ++i) bits |= 1 << out[i].data.u32;
    return bits;
}

struct waiter {
    const char *name;
    int (*wait)(struct fds *, int how, int ms);
    int how;
};

static const struct waiter waiters[] = {
    {"poll", with_poll, 0},     {"ppoll", with_poll, 1},       {"select", with_select, 0},
    {"pselect6", with_select, 1}, {"epoll_wait", with_epoll, 0},
};
enum { WAITERS = sizeof waiters / sizeof waiters[0] };

struct later {
    struct fds *f;
    int which;
};

static void *ready_later(void *arg) {
    struct later *l = arg;
    sleep_ms(60);
    make_ready(l->f, l->which);
    return NULL;
}

static void test_each_kind(void) {
    struct fds f;
    open_all(&f);
    char label[128];
    for (int w = 0; w < WAITERS; ++w) {
        const struct waiter *wt = &waiters[w];
        snprintf(label, sizeof label, "%s: nothing ready", wt->name);
        expect(label, wt->wait(&f, wt->how, 0) == 0);
        for (int i = 0; i < COUNT; ++i) {
            make_ready(&f, i);
            snprintf(label, sizeof label, "%s: the %s alone", wt->name, names[i]);
            expect(label, wt->wait(&f, wt->how, 2000) == 1 << i);
            consume(&f, i);
        }
        make_ready(&f, SOCK);
        make_ready(&f, EVENT);
        snprintf(label, sizeof label, "%s: the socket and the eventfd together", wt->name);
        // The socket's data may still be on its way: wait until both show.
        int bits = 0;
        for (int tries = 0; tries < 100 && bits != (1 << SOCK | 1 << EVENT); ++tries) {
            bits = wt->wait(&f, wt->how, 2000);
            if (bits != (1 << SOCK | 1 << EVENT)) sleep_ms(5);
        }
        expect(label, bits == (1 << SOCK | 1 << EVENT));
        consume(&f, SOCK);
        consume(&f, EVENT);
        // No timeout: another thread's action ends the wait.
        for (int i = 0; i < COUNT; ++i) {
            struct later l = {&f, i};
            pthread_t t;
            pthread_create(&t, NULL, ready_later, &l);
            const uint64_t t0 = now_ms();
            bits = wt->wait(&f, wt->how, -1);
            const uint64_t waited = now_ms() - t0;
            pthread_join(t, NULL);
            snprintf(label, sizeof label, "%s without a timeout: woken by the %s", wt->name,
                     names[i]);
            expect(label, bits == 1 << i && waited >= 40);
            consume(&f, i);
        }
    }
    close_all(&f);
}

static void *connect_later(void *arg) {
    struct sockaddr_in *addr = arg;
    sleep_ms(60);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)addr, sizeof *addr) != 0) abort();
    return (void *)(intptr_t)c;
}

static void test_blocking_accept(void) {
    struct sockaddr_in addr;
    int l = listener_at(&addr);
    pthread_t t;
    pthread_create(&t, NULL, connect_later, &addr);
    const uint64_t t0 = now_ms();
    int a = accept(l, NULL, NULL);
    const uint64_t waited = now_ms() - t0;
    void *c;
    pthread_join(t, &c);
    expect("a blocking accept wakes for another thread's connect", a >= 0 && waited >= 40);
    close(a);
    close((int)(intptr_t)c);
    close(l);
}

static volatile int received;

static void *receive_one(void *arg) {
    char c;
    if (recv(*(int *)arg, &c, 1, 0) == 1) received = 1;
    return NULL;
}

// The sender goes on computing without a system call: the receiver it woke still runs
// (on one CPU, when the sender's time slice ends).
static void test_woken_past_a_computing_thread(void) {
    struct fds f;
    open_all(&f);
    pthread_t t;
    pthread_create(&t, NULL, receive_one, &f.fd[SOCK]);
    sleep_ms(50);
    send(f.peer, "x", 1, 0);
    const uint64_t t0 = now_ms();
    while (!received && now_ms() - t0 < 5000) {
    }
    expect("a receiver woken by a thread that computes on runs", received);
    pthread_join(t, NULL);
    close_all(&f);
}

static void test_fionbio(void) {
    struct fds f;
    open_all(&f);
    int on = 1, off = 0;
    char c;
    expect("FIONBIO on", ioctl(f.fd[SOCK], FIONBIO, &on) == 0 &&
                            (fcntl(f.fd[SOCK], F_GETFL) & O_NONBLOCK) != 0);
    EXPECT_ERRNO("FIONBIO: recv on an empty socket", recv(f.fd[SOCK], &c, 1, 0), EAGAIN);
    expect("FIONBIO off", ioctl(f.fd[SOCK], FIONBIO, &off) == 0 &&
                             (fcntl(f.fd[SOCK], F_GETFL) & O_NONBLOCK) == 0);
    struct timeval tv = {0, 100000};
    setsockopt(f.fd[SOCK], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const uint64_t t0 = now_ms();
    EXPECT_ERRNO("FIONBIO off: recv blocks until SO_RCVTIMEO", recv(f.fd[SOCK], &c, 1, 0), EAGAIN);
    expect("FIONBIO off: it waited", now_ms() - t0 >= 80);
    close_all(&f);
}

static void test_reuseport(void) {
    struct sockaddr_in addr;
    int one = 1;
    int a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(a, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    setsockopt(b, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int v = 0;
    socklen_t vl = sizeof v;
    expect("SO_REUSEPORT", getsockopt(a, SOL_SOCKET, SO_REUSEPORT, &v, &vl) == 0 && v == 1);
    expect("SO_REUSEPORT: two listeners on one port",
           bind(a, (struct sockaddr *)&addr, len) == 0 && listen(a, 4) == 0 &&
               getsockname(a, (struct sockaddr *)&addr, &len) == 0 &&
               bind(b, (struct sockaddr *)&addr, len) == 0 && listen(b, 4) == 0);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    int d = socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_ERRNO("without SO_REUSEPORT the port is taken", bind(d, (struct sockaddr *)&addr, len),
                 EADDRINUSE);
    close(a);
    close(b);
    close(c);
    close(d);
}

int main(void) {
    test_each_kind();
    test_blocking_accept();
    test_woken_past_a_computing_thread();
    test_fionbio();
    test_reuseport();
    return check_exit_status();
}
