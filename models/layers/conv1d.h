/* Causal depthwise conv1d, as Mamba and Griffin use it before their scans:
 *   y[t, c] = b[c] + Σ_{j<K} w[c, j] · x[t - (K-1) + j, c]     (x = 0 before t = 0)
 * w is PyTorch's [C, 1, K] conv weight. Rows are tokens with stride `ld`
 * (the channels may sit inside a wider row, e.g. half of in_proj's output). */
#ifndef SEQ_CONV1D_H
#define SEQ_CONV1D_H

#include <stddef.h>
#include <string.h>

#include "core/real.h"

static inline void conv1d_forward(real *y, int ldy, const real *x, int ldx, const real *w, const real *b,
                                  int B, int T, int C, int K)
{
    for (int s = 0; s < B; s++)
        for (int t = 0; t < T; t++) {
            real *yr = y + ((size_t)s * T + t) * ldy;
            for (int c = 0; c < C; c++) yr[c] = b ? b[c] : 0;
            for (int j = 0; j < K; j++) {
                int src = t - (K - 1) + j;
                if (src < 0) continue;
                const real *xr = x + ((size_t)s * T + src) * ldx;
                for (int c = 0; c < C; c++) yr[c] += w[(size_t)c * K + j] * xr[c];
            }
        }
}

/* dx (+=), dw (+=), db (+=) from dy. */
static inline void conv1d_backward(real *dx, int lddx, real *dw, real *db, const real *dy, int lddy, const real *x,
                                   int ldx, const real *w, int B, int T, int C, int K)
{
    for (int s = 0; s < B; s++)
        for (int t = 0; t < T; t++) {
            const real *dyr = dy + ((size_t)s * T + t) * lddy;
            if (db)
                for (int c = 0; c < C; c++) db[c] += dyr[c];
            for (int j = 0; j < K; j++) {
                int src = t - (K - 1) + j;
                if (src < 0) continue;
                const real *xr = x + ((size_t)s * T + src) * ldx;
                real *dxr = dx + ((size_t)s * T + src) * lddx;
                for (int c = 0; c < C; c++) {
                    dw[(size_t)c * K + j] += dyr[c] * xr[c];
                    dxr[c] += dyr[c] * w[(size_t)c * K + j];
                }
            }
        }
}

/* One decode token: window holds the K-1 previous inputs [K-1, C], oldest
 * first; it is shifted to take x in. */
static inline void conv1d_step(real *y, const real *x, real *window, const real *w, const real *b, int C, int K)
{
    /* tap by tap over all channels, so the inner loop runs over contiguous c */
#pragma omp simd
    for (int c = 0; c < C; c++) y[c] = (b ? b[c] : 0) + w[(size_t)c * K + K - 1] * x[c];
    for (int j = 0; j < K - 1; j++) {
        const real *wj = window + (size_t)j * C;
#pragma omp simd
        for (int c = 0; c < C; c++) y[c] += w[(size_t)c * K + j] * wj[c];
    }
    if (K > 1) {
        memmove(window, window + C, sizeof(real) * (size_t)(K - 2) * C);
        memcpy(window + (size_t)(K - 2) * C, x, sizeof(real) * C);
    }
}

/* The window conv1d_step would hold after T inputs (rows of stride ldx):
 * inputs T-(K-1) .. T-1 oldest first, zeros before position 0. For a
 * prefill that hands over to the step path. */
static inline void conv1d_window_after(real *window, const real *x, int ldx, int T, int C, int K)
{
    for (int j = 0; j < K - 1; j++) {
        int src = T - (K - 1) + j;
        if (src < 0) memset(window + (size_t)j * C, 0, sizeof(real) * C);
        else memcpy(window + (size_t)j * C, x + (size_t)src * ldx, sizeof(real) * C);
    }
}

#endif
