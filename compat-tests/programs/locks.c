// covers: flock, fcntl, ioctl, dup, close, pipe2, lseek, getpid, openat, unlink, rmdir
// Advisory locks in one process: flock locks conflict between open file descriptions,
// POSIX record locks never conflict with each other but do with OFD locks, and both kinds
// split, merge and go away as Linux's do. Then the ioctls on descriptors: FIONREAD,
// FIOCLEX, FIONCLEX. Nothing here waits for a lock (that would block for good). Run with 6
// bytes waiting on stdin.
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "check.h"

#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#endif

static int set_lock(int fd, int cmd, short type, long start, long len) {
    struct flock l = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &l);
}

// The lock another owner holds over [start, start+len), as "type start len", or "none".
static struct flock probe;
static int get_lock(int fd, int cmd, short type, long start, long len) {
    memset(&probe, 0, sizeof probe);
    probe.l_type = type;
    probe.l_whence = SEEK_SET;
    probe.l_start = start;
    probe.l_len = len;
    return fcntl(fd, cmd, &probe);
}
static int holds(short type, long start, long len) {
    return probe.l_type == type && probe.l_start == start && probe.l_len == len && probe.l_whence == SEEK_SET;
}
static int nothing(long start, long len) {
    return probe.l_type == F_UNLCK && probe.l_start == start && probe.l_len == len;
}

int main(void) {
    char dir[] = "/tmp/utx-locks-XXXXXX";
    expect("mkdtemp", mkdtemp(dir) != NULL);
    expect("chdir into it", chdir(dir) == 0);
    int fd1 = open("f", O_CREAT | O_RDWR, 0600);
    int fd2 = open("f", O_RDWR);
    int dup1 = dup(fd1);
    expect("two descriptions and a duplicate", fd1 >= 0 && fd2 >= 0 && dup1 >= 0);

    // flock: per open file description.
    expect("LOCK_EX", flock(fd1, LOCK_EX) == 0);
    EXPECT_ERRNO("LOCK_EX|LOCK_NB from another description", flock(fd2, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    EXPECT_ERRNO("LOCK_SH|LOCK_NB from another description", flock(fd2, LOCK_SH | LOCK_NB), EWOULDBLOCK);
    expect("the duplicate shares the lock", flock(dup1, LOCK_EX | LOCK_NB) == 0);
    expect("down to LOCK_SH", flock(fd1, LOCK_SH) == 0);
    expect("LOCK_SH from another description", flock(fd2, LOCK_SH | LOCK_NB) == 0);
    // A conversion drops the old lock first, even when the new one then fails.
    EXPECT_ERRNO("LOCK_EX over the other's LOCK_SH", flock(fd2, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    expect("which left fd2 with no lock at all", flock(fd1, LOCK_EX | LOCK_NB) == 0);
    expect("LOCK_UN", flock(fd1, LOCK_UN) == 0 && flock(fd2, LOCK_EX | LOCK_NB) == 0);
    expect("LOCK_UN without a lock", flock(fd1, LOCK_UN) == 0);
    int fd3 = open("f", O_RDONLY);
    EXPECT_ERRNO("a third description", flock(fd3, LOCK_SH | LOCK_NB), EWOULDBLOCK);
    int dup2_ = dup(fd2);
    expect("closing one of two descriptors keeps it", close(fd2) == 0);
    EXPECT_ERRNO("still locked", flock(fd3, LOCK_SH | LOCK_NB), EWOULDBLOCK);
    expect("closing the last one releases it", close(dup2_) == 0 && flock(fd3, LOCK_EX | LOCK_NB) == 0);
    expect("LOCK_UN", flock(fd3, LOCK_UN) == 0);
    EXPECT_ERRNO("flock with no operation", flock(fd1, LOCK_NB), EINVAL);
    EXPECT_ERRNO("flock LOCK_SH|LOCK_EX", flock(fd1, LOCK_SH | LOCK_EX), EINVAL);
    EXPECT_ERRNO("flock on a bad descriptor", flock(99, LOCK_EX), EBADF);
    EXPECT_ERRNO("flock with a bad operation on a bad descriptor", flock(99, 0), EINVAL);
    int p[2];
    expect("pipe2", pipe2(p, 0) == 0);
    expect("flock a pipe's read end", flock(p[0], LOCK_EX | LOCK_NB) == 0);
    EXPECT_ERRNO("its write end is the same file", flock(p[1], LOCK_EX | LOCK_NB), EWOULDBLOCK);

    // POSIX record locks belong to the process: they never conflict with each other.
    fd2 = open("f", O_RDWR);
    expect("F_SETLK a write lock on [0, 100)", set_lock(fd1, F_SETLK, F_WRLCK, 0, 100) == 0);
    expect("F_SETLK over it from another description", set_lock(fd2, F_SETLK, F_WRLCK, 50, 10) == 0);
    expect("F_GETLK sees no conflict", get_lock(fd2, F_GETLK, F_WRLCK, 0, 10) == 0 && nothing(0, 10));
    // OFD locks belong to the description: POSIX locks of the process conflict with them.
    expect("F_OFD_GETLK sees the POSIX lock", get_lock(fd2, F_OFD_GETLK, F_RDLCK, 5, 1) == 0 &&
               holds(F_WRLCK, 0, 100) && probe.l_pid == getpid());
    EXPECT_ERRNO("F_OFD_SETLK over it", set_lock(fd2, F_OFD_SETLK, F_RDLCK, 20, 5), EAGAIN);
    expect("F_OFD_SETLK a read lock on [200, 300)", set_lock(fd2, F_OFD_SETLK, F_RDLCK, 200, 100) == 0);
    expect("F_GETLK sees it, pid -1", get_lock(fd1, F_GETLK, F_WRLCK, 250, 10) == 0 &&
               holds(F_RDLCK, 200, 100) && probe.l_pid == -1);
    EXPECT_ERRNO("F_SETLK a write lock over it", set_lock(fd1, F_SETLK, F_WRLCK, 250, 10), EAGAIN);
    expect("a read lock over it is fine", set_lock(fd1, F_SETLK, F_RDLCK, 250, 10) == 0);
    expect("F_OFD_SETLK read from the first description", set_lock(fd1, F_OFD_SETLK, F_RDLCK, 290, 20) == 0);
    expect("F_OFD_GETLK from fd2 sees fd1's OFD lock", get_lock(fd2, F_OFD_GETLK, F_WRLCK, 305, 1) == 0 &&
               holds(F_RDLCK, 290, 20) && probe.l_pid == -1);
    expect("F_OFD_GETLK finds nothing where only fd2 holds", get_lock(fd2, F_OFD_GETLK, F_WRLCK, 210, 5) == 0 && nothing(210, 5));
    expect("unlock every OFD lock", set_lock(fd1, F_OFD_SETLK, F_UNLCK, 0, 0) == 0 && set_lock(fd2, F_OFD_SETLK, F_UNLCK, 0, 0) == 0);
    expect("unlock every POSIX lock", set_lock(fd1, F_SETLK, F_UNLCK, 0, 0) == 0);
    expect("nothing is left", get_lock(fd2, F_OFD_GETLK, F_WRLCK, 0, 0) == 0 && nothing(0, 0));

    // Splitting and merging (seen through another owner, F_OFD_GETLK from fd2).
    expect("write lock [0, 100), unlock [40, 60)", set_lock(fd1, F_SETLK, F_WRLCK, 0, 100) == 0 &&
               set_lock(fd1, F_SETLK, F_UNLCK, 40, 20) == 0);
    expect("the hole", get_lock(fd2, F_OFD_GETLK, F_WRLCK, 45, 10) == 0 && nothing(45, 10));
    expect("the part below", get_lock(fd2, F_OFD_GETLK, F_WRLCK, 30, 1) == 0 && holds(F_WRLCK, 0, 40));
    expect("the part above", get_lock(fd2, F_OFD_GETLK, F_WRLCK, 70, 1) == 0 && holds(F_WRLCK, 60, 40));
    expect("fill the hole: one lock again", set_lock(fd1, F_SETLK, F_WRLCK, 40, 20) == 0 &&
               get_lock(fd2, F_OFD_GETLK, F_RDLCK, 50, 1) == 0 && holds(F_WRLCK, 0, 100));
    expect("adjacent write lock [100, 110) merges", set_lock(fd1, F_SETLK, F_WRLCK, 100, 10) == 0 &&
               get_lock(fd2, F_OFD_GETLK, F_RDLCK, 50, 1) == 0 && holds(F_WRLCK, 0, 110));
    expect("a read lock in the middle splits it in three", set_lock(fd1, F_SETLK, F_RDLCK, 10, 10) == 0 &&
               get_lock(fd2, F_OFD_GETLK, F_WRLCK, 15, 1) == 0 && holds(F_RDLCK, 10, 10));
    expect("a reader does not conflict with it", get_lock(fd2, F_OFD_GETLK, F_RDLCK, 15, 1) == 0 && nothing(15, 1));
    expect("but with the write parts", get_lock(fd2, F_OFD_GETLK, F_RDLCK, 25, 1) == 0 && holds(F_WRLCK, 20, 90));
    expect("a negative length counts back", set_lock(fd1, F_SETLK, F_UNLCK, 0, 0) == 0 &&
               set_lock(fd1, F_SETLK, F_WRLCK, 100, -10) == 0 &&
               get_lock(fd2, F_OFD_GETLK, F_WRLCK, 0, 0) == 0 && holds(F_WRLCK, 90, 10));
    expect("length 0 runs to the end, any end", set_lock(fd1, F_SETLK, F_WRLCK, 1000, 0) == 0 &&
               get_lock(fd2, F_OFD_GETLK, F_WRLCK, 5000, 1) == 0 && holds(F_WRLCK, 1000, 0));
    struct flock cur = {.l_type = F_RDLCK, .l_whence = SEEK_CUR, .l_start = 5, .l_len = 5};
    expect("SEEK_CUR counts from the file offset", set_lock(fd1, F_SETLK, F_UNLCK, 0, 0) == 0 &&
               lseek(fd1, 300, SEEK_SET) == 300 && fcntl(fd1, F_SETLK, &cur) == 0 &&
               get_lock(fd2, F_OFD_GETLK, F_WRLCK, 0, 0) == 0 && holds(F_RDLCK, 305, 5));
    struct flock end = {.l_type = F_WRLCK, .l_whence = SEEK_END, .l_start = -10, .l_len = 10};
    expect("SEEK_END counts from the size", ftruncate(fd1, 50) == 0 && fcntl(fd1, F_SETLK, &end) == 0 &&
               get_lock(fd2, F_OFD_GETLK, F_WRLCK, 45, 1) == 0 && holds(F_WRLCK, 40, 10));

    // Closing any descriptor of the file drops all of the process's POSIX locks on it.
    int other = open("f", O_RDONLY);
    expect("close another descriptor of the file", close(other) == 0);
    expect("the POSIX locks are gone", get_lock(fd2, F_OFD_GETLK, F_WRLCK, 0, 0) == 0 && nothing(0, 0));
    // An OFD lock lives as long as its description.
    int dup2b = dup(fd2);
    expect("F_OFD_SETLK a write lock", set_lock(fd2, F_OFD_SETLK, F_WRLCK, 0, 10) == 0);
    expect("close one descriptor of the description", close(fd2) == 0);
    expect("the OFD lock stays", get_lock(fd1, F_GETLK, F_RDLCK, 0, 1) == 0 && holds(F_WRLCK, 0, 10));
    expect("close the last one", close(dup2b) == 0);
    expect("the OFD lock is gone", get_lock(fd1, F_GETLK, F_RDLCK, 0, 1) == 0 && nothing(0, 1));
    expect("F_SETLKW that need not wait", set_lock(fd1, F_SETLKW, F_WRLCK, 0, 10) == 0);
    expect("F_OFD_SETLKW that need not wait", set_lock(fd3, F_OFD_SETLKW, F_RDLCK, 20, 10) == 0);

    // The errors.
    EXPECT_ERRNO("F_GETLK with F_UNLCK", get_lock(fd1, F_GETLK, F_UNLCK, 0, 1), EINVAL);
    EXPECT_ERRNO("F_SETLK with a bad type", set_lock(fd1, F_SETLK, 7, 0, 1), EINVAL);
    struct flock bad = {.l_type = F_RDLCK, .l_whence = 7};
    EXPECT_ERRNO("a bad whence", fcntl(fd1, F_SETLK, &bad), EINVAL);
    EXPECT_ERRNO("a range before 0", set_lock(fd1, F_SETLK, F_RDLCK, -1, 1), EINVAL);
    EXPECT_ERRNO("a negative length past 0", set_lock(fd1, F_SETLK, F_RDLCK, 5, -10), EINVAL);
    EXPECT_ERRNO("a range past the largest offset", set_lock(fd1, F_SETLK, F_RDLCK, LONG_MAX, 2), EOVERFLOW);
    EXPECT_ERRNO("a write lock on a read-only descriptor", set_lock(fd3, F_SETLK, F_WRLCK, 0, 1), EBADF);
    int wo = open("f", O_WRONLY);
    EXPECT_ERRNO("a read lock on a write-only descriptor", set_lock(wo, F_SETLK, F_RDLCK, 0, 1), EBADF);
    struct flock with_pid = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_pid = 1};
    EXPECT_ERRNO("F_OFD_SETLK with l_pid set", fcntl(fd1, F_OFD_SETLK, &with_pid), EINVAL);
    EXPECT_ERRNO("F_OFD_GETLK with l_pid set", fcntl(fd1, F_OFD_GETLK, &with_pid), EINVAL);
    EXPECT_ERRNO("F_GETLK with a bad pointer", fcntl(fd1, F_GETLK, unmapped_address), EFAULT);
    EXPECT_ERRNO("F_SETLK on a bad descriptor", set_lock(99, F_SETLK, F_RDLCK, 0, 1), EBADF);
    expect("record locks on a pipe", set_lock(p[0], F_SETLK, F_RDLCK, 0, 1) == 0);
    close(wo);

    // ioctl: FIONREAD counts what is left to read (negative past the end of a file).
    int n = -1;
    expect("FIONREAD on a file of 50 bytes at 20", lseek(fd1, 20, SEEK_SET) == 20 && ioctl(fd1, FIONREAD, &n) == 0 && n == 30);
    expect("FIONREAD past the end", lseek(fd1, 60, SEEK_SET) == 60 && ioctl(fd1, FIONREAD, &n) == 0 && n == -10);
    expect("FIONREAD on an empty pipe", ioctl(p[0], FIONREAD, &n) == 0 && n == 0);
    expect("FIONREAD on a pipe with 5 bytes", write(p[1], "12345", 5) == 5 && ioctl(p[0], FIONREAD, &n) == 0 && n == 5);
    expect("FIONREAD on its write end", ioctl(p[1], FIONREAD, &n) == 0 && n == 5);
    int null = open("/dev/null", O_RDONLY), dfd = open(".", O_RDONLY | O_DIRECTORY);
    // The test writes them while the program runs: wait until they are there (one write,
    // so all 6 at once).
    struct pollfd in = {0, POLLIN, 0};
    poll(&in, 1, 10000);
    expect("FIONREAD on stdin (the test gives it 6 bytes)", ioctl(0, FIONREAD, &n) == 0 && n == 6);
    EXPECT_ERRNO("FIONREAD on /dev/null", ioctl(null, FIONREAD, &n), ENOTTY);
    EXPECT_ERRNO("FIONREAD on a directory", ioctl(dfd, FIONREAD, &n), ENOTTY);
    EXPECT_ERRNO("FIONREAD into a bad pointer", ioctl(p[0], FIONREAD, unmapped_address), EFAULT);
    expect("FIOCLEX", ioctl(fd1, FIOCLEX) == 0 && fcntl(fd1, F_GETFD) == FD_CLOEXEC);
    expect("FIONCLEX", ioctl(fd1, FIONCLEX) == 0 && fcntl(fd1, F_GETFD) == 0);
    expect("FIOCLEX on a pipe", ioctl(p[1], FIOCLEX) == 0 && fcntl(p[1], F_GETFD) == FD_CLOEXEC);
    EXPECT_ERRNO("FIOCLEX on a bad descriptor", ioctl(99, FIOCLEX), EBADF);
    close(null);
    close(dfd);

    close(p[0]);
    close(p[1]);
    close(fd1);
    close(dup1);
    close(fd3);
    expect("unlink", unlink("f") == 0);
    expect("chdir /", chdir("/") == 0);
    expect("rmdir the private directory", rmdir(dir) == 0);
    return check_exit_status();
}
