/* Atomic writes (abort keeps the old file, commit replaces it, a write that
 * fails midway leaves nothing behind), mkdir_p, and the JSON helpers'
 * error messages. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/atomic.h"
#include "core/err.h"
#include "core/jsonio.h"

static char dir[512];

static void make_tmpdir(void)
{
    if (!check_tmpdir(dir, sizeof dir, "seqbench_aj")) exit(1);
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *de;
    char p[1024];
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", path, de->d_name);
            remove_tree(p);
        }
    closedir(d);
    rmdir(path);
}

static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    if (d) closedir(d);
    return n;
}

/* The file's contents as a string (first 255 bytes), or "" if unreadable. */
static const char *slurp(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    size_t n = fp ? fread(buf, 1, cap - 1, fp) : 0;
    buf[n] = '\0';
    if (fp) fclose(fp);
    return buf;
}

static void test_atomic(void)
{
    char p[600], tmp[700], got[256];
    Err e = {{0}};
    snprintf(p, sizeof p, "%s/result.json", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", p, (long)getpid());
    CHECK(write_file_atomic(p, "old", 3, &e) == 0, "%s", e.msg);
    CHECK(strcmp(slurp(p, got, sizeof got), "old") == 0, "got \"%s\"", got);

    AtomicFile *f = atomic_open(p, &e);
    CHECK(f != NULL, "%s", e.msg);
    CHECK(atomic_write(f, "new ", 4, &e) == 0 && atomic_printf(f, &e, "%d-%s", 42, "x") == 0,
          "%s", e.msg);
    CHECK(access(tmp, F_OK) == 0, "temporary %s should exist while writing", tmp);
    atomic_abort(f);
    CHECK(strcmp(slurp(p, got, sizeof got), "old") == 0, "abort changed the file: \"%s\"", got);
    CHECK(count_entries(dir) == 1, "abort left %d entries", count_entries(dir));
    atomic_abort(NULL);

    f = atomic_open(p, &e);
    CHECK(f && atomic_write(f, "new ", 4, &e) == 0 && atomic_printf(f, &e, "%d", 42) == 0, "%s",
          e.msg);
    CHECK(strcmp(slurp(p, got, sizeof got), "old") == 0, "visible before commit: \"%s\"", got);
    CHECK(atomic_commit(f, &e) == 0, "%s", e.msg);
    CHECK(strcmp(slurp(p, got, sizeof got), "new 42") == 0, "after commit: \"%s\"", got);
    CHECK(count_entries(dir) == 1, "commit left %d entries", count_entries(dir));

    /* A full disk, simulated with a file size limit: the write fails midway
     * and must leave the old file and no temporary. */
    struct rlimit old_lim, lim;
    getrlimit(RLIMIT_FSIZE, &old_lim);
    lim = old_lim;
    lim.rlim_cur = 4096;
    signal(SIGXFSZ, SIG_IGN);
    static char big[1 << 16];
    memset(big, 'z', sizeof big);
    if (setrlimit(RLIMIT_FSIZE, &lim) == 0) {
        int rc = write_file_atomic(p, big, sizeof big, &e);
        f = atomic_open(p, &e);
        int rc2 = f ? atomic_write(f, big, sizeof big, &e) : 0;
        Err e2 = {{0}};
        int rc3 = f ? atomic_printf(f, &e2, "more") : 0;
        int rc4 = f ? atomic_commit(f, &e2) : 0;
        setrlimit(RLIMIT_FSIZE, &old_lim);
        CHECK(rc == -1, "write past the size limit succeeded");
        CHECK(rc2 == -1 && strstr(e.msg, "result.json") && strstr(e.msg, "write failed"), "%s",
              e.msg);
        CHECK(rc3 == -1 && rc4 == -1 && strstr(e2.msg, "earlier write failed"), "%s", e2.msg);
        CHECK(strcmp(slurp(p, got, sizeof got), "new 42") == 0, "failed write changed file");
        CHECK(count_entries(dir) == 1, "failed write left %d entries", count_entries(dir));
    }
    signal(SIGXFSZ, SIG_DFL);

    /* a missing directory is made with its parents; one under a file is refused, naming it */
    snprintf(p, sizeof p, "%s/missing/deeper/x.json", dir);
    AtomicFile *made = atomic_open(p, &e);
    CHECK(made && atomic_printf(made, &e, "made") == 0 && atomic_commit(made, &e) == 0, "%s", e.msg);
    CHECK(strcmp(slurp(p, got, sizeof got), "made") == 0, "atomic_open did not make %s's directories", p);
    snprintf(p, sizeof p, "%s/result.json/x.json", dir);
    CHECK(atomic_open(p, &e) == NULL && strstr(e.msg, "result.json") && strstr(e.msg, "ot a directory"),
          "%s", e.msg);
}

static void test_mkdir_p(void)
{
    char p[600], q[700];
    Err e = {{0}};
    snprintf(p, sizeof p, "%s/runs//a/b/c/", dir);
    CHECK(mkdir_p(p, &e) == 0, "%s", e.msg);
    struct stat st;
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "%s not created", p);
    CHECK(mkdir_p(p, &e) == 0, "existing dir: %s", e.msg);
    snprintf(p, sizeof p, "%s/runs/file", dir);
    CHECK(write_file_atomic(p, "x", 1, &e) == 0, "%s", e.msg);
    snprintf(q, sizeof q, "%s/sub", p);
    CHECK(mkdir_p(p, &e) == -1 && strstr(e.msg, "not a directory"), "%s", e.msg);
    CHECK(mkdir_p(q, &e) == -1 && strstr(e.msg, "runs/file"), "%s", e.msg);
    CHECK(mkdir_p("", &e) == -1, "empty name accepted");
}

static void test_json_files(void)
{
    char p[600];
    Err e = {{0}};
    snprintf(p, sizeof p, "%s/bad.json", dir);
    const char *bad = "{\n  \"a\": 1,\n  \"b\": ]\n}\n";
    CHECK(write_file_atomic(p, bad, strlen(bad), &e) == 0, "%s", e.msg);
    CHECK(json_read_file(p, &e) == NULL && strstr(e.msg, "bad.json") &&
              strstr(e.msg, "line 3, column 8"), "%s", e.msg);
    CHECK(write_file_atomic(p, "{} {}", 5, &e) == 0 && json_read_file(p, &e) == NULL &&
              strstr(e.msg, "unexpected data") && strstr(e.msg, "column 4"), "%s", e.msg);
    CHECK(write_file_atomic(p, "", 0, &e) == 0 && json_read_file(p, &e) == NULL &&
              strstr(e.msg, "empty"), "%s", e.msg);
    snprintf(p, sizeof p, "%s/nope.json", dir);
    CHECK(json_read_file(p, &e) == NULL && strstr(e.msg, "nope.json: cannot open") &&
              strstr(e.msg, "No such file"), "%s", e.msg);
    snprintf(p, sizeof p, "%s/huge.json", dir);
    FILE *fp = fopen(p, "wb");
    int sparse = fp && ftruncate(fileno(fp), (65 << 20)) == 0;
    if (fp) fclose(fp);
    CHECK(sparse && json_read_file(p, &e) == NULL && strstr(e.msg, "64 MiB"), "%s", e.msg);
    unlink(p);

    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "hidden_size", 768);
    cJSON_AddStringToObject(root, "model_type", "mamba");
    cJSON_AddItemToObject(root, "ids", cJSON_CreateIntArray((const int[]){1, 2, 3}, 3));
    snprintf(p, sizeof p, "%s/out.json", dir);
    CHECK(json_write_file(p, root, &e) == 0, "%s", e.msg);
    char text[256];
    slurp(p, text, sizeof text);
    size_t n = strlen(text);
    CHECK(n > 2 && text[n - 1] == '\n' && text[n - 2] == '}', "no trailing newline: %s", text);
    cJSON *back = json_read_file(p, &e);
    CHECK(back && cJSON_Compare(root, back, 1), "round trip differs: %s", e.msg);
    cJSON_Delete(back);
    cJSON_Delete(root);

    /* Every proper prefix of a JSON text fails cleanly; exact-size copies let
     * ASan catch reads past the end. */
    const char *good = "{\"a\":[1,-2.5e3,{\"b\":\"c\\u00e9\\n\"}],\"d\":true,\"e\":null}";
    size_t len = strlen(good);
    int accepted = 0;
    for (size_t k = 0; k < len; k++) {
        char *cut = malloc(k ? k : 1);
        memcpy(cut, good, k);
        cJSON *v = json_parse_text(cut, k, "cut", &e);
        accepted += v != NULL;
        cJSON_Delete(v);
        free(cut);
    }
    CHECK(accepted == 0, "%d prefixes accepted", accepted);
    cJSON *v = json_parse_text(good, len, "good", &e);
    CHECK(v != NULL, "%s", e.msg);
    cJSON_Delete(v);
}

static void test_getters(void)
{
    const char *text = "{\"hidden_size\":\"abc\",\"n\":12,\"f\":1.5,\"big\":1e300,\"b\":true,"
                       "\"s\":\"hello\",\"nul\":null,\"whole\":4.0}";
    Err e = {{0}};
    cJSON *o = json_parse_text(text, strlen(text), "config.json", &e);
    CHECK(o != NULL, "%s", e.msg);
    long long i = -7;
    CHECK(json_get_int(o, "hidden_size", 1, 1, 100000, &i, "config.json", &e) == -1 &&
              strcmp(e.msg, "config.json: key \"hidden_size\" must be an integer (got \"abc\")") == 0,
          "%s", e.msg);
    CHECK(json_get_int(o, "n", 1, 1, 100, &i, "config.json", &e) == 0 && i == 12, "n = %lld", i);
    CHECK(json_get_int(o, "whole", 1, 1, 100, &i, "config.json", &e) == 0 && i == 4, "4.0");
    CHECK(json_get_int(o, "n", 1, 1, 10, &i, "config.json", &e) == -1 &&
              strstr(e.msg, "key \"n\" = 12 is out of range [1, 10]"), "%s", e.msg);
    CHECK(json_get_int(o, "f", 1, 0, 10, &i, "config.json", &e) == -1 &&
              strstr(e.msg, "must be an integer (got 1.5)"), "%s", e.msg);
    CHECK(json_get_int(o, "big", 1, 0, 10, &i, "config.json", &e) == -1 &&
              strstr(e.msg, "within +-2^53"), "%s", e.msg);
    CHECK(json_get_int(o, "zz", 1, 0, 10, &i, "config.json", &e) == -1 &&
              strcmp(e.msg, "config.json: missing required key \"zz\"") == 0, "%s", e.msg);
    i = -7;
    CHECK(json_get_int(o, "zz", 0, 0, 10, &i, "config.json", &e) == 0 && i == -7, "optional");
    CHECK(json_get_int(o, "nul", 0, 0, 10, &i, "config.json", &e) == 0 && i == -7, "null");

    double d = 0;
    CHECK(json_get_double(o, "f", 1, &d, "config.json", &e) == 0 && d == 1.5, "f = %g", d);
    CHECK(json_get_double(o, "s", 1, &d, "config.json", &e) == -1 &&
              strstr(e.msg, "key \"s\" must be a finite number (got \"hello\")"), "%s", e.msg);
    int b = 0;
    CHECK(json_get_bool(o, "b", 1, &b, "config.json", &e) == 0 && b == 1, "b");
    CHECK(json_get_bool(o, "n", 1, &b, "config.json", &e) == -1 &&
              strstr(e.msg, "key \"n\" must be true or false (got 12)"), "%s", e.msg);
    char s[8];
    CHECK(json_get_string(o, "s", 1, s, sizeof s, "config.json", &e) == 0 &&
              strcmp(s, "hello") == 0, "s");
    CHECK(json_get_string(o, "s", 1, s, 5, "config.json", &e) == -1 &&
              strstr(e.msg, "\"s\" is 5 bytes long, the limit is 4"), "%s", e.msg);
    CHECK(json_get_string(o, "b", 1, s, sizeof s, "config.json", &e) == -1 &&
              strstr(e.msg, "must be a string (got true)"), "%s", e.msg);
    CHECK(json_get_int(cJSON_GetObjectItem(o, "n"), "x", 1, 0, 1, &i, NULL, &e) == -1 &&
              strstr(e.msg, "json: expected a JSON object"), "%s", e.msg);
    cJSON_Delete(o);
}

static void test_int_array(void)
{
    Err e = {{0}};
    int *ids = (int *)&e;
    const char *t1 = "[1, 2, 50257, 3]";
    cJSON *a = json_parse_text(t1, strlen(t1), "tokens.json", &e);
    CHECK(json_read_int_array(a, 50257, 100, &ids, "tokens.json", &e) == -1 && ids == NULL &&
              strstr(e.msg, "tokens.json: element 2 = 50257 is out of range [0, 50257)"), "%s",
          e.msg);
    CHECK(json_read_int_array(a, 60000, 3, &ids, "tokens.json", &e) == -1 &&
              strstr(e.msg, "4 token ids, more than the limit of 3"), "%s", e.msg);
    CHECK(json_read_int_array(a, 60000, 4, &ids, "tokens.json", &e) == 4 && ids &&
              ids[0] == 1 && ids[2] == 50257 && ids[3] == 3, "good array");
    free(ids);
    cJSON_Delete(a);
    const char *t2 = "[0, -1]", *t3 = "[0, 7, 2.5]", *t4 = "[]", *t5 = "{\"a\":1}";
    a = json_parse_text(t2, strlen(t2), "t", &e);
    CHECK(json_read_int_array(a, 10, 10, &ids, "t", &e) == -1 &&
              strstr(e.msg, "element 1 = -1 is out of range"), "%s", e.msg);
    cJSON_Delete(a);
    a = json_parse_text(t3, strlen(t3), "t", &e);
    CHECK(json_read_int_array(a, 10, 10, &ids, "t", &e) == -1 &&
              strstr(e.msg, "element 2 must be an integer (got 2.5)"), "%s", e.msg);
    cJSON_Delete(a);
    a = json_parse_text(t4, strlen(t4), "t", &e);
    CHECK(json_read_int_array(a, 10, 10, &ids, "t", &e) == 0 && ids != NULL, "empty array");
    free(ids);
    cJSON_Delete(a);
    a = json_parse_text(t5, strlen(t5), "t", &e);
    CHECK(json_read_int_array(a, 10, 10, &ids, "t", &e) == -1 &&
              strstr(e.msg, "expected a JSON array"), "%s", e.msg);
    cJSON_Delete(a);
}

/* Hugging Face configs carry Python's bare Infinity (Mamba2Config's time_step_limit). */
static void test_python_infinity(void)
{
    Err e = {{0}};
    const char *text = "{\"time_step_limit\": [0.0, Infinity], \"low\": -Infinity, \"name\": \"Infinity\"}";
    cJSON *root = json_parse_text(text, strlen(text), "config.json", &e);
    CHECK(root != NULL, "Infinity rejected: %s", e.msg);
    if (root) {
        const cJSON *lim = cJSON_GetObjectItemCaseSensitive(root, "time_step_limit");
        CHECK(cJSON_GetArraySize(lim) == 2 && isinf(cJSON_GetArrayItem(lim, 1)->valuedouble) &&
                  cJSON_GetArrayItem(lim, 1)->valuedouble > 0, "Infinity not read as +inf");
        CHECK(isinf(cJSON_GetObjectItemCaseSensitive(root, "low")->valuedouble), "-Infinity not read as -inf");
        CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(root, "name")->valuestring, "Infinity"), "string rewritten");
        double d = 0;
        CHECK(json_get_double(root, "low", 1, &d, "config.json", &e) == -1, "an infinite double must not pass the getter");
        cJSON_Delete(root);
    }
    const char *bad = "{\"a\": Infinit}";
    CHECK(json_parse_text(bad, strlen(bad), "x.json", &e) == NULL, "a truncated Infinity accepted");
}

int main(void)
{
    make_tmpdir();
    test_python_infinity();
    test_atomic();
    test_mkdir_p();
    test_json_files();
    test_getters();
    test_int_array();
    remove_tree(dir);
    return check_summary();
}
