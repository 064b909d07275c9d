#include "names.h"

#include <stdio.h>
#include <string.h>

static const char *module_of(const ModelCfg *c, char symbol)
{
    int jamba = !strcmp(c->model_type, "jamba");
    switch (symbol) {
    case '*': case 'L': return "self_attn";
    case '-': return jamba ? "feed_forward" : "mlp";
    case 'E': return "feed_forward";
    case 'M': return jamba ? "mamba" : "mixer";
    case 'R': return "temporal_block";
    default: return "unknown";
    }
}

static int is(const ModelCfg *c, const char *type) { return !strcmp(c->model_type, type); }
static int is_mamba(const ModelCfg *c) { return is(c, "mamba") || is(c, "mamba2"); }

void names_layer(const ModelCfg *c, int l, char *norm, size_t norm_cap, char *prefix, size_t prefix_cap)
{
    char sym = c->pattern[l];
    if (is(c, "jamba")) { /* layer i = mixer 2i + feed-forward 2i+1 */
        int i = l / 2;
        snprintf(norm, norm_cap, "model.layers.%d.%s.weight", i, l % 2 ? "pre_ff_layernorm" : "input_layernorm");
        snprintf(prefix, prefix_cap, "model.layers.%d.%s.", i, module_of(c, sym));
        return;
    }
    if (is(c, "recurrent_gemma")) { /* layer i = temporal block 2i + MLP 2i+1 */
        int i = l / 2;
        snprintf(norm, norm_cap, "model.layers.%d.%s.weight", i, l % 2 ? "channel_pre_norm" : "temporal_pre_norm");
        snprintf(prefix, prefix_cap, "model.layers.%d.%s.", i, l % 2 ? "mlp_block" : "temporal_block");
        return;
    }
    if (is_mamba(c)) {
        snprintf(norm, norm_cap, "backbone.layers.%d.norm.weight", l);
        snprintf(prefix, prefix_cap, "backbone.layers.%d.mixer.", l);
        return;
    }
    if (!strcmp(c->model_type, "llama")) {
        int i = l / 2;
        snprintf(norm, norm_cap, "model.layers.%d.%s.weight", i, l % 2 ? "post_attention_layernorm" : "input_layernorm");
        snprintf(prefix, prefix_cap, "model.layers.%d.%s.", i, module_of(c, sym));
        return;
    }
    snprintf(norm, norm_cap, "model.layers.%d.norm.weight", l);
    snprintf(prefix, prefix_cap, "model.layers.%d.%s.", l, module_of(c, sym));
}

const char *names_embed(const ModelCfg *c) { return is_mamba(c) ? "backbone.embeddings.weight" : "model.embed_tokens.weight"; }
const char *names_final_norm(const ModelCfg *c)
{
    if (is_mamba(c)) return "backbone.norm_f.weight";
    if (is(c, "recurrent_gemma")) return "model.final_norm.weight";
    return is(c, "jamba") ? "model.final_layernorm.weight" : "model.norm.weight";
}
const char *names_head(const ModelCfg *c) { (void)c; return "lm_head.weight"; }
