/* The experiment runner's interface for make and Slurm: --list-cells prints
 * one tab-separated line per (cell, seed) and runs nothing; --cell/--seed
 * run one cell; bench and params cells run like train cells. Tiny models,
 * a few steps: seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/jsonio.h"
#include "check.h"

static const char *bin, *src;
static char tmp[200]; /* paths under it are built in 512-byte buffers */

/* Runs `seqbench ARGS` in tmp with stdout and stderr to files; the exit status. */
static int run(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd %s && %s %s >out.txt 2>err.txt", tmp, bin, args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    FILE *f = fopen(p, "w");
    if (!f || fputs(text, f) < 0 || fclose(f)) {
        perror(p);
        exit(1);
    }
}

static int exists(const char *name)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    return stat(p, &st) == 0;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* Two tiny training cells (one with an estimate), two seeds. */
static const char *TINY =
    "{\"name\": \"tiny\", \"command\": \"train\",\n"
    " \"base\": {\"task\": \"copy\", \"steps\": 400000, \"d-model\": 16, \"heads\": 2, \"layers\": 1, \"max-len\": 4,\n"
    "          \"batch\": 4, \"eval-lengths\": [4], \"eval-seqs\": 8},\n"
    " \"profiles\": {\"quick\": {}, \"smoke\": {\"override\": {\"steps\": 5}}},\n"
    " \"cells\": [{\"name\": \"tf\", \"arch\": \"transformer\", \"seconds\": {\"quick\": 240, \"smoke\": 0.7}},\n"
    "           {\"name\": \"mb\", \"arch\": \"mamba\", \"steps\": 300000, \"profiles\": {\"smoke\": {\"layers\": 2}}}],\n"
    " \"seeds\": [1, 2]}\n";

static void list_cells(void)
{
    write_file("tiny.json", TINY);
    CHECK(run("experiment --spec tiny.json --results res --profile smoke --list-cells") == 0, "list-cells: exit 0");
    char *out = check_slurp(tmp, "out.txt");
    CHECK(!strcmp(out, "tiny\ttf\t1\tres/tiny/tf.seed1.json\t0.7\t0\n"
                       "tiny\ttf\t2\tres/tiny/tf.seed2.json\t0.7\t0\n"
                       "tiny\tmb\t1\tres/tiny/mb.seed1.json\t-\t0\n"
                       "tiny\tmb\t2\tres/tiny/mb.seed2.json\t-\t0\n"),
          "list-cells at smoke: one tab-separated line per (cell, seed), estimate or -:\n%s", out);
    free(out);
    CHECK(!exists("res"), "list-cells made the results directory");
    /* the default profile is quick, and exclusive specs say so */
    char spec[2048];
    snprintf(spec, sizeof spec, "{\"exclusive\": true, %s", TINY + 1);
    write_file("excl.json", spec);
    CHECK(run("experiment --spec excl.json --list-cells --cell tf --seed 2") == 0, "list-cells --cell --seed: exit 0");
    out = check_slurp(tmp, "out.txt");
    CHECK(!strcmp(out, "tiny\ttf\t2\tresults/tiny/tf.seed2.json\t240\t1\n"), "list-cells, exclusive, one cell: %s", out);
    free(out);
    /* errors: one line, status 2, naming what the spec has */
    static const struct { const char *args, *want; } bad[] = {
        {"experiment --spec tiny.json --list-cells --profile fast", "no profile \"fast\" (known: quick, smoke)"},
        {"experiment --spec tiny.json --list-cells --cell nope", "no cell \"nope\" (known: tf, mb)"},
        {"experiment --spec tiny.json --list-cells --cell tf --seed 3", "no seed \"3\" (known: 1, 2)"},
        {"experiment --spec tiny.json --cell nope", "no cell \"nope\" (known: tf, mb)"},
        {"experiment --spec missing.json --list-cells", "missing.json"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = run(bad[i].args);
        char *err = check_slurp(tmp, "err.txt");
        out = check_slurp(tmp, "out.txt");
        CHECK(rc == 2 && strstr(err, bad[i].want) && count_lines(err) == 1 && !*out,
              "%s: exit %d (want 2), one line with \"%s\": %s", bad[i].args, rc, bad[i].want, err);
        free(err);
        free(out);
    }
    write_file("bad.json", "{\"name\": \"tiny\", \"cells\": [{\"name\": \"a\", \"seconds\": 3}], \"seeds\": [1]}");
    CHECK(run("experiment --spec bad.json --list-cells") == 2, "\"seconds\" not an object: exit 2");
    write_file("bad.json", "{\"name\": \"tiny\", \"profiles\": {\"quick\": {}}, \"cells\": [{\"name\": \"a\", "
                           "\"profiles\": {\"quick\": 3}}], \"seeds\": [1]}");
    CHECK(run("experiment --spec bad.json --list-cells") == 2, "a cell's \"profiles\".quick not an object: exit 2");
    CHECK(!exists("res") && !exists("results"), "a refused list-cells made a directory");
}

/* --cell NAME [--seed K]: only that cell runs; a finished one is skipped; the profile's override wins over the cell */
static void one_cell(void)
{
    write_file("tiny.json", TINY);
    int rc = run("experiment --spec tiny.json --results res --profile smoke --cell mb --seed 2 --threads 1");
    char *err = check_slurp(tmp, "err.txt");
    CHECK(rc == 0 && exists("res/tiny/mb.seed2.json"), "--cell mb --seed 2: exit %d: %s", rc, err);
    CHECK(!exists("res/tiny/mb.seed1.json") && !exists("res/tiny/tf.seed1.json") && !exists("res/tiny/tf.seed2.json"),
          "--cell mb --seed 2 ran another cell");
    CHECK(strstr(err, "--steps 300000 --layers 2 --steps 5"),
          "the cell's smoke options do not follow its own, or the smoke override does not come last: %s", err);
    CHECK(strstr(err, "1 cells to run, 0 with results"), "no count of the cells to run: %s", err);
    free(err);
    rc = run("experiment --spec tiny.json --results res --profile smoke --cell mb --threads 1");
    err = check_slurp(tmp, "err.txt");
    CHECK(rc == 0 && exists("res/tiny/mb.seed1.json") && strstr(err, "mb seed 2: done already"),
          "--cell mb: runs seed 1, skips seed 2: exit %d: %s", rc, err);
    CHECK(!exists("res/tiny/tf.seed1.json"), "--cell mb ran tf");
    free(err);
    rc = run("experiment --spec tiny.json --results res --profile smoke --jobs 2");
    err = check_slurp(tmp, "err.txt");
    CHECK(rc == 0 && exists("res/tiny/tf.seed1.json") && exists("res/tiny/tf.seed2.json"),
          "the rest of the spec: exit %d: %s", rc, err);
    CHECK(strstr(err, "2 cells to run, 2 with results; estimated 1 s at 2 at once"), "no estimate: %s", err);
    CHECK(strstr(err, "2 of 2 done, ETA"), "no progress line with an ETA: %s", err);
    free(err);
}

/* bench and params cells: each child's --dry-run catches a bad option first; the results are the commands' own JSON */
static void other_commands(void)
{
    /* the roofline is measured once, tiny, and read by the decode cell: the test times nothing */
    CHECK(run("bench roofline --gemm-n 64 --array-mib 1 --passes 1 --threads 1 --out rf.json") == 0, "bench roofline");
    write_file("bench.json",
               "{\"name\": \"bp\", \"command\": \"bench\", \"exclusive\": true, \"base\": {\"repeats\": 1},\n"
               " \"profiles\": {\"smoke\": {}},\n"
               " \"cells\": [{\"name\": \"decode\", \"subcommand\": \"decode\", \"arch\": \"mamba\", \"d-model\": 16,\n"
               "             \"layers\": 1, \"batches\": [1], \"contexts\": [8], \"steps\": 2, \"roofline\": \"rf.json\"},\n"
               "            {\"name\": \"kern\", \"subcommand\": \"kernels\", \"kernels\": \"mamba1\", \"lengths\": [16],\n"
               "             \"d-model\": 8, \"d-state\": 4}],\n"
               " \"seeds\": [1]}\n");
    write_file("params.json",
               "{\"name\": \"pp\", \"command\": \"params\", \"profiles\": {\"smoke\": {}}, \"seeds\": [1],\n"
               " \"cells\": [{\"name\": \"hawk\", \"arch\": \"hawk\", \"d-model\": 16, \"layers\": 2},\n"
               "           {\"name\": \"bad\", \"arch\": \"mamba\", \"d-modle\": 16}]}\n");
    /* a misspelt option in one params cell: refused whole, nothing made; --dry-run names it */
    int rc = run("experiment --spec params.json --profile smoke --results res");
    char *err = check_slurp(tmp, "err.txt");
    CHECK(rc == 2 && strstr(err, "cell bad seed 1") && strstr(err, "d-modle") && !exists("res/pp"),
          "params spec with a bad cell: exit %d: %s", rc, err);
    free(err);
    rc = run("experiment --spec params.json --profile smoke --results res --cell hawk");
    err = check_slurp(tmp, "err.txt");
    CHECK(rc == 0 && strstr(err, "params --arch hawk --d-model 16 --layers 2 --out res/pp/hawk.seed1.json"),
          "params cell: exit %d: %s", rc, err);
    free(err);
    char p[512];
    snprintf(p, sizeof p, "%s/res/pp/hawk.seed1.json", tmp);
    Err e;
    cJSON *res = json_read_file(p, &e);
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(res, "total");
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(res, "command");
    CHECK(cJSON_IsNumber(total) && total->valuedouble > 0 && cJSON_IsString(cmd) && !strcmp(cmd->valuestring, "params"),
          "params --out: the counts with provenance");
    cJSON_Delete(res);

    rc = run("experiment --spec bench.json --profile smoke --results res --jobs 2 --threads 1");
    err = check_slurp(tmp, "err.txt");
    CHECK(rc == 0 && exists("res/bp/decode.seed1.json") && exists("res/bp/kern.seed1.json"),
          "bench cells: exit %d: %s", rc, err);
    CHECK(strstr(err, "bench decode --repeats 1 --arch mamba") && strstr(err, "bench kernels --repeats 1") &&
              strstr(err, "one cell at a time, not 2"), "bench cells: the subcommands, one at a time: %s", err);
    CHECK(!strstr(err, "--seed"), "a bench cell was given --seed: %s", err);
    free(err);
    /* each bench instrument and params stop at --dry-run, after their checks, writing nothing */
    static const char *dry[] = {
        "bench --arch mamba --d-model 16 --layers 1 --dry-run --out never.json",
        "bench decode --arch mamba --d-model 16 --dry-run --out never.json",
        "bench latency --arch mamba --d-model 16 --dry-run --out never.json",
        "bench throughput --arch mamba --d-model 16 --dry-run --out never.json",
        "bench prefill --arch mamba --d-model 16 --lengths 16 --dry-run --out never.json",
        "bench roofline --dry-run --out never.json",
        "bench kernels --lengths 16 --dry-run --out never.json",
        "bench memory --archs mamba --contexts 16 --dry-run --out never.json",
        "params --arch mamba --d-model 16 --dry-run --out never.json",
    };
    for (size_t i = 0; i < sizeof dry / sizeof *dry; i++) {
        rc = run(dry[i]);
        err = check_slurp(tmp, "err.txt");
        CHECK(rc == 0 && strstr(err, "dry run") && !exists("never.json"), "%s: exit %d: %s", dry[i], rc, err);
        free(err);
        char bad[600];
        snprintf(bad, sizeof bad, "%s --no-such 1", dry[i]);
        CHECK(run(bad) == 2, "%s: an unknown option is refused", bad);
    }
}

/* A result made under other settings is not done (issue 28): the smoke-then-quick sequence. A smoke result
 * listed at quick is moved aside (FILE.stale, then .stale2: never over an earlier one) with the differing
 * settings named, a dry run only says so, and the same settings again find it done. */
static void stale_results(void)
{
    write_file("tiny.json", TINY);
    const char *smoke = "experiment --spec tiny.json --results st --profile smoke --cell tf --seed 1 --threads 1";
    CHECK(run(smoke) == 0 && exists("st/tiny/tf.seed1.json"), "smoke cell");
    CHECK(run("experiment --spec tiny.json --results st --profile smoke --cell tf --seed 1 --threads 1 --list-cells "
              "--move-stale") == 0 && exists("st/tiny/tf.seed1.json") && !exists("st/tiny/tf.seed1.json.stale"),
          "the same settings: the result stands");
    int rc = run("experiment --spec tiny.json --results st --profile quick --cell tf --seed 1 --threads 1 --dry-run");
    char *err = check_slurp(tmp, "err.txt");
    CHECK(rc == 0 && strstr(err, "would run again: it was made under other settings (steps 5 -> 400000)") &&
              exists("st/tiny/tf.seed1.json"), "a dry run at quick names the setting and moves nothing: %s", err);
    free(err);
    rc = run("experiment --spec tiny.json --results st --profile quick --cell tf --seed 1 --threads 1 --list-cells");
    CHECK(rc == 0 && exists("st/tiny/tf.seed1.json"), "list-cells without --move-stale moves nothing");
    rc = run("experiment --spec tiny.json --results st --profile quick --cell tf --seed 1 --threads 1 --list-cells "
             "--move-stale");
    err = check_slurp(tmp, "err.txt");
    char *out = check_slurp(tmp, "out.txt");
    CHECK(rc == 0 && !exists("st/tiny/tf.seed1.json") && exists("st/tiny/tf.seed1.json.stale") &&
              strstr(err, "(steps 5 -> 400000); moved to st/tiny/tf.seed1.json.stale, running it again") &&
              strstr(out, "st/tiny/tf.seed1.json"),
          "list-cells at quick moves the smoke result aside and lists the cell: %d %s", rc, err);
    free(err);
    free(out);
    rc = run(smoke);
    err = check_slurp(tmp, "err.txt");
    CHECK(rc == 0 && exists("st/tiny/tf.seed1.json") && !strstr(err, "done already"), "smoke again runs: %s", err);
    free(err);
    rc = run(smoke);
    err = check_slurp(tmp, "err.txt");
    CHECK(rc == 0 && strstr(err, "tf seed 1: done already"), "smoke a third time: done already: %s", err);
    free(err);
    /* the thread count is a setting: float sums round with it */
    rc = run("experiment --spec tiny.json --results st --profile smoke --cell tf --seed 1 --threads 2 --list-cells "
             "--move-stale");
    err = check_slurp(tmp, "err.txt");
    CHECK(rc == 0 && exists("st/tiny/tf.seed1.json.stale2") && strstr(err, "threads 1 -> 2"),
          "another thread count: moved to .stale2: %s", err);
    free(err);
}

int main(void)
{
    if (!check_cli_env(&bin, &src)) return 1;
    if (!check_tmpdir(tmp, sizeof tmp, "seq-runner")) return 1;
    list_cells();
    one_cell();
    other_commands();
    stale_results();
    check_rmtree(tmp);
    return check_summary();
}
