// bench/fs_workload.c: file system workloads for bench/fs_bench.py, timed by the program
// itself (CLOCK_MONOTONIC) so that neither process start nor a VM's boot counts.
//
//   fs_workload DIR postmark [FILES [TRANSACTIONS [SUBDIRS]]]
//       In the empty directory DIR: create FILES files of 4 KiB spread over SUBDIRS
//       subdirectories, run TRANSACTIONS transactions (each a read or an append of 4 KiB on
//       an existing file, then a create of a new 4 KiB file or a delete), delete everything.
//       Prints "postmark_create_ops", "postmark_transactions_ops", "postmark_delete_ops" and
//       "postmark_total_ops" (operations per second) and "postmark_ops" (their count).
//   fs_workload DIR seqio [MIB]
//       Writes DIR/seqio.dat, MIB MiB (256 by default) in 1 MiB writes, fsyncs and closes it,
//       reads it back in 1 MiB reads, checks one word per MiB and deletes it. Prints
//       "seqio_write_mibs" and "seqio_read_mibs" (MiB per second, the fsync and close
//       counted in the write).
//
// Output is one "key value" pair a line. Any failing call ends the program with status 1
// and the call named on stderr: a benchmark that silently skipped work would lie.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_SIZE 4096
#define MIB (1024 * 1024)

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what, const char *path) {
    fprintf(stderr, "fs_workload: %s %s: %s\n", what, path ? path : "", strerror(errno));
    exit(1);
}

// xorshift64*: the same sequence of operations on every run and every system.
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static char block[FILE_SIZE];

static void write_all(int fd, const void *buf, size_t len, const char *path) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) die("write", path);
        p += n;
        len -= (size_t)n;
    }
}

// --- postmark ---

struct slot {
    int live;
    unsigned serial;  // names stay unique: a deleted file's slot gets a new name
};

static const char *dir_root;
static unsigned subdirs;

static void slot_path(char *out, size_t size, unsigned index, const struct slot *s) {
    snprintf(out, size, "%s/d%02u/f%06u_%u", dir_root, index % subdirs, index, s->serial);
}

static void create_file(unsigned index, struct slot *s) {
    char path[4096];
    slot_path(path, sizeof path, index, s);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) die("create", path);
    write_all(fd, block, FILE_SIZE, path);
    if (close(fd) != 0) die("close", path);
    s->live = 1;
}

static void delete_file(unsigned index, struct slot *s) {
    char path[4096];
    slot_path(path, sizeof path, index, s);
    if (unlink(path) != 0) die("unlink", path);
    s->live = 0;
    ++s->serial;
}

static void read_file(unsigned index, const struct slot *s) {
    char path[4096], buf[FILE_SIZE * 2];
    slot_path(path, sizeof path, index, s);
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("open", path);
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
    }
    if (n < 0) die("read", path);
    if (close(fd) != 0) die("close", path);
}

static void append_file(unsigned index, const struct slot *s) {
    char path[4096];
    slot_path(path, sizeof path, index, s);
    int fd = open(path, O_WRONLY | O_APPEND);
    if (fd < 0) die("open", path);
    write_all(fd, block, FILE_SIZE, path);
    if (close(fd) != 0) die("close", path);
}

// A live slot (or a dead one when want_live is 0), searching from a random start.
static unsigned pick(struct slot *slots, unsigned n, int want_live) {
    unsigned start = (unsigned)(rng() % n);
    for (unsigned i = 0; i < n; ++i) {
        unsigned j = (start + i) % n;
        if (slots[j].live == want_live) return j;
    }
    return n;
}

static int postmark(const char *dir, unsigned files, unsigned transactions, unsigned ndirs) {
    dir_root = dir;
    subdirs = ndirs;
    memset(block, 'p', sizeof block);
    // Room for the files created by transactions, so that creates always find a free slot.
    unsigned capacity = files + transactions;
    struct slot *slots = calloc(capacity, sizeof *slots);
    if (!slots) die("calloc", NULL);
    char path[4096];
    for (unsigned d = 0; d < subdirs; ++d) {
        snprintf(path, sizeof path, "%s/d%02u", dir, d);
        if (mkdir(path, 0755) != 0) die("mkdir", path);
    }

    double t0 = now_s();
    for (unsigned i = 0; i < files; ++i) create_file(i, &slots[i]);
    double t1 = now_s();
    unsigned live = files;
    for (unsigned t = 0; t < transactions; ++t) {
        unsigned victim = pick(slots, capacity, 1);
        if (victim < capacity) {
            if (rng() & 1)
                read_file(victim, &slots[victim]);
            else
                append_file(victim, &slots[victim]);
        }
        if ((rng() & 1) || live == 0) {
            unsigned free_slot = pick(slots, capacity, 0);
            create_file(free_slot, &slots[free_slot]);
            ++live;
        } else {
            unsigned gone = pick(slots, capacity, 1);
            delete_file(gone, &slots[gone]);
            --live;
        }
    }
    double t2 = now_s();
    unsigned deleted = 0;
    for (unsigned i = 0; i < capacity; ++i)
        if (slots[i].live) {
            delete_file(i, &slots[i]);
            ++deleted;
        }
    double t3 = now_s();

    for (unsigned d = 0; d < subdirs; ++d) {
        snprintf(path, sizeof path, "%s/d%02u", dir, d);
        if (rmdir(path) != 0) die("rmdir", path);  // also proves every file was deleted
    }
    // A transaction is two operations: the read or append, the create or delete.
    double ops = files + 2.0 * transactions + deleted;
    printf("postmark_create_ops %.1f\n", files / (t1 - t0));
    printf("postmark_transactions_ops %.1f\n", transactions / (t2 - t1));
    printf("postmark_delete_ops %.1f\n", deleted / (t3 - t2));
    printf("postmark_total_ops %.1f\n", ops / (t3 - t0));
    printf("postmark_ops %.0f\n", ops);
    free(slots);
    return 0;
}

// --- sequential I/O ---

static int seqio(const char *dir, unsigned mib) {
    char path[4096];
    snprintf(path, sizeof path, "%s/seqio.dat", dir);
    char *buf = malloc(MIB);
    if (!buf) die("malloc", NULL);
    memset(buf, 's', MIB);

    double t0 = now_s();
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) die("create", path);
    for (unsigned i = 0; i < mib; ++i) {
        memcpy(buf, &i, sizeof i);  // each MiB says which it is, checked on the way back
        write_all(fd, buf, MIB, path);
    }
    if (fsync(fd) != 0) die("fsync", path);
    if (close(fd) != 0) die("close", path);
    double t1 = now_s();

    fd = open(path, O_RDONLY);
    if (fd < 0) die("open", path);
    for (unsigned i = 0; i < mib; ++i) {
        size_t got = 0;
        while (got < MIB) {
            ssize_t n = read(fd, buf + got, MIB - got);
            if (n < 0) die("read", path);
            if (n == 0) {
                fprintf(stderr, "fs_workload: %s: short file at MiB %u\n", path, i);
                return 1;
            }
            got += (size_t)n;
        }
        unsigned tag;
        memcpy(&tag, buf, sizeof tag);
        if (tag != i || buf[MIB - 1] != 's') {
            fprintf(stderr, "fs_workload: %s: wrong data in MiB %u\n", path, i);
            return 1;
        }
    }
    if (close(fd) != 0) die("close", path);
    double t2 = now_s();

    if (unlink(path) != 0) die("unlink", path);
    printf("seqio_write_mibs %.1f\n", mib / (t1 - t0));
    printf("seqio_read_mibs %.1f\n", mib / (t2 - t1));
    free(buf);
    return 0;
}

static unsigned arg(int argc, char **argv, int i, unsigned fallback) {
    if (argc <= i) return fallback;
    char *end;
    unsigned long v = strtoul(argv[i], &end, 10);
    if (*end != '\0' || v == 0 || v > 10000000) {
        fprintf(stderr, "fs_workload: bad number '%s'\n", argv[i]);
        exit(2);
    }
    return (unsigned)v;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[2], "postmark") == 0)
        return postmark(argv[1], arg(argc, argv, 3, 5000), arg(argc, argv, 4, 10000),
                        arg(argc, argv, 5, 10));
    if (argc >= 3 && strcmp(argv[2], "seqio") == 0) return seqio(argv[1], arg(argc, argv, 3, 256));
    fprintf(stderr, "usage: fs_workload DIR postmark [FILES [TRANSACTIONS [SUBDIRS]]]\n"
                    "       fs_workload DIR seqio [MIB]\n");
    return 2;
}
