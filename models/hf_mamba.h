/* config.json of the Mamba layouts: model_type "mamba" (MambaForCausalLM)
 * and the Mamba keys seqbench's own layout carries for `M` sublayers. */
#ifndef SEQ_HF_MAMBA_H
#define SEQ_HF_MAMBA_H

#include <cjson/cJSON.h>

#include "config.h"
#include "core/err.h"

/* The mixer keys (state_size, expand, conv_kernel, time_step_rank, ...). */
int hf_mamba_keys_from_json(const cJSON *root, ModelCfg *c, const char *what, Err *e);
void hf_mamba_keys_to_json(cJSON *o, const ModelCfg *c);

/* A whole model_type "mamba" or "mamba2" config (c already has cfg_defaults
 * and c->model_type set). */
int hf_mamba_config_from_json(const cJSON *root, ModelCfg *c, const char *what, Err *e);
cJSON *hf_mamba_config_to_json(const ModelCfg *c);

#endif
