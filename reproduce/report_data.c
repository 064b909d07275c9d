/* One experiment spec and its result files, and the figures the report reads
 * from them. The runs of a cell are kept in file-name order, so every table
 * and verdict built from them is the same whatever order readdir gives. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reproduce/report.h"
#include "core/jsonio.h"

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* <cell>.json, <cell>.seed<k>.json or, one value of a sweep, <cell>.<option>_<value>.seed<k>.json; variant
 * gets "<option>_<value>" ("" for none) */
static int is_result_of(const char *file, const char *cell, char *variant, size_t cap)
{
    size_t n = strlen(cell), len = strlen(file);
    variant[0] = '\0';
    if (strncmp(file, cell, n) || len < n + 5 || strcmp(file + len - 5, ".json")) return 0;
    if (!strcmp(file + n, ".json") || !strncmp(file + n, ".seed", 5)) return 1;
    const char *seed = file[n] == '.' ? strstr(file + n + 1, ".seed") : NULL, *us = strchr(file + n + 1, '_');
    if (!seed || !us || us > seed) return 0;
    snprintf(variant, cap, "%.*s", (int)(seed - file - n - 1), file + n + 1);
    return 1;
}

int rep_lower_is_better(const char *metric)
{
    return !strcmp(metric, "loss") || !strcmp(metric, "bits_per_byte");
}

const char *rep_curve_metric(const char *metric)
{
    return rep_lower_is_better(metric) ? metric : "string_acc";
}

/* The last validation check's figure of a run (rep_curve_metric), NaN without a curve */
static double final_val(const cJSON *run, const char *metric)
{
    const cJSON *curve = get(get(get(run, "metrics"), "validation"), "curve"), *last = NULL;
    for (const cJSON *p = curve ? curve->child : NULL; p; p = p->next) last = p;
    const cJSON *a = get(last, rep_curve_metric(metric));
    return cJSON_IsNumber(a) ? a->valuedouble : NAN;
}

/* A swept cell keeps the runs of one value: the one whose runs end with the best validation figure (the
 * highest string accuracy, or the lowest loss for a text model), mean over seeds (the validation stream, never
 * the test instances); the first value in name order on a tie or when no run has a curve. The others are
 * dropped, and c->sweep says what was chosen from what. */
static void choose_value(RepCell *c, char (*variant)[64], const char *metric)
{
    int lower = rep_lower_is_better(metric);
    char vals[REP_MAX_RUNS][64];
    double score[REP_MAX_RUNS];
    int nv = 0, best = -1;
    for (int r = 0; r < c->n_runs; r++) {
        int k = 0;
        while (k < nv && strcmp(vals[k], variant[r])) k++;
        if (k == nv) memcpy(vals[nv++], variant[r], sizeof vals[0]);
    }
    if (nv < 2 && (!nv || !vals[0][0])) return;
    size_t at = (size_t)snprintf(c->sweep, sizeof c->sweep, "chosen on the final validation %s:",
                                 lower ? rep_curve_metric(metric) : "string accuracy");
    for (int k = 0; k < nv; k++) {
        double sum = 0;
        int n = 0;
        for (int r = 0; r < c->n_runs; r++)
            if (!strcmp(variant[r], vals[k]) && !isnan(final_val(c->runs[r], metric)))
                sum += final_val(c->runs[r], metric), n++;
        score[k] = n ? sum / n : NAN;
        if (best < 0 || (!isnan(score[k]) && (isnan(score[best]) || (lower ? score[k] < score[best] : score[k] > score[best]))))
            best = k;
    }
    snprintf(c->chosen, sizeof c->chosen, "%s", vals[best]);
    for (int k = 0; k < nv && at < sizeof c->sweep; k++) {
        char pct[32] = "no curve";
        if (!isnan(score[k]) && lower) snprintf(pct, sizeof pct, "%.4f", score[k]);
        else if (!isnan(score[k])) snprintf(pct, sizeof pct, "%.1f%%", 100 * score[k]);
        at += (size_t)snprintf(c->sweep + at, sizeof c->sweep - at, "%s %s %s%s", k ? "," : "", vals[k], pct,
                               k == best ? " (chosen)" : "");
    }
    int kept = 0;
    c->n_failed = 0;
    for (int r = 0; r < c->n_runs; r++) {
        if (strcmp(variant[r], vals[best])) {
            cJSON_Delete(c->runs[r]);
            continue;
        }
        const cJSON *status = get(c->runs[r], "status");
        if (cJSON_IsString(status) && strcmp(status->valuestring, "ok")) c->n_failed++;
        c->seeds[kept] = c->seeds[r];
        c->runs[kept++] = c->runs[r];
    }
    c->n_runs = kept;
}

/* Every number of every "eval-lengths" in the spec (base, profiles, their overrides, cells and the cells'
 * profiles) into x->spec_lengths; -1 when a "preset" anywhere may set lengths the spec cannot show. */
static void spec_lengths(RepExp *x, const cJSON *obj, int depth)
{
    for (const cJSON *it = obj ? obj->child : NULL; it && x->n_spec_lengths >= 0; it = it->next) {
        if (it->string && !strcmp(it->string, "preset")) {
            x->n_spec_lengths = -1;
            return;
        }
        if (it->string && !strcmp(it->string, "eval-lengths")) {
            for (const cJSON *L = cJSON_IsArray(it) ? it->child : NULL; L; L = L->next)
                if (cJSON_IsNumber(L) && x->n_spec_lengths < REP_MAX_LEN)
                    x->spec_lengths[x->n_spec_lengths++] = L->valuedouble;
            if (cJSON_IsString(it)) x->n_spec_lengths = -1; /* "64,128": written as text, not checked */
        } else if ((cJSON_IsObject(it) || cJSON_IsArray(it)) && depth < 4 &&
                   (!it->string || strcmp(it->string, "claims")))
            spec_lengths(x, it, depth + 1);
    }
}

int rep_from_spec(RepExp *x, cJSON *spec, const char *spec_path, Err *e)
{
    memset(x, 0, sizeof *x);
    snprintf(x->path, sizeof x->path, "%s", spec_path);
    x->spec = spec;
    const cJSON *name = get(spec, "name"), *cells = get(spec, "cells");
    const cJSON *command = get(spec, "command"), *metric = get(spec, "metric");
    if (!cJSON_IsString(name) || !cJSON_IsArray(cells))
        return err_set(e, "%s: needs \"name\" and \"cells\"", spec_path);
    x->name = name->valuestring;
    x->command = cJSON_IsString(command) ? command->valuestring : "train";
    x->metric = cJSON_IsString(metric) ? metric->valuestring : "string_acc";
    for (const cJSON *cell = cells->child; cell && x->n_cells < REP_MAX_CELLS; cell = cell->next) {
        const cJSON *cn = get(cell, "name");
        if (!cJSON_IsString(cn)) continue;
        x->cells[x->n_cells].name = cn->valuestring;
        x->cells[x->n_cells++].only_seed = -1;
    }
    spec_lengths(x, spec, 0);
    if (!x->n_spec_lengths) x->n_spec_lengths = -1; /* none written: the command's defaults, not checked */
    return 0;
}

int rep_load(RepExp *x, const char *spec_path, const char *results, Err *e)
{
    return rep_load_only(x, spec_path, results, NULL, -1, e);
}

static int kept(const char *path, char *const *keep, int n_keep)
{
    if (n_keep < 0) return 1;
    for (int i = 0; i < n_keep; i++)
        if (!strcmp(keep[i], path)) return 1;
    return 0;
}

int rep_load_only(RepExp *x, const char *spec_path, const char *results, char *const *keep, int n_keep, Err *e)
{
    cJSON *spec = json_read_file(spec_path, e);
    if (!spec) {
        memset(x, 0, sizeof *x);
        return -1;
    }
    if (rep_from_spec(x, spec, spec_path, e)) {
        cJSON_Delete(spec);
        x->spec = NULL;
        return -1;
    }
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s", results, x->name);
    char *files[1024];
    int n_files = 0;
    DIR *d = opendir(dir);
    struct dirent *ent;
    while (d && (ent = readdir(d)) && n_files < 1024) {
        size_t len = strlen(ent->d_name);
        if (len > 5 && !strcmp(ent->d_name + len - 5, ".json")) files[n_files++] = strdup(ent->d_name);
    }
    if (d) closedir(d);
    qsort(files, (size_t)n_files, sizeof *files, by_name);

    for (int ci = 0; ci < x->n_cells; ci++) {
        RepCell *c = &x->cells[ci];
        char variant[REP_MAX_RUNS][64];
        for (int i = 0; i < n_files && c->n_runs < REP_MAX_RUNS; i++) {
            if (!is_result_of(files[i], c->name, variant[c->n_runs], sizeof variant[0])) continue;
            char path[2400];
            snprintf(path, sizeof path, "%s/%s", dir, files[i]);
            if (!kept(path, keep, n_keep)) continue;
            Err re;
            cJSON *run = json_read_file(path, &re);
            if (!run) {
                fprintf(stderr, "seqbench report: skipping %s\n", re.msg);
                continue;
            }
            const cJSON *status = get(run, "status");
            if (cJSON_IsString(status) && strcmp(status->valuestring, "ok")) c->n_failed++;
            /* the seed from the file name: <cell>.seed<k>.json (-1 for <cell>.json) */
            const char *sd = strstr(files[i] + strlen(c->name), ".seed");
            c->seeds[c->n_runs] = sd ? strtol(sd + 5, NULL, 10) : -1;
            c->runs[c->n_runs++] = run;
        }
        choose_value(c, variant, x->metric);
        x->n_cells_run += c->n_runs > 0;
    }
    for (int i = 0; i < n_files; i++) free(files[i]);
    return 0;
}

void rep_free(RepExp *x)
{
    for (int i = 0; i < x->n_cells; i++)
        for (int k = 0; k < x->cells[i].n_runs; k++) cJSON_Delete(x->cells[i].runs[k]);
    cJSON_Delete(x->spec);
    memset(x, 0, sizeof *x);
}

int rep_counts(const RepCell *c, int r) { return c->only_seed < 0 || c->seeds[r] == c->only_seed; }

void rep_select_seed(RepExp *x, long seed)
{
    for (int i = 0; i < x->n_cells; i++) x->cells[i].only_seed = seed;
}

int rep_seeds(const RepExp *x, long *out, int cap)
{
    int n = 0;
    for (int i = 0; i < x->n_cells; i++)
        for (int r = 0; r < x->cells[i].n_runs; r++) {
            long s = x->cells[i].seeds[r];
            int k = 0;
            while (k < n && out[k] < s) k++;
            if ((k < n && out[k] == s) || n == cap) continue;
            memmove(out + k + 1, out + k, (size_t)(n - k) * sizeof *out);
            out[k] = s;
            n++;
        }
    return n;
}

RepCell *rep_cell(RepExp *x, const char *name)
{
    for (int i = 0; i < x->n_cells; i++)
        if (!strcmp(x->cells[i].name, name)) return &x->cells[i];
    return NULL;
}

static void stat_add(RepStat *s, double v)
{
    if (!s->n) s->lo = s->hi = v, s->mean = 0;
    s->mean += v; /* a sum until stat_end */
    s->lo = fmin(s->lo, v);
    s->hi = fmax(s->hi, v);
    s->n++;
}

static void stat_end(RepStat *s)
{
    if (s->n) s->mean /= s->n;
}

void rep_metric(const RepCell *c, const char *metric, double length, double depth, RepStat *s)
{
    memset(s, 0, sizeof *s);
    for (int r = 0; r < c->n_runs; r++) {
        if (!rep_counts(c, r)) continue;
        const cJSON *evals = get(get(c->runs[r], "metrics"), "eval");
        double sum = 0;
        int n = 0;
        for (const cJSON *ev = evals ? evals->child : NULL; ev; ev = ev->next) {
            const cJSON *L = get(ev, "length"), *D = get(ev, "depth"), *v = get(ev, metric);
            if (!cJSON_IsNumber(L) || L->valuedouble != length || !cJSON_IsNumber(v)) continue;
            if (depth >= 0 && (!cJSON_IsNumber(D) || fabs(D->valuedouble - depth) > 1e-9)) continue;
            sum += v->valuedouble;
            n++;
        }
        if (n) stat_add(s, sum / n);
    }
    stat_end(s);
}

const cJSON *rep_path(const cJSON *root, const char *path, char *why, size_t cap)
{
    const cJSON *at = root;
    const char *p = path;
    while (*p && at) {
        char key[128];
        size_t n = strcspn(p, ".[");
        if (n >= sizeof key) n = sizeof key - 1;
        memcpy(key, p, n);
        key[n] = 0;
        p += n;
        if (n) {
            const cJSON *next = get(at, key);
            if (!next) { snprintf(why, cap, "no \"%s\" in %s", key, path); return NULL; }
            at = next;
        }
        while (*p == '[') {
            const char *close = strchr(p, ']');
            if (!close) { snprintf(why, cap, "unclosed [ in %s", path); return NULL; }
            char sel[128];
            size_t m = (size_t)(close - p - 1);
            if (m >= sizeof sel) m = sizeof sel - 1;
            memcpy(sel, p + 1, m);
            sel[m] = 0;
            p = close + 1;
            char *eq = strchr(sel, '=');
            const cJSON *found = NULL;
            if (!eq) {
                char *end;
                long i = strtol(sel, &end, 10);
                if (*end || end == sel) { snprintf(why, cap, "[%s] in %s is neither an index nor key=value", sel, path); return NULL; }
                found = cJSON_IsArray(at) ? cJSON_GetArrayItem(at, (int)i) : NULL;
            } else {
                *eq = 0;
                const char *want = eq + 1;
                for (const cJSON *it = cJSON_IsArray(at) ? at->child : NULL; it && !found; it = it->next) {
                    const cJSON *v = get(it, sel);
                    if (cJSON_IsString(v) && !strcmp(v->valuestring, want)) found = it;
                    else if (cJSON_IsNumber(v)) {
                        char *end;
                        double w = strtod(want, &end);
                        if (!*end && end != want && w == v->valuedouble) found = it;
                    }
                }
                *eq = '=';
            }
            if (!found) { snprintf(why, cap, "nothing matches [%s] in %s", sel, path); return NULL; }
            at = found;
        }
        if (*p == '.') p++;
    }
    return at;
}

void rep_field(const RepCell *c, const char *path, RepStat *s, char *why, size_t cap)
{
    memset(s, 0, sizeof *s);
    snprintf(why, cap, "cell %s has no results", c->name);
    if (c->only_seed >= 0) snprintf(why, cap, "cell %s has no result of seed %ld", c->name, c->only_seed);
    for (int r = 0; r < c->n_runs; r++) {
        if (!rep_counts(c, r)) continue;
        const cJSON *v = rep_path(c->runs[r], path, why, cap);
        if (cJSON_IsNumber(v)) stat_add(s, v->valuedouble);
        else if (v) snprintf(why, cap, "%s is not a number", path);
    }
    stat_end(s);
}

void rep_scale_point(const RepCell *c, const char *metric, double length, RepScalePoint *p)
{
    memset(p, 0, sizeof *p);
    for (int r = 0; r < c->n_runs; r++) {
        if (!rep_counts(c, r)) continue;
        const cJSON *run = c->runs[r], *params = get(get(run, "model"), "params"), *m = get(run, "metrics");
        const cJSON *total = get(params, "total"), *emb = get(params, "embedding"), *head = get(params, "lm_head");
        if (cJSON_IsNumber(total) && cJSON_IsNumber(emb))
            stat_add(&p->params, total->valuedouble - emb->valuedouble - (cJSON_IsNumber(head) ? head->valuedouble : 0));
        const cJSON *tokens = get(m, "tokens"), *flops = get(m, "train_flops");
        if (cJSON_IsNumber(tokens)) stat_add(&p->tokens, tokens->valuedouble);
        if (cJSON_IsNumber(flops)) stat_add(&p->flops, flops->valuedouble);
        double v = final_val(run, metric);
        if (!isnan(v)) stat_add(&p->val, v);
    }
    stat_end(&p->params);
    stat_end(&p->tokens);
    stat_end(&p->flops);
    stat_end(&p->val);
    rep_metric(c, metric, length, -1, &p->test);
}

int rep_scaling(const RepExp *x, const cJSON **scaling, Err *e)
{
    *scaling = get(x->spec, "scaling");
    if (!*scaling) return 0;
    const cJSON *len = get(*scaling, "length"), *series = get(*scaling, "series"), *sr;
    if (!cJSON_IsNumber(len) || !cJSON_IsArray(series) || !cJSON_GetArraySize(series))
        return err_set(e, "%s: \"scaling\" needs \"length\" (a test length) and \"series\" (a list)", x->path);
    cJSON_ArrayForEach(sr, series) {
        const cJSON *name = get(sr, "name"), *cells = get(sr, "cells"), *cn;
        if (!cJSON_IsString(name) || !cJSON_IsArray(cells) || !cJSON_GetArraySize(cells))
            return err_set(e, "%s: each scaling series needs \"name\" and \"cells\" (a list)", x->path);
        cJSON_ArrayForEach(cn, cells)
            if (!cJSON_IsString(cn) || !rep_cell((RepExp *)x, cn->valuestring))
                return err_set(e, "%s: scaling series %s names no cell of the spec (%s)", x->path, name->valuestring,
                               cJSON_IsString(cn) ? cn->valuestring : "not a name");
    }
    return 0;
}

static int collect(const RepExp *x, const char *key, double *out, int cap)
{
    int n = 0;
    for (int i = 0; i < x->n_cells; i++)
        for (int r = 0; r < x->cells[i].n_runs; r++) {
            const cJSON *evals = get(get(x->cells[i].runs[r], "metrics"), "eval");
            for (const cJSON *ev = evals ? evals->child : NULL; ev; ev = ev->next) {
                const cJSON *v = get(ev, key);
                if (!cJSON_IsNumber(v)) continue;
                int seen = 0;
                for (int k = 0; k < n && !seen; k++) seen = out[k] == v->valuedouble;
                if (!seen && n < cap) out[n++] = v->valuedouble;
            }
        }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
            double t = out[j]; out[j] = out[j - 1]; out[j - 1] = t;
        }
    return n;
}

int rep_lengths(const RepExp *x, double *out, int cap) { return collect(x, "length", out, cap); }
int rep_depths(const RepExp *x, double *out, int cap) { return collect(x, "depth", out, cap); }

int rep_has_depths(const RepExp *x)
{
    double d[2];
    return collect(x, "depth", d, 2) > 0;
}

void rep_num(char *buf, size_t cap, double v)
{
    if (isnan(v)) snprintf(buf, cap, "–");
    else if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, cap, "%.0f", v);
    else if (fabs(v) >= 1e4) snprintf(buf, cap, "%.0f", v);
    else snprintf(buf, cap, "%.4g", v);
}

double rep_paper_number(const cJSON *table, const cJSON *entry)
{
    if (cJSON_IsNumber(entry)) return entry->valuedouble;
    if (!cJSON_IsString(entry)) return NAN;
    const cJSON *v = get(get(table, "symbols"), entry->valuestring);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int rep_paper_numeric(const cJSON *table)
{
    const cJSON *cols = get(table, "columns");
    if (!cJSON_IsArray(cols) || !cols->child) return 0;
    for (const cJSON *c = cols->child; c; c = c->next)
        if (!cJSON_IsNumber(c)) return 0;
    return 1;
}

void rep_paper_ours(RepExp *x, const cJSON *table, int j, const RepCell *c, RepStat *s)
{
    memset(s, 0, sizeof *s);
    const cJSON *col = cJSON_GetArrayItem(get(table, "columns"), j);
    const cJSON *ours = cJSON_GetArrayItem(get(table, "ours"), j);
    const cJSON *unit = get(table, "unit");
    double pct = cJSON_IsString(unit) && !strcmp(unit->valuestring, "%") ? 100 : 1, scale = 1;
    if (cJSON_IsObject(ours) && cJSON_IsString(get(ours, "field"))) {
        char why[200];
        rep_field(c, get(ours, "field")->valuestring, s, why, sizeof why);
        const cJSON *sc = get(ours, "scale");
        scale = cJSON_IsNumber(sc) ? sc->valuedouble : 1;
    } else {
        const cJSON *L = cJSON_IsObject(ours) ? get(ours, "length") : col, *m = get(ours, "metric"), *d = get(ours, "depth");
        if (!cJSON_IsNumber(L)) return;
        rep_metric(c, cJSON_IsString(m) ? m->valuestring : x->metric, L->valuedouble, cJSON_IsNumber(d) ? d->valuedouble : -1, s);
        scale = pct;
    }
    s->mean *= scale, s->lo *= scale, s->hi *= scale;
}
