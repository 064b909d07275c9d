/* Gated MLP (`-`), DESIGN §4:  y = down( act(gate(x)) ⊙ up(x) )
 * act = SiLU (SwiGLU, Llama) or tanh-approximated GeLU (GeGLU, Griffin);
 * with mlp_bias (RecurrentGemma) each projection has a bias.
 * Position-wise, so `step` is `forward` on B rows and needs no state. */
#include <string.h>
#include <tgmath.h>

#include "models/layers/activations.h"
#include "models/layers/tensors.h"

typedef struct { real *gate, *up, *down, *gate_b, *up_b, *down_b; } MlpWeights;

static int mlp_tensors(const ModelCfg *c, TensorDesc *t)
{
    int n = 0;
    size_t off = 0;
    tensor_add(t, &n, &off, "gate_proj.weight", c->d_ff, c->d_model);
    tensor_add(t, &n, &off, "up_proj.weight", c->d_ff, c->d_model);
    tensor_add(t, &n, &off, "down_proj.weight", c->d_model, c->d_ff);
    if (c->mlp_bias) {
        tensor_add(t, &n, &off, "gate_proj.bias", c->d_ff, 0);
        tensor_add(t, &n, &off, "up_proj.bias", c->d_ff, 0);
        tensor_add(t, &n, &off, "down_proj.bias", c->d_model, 0);
    }
    return n;
}

static MlpWeights mlp_weights(const ModelCfg *c, real *p)
{
    size_t DF = (size_t)c->d_model * c->d_ff;
    real *b = c->mlp_bias ? p + 3 * DF : NULL;
    MlpWeights w = {p, p + DF, p + 2 * DF, b, b ? b + c->d_ff : NULL, b ? b + 2 * c->d_ff : NULL};
    return w;
}

static void mlp_init(const Sub *s, Rng *r) { (void)s; (void)r; }

/* acts: up [M,F] | a = act(gate) [M,F] | act'(gate) [M,F] | h = a ⊙ up [M,F].
 * Saving act' costs one more [M,F] buffer but keeps exp/tanh out of backward. */
static size_t mlp_act_size(const ModelCfg *c, int B, int T) { return 4 * (size_t)B * T * c->d_ff; }
/* scratch: gate, later dh then dgate [M,F] | dup [M,F] */
static size_t mlp_scratch_size(const ModelCfg *c, int B, int T) { return 2 * (size_t)B * T * c->d_ff; }

/* a = act(gate), da = act'(gate), h = a ⊙ up over elements i0.. of n, a
 * block at a time, each a branch-free SIMD loop for SiLU: with the branch on
 * the activation inside, the loop stayed scalar (one exp call an element)
 * and was 10% of a d_model 64 Transformer's training step */
#define MLP_BLOCK 4096
static void mlp_act_block(Activation act, const real *gate, const real *up, real *a, real *da, real *h, size_t i0,
                          size_t n)
{
    size_t i1 = n - i0 < MLP_BLOCK ? n : i0 + MLP_BLOCK;
    if (act == ACT_SILU) {
#pragma omp simd
        for (size_t i = i0; i < i1; i++) {
            real g = gate[i], sg = sigmoid(g);
            da[i] = sg * (1 + g * (1 - sg));
            a[i] = g * sg;
            h[i] = a[i] * up[i];
        }
    } else { /* GeLU: gelu_tanh is branch-free too (tanh through expm1), so this vectorises as well */
#pragma omp simd
        for (size_t i = i0; i < i1; i++) {
            a[i] = gelu_tanh(gate[i], &da[i]);
            h[i] = a[i] * up[i];
        }
    }
}

static void mlp_forward(const Sub *s, const real *x, real *y, int B, int T, real *acts, real *scratch)
{
    const ModelCfg *c = s->cfg;
    MlpWeights w = mlp_weights(c, s->p);
    int M = B * T, D = c->d_model, F = c->d_ff;
    size_t n = (size_t)M * F;
    real *up = acts, *a = up + n, *da = a + n, *h = da + n, *gate = scratch;
    if (M == 1) { /* decode: gate and up lie one after the other, so one pass over both (one wake-up, not two) */
        sub_linear(s, gate, x, w.gate, 1, 2 * F, D, 0); /* scratch holds 2F: gate, then up */
        memcpy(up, gate + F, sizeof(real) * F);
    } else {
        sub_linear(s, gate, x, w.gate, M, F, D, 0);
        sub_linear(s, up, x, w.up, M, F, D, 0);
    }
    bias_fwd(gate, w.gate_b, M, F);
    bias_fwd(up, w.up_b, M, F);
    Activation act = c->mlp_act;
    if (16.0 * n >= PAR_MIN_WORK) { /* an exp or tanh an element: ~16 multiply-adds */
#pragma omp parallel for schedule(static)
        for (size_t i0 = 0; i0 < n; i0 += MLP_BLOCK) mlp_act_block(act, gate, up, a, da, h, i0, n);
    } else /* even an `omp parallel if (false)` builds a team: 0.4 us a decode step */
        for (size_t i0 = 0; i0 < n; i0 += MLP_BLOCK) mlp_act_block(act, gate, up, a, da, h, i0, n);
    sub_linear(s, y, h, w.down, M, D, F, 0);
    bias_fwd(y, w.down_b, M, D);
}

/* dup = dh ⊙ a and dh -> dgate = dh ⊙ up ⊙ act'(gate), over elements i0.. of n, a block at a time */
static void mlp_dgate_block(real *dh, real *dup, const real *a, const real *up, const real *da, size_t i0, size_t n)
{
    size_t i1 = n - i0 < MLP_BLOCK ? n : i0 + MLP_BLOCK;
#pragma omp simd
    for (size_t i = i0; i < i1; i++) {
        dup[i] = dh[i] * a[i];
        dh[i] = dh[i] * up[i] * da[i];
    }
}

static void mlp_backward(const Sub *s, const real *x, const real *dy, real *dx, int B, int T,
                         const real *acts, real *scratch)
{
    const ModelCfg *c = s->cfg;
    MlpWeights w = mlp_weights(c, s->p), gw = mlp_weights(c, s->g);
    int M = B * T, D = c->d_model, F = c->d_ff;
    size_t n = (size_t)M * F;
    const real *up = acts, *a = up + n, *da = a + n, *h = da + n;
    real *dh = scratch, *dup = dh + n;
    linear_bwd(dh, gw.down, dy, h, w.down, M, D, F, 0);
    bias_bwd(gw.down_b, dy, M, D);
    if (4.0 * n >= PAR_MIN_WORK) {
#pragma omp parallel for schedule(static)
        for (size_t i0 = 0; i0 < n; i0 += MLP_BLOCK) mlp_dgate_block(dh, dup, a, up, da, i0, n);
    } else
        for (size_t i0 = 0; i0 < n; i0 += MLP_BLOCK) mlp_dgate_block(dh, dup, a, up, da, i0, n);
    bias_bwd(gw.gate_b, dh, M, F);
    bias_bwd(gw.up_b, dup, M, F);
    linear_bwd(dx, gw.gate, dh, x, w.gate, M, F, D, 0);
    linear_bwd(dx, gw.up, dup, x, w.up, M, F, D, 1);
}

static size_t mlp_state_size(const ModelCfg *c, int B, int ctx) { (void)c; (void)B; (void)ctx; return 0; }
static size_t mlp_step_scratch_size(const ModelCfg *c, int B, int ctx)
{
    (void)ctx;
    return mlp_act_size(c, B, 1) + mlp_scratch_size(c, B, 1);
}

static void mlp_step(const Sub *s, const real *x, real *y, int B, int pos, int ctx, real *state, real *scratch)
{
    (void)pos; (void)ctx; (void)state;
    mlp_forward(s, x, y, B, 1, scratch, scratch + mlp_act_size(s->cfg, B, 1));
}

static double mlp_flops(const ModelCfg *c, int T) { (void)T; return 6.0 * c->d_model * c->d_ff; }

const SubOps mlp_ops = {
    .name = "mlp", .symbol = '-', .tensors = mlp_tensors, .init = mlp_init,
    .act_size = mlp_act_size, .scratch_size = mlp_scratch_size, .forward = mlp_forward,
    .backward = mlp_backward, .state_size = mlp_state_size, .step = mlp_step,
    .step_scratch_size = mlp_step_scratch_size, .flops = mlp_flops,
};
