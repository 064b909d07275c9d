#include "bench/prefill.h"

#include <stdio.h>

#include "core/progress.h"

static int check_lengths(const Model *lay, const void *arg, Err *e)
{
    const BenchList *lengths = arg;
    for (int j = 0; j < lengths->n; j++)
        if (bench_check_pass(lay, 1, lengths->v[j], 0, e)) return -1;
    return 0;
}

int bench_prefill_check(const BenchPrefillSweep *s, Err *e)
{
    return bench_check_specs(s->models, s->n_models, check_lengths, &s->lengths, e);
}

static int run_model(const BenchPrefillSweep *s, const BenchModelSpec *spec, const Roofline *rf, Progress *pr,
                     long done, cJSON *models, Err *e)
{
    Model m;
    if (bench_spec_build(spec, s->run.seed, &m, e)) return -1;
    cJSON *pts = bench_model_points(models, spec->name, &m);
    int rc = 0;
    for (int j = 0; j < s->lengths.n; j++) {
        BenchPass r;
        if ((rc = bench_prefill(&m, s->lengths.v[j], s->run.repeats, s->run.seed, &r, e))) {
            err_prefix(e, spec->name);
            break;
        }
        BenchBound b;
        bench_bound_compute(r.flops_per_token, rf, &b);
        char t[32], bt[32];
        if (pr->tty) fprintf(stderr, "\r\033[K");
        printf("%-18s %8d %11s %10.3f %9.2f %11s %9.3f\n", spec->name, r.T, bench_rate(r.tokens_per_s, t, sizeof t),
               1e3 * r.sec.median, r.gflops, bench_rate(b.tokens_per_s, bt, sizeof bt), r.tokens_per_s / b.tokens_per_s);
        fflush(stdout);
        cJSON_AddItemToArray(pts, bench_pass_json(&r, &b));
        char extra[96];
        snprintf(extra, sizeof extra, "%.40s length %d", spec->name, s->lengths.v[j]);
        progress_update(pr, done + j + 1, extra);
    }
    model_free(&m);
    return rc;
}

int bench_prefill_run(const BenchPrefillSweep *s, cJSON *res, Err *e)
{
    Roofline rf;
    if (bench_roofline(&s->run, &rf, res, e)) return -1;
    cJSON *models = cJSON_AddArrayToObject(res, "models");
    printf("\n%-18s %8s %11s %10s %9s %11s %9s\n", "model", "length", "tokens/s", "ms/run", "GFLOP/s", "bound tok/s",
           "fraction");
    Progress pr;
    progress_start(&pr, "bench prefill", (long)s->n_models * s->lengths.n);
    pr.unit = "point";
    for (int i = 0; i < s->n_models; i++)
        if (run_model(s, &s->models[i], &rf, &pr, (long)i * s->lengths.n, models, e)) return -1;
    progress_finish(&pr);
    return 0;
}
