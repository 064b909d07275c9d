/* Every fast kernel against the plain reference loop it replaces (STYLE §4):
 * the same inputs through both, compared within a float tolerance.
 *   - vexp (polynomial exp) and expf_fma against libm over float's whole range;
 *   - expm1f_poly, tanh_fast and sqrtf_nonneg against libm, relative to the
 *     result (so near 0 too, where the RG-LRU's sqrt(1 − a²) lives);
 *   - the RG-LRU scan (rglru_scan.h), forward and backward, at widths not a
 *     multiple of the SIMD width, odd lengths, from a position past 0
 *     (decode), and with gates small enough to reach the derivative's clip;
 *   - the selective scan, forward and backward, selective (S6: B, C per
 *     token) and LTI (B, C per channel) strides, N below and above the block;
 *   - the LTI ablation's transposed scan (lti_scan.h) against the same
 *     references with the LTI strides;
 *   - the Mamba-2 group scan with its chunk checkpoints (m2_scan.h) against
 *     the per-head reference, several groups, P and N off the SIMD width;
 *   - the depthwise conv1d's channel-blocked pair against its plain loops;
 *   - the in-place batch gemm (core/gemm.h), each of its AVX-512 and AVX2
 *     copies the CPU has, and linear_fwd, which takes it, at shapes with
 *     every remainder of its tiles and vector K.
 * (The attention head's tiled kernels have their own file, test_attn_tiled.c;
 * the S6 scan_forward_t and checkpointed training pair, test_m1_scan.c.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rel_err.h"
#include "core/cpu.h"
#include "core/gemm.h"
#include "core/rng.h"
#include "models/layers/conv1d.h"
#include "models/layers/lti_scan.h"
#include "models/layers/m2_scan.h"
#include "models/layers/rglru_scan.h"
#include "models/layers/selective_scan.h"

static void test_vexp(void)
{
    enum { n = 1 << 20 };
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    for (int i = 0; i < n; i++) x[i] = -87.3f + 175.6f * (float)i / n;
    vexp(y, x, n);
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double r = exp((double)x[i]), err = fabs(y[i] - r) / r;
        worst = err > worst ? err : worst;
    }
    CHECK(worst < 2e-7, "vexp max relative error %.3g over [-87.3, 88.3]", worst);
    double worst_fma = 0;
    for (int i = 0; i < n; i++) {
        double r = exp((double)x[i]), err = fabs(expf_fma(x[i]) - r) / r;
        worst_fma = err > worst_fma ? err : worst_fma;
    }
    CHECK(worst_fma < 2e-7, "expf_fma max relative error %.3g over [-87.3, 88.3]", worst_fma);
    CHECK(expf_fma(-1000) >= 0 && expf_fma(-1000) < 1.3e-38f && isnan(expf_fma(NAN)) && expf_fma(0) == 1,
          "expf_fma(-1000) = %g, expf_fma(NaN) = %g, expf_fma(0) = %.9g", expf_fma(-1000), expf_fma(NAN), expf_fma(0));
    float lo = -1000, zero = 0;
    vexp(y, &lo, 1);
    CHECK(y[0] >= 0 && y[0] < 1.3e-38f, "vexp(-1000) = %g, want about 0", y[0]);
    float nan = NAN;
    vexp(y, &nan, 1);
    CHECK(isnan(y[0]), "vexp(NaN) = %g, want NaN (a diverging run must stay visible)", y[0]);
    CHECK(isnan(softplus_fast(NAN)), "softplus_fast(NaN) must be NaN");
    vexp(y, &zero, 1);
    CHECK(y[0] == 1, "vexp(0) = %.9g", y[0]);
    free(x);
    free(y);
}

static void test_log_softplus(void)
{
    double worst = 0, worst_sp = 0;
    for (int i = 0; i < 1 << 20; i++) {
        float x = ldexpf(1.0f + (float)(i & 1023) / 1024, (i >> 10) - 512 / 1); /* 2^-512.. clipped below */
        if (!(x > 1.2e-38f && x < 3e38f)) continue;
        double r = log((double)x), err = fabs(logf_poly(x) - r) / (fabs(r) > 1e-3 ? fabs(r) : 1e-3);
        worst = err > worst ? err : worst;
    }
    CHECK(worst < 3e-7, "logf_poly max relative error %.3g", worst);
    for (int i = 0; i <= 100000; i++) {
        float v = -60.0f + 90.0f * (float)i / 100000;
        double r = v > 20 ? v : log1p(exp((double)v)), err = fabs(softplus_fast(v) - r) / r;
        worst_sp = err > worst_sp ? err : worst_sp;
    }
    CHECK(worst_sp < 5e-7, "softplus_fast max relative error %.3g over [-60, 30]", worst_sp);
}

static void fill(real *p, size_t n, Rng *r, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) p[i] = (real)(lo + (hi - lo) * rng_uniform(r));
}

/* relative to the result: near 0 is where expm1 and tanh earn their keep */
static void test_expm1_tanh_sqrt(void)
{
    double worst_e = 0, worst_t = 0, worst_s = 0;
    float at_e = 0, at_t = 0, at_s = 0;
    for (int i = 0; i < 1 << 21; i++) {
        /* magnitudes 2^-40 .. 2^7 (all of expm1's range that is not ±1 or huge), both signs */
        float x = ldexpf(1.0f + (float)(i & 2047) / 2048, ((i >> 11) & 511) / 10 - 40);
        x = i & (1 << 20) ? -x : x;
        if (x < -87.3f || x > 88.3f) continue;
        double e = fabs(expm1f_poly(x) - expm1((double)x)) / fabs(expm1((double)x));
        double t = fabs(tanh_fast(x) - tanh((double)x)) / fabs(tanh((double)x));
        if (e > worst_e) worst_e = e, at_e = x;
        if (t > worst_t) worst_t = t, at_t = x;
    }
    for (int i = 0; i < 1 << 20; i++) {
        float v = ldexpf(1.0f + (float)(i & 1023) / 1024, (i >> 10) / 4 - 125);
        double s = fabs(sqrtf_nonneg(v) - sqrt((double)v)) / sqrt((double)v);
        if (s > worst_s) worst_s = s, at_s = v;
    }
    CHECK(worst_e < 2e-7, "expm1f_poly max relative error %.3g at %g", worst_e, at_e);
    CHECK(worst_t < 4e-7, "tanh_fast max relative error %.3g at %g", worst_t, at_t);
    CHECK(worst_s < 1.5e-7, "sqrtf_nonneg max relative error %.3g at %g", worst_s, at_s);
    CHECK(expm1f_poly(-1000) == -1 && isnan(expm1f_poly(NAN)) && expm1f_poly(0) == 0 && isfinite(expm1f_poly(1000)),
          "expm1f_poly(-1000) = %g, (NaN) = %g, (0) = %g, (1000) = %g", expm1f_poly(-1000), expm1f_poly(NAN),
          expm1f_poly(0), expm1f_poly(1000));
    CHECK(tanh_fast(1000) == 1 && tanh_fast(-1000) == -1 && tanh_fast(0) == 0 && isnan(tanh_fast(NAN)),
          "tanh_fast(1000) = %g, (-1000) = %g, (0) = %g, (NaN) = %g", tanh_fast(1000), tanh_fast(-1000), tanh_fast(0),
          tanh_fast(NAN));
    CHECK(sqrtf_nonneg(0) == 0 && sqrtf_nonneg(1) == 1 && sqrtf_nonneg(4) == 2, "sqrtf_nonneg(0) = %g, (1) = %.9g, (4) = %.9g",
          sqrtf_nonneg(0), sqrtf_nonneg(1), sqrtf_nonneg(4));
}

/* The RG-LRU scan: B sequences of T rows, W channels, forward from t0
 * (through rg_scan_ref and rg_scan) and, at t0 = 0, backward (through
 * rg_scan_backward_ref and rg_scan_backward + rg_lambda_grad). A few
 * recurrence gates are tiny, so a -> 1 and mult falls below the clip. */
static void test_rglru_scan(int B, int T, int W, int t0)
{
    Rng r;
    rng_seed(&r, (uint64_t)(B * 100000 + T * 1000 + W * 10 + t0));
    size_t n = (size_t)B * T * W;
    real *lambda = calloc(W, sizeof(real)), *xc = calloc(n, sizeof(real)), *gi = calloc(n, sizeof(real)),
         *ga = calloc(n, sizeof(real)), *y = calloc(n, sizeof(real)), *h0 = calloc((size_t)B * W, sizeof(real));
    fill(lambda, W, &r, -3, 3);
    fill(xc, n, &r, -2, 2);
    fill(gi, n, &r, 0.01, 0.99);
    fill(ga, n, &r, 0.01, 0.99);
    for (size_t i = 0; i < n; i += 7) ga[i] = (real)1e-9;
    fill(y, n, &r, -1, 1);
    fill(h0, (size_t)B * W, &r, -1, 1);
    real *out[2][5], *h[2], *c = calloc(W, sizeof(real)), *s = calloc(W, sizeof(real));
    rg_lambda_terms(lambda, W, c, s);
    for (int k = 0; k < 2; k++) {
        for (int j = 0; j < 4; j++) out[k][j] = calloc(n, sizeof(real));
        h[k] = malloc(sizeof(real) * B * W);
        memcpy(h[k], h0, sizeof(real) * B * W);
        for (int b = 0; b < B; b++) {
            size_t o = (size_t)b * T * W;
            if (k)
                rg_scan(c, W, T, t0, xc + o, gi + o, ga + o, y + o, out[k][0] + o, out[k][1] + o, out[k][2] + o,
                        out[k][3] + o, h[k] + (size_t)b * W);
            else
                rg_scan_ref(lambda, W, T, t0, xc + o, gi + o, ga + o, y + o, out[k][0] + o, out[k][1] + o, out[k][2] + o,
                            out[k][3] + o, h[k] + (size_t)b * W);
        }
    }
    const char *names[4] = {"a", "mult", "h", "g"};
    for (int j = 0; j < 4; j++) {
        double e = rel_err(out[1][j], out[0][j], n);
        CHECK(e < 1e-5, "rg_scan B %d T %d W %d t0 %d: %s differs by %.3g", B, T, W, t0, names[j], e);
    }
    double eh = rel_err(h[1], h[0], (size_t)B * W);
    CHECK(eh < 1e-5, "rg_scan B %d T %d W %d t0 %d: final state differs by %.3g", B, T, W, t0, eh);
    if (t0 == 0) {
        real *dh = calloc(n, sizeof(real)), *dh1 = calloc(n, sizeof(real)), *q = calloc(n, sizeof(real)), *grad[2][4];
        fill(dh, n, &r, -1, 1);
        memcpy(dh1, dh, sizeof(real) * n);
        for (int k = 0; k < 2; k++) {
            for (int j = 0; j < 3; j++) grad[k][j] = calloc(n, sizeof(real));
            grad[k][3] = calloc(W, sizeof(real));
            for (int i = 0; i < W; i++) grad[k][3][i] = (real)0.25; /* added to, not overwritten */
        }
        const real *a = out[0][0], *mult = out[0][1], *hs = out[0][2];
        rg_scan_backward_ref(lambda, W, B, T, xc, gi, ga, a, mult, hs, dh, grad[0][0], grad[0][1], grad[0][2], q,
                             grad[0][3]);
        for (int b = 0; b < B; b++) {
            size_t o = (size_t)b * T * W;
            rg_scan_backward(c, W, T, xc + o, gi + o, ga + o, a + o, mult + o, hs + o, dh1 + o, grad[1][0] + o,
                             grad[1][1] + o, grad[1][2] + o, q + o);
        }
        rg_lambda_grad(s, q, B * T, W, grad[1][3]);
        const char *gnames[4] = {"dxc", "dpre_i", "dpre_a", "dlambda"};
        size_t gn[4] = {n, n, n, (size_t)W};
        for (int j = 0; j < 4; j++) {
            double e = rel_err(grad[1][j], grad[0][j], gn[j]);
            CHECK(e < 1e-5, "rg_scan_backward B %d T %d W %d: %s differs by %.3g", B, T, W, gnames[j], e);
        }
        for (int k = 0; k < 2; k++)
            for (int j = 0; j < 4; j++) free(grad[k][j]);
        free(dh); free(dh1); free(q);
    }
    for (int k = 0; k < 2; k++) {
        for (int j = 0; j < 4; j++) free(out[k][j]);
        free(h[k]);
    }
    free(lambda); free(xc); free(gi); free(ga); free(y); free(h0); free(c); free(s);
}

/* One scan configuration through both paths. selective: B, C, Δ per token
 * (S6); else per channel, Δ fixed (LTI). */
static void test_scan(int T, int E, int N, int selective)
{
    Rng r;
    rng_seed(&r, (uint64_t)(T * 1000 + E * 10 + N + selective));
    size_t EN = (size_t)E * N, bc = selective ? (size_t)T * N : EN, ndt = selective ? (size_t)T * E : (size_t)E;
    real *u = calloc((size_t)T * E, sizeof(real)), *dt = calloc(ndt, sizeof(real)), *Bm = calloc(bc, sizeof(real)),
         *Cm = calloc(bc, sizeof(real)), *A = calloc(EN, sizeof(real)), *D = calloc(E, sizeof(real));
    fill(u, (size_t)T * E, &r, -1, 1);
    fill(dt, ndt, &r, 0.001, 0.5);
    fill(Bm, bc, &r, -1, 1);
    fill(Cm, bc, &r, -1, 1);
    fill(A, EN, &r, -8, -0.5);
    fill(D, E, &r, 0.5, 1.5);
    ScanIn s = {T, E, N, u, (size_t)E, dt, selective ? (size_t)E : 0, Bm, Cm,
                selective ? (size_t)N : 0, selective ? 0 : (size_t)N, A, D};
    real *y[2], *hs[2], *h[2], *dh = calloc(EN, sizeof(real)), *dy = calloc((size_t)T * E, sizeof(real));
    fill(dy, (size_t)T * E, &r, -1, 1);
    real *grads[2][6];
    size_t gn[6] = {(size_t)T * E, ndt, bc, bc, EN, (size_t)E};
    for (int k = 0; k < 2; k++) {
        y[k] = calloc((size_t)T * E, sizeof(real));
        hs[k] = calloc((size_t)T * EN, sizeof(real));
        h[k] = calloc(EN, sizeof(real));
        (k ? scan_forward : scan_forward_ref)(&s, y[k], (size_t)E, hs[k], h[k]);
        for (int j = 0; j < 6; j++) grads[k][j] = calloc(gn[j], sizeof(real));
        ScanGrad g = {grads[k][0], (size_t)E, grads[k][1], grads[k][2], grads[k][3], grads[k][4], grads[k][5]};
        (k ? scan_backward : scan_backward_ref)(&s, dy, (size_t)E, hs[k], dh, &g);
    }
    const char *kind = selective ? "S6" : "LTI";
    CHECK(rel_err(y[1], y[0], (size_t)T * E) < 1e-5, "%s T=%d E=%d N=%d: y differs by %.3g", kind, T, E, N,
          rel_err(y[1], y[0], (size_t)T * E));
    CHECK(rel_err(h[1], h[0], EN) < 1e-5, "%s N=%d: final state differs by %.3g", kind, N, rel_err(h[1], h[0], EN));
    const char *names[6] = {"du", "ddt", "dB", "dC", "dA", "dD"};
    for (int j = 0; j < 6; j++) {
        double d = rel_err(grads[1][j], grads[0][j], gn[j]);
        CHECK(d < 1e-5, "%s T=%d E=%d N=%d: %s differs by %.3g", kind, T, E, N, names[j], d);
    }
    for (int k = 0; k < 2; k++) {
        free(y[k]);
        free(hs[k]);
        free(h[k]);
        for (int j = 0; j < 6; j++) free(grads[k][j]);
    }
    free(u); free(dt); free(Bm); free(Cm); free(A); free(D); free(dh); free(dy);
}

/* The Mamba-2 training scan (m2_scan_group, _backward: heads of a group
 * together, states transposed, checkpoints every M2_CHUNK tokens), and the
 * inference forward by parts of a group's heads (m2_scan_heads), against
 * the per-head reference loops, on one sequence of random xBC, Δ, A, D. */
static void test_m2_scan(int T, int P, int H, int G, int N, int portable)
{
    Rng r;
    rng_seed(&r, (uint64_t)(T * 7001 + P * 101 + H * 13 + G * 7 + N));
    M2Dims d = {0};
    d.P = P; d.H = H; d.G = G; d.N = N; d.E = H * P; d.conv_dim = d.E + 2 * G * N;
    int L = d.E / G;
    size_t TC = (size_t)T * d.conv_dim, TH = (size_t)T * H, TE = (size_t)T * d.E, S = (size_t)T * d.E * N;
    real *xbc = calloc(TC, sizeof(real)), *delta = calloc(TH, sizeof(real)), *A = calloc(H, sizeof(real)),
         *Dv = calloc(H, sizeof(real)), *dy = calloc(TE, sizeof(real)), *work = calloc(m2_scan_work_size(&d), sizeof(real));
    fill(xbc, TC, &r, -1, 1);
    fill(delta, TH, &r, 0.001, 0.5);
    fill(A, H, &r, -8, -0.5);
    fill(Dv, H, &r, 0.5, 1.5);
    fill(dy, TE, &r, -1, 1);
    real *y[2], *Ss[2], *fin[2], *dxbc[2], *ddelta[2], *dA[2], *dD[2];
    for (int k = 0; k < 2; k++) {
        y[k] = calloc(TE, sizeof(real));
        /* the fast path's checkpoints at their exact size, for the sanitizer build */
        size_t ck = m2_ckpt_size(&d, T);
        Ss[k] = calloc(k ? (ck ? ck : 1) : S, sizeof(real));
        fin[k] = calloc((size_t)d.E * N, sizeof(real)); /* [H, P, N] */
        dxbc[k] = calloc(TC, sizeof(real));
        ddelta[k] = calloc(TH, sizeof(real));
        dA[k] = calloc(H, sizeof(real));
        dD[k] = calloc(H, sizeof(real));
    }
    real *dS = calloc((size_t)P * N, sizeof(real)), *ST = calloc((size_t)L * N, sizeof(real));
    for (int h = 0; h < H; h++) {
        m2_scan_head_ref(&d, h, T, xbc, delta, A[h], Dv[h], fin[0] + (size_t)h * P * N, Ss[0], y[0]);
        m2_scan_head_backward_ref(&d, h, T, xbc, delta, A[h], Dv[h], Ss[0], dy, dxbc[0], ddelta[0], dS, dA[0] + h,
                                  dD[0] + h);
    }
    for (size_t i = 0; i < TH; i++) ddelta[1][i] = NAN; /* written, not added to */
    real *y2 = calloc(TE, sizeof(real)), *fin2 = calloc((size_t)d.E * N, sizeof(real));
    for (int g = 0; g < G; g++) {
        memset(ST, 0, sizeof(real) * L * N);
        (portable ? m2_scan_group_any : m2_scan_group)(&d, g, T, xbc, delta, A, Dv, Ss[1], ST, y[1], work);
        for (int j = 0; j < L; j++) /* S^T [N, L] back to the heads' [P, N] */
            for (int n = 0; n < N; n++) fin[1][((size_t)g * L + j) * N + n] = ST[(size_t)n * L + j];
        (portable ? m2_scan_group_backward_any : m2_scan_group_backward)(&d, g, T, xbc, delta, A, Dv, Ss[1], dy,
                                                                         dxbc[1], ddelta[1], dA[1], dD[1], work);
        /* the inference form: no checkpoints, the group's heads in two parts (as a batch-1 prefill
         * splits them across threads), the same y and last state */
        int hpg = H / G;
        for (int part = 0; part < 2; part++) {
            int j0 = part * hpg / 2, nh = (part + 1) * hpg / 2 - j0, Lc = nh * P;
            if (!nh) continue;
            memset(ST, 0, sizeof(real) * L * N);
            (portable ? m2_scan_heads_any : m2_scan_heads)(&d, g, j0, nh, T, xbc, delta, A, Dv, NULL, ST, y2, work);
            for (int j = 0; j < Lc; j++)
                for (int n = 0; n < N; n++) fin2[((size_t)g * L + j0 * P + j) * N + n] = ST[(size_t)n * Lc + j];
        }
    }
    const char *tag = portable ? " (portable)" : "";
    CHECK(rel_err(y[1], y[0], TE) < 1e-5 && rel_err(y2, y[0], TE) < 1e-5,
          "m2 scan%s T=%d P=%d H=%d G=%d N=%d: y differs by %.3g (%.3g without checkpoints)", tag, T, P, H, G, N,
          rel_err(y[1], y[0], TE), rel_err(y2, y[0], TE));
    CHECK(rel_err(fin[1], fin[0], (size_t)d.E * N) < 1e-5 && rel_err(fin2, fin[0], (size_t)d.E * N) < 1e-5,
          "m2 scan%s T=%d P=%d H=%d G=%d N=%d: final state %.3g (%.3g by parts)", tag, T, P, H, G, N,
          rel_err(fin[1], fin[0], (size_t)d.E * N), rel_err(fin2, fin[0], (size_t)d.E * N));
    double e[4] = {rel_err(dxbc[1], dxbc[0], TC), rel_err(ddelta[1], ddelta[0], TH), rel_err(dA[1], dA[0], H),
                   rel_err(dD[1], dD[0], H)};
    const char *names[4] = {"dxBC", "dΔ", "dA", "dD"};
    for (int j = 0; j < 4; j++)
        CHECK(e[j] < 1e-5, "m2 scan%s T=%d P=%d H=%d G=%d N=%d: %s differs by %.3g", tag, T, P, H, G, N, names[j], e[j]);
    for (int k = 0; k < 2; k++) {
        free(y[k]); free(Ss[k]); free(fin[k]); free(dxbc[k]); free(ddelta[k]); free(dA[k]); free(dD[k]);
    }
    free(xbc); free(delta); free(A); free(Dv); free(dy); free(work); free(dS); free(ST); free(y2); free(fin2);
}

/* [E, N] <-> [N, E] */
static void transpose(real *dst, const real *src, int rows, int cols)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) dst[(size_t)c * rows + r] = src[(size_t)r * cols + c];
}

/* lti_scan_forward_t / _backward_t against the references with the LTI
 * strides: the same Δ, A, B, C (transposed for the fast path), the
 * gradients of the fixed parameters summed over every token. */
static void test_lti_t(int T, int E, int N)
{
    Rng r;
    rng_seed(&r, (uint64_t)(T * 104729 + E * 131 + N));
    size_t EN = (size_t)E * N, TE = (size_t)T * E;
    real *u = calloc(TE, sizeof(real)), *dt = calloc(E, sizeof(real)), *Bm = calloc(EN, sizeof(real)),
         *Cm = calloc(EN, sizeof(real)), *A = calloc(EN, sizeof(real)), *D = calloc(E, sizeof(real)),
         *dy = calloc(TE, sizeof(real)), *dh = calloc(EN, sizeof(real));
    real *AT = calloc(EN, sizeof(real)), *BT = calloc(EN, sizeof(real)), *CT = calloc(EN, sizeof(real)),
         *decT = calloc(EN, sizeof(real));
    fill(u, TE, &r, -1, 1);
    fill(dt, E, &r, 0.001, 0.5);
    fill(Bm, EN, &r, -1, 1);
    fill(Cm, EN, &r, -1, 1);
    fill(A, EN, &r, -8, -0.5);
    fill(D, E, &r, 0.5, 1.5);
    fill(dy, TE, &r, -1, 1);
    transpose(AT, A, E, N);
    transpose(BT, Bm, E, N);
    transpose(CT, Cm, E, N);
    lti_scan_decays(decT, dt, AT, E, N);
    ScanIn s = {T, E, N, u, (size_t)E, dt, 0, Bm, Cm, 0, (size_t)N, A, D};
    LtiScanIn st = {T, E, N, u, (size_t)E, dt, D, AT, BT, CT, decT};
    real *y[2], *hs[2], *h[2], *grads[2][6];
    size_t gn[6] = {TE, (size_t)E, EN, EN, EN, (size_t)E}; /* du, dΔ, dB, dC, dA, dD */
    for (int k = 0; k < 2; k++) {
        y[k] = calloc(TE, sizeof(real));
        hs[k] = calloc((size_t)T * EN, sizeof(real));
        h[k] = calloc(EN, sizeof(real));
        for (int j = 0; j < 6; j++) grads[k][j] = calloc(gn[j], sizeof(real));
    }
    scan_forward_ref(&s, y[0], (size_t)E, hs[0], h[0]);
    ScanGrad g = {grads[0][0], (size_t)E, grads[0][1], grads[0][2], grads[0][3], grads[0][4], grads[0][5]};
    scan_backward_ref(&s, dy, (size_t)E, hs[0], dh, &g);
    for (size_t i = 0; i < TE; i++) grads[1][0][i] = NAN; /* du is written, not added to */
    lti_scan_forward_t(&st, y[1], (size_t)E, hs[1], h[1]);
    LtiScanGrad gt = {grads[1][0], (size_t)E, grads[1][1], grads[1][5], grads[1][4], grads[1][2], grads[1][3]};
    lti_scan_backward_t(&st, dy, (size_t)E, hs[1], dh, &gt);
    for (int j = 2; j < 5; j++) { /* dB, dC, dA back to [E, N] */
        transpose(dh, grads[1][j], N, E);
        memcpy(grads[1][j], dh, sizeof(real) * EN);
    }
    transpose(dh, h[1], N, E);
    CHECK(rel_err(y[1], y[0], TE) < 1e-5, "LTI transposed T=%d E=%d N=%d: y differs by %.3g", T, E, N,
          rel_err(y[1], y[0], TE));
    CHECK(rel_err(dh, h[0], EN) < 1e-5, "LTI transposed T=%d E=%d N=%d: final state differs by %.3g", T, E, N,
          rel_err(dh, h[0], EN));
    real *y2 = calloc(TE, sizeof(real)), *h2 = calloc(EN, sizeof(real));
    lti_scan_forward_t(&st, y2, (size_t)E, NULL, h2); /* inference: no saved states */
    CHECK(rel_err(y2, y[0], TE) < 1e-5, "LTI transposed T=%d E=%d N=%d without hs: y differs by %.3g", T, E, N,
          rel_err(y2, y[0], TE));
    const char *names[6] = {"du", "ddelta", "dB", "dC", "dA", "dD"};
    for (int j = 0; j < 6; j++) {
        double d = rel_err(grads[1][j], grads[0][j], gn[j]);
        CHECK(d < 1e-5, "LTI transposed T=%d E=%d N=%d: %s differs by %.3g", T, E, N, names[j], d);
    }
    for (int k = 0; k < 2; k++) {
        free(y[k]);
        free(hs[k]);
        free(h[k]);
        for (int j = 0; j < 6; j++) free(grads[k][j]);
    }
    free(u); free(dt); free(Bm); free(Cm); free(A); free(D); free(dy); free(dh);
    free(AT); free(BT); free(CT); free(decT); free(y2); free(h2);
}

/* conv1d_forward / _backward against the reference loops, with rows inside
 * wider ones (as Mamba's conv reads half of in_proj's output) and gradients
 * added to what is already there. */
static void test_conv1d(int B, int T, int C, int K)
{
    Rng r;
    rng_seed(&r, (uint64_t)(B * 100003 + T * 1009 + C * 17 + K));
    int ldx = 2 * C + 3, ldy = C + 1;
    size_t MX = (size_t)B * T * ldx, MY = (size_t)B * T * ldy, CK = (size_t)C * K;
    real *x = calloc(MX, sizeof(real)), *w = calloc(CK, sizeof(real)), *b = calloc(C, sizeof(real)),
         *dy = calloc(MY, sizeof(real));
    fill(x, MX, &r, -1, 1);
    fill(w, CK, &r, -1, 1);
    fill(b, C, &r, -1, 1);
    fill(dy, MY, &r, -1, 1);
    real *y[2], *dx[2], *dw[2], *db[2];
    for (int k = 0; k < 2; k++) {
        y[k] = calloc(MY, sizeof(real));
        dx[k] = calloc(MX, sizeof(real));
        dw[k] = calloc(CK, sizeof(real));
        db[k] = calloc(C, sizeof(real));
        Rng r0;
        rng_seed(&r0, 5); /* the same starting gradients for both */
        fill(dx[k], MX, &r0, -1, 1);
        fill(dw[k], CK, &r0, -1, 1);
        fill(db[k], C, &r0, -1, 1);
        (k ? conv1d_forward : conv1d_forward_ref)(y[k], ldy, x, ldx, w, b, B, T, C, K);
        (k ? conv1d_backward : conv1d_backward_ref)(dx[k], ldx, dw[k], db[k], dy, ldy, x, ldx, w, B, T, C, K);
    }
    /* whole rows compared: what lies past the first C must be left alone */
    CHECK(rel_err(y[1], y[0], MY) < 1e-6, "conv1d B=%d T=%d C=%d K=%d: y differs by %.3g", B, T, C, K,
          rel_err(y[1], y[0], MY));
    CHECK(rel_err(dx[1], dx[0], MX) < 1e-6, "conv1d B=%d T=%d C=%d K=%d: dx differs by %.3g", B, T, C, K,
          rel_err(dx[1], dx[0], MX));
    CHECK(rel_err(dw[1], dw[0], CK) < 1e-5, "conv1d B=%d T=%d C=%d K=%d: dw differs by %.3g", B, T, C, K,
          rel_err(dw[1], dw[0], CK));
    CHECK(rel_err(db[1], db[0], C) < 1e-5, "conv1d B=%d T=%d C=%d K=%d: db differs by %.3g", B, T, C, K,
          rel_err(db[1], db[0], C));
    for (int k = 0; k < 2; k++) {
        free(y[k]);
        free(dx[k]);
        free(dw[k]);
        free(db[k]);
    }
    free(x); free(w); free(b); free(dy);
}

/* y = x W^T (+ y) through gemm_nt_f32 and linear_fwd against the plain
 * loop; where the CPU has no kernel, gemm_nt_f32 must leave y alone. */
static void test_gemm_nt(int M, int N, int K, int accumulate)
{
    Rng r;
    rng_seed(&r, (uint64_t)(M * 7919 + N * 31 + K));
    size_t ny = (size_t)M * N;
    float *x = malloc(sizeof(float) * M * K), *W = malloc(sizeof(float) * N * K), *y0 = malloc(sizeof(float) * ny),
          *y = malloc(sizeof(float) * ny), *yl = malloc(sizeof(float) * ny);
    fill(x, (size_t)M * K, &r, -1, 1);
    fill(W, (size_t)N * K, &r, -1, 1);
    fill(y0, ny, &r, -1, 1);
    memcpy(y, y0, sizeof(float) * ny);
    memcpy(yl, y0, sizeof(float) * ny);
    float *ref = malloc(sizeof(float) * ny);
    memcpy(ref, y0, sizeof(float) * ny);
    gemm_nt_f32_ref(ref, x, W, M, N, K, accumulate);
    /* each kernel family this CPU has: an AVX-512 CPU runs the AVX2 copies too */
    for (int isa = GEMM_AVX2; isa <= GEMM_AVX512; isa += GEMM_AVX512 - GEMM_AVX2) {
        float *yi = malloc(sizeof(float) * ny);
        memcpy(yi, y0, sizeof(float) * ny);
        if (gemm_nt_f32_isa(isa, yi, x, W, M, N, K, accumulate)) {
            double e = rel_err(yi, ref, ny);
            CHECK(e < 1e-5, "gemm_nt_f32 (%s) M %d N %d K %d acc %d: relative error %.3g",
                  isa == GEMM_AVX512 ? "AVX-512" : "AVX2", M, N, K, accumulate, e);
        }
        free(yi);
    }
    if (gemm_nt_f32(y, x, W, M, N, K, accumulate)) {
        double e = rel_err(y, ref, ny);
        CHECK(e < 1e-5, "gemm_nt_f32 M %d N %d K %d acc %d: relative error %.3g", M, N, K, accumulate, e);
    } else {
        CHECK(!gemm_nt_f32_available() && memcmp(y, y0, sizeof(float) * ny) == 0,
              "gemm_nt_f32 M %d N %d K %d declined but wrote y (or the CPU has its kernel)", M, N, K);
    }
    linear_fwd(yl, x, W, M, N, K, accumulate);
    double e = rel_err(yl, ref, ny);
    CHECK(e < 1e-5, "linear_fwd M %d N %d K %d acc %d: relative error %.3g", M, N, K, accumulate, e);

    /* bf16 weights: the plain loop is the fp32 one on the rounded weights,
     * bit for bit; each kernel family is checked against it */
    uint16_t *W16 = malloc(sizeof *W16 * N * K);
    for (size_t i = 0; i < (size_t)N * K; i++) {
        W16[i] = bf16_from_f32(W[i]);
        W[i] = bf16_to_f32(W16[i]);
    }
    memcpy(ref, y0, sizeof(float) * ny);
    memcpy(yl, y0, sizeof(float) * ny);
    gemm_nt_f32_ref(ref, x, W, M, N, K, accumulate);
    gemm_nt_bf16_ref(yl, x, W16, M, N, K, accumulate);
    CHECK(!memcmp(yl, ref, sizeof(float) * ny), "gemm_nt_bf16_ref M %d N %d K %d: not the fp32 loop on rounded weights",
          M, N, K);
    for (int isa = GEMM_AVX2; isa <= GEMM_AVX512; isa += GEMM_AVX512 - GEMM_AVX2) {
        memcpy(y, y0, sizeof(float) * ny);
        if (gemm_nt_bf16_isa(isa, y, x, W16, M, N, K, accumulate)) {
            e = rel_err(y, ref, ny);
            CHECK(e < 1e-5, "gemm_nt_bf16 (%s) M %d N %d K %d acc %d: relative error %.3g",
                  isa == GEMM_AVX512 ? "AVX-512" : "AVX2", M, N, K, accumulate, e);
        }
    }
    free(x); free(W); free(W16); free(y0); free(y); free(yl); free(ref);
}

/* fp32 -> bf16 rounds to nearest, ties to even, and keeps NaN a NaN */
static void test_bf16_round(void)
{
    const struct { uint32_t in; uint16_t out; } cases[] = {
        {0x3f800000u, 0x3f80}, /* 1 */
        {0x3f808000u, 0x3f80}, /* halfway, even below: down */
        {0x3f818000u, 0x3f82}, /* halfway, odd below: up */
        {0x3f808001u, 0x3f81}, /* past halfway: up */
        {0x3f807fffu, 0x3f80}, /* below halfway: down */
        {0x7f7fffffu, 0x7f80}, /* the largest float rounds to infinity */
        {0xff800000u, 0xff80}, /* -inf */
        {0x80000001u, 0x8000}, /* a tiny negative subnormal: -0 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        float f;
        memcpy(&f, &cases[i].in, sizeof f);
        CHECK(bf16_from_f32(f) == cases[i].out, "bf16 of 0x%08x: 0x%04x, want 0x%04x", cases[i].in,
              bf16_from_f32(f), cases[i].out);
    }
    uint32_t nan_bits = 0x7f800001u; /* a NaN whose payload sits below bf16's bits */
    float nan;
    memcpy(&nan, &nan_bits, sizeof nan);
    CHECK(isnan(bf16_to_f32(bf16_from_f32(nan))), "a NaN must stay a NaN in bf16");
    CHECK(bf16_to_f32(0x4049) == 3.140625f, "bf16 0x4049 is 3.140625");
}

int main(void)
{
    printf("gemm_nt_f32 kernels on this CPU: %s\n", !gemm_nt_f32_available() ? "none (BLAS path)"
                                                    : cpu_has_x86_64_v4()     ? "AVX-512 and AVX2"
                                                                              : "AVX2");
    for (int acc = 0; acc < 2; acc++) {
        test_gemm_nt(16, 768, 768, acc);
        test_gemm_nt(1, 5, 3, acc);
        test_gemm_nt(2, 9, 17, acc);    /* one row of x; K one past a vector */
        test_gemm_nt(7, 13, 33, acc);   /* partial tiles both ways, a K tail */
        test_gemm_nt(64, 130, 80, acc); /* the widest batch linear_fwd gives it */
        test_gemm_nt(5, 3, 15, acc);    /* K below one vector: only the masked tail */
        test_gemm_nt(3, 11, 7, acc);    /* K below AVX2's 8 lanes; an odd row of x in the 2 x 4 tile */
        test_gemm_nt(65, 6, 40, acc);   /* past GEMM_NT_MAX_M: linear_fwd's gemm */
        test_gemm_nt(33, 300, 2048, acc);
        test_gemm_nt(1, 1101, 1000, acc); /* one row, threaded: eight W rows a pass, the last pass partial */
        test_gemm_nt(1, 13, 40, acc);
    }
    test_bf16_round();
    test_vexp();
    test_log_softplus();
    test_expm1_tanh_sqrt();
    test_rglru_scan(3, 17, 256, 0);
    test_rglru_scan(1, 33, 37, 0);  /* W not a multiple of 8, B·T odd */
    test_rglru_scan(2, 1, 19, 0);   /* T = 1: only the reset row */
    test_rglru_scan(5, 1, 40, 7);   /* a decode step past position 0 */
    test_rglru_scan(1, 9, 300, 3);  /* a chunk past position 0 */
    test_scan(37, 24, 16, 1);
    test_scan(37, 24, 16, 0);
    test_scan(9, 5, 100, 1); /* N past one block of 64 */
    test_scan(9, 5, 100, 0);
    test_scan(1, 128, 16, 1); /* a decode step */
    /* Mamba-2: the training shape (P = N = 16, T = 4 chunks), P and N off the
     * SIMD width, several groups, T odd, below a chunk, one past a chunk, 1 */
    for (int portable = 0; portable < 2; portable++) {
        test_m2_scan(64, 16, 8, 1, 16, portable);
        test_m2_scan(37, 5, 6, 2, 7, portable);
        test_m2_scan(17, 12, 4, 4, 19, portable);
        test_m2_scan(9, 3, 2, 1, 3, portable);
        test_m2_scan(1, 16, 3, 1, 16, portable);
        test_m2_scan(33, 7, 9, 3, 1, portable);
    }
    test_lti_t(37, 24, 16);
    test_lti_t(1, 128, 16);   /* T = 1 */
    test_lti_t(6, 131, 3);    /* past one channel block, N odd */
    test_lti_t(30, 264, 17);
    test_lti_t(3, 1, 1);
    test_conv1d(3, 17, 128, 4);
    test_conv1d(2, 2, 70, 4);  /* T < K - 1: every tap of some rows sees zeros; a partial channel block */
    test_conv1d(1, 9, 5, 1);
    test_conv1d(2, 40, 300, 8); /* two channel blocks, the last partial */
    test_conv1d(2, 40, 33, 9);  /* past CONV_KMAX: the reference itself */
    return check_summary();
}
