/* What every `seqbench bench` subcommand shares: the run options (threads,
 * output, roofline, seed, repeats), the choice of models (every preset at
 * a size or a parameter budget, one --arch or --pattern, a checkpoint or a
 * paper config), the result's provenance, machine and roofline blocks, the
 * busy-machine warning and the bound fields beside each figure.
 *
 * Order of a run: parse, check every option, output and shape (one line,
 * exit 2, nothing measured), then the roofline, then the measurements. */
#ifndef SEQ_BENCH_COMMON_H
#define SEQ_BENCH_COMMON_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "bench/bench.h"
#include "bench/bounds.h"
#include "cli/model_options.h"
#include "cli/options.h"
#include "core/roofline.h"
#include "models/model.h"

#define BENCH_MAX_LIST 32
#define BENCH_MAX_MODELS 16
#define BENCH_MAX_OPTIONS (MODEL_OPTIONS_N + 40)
/* No task here to size the vocabulary: like `seqbench params`, a Llama-sized
 * one, so the same options describe the same model in both commands. */
#define BENCH_DEFAULT_VOCAB 32000

typedef struct {
    char out[1024], roofline_file[1024];
    int threads, repeats, dry;
    uint64_t seed;
} BenchRun;

/* --threads --out --roofline --seed --repeats --dry-run; returns the count written. */
int bench_run_options(BenchRun *r, int repeats_default, Option *out);

typedef struct {
    ModelArgs ma;
    char archs[512], model_dir[1024], paper[64];
} BenchModels;

typedef struct {
    char name[64];      /* the preset, "pattern ...", the paper config or the checkpoint */
    ModelCfg cfg;
} BenchModelSpec;

/* The model options (MODEL_OPTIONS_N of them first), then --archs,
 * --model, --paper; returns the count written. */
int bench_models_options(BenchModels *bm, const char *archs_default, Option *out);
/* The configurations to run, validated (dies with one line on a bad one). */
int bench_models_resolve(BenchModels *bm, Option *opts, int n_opts, BenchModelSpec *specs);
/* Weights: a checkpoint's, else seeded random ones. Dies on failure. */
void bench_model_build(const BenchModels *bm, const BenchModelSpec *s, uint64_t seed, Model *m);
/* The layer table of a spec without its weights, for checking shapes first. */
void bench_model_layout(const BenchModelSpec *s, Model *m);

/* "1,4,16" into out (values in [lo, hi]); dies on a bad list. */
int bench_parse_list(const char *s, int *out, int lo, int hi, const char *what);

/* Checks --out and --roofline, sets the threads. Call right after parsing. */
void bench_check_run(const BenchRun *r);
/* --dry-run: every option and shape has been checked; says so and returns 0, the status to exit with. */
int bench_dry_done(const char *command);
/* A warning on stderr when the load average says other processes share the cores. */
void bench_warn_busy(void);
/* The result: provenance (its wall time starts here), "machine", "settings". */
cJSON *bench_result(const char *command, int argc, char **argv, const Option *opts, int n_opts);
/* The start of the work: warns when the machine is busy, then the roofline,
 * read from --roofline or measured now; printed, and added to res as "roofline". */
void bench_roofline(const BenchRun *r, Roofline *rf, cJSON *res);

/* One decode measurement's figures, the same keys wherever they appear. */
cJSON *bench_decode_json(const BenchDecode *r);
/* One prefill or training-step measurement's figures with its bound and fraction. */
cJSON *bench_pass_json(const BenchPass *r, const BenchBound *b);
/* Wall time, then the file (atomically) when --out was given. */
void bench_write(cJSON *res, const BenchRun *r);

/* "roofline_bound_tokens_per_s", "roofline_bound", "roofline_fraction" (achieved / bound) and the parts:
 * "compute_bound_tokens_per_s", and for decode "memory_bound_tokens_per_s", "bytes_per_step". */
void bench_add_bound(cJSON *o, const BenchBound *b, double achieved);

/* "1.23K", "456" ... for the tables. */
const char *bench_rate(double v, char *buf, size_t cap);

#endif
