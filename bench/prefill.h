/* `bench prefill`: tokens/s of the parallel forward (model_forward in the
 * inference arena, batch 1) against sequence length, for each model, beside
 * the compute bound peak compute / FLOPs per token. */
#ifndef SEQ_BENCH_PREFILL_H
#define SEQ_BENCH_PREFILL_H

#include <cjson/cJSON.h>

#include "bench/harness.h"

typedef struct {
    BenchRun run;
    const BenchModelSpec *models;
    int n_models;
    BenchList lengths;
} BenchPrefillSweep;

/* Every model's weights and every length fit, before anything is built or timed. */
int bench_prefill_check(const BenchPrefillSweep *s, Err *e);
/* The roofline, then each model at each length: a table, "roofline" and "models" in res. */
int bench_prefill_run(const BenchPrefillSweep *s, cJSON *res, Err *e);

#endif
