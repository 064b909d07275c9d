/* y[M,N] (=|+=) x[M,K] W[N,K]^T in float for one to a few dozen rows of x:
 * decode, where every weight matrix meets 1-64 token vectors per step.
 *
 * OpenBLAS packs W on every call; at M = 16 the packing read and wrote all
 * weights once more and took 43% of the gemm time of a Mamba-130M decode
 * step, and its kernel ran skinny tiles. Here each thread takes a range of
 * W's rows and multiplies them in place (rows are contiguous along K, as x's
 * are): a 4 x 4 tile of dot products accumulates in 16-lane registers, W's
 * four rows stay in L1 while every four rows of x go past them, and the
 * lane sums of the 16 dot products are folded together at the end. One
 * row of x (batch-1 decode, bandwidth-bound) takes eight W rows a pass
 * instead, in place of OpenBLAS's sgemv. CPUs without AVX-512 run AVX2
 * copies (a 2 x 4 tile in 8-lane registers): on the AVX2 path OpenBLAS's
 * sgemv and small sgemms decoded Mamba-130M 25-35% slower.
 *
 * gemm_nt_f32 returns 0 without touching y where it has no kernel for this
 * CPU (neither AVX-512 nor AVX2 with FMA) or shape; the caller then takes
 * its BLAS path. gemm_nt_f32_isa runs one kernel family (0 if the CPU
 * lacks it), for the tests; gemm_nt_f32_ref is the plain loop they
 * compare with. */
#ifndef SEQ_GEMM_H
#define SEQ_GEMM_H

#include <stdint.h>
#include <string.h>

/* rows of x up to which linear_fwd (core/real.h) takes this kernel */
#define GEMM_NT_MAX_M 64

enum { GEMM_AVX2 = 2, GEMM_AVX512 = 4 };

int gemm_nt_f32(float *y, const float *x, const float *W, int M, int N, int K, int accumulate);
void gemm_nt_f32_ref(float *y, const float *x, const float *W, int M, int N, int K, int accumulate);
int gemm_nt_f32_isa(int isa, float *y, const float *x, const float *W, int M, int N, int K, int accumulate);
int gemm_nt_f32_available(void);

/* The same with W in bf16 (--dtype bf16 inference): the top 16 bits of an
 * fp32, widened back to fp32 as each vector is loaded, so x stays fp32 and
 * every product and sum is the fp32 kernel's; only W's bytes are halved,
 * which is what a bandwidth-bound decode step pays for. */
int gemm_nt_bf16(float *y, const float *x, const uint16_t *W, int M, int N, int K, int accumulate);
void gemm_nt_bf16_ref(float *y, const float *x, const uint16_t *W, int M, int N, int K, int accumulate);
int gemm_nt_bf16_isa(int isa, float *y, const float *x, const uint16_t *W, int M, int N, int K, int accumulate);

/* fp32 -> bf16, rounding to nearest, ties to even (NaN stays a quiet NaN) */
static inline uint16_t bf16_from_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

static inline float bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

#endif
