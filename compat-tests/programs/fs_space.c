// covers: fallocate, statfs, fstatfs, sync, syncfs, futimesat, utimes, utime, msync, mmap, munmap, pipe2, fstat, openat, unlink, rmdir
// Space and metadata calls on a private directory under /tmp: fallocate's modes and errors,
// statfs answers that agree with themselves, sync, the older time-setting calls, msync.
// Nothing printed depends on the file system type or its size.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"

#define FALLOC_KEEP_SIZE 0x01
#define FALLOC_PUNCH_HOLE 0x02
#define PIPEFS_MAGIC_ 0x50495045

static long fallocate_(int fd, int mode, long offset, long len) {
    return syscall(SYS_fallocate, fd, mode, offset, len);
}

static long blocks_of(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 ? (long)st.st_blocks : -1;
}

static off_t size_of(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_size : -1;
}

int main(void) {
    char dir[] = "/tmp/utx-fs-space-XXXXXX";
    expect("mkdtemp", mkdtemp(dir) != NULL);
    expect("chdir into it", chdir(dir) == 0);
    int fd = open("f", O_CREAT | O_RDWR, 0600);
    expect("open", fd >= 0);

    // fallocate: mode 0 extends, KEEP_SIZE only allocates, PUNCH_HOLE|KEEP_SIZE zeroes.
    expect("fallocate mode 0 extends the file", fallocate_(fd, 0, 0, 5000) == 0 && size_of(fd) == 5000);
    char buf[16384];
    memset(buf, 1, sizeof buf);
    expect("the new bytes read as zeros", pread(fd, buf, 5000, 0) == 5000 && buf[0] == 0 && buf[4999] == 0);
    long before = blocks_of(fd);
    expect("fallocate KEEP_SIZE leaves the size", fallocate_(fd, FALLOC_KEEP_SIZE, 8192, 16384) == 0 && size_of(fd) == 5000);
    expect("but allocates blocks", blocks_of(fd) > before);
    memset(buf, 'x', sizeof buf);
    expect("fill 16 KiB", pwrite(fd, buf, 16384, 0) == 16384 && size_of(fd) == 16384);
    before = blocks_of(fd);
    expect("punch a hole over pages 1 and 2", fallocate_(fd, FALLOC_PUNCH_HOLE | FALLOC_KEEP_SIZE, 4096, 8192) == 0);
    expect("the size stays", size_of(fd) == 16384);
    expect("the blocks go", blocks_of(fd) < before);
    expect("the hole reads as zeros", pread(fd, buf, 16384, 0) == 16384 && buf[4095] == 'x' && buf[4096] == 0 &&
               buf[12287] == 0 && buf[12288] == 'x');
    expect("punch inside one page", fallocate_(fd, FALLOC_PUNCH_HOLE | FALLOC_KEEP_SIZE, 100, 10) == 0 &&
               pread(fd, buf, 200, 0) == 200 && buf[99] == 'x' && buf[100] == 0 && buf[109] == 0 && buf[110] == 'x');
    expect("fallocate inside the file changes no size", fallocate_(fd, 0, 0, 100) == 0 && size_of(fd) == 16384);
    EXPECT_ERRNO("fallocate a zero length", fallocate_(fd, 0, 0, 0), EINVAL);
    EXPECT_ERRNO("fallocate a negative offset", fallocate_(fd, 0, -1, 10), EINVAL);
    EXPECT_ERRNO("PUNCH_HOLE without KEEP_SIZE", fallocate_(fd, FALLOC_PUNCH_HOLE, 0, 10), EOPNOTSUPP);
    EXPECT_ERRNO("an unknown mode bit", fallocate_(fd, 0x100, 0, 10), EOPNOTSUPP);
    EXPECT_ERRNO("offset plus length past the largest offset", fallocate_(fd, 0, 0x7fffffffffffff00L, 0x1000), EFBIG);
    EXPECT_ERRNO("fallocate on a bad descriptor", fallocate_(99, 0, 0, 10), EBADF);
    int ro = open("f", O_RDONLY);
    EXPECT_ERRNO("fallocate on a read-only descriptor", fallocate_(ro, 0, 0, 10), EBADF);
    int p[2];
    expect("pipe2", pipe2(p, 0) == 0);
    EXPECT_ERRNO("fallocate on a pipe", fallocate_(p[1], 0, 0, 10), ESPIPE);
    EXPECT_ERRNO("fallocate on the pipe's read end", fallocate_(p[0], 0, 0, 10), EBADF);
    int null = open("/dev/null", O_WRONLY);
    EXPECT_ERRNO("fallocate on /dev/null", fallocate_(null, 0, 0, 10), ENODEV);
    close(null);

    // statfs and fstatfs agree, and their numbers hang together.
    struct statfs s1, s2;
    expect("statfs of the directory", statfs(".", &s1) == 0);
    expect("fstatfs of a file in it", fstatfs(fd, &s2) == 0);
    expect("the same file system", s1.f_type == s2.f_type && s1.f_bsize == s2.f_bsize && s1.f_blocks == s2.f_blocks);
    expect("a block size", s1.f_bsize > 0 && s1.f_frsize > 0);
    expect("free within total", s1.f_bfree <= s1.f_blocks && s1.f_bavail <= s1.f_bfree);
    expect("names up to 255 bytes", s1.f_namelen == 255);
    expect("flags say valid", (s1.f_flags & 0x20) != 0);
    expect("fstatfs on a pipe is pipefs", fstatfs(p[0], &s2) == 0 && s2.f_type == PIPEFS_MAGIC_);
    EXPECT_ERRNO("statfs of a missing path", statfs("missing", &s1), ENOENT);
    EXPECT_ERRNO("statfs of an empty path", statfs("", &s1), ENOENT);
    EXPECT_ERRNO("statfs below a file", statfs("f/x", &s1), ENOTDIR);
    EXPECT_ERRNO("statfs into a bad buffer", syscall(SYS_statfs, ".", unmapped_address), EFAULT);
    EXPECT_ERRNO("fstatfs on a bad descriptor", fstatfs(99, &s1), EBADF);

    expect("sync", syscall(SYS_sync) == 0);
    expect("syncfs", syscall(SYS_syncfs, fd) == 0);
    EXPECT_ERRNO("syncfs on a bad descriptor", syscall(SYS_syncfs, 99), EBADF);

    // The older calls that set times: microseconds, seconds.
    struct stat st;
    struct timeval tv[2] = {{1000000000, 5}, {1200000000, 7}};
    expect("futimesat", syscall(SYS_futimesat, AT_FDCWD, "f", tv) == 0);
    expect("stat shows microseconds", stat("f", &st) == 0 && st.st_atim.tv_sec == 1000000000 &&
               st.st_atim.tv_nsec == 5000 && st.st_mtim.tv_sec == 1200000000 && st.st_mtim.tv_nsec == 7000);
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    tv[1].tv_sec = 1300000000;
    expect("futimesat relative to a directory", syscall(SYS_futimesat, dfd, "f", tv) == 0 &&
               stat("f", &st) == 0 && st.st_mtim.tv_sec == 1300000000);
    expect("futimesat with no path sets the descriptor's file", syscall(SYS_futimesat, fd, NULL, tv) == 0);
    expect("futimesat with no times sets now", syscall(SYS_futimesat, AT_FDCWD, "f", NULL) == 0 &&
               stat("f", &st) == 0 && st.st_mtim.tv_sec > 1300000000);
    struct timeval bad[2] = {{0, 1000000}, {0, 0}};
    EXPECT_ERRNO("futimesat with 1000000 microseconds", syscall(SYS_futimesat, AT_FDCWD, "f", bad), EINVAL);
    bad[0].tv_usec = -1;
    EXPECT_ERRNO("futimesat with negative microseconds", syscall(SYS_futimesat, AT_FDCWD, "f", bad), EINVAL);
    EXPECT_ERRNO("futimesat of a missing file", syscall(SYS_futimesat, AT_FDCWD, "missing", tv), ENOENT);
    EXPECT_ERRNO("futimesat relative to a bad descriptor", syscall(SYS_futimesat, 99, "f", tv), EBADF);
    EXPECT_ERRNO("futimesat with bad times", syscall(SYS_futimesat, AT_FDCWD, "f", unmapped_address), EFAULT);
    tv[0].tv_sec = 1100000000;
    expect("utimes", syscall(SYS_utimes, "f", tv) == 0 && stat("f", &st) == 0 && st.st_atim.tv_sec == 1100000000);
    EXPECT_ERRNO("utimes of a missing file", syscall(SYS_utimes, "missing", tv), ENOENT);
    struct { long actime, modtime; } ut = {1400000000, 1500000000};
    expect("utime", syscall(SYS_utime, "f", &ut) == 0 && stat("f", &st) == 0 &&
               st.st_atim.tv_sec == 1400000000 && st.st_mtim.tv_sec == 1500000000 && st.st_mtim.tv_nsec == 0);
    expect("utime with no times sets now", syscall(SYS_utime, "f", NULL) == 0 && stat("f", &st) == 0 &&
               st.st_mtim.tv_sec > 1500000000);
    EXPECT_ERRNO("utime with a bad buffer", syscall(SYS_utime, "f", unmapped_address), EFAULT);
    close(dfd);

    // msync: flags and alignment first, then the range must be mapped.
    char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect("mmap 3 pages", m != MAP_FAILED);
    expect("msync MS_SYNC", msync(m, 3 * 4096, MS_SYNC) == 0);
    expect("msync MS_ASYNC", msync(m, 3 * 4096, MS_ASYNC) == 0);
    expect("msync MS_INVALIDATE", msync(m, 4096, MS_INVALIDATE) == 0);
    expect("msync with no flags", msync(m, 4096, 0) == 0);
    expect("msync of a partial page", msync(m, 100, MS_SYNC) == 0);
    expect("msync of nothing", msync(m, 0, MS_SYNC) == 0);
    EXPECT_ERRNO("msync unaligned", msync(m + 1, 4096, MS_SYNC), EINVAL);
    EXPECT_ERRNO("msync MS_SYNC|MS_ASYNC", msync(m, 4096, MS_SYNC | MS_ASYNC), EINVAL);
    EXPECT_ERRNO("msync with an unknown flag", msync(m, 4096, 8), EINVAL);
    expect("unmap the middle page", munmap(m + 4096, 4096) == 0);
    EXPECT_ERRNO("msync over the hole", msync(m, 3 * 4096, MS_SYNC), ENOMEM);
    EXPECT_ERRNO("msync MS_ASYNC over the hole", msync(m, 3 * 4096, MS_ASYNC), ENOMEM);
    EXPECT_ERRNO("msync of the unmapped page", msync(m + 4096, 4096, 0), ENOMEM);
    expect("msync of the pages on either side", msync(m, 4096, MS_SYNC) == 0 && msync(m + 8192, 4096, MS_SYNC) == 0);
    char *fm = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    expect("a shared file mapping", fm != MAP_FAILED && fm[0] == 'x');
    expect("msync of it", msync(fm, 4096, MS_SYNC | MS_INVALIDATE) == 0);
    munmap(fm, 4096);
    munmap(m, 3 * 4096);

    close(p[0]);
    close(p[1]);
    close(ro);
    close(fd);
    expect("unlink", unlink("f") == 0);
    expect("chdir /", chdir("/") == 0);
    expect("rmdir the private directory", rmdir(dir) == 0);
    return check_exit_status();
}
