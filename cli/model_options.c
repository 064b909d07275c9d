#include "cli/model_options.h"

#include <string.h>

#include "core/err.h"

int model_options(ModelArgs *a, Option *o)
{
    Option t[MODEL_OPTIONS_N] = {
        OPT_S("arch", a->arch, "architecture preset, with what --layers counts (default): transformer (*- pairs, 2), "
                               "transformer-local (L- pairs, 2), mamba, mamba2, mamba-lti (M blocks, 4), hawk (R- pairs, 2), "
                               "griffin (R-R-L- groups, 1), jamba (8-layer Jamba blocks M-MEM-ME*-MEM-ME, 1), "
                               "mamba2-hybrid (sublayers placed by Algorithm 1, 8)"),
        OPT_S("pattern", a->pattern, "sublayer pattern per repeat, e.g. \"*-\" (replaces --arch's layout; its conventions, e.g. Griffin's GeGLU, MQA and soft cap, stay)"),
        OPT_I("layers", &a->layers, 0, SEQ_MAX_SUBLAYERS,
              "repeats of the preset's unit (see --arch) or of --pattern (0 = the preset's default, 2 for --pattern)"),
        OPT_I("d-model", &a->d_model, 0, 65536, "model width (0 = 64; 24 for jamba, 40 for mamba2-hybrid)"),
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
        OPT_S("mamba-gate", a->mamba_gate, "mamba1/lti block's output gate: silu (out_proj(y * SiLU(z)), the Mamba "
                                           "block) or none (out_proj(y), Mamba Table 1's \"No gate\" block)"),
        OPT_S("mamba-init", a->mamba_init, "mamba1/lti block's in_proj, conv1d, x_proj and out_proj at the start: normal "
                                           "(N(0, 0.02), as every matrix) or mamba_ssm (PyTorch's defaults, as the official "
                                           "code leaves them: U(+-1/sqrt(fan_in)), out_proj / sqrt(Mamba layers))"),
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
        OPT_D("attention", &a->attention_ratio, 0, 1, "mamba2-hybrid: attention ratio for Algorithm 1 (Waleffe et al.'s 8B: 0.08)"),
        OPT_D("mlp", &a->mlp_ratio, 0, 1, "mamba2-hybrid: MLP ratio for Algorithm 1 (Waleffe et al.'s 8B: 0.5)"),
        OPT_I("attn-period", &a->attn_period, 1, 1 << 20, "jamba: attention every this many layers (8 = a:m 1:7)"),
        OPT_I("attn-offset", &a->attn_offset, 0, 1 << 20, "jamba: ... at this layer of each period"),
        OPT_I("expert-period", &a->expert_period, 1, 1 << 20, "jamba: MoE every this many layers (--experts 1: no MoE)"),
        OPT_I("expert-offset", &a->expert_offset, 0, 1 << 20, "jamba: ... at this layer of each period"),
        OPT_D("param-budget", &a->param_budget, 0, 1e13, "fit the width (then d-ff or lru-width, then the depth if --layers is not given) to this many parameters, within 5% or with a warning"),
    };
    memcpy(o, t, sizeof t);
    return MODEL_OPTIONS_N;
}

int dtype_is_bf16(const char *dtype)
{
    if (!strcmp(dtype, "bf16")) return 1;
    if (!strcmp(dtype, "fp32")) return 0;
    die("--dtype %s: fp32 or bf16 (training is fp32 only)", dtype);
}
