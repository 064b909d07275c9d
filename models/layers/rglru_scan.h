/* The RG-LRU's scan (models/layers/rglru.c), forward and backward, each as a
 * plain reference loop and the fast loop that replaces it (STYLE §4;
 * tests/test_kernels.c runs both on the same inputs).
 *   log a_t = ga_t · c,  c = −8 · softplus(Λ)  per channel
 *   h_t = a_t h_{t−1} + mult_t · gi_t · xc_t,  mult_t = sqrt(−expm1(2 log a_t)), 1 at position 0
 *   g_t = h_t · y_t                              (the block's output gate, fused here)
 * Rows are tokens of stride W. The fast loops take c (and σ(Λ) for the
 * λ-gradient) once per call from rg_lambda_terms instead of a softplus per
 * token and channel, go through time outermost with the channels innermost
 * so `omp simd` runs them 8 lanes at a time (the position-0 reset is a row
 * of its own, not a branch per element), and use the polynomial exp and
 * expm1 of core/vexp.h instead of libm's scalar calls (and sqrt_nonneg:
 * libm's sqrt keeps errno, which stops GCC vectorising). */
#ifndef SEQ_RGLRU_SCAN_H
#define SEQ_RGLRU_SCAN_H

#include <stddef.h>
#include <tgmath.h>

#include "models/layers/activations.h"

/* c[k] = −8 softplus(Λ_k) (log a per unit of the recurrence gate) and
 * s[k] = −8 σ(Λ_k) (its derivative in Λ), either may be NULL */
static inline void rg_lambda_terms(const real *lambda, int W, real *c, real *s)
{
    for (int k = 0; k < W; k++) {
        if (c) c[k] = -8 * softplus(lambda[k]);
        if (s) s[k] = -8 * sigmoid(lambda[k]);
    }
}

/* One sequence of T rows from position t0 (0 resets the state); h [W] holds
 * the state before the first row and after the last. Writes a, mult, h_t
 * and g = h_t · y per row. */
static inline void rg_scan_ref(const real *lambda, int W, int T, int t0, const real *xc, const real *gi, const real *ga,
                               const real *y, real *a_out, real *mult_out, real *h_out, real *g_out, real *h)
{
    for (int t = 0; t < T; t++)
        for (int k = 0; k < W; k++) {
            size_t i = (size_t)t * W + k;
            real log_a = -8 * ga[i] * softplus(lambda[k]), a = exp(log_a);
            int reset = t0 + t == 0;
            real mult = reset ? 1 : sqrt(-expm1(2 * log_a));
            h[k] = (reset ? 0 : a * h[k]) + mult * gi[i] * xc[i];
            a_out[i] = a;
            mult_out[i] = mult;
            h_out[i] = h[k];
            g_out[i] = h[k] * y[i];
        }
}

/* rg_scan_ref's fast form; c from rg_lambda_terms. Each row reads the
 * previous h from h_out's previous row (the state h only for the first). */
static inline void rg_scan(const real *c, int W, int T, int t0, const real *xc, const real *gi, const real *ga,
                           const real *y, real *a_out, real *mult_out, real *h_out, real *g_out, real *h)
{
    int t = 0;
    if (t0 == 0 && T > 0) {
#pragma omp simd
        for (int k = 0; k < W; k++) {
            real hk = gi[k] * xc[k];
            a_out[k] = exp_fma(ga[k] * c[k]);
            mult_out[k] = 1;
            h_out[k] = hk;
            g_out[k] = hk * y[k];
        }
        t = 1;
    }
    for (; t < T; t++) {
        size_t o = (size_t)t * W;
        const real *hp = t ? h_out + o - W : h;
#pragma omp simd
        for (int k = 0; k < W; k++) {
            size_t i = o + k;
            real log_a = ga[i] * c[k], a = exp_fma(log_a), mult = sqrt_nonneg(-expm1_fast(2 * log_a));
            real hk = a * hp[k] + mult * gi[i] * xc[i];
            a_out[i] = a;
            mult_out[i] = mult;
            h_out[i] = hk;
            g_out[i] = hk * y[i];
        }
    }
    if (T > 0)
        for (int k = 0; k < W; k++) h[k] = h_out[(size_t)(T - 1) * W + k];
}

/* Backward through B sequences of T rows from position 0, given dh (the
 * loss's gradient in each h_t from above). Writes dxc (the scan's part),
 * the gates' pre-activation gradients dpi, dpa, and adds Λ's gradient into
 * glambda. dloga [B·T, W] is scratch. sqrt(u)'s derivative is clipped as
 * the official code's: 1/sqrt(max(4u, 1e-6)). */
static inline void rg_scan_backward_ref(const real *lambda, int W, int B, int T, const real *xc, const real *gi,
                                        const real *ga, const real *a_in, const real *mult_in, const real *h_in,
                                        const real *dh, real *dxc, real *dpi, real *dpa, real *dloga, real *glambda)
{
    for (int b = 0; b < B; b++)
        for (int k = 0; k < W; k++) {
            real carry = 0;
            for (int t = T - 1; t >= 0; t--) {
                size_t i = ((size_t)b * T + t) * W + k;
                real dht = dh[i] + carry, xi = xc[i], g = gi[i], mult = mult_in[i], a = a_in[i];
                dxc[i] = dht * g * mult;
                dpi[i] = dht * xi * mult * g * (1 - g);
                real da = 0;
                if (t > 0) {
                    real u = mult * mult, dmult = dht * xi * g;
                    da = dht * h_in[i - W] + dmult * (-2 * a) / sqrt(fmax(4 * u, (real)1e-6));
                    carry = dht * a;
                } else {
                    carry = 0;
                }
                dloga[i] = da * a;
            }
        }
    for (size_t m = 0; m < (size_t)B * T; m++)
        for (int k = 0; k < W; k++) {
            size_t i = m * W + k;
            real sp = softplus(lambda[k]), gak = ga[i];
            dpa[i] = dloga[i] * (-8 * sp) * gak * (1 - gak);
            glambda[k] += dloga[i] * (-8 * gak) * sigmoid(lambda[k]);
        }
}

/* rg_scan_backward_ref's fast form for one sequence; c and s from
 * rg_lambda_terms. dh is consumed: the carry to the row before is added
 * into it in place, so time runs outermost and channels innermost. q gets
 * dlog a · ga per element, Λ's gradient before the factor s; rg_lambda_grad
 * sums it (apart from this, so sequences can run in parallel). */
static inline void rg_scan_backward(const real *c, int W, int T, const real *xc, const real *gi, const real *ga,
                                    const real *a_in, const real *mult_in, const real *h_in, real *dh, real *dxc,
                                    real *dpi, real *dpa, real *q)
{
    for (int t = T - 1; t > 0; t--) {
        size_t o = (size_t)t * W;
#pragma omp simd
        for (int k = 0; k < W; k++) {
            size_t i = o + k;
            real dht = dh[i], xi = xc[i], g = gi[i], mult = mult_in[i], a = a_in[i], gak = ga[i];
            dxc[i] = dht * g * mult;
            dpi[i] = dht * xi * mult * g * (1 - g);
            /* 1/sqrt(max(4 mult², 1e-6)) is 1/(2 max(mult, 5e-4)): mult ≥ 0, and no sqrt */
            real dmult = dht * xi * g, mc = mult > (real)5e-4 ? mult : (real)5e-4;
            real da = dht * h_in[i - W] - dmult * a / mc;
            real dla = da * a;
            dpa[i] = dla * c[k] * gak * (1 - gak);
            q[i] = dla * gak;
            dh[i - W] += dht * a;
        }
    }
    if (T > 0)
#pragma omp simd
        for (int k = 0; k < W; k++) {
            real dht = dh[k], g = gi[k];
            dxc[k] = dht * g * mult_in[k];
            dpi[k] = dht * xc[k] * mult_in[k] * g * (1 - g);
            dpa[k] = 0;
            q[k] = 0;
        }
}

/* glambda[k] += s[k] Σ_m q[m, k] over M rows */
static inline void rg_lambda_grad(const real *s, const real *q, int M, int W, real *glambda)
{
    for (int m = 0; m < M; m++) {
        const real *qm = q + (size_t)m * W;
#pragma omp simd
        for (int k = 0; k < W; k++) glambda[k] += s[k] * qm[k];
    }
}

#endif
