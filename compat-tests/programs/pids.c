// covers: getpid, getppid, gettid, getuid, geteuid, getgid, getegid, getpgid, getsid
// Process identity sanity without printing any id.
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
    expect("getpgid(0) is positive", getpgid(0) > 0);
    expect("getsid(0) is positive", getsid(0) > 0);
    return check_exit_status();
}
