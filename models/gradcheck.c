#include "gradcheck.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "layers/cross_entropy.h"
#include "layers/rmsnorm.h"
#include "model.h"

/* the step ladder: a coordinate the first step does not settle is retried ten times finer, down to H_MIN */
#define H_FIRST 1e-3
#define H_MIN 1e-6

static void report_add(GradReport *rep, const char *name, double err, long checked, long unresolved)
{
    if (rep->n < GRADCHECK_MAX_ENTRIES) {
        GradEntry *g = &rep->entry[rep->n++];
        snprintf(g->name, sizeof g->name, "%s", name);
        g->max_rel_err = err;
        g->checked = checked;
        g->unresolved = unresolved;
    } else {
        rep->unlisted++;
    }
    if (err > rep->max_rel_err) rep->max_rel_err = err;
    rep->checked += checked;
    rep->unresolved += unresolved;
    if (!checked && unresolved) rep->blind++;
}

static void report_start(GradReport *rep, const GradOpts *o)
{
    memset(rep, 0, sizeof *rep);
    rep->tol = o->tol;
}

GradVerdict gradcheck_verdict(const GradReport *r)
{
    if (r->max_rel_err > r->tol) return GRAD_FAIL;
    if (!r->checked || r->blind || r->unresolved * 10 > r->checked + r->unresolved) return GRAD_INCONCLUSIVE;
    return GRAD_PASS;
}

/* What a coordinate is measured against: the floor of the relative error,
 * and the loss's size, which sets an estimate's rounding noise. */
typedef struct { double floor, f, tol; } Scale;

/* The relative error of a and b, estimated at step h: below the floor,
 * and below what rounding at h can resolve, differences are not told apart.
 * An estimate's rounding noise is its stencils' weights (3.3 / h in all)
 * times the loss's rounding error, measured up to ~3 ulps of |f| (5.5e-9 at
 * h = 1e-6 in the 32-sublayer Jamba, |f| = 2.6); 8 ulps are allowed. At the
 * first step the floor is the larger; at 1e-6 the noise, which lets an
 * absolute difference of 5.9e-9 |f| pass. */
static double rel_err(double a, double b, double h, const Scale *s)
{
    double eps = sizeof(real) == sizeof(float) ? FLT_EPSILON : DBL_EPSILON, noise = 3.3 * 8 * eps * s->f / h;
    return fabs(a - b) / fmax(fmax(fabs(a), fabs(b)), fmax(s->floor, noise / s->tol));
}

/* d loss / d *v: five-point stencils at h and h/2, Richardson-combined (the h^4 terms cancel) */
static double numeric_derivative(real *v, double h, GradLossFn loss, void *ctx)
{
    real saved = *v;
    double d[2];
    for (int k = 0; k < 2; k++) {
        double hk = k ? h / 2 : h, f[4], step[4] = {-2 * hk, -hk, hk, 2 * hk};
        for (int s = 0; s < 4; s++) {
            *v = saved + (real)step[s];
            f[s] = loss(ctx);
        }
        d[k] = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * hk);
    }
    *v = saved;
    return (16 * d[1] - d[0]) / 15;
}

/* 1 and *err when the coordinate could be judged; 0 when no two successive
 * steps of the ladder agree (unresolved). The first step settles almost
 * every coordinate, so the ladder costs little. */
static int judge(real *v, double analytic, GradLossFn loss, void *ctx, const Scale *s, double *err)
{
    double num = numeric_derivative(v, H_FIRST, loss, ctx);
    *err = rel_err(analytic, num, H_FIRST, s);
    if (*err <= s->tol) return 1;
    for (double h = H_FIRST / 10; h > H_MIN / 2; h /= 10) {
        double finer = numeric_derivative(v, h, loss, ctx);
        if (rel_err(num, finer, h, s) <= s->tol) { /* settled: judge the finer one */
            *err = rel_err(analytic, finer, h, s);
            return 1;
        }
        num = finer;
    }
    return 0;
}

static void check_coords(real *v, const real *analytic, size_t n, const char *name, GradLossFn loss, void *ctx,
                         int samples, double tol, Rng *r, GradReport *rep)
{
    double f = fmax(1, fabs(loss(ctx))), worst = 0;
    Scale s = {1e-5 * f, f, tol};
    long checked = 0, unresolved = 0;
    for (size_t k = 0; k < n && (long)k < samples; k++) {
        size_t i = (long)n <= samples ? k : (size_t)rng_below(r, (uint32_t)n);
        double err;
        if (judge(v + i, analytic[i], loss, ctx, &s, &err)) {
            worst = err > worst ? err : worst;
            checked++;
        } else {
            unresolved++;
        }
    }
    report_add(rep, name, worst, checked, unresolved);
}

void gradcheck_coords(real *v, const real *analytic, size_t n, const char *name, GradLossFn loss, void *ctx,
                      int samples, uint64_t seed, GradReport *rep)
{
    Rng r = rng_fork(seed, 15);
    check_coords(v, analytic, n, name, loss, ctx, samples, rep->tol, &r, rep);
}

static void fill_normal(real *v, size_t n, double std, Rng *r)
{
    for (size_t i = 0; i < n; i++) v[i] = (real)(std * rng_normal(r));
}

/* Random weights with O(1) activations: matrices N(0, 1/fan_in), vectors
 * around 1 (norms) or N(0, 0.5) (biases, other vectors). */
static void randomize_params(Model *m, Rng *r)
{
    for (int i = 0; i < m->n_tensors; i++) {
        ModelTensor *t = &m->tensors[i];
        real *p = m->params + t->offset;
        if (t->rank >= 2) fill_normal(p, t->numel, 1.0 / sqrt((double)(t->numel / t->shape[0])), r);
        else if (strstr(t->name, "norm"))
            for (size_t j = 0; j < t->numel; j++) p[j] = (real)(1 + 0.3 * rng_normal(r));
        else fill_normal(p, t->numel, 0.5, r);
    }
}

/* ---- one sublayer ---- */

typedef struct { Model *m; const Sub *sub; real *x, *y, *r, *acts; int B, T; } SubCtx;

static double sub_loss(void *vctx)
{
    SubCtx *c = vctx;
    const Sub *s = c->sub;
    s->ops->forward(s, c->x, c->y, c->B, c->T, c->acts, c->m->scratch);
    double f = 0;
    for (size_t i = 0; i < (size_t)c->B * c->T * c->m->cfg.d_model; i++) f += (double)c->y[i] * c->r[i];
    if (s->ops->aux_loss) f += s->ops->aux_loss(s, c->acts, c->B, c->T, c->m->scratch);
    return f;
}

int gradcheck_sublayer(const ModelCfg *cfg, char symbol, const GradOpts *o, GradReport *rep, Err *e)
{
    report_start(rep, o);
    int B = o->B, T = o->T, samples = o->samples ? o->samples : 64;
    ModelCfg c = *cfg;
    c.pattern[0] = symbol;
    c.pattern[1] = '\0';
    Model m;
    if (model_create(&m, &c, e) || model_alloc_grads(&m, e) || model_reserve(&m, B, T, e)) {
        model_free(&m);
        return -1;
    }
    Rng r = rng_fork(o->seed, 7);
    randomize_params(&m, &r);
    size_t n = (size_t)B * T * c.d_model;
    real *x = calloc(4 * n, sizeof(real)), *y = x + n, *dy = y + n, *dx = dy + n;
    fill_normal(x, n, 1.0, &r);
    fill_normal(dy, n, 1.0, &r);
    const Sub *s = &m.layers[0].sub;
    SubCtx ctx = {&m, s, x, y, dy, m.acts + m.layers[0].act_offset, B, T};
    sub_loss(&ctx);
    s->ops->backward(s, x, dy, dx, B, T, ctx.acts, m.scratch);
    real *dx_copy = malloc(n * sizeof(real)), *g_copy = malloc(m.n_params * sizeof(real));
    memcpy(dx_copy, dx, n * sizeof(real));
    memcpy(g_copy, m.grads, m.n_params * sizeof(real));
    check_coords(x, dx_copy, n, "input x", sub_loss, &ctx, samples, o->tol, &r, rep);
    size_t first = (size_t)(s->p - m.params), end = first + subops_n_params(s->ops, &c);
    for (int i = 0; i < m.n_tensors; i++) {
        const ModelTensor *t = &m.tensors[i];
        if (t->offset < first || t->offset >= end) continue; /* embedding, norms, head: not this sublayer */
        check_coords(m.params + t->offset, g_copy + t->offset, t->numel, t->name, sub_loss, &ctx, samples, o->tol, &r,
                     rep);
    }
    free(x);
    free(dx_copy);
    free(g_copy);
    model_free(&m);
    return 0;
}

/* ---- whole model ---- */

typedef struct { Model *m; const int *tokens, *targets; const unsigned char *mask; int B, T; } ModelCtx;

static double model_loss_fn(void *vctx)
{
    ModelCtx *c = vctx;
    model_forward(c->m, c->tokens, c->B, c->T);
    return model_loss(c->m, c->targets, c->mask, c->B, c->T);
}

int gradcheck_model(const ModelCfg *cfg, const GradOpts *o, GradReport *rep, Err *e)
{
    report_start(rep, o);
    int B = o->B, T = o->T;
    Model m;
    if (model_create(&m, cfg, e) || model_alloc_grads(&m, e) || model_reserve(&m, B, T, e)) {
        model_free(&m);
        return -1;
    }
    Rng r = rng_fork(o->seed, 9);
    int samples = o->samples;
    if (!samples) { /* about GRADCHECK_MODEL_COORDS in all: a deep stack's every tensor, in seconds */
        samples = GRADCHECK_MODEL_COORDS / m.n_tensors;
        samples = samples < 4 ? 4 : samples > 64 ? 64 : samples;
    }
    randomize_params(&m, &r);
    int M = B * T, *tokens = malloc(2 * (size_t)M * sizeof(int)), *targets = tokens + M;
    unsigned char *mask = malloc((size_t)M);
    for (int i = 0; i < M; i++) {
        tokens[i] = (int)rng_below(&r, (uint32_t)cfg->vocab_size);
        targets[i] = (int)rng_below(&r, (uint32_t)cfg->vocab_size);
        mask[i] = rng_uniform(&r) < 0.7;
    }
    mask[0] = 1;
    ModelCtx ctx = {&m, tokens, targets, mask, B, T};
    model_loss_fn(&ctx);
    model_backward(&m, tokens, B, T);
    real *g = malloc(m.n_params * sizeof(real));
    memcpy(g, m.grads, m.n_params * sizeof(real));
    for (int i = 0; i < m.n_tensors; i++) {
        const ModelTensor *t = &m.tensors[i];
        check_coords(m.params + t->offset, g + t->offset, t->numel, t->name, model_loss_fn, &ctx, samples, o->tol, &r,
                     rep);
    }
    free(g);
    free(tokens);
    free(mask);
    model_free(&m);
    return 0;
}

/* ---- RMSNorm and cross-entropy alone ---- */

typedef struct { real *x, *w, *y, *r; int N, D; real offset; } NormCtx;

static double norm_loss(void *vctx)
{
    NormCtx *c = vctx;
    rmsnorm_forward(c->y, NULL, c->x, c->w, c->N, c->D, 1e-5, c->offset);
    double f = 0;
    for (size_t i = 0; i < (size_t)c->N * c->D; i++) f += (double)c->y[i] * c->r[i];
    return f;
}

int gradcheck_rmsnorm(int N, int D, double offset, const GradOpts *o, GradReport *rep)
{
    report_start(rep, o);
    Rng r = rng_fork(o->seed, 11);
    size_t n = (size_t)N * D;
    real *x = calloc(5 * n + 2 * (size_t)D + N, sizeof(real)), *y = x + n, *dy = y + n, *dx = dy + n, *rstd = dx + n;
    real *w = rstd + N, *dw = w + D;
    fill_normal(x, n, 1.0, &r);
    fill_normal(dy, n, 1.0, &r);
    for (int i = 0; i < D; i++) w[i] = (real)(1 + 0.3 * rng_normal(&r));
    rmsnorm_forward(y, rstd, x, w, N, D, 1e-5, (real)offset);
    rmsnorm_backward(dx, dw, dy, x, w, rstd, N, D, (real)offset);
    NormCtx ctx = {x, w, y, dy, N, D, (real)offset};
    check_coords(x, dx, n, "rmsnorm input", norm_loss, &ctx, 1 << 30, o->tol, &r, rep);
    check_coords(w, dw, (size_t)D, "rmsnorm weight", norm_loss, &ctx, 1 << 30, o->tol, &r, rep);
    free(x);
    return 0;
}

typedef struct { real *z; const int *t; const unsigned char *mask; int N, V; } CeCtx;

static double ce_loss(void *vctx)
{
    CeCtx *c = vctx;
    return cross_entropy(c->z, c->t, c->mask, NULL, c->N, c->V);
}

int gradcheck_cross_entropy(int N, int V, const GradOpts *o, GradReport *rep)
{
    report_start(rep, o);
    Rng r = rng_fork(o->seed, 13);
    real *z = calloc(2 * (size_t)N * V, sizeof(real)), *dz = z + (size_t)N * V;
    int *t = malloc((size_t)N * sizeof(int));
    unsigned char *mask = malloc((size_t)N);
    fill_normal(z, (size_t)N * V, 2.0, &r);
    for (int i = 0; i < N; i++) {
        t[i] = (int)rng_below(&r, (uint32_t)V);
        mask[i] = i % 3 != 1;
    }
    cross_entropy(z, t, mask, dz, N, V);
    CeCtx ctx = {z, t, mask, N, V};
    check_coords(z, dz, (size_t)N * V, "logits", ce_loss, &ctx, 1 << 30, o->tol, &r, rep);
    free(z);
    free(t);
    free(mask);
    return 0;
}
