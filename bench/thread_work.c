// bench/thread_work.c: thread create+join time and futex ping-pong latency, timed inside the
// program (CLOCK_MONOTONIC) so that neither process start nor a VM's boot counts. Prints
// "key value" lines: create_join_us (one pthread_create + pthread_join) and pingpong_us (one
// round trip: two futex wakes and two waits between two threads).
//
// `thread_work parallel T N`: a CPU-bound computation of N steps split over T threads (no
// shared data, no system calls while they compute); prints parallel_ms, the wall time.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { FUTEX_WAIT_PRIVATE = 128, FUTEX_WAKE_PRIVATE = 129 };

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void *nothing(void *arg) { return arg; }

static int word;
static long rounds;

static void wait_for(int value) {
    while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) != value)
        syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, !value, NULL, NULL, 0);
}

static void hand_over(int value) {
    __atomic_store_n(&word, value, __ATOMIC_RELEASE);
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *pong(void *arg) {
    (void)arg;
    for (long i = 0; i < rounds; ++i) {
        wait_for(1);
        hand_over(0);
    }
    return NULL;
}

static void *compute(void *arg) {
    // A linear congruential walk: nothing for the compiler to fold, nothing shared.
    const long steps = *(long *)arg;
    unsigned long x = (unsigned long)steps;
    for (long i = 0; i < steps; ++i) x = x * 6364136223846793005UL + 1442695040888963407UL;
    *(long *)arg = (long)(x >> 33);
    return NULL;
}

static int parallel(long threads, long steps) {
    pthread_t t[256];
    long share[256];
    if (threads < 1 || threads > 256) return 2;
    const double t0 = now_us();
    for (long i = 0; i < threads; ++i) {
        share[i] = steps / threads;
        if (pthread_create(&t[i], NULL, compute, &share[i]) != 0) return 1;
    }
    for (long i = 0; i < threads; ++i) pthread_join(t[i], NULL);
    printf("parallel_ms %.3f\n", (now_us() - t0) / 1e3);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && argv[1][0] == 'p') return parallel(atol(argv[2]), atol(argv[3]));
    const long threads = argc > 1 ? atol(argv[1]) : 2000;
    rounds = argc > 2 ? atol(argv[2]) : 20000;
    double t0 = now_us();
    for (long i = 0; i < threads; ++i) {
        pthread_t t;
        if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0) return 1;
    }
    printf("create_join_us %.3f\n", (now_us() - t0) / threads);
    pthread_t p;
    pthread_create(&p, NULL, pong, NULL);
    t0 = now_us();
    for (long i = 0; i < rounds; ++i) {
        hand_over(1);
        wait_for(0);
    }
    printf("pingpong_us %.3f\n", (now_us() - t0) / rounds);
    pthread_join(p, NULL);
    return 0;
}
