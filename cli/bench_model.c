/* seqbench bench (no subcommand): prefill and training-step throughput,
 * decode throughput and per-token latency, decode-state and activation
 * memory, and FLOPs of one model (options or a checkpoint); a table on
 * stdout, every figure in the result JSON beside its roofline bound. The
 * measurements themselves live in bench/. The JSON's field names are read by
 * the Python peers (make bench-peers): add fields, never rename them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/bounds.h"
#include "cli/bench_common.h"
#include "cli/bench_suite.h"
#include "cli/model_options.h"
#include "core/results.h"
#include "models/describe.h"
#include "core/jsonio.h"
#include "core/machine.h"
#include "core/mem.h"
#include "core/threads.h"
#include "models/hf.h"

#define MAX_LIST BENCH_MAX_LIST
#define DEFAULT_VOCAB BENCH_DEFAULT_VOCAB

typedef struct {
    char model_dir[1024], out[1024], roofline_file[1024], lengths_s[256], batches_s[256], contexts_s[256];
    int train_batch, train_len, steps, repeats, threads, dry;
    uint64_t seed;
    int lengths[MAX_LIST], batches[MAX_LIST], contexts[MAX_LIST], n_lengths, n_batches, n_contexts;
} BenchArgs;

static void parse_list(const char *s, int *out, int *n, int hi, const char *what)
{
    Err e;
    *n = parse_int_list(s, out, MAX_LIST, 1, hi, what, &e);
    if (*n < 0) die_err(&e);
}

/* Options into ma and a; returns 1 when --help was printed. */
static int parse_args(int argc, char **argv, ModelArgs *ma, BenchArgs *a, Option *opts, int *n_opts)
{
    model_args_defaults(ma);
    *a = (BenchArgs){.train_batch = 8, .train_len = 256, .steps = 64, .repeats = 3, .seed = 1};
    strcpy(a->lengths_s, "128,512,2048");
    strcpy(a->batches_s, "1,4,16");
    strcpy(a->contexts_s, "128,1024");
    int n = model_options(ma, opts);
    Option more[] = {
        OPT_S("model", a->model_dir, "benchmark a checkpoint (config.json + model.safetensors) instead"),
        OPT_S("lengths", a->lengths_s, "prefill lengths, batch 1"),
        OPT_I("train-batch", &a->train_batch, 1, 1 << 16, "training-step batch"),
        OPT_I("train-len", &a->train_len, 1, 1 << 22, "training-step sequence length"),
        OPT_S("batches", a->batches_s, "decode batch sizes"),
        OPT_S("contexts", a->contexts_s, "decode context lengths reached before the timed steps"),
        OPT_I("decode-steps", &a->steps, 1, 1 << 20, "timed decode steps per run"),
        OPT_I("repeats", &a->repeats, 1, 1000, "timed runs per measurement (after one warm-up run)"),
        OPT_U("seed", &a->seed, "seed for weights and token ids"),
        OPT_I("threads", &a->threads, 0, 1024, "threads (0 = all cores)"),
        OPT_S("roofline", a->roofline_file, "take the roofline from a `seqbench bench roofline --out FILE` result "
                                            "instead of measuring it in this run (about 1.5 s)"),
        OPT_S("out", a->out, "result JSON file (written atomically)"),
        OPT_F("dry-run", &a->dry, "check every option and that the model fits, then stop before measuring"),
    };
    memcpy(opts + n, more, sizeof more);
    n += (int)(sizeof more / sizeof *more);
    *n_opts = n;
    options_find(opts, n, "vocab")->help = "vocabulary size (0 = 32000, as in params)";
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "bench",
                           "[--arch A | --pattern P] [sizes] | --model DIR [options]\n"
                           "       seqbench bench SUBCOMMAND [options]   (subcommands: seqbench bench help)",
                           &e);
    if (rc < 0) die_err(&e);
    if (rc) return 1;
    /* a checkpoint's config.json sets the model: silently ignoring a size would mislead */
    for (int i = 0; *a->model_dir && i < MODEL_OPTIONS_N; i++)
        if (opts[i].set) die("bench: --%s cannot be combined with --model (the checkpoint sets the model)", opts[i].name);
    parse_list(a->lengths_s, a->lengths, &a->n_lengths, 1 << 22, "--lengths");
    parse_list(a->batches_s, a->batches, &a->n_batches, 1 << 16, "--batches");
    parse_list(a->contexts_s, a->contexts, &a->n_contexts, 1 << 22, "--contexts");
    return 0;
}

static void build_model(const ModelArgs *ma, const BenchArgs *a, Model *m)
{
    Err e = {{0}};
    if (*a->model_dir) {
        if (hf_load(m, a->model_dir, &e)) die_err(&e);
        return;
    }
    ModelCfg cfg;
    /* with --vocab given it is the size; otherwise DEFAULT_VOCAB stands in for a task's */
    if (model_args_to_cfg(ma, ma->vocab ? 0 : DEFAULT_VOCAB, &cfg, &e)) die_err(&e);
    if (model_create(m, &cfg, &e)) die_err(&e);
    model_init_weights(m, a->seed);
}

/* Every shape is checked before the first measurement, so a run that cannot
 * finish fails at once with one line, not after half a table. */
static void check_memory(const Model *m, const BenchArgs *a)
{
    Err e = {{0}};
    for (int i = 0; i < a->n_lengths; i++)
        if (bench_check_pass(m, 1, a->lengths[i], 0, &e)) die_err(&e);
    if (bench_check_pass(m, a->train_batch, a->train_len, 1, &e)) die_err(&e);
    for (int i = 0; i < a->n_batches; i++)
        for (int j = 0; j < a->n_contexts; j++)
            if (bench_check_decode(m, a->batches[i], a->contexts[j], a->steps, &e)) die_err(&e);
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

static void run_prefill(Model *m, const BenchArgs *a, const Roofline *rf, cJSON *out)
{
    printf("\nprefill, batch 1 (model_forward; GFLOP/s at the mean context)\n");
    printf("%8s %12s %12s %10s %9s %12s %12s %9s\n", "length", "tokens/s", "best", "ms/run", "GFLOP/s", "flops/token",
           "activations", "roofline");
    for (int i = 0; i < a->n_lengths; i++) {
        fprintf(stderr, "bench: prefill length %d\n", a->lengths[i]);
        BenchPass r;
        Err e = {{0}};
        if (bench_prefill(m, a->lengths[i], a->repeats, a->seed, &r, &e)) die_err(&e);
        char act[32];
        printf("%8d %12.0f %12.0f %10.3f %9.2f %12.4g %12s %8.1f%%\n", r.T, r.tokens_per_s, r.tokens_per_s_best,
               1e3 * r.sec.median, r.gflops, r.flops_per_token, mem_human(r.act_bytes, act, sizeof act),
               100 * r.gflops / rf->sgemm_gflops);
        fflush(stdout);
        cJSON_AddItemToArray(out, pass_json(&r, rf));
    }
}

static cJSON *run_train(Model *m, const BenchArgs *a, const Roofline *rf)
{
    fprintf(stderr, "bench: training step %d x %d\n", a->train_batch, a->train_len);
    BenchPass r;
    Err e = {{0}};
    if (bench_train_step(m, a->train_batch, a->train_len, a->repeats, a->seed, &r, &e)) die_err(&e);
    char act[32], shape[32];
    snprintf(shape, sizeof shape, "%d x %d", r.B, r.T);
    printf("\ntraining step (forward + loss + backward, no optimizer; GFLOP/s as 3 x forward)\n");
    printf("%14s %10s %10s %12s %9s %12s %9s\n", "batch x length", "ms/step", "best", "tokens/s", "GFLOP/s",
           "activations", "roofline");
    printf("%14s %10.3f %10.3f %12.0f %9.2f %12s %8.1f%%\n", shape, 1e3 * r.sec.median, 1e3 * r.sec.min,
           r.tokens_per_s, r.gflops, mem_human(r.act_bytes, act, sizeof act), 100 * r.gflops / rf->sgemm_gflops);
    fflush(stdout);
    return pass_json(&r, rf);
}

static void run_decode(Model *m, const BenchArgs *a, const Roofline *rf, cJSON *out)
{
    printf("\ndecode (decoder_step after a prefill to the context; %d timed steps per run; roofline: fraction of the "
           "memory or compute bound)\n", a->steps);
    printf("%6s %8s %12s %12s %12s %12s %9s %12s %9s\n", "batch", "context", "tokens/s", "best", "latency ms", "p90 ms",
           "GFLOP/s", "state", "roofline");
    for (int i = 0; i < a->n_batches; i++)
        for (int j = 0; j < a->n_contexts; j++) {
            fprintf(stderr, "bench: decode batch %d, prefill to context %d\n", a->batches[i], a->contexts[j]);
            BenchDecode r;
            Err e = {{0}};
            if (bench_decode(m, a->batches[i], a->contexts[j], a->steps, a->repeats, a->seed, &r, &e)) die_err(&e);
            char st[32];
            BenchBound b;
            bench_bound_decode(m, r.B, r.ctx, r.flops_per_token, rf, &b);
            printf("%6d %8d %12.0f %12.0f %12.4f %12.4f %9.2f %12s %8.1f%%\n", r.B, r.ctx, r.tokens_per_s,
                   r.tokens_per_s_best, 1e3 * r.latency_median, 1e3 * r.latency_p90, r.gflops,
                   mem_human(r.state_bytes, st, sizeof st), 100 * r.tokens_per_s / b.tokens_per_s);
            fflush(stdout);
            cJSON_AddItemToArray(out, decode_json(m, &r, rf));
        }
}

int bench_model_main(int argc, char **argv)
{
    ModelArgs ma;
    BenchArgs a;
    Option opts[MODEL_OPTIONS_N + 16];
    int n;
    if (parse_args(argc, argv, &ma, &a, opts, &n)) return 0;
    BenchRun run = {.threads = a.threads, .repeats = a.repeats, .seed = a.seed};
    snprintf(run.out, sizeof run.out, "%s", a.out);
    snprintf(run.roofline_file, sizeof run.roofline_file, "%s", a.roofline_file);
    bench_check_run(&run); /* --out, --roofline, threads; warns when the machine is busy */
    cJSON *res = results_new("bench", argc, argv); /* threads, load average and start time */
    Model m;
    build_model(&ma, &a, &m);
    check_memory(&m, &a);
    if (a.dry) {
        model_free(&m);
        cJSON_Delete(res);
        return bench_dry_done("bench");
    }
    cJSON_AddItemToObject(res, "machine", machine_json());
    Roofline rf;
    bench_roofline(&run, &rf, res);
    printf("seqbench bench: %s, pattern %s, %zu parameters (vocab %d), %d threads; median of %d runs after a "
           "warm-up, best = fastest run\n",
           m.cfg.model_type, m.cfg.pattern, m.n_params, m.cfg.vocab_size, threads_count(), a.repeats);
    cJSON_AddItemToObject(res, "settings", options_to_json(opts, n));
    cJSON_AddNumberToObject(res, "seed", (double)a.seed);
    cJSON_AddItemToObject(res, "model", model_describe(&m));
    cJSON *metrics = cJSON_AddObjectToObject(res, "metrics");
    run_prefill(&m, &a, &rf, cJSON_AddArrayToObject(metrics, "prefill"));
    cJSON_AddItemToObject(metrics, "train_step", run_train(&m, &a, &rf));
    run_decode(&m, &a, &rf, cJSON_AddArrayToObject(metrics, "decode"));
    cJSON *mem = cJSON_AddObjectToObject(metrics, "memory");
    cJSON_AddNumberToObject(mem, "param_bytes", (double)m.n_params * sizeof(real));
    cJSON_AddNumberToObject(mem, "train_activation_bytes", (double)model_act_bytes(&m.cfg, a.train_batch, a.train_len));
    cJSON *states = cJSON_AddArrayToObject(mem, "decode_state_bytes");
    for (int i = 0; i < a.n_batches; i++)
        for (int j = 0; j < a.n_contexts; j++) {
            cJSON *s = cJSON_CreateObject();
            cJSON_AddNumberToObject(s, "batch", a.batches[i]);
            cJSON_AddNumberToObject(s, "context", a.contexts[j]);
            cJSON_AddNumberToObject(s, "bytes", model_state_bytes(&m.cfg, a.batches[i], a.contexts[j]));
            cJSON_AddItemToArray(states, s);
        }
    bench_write(res, &run);
    cJSON_Delete(res);
    model_free(&m);
    return 0;
}
