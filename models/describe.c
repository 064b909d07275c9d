#include "models/describe.h"

#include <stdio.h>

#include "models/hf.h"
#include "models/pattern.h"

cJSON *model_describe(const Model *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "pattern", m->cfg.pattern);
    cJSON_AddStringToObject(o, "model_type", m->cfg.model_type);
    cJSON_AddItemToObject(o, "config", hf_config_to_json(&m->cfg));
    ParamCounts pc;
    model_param_counts(m, &pc);
    cJSON *p = cJSON_AddObjectToObject(o, "params");
    cJSON_AddNumberToObject(p, "total", (double)pc.total);
    cJSON_AddNumberToObject(p, "embedding", (double)pc.embedding);
    cJSON_AddNumberToObject(p, "lm_head", (double)pc.head);
    cJSON_AddNumberToObject(p, "norms", (double)pc.norms);
    cJSON *by = cJSON_AddObjectToObject(p, "by_sublayer");
    for (int s = 0; s < 128; s++)
        if (pc.by_symbol[s]) {
            char key[64];
            snprintf(key, sizeof key, "%c %s", s, pattern_symbol_name((char)s));
            cJSON_AddNumberToObject(by, key, (double)pc.by_symbol[s]);
        }
    return o;
}
