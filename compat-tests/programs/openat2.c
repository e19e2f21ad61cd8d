// covers: openat2, openat, open, fstat, newfstatat, fchdir, fcntl, readlinkat, read, write, lseek, mkdir, symlink, mknod, unlink, rmdir, getdents64
// openat2's struct open_how and RESOLVE_* restrictions, O_PATH descriptors (they name a
// file and do nothing else) and O_TMPFILE (a file with no name), on a private directory.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
struct how {
    uint64_t flags, mode, resolve;
};
#define RESOLVE_NO_XDEV_ 0x01
#define RESOLVE_NO_MAGICLINKS_ 0x02
#define RESOLVE_NO_SYMLINKS_ 0x04
#define RESOLVE_BENEATH_ 0x08
#define RESOLVE_IN_ROOT_ 0x10
#define RESOLVE_CACHED_ 0x20
#define O_TMPFILE_ONLY 020000000  // __O_TMPFILE, without the O_DIRECTORY of O_TMPFILE

static long openat2_(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct how h = {flags, mode, resolve};
    return syscall(SYS_openat2, dirfd, path, &h, sizeof h);
}

// The same file as "d/f"?
static ino_t f_ino;
static int is_f(long fd) {
    struct stat st;
    int ok = fd >= 0 && fstat((int)fd, &st) == 0 && st.st_ino == f_ino;
    if (fd >= 0) close((int)fd);
    return ok;
}

static int count_entries(const char *path) {
    DIR *d = opendir(path);
    int n = 0;
    while (d && readdir(d)) n++;
    if (d) closedir(d);
    return n;
}

int main(void) {
    char dir[] = "/tmp/utx-openat2-XXXXXX";
    expect("mkdtemp", mkdtemp(dir) != NULL);
    expect("chdir into it", chdir(dir) == 0);
    char abs_f[64];
    snprintf(abs_f, sizeof abs_f, "%s/d/f", dir);
    int fd = -1;
    expect("d, d/sub and d/f", mkdir("d", 0755) == 0 && mkdir("d/sub", 0755) == 0 &&
               (fd = open("d/f", O_CREAT | O_WRONLY, 0644)) >= 0 && write(fd, "data", 4) == 4);
    close(fd);
    struct stat st;
    stat("d/f", &st);
    f_ino = st.st_ino;
    expect("symlinks: relative, climbing out and back, absolute", symlink("f", "d/lnk") == 0 &&
               symlink("../d/f", "d/up") == 0 && symlink(abs_f, "d/abs") == 0);

    // struct open_how: its size and fields are checked.
    expect("openat2 of a file", is_f(openat2_(AT_FDCWD, "d/f", O_RDONLY, 0, 0)));
    struct { struct how h; uint64_t more; } big = {{O_RDONLY, 0, 0}, 0};
    expect("a bigger struct with zeros past ours", is_f(syscall(SYS_openat2, AT_FDCWD, "d/f", &big, sizeof big)));
    big.more = 1;
    EXPECT_ERRNO("a bigger struct with something past ours", syscall(SYS_openat2, AT_FDCWD, "d/f", &big, sizeof big), E2BIG);
    EXPECT_ERRNO("a smaller struct", syscall(SYS_openat2, AT_FDCWD, "d/f", &big, 16), EINVAL);
    EXPECT_ERRNO("a struct over a page", syscall(SYS_openat2, AT_FDCWD, "d/f", &big, 4097), E2BIG);
    EXPECT_ERRNO("a bad struct pointer", syscall(SYS_openat2, AT_FDCWD, "d/f", unmapped_address, sizeof(struct how)), EFAULT);
    EXPECT_ERRNO("an unknown flag", openat2_(AT_FDCWD, "d/f", 1ULL << 40, 0, 0), EINVAL);
    EXPECT_ERRNO("a mode without O_CREAT", openat2_(AT_FDCWD, "d/f", O_RDONLY, 0644, 0), EINVAL);
    EXPECT_ERRNO("a mode with file type bits", openat2_(AT_FDCWD, "d/new", O_CREAT | O_WRONLY, 0100644, 0), EINVAL);
    EXPECT_ERRNO("an unknown RESOLVE_ flag", openat2_(AT_FDCWD, "d/f", O_RDONLY, 0, 0x1000), EINVAL);
    EXPECT_ERRNO("RESOLVE_BENEATH with RESOLVE_IN_ROOT", openat2_(AT_FDCWD, "d/f", O_RDONLY, 0, RESOLVE_BENEATH_ | RESOLVE_IN_ROOT_), EINVAL);
    EXPECT_ERRNO("O_PATH with O_RDWR", openat2_(AT_FDCWD, "d/f", O_PATH | O_RDWR, 0, 0), EINVAL);
    EXPECT_ERRNO("O_TMPFILE read-only", openat2_(AT_FDCWD, "d", O_TMPFILE | O_RDONLY, 0600, 0), EINVAL);
    EXPECT_ERRNO("RESOLVE_CACHED when creating", openat2_(AT_FDCWD, "d/new", O_CREAT | O_WRONLY, 0600, RESOLVE_CACHED_), EAGAIN);
    fd = (int)openat2_(AT_FDCWD, "d/new", O_CREAT | O_EXCL | O_WRONLY, 0640, 0);
    expect("openat2 O_CREAT with a mode", fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == (0640 & ~umask(022)));
    close(fd);
    unlink("d/new");
    EXPECT_ERRNO("openat2 of a missing file", openat2_(AT_FDCWD, "d/missing", O_RDONLY, 0, 0), ENOENT);

    // RESOLVE_NO_SYMLINKS and RESOLVE_NO_MAGICLINKS.
    EXPECT_ERRNO("RESOLVE_NO_SYMLINKS on a symlink", openat2_(AT_FDCWD, "d/lnk", O_RDONLY, 0, RESOLVE_NO_SYMLINKS_), ELOOP);
    expect("RESOLVE_NO_SYMLINKS without one", is_f(openat2_(AT_FDCWD, "d/f", O_RDONLY, 0, RESOLVE_NO_SYMLINKS_)));
    fd = (int)openat2_(AT_FDCWD, "d/lnk", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS_);
    expect("RESOLVE_NO_SYMLINKS with O_PATH|O_NOFOLLOW gets the link", fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode));
    close(fd);
    expect("RESOLVE_NO_MAGICLINKS on a symlink", is_f(openat2_(AT_FDCWD, "d/lnk", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS_)));
    EXPECT_ERRNO("RESOLVE_NO_MAGICLINKS on /proc/self/exe", openat2_(AT_FDCWD, "/proc/self/exe", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS_), ELOOP);
    int held = open("d/f", O_RDONLY);
    char fdpath[64];
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", held);
    EXPECT_ERRNO("RESOLVE_NO_MAGICLINKS on /proc/self/fd/N", openat2_(AT_FDCWD, fdpath, O_RDONLY, 0, RESOLVE_NO_MAGICLINKS_), ELOOP);
    expect("/proc/self/fd/N without it", is_f(openat2_(AT_FDCWD, fdpath, O_RDONLY, 0, 0)));
    close(held);

    // RESOLVE_BENEATH: never out of the starting directory.
    int d = open("d", O_RDONLY | O_DIRECTORY);
    expect("RESOLVE_BENEATH below", is_f(openat2_(d, "f", O_RDONLY, 0, RESOLVE_BENEATH_)));
    expect("RESOLVE_BENEATH through sub/..", is_f(openat2_(d, "sub/../f", O_RDONLY, 0, RESOLVE_BENEATH_)));
    expect("RESOLVE_BENEATH through a relative symlink", is_f(openat2_(d, "lnk", O_RDONLY, 0, RESOLVE_BENEATH_)));
    EXPECT_ERRNO("RESOLVE_BENEATH with ..", openat2_(d, "../d/f", O_RDONLY, 0, RESOLVE_BENEATH_), EXDEV);
    EXPECT_ERRNO("RESOLVE_BENEATH through a symlink that climbs out", openat2_(d, "up", O_RDONLY, 0, RESOLVE_BENEATH_), EXDEV);
    EXPECT_ERRNO("RESOLVE_BENEATH through an absolute symlink", openat2_(d, "abs", O_RDONLY, 0, RESOLVE_BENEATH_), EXDEV);
    EXPECT_ERRNO("RESOLVE_BENEATH with an absolute path", openat2_(d, abs_f, O_RDONLY, 0, RESOLVE_BENEATH_), EXDEV);
    EXPECT_ERRNO("RESOLVE_BENEATH, absolute, bad dirfd", openat2_(99, abs_f, O_RDONLY, 0, RESOLVE_BENEATH_), EXDEV);
    EXPECT_ERRNO("RESOLVE_BENEATH, relative, bad dirfd", openat2_(99, "f", O_RDONLY, 0, RESOLVE_BENEATH_), EBADF);
    // RESOLVE_IN_ROOT: the starting directory is "/".
    expect("RESOLVE_IN_ROOT: /f", is_f(openat2_(d, "/f", O_RDONLY, 0, RESOLVE_IN_ROOT_)));
    expect("RESOLVE_IN_ROOT: ../../f stays inside", is_f(openat2_(d, "../../f", O_RDONLY, 0, RESOLVE_IN_ROOT_)));
    EXPECT_ERRNO("RESOLVE_IN_ROOT: a climbing symlink stays inside (d/d/f)", openat2_(d, "up", O_RDONLY, 0, RESOLVE_IN_ROOT_), ENOENT);
    EXPECT_ERRNO("RESOLVE_IN_ROOT: an absolute symlink is relative to it", openat2_(d, "abs", O_RDONLY, 0, RESOLVE_IN_ROOT_), ENOENT);
    EXPECT_ERRNO("RESOLVE_IN_ROOT, absolute, bad dirfd", openat2_(99, "/f", O_RDONLY, 0, RESOLVE_IN_ROOT_), EBADF);
    // RESOLVE_NO_XDEV: /proc is another mount.
    expect("RESOLVE_NO_XDEV inside one file system", is_f(openat2_(d, "f", O_RDONLY, 0, RESOLVE_NO_XDEV_)));
    EXPECT_ERRNO("RESOLVE_NO_XDEV into /proc", openat2_(AT_FDCWD, "/proc/self/status", O_RDONLY, 0, RESOLVE_NO_XDEV_), EXDEV);

    // O_PATH: a descriptor that only names a file.
    int path = open("d/f", O_PATH);
    expect("open O_PATH", path >= 0);
    char buf[16];
    EXPECT_ERRNO("read from it", read(path, buf, 1), EBADF);
    EXPECT_ERRNO("write to it", write(path, "x", 1), EBADF);
    EXPECT_ERRNO("lseek on it", lseek(path, 0, SEEK_SET), EBADF);
    EXPECT_ERRNO("mmap it", (long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, path, 0), EBADF);
    EXPECT_ERRNO("fchmod it", syscall(SYS_fchmod, path, 0600), EBADF);  // musl's fchmod would go round
    EXPECT_ERRNO("fsync it", fsync(path), EBADF);
    EXPECT_ERRNO("flock it", flock(path, LOCK_SH), EBADF);
    int n;
    EXPECT_ERRNO("ioctl FIONREAD on it", ioctl(path, FIONREAD, &n), EBADF);
    EXPECT_ERRNO("fcntl F_SETFL on it", fcntl(path, F_SETFL, O_NONBLOCK), EBADF);
    struct flock lk = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
    EXPECT_ERRNO("fcntl F_GETLK on it", fcntl(path, F_GETLK, &lk), EBADF);
    expect("fstat works", fstat(path, &st) == 0 && st.st_ino == f_ino && st.st_size == 4);
    expect("fstatat AT_EMPTY_PATH works", fstatat(path, "", &st, AT_EMPTY_PATH) == 0 && st.st_ino == f_ino);
    expect("F_GETFL shows O_PATH", (fcntl(path, F_GETFL) & (O_PATH | O_ACCMODE)) == O_PATH);
    expect("F_SETFD and F_GETFD work", fcntl(path, F_SETFD, FD_CLOEXEC) == 0 && fcntl(path, F_GETFD) == FD_CLOEXEC);
    int path2 = dup(path);
    expect("dup works", path2 >= 0 && close(path2) == 0);
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", path);
    int reopened = open(fdpath, O_RDONLY);
    expect("reopen through /proc/self/fd to read", reopened >= 0 && read(reopened, buf, 4) == 4 && memcmp(buf, "data", 4) == 0);
    close(reopened);
    EXPECT_ERRNO("readlinkat with an empty path on a file", readlinkat(path, "", buf, sizeof buf), ENOENT);
    expect("close it", close(path) == 0);
    EXPECT_ERRNO("close it again", close(path), EBADF);
    int dpath = open("d", O_PATH | O_DIRECTORY);
    expect("O_PATH directory as a dirfd", is_f(openat(dpath, "f", O_RDONLY)));
    expect("fstatat relative to it", fstatat(dpath, "f", &st, 0) == 0 && st.st_ino == f_ino);
    char ents[256];
    EXPECT_ERRNO("getdents64 on it", syscall(SYS_getdents64, dpath, ents, sizeof ents), EBADF);
    expect("fchdir to it", fchdir(dpath) == 0 && is_f(open("f", O_RDONLY)) && chdir("..") == 0);
    close(dpath);
    int lpath = open("d/lnk", O_PATH | O_NOFOLLOW);
    expect("O_PATH|O_NOFOLLOW on a symlink", lpath >= 0 && fstat(lpath, &st) == 0 && S_ISLNK(st.st_mode));
    ssize_t len = readlinkat(lpath, "", buf, sizeof buf);
    expect("readlinkat with an empty path reads it", len == 1 && buf[0] == 'f');
    close(lpath);
    expect("O_PATH follows a symlink otherwise", is_f(open("d/lnk", O_PATH)));
    expect("mkfifo", mknod("fifo", S_IFIFO | 0600, 0) == 0);
    int fifo = open("fifo", O_PATH);
    expect("O_PATH on a FIFO does not wait for a writer", fifo >= 0 && fstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    close(fifo);
    EXPECT_ERRNO("O_PATH ignores O_CREAT", open("d/missing", O_PATH | O_CREAT, 0600), ENOENT);
    EXPECT_ERRNO("O_PATH|O_DIRECTORY on a file", open("d/f", O_PATH | O_DIRECTORY), ENOTDIR);

    // O_TMPFILE: a regular file with no name.
    int before = count_entries("d");
    int t = open("d", O_TMPFILE | O_RDWR, 0600);
    expect("open O_TMPFILE", t >= 0);
    expect("write and read it", write(t, "temporary", 9) == 9 && pread(t, buf, 9, 0) == 9 && memcmp(buf, "temporary", 9) == 0);
    expect("a regular file without links", fstat(t, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0 &&
               (st.st_mode & 0777) == 0600 && st.st_size == 9);
    expect("no new name in the directory", count_entries("d") == before);
    close(t);
    t = openat(d, ".", O_TMPFILE | O_WRONLY | O_EXCL, 0600);
    expect("O_TMPFILE|O_EXCL relative to a dirfd", t >= 0);
    close(t);
    EXPECT_ERRNO("O_TMPFILE read-only", open("d", O_TMPFILE | O_RDONLY, 0600), EINVAL);
    EXPECT_ERRNO("O_TMPFILE without O_DIRECTORY", open("d", O_TMPFILE_ONLY | O_RDWR, 0600), EINVAL);
    EXPECT_ERRNO("O_TMPFILE on a file", open("d/f", O_TMPFILE | O_RDWR, 0600), ENOTDIR);
    EXPECT_ERRNO("O_TMPFILE in a missing directory", open("missing", O_TMPFILE | O_RDWR, 0600), ENOENT);
    close(d);

    unlink("fifo");
    unlink("d/lnk");
    unlink("d/up");
    unlink("d/abs");
    unlink("d/f");
    expect("rmdir d/sub and d", rmdir("d/sub") == 0 && rmdir("d") == 0);
    expect("chdir /", chdir("/") == 0);
    expect("rmdir the private directory", rmdir(dir) == 0);
    return check_exit_status();
}
