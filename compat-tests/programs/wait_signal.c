// covers: pause, rt_sigaction
// Signals from outside: prints "ready", then waits for a signal sent to it (to utx-run
// under utx): "pause" sleeps in pause(), "spin" runs without making a system call, and
// "default" keeps the default actions and is ended by the signal.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void handler(int sig) { got = sig; }

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "pause";
    if (strcmp(mode, "default") != 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = handler;
        for (int sig = 1; sig < 32; ++sig)
            if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &sa, NULL);
    }
    printf("ready\n");
    fflush(stdout);
    if (strcmp(mode, "spin") == 0)
        while (!got) {
        }
    else
        while (!got) pause();
    printf("got signal %d\n", (int)got);
    return 0;
}
