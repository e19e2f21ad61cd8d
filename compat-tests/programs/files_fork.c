// files_fork.c: the file system and open file descriptions across fork. Under utx each
// process is a VM of its own; minifs and the offsets of inherited descriptions live in the
// family region they share, so a child's files are its parent's.
// Covers: open, read, write, lseek, unlink, mkdir, getdents64, chdir, readlink, mmap, fork.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int wait_status(pid_t pid) {
    int status = -1;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int write_str(int fd, const char *s) {
    return write(fd, s, strlen(s)) == (ssize_t)strlen(s);
}

static int file_is(const char *path, const char *want) {
    char buf[256] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n == (ssize_t)strlen(want) && memcmp(buf, want, (size_t)n) == 0;
}

int main(void) {
    char dir[] = "/tmp/files_fork.XXXXXX";
    expect("mkdtemp", mkdtemp(dir) != NULL);
    expect("chdir into it", chdir(dir) == 0);

    // A file the child writes is there for the parent.
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("child", O_WRONLY | O_CREAT | O_EXCL, 0644);
        _exit(fd >= 0 && write_str(fd, "written by the child\n") && close(fd) == 0 ? 0 : 1);
    }
    expect("the child exited 0", wait_status(pid) == 0);
    expect("the parent reads the child's file", file_is("child", "written by the child\n"));

    // An inherited description has one offset: `(echo a; echo b) > f`.
    int fd = open("shared", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    expect("open shared", fd >= 0);
    pid = fork();
    if (pid == 0) _exit(write_str(fd, "first\n") ? 0 : 1);
    expect("the child exited 0", wait_status(pid) == 0);
    expect("the parent's offset moved with the child's write", lseek(fd, 0, SEEK_CUR) == 6);
    expect("the parent writes after it", write_str(fd, "second\n"));
    pid = fork();
    if (pid == 0) _exit(lseek(fd, 0, SEEK_SET) == 0 ? 0 : 1);
    expect("the child exited 0", wait_status(pid) == 0);
    expect("the child's lseek moved the parent's offset", lseek(fd, 0, SEEK_CUR) == 0);
    close(fd);
    expect("both writes in order", file_is("shared", "first\nsecond\n"));

    // A file the child unlinks stays readable through the parent's descriptor.
    fd = open("doomed", O_RDWR | O_CREAT | O_TRUNC, 0644);
    expect("open doomed", fd >= 0 && write_str(fd, "still here\n"));
    pid = fork();
    if (pid == 0) _exit(unlink("doomed") == 0 ? 0 : 1);
    expect("the child exited 0", wait_status(pid) == 0);
    expect("the name is gone for the parent", access("doomed", F_OK) == -1 && errno == ENOENT);
    char buf[64] = {0};
    expect("the data is not", pread(fd, buf, sizeof buf - 1, 0) == 11 && strcmp(buf, "still here\n") == 0);
    close(fd);

    // Directories the child makes are listed by the parent; the child's chdir is its own.
    pid = fork();
    if (pid == 0) {
        if (mkdir("sub", 0755) != 0 || chdir("sub") != 0) _exit(1);
        int f = open("inner", O_WRONLY | O_CREAT, 0644);
        _exit(f >= 0 && close(f) == 0 ? 0 : 1);
    }
    expect("the child exited 0", wait_status(pid) == 0);
    expect("the parent's working directory did not move", access("sub/inner", F_OK) == 0);
    DIR *d = opendir(".");
    int names = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        names += strcmp(e->d_name, "sub") == 0 || strcmp(e->d_name, "child") == 0;
    if (d) closedir(d);
    expect("readdir sees what the child made", names == 2);

    // /proc/self is each process's own.
    pid = fork();
    if (pid == 0) {
        char link[32] = {0}, want[32];
        snprintf(want, sizeof want, "%d", (int)getpid());
        ssize_t n = readlink("/proc/self", link, sizeof link - 1);
        _exit(n > 0 && strcmp(link, want) == 0 ? 0 : 1);
    }
    expect("/proc/self in the child is the child", wait_status(pid) == 0);
    char link[32] = {0}, want[32];
    snprintf(want, sizeof want, "%d", (int)getpid());
    expect("/proc/self in the parent is the parent",
           readlink("/proc/self", link, sizeof link - 1) > 0 && strcmp(link, want) == 0);

    // A shared file mapping: the child's stores are in the file the parent reads.
    fd = open("mapped", O_RDWR | O_CREAT | O_TRUNC, 0644);
    expect("ftruncate", fd >= 0 && ftruncate(fd, 4096) == 0);
    char *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    expect("mmap", map != MAP_FAILED);
    pid = fork();
    if (pid == 0) {
        strcpy(map, "stored by the child");
        _exit(0);
    }
    expect("the child exited 0", wait_status(pid) == 0);
    memset(buf, 0, sizeof buf);
    expect("read() sees the child's stores", pread(fd, buf, 19, 0) == 19 && strcmp(buf, "stored by the child") == 0);
    expect("so does the parent's mapping", strcmp(map, "stored by the child") == 0);
    munmap(map, 4096);
    close(fd);

    unlink("child");
    unlink("shared");
    unlink("mapped");
    unlink("sub/inner");
    rmdir("sub");
    expect("chdir /", chdir("/") == 0);
    expect("rmdir", rmdir(dir) == 0);
    return check_failures ? 1 : 0;
}
