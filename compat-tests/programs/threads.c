// covers: clone, futex, set_tid_address, gettid, exit, sched_yield, set_robust_list
// POSIX threads as glibc and musl build them on clone and futex: create and join (1 to 64
// threads), mutexes, condition variables, barriers, rwlocks, spinlocks, semaphores,
// thread-local storage, detached threads, timed waits that time out, and a producer and a
// consumer talking through a pipe. Prints only what must be the same everywhere.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static __thread int tls_value = 7;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *add_many(void *arg) {
    long n = (long)arg;
    for (long i = 0; i < n; ++i) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        if (i % 1000 == 0) sched_yield();
    }
    return (void *)(n * 2);
}

static void *tls_worker(void *arg) {
    tls_value = (int)(intptr_t)arg;  // each thread its own copy
    for (int i = 0; i < 100; ++i) sched_yield();
    return (void *)(intptr_t)(tls_value == (int)(intptr_t)arg);
}

static void *own_tid(void *arg) {
    *(long *)arg = syscall(SYS_gettid);
    return NULL;
}

// A bounded queue with two condition variables.
#define SLOTS 4
static int queue[SLOTS], q_head, q_count;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;

static void *producer(void *arg) {
    (void)arg;
    for (int i = 1; i <= 1000; ++i) {
        pthread_mutex_lock(&lock);
        while (q_count == SLOTS) pthread_cond_wait(&not_full, &lock);
        queue[(q_head + q_count++) % SLOTS] = i;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static pthread_barrier_t barrier;
static int arrived;
static void *barrier_worker(void *arg) {
    (void)arg;
    __atomic_fetch_add(&arrived, 1, __ATOMIC_SEQ_CST);
    int r = pthread_barrier_wait(&barrier);
    // Everyone arrived before anyone left.
    return (void *)(intptr_t)((r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD) && arrived == 8);
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static int shared_value;
static void *reader(void *arg) {
    (void)arg;
    int ok = 1;
    for (int i = 0; i < 200; ++i) {
        pthread_rwlock_rdlock(&rw);
        int v = shared_value;
        sched_yield();
        ok &= v == shared_value;  // no writer inside a read section
        pthread_rwlock_unlock(&rw);
    }
    return (void *)(intptr_t)ok;
}
static void *writer(void *arg) {
    (void)arg;
    for (int i = 0; i < 200; ++i) {
        pthread_rwlock_wrlock(&rw);
        shared_value++;
        pthread_rwlock_unlock(&rw);
        sched_yield();
    }
    return NULL;
}

static pthread_spinlock_t spin;
static long spin_counter;
static void *spinner(void *arg) {
    (void)arg;
    for (int i = 0; i < 10000; ++i) {
        pthread_spin_lock(&spin);
        spin_counter++;
        pthread_spin_unlock(&spin);
    }
    return NULL;
}

static int pipe_fds[2];
static void *pipe_writer(void *arg) {
    (void)arg;
    char buf[1000];
    for (int i = 0; i < 300; ++i) {  // 300 KB through a 64 KiB pipe: the writer must wait
        for (int j = 0; j < 1000; ++j) buf[j] = (char)(i + j);
        if (write(pipe_fds[1], buf, sizeof buf) != sizeof buf) return (void *)0;
    }
    close(pipe_fds[1]);
    return (void *)1;
}

static sem_t detached_done;
static void *detached(void *arg) {
    (void)arg;
    sem_post(&detached_done);
    return NULL;
}

int main(void) {
    // 1, 8 and 64 threads incrementing one counter under a mutex.
    int sizes[] = {1, 8, 64};
    for (int s = 0; s < 3; ++s) {
        int n = sizes[s];
        pthread_t t[64];
        counter = 0;
        int created = 1, joined = 1;
        for (int i = 0; i < n; ++i) created &= pthread_create(&t[i], NULL, add_many, (void *)5000L) == 0;
        for (int i = 0; i < n; ++i) {
            void *ret;
            joined &= pthread_join(t[i], &ret) == 0 && ret == (void *)10000L;
        }
        char label[64];
        snprintf(label, sizeof label, "%d threads created", n);
        expect(label, created);
        snprintf(label, sizeof label, "%d threads joined with their results", n);
        expect(label, joined);
        snprintf(label, sizeof label, "%d threads counted under a mutex", n);
        expect(label, counter == 5000L * n);
    }

    // Thread-local storage.
    pthread_t t[8];
    int tls_ok = 1;
    for (int i = 0; i < 8; ++i) pthread_create(&t[i], NULL, tls_worker, (void *)(intptr_t)(100 + i));
    for (int i = 0; i < 8; ++i) {
        void *r;
        pthread_join(t[i], &r);
        tls_ok &= r == (void *)1;
    }
    expect("each thread has its own __thread variable", tls_ok);
    expect("the main thread's copy is untouched", tls_value == 7);

    long tid = 0;
    pthread_create(&t[0], NULL, own_tid, &tid);
    pthread_join(t[0], NULL);
    expect("a thread's tid differs from the process id", tid > 0 && tid != getpid());
    expect("gettid in the main thread is the pid", syscall(SYS_gettid) == getpid());

    // Producer and consumer on condition variables.
    pthread_create(&t[0], NULL, producer, NULL);
    long sum = 0;
    int in_order = 1, last = 0;
    for (int i = 0; i < 1000; ++i) {
        pthread_mutex_lock(&lock);
        while (q_count == 0) pthread_cond_wait(&not_empty, &lock);
        int v = queue[q_head];
        q_head = (q_head + 1) % SLOTS;
        q_count--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&lock);
        in_order &= v == last + 1;
        last = v;
        sum += v;
    }
    pthread_join(t[0], NULL);
    expect("condition variables pass 1000 items in order", in_order && sum == 500500);

    // Barrier.
    pthread_barrier_init(&barrier, NULL, 8);
    int barrier_ok = 1;
    for (int i = 0; i < 8; ++i) pthread_create(&t[i], NULL, barrier_worker, NULL);
    for (int i = 0; i < 8; ++i) {
        void *r;
        pthread_join(t[i], &r);
        barrier_ok &= r == (void *)1;
    }
    expect("a barrier holds 8 threads until all arrive", barrier_ok);

    // rwlock: 4 readers, 2 writers.
    for (int i = 0; i < 4; ++i) pthread_create(&t[i], NULL, reader, NULL);
    for (int i = 4; i < 6; ++i) pthread_create(&t[i], NULL, writer, NULL);
    int rw_ok = 1;
    for (int i = 0; i < 6; ++i) {
        void *r;
        pthread_join(t[i], &r);
        if (i < 4) rw_ok &= r == (void *)1;
    }
    expect("rwlock readers never see a writer", rw_ok && shared_value == 400);

    // Spinlock.
    pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
    for (int i = 0; i < 4; ++i) pthread_create(&t[i], NULL, spinner, NULL);
    for (int i = 0; i < 4; ++i) pthread_join(t[i], NULL);
    expect("spinlock counts", spin_counter == 40000);

    // A pipe between two threads.
    expect("pipe", pipe(pipe_fds) == 0);
    pthread_create(&t[0], NULL, pipe_writer, NULL);
    char buf[4096];
    long got = 0, bad = 0;
    ssize_t n;
    while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0) {
        for (ssize_t j = 0; j < n; ++j, ++got)
            bad += buf[j] != (char)(got / 1000 + got % 1000);
    }
    void *wrote;
    pthread_join(t[0], &wrote);
    expect("300 KB through a pipe between threads, then end of file", got == 300000 && bad == 0 && wrote == (void *)1);
    close(pipe_fds[0]);

    // Detached thread.
    sem_init(&detached_done, 0, 0);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    expect("a detached thread starts", pthread_create(&t[0], &attr, detached, NULL) == 0);
    expect("and runs", sem_wait(&detached_done) == 0);

    // Timed waits that time out (futex timeouts, relative and absolute).
    struct timespec start, end, abs;
    clock_gettime(CLOCK_MONOTONIC, &start);
    clock_gettime(CLOCK_REALTIME, &abs);
    abs.tv_nsec += 50 * 1000 * 1000;
    if (abs.tv_nsec >= 1000000000) abs.tv_sec++, abs.tv_nsec -= 1000000000;
    pthread_mutex_lock(&lock);
    int r = pthread_cond_timedwait(&not_empty, &lock, &abs);
    pthread_mutex_unlock(&lock);
    clock_gettime(CLOCK_MONOTONIC, &end);
    long ms = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000;
    expect("pthread_cond_timedwait times out", r == ETIMEDOUT);
    expect("after about 50 ms", ms >= 45 && ms < 2000);
    sem_t never;
    sem_init(&never, 0, 0);
    clock_gettime(CLOCK_REALTIME, &abs);
    abs.tv_nsec += 20 * 1000 * 1000;
    if (abs.tv_nsec >= 1000000000) abs.tv_sec++, abs.tv_nsec -= 1000000000;
    errno = 0;
    expect("sem_timedwait times out", sem_timedwait(&never, &abs) == -1 && errno == ETIMEDOUT);
    struct timespec rel = {0, 10 * 1000 * 1000};
    int word = 0;
    EXPECT_ERRNO("FUTEX_WAIT with a relative timeout", syscall(SYS_futex, &word, 0 /* FUTEX_WAIT */, 0, &rel, NULL, 0), ETIMEDOUT);
    EXPECT_ERRNO("FUTEX_WAIT on a changed value", syscall(SYS_futex, &word, 0, 1, NULL, NULL, 0), EAGAIN);
    EXPECT_ERRNO("FUTEX_WAIT on a misaligned word", syscall(SYS_futex, (char *)&word + 1, 0, 0, NULL, NULL, 0), EINVAL);
    EXPECT_ERRNO("FUTEX_WAIT_BITSET with bitset 0", syscall(SYS_futex, &word, 9, 0, NULL, NULL, 0), EINVAL);
    expect("FUTEX_WAKE with nobody waiting", syscall(SYS_futex, &word, 1, 1, NULL, NULL, 0) == 0);
    return check_exit_status();
}
