// unix_fork.c: AF_UNIX stream connections across fork. Under utx each process is a VM of
// its own; the connection's data, its ends and its waiters are in the family region, so a
// process blocked on one end in its VM is woken by the other's writes, closes and exit.
// Covers: socketpair, fork, read, write, send, recv (MSG_PEEK, MSG_DONTWAIT), poll, epoll
// (EPOLLET), shutdown, accept, connect, close, wait4; EOF and EPIPE across processes.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static void pair(int sv[2]) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("socketpair");
        exit(1);
    }
}

static int child_ok(pid_t pid) {
    int status;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    int sv[2];

    // A question and its answer; the parent is blocked in read when the child writes.
    pair(sv);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        char q[8] = {0};
        int ok = read_full(sv[1], q, 4) == 4 && memcmp(q, "ping", 4) == 0;
        usleep(100000);
        ok = ok && write(sv[1], "pong", 4) == 4;
        _exit(ok ? 0 : 1);
    }
    close(sv[1]);
    expect("write to the child", write(sv[0], "ping", 4) == 4);
    char a[8] = {0};
    expect("read the child's answer", read_full(sv[0], a, 4) == 4 && memcmp(a, "pong", 4) == 0);
    expect("end of file once the child is gone", read(sv[0], a, 1) == 0);
    expect("the child exited 0", child_ok(pid));
    close(sv[0]);

    // More than the connection holds, both ways at once would block: the child sends 1 MiB,
    // the parent reads it all, with MSG_PEEK and MSG_DONTWAIT first.
    pair(sv);
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        static char block[65536];
        for (size_t i = 0; i < sizeof block; ++i) block[i] = (char)(i * 7);
        int ok = 1;
        for (int i = 0; i < 16 && ok; ++i) ok = send(sv[1], block, sizeof block, 0) == sizeof block;
        _exit(ok ? 0 : 1);
    }
    close(sv[1]);
    struct pollfd p = {sv[0], POLLIN, 0};
    expect("poll sees the child's data", poll(&p, 1, 10000) == 1 && (p.revents & POLLIN));
    char c;
    expect("MSG_PEEK leaves it", recv(sv[0], &c, 1, MSG_PEEK) == 1 && c == 0 &&
                                     recv(sv[0], &c, 1, MSG_PEEK) == 1);
    static char in[65536];
    size_t total = 0;
    int same = 1;
    for (;;) {
        ssize_t r = read(sv[0], in, sizeof in);
        if (r <= 0) break;
        for (ssize_t i = 0; i < r; ++i)
            if (in[i] != (char)((total + (size_t)i) % 65536 * 7)) same = 0;
        total += (size_t)r;
    }
    expect("1 MiB from the child, in order", total == 16 * 65536 && same);
    expect("MSG_DONTWAIT at the end: end of file", recv(sv[0], &c, 1, MSG_DONTWAIT) == 0);
    expect("the sender exited 0", child_ok(pid));
    close(sv[0]);

    // The peer gone: writes fail with EPIPE; shutdown(SHUT_WR) in the child gives EOF here
    // while the child still reads.
    pair(sv);
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        shutdown(sv[1], SHUT_WR);
        char b[8];
        int ok = read_full(sv[1], b, 5) == 5 && memcmp(b, "after", 5) == 0;
        _exit(ok ? 0 : 1);
    }
    close(sv[1]);
    expect("the child's shutdown is end of file here", read(sv[0], a, 1) == 0);
    expect("it still reads", write(sv[0], "after", 5) == 5);
    expect("the reader exited 0", child_ok(pid));
    errno = 0;
    expect("EPIPE once the other end is gone", write(sv[0], "x", 1) == -1 && errno == EPIPE);
    close(sv[0]);

    // Edge-triggered epoll in the parent over a child's writes.
    pair(sv);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = sv[0]};
    epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev);
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        int ok = write(sv[1], "a", 1) == 1;
        usleep(100000);
        ok = ok && write(sv[1], "b", 1) == 1;
        _exit(ok ? 0 : 1);
    }
    close(sv[1]);
    struct epoll_event out;
    expect("epoll: the first write", epoll_wait(ep, &out, 1, 10000) == 1 && out.data.fd == sv[0]);
    expect("epoll: the second write is a new edge", epoll_wait(ep, &out, 1, 10000) == 1);
    expect("both bytes", read_full(sv[0], a, 2) == 2 && a[0] == 'a' && a[1] == 'b');
    expect("the writer exited 0", child_ok(pid));
    close(ep);
    close(sv[0]);

    // A connection accepted in the parent, then served by a child (as a forking server does).
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "/tmp/unix_fork.%d", (int)getpid());
    unlink(addr.sun_path);
    int cl = socket(AF_UNIX, SOCK_STREAM, 0);
    int ok = l >= 0 && bind(l, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(l, 1) == 0 &&
             connect(cl, (struct sockaddr *)&addr, sizeof addr) == 0;
    int conn = ok ? accept(l, NULL, NULL) : -1;
    expect("connect and accept", conn >= 0);
    pid = fork();
    if (pid == 0) {
        close(cl);
        char b[8] = {0};
        int good = read_full(conn, b, 7) == 7 && memcmp(b, "request", 7) == 0 &&
                   write(conn, "served", 6) == 6;
        _exit(good ? 0 : 1);
    }
    close(conn);
    expect("the client asks", write(cl, "request", 7) == 7);
    char b[8] = {0};
    expect("the child served it", read_full(cl, b, 6) == 6 && memcmp(b, "served", 6) == 0);
    expect("end of file after the server child", read(cl, b, 1) == 0);
    expect("the server child exited 0", child_ok(pid));
    close(cl);
    close(l);
    unlink(addr.sun_path);
    return check_failures ? 1 : 0;
}
