/* Mamba block with an LTI SSM (`M`, variant lti), DESIGN §4: the "Mamba with
 * S4 layer" row of Mamba Table 1. The block is mamba1.c's; only the SSM's
 * Δ, B and C stop depending on the input (S4D-real-like), so there is no
 * x_proj and no dt_proj.
 *   [u, z] = in_proj(x)                                     D -> 2E
 *   u      = SiLU(conv1d_K(u) + b)                          causal, depthwise
 *   Δ[e]   = softplus(dt_bias[e]),  A = -exp(A_log)         parameters only
 *   h_t[e,n] = exp(Δ[e]·A[e,n])·h_{t-1}[e,n] + Δ[e]·B[e,n]·u_t[e]
 *   y_t[e]   = Σ_n C[e,n]·h_t[e,n] + D[e]·u_t[e]
 *   out    = out_proj(y ⊙ SiLU(z))                          E -> D
 * With mamba_no_gate, Mamba Table 1's "S4, No gate" row (mamba_block.h):
 * in_proj makes u alone (D -> E) and out = out_proj(y).
 * Training and prefill run lti_scan.h's scan (the decays once per call,
 * channels innermost); decode runs selective_scan.h's scan_forward with Δ
 * stride 0 over t and B/C strides (t: 0, e: N). Decode state: the conv
 * window (K-1)·E and h (E·N). */
#include <string.h>
#include <tgmath.h>

#include "core/parallel.h"
#include "models/layers/activations.h"
#include "models/layers/conv1d.h"
#include "models/layers/mamba_block.h"
#include "models/layers/lti_scan.h"
#include "models/layers/selective_scan.h"
#include "models/layers/tensors.h"

typedef struct { real *in, *conv_w, *conv_b, *dt_b, *B, *C, *A_log, *D, *out; } LtiWeights;

static int lti_tensors(const ModelCfg *c, TensorDesc *t)
{
    int n = 0, D = c->d_model, E = cfg_d_inner(c), N = c->d_state, K = c->d_conv;
    size_t off = 0;
    tensor_add(t, &n, &off, "in_proj.weight", mamba_block_in_width(c), D);
    tensor_add_conv(t, &n, &off, "conv1d.weight", E, K);
    tensor_add(t, &n, &off, "conv1d.bias", E, 0);
    tensor_add(t, &n, &off, "dt_bias", E, 0);
    /* B and C are the SSM's own parameters, as A_log and D are, not a map of
     * the input: decay would pull B (the state's input) and C (its readout)
     * to zero and so switch the SSM path off in favour of the D skip. */
    tensor_add(t, &n, &off, "B", E, N)->decay = 0;
    tensor_add(t, &n, &off, "C", E, N)->decay = 0;
    tensor_add(t, &n, &off, "A_log", E, N)->decay = 0; /* as mamba_ssm: no weight decay on A_log, D */
    tensor_add(t, &n, &off, "D", E, 0);
    tensor_add(t, &n, &off, "out_proj.weight", D, E);
    return n;
}

static LtiWeights lti_weights(const ModelCfg *c, real *p)
{
    TensorDesc t[16]; /* this family has at most 13 tensors */
    lti_tensors(c, t);
    real *q[9];
    for (int i = 0; i < 9; i++) q[i] = p + t[i].offset;
    LtiWeights w = {q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8]};
    return w;
}

/* A_log[e,n] = log(n+1) (S4D-real), D = 1, dt_bias the inverse softplus of
 * dt = exp(U(ln 0.001, ln 0.1)) clamped at 1e-4 (as mamba1.c), B = 1 (S4D).
 * C ~ N(0, 1), S4D's scale, not N(0, 1/N): the readout is no fan-in of N
 * comparable entries. With B = 1 and A = -(n+1) a steady input u drives
 * state n to Δu/(1 - exp(-Δ(n+1))) ≈ u/(n+1) (Δ ≤ 0.1), so Σ_n h[n]² stays
 * near (π²/6)u² whatever N: unit-variance C makes the SSM path O(1), like the
 * D skip, where 1/N would shrink it by √N for no reason. */
static void lti_init(const Sub *s, Rng *r)
{
    const ModelCfg *c = s->cfg;
    LtiWeights w = lti_weights(c, s->p);
    int E = cfg_d_inner(c), N = c->d_state;
    for (int e = 0; e < E; e++) {
        for (int n = 0; n < N; n++) {
            size_t i = (size_t)e * N + n;
            w.A_log[i] = (real)log((double)(n + 1));
            w.B[i] = 1;
            w.C[i] = (real)rng_normal(r);
        }
        w.D[e] = 1;
        double dt = exp(log(0.001) + rng_uniform(r) * (log(0.1) - log(0.001)));
        dt = dt < 1e-4 ? 1e-4 : dt;
        w.dt_b[e] = (real)(dt + log(-expm1(-dt)));
    }
    if (c->mamba_init_ssm) mamba_block_init_ssm(c, w.in, w.conv_w, w.conv_b, NULL, 0, w.out, r);
}


/* A = -exp(A_log) [E,N] and Δ = softplus(dt_bias) [E]: once per call, shared by every token (decode) */
static void lti_params(const ModelCfg *c, const LtiWeights *w, real *A, real *delta)
{
    int E = cfg_d_inner(c), N = c->d_state;
    neg_exp(A, w->A_log, (size_t)E * N);
    for (int e = 0; e < E; e++) delta[e] = softplus(w->dt_b[e]);
}

/* acts, per M = B·T rows: xz [M,2E] (rows IW = mamba_block_in_width apart: E without the gate) | uc [M,E] | u [M,E] | y [M,E] | g [M,E] | hs [M,N,E] (each token's state
 * transposed, as lti_scan_forward_t saves it) */
typedef struct { real *xz, *uc, *u, *y, *g, *hs; } LtiActs;

static LtiActs lti_acts(const ModelCfg *c, real *a, int M)
{
    size_t ME = (size_t)M * cfg_d_inner(c);
    LtiActs x = {a, a + 2 * ME, a + 3 * ME, a + 4 * ME, a + 5 * ME, a + 6 * ME};
    return x;
}

static size_t lti_act_size(const ModelCfg *c, int B, int T)
{
    size_t M = (size_t)B * T, E = cfg_d_inner(c);
    return M * 6 * E + M * E * c->d_state;
}

/* inference keeps no per-step states hs */
static size_t lti_infer_act_size(const ModelCfg *c, int B, int T) { return (size_t)B * T * 6 * cfg_d_inner(c); }

/* scratch: AT, BT, CT, decT [N,E] | Δ [E] | per thread: dA, dB, dC [N,E], dΔ, dD [E], dh [N,E] | dy [M,E]
 * | dxz [M,2E] | du [M,E] */
static size_t lti_per_thread(const ModelCfg *c) { size_t E = cfg_d_inner(c); return 4 * E * c->d_state + 2 * E; }

static size_t lti_scratch_size(const ModelCfg *c, int B, int T)
{
    size_t M = (size_t)B * T, E = cfg_d_inner(c);
    return 4 * E * c->d_state + E + (size_t)par_max_threads() * lti_per_thread(c) + M * 4 * E;
}

/* The SSM's parameters in the scan's layout, once per call: A = -exp(A_log),
 * B, C transposed to [N,E], Δ = softplus(dt_bias) and the decays exp(Δ·A).
 * p: 4·E·N + E reals (AT | BT | CT | decT | Δ). */
static LtiScanIn lti_params_t(const ModelCfg *c, const LtiWeights *w, real *p)
{
    int E = cfg_d_inner(c), N = c->d_state;
    size_t EN = (size_t)E * N;
    real *AT = p, *BT = AT + EN, *CT = BT + EN, *decT = CT + EN, *delta = decT + EN;
    for (int e = 0; e < E; e++) {
        delta[e] = softplus(w->dt_b[e]);
        for (int n = 0; n < N; n++) {
            size_t i = (size_t)e * N + n, j = (size_t)n * E + e;
            AT[j] = w->A_log[i];
            BT[j] = w->B[i];
            CT[j] = w->C[i];
        }
    }
    neg_exp(AT, AT, EN);
    lti_scan_decays(decT, delta, AT, E, N);
    LtiScanIn si = {0, E, N, NULL, (size_t)E, delta, w->D, AT, BT, CT, decT};
    return si;
}

static void lti_forward(const Sub *s, const real *x, real *out, int B, int T, real *acts, real *scratch)
{
    const ModelCfg *c = s->cfg;
    LtiWeights w = lti_weights(c, s->p);
    int D = c->d_model, E = cfg_d_inner(c), IW = mamba_block_in_width(c), M = B * T;
    size_t EN = (size_t)E * c->d_state, per = lti_per_thread(c);
    LtiActs a = lti_acts(c, acts, M);
    real *per_thread = scratch + 4 * EN + E;
    LtiScanIn p = lti_params_t(c, &w, scratch);
    sub_linear(s, a.xz, x, w.in, M, IW, D, 0);
    conv1d_forward(a.uc, E, a.xz, IW, w.conv_w, w.conv_b, B, T, E, c->d_conv);
#pragma omp simd
    for (size_t i = 0; i < (size_t)M * E; i++) a.u[i] = silu(a.uc[i]);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        size_t row = (size_t)b * T;
        LtiScanIn si = p;
        si.T = T;
        si.u = a.u + row * E;
        real *h = per_thread + (size_t)par_thread_id() * per + 3 * EN + 2 * (size_t)E; /* the thread's dh */
        memset(h, 0, sizeof(real) * EN);
        lti_scan_forward_t(&si, a.y + row * E, (size_t)E, s->inference ? NULL : a.hs + row * EN, h);
    }
    mamba_block_output_forward(s, w.out, a.y, a.xz, a.g, out, M);
}

static void lti_backward(const Sub *s, const real *x, const real *dout, real *dx, int B, int T, const real *acts,
                         real *scratch)
{
    const ModelCfg *c = s->cfg;
    LtiWeights w = lti_weights(c, s->p), gw = lti_weights(c, s->g);
    int E = cfg_d_inner(c), N = c->d_state, M = B * T, threads = par_max_threads();
    LtiActs a = lti_acts(c, (real *)acts, M);
    size_t EN = (size_t)E * N, per = lti_per_thread(c), ME = (size_t)M * E;
    real *per_thread = scratch + 4 * EN + E, *dy = per_thread + (size_t)threads * per;
    real *dxz = dy + ME, *du = dxz + 2 * ME; /* du: written by the scan, not added to */
    LtiScanIn p = lti_params_t(c, &w, scratch);
    memset(per_thread, 0, sizeof(real) * (size_t)threads * per);

    mamba_block_output_backward(c, w.out, gw.out, dout, a.y, a.xz, a.g, dy, dxz, M);
    /* The scan, one sequence per task. dΔ, dB, dC, dA and dD are shared by
     * every sequence and token, so each thread sums its own (4·E·N + 2·E
     * reals, small beside the activations) and they are added in thread
     * order afterwards: no race, no atomics, deterministic for a given
     * thread count, and the sequences still run in parallel as in mamba1.c.
     * du rows are per sequence and written directly. */
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        real *mine = per_thread + (size_t)par_thread_id() * per;
        size_t row = (size_t)b * T;
        LtiScanIn si = p;
        si.T = T;
        si.u = a.u + row * E;
        LtiScanGrad g = {du + row * E, (size_t)E, mine + 3 * EN, mine + 3 * EN + E, mine, mine + EN, mine + 2 * EN};
        lti_scan_backward_t(&si, dy + row * E, (size_t)E, a.hs + row * EN, mine + 3 * EN + 2 * (size_t)E, &g);
    }
    for (int t = 0; t < threads; t++) {
        const real *mine = per_thread + (size_t)t * per;
        for (int n = 0; n < N; n++) /* mine's dA, dB, dC are [N,E]; dA/dA_log = A */
            for (int e = 0; e < E; e++) {
                size_t i = (size_t)e * N + n, j = (size_t)n * E + e;
                gw.A_log[i] += mine[j] * p.AT[j];
                gw.B[i] += mine[EN + j];
                gw.C[i] += mine[2 * EN + j];
            }
        for (int e = 0; e < E; e++) {
            gw.dt_b[e] += mine[3 * EN + e] * sigmoid(w.dt_b[e]); /* softplus' = sigmoid */
            gw.D[e] += mine[3 * EN + E + e];
        }
    }
    mamba_block_input_backward(c, w.in, gw.in, w.conv_w, gw.conv_w, gw.conv_b, du, a.uc, a.xz, dxz, x, dx, B, T);
}

/* decode's scan: selective_scan.h's loop with the LTI strides */
static ScanIn lti_scan_in(const ModelCfg *c, const real *u, const real *delta, const LtiWeights *w, const real *A, int T)
{
    int E = cfg_d_inner(c), N = c->d_state;
    ScanIn s = {T, E, N, u, (size_t)E, delta, 0, w->B, w->C, 0, (size_t)N, A, w->D};
    return s;
}

/* state: conv window [B, K-1, E] | h [B, E, N] */
static size_t lti_state_size(const ModelCfg *c, int B, int ctx) { (void)ctx; return mamba_block_state_size(c, B); }

/* step scratch: A [E,N] | Δ [E] | xz [B,2E] | uc [B,E] | u [B,E] | y [B,E] | g [B,E] */
static size_t lti_step_scratch_size(const ModelCfg *c, int B, int ctx)
{
    (void)ctx;
    size_t E = cfg_d_inner(c);
    return E * c->d_state + E + (size_t)B * 6 * E;
}

static void lti_step(const Sub *s, const real *x, real *out, int B, int pos, int ctx, real *state, real *scratch)
{
    (void)pos; (void)ctx;
    const ModelCfg *c = s->cfg;
    LtiWeights w = lti_weights(c, s->p);
    int D = c->d_model, E = cfg_d_inner(c), IW = mamba_block_in_width(c), K = c->d_conv;
    size_t EN = (size_t)E * c->d_state;
    real *A = scratch, *delta = A + EN, *xz = delta + E, *uc = xz + (size_t)B * 2 * E, *u = uc + (size_t)B * E;
    real *y = u + (size_t)B * E, *g = y + (size_t)B * E;
    real *windows = state, *hs = state + (size_t)B * (K - 1) * E;
    lti_params(c, &w, A, delta);
    sub_linear(s, xz, x, w.in, B, IW, D, 0);
    for (int b = 0; b < B; b++)
        conv1d_step(uc + (size_t)b * E, xz + (size_t)b * IW, windows + (size_t)b * (K - 1) * E, w.conv_w, w.conv_b, E, K);
    for (size_t i = 0; i < (size_t)B * E; i++) u[i] = silu(uc[i]);
    for (int b = 0; b < B; b++) {
        ScanIn si = lti_scan_in(c, u + (size_t)b * E, delta, &w, A, 1);
        scan_forward(&si, y + (size_t)b * E, 0, NULL, hs + (size_t)b * EN);
    }
    mamba_block_output_forward(s, w.out, y, xz, g, out, B);
}

/* After a prefill: the conv window from in_proj's u half, and h from the
 * scan run again over the saved u (forward keeps no final state). */
static void lti_prefill_state(const Sub *s, int B, int T, const real *acts, real *scratch, real *state, int Bs, int b0,
                              int ctx)
{
    (void)ctx;
    const ModelCfg *c = s->cfg;
    LtiWeights w = lti_weights(c, s->p);
    int E = cfg_d_inner(c), IW = mamba_block_in_width(c), K = c->d_conv;
    size_t EN = (size_t)E * c->d_state;
    LtiActs a = lti_acts(c, (real *)acts, B * T);
    real *A = scratch, *delta = A + EN, *y = delta + E; /* forward's scratch holds far more */
    lti_params(c, &w, A, delta);
    for (int b = 0; b < B; b++) {
        size_t sb = (size_t)(b0 + b), row = (size_t)b * T;
        conv1d_window_after(state + sb * (K - 1) * E, a.xz + row * IW, IW, T, E, K);
        real *h = state + (size_t)Bs * (K - 1) * E + sb * EN;
        memset(h, 0, sizeof(real) * EN);
        ScanIn si = lti_scan_in(c, a.u + row * E, delta, &w, A, T);
        scan_forward(&si, y, (size_t)E, NULL, h);
    }
}

static double lti_flops(const ModelCfg *c, int T)
{
    (void)T;
    double D = c->d_model, E = cfg_d_inner(c), N = c->d_state, K = c->d_conv;
    /* projections + conv + scan (about 6 flops per state element: decay, update, readout) */
    return 2 * D * mamba_block_in_width(c) + 2 * K * E + 6 * E * N + 2 * E * D;
}

const SubOps mamba_lti_ops = {
    .name = "mamba_lti", .symbol = 'M', .tensors = lti_tensors, .init = lti_init,
    .act_size = lti_act_size, .scratch_size = lti_scratch_size, .infer_act_size = lti_infer_act_size, .forward = lti_forward,
    .backward = lti_backward, .step = lti_step, .prefill_state = lti_prefill_state,
    .state_size = lti_state_size, .state_first = mamba_block_state_first,
    .step_scratch_size = lti_step_scratch_size, .flops = lti_flops,
};
