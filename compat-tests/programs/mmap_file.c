// covers: mmap, munmap, open, write, pread64
// Private and read-only shared mappings of a file: contents, copy-on-write privacy, the
// zero tail of the last page, and the errors for descriptors that cannot be mapped.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

int main(int argc, char **argv) {
    char path[4096];  // in /tmp, or in the directory given (a host mount under utx)
    snprintf(path, sizeof path, "%s/utx-mmap-XXXXXX", argc > 1 ? argv[1] : "/tmp");
    int fd = mkstemp(path);
    expect("mkstemp", fd >= 0);
    static char data[10000];
    for (size_t i = 0; i < sizeof data; ++i) data[i] = (char)('a' + i % 26);
    expect("write 10000 bytes", write(fd, data, sizeof data) == (ssize_t)sizeof data);

    char *p = mmap(NULL, sizeof data, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    expect("mmap MAP_PRIVATE", p != MAP_FAILED);
    expect("the mapping holds the file", memcmp(p, data, sizeof data) == 0);
    expect("the tail of the last page is zero", p[10000] == 0 && p[12287] == 0);
    p[0] = 'Z';
    char first;
    expect("private writes stay private", pread(fd, &first, 1, 0) == 1 && first == 'a');
    expect("munmap", munmap(p, sizeof data) == 0);

    char *q = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 4096);
    expect("mmap MAP_SHARED read-only at an offset", q != MAP_FAILED && memcmp(q, data + 4096, 4096) == 0);
    munmap(q, 4096);
    EXPECT_ERRNO("mmap with an unaligned offset", (long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL);
    EXPECT_ERRNO("mmap of a closed descriptor", (long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 99, 0), EBADF);
    int wfd = open(path, O_WRONLY);
    EXPECT_ERRNO("mmap of a write-only descriptor", (long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, wfd, 0), EACCES);
    close(wfd);
    int pfd[2];
    pipe(pfd);
    EXPECT_ERRNO("mmap of a pipe", (long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, pfd[0], 0), ENODEV);
    int zfd = open("/dev/zero", O_RDWR);
    char *z = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, zfd, 0);
    expect("mmap of /dev/zero is zeroed memory", z != MAP_FAILED && z[0] == 0 && z[8191] == 0);
    close(fd);
    unlink(path);
    return check_exit_status();
}
