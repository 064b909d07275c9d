/* RMSNorm, the pre-norm of every sublayer and the final norm (DESIGN §2):
 *   y = x / sqrt(mean(x^2) + eps) · (w + offset)
 * offset = 0 for Llama/Mamba/Jamba, 1 for RecurrentGemma's x̂·(1 + w).
 * backward: with x̂ = x·r and g = dy ⊙ (w + offset),
 *   dx = r · (g − x̂ · mean(g ⊙ x̂)),   dw += Σ_rows dy ⊙ x̂. */
#ifndef SEQ_RMSNORM_H
#define SEQ_RMSNORM_H

#include <stddef.h>
#include <tgmath.h>

#include "core/real.h"

/* The row sums are SIMD reductions (lane-wise partial sums, then folded):
 * as plain loops they stayed scalar, one dependent add an element, and the
 * norms and residuals were 5% of a d_model 64 Transformer's training step. */

/* rstd[N] is saved for backward (may be NULL in decode). */
static inline void rmsnorm_forward(real *y, real *rstd, const real *x, const real *w, int N, int D,
                                   double eps, real offset)
{
    for (int n = 0; n < N; n++) {
        const real *xr = x + (size_t)n * D;
        real *yr = y + (size_t)n * D, ss = 0;
#pragma omp simd reduction(+ : ss)
        for (int i = 0; i < D; i++) ss += xr[i] * xr[i];
        real r = 1 / sqrt(ss / D + (real)eps);
        if (rstd) rstd[n] = r;
#pragma omp simd
        for (int i = 0; i < D; i++) yr[i] = xr[i] * r * (w[i] + offset);
    }
}

/* dx += ..., dw += ... */
static inline void rmsnorm_backward(real *dx, real *dw, const real *dy, const real *x, const real *w,
                                    const real *rstd, int N, int D, real offset)
{
    for (int n = 0; n < N; n++) {
        const real *xr = x + (size_t)n * D, *dyr = dy + (size_t)n * D;
        real *dxr = dx + (size_t)n * D, r = rstd[n], dot = 0;
#pragma omp simd reduction(+ : dot)
        for (int i = 0; i < D; i++) {
            real xhat = xr[i] * r;
            dw[i] += dyr[i] * xhat;
            dot += dyr[i] * (w[i] + offset) * xhat;
        }
        dot /= D;
#pragma omp simd
        for (int i = 0; i < D; i++) dxr[i] += r * (dyr[i] * (w[i] + offset) - xr[i] * r * dot);
    }
}

#endif
