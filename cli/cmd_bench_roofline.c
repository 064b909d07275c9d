/* seqbench bench roofline: its options into RooflineOpts (bench/roofline.h). */
#include "bench/roofline.h"
#include "cli/bench_options.h"
#include "cli/bench_suite.h"
#include "core/err.h"

int bench_roofline_main(int argc, char **argv)
{
    BenchRun run = {.repeats = 1, .seed = 1}; /* only --threads and --out apply here */
    RooflineOpts ro;
    roofline_defaults(&ro);
    Option opts[] = {
        OPT_I("threads", &run.threads, 0, 1024, "threads (0 = all cores)"),
        OPT_I("gemm-n", &ro.gemm_n, 64, 16384, "square sgemm size n (2 n^3 flops a run; large enough to be compute bound)"),
        OPT_D("array-mib", &ro.array_mib, 0, 1 << 20,
              "each of the three bandwidth arrays in MiB (0 = 4 x the last-level cache, at least 64)"),
        OPT_I("passes", &ro.passes, 1, 1000, "timed runs of each kernel after a warm-up; the best is reported"),
        OPT_S("out", run.out, "result JSON file (written atomically); other benchmarks take it with --roofline"),
        OPT_F("dry-run", &run.dry, "check the options, " OPTIONS_DRY_RUN_NOTE " on stdout, then stop before measuring"),
    };
    int n = (int)(sizeof opts / sizeof *opts);
    if (bench_parse(opts, n, argc, argv, 3, "bench roofline", "[options]")) return 0; /* --help */
    bench_check(&run);
    Err e = {{0}};
    if (roofline_check(&ro, &e)) die_err(&e);
    if (run.dry) return bench_dry_done("bench roofline", opts, n);
    cJSON *res = bench_result("bench roofline", argc, argv, opts, n);
    if (bench_roofline_table(&ro, res, &e)) die_err(&e);
    return bench_finish(res, &run);
}
