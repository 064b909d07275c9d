/* Prefill: fill a Decoder's context with one parallel forward instead of
 * ctx calls of decoder_step. Each sublayer runs its `forward` over the whole
 * prompt, then its `prefill_state` turns what forward left in the acts into
 * the cache or state the step path continues from; only the last position
 * goes through the LM head. tests/test_prefill.c checks prefill-then-step
 * against stepping all the way for every sublayer family. */
#include <string.h>

#include "core/mem.h"
#include "layers/rmsnorm.h"
#include "layers/tensors.h"
#include "model.h"

/* Long prompts of many sequences go through in chunks whose arena stays
 * under a GiB. The arena's logits [Bc, T, V] are never written here (only
 * the last position goes through the head, into the Decoder's logits), so
 * their untouched zero pages do not count. */
#define PREFILL_ARENA_CAP (1.0 * (1 << 30))

static double touched_bytes(const ModelCfg *c, int B, int T)
{
    return (double)model_infer_act_bytes(c, B, T) - (double)B * T * c->vocab_size * sizeof(real);
}

static int chunk_batch(const ModelCfg *c, int B, int T, int max_batch)
{
    double cap = (double)mem_available() / 4;
    if (cap > PREFILL_ARENA_CAP) cap = PREFILL_ARENA_CAP;
    int Bc = max_batch > 0 && max_batch < B ? max_batch : B;
    while (Bc > 1 && touched_bytes(c, Bc, T) > cap) Bc = (Bc + 1) / 2;
    return Bc;
}

/* Sequences from..from+n-1 of a sublayer's state (for Bs sequences of up
 * to ctx tokens) into to..to+n-1, array by array (SubOps.state_first). */
static void copy_sequences(const Sub *s, real *state, int Bs, int ctx, int from, int to, int n)
{
    size_t first = s->ops->state_first(s->cfg, ctx), second = s->ops->state_size(s->cfg, 1, ctx) - first;
    real *rest = state + (size_t)Bs * first;
    memcpy(state + (size_t)to * first, state + (size_t)from * first, sizeof(real) * n * first);
    memcpy(rest + (size_t)to * second, rest + (size_t)from * second, sizeof(real) * n * second);
}

/* Sequences b0..b0+Bc-1: the forward of model_forward, layer by layer, with
 * each layer's state taken before the next layer overwrites the acts. With
 * copies > 1 the same Bc states (and last logits) also go to the slots
 * b0 + Bc, b0 + 2 Bc, ...: copies sequences that share one prompt. */
static void prefill_chunk(Decoder *d, const int *tokens, int Bc, int T, int b0, int copies)
{
    Model *m = d->m;
    const ModelCfg *c = &m->cfg;
    int D = c->d_model, V = c->vocab_size, M = Bc * T;
    model_embed(m, tokens, M, m->res);
    for (int l = 0; l < m->n_layers; l++) {
        Layer *ly = &m->layers[l];
        real *x = m->res + (size_t)(l & 1) * M * D, *next = m->res + (size_t)((l + 1) & 1) * M * D;
        rmsnorm_forward(m->xn, NULL, x, m->params + ly->norm_offset, M, D, c->norm_eps, m->norm_offset_value);
        ly->sub.ops->forward(&ly->sub, m->xn, m->dtmp, Bc, T, m->acts + ly->act_offset, m->scratch);
        if (ly->sub.ops->prefill_state) {
            real *state = d->state + d->state_offset[l];
            ly->sub.ops->prefill_state(&ly->sub, Bc, T, m->acts + ly->act_offset, m->scratch, state, d->B, b0, d->ctx);
            for (int k = 1; k < copies; k++) copy_sequences(&ly->sub, state, d->B, d->ctx, b0, b0 + k * Bc, Bc);
        }
        for (size_t i = 0; i < (size_t)M * D; i++) next[i] = x[i] + m->dtmp[i];
    }
    /* the logits of each sequence's last token, as its T-th decoder_step gives them */
    const real *last = m->res + (size_t)(m->n_layers & 1) * M * D;
    for (int b = 0; b < Bc; b++)
        memcpy(d->x + (size_t)b * D, last + ((size_t)b * T + T - 1) * D, sizeof(real) * D);
    rmsnorm_forward(d->xn, NULL, d->x, m->params + m->final_norm_offset, Bc, D, c->norm_eps, m->norm_offset_value);
    real *logits = d->logits + (size_t)b0 * V;
    model_head(m, logits, d->xn, Bc);
    model_soft_cap(m, logits, Bc);
    for (int k = 1; k < copies; k++) memcpy(logits + (size_t)k * Bc * V, logits, sizeof(real) * Bc * V);
}

/* Both entry points: every sequence its own prompt in chunks, or (shared) one
 * prompt's forward written into every sequence's slot. */
static int prefill(Decoder *d, const int *tokens, int T, int max_batch, int shared, Err *e)
{
    decoder_reset(d);
    if (T < 0 || T > d->ctx) return err_set(e, "prefill of %d tokens does not fit a decode context of %d", T, d->ctx);
    if (T == 0) return 0;
    int Bc = shared ? 1 : chunk_batch(&d->m->cfg, d->B, T, max_batch);
    /* the arena's check counts its logits too: fewer sequences a chunk until it passes */
    while (model_reserve_inference(d->m, Bc, T, e))
        if (Bc == 1) return -1;
        else Bc = (Bc + 1) / 2;
    if (shared) prefill_chunk(d, tokens, 1, T, 0, d->B);
    for (int b0 = 0; !shared && b0 < d->B; b0 += Bc) {
        int n = d->B - b0 < Bc ? d->B - b0 : Bc;
        prefill_chunk(d, tokens + (size_t)b0 * T, n, T, b0, 1);
    }
    d->pos = T;
    return 0;
}

int decoder_prefill(Decoder *d, const int *tokens, int T, int max_batch, Err *e)
{
    return prefill(d, tokens, T, max_batch, 0, e);
}

int decoder_prefill_shared(Decoder *d, const int *tokens, int T, Err *e) { return prefill(d, tokens, T, 1, 1, e); }
