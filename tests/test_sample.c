/* seqbench sample, run as a child process (SEQ_BINARY):
 *   1. its JSON parses, and every instance is what the task's make_batch
 *      gives on the stream train or eval draws from (called here directly):
 *      tokens, scored positions (the mask) and their answers, T, vocabulary;
 *   2. the same seed gives the same bytes, other seeds and the other split
 *      other instances, and how many are generated at a time changes nothing
 *      (which is what makes them eval's and train's instances);
 *   3. --out writes what stdout shows;
 *   4. bad input: exit 2, one "seqbench: " line naming the value, no file. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "tasks/task.h"
#include "tasks/train.h"

static const char *bin;
static char tmp[256];

/* Runs `bin ARGS` through the shell; stdout into *out (malloc'ed), stderr
 * into tmp/err; returns the exit status. */
static int run(const char *args, char **out)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>'%s/err'", bin, args, tmp);
    FILE *p = popen(cmd, "r");
    if (!p) { perror("popen"); exit(1); }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (cap - n < 2) buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    s[fread(s, 1, (size_t)n, f)] = '\0';
    fclose(f);
    return s;
}

static int num(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsNumber(v) ? v->valueint : -1;
}

typedef struct {
    const char *task, *opts; /* seqbench options */
    TaskCfg cfg;             /* the same settings, for make_batch */
    int n;
} Case;

/* Instance by instance, sample's output against make_batch on the stream. */
static void check_against_generator(const Case *c, const char *split, uint64_t seed, int seqs)
{
    char args[512], *out;
    snprintf(args, sizeof args, "sample --task %s %s --length %d --seqs %d --seed %llu --split %s", c->task, c->opts,
             c->n, seqs, (unsigned long long)seed, split);
    int rc = run(args, &out);
    CHECK(rc == 0, "%s: exit %d", args, rc);
    cJSON *j = cJSON_Parse(out);
    CHECK(j != NULL, "%s: output does not parse", args);
    if (!j) { free(out); return; }
    const Task *t = task_find(c->task);
    TaskCfg cfg = c->cfg;
    task_defaults(t, &cfg);
    int train = !strcmp(split, "train"), T = t->seq_len(&cfg, c->n);
    if (train) cfg.min_len = cfg.max_len = c->n;
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(j, "task");
    CHECK(cJSON_IsString(task) && !strcmp(task->valuestring, c->task), "%s: task", args);
    CHECK(num(j, "length") == c->n && num(j, "T") == T, "%s: length %d, T %d (want %d, %d)", args, num(j, "length"),
          num(j, "T"), c->n, T);
    CHECK(num(j, "vocab_size") == t->vocab_size(&cfg), "%s: vocab_size %d", args, num(j, "vocab_size"));
    CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "settings")), "%s: settings", args);
    const cJSON *insts = cJSON_GetObjectItemCaseSensitive(j, "instances");
    CHECK(cJSON_GetArraySize(insts) == seqs, "%s: %d instances", args, cJSON_GetArraySize(insts));

    Batch b;
    Err e;
    if (batch_alloc(&b, seqs, T, &e)) { fprintf(stderr, "%s\n", e.msg); exit(1); }
    int stream = !strcmp(split, "val") ? STREAM_VAL : STREAM_TEST;
    Rng rng = train ? rng_fork(seed, STREAM_TRAIN) : rng_fork(seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)c->n), stream);
    TaskSplit sp = train ? SPLIT_TRAIN : stream == STREAM_VAL ? SPLIT_VALIDATION : SPLIT_TEST;
    t->make_batch(&cfg, sp, &rng, c->n, c->n, &b);
    int bad_tok = 0, bad_score = 0, s = 0;
    const cJSON *inst;
    cJSON_ArrayForEach(inst, insts) {
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(inst, "tokens");
        const cJSON *tgt = cJSON_GetObjectItemCaseSensitive(inst, "targets");
        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(inst, "scored");
        if (s >= seqs || cJSON_GetArraySize(tok) != T) { bad_tok++; s++; continue; }
        for (int i = 0; i < T; i++) bad_tok += cJSON_GetArrayItem(tok, i)->valueint != b.tokens[(size_t)s * T + i];
        int k = 0;
        for (int i = 0; i < T; i++) {
            if (!b.mask[(size_t)s * T + i]) continue;
            const cJSON *p = cJSON_GetArrayItem(sc, k), *a = cJSON_GetArrayItem(tgt, k);
            bad_score += !p || !a || p->valueint != i || a->valueint != b.targets[(size_t)s * T + i];
            k++;
        }
        bad_score += k != cJSON_GetArraySize(sc) || k != cJSON_GetArraySize(tgt) || k == 0;
        s++;
    }
    CHECK(bad_tok == 0, "%s: %d tokens differ from make_batch", args, bad_tok);
    CHECK(bad_score == 0, "%s: %d scored positions or answers differ from make_batch's mask and targets", args,
          bad_score);
    batch_free(&b);
    cJSON_Delete(j);
    free(out);
}

static int same_output(const char *a, const char *b)
{
    char *x, *y;
    int ra = run(a, &x), rb = run(b, &y);
    int same = ra == 0 && rb == 0 && !strcmp(x, y);
    free(x);
    free(y);
    return same;
}

static void determinism(void)
{
    const char *base = "sample --task mqar --task-vocab 64 --n-pairs 4 --length 32 --seqs 40";
    char a[256], b[300];
    snprintf(a, sizeof a, "%s --seed 5", base);
    CHECK(same_output(a, a), "same seed, different output");
    snprintf(b, sizeof b, "%s --seed 6", base);
    CHECK(!same_output(a, b), "seeds 5 and 6 give the same instances");
    snprintf(b, sizeof b, "%s --seed 5 --split train", base);
    CHECK(!same_output(a, b), "train and test splits give the same instances");
    snprintf(b, sizeof b, "%s --seed 5 --split val", base);
    CHECK(!same_output(a, b), "the validation split gives the test instances");
    const char *tasks[] = {"copy", "selective_copy --n-data 4", "induction", "mqar --n-pairs 4", "needle"};
    for (int i = 0; i < 5; i++)
        for (int tr = 0; tr < 2; tr++) {
            snprintf(a, sizeof a, "sample --task %s --length 32 --seqs 23 --split %s", tasks[i], tr ? "train" : "test");
            snprintf(b, sizeof b, "%s --batch 5", a);
            CHECK(same_output(a, b), "%s: --batch 5 changes the instances", a);
        }
}

static void out_file(void)
{
    char path[300], args[512], *out, *out2;
    snprintf(path, sizeof path, "%s/s.json", tmp);
    snprintf(args, sizeof args, "sample --task induction --length 32 --seqs 3 --out '%s'", path);
    CHECK(run(args, &out) == 0 && !*out, "--out: exit status or stdout");
    free(out);
    run("sample --task induction --length 32 --seqs 3", &out2);
    char *f = read_text(path);
    CHECK(f && !strcmp(f, out2), "--out file differs from stdout");
    free(f);
    free(out2);
}

static void bad(const char *args, const char *kw)
{
    char full[600], path[300], *out;
    snprintf(path, sizeof path, "%s/bad.json", tmp);
    unlink(path);
    snprintf(full, sizeof full, "%s --out '%s'", args, path);
    int rc = run(full, &out);
    char ep[300];
    snprintf(ep, sizeof ep, "%s/err", tmp);
    char *err = read_text(ep);
    int lines = 0;
    for (char *p = err; p && *p; p++) lines += *p == '\n';
    CHECK(rc == 2, "%s: exit %d, want 2", args, rc);
    CHECK(err && !strncmp(err, "seqbench: ", 10) && lines == 1, "%s: stderr \"%s\"", args, err ? err : "");
    CHECK(err && strstr(err, kw), "%s: message \"%s\" does not name \"%s\"", args, err ? err : "", kw);
    CHECK(!*out && access(path, F_OK) != 0, "%s: wrote output", args);
    free(err);
    free(out);
}

int main(void)
{
    bin = getenv("SEQ_BINARY");
    if (!bin) bin = "build/seqbench";
    if (!check_tmpdir(tmp, sizeof tmp, "seq_sample")) return 1;

    Case cases[] = {
        {"copy", "", {.alphabet = 26}, 12},
        {"selective_copy", "--task-vocab 10 --n-data 5", {.vocab = 10, .n_data = 5}, 40},
        {"induction", "", {0}, 64},
        {"mqar", "--task-vocab 128 --n-pairs 8", {.vocab = 128, .n_pairs = 8, .power_a = 0.01}, 64},
        {"mqar", "--task-vocab 8192", {.vocab = 8192, .power_a = 0.01}, 128},
        {"needle", "--key-len 3 --value-len 2", {.key_len = 3, .value_len = 2, .depth = -1}, 48},
        {"needle", "--depth 0.25", {.depth = 0.25}, 100},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (!cases[i].cfg.depth) cases[i].cfg.depth = -1; /* the CLI's defaults (cli/task_args.h) */
        if (!cases[i].cfg.power_a) cases[i].cfg.power_a = 0.01;
        if (!cases[i].cfg.alphabet) cases[i].cfg.alphabet = 26;
        check_against_generator(&cases[i], "test", 7, 30);
        check_against_generator(&cases[i], "train", 7, 30);
        check_against_generator(&cases[i], "val", 7, 30);
    }
    determinism();
    out_file();

    bad("sample --task nope", "\"nope\"");
    bad("sample --task induction --split dev", "\"dev\"");
    bad("sample --task mqar --length 63", "63");
    bad("sample --task mqar --n-pairs 20 --length 64", "20");
    bad("sample --task needle --length 5", "5");
    bad("sample --task induction --seqs 0", "--seqs");
    bad("sample --task induction --length x", "--length");
    char args[400];
    snprintf(args, sizeof args, "sample --task induction --out '%s/missing/s.json'", tmp);
    char *out, made[600];
    CHECK(run(args, &out) == 0, "--out in a missing directory: %s", out);
    free(out);
    snprintf(made, sizeof made, "%s/missing/s.json", tmp);
    CHECK(access(made, F_OK) == 0, "--out did not make %s's directory", made);
    snprintf(args, sizeof args, "sample --task induction --out '%s/missing/s.json/t.json'", tmp);
    CHECK(run(args, &out) == 2, "--out under a file");
    free(out);

    check_rmtree(tmp);
    return check_summary();
}
