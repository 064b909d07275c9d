/* The Mamba-2 scan (models/layers/mamba2.c), one sequence:
 *   S_t[h] = exp(Δ_t[h] A[h]) S_{t-1}[h] + Δ_t[h] x_t[h] ⊗ B_t[g]     (P x N), g = h / (H/G)
 *   y_t[h] = S_t[h] C_t[g] + D[h] x_t[h]
 * Two forms: the plain per-head loops (m2_scan_head_ref and its backward),
 * which read like the equations and serve decode, prefill and the tests as
 * the reference; and the training pair m2_scan_group / _backward, which take
 * all heads of one group of B, C together, channels innermost.
 *
 * Why the group form: the heads of a group are contiguous channels of xBC
 * (E/G of them) and share B_t and C_t, so with the state stored transposed,
 * S^T [N, E/G], every loop runs along E/G contiguous channels: y_t
 * accumulates over n with no sum across SIMD lanes, and the backward's
 * reductions over n (dΔ, dx) become per-channel vectors summed once per
 * head at the end of the token. The per-head loops ran P = 16 wide inner
 * loops over N = 16 with scalar accumulators, which GCC did not vectorise. */
#ifndef SEQ_M2_SCAN_H
#define SEQ_M2_SCAN_H

#include <stddef.h>
#include <string.h>
#include <tgmath.h>

#include "core/cpu.h"
#include "core/lanes.h"
#include "core/real.h"

typedef struct { int D, E, H, P, G, N, K, conv_dim, Z; } M2Dims;

/* One head of one sequence: S [P,N] in/out; Ss (saved states, [T, E, N]
 * rows of the sequence) may be NULL. xbc [T, conv_dim], delta [T, H], y [T, E]. */
static inline void m2_scan_head_ref(const M2Dims *d, int h, int T, const real *xbc, const real *delta, real A,
                                    real Dh, real *S, real *Ss, real *y)
{
    int g = h / (d->H / d->G), P = d->P, N = d->N;
    for (int t = 0; t < T; t++) {
        const real *row = xbc + (size_t)t * d->conv_dim, *x = row + h * P;
        const real *Bt = row + d->E + g * N, *Ct = row + d->E + d->G * N + g * N;
        real dt = delta[(size_t)t * d->H + h], decay = exp(dt * A);
        real *yt = y + (size_t)t * d->E + h * P;
        for (int p = 0; p < P; p++) {
            real *Sp = S + (size_t)p * N, acc = Dh * x[p];
            for (int n = 0; n < N; n++) {
                Sp[n] = decay * Sp[n] + dt * x[p] * Bt[n];
                acc += Sp[n] * Ct[n];
            }
            yt[p] = acc;
        }
        if (Ss) memcpy(Ss + ((size_t)t * d->E + h * P) * N, S, sizeof(real) * P * N);
    }
}

/* Reverse-time pass of one head of one sequence, from m2_scan_head_ref's
 * states Ss. dy [T,E] rows; adds dx, dB, dC into dxbc (heads of a group
 * share B and C, so the caller runs a group's heads in one task), writes dΔ
 * into ddelta, adds dA, dD into *dA, *dD. dS: P·N reals of scratch. */
static inline void m2_scan_head_backward_ref(const M2Dims *d, int h, int T, const real *xbc, const real *delta,
                                             real A, real Dh, const real *Ss, const real *dy, real *dxbc,
                                             real *ddelta, real *dS, real *dA, real *dD)
{
    int g = h / (d->H / d->G), P = d->P, N = d->N;
    memset(dS, 0, sizeof(real) * P * N);
    for (int t = T - 1; t >= 0; t--) {
        const real *row = xbc + (size_t)t * d->conv_dim, *x = row + h * P;
        const real *Bt = row + d->E + g * N, *Ct = row + d->E + d->G * N + g * N;
        real *drow = dxbc + (size_t)t * d->conv_dim, *dx = drow + h * P;
        real *dBt = drow + d->E + g * N, *dCt = drow + d->E + d->G * N + g * N;
        const real *St = Ss + ((size_t)t * d->E + h * P) * N;
        const real *Sp = t ? Ss + ((size_t)(t - 1) * d->E + h * P) * N : NULL;
        const real *dyt = dy + (size_t)t * d->E + h * P;
        real dt = delta[(size_t)t * d->H + h], decay = exp(dt * A), ddecay = 0, ddt = 0;
        for (int p = 0; p < P; p++) {
            real *dSp = dS + (size_t)p * N, dxp = dyt[p] * Dh;
            *dD += dyt[p] * x[p];
            for (int n = 0; n < N; n++) {
                real g_s = dSp[n] + dyt[p] * Ct[n];   /* everything that depends on S_t */
                real prev = Sp ? Sp[(size_t)p * N + n] : 0;
                dCt[n] += dyt[p] * St[(size_t)p * N + n];
                ddecay += g_s * prev;
                ddt += g_s * x[p] * Bt[n];
                dxp += g_s * dt * Bt[n];
                dBt[n] += g_s * dt * x[p];
                dSp[n] = g_s * decay;               /* to S_{t-1} */
            }
            dx[p] += dxp;
        }
        ddelta[(size_t)t * d->H + h] = ddt + ddecay * A * decay;
        *dA += ddecay * dt * decay;
    }
}

/* Tokens between the forward's checkpoints of the state (m2_scan_group_any):
 * a chunk's states, C·E/G·N reals, stay in L2 for the backward. The double
 * build (the gradient checks, T ≤ 9) takes 4, so its checks cross chunks. */
#ifdef SEQ_F64
#define M2_CHUNK 4
#else
#define M2_CHUNK 16
#endif

/* Reals of one sequence's checkpoints (m2_scan_group_any's Ss): the state
 * before each chunk but the first. */
static inline size_t m2_ckpt_size(const M2Dims *d, int T)
{
    return T > 0 ? (size_t)((T - 1) / M2_CHUNK) * d->E * d->N : 0;
}

/* Scratch of the group pair, per thread: the state or its gradient [N, L],
 * seven per-channel rows [L] and one chunk's states [M2_CHUNK, N, L], L = E/G. */
static inline size_t m2_scan_work_size(const M2Dims *d)
{
    size_t L = (size_t)(d->E / d->G);
    return L * d->N + 7 * L + (size_t)M2_CHUNK * L * d->N;
}

/* Both training bodies are written once (_any) and compiled for the build's
 * target (AVX2 + FMA) and for x86-64-v4 (AVX-512), picked at run time, as
 * selective_scan.h does: 16 lanes and 32 registers halve the loads and
 * stores these loops are made of. */

/* Per-channel rows of token t for the nh heads h0.. (x their channels):
 * the decay exp(Δ A) of the channel's head (one exp per head), Δ·x, and
 * y's skip term D·x (skip may be NULL). */
CPU_BODY void m2_token_rows(const M2Dims *d, int h0, int nh, const real *x, const real *delta_t, const real *A,
                           const real *Dv, real *restrict dec, real *restrict dtx, real *restrict skip)
{
    int P = d->P;
    for (int j = 0; j < nh; j++) {
        int h = h0 + j;
        real dt = delta_t[h], decay = exp(dt * A[h]), Dh = Dv[h];
        const real *xh = x + (size_t)j * P;
        size_t o = (size_t)j * P;
#pragma omp simd
        for (int p = 0; p < P; p++) {
            dec[o + p] = decay;
            dtx[o + p] = dt * xh[p];
        }
        if (skip)
#pragma omp simd
            for (int p = 0; p < P; p++) skip[o + p] = Dh * xh[p];
    }
}

/* Channels the fast loops hold at a time: one AVX-512 vector, two AVX2
 * ones. The backward keeps each sum across channels as M2_LANES partial
 * sums, folded at the end by lanes_fold16 (core/lanes.h): 16 it must be. */
#define M2_LANES 16
_Static_assert(M2_LANES == 16, "lanes_fold16 folds 16 partial sums");

/* One token's state update S^T_t[n] = decay ⊙ S^T_{t-1}[n] + B_n·(Δx) for
 * every n (prev NULL: S_{t-1} = 0; prev may be cur), and y_t += S_t C_t
 * when yt is not NULL (Ct may then be NULL). Channels go M2_LANES at a
 * time with the n loop inside, so the block's decay, Δx and y_t stay in
 * registers and each state element is one load and one store. */
CPU_BODY void m2_token_forward(int N, int L, const real *Bt, const real *Ct, const real *restrict dec,
                              const real *restrict dtx, const real *prev, real *cur, real *restrict yt)
{
    int e = 0;
    for (; e + M2_LANES <= L; e += M2_LANES) {
        real dv[M2_LANES], xv[M2_LANES], acc[M2_LANES];
#pragma omp simd
        for (int l = 0; l < M2_LANES; l++) {
            dv[l] = dec[e + l];
            xv[l] = dtx[e + l];
            acc[l] = yt ? yt[e + l] : 0;
        }
        for (int n = 0; n < N; n++) {
            real b = Bt[n], c = yt ? Ct[n] : 0;
            real *hn = cur + (size_t)n * L + e;
            if (prev) {
                const real *hp = prev + (size_t)n * L + e;
#pragma omp simd
                for (int l = 0; l < M2_LANES; l++) {
                    real s = fma(dv[l], hp[l], xv[l] * b);
                    hn[l] = s;
                    acc[l] = fma(c, s, acc[l]);
                }
            } else {
#pragma omp simd
                for (int l = 0; l < M2_LANES; l++) {
                    real s = xv[l] * b;
                    hn[l] = s;
                    acc[l] = fma(c, s, acc[l]);
                }
            }
        }
        if (yt)
#pragma omp simd
            for (int l = 0; l < M2_LANES; l++) yt[e + l] = acc[l];
    }
    for (int n = 0; n < N && e < L; n++) { /* the channels past the last block */
        real b = Bt[n];
        real *hn = cur + (size_t)n * L;
        for (int k = e; k < L; k++) {
            hn[k] = prev ? fma(dec[k], prev[(size_t)n * L + k], dtx[k] * b) : dtx[k] * b;
            if (yt) yt[k] = fma(Ct[n], hn[k], yt[k]);
        }
    }
}

/* Forward of heads j0..j0+nh of group g of one sequence (channels
 * g·L + j0·P.., L = E/G), the state transposed: S^T [N, nh·P]. ST holds
 * the state in (the state before t = 0) and out. Inference runs a group's
 * heads in several tasks (they share only B_t, C_t, which are read): a
 * batch-1 prefill had one task per group, the scan of a Mamba-2 130M on
 * one thread, its 768 KiB state past L2. For training (whole groups
 * only), Ss (else NULL) gets a checkpoint every M2_CHUNK tokens, the
 * state before chunk k (k ≥ 1) at Ss[k-1] of [ceil(T/C) - 1, G, N, L]
 * (m2_ckpt_size reals a sequence), and the backward recomputes each
 * chunk's states from it: saving every S_t streamed T·E·N reals through
 * memory twice a step, and the backward stalled on reading them back.
 * A = -exp(A_log) [H], Dv = D [H]. work: m2_scan_work_size reals, of which
 * this uses all but the first N·L (so ST may be those). */
CPU_BODY void m2_scan_heads_any(const M2Dims *d, int g, int j0, int nh, int T, const real *xbc, const real *delta,
                                const real *A, const real *Dv, real *Ss, real *ST, real *y, real *work)
{
    int L = d->E / d->G, N = d->N, Lc = nh * d->P, h0 = g * (d->H / d->G) + j0;
    size_t NL = (size_t)N * L, GNL = (size_t)d->G * NL, off = (size_t)g * L + (size_t)j0 * d->P;
    real *dec = work + NL, *dtx = dec + L;
    for (int t = 0; t < T; t++) {
        const real *row = xbc + (size_t)t * d->conv_dim;
        const real *Bt = row + d->E + g * N, *Ct = row + d->E + d->G * N + g * N;
        real *yt = y + (size_t)t * d->E + off;
        m2_token_rows(d, h0, nh, row + off, delta + (size_t)t * d->H, A, Dv, dec, dtx, yt); /* y_t starts at D·x */
        m2_token_forward(N, Lc, Bt, Ct, dec, dtx, ST, ST, yt);
        if (Ss && (t + 1) % M2_CHUNK == 0 && t + 1 < T)
            memcpy(Ss + (size_t)((t + 1) / M2_CHUNK - 1) * GNL + g * NL, ST, sizeof(real) * NL);
    }
}

/* the whole group g: the training forward */
CPU_BODY void m2_scan_group_any(const M2Dims *d, int g, int T, const real *xbc, const real *delta, const real *A,
                               const real *Dv, real *Ss, real *ST, real *y, real *work)
{
    m2_scan_heads_any(d, g, 0, d->H / d->G, T, xbc, delta, A, Dv, Ss, ST, y, work);
}

/* Σ v[0..n) through M2_LANES partial sums */
CPU_BODY real m2_sum(const real *v, int n)
{
    real acc[M2_LANES] = {0};
    int i = 0;
    for (; i + M2_LANES <= n; i += M2_LANES)
#pragma omp simd
        for (int l = 0; l < M2_LANES; l++) acc[l] += v[i + l];
    for (int l = 0; i < n; i++, l++) acc[l] += v[i];
    return lanes_fold16(acc);
}

/* One state row n of one token's backward: gs = dS_t[n] + dy·C_n (all that
 * depends on S_t) goes on to S_{t-1} as gs ⊙ decay; sA, sB gather the sums
 * over n; returns dB_t[n] in *dB and dC_t[n] in *dC. pn = S_{t-1}[n], NULL
 * at t = 0 (nothing flows further back). */
CPU_BODY void m2_back_row(int L, real b, real c, const real *restrict dyt, const real *restrict sn,
                         const real *restrict pn, const real *restrict dtx, const real *restrict dec, real *restrict dsn,
                         real *restrict sA, real *restrict sB, real *dB, real *dC)
{
    real pB[M2_LANES] = {0}, pC[M2_LANES] = {0};
    int e = 0;
    for (; e + M2_LANES <= L; e += M2_LANES)
#pragma omp simd
        for (int l = 0; l < M2_LANES; l++) {
            int k = e + l;
            real gs = fma(dyt[k], c, dsn[k]);
            pC[l] = fma(dyt[k], sn[k], pC[l]);
            pB[l] = fma(gs, dtx[k], pB[l]);
            sB[k] = fma(gs, b, sB[k]);
            if (pn) {
                sA[k] = fma(gs, pn[k], sA[k]);
                dsn[k] = gs * dec[k];
            }
        }
    for (int l = 0; e < L; e++, l++) {
        real gs = fma(dyt[e], c, dsn[e]);
        pC[l] = fma(dyt[e], sn[e], pC[l]);
        pB[l] = fma(gs, dtx[e], pB[l]);
        sB[e] = fma(gs, b, sB[e]);
        if (pn) {
            sA[e] = fma(gs, pn[e], sA[e]);
            dsn[e] = gs * dec[e];
        }
    }
    *dB = lanes_fold16(pB);
    *dC = lanes_fold16(pC);
}

/* Reverse-time pass of m2_scan_group_any (started from a zero state),
 * chunk by chunk from its checkpoints Ss: a chunk's states are recomputed
 * into work (C·N·L reals, in cache) and read back from there. Adds dx, dB,
 * dC into dxbc [T, conv_dim] (the caller zeroes it), writes dΔ into ddelta
 * [T, H], adds dA, dD into dA [H], dD [H].
 * Per channel e of head h the reference's sums over n are regrouped:
 *   dΔ_h = Σ_e (x_e·sB_e + A·decay·sA_e),   dx_e = Δ_h·sB_e + D_h·dy_e,
 * with sB_e = Σ_n dS_t[n,e]·B_n and sA_e = Σ_n dS_t[n,e]·S_{t-1}[n,e], so
 * per token only dB_t[n], dC_t[n] and dΔ_h cross SIMD lanes; dA and dD
 * gather per channel over the whole sequence and are summed once. */
CPU_BODY void m2_scan_group_backward_any(const M2Dims *d, int g, int T, const real *xbc, const real *delta,
                                        const real *A, const real *Dv, const real *Ss, const real *dy, real *dxbc,
                                        real *ddelta, real *dA, real *dD, real *work)
{
    int L = d->E / d->G, N = d->N, P = d->P, hpg = d->H / d->G;
    size_t NL = (size_t)N * L, GNL = (size_t)d->G * NL;
    real *restrict dS = work, *restrict dec = work + NL, *restrict dtx = dec + L, *restrict sA = dtx + L,
                   *restrict sB = sA + L, *restrict q = sB + L, *restrict dAe = q + L, *restrict dDe = dAe + L,
                   *W = dDe + L;
    memset(dS, 0, sizeof(real) * NL);
    memset(dAe, 0, sizeof(real) * L);
    memset(dDe, 0, sizeof(real) * L);
    for (int k = (T - 1) / M2_CHUNK; k >= 0; k--) {
        int t0 = k * M2_CHUNK, t1 = t0 + M2_CHUNK < T ? t0 + M2_CHUNK : T;
        const real *S0 = k ? Ss + (size_t)(k - 1) * GNL + g * NL : NULL; /* the state before t0 */
        for (int t = t0; t < t1; t++) {
            const real *row = xbc + (size_t)t * d->conv_dim;
            m2_token_rows(d, g * hpg, hpg, row + (size_t)g * L, delta + (size_t)t * d->H, A, Dv, dec, dtx, NULL);
            m2_token_forward(N, L, row + d->E + g * N, NULL, dec, dtx, t > t0 ? W + (size_t)(t - t0 - 1) * NL : S0,
                             W + (size_t)(t - t0) * NL, NULL);
        }
        for (int t = t1 - 1; t >= t0; t--) {
            const real *row = xbc + (size_t)t * d->conv_dim, *x = row + (size_t)g * L;
            const real *Bt = row + d->E + g * N, *Ct = row + d->E + d->G * N + g * N;
            real *drow = dxbc + (size_t)t * d->conv_dim, *dx = drow + (size_t)g * L;
            real *dBt = drow + d->E + g * N, *dCt = drow + d->E + d->G * N + g * N;
            const real *St = W + (size_t)(t - t0) * NL, *Sp = t > t0 ? St - NL : S0;
            const real *dyt = dy + (size_t)t * d->E + (size_t)g * L;
            m2_token_rows(d, g * hpg, hpg, x, delta + (size_t)t * d->H, A, Dv, dec, dtx, NULL);
#pragma omp simd
            for (int e = 0; e < L; e++) {
                sA[e] = 0;
                sB[e] = 0;
            }
            for (int n = 0; n < N; n++) {
                real db, dc;
                if (Sp)
                    m2_back_row(L, Bt[n], Ct[n], dyt, St + (size_t)n * L, Sp + (size_t)n * L, dtx, dec,
                                dS + (size_t)n * L, sA, sB, &db, &dc);
                else
                    m2_back_row(L, Bt[n], Ct[n], dyt, St + (size_t)n * L, NULL, dtx, dec, dS + (size_t)n * L, sA,
                                sB, &db, &dc);
                dBt[n] += db;
                dCt[n] += dc;
            }
            for (int j = 0; j < hpg; j++) {
                int h = g * hpg + j;
                size_t o = (size_t)j * P;
                real dt = delta[(size_t)t * d->H + h], decay = dec[o], Dh = Dv[h], ad = A[h] * decay,
                     dtd = dt * decay;
#pragma omp simd
                for (int p = 0; p < P; p++) {
                    size_t e = o + p;
                    q[e] = fma(x[e], sB[e], ad * sA[e]);
                    dx[e] += fma(dt, sB[e], dyt[e] * Dh);
                    dAe[e] = fma(dtd, sA[e], dAe[e]);
                    dDe[e] = fma(dyt[e], x[e], dDe[e]);
                }
                ddelta[(size_t)t * d->H + h] = m2_sum(q + o, P);
            }
        }
    }
    for (int j = 0; j < hpg; j++) {
        dA[g * hpg + j] += m2_sum(dAe + (size_t)j * P, P);
        dD[g * hpg + j] += m2_sum(dDe + (size_t)j * P, P);
    }
}

CPU_DISPATCH_VOID(m2_scan_group,
                  (const M2Dims *d, int g, int T, const real *xbc, const real *delta, const real *A, const real *Dv,
                   real *Ss, real *ST, real *y, real *work),
                  (d, g, T, xbc, delta, A, Dv, Ss, ST, y, work))
CPU_DISPATCH_VOID(m2_scan_heads,
                  (const M2Dims *d, int g, int j0, int nh, int T, const real *xbc, const real *delta, const real *A,
                   const real *Dv, real *Ss, real *ST, real *y, real *work),
                  (d, g, j0, nh, T, xbc, delta, A, Dv, Ss, ST, y, work))
CPU_DISPATCH_VOID(m2_scan_group_backward,
                  (const M2Dims *d, int g, int T, const real *xbc, const real *delta, const real *A, const real *Dv,
                   const real *Ss, const real *dy, real *dxbc, real *ddelta, real *dA, real *dD, real *work),
                  (d, g, T, xbc, delta, A, Dv, Ss, dy, dxbc, ddelta, dA, dD, work))

#endif
