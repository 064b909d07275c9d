/* Multi-query associative recall (Arora, Eyuboglu et al. 2023, "Zoology"):
 * key-value pairs, then every key again at a random place among noise; at
 * each query the model must answer the key's value. Attention looks the key
 * up; a recurrent model must have kept every pair in its state, so accuracy
 * falls as pairs outgrow the state.
 *
 * The layout of HazyResearch/zoology's `multiquery_ar` (num_passes 1,
 * random_non_queries true). Vocabulary V; keys are drawn without
 * replacement from [1, V/2), values without replacement from [V/2, V)
 * (V/2 rounded down). With n the input length (even) and P pairs:
 *   [0, 2P)     k_0 v_0 k_1 v_1 ... k_{P-1} v_{P-1}
 *   [2P, n)     noise, uniform in [0, V) (0 with --zero-noise), except k_i at 2P + 2 g_i
 * The gaps g_i are P distinct values of [0, (n-2P)/2), drawn one after the
 * other without replacement with p(g) ~ (g+1)^(a-1), a = power_a (0.01:
 * most queries come soon after their pairs). scored: the logits at
 * position 2P + 2 g_i, answer v_i. */
#include <math.h>
#include <stdlib.h>

#include "core/err.h"
#include "task.h"

extern const Task mqar_task;

static int mq_vocab(const TaskCfg *c) { return c->vocab; }
static int mq_seq_len(const TaskCfg *c, int n) { (void)c; return n; }

static void mq_defaults(TaskCfg *c)
{
    if (!c->vocab) c->vocab = 8192;
    if (!c->n_pairs) c->n_pairs = c->max_len / 16 > 0 ? c->max_len / 16 : 1;
}

static int mq_check_length(const TaskCfg *c, int n, Err *e)
{
    if (n < 4 || n > 1 << 22 || n % 2) return err_set(e, "mqar: length must be even and in [4, 2^22] (got %d)", n);
    if ((long)c->n_pairs * 4 > n)
        return err_set(e, "mqar: %d pairs need length >= 4 x pairs = %ld (got %d)", c->n_pairs, (long)c->n_pairs * 4, n);
    return 0;
}

static int mq_validate(const TaskCfg *c, Err *e)
{
    if (c->vocab < 4 || c->vocab > 1 << 24) return err_set(e, "mqar: task-vocab must be in [4, 2^24] (got %d)", c->vocab);
    if (c->n_pairs < 1 || c->n_pairs > c->vocab / 2 - 1)
        return err_set(e, "mqar: n-pairs must be in [1, task-vocab/2 - 1 = %d] (distinct keys) (got %d)", c->vocab / 2 - 1,
                       c->n_pairs);
    if (!(c->power_a > 0 && c->power_a <= 10)) return err_set(e, "mqar: power-a must be in (0, 10] (got %g)", c->power_a);
    return task_check_range(&mqar_task, c, e);
}

/* k distinct values of [lo, hi) into out (k is far below hi - lo in practice). */
static void distinct(Rng *r, int lo, int hi, int k, int *out)
{
    for (int i = 0; i < k; i++) {
        int v, dup;
        do {
            v = lo + (int)rng_below(r, (uint32_t)(hi - lo));
            dup = 0;
            for (int j = 0; j < i && !dup; j++) dup = out[j] == v;
        } while (dup);
        out[i] = v;
    }
}

typedef struct { double key; int gap; } Draw;

static int by_key_desc(const void *a, const void *b)
{
    double x = ((const Draw *)a)->key, y = ((const Draw *)b)->key;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Weighted sampling without replacement in one pass (Efraimidis & Spirakis
 * 2006): item g gets the key log(u)/w_g and the P largest keys, largest
 * first, are distributed exactly as P draws one after the other with
 * renormalised weights (numpy's choice(replace=False, p=...)). */
static void power_law_gaps(Rng *r, int space, int P, double a, Draw *top)
{
    int have = 0;
    for (int g = 0; g < space; g++) {
        double key = log(1 - rng_uniform(r)) * pow(g + 1.0, 1 - a);
        if (have < P) {
            top[have++] = (Draw){key, g};
            if (have == P) qsort(top, (size_t)P, sizeof *top, by_key_desc);
        } else if (key > top[P - 1].key) { /* insert in order; P is small */
            int i = P - 1;
            for (; i > 0 && top[i - 1].key < key; i--) top[i] = top[i - 1];
            top[i] = (Draw){key, g};
        }
    }
    if (have < P) qsort(top, (size_t)have, sizeof *top, by_key_desc);
}

static void mq_make_batch(const TaskCfg *c, TaskSplit split, Rng *r, int n_lo, int n_hi, Batch *b)
{
    (void)split; /* each split has its own stream */
    int T = b->T, P = c->n_pairs, V = c->vocab;
    int *kv = malloc(sizeof(int) * 2 * (size_t)P);
    Draw *top = malloc(sizeof(Draw) * (size_t)P);
    if (!kv || !top) die("mqar: out of memory for %d pairs", P);
    for (int s = 0; s < b->B; s++) {
        /* lengths are even (n_lo is): round a draw down */
        int n = (n_lo + (int)rng_below(r, (uint32_t)(n_hi - n_lo + 1))) & ~1;
        int *tok = b->tokens + (size_t)s * T, *tgt = b->targets + (size_t)s * T;
        unsigned char *mask = b->mask + (size_t)s * T;
        distinct(r, 1, V / 2, P, kv);
        distinct(r, V / 2, V, P, kv + P);
        for (int i = 0; i < P; i++) { tok[2 * i] = kv[i]; tok[2 * i + 1] = kv[P + i]; }
        /* random noise can hold copies of the keys and key-value-like pairs a recurrent model would have to
         * learn not to store; zero noise leaves only the pairs and the queries (a test of the state alone) */
        for (int t = 2 * P; t < n; t++) tok[t] = c->zero_noise ? 0 : (int)rng_below(r, (uint32_t)V);
        for (int t = n; t < T; t++) tok[t] = 0;
        for (int t = 0; t < T; t++) { tgt[t] = 0; mask[t] = 0; }
        power_law_gaps(r, (n - 2 * P) / 2, P, c->power_a, top);
        for (int i = 0; i < P; i++) {
            int q = 2 * P + 2 * top[i].gap;
            tok[q] = kv[i];
            tgt[q] = kv[P + i];
            mask[q] = 1;
        }
    }
    free(kv);
    free(top);
}

const Task mqar_task = {
    .name = "mqar",
    .summary = "recall the value of each key queried after the key-value pairs (Zoology MQAR)",
    .default_max_len = 64,
    .defaults = mq_defaults,
    .vocab_size = mq_vocab,
    .seq_len = mq_seq_len,
    .validate = mq_validate,
    .check_length = mq_check_length,
    .make_batch = mq_make_batch,
};
