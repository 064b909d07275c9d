#include "names.h"

#include <stdio.h>
#include <string.h>

static const char *module_of(char symbol)
{
    switch (symbol) {
    case '*': case 'L': return "self_attn";
    case '-': return "mlp";
    case 'E': return "feed_forward";
    case 'M': return "mixer";
    case 'R': return "temporal_block";
    default: return "unknown";
    }
}

void names_layer(const ModelCfg *c, int l, char *norm, size_t norm_cap, char *prefix, size_t prefix_cap)
{
    char sym = c->pattern[l];
    if (!strcmp(c->model_type, "llama")) {
        int i = l / 2;
        snprintf(norm, norm_cap, "model.layers.%d.%s.weight", i, l % 2 ? "post_attention_layernorm" : "input_layernorm");
        snprintf(prefix, prefix_cap, "model.layers.%d.%s.", i, module_of(sym));
        return;
    }
    snprintf(norm, norm_cap, "model.layers.%d.norm.weight", l);
    snprintf(prefix, prefix_cap, "model.layers.%d.%s.", l, module_of(sym));
}

const char *names_embed(const ModelCfg *c) { (void)c; return "model.embed_tokens.weight"; }
const char *names_final_norm(const ModelCfg *c) { (void)c; return "model.norm.weight"; }
const char *names_head(const ModelCfg *c) { (void)c; return "lm_head.weight"; }
