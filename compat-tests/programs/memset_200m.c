// covers: mmap, munmap
// malloc 200 MiB, fill it with memset and read every byte back into a checksum.
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

int main(void) {
    const size_t size = (size_t)200 << 20;
    unsigned char *p = malloc(size);
    if (!p) {
        perror("malloc 200 MiB");
        return 1;
    }
    memset(p, 0xa5, size);
    memset(p + size / 2, 0x3c, 4096);  // one page with another value in the middle
    uint64_t sum = 0;
    const uint64_t *words = (const uint64_t *)p;
    for (size_t i = 0; i < size / sizeof *words; i++) sum += words[i] ^ i;
    printf("size=%zu\n", size);
    printf("checksum=%016llx\n", (unsigned long long)sum);
    expect("first and last byte", p[0] == 0xa5 && p[size - 1] == 0xa5 && p[size / 2] == 0x3c);
    free(p);
    return check_exit_status();
}
