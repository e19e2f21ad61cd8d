// covers: write, exit_group
// The stack grows on demand up to RLIMIT_STACK, then a fault beyond it is SIGSEGV.
// Deep recursion first within the limit (must work), then without bound (must die).
#include <stdio.h>
#include <stdlib.h>

static int depth(volatile char *prev, int n) {
    volatile char frame[1024];
    frame[0] = (char)n;
    frame[1023] = prev ? prev[0] : 0;
    return n ? depth(frame, n - 1) + frame[0] : 0;
}

int main(int argc, char **argv) {
    // About 4 MiB of stack: within the 8 MiB default limit.
    volatile int sink = depth(NULL, 4000);
    (void)sink;
    printf("4 MiB of stack: ok\n");
    fflush(stdout);
    if (argc > 1) {
        printf("recursing without bound\n");
        fflush(stdout);
        return depth(NULL, atoi(argv[1]));
    }
    return 0;
}
