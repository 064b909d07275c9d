/* Mamba-1 mixer (`M`, variant mamba1), DESIGN §4; with mamba_inner_norms,
 * Jamba's flavour (RMSNorm on δ, B and C before use).
 *   [u, z]    = in_proj(x)                                  D -> 2E
 *   u         = SiLU(conv1d_K(u) + b)                       causal, depthwise
 *   [δ, B, C] = x_proj(u)                                   E -> R + 2N
 *   Δ         = softplus(dt_proj(δ) + b_dt)                 R -> E
 *   y         = selective_scan(u, Δ, A = -exp(A_log), B, C, D)
 *   out       = out_proj(y ⊙ SiLU(z))                       E -> D
 * With mamba_no_gate, Mamba Table 1's "No gate" block (mamba_block.h):
 * in_proj makes u alone (D -> E) and out = out_proj(y).
 * Decode state: the conv window (K-1)·E and h (E·N), constant in context. */
#include <string.h>
#include <tgmath.h>

#include "core/parallel.h"
#include "models/layers/activations.h"
#include "models/layers/conv1d.h"
#include "models/layers/mamba_block.h"
#include "models/layers/rmsnorm.h"
#include "models/layers/selective_scan.h"
#include "models/layers/tensors.h"

typedef struct { real *in, *conv_w, *conv_b, *x, *dt_w, *dt_b, *A_log, *D, *out, *ln_dt, *ln_b, *ln_c; } M1Weights;

static int m1_tensors(const ModelCfg *c, TensorDesc *t)
{
    int n = 0, D = c->d_model, E = cfg_d_inner(c), N = c->d_state, R = cfg_dt_rank(c), K = c->d_conv;
    size_t off = 0;
    tensor_add(t, &n, &off, "in_proj.weight", mamba_block_in_width(c), D);
    tensor_add_conv(t, &n, &off, "conv1d.weight", E, K);
    tensor_add(t, &n, &off, "conv1d.bias", E, 0);
    tensor_add(t, &n, &off, "x_proj.weight", R + 2 * N, E);
    tensor_add(t, &n, &off, "dt_proj.weight", E, R);
    tensor_add(t, &n, &off, "dt_proj.bias", E, 0);
    tensor_add(t, &n, &off, "A_log", E, N)->decay = 0; /* mamba_ssm: no weight decay on A_log, D */
    tensor_add(t, &n, &off, "D", E, 0);
    tensor_add(t, &n, &off, "out_proj.weight", D, E);
    if (c->mamba_inner_norms) {
        tensor_add(t, &n, &off, "dt_layernorm.weight", R, 0);
        tensor_add(t, &n, &off, "b_layernorm.weight", N, 0);
        tensor_add(t, &n, &off, "c_layernorm.weight", N, 0);
    }
    return n;
}

static M1Weights m1_weights(const ModelCfg *c, real *p)
{
    TensorDesc t[16]; /* this family has at most 13 tensors */
    int n = m1_tensors(c, t);
    real *q[12] = {0};
    for (int i = 0; i < n; i++) q[i] = p + t[i].offset;
    M1Weights w = {q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9], q[10], q[11]};
    return w;
}

/* Paper initialisation (Gu & Dao 2023, mamba_ssm): A_log[e,n] = log(n+1)
 * (S4D-real), D = 1, dt_proj weight U(±R^-1/2), and b_dt the inverse
 * softplus of dt = exp(U(ln 0.001, ln 0.1)) clamped at 1e-4, so Δ starts
 * spread over [0.001, 0.1]. */
static void m1_init(const Sub *s, Rng *r)
{
    const ModelCfg *c = s->cfg;
    M1Weights w = m1_weights(c, s->p);
    int E = cfg_d_inner(c), N = c->d_state, R = cfg_dt_rank(c);
    for (int e = 0; e < E; e++) {
        for (int n = 0; n < N; n++) w.A_log[(size_t)e * N + n] = (real)log((double)(n + 1));
        w.D[e] = 1;
        double dt = exp(log(0.001) + rng_uniform(r) * (log(0.1) - log(0.001)));
        dt = dt < 1e-4 ? 1e-4 : dt;
        w.dt_b[e] = (real)(dt + log(-expm1(-dt)));
        for (int k = 0; k < R; k++) w.dt_w[(size_t)e * R + k] = (real)((2 * rng_uniform(r) - 1) / sqrt((double)R));
    }
    if (c->mamba_init_ssm) mamba_block_init_ssm(c, w.in, w.conv_w, w.conv_b, w.x, R + 2 * N, w.out, r);
}


/* acts, per M = B·T rows: xz [M,2E] (rows IW = mamba_block_in_width apart: E without the gate) | uc [M,E] | u [M,E] | dbc [M,P] | dbcn [M,P] | rstd [M,3]
 * | dtp [M,E] | delta [M,E] | y [M,E] | g [M,E] | ck [B, scan_ckpt_size]   with P = R + 2N
 * (ck: each sequence's state every SCAN_CHUNK tokens, transposed [N,E], as
 * scan_forward_ck saves it; the backward recomputes the states between) */
typedef struct { real *xz, *uc, *u, *dbc, *dbcn, *rstd, *dtp, *delta, *y, *g, *ck; } M1Acts;

static M1Acts m1_acts(const ModelCfg *c, real *a, int M)
{
    size_t E = cfg_d_inner(c), P = cfg_dt_rank(c) + 2 * (size_t)c->d_state;
    M1Acts x;
    x.xz = a; x.uc = x.xz + M * 2 * E; x.u = x.uc + M * E; x.dbc = x.u + M * E; x.dbcn = x.dbc + M * P;
    x.rstd = x.dbcn + M * P; x.dtp = x.rstd + (size_t)M * 3; x.delta = x.dtp + M * E; x.y = x.delta + M * E;
    x.g = x.y + M * E; x.ck = x.g + M * E;
    if (!c->mamba_inner_norms) x.dbcn = x.dbc; /* no norms: δ, B, C are x_proj's rows as they are */
    return x;
}

static size_t m1_act_size(const ModelCfg *c, int B, int T)
{
    size_t M = (size_t)B * T, E = cfg_d_inner(c), P = cfg_dt_rank(c) + 2 * (size_t)c->d_state;
    return M * (8 * E + 2 * P + 3) + (size_t)B * scan_ckpt_size(T, (int)E, c->d_state);
}

/* inference keeps no checkpoints */
static size_t m1_infer_act_size(const ModelCfg *c, int B, int T)
{
    size_t M = (size_t)B * T, E = cfg_d_inner(c), P = cfg_dt_rank(c) + 2 * (size_t)c->d_state;
    return M * (8 * E + 2 * P + 3);
}

/* scratch: AT [N,E] | per thread: dA [N,E], dD [E], scan work (scan_ck_work_size; the forward's
 * state h is its first [N,E]) | dy [M,E] | dxz [M,2E] | du [M,E] | ddelta [M,E] | ddbcn [M,P] | ddbc [M,P]
 * AT, dA and the work SCAN_SKEW reals and more apart modulo 4 KiB (selective_scan.h). */
typedef struct { real *dA, *dD, *work; } M1Thread;

static size_t m1_per_thread(const ModelCfg *c)
{
    int E = cfg_d_inner(c), N = c->d_state;
    return (size_t)E * N + E + scan_ck_work_size(E, N) + 2 * SCAN_SKEW;
}

static M1Thread m1_thread(const ModelCfg *c, real *scratch, int t)
{
    size_t EN = (size_t)cfg_d_inner(c) * c->d_state;
    M1Thread m;
    m.dA = scratch + EN + 2 * SCAN_SKEW + (size_t)t * m1_per_thread(c);
    m.dD = m.dA + EN + SCAN_SKEW;
    m.work = m.dD + cfg_d_inner(c) + SCAN_SKEW;
    return m;
}

static size_t m1_scratch_size(const ModelCfg *c, int B, int T)
{
    size_t M = (size_t)B * T, E = cfg_d_inner(c), N = c->d_state, P = cfg_dt_rank(c) + 2 * N;
    return E * N + 2 * SCAN_SKEW + (size_t)par_max_threads() * m1_per_thread(c) + M * (5 * E + 2 * P);
}

/* δ, B, C (Jamba: each RMS-normalised on its own) from x_proj's raw rows */
static void m1_norm_dbc(const ModelCfg *c, const M1Weights *w, const real *dbc, real *dbcn, real *rstd, int M)
{
    int R = cfg_dt_rank(c), N = c->d_state, P = R + 2 * N;
    if (!c->mamba_inner_norms) {
        if (dbcn != dbc) memcpy(dbcn, dbc, sizeof(real) * (size_t)M * P);
        return;
    }
    const real *ws[3] = {w->ln_dt, w->ln_b, w->ln_c};
    int off[3] = {0, R, R + N}, len[3] = {R, N, N};
    for (int m = 0; m < M; m++)
        for (int k = 0; k < 3; k++)
            rmsnorm_forward(dbcn + (size_t)m * P + off[k], rstd + (size_t)m * 3 + k, dbc + (size_t)m * P + off[k], ws[k],
                            1, len[k], c->norm_eps, 0);
}

/* dtp[M,E] = δ W_dt^T + b_dt, δ the first R of each P-wide row of dbcn. R
 * is tiny (D/16). Decode passes dt_wT = W_dt^T [R,E] (a step constant):
 * R rows added along the channels, contiguous and vectorised (a sum over R
 * per channel was 5% of a 2-layer d_model 64 Mamba's step, and a dot
 * product kernel's lane sums of only R terms cost more). Otherwise a plain
 * loop for a few rows, else one gemm. */
static void m1_dt_proj(real *dtp, const real *dbcn, const M1Weights *w, const real *dt_wT, int M, int E, int R, int P)
{
    if (dt_wT) {
        for (int m = 0; m < M; m++) {
            const real *d = dbcn + (size_t)m * P;
            real *o = dtp + (size_t)m * E;
            memcpy(o, w->dt_b, sizeof(real) * E);
            for (int k = 0; k < R; k++) {
                const real *wk = dt_wT + (size_t)k * E;
                real dk = d[k];
#pragma omp simd
                for (int e = 0; e < E; e++) o[e] += dk * wk[e];
            }
        }
        return;
    }
    if (M <= 8) {
        for (int m = 0; m < M; m++) {
            const real *d = dbcn + (size_t)m * P;
            real *o = dtp + (size_t)m * E;
            for (int e = 0; e < E; e++) {
                real acc = w->dt_b[e];
                for (int k = 0; k < R; k++) acc += d[k] * w->dt_w[(size_t)e * R + k];
                o[e] = acc;
            }
        }
        return;
    }
    for (int m = 0; m < M; m++) memcpy(dtp + (size_t)m * E, w->dt_b, sizeof(real) * E);
    cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, E, R, 1, dbcn, P, w->dt_w, R, 1, dtp, E);
}

/* AT[n][e] = A[e][n] = -exp(A_log[e][n]): the layout of scan_forward_t / scan_step_t */
static void m1_AT(real *AT, const real *A_log, int E, int N)
{
    for (int n = 0; n < N; n++)
        for (int e = 0; e < E; e++) AT[(size_t)n * E + e] = A_log[(size_t)e * N + n];
    neg_exp(AT, AT, (size_t)E * N);
}

/* sequence b's scan inputs; A is not among them: scan_forward_t takes AT */
static ScanIn m1_scan_in(const ModelCfg *c, const M1Acts *a, const real *D, int b, int T)
{
    int E = cfg_d_inner(c), N = c->d_state, R = cfg_dt_rank(c), P = R + 2 * N;
    size_t row = (size_t)b * T;
    ScanIn s = {T, E, N, a->u + row * E, (size_t)E, a->delta + row * E, (size_t)E,
                a->dbcn + row * P + R, a->dbcn + row * P + R + N, (size_t)P, 0, NULL, D};
    return s;
}

static void m1_forward(const Sub *s, const real *x, real *out, int B, int T, real *acts, real *scratch)
{
    const ModelCfg *c = s->cfg;
    M1Weights w = m1_weights(c, s->p);
    int D = c->d_model, E = cfg_d_inner(c), N = c->d_state, R = cfg_dt_rank(c), P = R + 2 * N, M = B * T;
    int IW = mamba_block_in_width(c);
    M1Acts a = m1_acts(c, acts, M);
    real *AT = scratch;
    m1_AT(AT, w.A_log, E, N);
    sub_linear(s, a.xz, x, w.in, M, IW, D, 0);
    conv1d_forward(a.uc, E, a.xz, IW, w.conv_w, w.conv_b, B, T, E, c->d_conv);
    mamba_pass(MB_SILU, M, E, a.u, E, NULL, 0, a.uc, E, NULL, 0);
    sub_linear(s, a.dbc, a.u, w.x, M, P, E, 0);
    m1_norm_dbc(c, &w, a.dbc, a.dbcn, a.rstd, M);
    m1_dt_proj(a.dtp, a.dbcn, &w, NULL, M, E, R, P);
    mamba_pass(MB_SOFTPLUS, M, E, a.delta, E, NULL, 0, a.dtp, E, NULL, 0);
    size_t ckb = scan_ckpt_size(T, E, N);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        ScanIn si = m1_scan_in(c, &a, w.D, b, T);
        real *h = m1_thread(c, scratch, par_thread_id()).work;
        memset(h, 0, sizeof(real) * (size_t)E * N);
        real *ck = s->inference ? NULL : a.ck + (size_t)b * ckb;
        scan_forward_ck(&si, AT, a.y + (size_t)b * T * E, (size_t)E, ck, h);
    }
    mamba_block_output_forward(s, w.out, a.y, a.xz, a.g, out, M);
}

static void m1_backward(const Sub *s, const real *x, const real *dout, real *dx, int B, int T, const real *acts,
                        real *scratch)
{
    const ModelCfg *c = s->cfg;
    M1Weights w = m1_weights(c, s->p), gw = m1_weights(c, s->g);
    int E = cfg_d_inner(c), N = c->d_state, R = cfg_dt_rank(c), P = R + 2 * N, M = B * T;
    int threads = par_max_threads();
    M1Acts a = m1_acts(c, (real *)acts, M);
    size_t EN = (size_t)E * N, ME = (size_t)M * E, ckb = scan_ckpt_size(T, E, N);
    real *AT = scratch, *dy = scratch + EN + 2 * SCAN_SKEW + (size_t)threads * m1_per_thread(c);
    real *dxz = dy + ME, *du = dxz + 2 * ME, *ddelta = du + ME, *ddbcn = ddelta + ME, *ddbc = ddbcn + (size_t)M * P;
    m1_AT(AT, w.A_log, E, N);
    for (int t = 0; t < threads; t++) { /* dA, dD; du, ddelta, ddbcn are written, not added to */
        M1Thread m = m1_thread(c, scratch, t);
        memset(m.dA, 0, sizeof(real) * EN);
        memset(m.dD, 0, sizeof(real) * E);
    }

    mamba_block_output_backward(c, w.out, gw.out, dout, a.y, a.xz, a.g, dy, dxz, M);
    /* the scan, one sequence per task; dA and dD are shared by all
     * sequences, so each thread sums its own and they are added in thread
     * order afterwards (deterministic for a given thread count) */
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        M1Thread m = m1_thread(c, scratch, par_thread_id());
        ScanIn si = m1_scan_in(c, &a, w.D, b, T);
        size_t row = (size_t)b * T;
        ScanGrad g = {du + row * E, (size_t)E, ddelta + row * E, ddbcn + row * P + R, ddbcn + row * P + R + N, m.dA, m.dD};
        scan_backward_ck(&si, AT, dy + row * E, (size_t)E, a.ck + (size_t)b * ckb, m.work, &g);
    }
    for (int t = 0; t < threads; t++) {
        M1Thread m = m1_thread(c, scratch, t);
        for (int n = 0; n < N; n++) /* dA/dA_log = A; the thread's dA is [N,E] */
            for (int e = 0; e < E; e++) gw.A_log[(size_t)e * N + n] += m.dA[(size_t)n * E + e] * AT[(size_t)n * E + e];
#pragma omp simd
        for (int e = 0; e < E; e++) gw.D[e] += m.dD[e];
    }
    /* Δ = softplus(dtp), dtp = δ W_dt^T + b_dt; b_dt's gradient is the
     * column sums, summed a row at a time so the loop runs along e */
    mamba_pass(MB_MUL_SIGMOID, M, E, ddelta, E, NULL, 0, a.dtp, E, NULL, 0);
    for (int m = 0; m < M; m++) {
        const real *dd = ddelta + (size_t)m * E;
#pragma omp simd
        for (int e = 0; e < E; e++) gw.dt_b[e] += dd[e];
    }
    cblas_xgemm(CblasRowMajor, CblasTrans, CblasNoTrans, E, R, M, 1, ddelta, E, a.dbcn, P, 1, gw.dt_w, R);
    /* δ's columns of ddbcn: overwritten (beta 0), the scan wrote B's and C's */
    cblas_xgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, R, E, 1, ddelta, E, w.dt_w, R, 0, ddbcn, P);
    /* Jamba's norms on δ, B, C */
    if (c->mamba_inner_norms) {
        memset(ddbc, 0, sizeof(real) * (size_t)M * P);
        const real *ws[3] = {w.ln_dt, w.ln_b, w.ln_c};
        real *gs[3] = {gw.ln_dt, gw.ln_b, gw.ln_c};
        int off[3] = {0, R, R + N}, len[3] = {R, N, N};
        for (int m = 0; m < M; m++)
            for (int k = 0; k < 3; k++) {
                size_t o = (size_t)m * P + off[k];
                rmsnorm_backward(ddbc + o, gs[k], ddbcn + o, a.dbc + o, ws[k], a.rstd + (size_t)m * 3 + k, 1, len[k], 0);
            }
    } else {
        ddbc = ddbcn;
    }
    /* [δ, B, C] = x_proj(u), u = SiLU(uc) */
    linear_bwd(du, gw.x, ddbc, a.u, w.x, M, P, E, 1);
    mamba_block_input_backward(c, w.in, gw.in, w.conv_w, gw.conv_w, gw.conv_b, du, a.uc, a.xz, dxz, x, dx, B, T);
}

/* state: conv window [B, K-1, E] | h [B, N, E] (transposed, as scan_forward_t keeps it) */
static size_t m1_state_size(const ModelCfg *c, int B, int ctx) { (void)ctx; return mamba_block_state_size(c, B); }

/* step scratch: xz [B,2E] | uc [B,E] | u [B,E] | dbc, dbcn [B,P] | rstd [B,3] | dtp [B,E]
 * | y, g [B,E] */
static size_t m1_step_scratch_size(const ModelCfg *c, int B, int ctx)
{
    (void)ctx;
    size_t E = cfg_d_inner(c), P = cfg_dt_rank(c) + 2 * (size_t)c->d_state;
    return (size_t)B * (7 * E + 2 * P + 3);
}

/* step constants: AT [N,E] | dt_proj's weight transposed, [R,E] */
static size_t m1_step_consts_size(const ModelCfg *c)
{
    return (size_t)cfg_d_inner(c) * ((size_t)c->d_state + cfg_dt_rank(c));
}

static void m1_step_consts(const Sub *s, real *consts)
{
    const ModelCfg *c = s->cfg;
    M1Weights w = m1_weights(c, s->p);
    int E = cfg_d_inner(c), N = c->d_state, R = cfg_dt_rank(c);
    real *dt_wT = consts + (size_t)E * N;
    m1_AT(consts, w.A_log, E, N);
    for (int k = 0; k < R; k++)
        for (int e = 0; e < E; e++) dt_wT[(size_t)k * E + e] = w.dt_w[(size_t)e * R + k];
}

/* one token of sequence b's scan, from the step's scratch into its state */
static void m1_step_scan(const ModelCfg *c, const M1Weights *w, const real *AT, const real *u, const real *dtp,
                         const real *dbcn, real *y, real *hs, int b)
{
    int E = cfg_d_inner(c), N = c->d_state, R = cfg_dt_rank(c), P = R + 2 * N;
    ScanIn si = {1, E, N, u + (size_t)b * E, (size_t)E, dtp + (size_t)b * E, (size_t)E, dbcn + (size_t)b * P + R,
                 dbcn + (size_t)b * P + R + N, (size_t)P, 0, NULL, w->D};
    scan_forward_t(&si, AT, y + (size_t)b * E, 0, hs + (size_t)b * E * N);
}

static void m1_step(const Sub *s, const real *x, real *out, int B, int pos, int ctx, real *state, real *scratch)
{
    (void)pos; (void)ctx;
    const ModelCfg *c = s->cfg;
    M1Weights w = m1_weights(c, s->p);
    int D = c->d_model, E = cfg_d_inner(c), N = c->d_state, R = cfg_dt_rank(c), P = R + 2 * N, K = c->d_conv;
    size_t EN = (size_t)E * N;
    real *xz = scratch, *uc = xz + (size_t)B * 2 * E;
    real *u = uc + (size_t)B * E;
    real *dbc = u + (size_t)B * E, *dbcn = dbc + (size_t)B * P, *rstd = dbcn + (size_t)B * P, *dtp = rstd + (size_t)B * 3;
    real *y = dtp + (size_t)B * E, *g = y + (size_t)B * E;
    real *windows = state, *hs = state + (size_t)B * (K - 1) * E;
    const real *AT = s->consts; /* step constants, made once per sequence by the Decoder: per token, AT alone
                                 * was 28% of a 2-layer d_model 64 Mamba's step */
    int IW = mamba_block_in_width(c);
    sub_linear(s, xz, x, w.in, B, IW, D, 0);
    for (int b = 0; b < B; b++)
        conv1d_step(uc + (size_t)b * E, xz + (size_t)b * IW, windows + (size_t)b * (K - 1) * E, w.conv_w, w.conv_b, E, K);
    mamba_pass(MB_SILU, B, E, u, E, NULL, 0, uc, E, NULL, 0); /* the forward's passes, rounded as it rounds */
    sub_linear(s, dbc, u, w.x, B, P, E, 0);
    m1_norm_dbc(c, &w, dbc, dbcn, rstd, B);
    m1_dt_proj(dtp, dbcn, &w, AT + EN, B, E, R, P);
    mamba_pass(MB_SOFTPLUS, B, E, dtp, E, NULL, 0, dtp, E, NULL, 0);
    /* the scan is most of a small model's step: sequences split over the
     * threads once there is enough of it to pay for waking them. One token
     * of the training scan (decays inline, AVX-512 where the CPU has it)
     * rather than scan_step_t's separate exp pass over E·N scratch: at
     * batch 16 that pass and its traffic were 16% of a Mamba-130M step. */
    if (16.0 * B * EN >= PAR_MIN_WORK) { /* an exp and three multiply-adds a state element: ~16 */
#pragma omp parallel for schedule(static)
        for (int b = 0; b < B; b++) m1_step_scan(c, &w, AT, u, dtp, dbcn, y, hs, b);
    } else /* on this thread, outside any `omp parallel` (even an if (false) one builds a team) */
        for (int b = 0; b < B; b++) m1_step_scan(c, &w, AT, u, dtp, dbcn, y, hs, b);
    mamba_block_output_forward(s, w.out, y, xz, g, out, B);
}

/* After a prefill: the conv window from in_proj's u half, and h from the
 * scan run again over the saved u, Δ, B, C (forward keeps no final state:
 * its per-thread h serves several sequences); scan_forward_t leaves h in
 * the step's [N, E] layout, straight in the decode state. */
static void m1_prefill_state(const Sub *s, int B, int T, const real *acts, real *scratch, real *state, int Bs, int b0,
                             int ctx)
{
    (void)ctx;
    const ModelCfg *c = s->cfg;
    M1Weights w = m1_weights(c, s->p);
    int E = cfg_d_inner(c), N = c->d_state, K = c->d_conv;
    size_t EN = (size_t)E * N;
    M1Acts a = m1_acts(c, (real *)acts, B * T);
    real *AT = scratch, *y = AT + EN; /* forward's scratch holds far more: its per-thread blocks */
    m1_AT(AT, w.A_log, E, N);
    for (int b = 0; b < B; b++) {
        size_t sb = (size_t)(b0 + b);
        int IW = mamba_block_in_width(c);
        conv1d_window_after(state + sb * (K - 1) * E, a.xz + (size_t)b * T * IW, IW, T, E, K);
        ScanIn si = m1_scan_in(c, &a, w.D, b, T);
        real *hT = state + (size_t)Bs * (K - 1) * E + sb * EN;
        memset(hT, 0, sizeof(real) * EN);
        scan_forward_t(&si, AT, y, 0, hT);
    }
}

static double m1_flops(const ModelCfg *c, int T)
{
    (void)T;
    double D = c->d_model, E = cfg_d_inner(c), N = c->d_state, R = cfg_dt_rank(c), K = c->d_conv;
    /* projections + conv + scan (about 6 flops per state element: decay, update, readout) */
    return 2 * D * mamba_block_in_width(c) + 2 * K * E + 2 * E * (R + 2 * N) + 2 * R * E + 6 * E * N + 2 * E * D;
}

const SubOps mamba1_ops = {
    .name = "mamba1", .symbol = 'M', .tensors = m1_tensors, .init = m1_init,
    .act_size = m1_act_size, .scratch_size = m1_scratch_size, .infer_act_size = m1_infer_act_size, .forward = m1_forward,
    .backward = m1_backward, .step = m1_step,
    .state_size = m1_state_size, .state_first = mamba_block_state_first,
    .step_scratch_size = m1_step_scratch_size, .step_consts_size = m1_step_consts_size,
    .step_consts = m1_step_consts, .flops = m1_flops, .prefill_state = m1_prefill_state,
};
