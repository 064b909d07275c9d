/* seqbench bench roofline: what this machine allows with the configured
 * threads (core/roofline.h): peak sgemm and sustained memory bandwidth, as a
 * table and as JSON another benchmark can take with --roofline FILE. */
#include <stdio.h>
#include <string.h>

#include "cli/bench_common.h"
#include "cli/bench_suite.h"
#include "core/err.h"
#include "core/machine.h"
#include "core/mem.h"

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
        OPT_F("dry-run", &run.dry, "check the options, then stop before measuring"),
    };
    int n = (int)(sizeof opts / sizeof *opts);
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 3, "bench roofline", "[options]", &e);
    if (rc < 0) die_err(&e);
    if (rc) return 0;
    bench_check_run(&run);
    if (roofline_check(&ro, &e)) die_err(&e);
    if (run.dry) return bench_dry_done("bench roofline");
    bench_warn_busy();
    cJSON *res = bench_result("bench roofline", argc, argv, opts, n);
    Roofline rf;
    if (roofline_measure(&ro, &rf, &e)) die_err(&e);
    cJSON_AddItemToObject(res, "roofline", roofline_json(&rf, "measured"));
    char mach[512], arr[32], llc[32];
    machine_summary(mach, sizeof mach);
    printf("machine: %s\n", mach);
    printf("%-28s %10s  %s\n", "measure", "value", "how");
    printf("%-28s %10.1f  best of %d, %d x %d x %d\n", "sgemm GFLOP/s", rf.sgemm_gflops, rf.passes, rf.gemm_n, rf.gemm_n,
           rf.gemm_n);
    printf("%-28s %10.1f  a = b + s c, 3 arrays of %s (L3 %s), best of %d\n", "triad GB/s (the bound's)", rf.triad_gbs,
           mem_human(rf.array_bytes, arr, sizeof arr), mem_human(rf.llc_bytes, llc, sizeof llc), rf.passes);
    printf("%-28s %10.1f  sum of one array, best of %d\n", "read-only GB/s", rf.read_gbs, rf.passes);
    printf("%-28s %10.1f  sums over %s, inside the L3, best of %d\n", "last-level cache GB/s", rf.llc_read_gbs,
           mem_human(rf.llc_test_bytes, arr, sizeof arr), rf.passes);
    printf("%-28s %10.2f\n", "seconds", rf.seconds);
    fflush(stdout);
    bench_write(res, &run);
    cJSON_Delete(res);
    return 0;
}
