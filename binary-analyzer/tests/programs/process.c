// Process workload for the recall test: pipe, fork, wait, signals, time, memory.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_signal(int sig) { (void)sig; }

int main(void) {
    signal(SIGUSR1, on_signal);
    raise(SIGUSR1);
    int fds[2];
    if (pipe(fds) != 0) return 1;
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        write(fds[1], "child", 5);
        _exit(3);
    }
    close(fds[1]);
    char buf[16] = {0};
    read(fds[0], buf, sizeof buf - 1);
    int status = 0;
    waitpid(child, &status, 0);
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    void* p = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(p, 4096, PROT_READ);
    munmap(p, 1 << 16);
    char* big = malloc(8 << 20);
    memset(big, 1, 8 << 20);
    free(big);
    printf("%s %d %ld %ld\n", buf, WEXITSTATUS(status), (long)getppid(), (long)syscall(SYS_gettid));
    return 0;
}
