#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "core/mem.h"
#include "core/rng.h"
#include "core/timer.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double bench_percentile(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int rank = (int)ceil(p / 100 * n); /* nearest rank: a value that was measured, never interpolated */
    return v[rank < 1 ? 0 : rank > n ? n - 1 : rank - 1];
}

static BenchTime summarize(double *sec, int n)
{
    BenchTime t = {bench_median(sec, n), sec[0]}; /* sorted by the median */
    return t;
}

/* Random ids stand in for text: the cost of every sublayer is independent of
 * the values, and a seeded stream keeps two runs on the same data. */
static void random_tokens(int *out, size_t n, int V, Rng *r)
{
    for (size_t i = 0; i < n; i++) out[i] = (int)rng_below(r, (uint32_t)V);
}

int bench_check_pass(const Model *m, int B, int T, int train, Err *e)
{
    char what[128];
    snprintf(what, sizeof what, "%s batch %d x length %d (activations%s)", train ? "training step" : "prefill", B, T,
             train && !m->grads ? " and gradients" : "");
    /* prefill is forward only: the inference arena, which keeps nothing for backward */
    double acts = (double)(train ? model_act_bytes(&m->cfg, B, T) : model_infer_act_bytes(&m->cfg, B, T));
    double bytes = acts + (double)B * T * (2 * sizeof(int) + 1);
    if (train && !m->grads) bytes += (double)m->n_params * sizeof(real);
    return mem_check(bytes, what, e);
}

int bench_check_decode(const Model *m, int B, int ctx, int steps, Err *e)
{
    char what[128];
    snprintf(what, sizeof what, "decode batch %d at context %d + %d steps (state, its snapshot and logits)", B, ctx,
             steps);
    /* the state twice: the decoder's and the copy each timed run restarts from */
    /* and the prefill's arena for at least one sequence, its logits left untouched */
    double prefill = (double)model_infer_act_bytes(&m->cfg, 1, ctx) - (double)ctx * m->cfg.vocab_size * sizeof(real);
    double bytes = 2 * model_state_bytes(&m->cfg, B, ctx + steps) +
                   (double)B * (3.0 * m->cfg.d_model + m->cfg.vocab_size) * sizeof(real) +
                   (double)B * (steps + ctx) * sizeof(int) + (prefill > 0 ? prefill : 0);
    return mem_check(bytes, what, e);
}

/* Fills the throughput fields of a pass from its per-run seconds. */
static void pass_result(BenchPass *r, int B, int T, int repeats, double *sec, double flops_per_token,
                        const ModelCfg *c, int train)
{
    r->B = B;
    r->T = T;
    r->repeats = repeats;
    r->sec = summarize(sec, repeats);
    double tokens = (double)B * T;
    r->tokens_per_s = tokens / r->sec.median;
    r->tokens_per_s_best = tokens / r->sec.min;
    r->flops_per_token = flops_per_token;
    r->gflops = flops_per_token * tokens / r->sec.median / 1e9;
    r->act_bytes = (double)(train ? model_act_bytes(c, B, T) : model_infer_act_bytes(c, B, T));
}

int bench_prefill(Model *m, int T, int repeats, uint64_t seed, BenchPass *r, Err *e)
{
    int *tokens = mem_alloc((size_t)T, sizeof *tokens, "prefill tokens", e);
    double *sec = mem_alloc((size_t)repeats, sizeof *sec, "timings", e);
    if (!tokens || !sec || model_reserve_inference(m, 1, T, e)) {
        free(tokens);
        free(sec);
        return -1;
    }
    Rng rng = rng_fork(seed, 1);
    random_tokens(tokens, (size_t)T, m->cfg.vocab_size, &rng);
    for (int i = -1; i < repeats; i++) { /* i = -1: the warm-up run */
        double t0 = now_seconds();
        model_forward(m, tokens, 1, T);
        if (i >= 0) sec[i] = now_seconds() - t0;
    }
    /* a causal pass: the token at position t attends to t+1 keys */
    pass_result(r, 1, T, repeats, sec, model_flops_per_token(&m->cfg, (T + 1) / 2), &m->cfg, 0);
    free(tokens);
    free(sec);
    return 0;
}

int bench_train_step(Model *m, int B, int T, int repeats, uint64_t seed, BenchPass *r, Err *e)
{
    size_t n = (size_t)B * T;
    int *tokens = mem_alloc(2 * n, sizeof *tokens, "training tokens and targets", e);
    unsigned char *mask = tokens ? mem_alloc(n, 1, "loss mask", e) : NULL;
    double *sec = mask ? mem_alloc((size_t)repeats, sizeof *sec, "timings", e) : NULL;
    if (!sec || model_alloc_grads(m, e) || model_reserve(m, B, T, e)) {
        free(tokens);
        free(mask);
        free(sec);
        return -1;
    }
    Rng rng = rng_fork(seed, 2);
    random_tokens(tokens, 2 * n, m->cfg.vocab_size, &rng);
    memset(mask, 1, n); /* every position scored: the most expensive, and the usual, loss */
    for (int i = -1; i < repeats; i++) {
        double t0 = now_seconds();
        model_forward(m, tokens, B, T);
        model_loss(m, tokens + n, mask, B, T);
        model_backward(m, tokens, B, T);
        if (i >= 0) sec[i] = now_seconds() - t0;
    }
    pass_result(r, B, T, repeats, sec, bench_train_flops_per_token(&m->cfg, T), &m->cfg, 1);
    free(tokens);
    free(mask);
    free(sec);
    return 0;
}

/* Fills the context with one sequence's parallel forward, its state copied
 * to every sequence (decoder_prefill_shared), untimed but recorded: stepping
 * there token by token took minutes at batch 16 x context 1024, a prefill of
 * every sequence grows with the batch (a 124M model's 64 x 2048 tokens are
 * about 30 TFLOP), and what the context holds does not change a step's cost:
 * the timed steps feed each sequence tokens of its own. */
static int fill_context(Decoder *d, int ctx, Rng *rng, double *seconds, Err *e)
{
    int *prompt = mem_alloc((size_t)ctx + 1, sizeof *prompt, "prefill tokens", e);
    if (!prompt) return -1;
    random_tokens(prompt, (size_t)ctx, d->m->cfg.vocab_size, rng);
    double t0 = now_seconds();
    int rc = decoder_prefill_shared(d, prompt, ctx, e);
    *seconds = now_seconds() - t0;
    free(prompt);
    return rc;
}

/* The part of a Decoder's state the timed steps overwrite: every layer's but
 * the append-only caches (SubOps.append_only), whose rows below the context
 * no step touches. Saving only this part restarts each run from the same
 * context without stepping to it again, and without a second copy of the
 * KV cache (9.7 GB for a 124M Transformer at batch 128 and 1024 tokens).
 * With `saved` NULL, returns the reals it takes; else copies them out
 * (restore 0) or back (restore 1). */
static size_t rewind_state(Decoder *d, real *saved, int restore)
{
    size_t n = 0;
    for (int l = 0; l < d->m->n_layers; l++) {
        const SubOps *o = d->m->layers[l].sub.ops;
        if (o->append_only) continue;
        size_t len = o->state_size(&d->m->cfg, d->B, d->ctx);
        real *live = d->state + d->state_offset[l];
        if (saved && restore) memcpy(live, saved + n, len * sizeof(real));
        else if (saved) memcpy(saved + n, live, len * sizeof(real));
        n += len;
    }
    return n;
}

/* Equal within float noise: the threads may split a reduction differently
 * from run to run, a wrong restart changes the logits outright. */
static int same_logits(const real *a, const real *b, size_t n)
{
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs((double)a[i]));
    }
    return diff <= 1e-6 * scale;
}

/* One run of `steps` decode steps from the saved context; lat[steps] gets each
 * step's seconds, the return value the run's. */
static double decode_run(Decoder *d, real *saved, int ctx, const int *tokens, int steps, double *lat, Err *e)
{
    rewind_state(d, saved, 1);
    d->pos = ctx;
    double t0 = now_seconds(), prev = t0;
    for (int s = 0; s < steps; s++) {
        if (decoder_step(d, tokens + (size_t)s * d->B, e)) return -1;
        double t = now_seconds();
        lat[s] = t - prev;
        prev = t;
    }
    return prev - t0;
}

/* `steps` timed steps after the context, `repeats` times, after a warm-up
 * run of warm_steps (its timings are dropped). */
static int decode_measure(Model *m, int B, int ctx, int steps, int warm_steps, int repeats, uint64_t seed,
                          BenchDecode *r, Err *e)
{
    Decoder d;
    if (decoder_create(&d, m, B, ctx + steps, e)) return -1;
    real *saved = mem_alloc(rewind_state(&d, NULL, 0) + 1, sizeof(real), "decode state snapshot", e);
    int *tokens = saved ? mem_alloc((size_t)B * steps, sizeof(int), "decode tokens", e) : NULL;
    double *sec = tokens ? mem_alloc((size_t)repeats, sizeof *sec, "timings", e) : NULL;
    double *lat = sec ? mem_alloc((size_t)steps * (repeats + 1), sizeof *lat, "step timings", e) : NULL;
    size_t nlog = (size_t)B * m->cfg.vocab_size;
    real *first = lat ? mem_alloc(nlog, sizeof(real), "decode logits", e) : NULL;
    int rc = -1;
    Rng rng = rng_fork(seed, 3);
    memset(r, 0, sizeof *r);
    if (!first || fill_context(&d, ctx, &rng, &r->prefill_s, e)) goto done;
    rewind_state(&d, saved, 0);
    random_tokens(tokens, (size_t)B * steps, m->cfg.vocab_size, &rng);
    if (decode_run(&d, saved, ctx, tokens, warm_steps, lat, e) < 0) goto done;
    int have_first = warm_steps == steps;
    if (have_first) memcpy(first, d.logits, sizeof(real) * nlog);
    for (int i = 0; i < repeats; i++) {
        double t = decode_run(&d, saved, ctx, tokens, steps, lat + (size_t)(i + 1) * steps, e);
        if (t < 0) goto done;
        sec[i] = t;
        /* every run decodes the same tokens from the same context: its last logits must be the first run's */
        if (!have_first) memcpy(first, d.logits, sizeof(real) * nlog);
        else if (!same_logits(first, d.logits, nlog)) {
            err_set(e, "decode run %d did not restart from the saved context (its logits are not the first's)",
                    i + 1);
            goto done;
        }
        have_first = 1;
    }
    r->B = B;
    r->ctx = ctx;
    r->steps = steps;
    r->repeats = repeats;
    r->sec = summarize(sec, repeats);
    r->tokens_per_s = (double)B * steps / r->sec.median;
    r->tokens_per_s_best = (double)B * steps / r->sec.min;
    r->latency_median = bench_median(lat + steps, steps * repeats);
    r->latency_p90 = bench_percentile(lat + steps, steps * repeats, 90);
    r->state_bytes = model_state_bytes(&m->cfg, B, ctx);
    /* the step at position p attends to p+1 keys */
    r->flops_per_token = model_flops_per_token(&m->cfg, ctx + (steps + 1) / 2);
    r->gflops = r->flops_per_token * B * steps / r->sec.median / 1e9;
    rc = 0;
done:
    free(lat);
    free(sec);
    free(tokens);
    free(first);
    free(saved);
    decoder_free(&d);
    return rc;
}

int bench_decode(Model *m, int B, int ctx, int steps, int repeats, uint64_t seed, BenchDecode *r, Err *e)
{
    return decode_measure(m, B, ctx, steps, steps, repeats, seed, r, e);
}

int bench_generate(Model *m, int B, int steps, int repeats, uint64_t seed, BenchDecode *r, Err *e)
{
    return decode_measure(m, B, 0, steps, steps < 16 ? steps : 16, repeats, seed, r, e);
}
