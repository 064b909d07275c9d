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
/* The settings digest of `train --dry-run` (its last line holds it). */
static void digest_of(const char *args, char hex[17], const char *name, int *names_it)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "train --arch mamba --steps 3 --threads 1 --dry-run %s", args);
    hex[0] = 0;
    if (run(cmd) != 0) return;
    char *out = check_slurp(tmp, "out.txt"), *d = out ? strstr(out, "# settings digest ") : NULL;
    if (d) sscanf(d + strlen("# settings digest "), "%16[0-9a-f]", hex);
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", name);
    *names_it = d && strstr(d, quoted) != NULL;
    free(out);
}

/* An option added after results were recorded stays out of the digest at the value that does what seqbench did
 * before it, so those results still count as done; another value is another setting. */
static void check_added_option(const char *name, const char *as_before, const char *other)
{
    char none[17], before[17], set[17], arg[96];
    int in_none, in_before, in_set;
    digest_of("", none, name, &in_none);
    snprintf(arg, sizeof arg, "--%s %s", name, as_before);
    digest_of(arg, before, name, &in_before);
    snprintf(arg, sizeof arg, "--%s %s", name, other);
    digest_of(arg, set, name, &in_set);
    CHECK(none[0] && !strcmp(none, before) && !in_none && !in_before,
          "--%s %s is not in the digest (%s vs %s; named %d %d)", name, as_before, none, before, in_none, in_before);
    CHECK(set[0] && strcmp(none, set) && in_set, "--%s %s is: %s", name, other, set);
}

static void digest_added_option(void)
{
    check_added_option("mamba-init", "normal", "mamba_ssm");
    /* a number the same way: --decay-steps 0 (the cosine ends at --steps, as before the option) */
    check_added_option("decay-steps", "0", "200");
}

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
    CHECK(strstr(err, "1 cells to run, 0 with results") && !strstr(err, "done already"),
          "a dry run counts the stale cell as to run, as the run will: %s", err);
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
    /* the report counts only results made under the settings their cells have at its profile */
    char exps[512];
    snprintf(exps, sizeof exps, "%s/exps", tmp);
    mkdir(exps, 0755);
    write_file("exps/tiny.json", TINY);
    CHECK(run(smoke) == 0, "smoke cell again");
    rc = run("report --experiments exps --results st --profile smoke");
    err = check_slurp(tmp, "err.txt");
    CHECK(rc == 0 && !strstr(err, "leaving out"), "report at smoke counts the smoke result: %d %s", rc, err);
    free(err);
    rc = run("report --experiments exps --results st --profile quick");
    err = check_slurp(tmp, "err.txt");
    CHECK(rc == 2 && strstr(err, "leaving out st/tiny/tf.seed1.json: it was made under other settings (steps 5 -> "
                                 "400000)") && strstr(err, "no results"),
          "report at quick leaves the smoke result out and has nothing to report: %d %s", rc, err);
    free(err);
}

/* --seeds replaces a training spec's seeds (the profile's own "seeds" otherwise); a bench spec keeps its own */
static void seeds(void)
{
    write_file("seeds.json",
               "{\"name\": \"sd\", \"base\": {\"task\": \"copy\"}, \"profiles\": {\"quick\": {\"seeds\": [1, 2, 3]},"
               " \"smoke\": {}}, \"cells\": [{\"name\": \"a\"}], \"seeds\": [9]}");
    CHECK(run("experiment --spec seeds.json --results res --profile quick --list-cells") == 0, "quick: exit 0");
    char *out = check_slurp(tmp, "out.txt");
    CHECK(strstr(out, "sd\ta\t1\t") && strstr(out, "sd\ta\t3\t") && !strstr(out, "\t9\t") && count_lines(out) == 3,
          "the profile's seeds: %s", out);
    free(out);
    CHECK(run("experiment --spec seeds.json --results res --profile smoke --list-cells") == 0, "smoke: exit 0");
    out = check_slurp(tmp, "out.txt");
    CHECK(strstr(out, "sd\ta\t9\t") && count_lines(out) == 1, "the spec's seeds at smoke: %s", out);
    free(out);
    CHECK(run("experiment --spec seeds.json --results res --profile quick --seeds 4,5,6 --list-cells") == 0, "4,5,6");
    out = check_slurp(tmp, "out.txt");
    CHECK(!strcmp(out, "sd\ta\t4\tres/sd/a.seed4.json\t-\t0\nsd\ta\t5\tres/sd/a.seed5.json\t-\t0\n"
                       "sd\ta\t6\tres/sd/a.seed6.json\t-\t0\n"), "--seeds 4,5,6: %s", out);
    free(out);
    CHECK(run("experiment --spec seeds.json --results res --profile quick --seeds 4,5,6 --dry-run") == 0, "dry run");
    out = check_slurp(tmp, "err.txt");
    CHECK(strstr(out, "--seed 4 ") && strstr(out, "--seed 6 ") && !strstr(out, "--seeds"), "the seeds pass: %s", out);
    free(out);
    const char *bad[] = {"4,,5", "4,4", "x", "4,", "-1"};
    for (int i = 0; i < 5; i++) {
        char args[200];
        snprintf(args, sizeof args, "experiment --spec seeds.json --results res --seeds %s --list-cells", bad[i]);
        CHECK(run(args) == 2, "--seeds %s is refused", bad[i]);
        char *err = check_slurp(tmp, "err.txt");
        CHECK(strstr(err, "--seeds") && count_lines(err) == 1, "--seeds %s: %s", bad[i], err);
        free(err);
    }
    write_file("seeds.json", "{\"name\": \"sd\", \"command\": \"params\", \"profiles\": {\"quick\": {}},"
                             " \"cells\": [{\"name\": \"a\"}], \"seeds\": [1]}");
    CHECK(run("experiment --spec seeds.json --results res --seeds 4,5,6 --list-cells") == 0, "params: exit 0");
    out = check_slurp(tmp, "out.txt");
    CHECK(strstr(out, "sd\ta\t1\t") && count_lines(out) == 1, "a params spec keeps its seeds: %s", out);
    free(out);
}

/* "sweep": one run per value and seed, <cell>.<option>_<value>.seed<k>.json; the value is passed after the
 * cell's own options; --cell NAME selects every value, --cell NAME.option_value one; unsafe values refused */
static void sweeps(void)
{
    write_file("sw.json",
               "{\"name\": \"sw\", \"base\": {\"task\": \"copy\", \"lr\": 0.5}, \"profiles\": {\"quick\": {}},"
               " \"sweep\": {\"lr\": [0.001, 0.003]},"
               " \"cells\": [{\"name\": \"a\"}, {\"name\": \"b\", \"sweep\": {\"d-model\": [16]}}], \"seeds\": [1, 2]}");
    CHECK(run("experiment --spec sw.json --results res --list-cells") == 0, "sweep list-cells: exit 0");
    char *out = check_slurp(tmp, "out.txt");
    CHECK(!strcmp(out, "sw\ta.lr_0.001\t1\tres/sw/a.lr_0.001.seed1.json\t-\t0\n"
                       "sw\ta.lr_0.001\t2\tres/sw/a.lr_0.001.seed2.json\t-\t0\n"
                       "sw\ta.lr_0.003\t1\tres/sw/a.lr_0.003.seed1.json\t-\t0\n"
                       "sw\ta.lr_0.003\t2\tres/sw/a.lr_0.003.seed2.json\t-\t0\n"
                       "sw\tb.d-model_16\t1\tres/sw/b.d-model_16.seed1.json\t-\t0\n"
                       "sw\tb.d-model_16\t2\tres/sw/b.d-model_16.seed2.json\t-\t0\n"), "sweep cells: %s", out);
    free(out);
    CHECK(run("experiment --spec sw.json --results res --cell a.lr_0.003 --seed 2 --dry-run") == 0, "one value");
    out = check_slurp(tmp, "err.txt");
    CHECK(strstr(out, "--lr 0.5 --lr 0.003 --seed 2") && !strstr(out, "lr_0.001") && strstr(out, "a.lr_0.003.seed2.json"),
          "the swept value after the base's: %s", out);
    free(out);
    CHECK(run("experiment --spec sw.json --results res --cell a --list-cells") == 0, "--cell a");
    out = check_slurp(tmp, "out.txt");
    CHECK(count_lines(out) == 4, "--cell a selects both values: %s", out);
    free(out);
    const char *bad[] = {"{\"lr\": [\"../x\"]}", "{\"lr\": [\".5\"]}", "{\"lr\": [1, 1]}", "{\"lr\": []}",
                         "{\"lr\": [1], \"steps\": [2]}", "{\"a/b\": [1]}"};
    for (int i = 0; i < 6; i++) {
        char spec[600];
        snprintf(spec, sizeof spec, "{\"name\": \"sw\", \"profiles\": {\"quick\": {}}, \"cells\": [{\"name\": \"a\","
                 " \"sweep\": %s}], \"seeds\": [1]}", bad[i]);
        write_file("sw.json", spec);
        int rc = run("experiment --spec sw.json --results res --list-cells");
        char *err = check_slurp(tmp, "err.txt");
        CHECK(rc == 2 && count_lines(err) == 1 && strstr(err, "sweep"), "bad sweep %s: exit %d: %s", bad[i], rc, err);
        free(err);
    }
    CHECK(!exists("x"), "nothing written outside");
}

/* Names that become paths are checked as the spec's own name is, and claims naming what the spec does not
 * have are refused by --dry-run and before any cell runs: one line, exit 2 (issue 28, item 7). */
static void spec_input(void)
{
    static const struct { const char *cells, *claims, *want; } BAD[] = {
        {"[{\"name\": \"a/../../../x\"}]", "[]", "cell name \"a/../../../x\" may only use"},
        {"[{\"name\": \".hidden\"}]", "[]", "cell name \".hidden\""},
        {"[{\"name\": \"ok\"}]", "[{\"claim\": \"c\", \"check\": {\"cell\": \"nobody\", \"length\": 4, \">=\": 1}}]",
         "claim 1: bad check rule: no cell \"nobody\" in the spec"},
        {"[{\"name\": \"ok\"}]", "[{\"claim\": \"c\", \"check\": {\"cell\": \"ok\", \"length\": 4, \">=\": 1},"
                                 " \"qualitative\": {\"cell\": \"ok\", \"length\": 99, \">=\": 1}}]",
         "claim 1: bad qualitative rule: no length 99 in the spec's \"eval-lengths\""},
        {"[{\"name\": \"ok\"}]",
         "[{\"claim\": \"c\", \"check\": {\"cell\": \"ok\", \"length\": 4, \"metric\": \"acc\", \">=\": 1}}]",
         "unknown metric \"acc\""},
        {"[{\"name\": \"ok\"}]",
         "[{\"claim\": \"c\", \"check\": {\"cell\": \"ok\", \"field\": \"metrics..x\", \">=\": 1}}]",
         "is not a path"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        char spec[2000];
        snprintf(spec, sizeof spec,
                 "{\"name\": \"bad\", \"base\": {\"task\": \"copy\", \"steps\": 2, \"d-model\": 16, \"heads\": 2,"
                 " \"layers\": 1, \"max-len\": 4, \"batch\": 2, \"eval-lengths\": [4], \"eval-seqs\": 2},"
                 " \"profiles\": {\"smoke\": {}}, \"cells\": %s, \"claims\": %s, \"seeds\": [1]}",
                 BAD[i].cells, BAD[i].claims);
        write_file("bad.json", spec);
        const char *modes[] = {"--dry-run", "--list-cells", ""};
        for (int m = 0; m < 3; m++) {
            char args[300];
            snprintf(args, sizeof args, "experiment --spec bad.json --results sub/res --profile smoke %s", modes[m]);
            int rc = run(args);
            char *err = check_slurp(tmp, "err.txt");
            CHECK(rc == 2 && strstr(err, BAD[i].want) && count_lines(err) == 1, "case %zu %s: exit %d: %s", i,
                  modes[m], rc, err);
            free(err);
        }
        CHECK(!exists("x") && !exists("sub"), "case %zu: nothing written", i);
    }
}

int main(void)
{
    if (!check_cli_env(&bin, &src)) return 1;
    if (!check_tmpdir(tmp, sizeof tmp, "seq-runner")) return 1;
    list_cells();
    one_cell();
    other_commands();
    stale_results();
    digest_added_option();
    spec_input();
    seeds();
    sweeps();
    check_rmtree(tmp);
    return check_summary();
}
