/* seqbench eval: accuracy of a saved model on held-out task instances at
 * several lengths. Task settings default to those the model was trained with
 * (DIR/seqbench_train.json, written by train --save). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/results.h"
#include "cli/task_args.h"
#include "core/jsonio.h"
#include "core/threads.h"
#include "models/hf.h"
#include "tasks/eval.h"

#define MAX_LENGTHS 64

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
    char model_dir[1024] = "", lengths_s[512] = "", out[1024] = "";
    int seqs = 1000, batch = 50, threads = 0;
    uint64_t seed = 1;
    Option opts[64];
    int n = task_args_options(&ta, opts);
    Option more[] = {
        OPT_S("model", model_dir, "checkpoint directory (config.json + model.safetensors)"),
        OPT_S("lengths", lengths_s, "instance lengths to test, e.g. 16,32,64 (default: max-len, 2x, 4x)"),
        OPT_I("seqs", &seqs, 1, 1e7, "held-out sequences per length"),
        OPT_I("batch", &batch, 1, 1 << 16, "sequences per forward pass"),
        OPT_U("seed", &seed, "seed of the held-out data (use the training seed for the same test set)"),
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
    task_args_check_lengths(task, &ta.cfg, lengths, n_lengths);
    for (int i = 0; i < n_lengths; i++)
        task_args_check_memory(&m.cfg, batch < seqs ? batch : seqs, task->seq_len(&ta.cfg, lengths[i]), 0,
                               "evaluation");
    cJSON_AddItemToObject(res, "settings", options_to_json(opts, n));
    cJSON_AddNumberToObject(res, "seed", (double)seed);
    cJSON_AddItemToObject(res, "model", results_model(&m));
    cJSON *evals = cJSON_AddArrayToObject(cJSON_AddObjectToObject(res, "metrics"), "eval");
    results_eval_header();
    for (int i = 0; i < n_lengths; i++) {
        EvalResult er;
        if (eval_length(&m, task, &ta.cfg, lengths[i], seqs, batch, seed, &er, &e)) die_err(&e);
        results_add_eval(evals, &er);
    }
    results_finish(res);
    if (*out && json_write_file(out, res, &e)) die_err(&e);
    cJSON_Delete(res);
    model_free(&m);
    return 0;
}
