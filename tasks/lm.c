/* Language modelling on a text corpus (--data): predict each next byte.
 * An instance of length n is a window of n + 1 bytes of one split's text
 * (corpus.h): the input is its first n bytes, the target at every position
 * the byte after it, and every position is scored. The tokenizer is the
 * bytes themselves, 256 symbols, so nothing is downloaded and bits per byte
 * is the loss over ln 2. With --bpe N the same holds in tokens of a BPE
 * vocabulary learnt from the training text (tasks/bpe.h): a window is n + 1
 * tokens, and bits per byte divide the loss by the bytes the scored tokens
 * stand for.
 *
 * Shorter instances in a training batch (min-len < max-len) are padded at
 * the end with 0 and the padding is not scored; a text has no NUL bytes
 * (corpus_load refuses them), so 0 is never a real input. */
#include "task.h"
#include "corpus.h"

enum { BYTES = 256 };

static int lm_vocab(const TaskCfg *c) { return c && c->corpus && c->corpus->tokens ? c->corpus->bpe.vocab : BYTES; }
static int lm_token_bytes(const TaskCfg *c, int t) { return c->corpus && c->corpus->tokens ? c->corpus->bpe.len[t] : 1; }
static int lm_seq_len(const TaskCfg *c, int n) { (void)c; return n; }

/* Every split must hold a window of n + 1 bytes: the length is the same for
 * training, its learning curve and the test. */
static int lm_check_length(const TaskCfg *c, int n, Err *e)
{
    if (n < 1 || n > 1 << 22) return err_set(e, "lm: length must be in [1, 2^22] (got %d)", n);
    const Corpus *k = c->corpus;
    if (!k)
        return err_set(e, "lm needs --data FILE (a UTF-8 text file, a directory of them, or %s)", corpus_debian_list());
    for (TaskSplit s = SPLIT_TRAIN; s <= SPLIT_TEST; s++) {
        size_t longest = corpus_longest(k, s);
        if (longest < (size_t)n + 1)
            return err_set(e, "--data %s: too short for length %d: its longest run of %s text is %zu %s, a window "
                              "needs %d (%zu bytes split by the seed into blocks of %zu: %zu train, %zu validation, "
                              "%zu test)", k->name, n, corpus_split_name(s), longest, corpus_unit(k), n + 1, k->n_bytes,
                           k->block, k->split_bytes[SPLIT_TRAIN], k->split_bytes[SPLIT_VALIDATION],
                           k->split_bytes[SPLIT_TEST]);
    }
    return 0;
}

static int lm_validate(const TaskCfg *c, Err *e)
{
    if (c->min_len < 1 || c->max_len < c->min_len)
        return err_set(e, "lm: lengths must satisfy 1 <= min-len <= max-len (got %d, %d)", c->min_len, c->max_len);
    return lm_check_length(c, c->max_len, e);
}

static void lm_make_batch(const TaskCfg *c, TaskSplit split, Rng *r, int n_lo, int n_hi, Batch *b)
{
    const Corpus *k = c->corpus;
    int T = b->T;
    for (int s = 0; s < b->B; s++) {
        int n = n_lo + (int)rng_below(r, (uint32_t)(n_hi - n_lo + 1));
        size_t at = corpus_draw(k, split, (size_t)n + 1, r);
        const unsigned char *w = k->bytes + at;
        const int *wt = k->tokens ? k->tokens + at : NULL;
        int *tok = b->tokens + (size_t)s * T, *tgt = b->targets + (size_t)s * T;
        unsigned char *mask = b->mask + (size_t)s * T;
        for (int t = 0; t < T; t++) {
            tok[t] = t >= n ? 0 : wt ? wt[t] : w[t];
            tgt[t] = t >= n ? 0 : wt ? wt[t + 1] : w[t + 1];
            mask[t] = t < n;
        }
    }
}

const Task lm_task = {
    .name = "lm",
    .summary = "next-byte prediction on a text corpus (--data)",
    .default_max_len = 256,
    .text = 1,
    .vocab_size = lm_vocab,
    .seq_len = lm_seq_len,
    .validate = lm_validate,
    .check_length = lm_check_length,
    .make_batch = lm_make_batch,
    .token_bytes = lm_token_bytes,
};
