/* Throughput, latency and memory of a model (DESIGN §8), through the model
 * interface only (models/model.h).
 *
 * Protocol, the same for every measurement: one untimed warm-up run (caches,
 * page faults, the thread pool waking up), then `repeats` timed runs with
 * core/timer.h; the median and the minimum are reported. Benchmarks record
 * figures and never judge them. Token ids are random but seeded, so two runs
 * feed the model the same data. */
#ifndef SEQ_BENCH_H
#define SEQ_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "models/model.h"

/* Seconds per timed run over the repeats. */
typedef struct { double median, min; } BenchTime;

/* A whole-sequence pass: prefill (model_forward) or a training step
 * (forward + loss + backward, no optimizer) over B x T tokens. */
typedef struct {
    int B, T, repeats;
    BenchTime sec;
    double tokens_per_s, tokens_per_s_best; /* B*T / median and / min seconds */
    double flops_per_token;                 /* at the mean context (T+1)/2; x3 for a training step */
    double gflops;                          /* flops_per_token * B*T / median seconds */
    double act_bytes;                       /* activation arena (model_act_bytes) */
} BenchPass;

/* Decode: `steps` decoder_step calls after a prefill (decoder_prefill) of
 * `ctx` tokens. */
typedef struct {
    int B, ctx, steps, repeats;
    double prefill_s;                       /* the untimed context fill's seconds (one sequence's prefill), for the record */
    BenchTime sec;                          /* per run of `steps` steps */
    double tokens_per_s, tokens_per_s_best; /* B*steps / median and / min seconds */
    double latency_median, latency_p90;     /* seconds per step, over every timed step */
    double state_bytes;                     /* model_state_bytes(B, ctx) */
    double flops_per_token, gflops;         /* at the mean context of the timed steps */
} BenchDecode;

/* Checks, without allocating, that a shape fits in the memory left; the
 * error names the shape ("prefill batch 1 x length 2048 ..."). */
int bench_check_pass(const Model *m, int B, int T, int train, Err *e);
int bench_check_decode(const Model *m, int B, int ctx, int steps, Err *e);

int bench_prefill(Model *m, int T, int repeats, uint64_t seed, BenchPass *r, Err *e);
/* Allocates the model's gradients on first use. */
int bench_train_step(Model *m, int B, int T, int repeats, uint64_t seed, BenchPass *r, Err *e);
int bench_decode(Model *m, int B, int ctx, int steps, int repeats, uint64_t seed, BenchDecode *r, Err *e);
/* Generation after an empty prompt (Griffin Fig. 1b): `steps` steps from
 * position 0, each timed run whole; the warm-up is a short run, not a whole one. */
int bench_generate(Model *m, int B, int steps, int repeats, uint64_t seed, BenchDecode *r, Err *e);

/* Median and nearest-rank p-th percentile (0..100) of n values; sorts v. */
double bench_median(double *v, int n);
double bench_percentile(double *v, int n, double p);

#endif
