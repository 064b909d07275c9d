/* reproduce/: experiment specs -> cells -> result files -> REPORT.md; includes core/ only.
 *
 * The report, what `seqbench report` writes (report.c puts the pieces together):
 *   report_data.c   one experiment spec and its result files, and the figures read from them
 *   report_rules.c  the claims' rules and their verdicts
 *   report_tsv.c    the tables plots/NAME.gp draw (results/<name>*.tsv)
 *   report_md.c     one experiment's section of REPORT.md
 * Everything is a function of the spec and the result files, read in a fixed
 * order, so two reports of the same files are the same bytes. */
#ifndef SEQ_REPORT_H
#define SEQ_REPORT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/atomic.h"
#include "core/err.h"

/* ---- the whole report (report.c) ---- */
typedef struct {
    const char *experiments; /* directory of the specs, *.json, read in name order */
    const char *results;     /* results directory: read for the results, REPORT.md and the tables go here */
    const char *profile;     /* the profile the results were run at, for the settings lines */
    const char *plots;       /* path from the results directory to the rendered plots, for the image links */
    int no_times;            /* leave out training times and bench speeds, so two runs' reports compare equal */
    const char *seeds;       /* NULL: each spec's seeds at the profile; else these ("4,5,6"), as the run had them */
    /* With it, only the results the specs plan at this profile and seeds count, and each is first checked
     * against the settings its cell has now (experiment_result_stale): a result made under other settings
     * (another profile, a changed spec) is left out and named, so no figure mixes two settings. NULL: every
     * result file in the folder counts. */
    int (*run_command)(int argc, char **argv);
} ReportSettings;

/* Writes <results>/REPORT.md and the plot tables from every spec and its
 * results; says "wrote PATH" on stderr and names each malformed claim there.
 * -1 + Err if no spec or no result is found, or a file cannot be read or
 * written. */
int report_write(const ReportSettings *s, Err *e);

#define REP_MAX_CELLS 64
#define REP_MAX_RUNS 32
#define REP_MAX_LEN 64

typedef struct {
    const char *name;          /* the spec's cell name */
    cJSON *runs[REP_MAX_RUNS]; /* its result files, by file name */
    long seeds[REP_MAX_RUNS];  /* each run's seed, from its file name (-1: none) */
    int n_runs, n_failed;      /* failed: status other than "ok" */
    long only_seed;            /* -1: every run counts; else only the run of this seed (rep_select_seed) */
    char chosen[64];           /* a swept cell: the value kept, "lr_0.003" ("" when not swept) */
    char sweep[512];           /* and each value's final validation accuracy, for the report */
} RepCell;

typedef struct {
    cJSON *spec;
    char path[1024];     /* of the spec, for messages */
    const char *name, *command, *metric;
    RepCell cells[REP_MAX_CELLS];
    int n_cells;
    int n_cells_run;     /* cells with at least one result */
    int no_times;        /* leave out timings (training time, bench speeds), for comparing two runs' reports */
    double spec_lengths[REP_MAX_LEN]; /* every eval length the spec writes; a rule naming another is malformed */
    int n_spec_lengths;  /* -1: not known (a preset sets them, or the spec writes none), so not checked */
} RepExp;

/* Reads the spec (it must have "name" and "cells") and every result file of
 * its cells under results/<name>/: <cell>.json or <cell>.seed<k>.json. A
 * result that does not parse is skipped with a line on stderr. */
int rep_load(RepExp *x, const char *spec_path, const char *results, Err *e);
/* rep_load, keeping only the result files whose paths (<results>/<name>/<file>) are in keep (n_keep of them). */
int rep_load_only(RepExp *x, const char *spec_path, const char *results, char *const *keep, int n_keep, Err *e);
void rep_free(RepExp *x);
/* The spec alone, no results: x->spec = spec (not copied; rep_free deletes it). -1 + Err without name or cells. */
int rep_from_spec(RepExp *x, cJSON *spec, const char *spec_path, Err *e);
RepCell *rep_cell(RepExp *x, const char *name);
/* Judging a rule seed by seed: rep_select_seed(x, k) makes every figure read the run of seed k alone (-1: all
 * runs again); rep_counts says whether run r of c counts under it. rep_seeds: the seeds any cell has, sorted. */
void rep_select_seed(RepExp *x, long seed);
int rep_counts(const RepCell *c, int r);
int rep_seeds(const RepExp *x, long *out, int cap);

/* Whether smaller is better for a metric (loss, bits_per_byte: a text model's), else it is an accuracy
 * (a fraction, printed in percent). rep_curve_metric: the validation curve's field the report reads for a
 * metric, the metric itself for loss and bits_per_byte, else the string accuracy. */
int rep_lower_is_better(const char *metric);
const char *rep_curve_metric(const char *metric);

/* A figure over a cell's runs: mean, min and max over the runs that have it. */
typedef struct {
    double mean, lo, hi;
    int n;
} RepStat;

/* metric (string_acc, token_acc, loss...) of the eval entry at `length`; with
 * depth >= 0 the entry at that depth, with depth < 0 the mean over the
 * entry's depths (needle). n = 0 when no run has it. */
void rep_metric(const RepCell *c, const char *metric, double length, double depth, RepStat *s);
/* A number at `path` in each run: keys and [index] or [key=value] selectors,
 * e.g. "models[name=mamba].points[batch=16].tokens_per_s_median" or
 * "metrics.train_seconds". why gets the reason when no run has it. */
void rep_field(const RepCell *c, const char *path, RepStat *s, char *why, size_t cap);
const cJSON *rep_path(const cJSON *root, const char *path, char *why, size_t cap);
/* A scaling figure's point (the spec's "scaling": series of cells, one cell a size): the cell's
 * non-embedding parameters (total - embedding - untied LM head, as the scaling papers count them), its
 * training tokens and FLOPs (metrics.train_flops: the steps', validation left out), the metric on test
 * at `length` and at the last validation check; each over the cell's runs. */
typedef struct {
    RepStat params, tokens, flops, test, val;
} RepScalePoint;
void rep_scale_point(const RepCell *c, const char *metric, double length, RepScalePoint *p);
/* The spec's "scaling": {"length": L, "series": [{"name": N, "cells": [C...]}...]} checked against its cells:
 * NULL when absent, else the object; -1 + Err naming what is wrong (an unknown cell, a missing length). */
int rep_scaling(const RepExp *x, const cJSON **scaling, Err *e);

/* The eval lengths (depths) any run of the experiment has, ascending. */
int rep_lengths(const RepExp *x, double *out, int cap);
int rep_depths(const RepExp *x, double *out, int cap);
/* Whether some run's eval entries carry a depth (a needle grid). */
int rep_has_depths(const RepExp *x);

/* Numbers as the report prints them: whole numbers whole, others to 4 significant digits. */
void rep_num(char *buf, size_t cap, double v);

/* ---- the paper's table ("paper_table" of the spec) ---- */
/* A printed entry as a number in the paper's unit: numbers as they are,
 * strings through "symbols" (e.g. {"✓": 100}); NaN for null or an unmapped symbol. */
double rep_paper_number(const cJSON *table, const cJSON *entry);
/* Our figure under column j for a cell, in the paper's unit: the column's
 * "ours" entry ({"length", "metric", "depth"} or {"field", "scale"}), by
 * default the accuracy at the column's length (x100 when "unit" is "%"). */
void rep_paper_ours(RepExp *x, const cJSON *table, int j, const RepCell *c, RepStat *s);
/* Whether the experiment's paper table has numeric columns (lengths). */
int rep_paper_numeric(const cJSON *table);

/* ---- claims (report_rules.c) ---- */
typedef enum { RULE_HOLDS, RULE_FAILS, RULE_UNMEASURED, RULE_BAD } RuleOutcome;

/* Evaluates one rule; the figures it read are appended to why ("; " between). */
RuleOutcome rule_eval(const cJSON *rule, RepExp *x, char *why, size_t cap);

typedef struct {
    /* reproduced, reproduced qualitatively, inconclusive at this scale: holds in k of n seeds, not reproduced,
     * not measurable at this scale, not measured */
    char verdict[96];
    char line[4096];     /* the seeds, each rule that decided it, and its figures; or the reason */
    int bad;             /* the claim or a rule is malformed: line says how */
    /* for the summary table: the deciding rule's figures on the mean, and in how many seeds it holds
     * ("3 of 3", "over the seeds together"); "" when no rule decided (a fixed verdict, a malformed claim) */
    char figures[1536];
    char seeds_holding[48];
} Verdict;

/* A rule "holds" when it holds on the mean over seeds AND in a clear majority of the n seeds whose figures it
 * has: all of them when n <= 2, else at least ceil(2n/3); it "fails" when it fails on the mean and in a clear
 * majority; otherwise the claim is "inconclusive at this scale: holds in k of n seeds". reproduced: check
 * holds; reproduced qualitatively: check fails clearly (or is absent) and qualitative holds. */
int rep_clear_majority(int n);
void claim_verdict(const cJSON *claim, RepExp *x, Verdict *v);

/* Every claim of a spec judged against the spec alone, before any cell runs: -1 + Err, one line, for the
 * first malformed one (an unknown key, cell, length or metric, a bad field path), or for a "scaling" series
 * naming no cell of the spec. The spec is not changed. */
int claims_check(const cJSON *spec, const char *spec_path, Err *e);

/* ---- tables for the plots (report_tsv.c) ---- */
/* Writes results/<name>*.tsv for the experiment (and removes none). */
int rep_write_tsvs(RepExp *x, const char *results, Err *e);

/* ---- REPORT.md (report_md.c) ---- */
/* plots: the path from the results directory to the pictures ("plots": make reproduce draws them there). */
int rep_write_section(AtomicFile *md, RepExp *x, const char *profile, const char *plots, Err *e);
/* The summary at the top: one row per claim, "| experiment | claim | paper | ours | seeds holding | verdict |",
 * the paper's figure from the claim's "paper" text, ours the figures of the rule that decided. */
int rep_write_summary_rows(AtomicFile *md, RepExp *x, Err *e);

#endif
