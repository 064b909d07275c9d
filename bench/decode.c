#include "bench/decode.h"

#include <stdio.h>
#include <string.h>

#include "core/progress.h"

typedef struct { int B, ctx, steps; const char *sweep; } Point;

static int make_points(const BenchSweep *s, Point *pts)
{
    int n = 0;
    if (s->kind == BENCH_SWEEP_DECODE) {
        for (int i = 0; i < s->batches.n; i++) pts[n++] = (Point){s->batches.v[i], s->context, s->steps, "batch"};
        for (int i = 0; i < s->contexts.n; i++) pts[n++] = (Point){s->batch, s->contexts.v[i], s->steps, "context"};
    } else if (s->kind == BENCH_SWEEP_LATENCY) {
        for (int i = 0; i < s->contexts.n; i++) pts[n++] = (Point){s->batch, s->contexts.v[i], s->steps, "prefill"};
    } else {
        for (int i = 0; i < s->lengths.n; i++) pts[n++] = (Point){s->batch, 0, s->lengths.v[i], "length"};
    }
    return n;
}

typedef struct {
    const Point *pts;
    int n;
} Points;

static int check_points(const Model *lay, const void *arg, Err *e)
{
    const Points *p = arg;
    for (int i = 0; i < p->n; i++)
        if (bench_check_decode(lay, p->pts[i].B, p->pts[i].ctx, p->pts[i].steps, e)) return -1;
    return 0;
}

int bench_sweep_check(const BenchSweep *s, Err *e)
{
    Point pts[3 * BENCH_MAX_LIST];
    Points p = {pts, make_points(s, pts)};
    return bench_check_specs(s->models, s->n_models, check_points, &p, e);
}

static cJSON *point_json(const Point *p, const BenchDecode *r, const BenchBound *b)
{
    cJSON *o = bench_decode_json(r);
    cJSON_AddStringToObject(o, "sweep", p->sweep);
    bench_add_bound(o, b, r->tokens_per_s);
    return o;
}

static void header(const BenchSweep *s)
{
    if (s->kind == BENCH_SWEEP_DECODE)
        printf("\n%-18s %-7s %6s %8s %11s %11s %11s %7s %9s\n", "model", "sweep", "batch", "context", "tokens/s",
               "latency ms", "bound tok/s", "bound", "fraction");
    else if (s->kind == BENCH_SWEEP_LATENCY)
        printf("\n%-18s %6s %8s %11s %11s %11s %11s %7s %9s\n", "model", "batch", "prefill", "ms/token", "p90 ms",
               "tokens/s", "bound tok/s", "bound", "fraction");
    else
        printf("\n%-18s %6s %8s %11s %11s %11s %7s %9s\n", "model", "batch", "length", "tokens/s", "seconds",
               "bound tok/s", "bound", "fraction");
}

static void row(const BenchSweep *s, const char *name, const Point *p, const BenchDecode *r, const BenchBound *b)
{
    char t[32], bt[32];
    bench_rate(r->tokens_per_s, t, sizeof t);
    bench_rate(b->tokens_per_s, bt, sizeof bt);
    double frac = r->tokens_per_s / b->tokens_per_s;
    if (s->kind == BENCH_SWEEP_DECODE)
        printf("%-18s %-7s %6d %8d %11s %11.4f %11s %7s %9.3f\n", name, p->sweep, r->B, r->ctx, t,
               1e3 * r->latency_median, bt, b->kind, frac);
    else if (s->kind == BENCH_SWEEP_LATENCY)
        printf("%-18s %6d %8d %11.4f %11.4f %11s %11s %7s %9.3f\n", name, r->B, r->ctx, 1e3 * r->latency_median,
               1e3 * r->latency_p90, t, bt, b->kind, frac);
    else
        printf("%-18s %6d %8d %11s %11.3f %11s %7s %9.3f\n", name, r->B, r->steps, t, r->sec.median, bt, b->kind, frac);
    fflush(stdout);
}

/* One model's points into pts; the model is built here and freed. */
static int run_model(const BenchSweep *s, const BenchModelSpec *spec, const Point *points, int n_points,
                     const Roofline *rf, Progress *pr, long done, cJSON *models, Err *e)
{
    Model m;
    if (bench_spec_build(spec, s->run.seed, &m, e)) return -1;
    cJSON *pts = bench_model_points(models, spec->name, &m);
    int rc = 0;
    for (int p = 0; p < n_points && !rc; p++) {
        const Point *pt = &points[p];
        BenchDecode r;
        rc = s->kind == BENCH_SWEEP_THROUGHPUT
                 ? bench_generate(&m, pt->B, pt->steps, s->run.repeats, s->run.seed, &r, e)
                 : bench_decode(&m, pt->B, pt->ctx, pt->steps, s->run.repeats, s->run.seed, &r, e);
        if (rc) {
            err_prefix(e, spec->name);
            break;
        }
        /* throughput's steps run from context 0 to `length`: its bytes at the mean context */
        BenchBound b;
        bench_bound_decode(&m, r.B, s->kind == BENCH_SWEEP_THROUGHPUT ? pt->steps / 2 : r.ctx, r.flops_per_token, rf,
                           &b);
        if (pr->tty) fputc('\r', stderr), fprintf(stderr, "\033[K");
        row(s, spec->name, pt, &r, &b);
        cJSON_AddItemToArray(pts, point_json(pt, &r, &b));
        char extra[96];
        snprintf(extra, sizeof extra, "%.40s batch %d context %d", spec->name, pt->B, pt->ctx);
        progress_update(pr, done + p + 1, extra);
    }
    model_free(&m);
    return rc;
}

int bench_sweep_run(const BenchSweep *s, cJSON *res, Err *e)
{
    Point points[3 * BENCH_MAX_LIST];
    int n_points = make_points(s, points);
    Roofline rf;
    if (bench_roofline(&s->run, &rf, res, e)) return -1;
    cJSON *models = cJSON_AddArrayToObject(res, "models");
    Progress pr;
    char label[48];
    snprintf(label, sizeof label, "bench %s", s->name);
    progress_start(&pr, label, (long)s->n_models * n_points);
    pr.unit = "point";
    header(s);
    for (int i = 0; i < s->n_models; i++)
        if (run_model(s, &s->models[i], points, n_points, &rf, &pr, (long)i * n_points, models, e)) return -1;
    progress_finish(&pr);
    return 0;
}
