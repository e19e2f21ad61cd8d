// pgrp.c: process groups and sessions between processes. The checks run in children of the
// program (which the test harness starts as a session leader), so that they start as plain
// members of a group and a session led by someone else, as a program started by a shell.
// Covers: setpgid, getpgid, getpgrp, setsid, getsid, kill (to a group).
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int wait_status(pid_t pid) {
    int status = -1;
    return waitpid(pid, &status, 0) == pid ? status : -1;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

// In a child: a group of its own, and what setpgid and setsid refuse.
static int groups(void) {
    const pid_t me = getpid();
    expect("getpgid(0) equals getpgrp()", getpgid(0) == getpgrp());
    expect("getsid(0) is the parent's", getsid(0) == getsid(getppid()));
    expect("setpgid(0, 0) makes a group", setpgid(0, 0) == 0 && getpgrp() == me);
    expect("again: nothing changes", setpgid(0, 0) == 0 && getpgid(me) == me);
    EXPECT_ERRNO("setpgid to a group that does not exist", setpgid(0, 0x3ffffff0), EPERM);
    EXPECT_ERRNO("setpgid with a negative group", setpgid(0, -1), EINVAL);
    EXPECT_ERRNO("setpgid of a process that is not a child", setpgid(0x3ffffff0, 0), ESRCH);
    EXPECT_ERRNO("setsid as a group leader", setsid(), EPERM);
    EXPECT_ERRNO("getsid of a pid that does not exist", getsid(0x3ffffff0), ESRCH);
    return check_failures != 0;
}

// In a child: a session of its own, then a grandchild that joins and leaves groups.
static int session(void) {
    const pid_t me = getpid();
    expect("setsid", setsid() == me);
    expect("it leads its session and its group", getsid(0) == me && getpgrp() == me);
    EXPECT_ERRNO("setpgid of a session leader", setpgid(0, 0), EPERM);
    pid_t child = fork();
    if (child == 0) {
        // Plain member of the new session: a group of its own, then back.
        int ok = getsid(0) == me && getpgrp() == me && setpgid(0, 0) == 0 &&
                 getpgrp() == getpid() && setpgid(0, me) == 0 && getpgrp() == me;
        _exit(ok ? 0 : 1);
    }
    int status = wait_status(child);
    expect("a grandchild moves between groups of the session",
           WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return check_failures != 0;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    pid_t pid = fork();
    if (pid == 0) _exit(groups());
    int status = wait_status(pid);
    expect("groups: the child's checks", WIFEXITED(status) && WEXITSTATUS(status) == 0);

    pid = fork();
    if (pid == 0) _exit(session());
    status = wait_status(pid);
    expect("sessions: the child's checks", WIFEXITED(status) && WEXITSTATUS(status) == 0);

    // A shell's job: the parent puts the child in a group of its own, then signals the group.
    pid = fork();
    if (pid == 0) {
        setpgid(0, 0);  // both sides do it, as shells do: whichever runs first wins
        for (;;) pause();
    }
    setpgid(pid, pid);
    expect("the parent sees the child's group", getpgid(pid) == pid);
    expect("and its session is the parent's", getsid(pid) == getsid(0));
    sleep_ms(100);
    expect("kill(-pgid, SIGTERM)", kill(-pid, SIGTERM) == 0);
    status = wait_status(pid);
    expect("the group's member died of it", WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    EXPECT_ERRNO("kill to a group with no one left", kill(-pid, SIGTERM), ESRCH);
    return check_failures != 0;
}
