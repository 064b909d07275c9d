/* Command-line options that can also come from a JSON config file.
 *
 * Each subcommand declares a table of options; `--config FILE` applies a
 * JSON object first (keys are the option names, with '-' or '_'), then the
 * command line overrides it. Unknown options or keys, missing values and
 * out-of-range numbers are one-line errors. */
#ifndef SEQ_OPTIONS_H
#define SEQ_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "core/err.h"

typedef enum { OPT_INT, OPT_DOUBLE, OPT_STRING, OPT_FLAG, OPT_U64 } OptType;
/* Where an option's value came from, for a dry run's resolved settings. */
typedef enum {
    OPT_FROM_DEFAULT, OPT_FROM_PRESET, OPT_FROM_PRESET_ARCH, OPT_FROM_CONFIG, OPT_FROM_COMMAND_LINE
} OptFrom;

typedef struct {
    const char *name;   /* without "--" */
    OptType type;
    void *dest;         /* int*, double*, char[cap], int* (flag: 0/1), uint64_t* */
    size_t cap;         /* OPT_STRING buffer size */
    double lo, hi;      /* OPT_INT / OPT_DOUBLE / OPT_U64 bounds */
    const char *help;
    int set;            /* given on the command line or in the config */
    OptFrom from;       /* what set it last (the one that won) */
    const char *from_name; /* the preset's name or the --config file (points into argv) */
    const char *digest_as; /* when set, the settings digest takes this in place of the value (--data: the corpus's
                            * identity, its checksum and size, not where it lies) */
} Option;

#define OPT_I(n, d, l, h, help) {n, OPT_INT, d, 0, l, h, help, 0, OPT_FROM_DEFAULT, NULL, NULL}
#define OPT_D(n, d, l, h, help) {n, OPT_DOUBLE, d, 0, l, h, help, 0, OPT_FROM_DEFAULT, NULL, NULL}
#define OPT_S(n, d, help) {n, OPT_STRING, d, sizeof(d), 0, 0, help, 0, OPT_FROM_DEFAULT, NULL, NULL}
#define OPT_F(n, d, help) {n, OPT_FLAG, d, 0, 0, 1, help, 0, OPT_FROM_DEFAULT, NULL, NULL}
#define OPT_U(n, d, help) {n, OPT_U64, d, 0, 0, 1.8e19, help, 0, OPT_FROM_DEFAULT, NULL, NULL}

/* Parses argv[first..argc); returns 0, -1 with Err, or 1 when --help was printed. */
int options_parse(Option *opts, int n, int argc, char **argv, int first, const char *cmd, const char *usage, Err *e);
void options_usage(FILE *f, const char *cmd, const char *usage, const Option *opts, int n);
Option *options_find(Option *opts, int n, const char *name);
/* A dry run's report, on stdout: every option with its value and where the
 * value came from (preset NAME, its by_arch entry, --config FILE, command
 * line), those given first in the order of the table, then the defaults. */
void options_print_resolved(FILE *f, const char *cmd, const Option *opts, int n);
/* The --dry-run help of a command that prints it. */
#define OPTIONS_DRY_RUN_NOTE "print the resolved settings (given first, then defaults; each with where it came from)"
/* Every option's value, for result files. */
cJSON *options_to_json(const Option *opts, int n);
/* The settings that change a result's numbers, as canonical JSON: every
 * option but those naming where output goes or where settings were read
 * from (--out, --save, --dry-run, --config, --preset, --roofline: their
 * values are merged in or do not change a figure), under "command"; the
 * thread count as the run has it (--threads 0 resolved). */
cJSON *options_digest_json(const char *command, const Option *opts, int n);
/* results_digest (core/results.h) of that JSON, the result's "settings_digest",
 * into hex; returns the JSON text it hashed (free with cJSON_free). */
char *options_digest(const char *command, const Option *opts, int n, char hex[17]);
/* Adds "settings_digest" to a result. */
void options_add_digest(cJSON *res, const char *command, const Option *opts, int n);

/* Comma-separated list of positive ints ("64,128,256") into out; returns count or -1. */
int parse_int_list(const char *s, int *out, int cap, int lo, int hi, const char *what, Err *e);

#endif
