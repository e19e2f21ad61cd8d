// covers: write, exit_group
// The smallest useful program: one line through stdio, exit status 0.
#include <stdio.h>

int main(void) {
    puts("Hello, world!");
    return 0;
}
