#include "eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include "core/mem.h"
#include "core/progress.h"
#include "core/timer.h"
#include "train.h"

Rng eval_stream(uint64_t seed, int n, int validation)
{
    return rng_fork(seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)n), validation ? STREAM_VAL : STREAM_TEST);
}

const char *eval_path_name(EvalPath p) { return p == EVAL_DECODE ? "decode" : p == EVAL_PARALLEL ? "parallel" : "auto"; }

/* the instances themselves: tokens and targets (int) and the mask (byte) */
static double batch_bytes(int B, int T) { return (double)B * T * (2 * sizeof(int) + 1); }

static double path_bytes(const ModelCfg *c, EvalPath p, int B, int T)
{
    double model = p == EVAL_DECODE ? decoder_bytes(c, B, T) : (double)model_infer_act_bytes(c, B, T);
    return model + batch_bytes(B, T);
}

void eval_plan(const ModelCfg *c, int T, const EvalOpts *o, EvalResult *r)
{
    double limit = (double)mem_available();
    int B0 = o->batch < o->sequences ? o->batch : o->sequences;
    int decode_first = o->path == EVAL_DECODE ||
                       (o->path == EVAL_AUTO && model_state_is_constant(c) && T > EVAL_PARALLEL_MAX_T);
    EvalPath order[2] = {decode_first ? EVAL_DECODE : EVAL_PARALLEL, decode_first ? EVAL_PARALLEL : EVAL_DECODE};
    int n_paths = o->path == EVAL_AUTO ? 2 : 1;
    r->bytes_limit = limit;
    r->oom = 1;
    r->bytes = -1;
    for (int i = 0; i < n_paths; i++) {
        EvalPath p = order[i];
        int B = B0;
        if (p == EVAL_DECODE && (double)B * T > EVAL_DECODE_TOKENS) B = T >= EVAL_DECODE_TOKENS ? 1 : EVAL_DECODE_TOKENS / T;
        for (; B >= 1; B /= 2) {
            double need = path_bytes(c, p, B, T);
            if (need <= limit) {
                r->oom = 0;
                r->path = p;
                r->batch = B;
                r->bytes = need;
                return;
            }
        }
        double least = path_bytes(c, p, 1, T);
        if (r->bytes < 0 || least < r->bytes) {
            r->bytes = least;
            r->path = p;
            r->batch = 1;
        }
    }
}

int eval_position_bucket(int p)
{
    int k = 0;
    while (k < 31 && 1 << k < p) k++;
    return k;
}

/* The position sums beside the totals, not instead of them: the overall
 * loss is summed in the order it always was, so its digits do not move. */
typedef struct {
    long tokens_right, tokens, strings_right;
    double loss_sum, bytes; /* bytes: what the scored targets stand for (a text; one a token without --bpe) */
    long pos_tokens[EVAL_MAX_BUCKETS];
    double pos_loss[EVAL_MAX_BUCKETS], pos_bytes[EVAL_MAX_BUCKETS];
} Tally;

/* The bytes a target stands for: a BPE token's, else 1. */
static int target_bytes(const Task *task, const TaskCfg *tc, int target)
{
    return task->token_bytes ? task->token_bytes(tc, target) : 1;
}

/* Argmax (the first of equal maxima) and cross-entropy of one scored row at
 * position t (0-based: t + 1 tokens of context); the target stands for
 * `bytes` bytes of text. */
static int score_row(const real *z, int V, int target, int t, int bytes, Tally *tl)
{
    int best = 0;
    for (int v = 1; v < V; v++) best = z[v] > z[best] ? v : best;
    double sum = 0, mx = z[best];
    for (int v = 0; v < V; v++) sum += exp((double)z[v] - mx);
    double loss = log(sum) + mx - (double)z[target];
    int k = eval_position_bucket(t + 1);
    tl->loss_sum += loss;
    tl->tokens++;
    tl->pos_loss[k] += loss;
    tl->pos_tokens[k]++;
    tl->bytes += bytes;
    tl->pos_bytes[k] += bytes;
    tl->tokens_right += best == target;
    return best == target;
}

static void progress_tick(Progress *p, long done, int n, int seqs_done, int seqs)
{
    if (!p) return;
    char extra[64];
    snprintf(extra, sizeof extra, "length %d, %d/%d sequences", n, seqs_done, seqs);
    progress_update(p, done, extra);
}

static int run_parallel(Model *m, const Task *task, const TaskCfg *tc, int n, int T, const EvalOpts *o, int batch,
                        Rng *rng, Tally *tl, Progress *p, Err *e)
{
    int V = m->cfg.vocab_size;
    Batch b;
    if (model_reserve_inference(m, batch, T, e) || batch_alloc(&b, batch, T, e)) return -1;
    for (int done = 0; done < o->sequences;) {
        int nb = o->sequences - done < batch ? o->sequences - done : batch;
        b.B = nb;
        task->make_batch(tc, o->validation ? SPLIT_VALIDATION : SPLIT_TEST, rng, n, n, &b);
        model_forward(m, b.tokens, nb, T);
        for (int s = 0; s < nb; s++) {
            int all = 1;
            for (int t = 0; t < T; t++) {
                size_t i = (size_t)s * T + t;
                if (b.mask[i])
                    all &= score_row(m->logits + i * V, V, b.targets[i], t, target_bytes(task, tc, b.targets[i]), tl);
            }
            tl->strings_right += all;
        }
        done += nb;
        progress_tick(p, (long)done * T, n, done, o->sequences);
    }
    batch_free(&b);
    return 0;
}

/* B sequences step in lockstep; each step's logits are scored where the
 * mask says, and stepping stops after the last scored position. */
static int run_decode(Model *m, const Task *task, const TaskCfg *tc, int n, int T, const EvalOpts *o, int batch,
                      Rng *rng, Tally *tl, Progress *p, Err *e)
{
    int V = m->cfg.vocab_size, rc = -1, dB = 0;
    Batch b;
    Decoder d;
    if (batch_alloc(&b, batch, T, e)) return -1;
    int *tok = malloc(sizeof(int) * (size_t)batch), *all = malloc(sizeof(int) * (size_t)batch);
    if (!tok || !all) {
        err_set(e, "out of memory for a decode batch of %d", batch);
        goto out;
    }
    for (int done = 0; done < o->sequences;) {
        int nb = o->sequences - done < batch ? o->sequences - done : batch;
        b.B = nb;
        task->make_batch(tc, o->validation ? SPLIT_VALIDATION : SPLIT_TEST, rng, n, n, &b);
        if (dB != nb) { /* the state is laid out for its batch: a smaller last batch needs its own */
            if (dB) decoder_free(&d);
            dB = 0;
            if (decoder_create(&d, m, nb, T, e)) goto out;
            dB = nb;
        } else {
            decoder_reset(&d);
        }
        int last = -1;
        for (size_t i = 0; i < (size_t)nb * T; i++)
            if (b.mask[i] && (int)(i % T) > last) last = (int)(i % T);
        for (int s = 0; s < nb; s++) all[s] = 1;
        for (int t = 0; t <= last; t++) {
            for (int s = 0; s < nb; s++) tok[s] = b.tokens[(size_t)s * T + t];
            if (decoder_step(&d, tok, e)) goto out;
            for (int s = 0; s < nb; s++) {
                size_t i = (size_t)s * T + t;
                if (b.mask[i])
                    all[s] &= score_row(d.logits + (size_t)s * V, V, b.targets[i], t, target_bytes(task, tc, b.targets[i]), tl);
            }
            if ((t & 255) == 255) progress_tick(p, (long)done * T + (long)nb * (t + 1), n, done, o->sequences);
        }
        for (int s = 0; s < nb; s++) tl->strings_right += all[s];
        done += nb;
        progress_tick(p, (long)done * T, n, done, o->sequences);
    }
    rc = 0;
out:
    if (dB) decoder_free(&d);
    free(tok);
    free(all);
    batch_free(&b);
    return rc;
}

/* Every bucket up to position T, each cut at T. */
static void by_position(const Tally *tl, int T, int text, EvalResult *r)
{
    r->n_buckets = eval_position_bucket(T) + 1;
    for (int k = 0; k < r->n_buckets; k++) {
        EvalBucket *b = &r->by_position[k];
        b->from = k ? (1 << (k - 1)) + 1 : 1;
        b->to = 1 << k < T ? 1 << k : T; /* k <= 22 */
        b->tokens = tl->pos_tokens[k];
        b->loss = b->tokens ? tl->pos_loss[k] / b->tokens : 0;
        b->bits_per_byte = text && b->tokens ? tl->pos_loss[k] / tl->pos_bytes[k] / log(2.0) : 0;
    }
}

int eval_run(Model *m, const Task *task, const TaskCfg *tc, int n, const EvalOpts *o, EvalResult *r, Err *e)
{
    memset(r, 0, sizeof *r);
    r->length = n;
    r->depth = -1;
    r->sequences = o->sequences;
    int T = task->seq_len(tc, n);
    eval_plan(&m->cfg, T, o, r);
    if (r->oom) return 0;
    Rng rng = eval_stream(o->seed, n, o->validation);
    Tally tl = {0};
    Progress prog, *p = NULL;
    char label[32];
    if (o->progress) {
        snprintf(label, sizeof label, "eval %s", eval_path_name(r->path));
        progress_start(&prog, label, (long)o->sequences * T);
        prog.unit = "tok";
        p = &prog;
    }
    double t0 = now_seconds();
    int rc = r->path == EVAL_DECODE ? run_decode(m, task, tc, n, T, o, r->batch, &rng, &tl, p, e)
                                    : run_parallel(m, task, tc, n, T, o, r->batch, &rng, &tl, p, e);
    if (p) progress_finish(p);
    if (rc) return -1;
    r->seconds = now_seconds() - t0;
    r->tokens_per_s = (double)o->sequences * T / (r->seconds + 1e-12);
    r->string_acc = (double)tl.strings_right / o->sequences;
    r->token_acc = tl.tokens ? (double)tl.tokens_right / tl.tokens : 0;
    r->loss = tl.tokens ? tl.loss_sum / tl.tokens : 0;
    /* one token is one byte without --bpe: then bytes == tokens and this is loss / ln 2 to the last digit */
    if (task->text && tl.tokens) r->bits_per_byte = tl.loss_sum / tl.bytes / log(2.0);
    by_position(&tl, T, task->text, r);
    return 0;
}

int eval_length(Model *m, const Task *task, const TaskCfg *tc, int n, int sequences, int batch, uint64_t seed,
                EvalResult *r, Err *e)
{
    EvalOpts o = {sequences, batch, seed, EVAL_AUTO, 0, 0};
    return eval_run(m, task, tc, n, &o, r, e);
}
