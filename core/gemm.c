#include "gemm.h"

#include <stddef.h>

#include "cpu.h"
#include "parallel.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define GEMM_V4 1
#include <immintrin.h>
#define V4 __attribute__((target("arch=x86-64-v4")))
#define V3 __attribute__((target("arch=x86-64-v3")))
#else
#define GEMM_V4 0
#endif

void gemm_nt_f32_ref(float *y, const float *x, const float *W, int M, int N, int K, int accumulate)
{
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float s = 0;
            for (int k = 0; k < K; k++) s += x[(size_t)m * K + k] * W[(size_t)n * K + k];
            float *out = y + (size_t)m * N + n;
            *out = accumulate ? *out + s : s;
        }
}

/* the kernels are built for whole levels, not single extensions */
static int gemm_has(int isa)
{
#if GEMM_V4
    if (isa == GEMM_AVX512) return cpu_has_x86_64_v4();
    if (isa == GEMM_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    (void)isa;
    return 0;
}

int gemm_nt_f32_available(void) { return gemm_has(GEMM_AVX512) || gemm_has(GEMM_AVX2); }

#if GEMM_V4
/* wr[0..cnt) = W's rows n0.., rows past N repeating row n0 (their sums are
 * dropped); returns how many are real */
static inline int w_rows(const float **wr, int cnt, const float *W, int N, int K, int n0)
{
    int nr = N - n0 < cnt ? N - n0 : cnt;
    for (int j = 0; j < cnt; j++) wr[j] = W + (size_t)(j < nr ? n0 + j : n0) * K;
    return nr;
}

/* 4 rows of x (xr) times 4 rows of W (wr): 16 dot products over K, the
 * last K % 16 through masked loads. Rows beyond mr, nr repeat a valid row
 * and their sums are dropped. */
V4 static void tile_4x4(float *y, size_t ldy, const float *const xr[4], const float *const wr[4], int K, int mr,
                        int nr, int accumulate, const float *next)
{
    __m512 a[4][4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) a[i][j] = _mm512_setzero_ps();
    int k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 w[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) w[j] = _mm512_loadu_ps(wr[j] + k);
        if (next) /* the next panel's four rows, one cache line of each per step */
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) _mm_prefetch((const char *)(next + (size_t)j * K + k), _MM_HINT_T1);
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) {
            __m512 xv = _mm512_loadu_ps(xr[i] + k);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) a[i][j] = _mm512_fmadd_ps(xv, w[j], a[i][j]);
        }
    }
    if (k < K) {
        __mmask16 tail = (__mmask16)((1u << (K - k)) - 1);
        __m512 w[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) w[j] = _mm512_maskz_loadu_ps(tail, wr[j] + k);
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) {
            __m512 xv = _mm512_maskz_loadu_ps(tail, xr[i] + k);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) a[i][j] = _mm512_fmadd_ps(xv, w[j], a[i][j]);
        }
    }
    /* Fold the 16 lanes of each sum: per row i, t[i]'s 128-bit lane j holds
     * four partial sums of (i, j); then across the rows, lane j becomes
     * (0..3, j). */
    __m512 t[4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        __m512 s01 = _mm512_add_ps(_mm512_shuffle_f32x4(a[i][0], a[i][1], 0x44), _mm512_shuffle_f32x4(a[i][0], a[i][1], 0xEE));
        __m512 s23 = _mm512_add_ps(_mm512_shuffle_f32x4(a[i][2], a[i][3], 0x44), _mm512_shuffle_f32x4(a[i][2], a[i][3], 0xEE));
        t[i] = _mm512_add_ps(_mm512_shuffle_f32x4(s01, s23, 0x88), _mm512_shuffle_f32x4(s01, s23, 0xDD));
    }
    __m512 u01 = _mm512_add_ps(_mm512_unpacklo_ps(t[0], t[1]), _mm512_unpackhi_ps(t[0], t[1]));
    __m512 u23 = _mm512_add_ps(_mm512_unpacklo_ps(t[2], t[3]), _mm512_unpackhi_ps(t[2], t[3]));
    __m512d lo = _mm512_unpacklo_pd(_mm512_castps_pd(u01), _mm512_castps_pd(u23));
    __m512d hi = _mm512_unpackhi_pd(_mm512_castps_pd(u01), _mm512_castps_pd(u23));
    float out[16]; /* out[4 j + i] = y(i, j) */
    _mm512_storeu_ps(out, _mm512_add_ps(_mm512_castpd_ps(lo), _mm512_castpd_ps(hi)));
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            float *o = y + (size_t)i * ldy + j;
            *o = accumulate ? *o + out[4 * j + i] : out[4 * j + i];
        }
}

/* One row of x (batch-1 decode, bandwidth-bound): eight W rows a pass
 * with x from L1, the next eight rows prefetched, the sums folded by
 * _mm512_reduce_add_ps (once per row of K). */
V4 static void rows_1x8(float *y, const float *x, const float *W, int N, int K, int n0, int accumulate)
{
    const float *wr[8];
    int nr = w_rows(wr, 8, W, N, K, n0);
    const float *next = n0 + 16 <= N ? W + (size_t)(n0 + 8) * K : NULL;
    __m512 a[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) a[j] = _mm512_setzero_ps();
    int k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 xv = _mm512_loadu_ps(x + k);
        if (next)
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) _mm_prefetch((const char *)(next + (size_t)j * K + k), _MM_HINT_T1);
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) a[j] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(wr[j] + k), a[j]);
    }
    if (k < K) {
        __mmask16 tail = (__mmask16)((1u << (K - k)) - 1);
        __m512 xv = _mm512_maskz_loadu_ps(tail, x + k);
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) a[j] = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(tail, wr[j] + k), a[j]);
    }
    for (int j = 0; j < nr; j++) {
        float s = _mm512_reduce_add_ps(a[j]);
        y[n0 + j] = accumulate ? y[n0 + j] + s : s;
    }
}

/* W rows n0..n0+3 against every row of x: the four W rows are read from
 * memory once and from L1 for each further block of x. The first block
 * prefetches the next four rows: at batch 16 the plain loads left the
 * LM head's 154 MB streaming at 6 GB/s a thread. */
V4 static void panel_v4(float *y, const float *x, const float *W, int M, int N, int K, int n0, int accumulate)
{
    const float *wr[4];
    int nr = w_rows(wr, 4, W, N, K, n0);
    for (int m0 = 0; m0 < M; m0 += 4) {
        const float *xr[4];
        int mr = M - m0 < 4 ? M - m0 : 4;
        for (int i = 0; i < 4; i++) xr[i] = x + (size_t)(i < mr ? m0 + i : m0) * K;
        const float *next = m0 == 0 && n0 + 8 <= N ? W + (size_t)(n0 + 4) * K : NULL;
        tile_4x4(y + (size_t)m0 * N + n0, (size_t)N, xr, wr, K, mr, nr, accumulate, next);
    }
}

/* The AVX2 copies (Zen 3 and other CPUs without AVX-512). Sixteen 8-lane
 * registers: eight sums with x and one W row in flight for a row of x; a
 * 2 x 4 tile (eight sums, four W rows, one x row) for more, as 4 x 4 sums
 * would not fit. */
static inline V3 __m256i tail_mask_v3(int n) /* lanes below n on */
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* lane j = the sum of a[j]'s lanes, j < 8 */
static inline V3 __m256 fold8_v3(const __m256 a[8])
{
    __m256 s01 = _mm256_hadd_ps(a[0], a[1]), s23 = _mm256_hadd_ps(a[2], a[3]);
    __m256 s45 = _mm256_hadd_ps(a[4], a[5]), s67 = _mm256_hadd_ps(a[6], a[7]);
    __m256 lo = _mm256_hadd_ps(s01, s23), hi = _mm256_hadd_ps(s45, s67); /* 128-bit halves still apart */
    return _mm256_add_ps(_mm256_permute2f128_ps(lo, hi, 0x20), _mm256_permute2f128_ps(lo, hi, 0x31));
}

V3 static void rows_1x8_v3(float *y, const float *x, const float *W, int N, int K, int n0, int accumulate)
{
    const float *wr[8];
    int nr = w_rows(wr, 8, W, N, K, n0);
    const float *next = n0 + 16 <= N ? W + (size_t)(n0 + 8) * K : NULL;
    __m256 a[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
    int k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 xv = _mm256_loadu_ps(x + k);
        if (next && k % 16 == 0) /* a cache line is 16 floats */
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) _mm_prefetch((const char *)(next + (size_t)j * K + k), _MM_HINT_T1);
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) a[j] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(wr[j] + k), a[j]);
    }
    if (k < K) {
        __m256i tail = tail_mask_v3(K - k);
        __m256 xv = _mm256_maskload_ps(x + k, tail);
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) a[j] = _mm256_fmadd_ps(xv, _mm256_maskload_ps(wr[j] + k, tail), a[j]);
    }
    float out[8];
    _mm256_storeu_ps(out, fold8_v3(a));
    for (int j = 0; j < nr; j++) y[n0 + j] = accumulate ? y[n0 + j] + out[j] : out[j];
}

/* 2 rows of x times 4 rows of W: 8 dot products over K */
V3 static void tile_2x4_v3(float *y, size_t ldy, const float *const xr[2], const float *const wr[4], int K, int mr,
                           int nr, int accumulate, const float *next)
{
    __m256 a[8]; /* a[4 i + j]: x row i, W row j */
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) a[c] = _mm256_setzero_ps();
    int k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 w[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) w[j] = _mm256_loadu_ps(wr[j] + k);
        if (next && k % 16 == 0)
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) _mm_prefetch((const char *)(next + (size_t)j * K + k), _MM_HINT_T1);
#pragma GCC unroll 2
        for (int i = 0; i < 2; i++) {
            __m256 xv = _mm256_loadu_ps(xr[i] + k);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) a[4 * i + j] = _mm256_fmadd_ps(xv, w[j], a[4 * i + j]);
        }
    }
    if (k < K) {
        __m256i tail = tail_mask_v3(K - k);
        __m256 w[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) w[j] = _mm256_maskload_ps(wr[j] + k, tail);
#pragma GCC unroll 2
        for (int i = 0; i < 2; i++) {
            __m256 xv = _mm256_maskload_ps(xr[i] + k, tail);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) a[4 * i + j] = _mm256_fmadd_ps(xv, w[j], a[4 * i + j]);
        }
    }
    float out[8];
    _mm256_storeu_ps(out, fold8_v3(a));
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            float *o = y + (size_t)i * ldy + j;
            *o = accumulate ? *o + out[4 * i + j] : out[4 * i + j];
        }
}

V3 static void panel_v3(float *y, const float *x, const float *W, int M, int N, int K, int n0, int accumulate)
{
    const float *wr[4];
    int nr = w_rows(wr, 4, W, N, K, n0);
    for (int m0 = 0; m0 < M; m0 += 2) {
        const float *xr[2];
        int mr = M - m0 < 2 ? M - m0 : 2;
        for (int i = 0; i < 2; i++) xr[i] = x + (size_t)(i < mr ? m0 + i : m0) * K;
        const float *next = m0 == 0 && n0 + 8 <= N ? W + (size_t)(n0 + 4) * K : NULL;
        tile_2x4_v3(y + (size_t)m0 * N + n0, (size_t)N, xr, wr, K, mr, nr, accumulate, next);
    }
}
#endif

typedef void RowsFn(float *y, const float *x, const float *W, int N, int K, int n0, int accumulate);
typedef void PanelFn(float *y, const float *x, const float *W, int M, int N, int K, int n0, int accumulate);

int gemm_nt_f32_isa(int isa, float *y, const float *x, const float *W, int M, int N, int K, int accumulate)
{
#if GEMM_V4
    if (M < 1 || N < 1 || K < 1 || !gemm_has(isa)) return 0;
    RowsFn *rows = isa == GEMM_AVX512 ? rows_1x8 : rows_1x8_v3;
    PanelFn *panel = isa == GEMM_AVX512 ? panel_v4 : panel_v3;
    if (M == 1) {
        /* a weight read from memory takes about four multiply-adds' time */
        int blocks = (N + 7) / 8, par = (double)N * K >= PAR_MIN_WORK / 4 && blocks >= 8;
        int chunk = blocks / (8 * par_max_threads());
        chunk = chunk < 1 ? 1 : chunk;
        if (par) {
#pragma omp parallel for schedule(dynamic, chunk)
            for (int b = 0; b < blocks; b++) rows(y, x, W, N, K, 8 * b, accumulate);
        } else /* not `omp parallel if (par)`: that still builds a team (a malloc), 0.4 us a call */
            for (int b = 0; b < blocks; b++) rows(y, x, W, N, K, 8 * b, accumulate);
        return 1;
    }
    int blocks = (N + 3) / 4;
    /* blocks are handed out a few at a time, so a thread that lost its
     * core holds up little */
    int par = (double)M * N * K >= PAR_MIN_WORK && blocks >= 8;
    int chunk = blocks / (8 * par_max_threads());
    chunk = chunk < 1 ? 1 : chunk;
    if (par) {
#pragma omp parallel for schedule(dynamic, chunk)
        for (int b = 0; b < blocks; b++) panel(y, x, W, M, N, K, 4 * b, accumulate);
    } else
        for (int b = 0; b < blocks; b++) panel(y, x, W, M, N, K, 4 * b, accumulate);
    return 1;
#else
    (void)isa; (void)y; (void)x; (void)W; (void)M; (void)N; (void)K; (void)accumulate;
    return 0;
#endif
}

int gemm_nt_f32(float *y, const float *x, const float *W, int M, int N, int K, int accumulate)
{
    int isa = gemm_has(GEMM_AVX512) ? GEMM_AVX512 : GEMM_AVX2;
    return gemm_nt_f32_isa(isa, y, x, W, M, N, K, accumulate);
}
