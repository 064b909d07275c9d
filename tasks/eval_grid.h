/* The evaluation sweep train and eval share: held-out accuracy at each
 * length, for needle at each depth too (the Jamba Fig. 4 matrix), with an
 * optional cap on the tokens one length may cost so that the longest
 * lengths (2^20) test fewer sequences instead of running for an hour. */
#ifndef SEQ_EVAL_GRID_H
#define SEQ_EVAL_GRID_H

#include <cjson/cJSON.h>
#include "core/err.h"
#include "tasks/eval.h"

enum { EVAL_GRID_MAX_LENGTHS = 64, EVAL_GRID_MAX_DEPTHS = 101 };

typedef struct {
    int lengths[EVAL_GRID_MAX_LENGTHS], n_lengths;
    double depths[EVAL_GRID_MAX_DEPTHS];
    int n_depths;               /* 0: the task's own depth setting, no grid */
    double max_tokens;          /* per length and depth; 0 = no cap */
} EvalGrid;

/* "11": 11 depths evenly from 0 to 1; "0,0.25,1": those. Returns the count or -1. */
int eval_grid_parse_depths(const char *s, double *out, Err *e);

/* Sequences a length of n tokens tests under the cap: at most `sequences`, at least 1. */
int eval_grid_sequences(const EvalGrid *g, int sequences, int n);

/* Runs the sweep, printing a line per cell; adds "eval" (and for a depth
 * grid "needle_grid") to metrics. */
int eval_grid_run(Model *m, const Task *task, const TaskCfg *tc, const EvalGrid *g, const EvalOpts *o,
                  cJSON *metrics, Err *e);

#endif
