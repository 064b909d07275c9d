/* seqbench bench kernels: time of the sequence-mixing kernels against
 * sequence length, and the log-log slope of that time (linear scans ~1,
 * attention -> 2 once its T x T part dominates). */
#ifndef SEQ_BENCH_KERNELS_H
#define SEQ_BENCH_KERNELS_H

#include <math.h>

/* argv[0] is the subcommand's name ("kernels"); returns the exit status. */
int bench_kernels(int argc, char **argv);

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
