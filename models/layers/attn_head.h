/* One attention head over one sequence, forward and backward, causal with
 * an optional window (the query at t sees keys lo(t)..t, lo = t - W for
 * `L`). Two versions:
 *
 *   attn_head_*_ref  T x T gemms through BLAS, the mask applied after: the
 *                    plain reference (it was the engine until it was
 *                    measured: at head_dim 16 the gemms had K = 16,
 *                    OpenBLAS packing more than it multiplied, and half
 *                    their scores were masked).
 *   attn_head_forward_tiled, attn_head_backward_tiled  blocks of queries
 *                    against blocks of keys, see below: an online softmax
 *                    forward that saves one log-sum-exp per query for
 *                    training, and a backward that remakes P a tile at a
 *                    time from it, so neither has anything T x T. What the
 *                    model runs. (Between the two, per-query kernels along
 *                    the visible keys read and wrote a T x T P; the tiled
 *                    pair replaced them at every length measured.)
 *
 * Rows are `ld*` apart (heads interleaved in [T, heads·d]); the
 * reference's P is [T, T] with zeros outside lo..t.
 * tests/test_attn_tiled.c holds the tiled pair against the reference. */
#ifndef SEQ_ATTN_HEAD_H
#define SEQ_ATTN_HEAD_H

#include <string.h>
#include <tgmath.h>

#include "core/cpu.h"
#include "core/real.h"
#include "core/vexp.h"

static inline int attn_head_lo(int t, int W) { return W && t > W ? t - W : 0; }

/* Masked softmax of one score row in place; entries outside lo..t become 0. */
static inline void attn_softmax_row(real *row, int lo, int t, int T)
{
    real mx = row[lo];
    for (int j = lo + 1; j <= t; j++) mx = row[j] > mx ? row[j] : mx;
    real sum = 0;
    for (int j = lo; j <= t; j++) sum += row[j] = exp(row[j] - mx);
    real inv = 1 / sum;
    for (int j = 0; j < T; j++) row[j] = (j >= lo && j <= t) ? row[j] * inv : 0;
}

static inline void attn_head_forward_ref(const real *q, int ldq, const real *k, int ldk, const real *v, int ldv, real *o,
                                         int ldo, real *P, int T, int d, int W, real scale)
{
    cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d, scale, q, ldq, k, ldk, 0, P, T);
    for (int t = 0; t < T; t++) attn_softmax_row(P + (size_t)t * T, attn_head_lo(t, W), t, T);
    cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d, T, 1, P, T, v, ldv, 0, o, ldo);
}

/* dq (=), dk, dv (+=) from dO and the forward's P; dP: T x T scratch */
static inline void attn_head_backward_ref(const real *q, int ldq, const real *k, int ldk, const real *v, int ldv,
                                          const real *dO, int ldo, const real *P, real *dq, real *dk, real *dv,
                                          real *dP, int T, int d, real scale)
{
    cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d, 1, dO, ldo, v, ldv, 0, dP, T);
    cblas_xgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, d, T, 1, P, T, dO, ldo, 1, dv, ldv);
    /* softmax backward: dS = P ⊙ (dP − Σ_j dP·P), masked entries have P = 0 */
    for (int t = 0; t < T; t++) {
        const real *pr = P + (size_t)t * T;
        real *dr = dP + (size_t)t * T, dot = 0;
        for (int j = 0; j <= t; j++) dot += dr[j] * pr[j];
        for (int j = 0; j < T; j++) dr[j] = pr[j] * (dr[j] - dot);
    }
    cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d, T, scale, dP, T, k, ldk, 0, dq, ldq);
    cblas_xgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, d, T, scale, dP, T, q, ldq, 1, dk, ldk);
}

/* Forward, tiled (flash-attention style): a block of ATTN_BQ
 * queries against blocks of ATTN_BK keys, a running max m and sum l per
 * query, the output rescaled by e^(m_old - m_new) whenever the max grows.
 * Nothing of size T x T exists, and each key and value is read once per
 * query block instead of once per query: the per-query kernel above is
 * bound by L2 bandwidth at long T (4.6 GFLOP/s at head_dim 36, T 4096).
 *
 * The tile is held transposed, queries along the vector lanes:
 * ST[j, r] = k_j · q_r, so both products are a broadcast of k_j[i] or
 * v_j[i] (rows read as they lie in [T, heads·d]) times a run of queries,
 * only the query block needs transposing (QT[i, r]), and the softmax's
 * max, exp and sums run across queries, one query per lane. */
#define ATTN_BQ 64 /* queries per block */
#define ATTN_BK 64 /* keys per block */
#define ATTN_QW 16 /* queries per register tile, at most (the padding of a block) */
/* the backward runs the same tile kernels on [query, key] tiles, whose rows are ATTN_BQ apart */
_Static_assert(ATTN_BQ == ATTN_BK, "attention tiles are square");

/* s == -inf ? z : x, as a bit mask in the float build: GCC turns a float
 * select after an exp it inlines into a branch around the exp, and a loop
 * with a branch is not vectorised for AVX2 (only with AVX-512's masks):
 * the softmax ran one lane at a time. (For the same reason the tile calls
 * exp_fma: a loop of expf_poly stays scalar for AVX2.) */
static inline real attn_unless_neginf(real s, real x, real z)
{
#ifdef SEQ_F64
    return s == -INFINITY ? z : x;
#else
    uint32_t sb, xb, zb;
    memcpy(&sb, &s, sizeof sb);
    memcpy(&xb, &x, sizeof xb);
    memcpy(&zb, &z, sizeof zb);
    uint32_t keep = -(uint32_t)(sb != 0xFF800000u);
    xb = (xb & keep) | (zb & ~keep);
    memcpy(&x, &xb, sizeof x);
    return x;
#endif
}

/* reals of scratch attn_head_forward_tiled needs: ST, QT, OT, m, l, alpha */
static inline size_t attn_head_tiled_scratch(int d)
{
    return (size_t)ATTN_BK * ATTN_BQ + 2 * (size_t)d * ATTN_BQ + 3 * ATTN_BQ;
}

/* The two products of a tile, generated for a register tile of QW queries,
 * one vector: 16 for AVX-512, 8 for AVX2. A loop of exactly one vector is
 * what GCC keeps in registers; at 16 floats the AVX2 build ran two passes
 * over accumulators in memory, at 8 the AVX-512 one used half its lanes.
 * Eight rows (keys, or head dimensions) a tile: eight independent chains
 * of fma keep two FMA pipes busy, four ran at the FMA latency. fma,
 * written out: the ISO C build fuses nothing (-ffp-contract=off).
 *
 *   attn_tile_scores_QW  ST[j, r] = (add ? ST[j, r] : 0) + Σ_i k_j[i] · QT[i, r], j < nk, r < nq
 *   attn_tile_mix_QW     OT[i, r] = alpha[r] · OT[i, r] + Σ_j v_j[i] · ST[j, r]
 *
 * (rows of ST, QT and OT lds, ldqt and ldt apart). Tiles on the diagonal
 * skip the register tiles (rows j0..j0+7, lanes r0..r0+QW-1) wholly
 * outside the causal mask; the rest of the tile is not written:
 *
 *   backward, [query, key], key j visible to row r iff j <= r + off:
 *     computed iff r0 <= j0 + 7 + off (`off`: for scores the register
 *     tiles, for mix the rows it sums over start there); scores sum over
 *     i < the lanes of the last such register tile (`roff`: dQ, where i
 *     runs over keys)
 *   forward, [key, query], key j visible to lane r iff j <= r + hoff:
 *     computed iff j0 <= r0 + QW - 1 + hoff (`hoff`: rows end there)
 *
 * ATTN_ALL for any of them: the whole tile. */
#define ATTN_ALL (1 << 28)
/* backward: the first row whose lanes r0.. are computed */
static inline int attn_live_row(int r0, int off) { return r0 - off > 0 ? (r0 - off) / 8 * 8 : 0; }
/* backward: the lanes computed in row j (QW a register tile) */
static inline int attn_live_lanes(int j, int off, int QW) { return ((j & ~7) + 7 + off) / QW * QW + QW; }
/* forward: the rows computed for lanes r0.. */
static inline int attn_live_rows_fwd(int r0, int hoff, int QW) { return r0 + QW + hoff; }
/* forward: the first lane computed in row j */
static inline int attn_live_lane_fwd(int j, int hoff, int QW)
{
    return (j & ~7) - hoff > 0 ? ((j & ~7) - hoff) / QW * QW : 0;
}
#define ATTN_TILE_KERNELS(QW)                                                                                       \
    CPU_BODY void attn_tile_scores_##QW(real *ST, int lds, const real *QT, int ldqt, const real *k, int ldk,        \
                                         int nk, int nq, int d, int add, int off, int roff, int hoff)               \
    {                                                                                                               \
        for (int r0 = 0; r0 < nq; r0 += QW) {                                                                       \
            int jhi = attn_live_rows_fwd(r0, hoff, QW) < nk ? attn_live_rows_fwd(r0, hoff, QW) : nk;                \
            for (int j0 = attn_live_row(r0, off); j0 < jhi; j0 += 8) {                                              \
                int ni = attn_live_lanes(j0, roff, QW) < d ? attn_live_lanes(j0, roff, QW) : d;                     \
                const real *kr[8]; /* past nk: the last key again, its scores dropped */                            \
                for (int c = 0; c < 8; c++) kr[c] = k + (size_t)(j0 + c < nk ? j0 + c : nk - 1) * ldk;              \
                /* the first product starts the sums (a zeroed array became a rep stos each tile) */                \
                real acc[8][QW];                                                                                    \
                for (int c = 0; c < 8; c++) {                                                                       \
                    const real *st = ST + (size_t)(j0 + c < nk ? j0 + c : nk - 1) * lds + r0, a = kr[c][0];         \
                    _Pragma("omp simd") for (int rr = 0; rr < QW; rr++) acc[c][rr] =                                \
                        add ? fma(a, QT[r0 + rr], st[rr]) : a * QT[r0 + rr];                                        \
                }                                                                                                   \
                for (int i = 1; i < ni; i++) {                                                                      \
                    const real *qt = QT + (size_t)i * ldqt + r0;                                                    \
                    real a0 = kr[0][i], a1 = kr[1][i], a2 = kr[2][i], a3 = kr[3][i];                                \
                    real a4 = kr[4][i], a5 = kr[5][i], a6 = kr[6][i], a7 = kr[7][i];                                \
                    _Pragma("omp simd") for (int rr = 0; rr < QW; rr++)                                             \
                    {                                                                                               \
                        acc[0][rr] = fma(a0, qt[rr], acc[0][rr]);                                                   \
                        acc[1][rr] = fma(a1, qt[rr], acc[1][rr]);                                                   \
                        acc[2][rr] = fma(a2, qt[rr], acc[2][rr]);                                                   \
                        acc[3][rr] = fma(a3, qt[rr], acc[3][rr]);                                                   \
                        acc[4][rr] = fma(a4, qt[rr], acc[4][rr]);                                                   \
                        acc[5][rr] = fma(a5, qt[rr], acc[5][rr]);                                                   \
                        acc[6][rr] = fma(a6, qt[rr], acc[6][rr]);                                                   \
                        acc[7][rr] = fma(a7, qt[rr], acc[7][rr]);                                                   \
                    }                                                                                               \
                }                                                                                                   \
                for (int c = 0; c < 8 && j0 + c < nk; c++)                                                          \
                    _Pragma("omp simd") for (int rr = 0; rr < QW; rr++) ST[(size_t)(j0 + c) * lds + r0 + rr] =      \
                        acc[c][rr];                                                                                 \
            }                                                                                                       \
        }                                                                                                           \
    }                                                                                                               \
    CPU_BODY void attn_tile_mix_##QW(real *OT, int ldt, const real *alpha, const real *ST, const real *v, int ldv,  \
                                      int nk, int nq, int d, int off, int hoff)                                     \
    {                                                                                                               \
        for (int r0 = 0; r0 < nq; r0 += QW) {                                                                       \
            int i0 = 0, jlo = attn_live_row(r0, off);                                                               \
            int jhi = attn_live_rows_fwd(r0, hoff, QW) < nk ? attn_live_rows_fwd(r0, hoff, QW) : nk;                \
            for (; i0 + 8 <= d; i0 += 8) {                                                                          \
                real acc[8][QW];                                                                                    \
                for (int c = 0; c < 8; c++)                                                                         \
                    _Pragma("omp simd") for (int rr = 0; rr < QW; rr++) acc[c][rr] =                                \
                        alpha[r0 + rr] * OT[(size_t)(i0 + c) * ldt + r0 + rr];                                      \
                for (int j = jlo; j < jhi; j++) {                                                                   \
                    const real *p = ST + (size_t)j * ATTN_BQ + r0, *vj = v + (size_t)j * ldv + i0;                  \
                    real b0 = vj[0], b1 = vj[1], b2 = vj[2], b3 = vj[3], b4 = vj[4], b5 = vj[5], b6 = vj[6], b7 = vj[7];\
                    _Pragma("omp simd") for (int rr = 0; rr < QW; rr++)                                             \
                    {                                                                                               \
                        acc[0][rr] = fma(b0, p[rr], acc[0][rr]);                                                    \
                        acc[1][rr] = fma(b1, p[rr], acc[1][rr]);                                                    \
                        acc[2][rr] = fma(b2, p[rr], acc[2][rr]);                                                    \
                        acc[3][rr] = fma(b3, p[rr], acc[3][rr]);                                                    \
                        acc[4][rr] = fma(b4, p[rr], acc[4][rr]);                                                    \
                        acc[5][rr] = fma(b5, p[rr], acc[5][rr]);                                                    \
                        acc[6][rr] = fma(b6, p[rr], acc[6][rr]);                                                    \
                        acc[7][rr] = fma(b7, p[rr], acc[7][rr]);                                                    \
                    }                                                                                               \
                }                                                                                                   \
                for (int c = 0; c < 8; c++)                                                                         \
                    _Pragma("omp simd") for (int rr = 0; rr < QW; rr++) OT[(size_t)(i0 + c) * ldt + r0 + rr] =      \
                        acc[c][rr];                                                                                 \
            }                                                                                                       \
            for (; i0 + 4 <= d; i0 += 4) {                                                                          \
                real acc[4][QW];                                                                                    \
                for (int c = 0; c < 4; c++)                                                                         \
                    _Pragma("omp simd") for (int rr = 0; rr < QW; rr++) acc[c][rr] =                                \
                        alpha[r0 + rr] * OT[(size_t)(i0 + c) * ldt + r0 + rr];                                      \
                for (int j = jlo; j < jhi; j++) {                                                                   \
                    const real *p = ST + (size_t)j * ATTN_BQ + r0, *vj = v + (size_t)j * ldv + i0;                  \
                    real b0 = vj[0], b1 = vj[1], b2 = vj[2], b3 = vj[3];                                            \
                    _Pragma("omp simd") for (int rr = 0; rr < QW; rr++)                                             \
                    {                                                                                               \
                        acc[0][rr] = fma(b0, p[rr], acc[0][rr]);                                                    \
                        acc[1][rr] = fma(b1, p[rr], acc[1][rr]);                                                    \
                        acc[2][rr] = fma(b2, p[rr], acc[2][rr]);                                                    \
                        acc[3][rr] = fma(b3, p[rr], acc[3][rr]);                                                    \
                    }                                                                                               \
                }                                                                                                   \
                for (int c = 0; c < 4; c++)                                                                         \
                    _Pragma("omp simd") for (int rr = 0; rr < QW; rr++) OT[(size_t)(i0 + c) * ldt + r0 + rr] =      \
                        acc[c][rr];                                                                                 \
            }                                                                                                       \
            for (; i0 < d; i0++) { /* the last head dimensions, one at a time */                                    \
                real *ot = OT + (size_t)i0 * ldt + r0;                                                              \
                _Pragma("omp simd") for (int rr = 0; rr < QW; rr++) ot[rr] *= alpha[r0 + rr];                       \
                for (int j = jlo; j < jhi; j++) {                                                                   \
                    const real *p = ST + (size_t)j * ATTN_BQ + r0;                                                  \
                    real b = v[(size_t)j * ldv + i0];                                                               \
                    _Pragma("omp simd") for (int rr = 0; rr < QW; rr++) ot[rr] = fma(b, p[rr], ot[rr]);             \
                }                                                                                                   \
            }                                                                                                       \
        }                                                                                                           \
    }
ATTN_TILE_KERNELS(8)
ATTN_TILE_KERNELS(16)

/* The forward's online softmax over a [key, query] tile, a register of
 * QW queries at a time down the keys (a pass per key row read and wrote
 * the running max and sum of every query once per key): the new max m,
 * alpha = e^(m_old - m) (1 for a query that has seen no key yet: m_old =
 * -inf, l = 0 and OT = 0, not e^(-inf - -inf)), l rescaled and summed,
 * the tile turned into e^(s - m) (0 where s = -inf). The rows of a diagonal
 * tile past those computed for the register (hoff) are not read. */
#define ATTN_TILE_SOFTMAX(QW)                                                                                       \
    CPU_BODY void attn_tile_softmax_##QW(real *ST, real *m, real *l, real *alpha, int nk, int nq, int hoff)         \
    {                                                                                                               \
        for (int r0 = 0; r0 < nq; r0 += QW) {                                                                       \
            int jhi = attn_live_rows_fwd(r0, hoff, QW) < nk ? attn_live_rows_fwd(r0, hoff, QW) : nk;                \
            real mx[QW], sum[QW];                                                                                   \
            _Pragma("omp simd") for (int rr = 0; rr < QW; rr++) mx[rr] = m[r0 + rr];                                \
            for (int j = 0; j < jhi; j++) {                                                                         \
                const real *s = ST + (size_t)j * ATTN_BQ + r0;                                                      \
                _Pragma("omp simd") for (int rr = 0; rr < QW; rr++) mx[rr] = s[rr] > mx[rr] ? s[rr] : mx[rr];       \
            }                                                                                                       \
            _Pragma("omp simd") for (int rr = 0; rr < QW; rr++)                                                     \
            {                                                                                                       \
                real mo = m[r0 + rr], a = attn_unless_neginf(mo, exp_fma(mo - mx[rr]), 1);                          \
                alpha[r0 + rr] = a;                                                                                 \
                sum[rr] = l[r0 + rr] * a;                                                                           \
                m[r0 + rr] = mx[rr];                                                                                \
            }                                                                                                       \
            for (int j = 0; j < jhi; j++) {                                                                         \
                real *s = ST + (size_t)j * ATTN_BQ + r0;                                                            \
                _Pragma("omp simd") for (int rr = 0; rr < QW; rr++)                                                 \
                {                                                                                                   \
                    real p = attn_unless_neginf(s[rr], exp_fma(s[rr] - mx[rr]), 0);                                 \
                    s[rr] = p;                                                                                      \
                    sum[rr] += p;                                                                                   \
                }                                                                                                   \
            }                                                                                                       \
            _Pragma("omp simd") for (int rr = 0; rr < QW; rr++) l[r0 + rr] = sum[rr];                               \
        }                                                                                                           \
    }
ATTN_TILE_SOFTMAX(8)
ATTN_TILE_SOFTMAX(16)

/* o, and if lse is not NULL (training: backward reads it) each query's
 * log-sum-exp of its scaled scores, lse[t] = m + log l, from which
 * backward remakes any probability as e^(s - lse[t]): B·H·T reals saved
 * instead of a T x T P (and no second exp pass over P, no zero fill). */
CPU_BODY void attn_head_forward_tiled_body(const real *q, int ldq, const real *k, int ldk, const real *v, int ldv,
                                            real *o, int ldo, real *lse, int T, int d, int W, real scale,
                                            real *scratch, int wide)
{
    real *ST = scratch, *QT = ST + (size_t)ATTN_BK * ATTN_BQ, *OT = QT + (size_t)d * ATTN_BQ;
    real *m = OT + (size_t)d * ATTN_BQ, *l = m + ATTN_BQ, *alpha = l + ATTN_BQ;
    const int QW = wide ? 16 : 8;
    for (int t0 = 0; t0 < T; t0 += ATTN_BQ) {
        int nr = T - t0 < ATTN_BQ ? T - t0 : ATTN_BQ, t1 = t0 + nr - 1;
        int nq = (nr + ATTN_QW - 1) / ATTN_QW * ATTN_QW; /* padding queries are zeros, their results dropped */
        /* the scale goes into q once, not into every score */
        for (int i = 0; i < d; i++)
            for (int r = 0; r < nq; r++) QT[(size_t)i * ATTN_BQ + r] = r < nr ? scale * q[(size_t)(t0 + r) * ldq + i] : 0;
        memset(OT, 0, sizeof(real) * (size_t)d * ATTN_BQ);
        for (int r = 0; r < nq; r++) {
            m[r] = -INFINITY;
            l[r] = 0;
        }
        /* key blocks from the first query's lo to the last query: blocks
         * wholly outside the mask are never visited */
        for (int j0 = attn_head_lo(t0, W); j0 <= t1; j0 += ATTN_BK) {
            /* key j of the tile is visible to lane r iff j <= r + hoff: on the
             * diagonal the register tiles wholly past it are skipped (not
             * written, and not read: the mask takes row j from its first
             * computed lane on, softmax and mix a register's rows up to hoff) */
            int nk = t1 - j0 + 1 < ATTN_BK ? t1 - j0 + 1 : ATTN_BK, hoff = t0 - j0;
            if (wide) /* a constant where this is inlined: one of the two calls remains */
                attn_tile_scores_16(ST, ATTN_BQ, QT, ATTN_BQ, k + (size_t)j0 * ldk, ldk, nk, nq, d, 0, ATTN_ALL,
                                     ATTN_ALL, hoff);
            else
                attn_tile_scores_8(ST, ATTN_BQ, QT, ATTN_BQ, k + (size_t)j0 * ldk, ldk, nk, nq, d, 0, ATTN_ALL,
                                    ATTN_ALL, hoff);
            /* key j0 + j is visible to the query at t iff lo(t) <= j0 + j <= t;
             * only blocks on the diagonal or the window's edge need the test */
            if (j0 + nk - 1 > t0 || (W && j0 < t1 - W))
                for (int j = 0; j < nk; j++) {
                    int key = j0 + j;
                    real *s = ST + (size_t)j * ATTN_BQ;
#pragma omp simd
                    for (int r = attn_live_lane_fwd(j, hoff, QW); r < nq; r++)
                        s[r] = key <= t0 + r && (!W || key + W >= t0 + r) ? s[r] : -INFINITY;
                }
            /* the tile becomes probabilities (unnormalised), OT is rescaled by alpha and takes them */
            if (wide) {
                attn_tile_softmax_16(ST, m, l, alpha, nk, nq, hoff);
                attn_tile_mix_16(OT, ATTN_BQ, alpha, ST, v + (size_t)j0 * ldv, ldv, nk, nq, d, ATTN_ALL, hoff);
            } else {
                attn_tile_softmax_8(ST, m, l, alpha, nk, nq, hoff);
                attn_tile_mix_8(OT, ATTN_BQ, alpha, ST, v + (size_t)j0 * ldv, ldv, nk, nq, d, ATTN_ALL, hoff);
            }
        }
        for (int r = 0; r < nr; r++) {
            real inv = 1 / l[r], *orow = o + (size_t)(t0 + r) * ldo;
            for (int i = 0; i < d; i++) orow[i] = OT[(size_t)i * ATTN_BQ + r] * inv;
        }
        if (lse)
            for (int r = 0; r < nr; r++) lse[t0 + r] = m[r] + log(l[r]);
    }
}

/* the build target's copy (AVX2 by default): eight-query tiles */
CPU_BODY void attn_head_forward_tiled_any(const real *q, int ldq, const real *k, int ldk, const real *v, int ldv,
                                           real *o, int ldo, real *lse, int T, int d, int W, real scale,
                                           real *scratch)
{
    attn_head_forward_tiled_body(q, ldq, k, ldk, v, ldv, o, ldo, lse, T, d, W, scale, scratch, 0);
}

/* Training backward, tiled in the flash-attention-2 manner: nothing T x T
 * is read or made. Each probability is remade from the score and the
 * forward's log-sum-exp, P = e^(s - lse), and with D_t = dO_t · o_t
 * (= Σ_j P_tj dP_tj, the softmax backward's row sum):
 *
 *   dP = dO v^T,  dS = P ⊙ (dP - D),  dV += P^T dO,  dK += scale dS^T q,
 *   dQ += scale dS k
 *
 * Key blocks outside, query blocks inside: a key block's dK and dV stay in
 * two small transposed tiles ([d, ATTN_BK]) while the query blocks that see
 * it go past, and are added to dk, dv once. The tile is [query, key], keys
 * along the vector lanes (the forward's kernels with the roles of q and k
 * swapped: rows of q, dO broadcast, the key block transposed once), so
 * S, dP, dV and dK are each one of the two tile products. dQ is the
 * first product again with head dimensions on the lanes: rows of dS
 * broadcast against the key block as it lies (copied, its rows padded to
 * a vector multiple dp), added into a [T, dp] buffer (O(T d)) written to
 * dq at the end. (Transposing dS instead, to keep queries on the lanes,
 * was a scalar loop and a fifth of the time at head_dim 16.)
 *
 * dq (=), dk, dv (+=: query heads sharing a kv head add into them), o and
 * dO rows `ldo` apart; scratch: attn_head_backward_tiled_scratch(T, d). */
static inline size_t attn_head_backward_tiled_scratch(int T, int d)
{
    size_t dp = (size_t)(d + ATTN_QW - 1) / ATTN_QW * ATTN_QW; /* the widest padding, either copy */
    return 4 * (size_t)d * ATTN_BK + 2 * (size_t)ATTN_BQ * ATTN_BK + ATTN_BQ + (size_t)T + dp * (ATTN_BK + T);
}

CPU_BODY void attn_head_backward_tiled_body(const real *q, int ldq, const real *k, int ldk, const real *v, int ldv,
                                             const real *o, const real *dO, int ldo, const real *lse, real *dq,
                                             real *dk, real *dv, int T, int d, int W, real scale, real *scratch,
                                             int wide)
{
    const int QW = wide ? 16 : 8, dp = (d + QW - 1) / QW * QW;
    real *KT = scratch, *VT = KT + (size_t)d * ATTN_BK, *dKT = VT + (size_t)d * ATTN_BK;
    real *dVT = dKT + (size_t)d * ATTN_BK, *S = dVT + (size_t)d * ATTN_BK, *dP = S + (size_t)ATTN_BQ * ATTN_BK;
    real *ones = dP + (size_t)ATTN_BQ * ATTN_BK, *D = ones + ATTN_BQ, *Kp = D + T, *dQ = Kp + (size_t)ATTN_BK * dp;
    for (int r = 0; r < ATTN_BQ; r++) ones[r] = 1;
    for (int t = 0; t < T; t++) {
        const real *a = dO + (size_t)t * ldo, *b = o + (size_t)t * ldo;
        real sum = 0;
        for (int i = 0; i < d; i++) sum += a[i] * b[i];
        D[t] = sum;
    }
    memset(dQ, 0, sizeof(real) * (size_t)T * dp);
    for (int j0 = 0; j0 < T; j0 += ATTN_BK) {
        int nk = T - j0 < ATTN_BK ? T - j0 : ATTN_BK, nkp = (nk + QW - 1) / QW * QW;
        /* the queries that see a key of the block: j0 .. j0 + nk - 1 + W */
        int tend = W && j0 + nk - 1 + W < T - 1 ? j0 + nk - 1 + W : T - 1;
        /* padding keys are zeros (and masked: past T, so past every query) */
        for (int i = 0; i < d; i++)
            for (int j = 0; j < nkp; j++) {
                KT[(size_t)i * ATTN_BK + j] = j < nk ? scale * k[(size_t)(j0 + j) * ldk + i] : 0;
                VT[(size_t)i * ATTN_BK + j] = j < nk ? v[(size_t)(j0 + j) * ldv + i] : 0;
            }
        for (int j = 0; j < nk; j++)
            for (int i = 0; i < dp; i++) Kp[(size_t)j * dp + i] = i < d ? k[(size_t)(j0 + j) * ldk + i] : 0;
        memset(dKT, 0, sizeof(real) * 2 * (size_t)d * ATTN_BK);
        for (int t0 = j0; t0 <= tend; t0 += ATTN_BQ) {
            int nr = tend - t0 + 1 < ATTN_BQ ? tend - t0 + 1 : ATTN_BQ, t1 = t0 + nr - 1;
            /* key j of the tile is visible to its row r iff j <= r + off; on the
             * diagonal (off = 0) the register tiles wholly above it are skipped,
             * elsewhere off >= ATTN_BK and nothing is */
            int off = t0 - j0;
            const real *qb = q + (size_t)t0 * ldq, *dOb = dO + (size_t)t0 * ldo;
            /* S[r, j] = q_r · scale k_j and dP[r, j] = dO_r · v_j */
            if (wide) {
                attn_tile_scores_16(S, ATTN_BK, KT, ATTN_BK, qb, ldq, nr, nkp, d, 0, off, ATTN_ALL, ATTN_ALL);
                attn_tile_scores_16(dP, ATTN_BK, VT, ATTN_BK, dOb, ldo, nr, nkp, d, 0, off, ATTN_ALL, ATTN_ALL);
            } else {
                attn_tile_scores_8(S, ATTN_BK, KT, ATTN_BK, qb, ldq, nr, nkp, d, 0, off, ATTN_ALL, ATTN_ALL);
                attn_tile_scores_8(dP, ATTN_BK, VT, ATTN_BK, dOb, ldo, nr, nkp, d, 0, off, ATTN_ALL, ATTN_ALL);
            }
            /* the forward's test: only diagonal and window-edge blocks */
            int masked = j0 + nkp - 1 > t0 || (W && j0 < t1 - W);
            for (int r = 0; r < nr; r++) {
                int t = t0 + r, n = attn_live_lanes(r, off, QW) < nkp ? attn_live_lanes(r, off, QW) : nkp;
                real *s = S + (size_t)r * ATTN_BK, *g = dP + (size_t)r * ATTN_BK, L = lse[t], Dt = D[t];
                if (masked)
#pragma omp simd
                    for (int j = 0; j < n; j++) s[j] = j0 + j <= t && (!W || j0 + j + W >= t) ? s[j] : -INFINITY;
#pragma omp simd
                for (int j = 0; j < n; j++) {
                    real p = attn_unless_neginf(s[j], exp_fma(s[j] - L), 0);
                    s[j] = p;
                    g[j] = p * (g[j] - Dt);
                }
            }
            /* dV^T[i, j] += Σ_r dO_r[i] P[r, j], dK^T[i, j] += Σ_r q_r[i] dS[r, j] */
            if (wide) {
                attn_tile_mix_16(dVT, ATTN_BK, ones, S, dOb, ldo, nr, nkp, d, off, ATTN_ALL);
                attn_tile_mix_16(dKT, ATTN_BK, ones, dP, qb, ldq, nr, nkp, d, off, ATTN_ALL);
            } else {
                attn_tile_mix_8(dVT, ATTN_BK, ones, S, dOb, ldo, nr, nkp, d, off, ATTN_ALL);
                attn_tile_mix_8(dKT, ATTN_BK, ones, dP, qb, ldq, nr, nkp, d, off, ATTN_ALL);
            }
            /* dQ[t, i] += Σ_j dS[r, j] k_j[i], over the keys computed */
            if (wide)
                attn_tile_scores_16(dQ + (size_t)t0 * dp, dp, Kp, dp, dP, ATTN_BK, nr, dp, nk, 1, ATTN_ALL, off,
                                    ATTN_ALL);
            else
                attn_tile_scores_8(dQ + (size_t)t0 * dp, dp, Kp, dp, dP, ATTN_BK, nr, dp, nk, 1, ATTN_ALL, off,
                                   ATTN_ALL);
        }
        for (int j = 0; j < nk; j++)
            for (int i = 0; i < d; i++) {
                dk[(size_t)(j0 + j) * ldk + i] += scale * dKT[(size_t)i * ATTN_BK + j];
                dv[(size_t)(j0 + j) * ldv + i] += dVT[(size_t)i * ATTN_BK + j];
            }
    }
    for (int t = 0; t < T; t++)
        for (int i = 0; i < d; i++) dq[(size_t)t * ldq + i] = scale * dQ[(size_t)t * dp + i];
}

/* the build target's copy (AVX2 by default): eight-key tiles */
CPU_BODY void attn_head_backward_tiled_any(const real *q, int ldq, const real *k, int ldk, const real *v, int ldv,
                                            const real *o, const real *dO, int ldo, const real *lse, real *dq,
                                            real *dk, real *dv, int T, int d, int W, real scale, real *scratch)
{
    attn_head_backward_tiled_body(q, ldq, k, ldk, v, ldv, o, dO, ldo, lse, dq, dk, dv, T, d, W, scale, scratch, 0);
}

/* The tiled kernels' AVX-512 copies run 16-lane tiles, not the portable
 * copies' 8, so they are dispatched by hand. */
#if CPU_DISPATCH
CPU_V4 static void attn_head_forward_tiled_v4(const real *q, int ldq, const real *k, int ldk, const real *v, int ldv,
                                              real *o, int ldo, real *lse, int T, int d, int W, real scale,
                                              real *scratch)
{
    attn_head_forward_tiled_body(q, ldq, k, ldk, v, ldv, o, ldo, lse, T, d, W, scale, scratch, 1);
}

CPU_V4 static void attn_head_backward_tiled_v4(const real *q, int ldq, const real *k, int ldk, const real *v,
                                               int ldv, const real *o, const real *dO, int ldo, const real *lse,
                                               real *dq, real *dk, real *dv, int T, int d, int W, real scale,
                                               real *scratch)
{
    attn_head_backward_tiled_body(q, ldq, k, ldk, v, ldv, o, dO, ldo, lse, dq, dk, dv, T, d, W, scale, scratch, 1);
}
#endif

/* o, and lse unless it is NULL (inference); scratch: attn_head_tiled_scratch(d) */
static inline void attn_head_forward_tiled(const real *q, int ldq, const real *k, int ldk, const real *v, int ldv,
                                           real *o, int ldo, real *lse, int T, int d, int W, real scale,
                                           real *scratch)
{
#if CPU_DISPATCH
    if (cpu_has_x86_64_v4()) {
        attn_head_forward_tiled_v4(q, ldq, k, ldk, v, ldv, o, ldo, lse, T, d, W, scale, scratch);
        return;
    }
#endif
    attn_head_forward_tiled_any(q, ldq, k, ldk, v, ldv, o, ldo, lse, T, d, W, scale, scratch);
}

/* dq (=), dk, dv (+=) from the forward's o and lse; see the body above */
static inline void attn_head_backward_tiled(const real *q, int ldq, const real *k, int ldk, const real *v, int ldv,
                                            const real *o, const real *dO, int ldo, const real *lse, real *dq,
                                            real *dk, real *dv, int T, int d, int W, real scale, real *scratch)
{
#if CPU_DISPATCH
    if (cpu_has_x86_64_v4()) {
        attn_head_backward_tiled_v4(q, ldq, k, ldk, v, ldv, o, dO, ldo, lse, dq, dk, dv, T, d, W, scale, scratch);
        return;
    }
#endif
    attn_head_backward_tiled_any(q, ldq, k, ldk, v, ldv, o, dO, ldo, lse, dq, dk, dv, T, d, W, scale, scratch);
}

#endif
