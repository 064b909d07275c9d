/* seqbench sample: the task instances seqbench itself trains or tests on, as
 * JSON, so that a person can see what a model is shown and another program
 * can score a model on exactly these instances. The same generator and data
 * streams as train and eval: --split test with --seed s gives the instances
 * `eval --seed s --lengths n` scores, in order; --split train the ones
 * `train --seed s --max-len n` trains on (min-len = max-len = n). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/results.h"
#include "cli/task_args.h"
#include "core/atomic.h"
#include "core/mem.h"
#include "tasks/train.h"

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
static void write_settings(Out *o, const TaskArgs *ta)
{
    const TaskCfg *c = &ta->cfg;
    const char *t = ta->task;
    out_printf(o, "\"settings\": {\"min-len\": %d, \"max-len\": %d", c->min_len, c->max_len);
    if (!strcmp(t, "copy")) out_printf(o, ", \"alphabet\": %d", c->alphabet);
    else out_printf(o, ", \"task-vocab\": %d", c->vocab);
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

int cmd_sample(int argc, char **argv)
{
    TaskArgs ta;
    task_args_defaults(&ta);
    char split[16] = "test", out[1024] = "";
    int length = 0, seqs = 10, batch = 64;
    uint64_t seed = 1;
    Option opts[TASK_ARGS_N_OPTIONS + 8];
    int n = task_args_options(&ta, opts);
    Option more[] = {
        OPT_I("length", &length, 0, 1 << 22, "instance length n, the task's as in eval --lengths (0: max-len)"),
        OPT_I("seqs", &seqs, 1, 1e7, "instances to write"),
        OPT_U("seed", &seed, "the seed given to train or eval"),
        OPT_S("split", split, "test (what eval scores), val (what train's learning curve scores) or train (what train "
                               "draws, every instance of length n)"),
        OPT_I("batch", &batch, 1, 1 << 20, "instances generated at a time (the instances do not depend on it)"),
        OPT_S("out", out, "JSON file (written atomically; default stdout)"),
    };
    memcpy(opts + n, more, sizeof more);
    n += (int)(sizeof more / sizeof *more);
    Err e = {{0}};
    int rc = options_parse(opts, n, argc, argv, 2, "sample", "--task T [task options] [--length n] [options]", &e);
    if (rc) {
        if (rc < 0) die_err(&e);
        return 0;
    }
    int train = !strcmp(split, "train"), val = !strcmp(split, "val");
    if (!train && !val && strcmp(split, "test")) die("--split must be test, val or train (got \"%s\")", split);
    if (*out && results_check_file("--out", out, &e)) die_err(&e);
    const Task *task = task_args_resolve(&ta, &e);
    if (!task) die_err(&e);
    if (!length) length = ta.cfg.max_len;
    task_args_check_lengths(task, &ta.cfg, &length, 1);
    if (train) {
        /* train draws n from [min-len, max-len]; fixing both at n gives the
         * batches of a run whose instances all have length n */
        ta.cfg.min_len = ta.cfg.max_len = length;
        if (task->validate(&ta.cfg, &e)) die_err(&e);
    }
    int T = task->seq_len(&ta.cfg, length);
    if (batch > seqs) batch = seqs;
    if ((double)batch * T > (1 << 24)) batch = T >= (1 << 24) ? 1 : (1 << 24) / T; /* long instances: fewer at a time */
    if (mem_check((double)batch * T * (2 * sizeof(int) + 1), "sample: one batch of instances", &e)) die_err(&e);

    Batch b;
    if (batch_alloc(&b, batch, T, &e)) die_err(&e);
    /* the streams train_run and eval_length draw from (tasks/train.c, tasks/eval.c) */
    Rng rng = train ? rng_fork(seed, STREAM_TRAIN)
                    : rng_fork(seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)length), val ? STREAM_VAL : STREAM_TEST);
    Out o = {NULL, &e, 0};
    if (*out && !(o.f = atomic_open(out, &e))) die_err(&e);
    out_printf(&o, "{\"task\": \"%s\", \"split\": \"%s\", \"seed\": %llu, \"length\": %d, \"T\": %d, ", task->name,
               split, (unsigned long long)seed, length, T);
    out_printf(&o, "\"vocab_size\": %d,\n ", task->vocab_size(&ta.cfg));
    write_settings(&o, &ta);
    out_printf(&o, ",\n \"instances\": [");
    for (int done = 0; done < seqs && !o.failed;) {
        /* make_batch draws instance after instance from the stream, so the
         * instances do not depend on how train or eval batch them (tested) */
        b.B = seqs - done < batch ? seqs - done : batch;
        task->make_batch(&ta.cfg, &rng, length, length, &b);
        for (int s = 0; s < b.B && done < seqs; s++, done++) write_instance(&o, &b, s, T, done == 0);
    }
    out_printf(&o, "\n]}\n");
    batch_free(&b);
    if (o.failed) {
        atomic_abort(o.f);
        die_err(&e);
    }
    if (o.f && atomic_commit(o.f, &e)) die_err(&e);
    return 0;
}
