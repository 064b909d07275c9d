/* seqbench sample: the task instances seqbench itself trains or tests on, as
 * JSON, so that a person can see what a model is shown and another program
 * can score a model on exactly these instances. The same generator and data
 * streams as train and eval: --split test with --seed s gives the instances
 * `eval --seed s --lengths n` scores, in order; --split train the ones
 * `train --seed s --max-len n` trains on (min-len = max-len = n). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/results.h"
#include "cli/task_args.h"
#include "core/mem.h"
#include "tasks/sample.h"
#include "tasks/train.h"

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
    const Task *task = task_args_resolve(&ta, seed, &e);
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

    SampleSettings s = {.split = train ? STREAM_TRAIN : val ? STREAM_VAL : STREAM_TEST, .split_name = split,
                        .seed = seed, .length = length, .seqs = seqs, .batch = batch};
    if (sample_write(task, &ta.cfg, &s, *out ? out : NULL, &e)) die_err(&e);
    task_args_free(&ta);
    return 0;
}
