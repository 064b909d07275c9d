/* seqbench bench cells: the training step of every training cell of a
 * profile at the cell's own shape (issue 30, item 5: what every seed of
 * `make reproduce` costs), and with --vs another build's, timed in the same
 * run, cell by cell in turn.
 *
 * Each cell is its spec's command line for its first seed (reproduce/plan.c),
 * run as a child process of this binary (or of --vs) for --steps steps with
 * nothing else: no validation curve, no stop at a target, no length
 * curriculum (every step at the cell's longest training length, so a cell
 * with a curriculum is timed at its dearest shape), one test sequence at the
 * training length, one thread as `make reproduce` gives each cell. Its
 * metrics.ms_per_step is the figure, the median of --repeats runs. The
 * profile's training time is then the sum over cells of ms/step times the
 * steps the cell runs: the mean over the seeds' results in --results where
 * they exist (a cell that stops at its target runs fewer than its cap), else
 * its --steps cap. An option the --vs build does not know (`train --help`)
 * is left out of its command and named in the result: such an option sets
 * what is learnt (an initialisation, a schedule), not the step's shape. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/harness.h"
#include "cli/bench_options.h"
#include "cli/bench_suite.h"
#include "core/jsonio.h"
#include "reproduce/experiment.h"

enum { MAX_CELLS = 512, MAX_REPEATS = 64 };

typedef struct {
    char exp[128], cell[192];
    char **argv;          /* the spec's command line for the cell's first seed (owned by the plan) */
    double steps;         /* steps a seed runs: the mean over the results found, else the cap */
    int steps_found;      /* results the mean is over (0: the cap) */
    int length;           /* the training length the step is timed at */
    double ms[2][MAX_REPEATS]; /* per build: the runs' ms/step */
    int n_ms[2];
    double flops_per_token, tokens_per_step, params;
    char dropped[512];    /* options the --vs build does not know */
    char vs_failed[512];  /* why the --vs build could not train the cell ("": it could) */
} Cell;

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    if (!n) return NAN;
    qsort(v, (size_t)n, sizeof *v, by_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Runs bin with argv (argv[0] is replaced by bin) and its output into log; the exit status, -1 if it could not run. */
static int run_child(const char *bin, char **argv, const char *log)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (!pid) {
        if (!freopen(log, "w", stdout) || !freopen(log, "a", stderr)) _exit(127);
        argv[0] = (char *)bin;
        execv(bin, argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The text a command prints, into a malloc'd string (NULL if it cannot run). */
static char *capture(const char *bin, char **argv, const char *tmp)
{
    char log[1200];
    snprintf(log, sizeof log, "%s/capture.txt", tmp);
    if (run_child(bin, argv, log) < 0) return NULL;
    FILE *f = fopen(log, "r");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - 1 - n, f)) > 0;) {
        n += got;
        if (n + 1 == cap) {
            char *more = realloc(buf, cap *= 2);
            if (!more) { free(buf); buf = NULL; break; }
            buf = more;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    return buf;
}

static const char *arg_value(char **argv, const char *flag)
{
    const char *v = NULL;
    for (int i = 0; argv[i] && argv[i + 1]; i++)
        if (!strcmp(argv[i], flag)) v = argv[i + 1]; /* the last wins, as options_parse has it */
    return v;
}

/* The cell's command for a timed run: its own options (less those `known` lacks, named in dropped), then what
 * makes it a bare timing of the step. One allocation holds the list and the two numbers it spells out: free()
 * the result. */
static char **timing_argv(const Cell *c, int steps, const char *out, const char *known, char *dropped, size_t dcap)
{
    enum { NUM = 32 };
    int n = 0;
    while (c->argv[n]) n++;
    size_t n_ptrs = (size_t)n + 24;
    char **a = calloc(1, n_ptrs * sizeof *a + 2 * NUM);
    if (!a) return NULL;
    char *steps_s = (char *)(a + n_ptrs), *len_s = steps_s + NUM;
    snprintf(steps_s, NUM, "%d", steps);
    snprintf(len_s, NUM, "%d", c->length);
    const char *extra[] = {"--steps", steps_s, "--val-seqs", "0", "--stop-acc", "0", "--len-warmup", "0", "--len-hold", "0",
                           "--eval-lengths", len_s, "--eval-seqs", "1", "--eval-depths", "", "--threads", "1",
                           "--out", out, NULL};
    _Static_assert(sizeof extra / sizeof *extra < 24, "timing_argv's room for its own options");
    int k = 0;
    a[k++] = c->argv[0];
    a[k++] = c->argv[1]; /* "train" */
    if (dropped) dropped[0] = '\0';
    for (int i = 2; i < n; i += 2) {
        char pat[160];
        snprintf(pat, sizeof pat, "  %s ", c->argv[i]);
        if (known && !strstr(known, pat)) {
            if (dropped) snprintf(dropped + strlen(dropped), dcap - strlen(dropped), "%s%s", *dropped ? " " : "", c->argv[i]);
            continue;
        }
        if (!strcmp(c->argv[i], "--out") || !strcmp(c->argv[i], "--seed")) continue;
        a[k++] = c->argv[i];
        if (i + 1 < n) a[k++] = c->argv[i + 1];
    }
    /* the timing's own options too: an older build may lack the ones that turn off validation and the
     * curriculum (13d1749 has no --val-seqs), and then runs without them, as it ran its cells */
    for (int i = 0; extra[i]; i += 2) {
        char pat[160];
        snprintf(pat, sizeof pat, "  %s ", extra[i]);
        if (known && !strstr(known, pat)) {
            if (dropped) snprintf(dropped + strlen(dropped), dcap - strlen(dropped), "%s%s", *dropped ? " " : "", extra[i]);
            continue;
        }
        a[k++] = (char *)extra[i];
        a[k++] = (char *)extra[i + 1];
    }
    a[k] = NULL;
    return a;
}

/* The mean steps over the cell's results in dir (every file <cell>.seed<k>.json); 0 if none. */
static int steps_run(const char *dir, const char *cell, double *mean)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *ent;
    double sum = 0;
    int n = 0;
    size_t len = strlen(cell);
    while ((ent = readdir(d))) {
        if (strncmp(ent->d_name, cell, len) || strncmp(ent->d_name + len, ".seed", 5)) continue;
        const char *dot = strrchr(ent->d_name, '.');
        if (!dot || strcmp(dot, ".json")) continue;
        char path[1500];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        Err e;
        cJSON *r = json_read_file(path, &e);
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "metrics"), "steps");
        if (cJSON_IsNumber(s)) sum += s->valuedouble, n++;
        cJSON_Delete(r);
    }
    closedir(d);
    if (n) *mean = sum / n;
    return n;
}

/* One timed run: ms/step (and, for this build, FLOPs per token and tokens a step) from its result. */
static int time_once(Cell *c, int b, const char *bin, int steps, const char *known, const char *tmp, Err *e)
{
    char out[1200], log[1200];
    snprintf(out, sizeof out, "%s/cell.json", tmp);
    snprintf(log, sizeof log, "%s/cell.log", tmp);
    unlink(out);
    char **a = timing_argv(c, steps, out, known, b ? c->dropped : NULL, sizeof c->dropped);
    if (!a) return err_set(e, "bench cells: out of memory");
    int rc = run_child(bin, a, log);
    free(a);
    if (rc && b) { /* an older build may not run a cell at all (a preset key it predates): say why, go on */
        FILE *f = fopen(log, "r");
        char line[512] = "";
        for (char buf[512]; f && fgets(buf, sizeof buf, f);) memcpy(line, buf, sizeof buf);
        if (f) fclose(f);
        line[strcspn(line, "\n")] = '\0';
        snprintf(c->vs_failed, sizeof c->vs_failed, "status %d: %s", rc, *line ? line : "no output");
        return 0;
    }
    if (rc) return err_set(e, "bench cells: %s/%s: %s train failed (status %d; its output: %s)", c->exp, c->cell, bin, rc, log);
    cJSON *r = json_read_file(out, e);
    if (!r) return -1;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "metrics");
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(m, "ms_per_step");
    const cJSON *fpt = cJSON_GetObjectItemCaseSensitive(m, "train_flops_per_token");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(m, "tokens");
    const cJSON *par = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "model"), "params"), "total");
    if (!cJSON_IsNumber(ms)) {
        cJSON_Delete(r);
        return err_set(e, "bench cells: %s/%s: %s's result has no metrics.ms_per_step", c->exp, c->cell, bin);
    }
    if (c->n_ms[b] < MAX_REPEATS) c->ms[b][c->n_ms[b]++] = ms->valuedouble;
    if (!b && cJSON_IsNumber(fpt)) c->flops_per_token = fpt->valuedouble;
    if (!b && cJSON_IsNumber(tok)) c->tokens_per_step = tok->valuedouble / steps;
    if (!b && cJSON_IsNumber(par)) c->params = par->valuedouble;
    cJSON_Delete(r);
    return 0;
}

/* What the cells borrowed from their plans, the other build's option list and the scratch directory. */
static void release(ExpPlan *plans, cJSON **specs, int n_plans, char *known, const char *tmp)
{
    for (int i = 0; i < n_plans; i++) {
        experiment_plan_free(&plans[i]);
        cJSON_Delete(specs[i]);
    }
    free(known);
    char rm[1200];
    snprintf(rm, sizeof rm, "rm -rf '%s'", tmp);
    if (system(rm)) fprintf(stderr, "bench cells: could not remove %s\n", tmp);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int bench_cells_main(int argc, char **argv)
{
    BenchRun run;
    char experiments[1024] = "experiments", profile[32] = "quick", only[1024] = "", vs[1024] = "", results[1024] = "results";
    int steps = 20;
    Option opts[16];
    int n = bench_run_options(&run, 3, opts);
    Option more[] = {
        OPT_S("experiments", experiments, "directory of the experiment specs (every *.json whose command is train)"),
        OPT_S("profile", profile, "the profile whose cells are timed"),
        OPT_S("only", only, "experiment names, comma-separated (default: every training spec)"),
        OPT_I("steps", &steps, 2, 100000, "training steps per timed run"),
        OPT_S("vs", vs, "another seqbench binary (e.g. an older build), timed in turn with this one, cell by cell"),
        OPT_S("results", results, "where the cells' results are, for the steps each seed runs (else its cap)"),
    };
    memcpy(opts + n, more, sizeof more);
    n += (int)(sizeof more / sizeof *more);
    options_find(opts, n, "repeats")->help = "timed runs per cell and build, alternating builds; the median is kept";
    if (bench_parse(opts, n, argc, argv, 3, "bench cells", "[--profile P] [--only NAMES] [--vs OTHER_SEQBENCH] [options]"))
        return 0;
    if (!options_find(opts, n, "threads")->set) run.threads = 1; /* the cells' own count: the bound is one core's */
    bench_check(&run);
    if (*vs && access(vs, X_OK)) die("bench cells: --vs %s: not an executable (another build's build/seqbench)", vs);
    Err e = {{0}};

    /* the specs, in name order: the training ones, or those --only names */
    DIR *d = opendir(experiments);
    if (!d) die("bench cells: --experiments %s: cannot open the directory", experiments);
    char *names[256];
    int n_names = 0;
    for (struct dirent *ent; (ent = readdir(d)) && n_names < 256;) {
        size_t len = strlen(ent->d_name);
        if (len > 5 && !strcmp(ent->d_name + len - 5, ".json")) names[n_names++] = strdup(ent->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n_names, sizeof *names, by_name);
    static Cell cells[MAX_CELLS];
    int n_cells = 0;
    ExpPlan plans[256];
    cJSON *specs[256];
    int n_plans = 0;
    for (int i = 0; i < n_names; i++) {
        char path[1400], name[256];
        snprintf(path, sizeof path, "%s/%s", experiments, names[i]);
        snprintf(name, sizeof name, "%.*s", (int)(strlen(names[i]) - 5), names[i]);
        if (*only) {
            char list[1030];
            snprintf(list, sizeof list, ",%s,", only);
            char key[260];
            snprintf(key, sizeof key, ",%s,", name);
            if (!strstr(list, key)) continue;
        }
        cJSON *spec = json_read_file(path, &e);
        if (!spec) die_err(&e);
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(spec, "command");
        if (cJSON_IsString(cmd) && strcmp(cmd->valuestring, "train")) { cJSON_Delete(spec); continue; }
        ExpRun r = {.cmd = "bench cells", .spec_path = path, .spec = spec, .profile = profile, .results = results};
        ExpPlan *p = &plans[n_plans];
        if (experiment_plan(&r, "1", p, &e)) die_err(&e);
        specs[n_plans++] = spec;
        for (int k = 0; k < p->n && n_cells < MAX_CELLS; k++) {
            int seen = 0;
            for (int j = 0; j < n_cells && !seen; j++) seen = !strcmp(cells[j].exp, p->name) && !strcmp(cells[j].cell, p->cells[k].cell);
            if (seen) continue; /* the first seed's command stands for the cell */
            Cell *c = &cells[n_cells++];
            memset(c, 0, sizeof *c);
            snprintf(c->exp, sizeof c->exp, "%s", p->name);
            snprintf(c->cell, sizeof c->cell, "%s", p->cells[k].cell);
            c->argv = p->argv[k];
            const char *cap = arg_value(c->argv, "--steps");
            c->steps = cap ? atof(cap) : 0;
            c->steps_found = steps_run(p->dir, c->cell, &c->steps);
        }
    }
    for (int i = 0; i < n_names; i++) free(names[i]);
    if (!n_cells) die("bench cells: no training cells in %s at profile %s%s%s", experiments, profile, *only ? " among " : "", only);

    /* the runs' results and output, in a scratch directory under $TMPDIR (the system's default without it) */
    const char *tmpdir = getenv("TMPDIR");
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s/seqbench-cells-XXXXXX", tmpdir && *tmpdir ? tmpdir : P_tmpdir);
    if (!mkdtemp(tmp)) die("bench cells: cannot make a temporary directory in %s", tmpdir && *tmpdir ? tmpdir : P_tmpdir);
    char self[1024];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) die("bench cells: cannot find this binary (/proc/self/exe)");
    self[sl] = '\0';
    /* the training length of each cell, as its command resolves it (a preset may set it) */
    for (int i = 0; i < n_cells; i++) {
        Cell *c = &cells[i];
        int k = 0;
        while (c->argv[k]) k++;
        char **a = calloc((size_t)k + 2, sizeof *a);
        int j = 0;
        for (int i = 0; i < k; i++) {
            if (i >= 2 && i + 1 < k && !strcmp(c->argv[i], "--out")) { i++; continue; } /* its results folder may not exist */
            a[j++] = c->argv[i];
        }
        a[j] = "--dry-run";
        char *text = capture(self, a, tmp);
        free(a);
        const char *at = text ? strstr(text, "\n--max-len ") : NULL;
        c->length = at ? atoi(at + strlen("\n--max-len ")) : 0;
        if (c->length <= 0) {
            char *nl = text ? strrchr(text, '\n') : NULL;
            if (nl && nl > text && !nl[1]) *nl = '\0';
            nl = text ? strrchr(text, '\n') : NULL;
            die("bench cells: %s/%s: its dry run failed: %s", c->exp, c->cell, text ? (nl ? nl + 1 : text) : "could not run it");
        }
        free(text);
    }
    char *known = NULL;
    if (*vs) {
        char *help[] = {vs, "train", "--help", NULL};
        known = capture(vs, help, tmp);
        if (!known || !strstr(known, "--steps")) die("bench cells: --vs %s: its train --help lists no options", vs);
    }
    if (run.dry) {
        for (int i = 0; i < n_cells; i++) {
            char **a = timing_argv(&cells[i], steps, "OUT.json", NULL, NULL, 0);
            printf("# %s/%s: %.0f steps a seed (%s)\n", cells[i].exp, cells[i].cell, cells[i].steps,
                   cells[i].steps_found ? "its results" : "its cap");
            for (int j = 1; a && a[j]; j++) printf("%s%s", j > 1 ? " " : "seqbench ", *a[j] ? a[j] : "''");
            printf("\n");
            free(a);
        }
        fprintf(stderr, "bench cells: %d cells at profile %s (dry run: nothing timed)\n", n_cells, profile);
        release(plans, specs, n_plans, known, tmp);
        return 0;
    }

    cJSON *res = bench_result("bench cells", argc, argv, opts, n);
    Roofline rf;
    if (bench_roofline(&run, &rf, res, &e)) die_err(&e);
    fprintf(stderr, "bench cells: %d cells at profile %s, %d steps a run, %d run(s) each%s%s\n", n_cells, profile, steps,
            run.repeats, *vs ? ", alternating with " : "", vs);
    for (int i = 0; i < n_cells; i++) {
        for (int rep = 0; rep < run.repeats; rep++)
            for (int b = 0; b < 1 + (*vs != 0) && !(b && *cells[i].vs_failed); b++) /* this build, then the other */
                if (time_once(&cells[i], b, b ? vs : self, steps, b ? known : NULL, tmp, &e)) die_err(&e);
        fprintf(stderr, "  [%d/%d] %s/%s: %.2f ms/step%s%s\n", i + 1, n_cells, cells[i].exp, cells[i].cell,
                median(cells[i].ms[0], cells[i].n_ms[0]), *cells[i].vs_failed ? "; the other build failed: " : "",
                cells[i].vs_failed);
    }

    printf("%-44s %9s %8s %9s", "cell", "tokens", "params", "ms/step");
    if (*vs) printf(" %9s %6s", "vs", "ratio");
    printf(" %8s %9s %5s\n", "steps", "seconds", "bound");
    cJSON *arr = cJSON_AddArrayToObject(res, "cells");
    double total[2] = {0, 0}, both = 0; /* both: this build's seconds over the cells the other also ran */
    int n_failed = 0;
    for (int i = 0; i < n_cells; i++) {
        Cell *c = &cells[i];
        double ms[2] = {median(c->ms[0], c->n_ms[0]), median(c->ms[1], c->n_ms[1])};
        double gflops = c->flops_per_token * c->tokens_per_step / (ms[0] * 1e6);
        double frac = rf.compute_gflops > 0 ? gflops / rf.compute_gflops : NAN;
        char label[400], shape[32];
        snprintf(label, sizeof label, "%s/%s", c->exp, c->cell);
        snprintf(shape, sizeof shape, "%.0f", c->tokens_per_step);
        printf("%-44s %9s %8.0f %9.2f", label, shape, c->params, ms[0]);
        int vs_ran = *vs && !*c->vs_failed;
        if (vs_ran) printf(" %9.2f %6.2f", ms[1], ms[1] / ms[0]);
        else if (*vs) printf(" %9s %6s", "failed", "-");
        printf(" %8.0f %9.1f %4.0f%%\n", c->steps, c->steps * ms[0] / 1e3, 100 * frac);
        total[0] += c->steps * ms[0] / 1e3;
        if (vs_ran) {
            total[1] += c->steps * ms[1] / 1e3;
            both += c->steps * ms[0] / 1e3;
        }
        n_failed += *vs && !vs_ran;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "experiment", c->exp);
        cJSON_AddStringToObject(o, "cell", c->cell);
        cJSON_AddNumberToObject(o, "length", c->length);
        cJSON_AddNumberToObject(o, "tokens_per_step", c->tokens_per_step);
        cJSON_AddNumberToObject(o, "params", c->params);
        cJSON_AddNumberToObject(o, "steps", c->steps);
        cJSON_AddStringToObject(o, "steps_from", c->steps_found ? "results" : "cap");
        cJSON_AddNumberToObject(o, "ms_per_step", ms[0]);
        cJSON_AddItemToObject(o, "ms_per_step_runs", cJSON_CreateDoubleArray(c->ms[0], c->n_ms[0]));
        cJSON_AddNumberToObject(o, "seconds", c->steps * ms[0] / 1e3);
        cJSON_AddNumberToObject(o, "train_flops_per_token", c->flops_per_token);
        cJSON_AddNumberToObject(o, "train_gflops", gflops);
        cJSON_AddNumberToObject(o, "roofline_fraction", frac);
        if (*vs && !vs_ran) cJSON_AddStringToObject(o, "vs_failed", c->vs_failed);
        if (vs_ran) {
            cJSON_AddNumberToObject(o, "ms_per_step_vs", ms[1]);
            cJSON_AddItemToObject(o, "ms_per_step_vs_runs", cJSON_CreateDoubleArray(c->ms[1], c->n_ms[1]));
            cJSON_AddNumberToObject(o, "seconds_vs", c->steps * ms[1] / 1e3);
            if (*c->dropped) cJSON_AddStringToObject(o, "options_vs_lacks", c->dropped);
        }
        cJSON_AddItemToArray(arr, o);
    }
    double ratio = total[1] > 0 ? both / total[1] : NAN;
    printf("total: %.0f s of training a seed (every cell once, one thread)", total[0]);
    if (*vs)
        printf("; over the %d cells %s ran: %.0f s against its %.0f s, this build takes %.3f of its time", n_cells - n_failed,
               vs, both, total[1], ratio);
    printf("\n");
    cJSON_AddNumberToObject(res, "total_seconds", total[0]);
    if (*vs) {
        cJSON_AddStringToObject(res, "vs", vs);
        cJSON_AddNumberToObject(res, "cells_vs_failed", n_failed);
        cJSON_AddNumberToObject(res, "total_seconds_both_ran", both);
        cJSON_AddNumberToObject(res, "total_seconds_vs", total[1]);
        cJSON_AddNumberToObject(res, "ratio", ratio);
    }
    release(plans, specs, n_plans, known, tmp);
    return bench_finish(res, &run);
}
