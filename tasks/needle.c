/* Needle in a haystack (the synthetic form of Jamba Fig. 4's probe): a
 * needle (marker, key, value) at a chosen depth of a haystack of random
 * filler, then the query (marker, key); the model must continue with the
 * value. Accuracy over context lengths x depths shows where in a long
 * context a model still finds what it read.
 *
 * Vocabulary V: 0 PAD (only after the end of a shorter instance in a
 * batch), 1 NEEDLE, 2 QUERY, [3, V) symbols. Key k_1..k_K and value
 * v_1..v_W are uniform symbols, as is the filler. With n the input length,
 * the haystack is [0, h), h = n - K - W, and the needle (1 + K + W tokens)
 * starts at d = round(depth x (h - 1 - K - W)) (half up), or at a uniform
 * d in [0, h - 1 - K - W] when depth < 0 (training):
 *   [0, h)       filler, except NEEDLE k_1..k_K v_1..v_W at [d, d+1+K+W)
 *   h            QUERY
 *   h+1..h+K     k_1..k_K
 *   h+K+1..n-1   v_1..v_{W-1} (the value so far, teacher forced)
 * scored: the last W positions: the logits at position h+K+j-1 = n-W+j-1
 * for j = 1..W, answer v_j. */
#include <math.h>

#include "task.h"

enum { PAD = 0, NEEDLE = 1, QUERY = 2, FIRST_SYMBOL = 3 };

extern const Task needle_task;

static int nd_vocab(const TaskCfg *c) { return c->vocab; }
static int nd_seq_len(const TaskCfg *c, int n) { (void)c; return n; }

static void nd_defaults(TaskCfg *c)
{
    if (!c->vocab) c->vocab = 64;
    if (!c->key_len) c->key_len = 2;
    if (!c->value_len) c->value_len = 2;
}

static int nd_check_length(const TaskCfg *c, int n, Err *e)
{
    long need = 1 + 2L * (c->key_len + c->value_len);
    if (n < need || n > 1 << 22)
        return err_set(e, "needle: length must be in [1 + 2 x (key-len + value-len) = %ld, 2^22] (got %d)", need, n);
    return 0;
}

static int nd_validate(const TaskCfg *c, Err *e)
{
    if (c->vocab < FIRST_SYMBOL + 2 || c->vocab > 1 << 20)
        return err_set(e, "needle: task-vocab must be in [5, 2^20] (pad, 2 markers, >= 2 symbols) (got %d)", c->vocab);
    if (c->key_len < 1 || c->key_len > 1 << 16) return err_set(e, "needle: key-len must be in [1, 65536] (got %d)", c->key_len);
    if (c->value_len < 1 || c->value_len > 1 << 16)
        return err_set(e, "needle: value-len must be in [1, 65536] (got %d)", c->value_len);
    if (!(c->depth <= 1)) return err_set(e, "needle: depth must be in [0, 1], or negative for random (got %g)", c->depth);
    return task_check_range(&needle_task, c, e);
}

/* Where the needle starts in a haystack of h tokens. */
static int needle_start(const TaskCfg *c, int n, Rng *r)
{
    int room = n - 2 * (c->key_len + c->value_len) - 1; /* h - (1 + K + W): last possible start */
    if (c->depth < 0) return (int)rng_below(r, (uint32_t)room + 1);
    return (int)floor(c->depth * room + 0.5);
}

static void nd_make_batch(const TaskCfg *c, TaskSplit split, Rng *r, int n_lo, int n_hi, Batch *b)
{
    (void)split; /* each split has its own stream */
    int T = b->T, K = c->key_len, W = c->value_len;
    uint32_t symbols = (uint32_t)(c->vocab - FIRST_SYMBOL);
    for (int s = 0; s < b->B; s++) {
        int n = n_lo + (int)rng_below(r, (uint32_t)(n_hi - n_lo + 1));
        int *tok = b->tokens + (size_t)s * T, *tgt = b->targets + (size_t)s * T;
        unsigned char *mask = b->mask + (size_t)s * T;
        int h = n - K - W;
        for (int t = 0; t < h; t++) tok[t] = FIRST_SYMBOL + (int)rng_below(r, symbols);
        int d = needle_start(c, n, r);
        tok[d] = NEEDLE;
        for (int i = 1; i <= K + W; i++) tok[d + i] = FIRST_SYMBOL + (int)rng_below(r, symbols);
        tok[h] = QUERY;
        for (int i = 1; i <= K + W - 1; i++) tok[h + i] = tok[d + i];
        for (int t = n; t < T; t++) tok[t] = PAD;
        for (int t = 0; t < T; t++) { tgt[t] = 0; mask[t] = 0; }
        for (int j = 1; j <= W; j++) {
            tgt[h + K + j - 1] = tok[d + K + j];
            mask[h + K + j - 1] = 1;
        }
    }
}

const Task needle_task = {
    .name = "needle",
    .summary = "after a query marker and key, continue with the value stored with the key deep in filler",
    .default_max_len = 256,
    .defaults = nd_defaults,
    .vocab_size = nd_vocab,
    .seq_len = nd_seq_len,
    .validate = nd_validate,
    .check_length = nd_check_length,
    .make_batch = nd_make_batch,
};
