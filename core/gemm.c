#include "gemm.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
/* The AVX2 copies (Zen 3 and other CPUs without AVX-512) have sixteen
 * 8-lane registers: eight sums with x and one W row in flight for a row of
 * x; a 2 x 4 tile (eight sums, four W rows, one x row) for more, as 4 x 4
 * sums would not fit. */
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


/* bf16 is the top half of an fp32: widen to 32 bits and shift into place */
#define BF16_WIDEN16(v16) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v16), 16))
#define BF16_WIDEN8(v8) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v8), 16))

/* the last n < 8 bf16 of a row (AVX2 has no 16-bit masked load) */
static inline V3 __m256 bf16_tail8_v3(const uint16_t *p, int n)
{
    uint16_t buf[8] = {0};
    memcpy(buf, p, sizeof *p * (size_t)n);
    return BF16_WIDEN8(_mm_loadu_si128((const __m128i *)buf));
}
#endif

/* fp32 weights */
#define WT float
#define NAME(f) f##_f32
#define LINE 16
#define LOAD16(p) _mm512_loadu_ps(p)
#define LOAD16_TAIL(mask, p) _mm512_maskz_loadu_ps(mask, p)
#define LOAD8(p) _mm256_loadu_ps(p)
#define LOAD8_TAIL(p, mask, n) _mm256_maskload_ps(p, mask)
#define GEMM_ISA_FN gemm_nt_f32_isa
#include "gemm_tiles.inc"
#undef WT
#undef NAME
#undef LINE
#undef LOAD16
#undef LOAD16_TAIL
#undef LOAD8
#undef LOAD8_TAIL
#undef GEMM_ISA_FN

/* bf16 weights: the same tiles, each vector of W widened as it is loaded */
#define WT uint16_t
#define NAME(f) f##_bf16
#define LINE 32
#define LOAD16(p) BF16_WIDEN16(_mm256_loadu_si256((const __m256i *)(p)))
#define LOAD16_TAIL(mask, p) BF16_WIDEN16(_mm256_maskz_loadu_epi16(mask, p))
#define LOAD8(p) BF16_WIDEN8(_mm_loadu_si128((const __m128i *)(p)))
#define LOAD8_TAIL(p, mask, n) bf16_tail8_v3(p, n)
#define GEMM_ISA_FN gemm_nt_bf16_isa
#include "gemm_tiles.inc"

int gemm_nt_f32(float *y, const float *x, const float *W, int M, int N, int K, int accumulate)
{
    int isa = gemm_has(GEMM_AVX512) ? GEMM_AVX512 : GEMM_AVX2;
    return gemm_nt_f32_isa(isa, y, x, W, M, N, K, accumulate);
}

int gemm_nt_bf16(float *y, const float *x, const uint16_t *W, int M, int N, int K, int accumulate)
{
    int isa = gemm_has(GEMM_AVX512) ? GEMM_AVX512 : GEMM_AVX2;
    return gemm_nt_bf16_isa(isa, y, x, W, M, N, K, accumulate);
}

void gemm_nt_bf16_ref(float *y, const float *x, const uint16_t *W, int M, int N, int K, int accumulate)
{
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float s = 0;
            for (int k = 0; k < K; k++) s += x[(size_t)m * K + k] * bf16_to_f32(W[(size_t)n * K + k]);
            float *out = y + (size_t)m * N + n;
            *out = accumulate ? *out + s : s;
        }
}
