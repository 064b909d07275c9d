/* The experiment runner behind `experiment` and `compare` (DESIGN §9): the
 * (cell, seed)s of a spec, as plan.c resolves them, each in a forked child,
 * so one failing cell (a diverged run) does not end the rest. Each cell's
 * command writes its result file atomically, so an interrupted run resumes
 * where it stopped: finished cells are skipped.
 *
 * Before the first cell trains, every cell still to run is checked the way
 * its run would check it (its command's --dry-run on the same arguments), so a
 * misspelt key fails the whole spec at once, not each cell after the ones
 * before it have trained for an hour; --dry-run reports exactly those
 * failures. Before the cells run it prints how many there are and the
 * estimated time, and after each one the overall ETA.
 *
 * The commands themselves (train, bench, params) live in the cli, above this
 * folder: the children run them through the caller's ExpRun.run_command. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reproduce/experiment.h"
#include "core/atomic.h"
#include "core/jsonio.h"
#include "core/timer.h"

/* Runs `seqbench COMMAND ARGS --dry-run` in a child, as the real run would
 * start it, and keeps its error line (without "seqbench: ") in problem;
 * with `said`, also what it printed (stdout and stderr, up to said_cap).
 * -1 + Err only if the child cannot be started. */
static int dry_run(int (*run_command)(int, char **), int argc, char **args, int with_out, char *problem, size_t cap,
                   char *said, size_t said_cap, Err *e)
{
    char *argv[EXP_MAX_ARGS + 4];
    int ac = 0;
    for (int i = 0; i < argc; i++) {
        /* the result directory is made only by a real run: without it, the dry run leaves --out to that check */
        if (!with_out && !strcmp(args[i], "--out")) { i++; continue; }
        argv[ac++] = args[i];
    }
    argv[ac++] = "--dry-run";
    argv[ac] = NULL;
    int fd[2];
    if (pipe(fd)) return err_set(e, "experiment: pipe failed");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return err_set(e, "experiment: fork failed");
    }
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], 2);
        if (said) dup2(fd[1], 1);
        else if (!freopen("/dev/null", "w", stdout)) _exit(1);
        _exit(run_command(ac, argv));
    }
    close(fd[1]);
    char small[4096], *text = said ? said : small;
    size_t n = 0, text_cap = said ? said_cap : sizeof small;
    ssize_t r;
    char sink[4096]; /* past the buffer the child's output is read and dropped, so it never blocks on a full pipe */
    while ((r = read(fd[0], n < text_cap - 1 ? text + n : sink, n < text_cap - 1 ? text_cap - 1 - n : sizeof sink)) > 0)
        if (n < text_cap - 1) n += (size_t)r;
    close(fd[0]);
    text[n] = '\0';
    int status;
    waitpid(pid, &status, 0);
    problem[0] = '\0';
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    /* the child's last "seqbench: " line is what stopped it (earlier ones are warnings) */
    const char *msg = NULL;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, "seqbench: ", 10)) msg = p + 10;
    if (msg) snprintf(problem, cap, "%.*s", (int)strcspn(msg, "\n"), msg);
    else snprintf(problem, cap, "%s exited with status %d", args[1], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}

static int check_cell(int (*run_command)(int, char **), int argc, char **args, int with_out, char *problem, size_t cap,
                      Err *e)
{
    return dry_run(run_command, argc, args, with_out, problem, cap, NULL, 0, e);
}

/* The settings that differ between a result's "settings" and the dry run's
 * ("steps 30 -> 2500, batch 8 -> 32"), the first few. */
static void settings_diff(const cJSON *had, const cJSON *now, char *buf, size_t cap)
{
    size_t k = 0;
    int n = 0;
    buf[0] = '\0';
    for (const cJSON *x = now ? now->child : NULL; x && k < cap; x = x->next) {
        const cJSON *old = cJSON_GetObjectItemCaseSensitive(had, x->string);
        char *a = old ? cJSON_PrintUnformatted(old) : NULL, *b = cJSON_PrintUnformatted(x);
        if (!a || !b || strcmp(a, b)) {
            if (n++ < 4)
                k += (size_t)snprintf(buf + k, cap - k, "%s%s %s -> %s", k ? ", " : "", x->string, a ? a : "(none)",
                                      b ? b : "?");
        }
        cJSON_free(a);
        cJSON_free(b);
    }
    if (n > 4 && k < cap) snprintf(buf + k, cap - k, " and %d more", n - 4);
}

int experiment_stale(const ExpRun *r, const ExpPlan *p, int i, char *why, size_t cap, Err *e)
{
    return experiment_result_stale(r, p->argc[i], p->argv[i], p->cells[i].out, why, cap, e);
}

int experiment_result_stale(const ExpRun *r, int argc, char **argv, const char *out, char *why, size_t cap, Err *e)
{
    Err rd = {{0}};
    cJSON *res = json_read_file(out, &rd);
    if (!res) {
        snprintf(why, cap, "it cannot be read (%s)", rd.msg);
        return 1;
    }
    size_t said_cap = 1 << 16;
    char *said = malloc(said_cap), problem[512];
    if (!said) {
        cJSON_Delete(res);
        return err_set(e, "%s: out of memory", r->cmd);
    }
    int rc = dry_run(r->run_command, argc, argv, 1, problem, sizeof problem, said, said_cap, e);
    const char *line = rc ? NULL : strstr(said, "# settings digest ");
    const cJSON *had = cJSON_GetObjectItemCaseSensitive(res, "settings_digest");
    if (rc) {
        rc = -1;
    } else if (!line) { /* the cell's own check fails: the run will say why; a result cannot stand for it */
        snprintf(why, cap, "its command line no longer passes its check (%s)", *problem ? problem : "no digest");
        rc = 1;
    } else {
        char now[17] = "";
        sscanf(line + strlen("# settings digest "), "%16[0-9a-f]", now);
        rc = !cJSON_IsString(had) || strcmp(had->valuestring, now);
        if (rc && !cJSON_IsString(had)) snprintf(why, cap, "it records no settings digest (an older seqbench made it)");
        else if (rc) {
            const char *json = strchr(line, '{');
            cJSON *want = json ? cJSON_ParseWithOpts(json, NULL, 0) : NULL;
            char diff[400];
            settings_diff(cJSON_GetObjectItemCaseSensitive(res, "settings"),
                          cJSON_GetObjectItemCaseSensitive(want, "settings"), diff, sizeof diff);
            snprintf(why, cap, "it was made under other settings (%s)", *diff ? diff : "its command differs");
            cJSON_Delete(want);
        }
    }
    free(said);
    cJSON_Delete(res);
    return rc;
}

int experiment_retire_stale(const ExpRun *r, ExpPlan *p, Err *e)
{
    for (int i = 0; i < p->n; i++) {
        ExpCell *c = &p->cells[i];
        if (!c->selected || !c->done) continue;
        char why[600];
        int rc = experiment_stale(r, p, i, why, sizeof why, e);
        if (rc < 0) return -1;
        if (!rc) continue;
        if (r->dry) {
            fprintf(stderr, "%s/%s seed %s: would run again: %s\n", p->name, c->cell, c->seed_s, why);
            c->done = 0; /* the plan a dry run shows is the run's: this cell is to run, its file stays */
            c->status = -1;
            continue;
        }
        char aside[1600];
        struct stat st;
        for (int k = 1;; k++) { /* never over an earlier one */
            if (k == 1) snprintf(aside, sizeof aside, "%s.stale", c->out);
            else snprintf(aside, sizeof aside, "%s.stale%d", c->out, k);
            if (stat(aside, &st) != 0) break;
        }
        if (rename(c->out, aside)) return err_set(e, "%s: cannot move %s aside: %s", r->cmd, c->out, strerror(errno));
        fprintf(stderr, "%s/%s seed %s: %s; moved to %s, running it again\n", p->name, c->cell, c->seed_s, why, aside);
        c->done = 0;
        c->status = -1;
    }
    return 0;
}

/* "ok in 83 s: token_acc 0.998 at 128, 0.512 at 256": the line that ends a
 * cell, from the result it wrote; a text model's is its bits_per_byte. */
static void cell_outcome(const char *path, char *buf, size_t cap)
{
    Err e;
    cJSON *res = json_read_file(path, &e);
    if (!res) {
        snprintf(buf, cap, "no result (%s)", e.msg);
        return;
    }
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(res, "status");
    const cJSON *wall = cJSON_GetObjectItemCaseSensitive(res, "wall_time_s");
    size_t k = (size_t)snprintf(buf, cap, "%s in %.0f s", cJSON_IsString(status) ? status->valuestring : "done",
                                cJSON_IsNumber(wall) ? wall->valuedouble : 0.0);
    const cJSON *evals = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "metrics"), "eval");
    /* a needle grid has one entry per depth: a length's depths become one min-max */
    int first = 1;
    const char *field = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(evals, 0), "bits_per_byte") ? "bits_per_byte"
                                                                                                       : "token_acc";
    for (const cJSON *x = cJSON_IsArray(evals) ? evals->child : NULL; x && k < cap; first = 0) {
        const cJSON *len = cJSON_GetObjectItemCaseSensitive(x, "length");
        int n = cJSON_IsNumber(len) ? len->valueint : 0, count = 0;
        double lo = HUGE_VAL, hi = -1;
        const char *other = NULL;
        for (; x && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(x, "length")) &&
               cJSON_GetObjectItemCaseSensitive(x, "length")->valueint == n;
             x = x->next, count++) {
            const cJSON *acc = cJSON_GetObjectItemCaseSensitive(x, field);
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(x, "status");
            if (cJSON_IsNumber(acc)) {
                lo = acc->valuedouble < lo ? acc->valuedouble : lo;
                hi = acc->valuedouble > hi ? acc->valuedouble : hi;
            } else if (!other) {
                other = cJSON_IsString(st) ? st->valuestring : "-";
            }
        }
        if (!count) x = x->next; /* an entry without a length: skip it */
        char v[64];
        if (hi < 0) snprintf(v, sizeof v, "%s", other ? other : "-");
        else if (count == 1 || lo == hi) snprintf(v, sizeof v, "%.4f", lo);
        else snprintf(v, sizeof v, "%.4f-%.4f over %d depths", lo, hi, count);
        if (first) k += (size_t)snprintf(buf + k, cap - k, ": %s %s at %d", field, v, n);
        else k += (size_t)snprintf(buf + k, cap - k, ", %s at %d", v, n);
    }
    cJSON_Delete(res);
}

/* "45 s", "12 min", "1 h 05 min" */
static const char *duration(double s, char *buf, size_t cap)
{
    if (s < 90) snprintf(buf, cap, "%.0f s", s);
    else if (s < 5400) snprintf(buf, cap, "%.0f min", s / 60);
    else snprintf(buf, cap, "%d h %02d min", (int)(s / 3600), (int)(s - 3600 * (int)(s / 3600)) / 60);
    return buf;
}

/* Checks every selected cell still to run the way its run would (check_cell): problem[i] gets cell i's
 * failure, "" if none. A real run refuses the spec if any cell fails, before anything has run: -1 + Err
 * naming the first; a dry run lists them all later. */
static int check_cells(const ExpRun *r, const ExpPlan *p, char (*problem)[512], int *n_sel, int *to_run, Err *e)
{
    int invalid = 0, first_bad = -1;
    struct stat st;
    *n_sel = *to_run = 0;
    for (int i = 0; i < p->n; i++) {
        const ExpCell *c = &p->cells[i];
        *n_sel += c->selected;
        if (c->done || !c->selected) continue;
        ++*to_run;
        if (check_cell(r->run_command, p->argc[i], p->argv[i], stat(p->dir, &st) == 0, problem[i], sizeof problem[i],
                       e))
            return -1;
        if (problem[i][0] && !invalid++) first_bad = i;
    }
    if (!r->dry && invalid) /* nothing has run: one line, the first problem; --dry-run lists them all */
        return err_set(e, "%s: cell %s seed %s: %s (%d of %d cells fail this check; nothing was run; --dry-run lists "
                          "them)", r->spec_path, p->cells[first_bad].cell, p->cells[first_bad].seed_s,
                       problem[first_bad], invalid, p->n);
    return 0;
}

/* The estimate: the spec's seconds per cell (a cell without them counts as the mean of those with them),
 * divided by the cells run at once, in one line before the cells run. Returns the seconds of the cells to
 * run, *mean the mean estimate (-1: no cell has one). */
static double announce(const ExpRun *r, const ExpPlan *p, int n_sel, int to_run, int at_once, double par, double *mean)
{
    const ExpCell *out = p->cells;
    double known = 0, est_left = 0;
    int n_known = 0, n_unknown = 0;
    for (int i = 0; i < p->n; i++)
        if (out[i].selected && !out[i].done && out[i].est >= 0) known += out[i].est, n_known++;
        else if (out[i].selected && !out[i].done) n_unknown++;
    *mean = n_known ? known / n_known : -1;
    for (int i = 0; i < p->n; i++)
        if (out[i].selected && !out[i].done) est_left += out[i].est >= 0 ? out[i].est : *mean;
    char dur[64], note[200] = "";
    if (n_unknown && n_known)
        snprintf(note, sizeof note, "; %d without an estimate counted as the mean of the others, %.0f s", n_unknown,
                 *mean);
    if (!n_known)
        fprintf(stderr, "%s: %d cells to run, %d with results; no estimate (no cell has \"seconds\" for profile %s)\n",
                p->name, to_run, n_sel - to_run, r->profile ? r->profile : "(none)");
    else
        fprintf(stderr, "%s: %d cells to run, %d with results; estimated %s at %d at once%s\n", p->name, to_run,
                n_sel - to_run, duration(est_left / par, dur, sizeof dur), at_once, note);
    return est_left;
}

/* The plan's cells: checked, then each selected one not done yet run in a child, at_once at a time, with a line
 * as each starts and ends (a dry run: each one's command and whether its check failed). problem, pids and started
 * hold one entry per cell. Returns what experiment_run returns. */
static int run_cells(const ExpRun *r, ExpPlan *p, int at_once, double par, char (*problem)[512], pid_t *pids,
                     double *started, Err *e)
{
    const char *name = p->name;
    ExpCell *out = p->cells;
    int total = p->n, n_sel, to_run;
    if (check_cells(r, p, problem, &n_sel, &to_run, e)) return -1;
    if (!r->dry && to_run && mkdir_p(p->dir, e)) return -1;

    /* once cells finish, the estimate is scaled by how long they took against theirs */
    double mean, est_left = announce(r, p, n_sel, to_run, at_once, par, &mean);
    int running = 0, finished = 0, failed = 0, skipped = 0;
    double est_done = 0, took_done = 0, took_all = 0;
    char dur[64];
    for (int i = 0; i < total || running;) {
        if (i < total && running < at_once) {
            ExpCell *c = &out[i];
            int at = i++;
            if (!c->selected) continue;
            if (c->done) {
                skipped++;
                fprintf(stderr, "[%d/%d] %s/%s seed %s: done already\n", at + 1, total, name, c->cell, c->seed_s);
                continue;
            }
            fprintf(stderr, "[%d/%d] %s/%s seed %s:", at + 1, total, name, c->cell, c->seed_s);
            for (int a = 1; a < p->argc[at]; a++) fprintf(stderr, " %s", p->argv[at][a]);
            fputc('\n', stderr);
            if (r->dry) {
                if (problem[at][0]) {
                    failed++;
                    fprintf(stderr, "[%d/%d] %s/%s seed %s would fail: %s\n", at + 1, total, name, c->cell, c->seed_s,
                            problem[at]);
                }
                continue;
            }
            fflush(NULL);
            started[at] = now_seconds();
            pid_t pid = fork();
            /* the cells already started run on, as they would after an interrupt */
            if (pid < 0) return err_set(e, "%s: fork failed", r->cmd);
            if (pid == 0) _exit(r->run_command(p->argc[at], p->argv[at]));
            pids[at] = pid;
            running++;
            continue;
        }
        int status, k = -1;
        pid_t pid = wait(&status);
        if (pid < 0) break; /* no child left: cannot happen while running > 0 */
        for (int q = 0; q < total; q++)
            if (pids[q] == pid) k = q;
        if (k < 0) continue;
        running--;
        finished++;
        ExpCell *c = &out[k];
        double took = now_seconds() - started[k], est = c->est >= 0 ? c->est : mean;
        c->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        char outcome[640];
        if (c->status) {
            failed++;
            snprintf(outcome, sizeof outcome, "failed (status %d)", c->status);
        } else if (!strcmp(p->command, "train")) {
            cell_outcome(c->out, outcome, sizeof outcome);
        } else {
            snprintf(outcome, sizeof outcome, "ok in %.0f s", took);
        }
        /* the rest's estimate scaled by actual/estimated so far; with no estimates, the mean time a cell took */
        est_left -= est >= 0 ? est : 0;
        took_all += took;
        if (est > 0) est_done += est, took_done += took;
        /* observed times already include any sharing of cores: divide by the cells at once */
        double eta = est_done > 0 ? est_left * (took_done / est_done) / at_once
                                  : (to_run - finished) * (took_all / finished) / at_once;
        fprintf(stderr, "[%d/%d] %s/%s seed %s: %s; %d of %d done, ETA %s\n", k + 1, total, name, c->cell, c->seed_s,
                outcome, finished, to_run, finished == to_run ? "0 s" : duration(eta, dur, sizeof dur));
    }
    fprintf(stderr, "%s: %d cells, %d already done, %d failed%s\n", name, n_sel, skipped, failed,
            r->dry ? " (dry run: options checked, nothing run)" : "");
    if (r->dry) return failed ? 2 : 0; /* the status the real run would end with before running */
    return failed ? 1 : 0;
}

int experiment_run(const ExpRun *r, ExpCell **cells_out, int *n_out, char *dir, size_t dir_cap, Err *e)
{
    /* a timing experiment's cells run alone with every core: beside another cell they would time the contention */
    int exclusive = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->spec, "exclusive"));
    int at_once = r->jobs > 1 && !exclusive ? r->jobs : 1;
    int per_cell = r->threads;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (!per_cell && at_once > 1) /* the cores divided between the cells that run at once */
        per_cell = cores > at_once ? (int)(cores / at_once) : 1;
    /* more cells than cores share them: the wall time divides by the cores, not the cells */
    double par = cores > 0 && cores < at_once ? (double)cores : at_once;
    char threads_s[16];
    snprintf(threads_s, sizeof threads_s, "%d", per_cell);
    ExpPlan p;
    if (experiment_plan(r, threads_s, &p, e)) return -1;
    if (experiment_retire_stale(r, &p, e)) {
        experiment_plan_free(&p);
        return -1;
    }
    snprintf(dir, dir_cap, "%s", p.dir);
    if (exclusive && r->jobs > 1)
        fprintf(stderr, "%s: exclusive (a timing experiment): one cell at a time, not %d\n", p.name, r->jobs);

    char (*problem)[512] = calloc((size_t)p.n, sizeof *problem);
    pid_t *pids = calloc((size_t)p.n, sizeof *pids);
    double *started = calloc((size_t)p.n, sizeof *started);
    int rc = !problem || !pids || !started ? err_set(e, "%s: out of memory for %d cells", r->cmd, p.n)
                                           : run_cells(r, &p, at_once, par, problem, pids, started, e);
    free(problem);
    free(pids);
    free(started);
    if (rc >= 0) { /* the cells are handed to the caller */
        *cells_out = p.cells;
        *n_out = p.n;
        p.cells = NULL;
    }
    experiment_plan_free(&p);
    return rc;
}
