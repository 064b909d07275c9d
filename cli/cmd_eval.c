/* seqbench eval: accuracy of a saved model on held-out task instances at
 * several lengths (and, for needle, depths). Task settings default to those
 * the model was trained with (DIR/seqbench_train.json, written by train
 * --save). A length no path can fit in --mem-limit is an OOM cell of the
 * result, not an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/results.h"
#include "cli/task_args.h"
#include "core/jsonio.h"
#include "core/mem.h"
#include "core/threads.h"
#include "models/hf.h"
#include "tasks/eval.h"

#define MAX_LENGTHS 64
#define MAX_DEPTHS 101

/* "--depths 11": 11 depths evenly from 0 to 1; "--depths 0,0.25,1": those. */
static int parse_depths(const char *s, double *out, Err *e)
{
    char *end;
    long k = strtol(s, &end, 10);
    if (!*end && k >= 2) {
        if (k > MAX_DEPTHS) return err_set(e, "--depths %ld: at most %d depths", k, MAX_DEPTHS);
        for (long i = 0; i < k; i++) out[i] = (double)i / (double)(k - 1);
        return (int)k;
    }
    int n = 0;
    for (const char *p = s; *p;) {
        double v = strtod(p, &end);
        if (end == p || (*end && *end != ',') || !(v >= 0 && v <= 1))
            return err_set(e, "--depths \"%s\": expected a count >= 2 or fractions in [0, 1] separated by commas", s);
        if (n == MAX_DEPTHS) return err_set(e, "--depths: at most %d depths", MAX_DEPTHS);
        out[n++] = v;
        p = *end ? end + 1 : end;
    }
    if (!n) return err_set(e, "--depths is empty");
    return n;
}

/* The Jamba Fig. 4 matrix: rows are depths, columns lengths; OOM cells null. */
static void needle_grid(cJSON *metrics, const EvalResult *cells, const int *lengths, int n_lengths,
                        const double *depths, int n_depths)
{
    cJSON *grid = cJSON_AddObjectToObject(metrics, "needle_grid");
    cJSON_AddItemToObject(grid, "lengths", cJSON_CreateIntArray(lengths, n_lengths));
    cJSON_AddItemToObject(grid, "depths", cJSON_CreateDoubleArray(depths, n_depths));
    cJSON *acc = cJSON_AddArrayToObject(grid, "string_acc");
    printf("\nneedle: string accuracy by depth (rows) and length (columns)\n%-6s", "depth");
    for (int i = 0; i < n_lengths; i++) printf(" %8d", lengths[i]);
    printf("\n");
    for (int d = 0; d < n_depths; d++) {
        cJSON *row = cJSON_CreateArray();
        printf("%-6.3g", depths[d]);
        for (int i = 0; i < n_lengths; i++) {
            const EvalResult *r = &cells[i * n_depths + d];
            cJSON_AddItemToArray(row, r->oom ? cJSON_CreateNull() : cJSON_CreateNumber(r->string_acc));
            if (r->oom) printf(" %8s", "OOM");
            else printf(" %8.3f", r->string_acc);
        }
        printf("\n");
        cJSON_AddItemToArray(acc, row);
    }
}

/* Fills task options not given on the command line from the training record. */
static void defaults_from_training(const char *dir, Option *opts, int n)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/seqbench_train.json", dir);
    Err e;
    FILE *f = fopen(path, "r");
    if (!f) return;
    fclose(f);
    cJSON *root = json_read_file(path, &e);
    if (!root) die_err(&e);
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(root, "settings");
    /* the task's options come first in opts (task_args_options) */
    for (int i = 0; i < TASK_ARGS_N_OPTIONS && i < n; i++) {
        Option *o = &opts[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(settings, o->name);
        if (o->set || !v) continue;
        if (o->type == OPT_STRING && cJSON_IsString(v) && strlen(v->valuestring) < o->cap) strcpy(o->dest, v->valuestring);
        else if (o->type == OPT_INT && cJSON_IsNumber(v)) *(int *)o->dest = v->valueint;
        else if (o->type == OPT_DOUBLE && cJSON_IsNumber(v)) *(double *)o->dest = v->valuedouble;
    }
    cJSON_Delete(root);
}

int cmd_eval(int argc, char **argv)
{
    TaskArgs ta;
    task_args_defaults(&ta);
    char model_dir[1024] = "", lengths_s[512] = "", out[1024] = "", path_s[16] = "auto", mem_s[32] = "",
         depths_s[512] = "";
    int seqs = 1000, batch = 50, threads = 0;
    uint64_t seed = 1;
    Option opts[64];
    int n = task_args_options(&ta, opts);
    Option more[] = {
        OPT_S("model", model_dir, "checkpoint directory (config.json + model.safetensors)"),
        OPT_S("lengths", lengths_s, "instance lengths to test, e.g. 16,32,64 (default: max-len, 2x, 4x)"),
        OPT_I("seqs", &seqs, 1, 1e7, "held-out sequences per length"),
        OPT_I("batch", &batch, 1, 1 << 16, "sequences per pass (lowered when memory needs it)"),
        OPT_U("seed", &seed, "seed of the held-out data (use the training seed for the same test set)"),
        OPT_S("depths", depths_s, "needle: a grid of depths, a count (11: 0, 0.1, ..., 1) or a list (0,0.5,1)"),
        OPT_S("path", path_s, "auto, parallel (whole sequences at once) or decode (one token at a time, constant "
                              "memory without global attention)"),
        OPT_S("mem-limit", mem_s, "memory to stay within, e.g. 500M or 8G; a length beyond it is an OOM cell "
                                  "(default: available memory, or SEQ_MEM_LIMIT)"),
        OPT_S("out", out, "result JSON file (written atomically)"),
        OPT_I("threads", &threads, 0, 1024, "threads (0 = all cores)"),
    };
    memcpy(opts + n, more, sizeof more);
    n += (int)(sizeof more / sizeof *more);
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "eval", "--model DIR [options]", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    if (!*model_dir) die("eval: --model DIR is required");
    EvalOpts eo = {seqs, batch, seed, EVAL_AUTO, 1};
    if (!strcmp(path_s, "parallel")) eo.path = EVAL_PARALLEL;
    else if (!strcmp(path_s, "decode")) eo.path = EVAL_DECODE;
    else if (strcmp(path_s, "auto")) die("--path must be auto, parallel or decode (got \"%s\")", path_s);
    if (*mem_s) {
        size_t lim;
        if (mem_parse_size(mem_s, &lim, &e)) die("--mem-limit: %s", e.msg);
        mem_set_limit(lim);
    }
    double depths[MAX_DEPTHS];
    int n_depths = 0;
    if (*depths_s && (n_depths = parse_depths(depths_s, depths, &e)) < 0) die_err(&e);
    if (*out && results_check_file("--out", out, &e)) die_err(&e); /* before loading or evaluating anything */
    threads_init(threads);
    cJSON *res = results_new("eval", argc, argv); /* threads, load average and start time */
    defaults_from_training(model_dir, opts, n);
    const Task *task = task_args_resolve(&ta, &e);
    if (!task) die_err(&e);
    int lengths[MAX_LENGTHS], n_lengths = 3;
    if (*lengths_s) {
        n_lengths = parse_int_list(lengths_s, lengths, MAX_LENGTHS, 1, 1 << 22, "--lengths", &e);
        if (n_lengths < 0) die_err(&e);
    } else {
        lengths[0] = ta.cfg.max_len;
        lengths[1] = 2 * ta.cfg.max_len;
        lengths[2] = 4 * ta.cfg.max_len;
    }
    Model m;
    if (hf_load(&m, model_dir, &e)) die_err(&e);
    int need = task->vocab_size(&ta.cfg);
    if (m.cfg.vocab_size < need)
        die("%s: vocabulary of %d tokens, but task %s with these settings needs %d", model_dir, m.cfg.vocab_size,
            task->name, need);
    if (n_depths && strcmp(task->name, "needle")) die("--depths is for the needle task (task is %s)", task->name);
    task_args_check_lengths(task, &ta.cfg, lengths, n_lengths);
    /* memory is not checked here: a length that fits no path is an OOM cell */
    cJSON_AddItemToObject(res, "settings", options_to_json(opts, n));
    cJSON_AddNumberToObject(res, "seed", (double)seed);
    cJSON_AddItemToObject(res, "model", results_model(&m));
    cJSON *metrics = cJSON_AddObjectToObject(res, "metrics");
    cJSON *evals = cJSON_AddArrayToObject(metrics, "eval");
    cJSON_AddNumberToObject(metrics, "mem_limit", (double)mem_available());
    int per_length = n_depths ? n_depths : 1;
    EvalResult *cells = calloc((size_t)n_lengths * per_length, sizeof *cells);
    if (!cells) die("out of memory for %d results", n_lengths * per_length);
    results_eval_header();
    for (int i = 0; i < n_lengths; i++)
        for (int d = 0; d < per_length; d++) {
            TaskCfg tc = ta.cfg;
            if (n_depths) tc.depth = depths[d];
            EvalResult *er = &cells[i * per_length + d];
            if (eval_run(&m, task, &tc, lengths[i], &eo, er, &e)) die_err(&e);
            if (n_depths) er->depth = depths[d];
            results_add_eval(evals, er);
        }
    if (n_depths) needle_grid(metrics, cells, lengths, n_lengths, depths, n_depths);
    free(cells);
    results_finish(res);
    if (*out && json_write_file(out, res, &e)) die_err(&e);
    cJSON_Delete(res);
    model_free(&m);
    return 0;
}
