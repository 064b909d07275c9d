/* What every instrument of `seqbench bench` shares, given typed settings:
 * the run settings (threads, repeats, seed, where the roofline comes from,
 * the output file), the models to run, the roofline block, the JSON of each
 * figure beside its bound, and writing the result.
 *
 * bench/ holds the instruments: each takes its settings struct and a result
 * object the caller started (provenance, settings), measures, prints its
 * table and fills the result. Turning a command line into those settings is
 * cli/'s (cli/bench_options.c, cli/cmd_bench*.c). bench/ includes core/ and
 * models/ only, and errors come back as an Err: the caller decides to exit.
 *
 * Order of a run: check every setting, output and shape (one line, exit 2,
 * nothing measured), then the roofline, then the measurements. */
#ifndef SEQ_BENCH_HARNESS_H
#define SEQ_BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bench/bench.h"
#include "bench/bounds.h"
#include "core/err.h"
#include "core/roofline.h"
#include "models/model.h"

#define BENCH_MAX_LIST 32
#define BENCH_MAX_MODELS 16
#define BENCH_MAX_REPEATS 1000 /* timed runs per measurement */
/* No task here to size the vocabulary: like `seqbench params`, a Llama-sized
 * one, so the same settings describe the same model in both commands. */
#define BENCH_DEFAULT_VOCAB 32000

typedef struct {
    char out[1024];           /* "" = no result file */
    char roofline_file[1024]; /* "" = measure the roofline in this run */
    int threads, repeats, dry;
    uint64_t seed;
} BenchRun;

typedef struct {
    char name[64];        /* the preset, "pattern ...", the paper config or the checkpoint */
    ModelCfg cfg;
    char checkpoint[1024]; /* its weights; "" = seeded random ones */
    int bf16;              /* --dtype bf16: its matrices in bf16 (model_to_bf16) */
} BenchModelSpec;

/* An increasing-or-not list of ints as a sweep takes it. */
typedef struct {
    int v[BENCH_MAX_LIST];
    int n;
} BenchList;

/* The output file can be written and the roofline file read; sets the threads. */
int bench_check_run(const BenchRun *r, Err *e);
/* The layer table of a spec without its weights, for checking shapes first. */
int bench_spec_layout(const BenchModelSpec *s, Model *m, Err *e);
/* Weights: the checkpoint's, else seeded random ones. */
int bench_spec_build(const BenchModelSpec *s, uint64_t seed, Model *m, Err *e);
/* Each spec's weights fit in the memory left, and each shape check(layout,
 * arg) accepts; errors name the model. */
int bench_check_specs(const BenchModelSpec *specs, int n, int (*check)(const Model *m, const void *arg, Err *e),
                       const void *arg, Err *e);

/* Warnings on stderr when the load average says other processes share the
 * cores, and when the environment holds OpenBLAS below the CPU (machine.h). */
void bench_warn_busy(void);
/* The start of the work: warns when the machine is busy, then the roofline,
 * read from r->roofline_file or measured now; printed, and added to res as "roofline". */
int bench_roofline(const BenchRun *r, Roofline *rf, cJSON *res, Err *e);

/* Appends {"name", "model": its description, "points": []} to a result's
 * "models" array; returns the points array, for a sweep's figures. */
cJSON *bench_model_points(cJSON *models, const char *name, const Model *m);
/* One decode measurement's figures, the same keys wherever they appear. */
cJSON *bench_decode_json(const BenchDecode *r);
/* One prefill or training-step measurement's figures with its bound and fraction. */
cJSON *bench_pass_json(const BenchPass *r, const BenchBound *b);
/* "roofline_bound_tokens_per_s", "roofline_bound", "roofline_fraction" (achieved / bound) and the parts:
 * "compute_bound_tokens_per_s", and for decode "memory_bound_tokens_per_s", "bytes_per_step". */
void bench_add_bound(cJSON *o, const BenchBound *b, double achieved);
/* Wall time, then the file (atomically) when r->out is set. */
int bench_write(cJSON *res, const BenchRun *r, Err *e);

/* "1.23K", "456" ... for the tables. */
const char *bench_rate(double v, char *buf, size_t cap);

#endif
