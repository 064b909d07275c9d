/* seqbench params: exact parameter counts by part, decode-state bytes and
 * forward FLOPs per token for a configuration (options) or a checkpoint. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/model_args.h"
#include "core/jsonio.h"
#include "core/mem.h"
#include "models/hf.h"
#include "models/pattern.h"

int cmd_params(int argc, char **argv)
{
    ModelArgs ma;
    model_args_defaults(&ma);
    char model_dir[1024] = "";
    int ctx = 2048, batch = 1, json = 0;
    Option opts[MODEL_ARGS_N_OPTIONS + 8];
    int n = model_args_options(&ma, opts);
    Option more[] = {
        OPT_S("model", model_dir, "read the configuration from a checkpoint's config.json instead"),
        OPT_I("context", &ctx, 1, 1 << 30, "context length for state bytes and FLOPs"),
        OPT_I("batch", &batch, 1, 1 << 20, "sequences for state bytes"),
        OPT_F("json", &json, "print JSON instead of a table"),
    };
    _Static_assert(sizeof more / sizeof *more <= 8, "opts[] too small for these options");
    memcpy(opts + n, more, sizeof more);
    n += (int)(sizeof more / sizeof *more);
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "params", "[--arch A | --pattern P] [sizes] | --model DIR", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    ModelCfg cfg;
    if (*model_dir) {
        char path[1100];
        snprintf(path, sizeof path, "%s/config.json", model_dir);
        cJSON *root = json_read_file(path, &e);
        if (!root || hf_config_from_json(root, &cfg, path, &e)) die_err(&e);
        cJSON_Delete(root);
    } else if (model_args_to_cfg(&ma, 0, &cfg, &e) && (ma.vocab || model_args_to_cfg(&ma, 32000, &cfg, &e))) {
        die_err(&e);
    }
    /* counts only: build the tensor table without touching the weights' memory */
    Model m;
    if (model_layout(&m, &cfg, &e)) die_err(&e);
    ParamCounts pc;
    model_param_counts(&m, &pc);
    double state = model_state_bytes(&cfg, batch, ctx), flops = model_flops_per_token(&cfg, ctx);
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "pattern", cfg.pattern);
        cJSON_AddStringToObject(o, "model_type", cfg.model_type);
        cJSON_AddNumberToObject(o, "total", (double)pc.total);
        cJSON_AddNumberToObject(o, "embedding", (double)pc.embedding);
        cJSON_AddNumberToObject(o, "lm_head", (double)pc.head);
        cJSON_AddNumberToObject(o, "norms", (double)pc.norms);
        cJSON *by = cJSON_AddObjectToObject(o, "by_sublayer");
        for (int s = 0; s < 128; s++)
            if (pc.by_symbol[s]) cJSON_AddNumberToObject(by, pattern_symbol_name((char)s), (double)pc.by_symbol[s]);
        cJSON_AddNumberToObject(o, "context", ctx);
        cJSON_AddNumberToObject(o, "batch", batch);
        cJSON_AddNumberToObject(o, "state_bytes_fp32", state);
        cJSON_AddNumberToObject(o, "forward_flops_per_token", flops);
        char *text = cJSON_Print(o);
        printf("%s\n", text);
        cJSON_free(text);
        cJSON_Delete(o);
    } else {
        char buf[32];
        printf("pattern     %s (%s layout)\n", cfg.pattern, cfg.model_type);
        printf("embedding   %12zu  (%d x %d)\n", pc.embedding, cfg.vocab_size, cfg.d_model);
        for (int s = 0; s < 128; s++)
            if (pc.by_symbol[s]) printf("%-11c %12zu  %s\n", s, pc.by_symbol[s], pattern_symbol_name((char)s));
        printf("norms       %12zu\n", pc.norms);
        printf("lm_head     %12zu  %s\n", pc.head, cfg.tie_embeddings ? "(tied to the embedding)" : "");
        printf("total       %12zu  (%.2fM)\n", pc.total, pc.total / 1e6);
        printf("state       %12s  decode cache/state, fp32, batch %d, context %d\n",
               mem_human(state, buf, sizeof buf), batch, ctx);
        printf("flops       %12.4g  forward per token at context %d\n", flops, ctx);
    }
    model_free(&m);
    return 0;
}
