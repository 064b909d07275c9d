/* The Mamba-1 scan (DESIGN §4), one sequence, written as the plain loop so
 * the code reads like the equations:
 *   h_t[e,n] = exp(Δ_t[e]·A[e,n])·h_{t-1}[e,n] + Δ_t[e]·B_t[e,n]·u_t[e]
 *   y_t[e]   = Σ_n C_t[e,n]·h_t[e,n] + D[e]·u_t[e]
 * Strides make one loop serve both variants: the selective S6 has B_t, C_t
 * shared by all channels (stride over e = 0, rows of x_proj's output) and Δ
 * per token; the LTI ablation has fixed B[e,n], C[e,n] and Δ[e] (stride over
 * t = 0). Linear in T with an E·N state; never a T×T matrix.
 *
 * Memory choice: forward saves every h_t (T·E·N reals per sequence) so the
 * reverse-time backward reads h_{t-1} instead of recomputing the scan; at
 * this harness's training sizes (T ≤ a few thousand, E·N ≤ ~10^4) that is
 * tens of MB, and it keeps backward a single exact pass. */
#ifndef SEQ_SELECTIVE_SCAN_H
#define SEQ_SELECTIVE_SCAN_H

#include <stddef.h>
#include <string.h>
#include <tgmath.h>

#include "core/cpu.h"
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
 * scan_forward_t / scan_backward_t below. */
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

/* The training scans below are written once, as the _any bodies, and
 * compiled twice with GCC on x86-64: for the build's target (AVX2 + FMA)
 * and for x86-64-v4 (AVX-512), picked at run time by scan_forward_t /
 * scan_backward_t. The v4 copy runs 16-lane vectors with 32 registers (the
 * AVX2 one spills): on a Zen 5 the 8 x 256 scans of a d_model 64 Mamba ran
 * ~20% faster alone, ~7% of the whole training step. Each lane computes
 * the same operations either way; only the order of dB's and dC's sums
 * across lanes differs between the two. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SCAN_DISPATCH 1
#define SCAN_BODY static inline __attribute__((always_inline))
#else
#define SCAN_DISPATCH 0
#define SCAN_BODY static inline
#endif

/* The training scan of the selective S6 (B_t, C_t shared by all channels:
 * bc_e = 0), channels innermost as in scan_step_t: A is given transposed,
 * AT[n][e] = A[e][n], the state is hT [N, E] and the saved states hs
 * [T, N, E]. Every loop runs along contiguous channels, the decays are taken
 * inline (exp_fast in the loop, no scratch), and y_t[e] accumulates over n
 * with no sum across SIMD lanes. The channel-outer loop above made a 16-lane
 * vexp call and a lane reduction per (t, e); this one does E·N elements per
 * token in straight vector code. hs may be NULL (inference); otherwise h_t
 * is written straight into hs[t], and hT gets the last one. */
SCAN_BODY void scan_forward_t_any(const ScanIn *s, const real *AT, real *y, size_t y_t, real *hs, real *hT)
{
    int E = s->E, N = s->N;
    size_t EN = (size_t)E * N;
    for (int t = 0; t < s->T; t++) {
        const real *d = s->dt + t * s->dt_t, *u = s->u + t * s->u_t;
        const real *Bt = s->B + t * s->bc_t, *Ct = s->C + t * s->bc_t;
        const real *prev = hs && t ? hs + (size_t)(t - 1) * EN : hT;
        real *cur = hs ? hs + (size_t)t * EN : hT, *yt = y + t * y_t;
#pragma omp simd
        for (int e = 0; e < E; e++) yt[e] = s->D[e] * u[e];
        for (int n = 0; n < N; n++) {
            real b = Bt[n], c = Ct[n];
            const real *a = AT + (size_t)n * E, *hp = prev + (size_t)n * E;
            real *hn = cur + (size_t)n * E;
#pragma omp simd
            for (int e = 0; e < E; e++) {
                real h = fma(exp_fma(d[e] * a[e]), hp[e], d[e] * u[e] * b);
                hn[e] = h;
                yt[e] = fma(c, h, yt[e]);
            }
        }
    }
    if (hs && s->T > 0) memcpy(hT, hs + (size_t)(s->T - 1) * EN, sizeof(real) * EN);
}

/* Channels handled together by scan_backward_t: its per-channel sums live
 * on the stack, and a block's rows of dh, dA, hs stay in L1 for any E. */
#define SCAN_ECHUNK 128

/* Reverse-time pass of scan_forward_t (the state before t = 0 is zero, as
 * in the forward's training use). hs [T, N, E] from scan_forward_t; dhT [N,
 * E] scratch; g->dA is [N, E] here, transposed like AT. Unlike the
 * reference it writes (=) du, dΔ, dB and dC, which it reaches once per
 * token, so the caller need not zero them; dA and dD are added to. Per element the reference's sums are regrouped: dΔ = Σ_n
 * dh·A·decay·h_{t-1} + u·Σ_n dh·B_n and du = Δ·Σ_n dh·B_n + dy·D, so the two
 * sums over n are per-channel vectors and only dB_t[n], dC_t[n] (sums over
 * the channels) need a sum across lanes, once per (t, n, block). */
SCAN_BODY void scan_backward_t_any(const ScanIn *s, const real *AT, const real *dy, size_t dy_t, const real *hs,
                                       real *dhT, const ScanGrad *g)
{
    int E = s->E, N = s->N;
    size_t EN = (size_t)E * N;
    real sA[SCAN_ECHUNK], sB[SCAN_ECHUNK], du_[SCAN_ECHUNK], zero[SCAN_ECHUNK] = {0};
    memset(dhT, 0, sizeof(real) * EN);
    for (int t = s->T - 1; t >= 0; t--) {
        const real *d = s->dt + t * s->dt_t, *u = s->u + t * s->u_t, *dyt = dy + t * dy_t;
        const real *Bt = s->B + t * s->bc_t, *Ct = s->C + t * s->bc_t;
        real *dBt = g->dB + t * s->bc_t, *dCt = g->dC + t * s->bc_t;
        const real *ht = hs + (size_t)t * EN, *hp = t ? hs + (size_t)(t - 1) * EN : NULL;
        for (int e0 = 0; e0 < E; e0 += SCAN_ECHUNK) {
            int ne = E - e0 < SCAN_ECHUNK ? E - e0 : SCAN_ECHUNK;
            const real *de = d + e0, *ue = u + e0, *dye = dyt + e0;
#pragma omp simd
            for (int i = 0; i < ne; i++) {
                g->dD[e0 + i] += dye[i] * ue[i];
                du_[i] = de[i] * ue[i];
                sA[i] = 0;
                sB[i] = 0;
            }
            for (int n = 0; n < N; n++) {
                size_t o = (size_t)n * E + e0;
                real b = Bt[n], c = Ct[n], accB = 0, accC = 0;
                const real *a = AT + o, *hn = ht + o, *pn = hp ? hp + o : zero;
                real *dhn = dhT + o, *dAn = g->dA + o;
#pragma omp simd reduction(+ : accB, accC)
                for (int i = 0; i < ne; i++) {
                    real dec = exp_fma(de[i] * a[i]);
                    real dht = fma(dye[i], c, dhn[i]); /* all that depends on h_t */
                    real q = dht * dec * pn[i];
                    accC = fma(dye[i], hn[i], accC);
                    accB = fma(dht, du_[i], accB);
                    sA[i] = fma(a[i], q, sA[i]);
                    sB[i] = fma(dht, b, sB[i]);
                    dAn[i] = fma(de[i], q, dAn[i]);
                    dhn[i] = dht * dec; /* to h_{t-1} */
                }
                dBt[n] = (e0 ? dBt[n] : 0) + accB;
                dCt[n] = (e0 ? dCt[n] : 0) + accC;
            }
            real *ddt = g->ddt + t * s->dt_t + e0, *du = g->du + t * g->du_t + e0;
#pragma omp simd
            for (int i = 0; i < ne; i++) {
                ddt[i] = fma(ue[i], sB[i], sA[i]);
                du[i] = fma(de[i], sB[i], dye[i] * s->D[e0 + i]);
            }
        }
    }
}


#if SCAN_DISPATCH
__attribute__((target("arch=x86-64-v4"))) static inline void scan_forward_t_v4(const ScanIn *s, const real *AT, real *y,
                                                                             size_t y_t, real *hs, real *hT)
{
    scan_forward_t_any(s, AT, y, y_t, hs, hT);
}

__attribute__((target("arch=x86-64-v4"))) static inline void scan_backward_t_v4(const ScanIn *s, const real *AT,
                                                                              const real *dy, size_t dy_t,
                                                                              const real *hs, real *dhT,
                                                                              const ScanGrad *g)
{
    scan_backward_t_any(s, AT, dy, dy_t, hs, dhT, g);
}
#endif

static inline void scan_forward_t(const ScanIn *s, const real *AT, real *y, size_t y_t, real *hs, real *hT)
{
#if SCAN_DISPATCH
    if (cpu_has_x86_64_v4()) {
        scan_forward_t_v4(s, AT, y, y_t, hs, hT);
        return;
    }
#endif
    scan_forward_t_any(s, AT, y, y_t, hs, hT);
}

static inline void scan_backward_t(const ScanIn *s, const real *AT, const real *dy, size_t dy_t, const real *hs,
                                   real *dhT, const ScanGrad *g)
{
#if SCAN_DISPATCH
    if (cpu_has_x86_64_v4()) {
        scan_backward_t_v4(s, AT, dy, dy_t, hs, dhT, g);
        return;
    }
#endif
    scan_backward_t_any(s, AT, dy, dy_t, hs, dhT, g);
}

#endif
