// net_fork.c: sockets across fork. A child accepts on the listening socket it inherited
// while its parent connects to it; then the child connects to a socket the parent opened
// after the fork. Under utx each process is a VM: host sockets stay valid in the child (its
// VMM holds the same host descriptors) and each VMM watches its own.
// Covers: socket, bind, listen, accept, connect, send, recv, fork, wait4.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int listener(unsigned short *port) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 4) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        perror("listener");
        exit(1);
    }
    *port = ntohs(a.sin_port);
    return s;
}

static int connect_to(unsigned short port) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(1);
    }
    return s;
}

static int read_all(int s, char *buf, size_t cap) {
    size_t got = 0;
    ssize_t n;
    while (got < cap - 1 && (n = recv(s, buf + got, cap - 1 - got, 0)) > 0) got += (size_t)n;
    buf[got] = 0;
    return (int)got;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    unsigned short port;
    const int l = listener(&port);

    pid_t pid = fork();
    if (pid == 0) {
        // The inherited listening socket.
        int c = accept(l, NULL, NULL);
        char buf[64];
        int ok = c >= 0 && read_all(c, buf, sizeof buf) > 0 && strcmp(buf, "to the child") == 0;
        printf("child: accepted on the inherited socket and read: %s\n", ok ? "yes" : "no");
        _exit(ok ? 0 : 1);
    }
    close(l);  // the child's copy stays open
    int s = connect_to(port);
    expect("send to the child", send(s, "to the child", 12, 0) == 12);
    close(s);
    int status;
    expect("the child read it", waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                                     WEXITSTATUS(status) == 0);

    // The other way: the parent listens on a socket made after the fork.
    const int l2 = listener(&port);
    pid = fork();
    if (pid == 0) {
        close(l2);
        int c = connect_to(port);
        int ok = send(c, "to the parent", 13, 0) == 13;
        close(c);
        _exit(ok ? 0 : 1);
    }
    int c = accept(l2, NULL, NULL);
    char buf[64];
    expect("accept from the child", c >= 0);
    expect("read what it sent",
           read_all(c, buf, sizeof buf) == 13 && strcmp(buf, "to the parent") == 0);
    expect("the child exited 0", waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                                     WEXITSTATUS(status) == 0);
    return check_failures != 0;
}
