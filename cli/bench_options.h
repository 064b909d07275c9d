/* The options every `seqbench bench` instrument shares, turned into the
 * typed settings of bench/harness.h: the run options (threads, output,
 * roofline, seed, repeats), the choice of models (every preset at a size or
 * a parameter budget, one --arch or --pattern, a checkpoint or a paper
 * config) and the result's provenance and settings blocks. */
#ifndef SEQ_BENCH_OPTIONS_H
#define SEQ_BENCH_OPTIONS_H

#include <cjson/cJSON.h>

#include "bench/harness.h"
#include "cli/model_options.h"
#include "cli/options.h"

#define BENCH_MAX_OPTIONS (MODEL_OPTIONS_N + 40)
/* --archs of the prefill and decode sweeps: every preset */
#define BENCH_ALL_ARCHS "transformer,transformer-local,mamba,mamba2,mamba-lti,hawk,griffin,jamba,mamba2-hybrid"

/* --threads --repeats --seed --roofline --out --dry-run; returns the count written. */
int bench_run_options(BenchRun *r, int repeats_default, Option *out);

typedef struct {
    ModelArgs ma;
    char archs[512], model_dir[1024], paper[64], dtype[16];
} BenchModels;

/* The model options (MODEL_OPTIONS_N of them first), then --archs,
 * --model, --paper, --dtype; returns the count written. */
int bench_models_options(BenchModels *bm, const char *archs_default, Option *out);
/* The configurations to run, validated (dies with one line on a bad one). */
int bench_models_resolve(BenchModels *bm, Option *opts, int n_opts, BenchModelSpec *specs);

/* "1,4,16" into a list (values in [lo, hi]); dies on a bad list. */
void bench_parse_list(const char *s, BenchList *out, int lo, int hi, const char *what);

/* Parses argv from `first`: dies on a bad option; returns 1 when --help was printed. */
int bench_parse(Option *opts, int n, int argc, char **argv, int first, const char *cmd, const char *usage);
/* Checks the run settings (dies on a bad --out or --roofline) and sets the threads. */
void bench_check(const BenchRun *r);
/* --dry-run: every option and shape has been checked; prints the resolved settings on stdout, says so on stderr and
 * returns 0, the status to exit with. */
int bench_dry_done(const char *command, const Option *opts, int n);
/* The result: provenance (its wall time starts here), "machine", "settings". */
cJSON *bench_result(const char *command, int argc, char **argv, const Option *opts, int n_opts);
/* Writes the result (dies if it cannot), frees it and returns 0. */
int bench_finish(cJSON *res, const BenchRun *r);

#endif
