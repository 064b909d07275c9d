/* Held-out evaluation: accuracy of a model on fresh task instances of a
 * given length, drawn from the test stream (disjoint from training data). */
#ifndef SEQ_EVAL_H
#define SEQ_EVAL_H

#include <stdint.h>

#include "models/model.h"
#include "task.h"

typedef struct {
    int length;             /* instance length n */
    int sequences;
    double string_acc;      /* all scored predictions right */
    double token_acc;       /* scored predictions right (teacher forced) */
    double loss;
} EvalResult;

int eval_length(Model *m, const Task *task, const TaskCfg *tc, int n, int sequences, int batch, uint64_t seed,
                EvalResult *r, Err *e);

#endif
