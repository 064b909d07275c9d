/* A model as a result file records it: its pattern, its Hugging Face config
 * and its parameter counts by part, so a figure in a result names exactly the
 * model that produced it (DESIGN §9). */
#ifndef SEQ_DESCRIBE_H
#define SEQ_DESCRIBE_H

#include <cjson/cJSON.h>

#include "models/model.h"

/* {"pattern", "model_type", "config": {...}, "params": {total, embedding, lm_head, norms, by_sublayer}} */
cJSON *model_describe(const Model *m);

#endif
