/* The roofline of this machine with the configured threads (DESIGN §8):
 * what the hardware allows, measured, so that every throughput figure can be
 * reported beside its bound and as a fraction of it.
 *
 *   peak compute: seqbench's own chains of fused multiply-adds on every
 *                 thread (the FMA units' peak, whatever a library is told
 *                 to run), and a square sgemm large enough to be compute
 *                 bound, best run; the bounds use the larger;
 *   bandwidth:    STREAM-style triad a = b + s·c and a read-only sum, over
 *                 arrays several times the last-level cache, best pass;
 *                 and a read-only sum inside the last-level cache, the
 *                 bound of a model whose weights and state fit in it.
 *
 * It takes about a second and a half, so benchmarks measure it in the same
 * run (a cached figure from another load or another CPU would mislead) or
 * take one written by `seqbench bench roofline --out` moments before. */
#ifndef SEQ_ROOFLINE_H
#define SEQ_ROOFLINE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"

typedef struct {
    int gemm_n;          /* the sgemm is n x n x n */
    double array_mib;    /* each bandwidth array, MiB (0: 4 x the L3, at least 64) */
    int passes;          /* timed runs of each, after one warm-up */
} RooflineOpts;

typedef struct {
    int threads, gemm_n, passes;
    double sgemm_gflops;       /* best run: 2 n^3 / seconds */
    double fma_gflops;         /* best pass of the FMA chains on every thread (0: no FMA on this CPU) */
    double compute_gflops;     /* the figure the compute bounds use: the larger of the two */
    double triad_gbs;          /* best pass: 3 arrays x 4 bytes per element (as STREAM counts: no write-allocate) */
    double read_gbs;           /* best pass of a sum over one array */
    double bandwidth_gbs;      /* the figure the bounds use: the triad */
    double llc_read_gbs;       /* best pass of sums over a quarter of the last-level cache, which stays in it */
    double llc_test_bytes;
    double array_bytes, llc_bytes;
    double seconds;            /* how long measuring took */
} Roofline;

void roofline_defaults(RooflineOpts *o);
/* Checks the options and the memory (3 arrays) before any work. */
int roofline_check(const RooflineOpts *o, Err *e);
int roofline_measure(const RooflineOpts *o, Roofline *r, Err *e);

/* {"threads", "sgemm_gflops", "sgemm_n", "fma_gflops", "compute_gflops", "bandwidth_gbs", "triad_gbs", "read_gbs", "llc_read_gbs", "llc_test_bytes",
 *  "array_bytes", "llc_bytes",
 *  "passes", "seconds", "bandwidth_kernel": "triad", "source": "measured" | file} */
cJSON *roofline_json(const Roofline *r, const char *source);
/* From a result of `bench roofline --out FILE` (its "roofline" object). */
int roofline_read_file(const char *path, Roofline *r, Err *e);

/* Last-level cache in bytes from sysfs (the largest cache of cpu0), 0 if unknown. */
double roofline_llc_bytes(void);

#endif
