// pipe_fork.c: pipes between processes. Under utx each process is a VM of its own and the
// pipe lives in the family region they share: data, end of file, EPIPE and poll all cross
// VMs, and a blocked reader is woken by the writer's VM.
// Covers: pipe, pipe2, read, write, poll, close, fork, wait4.
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int wait_status(pid_t pid) {
    int status = -1;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Reads until end of file; the number of bytes, and their sum in *sum.
static long drain(int fd, unsigned long *sum) {
    char buf[4096];
    long total = 0;
    *sum = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) return n < 0 ? -1 : total;
        for (ssize_t i = 0; i < n; ++i) *sum += (unsigned char)buf[i];
        total += n;
    }
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    int p[2];

    // A child writes, the parent reads until the child's end closes with its exit.
    expect("pipe", pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        const char msg[] = "hello from the child\n";
        _exit(write(p[1], msg, sizeof msg - 1) == sizeof msg - 1 ? 0 : 1);
    }
    close(p[1]);
    char buf[64] = {0};
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    expect("the parent reads what the child wrote", n == 21 && strcmp(buf, "hello from the child\n") == 0);
    expect("end of file once the child is gone", read(p[0], buf, sizeof buf) == 0);
    expect("the child exited 0", wait_status(pid) == 0);
    close(p[0]);

    // More than the pipe holds, the other way: the writer blocks until the reader (in
    // another VM) makes room, many times over.
    expect("pipe2", pipe2(p, O_CLOEXEC) == 0);
    pid = fork();
    if (pid == 0) {
        close(p[1]);
        unsigned long sum;
        long total = drain(p[0], &sum);
        _exit(total == 1000000 && sum == 1000000UL * 'x' ? 0 : 1);
    }
    close(p[0]);
    char chunk[10000];
    memset(chunk, 'x', sizeof chunk);
    long written = 0;
    for (int i = 0; i < 100; ++i) {
        ssize_t w = write(p[1], chunk, sizeof chunk);
        if (w > 0) written += w;
    }
    close(p[1]);
    expect("1,000,000 bytes written through a 64 KiB pipe", written == 1000000);
    expect("the child read them all", wait_status(pid) == 0);

    // A reader blocked on an empty pipe is woken when a writer in another VM writes.
    expect("pipe", pipe(p) == 0);
    pid = fork();
    if (pid == 0) {
        close(p[0]);
        sleep_ms(200);
        _exit(write(p[1], "z", 1) == 1 ? 0 : 1);
    }
    close(p[1]);
    struct pollfd pfd = {p[0], POLLIN, 0};
    expect("poll sees nothing yet", poll(&pfd, 1, 0) == 0);
    expect("poll wakes when the child writes", poll(&pfd, 1, 10000) == 1 && (pfd.revents & POLLIN));
    expect("read the byte", read(p[0], buf, 1) == 1 && buf[0] == 'z');
    expect("the child exited 0", wait_status(pid) == 0);
    pfd.revents = 0;
    expect("POLLHUP after the writer's exit", poll(&pfd, 1, 10000) == 1 && (pfd.revents & POLLHUP));
    close(p[0]);

    // A writer whose readers are all gone gets EPIPE.
    expect("pipe", pipe(p) == 0);
    pid = fork();
    if (pid == 0) _exit(0);  // it held both ends, and drops them as it exits
    close(p[0]);
    expect("the child exited 0", wait_status(pid) == 0);
    errno = 0;
    expect("write with no reader: EPIPE", write(p[1], "a", 1) == -1 && errno == EPIPE);
    close(p[1]);

    // SIGKILL ends a writer at once, and its end of the pipe with it.
    expect("pipe", pipe(p) == 0);
    pid = fork();
    if (pid == 0) {
        close(p[0]);
        for (;;) {
            if (write(p[1], "k", 1) != 1) _exit(1);
            sleep_ms(20);
        }
    }
    close(p[1]);
    expect("the writer runs", read(p[0], buf, 1) == 1 && buf[0] == 'k');
    expect("kill(writer, SIGKILL)", kill(pid, SIGKILL) == 0);
    int status = 0;
    expect("it died of SIGKILL", waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
                                     WTERMSIG(status) == SIGKILL);
    while ((n = read(p[0], buf, sizeof buf)) > 0) {
    }
    expect("then end of file", n == 0);
    close(p[0]);

    // Two children joined by a pipe, as a shell runs `a | b`; b reports on another pipe.
    int link[2], report[2];
    expect("pipes", pipe(link) == 0 && pipe(report) == 0);
    pid_t a = fork();
    if (a == 0) {
        close(link[0]);
        close(report[0]);
        close(report[1]);
        for (int i = 0; i < 1000; ++i) {
            char line[32];
            int len = snprintf(line, sizeof line, "line %d\n", i);
            if (write(link[1], line, (size_t)len) != len) _exit(1);
        }
        _exit(0);
    }
    pid_t b = fork();
    if (b == 0) {
        close(link[1]);
        close(report[0]);
        unsigned long sum;
        long total = drain(link[0], &sum);
        char line[64];
        int len = snprintf(line, sizeof line, "%ld %lu\n", total, sum);
        _exit(write(report[1], line, (size_t)len) == len ? 0 : 1);
    }
    close(link[0]);
    close(link[1]);
    close(report[1]);
    memset(buf, 0, sizeof buf);
    n = read(report[0], buf, sizeof buf - 1);
    expect("the reader counted the writer's bytes", n > 0 && strcmp(buf, "8890 618220\n") == 0);
    expect("the writer exited 0", wait_status(a) == 0);
    expect("the reader exited 0", wait_status(b) == 0);
    close(report[0]);
    return check_failures ? 1 : 0;
}
