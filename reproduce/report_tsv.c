/* The tables plots/NAME.gp draw, beside REPORT.md in the results directory.
 * Tab-separated with a header line; NaN where a figure is missing (gnuplot
 * skips it). Accuracies are fractions (0..1) as the results hold them.
 *   <name>.tsv         train: length, then mean/min/max per cell (the spec's metric;
 *                      a needle cell's mean over depths); params: one row per cell
 *   <name>_cells.tsv   train: one line per cell run: cell, params, then mean/min/max per length
 *   <name>_grid.tsv    needle: length index, depth index, length, depth, one column per cell
 *   <name>_paper.tsv   the paper's table by column (lengths) when its columns are
 *                      lengths: column, one column per printed row, in our unit
 *   <name>_bars.tsv    the paper's first column beside ours, one line per row
 *   <name>_<sweep>.tsv bench: one block per series (blank lines between, gnuplot's
 *                      "index"), each headed "x<TAB>series name": x, tokens/s,
 *                      latency ms, roofline fraction
 *   <name>_kernels.tsv bench kernels: one block per kernel and direction: length, ms
 *   <name>_position.tsv a text model (lower-better metric): the metric against the position in the window at
 *                      the longest test length, one block per cell headed "position<TAB>cell": the bucket's
 *                      last position, mean, min, max over seeds (eval's by_position buckets 1, 2, 3-4, ...)
 *   <name>_scaling.tsv train with "scaling": one block per series (blank lines between), a line per cell
 *                      (size), headed "params<TAB>series": non-embedding parameters, then mean/min/max of the
 *                      metric on test at the scaling length, training FLOPs, tokens, and mean/min/max of the
 *                      last validation check
 *   <name>_curve.tsv   train: the validation curves, one block per cell (blank lines between), each headed
 *                      "step<TAB>cell": step, mean, min, max of the validation string accuracy over seeds (a text
 *                      model's loss or bits per byte: rep_curve_metric), a seed that stopped early (--stop-acc)
 *                      counted at its last check from there on
 * A table with nothing in it is not written (and an old one is removed), so a
 * plot of an experiment not yet run finds no file and says so. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "reproduce/report.h"

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static void path_of(char *buf, size_t cap, const char *results, const char *name, const char *suffix)
{
    snprintf(buf, cap, "%s/%s%s.tsv", results, name, suffix);
}

static void num(AtomicFile *f, Err *e, double v)
{
    if (isnan(v)) atomic_printf(f, e, "\tNaN");
    else atomic_printf(f, e, "\t%.12g", v); /* exact for parameter counts and byte sizes */
}

static int finish(AtomicFile *f, const char *path, int rows, Err *e)
{
    if (!rows) {
        atomic_abort(f);
        unlink(path);
        return 0;
    }
    return atomic_commit(f, e);
}

static int accuracy_tsv(RepExp *x, const char *results, Err *e)
{
    char path[1400];
    path_of(path, sizeof path, results, x->name, "");
    double L[REP_MAX_LEN];
    int nL = rep_lengths(x, L, REP_MAX_LEN);
    AtomicFile *f = atomic_open(path, e);
    if (!f) return -1;
    atomic_printf(f, e, "length");
    for (int i = 0; i < x->n_cells; i++) {
        const char *n = x->cells[i].name;
        atomic_printf(f, e, "\t%s\t%s_min\t%s_max", n, n, n);
    }
    atomic_printf(f, e, "\n");
    for (int k = 0; k < nL; k++) {
        atomic_printf(f, e, "%.10g", L[k]);
        for (int i = 0; i < x->n_cells; i++) {
            RepStat s;
            rep_metric(&x->cells[i], x->metric, L[k], -1, &s);
            num(f, e, s.n ? s.mean : NAN);
            num(f, e, s.n ? s.lo : NAN);
            num(f, e, s.n ? s.hi : NAN);
        }
        atomic_printf(f, e, "\n");
    }
    return finish(f, path, nL, e);
}

static int cells_tsv(RepExp *x, const char *results, Err *e)
{
    char path[1400];
    path_of(path, sizeof path, results, x->name, "_cells");
    double L[REP_MAX_LEN];
    int nL = rep_lengths(x, L, REP_MAX_LEN), n = 0;
    AtomicFile *f = atomic_open(path, e);
    if (!f) return -1;
    atomic_printf(f, e, "cell\tparams");
    for (int k = 0; k < nL; k++) atomic_printf(f, e, "\t%.10g\t%.10g_min\t%.10g_max", L[k], L[k], L[k]);
    atomic_printf(f, e, "\n");
    for (int i = 0; i < x->n_cells; i++) {
        const RepCell *c = &x->cells[i];
        if (!c->n_runs) continue;
        RepStat p;
        char why[200];
        rep_field(c, "model.params.total", &p, why, sizeof why);
        atomic_printf(f, e, "%s", c->name);
        num(f, e, p.n ? p.mean : NAN);
        for (int k = 0; k < nL; k++) {
            RepStat s;
            rep_metric(c, x->metric, L[k], -1, &s);
            num(f, e, s.n ? s.mean : NAN);
            num(f, e, s.n ? s.lo : NAN);
            num(f, e, s.n ? s.hi : NAN);
        }
        atomic_printf(f, e, "\n");
        n++;
    }
    return finish(f, path, nL ? n : 0, e);
}

static int grid_tsv(RepExp *x, const char *results, Err *e)
{
    char path[1400];
    path_of(path, sizeof path, results, x->name, "_grid");
    double L[REP_MAX_LEN], D[REP_MAX_LEN];
    int nL = rep_lengths(x, L, REP_MAX_LEN), nD = rep_depths(x, D, REP_MAX_LEN);
    AtomicFile *f = atomic_open(path, e);
    if (!f) return -1;
    atomic_printf(f, e, "length_i\tdepth_i\tlength\tdepth");
    for (int i = 0; i < x->n_cells; i++) atomic_printf(f, e, "\t%s", x->cells[i].name);
    atomic_printf(f, e, "\n");
    for (int k = 0; k < nL; k++) {
        for (int j = 0; j < nD; j++) {
            atomic_printf(f, e, "%d\t%d\t%.10g\t%.10g", k, j, L[k], D[j]);
            for (int i = 0; i < x->n_cells; i++) {
                RepStat s;
                rep_metric(&x->cells[i], x->metric, L[k], D[j], &s);
                num(f, e, s.n ? s.mean : NAN);
            }
            atomic_printf(f, e, "\n");
        }
        atomic_printf(f, e, "\n");
    }
    return finish(f, path, nL * nD, e);
}

/* the paper's rows in our unit: a "%" table is divided by 100 */
static int paper_tsvs(RepExp *x, const char *results, Err *e)
{
    const cJSON *t = get(x->spec, "paper_table"), *rows = get(t, "rows"), *cols = get(t, "columns");
    const cJSON *cell_of = get(t, "cell_of_row"), *unit = get(t, "unit");
    if (!cJSON_IsObject(rows) || !cJSON_IsArray(cols)) return 0;
    double pct = cJSON_IsString(unit) && !strcmp(unit->valuestring, "%") ? 100 : 1;
    char path[1400];
    if (rep_paper_numeric(t)) {
        path_of(path, sizeof path, results, x->name, "_paper");
        AtomicFile *f = atomic_open(path, e);
        if (!f) return -1;
        atomic_printf(f, e, "column");
        for (const cJSON *r = rows->child; r; r = r->next) atomic_printf(f, e, "\t%s", r->string);
        atomic_printf(f, e, "\n");
        int j = 0;
        for (const cJSON *c = cols->child; c; c = c->next, j++) {
            atomic_printf(f, e, "%.10g", c->valuedouble);
            for (const cJSON *r = rows->child; r; r = r->next) num(f, e, rep_paper_number(t, cJSON_GetArrayItem(r, j)) / pct);
            atomic_printf(f, e, "\n");
        }
        if (atomic_commit(f, e)) return -1;
    }
    /* the first column as bars: the paper's value and ours, one line per printed row */
    path_of(path, sizeof path, results, x->name, "_bars");
    AtomicFile *f = atomic_open(path, e);
    if (!f) return -1;
    atomic_printf(f, e, "row\tpaper\tours\tours_min\tours_max\n");
    int n = 0;
    for (const cJSON *r = rows->child; r; r = r->next, n++) {
        atomic_printf(f, e, "%s", r->string);
        num(f, e, rep_paper_number(t, cJSON_GetArrayItem(r, 0)) / pct);
        const cJSON *cn = get(cell_of, r->string);
        RepCell *c = cJSON_IsString(cn) ? rep_cell(x, cn->valuestring) : NULL;
        RepStat s = {0};
        if (c) rep_paper_ours(x, t, 0, c, &s);
        num(f, e, s.n ? s.mean / pct : NAN);
        num(f, e, s.n ? s.lo / pct : NAN);
        num(f, e, s.n ? s.hi / pct : NAN);
        atomic_printf(f, e, "\n");
    }
    return finish(f, path, n, e);
}

/* a point's x for each sweep of the bench instruments */
static const char *sweep_x(const char *sweep)
{
    if (!strcmp(sweep, "batch")) return "batch";
    if (!strcmp(sweep, "context") || !strcmp(sweep, "prefill")) return "context";
    if (!strcmp(sweep, "length")) return "steps";
    return NULL;
}

static int bench_tsvs(RepExp *x, const char *results, Err *e)
{
    static const char *const SWEEPS[] = {"batch", "context", "prefill", "length"};
    for (size_t w = 0; w < sizeof SWEEPS / sizeof *SWEEPS; w++) {
        char path[1400], suffix[32];
        snprintf(suffix, sizeof suffix, "_%s", SWEEPS[w]);
        path_of(path, sizeof path, results, x->name, suffix);
        AtomicFile *f = atomic_open(path, e);
        if (!f) return -1;
        int blocks = 0;
        for (int i = 0; i < x->n_cells; i++) {
            const RepCell *c = &x->cells[i];
            if (!c->n_runs) continue;
            const cJSON *models = get(c->runs[0], "models"); /* one seed: speed is not averaged over seeds */
            int n_models = cJSON_GetArraySize(models);
            for (const cJSON *m = models ? models->child : NULL; m; m = m->next) {
                int header = 0;
                const cJSON *mn = get(m, "name");
                for (const cJSON *p = get(m, "points") ? get(m, "points")->child : NULL; p; p = p->next) {
                    const cJSON *sw = get(p, "sweep");
                    if (!cJSON_IsString(sw) || strcmp(sw->valuestring, SWEEPS[w])) continue;
                    const cJSON *xv = get(p, sweep_x(SWEEPS[w]));
                    if (!cJSON_IsNumber(xv)) continue;
                    if (!header) {
                        if (blocks) atomic_printf(f, e, "\n\n");
                        if (n_models > 1 && cJSON_IsString(mn)) atomic_printf(f, e, "x\t%s/%s\n", c->name, mn->valuestring);
                        else atomic_printf(f, e, "x\t%s\n", c->name);
                        header = 1;
                        blocks++;
                    }
                    const cJSON *tps = get(p, "tokens_per_s_median"), *lat = get(p, "latency_s_median"), *rf = get(p, "roofline_fraction");
                    atomic_printf(f, e, "%.10g", xv->valuedouble);
                    num(f, e, cJSON_IsNumber(tps) ? tps->valuedouble : NAN);
                    num(f, e, cJSON_IsNumber(lat) ? lat->valuedouble * 1e3 : NAN);
                    num(f, e, cJSON_IsNumber(rf) ? rf->valuedouble : NAN);
                    atomic_printf(f, e, "\n");
                }
            }
        }
        if (finish(f, path, blocks, e)) return -1;
    }
    /* bench kernels: metrics.kernels.<kernel>.<direction>.points[length, seconds_median] */
    char path[1400];
    path_of(path, sizeof path, results, x->name, "_kernels");
    AtomicFile *f = atomic_open(path, e);
    if (!f) return -1;
    int blocks = 0;
    for (int i = 0; i < x->n_cells; i++) {
        const RepCell *c = &x->cells[i];
        const cJSON *ks = c->n_runs ? get(get(c->runs[0], "metrics"), "kernels") : NULL;
        for (const cJSON *k = ks ? ks->child : NULL; k; k = k->next)
            for (const cJSON *dir = k->child; dir; dir = dir->next) {
                const cJSON *pts = get(dir, "points");
                if (!cJSON_IsArray(pts) || !pts->child) continue;
                if (blocks++) atomic_printf(f, e, "\n\n");
                atomic_printf(f, e, "length\t%s %s\n", k->string, dir->string);
                for (const cJSON *p = pts->child; p; p = p->next) {
                    const cJSON *L = get(p, "length"), *s = get(p, "seconds_median");
                    if (!cJSON_IsNumber(L)) continue;
                    atomic_printf(f, e, "%.10g", L->valuedouble);
                    num(f, e, cJSON_IsNumber(s) ? s->valuedouble * 1e3 : NAN);
                    atomic_printf(f, e, "\n");
                }
            }
    }
    return finish(f, path, blocks, e);
}

static int params_tsv(RepExp *x, const char *results, Err *e)
{
    char path[1400];
    path_of(path, sizeof path, results, x->name, "");
    AtomicFile *f = atomic_open(path, e);
    if (!f) return -1;
    atomic_printf(f, e, "cell\ttotal\tactive\tstate_bytes\tkv_cache_bytes\n");
    int n = 0;
    for (int i = 0; i < x->n_cells; i++) {
        const RepCell *c = &x->cells[i];
        if (!c->n_runs) continue;
        atomic_printf(f, e, "%s", c->name);
        static const char *const F[] = {"total", "active", "state_bytes", "kv_cache_bytes"};
        for (int k = 0; k < 4; k++) {
            const cJSON *v = get(c->runs[0], F[k]);
            num(f, e, cJSON_IsNumber(v) ? v->valuedouble : NAN);
        }
        atomic_printf(f, e, "\n");
        n++;
    }
    return finish(f, path, n, e);
}

/* The value of one run's curve at `step`: its last check at or before it (a run that stopped at its target
 * keeps its last accuracy); 0 if the run has no check that early. */
static int curve_at(const cJSON *curve, const char *field, double step, double *v)
{
    int found = 0;
    for (const cJSON *p = curve ? curve->child : NULL; p; p = p->next) {
        const cJSON *st = get(p, "step"), *a = get(p, field);
        if (!cJSON_IsNumber(st) || !cJSON_IsNumber(a) || st->valuedouble > step) continue;
        *v = a->valuedouble;
        found = 1;
    }
    return found;
}

static int curve_tsv(RepExp *x, const char *results, Err *e)
{
    char path[1400];
    path_of(path, sizeof path, results, x->name, "_curve");
    AtomicFile *f = atomic_open(path, e);
    if (!f) return -1;
    int blocks = 0;
    enum { MAX_STEPS = 4096 };
    static double steps[MAX_STEPS];
    for (int i = 0; i < x->n_cells; i++) {
        const RepCell *c = &x->cells[i];
        int ns = 0;
        for (int r = 0; r < c->n_runs; r++) { /* every step any run checked, ascending */
            const cJSON *curve = get(get(get(c->runs[r], "metrics"), "validation"), "curve");
            for (const cJSON *p = curve ? curve->child : NULL; p; p = p->next) {
                const cJSON *st = get(p, "step");
                if (!cJSON_IsNumber(st)) continue;
                int k = 0;
                while (k < ns && steps[k] < st->valuedouble) k++;
                if ((k < ns && steps[k] == st->valuedouble) || ns == MAX_STEPS) continue;
                memmove(steps + k + 1, steps + k, (size_t)(ns - k) * sizeof *steps);
                steps[k] = st->valuedouble;
                ns++;
            }
        }
        if (!ns) continue;
        if (blocks++) atomic_printf(f, e, "\n\n");
        atomic_printf(f, e, "step\t%s\n", c->name);
        for (int k = 0; k < ns; k++) {
            double sum = 0, lo = 0, hi = 0, v;
            int n = 0;
            for (int r = 0; r < c->n_runs; r++)
                if (curve_at(get(get(get(c->runs[r], "metrics"), "validation"), "curve"), rep_curve_metric(x->metric),
                             steps[k], &v)) {
                    lo = n ? fmin(lo, v) : v;
                    hi = n ? fmax(hi, v) : v;
                    sum += v;
                    n++;
                }
            atomic_printf(f, e, "%.10g", steps[k]);
            num(f, e, n ? sum / n : NAN);
            num(f, e, n ? lo : NAN);
            num(f, e, n ? hi : NAN);
            atomic_printf(f, e, "\n");
        }
    }
    return finish(f, path, blocks, e);
}

static int position_tsv(RepExp *x, const char *results, Err *e)
{
    if (!rep_lower_is_better(x->metric)) return 0;
    char path[1400];
    path_of(path, sizeof path, results, x->name, "_position");
    double L[REP_MAX_LEN];
    int nL = rep_lengths(x, L, REP_MAX_LEN), blocks = 0;
    AtomicFile *f = atomic_open(path, e);
    if (!f) return -1;
    for (int i = 0; nL && i < x->n_cells; i++) {
        const RepCell *c = &x->cells[i];
        for (int k = 0; k < 32; k++) { /* eval's buckets at the longest length, while the runs have them */
            char value[200], end[200], why[300];
            snprintf(value, sizeof value, "metrics.eval[length=%.10g].by_position[%d].%s", L[nL - 1], k, x->metric);
            snprintf(end, sizeof end, "metrics.eval[length=%.10g].by_position[%d].to", L[nL - 1], k);
            RepStat s, to;
            rep_field(c, value, &s, why, sizeof why);
            rep_field(c, end, &to, why, sizeof why);
            if (!s.n || !to.n) break;
            if (!k) atomic_printf(f, e, "%sposition\t%s\n", blocks++ ? "\n\n" : "", c->name);
            atomic_printf(f, e, "%.10g", to.mean);
            num(f, e, s.mean);
            num(f, e, s.lo);
            num(f, e, s.hi);
            atomic_printf(f, e, "\n");
        }
    }
    return finish(f, path, blocks, e);
}

static int scaling_tsv(RepExp *x, const char *results, Err *e)
{
    const cJSON *sc, *sr, *cn;
    if (rep_scaling(x, &sc, e)) return -1;
    if (!sc) return 0;
    char path[1400];
    path_of(path, sizeof path, results, x->name, "_scaling");
    AtomicFile *f = atomic_open(path, e);
    if (!f) return -1;
    double length = cJSON_GetObjectItemCaseSensitive(sc, "length")->valuedouble;
    int blocks = 0;
    cJSON_ArrayForEach(sr, cJSON_GetObjectItemCaseSensitive(sc, "series")) {
        int rows = 0;
        cJSON_ArrayForEach(cn, cJSON_GetObjectItemCaseSensitive(sr, "cells")) {
            RepScalePoint p;
            rep_scale_point(rep_cell(x, cn->valuestring), x->metric, length, &p);
            if (!p.test.n && !p.val.n) continue;
            if (!rows++)
                atomic_printf(f, e, "%sparams\t%s\ttest_min\ttest_max\tflops\ttokens\tval\tval_min\tval_max\n",
                              blocks++ ? "\n\n" : "", get(sr, "name")->valuestring);
            atomic_printf(f, e, "%.12g", p.params.mean);
            const RepStat *st[] = {&p.test, &p.flops, &p.tokens, &p.val};
            for (int k = 0; k < 4; k++) {
                num(f, e, st[k]->n ? st[k]->mean : NAN);
                if (k == 0 || k == 3) num(f, e, st[k]->n ? st[k]->lo : NAN), num(f, e, st[k]->n ? st[k]->hi : NAN);
            }
            atomic_printf(f, e, "\n");
        }
    }
    return finish(f, path, blocks, e);
}

int rep_write_tsvs(RepExp *x, const char *results, Err *e)
{
    if (paper_tsvs(x, results, e)) return -1;
    if (!strcmp(x->command, "bench")) return bench_tsvs(x, results, e);
    if (!strcmp(x->command, "params")) return params_tsv(x, results, e);
    if (accuracy_tsv(x, results, e) || cells_tsv(x, results, e) || curve_tsv(x, results, e) || scaling_tsv(x, results, e) ||
        position_tsv(x, results, e))
        return -1;
    return rep_has_depths(x) ? grid_tsv(x, results, e) : 0;
}
