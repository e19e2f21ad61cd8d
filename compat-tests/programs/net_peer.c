// covers: socket, bind, listen, accept, connect, send, recv, sendto, recvfrom, getsockname, getpeername, shutdown
// The program's half of exchanges with a peer outside it (the test, on the host):
//   tcp-server PORT [6]   listens on the wildcard address, echoes one connection until its
//                         end, and says what it saw
//   tcp-server-busy PORT [6]
//                         the same while another thread computes without a system call
//                         (the host's data must wake the server past it, on any vCPU)
//   tcp-client PORT [6]   connects to the loopback, sends lines and a large block, checks
//                         the echoes
//   udp-server PORT       answers each datagram with it reversed, until "quit"
//   udp-client PORT       sends datagrams and checks the reversed answers
//   policy ADDR PORT      what the sockets may reach: ADDR is a non-loopback address of the
//                         host where something listens on PORT (printed, not judged)
//   listen                listens on the wildcard address at a port the host picks, prints
//                         it, and keeps it until stdin ends
//   resolve NAME...       getaddrinfo(NAME, "80") for TCP: the addresses, in order
// Prints one line per step, the same everywhere (no port numbers but the ones given).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static socklen_t make_addr(struct sockaddr_storage *ss, int family, const char *host, int port) {
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        if (host) inet_pton(AF_INET6, host, &a->sin6_addr);
        return sizeof *a;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (host) inet_pton(AF_INET, host, &a->sin_addr);
    return sizeof *a;
}

static const char *show(const struct sockaddr_storage *ss) {
    static char text[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET6)
        return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, text, sizeof text);
    return inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, text, sizeof text);
}

static int port_of(const struct sockaddr_storage *ss) {
    return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
                                           : ((const struct sockaddr_in *)ss)->sin_port);
}

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, 0);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_exact(int fd, char *p, size_t n) {
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static volatile int computing;

static void *compute(void *arg) {
    (void)arg;
    unsigned long x = 1;
    while (computing) x = x * 6364136223846793005UL + 1442695040888963407UL;
    return (void *)x;
}

static int tcp_server(int port, int family, int busy) {
    pthread_t computer;
    computing = busy;
    if (busy) pthread_create(&computer, NULL, compute, NULL);
    int s = socket(family, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_storage ss;
    socklen_t len = make_addr(&ss, family, NULL, port);
    expect("bind the wildcard address", bind(s, (struct sockaddr *)&ss, len) == 0);
    expect("listen", listen(s, 4) == 0);
    len = sizeof ss;
    getsockname(s, (struct sockaddr *)&ss, &len);
    printf("listening on %s port %d\n", show(&ss), port_of(&ss));
    fflush(stdout);
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int c = accept(s, (struct sockaddr *)&peer, &plen);
    expect("accept", c >= 0);
    len = sizeof ss;
    getsockname(c, (struct sockaddr *)&ss, &len);
    printf("connection to port %d\n", port_of(&ss));
    struct sockaddr_storage again;
    socklen_t alen = sizeof again;
    expect("getpeername is accept's address", getpeername(c, (struct sockaddr *)&again, &alen) == 0 &&
                                                  alen == plen && memcmp(&again, &peer, plen) == 0);
    char buf[65536];
    size_t total = 0;
    ssize_t n;
    while ((n = recv(c, buf, sizeof buf, 0)) > 0) {
        if (write_all(c, buf, (size_t)n) != 0) break;
        total += (size_t)n;
    }
    printf("echoed %zu bytes, then end of file\n", total);
    close(c);
    close(s);
    if (busy) {
        computing = 0;
        pthread_join(computer, NULL);
    }
    return check_exit_status();
}

static int tcp_client(int port, int family) {
    int s = socket(family, SOCK_STREAM, 0);
    struct sockaddr_storage ss;
    socklen_t len = make_addr(&ss, family, family == AF_INET6 ? "::1" : "127.0.0.1", port);
    expect("connect", connect(s, (struct sockaddr *)&ss, len) == 0);
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    expect("getpeername", getpeername(s, (struct sockaddr *)&peer, &plen) == 0 && port_of(&peer) == port);
    int ok = 1;
    for (int i = 0; i < 50 && ok; ++i) {
        char line[64], back[64];
        int n = snprintf(line, sizeof line, "line %d of the client\n", i);
        ok = write_all(s, line, (size_t)n) == 0 && read_exact(s, back, (size_t)n) == 0 &&
             memcmp(line, back, (size_t)n) == 0;
    }
    expect("50 lines echoed", ok);
    size_t size = 1 << 20;
    char *block = malloc(size), *back = malloc(size);
    for (size_t i = 0; i < size; ++i) block[i] = (char)(i * 7 + i / 4096);
    // The peer echoes as it reads: send and receive in turns of 64 KiB.
    ok = 1;
    for (size_t off = 0; off < size && ok; off += 65536)
        ok = write_all(s, block + off, 65536) == 0 && read_exact(s, back + off, 65536) == 0;
    expect("1 MiB echoed intact", ok && memcmp(block, back, size) == 0);
    expect("shutdown", shutdown(s, SHUT_WR) == 0);
    char c;
    expect("end of file from the peer", recv(s, &c, 1, 0) == 0);
    free(block);
    free(back);
    close(s);
    return check_exit_status();
}

static int udp_server(int port) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_storage ss;
    socklen_t len = make_addr(&ss, AF_INET, NULL, port);
    expect("bind", bind(s, (struct sockaddr *)&ss, len) == 0);
    printf("ready\n");
    fflush(stdout);
    int count = 0;
    for (;;) {
        char buf[2048];
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
        if (n < 0) break;
        if (n == 4 && memcmp(buf, "quit", 4) == 0) break;
        for (ssize_t i = 0; i < n / 2; ++i) {
            char t = buf[i];
            buf[i] = buf[n - 1 - i];
            buf[n - 1 - i] = t;
        }
        sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
        ++count;
    }
    printf("answered %d datagrams\n", count);
    close(s);
    return check_exit_status();
}

static int udp_client(int port) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_storage ss;
    socklen_t len = make_addr(&ss, AF_INET, "127.0.0.1", port);
    int ok = 1;
    for (int i = 0; i < 20 && ok; ++i) {
        char msg[64], back[64];
        int n = snprintf(msg, sizeof msg, "datagram %d", i);
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        ok = sendto(s, msg, (size_t)n, 0, (struct sockaddr *)&ss, len) == n &&
             recvfrom(s, back, sizeof back, 0, (struct sockaddr *)&from, &flen) == n &&
             port_of(&from) == port;
        for (int j = 0; ok && j < n; ++j) ok = back[j] == msg[n - 1 - j];
    }
    expect("20 datagrams answered", ok);
    sendto(s, "quit", 4, 0, (struct sockaddr *)&ss, len);
    close(s);
    return check_exit_status();
}

static void result(const char *label, int r) {
    if (r == 0)
        printf("%s: ok\n", label);
    else
        printf("%s: %s\n", label, errno_name(errno));
}

static int policy(const char *addr, int port) {
    struct sockaddr_storage ss;
    socklen_t len;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    result("socket AF_INET", s < 0 ? -1 : 0);
    int s6 = socket(AF_INET6, SOCK_STREAM, 0);
    result("socket AF_INET6", s6 < 0 ? -1 : 0);
    int sv[2];
    result("socketpair AF_UNIX", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    if (s >= 0) {
        len = make_addr(&ss, AF_INET, "127.0.0.1", port);
        result("connect to the loopback", connect(s, (struct sockaddr *)&ss, len));
        close(s);
        s = socket(AF_INET, SOCK_STREAM, 0);
        len = make_addr(&ss, AF_INET, addr, port);
        result("connect to the host's address", connect(s, (struct sockaddr *)&ss, len));
        close(s);
        s = socket(AF_INET, SOCK_STREAM, 0);
        len = make_addr(&ss, AF_INET, addr, 0);
        result("bind the host's address", bind(s, (struct sockaddr *)&ss, len));
        close(s);
        s = socket(AF_INET, SOCK_STREAM, 0);
        len = make_addr(&ss, AF_INET, NULL, 0);
        result("bind the wildcard address", bind(s, (struct sockaddr *)&ss, len));
        len = sizeof ss;
        getsockname(s, (struct sockaddr *)&ss, &len);
        printf("getsockname says %s\n", show(&ss));
        close(s);
        s = socket(AF_INET, SOCK_DGRAM, 0);
        len = make_addr(&ss, AF_INET, addr, port);
        result("sendto the host's address", sendto(s, "x", 1, 0, (struct sockaddr *)&ss, len) == 1 ? 0 : -1);
        close(s);
    }
    if (s6 >= 0) close(s6);
    // Name lookup through /etc/hosts, as a program resolving localhost does.
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo("localhost", "80", &hints, &res);
    printf("getaddrinfo localhost: %s\n",
           g == 0 ? show((struct sockaddr_storage *)res->ai_addr) : gai_strerror(g));
    if (res) freeaddrinfo(res);
    return 0;
}

static int listen_until_eof(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_storage ss;
    socklen_t len = make_addr(&ss, AF_INET, NULL, 0);
    if (bind(s, (struct sockaddr *)&ss, len) != 0 || listen(s, 4) != 0) return 1;
    len = sizeof ss;
    getsockname(s, (struct sockaddr *)&ss, &len);
    printf("port %d\n", port_of(&ss));
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0) {
    }
    close(s);
    return 0;
}

static int resolve(int count, char **names) {
    for (int i = 0; i < count; ++i) {
        struct addrinfo hints = {0}, *res = NULL;
        hints.ai_socktype = SOCK_STREAM;
        int g = getaddrinfo(names[i], "80", &hints, &res);
        printf("%s:", names[i]);
        if (g != 0) printf(" %s", gai_strerror(g));
        for (struct addrinfo *a = res; a; a = a->ai_next) {
            char text[INET6_ADDRSTRLEN];
            const void *where = a->ai_family == AF_INET6
                                    ? (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr
                                    : (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr;
            inet_ntop(a->ai_family, where, text, sizeof text);
            printf(" %s/%d", text, port_of((struct sockaddr_storage *)a->ai_addr));
        }
        printf("\n");
        if (res) freeaddrinfo(res);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *mode = argv[1];
    int port = argc > 2 ? atoi(argv[2]) : 0;
    int family = argc > 3 && strcmp(argv[3], "6") == 0 ? AF_INET6 : AF_INET;
    if (strcmp(mode, "tcp-server") == 0) return tcp_server(port, family, 0);
    if (strcmp(mode, "tcp-server-busy") == 0) return tcp_server(port, family, 1);
    if (strcmp(mode, "tcp-client") == 0) return tcp_client(port, family);
    if (strcmp(mode, "udp-server") == 0) return udp_server(port);
    if (strcmp(mode, "udp-client") == 0) return udp_client(port);
    if (strcmp(mode, "policy") == 0 && argc > 3) return policy(argv[2], atoi(argv[3]));
    if (strcmp(mode, "listen") == 0) return listen_until_eof();
    if (strcmp(mode, "resolve") == 0) return resolve(argc - 2, argv + 2);
    return 2;
}
