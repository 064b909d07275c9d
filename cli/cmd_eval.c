/* seqbench eval: accuracy of a saved model on held-out task instances at
 * several lengths (and, for needle, depths). Task settings default to those
 * the model was trained with (DIR/seqbench_train.json, written by train
 * --save). A length no path can fit in --mem-limit is an OOM cell of the
 * result, not an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "tasks/eval_grid.h"
#include "core/results.h"
#include "models/describe.h"
#include "cli/model_options.h"
#include "cli/task_args.h"
#include "core/jsonio.h"
#include "core/mem.h"
#include "core/threads.h"
#include "models/hf.h"
#include "tasks/eval.h"

/* Fills task options not given on the command line from the training record,
 * and for a text the seed: it split the corpus, and another seed's test text
 * would be partly the training text. */
static void defaults_from_training(const char *dir, Option *opts, int n, uint64_t *seed)
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
    const cJSON *trained_seed = cJSON_GetObjectItemCaseSensitive(root, "seed");
    if (cJSON_GetObjectItemCaseSensitive(root, "data") && cJSON_IsNumber(trained_seed) &&
        !options_find(opts, n, "seed")->set)
        *seed = (uint64_t)trained_seed->valuedouble;
    cJSON_Delete(root);
}

/* A checkpoint trained on BPE tokens carries its merges (seqbench_bpe.json): the ones learnt again here, from
 * the text and seed of its training record, must be the same, or its token ids would mean other text. */
static void check_bpe(const char *dir, const Corpus *c)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/seqbench_bpe.json", dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    fclose(f);
    Err e;
    cJSON *saved = json_read_file(path, &e);
    if (!saved) die_err(&e);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(saved, "vocab_size");
    if (!c || !c->tokens)
        die("%s was trained on a BPE vocabulary of %d tokens (%s): evaluate it with --bpe %d on its text", dir,
            cJSON_IsNumber(v) ? v->valueint : 0, path, cJSON_IsNumber(v) ? v->valueint : 0);
    cJSON *now = bpe_to_json(&c->bpe);
    int same = cJSON_Compare(cJSON_GetObjectItemCaseSensitive(saved, "merges"),
                             cJSON_GetObjectItemCaseSensitive(now, "merges"), 1);
    cJSON_Delete(now);
    cJSON_Delete(saved);
    if (!same)
        die("%s: the BPE merges learnt from --data %s at this seed are not the ones it was trained with (%s): "
            "another text or seed", dir, c->name, path);
}

int cmd_eval(int argc, char **argv)
{
    TaskArgs ta;
    task_args_defaults(&ta);
    char model_dir[1024] = "", lengths_s[512] = "", out[1024] = "", path_s[16] = "auto", mem_s[32] = "",
         depths_s[512] = "", dtype[16] = "fp32";
    int seqs = 1000, batch = 50, threads = 0;
    double max_tokens = 0;
    uint64_t seed = 1;
    Option opts[64];
    int n = task_args_options(&ta, opts);
    Option more[] = {
        OPT_S("model", model_dir, "checkpoint directory (config.json + model.safetensors)"),
        OPT_S("lengths", lengths_s, "instance lengths to test, e.g. 16,32,64 (default: max-len, 2x, 4x)"),
        OPT_I("seqs", &seqs, 1, 1e7, "held-out sequences per length"),
        OPT_D("max-tokens", &max_tokens, 0, 1e15,
              "tokens one length may cost: longer lengths test fewer sequences, at least 1 (0 = no cap)"),
        OPT_I("batch", &batch, 1, 1 << 16, "sequences per pass (lowered when memory needs it)"),
        OPT_U("seed", &seed,
              "seed of the held-out data (use the training seed for the same test set; lm: the checkpoint's by "
              "default, as it split the text)"),
        OPT_S("depths", depths_s, "needle: a grid of depths, a count (11: 0, 0.1, ..., 1) or a list (0,0.5,1)"),
        OPT_S("path", path_s, "auto, parallel (whole sequences at once) or decode (one token at a time, constant "
                              "memory without global attention)"),
        OPT_S("mem-limit", mem_s, "memory to stay within, e.g. 500M or 8G; a length beyond it is an OOM cell "
                                  "(default: available memory, or SEQ_MEM_LIMIT)"),
        OPT_S("out", out, "result JSON file (written atomically)"),
        OPT_I("threads", &threads, 0, 1024, "threads (0 = all cores)"),
        OPT_S("dtype", dtype, DTYPE_HELP),
    };
    memcpy(opts + n, more, sizeof more);
    n += (int)(sizeof more / sizeof *more);
    /* The task is the checkpoint's (defaults_from_training), copy only without a training record: left empty
     * until then, so --help shows no "(default copy)" that eval does not use. */
    Option *task_opt = options_find(opts, n, "task");
    ta.task[0] = '\0';
    task_opt->help = "task: copy, selective_copy, induction, mqar, needle, lm (default: the checkpoint's, from "
                     "DIR/seqbench_train.json, as for the other task options; copy without that file)";
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "eval", "--model DIR [options]", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    if (!*model_dir) die("eval: --model DIR is required");
    int bf16 = dtype_is_bf16(dtype);
    EvalOpts eo = {seqs, batch, seed, EVAL_AUTO, 1, 0};
    if (!strcmp(path_s, "parallel")) eo.path = EVAL_PARALLEL;
    else if (!strcmp(path_s, "decode")) eo.path = EVAL_DECODE;
    else if (strcmp(path_s, "auto")) die("--path must be auto, parallel or decode (got \"%s\")", path_s);
    if (*mem_s) {
        size_t lim;
        if (mem_parse_size(mem_s, &lim, &e)) die("--mem-limit: %s", e.msg);
        mem_set_limit(lim);
    }
    EvalGrid g = {.max_tokens = max_tokens};
    if (*depths_s && (g.n_depths = eval_grid_parse_depths(depths_s, g.depths, &e)) < 0) die("--%s", e.msg);
    if (*out && results_check_file("--out", out, &e)) die_err(&e); /* before loading or evaluating anything */
    threads_init(threads);
    cJSON *res = results_new("eval", argc, argv); /* threads, load average and start time */
    defaults_from_training(model_dir, opts, n, &seed);
    eo.seed = seed;
    if (!task_opt->set && !*ta.task) snprintf(ta.task, sizeof ta.task, "copy");
    const Task *task = task_args_resolve(&ta, seed, &e);
    if (!task) die_err(&e);
    task_args_digest_data(&ta, opts, n);
    if (*lengths_s) {
        g.n_lengths = parse_int_list(lengths_s, g.lengths, EVAL_GRID_MAX_LENGTHS, 1, 1 << 22, "--lengths", &e);
        if (g.n_lengths < 0) die_err(&e);
    } else {
        g.n_lengths = task->text ? 1 : 3; /* a text at its training length (the others are lm_context's question) */
        g.lengths[0] = ta.cfg.max_len;
        g.lengths[1] = 2 * ta.cfg.max_len;
        g.lengths[2] = 4 * ta.cfg.max_len;
    }
    /* before the weights are read: a length the text cannot hold (lm) is refused at once */
    task_args_check_lengths(task, &ta.cfg, g.lengths, g.n_lengths);
    check_bpe(model_dir, ta.corpus);
    Model m;
    if (hf_load(&m, model_dir, &e) || (bf16 && model_to_bf16(&m, &e))) die_err(&e);
    int need = task->vocab_size(&ta.cfg);
    if (m.cfg.vocab_size < need)
        die("%s: vocabulary of %d tokens, but task %s with these settings needs %d", model_dir, m.cfg.vocab_size,
            task->name, need);
    if (g.n_depths && strcmp(task->name, "needle")) die("--depths is for the needle task (task is %s)", task->name);
    /* memory is not checked here: a length that fits no path is an OOM cell */
    cJSON_AddItemToObject(res, "settings", options_to_json(opts, n));
    options_add_digest(res, "eval", opts, n);
    cJSON_AddNumberToObject(res, "seed", (double)seed);
    if (ta.corpus) cJSON_AddItemToObject(res, "data", task_args_data_json(&ta));
    cJSON_AddItemToObject(res, "model", model_describe(&m));
    cJSON *metrics = cJSON_AddObjectToObject(res, "metrics");
    cJSON_AddNumberToObject(metrics, "mem_limit", (double)mem_available());
    if (eval_grid_run(&m, task, &ta.cfg, &g, &eo, metrics, &e)) die_err(&e);
    results_finish(res);
    if (*out && json_write_file(out, res, &e)) die_err(&e);
    cJSON_Delete(res);
    model_free(&m);
    task_args_free(&ta);
    return 0;
}
