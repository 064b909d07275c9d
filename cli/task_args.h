/* Task options shared by train and eval. */
#ifndef SEQ_TASK_ARGS_H
#define SEQ_TASK_ARGS_H

#include <string.h>

#include "cli/options.h"
#include "core/mem.h"
#include "core/timer.h"
#include "models/model.h"
#include "tasks/corpus.h"
#include "tasks/task.h"

typedef struct {
    char task[32];
    TaskCfg cfg;
    char preset[64]; /* applied by options_parse (cli/preset.h); kept for the result's settings */
    char data[1024]; /* lm: --data, the corpus */
    Corpus *corpus;  /* loaded by task_args_resolve, freed by task_args_free */
    char data_identity[64]; /* the corpus's checksum and size, what the settings digest takes for --data */
} TaskArgs;

#define TASK_ARGS_N_OPTIONS 15

/* Zero means "the task's default" (task_defaults), so one set of options
 * serves every task; each task reads only its own (docs/tasks.md). */
static inline void task_args_defaults(TaskArgs *a)
{
    memset(a, 0, sizeof *a);
    strcpy(a->task, "copy");
    a->cfg.alphabet = 26;
    a->cfg.power_a = 0.01;
    a->cfg.depth = -1;
}

static inline int task_args_options(TaskArgs *a, Option *o)
{
    Option t[TASK_ARGS_N_OPTIONS] = {
        OPT_S("task", a->task, "task: copy, selective_copy, induction, mqar, needle, lm"),
        OPT_I("alphabet", &a->cfg.alphabet, 2, 1 << 20, "copy: symbols the strings are drawn from"),
        OPT_I("min-len", &a->cfg.min_len, 0, 1 << 22, "shortest training instance (0: copy 1, others max-len)"),
        OPT_I("max-len", &a->cfg.max_len, 0, 1 << 22,
              "longest training instance, the training length (0: copy 16, selective_copy 4096, induction 256, "
              "mqar 64, needle 256, lm 256)"),
        OPT_I("task-vocab", &a->cfg.vocab, 0, 1 << 24,
              "tokens of a selective_copy, induction, mqar or needle instance, special ones included (0: 16, 16, 8192, 64)"),
        OPT_I("n-data", &a->cfg.n_data, 0, 1 << 16, "selective_copy: data tokens to copy (0: 16)"),
        OPT_I("n-pairs", &a->cfg.n_pairs, 0, 1 << 22, "mqar: key-value pairs, each queried once (0: max-len / 16, at least 1)"),
        OPT_D("power-a", &a->cfg.power_a, 1e-9, 10, "mqar: query gaps drawn with p(g) ~ (g+1)^(a-1) (Zoology)"),
        OPT_F("zero-noise", &a->cfg.zero_noise,
              "mqar: token 0 between the queries instead of random tokens (Zoology's random_non_queries=False)"),
        OPT_I("key-len", &a->cfg.key_len, 0, 1 << 16, "needle: key tokens (0: 2)"),
        OPT_I("value-len", &a->cfg.value_len, 0, 1 << 16, "needle: value tokens, the scored ones (0: 2)"),
        OPT_D("depth", &a->cfg.depth, -1, 1, "needle: where the needle starts, 0 (first) to 1 (last); -1 random"),
        OPT_S("data", a->data,
              "lm: the text, a UTF-8 file, a directory of them (read in name order) or debian:bible-kjv (the King "
              "James Bible from Debian's bible-kjv-text, scripts/install-deps.sh)"),
        OPT_I("bpe", &a->cfg.bpe, 0, BPE_MAX_VOCAB,
              "lm: tokens of a byte-level BPE vocabulary learnt from the training text (0: the 256 bytes)"),
        OPT_S("preset", a->preset,
              "a paper's settings, configs/presets/NAME.json, under --config and the command line (--preset list)"),
    };
    memcpy(o, t, sizeof t);
    return TASK_ARGS_N_OPTIONS;
}

/* The task, its defaults filled in and validated; NULL + Err if unknown or
 * its settings are bad. A text task's corpus is read and split by seed here,
 * before anything costly, so a missing, empty, binary or too short text is
 * refused at once. */
static inline const Task *task_args_resolve(TaskArgs *a, uint64_t seed, Err *e)
{
    const Task *t = task_find(a->task);
    if (!t) {
        err_set(e, "unknown task \"%s\" (known: %s)", a->task, task_list());
        return NULL;
    }
    if ((*a->data || a->cfg.bpe) && !t->text) {
        err_set(e, "--%s is for the lm task (task is %s)", *a->data ? "data" : "bpe", t->name);
        return NULL;
    }
    if (t->text && !*a->data) {
        err_set(e, "%s needs --data FILE (a UTF-8 text file, a directory of them, or %s)", t->name,
                corpus_debian_list());
        return NULL;
    }
    task_defaults(t, &a->cfg);
    if (t->text) {
        if (!(a->corpus = corpus_load(a->data, e)) || corpus_split(a->corpus, seed, CORPUS_BLOCK, e)) return NULL;
        if (a->cfg.bpe) {
            double t0 = now_seconds();
            if (corpus_tokenize(a->corpus, a->cfg.bpe, e)) return NULL;
            const Corpus *c = a->corpus;
            size_t tokens = c->split_tokens[0] + c->split_tokens[1] + c->split_tokens[2];
            fprintf(stderr, "bpe: %d tokens (%d merges) learnt from the %zu training bytes in %.1f s; %zu bytes are "
                    "%zu tokens, %.2f bytes a token\n", c->bpe.vocab, c->bpe.n_merges, c->split_bytes[SPLIT_TRAIN],
                    now_seconds() - t0, c->n_bytes, tokens, (double)c->n_bytes / (double)tokens);
        }
        a->cfg.corpus = a->corpus;
        corpus_identity(a->corpus, a->data_identity, sizeof a->data_identity);
    }
    return t->validate(&a->cfg, e) ? NULL : t;
}

static inline void task_args_free(TaskArgs *a)
{
    corpus_free(a->corpus);
    a->corpus = NULL;
    a->cfg.corpus = NULL;
}

/* The settings digest takes the corpus's identity for --data, so a result
 * knows its text by content: the same bytes anywhere agree, an edited file
 * does not. Call after task_args_resolve. */
static inline void task_args_digest_data(const TaskArgs *a, Option *opts, int n)
{
    Option *o = options_find(opts, n, "data");
    if (o && *a->data_identity) o->digest_as = a->data_identity;
}

/* The result's record of the corpus: where it came from, its size and
 * checksum, and how the seed split it. */
static inline cJSON *task_args_data_json(const TaskArgs *a)
{
    const Corpus *c = a->corpus;
    cJSON *d = cJSON_CreateObject();
    char sum[32];
    cJSON_AddStringToObject(d, "name", c->name);
    if (*c->package) cJSON_AddStringToObject(d, "package", c->package);
    cJSON_AddNumberToObject(d, "files", c->n_files);
    cJSON_AddNumberToObject(d, "bytes", (double)c->n_bytes);
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)c->fnv1a64);
    cJSON_AddStringToObject(d, "fnv1a64", sum);
    cJSON *s = cJSON_AddObjectToObject(d, "split");
    cJSON_AddNumberToObject(s, "seed", (double)c->seed);
    cJSON_AddNumberToObject(s, "block", (double)c->block);
    for (TaskSplit k = SPLIT_TRAIN; k <= SPLIT_TEST; k++) {
        char key[32];
        snprintf(key, sizeof key, "%s_bytes", corpus_split_name(k));
        cJSON_AddNumberToObject(s, key, (double)c->split_bytes[k]);
        snprintf(key, sizeof key, "%s_tokens", corpus_split_name(k));
        if (c->tokens) cJSON_AddNumberToObject(s, key, (double)c->split_tokens[k]);
    }
    cJSON *tk = cJSON_AddObjectToObject(d, "tokenizer");
    cJSON_AddStringToObject(tk, "type", c->tokens ? "byte-level BPE, learnt from the training split" : "bytes");
    cJSON_AddNumberToObject(tk, "vocab_size", c->tokens ? c->bpe.vocab : BPE_BYTES);
    return d;
}

/* Lengths to evaluate must be ones the task can lay out (mqar: even, at
 * least 4 x pairs), checked before any training or loading. */
static inline void task_args_check_lengths(const Task *t, const TaskCfg *c, const int *n, int count)
{
    Err e;
    for (int i = 0; i < count; i++)
        if (t->check_length(c, n[i], &e)) die_err(&e);
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
