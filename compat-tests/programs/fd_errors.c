// covers: read, write, close, lseek, ioctl, fstat, newfstatat, pipe, dup, fcntl
// File descriptor errors Linux reports: EFAULT, EBADF, ESPIPE, ENOTTY. The harness runs
// this with stdin and stdout connected to pipes.
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        return 1;
    }
    EXPECT_ERRNO("write from a bad pointer", write(fds[1], unmapped_address, 10), EFAULT);
    EXPECT_ERRNO("write to stdout from a bad pointer", write(1, unmapped_address, 10), EFAULT);
    expect("write of 0 bytes from a bad pointer", write(fds[1], unmapped_address, 0) == 0);
    expect("write to a pipe", write(fds[1], "abc", 3) == 3);
    EXPECT_ERRNO("read into a bad pointer", read(fds[0], unmapped_address, 3), EFAULT);

    int spare = dup(fds[0]);
    expect("dup returns the lowest free fd", spare == fds[1] + 1);
    expect("close", close(spare) == 0);
    char byte;
    EXPECT_ERRNO("read from a closed fd", read(spare, &byte, 1), EBADF);
    EXPECT_ERRNO("write to a closed fd", write(spare, "x", 1), EBADF);
    EXPECT_ERRNO("close a closed fd", close(spare), EBADF);
    EXPECT_ERRNO("read from fd -1", read(-1, &byte, 1), EBADF);
    EXPECT_ERRNO("write to fd 100000", write(100000, "x", 1), EBADF);
    EXPECT_ERRNO("dup of a closed fd", dup(spare), EBADF);
    EXPECT_ERRNO("write to the read end of a pipe", write(fds[0], "x", 1), EBADF);
    EXPECT_ERRNO("read from the write end of a pipe", read(fds[1], &byte, 1), EBADF);
    expect("fcntl F_GETFL of a pipe write end", (fcntl(fds[1], F_GETFL) & O_ACCMODE) == O_WRONLY);

    EXPECT_ERRNO("lseek on stdin (a pipe)", lseek(0, 0, SEEK_CUR), ESPIPE);
    EXPECT_ERRNO("lseek on a pipe", lseek(fds[0], 0, SEEK_SET), ESPIPE);
    EXPECT_ERRNO("lseek on a closed fd", lseek(spare, 0, SEEK_SET), EBADF);

    struct termios tio;
    EXPECT_ERRNO("ioctl TCGETS on stdin (a pipe)", syscall(SYS_ioctl, 0, TCGETS, &tio), ENOTTY);
    EXPECT_ERRNO("ioctl TCGETS on a pipe", ioctl(fds[0], TCGETS, &tio), ENOTTY);
    errno = 0;
    int tty = isatty(fds[1]);
    expect("isatty on a pipe is 0 with ENOTTY", tty == 0 && errno == ENOTTY);
    EXPECT_ERRNO("ioctl on a closed fd", ioctl(spare, TCGETS, &tio), EBADF);

    struct stat st;
    expect("fstat stdout", fstat(1, &st) == 0);
    expect("stdout is a FIFO", S_ISFIFO(st.st_mode));
    expect("fstat stdin", fstat(0, &st) == 0 && S_ISFIFO(st.st_mode));
    EXPECT_ERRNO("fstat of a closed fd", fstat(spare, &st), EBADF);
    EXPECT_ERRNO("fstat into a bad pointer", syscall(SYS_fstat, 1, unmapped_address), EFAULT);
    return check_exit_status();
}
