// fork_work.c: what bench/fork_bench.py times, measured inside the program.
//   fork_work fork N        N x (fork, child _exit(0), waitpid): prints fork_wait_us
//   fork_work exec N        N x (fork, child execve(self, "noop"), waitpid): fork_exec_wait_us
//   fork_work pipe MB       a forked child writes MB MiB into a pipe in 64 KiB writes, the
//                           parent reads them: prints pipe_mb_s
//   fork_work noop          exits 0 at once (the image "exec" runs)
// Each mode prints one "key value" line; any failure exits non-zero with a message.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void reap(pid_t pid) {
    int status;
    if (waitpid(pid, &status, 0) != pid) die("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "child %d ended with status %#x\n", pid, status);
        exit(1);
    }
}

static double forks(long n, const char *self) {
    double start = now_us();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) die("fork");
        if (pid == 0) {
            if (self) {
                char *argv[] = {"fork_work", "noop", NULL};
                execve(self, argv, (char *[]){NULL});
                _exit(127);
            }
            _exit(0);
        }
        reap(pid);
    }
    return (now_us() - start) / n;
}

static double pipe_throughput(long mib) {
    enum { CHUNK = 64 * 1024 };
    static char buf[CHUNK];
    int fds[2];
    if (pipe(fds) != 0) die("pipe");
    double start = now_us();
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        close(fds[0]);
        memset(buf, 'x', sizeof buf);
        for (long left = mib * 1024 * 1024; left > 0;) {
            ssize_t n = write(fds[1], buf, left < CHUNK ? left : CHUNK);
            if (n <= 0) die("write");
            left -= n;
        }
        _exit(0);
    }
    close(fds[1]);
    long total = 0;
    for (;;) {
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0) die("read");
        if (n == 0) break;
        total += n;
    }
    reap(pid);
    double secs = (now_us() - start) / 1e6;
    if (total != mib * 1024 * 1024) {
        fprintf(stderr, "read %ld bytes, expected %ld\n", total, mib * 1024 * 1024);
        exit(1);
    }
    return mib / secs;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "noop") == 0) return 0;
    if (argc != 3) {
        fprintf(stderr, "usage: fork_work fork|exec N | pipe MB | noop\n");
        return 2;
    }
    long n = atol(argv[2]);
    if (n <= 0) {
        fprintf(stderr, "fork_work: bad count %s\n", argv[2]);
        return 2;
    }
    if (strcmp(argv[1], "fork") == 0) {
        printf("fork_wait_us %.2f\n", forks(n, NULL));
    } else if (strcmp(argv[1], "exec") == 0) {
        static char self[4096];
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        if (len <= 0) die("readlink /proc/self/exe");
        self[len] = '\0';
        printf("fork_exec_wait_us %.2f\n", forks(n, self));
    } else if (strcmp(argv[1], "pipe") == 0) {
        printf("pipe_mb_s %.1f\n", pipe_throughput(n));
    } else {
        fprintf(stderr, "fork_work: unknown mode %s\n", argv[1]);
        return 2;
    }
    return 0;
}
