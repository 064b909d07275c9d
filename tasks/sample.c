#include "tasks/sample.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/atomic.h"
#include "tasks/corpus.h"
#include "tasks/eval.h"

/* Output goes to an atomic file or to stdout through the same calls. */
typedef struct {
    AtomicFile *f;
    Err *e;
    int failed;
} Out;

static void out_printf(Out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(Out *o, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (o->failed) return;
    if (n < 0 || n >= (int)sizeof buf) {
        o->failed = 1;
        err_set(o->e, "sample: output line too long");
        return;
    }
    if (o->f) o->failed = atomic_write(o->f, buf, (size_t)n, o->e) != 0;
    else fwrite(buf, 1, (size_t)n, stdout);
}

/* The task's settings after defaults, under the option names, so a reader
 * can apply docs/tasks.md's layout to them without knowing the defaults. Only
 * the options the task reads (docs/tasks.md). */
static void write_settings(Out *o, const char *t, const TaskCfg *c)
{
    out_printf(o, "\"settings\": {\"min-len\": %d, \"max-len\": %d", c->min_len, c->max_len);
    if (!strcmp(t, "copy")) out_printf(o, ", \"alphabet\": %d", c->alphabet);
    else if (c->corpus) { /* the text by its identity: the name may hold anything, the checksum not */
        char id[64];
        corpus_identity(c->corpus, id, sizeof id);
        out_printf(o, ", \"data\": \"%s\"", id);
        if (c->corpus->tokens) out_printf(o, ", \"bpe\": %d", c->corpus->bpe.vocab);
    } else out_printf(o, ", \"task-vocab\": %d", c->vocab);
    if (!strcmp(t, "selective_copy")) out_printf(o, ", \"n-data\": %d", c->n_data);
    if (!strcmp(t, "mqar"))
        out_printf(o, ", \"n-pairs\": %d, \"power-a\": %.17g, \"zero-noise\": %s", c->n_pairs, c->power_a,
                   c->zero_noise ? "true" : "false");
    if (!strcmp(t, "needle"))
        out_printf(o, ", \"key-len\": %d, \"value-len\": %d, \"depth\": %.17g", c->key_len, c->value_len, c->depth);
    out_printf(o, "}");
}

/* One instance: its tokens, then the answers at the scored positions and
 * those positions, both in position order (targets[i] is the answer at
 * scored[i]). */
static void write_instance(Out *o, const Batch *b, int s, int T, int first)
{
    const int *tok = b->tokens + (size_t)s * T, *tgt = b->targets + (size_t)s * T;
    const unsigned char *mask = b->mask + (size_t)s * T;
    out_printf(o, "%s\n  {\"tokens\": [", first ? "" : ",");
    for (int t = 0; t < T; t++) out_printf(o, t ? ", %d" : "%d", tok[t]);
    out_printf(o, "],\n   \"targets\": [");
    for (int t = 0, k = 0; t < T; t++)
        if (mask[t]) out_printf(o, k++ ? ", %d" : "%d", tgt[t]);
    out_printf(o, "],\n   \"scored\": [");
    for (int t = 0, k = 0; t < T; t++)
        if (mask[t]) out_printf(o, k++ ? ", %d" : "%d", t);
    out_printf(o, "]}");
}

int sample_write(const Task *task, const TaskCfg *cfg, const SampleSettings *s, const char *out, Err *e)
{
    int T = task->seq_len(cfg, s->length);
    Batch b;
    if (batch_alloc(&b, s->batch, T, e)) return -1;
    /* the streams train_run and eval_run draw from (tasks/train.c, tasks/eval.c) */
    Rng rng = s->split == STREAM_TRAIN ? rng_fork(s->seed, STREAM_TRAIN)
                                       : eval_stream(s->seed, s->length, s->split == STREAM_VAL);
    TaskSplit split = s->split == STREAM_TRAIN ? SPLIT_TRAIN : s->split == STREAM_VAL ? SPLIT_VALIDATION : SPLIT_TEST;
    Out o = {NULL, e, 0};
    if (out && !(o.f = atomic_open(out, e))) {
        batch_free(&b);
        return -1;
    }
    out_printf(&o, "{\"task\": \"%s\", \"split\": \"%s\", \"seed\": %llu, \"length\": %d, \"T\": %d, ", task->name,
               s->split_name, (unsigned long long)s->seed, s->length, T);
    out_printf(&o, "\"vocab_size\": %d,\n ", task->vocab_size(cfg));
    write_settings(&o, task->name, cfg);
    out_printf(&o, ",\n \"instances\": [");
    for (int done = 0; done < s->seqs && !o.failed;) {
        /* make_batch draws instance after instance from the stream, so the
         * instances do not depend on how train or eval batch them (tested) */
        b.B = s->seqs - done < s->batch ? s->seqs - done : s->batch;
        task->make_batch(cfg, split, &rng, s->length, s->length, &b);
        for (int k = 0; k < b.B && done < s->seqs; k++, done++) write_instance(&o, &b, k, T, done == 0);
    }
    out_printf(&o, "\n]}\n");
    batch_free(&b);
    if (o.failed) {
        if (o.f) atomic_abort(o.f);
        return -1;
    }
    return o.f ? atomic_commit(o.f, e) : 0;
}
