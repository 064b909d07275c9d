/* Roofline bounds of the benchmarks' figures (DESIGN §8): the tokens/s the
 * machine's measured compute peak (FMA or sgemm) and bandwidth (core/roofline.h) allow for a
 * given model and shape, so each figure is reported beside its bound and as
 * the fraction achieved.
 *
 *   decode of B sequences at context ctx, per step:
 *     memory bound  = B x bandwidth / bytes, bytes = the weights once (all
 *                     experts of an MoE; the embedding only by its B rows
 *                     when untied) + the state or KV cache read + what the
 *                     step writes (a recurrent state whole, one token's k, v
 *                     per attention layer) + the logits; bandwidth = DRAM's
 *                     (triad), or the last-level cache's when the bytes fit
 *                     in half of it (the small models: 9 MB at d_model 64
 *                     with a 32000 vocabulary);
 *     compute bound = peak / FLOPs per token;
 *     bound         = the lower of the two.
 *   prefill, training: peak / FLOPs per token (x3 for a training step). */
#ifndef SEQ_BENCH_BOUNDS_H
#define SEQ_BENCH_BOUNDS_H

#include "core/roofline.h"
#include "models/model.h"

typedef struct {
    double bytes_per_step;        /* decode only; 0 for compute-only bounds */
    int from_llc;                 /* decode: those bytes fit in the last-level cache, read at its bandwidth */
    double bandwidth_gbs;         /* decode: the bandwidth the memory bound used */
    double flops_per_token;
    double memory_tokens_per_s;   /* decode only; 0 otherwise */
    double compute_tokens_per_s;
    double tokens_per_s;          /* the bound: the lower of the two */
    const char *kind;             /* "memory" or "compute" */
} BenchBound;

/* Bytes one decode step of B sequences at position ctx reads and writes. */
double bench_decode_bytes(const Model *m, int B, int ctx);
/* A decode run at context ctx; flops_per_token as the measurement used it. */
void bench_bound_decode(const Model *m, int B, int ctx, double flops_per_token, const Roofline *r, BenchBound *b);
void bench_bound_compute(double flops_per_token, const Roofline *r, BenchBound *b);

/* A training step (forward, loss, backward) counts as this many forwards:
 * each gemm of the forward has two in the backward (one for dx, one for dW). */
#define BENCH_TRAIN_FORWARDS 3.0
/* FLOPs per token of a training step on sequences of length T, the figure
 * `bench`'s training step and `train` report: a causal pass, each token
 * attending to (T + 1) / 2 keys on average. */
double bench_train_flops_per_token(const ModelCfg *c, int T);

#endif
