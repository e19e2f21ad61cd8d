// covers: read, write, exit_group
// Copies stdin to stdout with a 64 KiB buffer, handling short writes; exits 1 on error.
#include <errno.h>
#include <unistd.h>

static char buffer[64 * 1024];

int main(void) {
    for (;;) {
        ssize_t n = read(0, buffer, sizeof buffer);
        if (n == 0) return 0;
        if (n < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(1, buffer + done, (size_t)(n - done));
            if (w < 0) {
                if (errno == EINTR) continue;
                return 1;
            }
            done += w;
        }
    }
}
