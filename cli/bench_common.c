#include "bench_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/datadir.h"
#include "core/results.h"
#include "core/jsonio.h"
#include "core/machine.h"
#include "core/mem.h"
#include "core/threads.h"
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
        OPT_F("dry-run", &r->dry, "check every option and shape, then stop before measuring anything"),
    };
    memcpy(out, t, sizeof t);
    return (int)(sizeof t / sizeof *t);
}

int bench_models_options(BenchModels *bm, const char *archs_default, Option *out)
{
    model_args_defaults(&bm->ma);
    snprintf(bm->archs, sizeof bm->archs, "%s", archs_default);
    bm->model_dir[0] = bm->paper[0] = '\0';
    int n = model_options(&bm->ma, out);
    options_find(out, n, "vocab")->help = "vocabulary size (0 = 32000, as in params)";
    Option t[] = {
        OPT_S("archs", bm->archs, "architecture presets to run, each at its default size or at the given sizes / "
                                  "--param-budget (unless --arch or --pattern names one model)"),
        OPT_S("model", bm->model_dir, "benchmark a checkpoint (config.json + model.safetensors) instead"),
        OPT_S("paper", bm->paper, "benchmark a paper-scale config from configs/paper (random weights), e.g. mamba-130m"),
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

int bench_models_resolve(BenchModels *bm, Option *opts, int n_opts, BenchModelSpec *specs)
{
    int archs = opt_set(opts, n_opts, "archs");
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
        n++;
    }
    if (!n) die("--archs \"%s\": no architecture given", bm->archs);
    return n;
}

void bench_model_layout(const BenchModelSpec *s, Model *m)
{
    Err e = {{0}};
    if (model_layout(m, &s->cfg, &e)) die("%s: %s", s->name, e.msg);
}

void bench_model_build(const BenchModels *bm, const BenchModelSpec *s, uint64_t seed, Model *m)
{
    Err e = {{0}};
    if (*bm->model_dir) {
        if (hf_load(m, bm->model_dir, &e)) die_err(&e);
        return;
    }
    if (model_create(m, &s->cfg, &e)) die("%s: %s", s->name, e.msg);
    model_init_weights(m, seed);
}

int bench_parse_list(const char *s, int *out, int lo, int hi, const char *what)
{
    Err e;
    int n = parse_int_list(s, out, BENCH_MAX_LIST, lo, hi, what, &e);
    if (n < 0) die_err(&e);
    return n;
}

void bench_check_run(const BenchRun *r)
{
    Err e = {{0}};
    if (*r->out && results_check_file("--out", r->out, &e)) die_err(&e); /* before building or measuring anything */
    Roofline rf;
    if (*r->roofline_file && roofline_read_file(r->roofline_file, &rf, &e)) die_err(&e);
    threads_init(r->threads);
}

int bench_dry_done(const char *command)
{
    fprintf(stderr, "seqbench %s: dry run: options checked, nothing measured\n", command);
    return 0;
}

void bench_warn_busy(void)
{
    /* another process on the cores skews every figure: the result records the load; say so */
    double load = -1;
    if (getloadavg(&load, 1) == 1 && load > 0.5)
        fprintf(stderr, "bench: warning: load average %.2f before starting; other processes will skew the timings\n",
                load);
}

void bench_roofline(const BenchRun *r, Roofline *rf, cJSON *res)
{
    Err e = {{0}};
    bench_warn_busy(); /* every check has passed: the work starts here */
    if (*r->roofline_file) {
        if (roofline_read_file(r->roofline_file, rf, &e)) die_err(&e);
        if (rf->threads && rf->threads != threads_count())
            fprintf(stderr, "bench: warning: --roofline %s was measured with %d threads, this run uses %d\n",
                    r->roofline_file, rf->threads, threads_count());
    } else {
        RooflineOpts o;
        roofline_defaults(&o);
        fprintf(stderr, "bench: measuring the roofline (sgemm %d, bandwidth arrays of 4 x the L3)\n", o.gemm_n);
        if (roofline_measure(&o, rf, &e)) die_err(&e);
    }
    char mach[512];
    machine_summary(mach, sizeof mach);
    printf("machine: %s\n", mach);
    printf("roofline%s: sgemm %.1f GFLOP/s, bandwidth %.1f GB/s (triad; read-only %.1f; in the LLC %.1f)\n",
           *r->roofline_file ? " (from --roofline)" : "", rf->sgemm_gflops, rf->bandwidth_gbs, rf->read_gbs,
           rf->llc_read_gbs);
    fflush(stdout);
    cJSON_AddItemToObject(res, "roofline", roofline_json(rf, *r->roofline_file ? r->roofline_file : "measured"));
}

cJSON *bench_result(const char *command, int argc, char **argv, const Option *opts, int n_opts)
{
    cJSON *res = results_new(command, argc, argv);
    cJSON_AddItemToObject(res, "machine", machine_json());
    cJSON_AddItemToObject(res, "settings", options_to_json(opts, n_opts));
    return res;
}

void bench_write(cJSON *res, const BenchRun *r)
{
    Err e = {{0}};
    results_finish(res);
    if (*r->out) {
        if (json_write_file(r->out, res, &e)) die_err(&e);
        fprintf(stderr, "wrote %s\n", r->out);
    }
}

void bench_add_bound(cJSON *o, const BenchBound *b, double achieved)
{
    cJSON_AddNumberToObject(o, "roofline_bound_tokens_per_s", b->tokens_per_s);
    cJSON_AddStringToObject(o, "roofline_bound", b->kind);
    cJSON_AddNumberToObject(o, "roofline_fraction", achieved / b->tokens_per_s);
    cJSON_AddNumberToObject(o, "compute_bound_tokens_per_s", b->compute_tokens_per_s);
    if (b->bytes_per_step > 0) {
        cJSON_AddNumberToObject(o, "memory_bound_tokens_per_s", b->memory_tokens_per_s);
        cJSON_AddNumberToObject(o, "bytes_per_step", b->bytes_per_step);
        cJSON_AddNumberToObject(o, "bound_bandwidth_gbs", b->bandwidth_gbs);
        cJSON_AddStringToObject(o, "bound_memory_level", b->from_llc ? "llc" : "dram");
    }
}

const char *bench_rate(double v, char *buf, size_t cap)
{
    if (v >= 1e6) snprintf(buf, cap, "%.2fM", v / 1e6);
    else if (v >= 1e4) snprintf(buf, cap, "%.1fK", v / 1e3);
    else snprintf(buf, cap, "%.1f", v);
    return buf;
}

cJSON *bench_decode_json(const BenchDecode *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "batch", r->B);
    cJSON_AddNumberToObject(o, "context", r->ctx);
    cJSON_AddNumberToObject(o, "steps", r->steps);
    cJSON_AddNumberToObject(o, "repeats", r->repeats);
    cJSON_AddNumberToObject(o, "seconds_median", r->sec.median);
    cJSON_AddNumberToObject(o, "seconds_min", r->sec.min);
    cJSON_AddNumberToObject(o, "tokens_per_s_median", r->tokens_per_s);
    cJSON_AddNumberToObject(o, "tokens_per_s_best", r->tokens_per_s_best);
    cJSON_AddNumberToObject(o, "latency_s_median", r->latency_median);
    cJSON_AddNumberToObject(o, "latency_s_p90", r->latency_p90);
    cJSON_AddNumberToObject(o, "state_bytes", r->state_bytes);
    cJSON_AddNumberToObject(o, "flops_per_token", r->flops_per_token);
    cJSON_AddNumberToObject(o, "gflops_per_s_median", r->gflops);
    cJSON_AddNumberToObject(o, "prefill_seconds", r->prefill_s);
    return o;
}

cJSON *bench_pass_json(const BenchPass *r, const BenchBound *b)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "batch", r->B);
    cJSON_AddNumberToObject(o, "length", r->T);
    cJSON_AddNumberToObject(o, "repeats", r->repeats);
    cJSON_AddNumberToObject(o, "seconds_median", r->sec.median);
    cJSON_AddNumberToObject(o, "seconds_min", r->sec.min);
    cJSON_AddNumberToObject(o, "tokens_per_s_median", r->tokens_per_s);
    cJSON_AddNumberToObject(o, "tokens_per_s_best", r->tokens_per_s_best);
    cJSON_AddNumberToObject(o, "flops_per_token", r->flops_per_token);
    cJSON_AddNumberToObject(o, "gflops_per_s_median", r->gflops);
    cJSON_AddNumberToObject(o, "activation_bytes", r->act_bytes);
    bench_add_bound(o, b, r->tokens_per_s);
    return o;
}
