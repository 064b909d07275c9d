/* The element type of the model code, and BLAS wrappers for it.
 *
 * models/ is compiled twice: as float for training, decoding and benchmarks,
 * and with SEQ_F64 as double for the finite-difference gradient checks, so
 * the checks exercise the very code that trains (not a twin of it). The f64
 * build renames its public symbols (models/f64_names.h). Everything here is
 * static inline, so both builds can live in one binary.
 *
 * Matrices follow the Hugging Face Linear layout: W is [out, in] row-major
 * and y = x W^T, so checkpoints load with a memcpy. */
#ifndef SEQ_REAL_H
#define SEQ_REAL_H

#include <cblas.h>
#include <stddef.h>

#include "core/gemm.h"
#include "core/parallel.h"

#ifdef SEQ_F64
typedef double real;
#define REAL_NAME "f64"
#define cblas_xgemm cblas_dgemm
#define cblas_xgemv cblas_dgemv
#else
typedef float real;
#define REAL_NAME "f32"
#define cblas_xgemm cblas_sgemm
#define cblas_xgemv cblas_sgemv
#endif

/* y[M,N] (=|+=) x[M,K] W[N,K]^T for a handful of rows (decode at small
 * batch): each row of W is read once per four inputs (once for M <= 4). A gemm
 * this thin spends most of its time packing W (65% of a batch-2 decode step
 * at vocab 32000), and M separate gemvs read W M times. */
/* row n of W against the M rows of x, four inputs per pass over the row */
static inline void linear_thin_row(real *y, const real *x, const real *W, int M, int N, int K, int accumulate, int n)
{
    const real *w = W + (size_t)n * K;
    for (int m0 = 0; m0 < M; m0 += 4) {
        const real *x0 = x + (size_t)m0 * K;
        const real *x1 = m0 + 1 < M ? x0 + K : x0, *x2 = m0 + 2 < M ? x0 + 2 * (size_t)K : x0,
                   *x3 = m0 + 3 < M ? x0 + 3 * (size_t)K : x0;
        real s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
        for (int k = 0; k < K; k++) {
            real wk = w[k];
            s0 += wk * x0[k];
            s1 += wk * x1[k];
            s2 += wk * x2[k];
            s3 += wk * x3[k];
        }
        real s[4] = {s0, s1, s2, s3};
        for (int j = 0; j < 4 && m0 + j < M; j++) {
            real *out = y + (size_t)(m0 + j) * N + n;
            *out = accumulate ? *out + s[j] : s[j];
        }
    }
}

static inline void linear_fwd_thin(real *y, const real *x, const real *W, int M, int N, int K, int accumulate)
{
    if ((double)M * N * K >= PAR_MIN_WORK) {
#pragma omp parallel for schedule(static)
        for (int n = 0; n < N; n++) linear_thin_row(y, x, W, M, N, K, accumulate, n);
    } else /* an `omp parallel if (false)` would still build a team: a malloc, 0.4 us */
        for (int n = 0; n < N; n++) linear_thin_row(y, x, W, M, N, K, accumulate, n);
}

/* s[n] = x · row n, for N rows of K reals `stride` apart: four rows a pass,
 * so the sums across SIMD lanes and the loop overhead are shared (short rows,
 * e.g. a 16..128-wide attention head, are one or two vectors each). */
static inline void dot_rows(real *s, const real *x, const real *rows, size_t stride, int N, int K)
{
    int n = 0;
    for (; n + 4 <= N; n += 4) {
        const real *r0 = rows + (size_t)n * stride, *r1 = r0 + stride, *r2 = r1 + stride, *r3 = r2 + stride;
        real s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
        for (int k = 0; k < K; k++) {
            s0 += r0[k] * x[k];
            s1 += r1[k] * x[k];
            s2 += r2[k] * x[k];
            s3 += r3[k] * x[k];
        }
        s[n] = s0;
        s[n + 1] = s1;
        s[n + 2] = s2;
        s[n + 3] = s3;
    }
    for (; n < N; n++) {
        const real *r = rows + (size_t)n * stride;
        real s0 = 0;
#pragma omp simd reduction(+ : s0)
        for (int k = 0; k < K; k++) s0 += r[k] * x[k];
        s[n] = s0;
    }
}

/* y[N] (=|+=) W[N,K] x for a small W, on the calling thread. OpenBLAS
 * threads a gemv from about 10^4 weights, and with OMP_WAIT_POLICY=PASSIVE
 * waking its threads costs more than such a gemv: a 2-layer d_model 64
 * Mamba decoded at batch 1 ran at half the speed on 2 threads as on 1. */
static inline void gemv_small(real *y, const real *x, const real *W, int N, int K, int accumulate)
{
    if (!accumulate) {
        dot_rows(y, x, W, (size_t)K, N, K);
        return;
    }
    for (int n0 = 0; n0 < N; n0 += 64) {
        real s[64];
        int nb = N - n0 < 64 ? N - n0 : 64;
        dot_rows(s, x, W + (size_t)n0 * K, (size_t)K, nb, K);
        for (int j = 0; j < nb; j++) y[n0 + j] += s[j];
    }
}

/* y[M,N] (=|+=) x[M,K] W[N,K]^T */
static inline void linear_fwd(real *y, const real *x, const real *W, int M, int N, int K, int accumulate)
{
    if (M == 1) {
#ifndef SEQ_F64
        /* batch-1 decode: eight rows a pass in 16-lane registers, on this
         * thread below a million weights (dot_rows' 8-lane sums and their
         * folding were 42% of a 2-layer d_model 64 Mamba's step) */
        if (gemm_nt_f32(y, x, W, M, N, K, accumulate)) return;
#endif
        if ((size_t)N * K <= 65536)
            gemv_small(y, x, W, N, K, accumulate);
        else /* OpenBLAS runs an M=1 gemm far slower than the gemv */
            cblas_xgemv(CblasRowMajor, CblasNoTrans, N, K, 1, W, K, x, 1, accumulate ? 1 : 0, y, 1);
        return;
    }
#ifndef SEQ_F64
    /* batch decode: W multiplied in place, not packed per call (core/gemm.h) */
    if (M <= GEMM_NT_MAX_M && gemm_nt_f32(y, x, W, M, N, K, accumulate)) return;
#endif
    if (M <= 8) {
        linear_fwd_thin(y, x, W, M, N, K, accumulate);
        return;
    }
    cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, x, K, W, K, accumulate ? 1 : 0, y, N);
}

/* dx[M,K] (=|+=) dy[M,N] W[N,K];  dW[N,K] += dy^T x */
static inline void linear_bwd(real *dx, real *dW, const real *dy, const real *x, const real *W,
                              int M, int N, int K, int accumulate_dx)
{
    if (dx)
        cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, K, N, 1, dy, N, W, K,
                    accumulate_dx ? 1 : 0, dx, K);
    if (dW)
        cblas_xgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, K, M, 1, dy, N, x, K, 1, dW, K);
}

/* y[M,N] += b (per column); b may be NULL */
static inline void bias_fwd(real *y, const real *b, int M, int N)
{
    if (!b) return;
    for (size_t m = 0; m < (size_t)M; m++)
        for (int n = 0; n < N; n++) y[m * N + n] += b[n];
}

/* db[N] += column sums of dy[M,N]; db may be NULL */
static inline void bias_bwd(real *db, const real *dy, int M, int N)
{
    if (!db) return;
    /* db never overlaps dy (a gradient and an activation buffer): say so, or the row sum stays scalar */
    for (size_t m = 0; m < (size_t)M; m++) {
        const real *row = dy + m * N;
#pragma omp simd
        for (int n = 0; n < N; n++) db[n] += row[n];
    }
}

#endif
