/* Task options shared by train and eval. */
#ifndef SEQ_TASK_ARGS_H
#define SEQ_TASK_ARGS_H

#include <string.h>

#include "cli/options.h"
#include "core/mem.h"
#include "models/model.h"
#include "tasks/task.h"

typedef struct {
    char task[32];
    TaskCfg cfg;
} TaskArgs;

#define TASK_ARGS_N_OPTIONS 4

static inline void task_args_defaults(TaskArgs *a)
{
    memset(a, 0, sizeof *a);
    strcpy(a->task, "copy");
    a->cfg.alphabet = 26;
    a->cfg.min_len = 1;
    a->cfg.max_len = 16;
}

static inline int task_args_options(TaskArgs *a, Option *o)
{
    Option t[TASK_ARGS_N_OPTIONS] = {
        OPT_S("task", a->task, "task: copy"),
        OPT_I("alphabet", &a->cfg.alphabet, 2, 1 << 20, "symbols the strings are drawn from"),
        OPT_I("min-len", &a->cfg.min_len, 1, 1 << 22, "shortest training instance"),
        OPT_I("max-len", &a->cfg.max_len, 1, 1 << 22, "longest training instance (the training length)"),
    };
    memcpy(o, t, sizeof t);
    return TASK_ARGS_N_OPTIONS;
}

/* The task, validated; NULL + Err if unknown or its settings are bad. */
static inline const Task *task_args_resolve(const TaskArgs *a, Err *e)
{
    const Task *t = task_find(a->task);
    if (!t) {
        err_set(e, "unknown task \"%s\" (known: %s)", a->task, task_list());
        return NULL;
    }
    return t->validate(&a->cfg, e) ? NULL : t;
}

/* Sizes come from the user: checks, without allocating, that the activations
 * for B sequences of T tokens plus `extra` bytes fit in memory, so an
 * impossible run fails at once with one line instead of after training or
 * after printing half a table. */
static inline void task_args_check_memory(const ModelCfg *c, int B, int T, double extra, const char *what)
{
    char msg[160], need[32], have[32];
    snprintf(msg, sizeof msg, "%s: activations for batch %d x length %d%s", what, B, T,
             extra > 0 ? " plus gradients and Adam moments" : "");
    size_t acts = model_act_bytes(c, B, T);
    if (acts == (size_t)-1) /* model_act_bytes saturates beyond 1e18 bytes */
        die("%s would need more than %s but only %s of memory is available", msg, mem_human(1e18, need, sizeof need),
            mem_human((double)mem_available(), have, sizeof have));
    Err e;
    if (mem_check((double)acts + extra, msg, &e)) die_err(&e);
}

#endif
