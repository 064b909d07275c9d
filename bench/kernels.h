/* `bench kernels`: time against sequence length of each sequence-mixing
 * kernel, forward and forward + backward, at one width, and the log-log
 * slope of that time (linear scans ~1, attention -> 2 once its T x T part
 * dominates). */
#ifndef SEQ_BENCH_KERNELS_H
#define SEQ_BENCH_KERNELS_H

#include <math.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bench/harness.h"

/* selective_scan, mamba1, mamba2, rglru, attention (bench/kernels.c's table) */
#define BENCH_N_KERNELS 5

typedef struct {
    int d_model, d_state, heads, batch, repeats;
    uint64_t seed;
    BenchList lengths;
    int use[BENCH_N_KERNELS]; /* which kernels run: bench_kernels_select */
} BenchKernels;

/* "all" or a comma-separated list of kernel names into use[]. */
int bench_kernels_select(const char *list, int *use, Err *e);
/* Builds each chosen kernel's one-sublayer model: a width a family cannot
 * take (heads not dividing d_model, ...) fails here, before anything is timed. */
int bench_kernels_check(const BenchKernels *s, Err *e);
/* Times every chosen kernel, pass and length (a cell whose memory is not
 * there is recorded as oom); a table and the slopes on stdout,
 * "metrics": {"kernels": ...} in res. */
int bench_kernels_run(const BenchKernels *s, cJSON *res, Err *e);

/* Least-squares slope of log(sec) against log(len) over n points; NAN when
 * fewer than two distinct lengths (or a non-positive value) leave it undefined.
 * An exact power law c·len^k gives k. */
static inline double bench_loglog_slope(const double *len, const double *sec, int n)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        if (!(len[i] > 0 && sec[i] > 0)) return NAN;
        double x = log(len[i]), y = log(sec[i]);
        sx += x; sy += y; sxx += x * x; sxy += x * y;
    }
    double var = n * sxx - sx * sx;
    if (n < 2 || !(var > 1e-12 * (n * sxx + 1))) return NAN;
    return (n * sxy - sx * sy) / var;
}

#endif
