/* seqbench experiment: runs one experiment spec, experiments/NAME.json (DESIGN §9).
 *
 * A spec names a command (train), base options, per-profile options
 * ("quick" fits a laptop, "paper" follows the paper where a CPU can), a
 * list of cells (option overrides with a name) and seeds. Each (cell, seed)
 * is one result file <results>/<experiment>/<cell>.seed<k>.json, written
 * atomically by the command itself, so an interrupted run resumes where it
 * stopped: finished cells are skipped. Each cell runs in a child process so
 * one failing cell (a diverged run) does not end the rest.
 *
 * Before the first cell trains, every cell still to run is checked the way
 * its run would check it (`train --dry-run` on the same arguments), so a
 * misspelt key fails the whole spec at once, not each cell after the ones
 * before it have trained for an hour; --dry-run reports exactly those
 * failures. `compare` (cmd_compare.c) runs its specs through the same
 * runner, experiment_run, and summarises the cells it leaves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/experiment.h"
#include "cli/options.h"
#include "cli/results.h"
#include "core/atomic.h"
#include "core/jsonio.h"

#define MAX_ARGS 256

typedef struct {
    char *args[MAX_ARGS];
    int ac;
    char problem[512]; /* why `train --dry-run` refused it; empty if it did not */
} Job;

/* Appends "--key value" for every entry of obj to argv. */
static int push_options(const cJSON *obj, char **argv, int argc, const char *spec, Err *e)
{
    for (const cJSON *it = obj ? obj->child : NULL; it; it = it->next) {
        if (!strcmp(it->string, "name")) continue;
        if (argc + 2 >= MAX_ARGS - 8) return err_set(e, "%s: too many options", spec);
        char value[1024];
        if (cJSON_IsString(it)) snprintf(value, sizeof value, "%s", it->valuestring);
        else if (cJSON_IsBool(it)) snprintf(value, sizeof value, "%s", cJSON_IsTrue(it) ? "true" : "false");
        else if (cJSON_IsNumber(it)) snprintf(value, sizeof value, "%.17g", it->valuedouble);
        else if (cJSON_IsArray(it)) {
            size_t k = 0;
            value[0] = '\0';
            for (const cJSON *x = it->child; x && k < sizeof value; x = x->next) {
                if (!cJSON_IsNumber(x)) return err_set(e, "%s: list \"%s\" must hold numbers", spec, it->string);
                k += (size_t)snprintf(value + k, sizeof value - k, "%s%.17g", k ? "," : "", x->valuedouble);
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

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* "quick, paper": the profiles a spec defines, for the message naming a wrong one. */
static void profile_names(const cJSON *profiles, char *buf, size_t cap)
{
    size_t k = 0;
    buf[0] = '\0';
    for (const cJSON *p = cJSON_IsObject(profiles) ? profiles->child : NULL; p && k < cap; p = p->next)
        k += (size_t)snprintf(buf + k, cap - k, "%s%s", k ? ", " : "", p->string);
    if (!k) snprintf(buf, cap, "none: the spec has no \"profiles\" object");
}

/* Runs `seqbench train ARGS --dry-run` in a child, as the real run would
 * start it, and keeps its error line (without "seqbench: ") in job->problem. */
static void check_job(Job *job, int with_out)
{
    char *argv[MAX_ARGS + 4];
    int ac = 0;
    for (int i = 0; i < job->ac; i++) {
        /* the result directory is made only by a real run: without it, the dry run leaves --out to that check */
        if (!with_out && !strcmp(job->args[i], "--out")) { i++; continue; }
        argv[ac++] = job->args[i];
    }
    argv[ac++] = "--dry-run";
    argv[ac] = NULL;
    int fd[2];
    if (pipe(fd)) die("experiment: pipe failed");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) die("experiment: fork failed");
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], 2);
        if (!freopen("/dev/null", "w", stdout)) _exit(1);
        _exit(cmd_train(ac, argv));
    }
    close(fd[1]);
    char text[4096];
    size_t n = 0;
    ssize_t r;
    while ((r = read(fd[0], text + n, sizeof text - 1 - n)) > 0) n += (size_t)r;
    close(fd[0]);
    text[n] = '\0';
    int status;
    waitpid(pid, &status, 0);
    job->problem[0] = '\0';
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    /* the child's last "seqbench: " line is what stopped it (earlier ones are warnings) */
    const char *msg = NULL;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, "seqbench: ", 10)) msg = p + 10;
    if (msg) snprintf(job->problem, sizeof job->problem, "%.*s", (int)strcspn(msg, "\n"), msg);
    else snprintf(job->problem, sizeof job->problem, "train exited with status %d",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* "ok in 83 s: token_acc 0.998 at 128, 0.512 at 256": the line that ends a
 * cell, from the result it wrote. */
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
    for (const cJSON *x = cJSON_IsArray(evals) ? evals->child : NULL; x && k < cap; first = 0) {
        const cJSON *len = cJSON_GetObjectItemCaseSensitive(x, "length");
        int n = cJSON_IsNumber(len) ? len->valueint : 0, count = 0;
        double lo = 2, hi = -1;
        const char *other = NULL;
        for (; x && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(x, "length")) &&
               cJSON_GetObjectItemCaseSensitive(x, "length")->valueint == n;
             x = x->next, count++) {
            const cJSON *acc = cJSON_GetObjectItemCaseSensitive(x, "token_acc");
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
        k += (size_t)snprintf(buf + k, cap - k, "%s%s at %d", first ? ": token_acc " : ", ", v, n);
    }
    cJSON_Delete(res);
}

int experiment_run(const ExpRun *r, ExpCell **cells_out, int *n_out, char *dir, size_t dir_cap)
{
    const char *spec_path = r->spec_path;
    const cJSON *spec = r->spec;
    Err e = {{0}};
    char name[128] = "", command[32] = "";
    if (json_get_string(spec, "name", 1, name, sizeof name, spec_path, &e) ||
        json_get_string(spec, "command", 1, command, sizeof command, spec_path, &e))
        die_err(&e);
    if (strcmp(command, "train")) die("%s: command \"%s\" is not supported (train)", spec_path, command);
    for (const char *c = name; *c; c++)
        if (!(*c == '_' || *c == '-' || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
            die("%s: name \"%s\" may only use a-z 0-9 _ -", spec_path, name);
    const cJSON *profiles = cJSON_GetObjectItemCaseSensitive(spec, "profiles");
    const cJSON *prof = r->profile ? cJSON_GetObjectItemCaseSensitive(profiles, r->profile) : NULL;
    if (r->profile && !cJSON_IsObject(prof)) {
        char known[256];
        profile_names(profiles, known, sizeof known);
        die("%s: no profile \"%s\" (known: %s)", spec_path, r->profile, known);
    }
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(spec, "cells");
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(spec, "seeds");
    if (!cJSON_IsArray(cells) || !cJSON_GetArraySize(cells)) die("%s: \"cells\" must be a non-empty array", spec_path);
    if (!cJSON_IsArray(seeds) || !cJSON_GetArraySize(seeds)) die("%s: \"seeds\" must be a non-empty array", spec_path);
    snprintf(dir, dir_cap, "%s/%s", r->results, name);
    if (results_check_dir("--results", dir, NULL, &e)) die_err(&e);

    /* every (cell, seed) and its command line, before anything runs */
    int total = cJSON_GetArraySize(cells) * cJSON_GetArraySize(seeds), k = 0;
    Job *jobs = calloc((size_t)total, sizeof *jobs);
    ExpCell *out = calloc((size_t)total, sizeof *out);
    if (!jobs || !out) die("%s: out of memory for %d cells", r->cmd, total);
    char threads_s[16];
    int per_cell = r->threads;
    if (!per_cell && r->jobs > 1) { /* the cores divided between the cells that run at once */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        per_cell = cores > r->jobs ? (int)(cores / r->jobs) : 1;
    }
    snprintf(threads_s, sizeof threads_s, "%d", per_cell);
    for (const cJSON *cell = cells->child; cell; cell = cell->next) {
        char cell_name[128] = "";
        if (json_get_string(cell, "name", 1, cell_name, sizeof cell_name, spec_path, &e)) die_err(&e);
        for (int i = 0; i < k; i++)
            if (!strcmp(out[i].cell, cell_name)) die("%s: two cells are named \"%s\"", spec_path, cell_name);
        for (const cJSON *seed = seeds->child; seed; seed = seed->next) {
            long long s;
            if (json_whole_number(seed, &s) || s < 0) die("%s: seeds must be non-negative integers", spec_path);
            Job *j = &jobs[k];
            ExpCell *c = &out[k++];
            snprintf(c->cell, sizeof c->cell, "%s", cell_name);
            snprintf(c->seed_s, sizeof c->seed_s, "%lld", s);
            snprintf(c->out, sizeof c->out, "%s/%s.seed%lld.json", dir, cell_name, s);
            c->done = file_exists(c->out);
            c->status = c->done ? 0 : -1;
            j->args[0] = "seqbench";
            j->args[1] = "train";
            int ac = 2;
            if (r->preset && *r->preset) { /* first, so every option the spec gives wins over it */
                j->args[ac++] = strdup("--preset");
                j->args[ac++] = strdup(r->preset);
            }
            if ((ac = push_options(cJSON_GetObjectItemCaseSensitive(spec, "base"), j->args, ac, spec_path, &e)) < 0 ||
                (ac = push_options(prof, j->args, ac, spec_path, &e)) < 0 ||
                (ac = push_options(cell, j->args, ac, spec_path, &e)) < 0)
                die_err(&e);
            const char *tail[] = {"--seed", c->seed_s, "--threads", threads_s, "--out", c->out};
            for (int i = 0; i < 6; i++) j->args[ac++] = (char *)tail[i];
            j->args[ac] = NULL;
            j->ac = ac;
        }
    }
    int invalid = 0, first_bad = -1;
    for (int i = 0; i < total; i++) {
        if (out[i].done) continue;
        check_job(&jobs[i], file_exists(dir));
        if (jobs[i].problem[0] && !invalid++) first_bad = i;
    }

    int failed = 0, skipped = 0;
    if (!r->dry && invalid) /* nothing has run: one line, the first problem; --dry-run lists them all */
        die("%s: cell %s seed %s: %s (%d of %d cells fail this check; nothing was run; --dry-run lists them)",
            spec_path, out[first_bad].cell, out[first_bad].seed_s, jobs[first_bad].problem, invalid, total);
    if (!r->dry && mkdir_p(dir, &e)) die_err(&e);
    int at_once = r->jobs > 1 ? r->jobs : 1, running = 0;
    pid_t *pids = calloc((size_t)total, sizeof *pids);
    if (!pids) die("%s: out of memory for %d cells", r->cmd, total);
    for (int i = 0; i < total || running;) {
        if (i < total && running < at_once) {
            Job *j = &jobs[i];
            ExpCell *c = &out[i];
            int at = i++;
            if (c->done) {
                skipped++;
                fprintf(stderr, "[%d/%d] %s/%s seed %s: done already\n", at + 1, total, name, c->cell, c->seed_s);
                continue;
            }
            fprintf(stderr, "[%d/%d] %s/%s seed %s:", at + 1, total, name, c->cell, c->seed_s);
            for (int a = 1; a < j->ac; a++) fprintf(stderr, " %s", j->args[a]);
            fputc('\n', stderr);
            if (r->dry) {
                if (j->problem[0]) {
                    failed++;
                    fprintf(stderr, "[%d/%d] %s/%s seed %s would fail: %s\n", at + 1, total, name, c->cell, c->seed_s,
                            j->problem);
                }
                continue;
            }
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) die("%s: fork failed", r->cmd);
            if (pid == 0) _exit(cmd_train(j->ac, j->args));
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
        ExpCell *c = &out[k];
        c->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        char outcome[512];
        if (c->status) {
            failed++;
            fprintf(stderr, "[%d/%d] %s/%s seed %s failed (status %d)\n", k + 1, total, name, c->cell, c->seed_s,
                    c->status);
        } else {
            cell_outcome(c->out, outcome, sizeof outcome);
            fprintf(stderr, "[%d/%d] %s/%s seed %s: %s\n", k + 1, total, name, c->cell, c->seed_s, outcome);
        }
    }
    free(pids);
    fprintf(stderr, "%s: %d cells, %d already done, %d failed%s\n", name, total, skipped, failed,
            r->dry ? " (dry run: options checked, nothing trained)" : "");
    for (int i = 0; i < total; i++)
        for (int a = 2; a < jobs[i].ac - 6; a++) free(jobs[i].args[a]);
    free(jobs);
    *cells_out = out;
    *n_out = total;
    if (r->dry) return failed ? 2 : 0; /* the status the real run would end with before training */
    return failed ? 1 : 0;
}

int cmd_experiment(int argc, char **argv)
{
    char spec_path[1024] = "", profile[32] = "quick", results[1024] = "results";
    int threads = 0, dry = 0, jobs = 1;
    Option opts[] = {
        OPT_S("spec", spec_path, "experiment spec (experiments/NAME.json)"),
        OPT_S("profile", profile, "a profile of the spec (copy_length: quick or paper)"),
        OPT_S("results", results, "results directory"),
        OPT_I("threads", &threads, 0, 1024, "threads per cell (0 = all cores, divided by --jobs)"),
        OPT_I("jobs", &jobs, 1, 256, "cells trained at once"),
        OPT_F("dry-run", &dry, "print each cell's command and check its options, without training"),
    };
    int n = (int)(sizeof opts / sizeof *opts);
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "experiment", "--spec experiments/NAME.json [--profile quick|paper]", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    if (!*spec_path) die("experiment: --spec FILE is required");
    cJSON *spec = json_read_file(spec_path, &e);
    if (!spec) die_err(&e);
    ExpRun r = {"experiment", spec_path, spec, profile, NULL, results, threads, dry, jobs};
    ExpCell *cells;
    int n_cells;
    char dir[1200];
    rc = experiment_run(&r, &cells, &n_cells, dir, sizeof dir);
    free(cells);
    cJSON_Delete(spec);
    return rc;
}
