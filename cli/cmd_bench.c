/* seqbench bench: the benchmark suite's front door. `seqbench bench [options]`
 * is the model benchmark (bench/model.h), whose options are parsed here;
 * `seqbench bench NAME [options]` runs one instrument from the table below,
 * which is also what `seqbench bench help` lists. */
#include <stdio.h>
#include <string.h>

#include "bench/model.h"
#include "cli/bench_options.h"
#include "cli/bench_suite.h"
#include "cli/commands.h"
#include "core/err.h"

/* The model from the options (a Llama-sized vocabulary unless --vocab), or --model's checkpoint. */
static void model_spec(const ModelArgs *ma, const char *model_dir, BenchModelSpec *spec)
{
    memset(spec, 0, sizeof *spec);
    if (*model_dir) {
        snprintf(spec->name, sizeof spec->name, "checkpoint");
        snprintf(spec->checkpoint, sizeof spec->checkpoint, "%s", model_dir);
        return;
    }
    Err e = {{0}};
    snprintf(spec->name, sizeof spec->name, "model");
    if (model_args_to_cfg(ma, ma->vocab ? 0 : BENCH_DEFAULT_VOCAB, &spec->cfg, &e)) die_err(&e);
}

static int bench_model_main(int argc, char **argv)
{
    ModelArgs ma;
    BenchModelSettings s = {.train_batch = 8, .train_len = 256, .steps = 64};
    char model_dir[1024] = "", lengths_s[256] = "128,512,2048", batches_s[256] = "1,4,16", contexts_s[256] = "128,1024";
    Option opts[MODEL_OPTIONS_N + 16];
    model_args_defaults(&ma);
    int n = model_options(&ma, opts);
    options_find(opts, n, "vocab")->help = "vocabulary size (0 = 32000, as in params)";
    Option more[] = {
        OPT_S("model", model_dir, "benchmark a checkpoint (config.json + model.safetensors) instead"),
        OPT_S("lengths", lengths_s, "prefill lengths, batch 1"),
        OPT_I("train-batch", &s.train_batch, 1, 1 << 16, "training-step batch"),
        OPT_I("train-len", &s.train_len, 1, 1 << 22, "training-step sequence length"),
        OPT_S("batches", batches_s, "decode batch sizes"),
        OPT_S("contexts", contexts_s, "decode context lengths reached before the timed steps"),
        OPT_I("decode-steps", &s.steps, 1, 1 << 20, "timed decode steps per run"),
    };
    memcpy(opts + n, more, sizeof more);
    n += (int)(sizeof more / sizeof *more);
    n += bench_run_options(&s.run, 3, opts + n);
    options_find(opts, n, "dry-run")->help = "check every option and that the model fits, " OPTIONS_DRY_RUN_NOTE
        " on stdout, then stop before measuring";
    if (bench_parse(opts, n, argc, argv, 2, "bench",
                    "[--arch A | --pattern P] [sizes] | --model DIR [options]\n"
                    "       seqbench bench SUBCOMMAND [options]   (subcommands: seqbench bench help)"))
        return 0; /* --help */
    /* a checkpoint's config.json sets the model: silently ignoring a size would mislead */
    for (int i = 0; *model_dir && i < MODEL_OPTIONS_N; i++)
        if (opts[i].set) die("bench: --%s cannot be combined with --model (the checkpoint sets the model)", opts[i].name);
    bench_parse_list(lengths_s, &s.lengths, 1, 1 << 22, "--lengths");
    bench_parse_list(batches_s, &s.batches, 1, 1 << 16, "--batches");
    bench_parse_list(contexts_s, &s.contexts, 1, 1 << 22, "--contexts");
    bench_check(&s.run);
    BenchModelSpec spec;
    model_spec(&ma, model_dir, &spec);
    Model m;
    Err e = {{0}};
    /* the weights are built before the dry run ends: a broken checkpoint fails it */
    if (bench_spec_build(&spec, s.run.seed, &m, &e) || bench_model_check(&m, &s, &e)) die_err(&e);
    if (s.run.dry) {
        model_free(&m);
        return bench_dry_done("bench", opts, n);
    }
    cJSON *res = bench_result("bench", argc, argv, opts, n);
    if (bench_model_run(&m, &s, res, &e)) die_err(&e);
    model_free(&m);
    return bench_finish(res, &s.run);
}


static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} BENCHES[] = {
    {"roofline", bench_roofline_main, "FMA and sgemm peak GFLOP/s and memory bandwidth (triad, read) with the configured threads"},
    {"decode", bench_decode_main, "decode tokens/s against batch and context (one prefill fills it), every preset"},
    {"latency", bench_latency_main, "per-token decode latency against prefill length (Griffin Fig. 4)"},
    {"throughput", bench_throughput_main, "tokens/s against sample length after an empty prompt (Griffin Fig. 1b)"},
    {"prefill", bench_prefill_main, "tokens/s of the parallel forward against sequence length"},
    {"kernels", bench_kernels_main, "scan and attention time against length, forward and forward+backward, log-log slopes"},
    {"memory", bench_memory_main, "decode state / KV-cache bytes against context, analytic and measured"},
    {"cells", bench_cells_main, "the training step of every training cell of a profile at its shape (--vs another build)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: seqbench bench [options]            the model benchmark: prefill, training step, decode "
               "(seqbench bench --help)\n"
               "       seqbench bench SUBCOMMAND [options] (seqbench bench SUBCOMMAND --help)\n\n");
    for (size_t i = 0; i < sizeof BENCHES / sizeof *BENCHES; i++)
        fprintf(f, "  %-11s %s\n", BENCHES[i].name, BENCHES[i].summary);
    fprintf(f, "\nEvery result JSON carries \"machine\" and \"roofline\", and each figure its roofline bound and the "
               "fraction achieved.\n");
}

int cmd_bench(int argc, char **argv)
{
    if (argc > 2 && (!strcmp(argv[2], "help") || !strcmp(argv[2], "list"))) {
        usage(stdout);
        return 0;
    }
    if (argc > 2 && argv[2][0] != '-') {
        for (size_t i = 0; i < sizeof BENCHES / sizeof *BENCHES; i++)
            if (!strcmp(argv[2], BENCHES[i].name)) return BENCHES[i].run(argc, argv);
        char known[256] = "";
        for (size_t i = 0; i < sizeof BENCHES / sizeof *BENCHES; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", BENCHES[i].name);
        die("bench: unknown subcommand \"%s\" (subcommands: %s; see seqbench bench help)", argv[2], known);
    }
    return bench_model_main(argc, argv);
}
