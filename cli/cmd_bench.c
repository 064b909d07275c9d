/* seqbench bench: the benchmark suite's front door. `seqbench bench [options]`
 * is the model benchmark (cli/bench_model.c); `seqbench bench NAME [options]`
 * runs one instrument from the table below, which is also what
 * `seqbench bench help` lists. */
#include <stdio.h>
#include <string.h>

#include "cli/bench_kernels.h"
#include "cli/bench_memory.h"
#include "cli/bench_suite.h"
#include "cli/commands.h"
#include "core/err.h"

/* kernels and memory take their subcommand name as argv[0] */
static int bench_kernels_main(int argc, char **argv) { return bench_kernels(argc - 2, argv + 2); }
static int bench_memory_main(int argc, char **argv) { return bench_memory(argc - 2, argv + 2); }

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} BENCHES[] = {
    {"roofline", bench_roofline_main, "peak sgemm GFLOP/s and memory bandwidth (triad, read) with the configured threads"},
    {"decode", bench_decode_main, "decode tokens/s against batch and context (one prefill fills it), every preset"},
    {"latency", bench_latency_main, "per-token decode latency against prefill length (Griffin Fig. 4)"},
    {"throughput", bench_throughput_main, "tokens/s against sample length after an empty prompt (Griffin Fig. 1b)"},
    {"prefill", bench_prefill_main, "tokens/s of the parallel forward against sequence length"},
    {"kernels", bench_kernels_main, "scan and attention time against length, forward and forward+backward, log-log slopes"},
    {"memory", bench_memory_main, "decode state / KV-cache bytes against context, analytic and measured"},
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
