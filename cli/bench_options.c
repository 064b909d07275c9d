#include "cli/bench_options.h"

#include <stdio.h>
#include <string.h>

#include "core/datadir.h"
#include "core/jsonio.h"
#include "core/machine.h"
#include "core/results.h"
#include "models/hf.h"

int bench_run_options(BenchRun *r, int repeats_default, Option *out)
{
    *r = (BenchRun){.repeats = repeats_default, .seed = 1};
    Option t[] = {
        OPT_I("threads", &r->threads, 0, 1024, "threads (0 = all cores)"),
        OPT_I("repeats", &r->repeats, 1, 1000, "timed runs per measurement (after one warm-up run)"),
        OPT_U("seed", &r->seed, "seed for weights and token ids"),
        OPT_S("roofline", r->roofline_file, "take the roofline from a `seqbench bench roofline --out FILE` result "
                                            "instead of measuring it in this run (about 1.5 s)"),
        OPT_S("out", r->out, "result JSON file (written atomically)"),
        OPT_F("dry-run", &r->dry, "check every option and shape, " OPTIONS_DRY_RUN_NOTE
              " on stdout, then stop before measuring anything"),
    };
    memcpy(out, t, sizeof t);
    return (int)(sizeof t / sizeof *t);
}

int bench_models_options(BenchModels *bm, const char *archs_default, Option *out)
{
    model_args_defaults(&bm->ma);
    snprintf(bm->archs, sizeof bm->archs, "%s", archs_default);
    bm->model_dir[0] = bm->paper[0] = '\0';
    snprintf(bm->dtype, sizeof bm->dtype, "fp32");
    int n = model_options(&bm->ma, out);
    options_find(out, n, "vocab")->help = "vocabulary size (0 = 32000, as in params)";
    Option t[] = {
        OPT_S("archs", bm->archs, "architecture presets to run, each at its default size or at the given sizes / "
                                  "--param-budget (unless --arch or --pattern names one model)"),
        OPT_S("model", bm->model_dir, "benchmark a checkpoint (config.json + model.safetensors) instead"),
        OPT_S("paper", bm->paper, "benchmark a paper-scale config from configs/paper (random weights), e.g. mamba-130m"),
        OPT_S("dtype", bm->dtype, DTYPE_HELP),
    };
    memcpy(out + n, t, sizeof t);
    return n + (int)(sizeof t / sizeof *t);
}

static int opt_set(Option *opts, int n, const char *name)
{
    Option *o = options_find(opts, n, name);
    return o && o->set;
}

static void config_from_file(const char *path, const char *what, ModelCfg *cfg)
{
    Err e = {{0}};
    cJSON *root = json_read_file(path, &e);
    if (!root || hf_config_from_json(root, cfg, path, &e)) die("%s: %s", what, e.msg);
    cJSON_Delete(root);
}

static int resolve_specs(BenchModels *bm, Option *opts, int n_opts, BenchModelSpec *specs)
{
    int archs = opt_set(opts, n_opts, "archs");
    specs[0].checkpoint[0] = '\0';
    if (*bm->model_dir || *bm->paper) {
        const char *which = *bm->model_dir ? "--model" : "--paper";
        if (*bm->model_dir && *bm->paper) die("bench: give --model or --paper, not both");
        /* the file sets the model: silently ignoring a size would mislead */
        for (int i = 0; i < MODEL_OPTIONS_N; i++)
            if (opts[i].set) die("bench: --%s cannot be combined with %s (its config sets the model)", opts[i].name, which);
        if (archs) die("bench: --archs cannot be combined with %s", which);
        char path[1400];
        if (*bm->paper) {
            char dir[1024];
            snprintf(path, sizeof path, "%s/%s.json", data_path("configs/paper", dir, sizeof dir), bm->paper);
            FILE *probe = fopen(path, "r");
            if (!probe) die("--paper %s: no %s (seqbench params --paper list)", bm->paper, path);
            fclose(probe);
            snprintf(specs[0].name, sizeof specs[0].name, "%s", bm->paper);
        } else {
            snprintf(path, sizeof path, "%s/config.json", bm->model_dir);
            const char *base = strrchr(bm->model_dir, '/');
            snprintf(specs[0].name, sizeof specs[0].name, "%.63s", base && base[1] ? base + 1 : bm->model_dir);
            snprintf(specs[0].checkpoint, sizeof specs[0].checkpoint, "%s", bm->model_dir);
        }
        config_from_file(path, which, &specs[0].cfg);
        return 1;
    }
    Err e = {{0}};
    int vocab = bm->ma.vocab ? 0 : BENCH_DEFAULT_VOCAB;
    if (opt_set(opts, n_opts, "arch") || opt_set(opts, n_opts, "pattern")) {
        if (archs) die("bench: give --archs or one --arch / --pattern, not both");
        if (model_args_to_cfg(&bm->ma, vocab, &specs[0].cfg, &e)) die_err(&e);
        if (*bm->ma.pattern) snprintf(specs[0].name, sizeof specs[0].name, "pattern %.55s", bm->ma.pattern);
        else snprintf(specs[0].name, sizeof specs[0].name, "%s", bm->ma.arch);
        return 1;
    }
    int n = 0;
    char list[sizeof bm->archs];
    snprintf(list, sizeof list, "%s", bm->archs);
    for (char *save = NULL, *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        while (*a == ' ') a++;
        if (n == BENCH_MAX_MODELS) die("--archs %s: more than %d architectures", bm->archs, BENCH_MAX_MODELS);
        ModelArgs ma = bm->ma;
        snprintf(ma.arch, sizeof ma.arch, "%s", a);
        if (model_args_to_cfg(&ma, vocab, &specs[n].cfg, &e)) die("--archs %s: %s", bm->archs, e.msg);
        snprintf(specs[n].name, sizeof specs[n].name, "%s", a);
        specs[n].checkpoint[0] = '\0';
        n++;
    }
    if (!n) die("--archs \"%s\": no architecture given", bm->archs);
    return n;
}

int bench_models_resolve(BenchModels *bm, Option *opts, int n_opts, BenchModelSpec *specs)
{
    int bf16 = dtype_is_bf16(bm->dtype);
    int n = resolve_specs(bm, opts, n_opts, specs);
    for (int i = 0; i < n; i++) specs[i].bf16 = bf16;
    return n;
}

void bench_parse_list(const char *s, BenchList *out, int lo, int hi, const char *what)
{
    Err e;
    out->n = parse_int_list(s, out->v, BENCH_MAX_LIST, lo, hi, what, &e);
    if (out->n < 0) die_err(&e);
}

int bench_parse(Option *opts, int n, int argc, char **argv, int first, const char *cmd, const char *usage)
{
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, first, cmd, usage, &e);
    if (rc < 0) die_err(&e);
    return rc;
}

void bench_check(const BenchRun *r)
{
    Err e = {{0}};
    if (bench_check_run(r, &e)) die_err(&e);
}

int bench_dry_done(const char *command, const Option *opts, int n)
{
    options_print_resolved(stdout, command, opts, n);
    fprintf(stderr, "seqbench %s: dry run: options checked, nothing measured\n", command);
    return 0;
}

cJSON *bench_result(const char *command, int argc, char **argv, const Option *opts, int n_opts)
{
    cJSON *res = results_new(command, argc, argv);
    cJSON_AddItemToObject(res, "machine", machine_json());
    cJSON_AddItemToObject(res, "settings", options_to_json(opts, n_opts));
    options_add_digest(res, command, opts, n_opts);
    return res;
}

int bench_finish(cJSON *res, const BenchRun *r)
{
    Err e = {{0}};
    if (bench_write(res, r, &e)) die_err(&e);
    cJSON_Delete(res);
    return 0;
}
