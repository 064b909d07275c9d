/* Task options shared by train and eval. */
#ifndef SEQ_TASK_ARGS_H
#define SEQ_TASK_ARGS_H

#include <string.h>

#include "cli/options.h"
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

#endif
