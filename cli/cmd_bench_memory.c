/* seqbench bench memory: its options into a BenchMemory (bench/memory.h). */
#include <stdio.h>
#include <string.h>

#include "bench/memory.h"
#include "cli/bench_options.h"
#include "cli/bench_suite.h"
#include "core/datadir.h"
#include "core/err.h"

/* An increasing list of contexts; dies on a bad one. */
static void increasing(const char *s, BenchList *out, const char *what)
{
    bench_parse_list(s, out, 1, 1 << 30, what);
    for (int i = 1; i < out->n; i++)
        if (out->v[i] <= out->v[i - 1])
            die("bench memory: %s must be increasing (got %d after %d)", what, out->v[i], out->v[i - 1]);
}

int bench_memory_main(int argc, char **argv)
{
    BenchMemory s = {.d_model = 64, .batch = 1, .vocab = 256, .measure = 1, .seed = 1};
    BenchRun run = {0}; /* --threads, --out, --dry-run */
    char archs_s[256] = "transformer,mamba,mamba2,hawk,griffin,jamba", contexts_s[256] = "256,1024,4096,16384";
    char paper_contexts_s[256] = "2048,32768,262144", paper_measure_s[256] = "";
    strcpy(s.paper, "all");
    Option opts[] = {
        OPT_S("archs", archs_s, "small presets to build, each at --d-model with its default depth"),
        OPT_I("d-model", &s.d_model, 1, 65536, "width of the small presets"),
        OPT_S("contexts", contexts_s, "contexts for the small presets, increasing (measured by stepping to each)"),
        OPT_I("batch", &s.batch, 1, 1 << 16, "sequences decoded at once"),
        OPT_I("vocab", &s.vocab, 2, 1 << 24, "vocabulary of the small presets (the logits are part of the decoder)"),
        OPT_F("measure", &s.measure, "measure the small presets' resident memory (--measure false: analytic only)"),
        OPT_S("paper", s.paper, "configs/paper models, analytic only: all, none, or names (seqbench params --paper list)"),
        OPT_S("paper-contexts", paper_contexts_s, "contexts for the paper models (262144: Jamba Table 1's 256K)"),
        OPT_S("paper-measure", paper_measure_s, "also measure the paper models at these contexts, increasing "
                                                "(random weights in memory; a 130M model steps ~20 tokens/s on 2 "
                                                "cores; default: analytic only)"),
        OPT_S("paper-dir", s.paper_dir, "where the paper configs are (default: configs/paper, found as params finds it)"),
        OPT_I("threads", &run.threads, 0, 1024, "threads (0 = all cores)"),
        OPT_U("seed", &s.seed, "seed for weights and tokens"),
        OPT_S("out", run.out, "result JSON file (written atomically)"),
        OPT_F("dry-run", &run.dry, "check the options and every model, " OPTIONS_DRY_RUN_NOTE
              " on stdout, then stop before measuring"),
    };
    int n = (int)(sizeof opts / sizeof *opts);
    if (bench_parse(opts, n, argc, argv, 3, "bench memory", "[--archs A,...] [--contexts C,...] [options]"))
        return 0; /* --help */
    increasing(contexts_s, &s.contexts, "--contexts");
    increasing(paper_contexts_s, &s.paper_contexts, "--paper-contexts");
    if (*paper_measure_s) increasing(paper_measure_s, &s.paper_measure, "--paper-measure");
    if (!*s.paper_dir) data_path("configs/paper", s.paper_dir, sizeof s.paper_dir);
    bench_check(&run);
    Err e = {{0}};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", archs_s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (s.n_archs == BENCH_MAX_LIST) die("bench memory: --archs: more than %d architectures", BENCH_MAX_LIST);
        if (strlen(t) >= sizeof s.archs[0]) die("bench memory: --archs: unknown architecture \"%s\"", t);
        strcpy(s.archs[s.n_archs++], t);
    }
    if (bench_memory_check(&s, &e)) die_err(&e);
    if (run.dry) return bench_dry_done("bench memory", opts, n);
    cJSON *res = bench_result("bench memory", argc, argv, opts, n);
    if (bench_memory_run(&s, res, &e)) die_err(&e);
    return bench_finish(res, &run);
}
