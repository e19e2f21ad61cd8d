// covers: readlink
// /proc/self/exe names the running binary by an absolute path; only its basename is printed.
// Then the program runs itself again twice through execve("/proc/self/exe"), after which
// the link still names the same file (argv[1] carries the first path, argv[2] the count).
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

extern char **environ;

int main(int argc, char **argv) {
    char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n < 0) {
        perror("readlink /proc/self/exe");
        return 1;
    }
    path[n] = '\0';
    expect("path is absolute", path[0] == '/');
    const char *slash = strrchr(path, '/');
    printf("basename=%s\n", slash ? slash + 1 : path);
    if (argc == 3) {
        expect("/proc/self/exe is the same file after execve of it", strcmp(path, argv[1]) == 0);
        if (atoi(argv[2]) > 1) {
            char *next[] = {argv[0], argv[1], "1", NULL};
            fflush(stdout);
            execve("/proc/self/exe", next, environ);
            perror("second execve of /proc/self/exe");
            return 1;
        }
        return check_exit_status();
    }

    // A buffer too small truncates silently and returns its size, without a terminator.
    char small[4] = {'x', 'x', 'x', 'x'};
    expect("truncated readlink returns the buffer size",
           readlink("/proc/self/exe", small, 3) == 3 && small[0] == '/' && small[3] == 'x');
    EXPECT_ERRNO("readlink of a missing file", readlink("/nonexistent/utx", path, sizeof path),
                 ENOENT);
    EXPECT_ERRNO("readlink into a bad buffer", readlink("/proc/self/exe", unmapped_address, 64),
                 EFAULT);
    if (check_exit_status() != 0) return 1;
    fflush(stdout);
    char *next[] = {argv[0], path, "2", NULL};
    execve("/proc/self/exe", next, environ);
    perror("execve /proc/self/exe");
    return 1;
}
