/* Causal self-attention: `*` (global) and `L` (sliding window), DESIGN §4.
 *
 *   q = x Wq^T, k = x Wk^T, v = x Wv^T        H query heads, G kv heads, head_dim d
 *   q, k <- RoPE(q, k)                        unless the model has no positional encoding
 *   o_h  = softmax(q_h k_g^T / sqrt(d) + mask) v_g,   g = h / (H/G)   (GQA; G = 1 is MQA)
 *   y    = o Wo^T
 *
 * The mask lets the query at t see keys lo(t)..t with lo = 0 for `*` and
 * lo = t - window for `L` (window + 1 keys, the current one included, as the
 * official Griffin code's q <= k + window). Decode keeps a KV cache; for `L`
 * it is a ring of window + 1 slots, so the state stays bounded.
 *
 * Both forwards run the tiled head kernel (online softmax over blocks of
 * keys); training also saves each query's log-sum-exp (B·H·T reals), from
 * which the tiled backward remakes the probabilities block by block, so
 * neither pass holds a T×T block. */
#include <tgmath.h>
#include <string.h>

#include "core/parallel.h"
#include "models/layers/attn_head.h"
#include "models/layers/rope.h"
#include "models/layers/tensors.h"

typedef struct { real *wq, *wk, *wv, *wo, *bo; } AttnWeights;

static int attn_tensors(const ModelCfg *c, TensorDesc *t)
{
    int n = 0, D = c->d_model, qd = c->n_heads * c->head_dim, kvd = c->n_kv_heads * c->head_dim;
    size_t off = 0;
    tensor_add(t, &n, &off, "q_proj.weight", qd, D);
    tensor_add(t, &n, &off, "k_proj.weight", kvd, D);
    tensor_add(t, &n, &off, "v_proj.weight", kvd, D);
    tensor_add(t, &n, &off, "o_proj.weight", D, qd);
    if (c->attn_out_bias) tensor_add(t, &n, &off, "o_proj.bias", D, 0); /* RecurrentGemma */
    return n;
}

static AttnWeights attn_weights(const ModelCfg *c, real *p)
{
    size_t D = c->d_model, qd = (size_t)c->n_heads * c->head_dim, kvd = (size_t)c->n_kv_heads * c->head_dim;
    real *wo = p + (qd + 2 * kvd) * D;
    AttnWeights w = {p, p + qd * D, p + (qd + kvd) * D, wo, c->attn_out_bias ? wo + qd * D : NULL};
    return w;
}

static int attn_window(const Sub *s) { return s->ops->symbol == 'L' ? s->cfg->window : 0; }
static int attn_rot(const ModelCfg *c) { return c->pos_encoding == POS_ROPE ? cfg_rotary_dim(c) : 0; }

static void attn_init(const Sub *s, Rng *r) { (void)s; (void)r; /* N(0, 0.02) from the model */ }

/* acts: q [B,T,H,d] (rotated) | k [B,T,G,d] (rotated) | v [B,T,G,d] | o [B,T,H,d] | lse [B,H,T] */
static size_t attn_act_size(const ModelCfg *c, int B, int T)
{
    size_t M = (size_t)B * T, qd = (size_t)c->n_heads * c->head_dim, kvd = (size_t)c->n_kv_heads * c->head_dim;
    return M * (2 * qd + 2 * kvd) + (size_t)B * c->n_heads * T;
}

static size_t attn_infer_act_size(const ModelCfg *c, int B, int T)
{
    size_t M = (size_t)B * T, qd = (size_t)c->n_heads * c->head_dim, kvd = (size_t)c->n_kv_heads * c->head_dim;
    return M * (2 * qd + 2 * kvd);
}

/* per-thread scratch of the head kernels, O(T·d) for backward (its dQ)
 * and O(blocks) for the forward: no T x T block, so an arena grows
 * linearly in T. (scratch_size is asked without knowing whether a
 * backward will run, so it holds the larger.) */
static size_t attn_thread_scratch(const ModelCfg *c, int T)
{
    size_t train = attn_head_backward_tiled_scratch(T, c->head_dim), tiled = attn_head_tiled_scratch(c->head_dim);
    return train > tiled ? train : tiled;
}

/* scratch: rope table [T, rot] | dO [M,qd] | dq [M,qd] | dk, dv [M,kvd] | per thread, attn_thread_scratch */
static size_t attn_scratch_size(const ModelCfg *c, int B, int T)
{
    size_t M = (size_t)B * T, qd = (size_t)c->n_heads * c->head_dim, kvd = (size_t)c->n_kv_heads * c->head_dim;
    return (size_t)T * attn_rot(c) + M * (2 * qd + 2 * kvd) + (size_t)par_max_threads() * attn_thread_scratch(c, T);
}

static void attn_forward(const Sub *s, const real *x, real *y, int B, int T, real *acts, real *scratch)
{
    const ModelCfg *c = s->cfg;
    AttnWeights w = attn_weights(c, s->p);
    int D = c->d_model, H = c->n_heads, G = c->n_kv_heads, d = c->head_dim, W = attn_window(s), rot = attn_rot(c);
    int qd = H * d, kvd = G * d, M = B * T;
    real *q = acts, *k = q + (size_t)M * qd, *v = k + (size_t)M * kvd, *o = v + (size_t)M * kvd;
    real *lse = o + (size_t)M * qd, *cs = scratch;
    real scale = 1 / sqrt((real)d);

    sub_linear(s, q, x, w.wq, M, qd, D, 0);
    sub_linear(s, k, x, w.wk, M, kvd, D, 0);
    sub_linear(s, v, x, w.wv, M, kvd, D, 0);
    if (rot) {
        rope_table(cs, T, rot, c->rope_theta);
        for (int m = 0; m < M; m++) {
            rope_apply(q + (size_t)m * qd, H, d, rot, cs + (size_t)(m % T) * rot);
            rope_apply(k + (size_t)m * kvd, G, d, rot, cs + (size_t)(m % T) * rot);
        }
    }
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            int g = h / (H / G);
            const real *qh = q + (size_t)b * T * qd + (size_t)h * d;
            const real *kg = k + (size_t)b * T * kvd + (size_t)g * d;
            const real *vg = v + (size_t)b * T * kvd + (size_t)g * d;
            real *mine = scratch + (size_t)T * rot + (size_t)M * (2 * qd + 2 * kvd) +
                         (size_t)par_thread_id() * attn_thread_scratch(c, T);
            /* the log-sum-exp for backward, none at inference */
            real *lh = s->inference ? NULL : lse + ((size_t)b * H + h) * T;
            attn_head_forward_tiled(qh, qd, kg, kvd, vg, kvd, o + (size_t)b * T * qd + (size_t)h * d, qd, lh, T, d, W,
                                    scale, mine);
        }
    sub_linear(s, y, o, w.wo, M, D, qd, 0);
    bias_fwd(y, w.bo, M, D);
}

static void attn_backward(const Sub *s, const real *x, const real *dy, real *dx, int B, int T,
                          const real *acts, real *scratch)
{
    const ModelCfg *c = s->cfg;
    AttnWeights w = attn_weights(c, s->p), gw = attn_weights(c, s->g);
    int D = c->d_model, H = c->n_heads, G = c->n_kv_heads, d = c->head_dim, rot = attn_rot(c);
    int qd = H * d, kvd = G * d, M = B * T, per_group = H / G;
    const real *q = acts, *k = q + (size_t)M * qd, *v = k + (size_t)M * kvd, *o = v + (size_t)M * kvd;
    const real *lse = o + (size_t)M * qd;
    real *cs = scratch, *dO = cs + (size_t)T * rot, *dq = dO + (size_t)M * qd, *dk = dq + (size_t)M * qd;
    real *dv = dk + (size_t)M * kvd, *mine_all = dv + (size_t)M * kvd;
    int W = attn_window(s);
    real scale = 1 / sqrt((real)d);

    linear_bwd(dO, gw.wo, dy, o, w.wo, M, D, qd, 0);
    bias_bwd(gw.bo, dy, M, D);
    memset(dk, 0, sizeof(real) * (size_t)M * kvd);
    memset(dv, 0, sizeof(real) * (size_t)M * kvd);
    /* One task per (sequence, kv head): the query heads sharing a kv head add
     * into its dk/dv, so they run in the same task and never race. */
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int g = 0; g < G; g++) {
            real *mine = mine_all + (size_t)par_thread_id() * attn_thread_scratch(c, T);
            const real *kg = k + (size_t)b * T * kvd + (size_t)g * d, *vg = v + (size_t)b * T * kvd + (size_t)g * d;
            real *dkg = dk + (size_t)b * T * kvd + (size_t)g * d, *dvg = dv + (size_t)b * T * kvd + (size_t)g * d;
            for (int h = g * per_group; h < (g + 1) * per_group; h++) {
                const real *lh = lse + ((size_t)b * H + h) * T, *qh = q + (size_t)b * T * qd + (size_t)h * d;
                const real *oh = o + (size_t)b * T * qd + (size_t)h * d, *dOh = dO + (size_t)b * T * qd + (size_t)h * d;
                real *dqh = dq + (size_t)b * T * qd + (size_t)h * d;
                attn_head_backward_tiled(qh, qd, kg, kvd, vg, kvd, oh, dOh, qd, lh, dqh, dkg, dvg, T, d, W, scale,
                                         mine);
            }
        }
    if (rot) {
        rope_table(cs, T, rot, c->rope_theta);
        for (int m = 0; m < M; m++) {
            rope_apply_transpose(dq + (size_t)m * qd, H, d, rot, cs + (size_t)(m % T) * rot);
            rope_apply_transpose(dk + (size_t)m * kvd, G, d, rot, cs + (size_t)(m % T) * rot);
        }
    }
    linear_bwd(dx, gw.wq, dq, x, w.wq, M, qd, D, 0);
    linear_bwd(dx, gw.wk, dk, x, w.wk, M, kvd, D, 1);
    linear_bwd(dx, gw.wv, dv, x, w.wv, M, kvd, D, 1);
}

/* Ring capacity of the KV cache: every position for `*`, window + 1 for `L`. */
static int attn_cache_slots(int window, int ctx) { return window && window + 1 < ctx ? window + 1 : ctx; }

/* keys [B, G, slots, d] | values [B, G, slots, d]: head-major, so a head's
 * step reads its keys and values as one contiguous run (token-major rows,
 * a head's 256 bytes every kvd, streamed at about half the bandwidth).
 * A sequence's keys: */
static size_t attn_state_first(const ModelCfg *c, int ctx) { return (size_t)ctx * c->n_kv_heads * c->head_dim; }
static size_t attn_local_state_first(const ModelCfg *c, int ctx)
{
    return (size_t)attn_cache_slots(c->window, ctx) * c->n_kv_heads * c->head_dim;
}

/* ... and the whole cache, keys and values of B sequences */
static size_t attn_state_size(const ModelCfg *c, int B, int ctx) { return 2 * (size_t)B * attn_state_first(c, ctx); }
static size_t attn_local_state_size(const ModelCfg *c, int B, int ctx)
{
    return 2 * (size_t)B * attn_local_state_first(c, ctx);
}

/* step scratch: q [B,qd] | k, v [B,kvd] | o [B,qd] | scores [B,H,slots] | rope row [rot] */
static size_t attn_step_scratch_size(const ModelCfg *c, int B, int ctx)
{
    size_t qd = (size_t)c->n_heads * c->head_dim, kvd = (size_t)c->n_kv_heads * c->head_dim;
    return (size_t)B * (2 * qd + 2 * kvd) + (size_t)B * c->n_heads * ctx + (size_t)attn_rot(c);
}

/* Keys (then values) go through in blocks this long: a block stays in L1
 * while every query head of its group uses it. */
#define STEP_KEYS 16

/* sc[i, j] (rows ctx apart) = q_i·k_j for nh query heads and n consecutive keys */
static void heads_scores(const real *q, int nh, int d, const real *k, int n, real *sc, int ctx)
{
    for (int j0 = 0; j0 < n; j0 += STEP_KEYS) {
        int nb = n - j0 < STEP_KEYS ? n - j0 : STEP_KEYS;
        for (int i = 0; i < nh; i++)
            dot_rows(sc + (size_t)i * ctx + j0, q + (size_t)i * d, k + (size_t)j0 * d, (size_t)d, nb, d);
    }
}

/* o += Σ_j p[j] · v_j over n consecutive values, four a pass */
static void step_mix(const real *p, const real *v, int n, int d, real *o)
{
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        const real *v0 = v + (size_t)j * d, *v1 = v0 + d, *v2 = v1 + d, *v3 = v2 + d;
        real p0 = p[j], p1 = p[j + 1], p2 = p[j + 2], p3 = p[j + 3];
#pragma omp simd
        for (int e = 0; e < d; e++) o[e] += p0 * v0[e] + p1 * v1[e] + p2 * v2[e] + p3 * v3[e];
    }
    for (; j < n; j++) {
        const real *vj = v + (size_t)j * d;
        real pj = p[j];
#pragma omp simd
        for (int e = 0; e < d; e++) o[e] += pj * vj[e];
    }
}

/* o_i += Σ_j p[i, j] · v_j (rows of p ctx apart) for nh heads over n consecutive values */
static void heads_mix(const real *p, int nh, int ctx, const real *v, int n, int d, real *o)
{
    for (int j0 = 0; j0 < n; j0 += STEP_KEYS) {
        int nb = n - j0 < STEP_KEYS ? n - j0 : STEP_KEYS;
        for (int i = 0; i < nh; i++) step_mix(p + (size_t)i * ctx + j0, v + (size_t)j0 * d, nb, d, o + (size_t)i * d);
    }
}

/* One decode step of query heads h0..h0+nh-1 of sequence b, all in one
 * key/value group: softmax(scale · q·K^T) V over the n cached positions
 * lo..pos. Its group's keys and values are read once for all nh heads, so
 * multi-query and grouped-query attention read their shared cache once a
 * step rather than once a query head. */
static void attn_step_heads(const ModelCfg *c, const real *q, const real *kc, const real *vc, real *scores, real *o,
                            int b, int h0, int nh, int lo, int n, int slots, int ctx, real scale)
{
    int H = c->n_heads, G = c->n_kv_heads, d = c->head_dim, qd = H * d;
    int g = h0 / (H / G), s0 = lo % slots;
    int n1 = n < slots - s0 ? n : slots - s0, n2 = n - n1; /* run 1: slots s0.., run 2: slots 0.. */
    size_t head = ((size_t)b * G + g) * slots * d;
    const real *kb = kc + head, *vb = vc + head, *qh = q + (size_t)b * qd + (size_t)h0 * d;
    real *sc = scores + ((size_t)b * H + h0) * ctx, *oh = o + (size_t)b * qd + (size_t)h0 * d;
    heads_scores(qh, nh, d, kb + (size_t)s0 * d, n1, sc, ctx);
    heads_scores(qh, nh, d, kb, n2, sc + n1, ctx);
    for (int i = 0; i < nh; i++) {
        real *si = sc + (size_t)i * ctx, mx = -INFINITY, sum = 0;
#pragma omp simd
        for (int j = 0; j < n; j++) si[j] *= scale;
        for (int j = 0; j < n; j++) mx = si[j] > mx ? si[j] : mx;
#pragma omp simd
        for (int j = 0; j < n; j++) si[j] -= mx;
        vexp(si, si, n); /* one vector pass, not libm's expf a key */
        for (int j = 0; j < n; j++) sum += si[j];
        real inv = 1 / sum;
        for (int j = 0; j < n; j++) si[j] *= inv;
    }
    memset(oh, 0, sizeof(real) * nh * d);
    heads_mix(sc, nh, ctx, vb + (size_t)s0 * d, n1, d, oh);
    heads_mix(sc + n1, nh, ctx, vb, n2, d, oh);
}

/* Task t of a step: sequence b, group g, the part-th of `parts` shares of the group's query heads. */
static void attn_step_task(const ModelCfg *c, const real *q, const real *kc, const real *vc, real *scores, real *o,
                           int t, int parts, int lo, int n, int slots, int ctx, real scale)
{
    int G = c->n_kv_heads, hpg = c->n_heads / G, b = t / (G * parts), g = t / parts % G, part = t % parts;
    int a = hpg * part / parts, z = hpg * (part + 1) / parts;
    attn_step_heads(c, q, kc, vc, scores, o, b, g * hpg + a, z - a, lo, n, slots, ctx, scale);
}

static void attn_step(const Sub *s, const real *x, real *y, int B, int pos, int ctx, real *state, real *scratch)
{
    const ModelCfg *c = s->cfg;
    AttnWeights w = attn_weights(c, s->p);
    int D = c->d_model, H = c->n_heads, G = c->n_kv_heads, d = c->head_dim, W = attn_window(s), rot = attn_rot(c);
    int qd = H * d, kvd = G * d, slots = attn_cache_slots(W, ctx), lo = W && pos > W ? pos - W : 0;
    real *kc = state, *vc = state + (size_t)B * slots * kvd;
    real *q = scratch, *k = q + (size_t)B * qd, *v = k + (size_t)B * kvd, *o = v + (size_t)B * kvd;
    real *scores = o + (size_t)B * qd, *cs = scores + (size_t)B * H * ctx;
    real scale = 1 / sqrt((real)d);

    if (B == 1) { /* Wq, Wk, Wv lie one after the other, as q, k, v do: one pass (one wake-up, not three) */
        sub_linear(s, q, x, w.wq, 1, qd + 2 * kvd, D, 0);
    } else {
        sub_linear(s, q, x, w.wq, B, qd, D, 0);
        sub_linear(s, k, x, w.wk, B, kvd, D, 0);
        sub_linear(s, v, x, w.wv, B, kvd, D, 0);
    }
    if (rot) {
        for (int i = 0; i < rot / 2; i++) {
            double angle = pos * pow(c->rope_theta, -2.0 * i / rot);
            cs[i] = (real)cos(angle);
            cs[rot / 2 + i] = (real)sin(angle);
        }
        for (int b = 0; b < B; b++) {
            rope_apply(q + (size_t)b * qd, H, d, rot, cs);
            rope_apply(k + (size_t)b * kvd, G, d, rot, cs);
        }
    }
    for (int b = 0; b < B; b++)
        for (int g = 0; g < G; g++) {
            size_t slot = (((size_t)b * G + g) * slots + (size_t)(pos % slots)) * d, src = (size_t)b * kvd + (size_t)g * d;
            memcpy(kc + slot, k + src, sizeof(real) * d);
            memcpy(vc + slot, v + src, sizeof(real) * d);
        }
    /* a task: the query heads of one group of one sequence, or a share of them when there are fewer
     * groups than threads (batch-1 multi-query attention still uses every core) */
    int n = pos - lo + 1, hpg = H / G, parts = 1, tasks;
    int parallel = 2.0 * B * H * n * d >= PAR_MIN_WORK; /* scores and mix: two multiply-adds a key and dimension */
    while (parallel && parts < hpg && B * G * parts < par_max_threads()) parts++;
    tasks = B * G * parts;
    if (parallel) {
#pragma omp parallel for schedule(static)
        for (int t = 0; t < tasks; t++) attn_step_task(c, q, kc, vc, scores, o, t, parts, lo, n, slots, ctx, scale);
    } else /* even an `omp parallel if (false)` builds a team: 0.4 us */
        for (int t = 0; t < tasks; t++) attn_step_task(c, q, kc, vc, scores, o, t, parts, lo, n, slots, ctx, scale);
    sub_linear(s, y, o, w.wo, B, D, qd, 0);
    bias_fwd(y, w.bo, B, D);
}

/* The cache after a prefill: forward left the rotated k and v in acts, and
 * position p sits in slot p % slots (only the last `slots` positions stay). */
static void attn_prefill_state(const Sub *s, int B, int T, const real *acts, real *scratch, real *state, int Bs, int b0,
                               int ctx)
{
    (void)scratch;
    const ModelCfg *c = s->cfg;
    int d = c->head_dim, G = c->n_kv_heads, qd = c->n_heads * d, kvd = G * d, slots = attn_cache_slots(attn_window(s), ctx);
    size_t M = (size_t)B * T;
    const real *k = acts + M * qd, *v = k + M * kvd;
    real *kc = state, *vc = state + (size_t)Bs * slots * kvd;
    for (int b = 0; b < B; b++)
        for (int g = 0; g < G; g++)
            for (int p = T > slots ? T - slots : 0; p < T; p++) {
                size_t src = ((size_t)b * T + p) * kvd + (size_t)g * d;
                size_t dst = (((size_t)(b0 + b) * G + g) * slots + (size_t)(p % slots)) * d;
                memcpy(kc + dst, k + src, sizeof(real) * d);
                memcpy(vc + dst, v + src, sizeof(real) * d);
            }
}

static double attn_flops_window(const ModelCfg *c, int T, int W)
{
    double D = c->d_model, qd = (double)c->n_heads * c->head_dim, kvd = (double)c->n_kv_heads * c->head_dim;
    double keys = W && W + 1 < T ? W + 1 : T;
    return 2 * D * (2 * qd + 2 * kvd) + 4 * qd * keys;
}
static double attn_flops(const ModelCfg *c, int T) { return attn_flops_window(c, T, 0); }
static double attn_local_flops(const ModelCfg *c, int T) { return attn_flops_window(c, T, c->window); }

const SubOps attention_ops = {
    .name = "attention", .symbol = '*', .tensors = attn_tensors, .init = attn_init,
    .act_size = attn_act_size, .scratch_size = attn_scratch_size, .infer_act_size = attn_infer_act_size,
    .forward = attn_forward,
    .backward = attn_backward, .step = attn_step,
    .state_size = attn_state_size, .state_first = attn_state_first, .append_only = 1,
    .step_scratch_size = attn_step_scratch_size, .flops = attn_flops, .prefill_state = attn_prefill_state,
};

const SubOps local_attention_ops = {
    .name = "local_attention", .symbol = 'L', .tensors = attn_tensors, .init = attn_init,
    .act_size = attn_act_size, .scratch_size = attn_scratch_size, .infer_act_size = attn_infer_act_size,
    .forward = attn_forward,
    .backward = attn_backward, .step = attn_step,
    .state_size = attn_local_state_size, .state_first = attn_local_state_first,
    .step_scratch_size = attn_step_scratch_size, .flops = attn_local_flops, .prefill_state = attn_prefill_state,
};
