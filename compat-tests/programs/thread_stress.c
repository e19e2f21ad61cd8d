// covers: clone, futex, exit
// Stress: 200 threads created and joined, 50 times over, then 100,000 round trips of a futex
// ping-pong between two threads. With the argument "leak" it also prints how much memory the
// system lost between the end of the first round and the end (under utx: guest memory that
// was not given back).
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static long mem_free_kib(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemFree: %ld kB", &kib) == 1) break;
    if (f) fclose(f);
    return kib;
}

static void *nothing(void *arg) { return arg; }

enum { FUTEX_WAIT_PRIVATE = 128, FUTEX_WAKE_PRIVATE = 129 };  // musl has no <linux/futex.h>

static int word;  // 0: ping's turn, 1: pong's turn
#define ROUNDS 100000

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
    for (int i = 0; i < ROUNDS; ++i) {
        wait_for(1);
        hand_over(0);
    }
    return NULL;
}

int main(int argc, char **argv) {
    const int leak = argc > 1 && strcmp(argv[1], "leak") == 0;
    long after_first = 0;
    int all_ok = 1;
    for (int round = 0; round < 50; ++round) {
        pthread_t t[200];
        for (int i = 0; i < 200; ++i) all_ok &= pthread_create(&t[i], NULL, nothing, (void *)(long)i) == 0;
        for (int i = 0; i < 200; ++i) {
            void *r;
            all_ok &= pthread_join(t[i], &r) == 0 && r == (void *)(long)i;
        }
        if (round == 0) after_first = mem_free_kib();
    }
    expect("200 threads created and joined 50 times", all_ok);
    pthread_t p;
    pthread_create(&p, NULL, pong, NULL);
    for (int i = 0; i < ROUNDS; ++i) {
        hand_over(1);
        wait_for(0);
    }
    pthread_join(p, NULL);
    expect("100,000 futex round trips", word == 0);
    if (leak) printf("lost KiB: %ld\n", after_first - mem_free_kib());
    return check_exit_status();
}
