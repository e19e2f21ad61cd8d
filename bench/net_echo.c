// bench/net_echo.c: a TCP echo for the network benchmark (bench/net_bench.py).
//   net_echo server PORT           echoes one connection with blocking reads and writes,
//                                  after printing "ready"; ends with it
//   net_echo client PORT N SIZE    N round trips of SIZE bytes to 127.0.0.1:PORT; prints
//                                  "rtt_us <median>" and "rtt_mean_us <mean>"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

static int full(int fd, char* buf, size_t n, int write_it) {
    while (n) {
        ssize_t r = write_it ? write(fd, buf, n) : read(fd, buf, n);
        if (r <= 0) return -1;
        buf += r;
        n -= (size_t)r;
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 3) return 2;
    const int port = atoi(argv[2]), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (strcmp(argv[1], "server") == 0) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(s, (struct sockaddr*)&a, sizeof a) != 0 || listen(s, 1) != 0) return 1;
        printf("ready\n");
        fflush(stdout);
        int c = accept(s, NULL, NULL);
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char buf[65536];
        ssize_t n;
        while ((n = read(c, buf, sizeof buf)) > 0)
            if (full(c, buf, (size_t)n, 1) != 0) break;
        return 0;
    }
    if (argc < 5) return 2;
    const int rounds = atoi(argv[3]);
    const size_t size = (size_t)atoi(argv[4]);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr*)&a, sizeof a) != 0) return 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char* buf = calloc(1, size);
    double* rtt = calloc((size_t)rounds, sizeof *rtt);
    double total = 0;
    for (int i = 0; i < rounds; ++i) {
        const double t0 = now_us();
        if (full(c, buf, size, 1) != 0 || full(c, buf, size, 0) != 0) return 1;
        rtt[i] = now_us() - t0;
        total += rtt[i];
    }
    qsort(rtt, (size_t)rounds, sizeof *rtt, cmp);
    printf("rtt_us %.1f\nrtt_mean_us %.1f\n", rtt[rounds / 2], total / rounds);
    return 0;
}
