// covers: rt_sigaction, rt_sigprocmask, rt_sigpending
// Installs handlers and reads them back; blocks signals and reads the mask back. No
// signal is delivered: this checks the bookkeeping only.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static void on_usr1(int sig) {
    (void)sig;
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    expect("sigaction SIGUSR1 installs", sigaction(SIGUSR1, &sa, NULL) == 0);

    struct sigaction old = {0};
    expect("sigaction SIGUSR1 reads back", sigaction(SIGUSR1, NULL, &old) == 0);
    expect("handler reads back", old.sa_handler == on_usr1);
    expect("SA_RESTART reads back", (old.sa_flags & SA_RESTART) != 0);
    expect("SA_SIGINFO is not set", (old.sa_flags & SA_SIGINFO) == 0);
    expect("sa_mask reads back",
           sigismember(&old.sa_mask, SIGUSR2) == 1 && sigismember(&old.sa_mask, SIGTERM) == 0);

    sa.sa_handler = SIG_IGN;
    struct sigaction previous = {0};
    expect("sigaction SIGUSR1 to SIG_IGN returns the old handler",
           sigaction(SIGUSR1, &sa, &previous) == 0 && previous.sa_handler == on_usr1);
    expect("SIG_IGN reads back", sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == SIG_IGN);
    expect("SIGTERM starts as SIG_DFL",
           sigaction(SIGTERM, NULL, &old) == 0 && old.sa_handler == SIG_DFL);

    sa.sa_handler = on_usr1;
    EXPECT_ERRNO("sigaction SIGKILL", sigaction(SIGKILL, &sa, NULL), EINVAL);
    EXPECT_ERRNO("sigaction SIGSTOP", sigaction(SIGSTOP, &sa, NULL), EINVAL);
    EXPECT_ERRNO("sigaction signal 0", sigaction(0, &sa, NULL), EINVAL);
    EXPECT_ERRNO("sigaction signal 65", sigaction(65, &sa, NULL), EINVAL);

    sigset_t set, current;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGKILL);  // silently ignored by the kernel
    expect("sigprocmask SIG_BLOCK", sigprocmask(SIG_BLOCK, &set, NULL) == 0);
    expect("sigprocmask reads back", sigprocmask(SIG_SETMASK, NULL, &current) == 0);
    expect("SIGUSR1 is blocked", sigismember(&current, SIGUSR1) == 1);
    expect("SIGKILL cannot be blocked", sigismember(&current, SIGKILL) == 0);
    expect("SIGUSR2 is not blocked", sigismember(&current, SIGUSR2) == 0);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    expect("sigprocmask SIG_UNBLOCK", sigprocmask(SIG_UNBLOCK, &set, NULL) == 0 &&
                                          sigprocmask(SIG_SETMASK, NULL, &current) == 0 &&
                                          sigismember(&current, SIGUSR1) == 0);
    EXPECT_ERRNO("sigprocmask with a bad how", sigprocmask(12345, &set, NULL), EINVAL);

    // The same errors straight from the kernel, bypassing any libc argument checks.
    unsigned long kernel_action[4];
    EXPECT_ERRNO("raw rt_sigaction signal 65",
                 syscall(SYS_rt_sigaction, 65, NULL, kernel_action, 8), EINVAL);
    EXPECT_ERRNO("raw rt_sigaction with sigsetsize 4",
                 syscall(SYS_rt_sigaction, SIGUSR1, NULL, kernel_action, 4), EINVAL);
    EXPECT_ERRNO("raw rt_sigaction into a bad pointer",
                 syscall(SYS_rt_sigaction, SIGUSR1, NULL, unmapped_address, 8), EFAULT);
    unsigned long kernel_set = 0;
    EXPECT_ERRNO("raw rt_sigprocmask with a bad how",
                 syscall(SYS_rt_sigprocmask, 12345, &kernel_set, NULL, 8), EINVAL);
    EXPECT_ERRNO("raw rt_sigprocmask with sigsetsize 4",
                 syscall(SYS_rt_sigprocmask, SIG_BLOCK, &kernel_set, NULL, 4), EINVAL);

    sigset_t pending;
    expect("nothing is pending", sigpending(&pending) == 0 && sigismember(&pending, SIGUSR1) == 0);
    return check_exit_status();
}
