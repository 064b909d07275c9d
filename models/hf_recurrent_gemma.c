#include "hf_recurrent_gemma.h"

#include <math.h>
#include <string.h>

#include "core/jsonio.h"

int hf_is_recurrent_gemma(const ModelCfg *c)
{
    size_t n = strlen(c->pattern);
    if (n == 0 || n % 2) return 0;
    for (size_t i = 0; i < n; i += 2)
        if ((c->pattern[i] != 'R' && c->pattern[i] != 'L') || c->pattern[i + 1] != '-') return 0;
    return c->norm_plus_one && c->mlp_bias && c->attn_out_bias && c->tie_embeddings && c->mlp_act == ACT_GELU_TANH &&
           c->pos_encoding == POS_ROPE && c->head_dim * c->n_heads == c->d_model &&
           c->embed_scale == cfg_bf16_round(sqrt((double)c->d_model)) && cfg_rglru_heads(c) == c->n_heads;
}

int hf_recurrent_gemma_config_from_json(const cJSON *root, ModelCfg *c, const char *what, Err *e)
{
    int layers = 0, inter = 0, scale = 1, flag = 0;
    c->norm_plus_one = c->mlp_bias = c->attn_out_bias = c->tie_embeddings = 1;
    c->mlp_act = ACT_GELU_TANH;
    c->norm_eps = 1e-6;
    c->logits_soft_cap = 30;
    c->partial_rotary_factor = 0.5;
    c->window = 2048;
    c->n_kv_heads = 1;
    if (json_get_int32(root, "vocab_size", 1, 2, 1 << 24, &c->vocab_size, what, e) ||
        json_get_int32(root, "hidden_size", 1, 1, 1 << 16, &c->d_model, what, e) ||
        json_get_int32(root, "num_hidden_layers", 1, 1, SEQ_MAX_SUBLAYERS / 2, &layers, what, e) ||
        json_get_int32(root, "intermediate_size", 1, 2, 1 << 21, &inter, what, e) ||
        json_get_int32(root, "num_attention_heads", 1, 1, 1 << 12, &c->n_heads, what, e) ||
        json_get_int32(root, "num_key_value_heads", 0, 1, 1 << 12, &c->n_kv_heads, what, e) ||
        json_get_int32(root, "lru_width", 0, 1, 1 << 20, &c->lru_width, what, e) ||
        /* 0 is what a Hawk model (no local attention) built from options writes */
        json_get_int32(root, "attention_window_size", 0, 0, 1 << 30, &c->window, what, e) ||
        json_get_int32(root, "conv1d_width", 0, 1, 64, &c->conv1d_width, what, e) ||
        json_get_double(root, "logits_soft_cap", 0, &c->logits_soft_cap, what, e) ||
        json_get_double(root, "rms_norm_eps", 0, &c->norm_eps, what, e) ||
        json_get_double(root, "partial_rotary_factor", 0, &c->partial_rotary_factor, what, e) ||
        json_get_double(root, "rope_theta", 0, &c->rope_theta, what, e) ||
        json_get_bool(root, "embeddings_scale_by_sqrt_dim", 0, &scale, what, e) ||
        json_get_bool(root, "attention_bias", 0, &flag, what, e))
        return -1;
    if (flag) return err_set(e, "%s: attention_bias = true is not supported (q/k/v have no bias)", what);
    if (inter % 2) return err_set(e, "%s: intermediate_size %d must be even (the MLP is intermediate_size / 2 wide)", what, inter);
    c->d_ff = inter / 2; /* RecurrentGemmaMlp's width */
    c->head_dim = c->d_model / c->n_heads;
    c->embed_scale = scale ? cfg_bf16_round(sqrt((double)c->d_model)) : 0;
    char act[32] = "gelu_pytorch_tanh";
    if (json_get_string(root, "hidden_activation", 0, act, sizeof act, what, e)) return -1;
    if (strcmp(act, "gelu_pytorch_tanh")) return err_set(e, "%s: hidden_activation \"%s\" is not supported", what, act);
    /* released checkpoints (google/recurrentgemma-2b) spell it _block_types */
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(root, "block_types");
    if (!types) types = cJSON_GetObjectItemCaseSensitive(root, "_block_types");
    int nt = cJSON_IsArray(types) ? cJSON_GetArraySize(types) : 0;
    if (nt == 0) return err_set(e, "%s: block_types must be a non-empty list of \"recurrent\" / \"attention\"", what);
    for (int i = 0; i < layers; i++) {
        const cJSON *t = cJSON_GetArrayItem(types, i % nt);
        const char *s = cJSON_IsString(t) ? t->valuestring : "";
        if (strcmp(s, "recurrent") && strcmp(s, "attention"))
            return err_set(e, "%s: block_types[%d] = \"%s\" is neither \"recurrent\" nor \"attention\"", what, i % nt,
                           cJSON_IsString(t) ? s : "(not a string)");
        c->pattern[2 * i] = s[0] == 'r' ? 'R' : 'L';
        c->pattern[2 * i + 1] = '-';
    }
    c->pattern[2 * layers] = '\0';
    return 0;
}

cJSON *hf_recurrent_gemma_config_to_json(const ModelCfg *c)
{
    cJSON *o = cJSON_CreateObject(), *arch = cJSON_AddArrayToObject(o, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString("RecurrentGemmaForCausalLM"));
    cJSON_AddStringToObject(o, "model_type", "recurrent_gemma");
    int layers = (int)strlen(c->pattern) / 2;
    cJSON_AddNumberToObject(o, "num_hidden_layers", layers);
    cJSON_AddNumberToObject(o, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(o, "hidden_size", c->d_model);
    cJSON_AddNumberToObject(o, "intermediate_size", 2 * c->d_ff);
    cJSON_AddNumberToObject(o, "num_attention_heads", c->n_heads);
    cJSON_AddNumberToObject(o, "num_key_value_heads", c->n_kv_heads);
    cJSON_AddNumberToObject(o, "lru_width", cfg_lru_width(c));
    cJSON_AddNumberToObject(o, "attention_window_size", c->window);
    cJSON_AddNumberToObject(o, "conv1d_width", c->conv1d_width);
    json_add_float(o, "logits_soft_cap", c->logits_soft_cap);
    json_add_float(o, "rms_norm_eps", c->norm_eps);
    cJSON_AddStringToObject(o, "hidden_activation", "gelu_pytorch_tanh");
    json_add_float(o, "partial_rotary_factor", c->partial_rotary_factor);
    json_add_float(o, "rope_theta", c->rope_theta);
    /* the shortest list that cycles to the pattern */
    int period = layers;
    for (int p = 1; p < layers; p++) {
        int ok = layers % p == 0;
        for (int i = p; ok && i < layers; i++) ok = c->pattern[2 * i] == c->pattern[2 * (i % p)];
        if (ok) { period = p; break; }
    }
    cJSON *types = cJSON_AddArrayToObject(o, "block_types");
    for (int i = 0; i < period; i++)
        cJSON_AddItemToArray(types, cJSON_CreateString(c->pattern[2 * i] == 'R' ? "recurrent" : "attention"));
    json_add_float(o, "attention_dropout", 0.0);
    cJSON_AddBoolToObject(o, "attention_bias", 0);
    json_add_float(o, "w_init_variance_scale", 0.01);
    cJSON_AddBoolToObject(o, "embeddings_scale_by_sqrt_dim", c->embed_scale != 0);
    cJSON_AddBoolToObject(o, "use_cache", 1);
    cJSON_AddNumberToObject(o, "pad_token_id", 0);
    cJSON_AddNumberToObject(o, "bos_token_id", 2);
    cJSON_AddNumberToObject(o, "eos_token_id", 1);
    cJSON_AddBoolToObject(o, "tie_word_embeddings", 1);
    cJSON_AddStringToObject(o, "torch_dtype", "float32");
    return o;
}
