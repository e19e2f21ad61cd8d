// covers: readlink
// /proc/self/exe names the running binary by an absolute path; only its basename is printed.
#include <unistd.h>

#include "check.h"

int main(void) {
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

    // A buffer too small truncates silently and returns its size, without a terminator.
    char small[4] = {'x', 'x', 'x', 'x'};
    expect("truncated readlink returns the buffer size",
           readlink("/proc/self/exe", small, 3) == 3 && small[0] == '/' && small[3] == 'x');
    EXPECT_ERRNO("readlink of a missing file", readlink("/nonexistent/utx", path, sizeof path),
                 ENOENT);
    EXPECT_ERRNO("readlink into a bad buffer", readlink("/proc/self/exe", unmapped_address, 64),
                 EFAULT);
    return check_exit_status();
}
