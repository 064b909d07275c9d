/* sched_getaffinity and CPU_COUNT are GNU extensions. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "threads.h"

#include <cblas.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/* Flush denormals to zero on every thread of the pool. Gradients of a
 * trained model drift into the denormal range (< 1e-38), where x86 float
 * arithmetic is 10-100x slower; values that small change nothing. */
static void flush_denormals(void)
{
#if defined(__x86_64__) || defined(__i386__)
#pragma omp parallel
    _mm_setcsr(_mm_getcsr() | 0x8040); /* FTZ | DAZ */
#endif
}

/* The CPUs this process may run on: a container or `taskset` can allow
 * fewer than the machine has online, and threads beyond them only queue. */
int threads_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void threads_passive_waits(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    const char *preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload")) return;
    char self[4096]; /* the binary's own path, not /proc/self/exe: the process keeps its name */
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || n >= (ssize_t)sizeof self - 1) return;
    self[n] = '\0';
    if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
    execv(self, argv);
    unsetenv("OMP_WAIT_POLICY"); /* not in force in this process: results must not claim it */
}

static int g_threads = 1; /* set once at start-up by the CLI; read-only after */

int threads_init(int n)
{
    if (n <= 0) {
        const char *env = getenv("OMP_NUM_THREADS");
        n = env ? atoi(env) : 0;
        if (n <= 0) n = threads_cores();
    }
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    openblas_set_num_threads(n);
    flush_denormals();
    g_threads = n;
    return n;
}

int threads_count(void) { return g_threads; }

const char *threads_blas_kind(void)
{
    switch (openblas_get_parallel()) {
    case 0: return "serial";
    case 1: return "pthreads";
    default: return "openmp";
    }
}
