#include "eval.h"

#include <string.h>

#include "train.h"

int eval_length(Model *m, const Task *task, const TaskCfg *tc, int n, int sequences, int batch, uint64_t seed,
                EvalResult *r, Err *e)
{
    memset(r, 0, sizeof *r);
    r->length = n;
    int T = task->seq_len(tc, n), V = m->cfg.vocab_size;
    if (batch > sequences) batch = sequences;
    Batch b;
    if (model_reserve(m, batch, T, e) || batch_alloc(&b, batch, T, e)) return -1;
    /* the test stream, further split by length so each length is its own set */
    Rng rng = rng_fork(seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)n), STREAM_TEST);
    long tokens_right = 0, tokens = 0, strings_right = 0;
    double loss_sum = 0;
    int done = 0;
    while (done < sequences) {
        /* the last batch runs only the sequences still needed, so every
         * sequence counts once in the loss whatever the batch size */
        int nb = sequences - done < batch ? sequences - done : batch;
        b.B = nb;
        task->make_batch(tc, &rng, n, n, &b);
        model_forward(m, b.tokens, nb, T);
        loss_sum += model_loss(m, b.targets, b.mask, nb, T) * nb;
        for (int s = 0; s < nb; s++) {
            int all = 1;
            for (int t = 0; t < T; t++) {
                size_t i = (size_t)s * T + t;
                if (!b.mask[i]) continue;
                const real *z = m->logits + i * V;
                int best = 0;
                for (int v = 1; v < V; v++) best = z[v] > z[best] ? v : best;
                int ok = best == b.targets[i];
                tokens_right += ok;
                tokens++;
                all &= ok;
            }
            strings_right += all;
        }
        done += nb;
    }
    r->sequences = sequences;
    r->string_acc = (double)strings_right / sequences;
    r->token_acc = tokens ? (double)tokens_right / tokens : 0;
    r->loss = loss_sum / done;
    batch_free(&b);
    return 0;
}
