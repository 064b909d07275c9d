/* The parts of the Mamba-1 block that do not depend on how Δ, B and C are
 * made, shared by the selective mixer (mamba1.c) and its LTI ablation
 * (mamba_lti.c):  [u_pre, z] = in_proj(x),  u = SiLU(conv1d(u_pre) + b)
 * on the way in; g = y ⊙ SiLU(z), out = out_proj(g) on the way out.
 *
 * The "No gate" block (mamba_no_gate) is the architecture of the first two
 * rows of Mamba Table 1 (Gu & Dao 2023, arXiv 2312.00752, §4.1.1: "S4, No
 * gate" 18.3%, "No gate, S6" 97.0%). The paper names it but defines it no
 * further (§4.1.1, Table 1, App. E.1 give only the task and training
 * settings); Figure 3 draws the Mamba block as the SSM branch times a SiLU
 * gate branch, so seqbench takes "No gate" as that block without the gate
 * branch: u_pre = in_proj(x) (D -> E, no z half), the same conv, SiLU and
 * SSM (S6 or LTI), out = out_proj(y) (E -> D), with the same pre-norm and
 * residual around it. in_proj then has E rows instead of 2E, and xz rows
 * are E wide (mamba_block_in_width). */
#ifndef SEQ_MAMBA_BLOCK_H
#define SEQ_MAMBA_BLOCK_H

#include <math.h>
#include <string.h>

#include "core/cpu.h"
#include "core/rng.h"
#include "models/config.h"
#include "models/layers/activations.h"
#include "models/layers/conv1d.h"
#include "models/sublayer.h"

/* The block's per-element passes over M rows of E (SiLU, softplus, their
 * derivatives, the gate), each row of each operand at its own stride. An
 * element's exp, log or division is a polynomial of a dozen multiply-adds,
 * and the ISO build fuses none (-ffp-contract=off): these copies are
 * compiled with contraction, flattened so the activations inline into the
 * loops, for the build's target and for x86-64-v4 (picked at run time, as
 * the scans are). At 8 x 256 of the 2-layer d_model 64 Mamba the softplus
 * pass alone went 0.69 -> 0.34 ms a layer. A fused step rounds once, so
 * results move in the last bits; each element's operations are the same
 * on both paths. */
enum {
    MB_SILU,          /* o = SiLU(a) */
    MB_SOFTPLUS,      /* o = softplus(a) */
    MB_MUL_SIGMOID,   /* o *= sigmoid(a), softplus' */
    MB_MUL_SILU_GRAD, /* o *= SiLU'(a) */
    MB_GATE,          /* o = a ⊙ SiLU(b) */
    MB_GATE_BACKWARD  /* o = dL/dg in, dL/dy = o ⊙ SiLU(b) out; p = dL/dz = o ⊙ a ⊙ SiLU'(b); a = y, b = z */
};

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MB_DISPATCH 1
#define MB_PASS static __attribute__((optimize("fp-contract=fast"), flatten))
#else
#define MB_DISPATCH 0
#define MB_PASS static inline
#endif

#define MB_PASS_BODY                                                                                   \
    for (int m = 0; m < M; m++) {                                                                      \
        real *om = o + (size_t)m * os, *pm = p ? p + (size_t)m * ps : NULL;                            \
        const real *am = a + (size_t)m * as, *bm = b ? b + (size_t)m * bs : NULL;                      \
        switch (op) {                                                                                  \
        case MB_SILU:                                                                                  \
            _Pragma("omp simd") for (int e = 0; e < E; e++) om[e] = silu(am[e]);                       \
            break;                                                                                     \
        case MB_SOFTPLUS:                                                                              \
            _Pragma("omp simd") for (int e = 0; e < E; e++) om[e] = softplus(am[e]);                   \
            break;                                                                                     \
        case MB_MUL_SIGMOID:                                                                           \
            _Pragma("omp simd") for (int e = 0; e < E; e++) om[e] *= sigmoid(am[e]);                   \
            break;                                                                                     \
        case MB_MUL_SILU_GRAD:                                                                         \
            _Pragma("omp simd") for (int e = 0; e < E; e++) om[e] *= silu_grad(am[e]);                 \
            break;                                                                                     \
        case MB_GATE:                                                                                  \
            _Pragma("omp simd") for (int e = 0; e < E; e++) om[e] = am[e] * silu(bm[e]);               \
            break;                                                                                     \
        default: /* MB_GATE_BACKWARD */                                                                \
            _Pragma("omp simd") for (int e = 0; e < E; e++) {                                          \
                real z = bm[e], sg = sigmoid(z); /* one exp for SiLU and its derivative */             \
                pm[e] = om[e] * am[e] * sg * (1 + z * (1 - sg));                                       \
                om[e] *= z * sg;                                                                       \
            }                                                                                          \
        }                                                                                              \
    }

MB_PASS void mamba_pass_any(int op, int M, int E, real *o, size_t os, real *p, size_t ps, const real *a, size_t as,
                            const real *b, size_t bs)
{
    MB_PASS_BODY
}

#if MB_DISPATCH
__attribute__((target("arch=x86-64-v4"))) MB_PASS void mamba_pass_v4(int op, int M, int E, real *o, size_t os,
                                                                     real *p, size_t ps, const real *a, size_t as,
                                                                     const real *b, size_t bs)
{
    MB_PASS_BODY
}
#endif

static inline void mamba_pass(int op, int M, int E, real *o, size_t os, real *p, size_t ps, const real *a, size_t as,
                              const real *b, size_t bs)
{
#if MB_DISPATCH
    if (cpu_has_x86_64_v4()) {
        mamba_pass_v4(op, M, E, o, os, p, ps, a, as, b, bs);
        return;
    }
#endif
    mamba_pass_any(op, M, E, o, os, p, ps, a, as, b, bs);
}

/* in_proj's rows, the width of an xz row: [u_pre, z] 2E, or u_pre alone E without the gate */
static inline int mamba_block_in_width(const ModelCfg *c) { return (c->mamba_no_gate ? 1 : 2) * cfg_d_inner(c); }

/* decode state per sequence: the conv window (K-1)·E and h E·N */
static inline size_t mamba_block_state_size(const ModelCfg *c, int B)
{
    return (size_t)B * cfg_d_inner(c) * ((size_t)(c->d_conv - 1) + c->d_state);
}

/* conv window [B, d_conv-1, E] | h [B, E, N]: the first array's reals a sequence */
static inline size_t mamba_block_state_first(const ModelCfg *c, int ctx)
{
    (void)ctx;
    return (size_t)cfg_d_inner(c) * (c->d_conv - 1);
}

/* Backward from du (dL/du, overwritten) to dx (overwritten). dxz [M,IW]
 * already holds dz in its second half (gated); uc is the conv output before SiLU. */
static inline void mamba_block_input_backward(const ModelCfg *c, const real *in_w, real *in_gw, const real *conv_w,
                                              real *conv_gw, real *conv_gb, real *du, const real *uc, const real *xz,
                                              real *dxz, const real *x, real *dx, int B, int T)
{
    int E = cfg_d_inner(c), IW = mamba_block_in_width(c), M = B * T;
    mamba_pass(MB_MUL_SILU_GRAD, M, E, du, E, NULL, 0, uc, E, NULL, 0);
    for (int m = 0; m < M; m++) memset(dxz + (size_t)m * IW, 0, sizeof(real) * E);
    conv1d_backward(dxz, IW, conv_gw, conv_gb, du, E, xz, IW, conv_w, B, T, E, c->d_conv);
    linear_bwd(dx, in_gw, dxz, x, in_w, M, IW, c->d_model, 0);
}

/* g = y ⊙ SiLU(z) [M,E] (z the second half of each xz row), out = out_proj(g);
 * without the gate out = out_proj(y), g unused */
static inline void mamba_block_output_forward(const Sub *s, const real *out_w, const real *y, const real *xz,
                                              real *g, real *out, int M)
{
    const ModelCfg *c = s->cfg;
    int E = cfg_d_inner(c);
    if (c->mamba_no_gate) {
        sub_linear(s, out, y, out_w, M, c->d_model, E, 0);
        return;
    }
    mamba_pass(MB_GATE, M, E, g, E, NULL, 0, y, E, xz + E, 2 * (size_t)E);
    sub_linear(s, out, g, out_w, M, c->d_model, E, 0);
}

/* Backward of mamba_block_output_forward: dy [M,E] gets dL/dy (the scan's
 * upstream gradient), the second half of each dxz row dL/dz, out_gw dL/dW. */
static inline void mamba_block_output_backward(const ModelCfg *c, const real *out_w, real *out_gw, const real *dout,
                                               const real *y, const real *xz, const real *g, real *dy, real *dxz, int M)
{
    int E = cfg_d_inner(c);
    if (c->mamba_no_gate) { /* no z: dL/dy straight from out_proj, nothing in dxz's (absent) second half */
        linear_bwd(dy, out_gw, dout, y, out_w, M, c->d_model, E, 0);
        return;
    }
    linear_bwd(dy, out_gw, dout, g, out_w, M, c->d_model, E, 0); /* dg, turned into dy in place */
    mamba_pass(MB_GATE_BACKWARD, M, E, dy, E, dxz + E, 2 * (size_t)E, y, E, xz + E, 2 * (size_t)E);
}

/* The block's matrices as the official code (mamba_ssm) starts them, for
 * cfg->mamba_init_ssm: it leaves PyTorch's defaults on in_proj, conv1d and
 * x_proj, U(±1/sqrt(fan_in)) (the depthwise conv's fan-in is its width K, so
 * weight and bias are U(±1/2) at K = 4), and draws out_proj the same way
 * divided by sqrt(n_layer). seqbench's default, N(0, 0.02) for every
 * matrix, makes the conv's output ~0.006 and S6's B and C ~7e-4, a saddle
 * (its SSM path is a product u·B·C) that selective copying left or not by
 * seed. x_proj may be NULL (the LTI layer has none); P its rows. */
static inline void mamba_block_init_ssm(const ModelCfg *c, real *in, real *conv_w, real *conv_b, real *x_proj, int P,
                                        real *out, Rng *r)
{
    int D = c->d_model, E = cfg_d_inner(c), K = c->d_conv, IW = mamba_block_in_width(c), layers = 0;
    for (const char *p = c->pattern; *p; p++) layers += *p == 'M';
    double b_in = 1 / sqrt((double)D), b_conv = 1 / sqrt((double)K), b_e = 1 / sqrt((double)E);
    double b_out = b_e / sqrt((double)(layers > 0 ? layers : 1));
    for (size_t i = 0; i < (size_t)IW * D; i++) in[i] = (real)((2 * rng_uniform(r) - 1) * b_in);
    for (size_t i = 0; i < (size_t)E * K; i++) conv_w[i] = (real)((2 * rng_uniform(r) - 1) * b_conv);
    for (int i = 0; i < E; i++) conv_b[i] = (real)((2 * rng_uniform(r) - 1) * b_conv);
    for (size_t i = 0; x_proj && i < (size_t)P * E; i++) x_proj[i] = (real)((2 * rng_uniform(r) - 1) * b_e);
    for (size_t i = 0; i < (size_t)D * E; i++) out[i] = (real)((2 * rng_uniform(r) - 1) * b_out);
}

#endif
