/* One experiment's section of REPORT.md: source and claim, the paper's table
 * beside ours, our measurements with their spread over seeds, the settings,
 * the plots and one verdict line per claim. Accuracies print in percent,
 * "mean (min..max)" when there is more than one seed. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "reproduce/report.h"

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* "95.3" or "95.3 (94.1..96.0)"; digits: decimals, or -1 for rep_num */
static void spread(char *buf, size_t cap, const RepStat *s, int digits)
{
    if (!s->n) { snprintf(buf, cap, "–"); return; }
    char a[40], b[40], c[40];
    if (digits >= 0) {
        snprintf(a, sizeof a, "%.*f", digits, s->mean);
        snprintf(b, sizeof b, "%.*f", digits, s->lo);
        snprintf(c, sizeof c, "%.*f", digits, s->hi);
    } else {
        rep_num(a, sizeof a, s->mean);
        rep_num(b, sizeof b, s->lo);
        rep_num(c, sizeof c, s->hi);
    }
    if (s->n > 1 && strcmp(b, c)) snprintf(buf, cap, "%.30s (%.30s..%.30s)", a, b, c);
    else snprintf(buf, cap, "%s", a);
}

/* the paper's printed precision: 46.7 -> 0.05, 52 -> 0.5 */
static double printed_tolerance(double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.10g", v);
    const char *dot = strchr(buf, '.');
    int decimals = dot ? (int)strlen(dot + 1) : 0;
    return 0.5 * pow(10, -decimals);
}

static void paper_table(AtomicFile *md, RepExp *x, Err *e)
{
    const cJSON *t = get(x->spec, "paper_table"), *rows = get(t, "rows"), *cols = get(t, "columns");
    if (!cJSON_IsObject(rows) || !cJSON_IsArray(cols)) return;
    const cJSON *cell_of = get(t, "cell_of_row"), *names = get(t, "column_names"), *metric = get(t, "metric");
    const cJSON *note = get(t, "note"), *unit = get(t, "unit"), *label = get(t, "column_label");
    int exact = cJSON_IsTrue(get(t, "exact")), n_cols = cJSON_GetArraySize(cols);
    int pct = cJSON_IsString(unit) && !strcmp(unit->valuestring, "%");
    atomic_printf(md, e, "### The paper beside ours\n\n");
    atomic_printf(md, e, "%s%s%s%s.%s%s\n\n", cJSON_IsString(metric) ? metric->valuestring : "The paper's figures",
                  cJSON_IsString(label) ? " by " : "", cJSON_IsString(label) ? label->valuestring : "",
                  " (*paper* rows as printed, **ours** below each)", cJSON_IsString(note) ? " " : "",
                  cJSON_IsString(note) ? note->valuestring : "");
    atomic_printf(md, e, "| |");
    for (int j = 0; j < n_cols; j++) {
        const cJSON *nm = cJSON_GetArrayItem(names, j), *c = cJSON_GetArrayItem(cols, j);
        if (cJSON_IsString(nm)) atomic_printf(md, e, " %s |", nm->valuestring);
        else if (cJSON_IsNumber(c)) atomic_printf(md, e, " %.10g |", c->valuedouble);
        else atomic_printf(md, e, " %s |", cJSON_IsString(c) ? c->valuestring : "?");
    }
    atomic_printf(md, e, "%s\n|---|", exact ? " exact |" : "");
    for (int j = 0; j < n_cols + exact; j++) atomic_printf(md, e, "---|");
    atomic_printf(md, e, "\n");
    int shown[REP_MAX_CELLS] = {0};
    for (const cJSON *r = rows->child; r; r = r->next) {
        atomic_printf(md, e, "| *paper: %s* |", r->string);
        for (int j = 0; j < n_cols; j++) {
            const cJSON *v = cJSON_GetArrayItem(r, j);
            char b[64] = "";
            if (cJSON_IsString(v)) snprintf(b, sizeof b, "%s", v->valuestring);
            else if (cJSON_IsNumber(v)) snprintf(b, sizeof b, "%.10g", v->valuedouble);
            if (*b) atomic_printf(md, e, " *%s* |", b);
            else atomic_printf(md, e, " |");
        }
        atomic_printf(md, e, "%s\n", exact ? " |" : "");
        const cJSON *cn = get(cell_of, r->string);
        RepCell *c = cJSON_IsString(cn) ? rep_cell(x, cn->valuestring) : NULL;
        if (!c) continue;
        shown[c - x->cells] = 1;
        atomic_printf(md, e, "| **ours: %s** |", c->name);
        int same = 1, compared = 0;
        for (int j = 0; j < n_cols; j++) {
            RepStat s;
            rep_paper_ours(x, t, j, c, &s);
            char b[96];
            spread(b, sizeof b, &s, pct ? 1 : -1);
            atomic_printf(md, e, " %s |", b);
            double p = rep_paper_number(t, cJSON_GetArrayItem(r, j));
            if (s.n && !isnan(p)) {
                compared++;
                same &= fabs(s.mean - p) <= printed_tolerance(p);
            }
        }
        if (exact) atomic_printf(md, e, " %s |", !compared ? "–" : same ? "exact" : "differs");
        atomic_printf(md, e, "\n");
    }
    for (int i = 0; i < x->n_cells; i++) {
        if (shown[i] || !x->cells[i].n_runs) continue;
        atomic_printf(md, e, "| **ours: %s** |", x->cells[i].name);
        for (int j = 0; j < n_cols; j++) {
            RepStat s;
            rep_paper_ours(x, t, j, &x->cells[i], &s);
            char b[96];
            spread(b, sizeof b, &s, pct ? 1 : -1);
            atomic_printf(md, e, " %s |", b);
        }
        atomic_printf(md, e, "%s\n", exact ? " |" : "");
    }
    atomic_printf(md, e, "\n");
}

static double params_of(const RepCell *c)
{
    for (int r = 0; r < c->n_runs; r++) {
        const cJSON *p = get(get(get(c->runs[r], "model"), "params"), "total");
        if (cJSON_IsNumber(p)) return p->valuedouble;
    }
    return NAN;
}

static void train_tables(AtomicFile *md, RepExp *x, Err *e)
{
    double L[REP_MAX_LEN];
    int nL = rep_lengths(x, L, REP_MAX_LEN), grid = rep_has_depths(x);
    int pct = !rep_lower_is_better(x->metric); /* accuracies in percent; a text model's loss as it is */
    atomic_printf(md, e, "Ours: %s%s on held-out %s by test length, mean over seeds (min..max)%s.\n\n", x->metric,
                  pct ? " (%)" : " (lower is better)", pct ? "sequences" : "windows of the test split",
                  grid ? ", averaged over the needle depths" : "");
    atomic_printf(md, e, "| cell | params | seeds |");
    for (int k = 0; k < nL; k++) atomic_printf(md, e, " %.10g |", L[k]);
    int tcols = x->no_times ? 0 : 2;
    atomic_printf(md, e, "%s\n|---|---|---|", tcols ? " train time (s) | ms/step |" : "");
    for (int k = 0; k < nL + tcols; k++) atomic_printf(md, e, "---|");
    atomic_printf(md, e, "\n");
    for (int i = 0; i < x->n_cells; i++) {
        RepCell *c = &x->cells[i];
        char p[40];
        rep_num(p, sizeof p, params_of(c));
        if (!c->n_runs) {
            atomic_printf(md, e, "| %s | | not run |", c->name);
            for (int k = 0; k < nL + tcols; k++) atomic_printf(md, e, " |");
            atomic_printf(md, e, "\n");
            continue;
        }
        if (c->chosen[0]) atomic_printf(md, e, "| %s (%s) |", c->name, c->chosen);
        else atomic_printf(md, e, "| %s |", c->name);
        atomic_printf(md, e, " %s | %d%s |", p, c->n_runs, c->n_failed ? " (some diverged)" : "");
        for (int k = 0; k < nL; k++) {
            RepStat s;
            rep_metric(c, x->metric, L[k], -1, &s);
            if (pct) s.mean *= 100, s.lo *= 100, s.hi *= 100;
            char b[96];
            spread(b, sizeof b, &s, pct ? 1 : 3);
            atomic_printf(md, e, " %s |", b);
        }
        if (!tcols) { atomic_printf(md, e, "\n"); continue; }
        char why[200], b[96];
        RepStat s;
        rep_field(c, "metrics.train_seconds", &s, why, sizeof why);
        spread(b, sizeof b, &s, 0);
        atomic_printf(md, e, " %s |", b);
        rep_field(c, "metrics.ms_per_step", &s, why, sizeof why);
        spread(b, sizeof b, &s, 1);
        atomic_printf(md, e, " %s |\n", b);
    }
    atomic_printf(md, e, "\n");
    /* a swept cell's figures are those of its chosen value: say which, and from what */
    for (int i = 0; i < x->n_cells; i++)
        if (x->cells[i].chosen[0])
            atomic_printf(md, e, "Sweep of **%s**: %s; the table and the verdicts use %s.\n\n", x->cells[i].name,
                          x->cells[i].sweep, x->cells[i].chosen);
    if (!grid) return;
    double D[REP_MAX_LEN];
    int nD = rep_depths(x, D, REP_MAX_LEN);
    for (int i = 0; i < x->n_cells; i++) {
        RepCell *c = &x->cells[i];
        if (!c->n_runs) continue;
        atomic_printf(md, e, "Needle grid of **%s**, %s (%%), depth (0 = start of the context) × length:\n\n| depth |", c->name,
                      x->metric);
        for (int k = 0; k < nL; k++) atomic_printf(md, e, " %.10g |", L[k]);
        atomic_printf(md, e, "\n|---|");
        for (int k = 0; k < nL; k++) atomic_printf(md, e, "---|");
        atomic_printf(md, e, "\n");
        for (int j = 0; j < nD; j++) {
            atomic_printf(md, e, "| %.10g |", D[j]);
            for (int k = 0; k < nL; k++) {
                RepStat s;
                rep_metric(c, x->metric, L[k], D[j], &s);
                if (s.n) atomic_printf(md, e, " %.0f |", 100 * s.mean);
                else atomic_printf(md, e, " – |");
            }
            atomic_printf(md, e, "\n");
        }
        atomic_printf(md, e, "\n");
    }
}

/* A scaling spec's points: per series and size, what it cost (non-embedding parameters, tokens, training
 * FLOPs) and what it reached (the metric on test and at the last validation check), mean (min..max) */
static void scaling_table(AtomicFile *md, RepExp *x, Err *e)
{
    const cJSON *sc, *sr, *cn;
    if (rep_scaling(x, &sc, e) || !sc) return;
    double length = get(sc, "length")->valuedouble;
    atomic_printf(md, e, "Scaling: each size's cost and its %s on test windows of %.10g bytes and at the last validation "
                  "check (lower is better), mean over seeds (min..max); parameters without the embedding, FLOPs of the "
                  "training steps.\n\n| series | cell | parameters | tokens | training FLOPs | test | validation |\n"
                  "|---|---|---|---|---|---|---|\n", x->metric, length);
    cJSON_ArrayForEach(sr, get(sc, "series")) cJSON_ArrayForEach(cn, get(sr, "cells")) {
        RepScalePoint p;
        rep_scale_point(rep_cell(x, cn->valuestring), x->metric, length, &p);
        char a[40], b[40], c[40], t[96], v[96];
        rep_num(a, sizeof a, p.params.mean);
        rep_num(b, sizeof b, p.tokens.mean);
        snprintf(c, sizeof c, "%.3g", p.flops.mean);
        spread(t, sizeof t, &p.test, 3);
        spread(v, sizeof v, &p.val, 3);
        if (!p.tokens.n) atomic_printf(md, e, "| %s | %s | | | | not run | |\n", get(sr, "name")->valuestring, cn->valuestring);
        else atomic_printf(md, e, "| %s | %s | %s | %s | %s | %s | %s |\n", get(sr, "name")->valuestring, cn->valuestring,
                           a, b, p.flops.n ? c : "–", t, v);
    }
    atomic_printf(md, e, "\n");
}

/* bench decode/latency/throughput/prefill: per sweep, series × x; kernels: kernel × length */
static void bench_tables(AtomicFile *md, RepExp *x, const char *profile, Err *e)
{
    static const char *const SWEEPS[] = {"batch", "context", "prefill", "length"};
    static const char *const XKEY[] = {"batch", "context", "context", "steps"};
    static const char *const XNAME[] = {"batch", "context (tokens)", "prefill (tokens)", "generated tokens"};
    if (x->no_times) {
        atomic_printf(md, e, "Ours: speed figures left out (`--no-times`); see the result files under `%s/`.\n\n", x->name);
        return;
    }
    if (!strcmp(profile, "smoke") && x->n_cells_run)
        atomic_printf(md, e, "*Smoke profile: single, unrepeated runs of tiny settings; these timings show the "
                             "pipeline works, not how fast anything is.*\n\n");
    int any = 0;
    for (int w = 0; w < 4; w++) {
        double xs[REP_MAX_LEN];
        int nx = 0;
        for (int i = 0; i < x->n_cells; i++) {
            const RepCell *c = &x->cells[i];
            const cJSON *models = c->n_runs ? get(c->runs[0], "models") : NULL;
            for (const cJSON *m = models ? models->child : NULL; m; m = m->next)
                for (const cJSON *p = get(m, "points") ? get(m, "points")->child : NULL; p; p = p->next) {
                    const cJSON *sw = get(p, "sweep"), *xv = get(p, XKEY[w]);
                    if (!cJSON_IsString(sw) || strcmp(sw->valuestring, SWEEPS[w]) || !cJSON_IsNumber(xv)) continue;
                    int seen = 0;
                    for (int k = 0; k < nx; k++) seen |= xs[k] == xv->valuedouble;
                    if (!seen && nx < REP_MAX_LEN) xs[nx++] = xv->valuedouble;
                }
        }
        if (!nx) continue;
        for (int a = 1; a < nx; a++)
            for (int b = a; b > 0 && xs[b - 1] > xs[b]; b--) { double t = xs[b]; xs[b] = xs[b - 1]; xs[b - 1] = t; }
        int latency = w == 2;
        atomic_printf(md, e, "Ours: %s against %s (median of the repeats; in brackets the fraction of the roofline bound):\n\n| model |",
                      latency ? "ms per decoded token" : "tokens/s", XNAME[w]);
        for (int k = 0; k < nx; k++) atomic_printf(md, e, " %.10g |", xs[k]);
        atomic_printf(md, e, "\n|---|");
        for (int k = 0; k < nx; k++) atomic_printf(md, e, "---|");
        atomic_printf(md, e, "\n");
        for (int i = 0; i < x->n_cells; i++) {
            const RepCell *c = &x->cells[i];
            const cJSON *models = c->n_runs ? get(c->runs[0], "models") : NULL;
            int n_models = cJSON_GetArraySize(models);
            for (const cJSON *m = models ? models->child : NULL; m; m = m->next) {
                const cJSON *mn = get(m, "name");
                int has = 0; /* a model without a point in this sweep gets no row */
                for (const cJSON *p = get(m, "points") ? get(m, "points")->child : NULL; p; p = p->next)
                    has |= cJSON_IsString(get(p, "sweep")) && !strcmp(get(p, "sweep")->valuestring, SWEEPS[w]);
                if (!has) continue;
                if (n_models > 1 && cJSON_IsString(mn)) atomic_printf(md, e, "| %s/%s |", c->name, mn->valuestring);
                else atomic_printf(md, e, "| %s |", c->name);
                for (int k = 0; k < nx; k++) {
                    const cJSON *hit = NULL;
                    for (const cJSON *p = get(m, "points") ? get(m, "points")->child : NULL; p && !hit; p = p->next) {
                        const cJSON *sw = get(p, "sweep"), *xv = get(p, XKEY[w]);
                        if (cJSON_IsString(sw) && !strcmp(sw->valuestring, SWEEPS[w]) && cJSON_IsNumber(xv) && xv->valuedouble == xs[k]) hit = p;
                    }
                    const cJSON *v = get(hit, latency ? "latency_s_median" : "tokens_per_s_median"), *rf = get(hit, "roofline_fraction");
                    if (!cJSON_IsNumber(v)) { atomic_printf(md, e, " – |"); continue; }
                    if (latency) atomic_printf(md, e, " %.3g", v->valuedouble * 1e3);
                    else atomic_printf(md, e, " %.0f", v->valuedouble);
                    if (cJSON_IsNumber(rf)) atomic_printf(md, e, " (%.0f%%)", 100 * rf->valuedouble);
                    atomic_printf(md, e, " |");
                }
                atomic_printf(md, e, "\n");
            }
        }
        atomic_printf(md, e, "\n");
        any = 1;
    }
    for (int i = 0; i < x->n_cells; i++) {
        const RepCell *c = &x->cells[i];
        const cJSON *ks = c->n_runs ? get(get(c->runs[0], "metrics"), "kernels") : NULL;
        if (!ks || !ks->child) continue;
        atomic_printf(md, e, "Ours (%s): kernel time, ms (median) by length:\n\n| kernel | length: ms |\n|---|---|\n", c->name);
        for (const cJSON *k = ks->child; k; k = k->next)
            for (const cJSON *dir = k->child; dir; dir = dir->next) {
                const cJSON *pts = get(dir, "points");
                if (!cJSON_IsArray(pts) || !pts->child) continue;
                atomic_printf(md, e, "| %s %s |", k->string, dir->string);
                for (const cJSON *p = pts->child; p; p = p->next) {
                    const cJSON *L = get(p, "length"), *s = get(p, "seconds_median");
                    if (cJSON_IsNumber(L) && cJSON_IsNumber(s)) atomic_printf(md, e, " %.10g: %.3g", L->valuedouble, s->valuedouble * 1e3);
                }
                atomic_printf(md, e, " |\n");
            }
        atomic_printf(md, e, "\n");
        any = 1;
    }
    if (!any && x->n_cells_run)
        atomic_printf(md, e, "Ours: the result files under `%s/` hold no sweep this report tabulates; see them.\n\n", x->name);
}

static void params_table(AtomicFile *md, RepExp *x, Err *e)
{
    static const char *const F[] = {"total", "active", "state_bytes", "kv_cache_bytes", "recurrent_state_bytes"};
    atomic_printf(md, e, "Ours (exact, from `seqbench params`):\n\n| cell | params | active | state bytes | KV cache bytes | recurrent state bytes |\n|---|---|---|---|---|---|\n");
    for (int i = 0; i < x->n_cells; i++) {
        const RepCell *c = &x->cells[i];
        if (!c->n_runs) { atomic_printf(md, e, "| %s | not run | | | | |\n", c->name); continue; }
        atomic_printf(md, e, "| %s |", c->name);
        for (int k = 0; k < 5; k++) {
            const cJSON *v = get(c->runs[0], F[k]);
            char b[40];
            rep_num(b, sizeof b, cJSON_IsNumber(v) ? v->valuedouble : NAN);
            atomic_printf(md, e, " %s |", b);
        }
        atomic_printf(md, e, "\n");
    }
    atomic_printf(md, e, "\n");
}

/* " `key=value`" for one option as the spec writes it, with a note after it */
static void option(AtomicFile *md, const cJSON *it, const char *note, Err *e)
{
    char *v = cJSON_PrintUnformatted(it);
    atomic_printf(md, e, " `%s=%s`%s", it->string, v, note);
    cJSON_free(v);
}

static void settings(AtomicFile *md, RepExp *x, const char *profile, Err *e)
{
    atomic_printf(md, e, "Settings (profile `%s`):", profile);
    const cJSON *objs[2] = {get(x->spec, "base"), get(get(x->spec, "profiles"), profile)};
    if (!(objs[0] && objs[0]->child) && !(objs[1] && objs[1]->child)) atomic_printf(md, e, " the commands' defaults");
    for (int k = 0; k < 2; k++)
        for (const cJSON *it = objs[k] ? objs[k]->child : NULL; it; it = it->next) {
            if (!strcmp(it->string, "seconds") || !strcmp(it->string, "seeds") || !strcmp(it->string, "scaled"))
                continue; /* the runner's; "scaled" has its own line under the heading */
            if (k == 0 && cJSON_GetObjectItemCaseSensitive(objs[1], it->string)) continue; /* the profile's wins */
            int over = !strcmp(it->string, "override") && cJSON_IsObject(it);
            /* a profile's override comes after each cell's own options: say so beside its entries */
            for (const cJSON *o = over ? it->child : it; o; o = over ? o->next : NULL)
                option(md, o, over ? " (every cell)" : "", e);
        }
    /* the seeds of the results themselves (the profile's, or SEEDS=), not the spec's default */
    long seeds[REP_MAX_RUNS];
    int ns = rep_seeds(x, seeds, REP_MAX_RUNS);
    atomic_printf(md, e, "; seeds");
    for (int i = 0; i < ns; i++) atomic_printf(md, e, "%s%ld", i ? ", " : " ", seeds[i]);
    atomic_printf(md, e, "%s.", ns ? "" : " none run");
    /* cell overrides, so a reader sees what differs between the cells */
    atomic_printf(md, e, " Cells:");
    for (const cJSON *cell = get(x->spec, "cells") ? get(x->spec, "cells")->child : NULL; cell; cell = cell->next) {
        atomic_printf(md, e, " **%s**", cJSON_IsString(get(cell, "name")) ? get(cell, "name")->valuestring : "?");
        /* the cell's own options, then those it sets for this profile only (they win, as in the runner) */
        const cJSON *own = get(get(cell, "profiles"), profile);
        for (const cJSON *it = cell->child; it; it = it->next) {
            if (!strcmp(it->string, "name") || !strcmp(it->string, "seconds") || !strcmp(it->string, "profiles"))
                continue; /* the runner's estimate and per-profile options */
            if (!get(own, it->string)) option(md, it, "", e);
        }
        for (const cJSON *it = cJSON_IsObject(own) ? own->child : NULL; it; it = it->next) option(md, it, "", e);
        atomic_printf(md, e, "%s", cell->next ? ";" : ".");
    }
    atomic_printf(md, e, "\n\n");
}

static void figures(AtomicFile *md, RepExp *x, const char *plots, Err *e)
{
    const cJSON *figs = get(x->spec, "figures");
    if (cJSON_IsArray(figs) && !figs->child) return;
    if (!cJSON_IsArray(figs)) {
        atomic_printf(md, e, "![%s](%s/%s.png)\n\n", x->name, plots, x->name);
        return;
    }
    for (const cJSON *f = figs->child; f; f = f->next)
        if (cJSON_IsString(f)) atomic_printf(md, e, "![%s](%s/%s.png)\n\n", f->valuestring, plots, f->valuestring);
}

int rep_write_section(AtomicFile *md, RepExp *x, const char *profile, const char *plots, Err *e)
{
    const cJSON *title = get(x->spec, "title"), *paper = get(x->spec, "paper"), *claim = get(x->spec, "paper_claim");
    const cJSON *source = get(x->spec, "source"), *pr = get(x->spec, "paper_results");
    atomic_printf(md, e, "## %s\n\n", cJSON_IsString(title) ? title->valuestring : x->name);
    atomic_printf(md, e, "Experiment `%s` (`experiments/%s.json`, command `%s`): ", x->name, x->name, x->command);
    if (x->n_cells_run == x->n_cells) atomic_printf(md, e, "all %d cells run.\n\n", x->n_cells);
    else atomic_printf(md, e, "**not run (%d of %d cells)**.\n\n", x->n_cells_run, x->n_cells);
    /* a profile that runs the paper's experiment smaller than printed says what it cut and why */
    const cJSON *scaled = get(get(get(x->spec, "profiles"), profile), "scaled");
    if (cJSON_IsString(scaled) && *scaled->valuestring)
        atomic_printf(md, e, "Scaled from the paper's settings at profile `%s`: %s\n\n", profile, scaled->valuestring);
    if (cJSON_IsString(get(source, "paper")))
        atomic_printf(md, e, "Source: %s%s%s.\n\n", get(source, "paper")->valuestring, cJSON_IsString(get(source, "where")) ? ", " : "",
                      cJSON_IsString(get(source, "where")) ? get(source, "where")->valuestring : "");
    else if (cJSON_IsString(paper)) atomic_printf(md, e, "Source: %s.\n\n", paper->valuestring);
    if (cJSON_IsString(claim)) atomic_printf(md, e, "What the paper reports: %s\n\n", claim->valuestring);
    paper_table(md, x, e);
    if (!get(x->spec, "paper_table") && cJSON_IsObject(pr) && pr->child) {
        atomic_printf(md, e, "The paper's figures:");
        for (const cJSON *it = pr->child; it; it = it->next)
            if (cJSON_IsString(it)) atomic_printf(md, e, " **%s**: %s%s", it->string, it->valuestring, it->next ? ";" : ".");
        atomic_printf(md, e, "\n\n");
    }
    if (x->n_cells_run) {
        atomic_printf(md, e, "### Ours\n\n");
        if (!strcmp(x->command, "bench")) bench_tables(md, x, profile, e);
        else if (!strcmp(x->command, "params")) params_table(md, x, e);
        else {
            train_tables(md, x, e);
            scaling_table(md, x, e);
        }
    }
    settings(md, x, profile, e);
    /* what the spec's author found out on the way (a setting's reason, a slip in a source) */
    const cJSON *notes = get(x->spec, "notes");
    if (cJSON_IsString(notes) && *notes->valuestring) atomic_printf(md, e, "Notes: %s\n\n", notes->valuestring);
    if (x->n_cells_run) figures(md, x, plots, e);
    const cJSON *claims = get(x->spec, "claims");
    if (cJSON_GetArraySize(claims)) {
        atomic_printf(md, e, "### Verdicts\n\n");
        for (const cJSON *c = claims->child; c; c = c->next) {
            Verdict v;
            claim_verdict(c, x, &v);
            const cJSON *text = get(c, "claim");
            atomic_printf(md, e, "- **%s** — %s\n  %s\n", v.verdict, cJSON_IsString(text) ? text->valuestring : "(no claim text)", v.line);
        }
        atomic_printf(md, e, "\n");
    }
    return e->msg[0] ? -1 : 0;
}

/* text for a table cell: '|' would end the cell and a newline the row */
static void cell_text(char *buf, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s && n + 3 < cap; s++) {
        if (*s == '|') buf[n++] = '\\';
        buf[n++] = *s == '\n' ? ' ' : *s;
    }
    buf[n] = 0;
}

int rep_write_summary_rows(AtomicFile *md, RepExp *x, Err *e)
{
    const cJSON *claims = get(x->spec, "claims");
    char status[64] = "";
    if (x->n_cells_run < x->n_cells) snprintf(status, sizeof status, " (not run: %d of %d cells)", x->n_cells_run, x->n_cells);
    if (!cJSON_GetArraySize(claims)) {
        atomic_printf(md, e, "| `%s`%s | (no claims in the spec) | – | – | – | – |\n", x->name, status);
        return 0;
    }
    for (const cJSON *c = claims->child; c; c = c->next) {
        static Verdict v; /* large: not on the stack */
        claim_verdict(c, x, &v);
        const cJSON *text = get(c, "claim"), *paper = get(c, "paper");
        static char figures[2 * sizeof v.figures], claim[4096], printed[1024];
        cell_text(figures, sizeof figures, v.figures[0] ? v.figures : "–");
        cell_text(claim, sizeof claim, cJSON_IsString(text) ? text->valuestring : "(no claim text)");
        cell_text(printed, sizeof printed, cJSON_IsString(paper) ? paper->valuestring : "–");
        atomic_printf(md, e, "| `%s`%s | %s | %s | %s | %s | **%s** |\n", x->name, c == claims->child ? status : "",
                      claim, printed, figures, v.seeds_holding[0] ? v.seeds_holding : "–", v.verdict);
    }
    return e->msg[0] ? -1 : 0;
}
