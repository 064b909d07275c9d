#include "hf.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "core/jsonio.h"
#include "core/mem.h"
#include "core/safetensors.h"
#include "hf_mamba.h"
#include "hf_recurrent_gemma.h"
#include "hf_jamba.h"

static int is_llama_pattern(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n % 2) return 0;
    for (size_t i = 0; i < n; i += 2)
        if (p[i] != '*' || p[i + 1] != '-') return 0;
    return 1;
}

/* The Gemma-style extras only the seqbench and recurrent_gemma layouts
 * carry: saved as llama or mamba, they would be dropped (or refused). */
static int no_extras(const ModelCfg *c)
{
    return !c->norm_plus_one && !c->embed_scale && !c->logits_soft_cap && !c->mlp_bias && !c->attn_out_bias;
}

static int all_mamba(const ModelCfg *c)
{
    for (const char *s = c->pattern; *s; s++)
        if (*s != 'M') return 0;
    /* MambaConfig has no switch for the gate: a no-gate block goes to seqbench's layout */
    return ((c->mamba == MAMBA1 && !c->mamba_inner_norms) || c->mamba == MAMBA2) && !c->mamba_no_gate && no_extras(c);
}

void hf_choose_model_type(ModelCfg *c)
{
    if (hf_is_recurrent_gemma(c)) {
        snprintf(c->model_type, sizeof c->model_type, "recurrent_gemma");
        return;
    }
    if (hf_is_jamba(c)) {
        snprintf(c->model_type, sizeof c->model_type, "jamba");
        return;
    }
    if (all_mamba(c)) {
        snprintf(c->model_type, sizeof c->model_type, "%s", c->mamba == MAMBA2 ? "mamba2" : "mamba");
        return;
    }
    int llama = is_llama_pattern(c->pattern) && c->pos_encoding == POS_ROPE && cfg_rotary_dim(c) == c->head_dim &&
                c->mlp_act == ACT_SILU && no_extras(c);
    snprintf(c->model_type, sizeof c->model_type, "%s", llama ? "llama" : "seqbench");
}

/* Older transformers write rope_theta at the top level and "rope_scaling":
 * null; newer ones a "rope_parameters" object {"rope_type": "default",
 * "rope_theta": ...}. Both mean plain RoPE; any scaled variant is refused
 * rather than silently computed wrong. */
static int read_rope_parameters(const cJSON *root, ModelCfg *c, const char *what, Err *e)
{
    const char *keys[] = {"rope_scaling", "rope_parameters"};
    for (int k = 0; k < 2; k++) {
        const cJSON *rp = cJSON_GetObjectItemCaseSensitive(root, keys[k]);
        if (!rp || cJSON_IsNull(rp)) continue;
        if (!cJSON_IsObject(rp)) return err_set(e, "%s: %s must be an object or null", what, keys[k]);
        char type[32] = "default";
        if (json_get_string(rp, "type", 0, type, sizeof type, what, e) ||
            json_get_string(rp, "rope_type", 0, type, sizeof type, what, e))
            return -1;
        if (strcmp(type, "default"))
            return err_set(e, "%s: %s rope_type \"%s\" is not supported (only default RoPE)", what, keys[k], type);
        if (json_get_double(rp, "rope_theta", 0, &c->rope_theta, what, e) ||
            json_get_double(rp, "partial_rotary_factor", 0, &c->partial_rotary_factor, what, e))
            return -1;
    }
    return 0;
}

/* seqbench's own layout carries every switch a pattern may use: RG-LRU
 * sizes, MoE routing, and the Gemma-style extras, so save -> load is exact */
static void write_seqbench_extras(cJSON *o, const ModelCfg *c)
{
    if (strchr(c->pattern, 'R')) {
        cJSON_AddNumberToObject(o, "lru_width", cfg_lru_width(c));
        cJSON_AddNumberToObject(o, "rglru_heads", cfg_rglru_heads(c));
        cJSON_AddNumberToObject(o, "conv1d_width", c->conv1d_width);
    }
    if (strchr(c->pattern, 'E')) {
        cJSON_AddNumberToObject(o, "num_experts", c->n_experts);
        cJSON_AddNumberToObject(o, "num_experts_per_tok", c->experts_per_tok);
        cJSON_AddNumberToObject(o, "expert_intermediate_size", c->expert_d_ff);
        cJSON_AddBoolToObject(o, "router_renormalize", c->router_renormalize);
        json_add_float(o, "router_aux_loss_coef", c->router_aux_coef);
    }
    cJSON_AddBoolToObject(o, "attention_out_bias", c->attn_out_bias);
    cJSON_AddBoolToObject(o, "norm_plus_one", c->norm_plus_one);
    json_add_float(o, "embedding_scale", c->embed_scale);
    json_add_float(o, "logits_soft_cap", c->logits_soft_cap);
}

static int read_seqbench_extras(const cJSON *root, ModelCfg *c, const char *what, Err *e)
{
    if (json_get_int32(root, "lru_width", 0, 0, 1 << 20, &c->lru_width, what, e) ||
        json_get_int32(root, "rglru_heads", 0, 0, 1 << 12, &c->rglru_heads, what, e) ||
        json_get_int32(root, "conv1d_width", 0, 1, 64, &c->conv1d_width, what, e) ||
        json_get_int32(root, "num_experts", 0, 1, 128, &c->n_experts, what, e) ||
        json_get_int32(root, "num_experts_per_tok", 0, 1, 128, &c->experts_per_tok, what, e) ||
        json_get_int32(root, "expert_intermediate_size", 0, 0, 1 << 20, &c->expert_d_ff, what, e) ||
        json_get_int32(root, "ssm_head_dim", 0, 1, 1 << 12, &c->ssm_head_dim, what, e) ||
        json_get_int32(root, "n_groups", 0, 1, 1 << 12, &c->n_groups, what, e) ||
        json_get_int32(root, "chunk_size", 0, 1, 1 << 16, &c->chunk_size, what, e))
        return -1;
    return json_get_bool(root, "router_renormalize", 0, &c->router_renormalize, what, e) ||
                   json_get_double(root, "router_aux_loss_coef", 0, &c->router_aux_coef, what, e) ||
                   json_get_bool(root, "attention_out_bias", 0, &c->attn_out_bias, what, e) ||
                   json_get_bool(root, "norm_plus_one", 0, &c->norm_plus_one, what, e) ||
                   json_get_double(root, "embedding_scale", 0, &c->embed_scale, what, e) ||
                   json_get_double(root, "logits_soft_cap", 0, &c->logits_soft_cap, what, e)
               ? -1
               : 0;
}

#define GET_INT(key, req, lo, hi, field) \
    if (json_get_int32(root, key, req, lo, hi, &c->field, what, e)) return -1

int hf_config_from_json(const cJSON *root, ModelCfg *c, const char *what, Err *e)
{
    cfg_defaults(c);
    if (!cJSON_IsObject(root)) return err_set(e, "%s: expected a JSON object", what);
    char type[32] = "";
    if (json_get_string(root, "model_type", 1, type, sizeof type, what, e)) return -1;
    if (strcmp(type, "llama") && strcmp(type, "seqbench") && strcmp(type, "mamba") && strcmp(type, "mamba2") &&
        strcmp(type, "recurrent_gemma") && strcmp(type, "jamba"))
        return err_set(e, "%s: model_type \"%s\" is not supported (supported: llama, mamba, mamba2, recurrent_gemma, "
                          "jamba, seqbench)", what, type);
    snprintf(c->model_type, sizeof c->model_type, "%s", type);
    if (!strcmp(type, "recurrent_gemma") || !strcmp(type, "jamba")) {
        int rc = type[0] == 'j' ? hf_jamba_config_from_json(root, c, what, e)
                                : hf_recurrent_gemma_config_from_json(root, c, what, e);
        if (rc) return -1;
        return cfg_validate(c, e) ? err_prefix(e, what) : 0;
    }
    if (!strcmp(type, "mamba") || !strcmp(type, "mamba2")) {
        if (hf_mamba_config_from_json(root, c, what, e)) return -1;
        return cfg_validate(c, e) ? err_prefix(e, what) : 0;
    }
    long long layers = 0;
    GET_INT("vocab_size", 1, 2, 1 << 24, vocab_size);
    GET_INT("hidden_size", 1, 1, 1 << 16, d_model);
    GET_INT("num_attention_heads", 1, 1, 1 << 12, n_heads);
    c->n_kv_heads = c->n_heads;
    GET_INT("num_key_value_heads", 0, 1, 1 << 12, n_kv_heads);
    c->head_dim = c->d_model / c->n_heads;
    /* any hidden_size / heads, 0 to 2^16, is what hf_config_to_json writes for
     * a model without attention; cfg_validate holds it to [1, 4096] when the
     * pattern has some */
    GET_INT("head_dim", 0, 0, 1 << 16, head_dim);
    GET_INT("intermediate_size", 1, 1, 1 << 20, d_ff);
    GET_INT("max_position_embeddings", 0, 1, 1 << 30, max_seq_len);
    c->norm_eps = 1e-6;
    if (json_get_double(root, "rms_norm_eps", 0, &c->norm_eps, what, e)) return -1;
    if (json_get_double(root, "rope_theta", 0, &c->rope_theta, what, e)) return -1;
    if (json_get_double(root, "partial_rotary_factor", 0, &c->partial_rotary_factor, what, e)) return -1;
    c->tie_embeddings = 0; /* LlamaConfig's default */
    if (json_get_bool(root, "tie_word_embeddings", 0, &c->tie_embeddings, what, e)) return -1;
    char act[32] = "silu";
    if (json_get_string(root, "hidden_act", 0, act, sizeof act, what, e)) return -1;
    if (json_get_string(root, "hidden_activation", 0, act, sizeof act, what, e)) return -1;
    if (!strcmp(act, "silu")) c->mlp_act = ACT_SILU;
    else if (!strcmp(act, "gelu_pytorch_tanh")) c->mlp_act = ACT_GELU_TANH;
    else return err_set(e, "%s: hidden_act \"%s\" is not supported (silu, gelu_pytorch_tanh)", what, act);
    int flag = 0;
    if (json_get_bool(root, "attention_bias", 0, &flag, what, e)) return -1;
    if (flag) return err_set(e, "%s: attention_bias = true is not supported", what);
    if (json_get_bool(root, "mlp_bias", 0, &flag, what, e)) return -1;
    if (flag && !strcmp(type, "llama")) return err_set(e, "%s: mlp_bias = true is not supported", what);
    c->mlp_bias = flag;
    if (read_rope_parameters(root, c, what, e)) return -1;

    if (!strcmp(type, "llama")) {
        if (json_get_int(root, "num_hidden_layers", 1, 1, SEQ_MAX_SUBLAYERS / 2, &layers, what, e)) return -1;
        for (long long i = 0; i < layers; i++) memcpy(c->pattern + 2 * i, "*-", 2);
        c->pattern[2 * layers] = '\0';
    } else {
        if (json_get_string(root, "pattern", 1, c->pattern, sizeof c->pattern, what, e)) return -1;
        char pos[16] = "rope";
        if (json_get_string(root, "position_encoding", 0, pos, sizeof pos, what, e)) return -1;
        if (!strcmp(pos, "none")) c->pos_encoding = POS_NONE;
        else if (strcmp(pos, "rope")) return err_set(e, "%s: position_encoding \"%s\" must be rope or none", what, pos);
        GET_INT("attention_window_size", 0, 0, INT_MAX, window);
        if (strchr(c->pattern, 'M') && hf_mamba_keys_from_json(root, c, what, e)) return -1;
        if (read_seqbench_extras(root, c, what, e)) return -1;
    }
    if (cfg_validate(c, e)) return err_prefix(e, what);
    return 0;
}

cJSON *hf_config_to_json(const ModelCfg *c)
{
    if (!strcmp(c->model_type, "mamba") || !strcmp(c->model_type, "mamba2")) return hf_mamba_config_to_json(c);
    if (!strcmp(c->model_type, "recurrent_gemma")) return hf_recurrent_gemma_config_to_json(c);
    if (!strcmp(c->model_type, "jamba")) return hf_jamba_config_to_json(c);
    int llama = !strcmp(c->model_type, "llama");
    cJSON *o = cJSON_CreateObject(), *arch = cJSON_AddArrayToObject(o, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString(llama ? "LlamaForCausalLM" : "SeqbenchForCausalLM"));
    cJSON_AddStringToObject(o, "model_type", c->model_type);
    cJSON_AddNumberToObject(o, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(o, "hidden_size", c->d_model);
    cJSON_AddNumberToObject(o, "intermediate_size", c->d_ff);
    if (llama) cJSON_AddNumberToObject(o, "num_hidden_layers", (double)strlen(c->pattern) / 2);
    else cJSON_AddStringToObject(o, "pattern", c->pattern);
    cJSON_AddNumberToObject(o, "num_attention_heads", c->n_heads);
    cJSON_AddNumberToObject(o, "num_key_value_heads", c->n_kv_heads);
    cJSON_AddNumberToObject(o, "head_dim", c->head_dim);
    cJSON_AddStringToObject(o, "hidden_act", c->mlp_act == ACT_SILU ? "silu" : "gelu_pytorch_tanh");
    cJSON_AddNumberToObject(o, "max_position_embeddings", c->max_seq_len);
    json_add_float(o, "rms_norm_eps", c->norm_eps);
    json_add_float(o, "rope_theta", c->rope_theta);
    cJSON_AddNullToObject(o, "rope_scaling");
    /* a Llama config may carry it too (read above; transformers' RoPE honours it) */
    if (!llama || c->partial_rotary_factor != 1) json_add_float(o, "partial_rotary_factor", c->partial_rotary_factor);
    if (!llama) {
        cJSON_AddStringToObject(o, "position_encoding", c->pos_encoding == POS_ROPE ? "rope" : "none");
        cJSON_AddNumberToObject(o, "attention_window_size", c->window);
        if (strchr(c->pattern, 'M')) {
            hf_mamba_keys_to_json(o, c);
            const char *v[] = {"mamba1", "lti", "mamba2"};
            cJSON_AddStringToObject(o, "mamba_variant", v[c->mamba]);
            cJSON_AddStringToObject(o, "mamba_gate", c->mamba_no_gate ? "none" : "silu");
            cJSON_AddBoolToObject(o, "mamba_inner_norms", c->mamba_inner_norms);
            cJSON_AddNumberToObject(o, "ssm_head_dim", c->ssm_head_dim);
            cJSON_AddNumberToObject(o, "n_groups", c->n_groups);
            cJSON_AddNumberToObject(o, "chunk_size", c->chunk_size);
        }
        write_seqbench_extras(o, c);
    }
    cJSON_AddBoolToObject(o, "tie_word_embeddings", c->tie_embeddings);
    cJSON_AddBoolToObject(o, "attention_bias", 0);
    json_add_float(o, "attention_dropout", 0.0);
    cJSON_AddBoolToObject(o, "mlp_bias", c->mlp_bias);
    cJSON_AddNumberToObject(o, "pretraining_tp", 1);
    json_add_float(o, "initializer_range", 0.02);
    cJSON_AddNumberToObject(o, "bos_token_id", 1);
    cJSON_AddNumberToObject(o, "eos_token_id", 2);
    cJSON_AddBoolToObject(o, "use_cache", 1);
    cJSON_AddStringToObject(o, "torch_dtype", "float32");
    return o;
}

static void path_join(char *out, size_t cap, const char *dir, const char *file)
{
    size_t n = strlen(dir);
    snprintf(out, cap, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", file);
}

static void shape_str(char *buf, size_t cap, int rank, const long long *shape)
{
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < rank && k < cap; i++) k += (size_t)snprintf(buf + k, cap - k, i ? ", %lld" : "%lld", shape[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

static int load_tensors(Model *m, const StFile *f, const char *file, Err *e)
{
    for (int i = 0; i < m->n_tensors; i++) {
        const ModelTensor *t = &m->tensors[i];
        const StTensor *st = st_find(f, t->name);
        if (!st) return err_set(e, "%s: missing tensor \"%s\"", file, t->name);
        long long want[3] = {t->shape[0], t->shape[1], t->shape[2]};
        int same = st->rank == t->rank;
        for (int k = 0; same && k < t->rank; k++) same = st->shape[k] == want[k];
        if (!same) {
            char have[96], need[96];
            shape_str(have, sizeof have, st->rank, st->shape);
            shape_str(need, sizeof need, t->rank, want);
            return err_set(e, "%s: tensor \"%s\" has shape %s but the config needs %s", file, t->name, have, need);
        }
#ifdef SEQ_F64
        if (st_read_f64(f, st, m->params + t->offset, t->numel, e)) return -1;
#else
        if (st_read_f32(f, st, m->params + t->offset, t->numel, e)) return -1;
#endif
    }
    for (int i = 0; i < f->n; i++) {
        const char *name = f->t[i].name;
        if (model_find_tensor(m, name)) continue;
        if (m->cfg.tie_embeddings && !strcmp(name, "lm_head.weight")) continue; /* tied: the embedding is used */
        return err_set(e, "%s: unexpected tensor \"%s\" (not part of a %s model with this config)", file, name,
                       m->cfg.model_type);
    }
    return 0;
}

int hf_load(Model *m, const char *dir, Err *e)
{
    char path[4096];
    path_join(path, sizeof path, dir, "config.json");
    cJSON *root = json_read_file(path, e);
    if (!root) return -1;
    ModelCfg c;
    int rc = hf_config_from_json(root, &c, path, e);
    cJSON_Delete(root);
    if (rc) return -1;
    if (model_create(m, &c, e)) return err_prefix(e, path);
    path_join(path, sizeof path, dir, "model.safetensors");
    StFile f;
    if (st_open(&f, path, e) || load_tensors(m, &f, path, e)) {
        st_close(&f);
        model_free(m);
        return -1;
    }
    st_close(&f);
    return 0;
}

int hf_save(const Model *m, const char *dir, Err *e)
{
    /* only seqbench's layout records the gate: any other would reload as a gated model */
    if (m->cfg.mamba_no_gate && strchr(m->cfg.pattern, 'M') && strcmp(m->cfg.model_type, "seqbench"))
        return err_set(e, "%s: a Mamba block without its gate (mamba_gate none) is saved only with model_type "
                          "seqbench, not %s", dir, m->cfg.model_type);
    if (mkdir_p(dir, e)) return -1;
    char path[4096];
    StWrite *w = calloc((size_t)m->n_tensors, sizeof *w);
    float *copy = NULL;
#ifdef SEQ_F64
    copy = mem_alloc(m->n_params, sizeof(float), "checkpoint copy", e);
    if (!copy) { free(w); return -1; }
    for (size_t i = 0; i < m->n_params; i++) copy[i] = (float)m->params[i];
    const float *base = copy;
#else
    const float *base = m->params;
#endif
    for (int i = 0; i < m->n_tensors; i++) {
        const ModelTensor *t = &m->tensors[i];
        w[i].name = t->name;
        w[i].rank = t->rank;
        for (int k = 0; k < t->rank; k++) w[i].shape[k] = t->shape[k];
        w[i].data = base + t->offset;
    }
    path_join(path, sizeof path, dir, "model.safetensors");
    int rc = st_write_f32(path, w, m->n_tensors, e);
    free(w);
    free(copy);
    if (rc) return -1;
    path_join(path, sizeof path, dir, "config.json");
    cJSON *cfg = hf_config_to_json(&m->cfg);
    rc = json_write_file(path, cfg, e);
    cJSON_Delete(cfg);
    return rc;
}
