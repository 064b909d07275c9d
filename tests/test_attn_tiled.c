/* The tiled kernels of one attention head (attn_head.h) against the plain
 * reference (masked T x T gemms): random inputs, lengths around and across
 * the query and key blocks, head dimensions with and without a full
 * register tile, global and windowed masks.
 *
 *   forward   o (inference and training), and the log-sum-exp per query
 *             that training saves, against the reference's scores
 *   backward  dq, dk, dv from o, dO and that log-sum-exp against the
 *             reference's from P, heads interleaved (rows not a vector
 *             multiple apart), and two query heads sharing a kv head
 *             (GQA: the second adds into the first's dk, dv)
 *
 * Compiled twice: as float (what training, eval and prefill run, 1e-5,
 * the backward 3e-5: see BTOL) and as double (test_attn_tiled_f64: the
 * mathematics alone, 1e-12), each through both the dispatched copy and
 * the portable one. The float build also checks that an attention model's
 * arenas grow linearly in T (what eval's choice of path reads), not with
 * a T x T block. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "models/layers/attn_head.h"
#ifndef SEQ_F64
#include "models/model.h"
#endif

/* BTOL, the backward's: at T = 2 each row's dS sums to zero over two
 * keys, so dk and dq are differences of near-equal terms (5e-6 seen in
 * float; 1e-6 from T = 17 on) */
#ifdef SEQ_F64
#define TOL 1e-12
#define BTOL 1e-12
#else
#define TOL 1e-5
#define BTOL 3e-5
#endif

static void fill(real *p, size_t n, Rng *r, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) p[i] = (real)(lo + (hi - lo) * rng_uniform(r));
}

/* stale scratch: NaN, so a kernel that reads what it did not write shows */
static void fill_nan(real *p, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = NAN;
}

/* max |a - b| / max |b| over the d columns at `off` of T rows `ld` apart;
 * NaN in a (stale scratch read) makes it NaN, which fails every check */
static double rel_err_cols(const real *a, const real *b, int T, int ld, int off, int d)
{
    double diff = 0, scale = 0;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < d; i++) {
            size_t x = (size_t)t * ld + off + i;
            if (isnan(a[x])) return NAN;
            diff = fmax(diff, fabs((double)a[x] - b[x]));
            scale = fmax(scale, fabs((double)b[x]));
        }
    return diff / (scale > 0 ? scale : 1);
}

/* entries of T rows `ld` apart outside columns off..off+d-1 that differ */
static int touched_outside(const real *a, const real *b, int T, int ld, int off, int d)
{
    int n = 0;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < ld; i++)
            if ((i < off || i >= off + d) && a[(size_t)t * ld + i] != b[(size_t)t * ld + i]) n++;
    return n;
}

/* one head at row stride ld (heads interleaved, not a vector multiple);
 * columns of o outside the head must stay as they were. with_lse: the
 * training form, which also writes each query's log-sum-exp, checked
 * against the reference's scores (in double). */
static void test_tiled(int T, int d, int W, int portable, int with_lse)
{
    Rng r;
    rng_seed(&r, (uint64_t)(T * 1009 + d * 31 + W * 7 + portable));
    int ld = 2 * d + 3;
    size_t nr = (size_t)T * ld;
    real *q = malloc(sizeof(real) * nr), *k = malloc(sizeof(real) * nr), *v = malloc(sizeof(real) * nr);
    size_t TT = (size_t)T * T;
    real *want = malloc(sizeof(real) * nr), *got = malloc(sizeof(real) * nr), *P = malloc(sizeof(real) * TT);
    real *lse = with_lse ? malloc(sizeof(real) * T) : NULL;
    double *lse_want = malloc(sizeof(double) * T);
    real *scratch = malloc(sizeof(real) * attn_head_tiled_scratch(d));
    fill(q, nr, &r, -2, 2);
    fill(k, nr, &r, -2, 2);
    fill(v, nr, &r, -1, 1);
    fill(want, nr, &r, 5, 6); /* the other columns, which neither may touch */
    memcpy(got, want, sizeof(real) * nr);
    fill_nan(scratch, attn_head_tiled_scratch(d));
    if (lse) fill(lse, T, &r, 5, 6);                       /* and stale lse */
    real scale = 1 / sqrt((real)d);
    attn_head_forward_ref(q, ld, k, ld, v, ld, want, ld, P, T, d, W, scale);
    if (portable)
        attn_head_forward_tiled_any(q, ld, k, ld, v, ld, got, ld, lse, T, d, W, scale, scratch);
    else
        attn_head_forward_tiled(q, ld, k, ld, v, ld, got, ld, lse, T, d, W, scale, scratch);
    double e = rel_err_cols(got, want, T, ld, 0, d);
    int n = touched_outside(got, want, T, ld, 0, d);
    CHECK(e < TOL && n == 0, "tiled attention T %d d %d W %d portable %d lse %d: o relative error %.3g, %d entries "
          "outside the head changed", T, d, W, portable, with_lse, e, n);
    if (lse) {
        double worst = 0;
        for (int t = 0; t < T; t++) {
            int lo = attn_head_lo(t, W);
            double mx = -INFINITY, sum = 0, s[t - lo + 1];
            for (int j = lo; j <= t; j++) {
                double dot = 0;
                for (int i = 0; i < d; i++) dot += (double)q[(size_t)t * ld + i] * k[(size_t)j * ld + i];
                s[j - lo] = dot * scale;
                mx = fmax(mx, s[j - lo]);
            }
            for (int j = lo; j <= t; j++) sum += exp(s[j - lo] - mx);
            lse_want[t] = mx + log(sum);
            double e1 = fabs(lse[t] - lse_want[t]) / fmax(1, fabs(lse_want[t]));
            worst = e1 > worst || isnan(e1) ? e1 : worst;
        }
        CHECK(worst < TOL, "tiled attention T %d d %d W %d portable %d: log-sum-exp relative error %.3g", T, d, W,
              portable, worst);
    }
    free(q); free(k); free(v); free(want); free(got); free(P); free(lse); free(lse_want); free(scratch);
}

/* The tiled backward against attn_head_backward_ref. heads = 1, or 2 query
 * heads (columns 0 and d of q, o, dO, dq) sharing the kv head (columns 0 of
 * k, v, dk, dv, rows ld apart), the second head adding into dk, dv. */
static void test_backward(int T, int d, int W, int portable, int heads)
{
    Rng r;
    rng_seed(&r, (uint64_t)(T * 2003 + d * 37 + W * 11 + portable * 3 + heads));
    int ld = 2 * d + 3;
    size_t nr = (size_t)T * ld, TT = (size_t)T * T;
    real *q = malloc(sizeof(real) * nr), *k = malloc(sizeof(real) * nr), *v = malloc(sizeof(real) * nr);
    real *dO = malloc(sizeof(real) * nr), *o = malloc(sizeof(real) * nr), *o_ref = malloc(sizeof(real) * nr);
    real *lse = malloc(sizeof(real) * 2 * T), *P = malloc(sizeof(real) * TT), *dP = malloc(sizeof(real) * TT);
    real *g[2][3]; /* [ref, tiled][dq, dk, dv] */
    for (int w = 0; w < 2; w++)
        for (int x = 0; x < 3; x++) g[w][x] = malloc(sizeof(real) * nr);
    size_t ns = attn_head_backward_tiled_scratch(T, d), nf = attn_head_tiled_scratch(d);
    real *scratch = malloc(sizeof(real) * (ns > nf ? ns : nf));
    fill(q, nr, &r, -2, 2);
    fill(k, nr, &r, -2, 2);
    fill(v, nr, &r, -1, 1);
    fill(dO, nr, &r, -1, 1);
    fill(o, nr, &r, 5, 6);
    memcpy(o_ref, o, sizeof(real) * nr);
    /* dq: stale outside the heads; dk, dv: zero in the head (they add), stale beside it */
    for (int x = 0; x < 3; x++) {
        fill(g[0][x], nr, &r, 5, 6);
        if (x)
            for (int t = 0; t < T; t++) memset(g[0][x] + (size_t)t * ld, 0, sizeof(real) * d);
        memcpy(g[1][x], g[0][x], sizeof(real) * nr);
    }
    real scale = 1 / sqrt((real)d);
    for (int h = 0; h < heads; h++) {
        const real *qh = q + h * d, *dOh = dO + h * d;
        attn_head_forward_ref(qh, ld, k, ld, v, ld, o_ref + h * d, ld, P, T, d, W, scale);
        attn_head_backward_ref(qh, ld, k, ld, v, ld, dOh, ld, P, g[0][0] + h * d, g[0][1], g[0][2], dP, T, d, scale);
        fill_nan(scratch, ns > nf ? ns : nf);
        if (portable) {
            attn_head_forward_tiled_any(qh, ld, k, ld, v, ld, o + h * d, ld, lse + h * T, T, d, W, scale, scratch);
            fill_nan(scratch, ns);
            attn_head_backward_tiled_any(qh, ld, k, ld, v, ld, o + h * d, dOh, ld, lse + h * T, g[1][0] + h * d,
                                         g[1][1], g[1][2], T, d, W, scale, scratch);
        } else {
            attn_head_forward_tiled(qh, ld, k, ld, v, ld, o + h * d, ld, lse + h * T, T, d, W, scale, scratch);
            fill_nan(scratch, ns);
            attn_head_backward_tiled(qh, ld, k, ld, v, ld, o + h * d, dOh, ld, lse + h * T, g[1][0] + h * d,
                                     g[1][1], g[1][2], T, d, W, scale, scratch);
        }
    }
    static const char *name[3] = {"dq", "dk", "dv"};
    for (int x = 0; x < 3; x++) {
        int width = x ? d : heads * d;
        double e = rel_err_cols(g[1][x], g[0][x], T, ld, 0, width);
        CHECK(e < BTOL, "tiled attention backward T %d d %d W %d portable %d heads %d: %s relative error %.3g", T, d,
              W, portable, heads, name[x], e);
        int n = touched_outside(g[1][x], g[0][x], T, ld, 0, width);
        CHECK(n == 0, "tiled attention backward T %d d %d W %d heads %d: %d entries of %s outside the heads changed",
              T, d, W, heads, n, name[x]);
    }
    free(q); free(k); free(v); free(dO); free(o); free(o_ref); free(lse); free(P); free(dP); free(scratch);
    for (int w = 0; w < 2; w++)
        for (int x = 0; x < 3; x++) free(g[w][x]);
}

#ifndef SEQ_F64
/* 4x the length: ~4x the bytes (a T x T block made it ~16x) */
static void arena_linear(void)
{
    ModelCfg c;
    cfg_defaults(&c);
    c.vocab_size = 16;
    c.d_model = 144;
    c.n_heads = 4;
    c.n_kv_heads = 1;
    c.head_dim = 36;
    strcpy(c.pattern, "***");
    double a = (double)model_infer_act_bytes(&c, 1, 4096), b = (double)model_infer_act_bytes(&c, 1, 16384);
    CHECK(b < 4.5 * a, "inference arena of 3 attention layers: %.1f MiB at 4096, %.1f MiB at 16384", a / (1 << 20),
          b / (1 << 20));
    c.window = 64;
    strcpy(c.pattern, "L-");
    a = (double)model_infer_act_bytes(&c, 1, 4096), b = (double)model_infer_act_bytes(&c, 1, 16384);
    CHECK(b < 4.5 * a, "inference arena of local attention: %.1f MiB at 4096, %.1f MiB at 16384", a / (1 << 20),
          b / (1 << 20));
    /* training too: the forward saves a log-sum-exp per query, not P */
    strcpy(c.pattern, "***");
    c.window = 0;
    a = (double)model_act_bytes(&c, 1, 4096), b = (double)model_act_bytes(&c, 1, 16384);
    CHECK(b < 4.5 * a, "training arena of 3 attention layers: %.1f MiB at 4096, %.1f MiB at 16384", a / (1 << 20),
          b / (1 << 20));
}
#endif

int main(void)
{
#ifndef SEQ_F64
    arena_linear();
#endif
    const int Ts[] = {1, 2, 17, 64, 300, 1000}, ds[] = {16, 36, 64}, Ws[] = {0, 1, 7, 64};
    for (int portable = 0; portable < 2; portable++)
        for (int with_lse = 0; with_lse < 2; with_lse++) {
            for (size_t a = 0; a < sizeof Ts / sizeof *Ts; a++)
                for (size_t b = 0; b < sizeof ds / sizeof *ds; b++)
                    for (size_t c = 0; c < sizeof Ws / sizeof *Ws; c++)
                        test_tiled(Ts[a], ds[b], Ws[c], portable, with_lse);
            test_tiled(130, 7, 0, portable, with_lse);   /* below one register tile of head dimensions */
            test_tiled(200, 13, 40, portable, with_lse); /* a head-dimension tail and a window across blocks */
            test_tiled(129, 256, 0, portable, with_lse); /* the widest head_dim in use, one query past two blocks */
            test_tiled(65, 128, 63, portable, with_lse); /* window one below a block */
        }
    const int Tb[] = {1, 2, 17, 64, 65, 300};
    for (int portable = 0; portable < 2; portable++)
        for (int heads = 1; heads <= 2; heads++) {
            for (size_t a = 0; a < sizeof Tb / sizeof *Tb; a++)
                for (size_t b = 0; b < sizeof ds / sizeof *ds; b++)
                    for (size_t c = 0; c < sizeof Ws / sizeof *Ws; c++)
                        test_backward(Tb[a], ds[b], Ws[c], portable, heads);
            test_backward(130, 7, 0, portable, heads);
            test_backward(200, 13, 40, portable, heads);
            test_backward(129, 256, 0, portable, heads);
            test_backward(150, 128, 63, portable, heads); /* a window ending inside the next key block */
            test_backward(100, 32, 200, portable, heads); /* a window longer than the sequence */
        }
    return check_summary();
}
