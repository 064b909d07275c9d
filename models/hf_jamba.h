/* config.json of model_type "jamba" (JambaForCausalLM): layer i holds a
 * mixer (attention when i % attn_layer_period == attn_layer_offset, else a
 * Mamba-1 mixer with RMSNorm on dt, B, C) and a feed-forward (MoE when
 * i % expert_layer_period == expert_layer_offset, else a dense SwiGLU). */
#ifndef SEQ_HF_JAMBA_H
#define SEQ_HF_JAMBA_H

#include <cjson/cJSON.h>

#include "config.h"
#include "core/err.h"

int hf_is_jamba(const ModelCfg *c);
/* The layer pattern of (layers, periods, offsets): "M-ME*-..." ; -1 + Err if it places nothing sensible. */
int hf_jamba_pattern(int layers, int attn_period, int attn_offset, int expert_period, int expert_offset, int experts,
                     char *out, size_t cap, Err *e);
int hf_jamba_config_from_json(const cJSON *root, ModelCfg *c, const char *what, Err *e);
cJSON *hf_jamba_config_to_json(const ModelCfg *c);

#endif
