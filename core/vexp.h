/* exp over arrays, fast enough for the scans' inner loops.
 *
 * The selective scan takes exp(Δ·A) for every state element of every token
 * (E·N per token per layer): with libm's scalar expf that was 55% of the
 * instructions of a tiny Mamba's decode step (callgrind). expf_poly is the
 * classic range reduction exp(x) = 2^k · exp(r), k = round(x / ln 2),
 * |r| ≤ ln2 / 2, with a degree-6 polynomial for exp(r): branch-free, so an
 * `omp simd` loop runs it 8 (AVX2) lanes at a time. Relative error ≤ 1e-7
 * on [-87.3, 88.3] (tests/test_model.c holds it against libm); below -87.3
 * it returns 2^-126 instead of a denormal, which this program flushes to
 * zero anyway.
 *
 * The double build (gradient checks) keeps libm's exp: it checks the
 * mathematics, not this approximation. */
#ifndef SEQ_VEXP_H
#define SEQ_VEXP_H

#include <stdint.h>
#include <string.h>
#include <tgmath.h>

#include "core/real.h"

static inline float expf_poly(float x)
{
    x = x < -87.3f ? -87.3f : x > 88.3f ? 88.3f : x;
    /* k = round(x / ln 2) without a call: adding 1.5·2^23 leaves no bits
     * below the units, so the float addition itself rounds (to even), and
     * t's low mantissa bits then hold k + 2^22 as an integer */
    float t = x * 1.44269504088896341f + 12582912.0f, k = t - 12582912.0f;
    uint32_t tb;
    memcpy(&tb, &t, sizeof tb);
    float r = x - k * 0.693359375f; /* ln 2 in two parts: the first exact in float */
    r = r + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* 2^k as a float's exponent field; unsigned, so a NaN input (which the
     * clamps pass through) stays defined here and NaN in the product */
    uint32_t bits = (tb - 0x4B400000u + 127u) << 23;
    float s;
    memcpy(&s, &bits, sizeof s);
    return p * s;
}

/* log(x) for x > 0 normal, by the same kind of reduction: x = m · 2^k with
 * m in [√½, √2), log x = k ln 2 + log m, a degree-9 polynomial in m − 1.
 * Relative error ≤ 2e-7 (tests/test_kernels.c). */
static inline float logf_poly(float x)
{
    int32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int32_t k = ((bits >> 23) & 0xff) - 126;
    bits = (bits & 0x007fffff) | 0x3f000000; /* m in [0.5, 1) */
    float m;
    memcpy(&m, &bits, sizeof m);
    int small = m < 0.707106781186547524f;
    k -= small;
    m = small ? m + m - 1.0f : m - 1.0f; /* now m - 1, with m in [√½, √2) */
    float z = m * m, fk = (float)k;
    float p = 7.0376836292e-2f;
    p = p * m - 1.1514610310e-1f;
    p = p * m + 1.1676998740e-1f;
    p = p * m - 1.2420140846e-1f;
    p = p * m + 1.4249322787e-1f;
    p = p * m - 1.6668057665e-1f;
    p = p * m + 2.0000714765e-1f;
    p = p * m - 2.4999993993e-1f;
    p = p * m + 3.3333331174e-1f;
    float y = m * z * p + fk * -2.12194440e-4f - 0.5f * z;
    return m + y + fk * 0.693359375f;
}

/* exp for one real: the polynomial in the float build, libm's in the double
 * build; inline and branch-free, so `omp simd` loops calling it vectorise. */
static inline real exp_fast(real x)
{
#ifdef SEQ_F64
    return exp(x);
#else
    return expf_poly(x);
#endif
}

/* softplus(v) = log(1 + e^v), v past 20 as torch's threshold. log1p by
 * Goldberg's correction: with u = 1 + x rounded, log(u) · x / (u − 1) is
 * accurate even where u has lost most of x's bits. Branch-free, for `omp
 * simd` loops. */
static inline real softplus_fast(real v)
{
#ifdef SEQ_F64
    return v > 20 ? v : log1p(exp(v));
#else
    float x = expf_poly(v), u = 1.0f + x, d = u - 1.0f;
    float l = logf_poly(u) * x / (d == 0.0f ? 1.0f : d);
    return v > 20 ? v : d == 0.0f ? x : l;
#endif
}

/* expf_poly with every multiply-add fused. The build is ISO C11, where GCC
 * fuses nothing on its own (-ffp-contract=off), so expf_poly costs a
 * multiply and an add per step; this form is 9 operations shorter, which
 * is most of a decay's cost in the training scans (selective_scan.h).
 * Same reduction and polynomial, the same bounds and NaN behaviour; the
 * fused steps round once, not twice, so results may differ from
 * expf_poly's in the last bit (tests/test_kernels.c holds both to libm). */
static inline float expf_fma(float x)
{
    x = x < -87.3f ? -87.3f : x > 88.3f ? 88.3f : x;
    float t = fmaf(x, 1.44269504088896341f, 12582912.0f), k = t - 12582912.0f;
    uint32_t tb;
    memcpy(&tb, &t, sizeof tb);
    float r = fmaf(k, -0.693359375f, x);
    r = fmaf(k, 2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = fmaf(p, r, 1.3981999507e-3f);
    p = fmaf(p, r, 8.3334519073e-3f);
    p = fmaf(p, r, 4.1665795894e-2f);
    p = fmaf(p, r, 1.6666665459e-1f);
    p = fmaf(p, r, 5.0000001201e-1f);
    p = fmaf(p * r, r, r) + 1.0f;
    uint32_t bits = (tb - 0x4B400000u + 127u) << 23;
    float s;
    memcpy(&s, &bits, sizeof s);
    return p * s;
}

/* exp_fast's fused form: expf_fma in the float build, libm's in the double. */
static inline real exp_fma(real x)
{
#ifdef SEQ_F64
    return exp(x);
#else
    return expf_fma(x);
#endif
}

/* expm1(x) = e^x − 1, accurate relative to the result near 0 where e^x − 1
 * cancels: the RG-LRU's multiplier sqrt(1 − a²) = sqrt(−expm1(2 log a))
 * as a -> 1 needs it. Same reduction as expf_poly, x = k ln2 + r, and then
 * e^x − 1 = 2^k (e^r − 1) + (2^k − 1) with e^r − 1 = r + r² p(r) from the
 * same polynomial: for |x| < ln2/2, k = 0 and the result is r + r² p(r)
 * with r = x exactly; for |k| ≥ 1 the result is at least 0.29 in size and
 * the sum cancels little. 2^k − 1 is exact in float for |k| ≤ 24, and
 * rounds harmlessly past it. Relative error ≤ 2e-7 over [-87.3, 88.3]
 * (tests/test_kernels.c); below it returns −1, above a large finite value,
 * NaN stays NaN. Branch-free, fused, for `omp simd` loops. */
static inline float expm1f_poly(float x)
{
    x = x < -87.3f ? -87.3f : x > 88.3f ? 88.3f : x;
    float t = fmaf(x, 1.44269504088896341f, 12582912.0f), k = t - 12582912.0f;
    uint32_t tb;
    memcpy(&tb, &t, sizeof tb);
    float r = fmaf(k, -0.693359375f, x);
    r = fmaf(k, 2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = fmaf(p, r, 1.3981999507e-3f);
    p = fmaf(p, r, 8.3334519073e-3f);
    p = fmaf(p, r, 4.1665795894e-2f);
    p = fmaf(p, r, 1.6666665459e-1f);
    p = fmaf(p, r, 5.0000001201e-1f);
    float em = fmaf(p * r, r, r); /* e^r − 1 */
    uint32_t bits = (tb - 0x4B400000u + 127u) << 23;
    float s;
    memcpy(&s, &bits, sizeof s);
    return fmaf(s, em, s - 1.0f);
}

/* expm1 for one real: the polynomial in the float build, libm's in the double. */
static inline real expm1_fast(real x)
{
#ifdef SEQ_F64
    return expm1(x);
#else
    return expm1f_poly(x);
#endif
}

/* tanh(z) = e / (e + 2) with e = expm1(2z): relative accuracy near 0 comes
 * from expm1 (1 − 2/(e^{2|z|} + 1) would lose it), and the ends need no
 * branch: e -> −1 gives −1, e -> the clamp's large finite value gives 1.
 * Relative error ≤ 4e-7 (tests/test_kernels.c). For `omp simd` loops. */
static inline real tanh_fast(real z)
{
#ifdef SEQ_F64
    return tanh(z);
#else
    float e = expm1f_poly(2.0f * z);
    return e / (e + 2.0f);
#endif
}

/* sqrt(v) for v ≥ 0 without libm: GCC's sqrtf must keep errno for
 * negative inputs, so a loop calling it does not vectorise (ISO C build,
 * -fmath-errno). 1/sqrt(v) from the exponent-halving bit guess (0.18%
 * off), two Newton steps (~5e-6, then ~3e-11 before rounding), then
 * s = v y corrected once with its fused residual v − s², which leaves it
 * within an ulp (tests/test_kernels.c). 0 gives 0; normal v only (this
 * program flushes denormals). */
static inline float sqrtf_nonneg(float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    bits = 0x5f375a86u - (bits >> 1);
    float y;
    memcpy(&y, &bits, sizeof y);
    float hv = 0.5f * v;
    y = y * fmaf(-hv * y, y, 1.5f);
    y = y * fmaf(-hv * y, y, 1.5f);
    float s = v * y;
    return fmaf(0.5f * y, fmaf(-s, s, v), s);
}

/* sqrt_nonneg for one real: sqrtf_nonneg in the float build, libm's in the double. */
static inline real sqrt_nonneg(real v)
{
#ifdef SEQ_F64
    return sqrt(v);
#else
    return sqrtf_nonneg(v);
#endif
}

/* y[i] = exp(x[i]); y may be x. */
static inline void vexp(real *y, const real *x, int n)
{
#ifdef SEQ_F64
    for (int i = 0; i < n; i++) y[i] = exp(x[i]);
#else
#pragma omp simd
    for (int i = 0; i < n; i++) y[i] = expf_poly(x[i]);
#endif
}

#endif
