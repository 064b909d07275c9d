#include "config.h"

#include <string.h>

#include "pattern.h"

void cfg_defaults(ModelCfg *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->model_type, "seqbench");
    strcpy(c->pattern, "*-*-");
    c->vocab_size = 32;
    c->d_model = 64;
    c->n_heads = 4;
    c->n_kv_heads = 4;
    c->head_dim = 16;
    c->pos_encoding = POS_ROPE;
    c->rope_theta = 10000.0;
    c->partial_rotary_factor = 1.0;
    c->window = 0;
    c->d_ff = 256;
    c->mlp_act = ACT_SILU;
    c->mamba = MAMBA1;
    c->d_state = 16;
    c->expand = 2;
    c->d_conv = 4;
    c->dt_rank = 0;
    c->ssm_head_dim = 16;
    c->n_groups = 1;
    c->chunk_size = 64;
    c->n_experts = 4;
    c->experts_per_tok = 2;
    c->router_aux_coef = 0.001; /* JambaConfig's router_aux_loss_coef */
    c->lru_width = 0; /* 0: d_model */
    c->rglru_heads = 0; /* 0: n_heads */
    c->conv1d_width = 4;
    c->norm_eps = 1e-5;
    c->tie_embeddings = 1;
    c->max_seq_len = 2048;
}

int cfg_rotary_dim(const ModelCfg *c)
{
    /* truncated as transformers' int(head_dim * partial_rotary_factor) */
    int r = (int)(c->head_dim * c->partial_rotary_factor);
    return r & ~1;
}

int cfg_d_inner(const ModelCfg *c) { return c->expand * c->d_model; }
double cfg_bf16_round(double x)
{
    union { float f; unsigned u; } v = {(float)x};
    v.u = (v.u + 0x7FFF + ((v.u >> 16) & 1)) & 0xFFFF0000u;
    return v.f;
}

int cfg_lru_width(const ModelCfg *c) { return c->lru_width > 0 ? c->lru_width : c->d_model; }
int cfg_rglru_heads(const ModelCfg *c) { return c->rglru_heads > 0 ? c->rglru_heads : c->n_heads; }
int cfg_dt_rank(const ModelCfg *c) { return c->dt_rank > 0 ? c->dt_rank : (c->d_model + 15) / 16; }

#define LIMIT(field, lo, hi)                                                                          \
    if (c->field < (lo) || c->field > (hi))                                                           \
        return err_set(e, "%s must be in [%lld, %lld] (got %lld)", #field, (long long)(lo), (long long)(hi), \
                       (long long)c->field);

int cfg_validate(const ModelCfg *c, Err *e)
{
    LIMIT(vocab_size, 2, 1 << 24);
    LIMIT(d_model, 1, 1 << 16);
    LIMIT(max_seq_len, 1, 1 << 30);
    if (!(c->norm_eps > 0 && c->norm_eps < 1)) return err_set(e, "rms_norm_eps must be in (0, 1) (got %g)", c->norm_eps);
    size_t n = strlen(c->pattern);
    if (n == 0) return err_set(e, "pattern is empty");
    char tmp[SEQ_MAX_SUBLAYERS + 1];
    if (pattern_expand(c->pattern, 1, tmp, sizeof tmp, e)) return -1;
    int has_attn = strchr(c->pattern, '*') || strchr(c->pattern, 'L');
    if (has_attn) {
        LIMIT(n_heads, 1, 1 << 12);
        LIMIT(n_kv_heads, 1, c->n_heads);
        LIMIT(head_dim, 1, 1 << 12);
        if (c->n_heads % c->n_kv_heads)
            return err_set(e, "num_attention_heads (%d) must be a multiple of num_key_value_heads (%d)", c->n_heads,
                           c->n_kv_heads);
        if (c->pos_encoding == POS_ROPE) {
            if (!(c->rope_theta > 1)) return err_set(e, "rope_theta must be > 1 (got %g)", c->rope_theta);
            if (!(c->partial_rotary_factor > 0 && c->partial_rotary_factor <= 1))
                return err_set(e, "partial_rotary_factor must be in (0, 1] (got %g)", c->partial_rotary_factor);
            if (cfg_rotary_dim(c) < 2)
                return err_set(e, "partial_rotary_factor %g of head_dim %d rotates fewer than 2 dims",
                               c->partial_rotary_factor, c->head_dim);
        }
    }
    if (strchr(c->pattern, 'L') && c->window < 1)
        return err_set(e, "local attention needs attention_window_size >= 1 (got %d)", c->window);
    if (strchr(c->pattern, '-')) LIMIT(d_ff, 1, 1 << 20);
    if (strchr(c->pattern, 'E')) {
        LIMIT(n_experts, 1, 128);
        LIMIT(experts_per_tok, 1, c->n_experts);
        LIMIT(expert_d_ff, 0, 1 << 20);
        if (!c->expert_d_ff) LIMIT(d_ff, 1, 1 << 20);
        if (!(c->router_aux_coef >= 0)) return err_set(e, "router aux loss coefficient must be >= 0 (got %g)", c->router_aux_coef);
    }
    if (strchr(c->pattern, 'R')) {
        LIMIT(lru_width, 0, 1 << 20);
        LIMIT(rglru_heads, 0, 1 << 12);
        LIMIT(conv1d_width, 1, 64);
        int W = cfg_lru_width(c), H = cfg_rglru_heads(c);
        if (H < 1 || W % H)
            return err_set(e, "lru_width (%d) must be a multiple of the RG-LRU gate blocks (%d)", W, H);
    }
    if (!(c->embed_scale >= 0) || !(c->logits_soft_cap >= 0))
        return err_set(e, "embedding scale and logits soft cap must be >= 0 (got %g, %g)", c->embed_scale, c->logits_soft_cap);
    if (strchr(c->pattern, 'M')) {
        LIMIT(d_state, 1, 1 << 12);
        LIMIT(expand, 1, 64);
        LIMIT(d_conv, 1, 64);
        LIMIT(dt_rank, 0, c->expand * c->d_model);
        if ((long long)c->expand * c->d_model > 1 << 20)
            return err_set(e, "expand x hidden_size = %lld channels is too many (max 2^20)", (long long)c->expand * c->d_model);
        if (c->mamba_no_gate && c->mamba == MAMBA2)
            return err_set(e, "mamba gate none is for the mamba1 and lti mixers (got mamba2, whose gate feeds its norm)");
        if (c->mamba == MAMBA2) {
            LIMIT(ssm_head_dim, 1, 1 << 12);
            LIMIT(n_groups, 1, 1 << 12);
            LIMIT(chunk_size, 1, 1 << 16);
            int E = cfg_d_inner(c);
            if (E % c->ssm_head_dim)
                return err_set(e, "mamba2: expand x hidden_size (%d) must be a multiple of head_dim (%d)", E, c->ssm_head_dim);
            if ((E / c->ssm_head_dim) % c->n_groups)
                return err_set(e, "mamba2: num_heads (%d) must be a multiple of n_groups (%d)", E / c->ssm_head_dim, c->n_groups);
        }
    }
    return 0;
}
