// fork_stress.c: many processes. 500 fork+exit+wait in a row, 50 children writing to one
// pipe at once, and a pipeline of 20 processes; under utx each process is a VM of its own.
// With STRESS_SHMEM_REPORT set, the growth of Shmem in /proc/meminfo over the whole run
// (under utx: the family region's pages in use, which must all come back) goes to stderr.
// Covers: fork, _exit, wait4, pipe, dup2, read, write, close.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum { kSequential = 500, kWriters = 50, kRecords = 100, kStages = 20, kNumbers = 2000 };

static long shmem_kb(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Shmem: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

static void sequential(void) {
    int bad = 0, failed_forks = 0;
    for (int i = 0; i < kSequential; ++i) {
        pid_t pid = fork();
        if (pid == 0) _exit(i % 256);
        if (pid < 0) {
            failed_forks++;
            continue;
        }
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != i % 256)
            bad++;
    }
    if (failed_forks || bad) fprintf(stderr, "%d forks failed, %d bad statuses\n", failed_forks, bad);
    expect("500 fork+exit+wait in a row, each status right", !failed_forks && !bad);
    expect("then no child is left", wait(NULL) == -1 && errno == ECHILD);
}

// Records of a fixed size, smaller than PIPE_BUF: each write is atomic.
static void writers(void) {
    int fds[2];
    if (pipe(fds) != 0) {
        expect("pipe", 0);
        return;
    }
    for (int c = 0; c < kWriters; ++c) {
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            for (int r = 0; r < kRecords; ++r) {
                char rec[32];
                memset(rec, '.', sizeof rec);
                int n = snprintf(rec, sizeof rec, "writer %02d record %03d ", c, r);
                rec[n] = '.';
                rec[30] = '\n';
                if (write(fds[1], rec, 31) != 31) _exit(1);
            }
            _exit(0);
        }
        if (pid < 0) fprintf(stderr, "fork %d: %s\n", c, strerror(errno));
    }
    close(fds[1]);
    int next[kWriters] = {0}, records = 0, torn = 0, out_of_order = 0;
    char rec[32];
    while (read_full(fds[0], rec, 31) == 31) {
        int c, r;
        rec[31] = 0;
        if (sscanf(rec, "writer %d record %d ", &c, &r) != 2 || c < 0 || c >= kWriters ||
            strlen(rec) != 31 || rec[30] != '\n') {
            torn++;
            continue;
        }
        if (r != next[c]) out_of_order++;
        next[c] = r + 1;
        records++;
    }
    close(fds[0]);
    int exited = 0, status;
    while (wait(&status) > 0)
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) exited++;
    if (records != kWriters * kRecords || torn || out_of_order || exited != kWriters)
        fprintf(stderr, "%d records, %d torn, %d out of order, %d writers exited 0\n", records,
                torn, out_of_order, exited);
    expect("50 writers at once: every record whole, each writer's in order",
           records == kWriters * kRecords && !torn && !out_of_order);
    expect("and all of them exited 0", exited == kWriters);
}

// Each stage adds one to every number it reads, line by line.
static void stage(void) {
    FILE *out = fdopen(1, "w");  // buffered, unlike the parent's stdout
    char line[64];
    while (fgets(line, sizeof line, stdin)) fprintf(out, "%ld\n", strtol(line, NULL, 10) + 1);
    _exit(ferror(stdin) || fclose(out) != 0 ? 1 : 0);
}

static void pipeline(void) {
    int first[2];
    if (pipe(first) != 0) {
        expect("pipe", 0);
        return;
    }
    int in = first[0];
    for (int s = 0; s < kStages; ++s) {
        int next[2];
        if (pipe(next) != 0) break;
        pid_t pid = fork();
        if (pid == 0) {
            dup2(in, 0);
            dup2(next[1], 1);
            close(in);
            close(next[0]);
            close(next[1]);
            close(first[1]);
            stage();
        }
        close(in);
        close(next[1]);
        in = next[0];
    }
    pid_t feeder = fork();
    if (feeder == 0) {
        close(in);
        FILE *f = fdopen(first[1], "w");
        for (int i = 0; i < kNumbers; ++i) fprintf(f, "%d\n", i);
        _exit(fclose(f) == 0 ? 0 : 1);
    }
    close(first[1]);
    FILE *out = fdopen(in, "r");
    char line[64];
    int count = 0, wrong = 0;
    while (fgets(line, sizeof line, out)) {
        if (strtol(line, NULL, 10) != count + kStages) wrong++;
        count++;
    }
    fclose(out);
    int ok = 0, status;
    while (wait(&status) > 0)
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ok++;
    if (count != kNumbers || wrong || ok != kStages + 1)
        fprintf(stderr, "%d lines, %d wrong, %d processes exited 0\n", count, wrong, ok);
    expect("a pipeline of 20 processes: every number went through all of them",
           count == kNumbers && !wrong);
    expect("and each of them exited 0", ok == kStages + 1);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);  // nothing buffered for the children to repeat
    const long before = shmem_kb();
    sequential();
    writers();
    pipeline();
    if (getenv("STRESS_SHMEM_REPORT"))
        fprintf(stderr, "shmem growth: %ld kB\n", shmem_kb() - before);
    return check_failures != 0;
}
