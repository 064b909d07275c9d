/* The recurrent decode path: one token per sequence per call, through each
 * sublayer's `step` with its cache or state. For every model, T steps must
 * reproduce the parallel forward (tests/test_step_forward.c). */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "layers/rmsnorm.h"
#include "model.h"

static double step_scratch(const ModelCfg *c, int B, int ctx)
{
    double scratch = 0;
    for (const char *p = c->pattern; *p; p++) {
        double s = (double)subops_for(c, *p)->step_scratch_size(c, B, ctx);
        scratch = s > scratch ? s : scratch;
    }
    return scratch;
}

static size_t step_consts_size(const ModelCfg *c, const SubOps *ops)
{
    return ops->step_consts_size ? ops->step_consts_size(c) : 0;
}

static double step_consts(const ModelCfg *c)
{
    double n = 0;
    for (const char *p = c->pattern; *p; p++) n += (double)step_consts_size(c, subops_for(c, *p));
    return n;
}

double decoder_bytes(const ModelCfg *c, int B, int ctx)
{
    return model_state_bytes(c, B, ctx) +
           sizeof(real) * (step_scratch(c, B, ctx) + step_consts(c) + (double)B * (3.0 * c->d_model + c->vocab_size));
}

static void decoder_make_consts(Decoder *d)
{
    for (int l = 0; l < d->m->n_layers; l++) {
        const Sub *s = &d->m->layers[l].sub;
        if (s->ops->step_consts) s->ops->step_consts(s, d->consts + d->consts_offset[l]);
    }
}

int decoder_create(Decoder *d, Model *m, int B, int ctx, Err *e)
{
    memset(d, 0, sizeof *d);
    const ModelCfg *c = &m->cfg;
    if (B < 1 || ctx < 1) return err_set(e, "decode batch and context must be >= 1 (got %d, %d)", B, ctx);
    double state = model_state_bytes(c, B, ctx) / sizeof(real), scratch = step_scratch(c, B, ctx);
    double consts = step_consts(c), total = state + scratch + consts + (double)B * (3.0 * c->d_model + c->vocab_size);
    char what[96];
    snprintf(what, sizeof what, "decode state for batch %d x context %d", B, ctx);
    if (mem_check(total * sizeof(real), what, e)) return -1;
    d->m = m;
    d->B = B;
    d->ctx = ctx;
    d->state_offset = calloc((size_t)m->n_layers + 1, sizeof *d->state_offset);
    d->consts_offset = calloc((size_t)m->n_layers + 1, sizeof *d->consts_offset);
    d->state = mem_alloc((size_t)state + 1, sizeof(real), what, e);
    d->consts = mem_alloc((size_t)consts + 1, sizeof(real), what, e);
    d->x = mem_alloc((size_t)(3.0 * B * c->d_model + B * (double)c->vocab_size + scratch) + 1, sizeof(real), what, e);
    if (!d->state_offset || !d->consts_offset || !d->state || !d->consts || !d->x) {
        decoder_free(d);
        return e && e->msg[0] ? -1 : err_set(e, "out of memory for %s", what);
    }
    d->xn = d->x + (size_t)B * c->d_model;
    d->y = d->xn + (size_t)B * c->d_model;
    d->logits = d->y + (size_t)B * c->d_model;
    d->scratch = d->logits + (size_t)B * c->vocab_size;
    size_t off = 0, coff = 0;
    for (int l = 0; l < m->n_layers; l++) {
        d->state_offset[l] = off;
        off += m->layers[l].sub.ops->state_size(c, B, ctx);
        d->consts_offset[l] = coff;
        coff += step_consts_size(c, m->layers[l].sub.ops);
    }
    decoder_make_consts(d);
    return 0;
}

void decoder_free(Decoder *d)
{
    free(d->state_offset);
    free(d->consts_offset);
    free(d->state);
    free(d->consts);
    free(d->x);
    memset(d, 0, sizeof *d);
}

void decoder_reset(Decoder *d)
{
    d->pos = 0; /* caches are overwritten before they are read; recurrent states must start at 0 */
    memset(d->state, 0, sizeof(real) * (size_t)(model_state_bytes(&d->m->cfg, d->B, d->ctx) / sizeof(real)));
    decoder_make_consts(d);
}

int decoder_step(Decoder *d, const int *tokens, Err *e)
{
    Model *m = d->m;
    const ModelCfg *c = &m->cfg;
    int B = d->B, D = c->d_model;
    if (d->pos >= d->ctx) return err_set(e, "decode context of %d tokens is full", d->ctx);
    model_embed(m, tokens, B, d->x);
    for (int l = 0; l < m->n_layers; l++) {
        Layer *ly = &m->layers[l];
        Sub sub = ly->sub;
        sub.consts = sub.ops->step_consts ? d->consts + d->consts_offset[l] : NULL;
        rmsnorm_forward(d->xn, NULL, d->x, m->params + ly->norm_offset, B, D, c->norm_eps, m->norm_offset_value);
        sub.ops->step(&sub, d->xn, d->y, B, d->pos, d->ctx, d->state + d->state_offset[l], d->scratch);
        for (size_t i = 0; i < (size_t)B * D; i++) d->x[i] += d->y[i];
    }
    rmsnorm_forward(d->xn, NULL, d->x, m->params + m->final_norm_offset, B, D, c->norm_eps, m->norm_offset_value);
    model_head(m, d->logits, d->xn, B);
    model_soft_cap(m, d->logits, B);
    d->pos++;
    return 0;
}
