/* The runner behind `experiment` and `compare`: every (cell, seed) of a spec
 * as a child `seqbench train`, each checked first with `train --dry-run`,
 * finished cells (their result file exists) skipped; up to `jobs` children
 * at once, the cores divided between them unless threads is given. */
#ifndef SEQ_EXPERIMENT_H
#define SEQ_EXPERIMENT_H

#include <stddef.h>

#include <cjson/cJSON.h>

typedef struct {
    const char *cmd;       /* "experiment" or "compare", for messages */
    const char *spec_path; /* for messages */
    const cJSON *spec;
    const char *profile;   /* NULL: the base and cells alone */
    const char *preset;    /* NULL or "": none; else given to every cell under the spec's options */
    const char *results;   /* the results directory; the cells go to <results>/<name>/ */
    int threads, dry;
    int jobs;              /* cells run at once (0 or 1: one after another) */
} ExpRun;

typedef struct {
    char cell[128], seed_s[32], out[1500];
    int done;   /* its result existed before this run */
    int status; /* the child's exit status; 0 for a cell done already, -1 if not run */
} ExpCell;

/* Runs the spec; *cells (malloc'd, cell-major, then seeds) describes every
 * (cell, seed) and dir receives <results>/<name>. Returns 0, 1 if a cell
 * failed, 2 if a dry run found a cell that would fail; dies on a bad spec. */
int experiment_run(const ExpRun *r, ExpCell **cells, int *n_cells, char *dir, size_t dir_cap);

#endif
