/* seqbench bench decode | latency | throughput: their options into a
 * BenchSweep (bench/decode.h), which measures. */
#include <stdio.h>
#include <string.h>

#include "bench/decode.h"
#include "cli/bench_options.h"
#include "cli/bench_suite.h"
#include "core/err.h"

static int run_sweep(BenchSweepKind kind, const char *name, int argc, char **argv)
{
    BenchSweep s = {.kind = kind, .name = name, .steps = 16};
    BenchModels bm;
    Option opts[BENCH_MAX_OPTIONS];
    char batches_s[256] = "", contexts_s[256] = "", lengths_s[256] = "";
    int n = bench_models_options(&bm, BENCH_ALL_ARCHS, opts);
    n += bench_run_options(&s.run, kind == BENCH_SWEEP_THROUGHPUT ? 1 : 3, opts + n);
    Option decode[] = {
        OPT_S("batches", batches_s, "batch sizes of the batch sweep"),
        OPT_I("context", &s.context, 0, 1 << 22, "context (prefilled) of the batch sweep"),
        OPT_S("contexts", contexts_s, "contexts (each filled by one prefill) of the context sweep"),
        OPT_I("batch", &s.batch, 1, 1 << 16, "batch of the context sweep"),
        OPT_I("steps", &s.steps, 1, 1 << 20, "timed decode steps per run"),
    };
    Option latency[] = {
        OPT_I("batch", &s.batch, 1, 1 << 16, "sequences decoded together"),
        OPT_S("prefills", contexts_s, "prefill lengths before the timed steps (0 = an empty prompt)"),
        OPT_I("steps", &s.steps, 1, 1 << 20, "timed decode steps per run (each one token per sequence)"),
    };
    Option throughput[] = {
        OPT_I("batch", &s.batch, 1, 1 << 16, "sequences sampled together"),
        OPT_S("lengths", lengths_s, "tokens generated per sequence after an empty prompt, each a timed run"),
    };
    if (kind == BENCH_SWEEP_DECODE) {
        strcpy(batches_s, "1,4,16,64");
        strcpy(contexts_s, "128,1024,4096");
        s.context = 128;
        s.batch = 1;
        memcpy(opts + n, decode, sizeof decode);
        n += (int)(sizeof decode / sizeof *decode);
    } else if (kind == BENCH_SWEEP_LATENCY) {
        strcpy(contexts_s, "0,512,2048,4096");
        s.batch = 16;
        memcpy(opts + n, latency, sizeof latency);
        n += (int)(sizeof latency / sizeof *latency);
    } else {
        strcpy(lengths_s, "512,1024,2048,4096");
        s.batch = 16;
        memcpy(opts + n, throughput, sizeof throughput);
        n += (int)(sizeof throughput / sizeof *throughput);
    }
    char cmd[32];
    snprintf(cmd, sizeof cmd, "bench %s", name);
    if (bench_parse(opts, n, argc, argv, 3, cmd,
                    "[--archs A,B | --arch A | --pattern P | --paper NAME | --model DIR] [sizes] [options]"))
        return 0; /* --help */
    if (kind == BENCH_SWEEP_DECODE) {
        bench_parse_list(batches_s, &s.batches, 1, 1 << 16, "--batches");
        bench_parse_list(contexts_s, &s.contexts, 0, 1 << 22, "--contexts");
    } else if (kind == BENCH_SWEEP_LATENCY) {
        bench_parse_list(contexts_s, &s.contexts, 0, 1 << 22, "--prefills");
    } else {
        bench_parse_list(lengths_s, &s.lengths, 1, 1 << 22, "--lengths");
    }
    bench_check(&s.run);
    BenchModelSpec specs[BENCH_MAX_MODELS];
    s.models = specs;
    s.n_models = bench_models_resolve(&bm, opts, n, specs);
    Err e = {{0}};
    if (bench_sweep_check(&s, &e)) die_err(&e);
    if (s.run.dry) return bench_dry_done(cmd, opts, n);
    cJSON *res = bench_result(cmd, argc, argv, opts, n);
    if (bench_sweep_run(&s, res, &e)) die_err(&e);
    return bench_finish(res, &s.run);
}

int bench_decode_main(int argc, char **argv) { return run_sweep(BENCH_SWEEP_DECODE, "decode", argc, argv); }
int bench_latency_main(int argc, char **argv) { return run_sweep(BENCH_SWEEP_LATENCY, "latency", argc, argv); }
int bench_throughput_main(int argc, char **argv) { return run_sweep(BENCH_SWEEP_THROUGHPUT, "throughput", argc, argv); }
