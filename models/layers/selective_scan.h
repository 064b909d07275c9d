/* The Mamba-1 scan (DESIGN §4), one sequence, written as the plain loop so
 * the code reads like the equations:
 *   h_t[e,n] = exp(Δ_t[e]·A[e,n])·h_{t-1}[e,n] + Δ_t[e]·B_t[e,n]·u_t[e]
 *   y_t[e]   = Σ_n C_t[e,n]·h_t[e,n] + D[e]·u_t[e]
 * Strides make one loop serve both variants: the selective S6 has B_t, C_t
 * shared by all channels (stride over e = 0, rows of x_proj's output) and Δ
 * per token; the LTI ablation has fixed B[e,n], C[e,n] and Δ[e] (stride over
 * t = 0). Linear in T with an E·N state; never a T×T matrix.
 *
 * Three forms, from plain to fast: the _ref loops (the reference: they save
 * every h_t, T·E·N reals a sequence, and the backward reads them back);
 * scan_forward_t, channels innermost, with no saved states (decode's
 * prefilled state and inference); and the training pair scan_forward_ck /
 * scan_backward_ck, which keep a state only every SCAN_CHUNK tokens and
 * recompute the rest in cache (below). */
#ifndef SEQ_SELECTIVE_SCAN_H
#define SEQ_SELECTIVE_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <tgmath.h>

#include "core/cpu.h"
#include "core/lanes.h"
#include "core/real.h"
#include "core/vexp.h"

typedef struct {
    int T, E, N;
    const real *u; size_t u_t;          /* u[t*u_t + e] */
    const real *dt; size_t dt_t;        /* Δ[t*dt_t + e]  (dt_t = 0: LTI) */
    const real *B, *C; size_t bc_t, bc_e; /* B[t*bc_t + e*bc_e + n] */
    const real *A, *D;                  /* A = -exp(A_log) [E, N], D [E] */
} ScanIn;

/* y[t*y_t + e]; hs [T, E, N] (may be NULL); h [E, N] holds the state in and out.
 * The plain reference loop; scan_forward below is the fast one. */
static inline void scan_forward_ref(const ScanIn *s, real *y, size_t y_t, real *hs, real *h)
{
    int E = s->E, N = s->N;
    for (int t = 0; t < s->T; t++)
        for (int e = 0; e < E; e++) {
            real d = s->dt[t * s->dt_t + e], u = s->u[t * s->u_t + e], acc = s->D[e] * u;
            const real *Bt = s->B + t * s->bc_t + e * s->bc_e, *Ct = s->C + t * s->bc_t + e * s->bc_e;
            real *he = h + (size_t)e * N;
            for (int n = 0; n < N; n++) {
                he[n] = exp(d * s->A[(size_t)e * N + n]) * he[n] + d * Bt[n] * u;
                acc += Ct[n] * he[n];
            }
            if (hs) memcpy(hs + ((size_t)t * E + e) * N, he, sizeof(real) * N);
            y[t * y_t + e] = acc;
        }
}

typedef struct {
    real *du; size_t du_t;              /* += */
    real *ddt;                          /* += at Δ's stride */
    real *dB, *dC;                      /* += at B/C's strides */
    real *dA, *dD;                      /* += [E, N], [E] */
} ScanGrad;

/* Reverse-time pass for dy[t*dy_t + e], using the saved states hs; dh is
 * [E, N] scratch (the gradient flowing back through h). The plain reference
 * loop; scan_backward below is the fast one. */
static inline void scan_backward_ref(const ScanIn *s, const real *dy, size_t dy_t, const real *hs, real *dh,
                                 const ScanGrad *g)
{
    int E = s->E, N = s->N;
    memset(dh, 0, sizeof(real) * (size_t)E * N);
    for (int t = s->T - 1; t >= 0; t--)
        for (int e = 0; e < E; e++) {
            real d = s->dt[t * s->dt_t + e], u = s->u[t * s->u_t + e], dye = dy[t * dy_t + e];
            const real *Bt = s->B + t * s->bc_t + e * s->bc_e, *Ct = s->C + t * s->bc_t + e * s->bc_e;
            real *dBt = g->dB + t * s->bc_t + e * s->bc_e, *dCt = g->dC + t * s->bc_t + e * s->bc_e;
            const real *ht = hs + ((size_t)t * E + e) * N, *hp = t ? hs + ((size_t)(t - 1) * E + e) * N : NULL;
            real *dhe = dh + (size_t)e * N, dd = 0, du = dye * s->D[e];
            g->dD[e] += dye * u;
            for (int n = 0; n < N; n++) {
                real a = s->A[(size_t)e * N + n], decay = exp(d * a), prev = hp ? hp[n] : 0;
                real dht = dhe[n] + dye * Ct[n];  /* all that depends on h_t */
                dCt[n] += dye * ht[n];
                dd += dht * (a * decay * prev + Bt[n] * u);
                g->dA[(size_t)e * N + n] += dht * d * decay * prev;
                dBt[n] += dht * d * u;
                du += dht * d * Bt[n];
                dhe[n] = dht * decay;            /* to h_{t-1} */
            }
            g->ddt[t * s->dt_t + e] += dd;
            g->du[t * g->du_t + e] += du;
        }
}

/* A = -exp(A_log), n reals */
static inline void neg_exp(real *A, const real *A_log, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) A[i] = -exp_fast(A_log[i]);
}

/* The same two passes, fast for any strides: the decays exp(Δ·A) of a
 * block of states are taken together by vexp, and the loops over n run as
 * SIMD lanes (with Δ·u hoisted out of the n loop, so roundings differ from
 * the reference by an ulp or so: tests/test_kernels.c compares the two).
 * The LTI ablation's path (B, C per channel); the selective S6 trains with
 * scan_forward_ck / scan_backward_ck below. */
#define SCAN_BLOCK 64

static inline void scan_forward(const ScanIn *s, real *y, size_t y_t, real *hs, real *h)
{
    int E = s->E, N = s->N;
    real decay[SCAN_BLOCK];
    for (int t = 0; t < s->T; t++)
        for (int e = 0; e < E; e++) {
            real d = s->dt[t * s->dt_t + e], u = s->u[t * s->u_t + e], du = d * u, acc = s->D[e] * u;
            const real *Bt = s->B + t * s->bc_t + e * s->bc_e, *Ct = s->C + t * s->bc_t + e * s->bc_e;
            const real *Ae = s->A + (size_t)e * N;
            real *he = h + (size_t)e * N;
            for (int n0 = 0; n0 < N; n0 += SCAN_BLOCK) {
                int nb = N - n0 < SCAN_BLOCK ? N - n0 : SCAN_BLOCK;
#pragma omp simd
                for (int i = 0; i < nb; i++) decay[i] = d * Ae[n0 + i];
                vexp(decay, decay, nb);
#pragma omp simd reduction(+ : acc)
                for (int i = 0; i < nb; i++) {
                    real hn = decay[i] * he[n0 + i] + du * Bt[n0 + i];
                    he[n0 + i] = hn;
                    acc += Ct[n0 + i] * hn;
                }
            }
            if (hs) memcpy(hs + ((size_t)t * E + e) * N, he, sizeof(real) * N);
            y[t * y_t + e] = acc;
        }
}

/* One decode token of the selective (S6) scan, B and C shared by all
 * channels, with the state stored transposed, hT[n][e] (and AT[n][e] =
 * A[e][n]): every loop runs along the channels, contiguous, with no sum
 * across SIMD lanes, and one vexp takes all E·N decays. scan_forward_ref
 * with T = 1 is its reference (tests/test_eval.c). Per step of a 2-layer
 * d_model 64 Mamba this replaced E calls of a 16-wide vexp and a lane
 * reduction per channel (the reduction alone was a third of m1_step).
 * x: E·N reals of scratch. */
static inline void scan_step_t(int E, int N, const real *u, const real *dt, const real *B, const real *C,
                               const real *AT, const real *D, real *y, real *hT, real *x)
{
    for (int n = 0; n < N; n++) {
        const real *a = AT + (size_t)n * E;
        real *xn = x + (size_t)n * E;
#pragma omp simd
        for (int e = 0; e < E; e++) xn[e] = dt[e] * a[e];
    }
    vexp(x, x, E * N);
#pragma omp simd
    for (int e = 0; e < E; e++) y[e] = D[e] * u[e];
    for (int n = 0; n < N; n++) {
        real b = B[n], c = C[n], *h = hT + (size_t)n * E;
        const real *dec = x + (size_t)n * E;
#pragma omp simd
        for (int e = 0; e < E; e++) {
            real hn = dec[e] * h[e] + dt[e] * u[e] * b;
            h[e] = hn;
            y[e] += c * hn;
        }
    }
}

static inline void scan_backward(const ScanIn *s, const real *dy, size_t dy_t, const real *hs, real *dh,
                                 const ScanGrad *g)
{
    int E = s->E, N = s->N;
    real decay[SCAN_BLOCK];
    memset(dh, 0, sizeof(real) * (size_t)E * N);
    for (int t = s->T - 1; t >= 0; t--)
        for (int e = 0; e < E; e++) {
            real d = s->dt[t * s->dt_t + e], u = s->u[t * s->u_t + e], dye = dy[t * dy_t + e], du_ = d * u;
            const real *Bt = s->B + t * s->bc_t + e * s->bc_e, *Ct = s->C + t * s->bc_t + e * s->bc_e;
            real *dBt = g->dB + t * s->bc_t + e * s->bc_e, *dCt = g->dC + t * s->bc_t + e * s->bc_e;
            const real *ht = hs + ((size_t)t * E + e) * N, *hp = t ? hs + ((size_t)(t - 1) * E + e) * N : NULL;
            const real *Ae = s->A + (size_t)e * N;
            real *dhe = dh + (size_t)e * N, *dAe = g->dA + (size_t)e * N, dd = 0, du = dye * s->D[e];
            g->dD[e] += dye * u;
            for (int n0 = 0; n0 < N; n0 += SCAN_BLOCK) {
                int nb = N - n0 < SCAN_BLOCK ? N - n0 : SCAN_BLOCK;
#pragma omp simd
                for (int i = 0; i < nb; i++) decay[i] = d * Ae[n0 + i];
                vexp(decay, decay, nb);
#pragma omp simd reduction(+ : dd, du)
                for (int i = 0; i < nb; i++) {
                    int n = n0 + i;
                    real a = Ae[n], prev = hp ? hp[n] : 0, dec = decay[i];
                    real dht = dhe[n] + dye * Ct[n];
                    dCt[n] += dye * ht[n];
                    dd += dht * (a * dec * prev + Bt[n] * u);
                    dAe[n] += dht * d * dec * prev;
                    dBt[n] += dht * du_;
                    du += dht * d * Bt[n];
                    dhe[n] = dht * dec;
                }
            }
            g->ddt[t * s->dt_t + e] += dd;
            g->du[t * g->du_t + e] += du;
        }
}

/* The fast scans below are written once, as the _any bodies, and
 * compiled twice with GCC on x86-64: for the build's target (AVX2 + FMA)
 * and for x86-64-v4 (AVX-512), picked at run time by the dispatching
 * entry points. The v4 copy runs 16-lane vectors with 32 registers (the
 * AVX2 one spills): on a Zen 5 the 8 x 256 scans of a d_model 64 Mamba ran
 * ~20% faster alone, ~7% of the whole training step. Each lane computes
 * the same operations either way; only the order of dB's and dC's sums
 * across lanes differs between the two. */

/* The selective S6 scan channels innermost (B_t, C_t shared by all channels:
 * bc_e = 0), channels innermost as in scan_step_t: A is given transposed,
 * AT[n][e] = A[e][n], the state is hT [N, E] and the saved states hs
 * [T, N, E]. Every loop runs along contiguous channels, the decays are taken
 * inline (exp_fast in the loop, no scratch), and y_t[e] accumulates over n
 * with no sum across SIMD lanes. The channel-outer loop above made a 16-lane
 * vexp call and a lane reduction per (t, e); this one does E·N elements per
 * token in straight vector code. hT [N, E] holds the state in and out. */
CPU_BODY void scan_forward_t_any(const ScanIn *s, const real *AT, real *y, size_t y_t, real *hT)
{
    int E = s->E, N = s->N;
    for (int t = 0; t < s->T; t++) {
        const real *d = s->dt + t * s->dt_t, *u = s->u + t * s->u_t;
        const real *Bt = s->B + t * s->bc_t, *Ct = s->C + t * s->bc_t;
        real *yt = y + t * y_t;
#pragma omp simd
        for (int e = 0; e < E; e++) yt[e] = s->D[e] * u[e];
        for (int n = 0; n < N; n++) {
            real b = Bt[n], c = Ct[n];
            const real *a = AT + (size_t)n * E;
            real *hn = hT + (size_t)n * E;
#pragma omp simd
            for (int e = 0; e < E; e++) {
                real h = fma(exp_fma(d[e] * a[e]), hn[e], d[e] * u[e] * b);
                hn[e] = h;
                yt[e] = fma(c, h, yt[e]);
            }
        }
    }
}

/* Channels the LTI backward (lti_scan.h) handles together: its
 * per-channel sums live on the stack, and a block's rows of dh, dA, hs
 * stay in L1 for any E. */
#define SCAN_ECHUNK 128

CPU_DISPATCH_VOID(scan_forward_t, (const ScanIn *s, const real *AT, real *y, size_t y_t, real *hT),
                  (s, AT, y, y_t, hT))

/* The training pair with checkpoints, as m2_scan.h does for Mamba-2: the
 * forward keeps the state only every SCAN_CHUNK tokens, and the backward
 * recomputes one chunk's states and decays at a time into a per-thread
 * buffer that stays in cache, then runs the reverse pass over it.
 * The pair it replaced saved every h_t (T·E·N reals a sequence, 32 MiB a
 * step of the 2-layer d_model 64 Mamba at 8 x 256), and its backward read
 * them back twice and took every decay again; here the decays are taken
 * once in the forward and once in the backward's recompute, and the reverse
 * pass reads them from the buffer. The _ref loops are the references of
 * this pair (tests/test_m1_scan.c).
 * The double build (the gradient checks, T ≤ 9) takes chunks of 4, so its
 * checks cross chunks. 8 and 32 measured no better than 16. */
#ifdef SEQ_F64
#define SCAN_CHUNK 4
#else
#define SCAN_CHUNK 16
#endif

/* Channels the backward recomputes together: a chunk's states and decays
 * for them (2·16·N·128 reals, 256 KiB at N = 16) stay in L2 at any E.
 * Blocks of 16 to 64 measured no better. */
#define SCAN_CK_EBLOCK 128

/* Channels the forward holds in registers at a time (one AVX-512 vector,
 * two AVX2 ones), with the n loop inside: y_t, Δ and Δ·u of the block stay
 * in registers and each state element is one load and one store. The
 * backward's sums over channels are as many partial sums, folded by
 * lanes_fold16 (core/lanes.h): 16 it must be. */
#define SCAN_LANES 16
_Static_assert(SCAN_LANES == 16, "lanes_fold16 folds 16 partial sums");

/* exp(x) for the decays x = Δ·A ≤ 0 (Δ = softplus > 0, A = -exp(A_log) <
 * 0), cheaper than expf_fma (core/vexp.h), whose cost is most of these
 * loops: only the lower clamp (the two-sided one compiled to eight
 * compares and blends); the reduction r = x - k·ln2 in one step (ln2
 * rounded to float is off by 1.9e-9, so r by |k|·1.9e-9: ≤ 6e-8 for the
 * decays above 1e-13 that carry any weight); and exp(r) = 1 + r + r²·P(r)
 * with P of degree 3 fitted (minimax, relative) on |r| ≤ ln2/2 instead of
 * degree 5, the last add folded into the scaling. Relative error ≤ 3e-7
 * for x in [-20, 0], ≤ 5e-7 down to -87.3 (tests/test_m1_scan.c); x > 0
 * is never passed; NaN stays NaN. The double build keeps libm's exp. */
static inline real scan_decay(real x)
{
#ifdef SEQ_F64
    return exp(x);
#else
    x = x < -87.3f ? -87.3f : x;
    float t = fmaf(x, 1.44269504088896341f, 12582912.0f), k = t - 12582912.0f;
    uint32_t tb;
    memcpy(&tb, &t, sizeof tb);
    float r = fmaf(k, -0.693147180559945f, x);
    float p = 8.3691509825e-3f;
    p = fmaf(p, r, 4.1917529688e-2f);
    p = fmaf(p, r, 1.6666523181e-1f);
    p = fmaf(p, r, 4.9998994883e-1f);
    p = fmaf(p * r, r, r); /* exp(r) - 1 */
    uint32_t bits = (tb - 0x4B400000u + 127u) << 23;
    float sc;
    memcpy(&sc, &bits, sizeof sc);
    return fmaf(p, sc, sc);
#endif
}

/* Reals of one sequence's checkpoints: the state before each chunk but the first. */
static inline size_t scan_ckpt_size(int T, int E, int N)
{
    return T > 0 ? (size_t)((T - 1) / SCAN_CHUNK) * E * N : 0;
}

/* Reals between state-shaped buffers, so that rows of one (E or
 * SCAN_CK_EBLOCK reals apart, a multiple of 512 bytes at the usual widths)
 * do not sit at the same address modulo 4 KiB as rows of another: a load
 * that matches an earlier store's low 12 address bits waits for it (4K
 * aliasing). With the state h 16 KiB + 512 bytes past A, each store to h
 * row n stalled the load of A row n + 1, and the forward scan of the
 * 2-layer d_model 64 Mamba ran 2.4 ms a layer instead of 1.1. */
#define SCAN_SKEW 16

/* Per-thread scratch of scan_backward_ck: dh [N, E] and one chunk's states
 * and decays for a block of SCAN_CK_EBLOCK channels, [SCAN_CHUNK, N,
 * SCAN_CK_EBLOCK] each, SCAN_SKEW apart. */
static inline size_t scan_ck_work_size(int E, int N)
{
    return (size_t)E * N + 2 * (size_t)SCAN_CHUNK * N * SCAN_CK_EBLOCK + 2 * SCAN_SKEW;
}

/* One token of the S6 scan over all channels, the state hT [N, E] updated
 * in place, y_t written. */
CPU_BODY void scan_token_ck(int E, int N, const real *AT, const real *D, const real *d, const real *u,
                             const real *Bt, const real *Ct, real *hT, real *yt)
{
    int e = 0;
    for (; e + SCAN_LANES <= E; e += SCAN_LANES) {
        real dv[SCAN_LANES], xv[SCAN_LANES], acc[SCAN_LANES];
#pragma omp simd
        for (int l = 0; l < SCAN_LANES; l++) {
            dv[l] = d[e + l];
            xv[l] = d[e + l] * u[e + l];
            acc[l] = D[e + l] * u[e + l];
        }
        for (int n = 0; n < N; n++) {
            real b = Bt[n], c = Ct[n];
            const real *a = AT + (size_t)n * E + e;
            real *h = hT + (size_t)n * E + e;
#pragma omp simd
            for (int l = 0; l < SCAN_LANES; l++) {
                real hn = fma(scan_decay(dv[l] * a[l]), h[l], xv[l] * b);
                h[l] = hn;
                acc[l] = fma(c, hn, acc[l]);
            }
        }
#pragma omp simd
        for (int l = 0; l < SCAN_LANES; l++) yt[e + l] = acc[l];
    }
    for (; e < E; e++) { /* the channels past the last block */
        real acc = D[e] * u[e], du = d[e] * u[e];
        for (int n = 0; n < N; n++) {
            real *h = hT + (size_t)n * E + e;
            *h = fma(scan_decay(d[e] * AT[(size_t)n * E + e]), *h, du * Bt[n]);
            acc = fma(Ct[n], *h, acc);
        }
        yt[e] = acc;
    }
}

/* One state row n of one token of the reverse pass over ne channels: dht =
 * dh_t[n] + dy·C_n (all that depends on h_t) goes on to h_{t-1} as dht ⊙
 * decay; sA, sB gather the per-channel sums over n, dA its sum over t;
 * returns dB_t[n] and dC_t[n] (sums over the channels) in *dB, *dC. */
CPU_BODY void scan_back_row(int ne, real b, real c, const real *restrict dyt, const real *restrict d,
                             const real *restrict du, const real *restrict a, const real *restrict hn,
                             const real *restrict pn, const real *restrict decn, real *restrict dhn,
                             real *restrict dAn, real *restrict sA, real *restrict sB, real *dB, real *dC)
{
    real pB[SCAN_LANES] = {0}, pC[SCAN_LANES] = {0};
    int i = 0;
    for (; i + SCAN_LANES <= ne; i += SCAN_LANES)
#pragma omp simd
        for (int l = 0; l < SCAN_LANES; l++) {
            int k = i + l;
            real dec = decn[k], dht = fma(dyt[k], c, dhn[k]), q = dht * dec * pn[k];
            pC[l] = fma(dyt[k], hn[k], pC[l]);
            pB[l] = fma(dht, du[k], pB[l]);
            sA[k] = fma(a[k], q, sA[k]);
            sB[k] = fma(dht, b, sB[k]);
            dAn[k] = fma(d[k], q, dAn[k]);
            dhn[k] = dht * dec;
        }
    for (int l = 0; l < SCAN_LANES && i + l < ne; l++) { /* the channels past the last block */
        int k = i + l;
        real dec = decn[k], dht = fma(dyt[k], c, dhn[k]), q = dht * dec * pn[k];
        pC[l] = fma(dyt[k], hn[k], pC[l]);
        pB[l] = fma(dht, du[k], pB[l]);
        sA[k] = fma(a[k], q, sA[k]);
        sB[k] = fma(dht, b, sB[k]);
        dAn[k] = fma(d[k], q, dAn[k]);
        dhn[k] = dht * dec;
    }
    *dB = lanes_fold16(pB);
    *dC = lanes_fold16(pC);
}

/* scan_back_row for the four rows n..n+3 at once: the per-channel values
 * (dy, Δ, Δu and the sums sA, sB) are loaded and stored once for four
 * rows instead of once per row, the reverse pass's loads and stores being
 * what bounds it. Row r of AT, dh, dA is at r·ld, of h_t and the decays
 * at r·lw, of h_{t-1} at r·lp. */
CPU_BODY void scan_back_row4(int ne, const real *b, const real *c, const real *restrict dyt, const real *restrict d,
                              const real *restrict du, const real *restrict a, size_t ld, const real *restrict hn,
                              const real *restrict decn, size_t lw, const real *restrict pn, size_t lp,
                              real *restrict dhn, real *restrict dAn, real *restrict sA, real *restrict sB, real *dB,
                              real *dC)
{
    real pB[4][SCAN_LANES] = {{0}}, pC[4][SCAN_LANES] = {{0}};
    int i = 0;
    for (; i + SCAN_LANES <= ne; i += SCAN_LANES)
#pragma omp simd
        for (int l = 0; l < SCAN_LANES; l++) {
            int k = i + l;
            real y = dyt[k], x = du[k], dv = d[k], sa = sA[k], sb = sB[k];
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++) {
                real dec = decn[r * lw + k], dht = fma(y, c[r], dhn[r * ld + k]), q = dht * dec * pn[r * lp + k];
                pC[r][l] = fma(y, hn[r * lw + k], pC[r][l]);
                pB[r][l] = fma(dht, x, pB[r][l]);
                sa = fma(a[r * ld + k], q, sa);
                sb = fma(dht, b[r], sb);
                dAn[r * ld + k] = fma(dv, q, dAn[r * ld + k]);
                dhn[r * ld + k] = dht * dec;
            }
            sA[k] = sa;
            sB[k] = sb;
        }
    for (int l = 0; l < SCAN_LANES && i + l < ne; l++) { /* the channels past the last block */
        int k = i + l;
        real y = dyt[k], x = du[k], dv = d[k], sa = sA[k], sb = sB[k];
        for (int r = 0; r < 4; r++) {
            real dec = decn[r * lw + k], dht = fma(y, c[r], dhn[r * ld + k]), q = dht * dec * pn[r * lp + k];
            pC[r][l] = fma(y, hn[r * lw + k], pC[r][l]);
            pB[r][l] = fma(dht, x, pB[r][l]);
            sa = fma(a[r * ld + k], q, sa);
            sb = fma(dht, b[r], sb);
            dAn[r * ld + k] = fma(dv, q, dAn[r * ld + k]);
            dhn[r * ld + k] = dht * dec;
        }
        sA[k] = sa;
        sB[k] = sb;
    }
    for (int r = 0; r < 4; r++) {
        dB[r] = lanes_fold16(pB[r]);
        dC[r] = lanes_fold16(pC[r]);
    }
}

/* Forward of one sequence: y[t*y_t + e]; hT [N, E] holds the state in and
 * out; ck (NULL: none, inference) gets the state before chunk k ≥ 1 at
 * ck[k-1] of [ceil(T/SCAN_CHUNK) - 1, N, E] (scan_ckpt_size reals). For
 * training the state before t = 0 must be zero, as scan_backward_ck assumes. */
CPU_BODY void scan_forward_ck_any(const ScanIn *s, const real *AT, real *y, size_t y_t, real *ck, real *hT)
{
    size_t EN = (size_t)s->E * s->N;
    for (int t = 0; t < s->T; t++) {
        scan_token_ck(s->E, s->N, AT, s->D, s->dt + t * s->dt_t, s->u + t * s->u_t, s->B + t * s->bc_t,
                      s->C + t * s->bc_t, hT, y + t * y_t);
        if (ck && (t + 1) % SCAN_CHUNK == 0 && t + 1 < s->T)
            memcpy(ck + (size_t)((t + 1) / SCAN_CHUNK - 1) * EN, hT, sizeof(real) * EN);
    }
}

/* Reverse-time pass of scan_forward_ck_any from its checkpoints ck (du,
 * dΔ, dB, dC written; dA [N, E] and dD added to). Per element the
 * reference's sums are regrouped: dΔ = Σ_n dh·A·decay·h_{t-1} + u·Σ_n
 * dh·B_n and du = Δ·Σ_n dh·B_n + dy·D, so the two sums over n are
 * per-channel vectors and only dB_t[n], dC_t[n] (sums over the channels)
 * need a sum across lanes. Chunk by chunk from the end, and within a chunk a
 * block of SCAN_CK_EBLOCK channels at a time: the block's states h_t and
 * decays over the chunk are recomputed into work (2·16·N·128 reals, in
 * L2 at any E), then the reverse pass reads them there. dh [N, E] carries
 * the gradient across chunks. work: scan_ck_work_size reals. */
CPU_BODY void scan_backward_ck_any(const ScanIn *s, const real *AT, const real *dy, size_t dy_t, const real *ck,
                                    real *work, const ScanGrad *g)
{
    int E = s->E, N = s->N, T = s->T;
    size_t EN = (size_t)E * N, CS = (size_t)N * SCAN_CK_EBLOCK; /* one token's block in W, DEC */
    real *dhT = work, *W = dhT + EN + SCAN_SKEW, *DEC = W + SCAN_CHUNK * CS + SCAN_SKEW;
    real sA[SCAN_CK_EBLOCK], sB[SCAN_CK_EBLOCK], du_[SCAN_CK_EBLOCK], zero[SCAN_CK_EBLOCK] = {0};
    memset(dhT, 0, sizeof(real) * EN);
    for (int k = T > 0 ? (T - 1) / SCAN_CHUNK : -1; k >= 0; k--) {
        int t0 = k * SCAN_CHUNK, t1 = t0 + SCAN_CHUNK < T ? t0 + SCAN_CHUNK : T;
        const real *S0 = k ? ck + (size_t)(k - 1) * EN : NULL; /* the state before t0 */
        for (int e0 = 0; e0 < E; e0 += SCAN_CK_EBLOCK) {
            int ne = E - e0 < SCAN_CK_EBLOCK ? E - e0 : SCAN_CK_EBLOCK;
            for (int t = t0; t < t1; t++) { /* the block's states and decays over the chunk */
                const real *d = s->dt + t * s->dt_t + e0, *u = s->u + t * s->u_t + e0, *Bt = s->B + t * s->bc_t;
                real *Wt = W + (t - t0) * CS, *Dt = DEC + (t - t0) * CS;
#pragma omp simd
                for (int i = 0; i < ne; i++) du_[i] = d[i] * u[i];
                for (int n = 0; n < N; n++) {
                    real b = Bt[n];
                    const real *a = AT + (size_t)n * E + e0;
                    const real *hp = t > t0 ? Wt - CS + (size_t)n * SCAN_CK_EBLOCK : S0 ? S0 + (size_t)n * E + e0 : zero;
                    real *hn = Wt + (size_t)n * SCAN_CK_EBLOCK, *dn = Dt + (size_t)n * SCAN_CK_EBLOCK;
#pragma omp simd
                    for (int i = 0; i < ne; i++) {
                        real dec = scan_decay(d[i] * a[i]);
                        dn[i] = dec;
                        hn[i] = fma(dec, hp[i], du_[i] * b);
                    }
                }
            }
            for (int t = t1 - 1; t >= t0; t--) {
                const real *d = s->dt + t * s->dt_t + e0, *u = s->u + t * s->u_t + e0, *dyt = dy + t * dy_t + e0;
                const real *Bt = s->B + t * s->bc_t, *Ct = s->C + t * s->bc_t;
                real *dBt = g->dB + t * s->bc_t, *dCt = g->dC + t * s->bc_t;
                const real *Wt = W + (t - t0) * CS, *Dt = DEC + (t - t0) * CS;
#pragma omp simd
                for (int i = 0; i < ne; i++) {
                    g->dD[e0 + i] += dyt[i] * u[i];
                    du_[i] = d[i] * u[i];
                    sA[i] = 0;
                    sB[i] = 0;
                }
                size_t lp = t > t0 ? SCAN_CK_EBLOCK : S0 ? (size_t)E : 0; /* h_{t-1}'s rows */
                int n = 0;
                for (; n + 4 <= N; n += 4) {
                    size_t o = (size_t)n * E + e0, w = (size_t)n * SCAN_CK_EBLOCK;
                    const real *pn = t > t0 ? Wt - CS + w : S0 ? S0 + o : zero;
                    real db[4], dc[4];
                    scan_back_row4(ne, Bt + n, Ct + n, dyt, d, du_, AT + o, (size_t)E, Wt + w, Dt + w, SCAN_CK_EBLOCK,
                                   pn, lp, dhT + o, g->dA + o, sA, sB, db, dc);
                    for (int r = 0; r < 4; r++) {
                        dBt[n + r] = (e0 ? dBt[n + r] : 0) + db[r];
                        dCt[n + r] = (e0 ? dCt[n + r] : 0) + dc[r];
                    }
                }
                for (; n < N; n++) {
                    size_t o = (size_t)n * E + e0, w = (size_t)n * SCAN_CK_EBLOCK;
                    const real *pn = t > t0 ? Wt - CS + w : S0 ? S0 + o : zero;
                    real db, dc;
                    scan_back_row(ne, Bt[n], Ct[n], dyt, d, du_, AT + o, Wt + w, pn, Dt + w, dhT + o, g->dA + o, sA,
                                  sB, &db, &dc);
                    dBt[n] = (e0 ? dBt[n] : 0) + db;
                    dCt[n] = (e0 ? dCt[n] : 0) + dc;
                }
                real *ddt = g->ddt + t * s->dt_t + e0, *du = g->du + t * g->du_t + e0;
#pragma omp simd
                for (int i = 0; i < ne; i++) {
                    ddt[i] = fma(u[i], sB[i], sA[i]);
                    du[i] = fma(d[i], sB[i], dyt[i] * s->D[e0 + i]);
                }
            }
        }
    }
}

CPU_DISPATCH_VOID(scan_forward_ck, (const ScanIn *s, const real *AT, real *y, size_t y_t, real *ck, real *hT),
                  (s, AT, y, y_t, ck, hT))
CPU_DISPATCH_VOID(scan_backward_ck,
                  (const ScanIn *s, const real *AT, const real *dy, size_t dy_t, const real *ck, real *work,
                   const ScanGrad *g),
                  (s, AT, dy, dy_t, ck, work, g))

#endif
