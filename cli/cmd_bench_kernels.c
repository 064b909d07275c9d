/* seqbench bench kernels: its options into a BenchKernels (bench/kernels.h). */
#include <string.h>

#include "bench/kernels.h"
#include "cli/bench_options.h"
#include "cli/bench_suite.h"
#include "core/err.h"
#include "core/mem.h"

int bench_kernels_main(int argc, char **argv)
{
    BenchKernels s = {.d_model = 64, .d_state = 16, .heads = 4, .batch = 1, .repeats = 3, .seed = 1};
    BenchRun run = {0}; /* --threads, --out, --dry-run */
    char lengths_s[256] = "256,512,1024,2048,4096,8192,16384", kernels_s[256] = "all", mem_s[32] = "";
    Option opts[] = {
        OPT_S("kernels", kernels_s, "comma-separated: selective_scan, mamba1, mamba2, rglru, attention, or all"),
        OPT_S("lengths", lengths_s, "sequence lengths (the slope fits log time against log length over them)"),
        OPT_I("d-model", &s.d_model, 1, 65536, "model width D of every kernel"),
        OPT_I("d-state", &s.d_state, 1, 4096, "Mamba state size N (Mamba-1 and Mamba-2)"),
        OPT_I("heads", &s.heads, 1, 4096, "attention heads (head dim = d-model / heads); RG-LRU gate blocks"),
        OPT_I("batch", &s.batch, 1, 1 << 16, "sequences per run"),
        OPT_I("repeats", &s.repeats, 1, BENCH_MAX_REPEATS, "timed runs per cell after one warm-up run; best and median"),
        OPT_I("threads", &run.threads, 0, 1024, "threads (0 = all cores)"),
        OPT_U("seed", &s.seed, "seed for weights and inputs"),
        OPT_S("mem-limit", mem_s, "memory to stay within, e.g. 500M or 8G (default: what is available); a "
                                  "cell beyond it is recorded as oom and skipped"),
        OPT_S("out", run.out, "result JSON file (written atomically)"),
        OPT_F("dry-run", &run.dry, "check the options and build the kernels' models, " OPTIONS_DRY_RUN_NOTE
              " on stdout, then stop before timing"),
    };
    int n = (int)(sizeof opts / sizeof *opts);
    if (bench_parse(opts, n, argc, argv, 3, "bench kernels", "[--kernels K,...] [--lengths L,...] [options]"))
        return 0; /* --help */
    bench_parse_list(lengths_s, &s.lengths, 1, 1 << 24, "--lengths");
    Err e = {{0}};
    if (bench_kernels_select(kernels_s, s.use, &e)) die_err(&e);
    if (*mem_s) {
        size_t lim;
        if (mem_parse_size(mem_s, &lim, &e)) die("--mem-limit: %s", e.msg);
        mem_set_limit(lim);
    }
    bench_check(&run);
    if (bench_kernels_check(&s, &e)) die_err(&e);
    if (run.dry) return bench_dry_done("bench kernels", opts, n);
    cJSON *res = bench_result("bench kernels", argc, argv, opts, n);
    if (bench_kernels_run(&s, res, &e)) die_err(&e);
    return bench_finish(res, &run);
}
