/* reproduce/: experiment specs -> cells -> result files -> REPORT.md; includes core/ only.
 *
 * The runner behind `experiment` and `compare`: every (cell, seed) of a spec
 * as a child `seqbench train|bench|params`, each checked first with the same
 * command's --dry-run, finished cells (their result file exists) skipped; up
 * to `jobs` children at once, the cores divided between them unless threads
 * is given. plan.c turns a spec into command lines, run.c runs them;
 * compare.c (compare.h) summarises a comparison's cells over the seeds. */
#ifndef SEQ_EXPERIMENT_H
#define SEQ_EXPERIMENT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/err.h"

#define EXP_MAX_ARGS 256
#define EXP_MAX_SEEDS 32

typedef struct {
    const char *cmd;       /* "experiment" or "compare", for messages */
    const char *spec_path; /* for messages */
    const cJSON *spec;
    const char *profile;   /* NULL: the base and cells alone */
    const char *preset;    /* NULL or "": none; else given to every cell under the spec's options */
    const char *results;   /* the results directory; the cells go to <results>/<name>/ */
    int threads, dry;
    int jobs;              /* cells run at once (0 or 1: one after another) */
    const char *cell;      /* NULL: every cell; else only this one */
    const char *seed;      /* NULL: every seed; else only this one */
    const char *seeds;     /* NULL: the profile's or the spec's seeds; else "4,5,6", every training cell's seeds */
    /* Runs a cell's command line (argv[0] "seqbench", argv[1] train, bench or params) in this process and returns
     * its exit status; called in the forked children only. The commands are the cli's, a folder above this one,
     * so the cli passes them in. */
    int (*run_command)(int argc, char **argv);
    int move_stale;        /* --list-cells: retire stale results first (experiment_retire_stale) */
} ExpRun;

typedef struct {
    char cell[192];  /* its label: the cell's name, or "name.option_value" for one value of a sweep */
    char name[128];  /* the spec's cell name */
    char seed_s[32], out[1500];
    int done;     /* its result existed before this run */
    int status;   /* the child's exit status; 0 for a cell done already, -1 if not run */
    int selected; /* --cell / --seed chose it (every cell when neither is given) */
    double est;   /* seconds the spec estimates for it at this profile; -1: no estimate */
} ExpCell;

/* A spec resolved at one profile: every (cell, seed), cell-major, with the
 * command line that produces its result. */
typedef struct {
    char name[128], command[16];
    int exclusive; /* timing experiment: its cells run alone, with every core */
    int n;
    ExpCell *cells;
    char ***argv;    /* argv[i]: cell i's command line, NULL-terminated, argv[i][0] = "seqbench" */
    int *argc;
    char dir[1200];  /* <results>/<name> */
} ExpPlan;

/* A name from a spec that becomes part of a path (the experiment's, a cell's): a-z 0-9 _ - only, so it can
 * hold no '/', no ".." and no leading '.'; -1 + Err naming it otherwise. */
int exp_check_name(const char *name, const char *what, const char *spec, Err *e);

/* "4,5,6" (--seeds, SEEDS=) into seeds: the count, or -1 + Err, one line. */
int exp_parse_seeds(const char *text, long *seeds, int cap, Err *e);

/* Resolves the spec (-1 + Err, one line, on a bad spec, profile, cell or
 * seed, with nothing left to free); threads_s is what each child gets as
 * --threads ("" for none). */
int experiment_plan(const ExpRun *r, const char *threads_s, ExpPlan *p, Err *e);
void experiment_plan_free(ExpPlan *p);

/* --list-cells: one line per selected (cell, seed) on stdout, tab-separated:
 * experiment, cell, seed, result path, estimated seconds or "-", exclusive
 * (1/0). Runs no cell; with r->move_stale it first retires stale results
 * (their cells run with r->threads, an exclusive spec's with 0, as make
 * reproduce runs them), so a driver that skips cells whose file exists
 * reruns those; -1 + Err on a bad spec, profile, cell or seed. */
int experiment_list_cells(const ExpRun *r, Err *e);

/* Results made under other settings (run.c). A finished cell's result
 * records its "settings_digest"; the cell's command line now, dry-run,
 * says the digest its result would have. 1 when they differ (or the result
 * has none), with the settings that differ in why ("steps 30 -> 2500"),
 * 0 when they agree, -1 + Err when the check cannot run. */
int experiment_stale(const ExpRun *r, const ExpPlan *p, int i, char *why, size_t cap, Err *e);
/* The same for the result file `out` of the command line argv. */
int experiment_result_stale(const ExpRun *r, int argc, char **argv, const char *out, char *why, size_t cap, Err *e);
/* Each selected finished cell whose result is stale is moved aside, never
 * deleted (FILE.stale, FILE.stale2, ...), with a line on stderr naming the
 * differing settings, and marked not done, so it runs again. A dry run
 * only says which it would move. */
int experiment_retire_stale(const ExpRun *r, ExpPlan *p, Err *e);

/* Runs the spec (run.c); *cells (malloc'd, cell-major, then seeds) describes
 * every (cell, seed) and dir receives <results>/<name>. Stale results are
 * retired first (experiment_retire_stale). Returns 0, 1 if a cell
 * failed, 2 if a dry run found a cell that would fail; -1 + Err, one line and
 * nothing to free, on a bad spec, a cell that fails its check (a real run:
 * then nothing has run) or a child that cannot be started. */
int experiment_run(const ExpRun *r, ExpCell **cells, int *n_cells, char *dir, size_t dir_cap, Err *e);

#endif
