// covers: sysinfo, getrlimit, prlimit64
// Plausibility of sysinfo(2) and the resource limits; no number is printed.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    struct sysinfo si;
    expect("sysinfo", sysinfo(&si) == 0);
    unsigned long long unit = si.mem_unit ? si.mem_unit : 1;
    expect("totalram is at least 16 MiB", si.totalram * unit >= 16ull << 20);
    expect("freeram is at most totalram", si.freeram <= si.totalram);
    expect("at least one process", si.procs >= 1);
    expect("uptime is below 100 years", (unsigned long)si.uptime < 100ul * 365 * 86400);
    EXPECT_ERRNO("sysinfo into a bad pointer", syscall(SYS_sysinfo, unmapped_address), EFAULT);

    struct rlimit rl;
    expect("getrlimit RLIMIT_STACK", getrlimit(RLIMIT_STACK, &rl) == 0);
    expect("stack limit is at least 128 KiB", rl.rlim_cur >= 128 * 1024);
    expect("stack soft limit is at most the hard limit", rl.rlim_cur <= rl.rlim_max);
    expect("getrlimit RLIMIT_NOFILE", getrlimit(RLIMIT_NOFILE, &rl) == 0);
    expect("at least 64 files may be open", rl.rlim_cur >= 64 && rl.rlim_cur <= rl.rlim_max);
    struct rlimit lower = {rl.rlim_cur - 1, rl.rlim_max};
    struct rlimit back;
    expect("setrlimit lowers RLIMIT_NOFILE", setrlimit(RLIMIT_NOFILE, &lower) == 0 &&
                                                 getrlimit(RLIMIT_NOFILE, &back) == 0 &&
                                                 back.rlim_cur == lower.rlim_cur);
    struct rlimit above = {rl.rlim_max, rl.rlim_max};
    if (rl.rlim_max != RLIM_INFINITY) {
        above.rlim_cur = rl.rlim_max + 1;
        EXPECT_ERRNO("setrlimit soft above hard", setrlimit(RLIMIT_NOFILE, &above), EINVAL);
    } else {
        expect("setrlimit soft above hard", 1);  // not testable without a finite hard limit
    }
    EXPECT_ERRNO("getrlimit of resource 999", syscall(SYS_getrlimit, 999, &rl), EINVAL);
    EXPECT_ERRNO("getrlimit into a bad pointer",
                 syscall(SYS_getrlimit, RLIMIT_STACK, unmapped_address), EFAULT);
    expect("prlimit64 reads RLIMIT_AS",
           syscall(SYS_prlimit64, 0, RLIMIT_AS, NULL, &rl) == 0 && rl.rlim_cur <= rl.rlim_max);
    return check_exit_status();
}
