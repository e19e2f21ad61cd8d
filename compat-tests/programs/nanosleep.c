// covers: nanosleep, clock_nanosleep, clock_gettime
// Sleeps of 10 ms last at least 10 ms on the monotonic clock; bad arguments give EINVAL.
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int64_t mono_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(void) {
    const int64_t ten_ms = 10000000;
    struct timespec req = {0, ten_ms}, rem = {0, 0};

    int64_t start = mono_ns();
    expect("nanosleep 10 ms returns 0", syscall(SYS_nanosleep, &req, &rem) == 0);
    int64_t slept = mono_ns() - start;
    expect("nanosleep lasted at least 10 ms", slept >= ten_ms);
    expect("nanosleep lasted less than 5 s", slept < 5000000000LL);

    start = mono_ns();
    expect("clock_nanosleep relative 10 ms",
           syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL) == 0);
    expect("clock_nanosleep lasted at least 10 ms", mono_ns() - start >= ten_ms);

    start = mono_ns();
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += ten_ms;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    expect("clock_nanosleep TIMER_ABSTIME",
           syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == 0);
    expect("absolute sleep reached its deadline",
           mono_ns() >= (int64_t)deadline.tv_sec * 1000000000 + deadline.tv_nsec);

    struct timespec zero = {0, 0};
    expect("nanosleep of zero returns 0", syscall(SYS_nanosleep, &zero, NULL) == 0);
    struct timespec bad = {0, 1000000000};
    EXPECT_ERRNO("nanosleep with tv_nsec 1e9", syscall(SYS_nanosleep, &bad, NULL), EINVAL);
    struct timespec negative = {-1, 0};
    EXPECT_ERRNO("nanosleep with a negative time", syscall(SYS_nanosleep, &negative, NULL), EINVAL);
    EXPECT_ERRNO("nanosleep from a bad pointer", syscall(SYS_nanosleep, unmapped_address, NULL),
                 EFAULT);
    // clock_nanosleep returns the error number instead of setting errno.
    expect("clock_nanosleep of a bad clock returns EINVAL",
           clock_nanosleep(12345, 0, &req, NULL) == EINVAL);
    return check_exit_status();
}
