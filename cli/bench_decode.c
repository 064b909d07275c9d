/* The decode-path instruments: `bench decode` (tokens/s against batch and
 * against context), `bench latency` (per-token latency against prefill
 * length, Griffin Fig. 4) and `bench throughput` (tokens/s against sample
 * length after an empty prompt, Griffin Fig. 1b). All three time
 * decoder_step after a prefill (bench/bench.c) over the same models, and
 * report each point beside its roofline bound (bench/bounds.h); they differ
 * only in which shapes they sweep and which columns they print. */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "cli/bench_common.h"
#include "cli/bench_suite.h"
#include "core/results.h"
#include "models/describe.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/progress.h"

#define ALL_ARCHS "transformer,transformer-local,mamba,mamba2,mamba-lti,hawk,griffin,jamba,mamba2-hybrid"

typedef enum { KIND_DECODE, KIND_LATENCY, KIND_THROUGHPUT } Kind;

typedef struct { int B, ctx, steps; const char *sweep; } Point;

typedef struct {
    Kind kind;
    const char *name;   /* "decode", ... */
    BenchRun run;
    BenchModels bm;
    char batches_s[256], contexts_s[256], lengths_s[256];
    int batch, context, steps;
    Point points[2 * BENCH_MAX_LIST];
    int n_points;
} Sweep;

static int parse(Sweep *s, int argc, char **argv, Option *opts)
{
    int n = bench_models_options(&s->bm, ALL_ARCHS, opts);
    n += bench_run_options(&s->run, s->kind == KIND_THROUGHPUT ? 1 : 3, opts + n);
    s->steps = 16;
    const char *usage = "[--archs A,B | --arch A | --pattern P | --paper NAME | --model DIR] [sizes] [options]";
    Option decode[] = {
        OPT_S("batches", s->batches_s, "batch sizes of the batch sweep"),
        OPT_I("context", &s->context, 0, 1 << 22, "context (prefilled) of the batch sweep"),
        OPT_S("contexts", s->contexts_s, "contexts (each filled by one prefill) of the context sweep"),
        OPT_I("batch", &s->batch, 1, 1 << 16, "batch of the context sweep"),
        OPT_I("steps", &s->steps, 1, 1 << 20, "timed decode steps per run"),
    };
    Option latency[] = {
        OPT_I("batch", &s->batch, 1, 1 << 16, "sequences decoded together"),
        OPT_S("prefills", s->contexts_s, "prefill lengths before the timed steps (0 = an empty prompt)"),
        OPT_I("steps", &s->steps, 1, 1 << 20, "timed decode steps per run (each one token per sequence)"),
    };
    Option throughput[] = {
        OPT_I("batch", &s->batch, 1, 1 << 16, "sequences sampled together"),
        OPT_S("lengths", s->lengths_s, "tokens generated per sequence after an empty prompt, each a timed run"),
    };
    if (s->kind == KIND_DECODE) {
        strcpy(s->batches_s, "1,4,16,64");
        strcpy(s->contexts_s, "128,1024,4096");
        s->context = 128;
        s->batch = 1;
        memcpy(opts + n, decode, sizeof decode);
        n += (int)(sizeof decode / sizeof *decode);
    } else if (s->kind == KIND_LATENCY) {
        strcpy(s->contexts_s, "0,512,2048,4096");
        s->batch = 16;
        memcpy(opts + n, latency, sizeof latency);
        n += (int)(sizeof latency / sizeof *latency);
    } else {
        strcpy(s->lengths_s, "512,1024,2048,4096");
        s->batch = 16;
        memcpy(opts + n, throughput, sizeof throughput);
        n += (int)(sizeof throughput / sizeof *throughput);
    }
    Err e = {{0}};
    char cmd[32];
    snprintf(cmd, sizeof cmd, "bench %s", s->name);
    int rc = options_parse(opts, n, argc, argv, 3, cmd, usage, &e);
    if (rc < 0) die_err(&e);
    return rc ? -1 : n;
}

static void make_points(Sweep *s)
{
    int list[BENCH_MAX_LIST], k;
    s->n_points = 0;
    if (s->kind == KIND_DECODE) {
        k = bench_parse_list(s->batches_s, list, 1, 1 << 16, "--batches");
        for (int i = 0; i < k; i++) s->points[s->n_points++] = (Point){list[i], s->context, s->steps, "batch"};
        k = bench_parse_list(s->contexts_s, list, 0, 1 << 22, "--contexts");
        for (int i = 0; i < k; i++) s->points[s->n_points++] = (Point){s->batch, list[i], s->steps, "context"};
    } else if (s->kind == KIND_LATENCY) {
        k = bench_parse_list(s->contexts_s, list, 0, 1 << 22, "--prefills");
        for (int i = 0; i < k; i++) s->points[s->n_points++] = (Point){s->batch, list[i], s->steps, "prefill"};
    } else {
        k = bench_parse_list(s->lengths_s, list, 1, 1 << 22, "--lengths");
        for (int i = 0; i < k; i++) s->points[s->n_points++] = (Point){s->batch, 0, list[i], "length"};
    }
}

/* Every model and shape fits, checked on the layer tables before any weight
 * is drawn or anything timed. */
static void check_shapes(const Sweep *s, const BenchModelSpec *specs, int n_specs)
{
    for (int i = 0; i < n_specs; i++) {
        Model lay;
        bench_model_layout(&specs[i], &lay);
        Err e = {{0}};
        char what[128];
        snprintf(what, sizeof what, "%.63s: weights", specs[i].name);
        if (mem_check((double)lay.n_params * sizeof(real), what, &e)) die_err(&e);
        for (int p = 0; p < s->n_points; p++)
            if (bench_check_decode(&lay, s->points[p].B, s->points[p].ctx, s->points[p].steps, &e))
                die("%s: %s", specs[i].name, e.msg);
        model_free(&lay);
    }
}

static cJSON *point_json(const Point *p, const BenchDecode *r, const BenchBound *b)
{
    cJSON *o = bench_decode_json(r);
    cJSON_AddStringToObject(o, "sweep", p->sweep);
    bench_add_bound(o, b, r->tokens_per_s);
    return o;
}

static void header(const Sweep *s)
{
    if (s->kind == KIND_DECODE)
        printf("\n%-18s %-7s %6s %8s %11s %11s %11s %7s %9s\n", "model", "sweep", "batch", "context", "tokens/s",
               "latency ms", "bound tok/s", "bound", "fraction");
    else if (s->kind == KIND_LATENCY)
        printf("\n%-18s %6s %8s %11s %11s %11s %11s %7s %9s\n", "model", "batch", "prefill", "ms/token", "p90 ms",
               "tokens/s", "bound tok/s", "bound", "fraction");
    else
        printf("\n%-18s %6s %8s %11s %11s %11s %7s %9s\n", "model", "batch", "length", "tokens/s", "seconds",
               "bound tok/s", "bound", "fraction");
}

static void row(const Sweep *s, const char *name, const Point *p, const BenchDecode *r, const BenchBound *b)
{
    char t[32], bt[32];
    bench_rate(r->tokens_per_s, t, sizeof t);
    bench_rate(b->tokens_per_s, bt, sizeof bt);
    double frac = r->tokens_per_s / b->tokens_per_s;
    if (s->kind == KIND_DECODE)
        printf("%-18s %-7s %6d %8d %11s %11.4f %11s %7s %9.3f\n", name, p->sweep, r->B, r->ctx, t,
               1e3 * r->latency_median, bt, b->kind, frac);
    else if (s->kind == KIND_LATENCY)
        printf("%-18s %6d %8d %11.4f %11.4f %11s %11s %7s %9.3f\n", name, r->B, r->ctx, 1e3 * r->latency_median,
               1e3 * r->latency_p90, t, bt, b->kind, frac);
    else
        printf("%-18s %6d %8d %11s %11.3f %11s %7s %9.3f\n", name, r->B, r->steps, t, r->sec.median, bt, b->kind, frac);
    fflush(stdout);
}

static int run_sweep(Sweep *s, int argc, char **argv)
{
    Option opts[BENCH_MAX_OPTIONS];
    int n = parse(s, argc, argv, opts);
    if (n < 0) return 0; /* --help */
    make_points(s);
    bench_check_run(&s->run);
    BenchModelSpec specs[BENCH_MAX_MODELS];
    int n_specs = bench_models_resolve(&s->bm, opts, n, specs);
    check_shapes(s, specs, n_specs);
    char cmd[32];
    snprintf(cmd, sizeof cmd, "bench %s", s->name);
    if (s->run.dry) return bench_dry_done(cmd);
    cJSON *res = bench_result(cmd, argc, argv, opts, n);
    Roofline rf;
    bench_roofline(&s->run, &rf, res);
    cJSON *models = cJSON_AddArrayToObject(res, "models");
    Progress pr;
    char label[48];
    snprintf(label, sizeof label, "bench %s", s->name);
    progress_start(&pr, label, (long)n_specs * s->n_points);
    pr.unit = "point";
    header(s);
    for (int i = 0; i < n_specs; i++) {
        Model m;
        bench_model_build(&s->bm, &specs[i], s->run.seed, &m);
        cJSON *mo = cJSON_CreateObject();
        cJSON_AddStringToObject(mo, "name", specs[i].name);
        cJSON_AddItemToObject(mo, "model", model_describe(&m));
        cJSON *pts = cJSON_AddArrayToObject(mo, "points");
        for (int p = 0; p < s->n_points; p++) {
            const Point *pt = &s->points[p];
            BenchDecode r;
            Err e = {{0}};
            int rc = s->kind == KIND_THROUGHPUT ? bench_generate(&m, pt->B, pt->steps, s->run.repeats, s->run.seed, &r, &e)
                                                : bench_decode(&m, pt->B, pt->ctx, pt->steps, s->run.repeats, s->run.seed,
                                                               &r, &e);
            if (rc) die("%s: %s", specs[i].name, e.msg);
            /* throughput's steps run from context 0 to `length`: its bytes at the mean context */
            BenchBound b;
            bench_bound_decode(&m, r.B, s->kind == KIND_THROUGHPUT ? pt->steps / 2 : r.ctx, r.flops_per_token, &rf, &b);
            if (pr.tty) fputc('\r', stderr), fprintf(stderr, "\033[K");
            row(s, specs[i].name, pt, &r, &b);
            cJSON_AddItemToArray(pts, point_json(pt, &r, &b));
            char extra[96];
            snprintf(extra, sizeof extra, "%.40s batch %d context %d", specs[i].name, pt->B, pt->ctx);
            progress_update(&pr, (long)i * s->n_points + p + 1, extra);
        }
        cJSON_AddItemToArray(models, mo);
        model_free(&m);
    }
    progress_finish(&pr);
    bench_write(res, &s->run);
    cJSON_Delete(res);
    return 0;
}

int bench_decode_main(int argc, char **argv)
{
    Sweep s = {.kind = KIND_DECODE, .name = "decode"};
    return run_sweep(&s, argc, argv);
}

int bench_latency_main(int argc, char **argv)
{
    Sweep s = {.kind = KIND_LATENCY, .name = "latency"};
    return run_sweep(&s, argc, argv);
}

int bench_throughput_main(int argc, char **argv)
{
    Sweep s = {.kind = KIND_THROUGHPUT, .name = "throughput"};
    return run_sweep(&s, argc, argv);
}
