/* The training loop (DESIGN §6): masked next-token cross-entropy, AdamW,
 * gradient-norm clipping, warmup then cosine or constant learning rate.
 * Weights, training data and test data come from disjoint streams of one
 * seed; the same seed and thread count give bit-identical results. */
#ifndef SEQ_TRAIN_H
#define SEQ_TRAIN_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "models/model.h"
#include "task.h"

typedef struct {
    int steps, batch;
    double lr, min_lr_ratio;   /* cosine decays lr to lr * min_lr_ratio */
    int warmup;
    int cosine;                /* 0: constant after warmup */
    int decay_steps;           /* cosine: it ends at this step, then lr * min_lr_ratio (0: at steps) */
    double weight_decay, beta1, beta2, adam_eps, grad_clip;
    uint64_t seed;
    int curve_points;          /* loss curve subsampled to about this many points */
    int len_warmup;            /* steps of the length curriculum's ramp (0 = none) */
    int len_from;              /* its first length; it grows linearly to max_len */
    int len_hold;              /* steps at len_from before the ramp */
    /* The learning curve: held-out accuracy at intervals, on a validation
     * stream of its own (never the test instances), the same instances at
     * every check, so the curve is one set measured as training goes. */
    int val_seqs;              /* sequences a check scores (0: no validation) */
    int val_every;             /* steps between checks (0: steps / 20, at least 1); the last step is checked too */
    int val_len;               /* their length (0: the task's max_len) */
    /* Stop at the target: once the validation string accuracy has been >=
     * stop_acc at stop_holds checks in a row (0: train every step); checks made
     * while a length curriculum is still below max_len do not count. */
    double stop_acc;
    int stop_holds;
} TrainCfg;

#define TRAIN_MAX_CURVE 1024
#define TRAIN_MAX_VAL 1024

typedef struct {
    int step;                  /* steps done when it was measured */
    double tokens;             /* training tokens seen by then */
    double string_acc, token_acc, loss;
    double bits_per_byte;      /* text tasks: loss / ln 2 */
} ValPoint;

typedef struct {
    int n_curve;
    int curve_step[TRAIN_MAX_CURVE];
    double curve_loss[TRAIN_MAX_CURVE];
    double final_loss;         /* mean over the last 10% of steps */
    int steps_done;
    int diverged, diverged_step;
    int stopped_at_target;     /* stop_acc held: steps_done is where training stopped */
    double tokens_done;        /* training tokens over the steps done */
    double wall_seconds, ms_per_step;
    /* Throughput: the seconds spent in the steps alone (batch, forward, loss,
     * backward, optimizer; validation checks left out), and the forward FLOPs
     * of the steps done (train_step_cost summed), which the caller turns into
     * a training step's FLOPs as the benchmarks count them. */
    double step_seconds, forward_flops;
    int n_val;
    int text;                  /* the task is a text (lm): the curve is in bits per byte, not string accuracy */
    ValPoint val[TRAIN_MAX_VAL];
} TrainResult;

void train_defaults(TrainCfg *c);
/* Longest training instance at step (the length curriculum); max_len after it. */
int train_len_at(const TrainCfg *c, int max_len, int step);
int train_validate(const TrainCfg *c, Err *e);
/* What a step costs, relative to the others: its tokens times the model's
 * forward FLOPs per token at their mean context. The progress line's ETA
 * weighs steps by it, since under a length curriculum the early steps are
 * several times cheaper than the last ones. */
double train_step_cost(const ModelCfg *mc, const Task *task, const TaskCfg *tc, const TrainCfg *c, int step);
/* The sum of train_step_cost over the run's steps. */
double train_total_cost(const ModelCfg *mc, const Task *task, const TaskCfg *tc, const TrainCfg *c);

/* The result's record of a run: the loss curve [{step, loss}], and the
 * learning curve {sequences, every, length, stop_acc?, curve: [{step, tokens,
 * string_acc, token_acc, loss}]}; for a text, bits_per_byte in place of
 * string_acc. */
cJSON *train_loss_curve_json(const TrainResult *tr);
cJSON *train_validation_json(const TrainCfg *c, const TaskCfg *task, const TrainResult *tr);

/* Trains m (weights already initialised) on task; progress on stderr. */
int train_run(Model *m, const Task *task, const TaskCfg *tc, const TrainCfg *cfg, TrainResult *res, Err *e);

/* Data streams of a seed: weights, training batches, held-out test batches,
 * validation batches (the learning curve, stop at the target). */
enum { STREAM_WEIGHTS = 0, STREAM_TRAIN = 1, STREAM_TEST = 2, STREAM_VAL = 3 };
/* Steps between validations as train_run takes them (val_every resolved). */
int train_val_every(const TrainCfg *c);
/* The learning rate of a step (0-based): linear warmup, then constant or a cosine to lr * min_lr_ratio that ends
 * at decay_steps (0: at steps) and stays at its floor after. */
double train_lr_at(const TrainCfg *c, int step);

#endif
