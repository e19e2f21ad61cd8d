// covers: dup, dup2, dup3, fcntl, pipe2, close, read, write
// Descriptors made by dup share one open file description (status flags), but not the
// close-on-exec flag; a pipe end lives until its last descriptor is closed.
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    int p[2];
    expect("pipe2 O_CLOEXEC", pipe2(p, O_CLOEXEC) == 0);
    expect("both ends close-on-exec", (fcntl(p[0], F_GETFD) & FD_CLOEXEC) && (fcntl(p[1], F_GETFD) & FD_CLOEXEC));
    int r2 = dup(p[0]);
    expect("dup clears close-on-exec", r2 >= 0 && fcntl(r2, F_GETFD) == 0);
    expect("F_SETFL O_NONBLOCK on the original", fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
    expect("the duplicate sees O_NONBLOCK", (fcntl(r2, F_GETFL) & O_NONBLOCK) != 0);
    char c;
    EXPECT_ERRNO("read of an empty pipe through the duplicate", read(r2, &c, 1), EAGAIN);
    expect("close the original read end", close(p[0]) == 0);
    expect("write still has a reader", write(p[1], "z", 1) == 1);
    expect("the duplicate reads it", read(r2, &c, 1) == 1 && c == 'z');
    int w3 = fcntl(p[1], F_DUPFD_CLOEXEC, 50);
    expect("F_DUPFD_CLOEXEC at or above 50", w3 >= 50 && fcntl(w3, F_GETFD) == FD_CLOEXEC);
    expect("dup3 O_CLOEXEC onto 60", dup3(p[1], 60, O_CLOEXEC) == 60 && fcntl(60, F_GETFD) == FD_CLOEXEC);
    EXPECT_ERRNO("dup3 onto itself", dup3(p[1], p[1], 0), EINVAL);
    EXPECT_ERRNO("dup3 with bad flags", syscall(SYS_dup3, p[1], 61, 1), EINVAL);
    expect("dup2 onto itself returns it", dup2(p[1], p[1]) == p[1]);
    close(p[1]);
    close(w3);
    close(60);
    expect("after the last writer closes, read gives end of file", read(r2, &c, 1) == 0);
    EXPECT_ERRNO("close twice", close(p[1]), EBADF);
    return check_exit_status();
}
