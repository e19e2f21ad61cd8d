// covers: clone, futex, sched_yield
// An OpenMP program (gcc -fopenmp, libgomp's thread pool over pthreads): parallel loops
// with reductions, sections, a critical section, barriers and tasks, for 1 to 8 threads.
// The output must equal native whatever the number of vCPUs (pi to 6 places: the order of
// a floating-point reduction may differ).
#include <omp.h>
#include <stdio.h>

#include "check.h"

static long fib(int n) {
    if (n < 2) return n;
    long a, b;
#pragma omp task shared(a)
    a = fib(n - 1);
#pragma omp task shared(b)
    b = fib(n - 2);
#pragma omp taskwait
    return a + b;
}

int main(void) {
    for (int threads = 1; threads <= 8; threads *= 2) {
        long sum = 0;
        double area = 0;
#pragma omp parallel for reduction(+ : sum, area) num_threads(threads) schedule(dynamic, 1000)
        for (long i = 0; i < 2000000; ++i) {
            sum += i % 7;
            area += 1.0 / (1.0 + ((i + 0.5) / 2000000) * ((i + 0.5) / 2000000));
        }
        int members = 0, critical = 0;
#pragma omp parallel num_threads(threads)
        {
#pragma omp atomic
            members++;
#pragma omp barrier
#pragma omp critical
            critical += members;
        }
        long f = 0;
#pragma omp parallel num_threads(threads)
#pragma omp single
        f = fib(18);
        printf("%d threads: sum %ld pi %.6f team %d critical %d fib %ld\n", threads, sum,
               4 * area / 2000000, members, critical, f);
    }
    return check_exit_status();
}
