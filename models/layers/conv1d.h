/* Causal depthwise conv1d, as Mamba and Griffin use it before their scans:
 *   y[t, c] = b[c] + Σ_{j<K} w[c, j] · x[t - (K-1) + j, c]     (x = 0 before t = 0)
 * w is PyTorch's [C, 1, K] conv weight. Rows are tokens with stride `ld`
 * (the channels may sit inside a wider row, e.g. half of in_proj's output). */
#ifndef SEQ_CONV1D_H
#define SEQ_CONV1D_H

#include <stddef.h>
#include <string.h>
#include <tgmath.h>

#include "core/real.h"

static inline void conv1d_forward_ref(real *y, int ldy, const real *x, int ldx, const real *w, const real *b,
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

/* dx (+=), dw (+=), db (+=) from dy. The plain reference loop. */
static inline void conv1d_backward_ref(real *dx, int lddx, real *dw, real *db, const real *dy, int lddy, const real *x,
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

/* The fast pair: the channels in blocks of CONV_CB with the block's taps
 * transposed on the stack, wT[j][c], so every inner loop runs along
 * contiguous channels (w[c, j] is K apart between channels, which kept
 * the reference's loops scalar); backward keeps dw's block in a local sum
 * and reads dx as a gather, dx[s] += Σ_j w[j]·dy[s + K-1 - j], each row
 * once. A block spans a whole Mamba of d_model ≤ 128 (E ≤ 256), so the
 * rows, which sit in in_proj's output 2E apart and are long out of cache
 * by the backward, are read in one pass, not one per block (the conv
 * backward of a d_model 64 Mamba went from 4.6% of its training step to
 * 2.7%). Taps past CONV_KMAX fall back to the reference. */
#define CONV_CB 256
#define CONV_KMAX 8

static inline void conv1d_forward(real *y, int ldy, const real *x, int ldx, const real *w, const real *b,
                                  int B, int T, int C, int K)
{
    if (K > CONV_KMAX) {
        conv1d_forward_ref(y, ldy, x, ldx, w, b, B, T, C, K);
        return;
    }
    real wT[CONV_KMAX * CONV_CB], bb[CONV_CB];
    for (int c0 = 0; c0 < C; c0 += CONV_CB) {
        int nc = C - c0 < CONV_CB ? C - c0 : CONV_CB;
        for (int j = 0; j < K; j++)
            for (int i = 0; i < nc; i++) wT[j * CONV_CB + i] = w[(size_t)(c0 + i) * K + j];
        for (int i = 0; i < nc; i++) bb[i] = b ? b[c0 + i] : 0;
        for (int s = 0; s < B; s++)
            for (int t = 0; t < T; t++) {
                real *yr = y + ((size_t)s * T + t) * ldy + c0;
                int j0 = t < K - 1 ? K - 1 - t : 0; /* taps before t = 0 see zeros */
                const real *xr = x + ((size_t)s * T + (t - (K - 1) + j0)) * ldx + c0;
#pragma omp simd
                for (int i = 0; i < nc; i++) yr[i] = bb[i];
                for (int j = j0; j < K; j++, xr += ldx) {
                    const real *wj = wT + j * CONV_CB;
#pragma omp simd
                    for (int i = 0; i < nc; i++) yr[i] += wj[i] * xr[i];
                }
            }
    }
}

/* One row t away from both ends, where every tap is there: one pass over
 * the block's channels, dx's sum over the taps in a register. */
static inline void conv1d_backward_row(real *dxr, real *dwT, real *dbb, const real *dyr, const real *xr,
                                       const real *wT, int nc, int K, int ldx, int lddy)
{
#pragma omp simd
    for (int i = 0; i < nc; i++) {
        real g = dyr[i], acc = 0;
        dbb[i] += g;
#pragma GCC unroll 8
        for (int j = 0; j < K; j++) {
            ptrdiff_t back = (ptrdiff_t)(K - 1 - j);
            dwT[j * CONV_CB + i] = fma(g, xr[i - back * ldx], dwT[j * CONV_CB + i]);
            acc = fma(dyr[i + back * lddy], wT[j * CONV_CB + i], acc);
        }
        dxr[i] += acc;
    }
}

static inline void conv1d_backward(real *dx, int lddx, real *dw, real *db, const real *dy, int lddy, const real *x,
                                   int ldx, const real *w, int B, int T, int C, int K)
{
    if (K > CONV_KMAX) {
        conv1d_backward_ref(dx, lddx, dw, db, dy, lddy, x, ldx, w, B, T, C, K);
        return;
    }
    real wT[CONV_KMAX * CONV_CB], dwT[CONV_KMAX * CONV_CB], dbb[CONV_CB];
    for (int c0 = 0; c0 < C; c0 += CONV_CB) {
        int nc = C - c0 < CONV_CB ? C - c0 : CONV_CB;
        for (int j = 0; j < K; j++)
            for (int i = 0; i < nc; i++) {
                wT[j * CONV_CB + i] = w[(size_t)(c0 + i) * K + j];
                dwT[j * CONV_CB + i] = 0;
            }
        for (int i = 0; i < nc; i++) dbb[i] = 0;
        for (int s = 0; s < B; s++)
            for (int t = 0; t < T; t++) {
                const real *dyr = dy + ((size_t)s * T + t) * lddy + c0;
                const real *xr = x + ((size_t)s * T + t) * ldx + c0;
                real *dxr = dx + ((size_t)s * T + t) * lddx + c0;
                if (t >= K - 1 && t + K - 1 < T) {
                    if (K == 4) /* every preset's width: the taps unroll, the channels vectorise */
                        conv1d_backward_row(dxr, dwT, dbb, dyr, xr, wT, nc, 4, ldx, lddy);
                    else
                        conv1d_backward_row(dxr, dwT, dbb, dyr, xr, wT, nc, K, ldx, lddy);
                    continue;
                }
#pragma omp simd
                for (int i = 0; i < nc; i++) dbb[i] += dyr[i];
                /* tap j pairs output t with input t - (K-1) + j; as input, t
                 * feeds outputs t + (K-1) - j */
                for (int j = 0; j < K; j++) {
                    int src = t - (K - 1) + j, dst = t + (K - 1) - j;
                    real *dwj = dwT + j * CONV_CB;
                    const real *wj = wT + j * CONV_CB;
                    if (src >= 0) {
                        const real *xs = xr - (ptrdiff_t)(K - 1 - j) * ldx;
#pragma omp simd
                        for (int i = 0; i < nc; i++) dwj[i] += dyr[i] * xs[i];
                    }
                    if (dst < T) {
                        const real *dyd = dyr + (ptrdiff_t)(K - 1 - j) * lddy;
#pragma omp simd
                        for (int i = 0; i < nc; i++) dxr[i] += dyd[i] * wj[i];
                    }
                }
            }
        for (int j = 0; j < K; j++)
            for (int i = 0; i < nc; i++) dw[(size_t)(c0 + i) * K + j] += dwT[j * CONV_CB + i];
        if (db)
            for (int i = 0; i < nc; i++) db[c0 + i] += dbb[i];
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
