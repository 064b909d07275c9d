#include "hf_mamba.h"

#include <limits.h>
#include <string.h>

#include "core/jsonio.h"

int hf_mamba_keys_from_json(const cJSON *root, ModelCfg *c, const char *what, Err *e)
{
    if (json_get_int32(root, "state_size", 0, 1, 1 << 12, &c->d_state, what, e) ||
        json_get_int32(root, "expand", 0, 1, 64, &c->expand, what, e) ||
        json_get_int32(root, "conv_kernel", 0, 1, 64, &c->d_conv, what, e))
        return -1;
    /* time_step_rank: an integer, or "auto" = ceil(hidden_size / 16) */
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "time_step_rank");
    if (cJSON_IsString(r) && !strcmp(r->valuestring, "auto")) c->dt_rank = 0;
    else if (json_get_int32(root, "time_step_rank", 0, 1, 1 << 20, &c->dt_rank, what, e)) return -1;
    int flag = 0;
    if (json_get_bool(root, "use_bias", 0, &flag, what, e)) return -1;
    if (flag) return err_set(e, "%s: use_bias = true (in_proj/out_proj biases) is not supported", what);
    flag = 1;
    if (json_get_bool(root, "use_conv_bias", 0, &flag, what, e)) return -1;
    if (!flag) return err_set(e, "%s: use_conv_bias = false is not supported", what);
    char variant[16] = "mamba1";
    if (json_get_string(root, "mamba_variant", 0, variant, sizeof variant, what, e)) return -1;
    if (!strcmp(variant, "mamba1")) c->mamba = MAMBA1;
    else if (!strcmp(variant, "lti")) c->mamba = MAMBA_LTI;
    else if (!strcmp(variant, "mamba2")) c->mamba = MAMBA2;
    else return err_set(e, "%s: mamba_variant \"%s\" must be mamba1, lti or mamba2", what, variant);
    char gate[16] = "silu"; /* seqbench's key: Mamba Table 1's "No gate" block */
    if (json_get_string(root, "mamba_gate", 0, gate, sizeof gate, what, e)) return -1;
    if (strcmp(gate, "silu") && strcmp(gate, "none"))
        return err_set(e, "%s: mamba_gate \"%s\" must be silu or none", what, gate);
    c->mamba_no_gate = !strcmp(gate, "none");
    return json_get_bool(root, "mamba_inner_norms", 0, &c->mamba_inner_norms, what, e);
}

void hf_mamba_keys_to_json(cJSON *o, const ModelCfg *c)
{
    cJSON_AddNumberToObject(o, "state_size", c->d_state);
    cJSON_AddNumberToObject(o, "expand", c->expand);
    cJSON_AddNumberToObject(o, "conv_kernel", c->d_conv);
    cJSON_AddNumberToObject(o, "time_step_rank", cfg_dt_rank(c));
    cJSON_AddBoolToObject(o, "use_bias", 0);
    cJSON_AddBoolToObject(o, "use_conv_bias", 1);
}

/* Mamba2Config: heads of head_dim, n_groups of B/C; the gated norm must be on */
static int mamba2_keys_from_json(const cJSON *root, ModelCfg *c, const char *what, Err *e)
{
    int heads = 0, flag = 1;
    c->mamba = MAMBA2;
    c->d_state = 128; /* Mamba2Config's defaults */
    c->n_groups = 8;
    c->ssm_head_dim = 64;
    c->chunk_size = 256;
    if (json_get_int32(root, "state_size", 0, 1, 1 << 12, &c->d_state, what, e) ||
        json_get_int32(root, "num_heads", 1, 1, 1 << 20, &heads, what, e) ||
        json_get_int32(root, "head_dim", 0, 1, 1 << 12, &c->ssm_head_dim, what, e) ||
        json_get_int32(root, "n_groups", 0, 1, 1 << 12, &c->n_groups, what, e) ||
        json_get_int32(root, "chunk_size", 0, 1, 1 << 20, &c->chunk_size, what, e) ||
        json_get_bool(root, "rms_norm", 0, &flag, what, e))
        return -1;
    if (!flag) return err_set(e, "%s: rms_norm = false (no gated norm) is not supported", what);
    /* Δ is not clamped: only the default limit (0, inf) is accepted. Python
     * writes inf as Infinity (read as inf) or, in transformers 5, {"__float__": "Infinity"}. */
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(root, "time_step_limit");
    if (lim && !cJSON_IsNull(lim)) {
        const cJSON *lo = cJSON_GetArrayItem(lim, 0), *hi = cJSON_GetArrayItem(lim, 1);
        int hi_inf = (cJSON_IsNumber(hi) && hi->valuedouble >= 1e30) ||
                     (cJSON_IsObject(hi) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(hi, "__float__")) &&
                      !strcmp(cJSON_GetObjectItemCaseSensitive(hi, "__float__")->valuestring, "Infinity"));
        if (!cJSON_IsArray(lim) || cJSON_GetArraySize(lim) != 2 || !cJSON_IsNumber(lo) || lo->valuedouble != 0 || !hi_inf)
            return err_set(e, "%s: time_step_limit other than [0.0, Infinity] (a clamp on dt) is not supported", what);
    }
    if ((long long)heads * c->ssm_head_dim != (long long)c->expand * c->d_model)
        return err_set(e, "%s: num_heads x head_dim = %d x %d must equal expand x hidden_size = %d x %d", what, heads,
                       c->ssm_head_dim, c->expand, c->d_model);
    return 0;
}

int hf_mamba_config_from_json(const cJSON *root, ModelCfg *c, const char *what, Err *e)
{
    long long layers = 0;
    int v2 = !strcmp(c->model_type, "mamba2");
    c->tie_embeddings = !v2; /* MambaConfig ties by default, Mamba2Config does not */
    c->norm_eps = 1e-5;
    if (json_get_int32(root, "vocab_size", 1, 2, 1 << 24, &c->vocab_size, what, e) ||
        json_get_int32(root, "hidden_size", 1, 1, 1 << 16, &c->d_model, what, e) ||
        json_get_int(root, "num_hidden_layers", 1, 1, SEQ_MAX_SUBLAYERS, &layers, what, e) ||
        json_get_double(root, "layer_norm_epsilon", 0, &c->norm_eps, what, e) ||
        json_get_bool(root, "tie_word_embeddings", 0, &c->tie_embeddings, what, e) ||
        hf_mamba_keys_from_json(root, c, what, e) || (v2 && mamba2_keys_from_json(root, c, what, e)))
        return -1;
    /* MambaConfig's hidden_act is the mixer's; in seqbench's layout the same
     * key is the MLP's activation (hf.c), so the check lives here, not in
     * hf_mamba_keys_from_json */
    char act[32] = "silu";
    if (json_get_string(root, "hidden_act", 0, act, sizeof act, what, e)) return -1;
    if (strcmp(act, "silu")) return err_set(e, "%s: Mamba hidden_act \"%s\" is not supported (silu)", what, act);
    if (!v2 && (c->mamba != MAMBA1 || c->mamba_inner_norms))
        return err_set(e, "%s: model_type mamba holds the selective mamba1 mixer only", what);
    if (c->mamba_no_gate)
        return err_set(e, "%s: model_type %s has no mamba_gate none (the no-gate block is model_type seqbench)", what,
                       c->model_type);
    memset(c->pattern, 'M', (size_t)layers);
    c->pattern[layers] = '\0';
    return 0;
}

cJSON *hf_mamba_config_to_json(const ModelCfg *c)
{
    int v2 = c->mamba == MAMBA2;
    cJSON *o = cJSON_CreateObject(), *arch = cJSON_AddArrayToObject(o, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString(v2 ? "Mamba2ForCausalLM" : "MambaForCausalLM"));
    cJSON_AddStringToObject(o, "model_type", v2 ? "mamba2" : "mamba");
    if (v2) {
        cJSON_AddNumberToObject(o, "num_heads", cfg_d_inner(c) / c->ssm_head_dim);
        cJSON_AddNumberToObject(o, "head_dim", c->ssm_head_dim);
        cJSON_AddNumberToObject(o, "n_groups", c->n_groups);
        cJSON_AddNumberToObject(o, "chunk_size", c->chunk_size);
        cJSON_AddBoolToObject(o, "rms_norm", 1);
    }
    cJSON_AddNumberToObject(o, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(o, "hidden_size", c->d_model);
    if (!v2) cJSON_AddNumberToObject(o, "intermediate_size", cfg_d_inner(c));
    cJSON_AddNumberToObject(o, "num_hidden_layers", (double)strlen(c->pattern));
    hf_mamba_keys_to_json(o, c);
    json_add_float(o, "layer_norm_epsilon", c->norm_eps);
    cJSON_AddStringToObject(o, "hidden_act", "silu");
    cJSON_AddNumberToObject(o, "pad_token_id", 0);
    cJSON_AddNumberToObject(o, "bos_token_id", 1);
    cJSON_AddNumberToObject(o, "eos_token_id", 2);
    json_add_float(o, "initializer_range", 0.1);
    cJSON_AddBoolToObject(o, "residual_in_fp32", 1);
    if (!v2) json_add_float(o, "time_step_scale", 1.0);
    json_add_float(o, "time_step_min", 0.001);
    json_add_float(o, "time_step_max", 0.1);
    if (!v2) cJSON_AddStringToObject(o, "time_step_init_scheme", "random");
    json_add_float(o, "time_step_floor", 0.0001);
    cJSON_AddBoolToObject(o, "rescale_prenorm_residual", 0);
    cJSON_AddBoolToObject(o, "use_cache", 1);
    if (!v2) cJSON_AddBoolToObject(o, "use_mambapy", 0);
    cJSON_AddBoolToObject(o, "tie_word_embeddings", c->tie_embeddings);
    cJSON_AddStringToObject(o, "torch_dtype", "float32");
    return o;
}
