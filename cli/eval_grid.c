#include "cli/eval_grid.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli/results.h"

int eval_grid_parse_depths(const char *s, double *out, Err *e)
{
    char *end;
    long k = strtol(s, &end, 10);
    if (!*end && k >= 2) {
        if (k > EVAL_GRID_MAX_DEPTHS) return err_set(e, "depths %ld: at most %d depths", k, EVAL_GRID_MAX_DEPTHS);
        for (long i = 0; i < k; i++) out[i] = (double)i / (double)(k - 1);
        return (int)k;
    }
    int n = 0;
    for (const char *p = s; *p;) {
        double v = strtod(p, &end);
        if (end == p || (*end && *end != ',') || !(v >= 0 && v <= 1))
            return err_set(e, "depths \"%s\": expected a count >= 2 or fractions in [0, 1] separated by commas", s);
        if (n == EVAL_GRID_MAX_DEPTHS) return err_set(e, "depths: at most %d depths", EVAL_GRID_MAX_DEPTHS);
        out[n++] = v;
        p = *end ? end + 1 : end;
    }
    if (!n) return err_set(e, "depths: the list is empty");
    return n;
}

int eval_grid_sequences(const EvalGrid *g, int sequences, int n)
{
    if (g->max_tokens <= 0 || (double)sequences * n <= g->max_tokens) return sequences;
    int s = (int)(g->max_tokens / n);
    return s < 1 ? 1 : s;
}

/* Rows are depths, columns lengths; OOM cells are null. */
static void needle_grid(cJSON *metrics, const EvalResult *cells, const EvalGrid *g)
{
    cJSON *grid = cJSON_AddObjectToObject(metrics, "needle_grid");
    cJSON_AddItemToObject(grid, "lengths", cJSON_CreateIntArray(g->lengths, g->n_lengths));
    cJSON_AddItemToObject(grid, "depths", cJSON_CreateDoubleArray(g->depths, g->n_depths));
    cJSON *acc = cJSON_AddArrayToObject(grid, "string_acc");
    printf("\nneedle: string accuracy by depth (rows) and length (columns)\n%-6s", "depth");
    for (int i = 0; i < g->n_lengths; i++) printf(" %8d", g->lengths[i]);
    printf("\n");
    for (int d = 0; d < g->n_depths; d++) {
        cJSON *row = cJSON_CreateArray();
        printf("%-6.3g", g->depths[d]);
        for (int i = 0; i < g->n_lengths; i++) {
            const EvalResult *r = &cells[i * g->n_depths + d];
            cJSON_AddItemToArray(row, r->oom ? cJSON_CreateNull() : cJSON_CreateNumber(r->string_acc));
            if (r->oom) printf(" %8s", "OOM");
            else printf(" %8.3f", r->string_acc);
        }
        printf("\n");
        cJSON_AddItemToArray(acc, row);
    }
}

int eval_grid_run(Model *m, const Task *task, const TaskCfg *tc, const EvalGrid *g, const EvalOpts *o,
                  cJSON *metrics, Err *e)
{
    cJSON *evals = cJSON_AddArrayToObject(metrics, "eval");
    int per_length = g->n_depths ? g->n_depths : 1;
    EvalResult *cells = calloc((size_t)g->n_lengths * per_length, sizeof *cells);
    if (!cells) return err_set(e, "out of memory for %d results", g->n_lengths * per_length);
    results_eval_header();
    for (int i = 0; i < g->n_lengths; i++)
        for (int d = 0; d < per_length; d++) {
            TaskCfg c = *tc;
            if (g->n_depths) c.depth = g->depths[d];
            EvalOpts eo = *o;
            eo.sequences = eval_grid_sequences(g, o->sequences, g->lengths[i]);
            EvalResult *er = &cells[i * per_length + d];
            if (eval_run(m, task, &c, g->lengths[i], &eo, er, e)) {
                free(cells);
                return -1;
            }
            if (g->n_depths) er->depth = g->depths[d];
            results_add_eval(evals, er);
        }
    if (g->n_depths) needle_grid(metrics, cells, g);
    free(cells);
    return 0;
}
