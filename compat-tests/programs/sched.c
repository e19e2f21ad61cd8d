// covers: sched_getaffinity, sched_yield, getcpu
// The process may run on at least one CPU; sched_yield succeeds.
#define _GNU_SOURCE
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

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
    int yielded = 1;
    for (int i = 0; i < 1000; i++) yielded &= sched_yield() == 0;
    expect("sched_yield returns 0", yielded);
    if (cpus < 1) return 1;
    return check_exit_status();
}
