// tty_pgrp.c: the terminal's foreground process group, as a job-control shell sets it:
// its own group, then tcsetpgrp. Run on a pseudo-terminal (compat-tests/test_processes.py
// runs it under script(1)); elsewhere it checks ENOTTY.
// Covers: ioctl (TIOCGPGRP, TIOCSPGRP), setpgid, getpgrp.
#define _GNU_SOURCE
#include <signal.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    if (!isatty(0)) {
        EXPECT_ERRNO("tcgetpgrp without a terminal", tcgetpgrp(0), ENOTTY);
        return check_failures ? 1 : 0;
    }
    expect("tcgetpgrp", tcgetpgrp(0) >= 0);
    signal(SIGTTOU, SIG_IGN);  // as shells do: a background group may then set it
    (void)setpgid(0, 0);  // EPERM for a session leader (as under script(1)): then it leads one

    expect("tcsetpgrp to its own group", tcsetpgrp(0, getpgrp()) == 0);
    expect("tcgetpgrp says so", tcgetpgrp(0) == getpgrp());
    EXPECT_ERRNO("tcsetpgrp to no group", tcsetpgrp(0, 999999), ESRCH);
    EXPECT_ERRNO("tcsetpgrp to a negative group", tcsetpgrp(0, -5), EINVAL);
    return check_failures ? 1 : 0;
}
