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

#include <string.h>

#include "models/config.h"
#include "models/layers/activations.h"
#include "models/layers/conv1d.h"

/* in_proj's rows, the width of an xz row: [u_pre, z] 2E, or u_pre alone E without the gate */
static inline int mamba_block_in_width(const ModelCfg *c) { return (c->mamba_no_gate ? 1 : 2) * cfg_d_inner(c); }

/* decode state per sequence: the conv window (K-1)·E and h E·N */
static inline size_t mamba_block_state_size(const ModelCfg *c, int B)
{
    return (size_t)B * cfg_d_inner(c) * ((size_t)(c->d_conv - 1) + c->d_state);
}

/* Backward from du (dL/du, overwritten) to dx (overwritten). dxz [M,IW]
 * already holds dz in its second half (gated); uc is the conv output before SiLU. */
static inline void mamba_block_input_backward(const ModelCfg *c, const real *in_w, real *in_gw, const real *conv_w,
                                              real *conv_gw, real *conv_gb, real *du, const real *uc, const real *xz,
                                              real *dxz, const real *x, real *dx, int B, int T)
{
    int E = cfg_d_inner(c), IW = mamba_block_in_width(c), M = B * T;
#pragma omp simd
    for (size_t i = 0; i < (size_t)M * E; i++) du[i] *= silu_grad(uc[i]);
    for (int m = 0; m < M; m++) memset(dxz + (size_t)m * IW, 0, sizeof(real) * E);
    conv1d_backward(dxz, IW, conv_gw, conv_gb, du, E, xz, IW, conv_w, B, T, E, c->d_conv);
    linear_bwd(dx, in_gw, dxz, x, in_w, M, IW, c->d_model, 0);
}

/* g = y ⊙ SiLU(z) [M,E] (z the second half of each xz row), out = out_proj(g);
 * without the gate out = out_proj(y), g unused */
static inline void mamba_block_output_forward(const ModelCfg *c, const real *out_w, const real *y, const real *xz,
                                              real *g, real *out, int M)
{
    int E = cfg_d_inner(c);
    if (c->mamba_no_gate) {
        linear_fwd(out, y, out_w, M, c->d_model, E, 0);
        return;
    }
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
    if (c->mamba_no_gate) { /* no z: dL/dy straight from out_proj, nothing in dxz's (absent) second half */
        linear_bwd(dy, out_gw, dout, y, out_w, M, c->d_model, E, 0);
        return;
    }
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
