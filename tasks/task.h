/* Synthetic capability probes (DESIGN §7) and language modelling on a text
 * (lm). A task generates batches of (tokens, targets, score mask) from a seed
 * and an instance length n, so a model trained at one length can be tested
 * at others, and scores a model's predictions. Tasks use models only through
 * models/model.h. */
#ifndef SEQ_TASK_H
#define SEQ_TASK_H

#include "core/err.h"
#include "core/rng.h"

typedef struct {
    int B, T;
    int *tokens;            /* [B, T] model input */
    int *targets;           /* [B, T] the right answer where mask is 1 (copy: the next token everywhere) */
    unsigned char *mask;    /* [B, T] 1 where the prediction (the logits at that position) is scored */
} Batch;

/* One struct for every task's settings; each task reads only its own
 * fields. A zero integer means "the task's default" until task_defaults
 * fills it in, so one command line can name any task. */
typedef struct {
    int alphabet;           /* copy: symbols strings are drawn from */
    int min_len, max_len;   /* training lengths n are drawn from [min_len, max_len] */
    int vocab;              /* selective_copy, induction, mqar, needle: tokens, special ones included */
    int n_data;             /* selective_copy: data tokens to remember (and markers) */
    int n_pairs;            /* mqar: key-value pairs, every key queried once */
    double power_a;         /* mqar: query gaps drawn with p(g) ~ (g+1)^(power_a-1) (Zoology) */
    int zero_noise;         /* mqar: 1 puts token 0 between the queries, 0 random tokens (Zoology's default) */
    int key_len, value_len; /* needle: tokens of the key and of the value */
    double depth;           /* needle: where the needle sits, in [0, 1]; < 0 draws it per instance */
    int bpe;                /* lm: a byte-level BPE vocabulary of this many tokens (0: the 256 bytes) */
    const struct Corpus *corpus; /* lm: the text, loaded, split and tokenized (tasks/corpus.h); not a setting */
} TaskCfg;

/* Which split a batch is for. The generators draw every split from its own
 * random stream (train.c, eval.c), so they need not know it; a task over a
 * fixed text (lm) must, to read each split's own part of the text. */
typedef enum { SPLIT_TRAIN, SPLIT_VALIDATION, SPLIT_TEST } TaskSplit;

typedef struct Task {
    const char *name;
    const char *summary;
    int default_max_len;                           /* when max-len is 0 */
    int default_min_len;                           /* when min-len is 0; 0 here: min-len = max-len */
    int text;                                      /* a text (lm): measured in bits per byte, not string accuracy */
    void (*defaults)(TaskCfg *c);                  /* fills the task's own zero fields; may be NULL */
    int (*vocab_size)(const TaskCfg *c);
    int (*seq_len)(const TaskCfg *c, int n);       /* T needed for instances of length n */
    int (*validate)(const TaskCfg *c, Err *e);     /* settings, and min-len and max-len */
    int (*check_length)(const TaskCfg *c, int n, Err *e);  /* can an instance have length n? */
    /* Fills b (B sequences, b->T >= seq_len(n_hi)) with lengths drawn from [n_lo, n_hi], for split. */
    void (*make_batch)(const TaskCfg *c, TaskSplit split, Rng *r, int n_lo, int n_hi, Batch *b);
    /* A text: the bytes token t stands for, so bits per byte divide by bytes, not tokens; NULL elsewhere. */
    int (*token_bytes)(const TaskCfg *c, int t);
} Task;

const Task *task_find(const char *name);
/* Replaces c's zero (default) fields by the task's defaults. */
void task_defaults(const Task *t, TaskCfg *c);
/* min-len <= max-len and both valid instance lengths (for validate()). */
int task_check_range(const Task *t, const TaskCfg *c, Err *e);
const char *task_list(void);

int batch_alloc(Batch *b, int B, int T, Err *e);
void batch_free(Batch *b);

#endif
