/* Plain `seqbench bench`: one model's prefill and training-step throughput,
 * decode throughput and per-token latency, decode-state and activation
 * memory, and FLOPs; a table on stdout, every figure in the result beside
 * its roofline bound. The JSON's field names are read by the Python peers
 * (make bench-peers): add fields, never rename them. */
#ifndef SEQ_BENCH_MODEL_H
#define SEQ_BENCH_MODEL_H

#include <cjson/cJSON.h>

#include "bench/harness.h"

typedef struct {
    BenchRun run;
    BenchList lengths;             /* prefill lengths, batch 1 */
    int train_batch, train_len;    /* the training step's shape */
    BenchList batches, contexts;   /* decode: every batch at every context */
    int steps;                     /* timed decode steps per run */
} BenchModelSettings;

/* Every shape fits in the memory left, checked before the first measurement,
 * so a run that cannot finish fails at once with one line, not after half a table. */
int bench_model_check(const Model *m, const BenchModelSettings *s, Err *e);
/* The roofline, then prefill, training step and decode; fills res
 * ("roofline", "seed", "model", "metrics"). */
int bench_model_run(Model *m, const BenchModelSettings *s, cJSON *res, Err *e);

#endif
