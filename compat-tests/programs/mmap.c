// covers: mmap, munmap, mprotect, mremap, madvise, pipe, read, write
// Anonymous memory management and the errno Linux gives for bad arguments. Error cases
// use the raw system call so that the kernel, not libc, is what is checked.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

enum { page = 4096 };

static long raw_mmap(void *addr, size_t len, int prot, int flags, int fd, long off) {
    return syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static unsigned char *map_pages(size_t pages) {
    void *p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        _exit(1);
    }
    return p;
}

int main(void) {
    const int rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;

    unsigned char *a = map_pages(4);
    expect("anonymous memory starts zeroed", a[0] == 0 && a[4 * page - 1] == 0);
    memset(a, 0x5a, 4 * page);

    // mmap argument errors.
    EXPECT_ERRNO("mmap length 0", raw_mmap(NULL, 0, rw, anon, -1, 0), EINVAL);
    EXPECT_ERRNO("mmap MAP_FIXED unaligned", raw_mmap(a + 1, page, rw, anon | MAP_FIXED, -1, 0),
                 EINVAL);
    EXPECT_ERRNO("mmap unaligned offset", raw_mmap(NULL, page, rw, anon, -1, 1), EINVAL);
    EXPECT_ERRNO("mmap without PRIVATE or SHARED", raw_mmap(NULL, page, rw, MAP_ANONYMOUS, -1, 0),
                 EINVAL);
    EXPECT_ERRNO("mmap of a bad fd", raw_mmap(NULL, page, PROT_READ, MAP_PRIVATE, 999, 0), EBADF);
    EXPECT_ERRNO("mmap MAP_FIXED_NOREPLACE over a mapping",
                 raw_mmap(a, page, rw, anon | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
    expect("MAP_FIXED_NOREPLACE failure left the contents", a[0] == 0x5a);

    // MAP_FIXED replaces part of a mapping with fresh zero pages.
    expect("mmap MAP_FIXED over the second page",
           raw_mmap(a + page, page, rw, anon | MAP_FIXED, -1, 0) == (long)(a + page));
    expect("MAP_FIXED page is zero, neighbours kept",
           a[page] == 0 && a[2 * page - 1] == 0 && a[page - 1] == 0x5a && a[2 * page] == 0x5a);

    // munmap.
    EXPECT_ERRNO("munmap unaligned address", syscall(SYS_munmap, a + 1, page), EINVAL);
    EXPECT_ERRNO("munmap length 0", syscall(SYS_munmap, a, 0), EINVAL);
    expect("munmap the third page (splits the mapping)", munmap(a + 2 * page, page) == 0);
    expect("pages around the hole are intact", a[0] == 0x5a && a[3 * page] == 0x5a);
    expect("munmap of an already unmapped range succeeds", munmap(a + 2 * page, page) == 0);

    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        return 1;
    }
    EXPECT_ERRNO("write from an unmapped page", write(fds[1], a + 2 * page, 16), EFAULT);

    // mprotect.
    EXPECT_ERRNO("mprotect unaligned", syscall(SYS_mprotect, a + 1, page, PROT_READ), EINVAL);
    EXPECT_ERRNO("mprotect with unknown bits", syscall(SYS_mprotect, a, page, 0x1000000), EINVAL);
    EXPECT_ERRNO("mprotect over a hole", syscall(SYS_mprotect, a, 4 * page, PROT_READ), ENOMEM);
    expect("mprotect read-only", mprotect(a, page, PROT_READ) == 0);
    expect("read-only page still readable", a[10] == 0x5a);
    expect("write() from a read-only page works", write(fds[1], a, 16) == 16);
    EXPECT_ERRNO("read() into a read-only page", read(fds[0], a, 16), EFAULT);
    expect("mprotect PROT_NONE", mprotect(a, page, PROT_NONE) == 0);
    EXPECT_ERRNO("write() from a PROT_NONE page", write(fds[1], a, 16), EFAULT);
    expect("mprotect back to read-write", mprotect(a, page, rw) == 0);
    a[0] = 0x11;
    expect("page writable again, contents kept", a[0] == 0x11 && a[1] == 0x5a);

    // madvise.
    EXPECT_ERRNO("madvise unaligned", syscall(SYS_madvise, a + 1, page, MADV_DONTNEED), EINVAL);
    expect("madvise MADV_DONTNEED", madvise(a + 3 * page, page, MADV_DONTNEED) == 0);
    expect("MADV_DONTNEED anonymous page reads back zero",
           a[3 * page] == 0 && a[4 * page - 1] == 0);

    // mremap.
    unsigned char *b = map_pages(2);
    memset(b, 0x77, 2 * page);
    EXPECT_ERRNO("mremap unaligned address", syscall(SYS_mremap, b + 1, page, 2 * page, 0), EINVAL);
    EXPECT_ERRNO("mremap to length 0", syscall(SYS_mremap, b, page, 0, MREMAP_MAYMOVE), EINVAL);
    EXPECT_ERRNO("mremap with unknown flags", syscall(SYS_mremap, b, page, page, 0x100), EINVAL);
    EXPECT_ERRNO("mremap growth blocked in place", syscall(SYS_mremap, b, page, 2 * page, 0),
                 ENOMEM);
    EXPECT_ERRNO("mremap of an unmapped range", syscall(SYS_mremap, a + 2 * page, page, page, 0),
                 EFAULT);
    expect("mremap shrink in place", mremap(b, 2 * page, page, 0) == b);
    unsigned char *c = mremap(b, page, 256 * page, MREMAP_MAYMOVE);
    expect("mremap grow with MREMAP_MAYMOVE", c != MAP_FAILED);
    if (c != MAP_FAILED) {
        expect("mremap kept the contents", c[0] == 0x77 && c[page - 1] == 0x77);
        expect("mremap grown part is zero", c[page] == 0 && c[256 * page - 1] == 0);
        c[256 * page - 1] = 1;
        expect("munmap the remapped region", munmap(c, 256 * page) == 0);
    }
    expect("munmap the rest", munmap(a, 2 * page) == 0 && munmap(a + 3 * page, page) == 0);
    return check_exit_status();
}
