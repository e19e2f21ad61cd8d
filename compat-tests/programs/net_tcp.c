// covers: socket, bind, listen, accept, accept4, connect, sendto, recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg, shutdown, getsockname, getpeername, setsockopt, getsockopt, epoll_ctl, epoll_wait, poll, ioctl
// TCP and UDP over the loopback, both ends in this process, for IPv4 (argument "4") or IPv6
// ("6"): connect and accept, data through every send and receive call, MSG_PEEK,
// MSG_DONTWAIT, MSG_WAITALL, FIONREAD, shutdown, SIGPIPE and MSG_NOSIGNAL, options, a
// non-blocking connect to a closed port, connect and receive timeouts, a blocking receive
// woken by another thread, and epoll's level, edge, one-shot, EPOLLRDHUP and closed-fd
// cases. Timing checks only ask for lower bounds. Prints only what must be the same
// everywhere (no port numbers).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int family = AF_INET;

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

// The loopback address of the family with `port`.
static socklen_t loopback(struct sockaddr_storage *ss, int port) {
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons(port);
        return sizeof *a;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons(port);
    return sizeof *a;
}

static int port_of(const struct sockaddr_storage *ss) {
    return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
                                           : ((const struct sockaddr_in *)ss)->sin_port);
}

static int local_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
    return port_of(&ss);
}

static int is_loopback(const struct sockaddr_storage *ss) {
    if (ss->ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
    return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
}

// A listening socket on the loopback, at a port the host chooses.
static int listener(int backlog, int *port) {
    int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_storage ss;
    socklen_t len = loopback(&ss, 0);
    if (bind(s, (struct sockaddr *)&ss, len) != 0 || listen(s, backlog) != 0) abort();
    *port = local_port(s);
    return s;
}

static int connect_to(int port, int flags) {
    int c = socket(family, SOCK_STREAM | flags, 0);
    struct sockaddr_storage ss;
    socklen_t len = loopback(&ss, port);
    int r = connect(c, (struct sockaddr *)&ss, len);
    if (r != 0 && !(errno == EINPROGRESS && (flags & SOCK_NONBLOCK))) abort();
    return c;
}

// A connected pair: *client and *server (accepted).
static void tcp_pair(int *client, int *server) {
    int port;
    int l = listener(4, &port);
    *client = connect_to(port, 0);
    *server = accept(l, NULL, NULL);
    close(l);
}

static int readable_within(int fd, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

static void test_stream(void) {
    int port;
    int l = listener(8, &port);
    int c = connect_to(port, 0);
    struct sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    int a = accept4(l, (struct sockaddr *)&peer, &peer_len, SOCK_CLOEXEC);
    expect("accept4", a >= 0);
    expect("accept4 SOCK_CLOEXEC", (fcntl(a, F_GETFD) & FD_CLOEXEC) != 0);
    expect("accept4 peer address is the client", is_loopback(&peer) && port_of(&peer) == local_port(c));
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    expect("getpeername of the client", getpeername(c, (struct sockaddr *)&ss, &len) == 0 &&
                                            port_of(&ss) == port && is_loopback(&ss));
    len = 4;  // too short: truncated, the full length reported
    expect("getsockname truncates", getsockname(a, (struct sockaddr *)&ss, &len) == 0 &&
                                        len == (family == AF_INET6 ? 28u : 16u));
    EXPECT_ERRNO("getpeername of a listener", getpeername(l, (struct sockaddr *)&ss, &len), ENOTCONN);

    char buf[64];
    expect("send/recv", send(c, "hello", 5, 0) == 5 && recv(a, buf, sizeof buf, 0) == 5 &&
                            memcmp(buf, "hello", 5) == 0);
    expect("write/read", write(a, "back", 4) == 4 && read(c, buf, sizeof buf) == 4 &&
                             memcmp(buf, "back", 4) == 0);
    struct iovec out[3] = {{"one ", 4}, {"two ", 4}, {"three", 5}};
    expect("writev", writev(c, out, 3) == 13);
    char b1[3], b2[20];
    struct iovec in[2] = {{b1, 3}, {b2, sizeof b2}};
    expect("readv scatters", readv(a, in, 2) == 13 && memcmp(b1, "one", 3) == 0 &&
                                 memcmp(b2, " two three", 10) == 0);
    struct msghdr mh = {0};
    mh.msg_iov = out;
    mh.msg_iovlen = 3;
    expect("sendmsg", sendmsg(c, &mh, 0) == 13);
    struct msghdr rh = {0};
    rh.msg_iov = in;
    rh.msg_iovlen = 2;
    rh.msg_name = &ss;
    rh.msg_namelen = sizeof ss;
    expect("recvmsg (stream: no address)", recvmsg(a, &rh, 0) == 13 && rh.msg_namelen == 0 &&
                                               rh.msg_flags == 0);

    expect("MSG_PEEK leaves the data", send(c, "peek", 4, 0) == 4 &&
                                           recv(a, buf, 4, MSG_PEEK) == 4 &&
                                           recv(a, buf + 4, 4, 0) == 4 &&
                                           memcmp(buf, buf + 4, 4) == 0);
    EXPECT_ERRNO("MSG_DONTWAIT on an empty socket", recv(a, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    int n = -1;
    expect("FIONREAD", send(c, "0123456789", 10, 0) == 10 && readable_within(a, 1000) &&
                           ioctl(a, FIONREAD, &n) == 0 && n == 10);
    recv(a, buf, sizeof buf, 0);
    // MSG_WAITALL waits for the rest, which another send brings.
    expect("MSG_WAITALL gathers two sends", send(c, "abc", 3, 0) == 3 && send(c, "def", 3, 0) == 3 &&
                                                recv(a, buf, 6, MSG_WAITALL) == 6 &&
                                                memcmp(buf, "abcdef", 6) == 0);

    // Options: the socket's own and the host's.
    int v = 0;
    socklen_t vl = sizeof v;
    expect("SO_TYPE", getsockopt(c, SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_STREAM);
    expect("SO_DOMAIN", getsockopt(c, SOL_SOCKET, SO_DOMAIN, &v, &vl) == 0 && v == family);
    expect("SO_PROTOCOL", getsockopt(c, SOL_SOCKET, SO_PROTOCOL, &v, &vl) == 0 && v == IPPROTO_TCP);
    expect("SO_ACCEPTCONN of a listener", getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 && v == 1);
    expect("SO_ACCEPTCONN of a connection", getsockopt(c, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 && v == 0);
    expect("SO_REUSEADDR", getsockopt(l, SOL_SOCKET, SO_REUSEADDR, &v, &vl) == 0 && v == 1);
    expect("SO_ERROR", getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &vl) == 0 && v == 0);
    int one = 1;
    expect("TCP_NODELAY", setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0 &&
                              getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl) == 0 && v == 1);
    expect("SO_KEEPALIVE", setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) == 0 &&
                               getsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, &vl) == 0 && v == 1);
    int size = 65536;
    expect("SO_RCVBUF is doubled", setsockopt(c, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) == 0 &&
                                       getsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, &vl) == 0 &&
                                       v == 2 * size);
    expect("SO_SNDBUF", setsockopt(c, SOL_SOCKET, SO_SNDBUF, &size, sizeof size) == 0 &&
                            getsockopt(c, SOL_SOCKET, SO_SNDBUF, &v, &vl) == 0 && v == 2 * size);
    struct linger lg = {1, 5}, lg2;
    socklen_t lgl = sizeof lg2;
    expect("SO_LINGER", setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0 &&
                            getsockopt(c, SOL_SOCKET, SO_LINGER, &lg2, &lgl) == 0 &&
                            lg2.l_onoff == 1 && lg2.l_linger == 5);
    struct timeval tv = {2, 500000}, tv2;
    socklen_t tvl = sizeof tv2;
    expect("SO_RCVTIMEO", setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
                              getsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv2, &tvl) == 0 &&
                              tv2.tv_sec == 2 && tv2.tv_usec == 500000);
    EXPECT_ERRNO("an unknown option", setsockopt(c, SOL_SOCKET, 9999, &one, sizeof one), ENOPROTOOPT);
    EXPECT_ERRNO("a short option", setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, 2), EINVAL);
    if (family == AF_INET6) {
        expect("IPV6_V6ONLY", getsockopt(c, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl) == 0 && v == 0);
    }

    // The client stops sending: the server reads the end, sees POLLRDHUP, and its own
    // sends still arrive.
    expect("shutdown(SHUT_WR)", shutdown(c, SHUT_WR) == 0);
    struct pollfd p = {a, POLLIN | POLLRDHUP, 0};
    expect("POLLRDHUP after the peer's shutdown", poll(&p, 1, 1000) == 1 &&
                                                       (p.revents & (POLLIN | POLLRDHUP)) ==
                                                           (POLLIN | POLLRDHUP));
    expect("end of file after the peer's shutdown", read(a, buf, sizeof buf) == 0);
    expect("the other direction still works", send(a, "x", 1, 0) == 1 && recv(c, buf, 1, 0) == 1);
    EXPECT_ERRNO("send after SHUT_WR with MSG_NOSIGNAL", send(c, "y", 1, MSG_NOSIGNAL), EPIPE);
    signal(SIGPIPE, SIG_IGN);
    EXPECT_ERRNO("write after SHUT_WR, SIGPIPE ignored", write(c, "y", 1), EPIPE);
    signal(SIGPIPE, SIG_DFL);
    EXPECT_ERRNO("shutdown with a bad how", shutdown(c, 7), EINVAL);
    EXPECT_ERRNO("bind a bound socket", bind(c, (struct sockaddr *)&ss, loopback(&ss, 0)), EINVAL);
    close(a);
    close(c);
    close(l);
    EXPECT_ERRNO("send on a closed descriptor", send(c, "z", 1, 0), EBADF);
    int fd = open("/dev/null", O_RDONLY);
    EXPECT_ERRNO("send on a file", send(fd, "z", 1, 0), ENOTSOCK);
    close(fd);
}

static volatile sig_atomic_t got_sigpipe;
static void on_sigpipe(int sig) {
    (void)sig;
    got_sigpipe = 1;
}

static void test_sigpipe(void) {
    int c, a;
    tcp_pair(&c, &a);
    signal(SIGPIPE, on_sigpipe);
    shutdown(c, SHUT_WR);
    errno = 0;
    ssize_t r = send(c, "x", 1, 0);
    expect("send after shutdown raises SIGPIPE", r == -1 && errno == EPIPE && got_sigpipe);
    got_sigpipe = 0;
    r = send(c, "x", 1, MSG_NOSIGNAL);
    expect("MSG_NOSIGNAL: EPIPE without SIGPIPE", r == -1 && errno == EPIPE && !got_sigpipe);
    signal(SIGPIPE, SIG_DFL);
    close(c);
    close(a);
}

// A port nobody listens on.
static int closed_port(void) {
    int s = socket(family, SOCK_STREAM, 0);
    struct sockaddr_storage ss;
    socklen_t len = loopback(&ss, 0);
    bind(s, (struct sockaddr *)&ss, len);
    int port = local_port(s);
    close(s);
    return port;
}

static void test_refused(void) {
    int port = closed_port();
    int s = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_storage ss;
    socklen_t len = loopback(&ss, port);
    int r = connect(s, (struct sockaddr *)&ss, len);
    int err = errno;
    if (r == -1 && err == EINPROGRESS) {
        struct pollfd p = {s, POLLOUT, 0};
        poll(&p, 1, 5000);
        int v = 0;
        socklen_t vl = sizeof v;
        getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &vl);
        r = -1;
        err = v;
        expect("non-blocking connect: POLLERR and POLLHUP", (p.revents & (POLLERR | POLLHUP)) != 0);
    } else {
        expect("non-blocking connect: POLLERR and POLLHUP", 1);
    }
    expect_errno("non-blocking connect to a closed port", r, err, ECONNREFUSED);
    close(s);
    s = socket(family, SOCK_STREAM, 0);
    EXPECT_ERRNO("blocking connect to a closed port", connect(s, (struct sockaddr *)&ss, len),
                 ECONNREFUSED);
    close(s);
}

// A listener with backlog 0 takes one connection; the host drops the next one's SYN, so
// that connect waits until its timeout.
static void test_connect_timeout(void) {
    int port;
    int l = listener(0, &port);
    int c1 = connect_to(port, 0);
    sleep_ms(50);
    int c2 = socket(family, SOCK_STREAM, 0);
    struct timeval tv = {0, 300000};
    setsockopt(c2, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_storage ss;
    socklen_t len = loopback(&ss, port);
    uint64_t t0 = now_ms();
    int r = connect(c2, (struct sockaddr *)&ss, len);
    int err = errno;
    uint64_t waited = now_ms() - t0;
    expect_errno("connect past SO_SNDTIMEO", r, err, EINPROGRESS);
    expect("connect waited for SO_SNDTIMEO", waited >= 280);
    int c3 = connect_to(port, SOCK_NONBLOCK);
    struct pollfd p = {c3, POLLOUT, 0};
    t0 = now_ms();
    expect("poll on a connect that cannot complete times out", poll(&p, 1, 300) == 0 &&
                                                                  now_ms() - t0 >= 280);
    close(c1);
    close(c2);
    close(c3);
    close(l);
}

static void test_recv_timeout(void) {
    int c, a;
    tcp_pair(&c, &a);
    struct timeval tv = {0, 200000};
    setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[8];
    uint64_t t0 = now_ms();
    ssize_t r = recv(a, buf, sizeof buf, 0);
    int err = errno;
    expect_errno("recv past SO_RCVTIMEO", r, err, EAGAIN);
    expect("recv waited for SO_RCVTIMEO", now_ms() - t0 >= 180);
    close(c);
    close(a);
}

struct delayed {
    int fd;
    int ms;
};

static void *send_later(void *arg) {
    struct delayed *d = arg;
    sleep_ms(d->ms);
    if (send(d->fd, "wake", 4, 0) != 4) abort();
    return NULL;
}

static void test_blocking_wakeup(void) {
    int c, a;
    tcp_pair(&c, &a);
    struct delayed d = {c, 100};
    pthread_t t;
    pthread_create(&t, NULL, send_later, &d);
    char buf[8];
    uint64_t t0 = now_ms();
    expect("a blocking recv wakes for another thread's send",
           recv(a, buf, sizeof buf, 0) == 4 && memcmp(buf, "wake", 4) == 0 && now_ms() - t0 >= 80);
    pthread_join(t, NULL);
    // A blocking accept, and a blocking send into a full socket that a reader drains.
    close(c);
    close(a);
}

static int wait_events(int ep, uint32_t *events, int ms) {
    struct epoll_event ev[4];
    int n = epoll_wait(ep, ev, 4, ms);
    if (n == 1 && events) *events = ev[0].events;
    return n;
}

static void test_epoll(void) {
    int c, a;
    tcp_pair(&c, &a);
    char buf[64];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = a};
    epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev);
    uint32_t got = 0;
    expect("epoll: nothing to read", wait_events(ep, NULL, 0) == 0);
    send(c, "ab", 2, 0);
    expect("epoll level: reported", wait_events(ep, &got, 1000) == 1 && got == EPOLLIN);
    expect("epoll level: reported again while unread", wait_events(ep, NULL, 0) == 1);
    recv(a, buf, sizeof buf, 0);
    expect("epoll level: quiet once read", wait_events(ep, NULL, 0) == 0);

    ev.events = EPOLLIN | EPOLLET;
    epoll_ctl(ep, EPOLL_CTL_MOD, a, &ev);
    send(c, "cd", 2, 0);
    expect("epoll edge: reported", wait_events(ep, NULL, 1000) == 1);
    expect("epoll edge: not again while unread", wait_events(ep, NULL, 0) == 0);
    send(c, "ef", 2, 0);
    expect("epoll edge: new data is a new edge", wait_events(ep, NULL, 1000) == 1);
    recv(a, buf, 1, 0);
    expect("epoll edge: a partial read is no edge", wait_events(ep, NULL, 0) == 0);
    recv(a, buf, sizeof buf, 0);

    ev.events = EPOLLIN | EPOLLONESHOT;
    epoll_ctl(ep, EPOLL_CTL_MOD, a, &ev);
    send(c, "gh", 2, 0);
    expect("epoll one-shot: reported", wait_events(ep, NULL, 1000) == 1);
    expect("epoll one-shot: disabled after", wait_events(ep, NULL, 0) == 0);
    epoll_ctl(ep, EPOLL_CTL_MOD, a, &ev);
    expect("epoll one-shot: re-armed by EPOLL_CTL_MOD", wait_events(ep, NULL, 0) == 1);
    expect("epoll one-shot: disabled again", wait_events(ep, NULL, 0) == 0);
    recv(a, buf, sizeof buf, 0);

    ev.events = EPOLLIN | EPOLLRDHUP;
    epoll_ctl(ep, EPOLL_CTL_MOD, a, &ev);
    close(c);
    expect("epoll: EPOLLRDHUP when the peer closes",
           wait_events(ep, &got, 1000) == 1 && (got & (EPOLLIN | EPOLLRDHUP)) == (EPOLLIN | EPOLLRDHUP));
    expect("epoll: the peer's close reads as end of file", read(a, buf, sizeof buf) == 0);

    // A watched descriptor closed: its entry goes with the last reference to the socket,
    // and not before.
    int d = dup(a);
    close(a);
    expect("epoll: a closed fd with a dup left is still watched", wait_events(ep, NULL, 0) == 1);
    close(d);
    expect("epoll: a closed socket is no longer watched", wait_events(ep, NULL, 0) == 0);
    EXPECT_ERRNO("epoll: EPOLL_CTL_DEL of a closed fd", epoll_ctl(ep, EPOLL_CTL_DEL, a, NULL), EBADF);

    // EPOLLOUT, and a listener's EPOLLIN for a connection waiting.
    int port;
    int l = listener(4, &port);
    ev.events = EPOLLIN;
    ev.data.fd = l;
    epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
    expect("epoll: a listener with nobody waiting", wait_events(ep, NULL, 0) == 0);
    c = connect_to(port, 0);
    expect("epoll: a listener with a connection waiting", wait_events(ep, &got, 1000) == 1 && got == EPOLLIN);
    a = accept(l, NULL, NULL);
    ev.events = EPOLLOUT;
    ev.data.fd = c;
    epoll_ctl(ep, EPOLL_CTL_DEL, l, NULL);
    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
    expect("epoll: a connected socket is writable", wait_events(ep, &got, 1000) == 1 && got == EPOLLOUT);
    close(ep);
    close(a);
    close(c);
    close(l);
}

// A blocking send larger than the socket buffers completes as the reader drains it.
struct drain {
    int fd;
    size_t total;
};

static void *drain_all(void *arg) {
    struct drain *d = arg;
    char buf[65536];
    ssize_t n;
    sleep_ms(50);
    while ((n = read(d->fd, buf, sizeof buf)) > 0) d->total += (size_t)n;
    return NULL;
}

static void test_big_transfer(void) {
    int c, a;
    tcp_pair(&c, &a);
    struct drain d = {a, 0};
    pthread_t t;
    pthread_create(&t, NULL, drain_all, &d);
    size_t size = 8 << 20;
    char *data = malloc(size);
    memset(data, 'x', size);
    ssize_t sent = send(c, data, size, 0);
    shutdown(c, SHUT_WR);
    pthread_join(t, NULL);
    expect("an 8 MiB blocking send completes", sent == (ssize_t)size && d.total == size);
    free(data);
    close(c);
    close(a);
}

static void test_udp(void) {
    int s1 = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int s2 = socket(family, SOCK_DGRAM, 0);
    struct sockaddr_storage a1, a2, from;
    socklen_t l1 = loopback(&a1, 0), l2 = loopback(&a2, 0), fl;
    expect("udp bind", bind(s1, (struct sockaddr *)&a1, l1) == 0 && bind(s2, (struct sockaddr *)&a2, l2) == 0);
    l1 = sizeof a1;
    l2 = sizeof a2;
    getsockname(s1, (struct sockaddr *)&a1, &l1);
    getsockname(s2, (struct sockaddr *)&a2, &l2);
    char buf[64];
    fl = sizeof from;
    expect("udp sendto/recvfrom", sendto(s1, "dgram", 5, 0, (struct sockaddr *)&a2, l2) == 5 &&
                                      recvfrom(s2, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) == 5 &&
                                      memcmp(buf, "dgram", 5) == 0 && fl == l1 &&
                                      port_of(&from) == port_of(&a1));
    EXPECT_ERRNO("udp: nothing more", recv(s2, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    expect("udp: boundaries kept", sendto(s1, "one", 3, 0, (struct sockaddr *)&a2, l2) == 3 &&
                                       sendto(s1, "three", 5, 0, (struct sockaddr *)&a2, l2) == 5 &&
                                       recv(s2, buf, sizeof buf, 0) == 3 &&
                                       recv(s2, buf, sizeof buf, 0) == 5);
    expect("udp: an empty datagram", sendto(s1, "", 0, 0, (struct sockaddr *)&a2, l2) == 0 &&
                                         recv(s2, buf, sizeof buf, 0) == 0);
    sendto(s1, "truncated", 9, 0, (struct sockaddr *)&a2, l2);
    struct iovec iv = {buf, 4};
    struct msghdr mh = {0};
    mh.msg_iov = &iv;
    mh.msg_iovlen = 1;
    expect("udp: MSG_PEEK", recv(s2, buf, 4, MSG_PEEK) == 4);
    expect("udp: MSG_TRUNC in msg_flags", recvmsg(s2, &mh, 0) == 4 && (mh.msg_flags & MSG_TRUNC));
    sendto(s1, "truncated", 9, 0, (struct sockaddr *)&a2, l2);
    expect("udp: MSG_TRUNC returns the real length", recv(s2, buf, 2, MSG_TRUNC) == 9);

    expect("udp connect", connect(s1, (struct sockaddr *)&a2, l2) == 0);
    expect("udp send on a connected socket", send(s1, "conn", 4, 0) == 4 && recv(s2, buf, sizeof buf, 0) == 4);
    int v = 0;
    socklen_t vl = sizeof v;
    expect("udp SO_TYPE", getsockopt(s1, SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_DGRAM);
    expect("udp SO_PROTOCOL", getsockopt(s1, SOL_SOCKET, SO_PROTOCOL, &v, &vl) == 0 && v == IPPROTO_UDP);

    struct mmsghdr msgs[3];
    struct iovec iovs[3] = {{"m1", 2}, {"m22", 3}, {"m333", 4}};
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < 3; ++i) {
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    expect("sendmmsg", sendmmsg(s1, msgs, 3, 0) == 3 && msgs[2].msg_len == 4);
    char rb[3][16];
    struct iovec riov[3] = {{rb[0], 16}, {rb[1], 16}, {rb[2], 16}};
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < 3; ++i) {
        msgs[i].msg_hdr.msg_iov = &riov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    readable_within(s2, 1000);
    expect("recvmmsg", recvmmsg(s2, msgs, 3, MSG_DONTWAIT, NULL) == 3 && msgs[0].msg_len == 2 &&
                           msgs[1].msg_len == 3 && msgs[2].msg_len == 4 &&
                           memcmp(rb[2], "m333", 4) == 0);
    // Datagrams to a port nobody has: the connected socket learns it as ECONNREFUSED.
    int port = closed_port();
    struct sockaddr_storage gone;
    socklen_t gl = loopback(&gone, port);
    connect(s1, (struct sockaddr *)&gone, gl);
    send(s1, "lost", 4, 0);
    readable_within(s1, 1000);
    EXPECT_ERRNO("udp: ECONNREFUSED from a closed port", recv(s1, buf, sizeof buf, 0), ECONNREFUSED);
    close(s1);
    close(s2);
}

int main(int argc, char **argv) {
    family = argc > 1 && strcmp(argv[1], "6") == 0 ? AF_INET6 : AF_INET;
    test_stream();
    test_sigpipe();
    test_refused();
    test_connect_timeout();
    test_recv_timeout();
    test_blocking_wakeup();
    test_epoll();
    test_big_transfer();
    test_udp();
    return check_exit_status();
}
