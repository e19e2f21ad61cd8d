// covers: getpid, getppid, gettid, getuid, geteuid, getgid, getegid, getpgid, getsid
// Process identity sanity without printing any id.
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    pid_t pid = getpid();
    pid_t ppid = getppid();
    expect("getpid is positive", pid > 0);
    // Natively the parent is the test runner; under utx the program is pid 1 of its own
    // pid namespace, whose parent Linux reports as 0. Both are non-negative.
    expect("getppid is not negative", ppid >= 0);
    expect("getppid differs from getpid", ppid != pid);
    expect("getpid is stable", getpid() == pid);
    expect("gettid equals getpid in the main thread", syscall(SYS_gettid) == pid);
    expect("getuid equals geteuid", getuid() == geteuid());
    expect("getgid equals getegid", getgid() == getegid());
    // A group or session leader outside the caller's pid namespace reads as 0 (CI runs
    // in such a namespace), so only consistency and the error paths are portable.
    expect("getpgid(0) is not negative", getpgid(0) >= 0);
    expect("getpgid(0) equals getpgrp()", getpgid(0) == getpgrp());
    expect("getpgid(getpid()) equals getpgid(0)", getpgid(pid) == getpgid(0));
    expect("getsid(0) is not negative", getsid(0) >= 0);
    expect("getsid(getpid()) equals getsid(0)", getsid(pid) == getsid(0));
    EXPECT_ERRNO("getpgid of a pid that does not exist", getpgid(0x3ffffff0), ESRCH);
    EXPECT_ERRNO("getsid of a pid that does not exist", getsid(0x3ffffff0), ESRCH);
    EXPECT_ERRNO("getpgid of a negative pid", getpgid(-5), ESRCH);
    return check_exit_status();
}
