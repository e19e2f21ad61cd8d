// covers: mmap, munmap, mremap, mprotect, madvise, msync, fallocate, ftruncate, memfd_create, pread64, pwrite64, openat, unlink
// Shared file mappings: the mapping and read/write see the same bytes, also through a
// second mapping, after close, mremap and MADV_DONTNEED; holes punched and MADV_REMOVE
// read as zeros. With an argument it then touches a page past the end of the file, which
// is SIGBUS: "past-the-end" (a 10000-byte file), "after-truncate" (cut to one page).
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static long fallocate_(int fd, int mode, long offset, long len) {
    return syscall(SYS_fallocate, fd, mode, offset, len);
}

int main(int argc, char **argv) {
    char path[] = "/tmp/utx-mmap-shared-XXXXXX";
    int fd = mkstemp(path);
    expect("mkstemp", fd >= 0);
    static char data[10000];
    for (size_t i = 0; i < sizeof data; ++i) data[i] = (char)('a' + i % 26);
    expect("write 10000 bytes", write(fd, data, sizeof data) == (ssize_t)sizeof data);

    char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    expect("mmap MAP_SHARED read-write", p != MAP_FAILED && memcmp(p, data, sizeof data) == 0);
    char c = 0;
    p[0] = 'Z';
    expect("a write through the mapping is in the file", pread(fd, &c, 1, 0) == 1 && c == 'Z');
    expect("a write to the file is in the mapping", pwrite(fd, "Q", 1, 100) == 1 && p[100] == 'Q');
    char *q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
    expect("a second mapping at an offset shares the pages", q != MAP_FAILED && q[0] == p[4096]);
    q[1] = '!';
    expect("its writes show in the first", p[4097] == '!');
    expect("the end of the file reads as zeros in its page", p[10000] == 0 && p[12287] == 0);
    struct stat st;
    p[10001] = 'x';
    expect("a write there does not grow the file", fstat(fd, &st) == 0 && st.st_size == 10000);
    expect("msync", msync(p, 3 * 4096, MS_SYNC) == 0);

    expect("MADV_DONTNEED", madvise(p, 4096, MADV_DONTNEED) == 0);
    expect("the data is still the file's", p[0] == 'Z' && p[100] == 'Q');
    expect("punch a hole over page 1", fallocate_(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096) == 0);
    expect("both mappings read it as zeros", p[4097] == 0 && q[1] == 0 && p[8191] == 0);
    q[2] = 'R';
    expect("writing it again", pread(fd, &c, 1, 4098) == 1 && c == 'R' && p[4098] == 'R');
    expect("MADV_REMOVE on page 2", madvise(p + 8192, 4096, MADV_REMOVE) == 0);
    expect("takes the file's bytes too", p[8192] == 0 && pread(fd, &c, 1, 8192) == 1 && c == 0);

    char *r = mremap(q, 4096, 8192, MREMAP_MAYMOVE);
    expect("mremap grows the second mapping", r != MAP_FAILED && r[2] == 'R' && r[4096] == 0 && r[4096 + 1808] == 0);
    expect("munmap the second mapping", munmap(r, 8192) == 0);
    expect("the first one is fine", p[4098] == 'R');

    int ro = open(path, O_RDONLY);
    char *ro_map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
    expect("a read-only shared mapping sees writes", ro_map != MAP_FAILED && ro_map[0] == 'Z' &&
               pwrite(fd, "W", 1, 0) == 1 && ro_map[0] == 'W');
    EXPECT_ERRNO("mprotect it writable", mprotect(ro_map, 4096, PROT_READ | PROT_WRITE), EACCES);
    EXPECT_ERRNO("MAP_SHARED writable of a read-only descriptor", (long)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
    munmap(ro_map, 4096);
    close(ro);

    expect("close the descriptor", close(fd) == 0);
    p[1] = 'C';
    fd = open(path, O_RDWR);
    expect("the mapping outlives it", fd >= 0 && pread(fd, &c, 1, 1) == 1 && c == 'C');

    // memfd: the usual way to share memory through a file.
    int m = (int)syscall(SYS_memfd_create, "shm", 0);
    expect("memfd_create and ftruncate", m >= 0 && ftruncate(m, 8192) == 0);
    char *s = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
    memcpy(s + 5000, "shared", 6);
    char buf[6];
    expect("a memfd mapping is the memfd", s != MAP_FAILED && pread(m, buf, 6, 5000) == 6 && memcmp(buf, "shared", 6) == 0);
    munmap(s, 8192);
    close(m);

    if (argc > 1 && strcmp(argv[1], "after-truncate") == 0) {
        expect("ftruncate to one page", ftruncate(fd, 4096) == 0);
        expect("the first page is fine", p[1] == 'C');
        fflush(stdout);
        unlink(path);
        p[5000] = 1;  // SIGBUS: past the end of the file now
    }
    if (argc > 1 && strcmp(argv[1], "past-the-end") == 0) {
        char *big = mmap(NULL, 4 * 4096, PROT_READ, MAP_SHARED, fd, 0);
        expect("mmap 4 pages of a 10000-byte file", big != MAP_FAILED && big[12287] == 0);
        fflush(stdout);
        unlink(path);
        c = big[12288];  // SIGBUS: a page wholly past the end
    }
    munmap(p, 3 * 4096);
    close(fd);
    expect("unlink", unlink(path) == 0);
    return check_exit_status();
}
