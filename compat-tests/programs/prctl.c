// covers: prctl
// The process name and the per-process flags glibc, busybox and servers set with prctl.
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    char name[16] = {0};
    expect("PR_GET_NAME", prctl(PR_GET_NAME, name, 0, 0, 0) == 0);
    expect("initial name is the file name", strcmp(name, "prctl") == 0);
    expect("PR_SET_NAME", prctl(PR_SET_NAME, "renamed-worker-thread", 0, 0, 0) == 0);
    memset(name, 0, sizeof name);
    prctl(PR_GET_NAME, name, 0, 0, 0);
    expect("name is cut to 15 bytes", strcmp(name, "renamed-worker-") == 0);
    EXPECT_ERRNO("PR_SET_NAME from a bad pointer", syscall(SYS_prctl, PR_SET_NAME, unmapped_address, 0, 0, 0), EFAULT);
    int sig = -1;
    expect("PR_SET_PDEATHSIG", prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == 0);
    expect("PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) == 0 && sig == SIGTERM);
    EXPECT_ERRNO("PR_SET_PDEATHSIG out of range", prctl(PR_SET_PDEATHSIG, 99, 0, 0, 0), EINVAL);
    expect("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1);
    EXPECT_ERRNO("PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2, 0, 0, 0), EINVAL);
    EXPECT_ERRNO("unknown option", prctl(0x7fff, 0, 0, 0, 0), EINVAL);
    return check_exit_status();
}
