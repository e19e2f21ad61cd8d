// covers: socketpair, socket, bind, listen, accept, accept4, connect, sendto, recvfrom, sendmsg, recvmsg, shutdown, getsockname, getpeername, getsockopt, setsockopt, epoll_wait, poll, ioctl
// AF_UNIX sockets within one process: socketpair (stream and datagram), named sockets
// in the file system and in the abstract namespace (bind, listen, accept, connect,
// sendto), their names, end of file and EPIPE/SIGPIPE after shutdown and close, message
// boundaries and MSG_TRUNC, MSG_PEEK, FIONREAD, a full datagram queue, blocking calls woken
// by another thread, and epoll over them. Prints only what must be the same everywhere.
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static socklen_t path_addr(struct sockaddr_un *a, const char *path) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path + 1, name, strlen(name));
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

static void test_pair_stream(void) {
    int sv[2];
    expect("socketpair stream", socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    expect("socketpair SOCK_CLOEXEC", (fcntl(sv[0], F_GETFD) & FD_CLOEXEC) != 0);
    struct stat st;
    expect("fstat: a socket", fstat(sv[0], &st) == 0 && S_ISSOCK(st.st_mode));
    char buf[64];
    expect("write/read", write(sv[0], "ping", 4) == 4 && read(sv[1], buf, sizeof buf) == 4 &&
                             memcmp(buf, "ping", 4) == 0);
    expect("both ways", send(sv[1], "pong", 4, 0) == 4 && recv(sv[0], buf, sizeof buf, 0) == 4);
    expect("a stream joins writes", write(sv[0], "ab", 2) == 2 && write(sv[0], "cd", 2) == 2 &&
                                        read(sv[1], buf, sizeof buf) == 4);
    int n = -1;
    expect("FIONREAD", write(sv[0], "12345", 5) == 5 && ioctl(sv[1], FIONREAD, &n) == 0 && n == 5);
    expect("MSG_PEEK", recv(sv[1], buf, 3, MSG_PEEK) == 3 && recv(sv[1], buf, sizeof buf, 0) == 5 &&
                           memcmp(buf, "12345", 5) == 0);
    EXPECT_ERRNO("empty, non-blocking", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    expect("getsockname: unnamed", getsockname(sv[0], (struct sockaddr *)&a, &len) == 0 &&
                                       len == sizeof(sa_family_t) && a.sun_family == AF_UNIX);
    len = sizeof a;
    expect("getpeername: unnamed", getpeername(sv[0], (struct sockaddr *)&a, &len) == 0 &&
                                       len == sizeof(sa_family_t));
    int v;
    socklen_t vl = sizeof v;
    expect("SO_TYPE", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_STREAM);
    expect("SO_DOMAIN", getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &v, &vl) == 0 && v == AF_UNIX);
    struct ucred cred;
    socklen_t cl = sizeof cred;
    expect("SO_PEERCRED", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 &&
                              cred.pid == getpid() && cred.uid == getuid() && cred.gid == getgid());

    expect("shutdown(SHUT_WR)", shutdown(sv[0], SHUT_WR) == 0);
    struct pollfd p = {sv[1], POLLIN | POLLRDHUP, 0};
    expect("POLLRDHUP after the peer's shutdown", poll(&p, 1, 0) == 1 &&
                                                       (p.revents & (POLLIN | POLLRDHUP)) ==
                                                           (POLLIN | POLLRDHUP));
    expect("end of file after the peer's shutdown", read(sv[1], buf, sizeof buf) == 0);
    EXPECT_ERRNO("send after SHUT_WR", send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    expect("the other way still works", write(sv[1], "y", 1) == 1 && read(sv[0], buf, 1) == 1);
    close(sv[1]);
    p.fd = sv[0];
    p.events = POLLIN | POLLOUT;
    expect("POLLHUP after the peer's close", poll(&p, 1, 0) == 1 && (p.revents & POLLHUP));
    expect("end of file after the peer's close", read(sv[0], buf, sizeof buf) == 0);
    signal(SIGPIPE, SIG_IGN);
    EXPECT_ERRNO("write to a closed peer", write(sv[0], "x", 1), EPIPE);
    signal(SIGPIPE, SIG_DFL);
    close(sv[0]);
    EXPECT_ERRNO("socketpair of AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
}

static volatile sig_atomic_t got_sigpipe;
static void on_sigpipe(int sig) {
    (void)sig;
    got_sigpipe = 1;
}

static void test_sigpipe(void) {
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    close(sv[1]);
    signal(SIGPIPE, on_sigpipe);
    errno = 0;
    ssize_t r = write(sv[0], "x", 1);
    expect("write to a closed peer raises SIGPIPE", r == -1 && errno == EPIPE && got_sigpipe);
    got_sigpipe = 0;
    r = send(sv[0], "x", 1, MSG_NOSIGNAL);
    expect("MSG_NOSIGNAL: EPIPE without SIGPIPE", r == -1 && errno == EPIPE && !got_sigpipe);
    signal(SIGPIPE, SIG_DFL);
    close(sv[0]);
}

static void test_pair_dgram(void) {
    int sv[2];
    expect("socketpair dgram", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
    char buf[64];
    expect("boundaries kept", send(sv[0], "one", 3, 0) == 3 && send(sv[0], "three", 5, 0) == 5 &&
                                  recv(sv[1], buf, sizeof buf, 0) == 3 &&
                                  recv(sv[1], buf, sizeof buf, 0) == 5);
    struct iovec iv = {buf, 2};
    struct msghdr mh = {0};
    mh.msg_iov = &iv;
    mh.msg_iovlen = 1;
    send(sv[0], "truncated", 9, 0);
    expect("MSG_TRUNC in msg_flags", recvmsg(sv[1], &mh, 0) == 2 && (mh.msg_flags & MSG_TRUNC));
    send(sv[0], "truncated", 9, 0);
    expect("MSG_TRUNC returns the real length", recv(sv[1], buf, 2, MSG_TRUNC) == 9);
    int n = -1;
    expect("FIONREAD: the next datagram", send(sv[0], "abcd", 4, 0) == 4 &&
                                              send(sv[0], "ef", 2, 0) == 2 &&
                                              ioctl(sv[1], FIONREAD, &n) == 0 && n == 4);
    recv(sv[1], buf, sizeof buf, 0);
    recv(sv[1], buf, sizeof buf, 0);
    // Fill the peer's queue until it refuses.
    int sent = 0;
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    while (send(sv[0], "q", 1, 0) == 1 && sent < 10000) ++sent;
    int err = errno;
    expect("a full queue: EAGAIN", err == EAGAIN && sent > 0 && sent < 10000);
    struct pollfd p = {sv[0], POLLOUT, 0};
    expect("a full queue: not writable", poll(&p, 1, 0) == 0);
    int drained = 0;
    while (recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 1) ++drained;
    expect("every datagram arrived", drained == sent);
    expect("room again: writable", poll(&p, 1, 0) == 1);
    close(sv[0]);
    close(sv[1]);
}

struct server {
    int listener;
    int accepted;
    char got[64];
};

static void *accept_one(void *arg) {
    struct server *s = arg;
    s->accepted = accept(s->listener, NULL, NULL);
    ssize_t n = read(s->accepted, s->got, sizeof s->got - 1);
    s->got[n > 0 ? n : 0] = 0;
    write(s->accepted, "reply", 5);
    return NULL;
}

static void test_named_stream(const char *path) {
    unlink(path);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a, b;
    socklen_t len = path_addr(&a, path);
    expect("bind a path", bind(l, (struct sockaddr *)&a, len) == 0);
    struct stat st;
    expect("the path is a socket", stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
    int other = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_ERRNO("bind the same path again", bind(other, (struct sockaddr *)&a, len), EADDRINUSE);
    EXPECT_ERRNO("connect before listen", connect(other, (struct sockaddr *)&a, len), ECONNREFUSED);
    close(other);
    socklen_t bl = sizeof b;
    expect("getsockname: the path", getsockname(l, (struct sockaddr *)&b, &bl) == 0 && bl == len &&
                                        strcmp(b.sun_path, path) == 0);
    expect("listen", listen(l, 4) == 0);
    int dg = socket(AF_UNIX, SOCK_DGRAM, 0);
    EXPECT_ERRNO("a datagram socket to a stream path", connect(dg, (struct sockaddr *)&a, len), EPROTOTYPE);
    close(dg);

    struct server srv = {l, -1, ""};
    pthread_t t;
    pthread_create(&t, NULL, accept_one, &srv);
    sleep_ms(50);  // the server waits in accept
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    expect("connect to the path", connect(c, (struct sockaddr *)&a, len) == 0);
    bl = sizeof b;
    memset(&b, 0, sizeof b);
    expect("getpeername: the path", getpeername(c, (struct sockaddr *)&b, &bl) == 0 && bl == len &&
                                        strcmp(b.sun_path, path) == 0);
    char buf[16];
    expect("a request and its reply", write(c, "request", 7) == 7 && read(c, buf, sizeof buf) == 5 &&
                                          memcmp(buf, "reply", 5) == 0);
    pthread_join(t, NULL);
    expect("the server got the request", strcmp(srv.got, "request") == 0);
    bl = sizeof b;
    memset(&b, 0, sizeof b);
    expect("the accepted socket's name is the path",
           getsockname(srv.accepted, (struct sockaddr *)&b, &bl) == 0 && bl == len &&
               strcmp(b.sun_path, path) == 0);
    bl = sizeof b;
    expect("the accepted socket's peer is unnamed",
           getpeername(srv.accepted, (struct sockaddr *)&b, &bl) == 0 && bl == sizeof(sa_family_t));
    close(c);
    close(srv.accepted);

    // A non-blocking listener, accept4 with flags, and epoll on it.
    fcntl(l, F_SETFL, O_NONBLOCK);
    EXPECT_ERRNO("accept with nobody waiting", accept(l, NULL, NULL), EAGAIN);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
    epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, len);
    expect("epoll: a connection waiting", epoll_wait(ep, &ev, 1, 1000) == 1 && ev.data.fd == l);
    int s = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    expect("accept4 flags", s >= 0 && (fcntl(s, F_GETFL) & O_NONBLOCK) &&
                                (fcntl(s, F_GETFD) & FD_CLOEXEC));
    close(ep);
    close(s);
    close(c);
    close(l);
    int nobody = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_ERRNO("connect after the listener closed", connect(nobody, (struct sockaddr *)&a, len),
                 ECONNREFUSED);
    unlink(path);
    EXPECT_ERRNO("connect to a missing path", connect(nobody, (struct sockaddr *)&a, len), ENOENT);
    close(nobody);
}

static void test_abstract(void) {
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a, b;
    char name[64];
    snprintf(name, sizeof name, "utx-compat-abstract-%d", (int)getpid());
    socklen_t len = abstract_addr(&a, name);
    expect("bind an abstract name", bind(l, (struct sockaddr *)&a, len) == 0 && listen(l, 1) == 0);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    expect("connect to it", connect(c, (struct sockaddr *)&a, len) == 0);
    int s = accept(l, NULL, NULL);
    char buf[8];
    expect("data", write(s, "abs", 3) == 3 && read(c, buf, sizeof buf) == 3);
    socklen_t bl = sizeof b;
    expect("getsockname: the abstract name", getsockname(l, (struct sockaddr *)&b, &bl) == 0 &&
                                                 bl == len && memcmp(&a, &b, len) == 0);
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    EXPECT_ERRNO("a datagram socket to an abstract stream name", connect(d, (struct sockaddr *)&a, len),
                 ECONNREFUSED);
    close(d);
    close(s);
    close(c);
    close(l);
}

static void test_named_dgram(const char *path) {
    unlink(path);
    int srv = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a, from;
    socklen_t len = path_addr(&a, path), fl;
    expect("dgram bind", bind(srv, (struct sockaddr *)&a, len) == 0);
    int cli = socket(AF_UNIX, SOCK_DGRAM, 0);
    char buf[32];
    fl = sizeof from;
    expect("sendto a path, from an unnamed socket",
           sendto(cli, "hi", 2, 0, (struct sockaddr *)&a, len) == 2 &&
               recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) == 2 && fl == 0);
    EXPECT_ERRNO("send without a destination", send(cli, "x", 1, 0), ENOTCONN);
    expect("connect a datagram socket", connect(cli, (struct sockaddr *)&a, len) == 0 &&
                                            send(cli, "yo", 2, 0) == 2 &&
                                            recv(srv, buf, sizeof buf, 0) == 2);
    struct sockaddr_un missing;
    socklen_t ml = path_addr(&missing, "/tmp/utx-compat-no-such-socket");
    EXPECT_ERRNO("sendto a missing path", sendto(srv, "x", 1, 0, (struct sockaddr *)&missing, ml), ENOENT);
    close(cli);
    close(srv);
    unlink(path);
}

static void *write_later(void *arg) {
    sleep_ms(100);
    if (write(*(int *)arg, "late", 4) != 4) abort();
    return NULL;
}

static void test_blocking(void) {
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pthread_t t;
    pthread_create(&t, NULL, write_later, &sv[0]);
    char buf[8];
    expect("a blocking read wakes for another thread's write", read(sv[1], buf, sizeof buf) == 4);
    pthread_join(t, NULL);
    struct timeval tv = {0, 100000};
    setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    EXPECT_ERRNO("SO_RCVTIMEO", read(sv[1], buf, sizeof buf), EAGAIN);
    // Fill the stream until it blocks, then let a reader make room.
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    size_t filled = 0;
    char chunk[4096] = {0};
    ssize_t n;
    while ((n = write(sv[0], chunk, sizeof chunk)) > 0) filled += (size_t)n;
    expect("a full stream: EAGAIN", errno == EAGAIN && filled > 0);
    size_t drained = 0;
    while ((n = recv(sv[1], chunk, sizeof chunk, MSG_DONTWAIT)) > 0) drained += (size_t)n;
    expect("everything written is read", drained == filled);
    close(sv[0]);
    close(sv[1]);
}

static void test_epoll(void) {
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET | EPOLLRDHUP, .data.fd = sv[1]};
    epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev);
    expect("epoll: nothing yet", epoll_wait(ep, &ev, 1, 0) == 0);
    write(sv[0], "a", 1);
    expect("epoll edge: reported", epoll_wait(ep, &ev, 1, 0) == 1);
    expect("epoll edge: not again", epoll_wait(ep, &ev, 1, 0) == 0);
    write(sv[0], "b", 1);
    expect("epoll edge: more data, another edge", epoll_wait(ep, &ev, 1, 0) == 1);
    close(sv[0]);
    expect("epoll: EPOLLRDHUP on close", epoll_wait(ep, &ev, 1, 0) == 1 && (ev.events & EPOLLRDHUP));
    close(ep);
    close(sv[1]);
}

int main(void) {
    // Natively, other runs may use /tmp at the same time: names of this process's own.
    char stream_path[64], dgram_path[64];
    snprintf(stream_path, sizeof stream_path, "/tmp/utx-compat-%d-stream.sock", (int)getpid());
    snprintf(dgram_path, sizeof dgram_path, "/tmp/utx-compat-%d-dgram.sock", (int)getpid());
    test_pair_stream();
    test_sigpipe();
    test_pair_dgram();
    test_named_stream(stream_path);
    test_abstract();
    test_named_dgram(dgram_path);
    test_blocking();
    test_epoll();
    return check_exit_status();
}
