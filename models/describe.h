/* A model as a result file records it: its pattern, its Hugging Face config
 * and its parameter counts by part, so a figure in a result names exactly the
 * model that produced it (DESIGN §9). */
#ifndef SEQ_DESCRIBE_H
#define SEQ_DESCRIBE_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "models/model.h"

/* {"pattern", "model_type", "config": {...}, "params": {total, embedding, lm_head, norms, by_sublayer}} */
cJSON *model_describe(const Model *m);

/* Bytes of the decode state of B sequences at context ctx, bytes_per_value a
 * cached value: the KV caches of attention layers (`*`, `L`) apart from the
 * recurrent states (conv windows, SSM and LRU states). */
typedef struct { double kv, rec; } StateBytes;
StateBytes model_state_split(const ModelCfg *c, int B, int ctx, double bytes_per_value);

/* What `seqbench params` reports of a model laid out in m: parameter counts by
 * part, the state bytes at (batch, ctx, precision), forward FLOPs per token. */
cJSON *model_sizes_json(const Model *m, int batch, int ctx, const char *precision, double bytes_per_value);

/* One line per configs/ file in dir (name, total and active parameters, the
 * paper row it transcribes), by family, then size. */
int model_list_configs(const char *dir, FILE *f, Err *e);

#endif
