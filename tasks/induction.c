/* Induction heads (Mamba §4.1, Table 2; Olsson et al. 2022): somewhere in
 * a random sequence a trigger token is followed by a target; the trigger
 * comes again at the end, and the model must answer with the target. Only
 * that last prediction is scored. Trained at one length, tested up to 2^20:
 * the answer needs one token remembered across the whole sequence.
 *
 * Conventions of the generator of HazyResearch/safari (synthetics.py,
 * generate_induction_head, one trigger, induction_len 1), whose vocabulary
 * of V counts its two special tokens; sorted as that code sorts them, the
 * no-op "." is id 0 and the trigger "=>" id V-1. With n the model's input
 * length (safari's input_seq_len is n-1; its final target is not input):
 *   [0, n-1)  ordinary tokens, uniform in [1, V-2]; except
 *   p, p+1    TRIGGER (V-1), then the target (an ordinary token), with p
 *             uniform in [0, n-4]
 *   n-1       TRIGGER
 * scored: the logits at position n-1, answer the token at p+1. Id 0 never
 * occurs inside an instance (it pads shorter ones in a batch). */
#include "task.h"

enum { NOOP = 0 };

extern const Task induction_task;

static int ind_vocab(const TaskCfg *c) { return c->vocab; }
static int ind_seq_len(const TaskCfg *c, int n) { (void)c; return n; }

static void ind_defaults(TaskCfg *c)
{
    if (!c->vocab) c->vocab = 16;
}

static int ind_check_length(const TaskCfg *c, int n, Err *e)
{
    (void)c;
    return n < 4 || n > 1 << 22 ? err_set(e, "induction: length must be in [4, 2^22] (got %d)", n) : 0;
}

static int ind_validate(const TaskCfg *c, Err *e)
{
    if (c->vocab < 4 || c->vocab > 1 << 20)
        return err_set(e, "induction: task-vocab must be in [4, 2^20] (no-op, trigger and >= 2 ordinary tokens) (got %d)",
                       c->vocab);
    return task_check_range(&induction_task, c, e);
}

static void ind_make_batch(const TaskCfg *c, TaskSplit split, Rng *r, int n_lo, int n_hi, Batch *b)
{
    (void)split; /* each split has its own stream */
    int T = b->T, trigger = c->vocab - 1;
    for (int s = 0; s < b->B; s++) {
        int n = n_lo + (int)rng_below(r, (uint32_t)(n_hi - n_lo + 1));
        int *tok = b->tokens + (size_t)s * T, *tgt = b->targets + (size_t)s * T;
        unsigned char *mask = b->mask + (size_t)s * T;
        for (int t = 0; t < n - 1; t++) tok[t] = 1 + (int)rng_below(r, (uint32_t)(c->vocab - 2));
        int p = (int)rng_below(r, (uint32_t)(n - 3));
        tok[p] = trigger;
        tok[n - 1] = trigger;
        for (int t = n; t < T; t++) tok[t] = NOOP;
        for (int t = 0; t < T; t++) { tgt[t] = 0; mask[t] = 0; }
        tgt[n - 1] = tok[p + 1];
        mask[n - 1] = 1;
    }
}

const Task induction_task = {
    .name = "induction",
    .summary = "after a trigger token seen once, recall the token that followed it (Mamba Table 2)",
    .default_max_len = 256,
    .defaults = ind_defaults,
    .vocab_size = ind_vocab,
    .seq_len = ind_seq_len,
    .validate = ind_validate,
    .check_length = ind_check_length,
    .make_batch = ind_make_batch,
};
