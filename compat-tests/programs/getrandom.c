// covers: getrandom
// 16 random bytes are not all zero and two draws differ; bad flags give EINVAL.
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    unsigned char a[16] = {0}, b[16] = {0};
    expect("getrandom 16 bytes", getrandom(a, sizeof a, 0) == (ssize_t)sizeof a);
    int nonzero = 0;
    for (size_t i = 0; i < sizeof a; i++) nonzero |= a[i];
    expect("random bytes are not all zero", nonzero != 0);
    expect("getrandom GRND_NONBLOCK", getrandom(b, sizeof b, GRND_NONBLOCK) == (ssize_t)sizeof b);
    expect("two draws differ", memcmp(a, b, sizeof a) != 0);
    static unsigned char big[1 << 20];
    ssize_t n = getrandom(big, sizeof big, 0);
    expect("getrandom 1 MiB returns at least 256 bytes", n >= 256 && n <= (ssize_t)sizeof big);
    expect("getrandom 0 bytes", getrandom(a, 0, 0) == 0);
    EXPECT_ERRNO("getrandom with unknown flags", syscall(SYS_getrandom, a, sizeof a, 0x100),
                 EINVAL);
    EXPECT_ERRNO("getrandom into a bad pointer", syscall(SYS_getrandom, unmapped_address, 16, 0),
                 EFAULT);
    puts(check_failures ? "not ok" : "ok");
    return check_exit_status();
}
