// covers: write, exit_group
// Echoes argc, every argv string and every environment string, in order, so the
// harness can compare what the guest sees with what a native process sees.
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    if (argv[argc] != NULL) return 1;
    int n = 0;
    for (char **e = environ; *e; e++, n++) printf("env[%d]=%s\n", n, *e);
    printf("envc=%d\n", n);
    return 0;
}
