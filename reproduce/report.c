/* The report: every experiment spec and its result files into
 * results/REPORT.md (the machine, a summary of the verdicts, then per
 * experiment the paper's numbers beside ours, the settings, the plots and the
 * verdicts) and the tables plots/NAME.gp draw (report_tsv.c). The report is
 * a function of the specs and result files only: no time of generation, no
 * path of the results directory, so two runs over the same files agree byte
 * for byte (the Slurm test compares reports of two runs). */
#define _DEFAULT_SOURCE /* timegm */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reproduce/report.h"
#include "reproduce/experiment.h"
#include "core/results.h"
#include "core/atomic.h"
#include "core/jsonio.h"

#define REP_MAX_SPECS 256

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The first run (specs in name order, cells in spec order, files in name order) that has key. */
static const cJSON *first_with(RepExp *xs, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        for (int c = 0; c < xs[i].n_cells; c++)
            for (int r = 0; r < xs[i].cells[c].n_runs; r++) {
                const cJSON *v = get(xs[i].cells[c].runs[r], key);
                if (v) return v;
            }
    return NULL;
}

/* Distinct string or number values of key over every run, sorted, "a, b". */
static void distinct(RepExp *xs, int n, const char *key, char *out, size_t cap)
{
    char *vals[64];
    int nv = 0;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < xs[i].n_cells; c++)
            for (int r = 0; r < xs[i].cells[c].n_runs; r++) {
                const cJSON *v = get(xs[i].cells[c].runs[r], key);
                char b[128];
                if (cJSON_IsString(v)) snprintf(b, sizeof b, "%s", v->valuestring);
                else if (cJSON_IsNumber(v)) snprintf(b, sizeof b, "%g", v->valuedouble);
                else continue;
                int seen = 0;
                for (int k = 0; k < nv && !seen; k++) seen = !strcmp(vals[k], b);
                if (!seen && nv < 64) vals[nv++] = strdup(b);
            }
    qsort(vals, (size_t)nv, sizeof *vals, by_name);
    out[0] = 0;
    for (int k = 0; k < nv; k++) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", k ? ", " : "", vals[k]);
        free(vals[k]);
    }
    if (!nv) snprintf(out, cap, "not recorded");
}

/* "2026-12-07T02:54:53Z" -> seconds since the epoch; -1 if it is not that form */
static double utc_seconds(const char *iso)
{
    struct tm tm = {0};
    if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm);
}

/* A gap this long between one result's end and the next one's start means the results came from separate runs
 * (a spec rerun later, results copied in): the span from the first start to the last end would then read as one
 * run's duration, so each run is listed with its own. */
enum { SESSION_GAP_S = 600 };

typedef struct { double t0, t1; } Span;

static int by_start(const void *a, const void *b)
{
    double x = ((const Span *)a)->t0, y = ((const Span *)b)->t0;
    return (x > y) - (x < y);
}

/* "2026-12-07 07:44 to 08:14 UTC"; the end's date too when asked or when it is another day */
static void span_text(char *out, size_t cap, double t0, double t1, int with_day)
{
    char a[32], b[32];
    time_t ta = (time_t)t0, tb = (time_t)t1;
    strftime(a, sizeof a, "%Y-%m-%d %H:%M", gmtime(&ta));
    strftime(b, sizeof b, "%Y-%m-%d", gmtime(&tb));
    with_day = with_day || strncmp(a, b, 10);
    strftime(b, sizeof b, with_day ? "%Y-%m-%d %H:%M" : "%H:%M", gmtime(&tb));
    snprintf(out, cap, "%s to %s UTC", a, b);
}

/* When the results were made: the first start, the last end (start + wall time) and the cells' wall time added
 * up, so a shipped report says how long its run took without a clock of its own (the report stays a function
 * of the result files); results from separate runs are listed run by run. Nothing when no result records a
 * start. */
static void run_span(AtomicFile *md, const RepExp *xs, int n, Err *e)
{
    Span *spans = NULL;
    int runs = 0, cap = 0;
    double cells_s = 0;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < xs[i].n_cells; c++)
            for (int r = 0; r < xs[i].cells[c].n_runs; r++) {
                const cJSON *run = xs[i].cells[c].runs[r], *at = get(run, "started_at"), *w = get(run, "wall_time_s");
                double t0 = cJSON_IsString(at) ? utc_seconds(at->valuestring) : -1;
                if (t0 < 0) continue;
                double wall = cJSON_IsNumber(w) ? w->valuedouble : 0;
                if (runs == cap) {
                    Span *grown = realloc(spans, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *spans);
                    if (!grown) { free(spans); err_set(e, "out of memory listing the results' times"); return; }
                    spans = grown;
                }
                spans[runs++] = (Span){t0, t0 + wall};
                cells_s += wall;
            }
    if (!runs) return;
    qsort(spans, (size_t)runs, sizeof *spans, by_start);
    /* merge into sessions: [first, last] of results that follow each other without a long gap */
    int sessions = 0;
    for (int k = 0; k < runs; k++) {
        if (sessions && spans[k].t0 <= spans[sessions - 1].t1 + SESSION_GAP_S) {
            if (spans[k].t1 > spans[sessions - 1].t1) spans[sessions - 1].t1 = spans[k].t1;
            continue;
        }
        spans[sessions++] = spans[k];
    }
    char text[96];
    if (sessions == 1) {
        span_text(text, sizeof text, spans[0].t0, spans[0].t1, 1);
        atomic_printf(md, e, "- run: %d result%s made from %s (%.0f min from the first start to the last end; the "
                             "cells' wall times add up to %.0f min)\n", runs, runs == 1 ? "" : "s", text,
                      (spans[0].t1 - spans[0].t0) / 60, cells_s / 60);
    } else {
        atomic_printf(md, e, "- run: %d results made in %d separate runs (no result started within %d min of the one "
                             "before ending):", runs, sessions, SESSION_GAP_S / 60);
        for (int k = 0; k < sessions; k++) {
            span_text(text, sizeof text, spans[k].t0, spans[k].t1, 0);
            atomic_printf(md, e, "%s %s (%.0f min)", k ? "," : "", text, (spans[k].t1 - spans[k].t0) / 60);
        }
        atomic_printf(md, e, "; the cells' wall times add up to %.0f min\n", cells_s / 60);
    }
    free(spans);
}

static void header(AtomicFile *md, RepExp *xs, int n, const char *profile, int no_times, Err *e)
{
    atomic_printf(md, e, "# seqbench report\n\n");
    /* a smoke run trains a few steps a cell: its verdicts say whether the pipeline works, nothing about the papers */
    if (!strcmp(profile, "smoke"))
        atomic_printf(md, e, "> **Smoke profile: these verdicts test the pipeline, not the claims.** Every cell trained a "
                             "few steps, so \"not reproduced\" here means nothing about the papers, and every "
                             "timing is a single, unrepeated run. Run `make reproduce` (profile `quick`) for verdicts."
                             "\n\n");
    atomic_printf(md, e, "Generated by `seqbench report` from the experiment specs and their result "
                         "files (profile `%s`). Each experiment states what its paper reports, then what was measured here, "
                         "then a verdict per claim.\n\n", profile);
    atomic_printf(md, e, "Every figure is the mean over seeds with its min..max in brackets. A claim's rule is judged on "
                         "the mean and on each seed alone: it **holds** when it holds on the mean and in a clear majority "
                         "of the n seeds that have its figures (all of them when n <= 2, else at least ceil(2n/3): 2 of "
                         "3, 3 of 4, 4 of 5), and **fails** when it fails on the mean and in a clear majority. A claim is "
                         "**reproduced** when its check holds, **reproduced qualitatively** when its check fails and "
                         "its qualitative rule holds, and **inconclusive at this scale: holds in k of n seeds** when the "
                         "rule that decides it does neither (the mean and the seeds disagree, or the seeds split). It is **not "
                         "reproduced** only when the rule that decides it (the qualitative one, if any) fails on the mean "
                         "and in every seed: a seed where it holds shows the claim can hold at this scale, so the claim is "
                         "inconclusive instead. A claim "
                         "whose precondition (its measurable rule, say that a model learned the task at all) fails is "
                         "**not measurable at this scale**, with the figures that show it. Each "
                         "verdict line names its seeds, its rules and the figures that decided it.\n\n## Machine\n\n");
    const cJSON *m = first_with(xs, n, "machine");
    char buf[1024];
    if (m) {
        const cJSON *cpu = get(m, "cpu"), *cores = get(m, "cores"), *thr = get(m, "threads"), *core = get(m, "openblas_core");
        atomic_printf(md, e, "- CPU: %s", cJSON_IsString(cpu) ? cpu->valuestring : "?");
        if (cJSON_IsNumber(cores)) atomic_printf(md, e, ", %d cores", cores->valueint);
        if (cJSON_IsNumber(thr)) atomic_printf(md, e, ", %d hardware threads", thr->valueint);
        if (cJSON_IsTrue(get(m, "avx512f"))) atomic_printf(md, e, ", AVX-512");
        else if (cJSON_IsTrue(get(m, "avx2"))) atomic_printf(md, e, ", AVX2");
        const cJSON *vk = get(m, "vector_kernels");
        if (cJSON_IsString(vk)) atomic_printf(md, e, "; seqbench's kernels: %s", vk->valuestring);
        if (cJSON_IsString(core)) atomic_printf(md, e, "; OpenBLAS kernels: %s", core->valuestring);
        atomic_printf(md, e, "\n");
    } else {
        distinct(xs, n, "cpu", buf, sizeof buf);
        atomic_printf(md, e, "- CPU: %s (cores not recorded by these results)\n", buf);
    }
    distinct(xs, n, "threads", buf, sizeof buf);
    atomic_printf(md, e, "- threads per run: %s\n", buf);
    distinct(xs, n, "compiler", buf, sizeof buf);
    atomic_printf(md, e, "- compiler: %s", buf);
    distinct(xs, n, "compiler_flags", buf, sizeof buf);
    atomic_printf(md, e, " (`%s`)\n", buf);
    distinct(xs, n, "seqbench_version", buf, sizeof buf);
    atomic_printf(md, e, "- seqbench version: %s\n", buf);
    const cJSON *roof = first_with(xs, n, "roofline");
    if (cJSON_IsNumber(get(roof, "sgemm_gflops")) && cJSON_IsNumber(get(roof, "bandwidth_gbs"))) {
        atomic_printf(md, e, "- roofline: ");
        if (cJSON_IsNumber(get(roof, "fma_gflops")) && get(roof, "fma_gflops")->valuedouble > 0)
            atomic_printf(md, e, "FMA peak %.1f GFLOP/s, ", get(roof, "fma_gflops")->valuedouble);
        atomic_printf(md, e, "sgemm %.1f GFLOP/s, memory bandwidth %.1f GB/s (%s)\n",
                      get(roof, "sgemm_gflops")->valuedouble, get(roof, "bandwidth_gbs")->valuedouble,
                      cJSON_IsString(get(roof, "bandwidth_kernel")) ? get(roof, "bandwidth_kernel")->valuestring : "stream");
    }
    if (!no_times) run_span(md, xs, n, e);
    atomic_printf(md, e, "\n");
}

/* The spec files (*.json) of dir, in name order (malloc'd names); -1 if dir cannot be opened. */
static int list_specs(const char *dir, char **specs, int cap, Err *e)
{
    DIR *d = opendir(dir);
    if (!d) return err_set(e, "cannot open experiments directory \"%s\"", dir);
    int n = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) && n < cap) {
        size_t len = strlen(ent->d_name);
        if (len > 5 && !strcmp(ent->d_name + len - 5, ".json")) specs[n++] = strdup(ent->d_name);
    }
    closedir(d);
    qsort(specs, (size_t)n, sizeof *specs, by_name);
    return n;
}

/* The result files a spec plans at the report's profile and seeds that were made under the settings their
 * cells have now (each checked by a dry run of its command line, with the thread count it ran with); the rest
 * are named on stderr and counted in *left_out. keep gets malloc'd paths. */
static int planned_results(const ReportSettings *s, const char *spec_path, char **keep, int cap, int *left_out,
                           Err *e)
{
    cJSON *spec = json_read_file(spec_path, e);
    if (!spec) return -1;
    ExpRun r = {.cmd = "report", .spec_path = spec_path, .spec = spec, .profile = s->profile, .results = s->results,
                .seeds = s->seeds, .run_command = s->run_command};
    ExpPlan p;
    if (experiment_plan(&r, "", &p, e)) {
        cJSON_Delete(spec);
        return -1;
    }
    int n = 0, rc = 0;
    for (int i = 0; i < p.n && n < cap && !rc; i++) {
        if (!p.cells[i].done) continue;
        /* the cell's command line with the threads its result ran with: they are part of its settings */
        char *argv[EXP_MAX_ARGS + 4], threads[32];
        int argc = 0;
        for (; argc < p.argc[i]; argc++) argv[argc] = p.argv[i][argc];
        Err rd = {{0}};
        cJSON *res = json_read_file(p.cells[i].out, &rd);
        const cJSON *t = res ? cJSON_GetObjectItemCaseSensitive(res, "threads") : NULL;
        if (cJSON_IsNumber(t) && strcmp(p.command, "params")) {
            snprintf(threads, sizeof threads, "%d", t->valueint);
            argv[argc++] = "--threads";
            argv[argc++] = threads;
        }
        argv[argc] = NULL;
        cJSON_Delete(res);
        char why[600];
        int stale = experiment_result_stale(&r, argc, argv, p.cells[i].out, why, sizeof why, e);
        if (stale < 0) rc = -1;
        else if (stale) {
            fprintf(stderr, "seqbench report: leaving out %s: %s\n", p.cells[i].out, why);
            ++*left_out;
        } else {
            keep[n++] = strdup(p.cells[i].out);
        }
    }
    experiment_plan_free(&p);
    cJSON_Delete(spec);
    return rc ? -1 : n;
}

/* Every spec and its results; names each malformed claim on stderr, once. */
static int load_all(RepExp *xs, char **specs, int n_specs, const ReportSettings *s, int *left_out, Err *e)
{
    int found = 0;
    for (int i = 0; i < n_specs; i++) {
        char spec[1400];
        snprintf(spec, sizeof spec, "%s/%s", s->experiments, specs[i]);
        int n_keep = -1;
        char *keep[REP_MAX_CELLS * REP_MAX_RUNS];
        if (s->run_command && (n_keep = planned_results(s, spec, keep, REP_MAX_CELLS * REP_MAX_RUNS, left_out, e)) < 0)
            return -1;
        int rc = rep_load_only(&xs[i], spec, s->results, keep, n_keep, e);
        for (int k = 0; k < n_keep; k++) free(keep[k]);
        if (rc) return -1;
        xs[i].no_times = s->no_times;
        for (int c = 0; c < xs[i].n_cells; c++) found += xs[i].cells[c].n_runs;
    }
    /* an empty report would look like a run that measured nothing: say there is nothing to report */
    if (!found)
        return err_set(e, "report: no results under %s for the %d spec%s in %s (run seqbench experiment or make "
                          "reproduce first)", s->results, n_specs, n_specs == 1 ? "" : "s", s->experiments);
    /* a malformed claim is reported in its verdict and named here, once */
    for (int i = 0; i < n_specs; i++) {
        const cJSON *claims = get(xs[i].spec, "claims");
        int k = 1;
        for (const cJSON *c = claims ? claims->child : NULL; c; c = c->next, k++) {
            Verdict v;
            claim_verdict(c, &xs[i], &v);
            if (v.bad) fprintf(stderr, "seqbench report: %s: claim %d: %s\n", xs[i].path, k, v.line);
        }
    }
    return 0;
}

/* The tables, then REPORT.md: the header, the summary of the verdicts, one section per spec. */
static int write_files(RepExp *xs, int n_specs, const ReportSettings *s, int left_out, Err *e)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/REPORT.md", s->results);
    if (results_check_file("--results", path, e)) return -1;
    for (int i = 0; i < n_specs; i++)
        if (rep_write_tsvs(&xs[i], s->results, e)) return -1;
    /* the profile, for the plots: a smoke run's timing plots say they are single, unrepeated runs */
    snprintf(path, sizeof path, "%s/profile.txt", s->results);
    AtomicFile *pf = atomic_open(path, e);
    if (!pf) return -1;
    atomic_printf(pf, e, "%s\n", s->profile);
    if (atomic_commit(pf, e)) return -1;
    snprintf(path, sizeof path, "%s/REPORT.md", s->results);
    AtomicFile *md = atomic_open(path, e);
    if (!md) return -1;
    header(md, xs, n_specs, s->profile, s->no_times, e);
    if (left_out) /* a reader must know that files in the folder are not in the figures, and why */
        atomic_printf(md, e, "%d result file%s in the folder %s left out: made under other settings than %s cell "
                             "has at profile `%s` (another profile, a changed spec or thread count; `seqbench report` "
                             "names each on stderr).\n\n", left_out, left_out == 1 ? "" : "s",
                      left_out == 1 ? "was" : "were", left_out == 1 ? "its" : "their", s->profile);
    atomic_printf(md, e, "## Summary\n\n| experiment | claim | paper | ours (the deciding figures, mean over seeds) | "
                         "seeds holding | verdict |\n|---|---|---|---|---|---|\n");
    for (int i = 0; i < n_specs; i++) rep_write_summary_rows(md, &xs[i], e);
    atomic_printf(md, e, "\n");
    for (int i = 0; i < n_specs; i++)
        if (rep_write_section(md, &xs[i], s->profile, s->plots, e)) {
            atomic_abort(md);
            return -1;
        }
    if (atomic_commit(md, e)) return -1;
    fprintf(stderr, "wrote %s\n", path);
    return 0;
}

int report_write(const ReportSettings *s, Err *e)
{
    char *specs[REP_MAX_SPECS];
    int n_specs = list_specs(s->experiments, specs, REP_MAX_SPECS, e);
    if (n_specs < 0) return -1;
    if (!n_specs) return err_set(e, "report: no experiment specs (*.json) in %s", s->experiments);
    int left_out = 0;
    RepExp *xs = calloc((size_t)n_specs, sizeof *xs);
    int rc = !xs ? err_set(e, "report: out of memory for %d specs", n_specs)
                 : load_all(xs, specs, n_specs, s, &left_out, e) ? -1 : write_files(xs, n_specs, s, left_out, e);
    for (int i = 0; i < n_specs; i++) {
        if (xs) rep_free(&xs[i]);
        free(specs[i]);
    }
    free(xs);
    return rc;
}
