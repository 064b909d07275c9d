#include "bench/model.h"

#include <stdio.h>

#include "core/mem.h"
#include "core/threads.h"
#include "models/describe.h"

int bench_model_check(const Model *m, const BenchModelSettings *s, Err *e)
{
    for (int i = 0; i < s->lengths.n; i++)
        if (bench_check_pass(m, 1, s->lengths.v[i], 0, e)) return -1;
    if (bench_check_pass(m, s->train_batch, s->train_len, 1, e)) return -1;
    for (int i = 0; i < s->batches.n; i++)
        for (int j = 0; j < s->contexts.n; j++)
            if (bench_check_decode(m, s->batches.v[i], s->contexts.v[j], s->steps, e)) return -1;
    return 0;
}

static cJSON *pass_json(const BenchPass *r, const Roofline *rf)
{
    BenchBound b;
    bench_bound_compute(r->flops_per_token, rf, &b);
    return bench_pass_json(r, &b);
}

static cJSON *decode_json(const Model *m, const BenchDecode *r, const Roofline *rf)
{
    cJSON *o = bench_decode_json(r);
    BenchBound b;
    bench_bound_decode(m, r->B, r->ctx, r->flops_per_token, rf, &b);
    bench_add_bound(o, &b, r->tokens_per_s);
    return o;
}

static int run_prefill(Model *m, const BenchModelSettings *s, const Roofline *rf, cJSON *out, Err *e)
{
    printf("\nprefill, batch 1 (model_forward; GFLOP/s at the mean context)\n");
    printf("%8s %12s %12s %10s %9s %12s %12s %9s\n", "length", "tokens/s", "best", "ms/run", "GFLOP/s", "flops/token",
           "activations", "roofline");
    for (int i = 0; i < s->lengths.n; i++) {
        fprintf(stderr, "bench: prefill length %d\n", s->lengths.v[i]);
        BenchPass r;
        if (bench_prefill(m, s->lengths.v[i], s->run.repeats, s->run.seed, &r, e)) return -1;
        char act[32];
        printf("%8d %12.0f %12.0f %10.3f %9.2f %12.4g %12s %8.1f%%\n", r.T, r.tokens_per_s, r.tokens_per_s_best,
               1e3 * r.sec.median, r.gflops, r.flops_per_token, mem_human(r.act_bytes, act, sizeof act),
               100 * r.gflops / rf->compute_gflops);
        fflush(stdout);
        cJSON_AddItemToArray(out, pass_json(&r, rf));
    }
    return 0;
}

static cJSON *run_train(Model *m, const BenchModelSettings *s, const Roofline *rf, Err *e)
{
    fprintf(stderr, "bench: training step %d x %d\n", s->train_batch, s->train_len);
    BenchPass r;
    if (bench_train_step(m, s->train_batch, s->train_len, s->run.repeats, s->run.seed, &r, e)) return NULL;
    char act[32], shape[32];
    snprintf(shape, sizeof shape, "%d x %d", r.B, r.T);
    printf("\ntraining step (forward + loss + backward, no optimizer; GFLOP/s as 3 x forward)\n");
    printf("%14s %10s %10s %12s %9s %12s %9s\n", "batch x length", "ms/step", "best", "tokens/s", "GFLOP/s",
           "activations", "roofline");
    printf("%14s %10.3f %10.3f %12.0f %9.2f %12s %8.1f%%\n", shape, 1e3 * r.sec.median, 1e3 * r.sec.min,
           r.tokens_per_s, r.gflops, mem_human(r.act_bytes, act, sizeof act), 100 * r.gflops / rf->compute_gflops);
    fflush(stdout);
    return pass_json(&r, rf);
}

static int run_decode(Model *m, const BenchModelSettings *s, const Roofline *rf, cJSON *out, Err *e)
{
    printf("\ndecode (decoder_step after a prefill to the context; %d timed steps per run; roofline: fraction of the "
           "memory or compute bound)\n", s->steps);
    printf("%6s %8s %12s %12s %12s %12s %9s %12s %9s\n", "batch", "context", "tokens/s", "best", "latency ms", "p90 ms",
           "GFLOP/s", "state", "roofline");
    for (int i = 0; i < s->batches.n; i++)
        for (int j = 0; j < s->contexts.n; j++) {
            int B = s->batches.v[i], ctx = s->contexts.v[j];
            fprintf(stderr, "bench: decode batch %d, prefill to context %d\n", B, ctx);
            BenchDecode r;
            if (bench_decode(m, B, ctx, s->steps, s->run.repeats, s->run.seed, &r, e)) return -1;
            char st[32];
            BenchBound b;
            bench_bound_decode(m, r.B, r.ctx, r.flops_per_token, rf, &b);
            printf("%6d %8d %12.0f %12.0f %12.4f %12.4f %9.2f %12s %8.1f%%\n", r.B, r.ctx, r.tokens_per_s,
                   r.tokens_per_s_best, 1e3 * r.latency_median, 1e3 * r.latency_p90, r.gflops,
                   mem_human(r.state_bytes, st, sizeof st), 100 * r.tokens_per_s / b.tokens_per_s);
            fflush(stdout);
            cJSON_AddItemToArray(out, decode_json(m, &r, rf));
        }
    return 0;
}

static cJSON *memory_json(const Model *m, const BenchModelSettings *s)
{
    cJSON *mem = cJSON_CreateObject();
    cJSON_AddNumberToObject(mem, "param_bytes", (double)m->n_params * sizeof(real));
    cJSON_AddNumberToObject(mem, "train_activation_bytes", (double)model_act_bytes(&m->cfg, s->train_batch, s->train_len));
    cJSON *states = cJSON_AddArrayToObject(mem, "decode_state_bytes");
    for (int i = 0; i < s->batches.n; i++)
        for (int j = 0; j < s->contexts.n; j++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "batch", s->batches.v[i]);
            cJSON_AddNumberToObject(o, "context", s->contexts.v[j]);
            cJSON_AddNumberToObject(o, "bytes", model_state_bytes(&m->cfg, s->batches.v[i], s->contexts.v[j]));
            cJSON_AddItemToArray(states, o);
        }
    return mem;
}

int bench_model_run(Model *m, const BenchModelSettings *s, cJSON *res, Err *e)
{
    Roofline rf;
    if (bench_roofline(&s->run, &rf, res, e)) return -1;
    printf("seqbench bench: %s, pattern %s, %zu parameters (vocab %d), %d threads; median of %d runs after a "
           "warm-up, best = fastest run\n",
           m->cfg.model_type, m->cfg.pattern, m->n_params, m->cfg.vocab_size, threads_count(), s->run.repeats);
    cJSON_AddNumberToObject(res, "seed", (double)s->run.seed);
    cJSON_AddItemToObject(res, "model", model_describe(m));
    cJSON *metrics = cJSON_AddObjectToObject(res, "metrics");
    if (run_prefill(m, s, &rf, cJSON_AddArrayToObject(metrics, "prefill"), e)) return -1;
    cJSON *train = run_train(m, s, &rf, e);
    if (!train) return -1;
    cJSON_AddItemToObject(metrics, "train_step", train);
    if (run_decode(m, s, &rf, cJSON_AddArrayToObject(metrics, "decode"), e)) return -1;
    cJSON_AddItemToObject(metrics, "memory", memory_json(m, s));
    return 0;
}
