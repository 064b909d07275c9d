#include "hf_jamba.h"

#include <string.h>

#include "core/jsonio.h"
#include "hf_mamba.h"

int hf_jamba_pattern(int layers, int attn_period, int attn_offset, int expert_period, int expert_offset, int experts,
                     char *out, size_t cap, Err *e)
{
    if (layers < 1 || 2 * (size_t)layers + 1 > cap) return err_set(e, "jamba: %d layers is out of range", layers);
    if (attn_period < 1 || attn_offset < 0 || attn_offset >= attn_period)
        return err_set(e, "jamba: attn_layer_offset %d must be in [0, attn_layer_period %d)", attn_offset, attn_period);
    if (expert_period < 1 || expert_offset < 0 || expert_offset >= expert_period)
        return err_set(e, "jamba: expert_layer_offset %d must be in [0, expert_layer_period %d)", expert_offset,
                       expert_period);
    for (int i = 0; i < layers; i++) {
        out[2 * i] = i % attn_period == attn_offset ? '*' : 'M';
        out[2 * i + 1] = experts > 1 && i % expert_period == expert_offset ? 'E' : '-';
    }
    out[2 * layers] = '\0';
    if (!strchr(out, '*'))
        return err_set(e, "jamba: attn_layer_period %d with offset %d places no attention layer in %d layers", attn_period,
                       attn_offset, layers);
    if (experts > 1 && !strchr(out, 'E'))
        return err_set(e, "jamba: expert_layer_period %d with offset %d places no MoE layer in %d layers (use 1 expert "
                          "for none)", expert_period, expert_offset, layers);
    return 0;
}

/* the (period, offset) that places `symbol` at slot `slot` of each layer exactly as the pattern does, or 0 */
static int find_period(const char *pattern, int layers, int slot, char symbol, int *period, int *offset)
{
    for (int p = 1; p <= layers; p++)
        for (int o = 0; o < p; o++) {
            int ok = 1;
            for (int i = 0; ok && i < layers; i++) ok = (pattern[2 * i + slot] == symbol) == (i % p == o);
            if (ok) { *period = p; *offset = o; return 1; }
        }
    return 0;
}

int hf_is_jamba(const ModelCfg *c)
{
    size_t n = strlen(c->pattern);
    if (n == 0 || n % 2) return 0;
    int layers = (int)n / 2, p, o, has_e = 0;
    for (int i = 0; i < layers; i++) {
        char a = c->pattern[2 * i], f = c->pattern[2 * i + 1];
        if ((a != 'M' && a != '*') || (f != '-' && f != 'E')) return 0;
        has_e |= f == 'E';
    }
    if (!find_period(c->pattern, layers, 0, '*', &p, &o)) return 0;
    if (has_e && !find_period(c->pattern, layers, 1, 'E', &p, &o)) return 0;
    /* JambaConfig has no head_dim (hidden_size / heads) and 1 expert means no MoE layer */
    /* JambaConfig has no head_dim (it is hidden / heads) and turns MoE off at one expert */
    if (c->head_dim * c->n_heads != c->d_model || (has_e && c->n_experts < 2)) return 0;
    return c->pos_encoding == POS_NONE && c->mamba == MAMBA1 && c->mamba_inner_norms && !c->mamba_no_gate && c->mlp_act == ACT_SILU &&
           !c->router_renormalize && !c->norm_plus_one && !c->mlp_bias && !c->attn_out_bias && !c->embed_scale &&
           !c->logits_soft_cap && (!has_e || (c->expert_d_ff == 0 && c->n_experts > 1)) &&
           c->head_dim == c->d_model / c->n_heads;
}

int hf_jamba_config_from_json(const cJSON *root, ModelCfg *c, const char *what, Err *e)
{
    int layers = 0, ap = 8, ao = 4, ep = 2, eo = 1, flag = 0;
    c->pos_encoding = POS_NONE;
    c->mamba = MAMBA1;
    c->mamba_inner_norms = 1;
    c->tie_embeddings = 0;
    c->norm_eps = 1e-6;
    c->n_experts = 16;
    c->experts_per_tok = 2;
    c->n_kv_heads = 8;
    c->router_aux_coef = 0.001;
    c->window = 0;
    if (json_get_int32(root, "vocab_size", 1, 2, 1 << 24, &c->vocab_size, what, e) ||
        json_get_int32(root, "hidden_size", 1, 1, 1 << 16, &c->d_model, what, e) ||
        json_get_int32(root, "intermediate_size", 1, 1, 1 << 20, &c->d_ff, what, e) ||
        json_get_int32(root, "num_hidden_layers", 1, 1, SEQ_MAX_SUBLAYERS / 2, &layers, what, e) ||
        json_get_int32(root, "num_attention_heads", 1, 1, 1 << 12, &c->n_heads, what, e) ||
        json_get_int32(root, "num_key_value_heads", 0, 1, 1 << 12, &c->n_kv_heads, what, e) ||
        json_get_int32(root, "num_experts", 0, 1, 128, &c->n_experts, what, e) ||
        json_get_int32(root, "num_experts_per_tok", 0, 1, 128, &c->experts_per_tok, what, e) ||
        json_get_int32(root, "attn_layer_period", 0, 1, 1 << 20, &ap, what, e) ||
        json_get_int32(root, "attn_layer_offset", 0, 0, 1 << 20, &ao, what, e) ||
        json_get_int32(root, "expert_layer_period", 0, 1, 1 << 20, &ep, what, e) ||
        json_get_int32(root, "expert_layer_offset", 0, 0, 1 << 20, &eo, what, e) ||
        json_get_int32(root, "mamba_d_state", 0, 1, 1 << 12, &c->d_state, what, e) ||
        json_get_int32(root, "mamba_d_conv", 0, 1, 64, &c->d_conv, what, e) ||
        json_get_int32(root, "mamba_expand", 0, 1, 64, &c->expand, what, e) ||
        json_get_double(root, "rms_norm_eps", 0, &c->norm_eps, what, e) ||
        json_get_double(root, "router_aux_loss_coef", 0, &c->router_aux_coef, what, e) ||
        json_get_bool(root, "tie_word_embeddings", 0, &c->tie_embeddings, what, e))
        return -1;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "mamba_dt_rank");
    if (cJSON_IsString(r) && !strcmp(r->valuestring, "auto")) c->dt_rank = 0;
    else if (json_get_int32(root, "mamba_dt_rank", 0, 1, 1 << 20, &c->dt_rank, what, e)) return -1;
    if (json_get_bool(root, "mamba_proj_bias", 0, &flag, what, e)) return -1;
    if (flag) return err_set(e, "%s: mamba_proj_bias = true is not supported", what);
    flag = 1;
    if (json_get_bool(root, "mamba_conv_bias", 0, &flag, what, e)) return -1;
    if (!flag) return err_set(e, "%s: mamba_conv_bias = false is not supported", what);
    char act[32] = "silu";
    if (json_get_string(root, "hidden_act", 0, act, sizeof act, what, e)) return -1;
    if (strcmp(act, "silu")) return err_set(e, "%s: hidden_act \"%s\" is not supported (silu)", what, act);
    c->head_dim = c->d_model / c->n_heads;
    if (c->experts_per_tok > c->n_experts)
        return err_set(e, "%s: num_experts_per_tok %d > num_experts %d", what, c->experts_per_tok, c->n_experts);
    return hf_jamba_pattern(layers, ap, ao, ep, eo, c->n_experts, c->pattern, sizeof c->pattern, e) ? err_prefix(e, what) : 0;
}

cJSON *hf_jamba_config_to_json(const ModelCfg *c)
{
    int layers = (int)strlen(c->pattern) / 2, ap = 1, ao = 0, ep = 1, eo = 0;
    find_period(c->pattern, layers, 0, '*', &ap, &ao);
    int has_e = strchr(c->pattern, 'E') != NULL;
    if (has_e) find_period(c->pattern, layers, 1, 'E', &ep, &eo);
    cJSON *o = cJSON_CreateObject(), *arch = cJSON_AddArrayToObject(o, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString("JambaForCausalLM"));
    cJSON_AddStringToObject(o, "model_type", "jamba");
    cJSON_AddNumberToObject(o, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(o, "hidden_size", c->d_model);
    cJSON_AddNumberToObject(o, "intermediate_size", c->d_ff);
    cJSON_AddNumberToObject(o, "num_hidden_layers", layers);
    cJSON_AddNumberToObject(o, "num_attention_heads", c->n_heads);
    cJSON_AddNumberToObject(o, "num_key_value_heads", c->n_kv_heads);
    cJSON_AddStringToObject(o, "hidden_act", "silu");
    json_add_float(o, "initializer_range", 0.02);
    json_add_float(o, "rms_norm_eps", c->norm_eps);
    cJSON_AddBoolToObject(o, "use_cache", 1);
    cJSON_AddNumberToObject(o, "num_logits_to_keep", 1);
    cJSON_AddBoolToObject(o, "output_router_logits", 0);
    json_add_float(o, "router_aux_loss_coef", c->router_aux_coef);
    cJSON_AddNumberToObject(o, "pad_token_id", 0);
    cJSON_AddNumberToObject(o, "bos_token_id", 1);
    cJSON_AddNumberToObject(o, "eos_token_id", 2);
    cJSON_AddNullToObject(o, "sliding_window");
    cJSON_AddNumberToObject(o, "max_position_embeddings", c->max_seq_len);
    json_add_float(o, "attention_dropout", 0.0);
    cJSON_AddNumberToObject(o, "num_experts_per_tok", has_e ? c->experts_per_tok : 1);
    cJSON_AddNumberToObject(o, "num_experts", has_e ? c->n_experts : 1);
    cJSON_AddNumberToObject(o, "expert_layer_period", ep);
    cJSON_AddNumberToObject(o, "expert_layer_offset", eo);
    cJSON_AddNumberToObject(o, "attn_layer_period", ap);
    cJSON_AddNumberToObject(o, "attn_layer_offset", ao);
    cJSON_AddBoolToObject(o, "use_mamba_kernels", 0);
    cJSON_AddNumberToObject(o, "mamba_d_state", c->d_state);
    cJSON_AddNumberToObject(o, "mamba_d_conv", c->d_conv);
    cJSON_AddNumberToObject(o, "mamba_expand", c->expand);
    cJSON_AddNumberToObject(o, "mamba_dt_rank", cfg_dt_rank(c));
    cJSON_AddBoolToObject(o, "mamba_conv_bias", 1);
    cJSON_AddBoolToObject(o, "mamba_proj_bias", 0);
    cJSON_AddBoolToObject(o, "tie_word_embeddings", c->tie_embeddings);
    cJSON_AddStringToObject(o, "torch_dtype", "float32");
    return o;
}
