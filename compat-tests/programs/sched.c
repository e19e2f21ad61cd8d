// covers: sched_getaffinity, sched_setaffinity, sched_yield, getcpu
// The process may run on every online CPU; pinned to one, a thread runs there (getcpu
// and the vDSO's sched_getcpu agree), another thread can be pinned by its tid; bad masks
// and tids fail as on Linux; sched_yield succeeds.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

// Pins the calling thread to `cpu` and checks it runs there, by both ways of asking.
static int runs_on(int cpu) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) return 0;
    unsigned raw = 12345;
    for (int i = 0; i < 100; i++) {
        if (sched_getcpu() != cpu) return 0;
        if (syscall(SYS_getcpu, &raw, NULL, NULL) != 0 || raw != (unsigned)cpu) return 0;
        sched_yield();
    }
    return 1;
}

static pid_t worker_tid;
static volatile int worker_go, worker_cpu = -1;

static void *worker(void *arg) {
    (void)arg;
    worker_tid = (pid_t)syscall(SYS_gettid);
    while (!__atomic_load_n(&worker_go, __ATOMIC_ACQUIRE)) sched_yield();
    worker_cpu = sched_getcpu();
    return NULL;
}

static void affinity(const cpu_set_t *all, int cpus) {
    expect("the mask covers every online CPU", cpus == sysconf(_SC_NPROCESSORS_ONLN));
    int pinned = 1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, all)) pinned &= runs_on(c);
    expect("pinned to each CPU in turn, it runs there", pinned);
    cpu_set_t set;
    CPU_ZERO(&set);
    EXPECT_ERRNO("sched_setaffinity with an empty mask", sched_setaffinity(0, sizeof set, &set),
                 EINVAL);
    CPU_SET(CPU_SETSIZE - 1, &set);
    EXPECT_ERRNO("sched_setaffinity to a CPU that is not there",
                 sched_setaffinity(0, sizeof set, &set), EINVAL);
    EXPECT_ERRNO("sched_setaffinity of no such thread",
                 sched_setaffinity(999999, sizeof *all, all), ESRCH);
    EXPECT_ERRNO("sched_getaffinity of no such thread",
                 sched_getaffinity(999999, sizeof set, &set), ESRCH);
    // Another thread, pinned by its tid to the last CPU, runs there.
    int last = 0;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, all)) last = c;
    pthread_t t;
    expect("pthread_create", pthread_create(&t, NULL, worker, NULL) == 0);
    while (!__atomic_load_n(&worker_tid, __ATOMIC_ACQUIRE)) sched_yield();
    CPU_ZERO(&set);
    CPU_SET(last, &set);
    expect("sched_setaffinity of another thread", sched_setaffinity(worker_tid, sizeof set, &set) == 0);
    cpu_set_t got;
    CPU_ZERO(&got);
    expect("sched_getaffinity of that thread reads it back",
           sched_getaffinity(worker_tid, sizeof got, &got) == 0 && CPU_EQUAL(&got, &set));
    __atomic_store_n(&worker_go, 1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    expect("that thread ran on the CPU it was pinned to", worker_cpu == last);
    expect("restoring the whole mask", sched_setaffinity(0, sizeof *all, all) == 0);
}

int main(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    expect("sched_getaffinity", sched_getaffinity(0, sizeof set, &set) == 0);
    int cpus = CPU_COUNT(&set);
    printf("at least 1 CPU: %s\n", cpus >= 1 ? "yes" : "no");
    // The raw call returns the size of the kernel's mask in bytes, a multiple of 8.
    long raw = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
    expect("raw sched_getaffinity returns a multiple of 8 bytes", raw > 0 && raw % 8 == 0);
    EXPECT_ERRNO("sched_getaffinity with a 1-byte mask", syscall(SYS_sched_getaffinity, 0, 1, &set),
                 EINVAL);
    EXPECT_ERRNO("sched_getaffinity into a bad pointer",
                 syscall(SYS_sched_getaffinity, 0, sizeof set, unmapped_address), EFAULT);
    unsigned cpu = 12345, node = 12345;
    expect("getcpu names an allowed CPU", syscall(SYS_getcpu, &cpu, &node, NULL) == 0 &&
                                              cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set));
    affinity(&set, cpus);
    int yielded = 1;
    for (int i = 0; i < 1000; i++) yielded &= sched_yield() == 0;
    expect("sched_yield returns 0", yielded);
    if (cpus < 1) return 1;
    return check_exit_status();
}
