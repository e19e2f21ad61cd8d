// covers: sendfile, copy_file_range, memfd_create, readlink, pipe2, lseek, fstat, ftruncate, openat, unlink, rmdir
// Copies inside the kernel: sendfile from a file to a file, a pipe and stdout, with and
// without an offset pointer; copy_file_range between files and within one; memfd_create's
// unnamed files. Each with the errno values Linux gives for the usual mistakes.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static long copy_file_range_(int in, long *off_in, int out, long *off_out, size_t len, unsigned flags) {
    return syscall(SYS_copy_file_range, in, off_in, out, off_out, len, flags);
}
static long memfd_create_(const char *name, unsigned flags) {
    return syscall(SYS_memfd_create, name, flags);
}

static char pattern[10000];

static int same_as_pattern(int fd, long at, long len) {
    static char buf[10000];
    return pread(fd, buf, len, 0) == len && memcmp(buf, pattern + at, len) == 0;
}

int main(void) {
    for (int i = 0; i < 10000; ++i) pattern[i] = (char)('a' + i % 26);
    char dir[] = "/tmp/utx-fd-copy-XXXXXX";
    expect("mkdtemp", mkdtemp(dir) != NULL);
    expect("chdir into it", chdir(dir) == 0);
    int src = open("src", O_CREAT | O_RDWR, 0600);
    expect("write the source", src >= 0 && write(src, pattern, 10000) == 10000 && lseek(src, 0, SEEK_SET) == 0);
    int dst = open("dst", O_CREAT | O_RDWR, 0600);
    expect("open the destination", dst >= 0);

    // sendfile without an offset: both file offsets move.
    expect("sendfile 10000 bytes", sendfile(dst, src, NULL, 10000) == 10000);
    expect("the source offset moved", lseek(src, 0, SEEK_CUR) == 10000);
    expect("the destination offset moved", lseek(dst, 0, SEEK_CUR) == 10000);
    expect("the copy is the same", same_as_pattern(dst, 0, 10000));
    expect("sendfile at the end gives 0", sendfile(dst, src, NULL, 100) == 0);
    // With an offset: it moves instead of the file offset.
    off_t off = 100;
    expect("lseek the source to 0", lseek(src, 0, SEEK_SET) == 0 && ftruncate(dst, 0) == 0 && lseek(dst, 0, SEEK_SET) == 0);
    expect("sendfile 50 bytes from 100", sendfile(dst, src, &off, 50) == 50 && off == 150);
    expect("the source offset stayed", lseek(src, 0, SEEK_CUR) == 0);
    expect("those 50 bytes arrived", same_as_pattern(dst, 100, 50));
    off = 9990;
    expect("sendfile stops at the end of the source", sendfile(dst, src, &off, 100) == 10 && off == 10000);
    off = 20000;
    expect("sendfile past the end gives 0", sendfile(dst, src, &off, 100) == 0 && off == 20000);
    expect("sendfile of 0 bytes", sendfile(dst, src, NULL, 0) == 0);

    // Into a pipe, and to stdout.
    int p[2];
    expect("pipe2", pipe2(p, 0) == 0);
    off = 26;
    char buf[100];
    expect("sendfile into a pipe", sendfile(p[1], src, &off, 52) == 52 && read(p[0], buf, 100) == 52 &&
               memcmp(buf, pattern, 52) == 0);
    int msg = open("msg", O_CREAT | O_RDWR, 0600);
    expect("a message file", write(msg, "sendfile to stdout works\n", 25) == 25);
    fflush(stdout);
    off = 0;
    expect("sendfile to stdout", sendfile(1, msg, &off, 100) == 25);

    EXPECT_ERRNO("sendfile from a bad descriptor", sendfile(dst, 99, NULL, 10), EBADF);
    EXPECT_ERRNO("sendfile to a bad descriptor", sendfile(99, src, NULL, 10), EBADF);
    int ro = open("dst", O_RDONLY), wo = open("src", O_WRONLY);
    EXPECT_ERRNO("sendfile from a write-only descriptor", sendfile(dst, wo, NULL, 10), EBADF);
    EXPECT_ERRNO("sendfile to a read-only descriptor", sendfile(ro, src, NULL, 10), EBADF);
    EXPECT_ERRNO("sendfile from a pipe at an offset", sendfile(dst, p[0], &off, 10), ESPIPE);
    EXPECT_ERRNO("sendfile from a pipe", sendfile(dst, p[0], NULL, 10), EINVAL);
    off = -1;
    EXPECT_ERRNO("sendfile from a negative offset", sendfile(dst, src, &off, 10), EINVAL);
    EXPECT_ERRNO("sendfile with a bad offset pointer", sendfile(dst, src, unmapped_address, 10), EFAULT);

    // copy_file_range: from the file offsets, or from offsets given.
    expect("reset both files", ftruncate(dst, 0) == 0 && lseek(dst, 0, SEEK_SET) == 0 && lseek(src, 0, SEEK_SET) == 0);
    expect("copy_file_range 10000 bytes", copy_file_range_(src, NULL, dst, NULL, 10000, 0) == 10000);
    expect("both offsets moved", lseek(src, 0, SEEK_CUR) == 10000 && lseek(dst, 0, SEEK_CUR) == 10000);
    expect("the copy is the same", same_as_pattern(dst, 0, 10000));
    long oi = 1000, oo = 20000;
    expect("copy_file_range with offsets", copy_file_range_(src, &oi, dst, &oo, 500, 0) == 500 && oi == 1500 && oo == 20500);
    expect("the file offsets stayed", lseek(src, 0, SEEK_CUR) == 10000 && lseek(dst, 0, SEEK_CUR) == 10000);
    struct stat st;
    expect("the destination grew to 20500", fstat(dst, &st) == 0 && st.st_size == 20500);
    oi = 9000;
    expect("copy_file_range stops at the end of the source", copy_file_range_(src, &oi, dst, NULL, 5000, 0) == 1000 && oi == 10000);
    expect("copy_file_range past the end gives 0", copy_file_range_(src, &oi, dst, NULL, 5000, 0) == 0);
    oi = 0, oo = 5000;
    expect("within one file, apart", copy_file_range_(src, &oi, src, &oo, 1000, 0) == 1000);
    oi = 0, oo = 500;
    EXPECT_ERRNO("within one file, overlapping", copy_file_range_(src, &oi, src, &oo, 1000, 0), EINVAL);
    EXPECT_ERRNO("copy_file_range with flags", copy_file_range_(src, NULL, dst, NULL, 10, 1), EINVAL);
    EXPECT_ERRNO("copy_file_range from a bad descriptor", copy_file_range_(99, NULL, dst, NULL, 10, 0), EBADF);
    EXPECT_ERRNO("copy_file_range to a bad descriptor", copy_file_range_(src, NULL, 99, NULL, 10, 0), EBADF);
    EXPECT_ERRNO("copy_file_range to a read-only descriptor", copy_file_range_(src, NULL, ro, NULL, 10, 0), EBADF);
    int app = open("dst", O_WRONLY | O_APPEND);
    EXPECT_ERRNO("copy_file_range to an O_APPEND descriptor", copy_file_range_(src, NULL, app, NULL, 10, 0), EBADF);
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    EXPECT_ERRNO("copy_file_range from a directory", copy_file_range_(dfd, NULL, dst, NULL, 10, 0), EISDIR);
    EXPECT_ERRNO("copy_file_range from a pipe", copy_file_range_(p[0], NULL, dst, NULL, 10, 0), EINVAL);
    EXPECT_ERRNO("copy_file_range to a pipe", copy_file_range_(src, NULL, p[1], NULL, 10, 0), EINVAL);
    oi = -1;
    EXPECT_ERRNO("copy_file_range from -1: the range wraps", copy_file_range_(src, &oi, dst, NULL, 10, 0), EOVERFLOW);
    oi = -5;
    EXPECT_ERRNO("copy_file_range from a negative offset", copy_file_range_(src, &oi, dst, NULL, 1, 0), EINVAL);
    EXPECT_ERRNO("copy_file_range with a bad offset pointer", copy_file_range_(src, unmapped_address, dst, NULL, 10, 0), EFAULT);
    close(app);
    close(dfd);

    // memfd_create: a file with no name, shown in /proc/self/fd as "/memfd:NAME (deleted)".
    int m = (int)memfd_create_("utx-test", 1 /* MFD_CLOEXEC */);
    expect("memfd_create", m >= 0);
    expect("it is close-on-exec", fcntl(m, F_GETFD) == FD_CLOEXEC);
    expect("it is readable and writable", (fcntl(m, F_GETFL) & O_ACCMODE) == O_RDWR);
    expect("write and read back", write(m, "memory", 6) == 6 && pread(m, buf, 6, 0) == 6 && memcmp(buf, "memory", 6) == 0);
    expect("fstat: a regular file, 0777, 6 bytes", fstat(m, &st) == 0 && S_ISREG(st.st_mode) &&
               (st.st_mode & 07777) == 0777 && st.st_size == 6);
    expect("ftruncate", ftruncate(m, 100000) == 0 && fstat(m, &st) == 0 && st.st_size == 100000);
    char link[64], path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", m);
    ssize_t n = readlink(path, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    expect("its /proc/self/fd link", strcmp(link, "/memfd:utx-test (deleted)") == 0);
    // stat through /dev/fd/N is the open file's, as bash's <(...) relies on.
    struct stat via;
    snprintf(path, sizeof path, "/dev/fd/%d", p[0]);
    expect("stat /dev/fd/N of a pipe is the pipe", stat(path, &via) == 0 && S_ISFIFO(via.st_mode));
    snprintf(path, sizeof path, "/proc/self/fd/%d", m);
    expect("stat /proc/self/fd/N of a memfd is the memfd",
           stat(path, &via) == 0 && via.st_size == 100000);
    expect("sendfile from it", lseek(m, 0, SEEK_SET) == 0 && sendfile(p[1], m, NULL, 6) == 6 &&
               read(p[0], buf, 6) == 6 && memcmp(buf, "memory", 6) == 0);
    int m2 = (int)memfd_create_("", 2 /* MFD_ALLOW_SEALING */);
    expect("an empty name and MFD_ALLOW_SEALING", m2 >= 0 && fcntl(m2, F_GETFD) == 0);
    char name[251];
    memset(name, 'n', 250);
    name[250] = 0;
    EXPECT_ERRNO("a 250-byte name", memfd_create_(name, 0), EINVAL);
    name[249] = 0;
    int m3 = (int)memfd_create_(name, 0);
    expect("a 249-byte name", m3 >= 0);
    EXPECT_ERRNO("an unknown flag", memfd_create_("x", 0x100), EINVAL);
    EXPECT_ERRNO("a bad name pointer", memfd_create_(unmapped_address, 0), EFAULT);
    close(m);
    close(m2);
    close(m3);

    close(p[0]);
    close(p[1]);
    close(ro);
    close(wo);
    close(msg);
    close(src);
    close(dst);
    expect("unlink", unlink("src") == 0 && unlink("dst") == 0 && unlink("msg") == 0);
    expect("chdir /", chdir("/") == 0);
    expect("rmdir the private directory", rmdir(dir) == 0);
    return check_exit_status();
}
