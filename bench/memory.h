/* `bench memory`: decode state (KV cache, recurrent state) against context
 * length, analytic for every model and measured (resident memory of a
 * decode) for the small presets. */
#ifndef SEQ_BENCH_MEMORY_H
#define SEQ_BENCH_MEMORY_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "bench/harness.h"

typedef struct {
    char archs[BENCH_MAX_LIST][32]; /* small presets, each at d_model with its default depth */
    int n_archs;
    int d_model, batch, vocab;
    int measure;                    /* measure the presets' resident memory; 0: analytic only */
    uint64_t seed;
    BenchList contexts;             /* the presets', increasing */
    char paper[1024];               /* configs/paper models: "all", "none" or names, comma-separated */
    char paper_dir[1024];           /* where they are */
    BenchList paper_contexts;       /* analytic */
    BenchList paper_measure;        /* measured too (empty: none), increasing */
} BenchMemory;

/* Every paper config read and every preset built on paper, before any work. */
int bench_memory_check(const BenchMemory *s, Err *e);
/* The tables on stdout and "metrics" in res. */
int bench_memory_run(const BenchMemory *s, cJSON *res, Err *e);

#endif
