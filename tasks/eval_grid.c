#include "tasks/eval_grid.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/mem.h"

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

/* The accuracy table on stdout: the header, then a row per cell as it is measured. A text's
 * instances are windows of running text, where a whole window right means little: its table has
 * the loss (nats per token) and bits per byte first, token accuracy after them. */
static void eval_header(int text)
{
    if (text)
        printf("%-8s %-10s %-10s %-12s %-9s %-6s %s\n", "length", "loss", "bits/byte", "token_acc", "path", "batch",
               "tokens/s");
    else
        printf("%-8s %-10s %-12s %-10s %-9s %-6s %s\n", "length", "string_acc", "token_acc", "loss", "path", "batch",
               "tokens/s");
}

/* A text's loss against position: one line under its row, bits per byte by
 * bucket ("1:5.21 2:4.80 3-4:4.35 5-8:3.95 ..."), and the array in the result. */
static void by_position(cJSON *x, const EvalResult *er)
{
    printf("  bits/byte by position:");
    cJSON *a = cJSON_AddArrayToObject(x, "by_position");
    for (int k = 0; k < er->n_buckets; k++) {
        const EvalBucket *b = &er->by_position[k];
        if (b->from == b->to) printf(" %d:%.3f", b->from, b->bits_per_byte);
        else printf(" %d-%d:%.3f", b->from, b->to, b->bits_per_byte);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "from", b->from);
        cJSON_AddNumberToObject(o, "to", b->to);
        cJSON_AddNumberToObject(o, "loss", b->loss);
        cJSON_AddNumberToObject(o, "bits_per_byte", b->bits_per_byte);
        cJSON_AddNumberToObject(o, "tokens", (double)b->tokens);
        cJSON_AddItemToArray(a, o);
    }
    printf("\n");
    fflush(stdout);
}

/* An "oom" cell has no accuracy: status, the bytes its cheapest path needs
 * and the limit, so readers (report) that look for string_acc skip it. The row is
 * printed and added to the result's metrics.eval array. */
static void eval_row(cJSON *evals, const EvalResult *er, int text)
{
    char need[32], lim[32];
    mem_human(er->bytes, need, sizeof need);
    mem_human(er->bytes_limit, lim, sizeof lim);
    char where[48] = "";
    if (er->depth >= 0) snprintf(where, sizeof where, " depth %.3g", er->depth);
    if (er->oom)
        printf("%-8d OOM%s: %s path needs %s, limit %s\n", er->length, where, eval_path_name(er->path), need, lim);
    else if (text)
        printf("%-8d %-10.4f %-10.4f %-12.4f %-9s %-6d %.0f\n", er->length, er->loss, er->bits_per_byte, er->token_acc,
               eval_path_name(er->path), er->batch, er->tokens_per_s);
    else
        printf("%-8d %-10.4f %-12.4f %-10.4f %-9s %-6d %.0f%s\n", er->length, er->string_acc, er->token_acc, er->loss,
               eval_path_name(er->path), er->batch, er->tokens_per_s, where);
    fflush(stdout);
    cJSON *x = cJSON_CreateObject();
    cJSON_AddNumberToObject(x, "length", er->length);
    if (er->depth >= 0) cJSON_AddNumberToObject(x, "depth", er->depth);
    cJSON_AddStringToObject(x, "status", er->oom ? "oom" : "ok");
    cJSON_AddStringToObject(x, "path", eval_path_name(er->path));
    if (er->oom) {
        cJSON_AddNumberToObject(x, "bytes_needed", er->bytes);
        cJSON_AddNumberToObject(x, "mem_limit", er->bytes_limit);
    } else {
        cJSON_AddNumberToObject(x, "sequences", er->sequences);
        if (!text) cJSON_AddNumberToObject(x, "string_acc", er->string_acc);
        cJSON_AddNumberToObject(x, "token_acc", er->token_acc);
        cJSON_AddNumberToObject(x, "loss", er->loss);
        if (text) cJSON_AddNumberToObject(x, "bits_per_byte", er->bits_per_byte);
        cJSON_AddNumberToObject(x, "batch", er->batch);
        cJSON_AddNumberToObject(x, "bytes", er->bytes);
        if (text) by_position(x, er);
    } /* no timings here: two runs with one seed and thread count write the same eval array */
    cJSON_AddItemToArray(evals, x);
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
    eval_header(task->text);
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
            eval_row(evals, er, task->text);
        }
    if (g->n_depths) needle_grid(metrics, cells, g);
    free(cells);
    return 0;
}
