#include "model.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include "core/mem.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/vexp.h"

#include "layers/cross_entropy.h"
#include "layers/rmsnorm.h"
#include "names.h"

static void add_tensor(Model *m, const char *name, int rank, const int *shape, size_t *off, int decay)
{
    ModelTensor *t = &m->tensors[m->n_tensors++];
    size_t len = strlen(name);
    assert(len < sizeof t->name);
    memcpy(t->name, name, len + 1);
    t->rank = rank;
    for (int i = 0; i < 3; i++) t->shape[i] = i < rank ? shape[i] : 0;
    t->offset = *off;
    t->numel = tensor_numel(rank, shape);
    t->decay = decay;
    *off += t->numel;
}

int model_layout(Model *m, const ModelCfg *cfg, Err *e)
{
    memset(m, 0, sizeof *m);
    if (cfg_validate(cfg, e)) return -1;
    m->cfg = *cfg;
    const ModelCfg *c = &m->cfg;
    int L = (int)strlen(c->pattern), D = c->d_model, V = c->vocab_size;
    m->n_layers = L;
    /* one pass to count the tensors (a MoE layer has 3 per expert), one to lay them out */
    TensorDesc *td = malloc(SUB_MAX_TENSORS * sizeof *td);
    size_t count = 3;
    for (int l = 0; td && l < L; l++) count += 1 + (size_t)subops_for(c, c->pattern[l])->tensors(c, td);
    m->layers = calloc((size_t)L ? (size_t)L : 1, sizeof *m->layers);
    m->tensors = calloc(count, sizeof *m->tensors);
    if (!td || !m->layers || !m->tensors) {
        free(td);
        model_free(m);
        return err_set(e, "out of memory building the layer table");
    }

    size_t off = 0;
    const int embed_shape[2] = {V, D}, norm_shape[1] = {D};
    add_tensor(m, names_embed(c), 2, embed_shape, &off, 1);
    m->embed_offset = 0;
    for (int l = 0; l < L; l++) {
        Layer *ly = &m->layers[l];
        char norm[128], prefix[96], name[2400];
        names_layer(c, l, norm, sizeof norm, prefix, sizeof prefix);
        ly->norm_offset = off;
        add_tensor(m, norm, 1, norm_shape, &off, 0);
        ly->sub.ops = subops_for(c, c->pattern[l]);
        ly->sub.cfg = &m->cfg;
        int n = ly->sub.ops->tensors(c, td);
        size_t base = off;
        for (int i = 0; i < n; i++) {
            snprintf(name, sizeof name, "%s%s", prefix, td[i].name);
            size_t toff = base + td[i].offset;
            add_tensor(m, name, td[i].rank, td[i].shape, &toff, td[i].decay);
            off = toff > off ? toff : off;
        }
        ly->param_offset = base;
    }
    free(td);
    m->final_norm_offset = off;
    add_tensor(m, names_final_norm(c), 1, norm_shape, &off, 0);
    m->head_offset = m->embed_offset;
    if (!c->tie_embeddings) {
        m->head_offset = off;
        add_tensor(m, names_head(c), 2, embed_shape, &off, 1);
    }
    m->n_params = off;
    m->norm_offset_value = c->norm_plus_one ? 1 : 0;
    return 0;
}

int model_create(Model *m, const ModelCfg *cfg, Err *e)
{
    if (model_layout(m, cfg, e)) return -1;
    m->params = mem_alloc(m->n_params, sizeof(real), "model parameters", e);
    if (!m->params) { model_free(m); return -1; }
    for (int l = 0; l < m->n_layers; l++) m->layers[l].sub.p = m->params + m->layers[l].param_offset;
    return 0;
}

void model_free(Model *m)
{
    free(m->layers);
    free(m->tensors);
    free(m->params);
    free(m->params16);
    free(m->grads);
    free(m->acts);
    memset(m, 0, sizeof *m);
}

void model_init_weights(Model *m, uint64_t seed)
{
    Rng r = rng_fork(seed, 0);
    for (int i = 0; i < m->n_tensors; i++) {
        ModelTensor *t = &m->tensors[i];
        real *p = m->params + t->offset;
        int is_norm = t->rank == 1 && strstr(t->name, "norm");
        for (size_t j = 0; j < t->numel; j++)
            p[j] = t->rank >= 2 ? (real)(0.02 * rng_normal(&r)) : (is_norm ? 1 - m->norm_offset_value : 0);
    }
    for (int l = 0; l < m->n_layers; l++) m->layers[l].sub.ops->init(&m->layers[l].sub, &r);
}

int model_alloc_grads(Model *m, Err *e)
{
    if (m->grads) return 0;
    m->grads = mem_alloc(m->n_params, sizeof(real), "gradients", e);
    if (!m->grads) return -1;
    for (int l = 0; l < m->n_layers; l++) m->layers[l].sub.g = m->grads + m->layers[l].param_offset;
    return 0;
}

/* Arena layout, in reals; computed in double first so absurd sizes are
 * caught before any size_t arithmetic can wrap. */
typedef struct { size_t res, xn, rstd, acts, xf, rstd_f, logits, dlogits, dres, dtmp, scratch, total; } ActLayout;

static size_t sub_act_size(const SubOps *ops, const ModelCfg *c, int B, int T, int inference)
{
    return inference && ops->infer_act_size ? ops->infer_act_size(c, B, T) : ops->act_size(c, B, T);
}

/* Inference: a sublayer's acts are dead once its forward returns, so all
 * sublayers share one slot, and only two residual buffers are needed. */
static double act_layout(const ModelCfg *c, int B, int T, int inference, ActLayout *al)
{
    double M = (double)B * T, D = c->d_model, V = c->vocab_size, L = (double)strlen(c->pattern);
    double acts = 0, scratch = 0;
    for (const char *s = c->pattern; *s; s++) {
        const SubOps *ops = subops_for(c, *s);
        /* scratch for B sequences at once: its per-thread buffers counted once, not B times */
        double a = (double)sub_act_size(ops, c, 1, T, inference) * B, sc = (double)ops->scratch_size(c, B, T);
        acts = inference ? (a > acts ? a : acts) : acts + a;
        scratch = sc > scratch ? sc : scratch;
    }
    double sizes[] = {(L + 1) * M * D, L * M * D, L * M, acts, M * D, M, M * V, M * V, M * D, M * D, scratch + 64};
    if (inference) { /* res [2], xn [1], no rstd, rstd_f, dlogits, dres */
        sizes[0] = 2 * M * D; sizes[1] = M * D; sizes[2] = sizes[5] = sizes[7] = sizes[8] = 0;
    }
    double total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) total += sizes[i];
    if (al && total < 1e18) {
        size_t *field = &al->res, off = 0;
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            field[i] = off;
            off += (size_t)sizes[i];
        }
        al->total = off;
    }
    return total;
}

size_t model_act_bytes(const ModelCfg *c, int B, int T)
{
    double t = act_layout(c, B, T, 0, NULL) * sizeof(real);
    return t > 1e18 ? (size_t)-1 : (size_t)t;
}

size_t model_infer_act_bytes(const ModelCfg *c, int B, int T)
{
    double t = act_layout(c, B, T, 1, NULL) * sizeof(real);
    return t > 1e18 ? (size_t)-1 : (size_t)t;
}

int model_state_is_constant(const ModelCfg *c) { return strchr(c->pattern, '*') == NULL; }

static int reserve(Model *m, int B, int T, int inference, Err *e)
{
    if (B < 1 || T < 1) return err_set(e, "batch and sequence length must be >= 1 (got %d x %d)", B, T);
    if (m->acts && B <= m->B && T <= m->T && inference == m->inference) return 0;
    char what[96];
    snprintf(what, sizeof what, "%sactivations for batch %d x length %d", inference ? "inference " : "", B, T);
    double total = act_layout(&m->cfg, B, T, inference, NULL);
    /* the old arena is freed first, so it does not count against the new one */
    free(m->acts);
    m->acts = NULL;
    if (mem_check(total * sizeof(real), what, e)) return -1;
    ActLayout al;
    act_layout(&m->cfg, B, T, inference, &al);
    m->acts = mem_alloc(al.total, sizeof(real), what, e);
    if (!m->acts) return -1;
    m->acts_len = al.total;
    m->B = B;
    m->T = T;
    m->inference = inference;
    real *a = m->acts;
    m->res = a + al.res; m->xn = a + al.xn; m->rstd = a + al.rstd;
    m->xf = a + al.xf; m->rstd_f = a + al.rstd_f; m->logits = a + al.logits; m->dlogits = a + al.dlogits;
    m->dres = a + al.dres; m->dtmp = a + al.dtmp; m->scratch = a + al.scratch;
    if (inference) m->rstd = m->rstd_f = m->dlogits = m->dres = NULL;
    size_t off = al.acts;
    for (int l = 0; l < m->n_layers; l++) {
        m->layers[l].act_offset = off;
        m->layers[l].sub.inference = inference;
        if (!inference) off += m->layers[l].sub.ops->act_size(&m->cfg, B, T);
    }
    return 0;
}

int model_reserve(Model *m, int B, int T, Err *e) { return reserve(m, B, T, 0, e); }
int model_reserve_inference(Model *m, int B, int T, Err *e) { return reserve(m, B, T, 1, e); }

static const real *head_weight(const Model *m) { return m->params + m->head_offset; }

void model_embed(const Model *m, const int *tokens, int n, real *x)
{
    int D = m->cfg.d_model;
    real scale = m->cfg.embed_scale > 0 ? (real)m->cfg.embed_scale : 1;
    const real *E = m->params + m->embed_offset;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < D; j++) x[(size_t)i * D + j] = scale * E[(size_t)tokens[i] * D + j];
}

static void soft_cap_rows(real *logits, size_t n, real cap)
{
    real inv = 1 / cap;
#pragma omp simd
    for (size_t i = 0; i < n; i++) logits[i] = cap * tanh_fast(logits[i] * inv);
}

/* Every logit of every position (a 512-token Griffin prefill caps 16
 * million): through tanh_fast, vectorised, where libm's tanhf was a call an
 * element on one thread, 8% of a Hawk-100M prefill. */
void model_soft_cap(const Model *m, real *logits, int rows)
{
    double cap = m->cfg.logits_soft_cap;
    if (cap <= 0) return;
    size_t V = (size_t)m->cfg.vocab_size;
    if (16.0 * rows * V < PAR_MIN_WORK) { /* an exp a logit: ~16 multiply-adds */
        soft_cap_rows(logits, (size_t)rows * V, (real)cap);
        return;
    }
#pragma omp parallel for schedule(dynamic)
    for (int r = 0; r < rows; r++) soft_cap_rows(logits + (size_t)r * V, V, (real)cap);
}

void model_forward(Model *m, const int *tokens, int B, int T)
{
    const ModelCfg *c = &m->cfg;
    int D = c->d_model, M = B * T;
    /* inference: res, xn and the acts slot are reused by every sublayer */
    int inf = m->inference;
    model_embed(m, tokens, M, m->res);
    for (int l = 0; l < m->n_layers; l++) {
        Layer *ly = &m->layers[l];
        real *x = m->res + (size_t)(inf ? l & 1 : l) * M * D, *xn = m->xn + (size_t)(inf ? 0 : l) * M * D;
        real *out = m->dtmp;
        rmsnorm_forward(xn, inf ? NULL : m->rstd + (size_t)l * M, x, m->params + ly->norm_offset, M, D, c->norm_eps,
                        m->norm_offset_value);
        ly->sub.ops->forward(&ly->sub, xn, out, B, T, m->acts + ly->act_offset, m->scratch);
        real *next = inf ? m->res + (size_t)((l + 1) & 1) * M * D : x + (size_t)M * D;
        for (size_t i = 0; i < (size_t)M * D; i++) next[i] = x[i] + out[i];
    }
    int last = inf ? m->n_layers & 1 : m->n_layers;
    rmsnorm_forward(m->xf, m->rstd_f, m->res + (size_t)last * M * D, m->params + m->final_norm_offset, M, D,
                    c->norm_eps, m->norm_offset_value);
    model_head(m, m->logits, m->xf, M);
    model_soft_cap(m, m->logits, M);
}

double model_loss(Model *m, const int *targets, const unsigned char *mask, int B, int T)
{
    double loss = cross_entropy(m->logits, targets, mask, m->dlogits, B * T, m->cfg.vocab_size);
    if (m->inference) return loss; /* the acts slot holds only the last sublayer's: no aux losses */
    for (int l = 0; l < m->n_layers; l++) { /* auxiliary losses (MoE load balancing); backward adds their gradients */
        const Layer *ly = &m->layers[l];
        if (ly->sub.ops->aux_loss) loss += ly->sub.ops->aux_loss(&ly->sub, m->acts + ly->act_offset, B, T, m->scratch);
    }
    return loss;
}

void model_backward(Model *m, const int *tokens, int B, int T)
{
    const ModelCfg *c = &m->cfg;
    int D = c->d_model, V = c->vocab_size, M = B * T;
    assert(!m->inference); /* nothing was saved for it */
    real *dxf = m->dtmp;
    double cap = c->logits_soft_cap;
    if (cap > 0) /* z = cap tanh(u / cap): dz/du = 1 - (z / cap)^2 */
        for (size_t i = 0; i < (size_t)M * V; i++) {
            real t = m->logits[i] / (real)cap;
            m->dlogits[i] *= 1 - t * t;
        }
    linear_bwd(dxf, m->grads + m->head_offset, m->dlogits, m->xf, head_weight(m), M, V, D, 0);
    memset(m->dres, 0, sizeof(real) * (size_t)M * D);
    rmsnorm_backward(m->dres, m->grads + m->final_norm_offset, dxf, m->res + (size_t)m->n_layers * M * D,
                     m->params + m->final_norm_offset, m->rstd_f, M, D, m->norm_offset_value);
    for (int l = m->n_layers - 1; l >= 0; l--) {
        Layer *ly = &m->layers[l];
        real *x = m->res + (size_t)l * M * D, *xn = m->xn + (size_t)l * M * D, *dxn = m->dtmp;
        /* res_{l+1} = res_l + F(norm(res_l)): dres flows through unchanged and
         * the sublayer's contribution is added on top. */
        ly->sub.ops->backward(&ly->sub, xn, m->dres, dxn, B, T, m->acts + ly->act_offset, m->scratch);
        rmsnorm_backward(m->dres, m->grads + ly->norm_offset, dxn, x, m->params + ly->norm_offset,
                         m->rstd + (size_t)l * M, M, D, m->norm_offset_value);
    }
    real *dE = m->grads + m->embed_offset, scale = c->embed_scale > 0 ? (real)c->embed_scale : 1;
    for (int i = 0; i < M; i++) {
        real *row = dE + (size_t)tokens[i] * D;
        const real *g = m->dres + (size_t)i * D;
        for (int j = 0; j < D; j++) row[j] += scale * g[j];
    }
}

void model_param_counts(const Model *m, ParamCounts *pc)
{
    memset(pc, 0, sizeof *pc);
    pc->total = m->n_params;
    size_t DV = (size_t)m->cfg.d_model * m->cfg.vocab_size;
    pc->embedding = DV;
    pc->head = m->cfg.tie_embeddings ? 0 : DV;
    pc->norms = (size_t)(m->n_layers + 1) * m->cfg.d_model;
    for (int l = 0; l < m->n_layers; l++)
        pc->by_symbol[(unsigned char)m->cfg.pattern[l]] += subops_n_params(m->layers[l].sub.ops, &m->cfg);
    /* a token passes through K of the n experts of every MoE layer */
    const ModelCfg *c = &m->cfg;
    size_t expert = 3 * (size_t)c->d_model * (c->expert_d_ff ? c->expert_d_ff : c->d_ff), idle = 0;
    for (const char *s = c->pattern; *s; s++)
        if (*s == 'E') idle += (size_t)(c->n_experts - c->experts_per_tok) * expert;
    pc->active = pc->total - idle;
}

const ModelTensor *model_find_tensor(const Model *m, const char *name)
{
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

double model_state_bytes(const ModelCfg *c, int B, int ctx)
{
    double total = 0;
    for (const char *s = c->pattern; *s; s++) total += (double)subops_for(c, *s)->state_size(c, B, ctx);
    return total * sizeof(real);
}

double model_flops_per_token(const ModelCfg *c, int T)
{
    double total = 2.0 * c->d_model * c->vocab_size;
    for (const char *s = c->pattern; *s; s++) total += subops_for(c, *s)->flops(c, T);
    return total;
}
