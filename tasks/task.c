#include "task.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

extern const Task copy_task;

static const Task *const TASKS[] = {&copy_task};

const Task *task_find(const char *name)
{
    for (size_t i = 0; i < sizeof TASKS / sizeof *TASKS; i++)
        if (!strcmp(TASKS[i]->name, name)) return TASKS[i];
    return NULL;
}

const char *task_list(void) { return "copy"; }

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
