/* Griffin/Hawk recurrent block (`R`; De et al. 2024), DESIGN §4.
 *   y  = GeLU_tanh(linear_y(x))                           D -> W (lru_width), with bias
 *   xb = conv1d_4(linear_x(x))                            causal depthwise, biases
 *   RG-LRU over xb, gates in H blocks of bw = W/H, weights [H, in, out] used as x·W:
 *     i_t = σ(xb_t W_x + b_x),  r_t = σ(xb_t W_a + b_a)
 *     log a_t = −8 · r_t · softplus(Λ)                    Λ = recurrent_param
 *     h_t = a_t ⊙ h_{t−1} + sqrt(1 − a_t²) ⊙ (i_t ⊙ xb_t)  at t = 0: a = 0, multiplier 1
 *   out = linear_out(h ⊙ y)                               W -> D, with bias
 * sqrt(1 − a²) is computed as sqrt(−expm1(2 log a)): no cancellation as a -> 1.
 * Its derivative is clipped as the official code's (the gradient of sqrt(u)
 * taken as 1/sqrt(max(4u, 1e-6)), at most 1000) so a saturated gate cannot
 * blow up a training step; away from a = 1 this is the exact derivative.
 * The scan's loops, with their plain references, are in rglru_scan.h. */
#include <string.h>
#include <tgmath.h>

#include "core/parallel.h"
#include "models/layers/activations.h"
#include "models/layers/conv1d.h"
#include "models/layers/rglru_scan.h"
#include "models/layers/tensors.h"

typedef struct { real *y_w, *y_b, *x_w, *x_b, *out_w, *out_b, *conv_w, *conv_b, *gi_w, *gi_b, *ga_w, *ga_b, *lambda; } RgWeights;

static int rg_tensors(const ModelCfg *c, TensorDesc *t)
{
    int n = 0, D = c->d_model, W = cfg_lru_width(c), H = cfg_rglru_heads(c), bw = W / H;
    size_t off = 0;
    tensor_add(t, &n, &off, "linear_y.weight", W, D);
    tensor_add(t, &n, &off, "linear_y.bias", W, 0);
    tensor_add(t, &n, &off, "linear_x.weight", W, D);
    tensor_add(t, &n, &off, "linear_x.bias", W, 0);
    tensor_add(t, &n, &off, "linear_out.weight", D, W);
    tensor_add(t, &n, &off, "linear_out.bias", D, 0);
    tensor_add_conv(t, &n, &off, "conv_1d.weight", W, c->conv1d_width);
    tensor_add(t, &n, &off, "conv_1d.bias", W, 0);
    tensor_add3(t, &n, &off, "rg_lru.input_gate_weight", H, bw, bw);
    tensor_add(t, &n, &off, "rg_lru.input_gate_bias", H, bw)->decay = 0;
    tensor_add3(t, &n, &off, "rg_lru.recurrent_gate_weight", H, bw, bw);
    tensor_add(t, &n, &off, "rg_lru.recurrent_gate_bias", H, bw)->decay = 0;
    tensor_add(t, &n, &off, "rg_lru.recurrent_param", W, 0);
    return n;
}

static RgWeights rg_weights(const ModelCfg *c, real *p)
{
    TensorDesc t[16]; /* this family has at most 13 tensors */
    rg_tensors(c, t);
    real *q[13];
    for (int i = 0; i < 13; i++) q[i] = p + t[i].offset;
    RgWeights w = {q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9], q[10], q[11], q[12]};
    return w;
}

/* RecurrentGemma's initialisation: u ~ U(0.9², 0.999²) and softplus(Λ) =
 * −log(u)/2, so the base decay exp(−softplus(Λ)) = sqrt(u) lies in
 * [0.9, 0.999] (Λ here is recurrent_param, the paper's Λ up to sign); gate
 * weights N(0, 1/bw); every bias and vector starts at zero. */
static void rg_init(const Sub *s, Rng *r)
{
    const ModelCfg *c = s->cfg;
    RgWeights w = rg_weights(c, s->p);
    int W = cfg_lru_width(c), H = cfg_rglru_heads(c), bw = W / H;
    for (int i = 0; i < W; i++) {
        double u = 0.9 * 0.9 + rng_uniform(r) * (0.999 * 0.999 - 0.9 * 0.9) + 1e-8;
        w.lambda[i] = (real)log(expm1(-0.5 * log(u)));
    }
    for (size_t i = 0; i < (size_t)H * bw * bw; i++) {
        w.gi_w[i] = (real)(rng_normal(r) / sqrt((double)bw));
        w.ga_w[i] = (real)(rng_normal(r) / sqrt((double)bw));
    }
}


/* acts per M rows, each [M,W]: ypre, y, xb, xc, gi, ga, a, mult, h, g */
enum { A_YPRE, A_Y, A_XB, A_XC, A_GI, A_GA, A_A, A_MULT, A_H, A_G, A_COUNT };
static size_t rg_act_size(const ModelCfg *c, int B, int T) { return (size_t)A_COUNT * B * T * cfg_lru_width(c); }
/* scratch: dg, dh_out [M,W] | dxc, dpre_i, dpre_a, q [M,W] | dxb [M,W] | c, s [W] (rg_lambda_terms) */
static size_t rg_scratch_size(const ModelCfg *c, int B, int T) { return (7 * (size_t)B * T + 2) * cfg_lru_width(c); }

/* gates of all rows: pre[m, h·bw + j] = Σ_i x[m, h·bw + i] W[h, i, j] + b[h, j], then σ.
 * One BLAS gemm per block: a direct block-diagonal loop (rows in fours,
 * the block's outputs in SIMD lanes) measured 3.5-4x slower than OpenBLAS
 * at M = 64..4128, W = 256, bw = 16 and 64, here and for the backward's
 * weight gradient (1 thread, 2026-11-30). */
static void rg_gates(const real *x, const real *Wg, const real *bg, real *out, int M, int W, int H)
{
    int bw = W / H;
    /* the biases [H, bw] are one [W] row */
    for (int m = 0; m < M; m++) memcpy(out + (size_t)m * W, bg, sizeof(real) * W);
    for (int h = 0; h < H; h++)
        cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, bw, bw, 1, x + h * bw, W, Wg + (size_t)h * bw * bw, bw,
                    1, out + h * bw, W);
#pragma omp simd
    for (size_t i = 0; i < (size_t)M * W; i++) out[i] = sigmoid(out[i]);
}

static void rg_forward(const Sub *s, const real *x, real *out, int B, int T, real *acts, real *scratch)
{
    const ModelCfg *c = s->cfg;
    RgWeights w = rg_weights(c, s->p);
    int D = c->d_model, W = cfg_lru_width(c), H = cfg_rglru_heads(c), M = B * T;
    size_t MW = (size_t)M * W;
    real *A[A_COUNT];
    for (int i = 0; i < A_COUNT; i++) A[i] = acts + i * MW;
    sub_linear(s, A[A_YPRE], x, w.y_w, M, W, D, 0);
    bias_fwd(A[A_YPRE], w.y_b, M, W);
#pragma omp simd
    for (size_t i = 0; i < MW; i++) {
        real deriv;
        A[A_Y][i] = gelu_tanh(A[A_YPRE][i], &deriv);
    }
    sub_linear(s, A[A_XB], x, w.x_w, M, W, D, 0);
    bias_fwd(A[A_XB], w.x_b, M, W);
    conv1d_forward(A[A_XC], W, A[A_XB], W, w.conv_w, w.conv_b, B, T, W, c->conv1d_width);
    rg_gates(A[A_XC], w.gi_w, w.gi_b, A[A_GI], M, W, H);
    rg_gates(A[A_XC], w.ga_w, w.ga_b, A[A_GA], M, W, H);
    real *cl = scratch, *h = cl + W; /* scratch holds (B + 1)·W easily: it is 7·M·W + 2·W */
    rg_lambda_terms(w.lambda, W, cl, NULL);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        size_t o = (size_t)b * T * W;
        rg_scan(cl, W, T, 0, A[A_XC] + o, A[A_GI] + o, A[A_GA] + o, A[A_Y] + o, A[A_A] + o, A[A_MULT] + o, A[A_H] + o,
                A[A_G] + o, h + (size_t)b * W);
    }
    sub_linear(s, out, A[A_G], w.out_w, M, D, W, 0);
    bias_fwd(out, w.out_b, M, D);
}

static void rg_backward(const Sub *s, const real *x, const real *dout, real *dx, int B, int T, const real *acts,
                        real *scratch)
{
    const ModelCfg *c = s->cfg;
    RgWeights w = rg_weights(c, s->p), gw = rg_weights(c, s->g);
    int D = c->d_model, W = cfg_lru_width(c), H = cfg_rglru_heads(c), bw = W / H, M = B * T;
    size_t MW = (size_t)M * W;
    const real *A[A_COUNT];
    for (int i = 0; i < A_COUNT; i++) A[i] = acts + i * MW;
    real *dg = scratch, *dh = dg + MW, *dxc = dh + MW, *dpi = dxc + MW, *dpa = dpi + MW, *q = dpa + MW, *dxb = q + MW;
    real *cl = dxb + MW, *sl = cl + W;

    linear_bwd(dg, gw.out_w, dout, A[A_G], w.out_w, M, D, W, 0);
    bias_bwd(gw.out_b, dout, M, D);
#pragma omp simd
    for (size_t i = 0; i < MW; i++) {
        real deriv;
        dh[i] = dg[i] * A[A_Y][i];
        gelu_tanh(A[A_YPRE][i], &deriv);
        dg[i] = dg[i] * A[A_H][i] * deriv; /* now d ypre */
    }
    linear_bwd(dx, gw.y_w, dg, x, w.y_w, M, W, D, 0);
    bias_bwd(gw.y_b, dg, M, W);
    /* reverse-time scan: sequences in parallel, channels in SIMD lanes */
    rg_lambda_terms(w.lambda, W, cl, sl);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        size_t o = (size_t)b * T * W;
        rg_scan_backward(cl, W, T, A[A_XC] + o, A[A_GI] + o, A[A_GA] + o, A[A_A] + o, A[A_MULT] + o, A[A_H] + o, dh + o,
                         dxc + o, dpi + o, dpa + o, q + o);
    }
    rg_lambda_grad(sl, q, M, W, gw.lambda);
    /* gates: pre = xc_blk · W[h] + b[h] */
    real *dpre[2] = {dpi, dpa}, *gWs[2] = {gw.gi_w, gw.ga_w}, *gbs[2] = {gw.gi_b, gw.ga_b};
    const real *Ws[2] = {w.gi_w, w.ga_w};
    for (int g = 0; g < 2; g++) {
        for (int h = 0; h < H; h++) {
            cblas_xgemm(CblasRowMajor, CblasTrans, CblasNoTrans, bw, bw, M, 1, A[A_XC] + h * bw, W, dpre[g] + h * bw, W, 1,
                        gWs[g] + (size_t)h * bw * bw, bw);
            cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, bw, bw, 1, dpre[g] + h * bw, W,
                        Ws[g] + (size_t)h * bw * bw, bw, 1, dxc + h * bw, W);
        }
        /* the biases [H, bw] are one [W] row: whole rows at a time vectorise */
        real *gb = gbs[g];
        for (int m = 0; m < M; m++) {
            const real *dp = dpre[g] + (size_t)m * W;
#pragma omp simd
            for (int k = 0; k < W; k++) gb[k] += dp[k];
        }
    }
    memset(dxb, 0, sizeof(real) * MW);
    conv1d_backward(dxb, W, gw.conv_w, gw.conv_b, dxc, W, A[A_XB], W, w.conv_w, B, T, W, c->conv1d_width);
    linear_bwd(dx, gw.x_w, dxb, x, w.x_w, M, W, D, 1);
    bias_bwd(gw.x_b, dxb, M, W);
}

/* state: conv window [B, K-1, W] | h [B, W] */
static size_t rg_state_size(const ModelCfg *c, int B, int ctx)
{
    (void)ctx;
    return (size_t)B * cfg_lru_width(c) * (size_t)c->conv1d_width;
}

/* conv window [B, K-1, W] | h [B, W] */
static size_t rg_state_first(const ModelCfg *c, int ctx)
{
    (void)ctx;
    return (size_t)(c->conv1d_width - 1) * cfg_lru_width(c);
}

/* acts of one row per sequence | c [W] (rg_lambda_terms) */
static size_t rg_step_scratch_size(const ModelCfg *c, int B, int ctx) { return rg_act_size(c, B, 1) + cfg_lru_width(c); }

static void rg_step(const Sub *s, const real *x, real *out, int B, int pos, int ctx, real *state, real *scratch)
{
    (void)ctx;
    const ModelCfg *c = s->cfg;
    RgWeights w = rg_weights(c, s->p);
    int D = c->d_model, W = cfg_lru_width(c), H = cfg_rglru_heads(c), K = c->conv1d_width;
    size_t BW = (size_t)B * W;
    real *A[A_COUNT], *cl = scratch + A_COUNT * BW;
    for (int i = 0; i < A_COUNT; i++) A[i] = scratch + i * BW;
    real *windows = state, *h = state + (size_t)B * (K - 1) * W;
    sub_linear(s, A[A_YPRE], x, w.y_w, B, W, D, 0);
    bias_fwd(A[A_YPRE], w.y_b, B, W);
#pragma omp simd
    for (size_t i = 0; i < BW; i++) {
        real deriv;
        A[A_Y][i] = gelu_tanh(A[A_YPRE][i], &deriv);
    }
    sub_linear(s, A[A_XB], x, w.x_w, B, W, D, 0);
    bias_fwd(A[A_XB], w.x_b, B, W);
    for (int b = 0; b < B; b++)
        conv1d_step(A[A_XC] + (size_t)b * W, A[A_XB] + (size_t)b * W, windows + (size_t)b * (K - 1) * W, w.conv_w,
                    w.conv_b, W, K);
    rg_gates(A[A_XC], w.gi_w, w.gi_b, A[A_GI], B, W, H);
    rg_gates(A[A_XC], w.ga_w, w.ga_b, A[A_GA], B, W, H);
    rg_lambda_terms(w.lambda, W, cl, NULL);
    for (int b = 0; b < B; b++) {
        size_t o = (size_t)b * W;
        rg_scan(cl, W, 1, pos, A[A_XC] + o, A[A_GI] + o, A[A_GA] + o, A[A_Y] + o, A[A_A] + o, A[A_MULT] + o, A[A_H] + o,
                A[A_G] + o, h + o);
    }
    sub_linear(s, out, A[A_G], w.out_w, B, D, W, 0);
    bias_fwd(out, w.out_b, B, D);
}

/* After a prefill: the conv window from linear_x's rows, and h from the
 * scan's last row (forward keeps every h_t in acts). */
static void rg_prefill_state(const Sub *s, int B, int T, const real *acts, real *scratch, real *state, int Bs, int b0,
                             int ctx)
{
    (void)scratch; (void)ctx;
    const ModelCfg *c = s->cfg;
    int W = cfg_lru_width(c), K = c->conv1d_width;
    size_t MW = (size_t)B * T * W;
    const real *xb = acts + A_XB * MW, *hs = acts + A_H * MW;
    for (int b = 0; b < B; b++) {
        size_t sb = (size_t)(b0 + b), row = (size_t)b * T;
        conv1d_window_after(state + sb * (K - 1) * W, xb + row * W, W, T, W, K);
        memcpy(state + (size_t)Bs * (K - 1) * W + sb * W, hs + (row + T - 1) * W, sizeof(real) * W);
    }
}

static double rg_flops(const ModelCfg *c, int T)
{
    (void)T;
    double D = c->d_model, W = cfg_lru_width(c), H = cfg_rglru_heads(c);
    return 2 * D * W * 3 + 2 * c->conv1d_width * W + 2 * 2 * W * (W / H) + 10 * W;
}

const SubOps rglru_ops = {
    .name = "rglru", .symbol = 'R', .tensors = rg_tensors, .init = rg_init,
    .act_size = rg_act_size, .scratch_size = rg_scratch_size, .forward = rg_forward,
    .backward = rg_backward, .step = rg_step, .prefill_state = rg_prefill_state,
    .state_size = rg_state_size, .state_first = rg_state_first,
    .step_scratch_size = rg_step_scratch_size, .flops = rg_flops,
};
