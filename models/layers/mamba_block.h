/* The parts of the Mamba-1 block that do not depend on how Δ, B and C are
 * made, shared by the selective mixer (mamba1.c) and its LTI ablation
 * (mamba_lti.c):  [u_pre, z] = in_proj(x),  u = SiLU(conv1d(u_pre) + b)
 * on the way in; g = y ⊙ SiLU(z), out = out_proj(g) on the way out. */
#ifndef SEQ_MAMBA_BLOCK_H
#define SEQ_MAMBA_BLOCK_H

#include <string.h>

#include "models/config.h"
#include "models/layers/activations.h"
#include "models/layers/conv1d.h"

/* decode state per sequence: the conv window (K-1)·E and h E·N */
static inline size_t mamba_block_state_size(const ModelCfg *c, int B)
{
    return (size_t)B * cfg_d_inner(c) * ((size_t)(c->d_conv - 1) + c->d_state);
}

/* Backward from du (dL/du, overwritten) to dx (overwritten). dxz [M,2E]
 * already holds dz in its second half; uc is the conv output before SiLU. */
static inline void mamba_block_input_backward(const ModelCfg *c, const real *in_w, real *in_gw, const real *conv_w,
                                              real *conv_gw, real *conv_gb, real *du, const real *uc, const real *xz,
                                              real *dxz, const real *x, real *dx, int B, int T)
{
    int E = cfg_d_inner(c), M = B * T;
#pragma omp simd
    for (size_t i = 0; i < (size_t)M * E; i++) du[i] *= silu_grad(uc[i]);
    for (int m = 0; m < M; m++) memset(dxz + (size_t)m * 2 * E, 0, sizeof(real) * E);
    conv1d_backward(dxz, 2 * E, conv_gw, conv_gb, du, E, xz, 2 * E, conv_w, B, T, E, c->d_conv);
    linear_bwd(dx, in_gw, dxz, x, in_w, M, 2 * E, c->d_model, 0);
}

/* g = y ⊙ SiLU(z) [M,E] (z the second half of each xz row), out = out_proj(g) */
static inline void mamba_block_output_forward(const ModelCfg *c, const real *out_w, const real *y, const real *xz,
                                              real *g, real *out, int M)
{
    int E = cfg_d_inner(c);
    for (size_t m = 0; m < (size_t)M; m++) {
        const real *ym = y + m * E, *zm = xz + m * 2 * E + E;
        real *gm = g + m * E;
#pragma omp simd
        for (int e = 0; e < E; e++) gm[e] = ym[e] * silu(zm[e]);
    }
    linear_fwd(out, g, out_w, M, c->d_model, E, 0);
}

/* Backward of mamba_block_output_forward: dy [M,E] gets dL/dy (the scan's
 * upstream gradient), the second half of each dxz row dL/dz, out_gw dL/dW. */
static inline void mamba_block_output_backward(const ModelCfg *c, const real *out_w, real *out_gw, const real *dout,
                                               const real *y, const real *xz, const real *g, real *dy, real *dxz, int M)
{
    int E = cfg_d_inner(c);
    linear_bwd(dy, out_gw, dout, g, out_w, M, c->d_model, E, 0); /* dg, turned into dy in place */
    for (size_t m = 0; m < (size_t)M; m++) {
        const real *ym = y + m * E, *zm = xz + m * 2 * E + E;
        real *dym = dy + m * E, *dzm = dxz + m * 2 * E + E;
#pragma omp simd
        for (int e = 0; e < E; e++) {
            real sg = sigmoid(zm[e]); /* one exp for SiLU and its derivative */
            dzm[e] = dym[e] * ym[e] * sg * (1 + zm[e] * (1 - sg));
            dym[e] *= zm[e] * sg;
        }
    }
}

#endif
