// bench/syscall_loop.c: the cost of a system call round trip, of reading the clock (through
// the vDSO, and by system call) and of a CPU-bound loop, measured by the program itself so
// that boot time does not count.
//   syscall_loop N   -> prints "getpid_ns <per call>", "clock_gettime_ns <per call>",
//                       "clock_syscall_ns <per call>" and "loop_ms <milliseconds>"
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    struct timespec t;
    double t0 = now_ns();
    for (long i = 0; i < n; ++i) syscall(SYS_getpid);
    double t1 = now_ns();
    for (long i = 0; i < n; ++i) clock_gettime(CLOCK_MONOTONIC, &t);  // libc: the vDSO
    double t2 = now_ns();
    for (long i = 0; i < n; ++i) syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
    double t3 = now_ns();
    volatile unsigned long x = 0;
    for (long i = 0; i < 100000000; ++i) x += (unsigned long)i * 2654435761u;
    double t4 = now_ns();
    printf("getpid_ns %.1f\nclock_gettime_ns %.1f\nclock_syscall_ns %.1f\nloop_ms %.1f\n",
           (t1 - t0) / n, (t2 - t1) / n, (t3 - t2) / n, (t4 - t3) / 1e6);
    return 0;
}
