/* Synthetic capability probes (DESIGN §7). A task generates batches of
 * (tokens, targets, score mask) from a seed and an instance length n, so a
 * model trained at one length can be tested at others, and scores a model's
 * predictions. Tasks use models only through models/model.h. */
#ifndef SEQ_TASK_H
#define SEQ_TASK_H

#include "core/err.h"
#include "core/rng.h"

typedef struct {
    int B, T;
    int *tokens;            /* [B, T] model input */
    int *targets;           /* [B, T] next token */
    unsigned char *mask;    /* [B, T] 1 where the prediction is scored */
} Batch;

typedef struct {
    int alphabet;           /* copy: symbols strings are drawn from */
    int min_len, max_len;   /* training lengths n are drawn from [min_len, max_len] */
} TaskCfg;

typedef struct Task {
    const char *name;
    const char *summary;
    int (*vocab_size)(const TaskCfg *c);
    int (*seq_len)(const TaskCfg *c, int n);       /* T needed for instances of length n */
    int (*validate)(const TaskCfg *c, Err *e);
    /* Fills b (B sequences, b->T >= seq_len(n_hi)) with lengths drawn from [n_lo, n_hi]. */
    void (*make_batch)(const TaskCfg *c, Rng *r, int n_lo, int n_hi, Batch *b);
} Task;

const Task *task_find(const char *name);
const char *task_list(void);

int batch_alloc(Batch *b, int B, int T, Err *e);
void batch_free(Batch *b);

#endif
