/* The decode-path instruments: `bench decode` (tokens/s against batch and
 * against context), `bench latency` (per-token latency against prefill
 * length, Griffin Fig. 4) and `bench throughput` (tokens/s against sample
 * length after an empty prompt, Griffin Fig. 1b). All three time
 * decoder_step after a prefill (bench/bench.c) over the same models and
 * report each point beside its roofline bound (bench/bounds.h); they differ
 * only in which shapes they sweep and which columns they print. */
#ifndef SEQ_BENCH_DECODE_H
#define SEQ_BENCH_DECODE_H

#include <cjson/cJSON.h>

#include "bench/harness.h"

typedef enum { BENCH_SWEEP_DECODE, BENCH_SWEEP_LATENCY, BENCH_SWEEP_THROUGHPUT } BenchSweepKind;

typedef struct {
    BenchSweepKind kind;
    const char *name;   /* "decode", "latency", "throughput": the table's and progress line's label */
    BenchRun run;
    const BenchModelSpec *models;
    int n_models;
    /* decode: `batches` at `context`, then `contexts` at `batch`;
     * latency: `contexts` (prefill lengths, 0 = an empty prompt) at `batch`;
     * throughput: `lengths` (tokens generated from an empty prompt) at `batch` */
    BenchList batches, contexts, lengths;
    int batch, context, steps;
} BenchSweep;

/* Every model and point fits: checked on the layer tables, before any
 * weight is drawn or anything timed. */
int bench_sweep_check(const BenchSweep *s, Err *e);
/* The roofline, then every model at every point: a table on stdout and
 * "roofline" and "models" in res. */
int bench_sweep_run(const BenchSweep *s, cJSON *res, Err *e);

#endif
