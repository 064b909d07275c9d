/* `seqbench compare`'s work (compare.c): a compare spec's cells trained
 * through the experiment runner (experiment.h), then summarised over the
 * seeds per architecture and eval length. Includes core/ only. */
#ifndef SEQ_COMPARE_H
#define SEQ_COMPARE_H

#include "core/err.h"

typedef struct {
    const char *spec_path; /* an experiment spec whose cells are the architectures */
    const char *profile;   /* "": quick if the spec has profiles, else none */
    const char *preset;    /* "": none; else under every cell's options */
    const char *results;   /* the cells and summary.json go to <results>/<spec name>/ */
    const char *metric;    /* what the table shows: token_acc, string_acc or "" (the spec's "metric", else token_acc) */
    const char *seeds;     /* NULL: the profile's or the spec's; else "4,5,6" replaces every cell's seeds */
    int threads, jobs, dry;
    int argc;              /* the command line, for the summary's provenance block */
    char **argv;
    int (*run_command)(int argc, char **argv); /* runs a cell's command: ExpRun.run_command */
} CompareSettings;

/* Runs the spec's cells (experiment_run) and, unless dry, writes
 * <results>/<name>/summary.json (per architecture and eval length the mean,
 * min and max over the seeds that finished, and the exact parameter counts)
 * and prints it as a table on stdout. Returns experiment_run's status (0, 1 a
 * cell failed, 2 a dry run found a cell that would fail); -1 + Err, one line,
 * on a bad spec or metric or when summary.json cannot be written. */
int compare_run(const CompareSettings *s, Err *e);

#endif
