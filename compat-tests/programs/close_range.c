// covers: close_range, close, dup2, fcntl, pipe2, read, write
// close_range closes every open descriptor in a range (skipping the gaps) or, with
// CLOSE_RANGE_CLOEXEC, marks them close-on-exec, and checks its flags and bounds as Linux does.
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#define CLOSE_RANGE_UNSHARE_ (1U << 1)
#define CLOSE_RANGE_CLOEXEC_ (1U << 2)

static long close_range_(unsigned first, unsigned last, unsigned flags) {
    return syscall(SYS_close_range, first, last, flags);
}

static int is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

int main(void) {
    int p[2];
    expect("pipe2", pipe2(p, 0) == 0);
    // 40, 41, 43 and 45 open on the pipe's read end, 42 and 44 not.
    const int fds[] = {40, 41, 43, 45};
    for (int i = 0; i < 4; ++i) dup2(p[0], fds[i]);
    expect("close_range 41..44", close_range_(41, 44, 0) == 0);
    expect("40 and 45 stay open", is_open(40) && is_open(45));
    expect("41 and 43 are closed", !is_open(41) && !is_open(43));
    EXPECT_ERRNO("fcntl on a closed one", fcntl(41, F_GETFD), EBADF);
    expect("a range with nothing open", close_range_(100, 200, 0) == 0);
    expect("a range up to ~0", close_range_(500, ~0U, 0) == 0);

    expect("CLOSE_RANGE_CLOEXEC over 40..45", close_range_(40, 45, CLOSE_RANGE_CLOEXEC_) == 0);
    expect("40 and 45 are close-on-exec", fcntl(40, F_GETFD) == FD_CLOEXEC && fcntl(45, F_GETFD) == FD_CLOEXEC);
    expect("and still open", is_open(40) && is_open(45));
    expect("nothing appeared in the gaps", !is_open(41) && !is_open(42) && !is_open(44));
    expect("CLOSE_RANGE_UNSHARE is accepted", close_range_(45, 45, CLOSE_RANGE_UNSHARE_) == 0 && !is_open(45));

    EXPECT_ERRNO("first above last", close_range_(10, 9, 0), EINVAL);
    EXPECT_ERRNO("an unknown flag", close_range_(40, 40, 1), EINVAL);
    EXPECT_ERRNO("CLOEXEC with an unknown flag", close_range_(40, 40, CLOSE_RANGE_CLOEXEC_ | 1), EINVAL);
    expect("40 survived the bad calls", is_open(40));

    // Closing the last descriptors of the read end really lets the pipe go: writing then
    // fails with EPIPE (SIGPIPE ignored).
    signal(SIGPIPE, SIG_IGN);
    expect("close_range over every read end", close_range_(p[0], p[0], 0) == 0 && close_range_(40, 40, 0) == 0);
    EXPECT_ERRNO("the pipe has no reader left", write(p[1], "x", 1), EPIPE);
    expect("close_range of the write end", close_range_(p[1], p[1], 0) == 0 && !is_open(p[1]));
    return check_exit_status();
}
