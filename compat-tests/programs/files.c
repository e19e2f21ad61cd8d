// covers: open, openat, creat, close, read, write, pread64, pwrite64, lseek, stat, lstat, fstat, newfstatat, statx, getdents64, mkdir, mkdirat, rmdir, unlink, unlinkat, rename, renameat, renameat2, link, linkat, symlink, symlinkat, readlink, readlinkat, access, faccessat, faccessat2, chdir, fchdir, getcwd, chmod, fchmod, fchmodat, chown, fchown, lchown, fchownat, truncate, ftruncate, fsync, fdatasync, utimensat, mknod, mknodat
// The file system calls on a private directory under /tmp (or under the directory given as
// the argument: a host mount under utx): success paths and the errno values Linux gives for
// the usual mistakes. Prints no names, inode numbers or times.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static int count_entries(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    char buf[4096];
    int n = 0;
    for (;;) {
        long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (got <= 0) break;
        for (long off = 0; off < got;) {
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, 2);
            n++;
            off += reclen;
        }
    }
    close(fd);
    return n;
}

int main(int argc, char **argv) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/utx-files-XXXXXX", argc > 1 ? argv[1] : "/tmp");
    expect("mkdtemp", mkdtemp(dir) != NULL);
    expect("chdir into it", chdir(dir) == 0);
    char cwd[4096];
    expect("getcwd names it", getcwd(cwd, sizeof cwd) && strcmp(cwd, dir) == 0);
    EXPECT_ERRNO("getcwd into 1 byte", syscall(SYS_getcwd, cwd, 1), ERANGE);

    // Creating, writing, reading, seeking.
    int fd = open("a.txt", O_CREAT | O_EXCL | O_RDWR, 0640);
    expect("open O_CREAT|O_EXCL", fd >= 0);
    EXPECT_ERRNO("open O_EXCL of an existing file", open("a.txt", O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST);
    expect("write 11 bytes", write(fd, "hello world", 11) == 11);
    expect("lseek SEEK_CUR is 11", lseek(fd, 0, SEEK_CUR) == 11);
    expect("lseek SEEK_SET 6", lseek(fd, 6, SEEK_SET) == 6);
    char buf[64] = {0};
    expect("read 5 bytes after the seek", read(fd, buf, sizeof buf) == 5 && memcmp(buf, "world", 5) == 0);
    expect("read at the end gives 0", read(fd, buf, sizeof buf) == 0);
    expect("pwrite at 0", pwrite(fd, "J", 1, 0) == 1);
    expect("pread sees it", pread(fd, buf, 5, 0) == 5 && memcmp(buf, "Jello", 5) == 0);
    expect("offset unchanged by pread/pwrite", lseek(fd, 0, SEEK_CUR) == 11);
    EXPECT_ERRNO("lseek to a negative offset", lseek(fd, -100, SEEK_SET), EINVAL);
    EXPECT_ERRNO("lseek with a bad whence", lseek(fd, 0, 42), EINVAL);
    expect("lseek past the end then write makes a hole", lseek(fd, 100000, SEEK_SET) == 100000 && write(fd, "!", 1) == 1);
    struct stat st;
    expect("fstat size", fstat(fd, &st) == 0 && st.st_size == 100001);
    expect("fstat mode", (st.st_mode & 07777) == 0640 && S_ISREG(st.st_mode));
    expect("the hole reads as zeros", pread(fd, buf, 8, 50000) == 8 && memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0);
    expect("ftruncate shrinks", ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5);
    expect("fsync", fsync(fd) == 0);
    expect("fdatasync", fdatasync(fd) == 0);
    expect("close", close(fd) == 0);
    expect("truncate by path grows", truncate("a.txt", 4096) == 0 && stat("a.txt", &st) == 0 && st.st_size == 4096);
    EXPECT_ERRNO("truncate to a negative length", truncate("a.txt", -1), EINVAL);
    EXPECT_ERRNO("read from a write-only descriptor", (fd = open("a.txt", O_WRONLY | O_APPEND), read(fd, buf, 1)), EBADF);
    expect("O_APPEND writes at the end", write(fd, "Z", 1) == 1 && fstat(fd, &st) == 0 && st.st_size == 4097);
    close(fd);
    fd = creat("b.txt", 0600);
    expect("creat", fd >= 0);
    EXPECT_ERRNO("read from a creat descriptor", read(fd, buf, 1), EBADF);
    close(fd);
    fd = open("a.txt", O_RDWR | O_TRUNC);
    expect("O_TRUNC empties", fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0);
    close(fd);

    // Errors of open.
    EXPECT_ERRNO("open of a missing file", open("missing", O_RDONLY), ENOENT);
    EXPECT_ERRNO("open below a regular file", open("a.txt/x", O_RDONLY), ENOTDIR);
    EXPECT_ERRNO("open a directory for writing", open(".", O_WRONLY), EISDIR);
    EXPECT_ERRNO("O_DIRECTORY on a file", open("a.txt", O_RDONLY | O_DIRECTORY), ENOTDIR);
    EXPECT_ERRNO("open with a bad path pointer", syscall(SYS_open, unmapped_address, O_RDONLY), EFAULT);
    EXPECT_ERRNO("openat with a bad dirfd", openat(99, "a.txt", O_RDONLY), EBADF);
    EXPECT_ERRNO("openat relative to a file", (fd = open("a.txt", O_RDONLY), openat(fd, "x", O_RDONLY)), ENOTDIR);
    close(fd);

    // Directories.
    expect("mkdir", mkdir("d", 0755) == 0);
    EXPECT_ERRNO("mkdir of an existing name", mkdir("d", 0755), EEXIST);
    EXPECT_ERRNO("mkdir in a missing directory", mkdir("nope/d", 0755), ENOENT);
    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    expect("open a directory", dfd >= 0);
    expect("mkdirat relative to it", mkdirat(dfd, "e", 0700) == 0);
    expect("openat O_CREAT relative to it", (fd = openat(dfd, "e/f", O_CREAT | O_WRONLY, 0644)) >= 0);
    close(fd);
    expect("fstatat of the new file", fstatat(dfd, "e/f", &st, 0) == 0 && S_ISREG(st.st_mode));
    expect("getdents64 lists . .. e", count_entries("d") == 3);
    expect("getdents64 lists . .. a.txt b.txt d", count_entries(".") == 5);
    EXPECT_ERRNO("getdents64 on a file", (fd = open("a.txt", O_RDONLY), syscall(SYS_getdents64, fd, buf, sizeof buf)), ENOTDIR);
    close(fd);
    EXPECT_ERRNO("rmdir of a non-empty directory", rmdir("d"), ENOTEMPTY);
    EXPECT_ERRNO("rmdir of a file", rmdir("a.txt"), ENOTDIR);
    EXPECT_ERRNO("unlink of a directory", unlink("d"), EISDIR);
    EXPECT_ERRNO("rmdir of .", rmdir("."), EINVAL);
    expect("unlinkat a file", unlinkat(dfd, "e/f", 0) == 0);
    expect("unlinkat AT_REMOVEDIR", unlinkat(dfd, "e", AT_REMOVEDIR) == 0);
    EXPECT_ERRNO("unlinkat with a bad flag", unlinkat(dfd, "x", 0x1), EINVAL);
    expect("fchdir into d", fchdir(dfd) == 0 && getcwd(cwd, sizeof cwd) && strcmp(strrchr(cwd, '/'), "/d") == 0);
    expect("chdir ..", chdir("..") == 0);
    EXPECT_ERRNO("chdir to a file", chdir("a.txt"), ENOTDIR);
    close(dfd);

    // Renames and links.
    expect("rename a file", rename("b.txt", "c.txt") == 0);
    EXPECT_ERRNO("the old name is gone", access("b.txt", F_OK), ENOENT);
    expect("rename over an existing file", rename("c.txt", "a.txt") == 0);
    EXPECT_ERRNO("rename a directory over a file", rename("d", "a.txt"), ENOTDIR);
    EXPECT_ERRNO("rename a file over a directory", rename("a.txt", "d"), EISDIR);
    EXPECT_ERRNO("rename a directory into itself", rename("d", "d/x"), EINVAL);
    expect("renameat into a directory", renameat(AT_FDCWD, "a.txt", AT_FDCWD, "d/a.txt") == 0);
    expect("link", link("d/a.txt", "hard") == 0 && stat("hard", &st) == 0 && st.st_nlink == 2);
    EXPECT_ERRNO("link to an existing name", link("d/a.txt", "hard"), EEXIST);
    EXPECT_ERRNO("link of a directory", link("d", "dlink"), EPERM);
    expect("linkat", linkat(AT_FDCWD, "hard", AT_FDCWD, "hard2", 0) == 0);
    expect("renameat2 RENAME_NOREPLACE to a new name", syscall(SYS_renameat2, AT_FDCWD, "hard2", AT_FDCWD, "hard3", 1) == 0);
    EXPECT_ERRNO("renameat2 RENAME_NOREPLACE onto a name", syscall(SYS_renameat2, AT_FDCWD, "hard3", AT_FDCWD, "hard", 1), EEXIST);
    expect("renameat2 RENAME_EXCHANGE", syscall(SYS_renameat2, AT_FDCWD, "hard3", AT_FDCWD, "d", 2) == 0 && stat("hard3", &st) == 0 && S_ISDIR(st.st_mode));
    expect("exchange back", syscall(SYS_renameat2, AT_FDCWD, "hard3", AT_FDCWD, "d", 2) == 0);
    expect("unlink one name keeps the other", unlink("hard") == 0 && stat("hard3", &st) == 0 && st.st_nlink == 2);

    // Symlinks.
    expect("symlink", symlink("d/a.txt", "sym") == 0);
    expect("readlink", readlink("sym", buf, sizeof buf) == 7 && memcmp(buf, "d/a.txt", 7) == 0);
    expect("readlink truncates", readlink("sym", buf, 3) == 3);
    EXPECT_ERRNO("readlink of a file", readlink("hard3", buf, sizeof buf), EINVAL);
    EXPECT_ERRNO("readlink with size 0", syscall(SYS_readlink, "sym", buf, 0), EINVAL);
    expect("lstat sees the link", lstat("sym", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 7);
    expect("stat follows it", stat("sym", &st) == 0 && S_ISREG(st.st_mode));
    expect("symlinkat and readlinkat", symlinkat("sym", AT_FDCWD, "sym2") == 0 && readlinkat(AT_FDCWD, "sym2", buf, sizeof buf) == 3);
    expect("symlink loop", symlink("loop", "loop") == 0);
    EXPECT_ERRNO("open of a symlink loop", open("loop", O_RDONLY), ELOOP);
    EXPECT_ERRNO("O_NOFOLLOW on a symlink", open("sym", O_RDONLY | O_NOFOLLOW), ELOOP);
    EXPECT_ERRNO("symlink to an empty target", symlink("", "empty"), ENOENT);

    // Permissions, owners and times.
    expect("chmod", chmod("hard3", 0600) == 0 && stat("hard3", &st) == 0 && (st.st_mode & 07777) == 0600);
    expect("fchmodat", fchmodat(AT_FDCWD, "hard3", 0644, 0) == 0);
    fd = open("hard3", O_RDONLY);
    expect("fchmod", fchmod(fd, 0400) == 0 && fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0400);
    expect("chown to ourselves", chown("hard3", getuid(), getgid()) == 0);
    expect("fchown -1 -1", fchown(fd, -1, -1) == 0);
    expect("lchown of the symlink", lchown("sym", getuid(), getgid()) == 0);
    expect("fchownat", fchownat(AT_FDCWD, "hard3", getuid(), getgid(), 0) == 0);
    close(fd);
    expect("access F_OK", access("hard3", F_OK) == 0);
    EXPECT_ERRNO("access of a missing file", access("missing", R_OK), ENOENT);
    EXPECT_ERRNO("access with a bad mode", access("hard3", 0x40), EINVAL);
    expect("faccessat", faccessat(AT_FDCWD, "hard3", R_OK, 0) == 0);
    expect("faccessat2 AT_EACCESS", syscall(SYS_faccessat2, AT_FDCWD, "hard3", R_OK, AT_EACCESS) == 0);
    struct timespec times[2] = {{1000000000, 5}, {1200000000, 7}};
    expect("utimensat", utimensat(AT_FDCWD, "hard3", times, 0) == 0);
    expect("stat shows the times", stat("hard3", &st) == 0 && st.st_mtim.tv_sec == 1200000000 && st.st_mtim.tv_nsec == 7 && st.st_atim.tv_sec == 1000000000);
    struct timespec bad[2] = {{0, 2000000000}, {0, 0}};
    EXPECT_ERRNO("utimensat with a bad nsec", utimensat(AT_FDCWD, "hard3", bad, 0), EINVAL);

    // Special files.
    expect("mknod a FIFO", mknod("fifo", S_IFIFO | 0600, 0) == 0 && stat("fifo", &st) == 0 && S_ISFIFO(st.st_mode));
    expect("mknodat a regular file", mknodat(AT_FDCWD, "plain", S_IFREG | 0600, 0) == 0);
    EXPECT_ERRNO("mknod a directory", mknod("dirnode", S_IFDIR | 0700, 0), EPERM);
    fd = open("/dev/null", O_RDWR);
    expect("/dev/null swallows writes", write(fd, "abc", 3) == 3 && read(fd, buf, 3) == 0);
    close(fd);
    fd = open("/dev/zero", O_RDONLY);
    memset(buf, 1, 8);
    expect("/dev/zero reads zeros", read(fd, buf, 8) == 8 && memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0);
    close(fd);
    fd = open("/dev/full", O_WRONLY);
    EXPECT_ERRNO("/dev/full is full", write(fd, "x", 1), ENOSPC);
    close(fd);
    fd = open("/dev/urandom", O_RDONLY);
    expect("/dev/urandom gives bytes", read(fd, buf, 32) == 32);
    close(fd);
    char statx_buf[256];  // struct statx
    expect("statx of a file", syscall(SYS_statx, AT_FDCWD, "hard3", 0, 0x7ff, statx_buf) == 0);

    // A file unlinked while open lives on until its last descriptor closes.
    fd = open("doomed", O_CREAT | O_RDWR, 0600);
    expect("write to a file about to be unlinked", write(fd, "still here", 10) == 10);
    expect("unlink it while open", unlink("doomed") == 0);
    EXPECT_ERRNO("its name is gone", access("doomed", F_OK), ENOENT);
    expect("fstat shows no links", fstat(fd, &st) == 0 && st.st_nlink == 0);
    expect("its data is still readable", pread(fd, buf, 10, 0) == 10 && memcmp(buf, "still here", 10) == 0);
    close(fd);

    // Clean up, leaving nothing behind.
    unlink("sym"); unlink("sym2"); unlink("loop"); unlink("fifo"); unlink("plain");
    unlink("hard3"); unlink("d/a.txt");
    expect("rmdir d", rmdir("d") == 0);
    expect("the directory is empty again", count_entries(".") == 2);
    expect("chdir /", chdir("/") == 0);
    expect("rmdir the private directory", rmdir(dir) == 0);
    return check_exit_status();
}
