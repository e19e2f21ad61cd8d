// covers: mprotect, munmap, mmap, sched_setaffinity, clone
// Threads on several CPUs: a page made read-only or unmapped by one thread faults in another
// thread that keeps writing or reading it on another CPU (the TLB of that CPU is flushed
// before mprotect and munmap return); mappings come and go while another thread computes;
// more threads than CPUs, all computing without system calls, all make progress (the
// time slice preempts them).
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile char *page;
static volatile int phase, faulted, stop;
static sigjmp_buf recover;

static void on_segv(int sig) {
    (void)sig;
    faulted = 1;
    siglongjmp(recover, 1);
}

// Pins the caller to the last allowed CPU, so that it runs beside the main thread.
static void pin_last(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return;
    int last = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set)) last = c;
    if (last <= 0) return;
    CPU_ZERO(&set);
    CPU_SET(last, &set);
    sched_setaffinity(0, sizeof set, &set);
}

// Writes (phase 1) or reads (phase 2) the page until that faults.
static void *toucher(void *arg) {
    (void)arg;
    pin_last();
    if (sigsetjmp(recover, 1) == 0) {
        phase = 1;
        for (;;) {
            if (phase == 1) page[0]++;
            else (void)page[1];
        }
    }
    return NULL;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static void fault_in_other_thread(const char *label, int read_only) {
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    faulted = 0;
    phase = 0;
    pthread_t t;
    pthread_create(&t, NULL, toucher, NULL);
    while (!phase) sched_yield();
    sleep_ms(20);  // it is writing now
    if (read_only) {
        mprotect((void *)page, 4096, PROT_READ);
    } else {
        phase = 2;  // reads from here on
        sleep_ms(20);
        munmap((void *)page, 4096);
    }
    pthread_join(t, NULL);  // it ends only by faulting
    expect(label, faulted);
    if (read_only) munmap((void *)page, 4096);
}

static volatile long counters[16];

static void *spinner(void *arg) {
    long i = (long)arg;
    while (!stop) counters[i]++;
    return NULL;
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    fault_in_other_thread("a write after mprotect(PROT_READ) faults in the other thread", 1);
    fault_in_other_thread("a read after munmap faults in the other thread", 0);

    // Mappings come and go while another thread computes on another CPU.
    stop = 0;
    pthread_t busy;
    pthread_create(&busy, NULL, spinner, (void *)0);
    int ok = 1;
    for (int i = 0; i < 200; i++) {
        char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) ok = 0;
        else {
            p[0] = p[4096] = (char)i;
            ok &= p[0] == (char)i;
            munmap(p, 8192);
        }
    }
    stop = 1;
    pthread_join(busy, NULL);
    expect("200 mmap/munmap while another thread computes", ok);

    // More computing threads than CPUs: every one gets CPU time.
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus * 2 + 1 > 16 ? 16 : (int)(cpus * 2 + 1);
    pthread_t t[16];
    stop = 0;
    for (int i = 0; i < n; i++) {
        counters[i] = 0;
        pthread_create(&t[i], NULL, spinner, (void *)(long)i);
    }
    sleep_ms(500);
    stop = 1;
    int all = 1;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        all &= counters[i] > 0;
    }
    expect("more computing threads than CPUs all make progress", all);
    return check_failures ? 1 : 0;
}
