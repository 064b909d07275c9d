#include "bench/roofline.h"

#include <stdio.h>

#include "bench/harness.h"
#include "core/machine.h"
#include "core/mem.h"

int bench_roofline_table(const RooflineOpts *o, cJSON *res, Err *e)
{
    bench_warn_busy();
    Roofline rf;
    if (roofline_measure(o, &rf, e)) return -1;
    cJSON_AddItemToObject(res, "roofline", roofline_json(&rf, "measured"));
    char mach[512], arr[32], llc[32];
    machine_summary(mach, sizeof mach);
    printf("machine: %s\n", mach);
    printf("%-28s %10s  %s\n", "measure", "value", "how");
    printf("%-28s %10.1f  FMA chains on every thread, best of %d\n", "FMA peak GFLOP/s (bound's)", rf.fma_gflops,
           rf.passes);
    printf("%-28s %10.1f  best of %d, %d x %d x %d\n", "sgemm GFLOP/s", rf.sgemm_gflops, rf.passes, rf.gemm_n, rf.gemm_n,
           rf.gemm_n);
    printf("%-28s %10.1f  a = b + s c, 3 arrays of %s (L3 %s), best of %d\n", "triad GB/s (the bound's)", rf.triad_gbs,
           mem_human(rf.array_bytes, arr, sizeof arr), mem_human(rf.llc_bytes, llc, sizeof llc), rf.passes);
    printf("%-28s %10.1f  sum of one array, best of %d\n", "read-only GB/s", rf.read_gbs, rf.passes);
    printf("%-28s %10.1f  sums over %s, inside the L3, best of %d\n", "last-level cache GB/s", rf.llc_read_gbs,
           mem_human(rf.llc_test_bytes, arr, sizeof arr), rf.passes);
    printf("%-28s %10.2f\n", "seconds", rf.seconds);
    fflush(stdout);
    return 0;
}
