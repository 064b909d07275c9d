/* seqbench bench prefill: its options into a BenchPrefillSweep (bench/prefill.h). */
#include "bench/prefill.h"
#include "cli/bench_options.h"
#include "cli/bench_suite.h"
#include "core/err.h"

int bench_prefill_main(int argc, char **argv)
{
    BenchPrefillSweep s = {0};
    BenchModels bm;
    char lengths_s[256] = "128,512,2048";
    Option opts[BENCH_MAX_OPTIONS];
    int n = bench_models_options(&bm, BENCH_ALL_ARCHS, opts);
    n += bench_run_options(&s.run, 3, opts + n);
    opts[n++] = (Option)OPT_S("lengths", lengths_s, "sequence lengths, batch 1");
    if (bench_parse(opts, n, argc, argv, 3, "bench prefill",
                    "[--archs A,B | --arch A | --pattern P | --paper NAME | --model DIR] [sizes] [options]"))
        return 0; /* --help */
    bench_parse_list(lengths_s, &s.lengths, 1, 1 << 22, "--lengths");
    bench_check(&s.run);
    BenchModelSpec specs[BENCH_MAX_MODELS];
    s.models = specs;
    s.n_models = bench_models_resolve(&bm, opts, n, specs);
    Err e = {{0}};
    if (bench_prefill_check(&s, &e)) die_err(&e);
    if (s.run.dry) return bench_dry_done("bench prefill", opts, n);
    cJSON *res = bench_result("bench prefill", argc, argv, opts, n);
    if (bench_prefill_run(&s, res, &e)) die_err(&e);
    return bench_finish(res, &s.run);
}
