/* seqbench: the subcommands, as the README lists them. */
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
    {"train", cmd_train, "train a model on a task; write a result JSON and optionally the checkpoint"},
    {"eval", cmd_eval, "accuracy of a saved model on a task at one or more lengths"},
    {"sample", cmd_sample, "the task instances train or eval use, as JSON (tokens, scored positions, answers)"},
    {"logits", cmd_logits, "logits of a saved model on a token file, parallel or step-by-step"},
    {"params", cmd_params, "parameter counts, state bytes and FLOPs of a configuration"},
    {"pattern", cmd_pattern, "Mamba-2-Hybrid layer pattern from layers and attention / MLP ratios (Algorithm 1)"},
    {"gradcheck", cmd_gradcheck, "finite-difference gradient checks of sublayers and models"},
    {"experiment", cmd_experiment, "run the cells of an experiments/*.json spec (resumable)"},
    {"compare", cmd_compare, "train architectures under equal settings over seeds; summary of mean, min, max (resumable)"},
    {"report", cmd_report, "gather results into results/REPORT.md and tables for the plots"},
    {"bench", cmd_bench, "prefill, training-step and decode throughput, latency, memory and FLOPs of a model"},
};

static void usage(FILE *f)
{
    fprintf(f, "seqbench %s: sequence-model benchmark and reproduction harness\n\n"
               "usage: seqbench <command> [options]   (seqbench <command> --help for its options)\n\n",
            sysinfo_version());
    for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
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
