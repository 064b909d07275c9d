/* Task instances as JSON, exactly those train, its learning curve or eval
 * draw for a seed (`seqbench sample`): each instance's tokens, the scored
 * positions and the answers there, with the task's settings after defaults,
 * so another program can score a model on the same instances. */
#ifndef SEQ_SAMPLE_H
#define SEQ_SAMPLE_H

#include <stdint.h>

#include "core/err.h"
#include "tasks/task.h"
#include "tasks/train.h"

typedef struct {
    int split;              /* STREAM_TRAIN, STREAM_VAL or STREAM_TEST (tasks/train.h) */
    const char *split_name; /* as the JSON names it: "train", "val", "test" */
    uint64_t seed;
    int length;             /* the task's n; for the training split cfg's min and max length are n */
    int seqs, batch;        /* instances, and how many are made at a time (they do not depend on it) */
} SampleSettings;

/* Writes the JSON to out atomically, or to stdout when out is NULL. */
int sample_write(const Task *task, const TaskCfg *cfg, const SampleSettings *s, const char *out, Err *e);

#endif
