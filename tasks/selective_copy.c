/* Selective copying (Mamba §4.1, Table 1 and App. E.1): data tokens
 * scattered at random among noise, then one marker per data token; at the
 * i-th marker the model must output the i-th data token. Content-aware
 * selection is what separates S6 from the LTI ablation: where the data sits
 * changes from instance to instance, so no fixed convolution finds it.
 *
 * The layout is that of the `torch_copying_data(L, M, A, variable=True)`
 * generator of the S4/Mamba code lineage, with n = L (noise tokens) and
 * M = n_data, vocabulary V = A:
 *   [0, n+M)        M data tokens at M distinct uniform positions, kept in
 *                   order, each uniform in [1, V-2]; NOISE (0) elsewhere
 *   [n+M, n+2M)     MARKER (V-1)
 * scored: the logits at position n+M+i, answer the i-th data token.
 * The paper's setting is n 4096, M 16, V 16 (noise and marker included). */
#include "task.h"

enum { NOISE = 0 };

extern const Task selective_copy_task;

static int sc_vocab(const TaskCfg *c) { return c->vocab; }
static int sc_seq_len(const TaskCfg *c, int n) { return n + 2 * c->n_data; }

static void sc_defaults(TaskCfg *c)
{
    if (!c->vocab) c->vocab = 16;
    if (!c->n_data) c->n_data = 16;
}

static int sc_check_length(const TaskCfg *c, int n, Err *e)
{
    (void)c;
    return n < 0 || n > 1 << 22 ? err_set(e, "selective_copy: length (noise tokens) must be in [0, 2^22] (got %d)", n) : 0;
}

static int sc_validate(const TaskCfg *c, Err *e)
{
    if (c->vocab < 3 || c->vocab > 1 << 20)
        return err_set(e, "selective_copy: task-vocab must be in [3, 2^20] (noise, data tokens, marker) (got %d)", c->vocab);
    if (c->n_data < 1 || c->n_data > 1 << 16) return err_set(e, "selective_copy: n-data must be in [1, 65536] (got %d)", c->n_data);
    return task_check_range(&selective_copy_task, c, e);
}

static void sc_make_batch(const TaskCfg *c, TaskSplit split, Rng *r, int n_lo, int n_hi, Batch *b)
{
    (void)split; /* each split has its own stream */
    int T = b->T, M = c->n_data, marker = c->vocab - 1;
    for (int s = 0; s < b->B; s++) {
        int n = n_lo + (int)rng_below(r, (uint32_t)(n_hi - n_lo + 1));
        int *tok = b->tokens + (size_t)s * T, *tgt = b->targets + (size_t)s * T;
        unsigned char *mask = b->mask + (size_t)s * T;
        for (int t = 0; t < T; t++) { tok[t] = NOISE; tgt[t] = 0; mask[t] = 0; }
        /* selection sampling (Knuth's Algorithm S): a uniform M-subset of
         * the n+M positions, visited in order, so the k-th one chosen is the
         * k-th to copy */
        int N = n + M, need = M, k = 0;
        for (int t = 0; t < N && need; t++)
            if ((int)rng_below(r, (uint32_t)(N - t)) < need) {
                tok[t] = 1 + (int)rng_below(r, (uint32_t)(c->vocab - 2));
                tgt[N + k] = tok[t];
                mask[N + k++] = 1;
                need--;
            }
        for (int i = 0; i < M; i++) tok[N + i] = marker;
    }
}

const Task selective_copy_task = {
    .name = "selective_copy",
    .summary = "output the data tokens scattered in noise, in order, at the markers (Mamba Table 1)",
    .default_max_len = 4096,
    .defaults = sc_defaults,
    .vocab_size = sc_vocab,
    .seq_len = sc_seq_len,
    .validate = sc_validate,
    .check_length = sc_check_length,
    .make_batch = sc_make_batch,
};
