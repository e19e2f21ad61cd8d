// covers: brk, mmap, munmap
// Many small heap blocks with their contents checked, then a 1 GiB reservation (through
// malloc and through mmap) of which only a few pages are touched.
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "check.h"

enum { small_blocks = 20000 };

static unsigned char pattern(size_t block, size_t byte) {
    return (unsigned char)(block * 131 + byte * 7 + 1);
}

int main(void) {
    static unsigned char *blocks[small_blocks];
    int all_allocated = 1;
    for (size_t i = 0; i < small_blocks; i++) {
        size_t size = 1 + i % 257;
        blocks[i] = malloc(size);
        if (!blocks[i]) {
            all_allocated = 0;
            break;
        }
        for (size_t j = 0; j < size; j++) blocks[i][j] = pattern(i, j);
    }
    expect("20000 small blocks allocated", all_allocated);
    if (!all_allocated) return check_exit_status();
    int intact = 1;
    uint64_t sum = 0;
    for (size_t i = 0; i < small_blocks; i++) {
        size_t size = 1 + i % 257;
        for (size_t j = 0; j < size; j++) {
            intact &= blocks[i][j] == pattern(i, j);
            sum += blocks[i][j];
        }
    }
    expect("small block contents intact", intact);
    printf("small block checksum=%llu\n", (unsigned long long)sum);
    for (size_t i = 0; i < small_blocks; i += 2) free(blocks[i]);
    unsigned char *again = malloc(100);
    expect("malloc after free", again != NULL);
    free(again);
    for (size_t i = 1; i < small_blocks; i += 2) free(blocks[i]);

    const size_t gib = (size_t)1 << 30;
    unsigned char *big = malloc(gib);
    expect("malloc 1 GiB", big != NULL);
    if (big) {
        expect("1 GiB malloc is 16-byte aligned", ((uintptr_t)big & 15) == 0);
        for (size_t off = 0; off < gib; off += gib / 4) big[off] = (unsigned char)(off >> 28) + 1;
        big[gib - 1] = 0x77;
        expect("1 GiB malloc touched pages hold their values",
               big[0] == 1 && big[gib / 4] == 2 && big[gib / 2] == 3 && big[gib - 1] == 0x77);
        free(big);
    }

    unsigned char *map =
        mmap(NULL, gib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect("mmap 1 GiB", map != MAP_FAILED);
    if (map != MAP_FAILED) {
        expect("mmap result is page aligned", ((uintptr_t)map & 4095) == 0);
        map[0] = 1;
        map[gib / 2 + 123] = 2;
        map[gib - 1] = 3;
        expect("1 GiB mmap touched pages hold their values",
               map[0] == 1 && map[gib / 2 + 123] == 2 && map[gib - 1] == 3 && map[4096] == 0);
        expect("munmap 1 GiB", munmap(map, gib) == 0);
    }
    return check_exit_status();
}
