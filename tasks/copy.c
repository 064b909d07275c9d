/* Copying (Jelassi et al. 2024, "Repeat After Me"): the model reads
 *   BOS s_1 .. s_n SEP
 * and must continue with s_1 .. s_n. Only the second copy is scored. Every
 * prediction is made from the true prefix (teacher forcing); a string counts
 * as right when all n predictions are, which is exactly when greedy decoding
 * would reproduce it. Lengths beyond training test length generalisation.
 *
 * Vocabulary: 0 PAD, 1 BOS, 2 SEP, 3.. the alphabet. Shorter strings in a
 * batch are padded at the end with PAD (unscored, and causal attention never
 * lets padding reach the real tokens). */
#include <string.h>

#include "task.h"

enum { PAD = 0, BOS = 1, SEP = 2, FIRST_SYMBOL = 3 };

static int copy_vocab(const TaskCfg *c) { return FIRST_SYMBOL + c->alphabet; }
static int copy_seq_len(const TaskCfg *c, int n) { (void)c; return 2 * n + 1; }

static int copy_validate(const TaskCfg *c, Err *e)
{
    if (c->alphabet < 2 || c->alphabet > 1 << 20) return err_set(e, "copy: alphabet must be in [2, 2^20] (got %d)", c->alphabet);
    if (c->min_len < 1 || c->max_len < c->min_len || c->max_len > 1 << 22)
        return err_set(e, "copy: lengths must satisfy 1 <= min-len <= max-len <= 2^22 (got %d, %d)", c->min_len, c->max_len);
    return 0;
}

static int copy_check_length(const TaskCfg *c, int n, Err *e)
{
    (void)c;
    return n < 1 || n > 1 << 22 ? err_set(e, "copy: length must be in [1, 2^22] (got %d)", n) : 0;
}

static void copy_make_batch(const TaskCfg *c, TaskSplit split, Rng *r, int n_lo, int n_hi, Batch *b)
{
    (void)split; /* each split has its own stream */
    int T = b->T;
    for (int s = 0; s < b->B; s++) {
        int n = n_lo + (int)rng_below(r, (uint32_t)(n_hi - n_lo + 1));
        int *tok = b->tokens + (size_t)s * T, *tgt = b->targets + (size_t)s * T;
        unsigned char *mask = b->mask + (size_t)s * T;
        /* the full sequence is BOS s SEP s; the input is all of it but the
         * last token, the target the same shifted by one */
        tok[0] = BOS;
        for (int i = 1; i <= n; i++) tok[i] = FIRST_SYMBOL + (int)rng_below(r, (uint32_t)c->alphabet);
        tok[n + 1] = SEP;
        for (int i = 1; i < n; i++) tok[n + 1 + i] = tok[i];
        for (int t = 2 * n + 1; t < T; t++) tok[t] = PAD;
        for (int t = 0; t < T; t++) {
            tgt[t] = t < 2 * n ? tok[t + 1] : t == 2 * n ? tok[n] : PAD;
            mask[t] = t >= n + 1 && t <= 2 * n;
        }
    }
}

const Task copy_task = {
    .name = "copy",
    .summary = "copy a random string after a separator (Jelassi et al. 2024)",
    .default_max_len = 16,
    .default_min_len = 1,
    .vocab_size = copy_vocab,
    .seq_len = copy_seq_len,
    .validate = copy_validate,
    .check_length = copy_check_length,
    .make_batch = copy_make_batch,
};
