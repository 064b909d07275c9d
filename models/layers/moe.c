/* Mixture-of-experts MLP (`E`), DESIGN §4:
 *   p = softmax(x W_r^T)                    over all n experts
 *   y = Σ_{k ∈ topK(p)} w_k · Expert_k(x)   Expert = SwiGLU MLP
 * with w_k = p_k (Jamba: not renormalised) or p_k / Σ_topK p (Mixtral),
 * ties in top-K broken towards the lower expert index. Training adds the
 * Switch load-balancing loss coef · n · Σ_i F_i P_i per layer, F_i the
 * fraction of the M·K routing slots given to expert i and P_i the mean
 * router probability; its gradient flows through P only (F is a count).
 * Tokens are grouped by expert, so each expert runs as one GEMM on its rows.
 * Routing integers live in the real-typed scratch (cast; ints are 4 bytes,
 * reals 4 or 8, so the alignment holds). */
#include <stdio.h>
#include <string.h>
#include <tgmath.h>

#include "models/layers/activations.h"
#include "models/layers/tensors.h"

typedef struct { real *router, *experts; size_t per_expert; } MoeWeights;

static int moe_ff(const ModelCfg *c) { return c->expert_d_ff ? c->expert_d_ff : c->d_ff; }

static int moe_tensors(const ModelCfg *c, TensorDesc *t)
{
    int n = 0, D = c->d_model, F = moe_ff(c);
    size_t off = 0;
    char name[64];
    tensor_add(t, &n, &off, "router.weight", c->n_experts, D);
    for (int j = 0; j < c->n_experts; j++) {
        snprintf(name, sizeof name, "experts.%d.gate_proj.weight", j);
        tensor_add(t, &n, &off, name, F, D);
        snprintf(name, sizeof name, "experts.%d.up_proj.weight", j);
        tensor_add(t, &n, &off, name, F, D);
        snprintf(name, sizeof name, "experts.%d.down_proj.weight", j);
        tensor_add(t, &n, &off, name, D, F);
    }
    return n;
}

static MoeWeights moe_weights(const ModelCfg *c, real *p)
{
    size_t D = c->d_model, F = moe_ff(c);
    MoeWeights w = {p, p + (size_t)c->n_experts * D, 3 * F * D};
    return w;
}

static void moe_init(const Sub *s, Rng *r) { (void)s; (void)r; }


/* acts: probs [M,n] | per routing slot, in expert order: up, a, a', h [A,F] | expert out [A,D]   (A = M·K) */
static size_t moe_act_size(const ModelCfg *c, int B, int T)
{
    size_t M = (size_t)B * T, A = M * c->experts_per_tok;
    return M * c->n_experts + A * (4 * (size_t)moe_ff(c) + c->d_model);
}

/* scratch: routing ints (sel [A], order [A], start [n+1]) | xg [A,D] | g [A,F] | dxg... see moe_backward */
static size_t moe_route_reals(const ModelCfg *c, size_t A) { return 2 * A + c->n_experts + 2; }
static size_t moe_scratch_size(const ModelCfg *c, int B, int T)
{
    size_t M = (size_t)B * T, A = M * c->experts_per_tok, D = c->d_model, F = moe_ff(c);
    return moe_route_reals(c, A) + A * (2 * D + 2 * F) + M * c->n_experts;
}

typedef struct { int *sel, *order, *start; } Routing;

/* top-K of each row of probs, then the slots (m·K + k) bucketed by expert, stable in m */
static Routing moe_route(const ModelCfg *c, const real *probs, int M, real *scratch)
{
    int n = c->n_experts, K = c->experts_per_tok;
    Routing r = {(int *)scratch, (int *)scratch + (size_t)M * K, (int *)scratch + 2 * (size_t)M * K};
    for (int m = 0; m < M; m++) {
        const real *p = probs + (size_t)m * n;
        int *sel = r.sel + (size_t)m * K;
        for (int k = 0; k < K; k++) {
            int best = -1;
            for (int j = 0; j < n; j++) {
                int taken = 0;
                for (int q = 0; q < k; q++) taken |= sel[q] == j;
                if (!taken && (best < 0 || p[j] > p[best])) best = j;
            }
            sel[k] = best;
        }
    }
    memset(r.start, 0, sizeof(int) * (size_t)(n + 1));
    for (size_t a = 0; a < (size_t)M * K; a++) r.start[r.sel[a] + 1]++;
    for (int j = 0; j < n; j++) r.start[j + 1] += r.start[j];
    for (int j = 0, cursor = 0; j < n; j++)
        for (size_t a = 0; a < (size_t)M * K; a++)
            if (r.sel[a] == j) r.order[cursor++] = (int)a;
    return r;
}

/* routing weight of slot a = m·K + k */
static real moe_weight(const ModelCfg *c, const real *probs, const Routing *r, size_t a)
{
    int K = c->experts_per_tok, n = c->n_experts;
    size_t m = a / K;
    real p = probs[m * n + r->sel[a]];
    if (!c->router_renormalize) return p;
    real sum = 0;
    for (int k = 0; k < K; k++) sum += probs[m * n + r->sel[m * K + k]];
    return p / sum;
}

static void moe_forward(const Sub *s, const real *x, real *y, int B, int T, real *acts, real *scratch)
{
    const ModelCfg *c = s->cfg;
    MoeWeights w = moe_weights(c, s->p);
    int M = B * T, n = c->n_experts, K = c->experts_per_tok, D = c->d_model, F = moe_ff(c);
    size_t A = (size_t)M * K;
    real *probs = acts, *up = probs + (size_t)M * n, *a = up + A * F, *da = a + A * F, *h = da + A * F, *eo = h + A * F;
    real *xg = scratch + moe_route_reals(c, A), *g = xg + A * D;
    sub_linear(s, probs, x, w.router, M, n, D, 0);
    for (int m = 0; m < M; m++) { /* softmax over all experts */
        real *p = probs + (size_t)m * n, mx = p[0], sum = 0;
        for (int j = 1; j < n; j++) mx = p[j] > mx ? p[j] : mx;
        for (int j = 0; j < n; j++) sum += p[j] = exp(p[j] - mx);
        for (int j = 0; j < n; j++) p[j] /= sum;
    }
    Routing r = moe_route(c, probs, M, scratch);
    for (size_t q = 0; q < A; q++) memcpy(xg + q * D, x + (size_t)(r.order[q] / K) * D, sizeof(real) * D);
    for (int j = 0; j < n; j++) {
        int rows = r.start[j + 1] - r.start[j];
        if (!rows) continue;
        size_t o = (size_t)r.start[j];
        const real *ew = w.experts + j * w.per_expert;
        sub_linear(s, g + o * F, xg + o * D, ew, rows, F, D, 0);
        sub_linear(s, up + o * F, xg + o * D, ew + (size_t)F * D, rows, F, D, 0);
        for (size_t i = o * F; i < (o + rows) * F; i++) h[i] = (a[i] = silu_with_grad(g[i], &da[i])) * up[i];
        sub_linear(s, eo + o * D, h + o * F, ew + 2 * (size_t)F * D, rows, D, F, 0);
    }
    memset(y, 0, sizeof(real) * (size_t)M * D);
    for (size_t q = 0; q < A; q++) {
        size_t slot = (size_t)r.order[q], m = slot / K;
        real wk = moe_weight(c, probs, &r, slot);
        for (int d = 0; d < D; d++) y[m * D + d] += wk * eo[q * D + d];
    }
}

/* the load-balancing loss of the last forward: coef · n · Σ_i (count_i / A) (Σ_m p_mi / M) */
static double moe_aux_loss(const Sub *s, const real *acts, int B, int T, real *scratch)
{
    const ModelCfg *c = s->cfg;
    if (c->router_aux_coef <= 0) return 0;
    int M = B * T, n = c->n_experts;
    size_t A = (size_t)M * c->experts_per_tok;
    Routing r = moe_route(c, acts, M, scratch);
    double loss = 0;
    for (int j = 0; j < n; j++) {
        double P = 0;
        for (int m = 0; m < M; m++) P += acts[(size_t)m * n + j];
        loss += (double)(r.start[j + 1] - r.start[j]) / A * P / M;
    }
    return c->router_aux_coef * n * loss;
}

static void moe_backward(const Sub *s, const real *x, const real *dy, real *dx, int B, int T, const real *acts,
                         real *scratch)
{
    const ModelCfg *c = s->cfg;
    MoeWeights w = moe_weights(c, s->p), gw = moe_weights(c, s->g);
    int M = B * T, n = c->n_experts, K = c->experts_per_tok, D = c->d_model, F = moe_ff(c);
    size_t A = (size_t)M * K;
    const real *probs = acts, *up = probs + (size_t)M * n, *a = up + A * F, *da = a + A * F, *h = da + A * F;
    const real *eo = h + A * F;
    real *xg = scratch + moe_route_reals(c, A), *deo = xg + A * D, *dh = deo + A * D, *dup = dh + A * F;
    real *dp = dup + A * F;
    Routing r = moe_route(c, probs, M, scratch);
    for (size_t q = 0; q < A; q++) memcpy(xg + q * D, x + (size_t)(r.order[q] / K) * D, sizeof(real) * D);

    /* y[m] = Σ_k w_k eo: d eo = w_k dy[m], d w_k = <dy[m], eo> */
    memset(dp, 0, sizeof(real) * (size_t)M * n);
    real *dw = dh; /* [A] in slot order, before dh is needed */
    for (size_t q = 0; q < A; q++) {
        size_t slot = (size_t)r.order[q], m = slot / K;
        real wk = moe_weight(c, probs, &r, slot), dot = 0;
        for (int d = 0; d < D; d++) {
            deo[q * D + d] = wk * dy[m * D + d];
            dot += dy[m * D + d] * eo[q * D + d];
        }
        dw[slot] = dot;
    }
    for (int m = 0; m < M; m++) { /* routing weights -> router probabilities */
        const real *p = probs + (size_t)m * n;
        real *dpm = dp + (size_t)m * n, sum = 0, wdot = 0;
        const int *sel = r.sel + (size_t)m * K;
        if (!c->router_renormalize) {
            for (int k = 0; k < K; k++) dpm[sel[k]] += dw[(size_t)m * K + k];
            continue;
        }
        for (int k = 0; k < K; k++) sum += p[sel[k]];
        for (int k = 0; k < K; k++) wdot += dw[(size_t)m * K + k] * p[sel[k]];
        for (int k = 0; k < K; k++) dpm[sel[k]] += (dw[(size_t)m * K + k] - wdot / sum) / sum;
    }
    if (c->router_aux_coef > 0) /* d aux / d p_mi = coef · n · (count_i / A) / M */
        for (int j = 0; j < n; j++) {
            real g = (real)(c->router_aux_coef * n * (double)(r.start[j + 1] - r.start[j]) / (double)A / M);
            for (int m = 0; m < M; m++) dp[(size_t)m * n + j] += g;
        }
    for (int m = 0; m < M; m++) { /* softmax backward, in place: dlogit = p (dp - <p, dp>) */
        const real *p = probs + (size_t)m * n;
        real *dpm = dp + (size_t)m * n, dot = 0;
        for (int j = 0; j < n; j++) dot += p[j] * dpm[j];
        for (int j = 0; j < n; j++) dpm[j] = p[j] * (dpm[j] - dot);
    }
    linear_bwd(dx, gw.router, dp, x, w.router, M, n, D, 0);
    /* each expert on its rows; its input gradient is scattered back to the tokens */
    real *dxg = deo; /* deo is consumed expert by expert into dh first */
    for (int j = 0; j < n; j++) {
        int rows = r.start[j + 1] - r.start[j];
        if (!rows) continue;
        size_t o = (size_t)r.start[j];
        const real *ew = w.experts + j * w.per_expert;
        real *gew = gw.experts + j * gw.per_expert;
        linear_bwd(dh + o * F, gew + 2 * (size_t)F * D, deo + o * D, h + o * F, ew + 2 * (size_t)F * D, rows, D, F, 0);
        for (size_t i = o * F; i < (o + rows) * F; i++) {
            dup[i] = dh[i] * a[i];
            dh[i] = dh[i] * up[i] * da[i]; /* now d gate */
        }
        linear_bwd(dxg + o * D, gew, dh + o * F, xg + o * D, ew, rows, F, D, 0);
        linear_bwd(dxg + o * D, gew + (size_t)F * D, dup + o * F, xg + o * D, ew + (size_t)F * D, rows, F, D, 1);
    }
    for (size_t q = 0; q < A; q++) {
        size_t m = (size_t)r.order[q] / K;
        for (int d = 0; d < D; d++) dx[m * D + d] += dxg[q * D + d];
    }
}

static size_t moe_state_size(const ModelCfg *c, int B, int ctx) { (void)c; (void)B; (void)ctx; return 0; }
static size_t moe_step_scratch_size(const ModelCfg *c, int B, int ctx)
{
    (void)ctx;
    return moe_act_size(c, B, 1) + moe_scratch_size(c, B, 1);
}

static void moe_step(const Sub *s, const real *x, real *y, int B, int pos, int ctx, real *state, real *scratch)
{
    (void)pos; (void)ctx; (void)state;
    moe_forward(s, x, y, B, 1, scratch, scratch + moe_act_size(s->cfg, B, 1));
}

/* active FLOPs: router + K experts */
static double moe_flops(const ModelCfg *c, int T)
{
    (void)T;
    return 2.0 * c->d_model * c->n_experts + c->experts_per_tok * 6.0 * c->d_model * moe_ff(c);
}

const SubOps moe_ops = {
    .name = "moe", .symbol = 'E', .tensors = moe_tensors, .init = moe_init,
    .act_size = moe_act_size, .scratch_size = moe_scratch_size, .forward = moe_forward,
    .backward = moe_backward, .state_size = moe_state_size, .step = moe_step,
    .step_scratch_size = moe_step_scratch_size, .flops = moe_flops, .aux_loss = moe_aux_loss,
};
