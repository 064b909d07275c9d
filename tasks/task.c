#include "task.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

extern const Task copy_task, selective_copy_task, induction_task, mqar_task, needle_task, lm_task;

static const Task *const TASKS[] = {&copy_task, &selective_copy_task, &induction_task, &mqar_task, &needle_task,
                                     &lm_task};

const Task *task_find(const char *name)
{
    for (size_t i = 0; i < sizeof TASKS / sizeof *TASKS; i++)
        if (!strcmp(TASKS[i]->name, name)) return TASKS[i];
    return NULL;
}

const char *task_list(void) { return "copy, selective_copy, induction, mqar, needle, lm"; }

void task_defaults(const Task *t, TaskCfg *c)
{
    if (!c->max_len) c->max_len = t->default_max_len;
    if (!c->min_len) c->min_len = t->default_min_len ? t->default_min_len : c->max_len;
    if (t->defaults) t->defaults(c);
}

int task_check_range(const Task *t, const TaskCfg *c, Err *e)
{
    if (c->min_len > c->max_len)
        return err_set(e, "%s: min-len %d is above max-len %d", t->name, c->min_len, c->max_len);
    return t->check_length(c, c->min_len, e) || t->check_length(c, c->max_len, e) ? -1 : 0;
}

int batch_alloc(Batch *b, int B, int T, Err *e)
{
    memset(b, 0, sizeof *b);
    size_t n;
    if (size_mul((size_t)B, (size_t)T, &n)) return err_set(e, "batch %d x %d overflows", B, T);
    b->tokens = mem_alloc(2 * n, sizeof(int), "batch tokens", e);
    b->mask = b->tokens ? mem_alloc(n, 1, "batch mask", e) : NULL;
    if (!b->mask) { batch_free(b); return -1; }
    b->targets = b->tokens + n;
    b->B = B;
    b->T = T;
    return 0;
}

void batch_free(Batch *b)
{
    free(b->tokens);
    free(b->mask);
    memset(b, 0, sizeof *b);
}
