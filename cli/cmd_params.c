/* seqbench params: exact parameter counts by part (total and active per
 * token), KV-cache and recurrent-state bytes and forward FLOPs per token for
 * a configuration given by options, a checkpoint, or a paper-scale model
 * shipped as data in configs/paper/ (Llama-2, Mistral, Mixtral, Jamba, ...).
 * --out FILE writes the --json figures with the provenance block of every
 * result (atomically), so an experiment cell can be a params run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/datadir.h"
#include "cli/model_options.h"
#include "core/results.h"
#include "core/jsonio.h"
#include "core/mem.h"
#include "models/describe.h"
#include "models/hf.h"
#include "models/pattern.h"

static double num(const cJSON *o, const char *key) { return cJSON_GetObjectItemCaseSensitive(o, key)->valuedouble; }

int cmd_params(int argc, char **argv)
{
    ModelArgs ma;
    model_args_defaults(&ma);
    char model_dir[1024] = "", paper[64] = "", paper_dir[1024] = "", precision[8] = "fp32", out[1024] = "";
    int ctx = 2048, batch = 1, json = 0, dry = 0;
    Option opts[MODEL_OPTIONS_N + 12];
    int n = model_options(&ma, opts);
    Option more[] = {
        OPT_S("model", model_dir, "read the configuration from a checkpoint's config.json instead"),
        OPT_I("context", &ctx, 1, 1 << 30, "context length for state bytes and FLOPs"),
        OPT_I("batch", &batch, 1, 1 << 20, "sequences for state bytes"),
        OPT_F("json", &json, "print JSON instead of a table"),
        OPT_S("paper", paper, "a paper-scale model from configs/paper (\"list\" lists them)"),
        OPT_S("paper-dir", paper_dir, "where the paper configs are (default: configs/paper under $SEQBENCH_DATA_DIR, the install, . or the source tree)"),
        OPT_S("precision", precision, "bytes per cached value: fp32, bf16 or fp16"),
        OPT_S("out", out, "also write the --json figures, with provenance, to this result file (atomically)"),
        OPT_F("dry-run", &dry, "check the options and the model, " OPTIONS_DRY_RUN_NOTE
              " on stdout, then stop without writing"),
    };
    _Static_assert(sizeof more / sizeof *more <= 12, "opts[] too small for these options");
    memcpy(opts + n, more, sizeof more);
    n += (int)(sizeof more / sizeof *more);
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "params", "[--arch A | --pattern P] [sizes] | --model DIR", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    double bytes = !strcmp(precision, "fp32") ? 4 : !strcmp(precision, "bf16") || !strcmp(precision, "fp16") ? 2 : 0;
    if (!bytes) die("--precision must be fp32, bf16 or fp16 (got \"%s\")", precision);
    if (*out && results_check_file("--out", out, &e)) die_err(&e);
    cJSON *res = *out ? results_new("params", argc, argv) : NULL;
    /* a config sets the whole model: silently ignoring a size given beside it would mislead */
    for (int i = 0; (*paper || *model_dir) && i < MODEL_OPTIONS_N; i++)
        if (opts[i].set)
            die("params: --%s cannot be combined with %s (the config sets the model)", opts[i].name,
                *paper ? "--paper" : "--model");
    if (*paper && *model_dir) die("params: give --paper or --model, not both");
    if (!*paper_dir) data_path("configs/paper", paper_dir, sizeof paper_dir);
    if (!strcmp(paper, "list")) {
        if (model_list_configs(paper_dir, stdout, &e)) die_err(&e);
        return 0;
    }
    ModelCfg cfg;
    if (*model_dir || *paper) {
        char path[1100];
        if (*paper) snprintf(path, sizeof path, "%s/%s.json", paper_dir, paper);
        else snprintf(path, sizeof path, "%s/config.json", model_dir);
        FILE *probe = *paper ? fopen(path, "r") : NULL;
        if (*paper && !probe) die("--paper %s: no %s (seqbench params --paper list)", paper, path);
        if (probe) fclose(probe);
        cJSON *root = json_read_file(path, &e);
        if (!root || hf_config_from_json(root, &cfg, path, &e)) die_err(&e);
        cJSON_Delete(root);
    } else if (model_args_to_cfg(&ma, 0, &cfg, &e) && (ma.vocab || model_args_to_cfg(&ma, 32000, &cfg, &e))) {
        die_err(&e);
    }
    /* counts only: build the tensor table without touching the weights' memory */
    Model m;
    if (model_layout(&m, &cfg, &e)) die_err(&e);
    if (dry) {
        model_free(&m);
        cJSON_Delete(res);
        options_print_resolved(stdout, "params", opts, n);
        fprintf(stderr, "seqbench params: dry run: options checked, nothing written\n");
        return 0;
    }
    cJSON *o = model_sizes_json(&m, batch, ctx, precision, bytes);
    if (json) {
        char *text = cJSON_Print(o);
        printf("%s\n", text);
        cJSON_free(text);
    }
    if (res) {
        for (const cJSON *x = o->child; x; x = x->next) cJSON_AddItemToObject(res, x->string, cJSON_Duplicate(x, 1));
        options_add_digest(res, "params", opts, n);
        results_finish(res);
        if (json_write_file(out, res, &e)) die_err(&e);
        cJSON_Delete(res);
        fprintf(stderr, "wrote %s\n", out);
    }
    if (!json) {
        ParamCounts pc;
        model_param_counts(&m, &pc);
        double kv = num(o, "kv_cache_bytes"), rec = num(o, "recurrent_state_bytes");
        double flops = num(o, "forward_flops_per_token");
        char buf[32];
        printf("pattern     %s (%s layout)\n", cfg.pattern, cfg.model_type);
        printf("embedding   %12zu  (%d x %d)\n", pc.embedding, cfg.vocab_size, cfg.d_model);
        for (int s = 0; s < 128; s++)
            if (pc.by_symbol[s]) printf("%-11c %12zu  %s\n", s, pc.by_symbol[s], pattern_symbol_name((char)s));
        printf("norms       %12zu\n", pc.norms);
        printf("lm_head     %12zu  %s\n", pc.head, cfg.tie_embeddings ? "(tied to the embedding)" : "");
        printf("total       %12zu  (%s)\n", pc.total, results_count((double)pc.total, buf, sizeof buf));
        if (pc.active != pc.total)
            printf("active      %12zu  (%s) per token\n", pc.active, results_count((double)pc.active, buf, sizeof buf));
        printf("kv cache    %12s  %s, batch %d, context %d\n", mem_human(kv, buf, sizeof buf), precision, batch, ctx);
        printf("state       %12s  recurrent (conv windows, SSM/LRU states)\n", mem_human(rec, buf, sizeof buf));
        printf("flops       %12.4g  forward per token at context %d\n", flops, ctx);
    }
    cJSON_Delete(o);
    model_free(&m);
    return 0;
}
