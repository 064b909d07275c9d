/* The Mamba-1 training scan with checkpoints (selective_scan.h:
 * scan_forward_ck, scan_backward_ck), and the channels-innermost forward
 * scan_forward_t, against the plain reference loops (scan_forward_ref,
 * scan_backward_ref) on random S6 inputs: y, the final state and every
 * gradient, through the dispatching entry points (the
 * AVX-512 copy where the CPU has it) and the portable bodies (what an
 * AVX2-only CPU runs). Sizes: the training shape of the 2-layer d_model 64
 * Mamba, E and N off the 16-lane blocks, E past one channel block, T not a
 * multiple of SCAN_CHUNK, below it, equal to it, one past it, and 1.
 * Built twice (tests/tests.cmake): float, and double, where SCAN_CHUNK is 4
 * and the decays are libm's, so the same sizes cross more chunks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rel_err.h"
#include "core/rng.h"
#include "models/layers/selective_scan.h"

/* float: roundings of a regrouped sum and the polynomial exp; double: libm's */
#define TOL (sizeof(real) == 8 ? 1e-11 : 1e-5)

static void fill(real *p, size_t n, Rng *r, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) p[i] = (real)(lo + (hi - lo) * rng_uniform(r));
}

static void test_scan_ck(int T, int E, int N, int portable)
{
    Rng r;
    rng_seed(&r, (uint64_t)(T * 7919 + E * 31 + N + 17));
    size_t EN = (size_t)E * N, TE = (size_t)T * E, TN = (size_t)T * N;
    real *u = calloc(TE, sizeof(real)), *dt = calloc(TE, sizeof(real)), *Bm = calloc(TN, sizeof(real)),
         *Cm = calloc(TN, sizeof(real)), *A = calloc(EN, sizeof(real)), *AT = calloc(EN, sizeof(real)),
         *D = calloc(E, sizeof(real)), *dy = calloc(TE, sizeof(real)), *dh = calloc(EN, sizeof(real));
    fill(u, TE, &r, -1, 1);
    fill(dt, TE, &r, 0.001, 0.5);
    fill(Bm, TN, &r, -1, 1);
    fill(Cm, TN, &r, -1, 1);
    fill(A, EN, &r, -8, -0.5);
    fill(D, E, &r, 0.5, 1.5);
    fill(dy, TE, &r, -1, 1);
    for (int e = 0; e < E; e++)
        for (int n = 0; n < N; n++) AT[(size_t)n * E + e] = A[(size_t)e * N + n];
    ScanIn s = {T, E, N, u, (size_t)E, dt, (size_t)E, Bm, Cm, (size_t)N, 0, A, D};
    real *y[2], *h[2], *grads[2][6];
    size_t gn[6] = {TE, TE, TN, TN, EN, (size_t)E};
    for (int k = 0; k < 2; k++) {
        y[k] = calloc(TE, sizeof(real));
        h[k] = calloc(EN, sizeof(real));
        for (int j = 0; j < 6; j++) grads[k][j] = calloc(gn[j], sizeof(real));
    }
    real *hs = calloc(TE * N, sizeof(real));
    scan_forward_ref(&s, y[0], (size_t)E, hs, h[0]);
    ScanGrad g0 = {grads[0][0], (size_t)E, grads[0][1], grads[0][2], grads[0][3], grads[0][4], grads[0][5]};
    scan_backward_ref(&s, dy, (size_t)E, hs, dh, &g0);

    /* the checkpoints and the work buffer end exactly where their sizes say: NaN past them would show */
    size_t nck = scan_ckpt_size(T, E, N), nwork = scan_ck_work_size(E, N);
    real *ck = malloc(sizeof(real) * (nck + 1)), *work = malloc(sizeof(real) * (nwork + 1));
    ck[nck] = work[nwork] = -7;
    for (int j = 0; j < 4; j++) /* du, dΔ, dB, dC are written, not added to: start them at NaN */
        for (size_t i = 0; i < gn[j]; i++) grads[1][j][i] = NAN;
    ScanGrad g1 = {grads[1][0], (size_t)E, grads[1][1], grads[1][2], grads[1][3], grads[1][4], grads[1][5]};
    (portable ? scan_forward_ck_any : scan_forward_ck)(&s, AT, y[1], (size_t)E, ck, h[1]);
    (portable ? scan_backward_ck_any : scan_backward_ck)(&s, AT, dy, (size_t)E, ck, work, &g1);
    CHECK(ck[nck] == -7 && work[nwork] == -7, "S6 checkpointed T=%d E=%d N=%d: wrote past its buffers", T, E, N);

    /* back to the reference's [E, N] layout */
    real *tmp = calloc(EN, sizeof(real));
    for (int e = 0; e < E; e++)
        for (int n = 0; n < N; n++) tmp[(size_t)e * N + n] = h[1][(size_t)n * E + e];
    memcpy(h[1], tmp, sizeof(real) * EN);
    for (int e = 0; e < E; e++)
        for (int n = 0; n < N; n++) tmp[(size_t)e * N + n] = grads[1][4][(size_t)n * E + e];
    memcpy(grads[1][4], tmp, sizeof(real) * EN);
    const char *tag = portable ? " (portable)" : "";
    CHECK(rel_err(y[1], y[0], TE) < TOL, "S6 checkpointed%s T=%d E=%d N=%d: y differs by %.3g", tag, T, E, N,
          rel_err(y[1], y[0], TE));
    CHECK(rel_err(h[1], h[0], EN) < TOL, "S6 checkpointed%s T=%d E=%d N=%d: final state differs by %.3g", tag, T,
          E, N, rel_err(h[1], h[0], EN));
    const char *names[6] = {"du", "ddt", "dB", "dC", "dA", "dD"};
    for (int j = 0; j < 6; j++) {
        double d = rel_err(grads[1][j], grads[0][j], gn[j]);
        CHECK(d < TOL, "S6 checkpointed%s T=%d E=%d N=%d: %s differs by %.3g", tag, T, E, N, names[j], d);
    }

    /* the inference form (no checkpoints) gives the same y */
    real *y2 = calloc(TE, sizeof(real)), *h2 = calloc(EN, sizeof(real));
    (portable ? scan_forward_ck_any : scan_forward_ck)(&s, AT, y2, (size_t)E, NULL, h2);
    CHECK(rel_err(y2, y[0], TE) < TOL, "S6 checkpointed%s T=%d E=%d N=%d without checkpoints: y differs by %.3g",
          tag, T, E, N, rel_err(y2, y[0], TE));
    /* scan_forward_t (decode's prefill and inference) against the reference: y and the last state */
    memset(h2, 0, sizeof(real) * EN);
    (portable ? scan_forward_t_any : scan_forward_t)(&s, AT, y2, (size_t)E, h2);
    for (int e = 0; e < E; e++)
        for (int n = 0; n < N; n++) tmp[(size_t)e * N + n] = h2[(size_t)n * E + e];
    CHECK(rel_err(y2, y[0], TE) < TOL && rel_err(tmp, h[0], EN) < TOL,
          "S6 transposed%s T=%d E=%d N=%d: scan_forward_t's y differs by %.3g, its state by %.3g", tag, T, E, N,
          rel_err(y2, y[0], TE), rel_err(tmp, h[0], EN));

    for (int k = 0; k < 2; k++) {
        free(y[k]);
        free(h[k]);
        for (int j = 0; j < 6; j++) free(grads[k][j]);
    }
    free(u); free(dt); free(Bm); free(Cm); free(A); free(AT); free(D); free(dy); free(dh);
    free(hs); free(ck); free(work); free(tmp); free(y2); free(h2);
}

/* the decays' exp against libm, relative to the result, over every x ≤ 0 it can be given */
static void test_scan_decay(void)
{
#ifndef SEQ_F64
    double worst = 0, worst_low = 0;
    for (int i = 0; i <= 1 << 21; i++) {
        float x = -87.3f * (float)i / (1 << 21);
        double r = exp((double)x), err = fabs(scan_decay(x) - r) / r;
        if (x >= -20) worst = err > worst ? err : worst;
        else worst_low = err > worst_low ? err : worst_low;
    }
    CHECK(worst < 3e-7 && worst_low < 5e-7, "scan_decay relative error %.3g on [-20, 0], %.3g below", worst,
          worst_low);
    CHECK(scan_decay(0) == 1 && isnan(scan_decay(NAN)) && scan_decay(-1000) >= 0 && scan_decay(-1000) < 1.3e-38f,
          "scan_decay(0) = %.9g, (NaN) = %g, (-1000) = %g", scan_decay(0), scan_decay(NAN), scan_decay(-1000));
#endif
}

int main(void)
{
    test_scan_decay();
    for (int portable = 0; portable < 2; portable++) {
        test_scan_ck(256, 128, 16, portable); /* the 2-layer d_model 64 Mamba's training shape */
        test_scan_ck(37, 24, 16, portable);   /* T not a multiple of a chunk, E not of a block */
        test_scan_ck(9, 5, 100, portable);    /* E below one block, N large and not a multiple of 16 */
        test_scan_ck(1, 128, 16, portable);   /* T = 1 */
        test_scan_ck(6, 131, 3, portable);    /* E past one channel block, N odd */
        test_scan_ck(4, 1, 1, portable);
        test_scan_ck(50, 264, 17, portable);  /* three channel blocks, the last partial */
        test_scan_ck(15, 40, 16, portable);   /* T below a chunk (float) */
        test_scan_ck(16, 33, 16, portable);   /* T one chunk exactly: no checkpoint */
        test_scan_ck(17, 48, 7, portable);    /* one token past a chunk */
    }
    return check_summary();
}
