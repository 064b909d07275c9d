#include "model_args.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/hf.h"
#include "models/hf_jamba.h"
#include "models/hybrid.h"
#include "models/model.h"
#include "models/pattern.h"

void model_args_defaults(ModelArgs *a)
{
    memset(a, 0, sizeof *a);
    strcpy(a->arch, "transformer");
    a->attn_period = 8;
    a->attn_offset = 4;
    a->expert_period = 2;
    a->expert_offset = 1;
    strcpy(a->mamba, "mamba1");
    a->d_state = 16;
    a->expand = 2;
    a->d_conv = 4;
    a->ssm_head_dim = 16;
    a->n_groups = 1;
    a->chunk = 64;
    a->conv1d_width = 4;
    a->experts = 4;
    a->top_k = 2;
    a->aux_coef = 0.001;
    a->layers = 2;
    a->d_model = 64;
    a->heads = 4;
    a->rope_theta = 10000;
    a->norm_eps = 1e-5;
}

int model_args_options(ModelArgs *a, Option *o)
{
    Option t[MODEL_ARGS_N_OPTIONS] = {
        OPT_S("arch", a->arch, "architecture preset: transformer, transformer-local, mamba, mamba2, mamba-lti, hawk, griffin, jamba, mamba2-hybrid"),
        OPT_S("pattern", a->pattern, "sublayer pattern per repeat, e.g. \"*-\" (overrides --arch)"),
        OPT_I("layers", &a->layers, 1, SEQ_MAX_SUBLAYERS, "repeats of the pattern"),
        OPT_I("d-model", &a->d_model, 1, 65536, "model width"),
        OPT_I("heads", &a->heads, 1, 4096, "attention query heads"),
        OPT_I("kv-heads", &a->kv_heads, 0, 4096, "key/value heads: = heads MHA, 1 MQA, else GQA (0 = heads)"),
        OPT_I("head-dim", &a->head_dim, 0, 4096, "head dimension (0 = d-model / heads)"),
        OPT_I("d-ff", &a->d_ff, 0, 1 << 20, "MLP width (0 = 4 x d-model for SwiGLU, 3 x for GeGLU)"),
        OPT_S("act", a->act, "MLP activation: silu (SwiGLU) or gelu (GeGLU) (default: gelu for hawk/griffin, else silu)"),
        OPT_S("pos", a->pos, "positional encoding: rope or none (default: none for jamba, else rope)"),
        OPT_D("rope-theta", &a->rope_theta, 1.0001, 1e12, "RoPE base"),
        OPT_D("rotary-frac", &a->rotary_frac, 0, 1, "fraction of each head RoPE rotates (0 = 0.5 for griffin, else 1)"),
        OPT_I("window", &a->window, 0, 1 << 30, "local attention window W: L sees W+1 keys (0 = 64 when the pattern has L)"),
        OPT_F("untie", &a->untie, "separate LM head instead of the tied embedding"),
        OPT_D("norm-eps", &a->norm_eps, 1e-12, 0.5, "RMSNorm epsilon"),
        OPT_I("vocab", &a->vocab, 0, 1 << 24, "vocabulary size (0 = what the task needs)"),
        OPT_I("pad-vocab", &a->pad_vocab, 0, 1 << 16, "round the vocabulary up to a multiple (mamba_ssm pads 50277 to 50280 with 8)"),
        OPT_S("mamba", a->mamba, "Mamba variant for M: mamba1 (selective S6), lti (S4D-like ablation), mamba2 (SSD)"),
        OPT_I("d-state", &a->d_state, 1, 4096, "Mamba state size N"),
        OPT_I("expand", &a->expand, 1, 64, "Mamba expansion: E = expand x d-model"),
        OPT_I("d-conv", &a->d_conv, 1, 64, "Mamba causal conv width"),
        OPT_I("dt-rank", &a->dt_rank, 0, 1 << 20, "mamba1 time_step_rank (0 = ceil(d-model / 16))"),
        OPT_F("inner-norms", &a->inner_norms, "Jamba's RMSNorm on dt, B and C inside mamba1"),
        OPT_I("ssm-head-dim", &a->ssm_head_dim, 1, 4096, "mamba2 head dimension P"),
        OPT_I("n-groups", &a->n_groups, 1, 4096, "mamba2 groups of B and C"),
        OPT_I("chunk", &a->chunk, 1, 65536, "mamba2 SSD chunk size"),
        OPT_I("lru-width", &a->lru_width, 0, 1 << 20, "RG-LRU width (0 = d-model)"),
        OPT_I("lru-blocks", &a->lru_blocks, 0, 1 << 12, "RG-LRU gate blocks (0 = heads, as RecurrentGemma; the Griffin paper: 16)"),
        OPT_I("conv1d-width", &a->conv1d_width, 1, 64, "RG-LRU block's causal conv width"),
        OPT_F("gemma", &a->gemma, "RecurrentGemma conventions: (1+w) norms, sqrt(D) embedding scale, biases on MLP and o_proj"),
        OPT_D("soft-cap", &a->soft_cap, 0, 1e6, "logits soft cap c: c tanh(z/c) (0 = off)"),
        OPT_I("experts", &a->experts, 1, 128, "MoE experts n"),
        OPT_I("top-k", &a->top_k, 1, 128, "MoE experts per token K"),
        OPT_I("expert-d-ff", &a->expert_d_ff, 0, 1 << 20, "MoE expert width (0 = d-ff)"),
        OPT_F("renormalize", &a->renormalize, "renormalise the top-K router weights (Mixtral; Jamba does not)"),
        OPT_D("aux-coef", &a->aux_coef, 0, 100, "MoE load-balancing loss coefficient"),
        OPT_D("attention", &a->attention_ratio, 0, 1, "mamba2-hybrid: attention ratio for Algorithm 1"),
        OPT_D("mlp", &a->mlp_ratio, 0, 1, "mamba2-hybrid: MLP ratio for Algorithm 1"),
        OPT_I("attn-period", &a->attn_period, 1, 1 << 20, "jamba: attention every this many layers (8 = a:m 1:7)"),
        OPT_I("attn-offset", &a->attn_offset, 0, 1 << 20, "jamba: ... at this layer of each period"),
        OPT_I("expert-period", &a->expert_period, 1, 1 << 20, "jamba: MoE every this many layers (--experts 1: no MoE)"),
        OPT_I("expert-offset", &a->expert_offset, 0, 1 << 20, "jamba: ... at this layer of each period"),
        OPT_D("param-budget", &a->param_budget, 0, 1e13, "pick d-model so the total parameter count is closest to this"),
    };
    memcpy(o, t, sizeof t);
    return MODEL_ARGS_N_OPTIONS;
}

static int build_cfg(const ModelArgs *a, int task_vocab, ModelCfg *c, Err *e);

/* Parameter-matched sizing: the width whose total is closest to the budget.
 * Widths step by 2 x heads (and 8 at least) so head_dim stays whole and even
 * for RoPE; every size that follows d_model by default (d_ff, head_dim,
 * lru_width, E) follows it here too. */
static int fit_budget(const ModelArgs *a, int task_vocab, ModelCfg *c, Err *e)
{
    int step = 2 * (a->heads > 4 ? a->heads : 4);
    double best = -1;
    ModelArgs t = *a;
    t.param_budget = 0;
    for (int d = step; d <= 65536; d += step) {
        t.d_model = d;
        ModelCfg trial;
        Model m;
        Err ignore;
        if (build_cfg(&t, task_vocab, &trial, &ignore) || model_layout(&m, &trial, &ignore)) continue;
        double gap = fabs((double)m.n_params - a->param_budget);
        model_free(&m);
        if (best >= 0 && gap > best) break; /* the count grows with d: past the closest */
        best = gap;
        *c = trial;
    }
    if (best < 0) return err_set(e, "--param-budget %g: no width gives a valid model", a->param_budget);
    return 0;
}

int model_args_to_cfg(const ModelArgs *a, int task_vocab, ModelCfg *c, Err *e)
{
    return a->param_budget > 0 ? fit_budget(a, task_vocab, c, e) : build_cfg(a, task_vocab, c, e);
}

static int build_cfg(const ModelArgs *a, int task_vocab, ModelCfg *c, Err *e)
{
    cfg_defaults(c);
    const char *pat = a->pattern;
    char hybrid[SEQ_MAX_SUBLAYERS + 1];
    int repeats = a->layers;
    if (!*pat && !strcmp(a->arch, "mamba2-hybrid")) { /* Waleffe et al.'s Algorithm 1 over all --layers */
        if (hybrid_allocate(a->layers, a->attention_ratio, a->mlp_ratio, hybrid, sizeof hybrid, e)) return -1;
        pat = hybrid;
        repeats = 1;
    } else if (!*pat && !strcmp(a->arch, "jamba")) { /* --layers repeats of one attention period of Jamba layers */
        if ((long long)a->layers * a->attn_period > SEQ_MAX_SUBLAYERS / 2)
            return err_set(e, "jamba: %d x %d layers is more than %d", a->layers, a->attn_period, SEQ_MAX_SUBLAYERS / 2);
        if (hf_jamba_pattern(a->layers * a->attn_period, a->attn_period, a->attn_offset, a->expert_period, a->expert_offset, a->experts,
                             hybrid, sizeof hybrid, e))
            return -1;
        pat = hybrid;
        repeats = 1;
    } else if (!*pat) {
        pat = pattern_for_arch(a->arch);
        if (!pat) return err_set(e, "unknown architecture \"%s\" (known: %s)", a->arch, pattern_arch_list());
    }
    if (pattern_expand(pat, repeats, c->pattern, sizeof c->pattern, e)) return -1;
    c->vocab_size = a->vocab ? a->vocab : task_vocab;
    if (a->pad_vocab > 1) c->vocab_size = (c->vocab_size + a->pad_vocab - 1) / a->pad_vocab * a->pad_vocab;
    if (a->vocab && a->vocab < task_vocab)
        return err_set(e, "--vocab %d is smaller than the %d tokens the task uses", a->vocab, task_vocab);
    c->d_model = a->d_model;
    c->n_heads = a->heads;
    c->n_kv_heads = a->kv_heads ? a->kv_heads : a->heads;
    /* only attention splits d_model into heads (R's gate blocks are checked against lru_width) */
    if (!a->head_dim && strpbrk(c->pattern, "*L") && a->d_model % a->heads)
        return err_set(e, "--heads %d does not divide --d-model %d (give --head-dim to choose the head size)", a->heads,
                       a->d_model);
    c->head_dim = a->head_dim ? a->head_dim : (a->d_model / a->heads > 0 ? a->d_model / a->heads : 1);
    int griffin_family = !*a->pattern && (!strcmp(a->arch, "hawk") || !strcmp(a->arch, "griffin"));
    const char *act = *a->act ? a->act : griffin_family ? "gelu" : "silu";
    if (!strcmp(act, "silu") || !strcmp(act, "swiglu")) c->mlp_act = ACT_SILU;
    else if (!strcmp(act, "gelu") || !strcmp(act, "geglu")) c->mlp_act = ACT_GELU_TANH;
    else return err_set(e, "--act must be silu or gelu (got \"%s\")", a->act);
    c->d_ff = a->d_ff ? a->d_ff : (c->mlp_act == ACT_SILU ? 4 : 3) * a->d_model;
    int jamba = !*a->pattern && !strcmp(a->arch, "jamba");
    const char *pos = *a->pos ? a->pos : jamba ? "none" : "rope";
    if (!strcmp(pos, "rope")) c->pos_encoding = POS_ROPE;
    else if (!strcmp(pos, "none")) c->pos_encoding = POS_NONE;
    else return err_set(e, "--pos must be rope or none (got \"%s\")", pos);
    c->rope_theta = a->rope_theta;
    c->partial_rotary_factor = a->rotary_frac > 0 ? a->rotary_frac : griffin_family ? 0.5 : 1;
    c->window = a->window;
    if (strchr(c->pattern, 'L') && !c->window) c->window = 64;
    c->tie_embeddings = !a->untie;
    if (!strcmp(a->mamba, "mamba1")) c->mamba = MAMBA1;
    else if (!strcmp(a->mamba, "lti")) c->mamba = MAMBA_LTI;
    else if (!strcmp(a->mamba, "mamba2")) c->mamba = MAMBA2;
    else return err_set(e, "--mamba must be mamba1, lti or mamba2 (got \"%s\")", a->mamba);
    if (!*a->pattern && (!strcmp(a->arch, "mamba2") || !strcmp(a->arch, "mamba2-hybrid"))) c->mamba = MAMBA2;
    if (!*a->pattern && !strcmp(a->arch, "mamba-lti")) c->mamba = MAMBA_LTI;
    c->d_state = a->d_state;
    c->expand = a->expand;
    c->d_conv = a->d_conv;
    c->dt_rank = a->dt_rank;
    c->mamba_inner_norms = a->inner_norms;
    c->ssm_head_dim = a->ssm_head_dim;
    c->n_groups = a->n_groups;
    c->chunk_size = a->chunk;
    c->n_experts = a->experts;
    c->experts_per_tok = a->top_k;
    c->expert_d_ff = a->expert_d_ff;
    c->router_renormalize = a->renormalize;
    c->router_aux_coef = a->aux_coef;
    c->lru_width = a->lru_width;
    c->rglru_heads = a->lru_blocks;
    c->conv1d_width = a->conv1d_width;
    c->logits_soft_cap = a->soft_cap;
    /* Hawk and Griffin as the paper and RecurrentGemma build them: GeGLU of
     * expansion 3, MQA local attention with half-rotary RoPE, Gemma norms,
     * biases, sqrt(D) embedding scale and a soft cap of 30 (each still
     * overridable by its option). */
    if (jamba) c->mamba_inner_norms = 1; /* Jamba's RMSNorm on dt, B, C */
    if (griffin_family) {
        if (!a->kv_heads) c->n_kv_heads = 1;
        if (!a->soft_cap) c->logits_soft_cap = 30;
    }
    if (a->gemma || griffin_family) {
        c->norm_plus_one = c->mlp_bias = c->attn_out_bias = 1;
        c->embed_scale = cfg_bf16_round(sqrt((double)c->d_model)); /* as the HF model's normalizer buffer */
    }
    c->norm_eps = a->norm_eps;
    if (cfg_validate(c, e)) return -1;
    hf_choose_model_type(c);
    return 0;
}
