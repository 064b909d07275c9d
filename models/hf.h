/* Hugging Face checkpoint layout (DESIGN §5): a directory with config.json
 * and model.safetensors, exactly as transformers' save_pretrained writes
 * them for model_type "llama"; any other pattern is saved with model_type
 * "seqbench" and the same naming scheme (models/names.c). */
#ifndef SEQ_HF_H
#define SEQ_HF_H

#include <cjson/cJSON.h>

#include "config.h"
#include "core/err.h"
#include "model.h"

/* Parses a config.json object into c (defaults for missing optional keys). */
int hf_config_from_json(const cJSON *root, ModelCfg *c, const char *what, Err *e);
/* The config.json object for c (caller frees). */
cJSON *hf_config_to_json(const ModelCfg *c);
/* Picks the checkpoint layout: "llama" when the model is exactly a Llama. */
void hf_choose_model_type(ModelCfg *c);

/* Reads dir/config.json and dir/model.safetensors into a new model. Every
 * tensor must be present with its exact shape, and no other may be. */
int hf_load(Model *m, const char *dir, Err *e);
/* Writes dir/config.json and dir/model.safetensors (each atomically). */
int hf_save(const Model *m, const char *dir, Err *e);

#endif
