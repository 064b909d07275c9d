/* config.json of model_type "recurrent_gemma" (RecurrentGemmaForCausalLM:
 * Hawk and Griffin). Each Hugging Face layer is a temporal block (RG-LRU or
 * local attention, by block_types) followed by the GeGLU MLP. */
#ifndef SEQ_HF_RECURRENT_GEMMA_H
#define SEQ_HF_RECURRENT_GEMMA_H

#include <cjson/cJSON.h>

#include "config.h"
#include "core/err.h"

/* Whether c is exactly a RecurrentGemma model (pattern, norms, biases, scale, cap). */
int hf_is_recurrent_gemma(const ModelCfg *c);
int hf_recurrent_gemma_config_from_json(const cJSON *root, ModelCfg *c, const char *what, Err *e);
cJSON *hf_recurrent_gemma_config_to_json(const ModelCfg *c);

#endif
