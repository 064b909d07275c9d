#include "models/describe.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonio.h"
#include "core/results.h"
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

StateBytes model_state_split(const ModelCfg *c, int B, int ctx, double bytes_per_value)
{
    StateBytes s = {0, 0};
    for (const char *p = c->pattern; *p; p++) {
        double b = (double)subops_for(c, *p)->state_size(c, B, ctx) * bytes_per_value;
        if (*p == '*' || *p == 'L') s.kv += b;
        else s.rec += b;
    }
    return s;
}

cJSON *model_sizes_json(const Model *m, int batch, int ctx, const char *precision, double bytes_per_value)
{
    const ModelCfg *cfg = &m->cfg;
    ParamCounts pc;
    model_param_counts(m, &pc);
    StateBytes st = model_state_split(cfg, batch, ctx, bytes_per_value);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "pattern", cfg->pattern);
    cJSON_AddStringToObject(o, "model_type", cfg->model_type);
    cJSON_AddNumberToObject(o, "total", (double)pc.total);
    cJSON_AddNumberToObject(o, "active", (double)pc.active);
    cJSON_AddNumberToObject(o, "embedding", (double)pc.embedding);
    cJSON_AddNumberToObject(o, "lm_head", (double)pc.head);
    cJSON_AddNumberToObject(o, "norms", (double)pc.norms);
    cJSON *by = cJSON_AddObjectToObject(o, "by_sublayer");
    for (int s = 0; s < 128; s++)
        if (pc.by_symbol[s]) cJSON_AddNumberToObject(by, pattern_symbol_name((char)s), (double)pc.by_symbol[s]);
    cJSON_AddNumberToObject(o, "context", ctx);
    cJSON_AddNumberToObject(o, "batch", batch);
    cJSON_AddStringToObject(o, "precision", precision);
    cJSON_AddNumberToObject(o, "kv_cache_bytes", st.kv);
    cJSON_AddNumberToObject(o, "recurrent_state_bytes", st.rec);
    cJSON_AddNumberToObject(o, "state_bytes", st.kv + st.rec);
    cJSON_AddNumberToObject(o, "forward_flops_per_token", model_flops_per_token(cfg, ctx));
    return o;
}

typedef struct {
    char name[64], source[256];
    size_t total, active;
} ConfigRow;

/* Family ("griffin" of "griffin-1.3b") first, then size: 100m before 1.3b. */
static int by_family_then_size(const void *pa, const void *pb)
{
    const ConfigRow *a = pa, *b = pb;
    const char *da = strrchr(a->name, '-'), *db = strrchr(b->name, '-');
    size_t la = da ? (size_t)(da - a->name) : strlen(a->name), lb = db ? (size_t)(db - b->name) : strlen(b->name);
    int c = strncmp(a->name, b->name, la < lb ? la : lb);
    if (c || la != lb) return c ? c : la < lb ? -1 : 1;
    return a->total < b->total ? -1 : a->total > b->total ? 1 : strcmp(a->name, b->name);
}

static int config_row(const char *dir, const char *file, ConfigRow *r, Err *e)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    snprintf(r->name, sizeof r->name, "%.*s", (int)(strlen(file) - 5), file);
    cJSON *root = json_read_file(path, e);
    ModelCfg cfg;
    Model m;
    if (!root || hf_config_from_json(root, &cfg, path, e) || model_layout(&m, &cfg, e)) {
        cJSON_Delete(root);
        return -1;
    }
    strcpy(r->source, "");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(root, "source");
    if (cJSON_IsString(src)) snprintf(r->source, sizeof r->source, "%s", src->valuestring);
    ParamCounts pc;
    model_param_counts(&m, &pc);
    r->total = pc.total;
    r->active = pc.active;
    model_free(&m);
    cJSON_Delete(root);
    return 0;
}

int model_list_configs(const char *dir, FILE *f, Err *e)
{
    DIR *d = opendir(dir);
    if (!d) return err_set(e, "--paper list: cannot open %s", dir);
    static ConfigRow rows[128];
    int n = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) && n < (int)(sizeof rows / sizeof *rows)) {
        size_t len = strlen(ent->d_name);
        if (len <= 5 || len - 5 >= sizeof rows[0].name || strcmp(ent->d_name + len - 5, ".json")) continue;
        if (config_row(dir, ent->d_name, &rows[n], e)) {
            closedir(d);
            return -1;
        }
        n++;
    }
    closedir(d);
    qsort(rows, (size_t)n, sizeof *rows, by_family_then_size);
    fprintf(f, "%-22s %9s %9s  %s\n", "name", "total", "active", "source (paper, table row)");
    for (int i = 0; i < n; i++) {
        char t[32], a[32] = "";
        results_count((double)rows[i].total, t, sizeof t);
        if (rows[i].active != rows[i].total) results_count((double)rows[i].active, a, sizeof a);
        fprintf(f, "%-22s %9s %9s  %s\n", rows[i].name, t, a, rows[i].source);
    }
    return 0;
}
