/* Mamba-2 mixer (`M`, variant mamba2; Dao & Gu 2024), DESIGN §4.
 *   [z, xBC, dt] = in_proj(x)                          D -> E + (E + 2GN) + H
 *   [x, B, C]    = SiLU(conv1d_K(xBC) + b)             x: H heads of P, B/C: G groups of N
 *   Δ = softplus(dt + dt_bias),  A = -exp(A_log)       one scalar per head
 *   S_t[h] = exp(Δ_t[h] A[h]) S_{t-1}[h] + Δ_t[h] x_t[h] ⊗ B_t[g]     (P x N), g = h / (H/G)
 *   y_t[h] = S_t[h] C_t[g] + D[h] x_t[h]
 *   out = out_proj(RMSNorm_grouped(y ⊙ SiLU(z)))       each of G groups of E/G channels on its own
 * The gated norm follows mamba_ssm's RMSNormGated (group_size = E/G, gate
 * before the norm); some Hugging Face versions normalise all E channels at
 * once, which differs when G > 1 (tests/golden/mamba2_g2 pins the official
 * form). The scan here is the plain recurrence, linear in T with a P·N
 * state per head (models/layers/m2_scan.h); training keeps the state every
 * M2_CHUNK tokens and the backward recomputes the states in between. */
#include <string.h>
#include <tgmath.h>

#include "core/parallel.h"
#include "models/layers/activations.h"
#include "models/layers/conv1d.h"
#include "models/layers/m2_scan.h"
#include "models/layers/tensors.h"

typedef struct { real *in, *conv_w, *conv_b, *dt_bias, *A_log, *D, *norm, *out; } M2Weights;

static M2Dims m2_dims(const ModelCfg *c)
{
    M2Dims d;
    d.D = c->d_model;
    d.E = cfg_d_inner(c);
    d.P = c->ssm_head_dim;
    d.H = d.E / d.P;
    d.G = c->n_groups;
    d.N = c->d_state;
    d.K = c->d_conv;
    d.conv_dim = d.E + 2 * d.G * d.N;
    d.Z = d.E + d.conv_dim + d.H;
    return d;
}

static int m2_tensors(const ModelCfg *c, TensorDesc *t)
{
    M2Dims d = m2_dims(c);
    int n = 0;
    size_t off = 0;
    tensor_add(t, &n, &off, "in_proj.weight", d.Z, d.D);
    tensor_add_conv(t, &n, &off, "conv1d.weight", d.conv_dim, d.K);
    tensor_add(t, &n, &off, "conv1d.bias", d.conv_dim, 0);
    tensor_add(t, &n, &off, "dt_bias", d.H, 0);
    tensor_add(t, &n, &off, "A_log", d.H, 0);
    tensor_add(t, &n, &off, "D", d.H, 0);
    tensor_add(t, &n, &off, "norm.weight", d.E, 0);
    tensor_add(t, &n, &off, "out_proj.weight", d.D, d.E);
    return n;
}

static M2Weights m2_weights(const ModelCfg *c, real *p)
{
    TensorDesc t[16]; /* this family has at most 13 tensors */
    m2_tensors(c, t);
    M2Weights w = {p + t[0].offset, p + t[1].offset, p + t[2].offset, p + t[3].offset,
                   p + t[4].offset, p + t[5].offset, p + t[6].offset, p + t[7].offset};
    return w;
}

/* mamba_ssm's Mamba2 init: A = U(1, 16) per head (A_log = log A), D = 1,
 * dt_bias = inverse softplus of dt = exp(U(ln 0.001, ln 0.1)) clamped at
 * 1e-4; the gated norm's weight 1 (the model already set norms to 1). */
static void m2_init(const Sub *s, Rng *r)
{
    M2Dims d = m2_dims(s->cfg);
    M2Weights w = m2_weights(s->cfg, s->p);
    for (int h = 0; h < d.H; h++) {
        w.A_log[h] = (real)log(1 + 15 * rng_uniform(r));
        w.D[h] = 1;
        double dt = exp(log(0.001) + rng_uniform(r) * (log(0.1) - log(0.001)));
        dt = dt < 1e-4 ? 1e-4 : dt;
        w.dt_bias[h] = (real)(dt + log(-expm1(-dt)));
    }
    for (int e = 0; e < d.E; e++) w.norm[e] = 1;
}


/* acts per M rows: zx [M,Z] | pre [M,conv] | xbc [M,conv] | delta [M,H] | y [M,E] | v [M,E]
 * | rstd [M,G] | vn [M,E] | S: training, [B, m2_ckpt_size], each sequence's checkpoints of the
 * state (m2_scan.h); inference, [B, G, N, E/G], each sequence's last state, for prefill_state */
typedef struct { real *zx, *pre, *xbc, *delta, *y, *v, *rstd, *vn, *S; } M2Acts;

static M2Acts m2_acts(const M2Dims *d, real *a, size_t M)
{
    M2Acts x;
    x.zx = a; x.pre = x.zx + M * d->Z; x.xbc = x.pre + M * d->conv_dim; x.delta = x.xbc + M * d->conv_dim;
    x.y = x.delta + M * d->H; x.v = x.y + M * d->E; x.rstd = x.v + M * d->E; x.vn = x.rstd + M * d->G;
    x.S = x.vn + M * d->E;
    return x;
}

static size_t m2_act_size(const ModelCfg *c, int B, int T)
{
    M2Dims d = m2_dims(c);
    size_t M = (size_t)B * T;
    return M * ((size_t)d.Z + 2 * d.conv_dim + d.H + 3 * (size_t)d.E + d.G) + (size_t)B * m2_ckpt_size(&d, T);
}

/* inference keeps no per-step states, only the last */
static size_t m2_infer_act_size(const ModelCfg *c, int B, int T)
{
    M2Dims d = m2_dims(c);
    return (size_t)B * T * ((size_t)d.Z + 2 * d.conv_dim + d.H + 3 * (size_t)d.E + d.G) + (size_t)B * d.E * d.N;
}

/* scratch: A [H] | per thread: dA [H], dD [H], the scan's work (m2_scan.h) | dvn, dv [M,E] | dzx [M,Z]
 * | dxbc [M,conv] */
static size_t m2_per_thread(const M2Dims *d)
{
    return 2 * (size_t)d->H + m2_scan_work_size(d);
}

static size_t m2_scratch_size(const ModelCfg *c, int B, int T)
{
    M2Dims d = m2_dims(c);
    size_t M = (size_t)B * T;
    return d.H + (size_t)par_max_threads() * m2_per_thread(&d) + M * (2 * (size_t)d.E + d.Z + d.conv_dim);
}

/* gated grouped norm of one row: v = y ⊙ SiLU(z), vn = RMSNorm per group
 * (rmsnorm.h's, with v's sum of squares taken in the pass that makes v and
 * both loops as SIMD lanes: the plain loops ran scalar, 6% of a step) */
static void m2_gate_norm(const M2Dims *d, const real *y, const real *z, const real *w, double eps, real *v,
                         real *rstd, real *vn)
{
    int L = d->E / d->G;
    for (int g = 0; g < d->G; g++) {
        const real *yg = y + (size_t)g * L, *zg = z + (size_t)g * L, *wg = w + (size_t)g * L;
        real *vg = v + (size_t)g * L, *vng = vn + (size_t)g * L, ss = 0;
#pragma omp simd reduction(+ : ss)
        for (int e = 0; e < L; e++) {
            real ve = yg[e] * silu(zg[e]);
            vg[e] = ve;
            ss += ve * ve;
        }
        real r = 1 / sqrt(ss / L + (real)eps);
        rstd[g] = r;
#pragma omp simd
        for (int e = 0; e < L; e++) vng[e] = vg[e] * r * wg[e];
    }
}

/* Backward of m2_gate_norm for one row: from dvn, adds the norm weight's
 * gradient into dw and writes dz and dy = dv ⊙ SiLU(z). RMSNorm's backward
 * (rmsnorm.h) with dv folded straight into the gate's. */
static void m2_gate_norm_backward(const M2Dims *d, const real *dvn, const real *v, const real *y, const real *z,
                                  const real *w, const real *rstd, real *dw, real *dz, real *dy)
{
    int L = d->E / d->G;
    for (int g = 0; g < d->G; g++) {
        size_t o = (size_t)g * L;
        real r = rstd[g], dot = 0;
#pragma omp simd reduction(+ : dot)
        for (int e = 0; e < L; e++) {
            real xhat = v[o + e] * r;
            dw[o + e] += dvn[o + e] * xhat;
            dot += dvn[o + e] * w[o + e] * xhat;
        }
        dot /= L;
#pragma omp simd
        for (int e = 0; e < L; e++) {
            real dv = r * (dvn[o + e] * w[o + e] - v[o + e] * r * dot), ze = z[o + e];
            dz[o + e] = dv * y[o + e] * silu_grad(ze);
            dy[o + e] = dv * silu(ze);
        }
    }
}

/* Parts a group's heads are split into: training keeps whole groups (its
 * checkpoints and the backward's sums over a group's channels assume
 * them); inference splits them until every thread has a task and each
 * part's state (N x its channels) stays within 256 KiB of L2. */
static int m2_head_parts(const M2Dims *d, int B, int inference)
{
    int hpg = d->H / d->G;
    if (!inference || hpg == 1) return 1;
    int tasks = B * d->G, parts = tasks >= par_max_threads() ? 1 : (par_max_threads() + tasks - 1) / tasks;
    double state = (double)d->N * (d->E / d->G) * sizeof(real);
    while (parts < hpg && state / parts > 256.0 * 1024) parts++;
    return parts < hpg ? parts : hpg;
}

static void m2_forward(const Sub *s, const real *x, real *out, int B, int T, real *acts, real *scratch)
{
    const ModelCfg *c = s->cfg;
    M2Dims d = m2_dims(c);
    M2Weights w = m2_weights(c, s->p);
    int M = B * T;
    M2Acts a = m2_acts(&d, acts, (size_t)M);
    real *A = scratch;
    for (int h = 0; h < d.H; h++) A[h] = -exp(w.A_log[h]);
    sub_linear(s, a.zx, x, w.in, M, d.Z, d.D, 0);
    conv1d_forward(a.pre, d.conv_dim, a.zx + d.E, d.Z, w.conv_w, w.conv_b, B, T, d.conv_dim, d.K);
#pragma omp simd
    for (size_t i = 0; i < (size_t)M * d.conv_dim; i++) a.xbc[i] = silu(a.pre[i]);
    for (int m = 0; m < M; m++) {
        const real *dt = a.zx + (size_t)m * d.Z + d.E + d.conv_dim;
        real *delta = a.delta + (size_t)m * d.H;
#pragma omp simd
        for (int h = 0; h < d.H; h++) delta[h] = softplus(dt[h] + w.dt_bias[h]);
    }
    size_t per = m2_per_thread(&d);
    int L = d.E / d.G, hpg = d.H / d.G, parts = m2_head_parts(&d, B, s->inference);
    /* one task per (sequence, group, part of its heads); training's
     * checkpoints are saved as [T, G, N, E/G], inference's last states as
     * [B, G, N, E/G] */
#pragma omp parallel for collapse(3) schedule(static)
    for (int b = 0; b < B; b++)
        for (int g = 0; g < d.G; g++)
            for (int part = 0; part < parts; part++) {
                int j0 = part * hpg / parts, nh = (part + 1) * hpg / parts - j0, Lc = nh * d.P;
                real *work = scratch + d.H + (size_t)par_thread_id() * per + 2 * d.H;
                size_t row = (size_t)b * T;
                memset(work, 0, sizeof(real) * Lc * d.N); /* the state before t = 0 */
                m2_scan_heads(&d, g, j0, nh, T, a.xbc + row * d.conv_dim, a.delta + row * d.H, A, w.D,
                              s->inference ? NULL : a.S + (size_t)b * m2_ckpt_size(&d, T), work,
                              a.y + row * d.E, work);
                if (s->inference) { /* the part's state [N, Lc] into its columns of [N, L] */
                    real *last = a.S + ((size_t)b * d.G + g) * d.N * L + (size_t)j0 * d.P;
                    for (int n = 0; n < d.N; n++)
                        memcpy(last + (size_t)n * L, work + (size_t)n * Lc, sizeof(real) * Lc);
                }
            }
    for (int m = 0; m < M; m++)
        m2_gate_norm(&d, a.y + (size_t)m * d.E, a.zx + (size_t)m * d.Z, w.norm, c->norm_eps, a.v + (size_t)m * d.E,
                     a.rstd + (size_t)m * d.G, a.vn + (size_t)m * d.E);
    sub_linear(s, out, a.vn, w.out, M, d.D, d.E, 0);
}

static void m2_backward(const Sub *s, const real *x, const real *dout, real *dx_in, int B, int T, const real *acts,
                        real *scratch)
{
    const ModelCfg *c = s->cfg;
    M2Dims d = m2_dims(c);
    M2Weights w = m2_weights(c, s->p), gw = m2_weights(c, s->g);
    int M = B * T, threads = par_max_threads();
    M2Acts a = m2_acts(&d, (real *)acts, (size_t)M);
    size_t per = m2_per_thread(&d), ME = (size_t)M * d.E;
    real *A = scratch, *per_thread = A + d.H, *dvn = per_thread + (size_t)threads * per, *dv = dvn + ME;
    real *dzx = dv + ME, *dxbc = dzx + (size_t)M * d.Z;
    for (int h = 0; h < d.H; h++) A[h] = -exp(w.A_log[h]);
    memset(per_thread, 0, sizeof(real) * (size_t)threads * per);
    memset(dxbc, 0, sizeof(real) * (size_t)M * d.conv_dim);

    linear_bwd(dvn, gw.out, dout, a.vn, w.out, M, d.D, d.E, 0);
    for (int m = 0; m < M; m++) {
        size_t o = (size_t)m * d.E;
        m2_gate_norm_backward(&d, dvn + o, a.v + o, a.y + o, a.zx + (size_t)m * d.Z, w.norm, a.rstd + (size_t)m * d.G,
                              gw.norm, dzx + (size_t)m * d.Z, dv + o); /* dv holds dy */
    }
    real *ddelta = dvn; /* free again: [M,H] fits in [M,E] */
    /* one task per (sequence, group): its heads share B_t[g], C_t[g] */
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int g = 0; g < d.G; g++) {
            real *mine = per_thread + (size_t)par_thread_id() * per;
            size_t row = (size_t)b * T;
            m2_scan_group_backward(&d, g, T, a.xbc + row * d.conv_dim, a.delta + row * d.H, A, w.D,
                                   a.S + (size_t)b * m2_ckpt_size(&d, T), dv + row * d.E, dxbc + row * d.conv_dim, ddelta + row * d.H,
                                   mine, mine + d.H, mine + 2 * d.H);
        }
    for (int t = 0; t < threads; t++)
        for (int h = 0; h < d.H; h++) {
            gw.A_log[h] += per_thread[(size_t)t * per + h] * A[h]; /* dA/dA_log = A */
            gw.D[h] += per_thread[(size_t)t * per + d.H + h];
        }
    /* Δ = softplus(dt + dt_bias) */
    for (int m = 0; m < M; m++) {
        const real *dt = a.zx + (size_t)m * d.Z + d.E + d.conv_dim, *dd = ddelta + (size_t)m * d.H;
        real *ddt = dzx + (size_t)m * d.Z + d.E + d.conv_dim;
#pragma omp simd
        for (int h = 0; h < d.H; h++) {
            real g = dd[h] * sigmoid(dt[h] + w.dt_bias[h]);
            ddt[h] = g;
            gw.dt_bias[h] += g;
        }
    }
    /* [x, B, C] = SiLU(conv(xBC)) */
#pragma omp simd
    for (size_t i = 0; i < (size_t)M * d.conv_dim; i++) dxbc[i] *= silu_grad(a.pre[i]);
    for (int m = 0; m < M; m++) memset(dzx + (size_t)m * d.Z + d.E, 0, sizeof(real) * d.conv_dim);
    conv1d_backward(dzx + d.E, d.Z, gw.conv_w, gw.conv_b, dxbc, d.conv_dim, a.zx + d.E, d.Z, w.conv_w, B, T,
                    d.conv_dim, d.K);
    linear_bwd(dx_in, gw.in, dzx, x, w.in, M, d.Z, d.D, 0);
}

/* state: conv window [B, K-1, conv] | S [B, H, P, N] */
static size_t m2_state_size(const ModelCfg *c, int B, int ctx)
{
    (void)ctx;
    M2Dims d = m2_dims(c);
    return (size_t)B * ((size_t)(d.K - 1) * d.conv_dim + (size_t)d.E * d.N);
}

/* conv window [B, K-1, conv_dim] | S [B, H, P, N] */
static size_t m2_state_first(const ModelCfg *c, int ctx)
{
    (void)ctx;
    M2Dims d = m2_dims(c);
    return (size_t)(d.K - 1) * d.conv_dim;
}

/* step scratch: A [H] | zx [B,Z] | pre, xbc [B,conv] | delta [B,H] | y, v, vn [B,E] | rstd [B,G] */
static size_t m2_step_scratch_size(const ModelCfg *c, int B, int ctx)
{
    (void)ctx;
    M2Dims d = m2_dims(c);
    return d.H + (size_t)B * ((size_t)d.Z + 2 * d.conv_dim + d.H + 3 * (size_t)d.E + d.G);
}

static void m2_step(const Sub *s, const real *x, real *out, int B, int pos, int ctx, real *state, real *scratch)
{
    (void)pos; (void)ctx;
    const ModelCfg *c = s->cfg;
    M2Dims d = m2_dims(c);
    M2Weights w = m2_weights(c, s->p);
    real *A = scratch, *zx = A + d.H, *pre = zx + (size_t)B * d.Z, *xbc = pre + (size_t)B * d.conv_dim;
    real *delta = xbc + (size_t)B * d.conv_dim, *y = delta + (size_t)B * d.H, *v = y + (size_t)B * d.E;
    real *vn = v + (size_t)B * d.E, *rstd = vn + (size_t)B * d.E;
    real *windows = state, *S = state + (size_t)B * (d.K - 1) * d.conv_dim;
    for (int h = 0; h < d.H; h++) A[h] = -exp(w.A_log[h]);
    sub_linear(s, zx, x, w.in, B, d.Z, d.D, 0);
    for (int b = 0; b < B; b++) {
        conv1d_step(pre + (size_t)b * d.conv_dim, zx + (size_t)b * d.Z + d.E, windows + (size_t)b * (d.K - 1) * d.conv_dim,
                    w.conv_w, w.conv_b, d.conv_dim, d.K);
        for (int i = 0; i < d.conv_dim; i++) xbc[(size_t)b * d.conv_dim + i] = silu(pre[(size_t)b * d.conv_dim + i]);
        for (int h = 0; h < d.H; h++)
            delta[(size_t)b * d.H + h] = softplus(zx[(size_t)b * d.Z + d.E + d.conv_dim + h] + w.dt_bias[h]);
        for (int h = 0; h < d.H; h++)
            m2_scan_head_ref(&d, h, 1, xbc + (size_t)b * d.conv_dim, delta + (size_t)b * d.H, A[h], w.D[h],
                         S + ((size_t)b * d.E + (size_t)h * d.P) * d.N, NULL, y + (size_t)b * d.E);
        m2_gate_norm(&d, y + (size_t)b * d.E, zx + (size_t)b * d.Z, w.norm, c->norm_eps, v + (size_t)b * d.E,
                     rstd + (size_t)b * d.G, vn + (size_t)b * d.E);
    }
    sub_linear(s, out, vn, w.out, B, d.D, d.E, 0);
}

/* After a prefill: the conv window from in_proj's xBC part, and each
 * head's S from the scan run again over the saved xBC and Δ (forward keeps
 * no final state), straight into the state's [H, P, N]. */
static void m2_prefill_state(const Sub *s, int B, int T, const real *acts, real *scratch, real *state, int Bs, int b0,
                             int ctx)
{
    (void)ctx;
    const ModelCfg *c = s->cfg;
    M2Dims d = m2_dims(c);
    M2Acts a = m2_acts(&d, (real *)acts, (size_t)B * T);
    (void)scratch;
    int L = d.E / d.G;
    for (int b = 0; b < B; b++) {
        size_t sb = (size_t)(b0 + b), row = (size_t)b * T;
        conv1d_window_after(state + sb * (d.K - 1) * d.conv_dim, a.zx + row * d.Z + d.E, d.Z, T, d.conv_dim, d.K);
        /* the forward's last state, S^T [N, L] a group, into step's [H, P, N] */
        real *S = state + (size_t)Bs * (d.K - 1) * d.conv_dim + sb * d.E * d.N;
        for (int g = 0; g < d.G; g++) {
            const real *last = a.S + ((size_t)b * d.G + g) * d.N * L;
            for (int e = 0; e < L; e++)
                for (int n = 0; n < d.N; n++) S[((size_t)g * L + e) * d.N + n] = last[(size_t)n * L + e];
        }
    }
}

static double m2_flops(const ModelCfg *c, int T)
{
    (void)T;
    M2Dims d = m2_dims(c);
    /* projections + conv + recurrence (decay, update, readout per state element) + norm */
    return 2.0 * d.D * d.Z + 2.0 * d.K * d.conv_dim + 6.0 * d.E * d.N + 5.0 * d.E + 2.0 * d.E * d.D;
}

const SubOps mamba2_ops = {
    .name = "mamba2", .symbol = 'M', .tensors = m2_tensors, .init = m2_init,
    .act_size = m2_act_size, .scratch_size = m2_scratch_size, .infer_act_size = m2_infer_act_size, .forward = m2_forward,
    .backward = m2_backward, .step = m2_step, .prefill_state = m2_prefill_state,
    .state_size = m2_state_size, .state_first = m2_state_first,
    .step_scratch_size = m2_step_scratch_size, .flops = m2_flops,
};
