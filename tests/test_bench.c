/* The benchmark suite through the binary (issue 17): a tiny run of every
 * `seqbench bench` instrument, each writing JSON with the machine
 * description, the roofline and, beside every figure, its bound and the
 * fraction achieved; the plain `bench` keeps the field names the Python
 * peers read; bad options fail in one line before any work.
 *
 * No timing is asserted. The fractions are checked in (0, 1.5] against a
 * roofline file of enormous figures (so any machine, however loaded, lands
 * inside), and the bound against its formula; one run measures its own
 * roofline and is checked for positive, finite figures only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"
#include "core/jsonio.h"

static const char *bin;
static char tmp[200], fake[256];

static int run(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s >%s/out.txt 2>%s/err.txt", bin, args, tmp, tmp);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    FILE *f = fopen(p, "rb");
    static char buf[1 << 16];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    return buf;
}

static cJSON *load(const char *name)
{
    char p[256];
    Err e;
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    cJSON *j = json_read_file(p, &e);
    CHECK(j != NULL, "%s: %s", name, e.msg);
    return j;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void check_machine_roofline(const char *what, const cJSON *res)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(res, "machine");
    CHECK(cJSON_IsObject(m), "%s: no machine", what);
    static const char *strs[] = {"cpu", "openblas_core", "openblas_version", "blas_threading", "vector_kernels"};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, strs[i])), "%s: machine.%s", what, strs[i]);
    CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(m, "avx2")) &&
              cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(m, "avx512f")),
          "%s: machine ISA flags", what);
    CHECK(num(m, "cores") >= 1 && num(m, "threads") >= 1 && num(m, "memory_bytes") > 0, "%s: machine counts", what);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(res, "roofline");
    CHECK(num(r, "sgemm_gflops") > 0 && num(r, "bandwidth_gbs") > 0, "%s: roofline figures %g %g", what,
          num(r, "sgemm_gflops"), num(r, "bandwidth_gbs"));
    /* the compute bound is the larger of seqbench's FMA peak (0 only on a CPU without FMA) and the sgemm;
     * a --roofline file from before the FMA peak has only the sgemm */
    double fma = num(r, "fma_gflops"), compute = num(r, "compute_gflops");
    CHECK(fma >= 0 && compute == fmax(fma, num(r, "sgemm_gflops")), "%s: compute_gflops %g is not max(fma %g, sgemm %g)",
          what, compute, fma, num(r, "sgemm_gflops"));
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "openblas_coretype_env")) &&
          cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(m, "openblas_held_back")),
          "%s: machine lacks openblas_coretype_env / openblas_held_back", what);
}

/* A figure's bound fields: present, the fraction achieved / bound, in (0, 1.5]. */
static void check_bound(const char *what, const cJSON *o, int decode)
{
    double bound = num(o, "roofline_bound_tokens_per_s"), frac = num(o, "roofline_fraction");
    double got = num(o, "tokens_per_s_median");
    CHECK(bound > 0 && isfinite(bound), "%s: bound %g", what, bound);
    CHECK(frac > 0 && frac <= 1.5, "%s: fraction %g not in (0, 1.5]", what, frac);
    CHECK(fabs(frac - got / bound) <= 1e-9 * (frac + 1), "%s: fraction %g != %g / %g", what, frac, got, bound);
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "roofline_bound");
    CHECK(cJSON_IsString(kind), "%s: roofline_bound", what);
    if (!decode) return;
    /* memory bound = batch x bandwidth / bytes per step; the bound is the lower one */
    double mem = num(o, "memory_bound_tokens_per_s"), cmp = num(o, "compute_bound_tokens_per_s");
    double want = num(o, "batch") * num(o, "bound_bandwidth_gbs") * 1e9 / num(o, "bytes_per_step");
    CHECK(fabs(mem - want) <= 1e-9 * want, "%s: memory bound %g, want %g", what, mem, want);
    CHECK(bound == fmin(mem, cmp), "%s: bound %g is not min(%g, %g)", what, bound, mem, cmp);
}

static void check_models(const char *what, const cJSON *res, int n_models, int n_points, int decode)
{
    check_machine_roofline(what, res);
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(res, "models");
    CHECK(cJSON_GetArraySize(models) == n_models, "%s: %d models", what, cJSON_GetArraySize(models));
    const cJSON *m;
    cJSON_ArrayForEach(m, models) {
        const cJSON *pts = cJSON_GetObjectItemCaseSensitive(m, "points"), *p;
        CHECK(cJSON_GetArraySize(pts) == n_points, "%s: %d points", what, cJSON_GetArraySize(pts));
        CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(m, "model")), "%s: model description", what);
        cJSON_ArrayForEach(p, pts) check_bound(what, p, decode);
    }
}

/* One line "seqbench: ..." naming `kw`, status 2, nothing written. */
static void expect_fail(const char *what, const char *args, const char *kw)
{
    char path[256];
    snprintf(path, sizeof path, "%s/never.json", tmp);
    remove(path);
    int st = run(args);
    const char *err = slurp("err.txt");
    int lines = 0;
    for (const char *c = err; *c; c++) lines += *c == '\n';
    CHECK(st == 2, "%s: status %d", what, st);
    CHECK(lines == 1 && !strncmp(err, "seqbench: ", 10) && strstr(err, kw), "%s: stderr [%s]", what, err);
    struct stat sb;
    CHECK(stat(path, &sb) != 0, "%s: wrote a result", what);
}

/* bench cells (issue 30, item 5): a fixture spec of two tiny training cells, timed against a stand-in for another
 * build (a shell script that answers `train --help` without --lr and writes a result of 7 ms a step): each cell's
 * ms/step, the steps its results say it ran (else its cap), the totals and their ratio by their arithmetic, the
 * option the other build lacks named; a --vs that is not a program refused in one line. */
static void check_cells(void)
{
    char dir[300], path[400], args[2048];
    snprintf(dir, sizeof dir, "%s/specs", tmp);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/tiny.json", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"name\": \"tiny\", \"command\": \"train\", \"base\": {\"task\": \"copy\", \"max-len\": 4, "
               "\"layers\": 1, \"d-model\": 8, \"heads\": 1, \"batch\": 2, \"lr\": 0.01, \"steps\": 50},"
               " \"profiles\": {\"quick\": {\"seeds\": [1, 2]}}, \"seeds\": [1],"
               " \"cells\": [{\"name\": \"a\"}, {\"name\": \"b\", \"arch\": \"hawk\", \"steps\": 80}]}\n");
    fclose(f);
    /* cell a ran 30 and 40 steps in its two seeds; b has no results, so its cap of 80 counts */
    snprintf(path, sizeof path, "%s/res/tiny", tmp);
    char mk[600];
    snprintf(mk, sizeof mk, "mkdir -p %s", path);
    CHECK(system(mk) == 0, "mkdir");
    for (int k = 1; k <= 2; k++) {
        char rp[500];
        snprintf(rp, sizeof rp, "%s/a.seed%d.json", path, k);
        FILE *r = fopen(rp, "w");
        fprintf(r, "{\"metrics\": {\"steps\": %d}}\n", 20 + 10 * k);
        fclose(r);
    }
    char other[300];
    snprintf(other, sizeof other, "%s/other-build", tmp);
    f = fopen(other, "w");
    fprintf(f, "#!/bin/sh\n"
               "[ \"$2\" = --help ] && { printf '  --task x\\n  --max-len x\\n  --layers x\\n  --d-model x\\n  --heads x\\n"
               "  --batch x\\n  --steps x\\n  --arch x\\n  --seed x\\n  --threads x\\n  --stop-acc x\\n"
               "  --eval-lengths x\\n  --eval-seqs x\\n  --eval-depths x\\n  --out x\\n'; exit 0; }\n"
               /* an older build: no --lr here, and none of the timing's --val-seqs, --len-warmup */
               "for a; do case $a in --lr|--val-seqs|--len-warmup) echo $a given >&2; exit 3;; esac; done\n"
               /* and it cannot train cell b at all (as 13d1749 fails on a preset key it predates) */
               "for a; do case $a in hawk) echo 'seqbench: no hawk here' >&2; exit 2;; esac; done\n"
               "while [ $# -gt 1 ]; do [ \"$1\" = --out ] && out=$2; shift; done\n"
               "echo '{\"metrics\": {\"ms_per_step\": 7}}' > \"$out\"\n");
    fclose(f);
    chmod(other, 0755);
    snprintf(args, sizeof args, "bench cells --experiments %s --results %s/res --steps 2 --repeats 2 --vs %s "
             "--roofline %s --out %s/cells.json", dir, tmp, other, fake, tmp);
    CHECK(run(args) == 0, "bench cells: %s", slurp("err.txt"));
    cJSON *res = load("cells.json");
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(res, "cells");
    const cJSON *a = cJSON_GetArrayItem(cells, 0), *b = cJSON_GetArrayItem(cells, 1);
    CHECK(cJSON_GetArraySize(cells) == 2 && num(a, "steps") == 35 && num(b, "steps") == 80 &&
              num(a, "tokens_per_step") == 2 * 9 && num(a, "length") == 4,
          "bench cells: a runs 35 steps a seed (its results), b 80 (its cap); 2 x 9 tokens a step");
    double total = 0;
    for (int i = 0; i < 2; i++) {
        const cJSON *c = cJSON_GetArrayItem(cells, i);
        CHECK(num(c, "ms_per_step") > 0 && (i ? isnan(num(c, "ms_per_step_vs")) : num(c, "ms_per_step_vs") == 7) &&
                  cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "ms_per_step_runs")) == 2 &&
                  fabs(num(c, "seconds") - num(c, "steps") * num(c, "ms_per_step") / 1e3) < 1e-9,
              "bench cells: cell %d: its ms/step, the other build's 7 (none for b), seconds = steps x ms/step", i);
        total += num(c, "seconds");
        if (i) { /* b: the other build's failure named, and b left out of the comparison */
            const cJSON *why = cJSON_GetObjectItemCaseSensitive(c, "vs_failed");
            CHECK(cJSON_IsString(why) && strstr(why->valuestring, "status 2: seqbench: no hawk here"),
                  "bench cells: cell b's vs_failed: %s", cJSON_IsString(why) ? why->valuestring : "missing");
            continue;
        }
        const cJSON *lacks = cJSON_GetObjectItemCaseSensitive(c, "options_vs_lacks");
        CHECK(cJSON_IsString(lacks) && !strcmp(lacks->valuestring, "--lr --val-seqs --len-warmup --len-hold"),
              "bench cells: the other build lacks --lr, --val-seqs, --len-warmup and --len-hold (options_vs_lacks: %s)",
              cJSON_IsString(lacks) ? lacks->valuestring : "none");
    }
    double a_seconds = num(cJSON_GetArrayItem(cells, 0), "seconds");
    CHECK(fabs(num(res, "total_seconds") - total) < 1e-9 && num(res, "total_seconds_vs") == 35 * 7 / 1e3 &&
              num(res, "cells_vs_failed") == 1 && fabs(num(res, "total_seconds_both_ran") - a_seconds) < 1e-9 &&
              fabs(num(res, "ratio") - a_seconds / num(res, "total_seconds_vs")) < 1e-12,
          "bench cells: totals %g and %g, ratio %g", num(res, "total_seconds"), num(res, "total_seconds_vs"),
          num(res, "ratio"));
    cJSON_Delete(res);
    snprintf(args, sizeof args, "bench cells --experiments %s --vs %s/nothing-here --out %s/never.json", dir, tmp, tmp);
    expect_fail("bench cells --vs missing", args, "--vs");
}

int main(void)
{
    bin = getenv("SEQ_BINARY");
    if (!bin || !*bin) bin = "build/seqbench";
    if (!check_tmpdir(tmp, sizeof tmp, "seqbench_bench")) return 1;
    char args[2048];

    /* the roofline, small: a 256 sgemm and 8 MiB arrays */
    snprintf(args, sizeof args, "bench roofline --gemm-n 256 --array-mib 8 --passes 2 --out %s/rf.json", tmp);
    CHECK(run(args) == 0, "bench roofline: %s", slurp("err.txt"));
    CHECK(strstr(slurp("out.txt"), "sgemm GFLOP/s") != NULL, "bench roofline: table");
    cJSON *rf = load("rf.json");
    check_machine_roofline("bench roofline", rf);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(rf, "roofline");
    CHECK(num(r, "triad_gbs") > 0 && num(r, "read_gbs") > 0 && num(r, "llc_read_gbs") > 0 && num(r, "sgemm_n") == 256,
          "bench roofline: triad %g read %g llc %g", num(r, "triad_gbs"), num(r, "read_gbs"), num(r, "llc_read_gbs"));
    cJSON_Delete(rf);

    /* a roofline no machine reaches: every fraction lands in (0, 1.5] whatever the load */
    snprintf(fake, sizeof fake, "%s/fake_rf.json", tmp);
    FILE *f = fopen(fake, "w");
    fprintf(f, "{\"roofline\": {\"threads\": 2, \"sgemm_gflops\": 1e7, \"bandwidth_gbs\": 1e6, \"triad_gbs\": 1e6, "
               "\"read_gbs\": 1e6, \"llc_read_gbs\": 1e7, \"llc_bytes\": 33554432}}\n");
    fclose(f);

    /* plain bench: today's field names, plus the bounds */
    snprintf(args, sizeof args,
             "bench --d-model 16 --heads 2 --vocab 32 --lengths 8 --train-batch 2 --train-len 8 --batches 1,2 "
             "--contexts 4 --decode-steps 3 --repeats 1 --roofline %s --out %s/model.json", fake, tmp);
    CHECK(run(args) == 0, "bench: %s", slurp("err.txt"));
    cJSON *res = load("model.json");
    check_machine_roofline("bench", res);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(res, "metrics"), *x;
    static const char *pass_fields[] = {"batch", "length", "repeats", "seconds_median", "seconds_min",
                                        "tokens_per_s_median", "tokens_per_s_best", "flops_per_token",
                                        "gflops_per_s_median", "activation_bytes"};
    static const char *decode_fields[] = {"batch", "context", "steps", "repeats", "seconds_median", "seconds_min",
                                          "tokens_per_s_median", "tokens_per_s_best", "latency_s_median",
                                          "latency_s_p90", "state_bytes", "flops_per_token", "gflops_per_s_median"};
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(mt, "prefill")) {
        for (size_t i = 0; i < sizeof pass_fields / sizeof *pass_fields; i++)
            CHECK(!isnan(num(x, pass_fields[i])), "bench prefill: no %s", pass_fields[i]);
        check_bound("bench prefill", x, 0);
    }
    x = cJSON_GetObjectItemCaseSensitive(mt, "train_step");
    for (size_t i = 0; i < sizeof pass_fields / sizeof *pass_fields; i++)
        CHECK(!isnan(num(x, pass_fields[i])), "bench train_step: no %s", pass_fields[i]);
    check_bound("bench train_step", x, 0);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(mt, "decode")) == 2, "bench: 2 decode entries");
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(mt, "decode")) {
        for (size_t i = 0; i < sizeof decode_fields / sizeof *decode_fields; i++)
            CHECK(!isnan(num(x, decode_fields[i])), "bench decode: no %s", decode_fields[i]);
        check_bound("bench decode", x, 1);
    }
    CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(mt, "memory")), "bench: memory");
    cJSON_Delete(res);

    /* OpenMP waits: passive unless the caller chose (core/threads.h); the result says which was in force */
    static const struct { const char *env, *policy; } waits[] = {
        {"env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT", "PASSIVE"}, {"env OMP_WAIT_POLICY=active", "active"}};
    for (size_t i = 0; i < sizeof waits / sizeof *waits; i++) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd,
                 "%s %s bench --d-model 16 --heads 2 --vocab 32 --lengths 8 --train-batch 2 --train-len 8 "
                 "--batches 1 --contexts 4 --decode-steps 3 --repeats 1 --roofline %s --out %s/wait.json "
                 ">%s/out.txt 2>%s/err.txt", waits[i].env, bin, fake, tmp, tmp, tmp);
        CHECK(system(cmd) == 0, "bench under %s: %s", waits[i].env, slurp("err.txt"));
        res = load("wait.json");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "machine"),
                                                          "omp_wait_policy");
        CHECK(cJSON_IsString(w) && !strcmp(w->valuestring, waits[i].policy), "bench under %s: omp_wait_policy %s",
              waits[i].env, cJSON_IsString(w) ? w->valuestring : "(none)");
        cJSON_Delete(res);
    }

    /* SEQBENCH_CPU=avx2 holds the AVX-512 copies back (core/cpu.h), and the result says so; a bad value is one
     * line and status 2 before any work */
    {
        char cmd[2048];
        snprintf(cmd, sizeof cmd,
                 "env SEQBENCH_CPU=avx2 %s bench --d-model 16 --heads 2 --vocab 32 --lengths 8 --train-batch 2 "
                 "--train-len 8 --batches 1 --contexts 4 --decode-steps 3 --repeats 1 --roofline %s --out %s/isa.json "
                 ">%s/out.txt 2>%s/err.txt", bin, fake, tmp, tmp, tmp);
        CHECK(system(cmd) == 0, "bench under SEQBENCH_CPU=avx2: %s", slurp("err.txt"));
        res = load("isa.json");
        const cJSON *vk = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "machine"),
                                                           "vector_kernels");
        CHECK(cJSON_IsString(vk) && strcmp(vk->valuestring, "avx512") != 0, "SEQBENCH_CPU=avx2: vector_kernels %s",
              cJSON_IsString(vk) ? vk->valuestring : "(none)");
        cJSON_Delete(res);
        snprintf(cmd, sizeof cmd, "env SEQBENCH_CPU=avx3 %s bench --out %s/bad.json >%s/out.txt 2>%s/err.txt", bin,
                 tmp, tmp, tmp);
        int st = system(cmd);
        const char *err = slurp("err.txt");
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2 && strstr(err, "SEQBENCH_CPU") && strchr(err, '\n') ==
                  err + strlen(err) - 1, "SEQBENCH_CPU=avx3: status %d, \"%s\"", st, err);
    }

    /* the instruments, each on tiny models */
    snprintf(args, sizeof args,
             "bench decode --archs mamba,transformer,mamba2 --d-model 16 --heads 2 --vocab 32 --batches 1,2 "
             "--context 4 --contexts 0,9 --steps 2 --repeats 1 --roofline %s --out %s/decode.json", fake, tmp);
    CHECK(run(args) == 0, "bench decode: %s", slurp("err.txt"));
    CHECK(strstr(slurp("out.txt"), "fraction") != NULL, "bench decode: table");
    res = load("decode.json");
    check_models("bench decode", res, 3, 4, 1);
    cJSON_Delete(res);
    /* Each timed run restarts from a saved state that leaves out the global KV caches
     * (append-only); a local-attention ring that wraps within the steps must be saved, or a
     * later run's logits differ from the first's and decode stops (local attention first, so its
     * output at every step reaches the last logits; recurrent states restored too). */
    snprintf(args, sizeof args,
             "bench decode --arch griffin --pattern L-R-*- --window 4 --d-model 16 --heads 2 --vocab 32 "
             "--batches 1,2 --context 4 --contexts 9 --steps 2 --repeats 2 --roofline %s --out %s/rewind.json",
             fake, tmp);
    CHECK(run(args) == 0, "bench decode, a wrapping local-attention ring: %s", slurp("err.txt"));

    snprintf(args, sizeof args,
             "bench latency --archs hawk,griffin,jamba --d-model 16 --heads 2 --vocab 32 --batch 2 --prefills 0,7 "
             "--steps 2 --repeats 1 --roofline %s --out %s/latency.json", fake, tmp);
    CHECK(run(args) == 0, "bench latency: %s", slurp("err.txt"));
    res = load("latency.json");
    check_models("bench latency", res, 3, 2, 1);
    cJSON_Delete(res);

    snprintf(args, sizeof args,
             "bench throughput --arch transformer-local --d-model 16 --heads 2 --vocab 32 --batch 2 --lengths 3,8 "
             "--roofline %s --out %s/throughput.json", fake, tmp);
    CHECK(run(args) == 0, "bench throughput: %s", slurp("err.txt"));
    res = load("throughput.json");
    check_models("bench throughput", res, 1, 2, 1);
    cJSON_Delete(res);

    snprintf(args, sizeof args,
             "bench prefill --archs mamba-lti,mamba2-hybrid --d-model 16 --heads 2 --vocab 32 --lengths 4,16 "
             "--repeats 1 --roofline %s --out %s/prefill.json", fake, tmp);
    CHECK(run(args) == 0, "bench prefill: %s", slurp("err.txt"));
    res = load("prefill.json");
    check_models("bench prefill", res, 2, 2, 0);
    cJSON_Delete(res);

    /* a roofline measured in the same run: figures positive and finite (no bound on a timing) */
    snprintf(args, sizeof args,
             "bench prefill --pattern M- --d-model 16 --heads 2 --vocab 32 --lengths 4 --repeats 1 --out %s/own.json",
             tmp);
    CHECK(run(args) == 0, "bench prefill, own roofline: %s", slurp("err.txt"));
    res = load("own.json");
    r = cJSON_GetObjectItemCaseSensitive(res, "roofline");
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, "source")) &&
              !strcmp(cJSON_GetObjectItemCaseSensitive(r, "source")->valuestring, "measured"),
          "own roofline: source");
    x = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "models"), 0), "points"), 0);
    CHECK(num(x, "roofline_fraction") > 0 && isfinite(num(x, "roofline_fraction")), "own roofline: fraction %g",
          num(x, "roofline_fraction"));
    cJSON_Delete(res);

    CHECK(run("bench help") == 0 && strstr(slurp("out.txt"), "roofline") && strstr(slurp("out.txt"), "throughput"),
          "bench help lists the subcommands");

    /* bad options: one line, status 2, before any work */
    char never[256];
    snprintf(never, sizeof never, "--out %s/never.json", tmp);
    snprintf(args, sizeof args, "bench nosuch %s", never);
    expect_fail("unknown subcommand", args, "unknown subcommand \"nosuch\"");
    snprintf(args, sizeof args, "bench decode --batches 1,0 %s", never);
    expect_fail("batch 0", args, "--batches");
    snprintf(args, sizeof args, "bench decode --arch mamba --roofline %s/missing.json %s", tmp, never);
    expect_fail("missing roofline file", args, "missing.json");
    snprintf(args, sizeof args, "bench latency --archs mamba,nosuch %s", never);
    expect_fail("unknown architecture", args, "nosuch");
    snprintf(args, sizeof args, "bench prefill --paper nosuch %s", never);
    expect_fail("unknown paper config", args, "--paper nosuch");
    snprintf(args, sizeof args, "bench decode --arch mamba --archs hawk %s", never);
    expect_fail("--arch with --archs", args, "--archs");
    snprintf(args, sizeof args, "bench latency --arch transformer --batch 60000 --prefills 4000000 --roofline %s %s",
             fake, never);
    expect_fail("a KV cache larger than memory", args, "decode batch 60000");
    snprintf(args, sizeof args, "bench roofline --gemm-n 10 %s", never);
    expect_fail("roofline gemm too small", args, "--gemm-n");

    check_cells();
    check_rmtree(tmp);
    return check_summary();
}
