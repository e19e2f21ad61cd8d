// covers: write
// Dies of SIGSEGV (a page fault at address 0) right after one line on stdout.
#include <string.h>
#include <unistd.h>

int main(void) {
    static const char msg[] = "about to write through a null pointer\n";
    if (write(1, msg, strlen(msg)) != (ssize_t)strlen(msg)) return 1;
    *(volatile int *)0 = 42;
    return 3;  // not reached on Linux
}
