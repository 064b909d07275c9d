/* Presets and `compare`: every shipped preset is listed and passes train's
 * checks; a preset sits under --config and the command line; compare writes
 * one result per (architecture, seed) and a summary whose mean, min and max
 * are those of the cells; a second run skips finished cells. Tiny models and
 * a few steps: seconds. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/jsonio.h"
#include "check.h"

static const char *bin, *src;
static char tmp[200]; /* paths under it are built in 256-byte buffers */

/* Runs `seqbench ARGS` with stdout and stderr to files; the exit status. */
static int run(const char *env, const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s %s >%s/out.txt 2>%s/err.txt", env ? env : "", bin, args, tmp, tmp);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return calloc(1, 1);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

static char *out_text(void)
{
    char p[256];
    snprintf(p, sizeof p, "%s/out.txt", tmp);
    return slurp(p);
}

static char *err_text(void)
{
    char p[256];
    snprintf(p, sizeof p, "%s/err.txt", tmp);
    return slurp(p);
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f)) {
        perror(path);
        exit(1);
    }
}

static cJSON *read_json(const char *path)
{
    Err e;
    cJSON *j = json_read_file(path, &e);
    if (!j) fprintf(stderr, "%s\n", e.msg);
    return j;
}

static double setting(const cJSON *res, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "settings"), key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The shipped presets: listed with a description and a source; each passes
 * `train --dry-run` (every key an option of train, every size valid) for
 * its own architecture and every architecture it has settings for. */
static void test_shipped(void)
{
    CHECK(run(NULL, "train --preset list") == 0, "train --preset list: status 0");
    char *list = out_text();
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/configs/presets", src);
    DIR *d = opendir(dir);
    CHECK(d != NULL, "%s exists", dir);
    int n = 0, cpu = 0;
    for (struct dirent *ent; d && (ent = readdir(d));) {
        size_t len = strlen(ent->d_name);
        if (len <= 5 || strcmp(ent->d_name + len - 5, ".json")) continue;
        char name[128], path[1400], line[300];
        snprintf(name, sizeof name, "%.*s", (int)(len - 5), ent->d_name);
        n++;
        cpu += strstr(name, "-cpu") != NULL;
        snprintf(line, sizeof line, "\n%s ", name);
        char *at = strstr(list, line) ? strstr(list, line) : strncmp(list, line + 1, strlen(line) - 1) ? NULL : list;
        CHECK(at && strchr(at + 1, '[') && strchr(at + 1, '[') < strchr(at + 1, '\n'),
              "--preset list names %s with a description and [source]", name);
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        cJSON *p = read_json(path);
        CHECK(p != NULL, "%s parses", path);
        const cJSON *opts = cJSON_GetObjectItemCaseSensitive(p, "options");
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "description")) &&
                  cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "source")) && cJSON_IsObject(opts),
              "%s: description, source and options", name);
        /* the paper-scale evaluations are the evaluation code's memory question, not the preset's: check each
         * preset's keys and model at its training length */
        const cJSON *max_len = cJSON_GetObjectItemCaseSensitive(opts, "max-len");
        int len_check = cJSON_IsNumber(max_len) ? max_len->valueint : 0;
        char args[600];
        snprintf(args, sizeof args, "train --preset %s --dry-run --eval-lengths %d --eval-seqs 1", name, len_check);
        int st = run(NULL, args);
        char *err = err_text();
        CHECK(st == 0 && len_check > 0, "train --preset %s --dry-run: status %d: %s", name, st, err);
        free(err);
        const cJSON *by = cJSON_GetObjectItemCaseSensitive(p, "by_arch");
        for (const cJSON *a = by ? by->child : NULL; a; a = a->next) {
            snprintf(args, sizeof args, "train --preset %s --arch %s --dry-run --eval-lengths %d --eval-seqs 1", name,
                     a->string, len_check);
            st = run(NULL, args);
            err = err_text();
            CHECK(st == 0, "train --preset %s --arch %s --dry-run: status %d: %s", name, a->string, st, err);
            free(err);
        }
        cJSON_Delete(p);
    }
    if (d) closedir(d);
    CHECK(n >= 8 && cpu >= 4, "%d presets, %d of them CPU-sized (want the four papers' and a -cpu beside each)", n, cpu);
    free(list);
    CHECK(run(NULL, "compare --preset list") == 0, "compare --preset list: status 0");
    list = out_text();
    CHECK(strstr(list, "mamba-table1 ") != NULL, "compare --preset list lists the presets");
    free(list);

    CHECK(run(NULL, "train --preset no-such-thing --steps 1") == 2, "unknown preset: status 2");
    char *err = err_text();
    CHECK(count_of(err, "\n") == 1 && strstr(err, "seqbench: --preset no-such-thing: no such preset (known: ") == err &&
              strstr(err, "mamba-table1") && strstr(err, "mamba-table2") && strstr(err, "zoology-mqar"),
          "unknown preset: one line naming it and the known ones: %s", err);
    free(err);
}

/* A preset of our own (SEQBENCH_DATA_DIR): its options, then --config, then
 * the command line; by_arch for the final --arch, under both. */
static void test_precedence(void)
{
    char path[600], env[700], args[1600], out[600];
    snprintf(path, sizeof path, "%s/data/configs/presets", tmp);
    char mk[800];
    snprintf(mk, sizeof mk, "mkdir -p %s", path);
    if (system(mk)) exit(1);
    snprintf(path, sizeof path, "%s/data/configs/presets/tiny.json", tmp);
    write_file(path, "{\"description\": \"a test\", \"source\": \"none\", \"options\": {\"task\": \"induction\", "
                     "\"max-len\": 16, \"task-vocab\": 8, \"arch\": \"mamba\", \"layers\": 1, \"d-model\": 16, "
                     "\"steps\": 3, \"batch\": 4, \"lr\": 0.01, \"eval-lengths\": [16], \"eval-seqs\": 8},\n"
                     " \"by_arch\": {\"transformer\": {\"lr\": 0.02, \"d-model\": 24, \"heads\": 2}}}\n");
    snprintf(path, sizeof path, "%s/data/configs/presets/typo.json", tmp);
    write_file(path, "{\"description\": \"a typo\", \"source\": \"none\", \"options\": {\"stpes\": 3}}\n");
    snprintf(env, sizeof env, "SEQBENCH_DATA_DIR=%s/data", tmp);
    snprintf(out, sizeof out, "%s/p.json", tmp);

    struct {
        const char *extra;
        double steps, lr, d_model, max_len;
        const char *why;
    } cases[] = {
        {"", 3, 0.01, 16, 16, "the preset's options"},
        {"--steps 2 --lr 0.005", 2, 0.005, 16, 16, "the command line over the preset"},
        {"--config CFG", 3, 0.003, 16, 32, "--config over the preset"},
        {"--config CFG --lr 0.004", 3, 0.004, 16, 32, "the command line over --config"},
        {"--arch transformer", 3, 0.02, 24, 16, "by_arch for the final --arch over the preset's options"},
        {"--arch transformer --d-model 32", 3, 0.02, 32, 16, "the command line over by_arch"},
        {"--arch transformer --config CFG", 3, 0.003, 24, 32, "--config over by_arch"},
    };
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/cfg.json", tmp);
    write_file(cfg, "{\"lr\": 0.003, \"max-len\": 32, \"eval-lengths\": [32]}\n");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char extra[800];
        const char *c = strstr(cases[i].extra, "CFG");
        if (c) snprintf(extra, sizeof extra, "%.*s%s%s", (int)(c - cases[i].extra), cases[i].extra, cfg, c + 3);
        else snprintf(extra, sizeof extra, "%s", cases[i].extra);
        remove(out);
        snprintf(args, sizeof args, "train --preset tiny %s --threads 1 --out %s", extra, out);
        int st = run(env, args);
        cJSON *res = st == 0 ? read_json(out) : NULL;
        char *err = err_text();
        CHECK(res != NULL, "%s: train ran (status %d: %s)", cases[i].why, st, err);
        free(err);
        if (!res) continue;
        const cJSON *preset = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "settings"),
                                                               "preset");
        CHECK(cJSON_IsString(preset) && !strcmp(preset->valuestring, "tiny"), "%s: settings record the preset",
              cases[i].why);
        CHECK(setting(res, "steps") == cases[i].steps && fabs(setting(res, "lr") - cases[i].lr) < 1e-12 &&
                  setting(res, "d-model") == cases[i].d_model && setting(res, "max-len") == cases[i].max_len,
              "%s: steps %g lr %g d-model %g max-len %g (want %g %g %g %g)", cases[i].why, setting(res, "steps"),
              setting(res, "lr"), setting(res, "d-model"), setting(res, "max-len"), cases[i].steps, cases[i].lr,
              cases[i].d_model, cases[i].max_len);
        cJSON_Delete(res);
    }
    /* a key train has no option for is an error naming the preset and the key, before any work */
    remove(out);
    snprintf(args, sizeof args, "train --preset typo --out %s", out);
    CHECK(run(env, args) == 2, "preset with an unknown key: status 2");
    char *err = err_text();
    CHECK(!strcmp(err, "seqbench: preset typo: unknown key \"stpes\"\n"), "preset typo: %s", err);
    free(err);
    struct stat st;
    CHECK(stat(out, &st) != 0, "preset typo: no result written");
}

/* Two architectures x two seeds, three steps each. */
static void test_compare(void)
{
    char spec[600], results[600], args[2000], path[1400];
    snprintf(spec, sizeof spec, "%s/tiny_cmp.json", tmp);
    snprintf(results, sizeof results, "%s/results", tmp);
    write_file(spec, "{\"name\": \"tiny_cmp\", \"command\": \"train\",\n"
                     " \"base\": {\"task\": \"induction\", \"max-len\": 16, \"task-vocab\": 8, \"steps\": 3,\n"
                     "          \"batch\": 4, \"lr\": 0.01, \"eval-lengths\": [16, 32], \"eval-seqs\": 24},\n"
                     " \"cells\": [{\"name\": \"mamba\", \"arch\": \"mamba\", \"layers\": 1, \"d-model\": 16},\n"
                     "           {\"name\": \"attn\", \"arch\": \"transformer\", \"layers\": 1, \"d-model\": 16, "
                     "\"heads\": 2}],\n"
                     " \"seeds\": [1, 2]}\n");
    char mk[800];
    snprintf(mk, sizeof mk, "mkdir -p %s", results);
    if (system(mk)) exit(1);

    /* --dry-run checks every cell and makes nothing */
    snprintf(args, sizeof args, "compare --spec %s --results %s --threads 1 --dry-run", spec, results);
    int st = run(NULL, args);
    snprintf(path, sizeof path, "%s/tiny_cmp", results);
    struct stat sb;
    CHECK(st == 0 && stat(path, &sb) != 0, "compare --dry-run: status %d, no directory made", st);

    snprintf(args, sizeof args, "compare --spec %s --results %s --threads 1", spec, results);
    st = run(NULL, args);
    char *err = err_text(), *out = out_text();
    CHECK(st == 0, "compare ran: status %d: %s", st, err);
    CHECK(count_of(err, "] tiny_cmp/") >= 8 && count_of(err, ": ok in ") == 4,
          "a progress line before and after each of the 4 cells: %s", err);
    CHECK(strstr(out, "architecture") && strstr(out, "\nmamba ") && strstr(out, "\nattn ") && strstr(out, " [") &&
              strstr(out, "16") && strstr(out, "32"),
          "the summary table names both architectures and both lengths: %s", out);
    free(err);
    free(out);

    snprintf(path, sizeof path, "%s/tiny_cmp/summary.json", results);
    cJSON *sum = read_json(path);
    CHECK(sum != NULL, "summary.json written");
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(sum, "architectures");
    CHECK(cJSON_GetArraySize(archs) == 2, "two architectures in the summary");
    const char *names[2] = {"mamba", "attn"};
    int i = 0;
    for (const cJSON *a = archs ? archs->child : NULL; a && i < 2; a = a->next, i++) {
        CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(a, "name")->valuestring, names[i]), "architecture %d is %s",
              i, names[i]);
        cJSON *cell[2];
        for (int s = 0; s < 2; s++) {
            snprintf(path, sizeof path, "%s/tiny_cmp/%s.seed%d.json", results, names[i], s + 1);
            cell[s] = read_json(path);
            CHECK(cell[s] != NULL, "%s seed %d: its result file", names[i], s + 1);
        }
        if (!cell[0] || !cell[1]) continue;
        double params = cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cell[0], "model"),
                                                             "params"), "total")->valuedouble;
        CHECK(cJSON_GetObjectItemCaseSensitive(a, "params")->valuedouble == params && params > 0,
              "%s: the exact parameter count %g", names[i], params);
        const cJSON *ev = cJSON_GetObjectItemCaseSensitive(a, "eval");
        CHECK(cJSON_GetArraySize(ev) == 2, "%s: two lengths", names[i]);
        int k = 0;
        for (const cJSON *x = ev ? ev->child : NULL; x; x = x->next, k++) {
            for (int m = 0; m < 2; m++) {
                const char *metric = m ? "token_acc" : "string_acc";
                double v[2];
                for (int s = 0; s < 2; s++) {
                    const cJSON *e = cJSON_GetArrayItem(
                        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cell[s], "metrics"),
                                                         "eval"), k);
                    v[s] = cJSON_GetObjectItemCaseSensitive(e, metric)->valuedouble;
                }
                const cJSON *stat = cJSON_GetObjectItemCaseSensitive(x, metric);
                double mean = cJSON_GetObjectItemCaseSensitive(stat, "mean")->valuedouble;
                double lo = cJSON_GetObjectItemCaseSensitive(stat, "min")->valuedouble;
                double hi = cJSON_GetObjectItemCaseSensitive(stat, "max")->valuedouble;
                CHECK(fabs(mean - (v[0] + v[1]) / 2) < 1e-12 && lo == fmin(v[0], v[1]) && hi == fmax(v[0], v[1]),
                      "%s length %d %s: mean %g min %g max %g of %g, %g", names[i],
                      cJSON_GetObjectItemCaseSensitive(x, "length")->valueint, metric, mean, lo, hi, v[0], v[1]);
            }
            CHECK(cJSON_GetObjectItemCaseSensitive(x, "length")->valueint == (k ? 32 : 16) &&
                      cJSON_GetObjectItemCaseSensitive(x, "seeds")->valueint == 2,
                  "%s: lengths in order, two seeds each", names[i]);
        }
        cJSON_Delete(cell[0]);
        cJSON_Delete(cell[1]);
    }
    cJSON_Delete(sum);

    /* a second run trains nothing; with one result gone, only that cell runs */
    st = run(NULL, args);
    err = err_text();
    CHECK(st == 0 && count_of(err, "done already") == 4 && count_of(err, ": ok in ") == 0,
          "second run: every cell done already: %s", err);
    free(err);
    snprintf(path, sizeof path, "%s/tiny_cmp/attn.seed2.json", results);
    remove(path);
    st = run(NULL, args);
    err = err_text();
    CHECK(st == 0 && count_of(err, "done already") == 3 && strstr(err, "tiny_cmp/attn seed 2: ok in "),
          "third run: only the missing cell trains: %s", err);
    free(err);

    /* --jobs 2: two missing cells train side by side, the cores divided between them */
    const char *gone[2] = {"mamba.seed1", "attn.seed1"};
    for (int g = 0; g < 2; g++) {
        snprintf(path, sizeof path, "%s/tiny_cmp/%s.json", results, gone[g]);
        remove(path);
    }
    char args2[1300]; /* spec and results paths up to 600 each, and the words between */
    snprintf(args2, sizeof args2, "compare --spec %s --results %s --jobs 2", spec, results);
    st = run(NULL, args2);
    err = err_text();
    CHECK(st == 0 && count_of(err, "done already") == 2 && count_of(err, ": ok in ") == 2,
          "--jobs 2: the two missing cells train: %s", err);
    free(err);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int want = cores > 2 ? (int)(cores / 2) : 1;
    for (int g = 0; g < 2; g++) {
        snprintf(path, sizeof path, "%s/tiny_cmp/%s.json", results, gone[g]);
        cJSON *c = read_json(path);
        const cJSON *th = c ? cJSON_GetObjectItemCaseSensitive(c, "threads") : NULL;
        CHECK(cJSON_IsNumber(th) && th->valueint == want, "--jobs 2 on %ld cores: %s trained with %d threads (got %d)",
              cores, gone[g], want, cJSON_IsNumber(th) ? th->valueint : -1);
        cJSON_Delete(c);
    }

    /* a bad cell stops the comparison before anything trains, naming it */
    write_file(spec, "{\"name\": \"tiny_bad\", \"command\": \"train\", \"base\": {\"task\": \"induction\", "
                     "\"max-len\": 16, \"steps\": 1},\n"
                     " \"cells\": [{\"name\": \"ok\", \"arch\": \"mamba\"}, {\"name\": \"bad\", \"arch\": \"mamba\", "
                     "\"d-stat\": 4}], \"seeds\": [1]}\n");
    st = run(NULL, args);
    err = err_text();
    snprintf(path, sizeof path, "%s/tiny_bad", results);
    CHECK(st == 2 && count_of(err, "\n") == 1 && strstr(err, "cell bad seed 1: ") && strstr(err, "d-stat") &&
              stat(path, &sb) != 0,
          "a bad cell: status 2, one line naming it, nothing made: %s", err);
    free(err);
}

int main(void)
{
    if (!check_cli_env(&bin, &src)) return 1;
    if (!check_tmpdir(tmp, sizeof tmp, "seq_compare")) return 1;
    test_shipped();
    test_precedence();
    test_compare();
    check_rmtree(tmp);
    return check_summary();
}
