/* An experiment spec resolved at one profile into one command line per
 * (cell, seed) (DESIGN §9). The options of a cell's command come, later
 * winning, from: --preset, "base", the profile, the cell, the cell's own
 * options for this profile (its "profiles" object, e.g. a cheaper model at
 * quick only), and the profile's "override" (options that must win over
 * every cell's own, e.g. the smoke profile's step count over a cell that
 * sets its own "steps"). Keys the runner reads itself are never passed on:
 * "name", "seconds" (the measured wall time per profile), "profiles",
 * "subcommand" (bench's: roofline, decode, ..., or none for the model
 * benchmark) and a profile's "scaled" (what it runs smaller than the paper,
 * for the report). Every command writes its result with
 * --out, atomically; train gets --seed, train and bench --threads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reproduce/experiment.h"
#include "reproduce/report.h"
#include "core/results.h"
#include "core/jsonio.h"

static int runner_key(const char *k)
{
    return !strcmp(k, "name") || !strcmp(k, "seconds") || !strcmp(k, "subcommand") || !strcmp(k, "profiles") ||
           !strcmp(k, "seeds") || !strcmp(k, "sweep") || !strcmp(k, "scaled");
}

/* Appends "--key value" for every entry of obj to argv; skip_override for the profile itself. */
static int push_options(const cJSON *obj, char **argv, int argc, int skip_override, const char *spec, Err *e)
{
    for (const cJSON *it = obj ? obj->child : NULL; it; it = it->next) {
        if (runner_key(it->string) || (skip_override && !strcmp(it->string, "override"))) continue;
        if (argc + 2 >= EXP_MAX_ARGS - 12) return err_set(e, "%s: too many options", spec);
        char value[1024];
        if (cJSON_IsString(it)) snprintf(value, sizeof value, "%s", it->valuestring);
        else if (cJSON_IsBool(it)) snprintf(value, sizeof value, "%s", cJSON_IsTrue(it) ? "true" : "false");
        else if (cJSON_IsNumber(it)) json_format_double(value, sizeof value, it->valuedouble); /* read by people */
        else if (cJSON_IsArray(it)) {
            size_t k = 0;
            value[0] = '\0';
            for (const cJSON *x = it->child; x && k < sizeof value; x = x->next) {
                if (!cJSON_IsNumber(x)) return err_set(e, "%s: list \"%s\" must hold numbers", spec, it->string);
                char num[40];
                json_format_double(num, sizeof num, x->valuedouble);
                k += (size_t)snprintf(value + k, sizeof value - k, "%s%s", k ? "," : "", num);
            }
        } else
            return err_set(e, "%s: option \"%s\" must be a string, number, boolean or list", spec, it->string);
        char flag[128];
        snprintf(flag, sizeof flag, "--%s", it->string);
        argv[argc++] = strdup(flag);
        argv[argc++] = strdup(value);
    }
    return argc;
}

/* "quick, paper": the names of an object's members, for a message naming a wrong one. */
static void member_names(const cJSON *obj, char *buf, size_t cap, const char *none)
{
    size_t k = 0;
    buf[0] = '\0';
    for (const cJSON *p = cJSON_IsObject(obj) ? obj->child : NULL; p && k < cap; p = p->next)
        k += (size_t)snprintf(buf + k, cap - k, "%s%s", k ? ", " : "", p->string);
    if (!k) snprintf(buf, cap, "%s", none);
}

/* The subcommand of a bench cell: the cell's, else the profile's, else the base's; "" = the model benchmark. */
static int subcommand(const cJSON *cell, const cJSON *prof, const cJSON *base, const char *spec, const char **sub,
                      Err *e)
{
    const cJSON *objs[3] = {cell, prof, base};
    *sub = "";
    for (int i = 0; i < 3; i++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(objs[i], "subcommand");
        if (!s) continue;
        if (!cJSON_IsString(s) || !*s->valuestring || s->valuestring[0] == '-')
            return err_set(e, "%s: \"subcommand\" must be a bench subcommand name (seqbench bench help)", spec);
        *sub = s->valuestring;
        break;
    }
    return 0;
}

/* The cell's "seconds" at this profile into *est, -1 if it has none. */
static int estimate(const cJSON *cell, const char *cell_name, const char *profile, const char *spec, double *est,
                    Err *e)
{
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(cell, "seconds");
    *est = -1;
    if (!sec) return 0;
    if (!cJSON_IsObject(sec))
        return err_set(e, "%s: cell %s: \"seconds\" must be an object {profile: seconds}", spec, cell_name);
    for (const cJSON *x = sec->child; x; x = x->next)
        if (!cJSON_IsNumber(x) || x->valuedouble < 0)
            return err_set(e, "%s: cell %s: \"seconds\".%s must be a non-negative number", spec, cell_name, x->string);
    const cJSON *v = profile ? cJSON_GetObjectItemCaseSensitive(sec, profile) : NULL;
    if (v) *est = v->valuedouble;
    return 0;
}

int exp_check_name(const char *name, const char *what, const char *spec, Err *e)
{
    /* a-z 0-9 _ - only: no '/', no "..", no leading '.', nothing a shell or make would read twice */
    if (!*name) return err_set(e, "%s: %s is empty", spec, what);
    for (const char *c = name; *c; c++)
        if (!(*c == '_' || *c == '-' || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
            return err_set(e, "%s: %s \"%.80s\" may only use a-z 0-9 _ -", spec, what, name);
    return 0;
}

/* "4,5,6" into seeds: non-negative whole numbers, no repeats; the count, or -1 + Err naming what is wrong. */
int exp_parse_seeds(const char *text, long *seeds, int cap, Err *e)
{
    int n = 0;
    const char *p = text;
    for (;;) {
        char *end;
        if (*p < '0' || *p > '9')
            return err_set(e, "--seeds \"%.60s\": a comma-separated list of seeds, e.g. 4,5,6", text);
        long v = strtol(p, &end, 10);
        if (v > 1000000000L) return err_set(e, "--seeds \"%.60s\": seed %ld is too large", text, v);
        for (int i = 0; i < n; i++)
            if (seeds[i] == v) return err_set(e, "--seeds \"%.60s\": seed %ld twice", text, v);
        if (n == cap) return err_set(e, "--seeds \"%.60s\": more than %d seeds", text, cap);
        seeds[n++] = v;
        if (!*end) return n;
        if (*end != ',') return err_set(e, "--seeds \"%.60s\": a comma-separated list of seeds, e.g. 4,5,6", text);
        p = end + 1;
    }
}

/* The seeds of every cell at this profile: --seeds (ExpRun.seeds) for a training spec, else the profile's
 * "seeds", else the spec's. A timing or params spec keeps its own: its seeds only name repeated runs. */
static int exp_seeds(const ExpRun *r, const cJSON *prof, const char *command, long *seeds, Err *e)
{
    const char *spec_path = r->spec_path;
    if (r->seeds && !strcmp(command, "train")) return exp_parse_seeds(r->seeds, seeds, EXP_MAX_SEEDS, e);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(prof, "seeds");
    const char *where = list ? "the profile's \"seeds\"" : "\"seeds\"";
    if (!list) list = cJSON_GetObjectItemCaseSensitive(r->spec, "seeds");
    if (!cJSON_IsArray(list) || !cJSON_GetArraySize(list))
        return err_set(e, "%s: %s must be a non-empty array", spec_path, where);
    int n = 0;
    for (const cJSON *x = list->child; x; x = x->next) {
        long long s;
        if (json_whole_number(x, &s) || s < 0 || s > 1000000000LL)
            return err_set(e, "%s: %s must be non-negative integers", spec_path, where);
        for (int i = 0; i < n; i++)
            if (seeds[i] == s) return err_set(e, "%s: %s holds %lld twice", spec_path, where, s);
        if (n == EXP_MAX_SEEDS) return err_set(e, "%s: %s: more than %d seeds", spec_path, where, EXP_MAX_SEEDS);
        seeds[n++] = (long)s;
    }
    return n;
}

#define EXP_MAX_SWEEP 16

typedef struct {
    char key[64];                    /* the option swept, e.g. "lr" */
    int n;                           /* 0: no sweep */
    char vals[EXP_MAX_SWEEP][48];    /* each value as the command line and the file name write it */
} Sweep;

/* A value that becomes part of a file name: no '/', no "..", no leading '.', a-z A-Z 0-9 _ . + - only */
static int safe_value(const char *v)
{
    if (!*v || v[0] == '.' || strstr(v, "..")) return 0;
    for (const char *c = v; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
              *c == '.' || *c == '+' || *c == '-'))
            return 0;
    return 1;
}

/* The cell's "sweep", else the spec's: {"OPTION": [v1, v2, ...]}, one option, numbers or safe strings; each value
 * becomes one run per seed, its result <cell>.<option>_<value>.seed<k>.json. */
static int sweep_of(const cJSON *spec, const cJSON *cell, const char *cell_name, const char *spec_path, Sweep *sw,
                    Err *e)
{
    memset(sw, 0, sizeof *sw);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(cell, "sweep");
    if (!s) s = cJSON_GetObjectItemCaseSensitive(spec, "sweep");
    if (!s) return 0;
    if (!cJSON_IsObject(s) || cJSON_GetArraySize(s) != 1)
        return err_set(e, "%s: cell %s: \"sweep\" is one option and its values, e.g. {\"lr\": [0.001, 0.003]}",
                       spec_path, cell_name);
    const cJSON *vals = s->child;
    if (exp_check_name(vals->string, "sweep option", spec_path, e)) return -1;
    if (!cJSON_IsArray(vals) || !cJSON_GetArraySize(vals) || cJSON_GetArraySize(vals) > EXP_MAX_SWEEP)
        return err_set(e, "%s: cell %s: sweep \"%s\" must list 1 to %d values", spec_path, cell_name, vals->string,
                       EXP_MAX_SWEEP);
    snprintf(sw->key, sizeof sw->key, "%s", vals->string);
    for (const cJSON *v = vals->child; v; v = v->next) {
        char *out = sw->vals[sw->n];
        if (cJSON_IsNumber(v)) json_format_double(out, sizeof sw->vals[0], v->valuedouble);
        else if (cJSON_IsString(v) && strlen(v->valuestring) < sizeof sw->vals[0])
            snprintf(out, sizeof sw->vals[0], "%s", v->valuestring);
        else
            return err_set(e, "%s: cell %s: sweep \"%s\" holds numbers or short strings", spec_path, cell_name,
                           sw->key);
        if (!safe_value(out))
            return err_set(e, "%s: cell %s: sweep value \"%.40s\" may only use a-z A-Z 0-9 _ . + - (no leading '.', "
                              "no \"..\")", spec_path, cell_name, out);
        for (int i = 0; i < sw->n; i++)
            if (!strcmp(sw->vals[i], out))
                return err_set(e, "%s: cell %s: sweep value %s twice", spec_path, cell_name, out);
        sw->n++;
    }
    return 0;
}

/* experiment_plan without the cleanup: on an error, p holds what was built before it. */
static int plan(const ExpRun *r, const char *threads_s, ExpPlan *p, Err *e)
{
    const char *spec_path = r->spec_path;
    const cJSON *spec = r->spec;
    if (!cJSON_IsObject(spec)) return err_set(e, "%s: a spec must be a JSON object", spec_path);
    snprintf(p->command, sizeof p->command, "train");
    if (json_get_string(spec, "name", 1, p->name, sizeof p->name, spec_path, e) ||
        json_get_string(spec, "command", 0, p->command, sizeof p->command, spec_path, e))
        return -1;
    const char *command = p->command;
    if (strcmp(command, "train") && strcmp(command, "bench") && strcmp(command, "params"))
        return err_set(e, "%s: command \"%s\" is not supported (train, bench, params)", spec_path, command);
    if (exp_check_name(p->name, "name", spec_path, e)) return -1;
    const cJSON *excl = cJSON_GetObjectItemCaseSensitive(spec, "exclusive");
    if (excl && !cJSON_IsBool(excl)) return err_set(e, "%s: \"exclusive\" must be true or false", spec_path);
    p->exclusive = cJSON_IsTrue(excl);
    const cJSON *profiles = cJSON_GetObjectItemCaseSensitive(spec, "profiles");
    const cJSON *prof = r->profile ? cJSON_GetObjectItemCaseSensitive(profiles, r->profile) : NULL;
    if (r->profile && !cJSON_IsObject(prof)) {
        char known[256];
        member_names(profiles, known, sizeof known, "none: the spec has no \"profiles\" object");
        return err_set(e, "%s: no profile \"%s\" (known: %s)", spec_path, r->profile, known);
    }
    const cJSON *over = cJSON_GetObjectItemCaseSensitive(prof, "override");
    if (over && !cJSON_IsObject(over))
        return err_set(e, "%s: profile %s: \"override\" must be an object of options", spec_path, r->profile);
    const cJSON *scaled = cJSON_GetObjectItemCaseSensitive(prof, "scaled");
    if (scaled && !cJSON_IsString(scaled))
        return err_set(e, "%s: profile %s: \"scaled\" must be a string (what it runs smaller than the paper, and why)",
                       spec_path, r->profile);
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(spec, "base");
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(spec, "cells");
    if (!cJSON_IsArray(cells) || !cJSON_GetArraySize(cells))
        return err_set(e, "%s: \"cells\" must be a non-empty array", spec_path);
    long seeds[EXP_MAX_SEEDS];
    int n_seeds = exp_seeds(r, prof, command, seeds, e);
    if (n_seeds < 0) return -1;
    /* a claim naming a cell, length or metric the spec does not have is refused now, not "not measured" after
     * the cells have trained */
    if (claims_check(spec, spec_path, e)) return -1;
    snprintf(p->dir, sizeof p->dir, "%s/%s", r->results, p->name);
    if (results_check_dir("--results", p->dir, NULL, e)) return -1;

    int total = 0, k = 0;
    for (const cJSON *cell = cells->child; cell; cell = cell->next) { /* a swept cell runs once per value */
        Sweep sw;
        char cn[128] = "?";
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(cell, "name");
        if (cJSON_IsString(nm)) snprintf(cn, sizeof cn, "%s", nm->valuestring);
        if (sweep_of(spec, cell, cn, spec_path, &sw, e)) return -1;
        total += (sw.n ? sw.n : 1) * n_seeds;
    }
    p->cells = calloc((size_t)total, sizeof *p->cells);
    p->argv = calloc((size_t)total, sizeof *p->argv);
    p->argc = calloc((size_t)total, sizeof *p->argc);
    if (!p->cells || !p->argv || !p->argc) return err_set(e, "%s: out of memory for %d cells", r->cmd, total);
    p->n = total; /* what experiment_plan_free goes over, even if an error stops the loop below */
    int cell_found = !r->cell, seed_found = !r->seed;
    for (const cJSON *cell = cells->child; cell; cell = cell->next) {
        char cell_name[128] = "";
        if (json_get_string(cell, "name", 1, cell_name, sizeof cell_name, spec_path, e) ||
            exp_check_name(cell_name, "cell name", spec_path, e))
            return -1;
        for (int i = 0; i < k; i++)
            if (!strcmp(p->cells[i].name, cell_name))
                return err_set(e, "%s: two cells are named \"%s\"", spec_path, cell_name);
        double est;
        if (estimate(cell, cell_name, r->profile, spec_path, &est, e)) return -1;
        const cJSON *cell_profiles = cJSON_GetObjectItemCaseSensitive(cell, "profiles");
        if (cell_profiles && !cJSON_IsObject(cell_profiles))
            return err_set(e, "%s: cell %s: \"profiles\" must be an object {profile: options}", spec_path, cell_name);
        const cJSON *cell_prof = r->profile ? cJSON_GetObjectItemCaseSensitive(cell_profiles, r->profile) : NULL;
        if (cell_prof && !cJSON_IsObject(cell_prof))
            return err_set(e, "%s: cell %s: \"profiles\".%s must be an object of options", spec_path, cell_name,
                           r->profile);
        const char *sub = "";
        if (!strcmp(command, "bench") && subcommand(cell, prof, base, spec_path, &sub, e)) return -1;
        Sweep sw;
        if (sweep_of(spec, cell, cell_name, spec_path, &sw, e)) return -1;
        for (int vi = 0; vi < (sw.n ? sw.n : 1); vi++)
        for (int si = 0; si < n_seeds; si++) {
            long long s = seeds[si];
            ExpCell *c = &p->cells[k];
            char **a = p->argv[k] = calloc(EXP_MAX_ARGS, sizeof *a);
            if (!a) return err_set(e, "%s: out of memory for %d cells", r->cmd, total);
            snprintf(c->name, sizeof c->name, "%s", cell_name);
            /* a swept value's label, "mamba.lr_0.001", is what --cell selects and --list-cells prints */
            if (sw.n) snprintf(c->cell, sizeof c->cell, "%s.%s_%s", cell_name, sw.key, sw.vals[vi]);
            else snprintf(c->cell, sizeof c->cell, "%s", cell_name);
            int this_cell = !r->cell || !strcmp(r->cell, cell_name) || !strcmp(r->cell, c->cell);
            cell_found |= this_cell;
            snprintf(c->seed_s, sizeof c->seed_s, "%lld", s);
            snprintf(c->out, sizeof c->out, "%s/%s.seed%lld.json", p->dir, c->cell, s);
            c->est = est;
            c->selected = this_cell && (!r->seed || !strcmp(r->seed, c->seed_s));
            seed_found |= !r->seed || !strcmp(r->seed, c->seed_s);
            struct stat st;
            c->done = stat(c->out, &st) == 0;
            c->status = c->done ? 0 : -1;
            int ac = 0;
            a[ac++] = strdup("seqbench");
            a[ac++] = strdup(command);
            if (*sub) a[ac++] = strdup(sub);
            if (r->preset && *r->preset) { /* first, so every option the spec gives wins over it */
                a[ac++] = strdup("--preset");
                a[ac++] = strdup(r->preset);
            }
            if ((ac = push_options(base, a, ac, 0, spec_path, e)) < 0 ||
                (ac = push_options(prof, a, ac, 1, spec_path, e)) < 0 ||
                (ac = push_options(cell, a, ac, 0, spec_path, e)) < 0 ||
                (ac = push_options(cell_prof, a, ac, 0, spec_path, e)) < 0)
                return -1;
            if (sw.n) { /* the swept value wins over the cell's options, the profile's override over it */
                char flag[80];
                snprintf(flag, sizeof flag, "--%s", sw.key);
                a[ac++] = strdup(flag);
                a[ac++] = strdup(sw.vals[vi]);
            }
            if ((ac = push_options(over, a, ac, 0, spec_path, e)) < 0) return -1;
            /* the seed is train's (weights and data); a bench's random weights do not change its timings, so
             * its seeds only name repeated runs, and params computes: no seed, no threads */
            if (!strcmp(command, "train")) {
                a[ac++] = strdup("--seed");
                a[ac++] = strdup(c->seed_s);
            }
            if (strcmp(command, "params") && *threads_s) {
                a[ac++] = strdup("--threads");
                a[ac++] = strdup(threads_s);
            }
            a[ac++] = strdup("--out");
            a[ac++] = strdup(c->out);
            a[ac] = NULL;
            p->argc[k++] = ac;
        }
    }
    if (!cell_found || !seed_found) { /* one line naming what the spec has */
        char known[1024] = "";
        size_t n = 0;
        for (int i = 0; i < total && n < sizeof known; i++) {
            const char *v = !cell_found ? p->cells[i].cell : p->cells[i].seed_s;
            int seen = 0;
            for (int j = 0; j < i; j++) seen |= !strcmp(v, !cell_found ? p->cells[j].cell : p->cells[j].seed_s);
            if (!seen) n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", n ? ", " : "", v);
        }
        return err_set(e, "%s: no %s \"%s\" (known: %s)", spec_path, !cell_found ? "cell" : "seed",
                       !cell_found ? r->cell : r->seed, known);
    }
    return 0;
}

int experiment_plan(const ExpRun *r, const char *threads_s, ExpPlan *p, Err *e)
{
    memset(p, 0, sizeof *p);
    if (!plan(r, threads_s, p, e)) return 0;
    experiment_plan_free(p); /* the cells made before the error */
    return -1;
}

void experiment_plan_free(ExpPlan *p)
{
    for (int i = 0; i < p->n; i++) {
        for (int a = 0; p->argv[i] && p->argv[i][a]; a++) free(p->argv[i][a]);
        free(p->argv[i]);
    }
    free(p->argv);
    free(p->argc);
    free(p->cells);
    p->argv = NULL;
    p->argc = NULL;
    p->cells = NULL;
}

/* One line per selected (cell, seed), for make and Slurm (scripts/reproduce.sh, scripts/slurm/). */
int experiment_list_cells(const ExpRun *r, Err *e)
{
    /* the threads make reproduce runs each cell with (an exclusive spec's: all cores), which its digest records */
    char threads_s[16];
    snprintf(threads_s, sizeof threads_s, "%d",
             cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->spec, "exclusive")) ? 0 : r->threads);
    ExpPlan p;
    if (experiment_plan(r, threads_s, &p, e)) return -1;
    if (r->move_stale && experiment_retire_stale(r, &p, e)) {
        experiment_plan_free(&p);
        return -1;
    }
    for (int i = 0; i < p.n; i++) {
        const ExpCell *c = &p.cells[i];
        if (!c->selected) continue;
        char est[32] = "-";
        if (c->est >= 0) json_format_double(est, sizeof est, c->est); /* 0.7, not 0.69999999999999996 */
        printf("%s\t%s\t%s\t%s\t%s\t%d\n", p.name, c->cell, c->seed_s, c->out, est, p.exclusive);
    }
    fflush(stdout);
    experiment_plan_free(&p);
    return 0;
}
