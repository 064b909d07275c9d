/* Held-out evaluation: accuracy of a model on fresh task instances of a
 * given length, drawn from the test stream (disjoint from training data).
 *
 * Two paths give the same numbers (tests/test_eval.c): the parallel forward
 * over B whole sequences (inference arena, B·T activations), and the decode
 * path, stepping B sequences one token at a time through decoder_step with
 * memory constant in length for models without global attention. A length
 * whose every path would pass the memory limit is an "oom" cell, not an
 * error: the sweep goes on. */
#ifndef SEQ_EVAL_H
#define SEQ_EVAL_H

#include <stdint.h>

#include "models/model.h"
#include "task.h"

typedef enum { EVAL_AUTO, EVAL_PARALLEL, EVAL_DECODE } EvalPath;

typedef struct {
    int sequences;          /* held-out sequences per length */
    int batch;              /* sequences per pass; lowered when memory needs it */
    uint64_t seed;          /* the test stream's seed */
    EvalPath path;          /* EVAL_AUTO: see eval_plan */
    int progress;           /* a progress line on stderr for long evaluations */
    int validation;         /* draw from the validation stream, not the test stream (training's learning curve) */
} EvalOpts;

/* Loss by position in the window, for the Griffin long-context figure
 * (loss against position, trained at T, tested at 2T, 4T, 8T). Position p
 * (1-based) is the prediction made after p tokens of context; bucket 0 is
 * position 1, bucket k >= 1 positions [2^(k-1) + 1, 2^k], the last one cut
 * at the length. Doubling widths because the figure's axis is log position:
 * each bucket is one step along it, and the late buckets, where models
 * differ by little, hold the most tokens. Edges at powers of 2, closed at
 * the top, because lengths are powers of 2: a bucket ends exactly at the
 * training length T, so the buckets past it are the extrapolation and
 * nothing else, and no length ends in a bucket of one position. 23 buckets
 * reach 2^22, the longest length. */
enum { EVAL_MAX_BUCKETS = 23 };

typedef struct {
    int from, to;           /* positions, 1-based, inclusive */
    long tokens;            /* scored predictions in the bucket */
    double loss;            /* their mean cross-entropy, nats per token */
    double bits_per_byte;   /* text tasks: loss / ln 2; else 0 */
} EvalBucket;

/* The bucket of 1-based position p: ceil(log2 p). */
int eval_position_bucket(int p);

typedef struct {
    int length;             /* instance length n */
    double depth;           /* needle grid cell: the depth; else -1 */
    int sequences;
    double string_acc;      /* all scored predictions right */
    double token_acc;       /* scored predictions right (teacher forced) */
    double loss;            /* mean cross-entropy over the scored predictions, nats per token */
    double bits_per_byte;   /* text tasks (lm, byte tokens): loss / ln 2; else 0 */
    int n_buckets;          /* by_position[0 .. n_buckets): every bucket up to the length's */
    EvalBucket by_position[EVAL_MAX_BUCKETS];
    int oom;                /* no path fits in the memory limit: nothing was evaluated */
    double bytes;           /* memory the path used needs (oom: the least any path needs) */
    double bytes_limit;     /* the memory limit it was checked against */
    EvalPath path;          /* EVAL_PARALLEL or EVAL_DECODE (oom: the one that came closest) */
    int batch;              /* sequences per pass used */
    double seconds, tokens_per_s;
} EvalResult;

/* Path and batch for B <= o->batch sequences of T tokens. Auto: a model
 * whose state is constant in context decodes lengths above
 * EVAL_PARALLEL_MAX_T; otherwise the parallel forward if it fits (halving
 * the batch as needed), else decode if that fits. The decode batch also
 * keeps its instances (9 bytes a token) under EVAL_DECODE_TOKENS tokens.
 * Sets r->path, r->batch, r->bytes, r->bytes_limit; r->oom when nothing fits. */
enum { EVAL_PARALLEL_MAX_T = 4096, EVAL_DECODE_TOKENS = 1 << 25 };
void eval_plan(const ModelCfg *c, int T, const EvalOpts *o, EvalResult *r);

const char *eval_path_name(EvalPath p);

/* The held-out instances of length n for a seed: the test stream, or with
 * validation train's learning-curve stream, each split by length so that
 * each length is its own set. eval, train's checks and sample all draw
 * from here, so the instances sample shows are the ones scored. */
Rng eval_stream(uint64_t seed, int n, int validation);

int eval_run(Model *m, const Task *task, const TaskCfg *tc, int n, const EvalOpts *o, EvalResult *r, Err *e);

/* eval_run with the automatic path and no progress line. */
int eval_length(Model *m, const Task *task, const TaskCfg *tc, int n, int sequences, int batch, uint64_t seed,
                EvalResult *r, Err *e);

#endif
