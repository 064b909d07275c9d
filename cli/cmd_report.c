/* seqbench report: gathers the result files of every experiment spec into
 * results/REPORT.md (the paper's claim and numbers beside ours, with the
 * settings used) and one table per experiment, results/<name>.tsv, that the
 * gnuplot scripts in plots/ draw. Accuracy is reported as the mean over
 * seeds with the min..max spread. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/results.h"
#include "core/atomic.h"
#include "core/jsonio.h"

#define MAX_LEN 64
#define MAX_CELLS 32

typedef struct {
    char name[128];
    int n_seeds, n_diverged;
    int lengths[MAX_LEN], n_len;
    double sum[MAX_LEN], lo[MAX_LEN], hi[MAX_LEN];
    int count[MAX_LEN];
    double seconds;
} CellStats;

static void add_result(CellStats *c, const cJSON *res)
{
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(res, "status");
    if (cJSON_IsString(status) && strcmp(status->valuestring, "ok")) c->n_diverged++;
    c->n_seeds++;
    /* the training time; wall_time_s (the whole command) only in results written before train_seconds */
    const cJSON *wall = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "metrics"), "train_seconds");
    if (!cJSON_IsNumber(wall)) wall = cJSON_GetObjectItemCaseSensitive(res, "wall_time_s");
    if (cJSON_IsNumber(wall)) c->seconds += wall->valuedouble;
    const cJSON *evals = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "metrics"), "eval");
    for (const cJSON *ev = evals ? evals->child : NULL; ev; ev = ev->next) {
        const cJSON *L = cJSON_GetObjectItemCaseSensitive(ev, "length"), *a = cJSON_GetObjectItemCaseSensitive(ev, "string_acc");
        if (!cJSON_IsNumber(L) || !cJSON_IsNumber(a)) continue;
        int k = 0;
        while (k < c->n_len && c->lengths[k] != L->valueint) k++;
        if (k == c->n_len) {
            if (k == MAX_LEN) continue;
            c->lengths[c->n_len++] = L->valueint;
            c->lo[k] = INFINITY;
            c->hi[k] = -INFINITY;
        }
        c->sum[k] += a->valuedouble;
        c->lo[k] = fmin(c->lo[k], a->valuedouble);
        c->hi[k] = fmax(c->hi[k], a->valuedouble);
        c->count[k]++;
    }
}

static int gather(const char *dir, const char *cell, CellStats *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", cell);
    DIR *d = opendir(dir);
    if (!d) return 0;
    char prefix[160];
    snprintf(prefix, sizeof prefix, "%s.seed", cell);
    struct dirent *ent;
    while ((ent = readdir(d))) {
        size_t len = strlen(ent->d_name);
        if (strncmp(ent->d_name, prefix, strlen(prefix)) || len < 5 || strcmp(ent->d_name + len - 5, ".json")) continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        Err e;
        cJSON *res = json_read_file(path, &e);
        if (!res) { fprintf(stderr, "seqbench report: skipping %s\n", e.msg); continue; }
        add_result(c, res);
        cJSON_Delete(res);
    }
    closedir(d);
    return c->n_seeds;
}

static void settings_line(AtomicFile *f, const cJSON *obj, Err *e)
{
    for (const cJSON *it = obj ? obj->child : NULL; it; it = it->next) {
        char *v = cJSON_PrintUnformatted(it);
        atomic_printf(f, e, " `%s=%s`", it->string, v);
        cJSON_free(v);
    }
}

static int report_one(AtomicFile *md, const char *spec_path, const char *results, const char *profile, Err *e)
{
    cJSON *spec = json_read_file(spec_path, e);
    if (!spec) return -1;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(spec, "name"), *cells = cJSON_GetObjectItemCaseSensitive(spec, "cells");
    if (!cJSON_IsString(name) || !cJSON_IsArray(cells)) {
        cJSON_Delete(spec);
        return err_set(e, "%s: needs \"name\" and \"cells\"", spec_path);
    }
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(spec, "title"), *paper = cJSON_GetObjectItemCaseSensitive(spec, "paper");
    const cJSON *claim = cJSON_GetObjectItemCaseSensitive(spec, "paper_claim");
    const cJSON *paper_results = cJSON_GetObjectItemCaseSensitive(spec, "paper_results");
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s", results, name->valuestring);
    CellStats stats[MAX_CELLS];
    int n_cells = 0, lengths[MAX_LEN], n_len = 0;
    for (const cJSON *cell = cells->child; cell && n_cells < MAX_CELLS; cell = cell->next) {
        const cJSON *cn = cJSON_GetObjectItemCaseSensitive(cell, "name");
        if (!cJSON_IsString(cn)) continue;
        CellStats *c = &stats[n_cells++];
        gather(dir, cn->valuestring, c);
        for (int k = 0; k < c->n_len; k++) {
            int seen = 0;
            for (int j = 0; j < n_len; j++) seen |= lengths[j] == c->lengths[k];
            if (!seen && n_len < MAX_LEN) lengths[n_len++] = c->lengths[k];
        }
    }
    for (int i = 1; i < n_len; i++) /* ascending lengths */
        for (int j = i; j > 0 && lengths[j - 1] > lengths[j]; j--) {
            int t = lengths[j]; lengths[j] = lengths[j - 1]; lengths[j - 1] = t;
        }

    atomic_printf(md, e, "## %s\n\n", cJSON_IsString(title) ? title->valuestring : name->valuestring);
    if (cJSON_IsString(paper)) atomic_printf(md, e, "Paper: %s\n\n", paper->valuestring);
    if (cJSON_IsString(claim)) atomic_printf(md, e, "What the paper reports: %s\n\n", claim->valuestring);
    atomic_printf(md, e, "Ours: string accuracy on held-out strings, mean over seeds (min..max), by test length.\n\n| cell | seeds |");
    for (int k = 0; k < n_len; k++) atomic_printf(md, e, " n=%d |", lengths[k]);
    atomic_printf(md, e, " train time |\n|---|---|");
    for (int k = 0; k < n_len; k++) atomic_printf(md, e, "---|");
    atomic_printf(md, e, "---|\n");

    char tsv[1300];
    snprintf(tsv, sizeof tsv, "%s/%s.tsv", results, name->valuestring);
    AtomicFile *t = atomic_open(tsv, e);
    if (!t) { cJSON_Delete(spec); return -1; }
    atomic_printf(t, e, "length");
    for (int i = 0; i < n_cells; i++) atomic_printf(t, e, "\t%s\t%s_min\t%s_max", stats[i].name, stats[i].name, stats[i].name);
    atomic_printf(t, e, "\n");
    for (int k = 0; k < n_len; k++) {
        atomic_printf(t, e, "%d", lengths[k]);
        for (int i = 0; i < n_cells; i++) {
            int j = 0;
            while (j < stats[i].n_len && stats[i].lengths[j] != lengths[k]) j++;
            if (j < stats[i].n_len && stats[i].count[j])
                atomic_printf(t, e, "\t%.4f\t%.4f\t%.4f", stats[i].sum[j] / stats[i].count[j], stats[i].lo[j], stats[i].hi[j]);
            else
                atomic_printf(t, e, "\tNaN\tNaN\tNaN");
        }
        atomic_printf(t, e, "\n");
    }
    if (atomic_commit(t, e)) { cJSON_Delete(spec); return -1; }

    for (int i = 0; i < n_cells; i++) {
        CellStats *c = &stats[i];
        atomic_printf(md, e, "| %s | %d%s |", c->name, c->n_seeds, c->n_diverged ? " (some diverged)" : "");
        for (int k = 0; k < n_len; k++) {
            int j = 0;
            while (j < c->n_len && c->lengths[j] != lengths[k]) j++;
            if (j < c->n_len && c->count[j])
                atomic_printf(md, e, " %.3f (%.3f..%.3f) |", c->sum[j] / c->count[j], c->lo[j], c->hi[j]);
            else
                atomic_printf(md, e, " – |");
        }
        atomic_printf(md, e, " %.0f s |\n", c->n_seeds ? c->seconds / c->n_seeds : 0);
        const cJSON *pr = cJSON_GetObjectItemCaseSensitive(paper_results, c->name);
        if (cJSON_IsString(pr)) atomic_printf(md, e, "| *paper: %s* | | %s |\n", c->name, pr->valuestring);
    }
    atomic_printf(md, e, "\nSettings (profile `%s`):", profile);
    settings_line(md, cJSON_GetObjectItemCaseSensitive(spec, "base"), e);
    settings_line(md, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(spec, "profiles"), profile), e);
    char *seeds = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(spec, "seeds"));
    atomic_printf(md, e, "; seeds %s.\n\n", seeds ? seeds : "?");
    cJSON_free(seeds);
    atomic_printf(md, e, "![%s](../plots/%s.png)\n\n", name->valuestring, name->valuestring);
    cJSON_Delete(spec);
    return 0;
}

/* Result files (*.json) under results/<spec's name>/. */
static int count_results(const char *spec_path, const char *results)
{
    Err e;
    cJSON *spec = json_read_file(spec_path, &e);
    if (!spec) die_err(&e);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(spec, "name");
    int n = 0;
    if (cJSON_IsString(name)) {
        char dir[1200];
        snprintf(dir, sizeof dir, "%s/%s", results, name->valuestring);
        DIR *d = opendir(dir);
        struct dirent *ent;
        while (d && (ent = readdir(d))) {
            size_t len = strlen(ent->d_name);
            n += len > 5 && !strcmp(ent->d_name + len - 5, ".json");
        }
        if (d) closedir(d);
    }
    cJSON_Delete(spec);
    return n;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int cmd_report(int argc, char **argv)
{
    char experiments[1024] = "experiments", results[1024] = "results", profile[32] = "quick";
    Option opts[] = {
        OPT_S("experiments", experiments, "directory of experiment specs"),
        OPT_S("results", results, "results directory (REPORT.md and the .tsv tables go here)"),
        OPT_S("profile", profile, "profile the results were run at (quick or paper), for the settings line"),
    };
    int n = (int)(sizeof opts / sizeof *opts);
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "report", "[--experiments DIR] [--results DIR]", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    DIR *d = opendir(experiments);
    if (!d) die("cannot open experiments directory \"%s\"", experiments);
    char *specs[256];
    int n_specs = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) && n_specs < 256) {
        size_t len = strlen(ent->d_name);
        if (len > 5 && !strcmp(ent->d_name + len - 5, ".json")) specs[n_specs++] = strdup(ent->d_name);
    }
    closedir(d);
    qsort(specs, (size_t)n_specs, sizeof *specs, by_name);
    if (!n_specs) die("report: no experiment specs (*.json) in %s", experiments);
    /* an empty report would look like a run that measured nothing: say there is nothing to report */
    int found = 0;
    for (int i = 0; i < n_specs; i++) {
        char spec[1400];
        snprintf(spec, sizeof spec, "%s/%s", experiments, specs[i]);
        found += count_results(spec, results);
    }
    if (!found)
        die("report: no results under %s for the %d spec%s in %s (run seqbench experiment or make reproduce first)",
            results, n_specs, n_specs == 1 ? "" : "s", experiments);
    char path[1100];
    snprintf(path, sizeof path, "%s/REPORT.md", results);
    if (results_check_file("--results", path, &e)) die_err(&e);
    AtomicFile *md = atomic_open(path, &e);
    if (!md) die_err(&e);
    atomic_printf(md, &e, "# seqbench report\n\nGenerated by `seqbench report` from the result files under `%s/`. "
                          "Each experiment states what its paper reports, then what this machine measured.\n\n", results);
    for (int i = 0; i < n_specs; i++) {
        char spec[1400];
        snprintf(spec, sizeof spec, "%s/%s", experiments, specs[i]);
        if (report_one(md, spec, results, profile, &e)) { atomic_abort(md); die_err(&e); }
        free(specs[i]);
    }
    if (atomic_commit(md, &e)) die_err(&e);
    fprintf(stderr, "wrote %s\n", path);
    return 0;
}
