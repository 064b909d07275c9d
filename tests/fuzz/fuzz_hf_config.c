/* The Hugging Face config -> model mapping (models/hf.c and its per-family
 * readers), float build: json_parse_text, hf_config_from_json, and for an
 * accepted config model_layout + model_param_counts + model_free.
 *
 * model_layout allocates the layer and tensor tables only, never parameters
 * (model_create does, through mem_alloc's budget), so a valid paper-scale
 * config costs tables, not gigabytes. cfg_validate bounds the tables: at
 * most SEQ_MAX_SUBLAYERS layers of 1 norm + 1 router + 3 x 128 experts,
 * 395,267 tensors of 168 bytes = 66 MB for a 1024-layer, 128-expert MoE
 * stack (its 2.7e16 parameters are only counted). That takes a second under
 * ASan, so configs with more than SKIP_EXPERT_TENSORS expert tensors stop
 * after parsing: mutations of such a config would otherwise eat the run.
 *
 * Properties: an accepted config lays out, its counts add up, and it
 * survives save -> load (hf_config_to_json, then hf_config_from_json again,
 * as hf_save then hf_load do): accepted again, the same parameter count, and
 * every field that matters for its pattern unchanged; also when saved under
 * the layout hf_choose_model_type picks, as `seqbench train --save` does. */
#include <string.h>

#include "core/jsonio.h"
#include "fuzz.h"
#include "models/hf.h"
#include "models/model.h"

enum { SKIP_EXPERT_TENSORS = 1 << 13 };

static size_t layout(const ModelCfg *c, const char *what)
{
    Model m;
    Err e;
    FUZZ_CHECK(model_layout(&m, c, &e) == 0, "%s: accepted config does not lay out: %s", what, e.msg);
    FUZZ_CHECK(m.params == NULL && m.n_layers == (int)strlen(c->pattern), "%s: layout allocated parameters", what);
    ParamCounts pc;
    model_param_counts(&m, &pc);
    size_t layers = 0;
    for (int s = 0; s < 128; s++) layers += pc.by_symbol[s];
    FUZZ_CHECK(pc.total == m.n_params && pc.active <= pc.total &&
                   pc.total == pc.embedding + pc.head + pc.norms + layers,
               "%s: counts: total %zu, active %zu, embedding %zu + head %zu + norms %zu + sublayers %zu", what,
               pc.total, pc.active, pc.embedding, pc.head, pc.norms, layers);
    size_t end = 0;
    for (int i = 0; i < m.n_tensors; i++) {
        const ModelTensor *t = &m.tensors[i];
        FUZZ_CHECK(t->offset + t->numel <= m.n_params, "%s: tensor \"%s\" past the parameters", what, t->name);
        if (t->offset + t->numel > end) end = t->offset + t->numel;
    }
    FUZZ_CHECK(end == m.n_params, "%s: tensors end at %zu of %zu parameters", what, end, m.n_params);
    size_t n = m.n_params;
    model_free(&m);
    return n;
}

/* The fields that shape the model's mathematics under c's pattern: after
 * save -> load each must be what it was (one that differs names itself). */
static const char *changed_field(const ModelCfg *a, const ModelCfg *b)
{
#define SAME(expr, name) if ((expr)) return name
    SAME(strcmp(a->model_type, b->model_type), "model_type");
    SAME(strcmp(a->pattern, b->pattern), "pattern");
    SAME(a->vocab_size != b->vocab_size || a->d_model != b->d_model, "vocab_size/d_model");
    SAME(a->tie_embeddings != b->tie_embeddings || a->norm_eps != b->norm_eps || a->norm_plus_one != b->norm_plus_one,
         "tie_embeddings/norm_eps/norm_plus_one");
    SAME(a->embed_scale != b->embed_scale || a->logits_soft_cap != b->logits_soft_cap, "embed_scale/logits_soft_cap");
    const char *p = a->pattern;
    if (strchr(p, '*') || strchr(p, 'L')) {
        SAME(a->n_heads != b->n_heads || a->n_kv_heads != b->n_kv_heads || a->head_dim != b->head_dim, "heads");
        SAME(a->pos_encoding != b->pos_encoding || a->attn_out_bias != b->attn_out_bias, "pos_encoding/attn_out_bias");
        if (a->pos_encoding == POS_ROPE)
            SAME(a->rope_theta != b->rope_theta || a->partial_rotary_factor != b->partial_rotary_factor, "rope");
    }
    if (strchr(p, 'L')) SAME(a->window != b->window, "window");
    if (strchr(p, '-')) SAME(a->d_ff != b->d_ff || a->mlp_act != b->mlp_act || a->mlp_bias != b->mlp_bias, "mlp");
    if (strchr(p, 'M')) {
        SAME(a->mamba != b->mamba || a->d_state != b->d_state || a->expand != b->expand || a->d_conv != b->d_conv,
             "mamba");
        if (a->mamba == MAMBA1) /* only the selective mixer has these */
            SAME(cfg_dt_rank(a) != cfg_dt_rank(b) || a->mamba_inner_norms != b->mamba_inner_norms, "mamba1");
        if (a->mamba == MAMBA2)
            SAME(a->ssm_head_dim != b->ssm_head_dim || a->n_groups != b->n_groups || a->chunk_size != b->chunk_size,
                 "mamba2");
    }
    if (strchr(p, 'E'))
        SAME(a->n_experts != b->n_experts || a->experts_per_tok != b->experts_per_tok ||
                 (a->expert_d_ff ? a->expert_d_ff : a->d_ff) != (b->expert_d_ff ? b->expert_d_ff : b->d_ff) ||
                 a->router_renormalize != b->router_renormalize || a->router_aux_coef != b->router_aux_coef,
             "moe");
    if (strchr(p, 'R'))
        SAME(cfg_lru_width(a) != cfg_lru_width(b) || cfg_rglru_heads(a) != cfg_rglru_heads(b) ||
                 a->conv1d_width != b->conv1d_width,
             "rglru");
    return NULL;
#undef SAME
}

/* c through hf_config_to_json and hf_config_from_json again: accepted, the
 * same model (changed_field) and the same parameter count. */
static void save_load(const ModelCfg *c, size_t n_params)
{
    Err e;
    cJSON *saved = hf_config_to_json(c);
    char *text = saved ? cJSON_PrintUnformatted(saved) : NULL;
    FUZZ_CHECK(text, "cannot format the config");
    cJSON_Delete(saved);
    cJSON *root = json_parse_text(text, strlen(text), "saved config.json", &e);
    FUZZ_CHECK(root, "%s\n%s", e.msg, text);
    ModelCfg back;
    FUZZ_CHECK(hf_config_from_json(root, &back, "saved config.json", &e) == 0, "%s\n%s", e.msg, text);
    const char *changed = changed_field(c, &back);
    FUZZ_CHECK(!changed, "%s changed over save -> load\n%s", changed, text);
    size_t n_back = layout(&back, "saved config.json");
    FUZZ_CHECK(n_back == n_params, "%zu parameters came back as %zu\n%s", n_params, n_back, text);
    cJSON_Delete(root);
    cJSON_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Err e;
    cJSON *root = json_parse_text((const char *)data, size, "config.json", &e);
    if (!root) return 0;
    ModelCfg c;
    int rc = hf_config_from_json(root, &c, "config.json", &e);
    cJSON_Delete(root);
    if (rc) return 0;
    size_t moe_layers = 0;
    for (const char *p = c.pattern; *p; p++) moe_layers += *p == 'E';
    if (moe_layers * 3 * (size_t)c.n_experts > SKIP_EXPERT_TENSORS) return 0;
    size_t n_params = layout(&c, "config.json");
    /* as the file named it (load -> save), and as a model built from options
     * is saved: under the layout hf_choose_model_type picks for it */
    save_load(&c, n_params);
    ModelCfg chosen = c;
    hf_choose_model_type(&chosen);
    if (strcmp(chosen.model_type, c.model_type)) save_load(&chosen, n_params);
    return 0;
}
