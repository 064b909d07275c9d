/* The LTI ablation's training scan (mamba_lti.c), channels innermost:
 *   h_t[n,e] = decay[n,e]·h_{t-1}[n,e] + Δ[e]·B[n,e]·u_t[e]
 *   y_t[e]   = Σ_n C[n,e]·h_t[n,e] + D[e]·u_t[e],     decay = exp(Δ·A)
 * Δ, A, B and C do not depend on the token, so the E·N decays are taken
 * once per call (lti_scan_decays), not once per token as the selective
 * scan must: the loops below have no exp at all. Every array of the
 * state's shape is stored transposed, [N, E], as in scan_forward_t, so the
 * loops run along contiguous channels; the gradients of B and C are per
 * channel too, so unlike the S6 scan nothing is summed across SIMD lanes.
 * scan_forward_ref / scan_backward_ref with the LTI strides (Δ stride 0
 * over t, B/C strides t: 0, e: N) are the references (tests/test_kernels.c). */
#ifndef SEQ_LTI_SCAN_H
#define SEQ_LTI_SCAN_H

#include <stddef.h>
#include <string.h>
#include <tgmath.h>

#include "core/real.h"
#include "core/vexp.h"
#include "models/layers/selective_scan.h"

typedef struct {
    int T, E, N;
    const real *u; size_t u_t;    /* u[t*u_t + e] */
    const real *delta, *D;        /* [E] */
    const real *AT, *BT, *CT;     /* [N, E] */
    const real *decT;             /* [N, E], from lti_scan_decays */
} LtiScanIn;

/* decT[n,e] = exp(Δ[e]·AT[n,e]) */
static inline void lti_scan_decays(real *decT, const real *delta, const real *AT, int E, int N)
{
    for (int n = 0; n < N; n++) {
        const real *a = AT + (size_t)n * E;
        real *d = decT + (size_t)n * E;
#pragma omp simd
        for (int e = 0; e < E; e++) d[e] = exp_fma(delta[e] * a[e]);
    }
}

/* y[t*y_t + e]; hs [T, N, E] (may be NULL: inference); hT [N, E] holds the
 * state in and out. */
static inline void lti_scan_forward_t(const LtiScanIn *s, real *y, size_t y_t, real *hs, real *hT)
{
    int E = s->E, N = s->N;
    size_t EN = (size_t)E * N;
    for (int t = 0; t < s->T; t++) {
        const real *u = s->u + t * s->u_t;
        const real *prev = hs && t ? hs + (size_t)(t - 1) * EN : hT;
        real *cur = hs ? hs + (size_t)t * EN : hT, *yt = y + t * y_t;
#pragma omp simd
        for (int e = 0; e < E; e++) yt[e] = s->D[e] * u[e];
        for (int n = 0; n < N; n++) {
            size_t o = (size_t)n * E;
            const real *dec = s->decT + o, *b = s->BT + o, *c = s->CT + o, *hp = prev + o;
            real *hn = cur + o;
#pragma omp simd
            for (int e = 0; e < E; e++) {
                real h = fma(dec[e], hp[e], s->delta[e] * b[e] * u[e]);
                hn[e] = h;
                yt[e] = fma(c[e], h, yt[e]);
            }
        }
    }
    if (hs && s->T > 0) memcpy(hT, hs + (size_t)(s->T - 1) * EN, sizeof(real) * EN);
}

typedef struct {
    real *du; size_t du_t;        /* written (=), one row per token */
    real *ddelta, *dD;            /* += [E] */
    real *dAT, *dBT, *dCT;        /* += [N, E] */
} LtiScanGrad;

/* Reverse-time pass of lti_scan_forward_t from zero state, hs its saved
 * states, dhT [N, E] scratch. dΔ and du are regrouped as in
 * scan_backward_ck: per token, Σ_n dh·A·decay·h_{t-1} and Σ_n dh·B. */
static inline void lti_scan_backward_t(const LtiScanIn *s, const real *dy, size_t dy_t, const real *hs, real *dhT,
                                       const LtiScanGrad *g)
{
    int E = s->E, N = s->N;
    size_t EN = (size_t)E * N;
    real sA[SCAN_ECHUNK], sB[SCAN_ECHUNK], du_[SCAN_ECHUNK], zero[SCAN_ECHUNK] = {0};
    memset(dhT, 0, sizeof(real) * EN);
    for (int t = s->T - 1; t >= 0; t--) {
        const real *u = s->u + t * s->u_t, *dyt = dy + t * dy_t;
        const real *ht = hs + (size_t)t * EN, *hp = t ? hs + (size_t)(t - 1) * EN : NULL;
        for (int e0 = 0; e0 < E; e0 += SCAN_ECHUNK) {
            int ne = E - e0 < SCAN_ECHUNK ? E - e0 : SCAN_ECHUNK;
            const real *de = s->delta + e0, *ue = u + e0, *dye = dyt + e0;
#pragma omp simd
            for (int i = 0; i < ne; i++) {
                g->dD[e0 + i] += dye[i] * ue[i];
                du_[i] = de[i] * ue[i];
                sA[i] = 0;
                sB[i] = 0;
            }
            for (int n = 0; n < N; n++) {
                size_t o = (size_t)n * E + e0;
                const real *a = s->AT + o, *b = s->BT + o, *c = s->CT + o, *dec = s->decT + o;
                const real *hn = ht + o, *pn = hp ? hp + o : zero;
                real *dhn = dhT + o, *dAn = g->dAT + o, *dBn = g->dBT + o, *dCn = g->dCT + o;
#pragma omp simd
                for (int i = 0; i < ne; i++) {
                    real dht = fma(dye[i], c[i], dhn[i]); /* all that depends on h_t */
                    real q = dht * dec[i] * pn[i];
                    dCn[i] = fma(dye[i], hn[i], dCn[i]);
                    dBn[i] = fma(dht, du_[i], dBn[i]);
                    sA[i] = fma(a[i], q, sA[i]);
                    sB[i] = fma(dht, b[i], sB[i]);
                    dAn[i] = fma(de[i], q, dAn[i]);
                    dhn[i] = dht * dec[i]; /* to h_{t-1} */
                }
            }
            real *dd = g->ddelta + e0, *du = g->du + t * g->du_t + e0;
#pragma omp simd
            for (int i = 0; i < ne; i++) {
                dd[i] += fma(ue[i], sB[i], sA[i]);
                du[i] = fma(de[i], sB[i], dye[i] * s->D[e0 + i]);
            }
        }
    }
}

#endif
