#include "train.h"

#include <tgmath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/progress.h"
#include "core/timer.h"
#include "eval.h"

void train_defaults(TrainCfg *c)
{
    memset(c, 0, sizeof *c);
    c->steps = 4000;
    c->batch = 32;
    c->lr = 3e-3;
    c->min_lr_ratio = 0.1;
    c->warmup = 100;
    c->cosine = 1;
    c->weight_decay = 0.1;
    c->beta1 = 0.9;
    c->beta2 = 0.95;
    c->adam_eps = 1e-8;
    c->grad_clip = 1.0;
    c->seed = 1;
    c->curve_points = 200;
    c->val_seqs = 128;
    c->stop_holds = 2;
}

int train_val_every(const TrainCfg *c)
{
    if (c->val_every > 0) return c->val_every;
    return c->steps / 20 > 1 ? c->steps / 20 : 1;
}

int train_validate(const TrainCfg *c, Err *e)
{
    /* 0: no step, the model as initialised (train --steps 0 --save: the start of a run, for a comparison
     * that trains the same weights elsewhere, scripts/interop/learning_curve.py) */
    if (c->steps < 0 || c->steps > 100000000) return err_set(e, "steps must be in [0, 1e8] (got %d)", c->steps);
    if (c->batch < 1 || c->batch > 1 << 20) return err_set(e, "batch must be in [1, 2^20] (got %d)", c->batch);
    if (!(c->lr > 0 && c->lr < 10)) return err_set(e, "lr must be in (0, 10) (got %g)", c->lr);
    if (c->warmup < 0) return err_set(e, "warmup must be >= 0 (got %d)", c->warmup);
    if (!(c->beta1 >= 0 && c->beta1 < 1 && c->beta2 >= 0 && c->beta2 < 1))
        return err_set(e, "Adam betas must be in [0, 1) (got %g, %g)", c->beta1, c->beta2);
    if (!(c->weight_decay >= 0)) return err_set(e, "weight decay must be >= 0 (got %g)", c->weight_decay);
    if (!(c->grad_clip >= 0)) return err_set(e, "grad clip must be >= 0 (0 = off) (got %g)", c->grad_clip);
    if (!(c->min_lr_ratio >= 0 && c->min_lr_ratio <= 1)) return err_set(e, "min lr ratio must be in [0, 1]");
    if (c->decay_steps < 0 || (c->decay_steps && c->decay_steps <= c->warmup))
        return err_set(e, "decay-steps must be 0 (the cosine ends at the last step) or past warmup %d (got %d)",
                       c->warmup, c->decay_steps);
    if (c->decay_steps && !c->cosine) return err_set(e, "decay-steps is for the cosine schedule (schedule is constant)");
    if (c->len_warmup < 0 || c->len_hold < 0 || (int64_t)c->len_hold + c->len_warmup > c->steps)
        return err_set(e, "len-hold + len-warmup must be in [0, steps = %d] (got %d + %d)", c->steps, c->len_hold,
                       c->len_warmup);
    if (c->len_hold && !c->len_warmup) return err_set(e, "len-hold needs len-warmup (the ramp after the hold)");
    if (c->val_seqs < 0 || c->val_every < 0 || c->val_len < 0)
        return err_set(e, "val-seqs, val-every and val-len must be >= 0 (got %d, %d, %d)", c->val_seqs, c->val_every,
                       c->val_len);
    if (c->val_seqs && c->steps / train_val_every(c) >= TRAIN_MAX_VAL)
        return err_set(e, "val-every %d: %d validations over %d steps, at most %d (give a larger --val-every)",
                       train_val_every(c), c->steps / train_val_every(c), c->steps, TRAIN_MAX_VAL - 1);
    if (!(c->stop_acc >= 0 && c->stop_acc <= 1)) return err_set(e, "stop-acc must be in [0, 1] (got %g)", c->stop_acc);
    if (c->stop_acc > 0 && !c->val_seqs) return err_set(e, "stop-acc needs validation (val-seqs > 0)");
    if (c->stop_holds < 1) return err_set(e, "stop-holds must be >= 1 (got %d)", c->stop_holds);
    return 0;
}

double train_lr_at(const TrainCfg *c, int step)
{
    if (step < c->warmup) return c->lr * (step + 1) / c->warmup;
    if (!c->cosine) return c->lr;
    /* the cosine ends at decay_steps when given (flat at its floor after), so its shape does not follow the cap */
    double span = (c->decay_steps ? c->decay_steps : c->steps) - c->warmup;
    double progress = span > 0 ? (step - c->warmup) / span : 1;
    if (progress > 1) progress = 1;
    double floor = c->lr * c->min_lr_ratio;
    return floor + (c->lr - floor) * 0.5 * (1 + cos(M_PI * progress));
}

int train_len_at(const TrainCfg *c, int max_len, int step)
{
    if (!c->len_warmup || step >= c->len_hold + c->len_warmup || c->len_from >= max_len) return max_len;
    if (step < c->len_hold) return c->len_from;
    return c->len_from + (int)((int64_t)(max_len - c->len_from) * (step - c->len_hold) / c->len_warmup);
}

/* Tokens at length T attend to (T + 1) / 2 earlier ones on average: attention's FLOPs grow with it. */
static double cost_at_len(const ModelCfg *mc, const Task *task, const TaskCfg *tc, int B, int len)
{
    int T = task->seq_len(tc, len);
    return (double)B * T * model_flops_per_token(mc, (T + 1) / 2);
}

double train_step_cost(const ModelCfg *mc, const Task *task, const TaskCfg *tc, const TrainCfg *c, int step)
{
    return cost_at_len(mc, task, tc, c->batch, train_len_at(c, tc->max_len, step));
}

double train_total_cost(const ModelCfg *mc, const Task *task, const TaskCfg *tc, const TrainCfg *c)
{
    /* the curriculum's steps one by one (a length's cost once), every step after it at max_len */
    int ramp = c->len_warmup ? c->len_hold + c->len_warmup : 0, last = -1;
    if (ramp > c->steps) ramp = c->steps;
    double total = 0, cost = 0;
    for (int step = 0; step < ramp; step++) {
        int len = train_len_at(c, tc->max_len, step);
        if (len != last) cost = cost_at_len(mc, task, tc, c->batch, len);
        last = len;
        total += cost;
    }
    return total + (double)(c->steps - ramp) * cost_at_len(mc, task, tc, c->batch, tc->max_len);
}

/* Global gradient norm; Inf/NaN propagate so divergence is seen. */
static double grad_norm(const real *g, size_t n)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)g[i] * g[i];
    return sqrt(ss);
}

/* AdamW with decoupled weight decay on matrices only (ModelTensor.decay). */
static void adamw_update(Model *m, real *mom, real *vel, const TrainCfg *c, int step, double lr, double gscale)
{
    double bc1 = 1 - pow(c->beta1, step + 1), bc2 = 1 - pow(c->beta2, step + 1);
    for (int ti = 0; ti < m->n_tensors; ti++) {
        const ModelTensor *t = &m->tensors[ti];
        real *p = m->params + t->offset, *g = m->grads + t->offset, *mt = mom + t->offset, *vt = vel + t->offset;
        real b1 = (real)c->beta1, b2 = (real)c->beta2, wd = t->decay ? (real)c->weight_decay : 0;
        real a = (real)(lr / bc1), s2 = (real)(1 / bc2), eps = (real)c->adam_eps, lrr = (real)lr, gs = (real)gscale;
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < t->numel; i++) {
            real gi = g[i] * gs;
            mt[i] = b1 * mt[i] + (1 - b1) * gi;
            vt[i] = b2 * vt[i] + (1 - b2) * gi * gi;
            p[i] -= a * mt[i] / (sqrt(vt[i] * s2) + eps) + lrr * wd * p[i];
        }
    }
}

/* One check of the learning curve: the validation instances at val_len,
 * through the inference path, then the training arena back for the next
 * step. Its string accuracy decides stop-at-target. */
static int validate(Model *m, const Task *task, const TaskCfg *tc, const TrainCfg *cfg, int step, double tokens,
                    int T, TrainResult *res, Err *e)
{
    EvalOpts o = {.sequences = cfg->val_seqs, .batch = cfg->batch, .seed = cfg->seed, .path = EVAL_AUTO,
                  .validation = 1};
    EvalResult r;
    int n = cfg->val_len ? cfg->val_len : tc->max_len;
    if (eval_run(m, task, tc, n, &o, &r, e) || model_reserve(m, cfg->batch, T, e)) return -1;
    if (r.oom) return err_set(e, "validation at length %d does not fit in memory (give a smaller --val-len)", n);
    if (res->n_val < TRAIN_MAX_VAL)
        res->val[res->n_val++] = (ValPoint){step, tokens, r.string_acc, r.token_acc, r.loss, r.bits_per_byte};
    return 0;
}

int train_run(Model *m, const Task *task, const TaskCfg *tc, const TrainCfg *cfg, TrainResult *res, Err *e)
{
    memset(res, 0, sizeof *res);
    res->text = task->text;
    int T = task->seq_len(tc, tc->max_len), B = cfg->batch;
    Batch batch;
    if (model_alloc_grads(m, e) || model_reserve(m, B, T, e) || batch_alloc(&batch, B, T, e)) return -1;
    real *mom = mem_alloc(2 * m->n_params, sizeof(real), "Adam moments", e);
    if (!mom) { batch_free(&batch); return -1; }
    real *vel = mom + m->n_params;
    Rng data = rng_fork(cfg->seed, STREAM_TRAIN);
    int every = cfg->steps / (cfg->curve_points > 0 ? cfg->curve_points : 1);
    if (every < 1) every = 1;
    double t0 = now_seconds(), tail_sum = 0, window_sum = 0, tokens = 0;
    int tail_n = 0, window_n = 0, tail_from = cfg->steps - cfg->steps / 10 - 1;
    int val_every = train_val_every(cfg), holds = 0;
    Progress prog;
    progress_start(&prog, "train", cfg->steps);
    progress_set_work(&prog, train_total_cost(&m->cfg, task, tc, cfg));
    double work = 0;
    for (int step = 0; step < cfg->steps; step++) {
        /* A curriculum step trains at its own (shorter) T, not padded to the
         * longest: short sequences are what make its early steps cheap. */
        double step_t0 = now_seconds();
        int hi = train_len_at(cfg, tc->max_len, step), lo = tc->min_len < hi ? tc->min_len : hi;
        batch.T = hi < tc->max_len ? task->seq_len(tc, hi) : T;
        task->make_batch(tc, SPLIT_TRAIN, &data, lo, hi, &batch);
        model_forward(m, batch.tokens, B, batch.T);
        double loss = model_loss(m, batch.targets, batch.mask, B, batch.T);
        memset(m->grads, 0, sizeof(real) * m->n_params);
        model_backward(m, batch.tokens, B, batch.T);
        double gn = grad_norm(m->grads, m->n_params);
        if (!isfinite(loss) || !isfinite(gn)) {
            res->diverged = 1;
            res->diverged_step = step;
            res->steps_done = step;
            fprintf(stderr, "%sseqbench: training diverged at step %d (loss %g, gradient norm %g)\n",
                    prog.tty ? "\n" : "", step, loss, gn);
            break;
        }
        double scale = cfg->grad_clip > 0 && gn > cfg->grad_clip ? cfg->grad_clip / gn : 1;
        adamw_update(m, mom, vel, cfg, step, train_lr_at(cfg, step), scale);
        res->step_seconds += now_seconds() - step_t0;
        window_sum += loss;
        window_n++;
        if (step >= tail_from) { tail_sum += loss; tail_n++; }
        if ((step + 1) % every == 0 || step + 1 == cfg->steps) {
            if (res->n_curve < TRAIN_MAX_CURVE) {
                res->curve_step[res->n_curve] = step + 1;
                res->curve_loss[res->n_curve++] = window_sum / window_n;
            }
            window_sum = 0;
            window_n = 0;
        }
        tokens += (double)B * batch.T;
        res->steps_done = step + 1;
        res->tokens_done = tokens;
        if (cfg->val_seqs && ((step + 1) % val_every == 0 || step + 1 == cfg->steps)) {
            if (validate(m, task, tc, cfg, step + 1, tokens, T, res, e)) {
                free(mom);
                batch_free(&batch);
                return -1;
            }
            /* A check counts towards the stop only once the curriculum trains at the
             * full length: a model that has only seen short sequences can score at the
             * target while its circuit is not yet the one that holds at length (an
             * induction Mamba stopped at length 32 was exact at 256, 83% at 1024). */
            int at_length = train_len_at(cfg, tc->max_len, step) >= tc->max_len;
            holds = cfg->stop_acc > 0 && at_length && res->val[res->n_val - 1].string_acc >= cfg->stop_acc ? holds + 1 : 0;
        }
        double dt = res->step_seconds; /* the steps' own speed: validation checks would drag it down */
        char extra[96];
        int k = snprintf(extra, sizeof extra, "loss %.4f  %.0f tok/s", loss, dt > 0 ? tokens / dt : 0.0);
        const ValPoint *last = res->n_val ? &res->val[res->n_val - 1] : NULL;
        if (last && task->text) snprintf(extra + k, sizeof extra - k, "  val %.3f bits/byte", last->bits_per_byte);
        else if (last) snprintf(extra + k, sizeof extra - k, "  val %.3f", last->string_acc);
        work += train_step_cost(&m->cfg, task, tc, cfg, step);
        res->forward_flops = work;
        progress_update_work(&prog, step + 1, work, extra);
        if (holds >= cfg->stop_holds) {
            res->stopped_at_target = 1;
            break;
        }
    }
    progress_finish(&prog);
    res->wall_seconds = now_seconds() - t0;
    res->ms_per_step = res->steps_done ? 1e3 * res->wall_seconds / res->steps_done : 0;
    res->final_loss = tail_n ? tail_sum / tail_n : NAN;
    if (res->stopped_at_target) { /* the curve ends where training did; the final loss is its last tenth */
        if (window_n && res->n_curve < TRAIN_MAX_CURVE) {
            res->curve_step[res->n_curve] = res->steps_done;
            res->curve_loss[res->n_curve++] = window_sum / window_n;
        }
        int k = res->n_curve / 10 > 1 ? res->n_curve / 10 : 1;
        double sum = 0;
        for (int i = res->n_curve - k; i < res->n_curve; i++) sum += res->curve_loss[i];
        res->final_loss = res->n_curve ? sum / k : NAN;
    }
    free(mom);
    batch_free(&batch);
    return 0;
}

/* The learning curve: each check's step, tokens and accuracy on the validation stream. */
cJSON *train_validation_json(const TrainCfg *tc, const TaskCfg *task, const TrainResult *tr)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddNumberToObject(v, "sequences", tc->val_seqs);
    cJSON_AddNumberToObject(v, "every", train_val_every(tc));
    cJSON_AddNumberToObject(v, "length", tc->val_len ? tc->val_len : task->max_len);
    if (tc->stop_acc > 0) {
        cJSON_AddNumberToObject(v, "stop_acc", tc->stop_acc);
        cJSON_AddNumberToObject(v, "stop_holds", tc->stop_holds);
    }
    cJSON *curve = cJSON_AddArrayToObject(v, "curve");
    for (int i = 0; i < tr->n_val; i++) {
        const ValPoint *p = &tr->val[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "step", p->step);
        cJSON_AddNumberToObject(o, "tokens", p->tokens);
        if (!tr->text) cJSON_AddNumberToObject(o, "string_acc", p->string_acc);
        cJSON_AddNumberToObject(o, "token_acc", p->token_acc);
        cJSON_AddNumberToObject(o, "loss", p->loss);
        if (tr->text) cJSON_AddNumberToObject(o, "bits_per_byte", p->bits_per_byte);
        cJSON_AddItemToArray(curve, o);
    }
    return v;
}

cJSON *train_loss_curve_json(const TrainResult *tr)
{
    cJSON *curve = cJSON_CreateArray();
    for (int i = 0; i < tr->n_curve; i++) {
        cJSON *pt = cJSON_CreateObject();
        cJSON_AddNumberToObject(pt, "step", tr->curve_step[i]);
        cJSON_AddNumberToObject(pt, "loss", tr->curve_loss[i]);
        cJSON_AddItemToArray(curve, pt);
    }
    return curve;
}
