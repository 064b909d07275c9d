/* The tiled inference forward of one attention head (attn_head.h,
 * attn_head_forward_tiled) against the plain reference (masked T x T gemms):
 * random inputs, lengths around and across the query and key blocks, head
 * dimensions with and without a full register tile, global and windowed
 * masks, with and without P (training writes it for backward). Compiled
 * twice: as float (what eval and prefill run, 1e-5) and as
 * double (test_attn_tiled_f64: the mathematics alone, 1e-12), each through
 * both the dispatched copy and the portable one. The float build also
 * checks that an attention model's inference arena grows linearly in T
 * (what eval's choice of path reads), not with a T x T block. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rel_err.h"
#include "core/rng.h"
#include "models/layers/attn_head.h"
#ifndef SEQ_F64
#include "models/model.h"
#endif

#ifdef SEQ_F64
#define TOL 1e-12
#else
#define TOL 1e-5
#endif

static void fill(real *p, size_t n, Rng *r, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) p[i] = (real)(lo + (hi - lo) * rng_uniform(r));
}

/* one head at row stride ld (heads interleaved, not a vector multiple);
 * columns of o outside the head must stay as they were. with_P: the
 * training form, which also writes P (zeros outside the mask included). */
static void test_tiled(int T, int d, int W, int portable, int with_P)
{
    Rng r;
    rng_seed(&r, (uint64_t)(T * 1009 + d * 31 + W * 7 + portable));
    int ld = 2 * d + 3;
    size_t nr = (size_t)T * ld;
    real *q = malloc(sizeof(real) * nr), *k = malloc(sizeof(real) * nr), *v = malloc(sizeof(real) * nr);
    size_t TT = (size_t)T * T;
    real *want = malloc(sizeof(real) * nr), *got = malloc(sizeof(real) * nr), *P = malloc(sizeof(real) * TT);
    real *Pt = with_P ? malloc(sizeof(real) * TT) : NULL;
    real *scratch = malloc(sizeof(real) * attn_head_tiled_scratch(d));
    fill(q, nr, &r, -2, 2);
    fill(k, nr, &r, -2, 2);
    fill(v, nr, &r, -1, 1);
    fill(want, nr, &r, 5, 6); /* the other columns, which neither may touch */
    memcpy(got, want, sizeof(real) * nr);
    fill(scratch, attn_head_tiled_scratch(d), &r, 5, 6); /* stale scratch */
    if (Pt) fill(Pt, TT, &r, 5, 6);                        /* and stale P */
    real scale = 1 / sqrt((real)d);
    attn_head_forward_ref(q, ld, k, ld, v, ld, want, ld, P, T, d, W, scale);
    if (portable)
        attn_head_forward_tiled_any(q, ld, k, ld, v, ld, got, ld, Pt, T, d, W, scale, scratch);
    else
        attn_head_forward_tiled(q, ld, k, ld, v, ld, got, ld, Pt, T, d, W, scale, scratch);
    double e = rel_err(got, want, nr);
    CHECK(e < TOL, "tiled attention T %d d %d W %d portable %d P %d: o relative error %.3g", T, d, W, portable,
          with_P, e);
    if (Pt) {
        e = rel_err(Pt, P, TT);
        CHECK(e < TOL, "tiled attention T %d d %d W %d portable %d: P relative error %.3g", T, d, W, portable, e);
    }
    free(q); free(k); free(v); free(want); free(got); free(P); free(Pt); free(scratch);
}

#ifndef SEQ_F64
/* 4x the length: ~4x the bytes (a T x T block per thread made it ~16x) */
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
}
#endif

int main(void)
{
#ifndef SEQ_F64
    arena_linear();
#endif
    const int Ts[] = {1, 2, 17, 64, 300, 1000}, ds[] = {16, 36, 64}, Ws[] = {0, 1, 7, 64};
    for (int portable = 0; portable < 2; portable++)
        for (int with_P = 0; with_P < 2; with_P++) {
            for (size_t a = 0; a < sizeof Ts / sizeof *Ts; a++)
                for (size_t b = 0; b < sizeof ds / sizeof *ds; b++)
                    for (size_t c = 0; c < sizeof Ws / sizeof *Ws; c++)
                        test_tiled(Ts[a], ds[b], Ws[c], portable, with_P);
            test_tiled(130, 7, 0, portable, with_P);   /* below one register tile of head dimensions */
            test_tiled(200, 13, 40, portable, with_P); /* a head-dimension tail and a window across blocks */
            test_tiled(129, 256, 0, portable, with_P); /* the widest head_dim in use, one query past two blocks */
            test_tiled(65, 128, 63, portable, with_P); /* window one below a block */
        }
    return check_summary();
}
