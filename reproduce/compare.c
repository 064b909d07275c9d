/* The comparison behind `seqbench compare`: several architectures trained
 * under the same settings, each over k seeds, side by side (issue 16).
 *
 * A compare spec is an experiment spec (plan.c): "base" holds what
 * every architecture shares (task, steps, batch, schedule, --param-budget,
 * eval lengths), each cell one architecture and the seeds the same data and
 * weight seeds for all. The cells run through the experiment runner (run.c), so a
 * comparison resumes where it stopped. What compare adds is the summary:
 * <results>/<name>/summary.json with, per architecture and eval length, the
 * mean, min and max over the seeds that finished, the exact parameter counts,
 * and the same as a table on stdout. */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reproduce/compare.h"
#include "reproduce/experiment.h"
#include "core/results.h"
#include "core/jsonio.h"

#define MAX_LENGTHS 64

typedef struct {
    int length, n, oom;                 /* seeds measured; seeds that ran out of memory there */
    double sum[2], min[2], max[2];      /* string_acc, token_acc */
    cJSON *values[2];                   /* the per-seed figures, in seed order */
} LengthStats;

static const char *const METRICS[2] = {"string_acc", "token_acc"};

static LengthStats *stats_for(LengthStats *s, int *n, int length)
{
    for (int i = 0; i < *n; i++)
        if (s[i].length == length) return &s[i];
    if (*n >= MAX_LENGTHS) return NULL;
    LengthStats *x = &s[(*n)++];
    memset(x, 0, sizeof *x);
    x->length = length;
    for (int m = 0; m < 2; m++) {
        x->min[m] = DBL_MAX;
        x->max[m] = -DBL_MAX;
        x->values[m] = cJSON_CreateArray();
    }
    return x;
}

static int by_length(const void *a, const void *b)
{
    return ((const LengthStats *)a)->length - ((const LengthStats *)b)->length;
}

/* Adds one seed's result file to the architecture's stats; returns its
 * parameter count (0 if the file holds none). */
static double add_result(const cJSON *res, LengthStats *s, int *n)
{
    const cJSON *evals = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "metrics"), "eval");
    for (const cJSON *x = cJSON_IsArray(evals) ? evals->child : NULL; x; x = x->next) {
        const cJSON *len = cJSON_GetObjectItemCaseSensitive(x, "length");
        LengthStats *t = cJSON_IsNumber(len) ? stats_for(s, n, len->valueint) : NULL;
        if (!t) continue;
        const cJSON *acc[2] = {cJSON_GetObjectItemCaseSensitive(x, METRICS[0]),
                               cJSON_GetObjectItemCaseSensitive(x, METRICS[1])};
        if (!cJSON_IsNumber(acc[0]) || !cJSON_IsNumber(acc[1])) { /* an "OOM" cell: not measured */
            t->oom++;
            continue;
        }
        t->n++;
        for (int m = 0; m < 2; m++) {
            double v = acc[m]->valuedouble;
            t->sum[m] += v;
            if (v < t->min[m]) t->min[m] = v;
            if (v > t->max[m]) t->max[m] = v;
            cJSON_AddItemToArray(t->values[m], cJSON_CreateNumber(v));
        }
    }
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "model"), "params"), "total");
    return cJSON_IsNumber(total) ? total->valuedouble : 0;
}

/* One architecture of the summary, from its cells' result files. */
static cJSON *summarise_arch(const ExpCell *cells, int n_seeds, LengthStats *s, int *n_len)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "name", cells[0].cell);
    cJSON *done = cJSON_AddArrayToObject(a, "seeds");
    cJSON *missing = cJSON_AddArrayToObject(a, "seeds_missing");
    cJSON *diverged = cJSON_AddArrayToObject(a, "seeds_diverged");
    cJSON *params = cJSON_CreateArray(), *model = NULL;
    double first_params = -1, seconds = 0;
    int same_params = 1, n_done = 0;
    *n_len = 0;
    for (int k = 0; k < n_seeds; k++) {
        const ExpCell *c = &cells[k];
        cJSON *seed = cJSON_CreateNumber(atof(c->seed_s));
        Err e;
        cJSON *res = c->status == 0 ? json_read_file(c->out, &e) : NULL;
        if (!res) {
            cJSON_AddItemToArray(missing, seed);
            continue;
        }
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(res, "status");
        if (cJSON_IsString(status) && strcmp(status->valuestring, "ok")) {
            cJSON_AddItemToArray(diverged, seed);
            cJSON_Delete(res);
            continue;
        }
        cJSON_AddItemToArray(done, seed);
        n_done++;
        double p = add_result(res, s, n_len);
        cJSON_AddItemToArray(params, cJSON_CreateNumber(p));
        if (first_params < 0) first_params = p;
        else if (p != first_params) same_params = 0;
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "metrics"),
                                                            "train_seconds");
        if (cJSON_IsNumber(sec)) seconds += sec->valuedouble;
        if (!model) { /* pattern, type and counts by part are the same for every seed of one cell */
            cJSON *m = cJSON_GetObjectItemCaseSensitive(res, "model");
            model = cJSON_CreateObject();
            const char *keep[] = {"pattern", "model_type", "params"};
            for (int i = 0; i < 3; i++) {
                cJSON *v = cJSON_GetObjectItemCaseSensitive(m, keep[i]);
                if (v) cJSON_AddItemToObject(model, keep[i], cJSON_Duplicate(v, 1));
            }
        }
        cJSON_Delete(res);
    }
    if (first_params >= 0) cJSON_AddNumberToObject(a, "params", first_params);
    if (!same_params) cJSON_AddItemToObject(a, "params_by_seed", params); /* a fit that depends on the seed */
    else cJSON_Delete(params);
    if (model) cJSON_AddItemToObject(a, "model", model);
    if (n_done) cJSON_AddNumberToObject(a, "train_seconds_mean", seconds / n_done);
    qsort(s, (size_t)*n_len, sizeof *s, by_length);
    cJSON *evals = cJSON_AddArrayToObject(a, "eval");
    for (int i = 0; i < *n_len; i++) {
        LengthStats *t = &s[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "length", t->length);
        cJSON_AddNumberToObject(x, "seeds", t->n);
        if (t->oom) cJSON_AddNumberToObject(x, "oom", t->oom);
        for (int m = 0; m < 2; m++) {
            cJSON *v = cJSON_AddObjectToObject(x, METRICS[m]);
            if (t->n) {
                cJSON_AddNumberToObject(v, "mean", t->sum[m] / t->n);
                cJSON_AddNumberToObject(v, "min", t->min[m]);
                cJSON_AddNumberToObject(v, "max", t->max[m]);
            }
            cJSON_AddItemToObject(v, "values", t->values[m]);
            t->values[m] = NULL;
        }
        cJSON_AddItemToArray(evals, x);
    }
    return a;
}

/* The table: one row per architecture, one column per length, "mean [min, max]". */
static void print_table(const cJSON *archs, int metric, const char *name, int n_seeds)
{
    int lengths[MAX_LENGTHS], n = 0;
    for (const cJSON *a = archs->child; a; a = a->next)
        for (const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, "eval")->child; x; x = x->next) {
            int len = cJSON_GetObjectItemCaseSensitive(x, "length")->valueint, i = 0;
            while (i < n && lengths[i] < len) i++;
            if ((i < n && lengths[i] == len) || n >= MAX_LENGTHS) continue;
            memmove(lengths + i + 1, lengths + i, (size_t)(n - i) * sizeof *lengths);
            lengths[i] = len;
            n++;
        }
    printf("\n%s: %s, mean [min, max] over %d seed%s\n%-20s %10s %6s", name, METRICS[metric], n_seeds,
           n_seeds == 1 ? "" : "s", "architecture", "params", "seeds");
    for (int i = 0; i < n; i++) printf("  %-22d", lengths[i]);
    putchar('\n');
    for (const cJSON *a = archs->child; a; a = a->next) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(a, "params");
        char count[32] = "-", seeds[16];
        if (cJSON_IsNumber(p)) snprintf(count, sizeof count, "%.0f", p->valuedouble);
        snprintf(seeds, sizeof seeds, "%d/%d", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "seeds")),
                 n_seeds);
        printf("%-20s %10s %6s", cJSON_GetObjectItemCaseSensitive(a, "name")->valuestring, count, seeds);
        for (int i = 0; i < n; i++) {
            char cell[64] = "-";
            for (const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, "eval")->child; x; x = x->next) {
                if (cJSON_GetObjectItemCaseSensitive(x, "length")->valueint != lengths[i]) continue;
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(x, METRICS[metric]);
                const cJSON *mean = cJSON_GetObjectItemCaseSensitive(v, "mean");
                if (cJSON_IsNumber(mean))
                    snprintf(cell, sizeof cell, "%.4f [%.3f, %.3f]", mean->valuedouble,
                             cJSON_GetObjectItemCaseSensitive(v, "min")->valuedouble,
                             cJSON_GetObjectItemCaseSensitive(v, "max")->valuedouble);
                else if (cJSON_GetObjectItemCaseSensitive(x, "oom"))
                    snprintf(cell, sizeof cell, "OOM");
            }
            printf("  %-22s", cell);
        }
        putchar('\n');
    }
    fflush(stdout);
}

/* summary.json, from the cells experiment_run left, and the table of the chosen metric. */
static int summarise(const cJSON *spec, const char *spec_path, const char *profile, const char *preset, int which,
                     const ExpCell *cells, int n_cells, const char *dir, cJSON *summary, Err *e)
{
    /* the plan's seeds (the profile's, or --seeds), cell-major: n_cells / cells of the spec per cell */
    int n_specced = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, "cells"));
    int n_seeds = n_specced > 0 ? n_cells / n_specced : 1;
    char name[128] = "";
    Err unused; /* the plan has checked the name */
    json_get_string(spec, "name", 1, name, sizeof name, spec_path, &unused);
    cJSON_AddStringToObject(summary, "experiment", name);
    cJSON_AddStringToObject(summary, "spec", spec_path);
    cJSON_AddStringToObject(summary, "profile", profile ? profile : "");
    cJSON_AddStringToObject(summary, "preset", preset);
    cJSON_AddStringToObject(summary, "metric", METRICS[which]);
    cJSON *seeds = cJSON_AddArrayToObject(summary, "seeds");
    for (int k = 0; k < n_seeds && k < n_cells; k++)
        cJSON_AddItemToArray(seeds, cJSON_CreateNumber(atof(cells[k].seed_s)));
    cJSON *archs = cJSON_AddArrayToObject(summary, "architectures");
    LengthStats stats[MAX_LENGTHS];
    for (int i = 0; i < n_cells; i += n_seeds) {
        int n_len;
        cJSON_AddItemToArray(archs, summarise_arch(&cells[i], n_seeds, stats, &n_len));
    }
    results_finish(summary);
    char path[1300];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    if (json_write_file(path, summary, e)) return -1;
    print_table(archs, which, name, n_seeds);
    fprintf(stderr, "wrote %s\n", path);
    return 0;
}

int compare_run(const CompareSettings *s, Err *e)
{
    cJSON *spec = json_read_file(s->spec_path, e);
    if (!spec) return -1;
    char metric[16];
    snprintf(metric, sizeof metric, "%s", s->metric);
    if (!*metric && json_get_string(spec, "metric", 0, metric, sizeof metric, s->spec_path, e)) {
        cJSON_Delete(spec);
        return -1;
    }
    int which = !*metric || !strcmp(metric, "token_acc") ? 1 : !strcmp(metric, "string_acc") ? 0 : -1;
    if (which < 0) {
        cJSON_Delete(spec);
        return err_set(e, "compare: metric \"%s\" is neither token_acc nor string_acc", metric);
    }
    /* compare summarises one run per cell and seed: a sweep's values are experiment's and the report's to choose */
    int swept = cJSON_GetObjectItemCaseSensitive(spec, "sweep") != NULL;
    const cJSON *spec_cells = cJSON_GetObjectItemCaseSensitive(spec, "cells");
    for (const cJSON *c = cJSON_IsArray(spec_cells) ? spec_cells->child : NULL; c; c = c->next)
        swept |= cJSON_GetObjectItemCaseSensitive(c, "sweep") != NULL;
    if (swept) {
        cJSON_Delete(spec);
        return err_set(e, "compare: %s has a \"sweep\"; run it with seqbench experiment and read the report",
                       s->spec_path);
    }
    const char *prof = *s->profile ? s->profile : cJSON_GetObjectItemCaseSensitive(spec, "profiles") ? "quick" : NULL;
    cJSON *summary = results_new("compare", s->argc, s->argv);

    ExpRun r = {.cmd = "compare", .spec_path = s->spec_path, .spec = spec, .profile = prof, .preset = s->preset,
                .results = s->results, .threads = s->threads, .dry = s->dry, .jobs = s->jobs, .seeds = s->seeds,
                .run_command = s->run_command};
    ExpCell *cells = NULL;
    int n_cells;
    char dir[1200];
    int rc = experiment_run(&r, &cells, &n_cells, dir, sizeof dir, e);
    if (rc >= 0 && !s->dry && summarise(spec, s->spec_path, prof, s->preset, which, cells, n_cells, dir, summary, e))
        rc = -1;
    free(cells);
    cJSON_Delete(summary);
    cJSON_Delete(spec);
    return rc;
}
