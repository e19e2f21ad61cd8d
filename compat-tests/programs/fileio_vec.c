// covers: preadv, pwritev, preadv2, pwritev2, pread64, pwrite64, readv, writev, pipe2, lseek, openat, unlink, rmdir
// Vectored I/O at an offset: preadv/pwritev and the v2 calls with offset -1 (the file
// offset) and RWF_* flags, with the errno values and the order Linux checks them in.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

#define RWF_HIPRI_ 0x01
#define RWF_DSYNC_ 0x02
#define RWF_SYNC_ 0x04
#define RWF_NOWAIT_ 0x08
#define RWF_APPEND_ 0x10

// The raw calls (x86-64 passes the whole offset in pos_l; pos_h is 0).
static long preadv_(int fd, const struct iovec *iov, int n, long off) {
    return syscall(SYS_preadv, fd, iov, n, off, 0L);
}
static long pwritev_(int fd, const struct iovec *iov, int n, long off) {
    return syscall(SYS_pwritev, fd, iov, n, off, 0L);
}
static long preadv2_(int fd, const struct iovec *iov, int n, long off, int flags) {
    return syscall(SYS_preadv2, fd, iov, n, off, 0L, flags);
}
static long pwritev2_(int fd, const struct iovec *iov, int n, long off, int flags) {
    return syscall(SYS_pwritev2, fd, iov, n, off, 0L, flags);
}

int main(void) {
    char dir[] = "/tmp/utx-fileio-vec-XXXXXX";
    expect("mkdtemp", mkdtemp(dir) != NULL);
    expect("chdir into it", chdir(dir) == 0);
    int fd = open("f", O_CREAT | O_RDWR, 0600);
    expect("open", fd >= 0);

    char a[8] = "hello, ", b[8] = "world";
    struct iovec out[2] = {{a, 7}, {b, 5}};
    expect("pwritev 12 bytes at 4", pwritev_(fd, out, 2, 4) == 12);
    expect("the file offset did not move", lseek(fd, 0, SEEK_CUR) == 0);
    char x[6] = {0}, y[16] = {0};
    struct iovec in[2] = {{x, 6}, {y, 16}};
    expect("preadv from 0 fills both buffers", preadv_(fd, in, 2, 0) == 16 &&
               memcmp(x, "\0\0\0\0he", 6) == 0 && memcmp(y, "llo, world", 10) == 0);
    expect("preadv near the end is short", preadv_(fd, in, 2, 10) == 6 && memcmp(x, " world", 6) == 0);
    expect("preadv at the end gives 0", preadv_(fd, in, 2, 16) == 0);
    expect("preadv far past the end gives 0", preadv_(fd, in, 2, 1L << 40) == 0);
    expect("pwritev of nothing", pwritev_(fd, out, 0, 0) == 0);
    EXPECT_ERRNO("preadv at a negative offset", preadv_(fd, in, 2, -1), EINVAL);
    EXPECT_ERRNO("pwritev at a negative offset", pwritev_(fd, out, 2, -5), EINVAL);
    EXPECT_ERRNO("preadv on a bad descriptor", preadv_(99, in, 2, 0), EBADF);
    EXPECT_ERRNO("preadv with 1025 buffers", preadv_(fd, in, 1025, 0), EINVAL);
    struct iovec negative[1] = {{x, (size_t)-1}};
    EXPECT_ERRNO("preadv with a negative length", preadv_(fd, negative, 1, 0), EINVAL);
    EXPECT_ERRNO("preadv with a bad iovec pointer", preadv_(fd, unmapped_address, 1, 0), EFAULT);
    struct iovec bad_buffer[1] = {{unmapped_address, 4}};
    EXPECT_ERRNO("preadv into a bad buffer", preadv_(fd, bad_buffer, 1, 0), EFAULT);
    EXPECT_ERRNO("pread past the largest offset", pread(fd, x, 6, 0x7ffffffffffffffeL), EINVAL);

    int ro = open("f", O_RDONLY), wo = open("f", O_WRONLY);
    EXPECT_ERRNO("pwritev on a read-only descriptor", pwritev_(ro, out, 2, 0), EBADF);
    EXPECT_ERRNO("preadv on a write-only descriptor", preadv_(wo, in, 2, 0), EBADF);

    // The v2 calls: offset -1 is the file offset, which then moves.
    expect("lseek to 8", lseek(fd, 8, SEEK_SET) == 8);
    struct iovec one[1] = {{x, 5}};
    expect("preadv2 at -1 reads at the file offset", preadv2_(fd, one, 1, -1, 0) == 5 && memcmp(x, "o, wo", 5) == 0);
    expect("and moves it", lseek(fd, 0, SEEK_CUR) == 13);
    expect("preadv2 at an offset leaves it", preadv2_(fd, one, 1, 4, 0) == 5 && lseek(fd, 0, SEEK_CUR) == 13);
    struct iovec bang[1] = {{"!!!", 3}};
    expect("pwritev2 at -1 writes at the file offset", pwritev2_(fd, bang, 1, -1, 0) == 3 && lseek(fd, 0, SEEK_CUR) == 16);
    expect("preadv2 RWF_HIPRI", preadv2_(fd, in, 2, 0, RWF_HIPRI_) == 16 && memcmp(y, "llo, wo!!!", 10) == 0);
    expect("pwritev2 RWF_DSYNC", pwritev2_(fd, bang, 1, 0, RWF_DSYNC_) == 3);
    expect("pwritev2 RWF_SYNC", pwritev2_(fd, bang, 1, 16, RWF_SYNC_) == 3);
    expect("pwritev2 RWF_APPEND writes at the end", pwritev2_(fd, bang, 1, 0, RWF_APPEND_) == 3 &&
               lseek(fd, 0, SEEK_END) == 22 && pread(fd, x, 3, 0) == 3 && memcmp(x, "!!!", 3) == 0);
    expect("pwritev2 RWF_APPEND at -1 moves the offset to the end", lseek(fd, 0, SEEK_SET) == 0 &&
               pwritev2_(fd, bang, 1, -1, RWF_APPEND_) == 3 && lseek(fd, 0, SEEK_CUR) == 25);
    EXPECT_ERRNO("preadv2 at -2", preadv2_(fd, one, 1, -2, 0), EINVAL);
    EXPECT_ERRNO("preadv2 with an unknown flag", preadv2_(fd, one, 1, 0, 0x40000000), EOPNOTSUPP);
    EXPECT_ERRNO("pwritev2 with an unknown flag", pwritev2_(fd, one, 1, -1, 0x40000000), EOPNOTSUPP);
    struct iovec empty[1] = {{x, 0}};
    expect("nothing to move: the flags are not looked at", preadv2_(fd, empty, 1, 0, 0x40000000) == 0);
    EXPECT_ERRNO("preadv2 on a bad descriptor", preadv2_(99, one, 1, -1, 0), EBADF);

    // Pipes have no positions: ESPIPE, before the access mode is looked at.
    int p[2];
    expect("pipe2", pipe2(p, 0) == 0);
    EXPECT_ERRNO("preadv on a pipe", preadv_(p[0], one, 1, 0), ESPIPE);
    EXPECT_ERRNO("pwritev on a pipe", pwritev_(p[1], bang, 1, 0), ESPIPE);
    EXPECT_ERRNO("preadv on the write end", preadv_(p[1], one, 1, 0), ESPIPE);
    EXPECT_ERRNO("pread64 on the write end", pread(p[1], x, 1, 0), ESPIPE);
    EXPECT_ERRNO("preadv2 on a pipe at 0", preadv2_(p[0], one, 1, 0, 0), ESPIPE);
    EXPECT_ERRNO("preadv2 RWF_NOWAIT on an empty pipe", preadv2_(p[0], one, 1, -1, RWF_NOWAIT_), EAGAIN);
    expect("pwritev2 at -1 into the pipe", pwritev2_(p[1], out, 2, -1, 0) == 12);
    expect("preadv2 RWF_NOWAIT reads what is there", preadv2_(p[0], in, 2, -1, RWF_NOWAIT_) == 12 &&
               memcmp(x, "hello,", 6) == 0 && memcmp(y, " world", 6) == 0);
    expect("writev and readv as before", writev(p[1], out, 2) == 12 && readv(p[0], in, 2) == 12);
    close(p[0]);
    close(p[1]);

    close(ro);
    close(wo);
    close(fd);
    expect("unlink", unlink("f") == 0);
    expect("chdir /", chdir("/") == 0);
    expect("rmdir the private directory", rmdir(dir) == 0);
    return check_exit_status();
}
