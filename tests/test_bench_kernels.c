/* `seqbench bench kernels` and `seqbench bench memory`, tiny runs (seconds):
 *   - the log-log slope fit on exact power laws;
 *   - kernels: every kernel and pass in the JSON with a finite slope, the
 *     machine block, an oom cell under --mem-limit instead of a crash, and
 *     bad options as one line, status 2, no file;
 *   - memory: the analytic state bytes against a hand computation (a 2-layer
 *     d_model 64 Transformer, a 4-layer Mamba, Jamba Table 1's 256K cache),
 *     a measured figure that sees the KV cache, and bad options.
 * Never a timing: only that the figures are there and finite. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"
#include "bench/kernels.h"
#include "core/jsonio.h"

static const char *bin, *src;
static char tmp[200];

/* Runs `seqbench bench ARGS`, stdout and stderr to files; the exit status. */
static int run(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s bench %s >%s/out.txt 2>%s/err.txt", bin, args, tmp, tmp);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *err_text(void)
{
    char p[256];
    snprintf(p, sizeof p, "%s/err.txt", tmp);
    FILE *f = fopen(p, "rb");
    static char buf[1 << 14];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    return buf;
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static cJSON *load(const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    Err e = {{0}};
    cJSON *j = json_read_file(p, &e);
    if (!j) fprintf(stderr, "%s\n", e.msg);
    return j;
}

/* Follows a path of object keys; NULL where one is missing. */
static const cJSON *at(const cJSON *o, const char *k1, const char *k2, const char *k3)
{
    const char *keys[] = {k1, k2, k3};
    for (int i = 0; i < 3 && o && keys[i]; i++) o = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
    return o;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void test_slope(void)
{
    double len[] = {64, 128, 256, 512}, sq[4], lin[4], flat[4];
    for (int i = 0; i < 4; i++) {
        sq[i] = 3e-9 * len[i] * len[i];
        lin[i] = 5e-7 * len[i];
        flat[i] = 0.25;
    }
    CHECK(fabs(bench_loglog_slope(len, sq, 4) - 2) < 1e-9, "c T^2 fits slope %g", bench_loglog_slope(len, sq, 4));
    CHECK(fabs(bench_loglog_slope(len, lin, 4) - 1) < 1e-9, "c T fits slope %g", bench_loglog_slope(len, lin, 4));
    CHECK(fabs(bench_loglog_slope(len, flat, 4)) < 1e-9, "a constant fits slope %g", bench_loglog_slope(len, flat, 4));
    CHECK(isnan(bench_loglog_slope(len, sq, 1)), "one point has no slope");
    double same[] = {128, 128};
    CHECK(isnan(bench_loglog_slope(same, sq, 2)), "one length twice has no slope");
}

static const char *KERNEL_NAMES[] = {"selective_scan", "mamba1", "mamba2", "rglru", "attention"};

static void test_kernels(void)
{
    char args[1024];
    snprintf(args, sizeof args, "kernels --lengths 64,128 --d-model 16 --d-state 4 --heads 2 --repeats 1 --threads 1 "
                                "--out %s/k.json", tmp);
    int st = run(args);
    CHECK(st == 0, "bench kernels exit %d: %s", st, err_text());
    cJSON *j = load("k.json");
    CHECK(j != NULL, "bench kernels wrote its JSON");
    if (!j) return;
    const cJSON *mach = at(j, "machine", NULL, NULL);
    CHECK(cJSON_IsString(at(mach, "cpu", NULL, NULL)) && cJSON_IsBool(at(mach, "avx2", NULL, NULL)) &&
              cJSON_IsString(at(mach, "openblas_core", NULL, NULL)) && num(mach, "threads") == 1,
          "the machine block: cpu, ISA flags, OpenBLAS core, threads");
    for (int k = 0; k < 5; k++)
        for (int p = 0; p < 2; p++) {
            const char *pass = p ? "forward_backward" : "forward";
            const cJSON *o = at(j, "metrics", "kernels", KERNEL_NAMES[k]);
            o = o ? at(o, pass, NULL, NULL) : NULL;
            CHECK(o != NULL, "kernel %s %s in the JSON", KERNEL_NAMES[k], pass);
            if (!o) continue;
            const cJSON *pts = at(o, "points", NULL, NULL);
            int ok = cJSON_GetArraySize(pts) == 2;
            for (int i = 0; ok && i < 2; i++) {
                const cJSON *pt = cJSON_GetArrayItem(pts, i);
                ok = !strcmp(cJSON_GetStringValue(at(pt, "status", NULL, NULL)), "ok") && num(pt, "seconds_best") > 0 &&
                     num(pt, "seconds_median") >= num(pt, "seconds_best") && num(pt, "length") == 64 * (i + 1);
            }
            CHECK(ok, "%s %s: two ok points, best <= median", KERNEL_NAMES[k], pass);
            CHECK(isfinite(num(o, "slope")) && isfinite(num(o, "slope_long_half")) && isfinite(num(o, "slope_median")),
                  "%s %s: slopes present and finite", KERNEL_NAMES[k], pass);
        }
    cJSON_Delete(j);

    /* attention's training memory at 2^20 tokens (linear in T, over 128 MiB) does not fit in 8 MiB */
    snprintf(args, sizeof args, "kernels --kernels attention --lengths 64,1048576 --d-model 16 --heads 2 --repeats 1 "
                                "--mem-limit 8M --out %s/oom.json", tmp);
    st = run(args);
    CHECK(st == 0, "an oom cell is recorded, not fatal: exit %d: %s", st, err_text());
    j = load("oom.json");
    const cJSON *fb = j ? at(j, "metrics", "kernels", "attention") : NULL;
    fb = fb ? at(fb, "forward_backward", NULL, NULL) : NULL;
    const cJSON *pts = fb ? at(fb, "points", NULL, NULL) : NULL;
    const cJSON *p0 = cJSON_GetArrayItem(pts, 0), *p1 = cJSON_GetArrayItem(pts, 1);
    CHECK(p0 && p1 && !strcmp(cJSON_GetStringValue(at(p0, "status", NULL, NULL)), "ok") &&
              !strcmp(cJSON_GetStringValue(at(p1, "status", NULL, NULL)), "oom") &&
              num(p1, "bytes_needed") > 128.0 * 1024 * 1024 && num(p1, "mem_limit") <= 8.0 * 1024 * 1024,
          "length 64 ran, length 2^20 is an oom cell with its bytes and the limit");
    CHECK(fb && cJSON_IsNull(at(fb, "slope", NULL, NULL)), "one length that ran: no slope (null, not a number)");
    cJSON_Delete(j);

    const char *bad[][2] = {
        {"kernels --kernels attention,flash", "\"flash\""},
        {"kernels --lengths 64,0", "--lengths"},
        {"kernels --d-model 10 --heads 4 --kernels attention", "--heads 4"},
        {"kernels --repeats 0", "--repeats"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char out[256];
        snprintf(out, sizeof out, "%s/bad.json", tmp);
        snprintf(args, sizeof args, "%s --out %s", bad[i][0], out);
        st = run(args);
        const char *err = err_text();
        CHECK(st == 2 && lines(err) == 1 && !strncmp(err, "seqbench: ", 10) && strstr(err, bad[i][1]) && !exists(out),
              "%s: status 2, one line naming %s, no file (got %d: %s)", bad[i][0], bad[i][1], st, err);
    }
}

/* The point of `points` at context ctx, or NULL. */
static const cJSON *point(const cJSON *model, int ctx)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, at(model, "points", NULL, NULL)) if (num(p, "context") == ctx) return p;
    return NULL;
}

static void test_memory(void)
{
    char args[1024];
    snprintf(args, sizeof args, "memory --archs transformer,mamba --contexts 64,128 --paper mamba-130m,jamba-v0.1 "
                                "--paper-contexts 262144 --paper-dir %s/configs/paper --out %s/m.json", src, tmp);
    int st = run(args);
    CHECK(st == 0, "bench memory exit %d: %s", st, err_text());
    cJSON *j = load("m.json");
    CHECK(j != NULL, "bench memory wrote its JSON");
    if (!j) return;
    CHECK(cJSON_IsString(at(j, "machine", "cpu", NULL)), "the machine block");
    /* Transformer, 2 x (*-), d_model 64: K and V of 64 floats per token per attention layer */
    const cJSON *t = point(at(j, "metrics", "models", "transformer"), 128);
    CHECK(t && num(t, "kv_cache_bytes") == 2 * 2 * 128 * 64 * 4.0 && num(t, "recurrent_state_bytes") == 0,
          "transformer at 128: KV = 2 layers x (K, V) x 128 x 64 x 4 B = 131072 (got %g)", t ? num(t, "kv_cache_bytes") : -1);
    /* its cache is written as the decode goes: at least most of it must show as resident growth */
    CHECK(t && num(t, "measured_bytes") >= 0.75 * num(t, "kv_cache_bytes"),
          "transformer at 128: measured %g bytes, KV %g", t ? num(t, "measured_bytes") : -1, t ? num(t, "kv_cache_bytes") : -1);
    /* Mamba, 4 x M, d_model 64, E 128, N 16, conv 4: (3 x 128 conv window + 16 x 128 SSM state) floats a layer */
    const cJSON *m64 = point(at(j, "metrics", "models", "mamba"), 64), *m128 = point(at(j, "metrics", "models", "mamba"), 128);
    CHECK(m64 && m128 && num(m128, "recurrent_state_bytes") == 4 * (3 * 128 + 16 * 128) * 4.0 &&
              num(m128, "kv_cache_bytes") == 0 && num(m64, "state_bytes") == num(m128, "state_bytes"),
          "mamba: 38912 bytes of state at any context (got %g)", m128 ? num(m128, "recurrent_state_bytes") : -1);
    /* Jamba Table 1: 4 attention layers x (K, V) x 8 kv heads x 128 x 256K tokens: 4 GiB at 16 bits */
    const cJSON *jb = point(at(j, "metrics", "paper", "jamba-v0.1"), 262144);
    CHECK(jb && num(jb, "kv_cache_bytes") == 4.0 * 2 * 8 * 128 * 262144 * 4 && num(jb, "recurrent_state_bytes") > 0,
          "jamba-v0.1 at 256K: 8 GiB of KV at fp32 (got %g)", jb ? num(jb, "kv_cache_bytes") : -1);
    const cJSON *mb = point(at(j, "metrics", "paper", "mamba-130m"), 262144);
    CHECK(mb && num(mb, "kv_cache_bytes") == 0 && num(mb, "state_bytes") > 0 &&
              !cJSON_HasObjectItem(at(j, "metrics", "paper", "mamba-130m"), "measured"),
          "mamba-130m: recurrent state only, analytic only (no measured array)");
    cJSON_Delete(j);

    /* --paper-measure on a tiny Llama written as a paper config: 2 layers, K and V of 32 floats a token */
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s/paper", tmp);
    snprintf(path, sizeof path, "%s/tiny-llama.json", dir);
    FILE *f = mkdir(dir, 0755) == 0 ? fopen(path, "w") : NULL;
    if (f) {
        fputs("{\"model_type\": \"llama\", \"vocab_size\": 64, \"hidden_size\": 32, \"intermediate_size\": 64, "
              "\"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"num_key_value_heads\": 2, "
              "\"hidden_act\": \"silu\", \"rms_norm_eps\": 1e-5, \"tie_word_embeddings\": true}\n", f);
        fclose(f);
    }
    snprintf(args, sizeof args, "memory --archs hawk --contexts 64 --paper tiny-llama --paper-dir %s "
                                "--paper-contexts 1024 --paper-measure 64,128 --out %s/pm.json", dir, tmp);
    st = run(args);
    CHECK(st == 0, "bench memory --paper-measure exit %d: %s", st, err_text());
    j = load("pm.json");
    const cJSON *meas = j ? at(j, "metrics", "paper", "tiny-llama") : NULL;
    meas = meas ? at(meas, "measured", NULL, NULL) : NULL;
    const cJSON *p128 = cJSON_GetArrayItem(meas, 1);
    CHECK(p128 && num(p128, "context") == 128 && num(p128, "state_bytes") == 2 * 2 * 128 * 32 * 4.0 &&
              num(p128, "measured_bytes") >= 0.75 * num(p128, "state_bytes"),
          "tiny-llama measured at 128: %g bytes for a 65536-byte KV cache", p128 ? num(p128, "measured_bytes") : -1);
    cJSON_Delete(j);

    const char *bad[][2] = {
        {"memory --archs transformer,lstm", "lstm"},
        {"memory --contexts 128,64", "--contexts"},
        {"memory --paper nosuch-7b", "nosuch-7b"},
        {"memory --paper-measure 256,64", "--paper-measure"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char out[256];
        snprintf(out, sizeof out, "%s/bad.json", tmp);
        snprintf(args, sizeof args, "%s --paper-dir %s/configs/paper --out %s", bad[i][0], src, out);
        st = run(args);
        const char *err = err_text();
        CHECK(st == 2 && lines(err) == 1 && !strncmp(err, "seqbench: ", 10) && strstr(err, bad[i][1]) && !exists(out),
              "%s: status 2, one line naming %s, no file (got %d: %s)", bad[i][0], bad[i][1], st, err);
    }
}

int main(void)
{
    if (!check_cli_env(&bin, &src)) return 1;
    if (!check_tmpdir(tmp, sizeof tmp, "seq_bench_kernels")) return 1;
    test_slope();
    test_kernels();
    test_memory();
    check_rmtree(tmp);
    return check_summary();
}
