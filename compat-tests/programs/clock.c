// covers: clock_gettime, clock_getres, gettimeofday, time
// The clocks move forward and agree with each other. Only facts are printed, never times.
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int64_t ns(struct timespec t) {
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t now(clockid_t id) {
    struct timespec t;
    if (clock_gettime(id, &t) != 0) {
        perror("clock_gettime");
        _exit(1);
    }
    return ns(t);
}

int main(void) {
    int64_t first = now(CLOCK_MONOTONIC), later = first;
    for (long spins = 0; later == first && spins < 100000000; spins++) later = now(CLOCK_MONOTONIC);
    expect("monotonic advanced", later > first);
    int never_back = 1;
    for (int i = 0; i < 100000; i++) {
        int64_t t = now(CLOCK_MONOTONIC);
        never_back &= t >= later;
        later = t;
    }
    expect("monotonic never goes back", never_back);
    expect("monotonic is positive", first > 0);

    struct timespec res;
    expect("clock_getres monotonic is at most 1 ms", clock_getres(CLOCK_MONOTONIC, &res) == 0 &&
                                                         res.tv_sec == 0 && res.tv_nsec > 0 &&
                                                         res.tv_nsec <= 1000000);
    expect("clock_getres realtime works", clock_getres(CLOCK_REALTIME, &res) == 0);
    struct timespec t;
    EXPECT_ERRNO("clock_gettime of a bad clock id", syscall(SYS_clock_gettime, 12345, &t), EINVAL);
    EXPECT_ERRNO("clock_gettime into a bad pointer",
                 syscall(SYS_clock_gettime, CLOCK_MONOTONIC, unmapped_address), EFAULT);

    int64_t real = now(CLOCK_REALTIME);
    expect("realtime is after 2020-01-01", real / 1000000000 > 1577836800);
    struct timeval tv;
    expect("gettimeofday works", gettimeofday(&tv, NULL) == 0);
    int64_t tv_ns = (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
    expect("gettimeofday agrees with realtime within 1 s",
           tv_ns >= real - 1000000000 && tv_ns - real < 1000000000);
    expect("usec is below 1000000", tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    time_t seconds = time(NULL);
    expect("time agrees with realtime within 2 s",
           seconds >= real / 1000000000 - 1 && seconds <= real / 1000000000 + 2);
    time_t stored = 0;
    expect("time also stores its result", time(&stored) >= seconds && stored >= seconds);

    int64_t boot = now(CLOCK_BOOTTIME);
    expect("boottime is not behind monotonic", boot >= first);
    int64_t cpu = now(CLOCK_PROCESS_CPUTIME_ID);
    expect("process cpu time is positive", cpu > 0);
    return check_exit_status();
}
