/* Tensor names of the checkpoint layouts (DESIGN §5). model_type "llama"
 * pairs each attention sublayer with the MLP after it as one Hugging Face
 * decoder layer; seqbench's own layout (any pattern) gives every sublayer
 * its own "model.layers.{i}" with the same naming scheme. */
#ifndef SEQ_NAMES_H
#define SEQ_NAMES_H

#include <stddef.h>

#include "config.h"

/* Name of sublayer l's pre-norm weight and the prefix of its own tensors. */
void names_layer(const ModelCfg *c, int l, char *norm, size_t norm_cap, char *prefix, size_t prefix_cap);
const char *names_embed(const ModelCfg *c);
const char *names_final_norm(const ModelCfg *c);
const char *names_head(const ModelCfg *c);

#endif
