/* seqbench: the subcommands, as docs/commands.md lists them (a section per
 * subcommand, whose anchor --help prints beside it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/cpu.h"
#include "core/err.h"
#include "core/sysinfo.h"
#include "core/threads.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} COMMANDS[] = {
    {"train", cmd_train, "train a model on a task (result, checkpoint)"},
    {"eval", cmd_eval, "accuracy of a saved model at given lengths"},
    {"sample", cmd_sample, "the instances train or eval use, as JSON"},
    {"logits", cmd_logits, "a saved model's logits on a token file"},
    {"params", cmd_params, "parameters, state bytes and FLOPs of a model"},
    {"pattern", cmd_pattern, "Mamba-2-Hybrid pattern from ratios (Alg. 1)"},
    {"gradcheck", cmd_gradcheck, "finite-difference gradient checks"},
    {"experiment", cmd_experiment, "run an experiments/*.json spec (resumable)"},
    {"compare", cmd_compare, "architectures under equal settings, seeds"},
    {"report", cmd_report, "results into REPORT.md, tables and plots"},
    {"bench", cmd_bench, "speed and memory (seqbench bench help)"},
};

static void usage(FILE *f)
{
    fprintf(f, "seqbench %s: sequence-model benchmark and reproduction harness\n\n"
               "usage: seqbench <command> [options]   (seqbench <command> --help for its options)\n\n",
            sysinfo_version());
    for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++)
        fprintf(f, "  %-10s %-45s docs/commands.md#%s\n", COMMANDS[i].name, COMMANDS[i].summary, COMMANDS[i].name);
    fprintf(f, "\nEach command's reference is the section of docs/commands.md on its line (docs/ is in the\n"
               "source tree and, after make install, in <prefix>/share/doc/seqbench); README.md is the way in.\n");
}

int main(int argc, char **argv)
{
    threads_passive_waits(argv); /* before any OpenMP: core/threads.h says why */
    const char *cpu_problem = cpu_env_problem();
    if (cpu_problem) die("SEQBENCH_CPU=%s: %s", getenv("SEQBENCH_CPU"), cpu_problem);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("seqbench %s\n", sysinfo_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++)
        if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].run(argc, argv);
    char known[256] = "";
    for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++) /* from the table, so it cannot go stale */
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", COMMANDS[i].name);
    die("unknown command \"%s\" (commands: %s; see seqbench --help)", argv[1], known);
}
