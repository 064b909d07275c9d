/* Evaluation (issue 16): the inference arena gives the training arena's
 * logits for every sublayer kind in much less memory; the decode-path eval
 * scores the same as the parallel one; long lengths of recurrent models go
 * the decode path; a length beyond --mem-limit is an OOM cell of a run that
 * still succeeds; the needle grid is a depth x length matrix. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "check.h"
#include "rel_err.h"
#include "core/jsonio.h"
#include "core/mem.h"
#include "core/rng.h"
#include "models/hf.h"
#include "models/layers/selective_scan.h"
#include "models/model.h"
#include "tasks/eval.h"
#include "tasks/train.h"

static ModelCfg small_cfg(const char *pattern, MambaVariant mamba, int vocab)
{
    ModelCfg c;
    cfg_defaults(&c);
    c.vocab_size = vocab;
    c.d_model = 32;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.head_dim = 8;
    c.d_ff = 48;
    c.window = 5;
    c.d_state = 6;
    c.dt_rank = 3;
    c.ssm_head_dim = 8;
    c.n_groups = 2;
    c.mamba = mamba;
    strcpy(c.pattern, pattern);
    return c;
}

/* weights far from the 0.02 init, so attention is not uniform and argmaxes are clear */
static int make_model(Model *m, const ModelCfg *c, const char *name)
{
    Err e;
    if (model_create(m, c, &e)) { CHECK(0, "%s: %s", name, e.msg); return -1; }
    model_init_weights(m, 5);
    Rng r = rng_fork(6, 0);
    for (size_t i = 0; i < m->n_params; i++) m->params[i] += (real)(0.3 * rng_normal(&r));
    return 0;
}

static void inference_matches_training(void)
{
    struct { const char *name, *pattern; MambaVariant mamba; } cases[] = {
        {"attention", "**", MAMBA1}, {"local attention", "L-", MAMBA1}, {"mlp", "--", MAMBA1},
        {"mamba1", "MM", MAMBA1},    {"mamba lti", "MM", MAMBA_LTI},    {"mamba2", "MM", MAMBA2},
        {"rg-lru", "R-", MAMBA1},    {"moe + attention", "E*E", MAMBA1},
    };
    int B = 3, T = 21;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ModelCfg c = small_cfg(cases[i].pattern, cases[i].mamba, 23);
        Model m;
        Err e;
        if (make_model(&m, &c, cases[i].name)) continue;
        int *tok = malloc(sizeof(int) * B * T);
        Rng r = rng_fork(7, 1);
        for (int k = 0; k < B * T; k++) tok[k] = (int)rng_below(&r, 23);
        size_t n = (size_t)B * T * c.vocab_size;
        real *want = malloc(sizeof(real) * n);
        CHECK(model_reserve(&m, B, T, &e) == 0, "%s: %s", cases[i].name, e.msg);
        model_forward(&m, tok, B, T);
        memcpy(want, m.logits, sizeof(real) * n);
        CHECK(model_reserve_inference(&m, B, T, &e) == 0, "%s: %s", cases[i].name, e.msg);
        CHECK(m.inference, "%s: the arena is an inference one", cases[i].name);
        model_forward(&m, tok, B, T);
        double err = rel_err(m.logits, want, n);
        CHECK(err <= 1e-6, "%s: inference logits differ from training ones by %.3e", cases[i].name, err);
        /* a shorter batch in the same arena, then back to training; 1e-5: a
         * batch of other size runs other gemm shapes (MoE: per-expert row counts) */
        model_forward(&m, tok, 1, T);
        err = rel_err(m.logits, want, (size_t)T * c.vocab_size);
        CHECK(err <= 1e-5, "%s: batch 1 in a batch-3 arena: rel err %.3e", cases[i].name, err);
        CHECK(model_reserve(&m, B, T, &e) == 0 && !m.inference, "%s: back to a training arena", cases[i].name);
        size_t tr = model_act_bytes(&c, B, T), inf = model_infer_act_bytes(&c, B, T);
        CHECK(inf < tr, "%s: inference arena %zu bytes, training %zu", cases[i].name, inf, tr);
        free(want);
        free(tok);
        model_free(&m);
    }
}

/* The 130M Mamba's batch-1 prefill of 512 tokens: 944 MiB with the
 * training arena (1.98 GiB when it kept every token's SSM state of 24
 * layers; now one every SCAN_CHUNK tokens), a small fraction of it for
 * inference (logits [512, 50280] are most of what is left). */
static void mamba130m_arena(void)
{
    const char *src = getenv("SEQ_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/paper/mamba-130m.json", src ? src : ".");
    Err e;
    cJSON *j = json_read_file(path, &e);
    ModelCfg c;
    if (!j || hf_config_from_json(j, &c, path, &e)) {
        CHECK(0, "%s", e.msg);
        cJSON_Delete(j);
        return;
    }
    double tr = (double)model_act_bytes(&c, 1, 512), inf = (double)model_infer_act_bytes(&c, 1, 512);
    CHECK(tr > 900.0 * (1 << 20) && inf < 200.0 * (1 << 20), "mamba-130m prefill 512: training arena %.0f MiB, "
          "inference %.0f MiB (want < 200)", tr / (1 << 20), inf / (1 << 20));
    cJSON_Delete(j);
}

/* The same held-out instances through both paths: identical argmaxes except
 * where two logits tie within float noise, and the same loss. */
static void decode_matches_parallel(void)
{
    struct { const char *name, *pattern, *task; MambaVariant mamba; int n; } cases[] = {
        {"mamba copy", "MM", "copy", MAMBA1, 12},           {"mamba induction", "MM", "induction", MAMBA1, 40},
        {"transformer copy", "*-", "copy", MAMBA1, 12},     {"griffin mqar", "R-L-", "mqar", MAMBA1, 32},
        {"mamba2 needle", "M-", "needle", MAMBA2, 30},      {"lti selective_copy", "MM", "selective_copy", MAMBA_LTI, 24},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const Task *t = task_find(cases[i].task);
        TaskCfg tc = {0};
        tc.alphabet = 8;
        tc.power_a = 0.01;
        tc.depth = 0.5;
        tc.vocab = 24;
        tc.n_pairs = 4;
        tc.n_data = 4;
        tc.key_len = 2;
        tc.value_len = 2;
        task_defaults(t, &tc);
        ModelCfg c = small_cfg(cases[i].pattern, cases[i].mamba, t->vocab_size(&tc));
        Model m;
        Err e;
        if (make_model(&m, &c, cases[i].name)) continue;
        EvalOpts par = {37, 8, 3, EVAL_PARALLEL, 0, 0}, dec = par; /* 37: a partial last batch */
        dec.path = EVAL_DECODE;
        EvalResult a, b;
        CHECK(eval_run(&m, t, &tc, cases[i].n, &par, &a, &e) == 0, "%s: %s", cases[i].name, e.msg);
        CHECK(eval_run(&m, t, &tc, cases[i].n, &dec, &b, &e) == 0, "%s: %s", cases[i].name, e.msg);
        CHECK(!a.oom && !b.oom && a.path == EVAL_PARALLEL && b.path == EVAL_DECODE, "%s: paths %s, %s",
              cases[i].name, eval_path_name(a.path), eval_path_name(b.path));
        CHECK(fabs(a.loss - b.loss) <= 1e-4 * fmax(1, a.loss), "%s: loss parallel %.7f, decode %.7f", cases[i].name,
              a.loss, b.loss);
        CHECK(fabs(a.token_acc - b.token_acc) <= 0.01 && fabs(a.string_acc - b.string_acc) <= 1.0 / 37,
              "%s: accuracy parallel %.4f/%.4f, decode %.4f/%.4f", cases[i].name, a.token_acc, a.string_acc,
              b.token_acc, b.string_acc);
        CHECK(a.loss > 0 && a.sequences == 37, "%s: loss %g over %d sequences", cases[i].name, a.loss, a.sequences);
        model_free(&m);
    }
}

/* Which path eval_plan picks, and OOM when none fits. */
static void plans(void)
{
    ModelCfg rec = small_cfg("MM", MAMBA1, 16), att = small_cfg("*-", MAMBA1, 16);
    EvalOpts o = {64, 32, 1, EVAL_AUTO, 0, 0};
    EvalResult r;
    eval_plan(&rec, 1 << 20, &o, &r);
    CHECK(!r.oom && r.path == EVAL_DECODE && r.batch >= 1, "recurrent at 2^20: decode (got %s, oom %d)",
          eval_path_name(r.path), r.oom);
    CHECK(r.bytes < 512.0 * (1 << 20), "recurrent at 2^20: %.0f MiB, instances included", r.bytes / (1 << 20));
    eval_plan(&rec, 256, &o, &r);
    CHECK(!r.oom && r.path == EVAL_PARALLEL && r.batch == 32, "recurrent at 256: parallel, batch 32");
    eval_plan(&att, 1 << 20, &o, &r);
    CHECK(!r.oom || r.bytes > r.bytes_limit, "attention at 2^20: oom only beyond the limit");
    mem_set_limit((size_t)64 << 20);
    eval_plan(&att, 1 << 20, &o, &r);
    CHECK(r.oom && r.bytes > r.bytes_limit && r.bytes_limit <= 64.0 * (1 << 20),
          "attention at 2^20 under 64 MiB: oom (needs %.0f MiB)", r.bytes / (1 << 20));
    eval_plan(&rec, 1 << 20, &o, &r);
    CHECK(!r.oom && r.path == EVAL_DECODE, "recurrent at 2^20 under 64 MiB: still decodes");
    /* the tiled inference forward is linear in T too, ~10x the KV cache a token here */
    eval_plan(&att, 1 << 17, &o, &r);
    CHECK(!r.oom && r.path == EVAL_DECODE, "attention at 2^17 under 64 MiB: the forward does not fit, its KV cache does "
          "(got %s, oom %d)", eval_path_name(r.path), r.oom);
    o.path = EVAL_PARALLEL;
    eval_plan(&rec, 1 << 20, &o, &r);
    CHECK(r.oom && r.path == EVAL_PARALLEL, "--path parallel at 2^20 under 64 MiB: oom, no fallback");
    mem_set_limit(0);

    Err e;
    size_t s;
    CHECK(mem_parse_size("500M", &s, &e) == 0 && s == (size_t)500 << 20, "500M");
    CHECK(mem_parse_size("8G", &s, &e) == 0 && s == (size_t)8 << 30, "8G");
    CHECK(mem_parse_size("1.5GiB", &s, &e) == 0 && s == (size_t)3 << 29, "1.5GiB");
    CHECK(mem_parse_size("1048576", &s, &e) == 0 && s == 1048576, "plain bytes");
    CHECK(mem_parse_size("8X", &s, &e) == -1 && strstr(e.msg, "\"8X\""), "8X refused, named");
    CHECK(mem_parse_size("-1G", &s, &e) == -1, "-1G refused");
}

static const char *bin, *tmp;

static int run(const char *args, const char *err)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "\"%s\" %s 2>\"%s\" >/dev/null", bin, args, err);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    static char buf[4096];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    return buf;
}

static const cJSON *eval_at(const cJSON *res, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "metrics"), "eval"), i);
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void cli(void)
{
    char args[3000], err[600], model[600], out[600];
    snprintf(err, sizeof err, "%s/err.txt", tmp);
    snprintf(model, sizeof model, "%s/tf", tmp);
    snprintf(out, sizeof out, "%s/oom.json", tmp);
    /* a Transformer: its KV cache at 2^20 tokens (8 MiB a sequence here) passes a 4 MiB limit */
    snprintf(args, sizeof args,
             "train --task induction --max-len 32 --d-model 16 --heads 2 --steps 2 --batch 4 --eval-seqs 4 "
             "--threads 1 --eval-lengths 32,1048576 --mem-limit 4M --save \"%s\" --out \"%s\"", model, out);
    int rc = run(args, err);
    CHECK(rc == 0, "train with an eval length beyond --mem-limit: status %d: %s", rc, slurp(err));
    Err e;
    cJSON *res = json_read_file(out, &e);
    CHECK(res && !strcmp(str(eval_at(res, 0), "status"), "ok") && !strcmp(str(eval_at(res, 1), "status"), "oom"),
          "train: length 32 ok, 2^20 oom");
    const cJSON *need = cJSON_GetObjectItemCaseSensitive(eval_at(res, 1), "bytes_needed"),
                *lim = cJSON_GetObjectItemCaseSensitive(eval_at(res, 1), "mem_limit");
    CHECK(cJSON_IsNumber(need) && cJSON_IsNumber(lim) && need->valuedouble > lim->valuedouble &&
              lim->valuedouble <= 4 << 20, "the oom cell names the bytes needed and the limit");
    cJSON_Delete(res);

    snprintf(out, sizeof out, "%s/eval.json", tmp);
    snprintf(args, sizeof args, "eval --model \"%s\" --lengths 64,1048576 --seqs 3 --threads 1 --mem-limit 4M --out \"%s\"",
             model, out);
    rc = run(args, err);
    CHECK(rc == 0, "eval with a length beyond --mem-limit: status %d: %s", rc, slurp(err));
    res = json_read_file(out, &e);
    CHECK(res && !strcmp(str(eval_at(res, 0), "status"), "ok") && !strcmp(str(eval_at(res, 1), "status"), "oom"),
          "eval: length 64 ok, 2^20 oom");
    cJSON_Delete(res);

    const char *bad[][2] = {
        {"--mem-limit 12Q", "seqbench: --mem-limit: memory size \"12Q\" is not a positive size"},
        {"--path fast", "seqbench: --path must be auto, parallel or decode (got \"fast\")"},
        {"--depths 3", "seqbench: --depths is for the needle task (task is induction)"},
        {"--depths 0,1.5", "seqbench: --depths \"0,1.5\": expected a count"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(args, sizeof args, "eval --model \"%s\" --seqs 2 %s", model, bad[i][0]);
        rc = run(args, err);
        const char *msg = slurp(err), *nl = strchr(msg, '\n');
        CHECK(rc == 2 && !strncmp(msg, bad[i][1], strlen(bad[i][1])) && nl && !nl[1],
              "eval %s: want status 2 and one line \"%s...\", got %d \"%s\"", bad[i][0], bad[i][1], rc, msg);
    }

    /* the needle grid: 3 depths x 2 lengths, a matrix of depth rows */
    snprintf(model, sizeof model, "%s/needle", tmp);
    snprintf(args, sizeof args,
             "train --task needle --max-len 24 --key-len 2 --value-len 1 --task-vocab 16 --arch mamba --layers 1 "
             "--d-model 16 --steps 2 --batch 4 --eval-seqs 2 --eval-lengths 24 --threads 1 --save \"%s\"", model);
    rc = run(args, err);
    CHECK(rc == 0, "train needle: status %d: %s", rc, slurp(err));
    snprintf(out, sizeof out, "%s/grid.json", tmp);
    snprintf(args, sizeof args, "eval --model \"%s\" --lengths 24,48 --depths 3 --seqs 4 --threads 1 --out \"%s\"",
             model, out);
    rc = run(args, err);
    CHECK(rc == 0, "eval needle grid: status %d: %s", rc, slurp(err));
    res = json_read_file(out, &e);
    const cJSON *grid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "metrics"), "needle_grid");
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(grid, "string_acc");
    const cJSON *depths = cJSON_GetObjectItemCaseSensitive(grid, "depths");
    CHECK(cJSON_GetArraySize(acc) == 3 && cJSON_GetArraySize(cJSON_GetArrayItem(acc, 0)) == 2 &&
              cJSON_GetArraySize(depths) == 3 && cJSON_GetArrayItem(depths, 1)->valuedouble == 0.5,
          "needle grid: 3 depth rows (0, 0.5, 1) of 2 lengths");
    const cJSON *cell = eval_at(res, 1), *d = cJSON_GetObjectItemCaseSensitive(cell, "depth");
    CHECK(cJSON_IsNumber(d) && d->valuedouble == 0.5 && cJSON_GetArraySize(
              cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "metrics"), "eval")) == 6,
          "needle grid: one eval entry per cell, with its depth");
    cJSON_Delete(res);

    /* the grid straight from train, with a token cap: 48 tokens of length 24 are 2 sequences, not 4 */
    snprintf(out, sizeof out, "%s/train_grid.json", tmp);
    snprintf(args, sizeof args,
             "train --task needle --max-len 24 --key-len 2 --value-len 1 --task-vocab 16 --arch mamba --layers 1 "
             "--d-model 16 --steps 3 --batch 4 --len-warmup 2 --len-from 12 --eval-seqs 4 --eval-tokens 48 "
             "--eval-lengths 12,24 --eval-depths 0,1 --threads 1 --out \"%s\"", out);
    rc = run(args, err);
    CHECK(rc == 0, "train needle with a length curriculum and a depth grid: status %d: %s", rc, slurp(err));
    res = json_read_file(out, &e);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(res, "metrics");
    grid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "needle_grid"), "string_acc");
    const cJSON *n_short = cJSON_GetObjectItemCaseSensitive(eval_at(res, 0), "sequences"),
                *n_long = cJSON_GetObjectItemCaseSensitive(eval_at(res, 3), "sequences");
    CHECK(cJSON_GetArraySize(grid) == 2 && cJSON_GetArraySize(cJSON_GetArrayItem(grid, 0)) == 2,
          "train --eval-depths: a 2 x 2 needle grid");
    CHECK(cJSON_IsNumber(n_short) && n_short->valueint == 4 && cJSON_IsNumber(n_long) && n_long->valueint == 2,
          "--eval-tokens 48: 4 sequences of 12 tokens, 2 of 24 (got %d, %d)",
          cJSON_IsNumber(n_short) ? n_short->valueint : -1, cJSON_IsNumber(n_long) ? n_long->valueint : -1);
    cJSON_Delete(res);
    const char *bad_train[][2] = {
        {"--len-warmup 2 --len-from 2", "seqbench: --len-from: induction: length must be in [4, 2^22] (got 2)"},
        {"--len-warmup 2 --len-from 64", "seqbench: --len-from 64 is longer than max-len 32"},
        {"--len-warmup 2 --len-hold 2", "seqbench: len-hold + len-warmup must be in [0, steps = 3] (got 2 + 2)"},
        {"--len-hold 2", "seqbench: len-hold needs len-warmup (the ramp after the hold)"},
        {"--eval-depths 3", "seqbench: --eval-depths is for the needle task (task is induction)"},
    };
    for (size_t i = 0; i < sizeof bad_train / sizeof *bad_train; i++) {
        snprintf(args, sizeof args, "train --task induction --max-len 32 --steps 3 --dry-run %s", bad_train[i][0]);
        rc = run(args, err);
        const char *msg = slurp(err), *nl = strchr(msg, '\n');
        CHECK(rc == 2 && !strncmp(msg, bad_train[i][1], strlen(bad_train[i][1])) && nl && !nl[1],
              "train %s: want status 2 and one line \"%s...\", got %d \"%s\"", bad_train[i][0], bad_train[i][1], rc,
              msg);
    }
}

/* The length curriculum: linear from len_from to max_len over len_warmup steps. */
static void length_curriculum(void)
{
    TrainCfg c;
    train_defaults(&c);
    CHECK(train_len_at(&c, 256, 0) == 256, "no curriculum: every step at max-len");
    c.len_warmup = 100;
    c.len_from = 64;
    CHECK(train_len_at(&c, 256, 0) == 64 && train_len_at(&c, 256, 50) == 160 && train_len_at(&c, 256, 99) == 254 &&
              train_len_at(&c, 256, 100) == 256 && train_len_at(&c, 256, 5000) == 256,
          "curriculum 64 -> 256 over 100 steps: 64, 160, 254, then 256");
    c.len_hold = 10;
    CHECK(train_len_at(&c, 256, 0) == 64 && train_len_at(&c, 256, 9) == 64 && train_len_at(&c, 256, 60) == 160 &&
              train_len_at(&c, 256, 110) == 256, "hold 10 steps at 64, then the ramp");
}

/* The decode step's transposed scan against the plain loop, several steps
 * in a row, at sizes that are no multiple of a vector. */
static void scan_step_matches_reference(void)
{
    enum { E = 21, N = 5, STEPS = 4 };
    Rng r = rng_fork(11, 0);
    real A[E * N], AT[N * E], D[E], u[E], dt[E], Bv[N], Cv[N], h[E * N] = {0}, hT[N * E] = {0}, x[E * N], y1[E], y2[E];
    for (int e = 0; e < E; e++) {
        D[e] = (real)rng_normal(&r);
        for (int n = 0; n < N; n++) AT[n * E + e] = A[e * N + n] = -(real)(0.5 + 3 * rng_uniform(&r));
    }
    double worst = 0;
    for (int t = 0; t < STEPS; t++) {
        for (int e = 0; e < E; e++) {
            u[e] = (real)rng_normal(&r);
            dt[e] = (real)(0.01 + 0.5 * rng_uniform(&r));
        }
        for (int n = 0; n < N; n++) {
            Bv[n] = (real)rng_normal(&r);
            Cv[n] = (real)rng_normal(&r);
        }
        ScanIn si = {1, E, N, u, 0, dt, 0, Bv, Cv, 0, 0, A, D};
        scan_forward_ref(&si, y1, 0, NULL, h);
        scan_step_t(E, N, u, dt, Bv, Cv, AT, D, y2, hT, x);
        worst = fmax(worst, rel_err(y2, y1, E));
        for (int e = 0; e < E; e++)
            for (int n = 0; n < N; n++) worst = fmax(worst, fabs(hT[n * E + e] - h[e * N + n]) / (1 + fabs(h[e * N + n])));
    }
    CHECK(worst <= 2e-6, "scan_step_t vs scan_forward_ref over %d steps: rel err %.3e", STEPS, worst);
}

int main(void)
{
    scan_step_matches_reference();
    length_curriculum();
    inference_matches_training();
    mamba130m_arena();
    decode_matches_parallel();
    plans();
    bin = getenv("SEQ_BINARY");
    if (bin) {
        char dir[512];
        if (!check_tmpdir(dir, sizeof dir, "seq_eval")) return 1;
        tmp = dir;
        cli();
        check_rmtree(dir);
    } else {
        fprintf(stderr, "SEQ_BINARY not set: command-line checks skipped\n");
    }
    return check_summary();
}
