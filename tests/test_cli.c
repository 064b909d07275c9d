/* The command line as a user meets it: the seqbench binary run as a child
 * process (SEQ_BINARY), its stdout, stderr and exit status captured.
 *   1. bad input: exit status 2, exactly one stderr line "seqbench: ..."
 *      naming the problem, nothing on stdout, no output file left behind;
 *   2. the golden checkpoints through `seqbench logits`, both modes;
 *   3. train -> save -> eval -> logits -> params end to end;
 *   4. determinism of train with one thread (results and checkpoint bytes);
 *   5. --config, with the command line winning;
 *   6. checks before work (issue 15): every refusable input refused before
 *      a step is trained or measured, and the messages and numbers a person
 *      reads;
 *   7. what a new user met (issue 28): help and dry runs that say what the
 *      command will do;
 *   8. train --steps 0 --save: the initial weights (issue 29's learning-curve
 *      comparison starts PyTorch from them). */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/jsonio.h"
#include "core/safetensors.h"

#ifndef TIMEOUT_S /* -DTIMEOUT_S=5 to run these tests quickly against an old binary */
#define TIMEOUT_S 120
#endif
#define MEM_LIMIT "SEQ_MEM_LIMIT=1000000000"

static const char *bin, *src;
static char tmp[512], gold[600]; /* gold: the llama_gqa golden checkpoint */

/* Argument vector for the binary: ARGS("train", "--steps", "5"). */
#define ARGS(...) ((const char *[]){bin, __VA_ARGS__, NULL})

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct { char *p; size_t n; } Buf;

static int drain(int fd, Buf *b) /* 0 at end of file */
{
    char chunk[4096];
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r <= 0) return 0;
    b->p = realloc(b->p, b->n + (size_t)r + 1);
    memcpy(b->p + b->n, chunk, (size_t)r);
    b->n += (size_t)r;
    b->p[b->n] = '\0';
    return 1;
}

/* Runs the binary with argv (and `env`, "NAME=value", if given); returns its
 * exit status, 128 + signal if killed, -1 on timeout. *out and *err are
 * NUL-terminated and must be freed. */
static int run_env(const char *env, const char *const *argv, char **out, char **err)
{
    int po[2], pe[2];
    if (pipe(po) || pipe(pe)) { perror("pipe"); exit(1); }
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(1); }
    if (pid == 0) {
        setpgid(0, 0); /* its own group, so a timeout also ends the children it forked (experiment's cells) */
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]); close(pe[0]); close(po[1]); close(pe[1]);
        if (env) putenv((char *)env);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    setpgid(pid, pid); /* as the child does: whichever runs first */
    close(po[1]);
    close(pe[1]);
    Buf bo = {calloc(1, 1), 0}, be = {calloc(1, 1), 0};
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    double deadline = now_s() + TIMEOUT_S;
    int timed_out = 0;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        int ms = (int)((deadline - now_s()) * 1000);
        if (!timed_out && ms <= 0) { kill(-pid, SIGKILL); kill(pid, SIGKILL); timed_out = 1; }
        if (poll(fds, 2, timed_out ? 1000 : ms) <= 0) continue;
        for (int i = 0; i < 2; i++)
            if (fds[i].fd >= 0 && fds[i].revents && !drain(fds[i].fd, i ? &be : &bo)) {
                close(fds[i].fd);
                fds[i].fd = -1;
            }
    }
    int st;
    waitpid(pid, &st, 0);
    *out = bo.p;
    *err = be.p;
    if (timed_out) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int run(const char *const *argv, char **out, char **err) { return run_env(NULL, argv, out, err); }

static const char *path_in(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmp, name);
    return buf;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) { perror(path); exit(1); }
}

static void write_text(const char *path, const char *text) { write_bytes(path, text, strlen(text)); }

/* The whole file, NUL-terminated so a text file is a string; NULL if unreadable. */
static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    long len = f && !fseek(f, 0, SEEK_END) ? ftell(f) : -1;
    char *p = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (p) {
        rewind(f);
        *n = fread(p, 1, (size_t)len, f);
        p[*n] = '\0';
    }
    if (f) fclose(f);
    return p;
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    char *b = read_all(from, &n);
    CHECK(b != NULL, "cannot read %s", from);
    if (b) write_bytes(to, b, n);
    free(b);
}

/* Neither path nor any "<path>.tmp.*" exists. */
static int left_nothing(const char *path)
{
    char pat[1100];
    glob_t g;
    snprintf(pat, sizeof pat, "%s.tmp.*", path);
    int tmps = 0;
    if (glob(pat, 0, NULL, &g) == 0) {
        tmps = (int)g.gl_pathc;
        globfree(&g);
    }
    return access(path, F_OK) != 0 && tmps == 0;
}

/* A user error: status 2, one stderr line "seqbench: ..." containing kw (and
 * kw2 if given), empty stdout, and no `out` file or temporary left behind. */
static void expect_fail(const char *label, const char *env, const char *const *argv, const char *out, const char *kw,
                        const char *kw2)
{
    char *o, *e;
    int rc = run_env(env, argv, &o, &e);
    const char *nl = strchr(e, '\n');
    int one_line = nl && nl[1] == '\0';
    CHECK(rc == 2, "%s: exit status %d, expected 2 (stderr: %s)", label, rc, e);
    CHECK(one_line && !strncmp(e, "seqbench: ", 10), "%s: stderr is not one \"seqbench: \" line: [%s]", label, e);
    const char *m = e + (one_line ? 10 : 0), *colon = strstr(m, ": ");
    size_t k = colon ? (size_t)(colon - m) + 2 : 0;
    CHECK(!k || strncmp(m, m + k, k), "%s: message repeats its prefix: %s", label, e);
    CHECK(strstr(e, kw) && (!kw2 || strstr(e, kw2)), "%s: message does not name the problem (\"%s\"%s%s): %s",
          label, kw, kw2 ? ", " : "", kw2 ? kw2 : "", e);
    CHECK(!*o, "%s: stdout not empty: %.200s", label, o);
    if (out) CHECK(left_nothing(out), "%s: %s or a temporary of it was left behind", label, out);
    free(o);
    free(e);
}

/* ---- 1. bad input ---- */

/* a model and run small enough that a regression costs milliseconds, not a timeout */
#define SMALL "--steps", "2", "--d-model", "8", "--heads", "1", "--max-len", "2", "--eval-seqs", "2"

static void bad_options(void)
{
    char out[600], cfg[600];
    path_in(out, sizeof out, "R.json");
    expect_fail("unknown command", NULL, ARGS("frobnicate"), NULL, "frobnicate", NULL);
    expect_fail("unknown option", NULL, ARGS("train", "--out", out, "--bogus", "1"), out, "--bogus", NULL);
    expect_fail("missing value", NULL, ARGS("train", "--out", out, "--steps"), out, "--steps", "value");
    expect_fail("non-numeric", NULL, ARGS("train", "--out", out, "--steps", "abc"), out, "steps", "abc");
    expect_fail("out of range", NULL, ARGS("train", "--out", out, "--d-model", "70000"), out, "d-model", "range");
    expect_fail("logits --mode", NULL, ARGS("logits", "--model", src, "--tokens", "x", "--mode", "fast"), NULL,
                "--mode", "fast");
    expect_fail("logits --dtype", NULL, ARGS("logits", "--model", src, "--tokens", "x", "--dtype", "fp16"), NULL,
                "--dtype fp16", "bf16");
    expect_fail("bench decode --dtype", NULL, ARGS("bench", "decode", "--arch", "mamba", "--dtype", "f16", "--dry-run"),
                NULL, "--dtype f16", "bf16");

    path_in(cfg, sizeof cfg, "bad.json");
    write_text(cfg, "{\"steps\": 10,");
    expect_fail("malformed config", NULL, ARGS("train", "--config", cfg, "--out", out), out, "bad.json", "line 1");
    write_text(cfg, "{\"steps\": 10, \"bogus_key\": 1}");
    expect_fail("config unknown key", NULL, ARGS("train", "--config", cfg, "--out", out), out, "bogus_key", NULL);
    write_text(cfg, "{\"steps\": true}");
    expect_fail("config wrong type", NULL, ARGS("train", "--config", cfg, "--out", out), out, "bad.json", "steps");
    write_text(cfg, "{\"d-model\": \"wide\"}");
    expect_fail("config bad string", NULL, ARGS("train", "--config", cfg, "--out", out), out, "d-model", "wide");

    expect_fail("unknown symbol", NULL, ARGS("train", "--pattern", "MX-", "--out", out), out, "unknown symbol 'X'",
                NULL);
    expect_fail("unknown Mamba variant", NULL, ARGS("train", "--pattern", "M-", "--mamba", "mamba3", "--out", out, SMALL),
                out, "--mamba", "mamba3");
    expect_fail("unknown Mamba gate", NULL, ARGS("train", "--arch", "mamba", "--mamba-gate", "tanh", "--out", out, SMALL),
                out, "--mamba-gate", "tanh");
    expect_fail("Mamba-2 without its gate", NULL,
                ARGS("train", "--arch", "mamba2", "--mamba-gate", "none", "--out", out, SMALL), out, "gate", "mamba2");
    expect_fail("jamba period places no attention", NULL,
                ARGS("train", "--arch", "jamba", "--layers", "1", "--attn-period", "1", "--attn-offset", "0", "--experts",
                     "2", "--expert-period", "2", "--expert-offset", "1", "--pattern", "", "--out", out, SMALL),
                out, "places no", NULL);
    expect_fail("jamba offset outside its period", NULL,
                ARGS("train", "--arch", "jamba", "--attn-period", "4", "--attn-offset", "4", "--out", out, SMALL), out,
                "attn_layer_offset", NULL);
    expect_fail("hybrid ratios above 1", NULL,
                ARGS("train", "--arch", "mamba2-hybrid", "--layers", "8", "--attention", "0.6", "--mlp", "0.5", "--out",
                     out, SMALL), out, "> 1", NULL);
    expect_fail("top-k above experts", NULL, ARGS("train", "--pattern", "E", "--experts", "2", "--top-k", "3", "--out", out,
                SMALL), out, "experts_per_tok", NULL);
    expect_fail("unknown arch", NULL, ARGS("train", "--arch", "tranformer", "--out", out), out, "tranformer", NULL);
    expect_fail("heads vs kv-heads", NULL, ARGS("train", "--heads", "3", "--kv-heads", "2", "--d-model", "48", "--out", out), out,
                "multiple", NULL);
}

/* A copy of the golden llama_gqa checkpoint in tmp/<name>, with config.json
 * replaced by `config` if given; returns the directory (in dir). */
static const char *variant(char *dir, size_t cap, const char *name, const char *config)
{
    static const char *files[] = {"config.json", "model.safetensors"};
    snprintf(dir, cap, "%s/%s", tmp, name);
    mkdir(dir, 0755);
    for (int i = 0; i < 2; i++) {
        char from[700], to[700];
        snprintf(from, sizeof from, "%s/%s", gold, files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, files[i]);
        if (i == 0 && config) write_text(to, config);
        else copy_file(from, to);
    }
    return dir;
}

/* The same with `from` replaced by `to` in the JSON header of model.safetensors. */
static const char *edit_header(char *dir, size_t cap, const char *name, const char *from, const char *to)
{
    char path[700];
    size_t size = 0, hlen = 0, nf = strlen(from), nt = strlen(to);
    snprintf(path, sizeof path, "%s/model.safetensors", variant(dir, cap, name, NULL));
    char *b = read_all(path, &size);
    for (int k = 7; b && size > 8 && k >= 0; k--) hlen = hlen << 8 | (unsigned char)b[k];
    char *hit = hlen && hlen <= size - 8 ? memmem(b + 8, hlen, from, nf) : NULL;
    CHECK(hit != NULL, "%s: the golden header has no %s", name, from);
    if (hit) {
        char *out = malloc(size - nf + nt);
        size_t head = (size_t)(hit - b), n_hdr = hlen - nf + nt;
        for (int k = 0; k < 8; k++) b[k] = (char)(n_hdr >> 8 * k);
        memcpy(out, b, head);
        memcpy(out + head, to, nt);
        memcpy(out + head + nt, hit + nf, size - head - nf);
        write_bytes(path, out, size - nf + nt);
        free(out);
    }
    free(b);
    return dir;
}

static void expect_logits_fail(const char *label, const char *dir, const char *kw, const char *kw2)
{
    char tokens[700];
    snprintf(tokens, sizeof tokens, "%s/tokens.json", gold);
    expect_fail(label, NULL, ARGS("logits", "--model", dir, "--tokens", tokens), NULL, kw, kw2);
}

static void bad_safetensors(void)
{
    char st_path[700], dir[600], p[700];
    snprintf(st_path, sizeof st_path, "%s/model.safetensors", gold);
    size_t size = 0, hlen = 0;
    char *bytes = read_all(st_path, &size);
    CHECK(bytes && size > 8, "cannot read %s", st_path);
    if (!bytes || size <= 8) return;
    for (int k = 7; k >= 0; k--) hlen = hlen << 8 | (unsigned char)bytes[k];
    const size_t cut[] = {0, 7, 8 + hlen / 2, size - 1};
    const char *why[] = {"too short", "too short", "header length", "beyond"};
    snprintf(p, sizeof p, "%s/model.safetensors", variant(dir, sizeof dir, "truncated", NULL));
    for (int i = 0; i < 4; i++) {
        char label[64];
        snprintf(label, sizeof label, "safetensors truncated to %zu bytes", cut[i]);
        write_bytes(p, bytes, cut[i]);
        expect_logits_fail(label, dir, "model.safetensors", why[i]);
    }
    free(bytes);
    /* written by hand: offsets past the end of the 8-byte data buffer */
    const char hdr[] = "{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[32],\"data_offsets\":[0,128]}}";
    unsigned char raw[8 + sizeof hdr + 8] = {(unsigned char)(sizeof hdr - 1)};
    memcpy(raw + 8, hdr, sizeof hdr - 1);
    write_bytes(p, raw, 8 + sizeof hdr - 1 + 8);
    expect_logits_fail("data_offsets out of range", dir, "model.norm.weight", "data_offsets");

#define Q0 "\"model.layers.0.self_attn.q_proj.weight\":{\"dtype\":\"F32\",\"shape\":"
    expect_logits_fail("wrong shape (same size)", edit_header(dir, sizeof dir, "shape", Q0 "[32,32]", Q0 "[16,64]"),
                       "model.layers.0.self_attn.q_proj.weight", "shape");
    expect_logits_fail("missing tensor", edit_header(dir, sizeof dir, "missing", "\"model.norm.weight\"",
                                                     "\"model.norm.weigh_\""), "model.norm.weight", "missing");
    expect_logits_fail("extra tensor", edit_header(dir, sizeof dir, "extra", "{\"__metadata__\"",
                                                   "{\"model.layers.0.extra.weight\":{\"dtype\":\"F32\",\"shape\":[0],"
                                                   "\"data_offsets\":[0,0]},\"__metadata__\""),
                       "model.layers.0.extra.weight", "unexpected");
}

static void bad_configs(void)
{
    char dir[600], p[700];
    size_t size;
    expect_logits_fail("malformed config.json", variant(dir, sizeof dir, "badcfg", "{\"vocab_size\": 37,"),
                       "config.json", "invalid JSON");
    snprintf(p, sizeof p, "%s/config.json", gold);
    char *cfg = read_all(p, &size), *heads = cfg ? strstr(cfg, "\"num_attention_heads\": 4") : NULL;
    CHECK(heads != NULL, "golden config.json has no \"num_attention_heads\": 4");
    if (heads) {
        heads[strlen("\"num_attention_heads\": ")] = '2';
        expect_logits_fail("config heads vs tensors", variant(dir, sizeof dir, "heads", cfg), "q_proj",
                           "shape");
    }
    free(cfg);
}

/* The same failures on a Mamba checkpoint: the message names the tensor. */
static void bad_mamba_checkpoint(void)
{
    char saved[600], dir[600], p[700];
    size_t size;
    snprintf(saved, sizeof saved, "%s", gold);
    snprintf(gold, sizeof gold, "%s/tests/golden/mamba_tied", src);
#define XP "\"backbone.layers.0.mixer.x_proj.weight\":{\"dtype\":\"F32\",\"shape\":"
    expect_logits_fail("mamba: wrong shape", edit_header(dir, sizeof dir, "m_shape", XP "[17,32]", XP "[32,17]"),
                       "backbone.layers.0.mixer.x_proj.weight", "shape");
    expect_logits_fail("mamba: missing tensor", edit_header(dir, sizeof dir, "m_missing", "\"backbone.layers.1.mixer.A_log\"",
                                                            "\"backbone.layers.1.mixer.A_lox\""),
                       "backbone.layers.1.mixer.A_log", "missing");
    snprintf(p, sizeof p, "%s/config.json", gold);
    char *cfg = read_all(p, &size), *st = cfg ? strstr(cfg, "\"state_size\": 8") : NULL;
    CHECK(st != NULL, "golden mamba config.json has no \"state_size\": 8");
    if (st) {
        st[strlen("\"state_size\": ")] = '4';
        expect_logits_fail("mamba: config state_size vs tensors", variant(dir, sizeof dir, "m_state", cfg), "mixer.",
                           "shape");
    }
    free(cfg);
    snprintf(gold, sizeof gold, "%s", saved);
}

/* RecurrentGemma configs: a window that is not positive, a block type that is neither. */
static void bad_recurrent_gemma_config(void)
{
    char saved[600], dir[600], p[700];
    size_t size;
    snprintf(saved, sizeof saved, "%s", gold);
    snprintf(gold, sizeof gold, "%s/tests/golden/recurrent_gemma_griffin", src);
    snprintf(p, sizeof p, "%s/config.json", gold);
    char *cfg = read_all(p, &size), *w = cfg ? strstr(cfg, "\"attention_window_size\": 3") : NULL;
    CHECK(w != NULL, "golden griffin config.json has no \"attention_window_size\": 3");
    if (w) {
        w[strlen("\"attention_window_size\": ")] = '0';
        expect_logits_fail("griffin: window 0", variant(dir, sizeof dir, "g_window", cfg), "attention_window_size", "0");
        w[strlen("\"attention_window_size\": ")] = '3';
        char *t = strstr(cfg, "\"block_types\"");
        t = t ? strstr(t, "\"attention\"") : NULL;
        CHECK(t != NULL, "golden griffin config.json has no block_types attention entry");
        if (t) {
            memcpy(t, "\"attentio_\"", 11);
            expect_logits_fail("griffin: unknown block type", variant(dir, sizeof dir, "g_types", cfg), "block_types",
                               "attentio_");
        }
    }
    free(cfg);
    snprintf(gold, sizeof gold, "%s", saved);
}

static void bad_tokens(void)
{
    static const struct { const char *text, *label, *kw, *kw2; } cases[] = {
        {"[1, 2, 37]", "token out of vocabulary", "element 2", "37"},
        {"{\"tokens\": [1, 2]}", "tokens not an array", "tokens.json", "array"},
        {"[1, -3]", "negative token", "element 1", "-3"},
        {"[]", "empty token array", "tokens.json", "empty"},
    };
    char path[600];
    path_in(path, sizeof path, "tokens.json");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_text(path, cases[i].text);
        expect_fail(cases[i].label, NULL, ARGS("logits", "--model", gold, "--tokens", path), NULL, cases[i].kw,
                    cases[i].kw2);
    }
}

/* Impossible sizes are refused from the plan, at once, under a 1 GB budget. */
static void bad_sizes(void)
{
    char out[600], blocker[600], save[700];
    path_in(out, sizeof out, "R.json");
    double t0 = now_s();
    expect_fail("huge model", MEM_LIMIT, ARGS("train", "--d-model", "65536", "--heads", "64", "--layers", "512",
                                              "--steps", "1", "--out", out), out, "would need", "available");
    expect_fail("huge activations", MEM_LIMIT,
                ARGS("train", "--max-len", "4000000", "--batch", "1024", "--steps", "1", "--out", out), out,
                "would need", "available");
    /* an eval length beyond the budget is an OOM cell, not a failure (issue 16): tests/test_eval.c */
    /* one stderr line means no "seqbench train: ..." banner: it failed before training */
    expect_fail("unwritable --out", NULL, ARGS("train", "--out", "/dev/null/x.json", SMALL), NULL,
                "/dev/null/x.json", NULL);
    path_in(blocker, sizeof blocker, "blocker");
    write_text(blocker, "a file, not a directory\n");
    snprintf(save, sizeof save, "%s/m", blocker);
    expect_fail("unwritable --save", NULL, ARGS("train", "--save", save, "--out", out, SMALL), out, "blocker", NULL);
    double dt = now_s() - t0;
    CHECK(dt < 10, "impossible sizes or outputs took %.1f s to refuse: they should fail before any work", dt);
}

/* ---- 2. golden checkpoints through the CLI ---- */

/* obj at a dotted path ("metrics.eval"), NULL if absent. */
static const cJSON *get(const cJSON *j, const char *path)
{
    char key[64];
    for (const char *p = path; j && *p;) {
        size_t k = strcspn(p, ".");
        snprintf(key, sizeof key, "%.*s", (int)k, p);
        j = cJSON_GetObjectItemCaseSensitive(j, key);
        p += k + (p[k] == '.');
    }
    return j;
}

static double num(const cJSON *j, const char *path)
{
    j = get(j, path);
    return cJSON_IsNumber(j) ? j->valuedouble : NAN;
}

/* Runs a command that must succeed. */
static void ok(const char *label, const char *const *argv)
{
    char *o, *e;
    int rc = run(argv, &o, &e);
    CHECK(rc == 0, "%s: exit status %d: %s", label, rc, e);
    free(o);
    free(e);
}

/* Same, and its stdout parsed as JSON (NULL if it failed). */
static cJSON *ok_json(const char *label, const char *const *argv)
{
    char *o, *e;
    Err err;
    int rc = run(argv, &o, &e);
    cJSON *j = rc ? NULL : json_parse_text(o, strlen(o), label, &err);
    CHECK(rc == 0, "%s: exit status %d: %s", label, rc, e);
    CHECK(rc || j, "%s", err.msg);
    free(o);
    free(e);
    return j;
}

static cJSON *read_json(const char *path)
{
    Err e;
    cJSON *j = json_read_file(path, &e);
    CHECK(j != NULL, "%s", e.msg);
    return j;
}

/* max |a - b| / max |b| over two {"logits": [[...]]}; INFINITY if missing or the shapes differ. */
static double logits_err(const cJSON *a, const cJSON *b)
{
    const cJSON *ra = get(a, "logits"), *rb = get(b, "logits");
    if (!cJSON_IsArray(ra) || !cJSON_IsArray(rb) || cJSON_GetArraySize(ra) != cJSON_GetArraySize(rb)) return INFINITY;
    double diff = 0, scale = 0;
    for (ra = ra->child, rb = rb->child; ra && rb; ra = ra->next, rb = rb->next) {
        if (cJSON_GetArraySize(ra) != cJSON_GetArraySize(rb) || cJSON_GetArraySize(rb) == 0) return INFINITY;
        for (const cJSON *x = ra->child, *y = rb->child; x && y; x = x->next, y = y->next) {
            diff = fmax(diff, fabs(x->valuedouble - y->valuedouble));
            scale = fmax(scale, fabs(y->valuedouble));
        }
    }
    return scale > 0 ? diff / scale : INFINITY;
}

static void golden(void)
{
    static const char *cases[] = {"llama_gqa", "llama_mqa_tied", "llama_mha_headdim", "llama_gqa_bf16",
                                  "llama_gqa_f16", "seqbench_local_partial", "mamba_untied", "mamba2_g2",
                                  "recurrent_gemma_griffin", "jamba_small"};
    static const char *modes[] = {"parallel", "step"};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char dir[600], tokens[700], ref_path[700], label[64];
        snprintf(dir, sizeof dir, "%s/tests/golden/%s", src, cases[c]);
        snprintf(tokens, sizeof tokens, "%s/tokens.json", dir);
        snprintf(ref_path, sizeof ref_path, "%s/logits.json", dir);
        cJSON *ref = read_json(ref_path);
        for (int m = 0; m < 2 && ref; m++) {
            snprintf(label, sizeof label, "golden %s %s", cases[c], modes[m]);
            cJSON *ours = ok_json(label, ARGS("logits", "--model", dir, "--tokens", tokens, "--mode", modes[m]));
            double rel = logits_err(ours, ref);
            printf("%-34s rel err %.3e\n", label, rel);
            CHECK(rel <= 1e-4, "%s: rel err %.3e > 1e-4", label, rel);
            cJSON_Delete(ours);
        }
        /* --dtype bf16: its two paths agree as fp32's do, within bf16's rounding of the reference (the models'
         * drift is tests/test_step_forward.c's); a checkpoint stored in bf16 loses nothing */
        cJSON *bf[2];
        for (int m = 0; m < 2; m++) {
            snprintf(label, sizeof label, "golden %s %s bf16", cases[c], modes[m]);
            bf[m] = ok_json(label, ARGS("logits", "--model", dir, "--tokens", tokens, "--mode", modes[m], "--dtype",
                                        "bf16"));
        }
        double paths = logits_err(bf[1], bf[0]), drift = logits_err(bf[0], ref);
        int stored_bf16 = strstr(cases[c], "_bf16") != NULL;
        printf("%-34s bf16: step vs parallel %.3e, vs fp32 reference %.3e\n", cases[c], paths, drift);
        CHECK(paths <= 1e-5, "golden %s bf16: step vs parallel rel err %.3e > 1e-5", cases[c], paths);
        CHECK(drift <= (stored_bf16 ? 1e-4 : 0.06), "golden %s bf16: rel err %.3e from the reference > %g", cases[c],
              drift, stored_bf16 ? 1e-4 : 0.06);
        cJSON_Delete(bf[0]);
        cJSON_Delete(bf[1]);
        cJSON_Delete(ref);
    }
}

/* ---- 3. end to end ---- */

#define TRAIN_SMALL(out, save)                                                                                     \
    ARGS("train", "--task", "copy", "--max-len", "4", "--alphabet", "4", "--steps", "30", "--batch", "8",           \
         "--d-model", "16", "--heads", "2", "--out", out, "--save", save, "--eval-seqs", "20", "--threads", "1")

/* A train result and checkpoint; returns model.params.total (0 if bad). */
static long long check_train_outputs(const cJSON *r, const char *save)
{
    static const char *fields[] = {"seqbench_version", "command", "argv", "settings", "seed", "loss_curve",
                                   "wall_time_s", "threads", "cpu", "compiler", "load_average_1m_at_start"};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        CHECK(get(r, fields[i]), "train result lacks \"%s\"", fields[i]);
    CHECK(cJSON_IsString(get(r, "model.pattern")), "train result lacks model.pattern");
    long long total = 0;
    CHECK(json_whole_number(get(r, "model.params.total"), &total) == 0 && total > 0,
          "model.params.total is not a positive integer");
    const cJSON *x;
    CHECK(cJSON_GetArraySize(get(r, "loss_curve")) > 0, "loss_curve is empty");
    cJSON_ArrayForEach(x, get(r, "loss_curve"))
        CHECK(!isnan(num(x, "step")) && !isnan(num(x, "loss")), "loss_curve point without step/loss");
    CHECK(cJSON_GetArraySize(get(r, "metrics.eval")) > 0, "metrics.eval is empty");
    cJSON_ArrayForEach(x, get(r, "metrics.eval"))
        CHECK(!isnan(num(x, "length")) && !isnan(num(x, "string_acc")) && !isnan(num(x, "token_acc")),
              "metrics.eval entry incomplete");
    for (int i = 0; i < 2; i++) {
        char p[700];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", save, i ? "model.safetensors" : "config.json");
        CHECK(stat(p, &st) == 0 && st.st_size > 0, "%s missing after train --save", p);
    }
    return total;
}

static void end_to_end(void)
{
    char r_path[600], m_dir[600], e_path[600], tok[600];
    path_in(r_path, sizeof r_path, "R.json");
    path_in(m_dir, sizeof m_dir, "M");
    path_in(e_path, sizeof e_path, "E.json");
    ok("train", TRAIN_SMALL(r_path, m_dir));
    cJSON *r = read_json(r_path);
    long long total = check_train_outputs(r, m_dir);

    ok("eval", ARGS("eval", "--model", m_dir, "--lengths", "4,8", "--seqs", "20", "--out", e_path));
    cJSON *ej = read_json(e_path);
    /* as bench's: how busy the machine was, and how long the command took */
    CHECK(num(ej, "load_average_1m_at_start") >= 0, "eval result lacks load_average_1m_at_start");
    CHECK(num(ej, "wall_time_s") >= 0, "eval result lacks wall_time_s");
    CHECK(num(r, "wall_time_s") >= num(r, "metrics.train_seconds"),
          "train wall_time_s %g is less than its training time %g: it must cover the whole command",
          num(r, "wall_time_s"), num(r, "metrics.train_seconds"));
    CHECK(cJSON_GetArraySize(get(ej, "metrics.eval")) == 2, "E.json: metrics.eval has %d entries, expected 2",
          cJSON_GetArraySize(get(ej, "metrics.eval")));
    /* Same model, seed and length: train's and eval's held-out sets are the same 20 strings. */
    const cJSON *a = cJSON_GetArrayItem(get(r, "metrics.eval"), 0), *b = cJSON_GetArrayItem(get(ej, "metrics.eval"), 0);
    static const char *keys[] = {"string_acc", "token_acc", "loss"};
    for (int i = 0; i < 3; i++)
        CHECK(fabs(num(a, keys[i]) - num(b, keys[i])) <= 1e-5 * fmax(1, fabs(num(b, keys[i]))),
              "%s at length 4: train says %.9g, eval says %.9g on the same test set (a partial last batch "
              "must not add its padding sequences to the mean: tasks/eval.c)", keys[i], num(a, keys[i]),
              num(b, keys[i]));
    /* the same test set through a bf16 model: its figures recorded as bf16's, its loss within bf16's rounding */
    char e16_path[600];
    path_in(e16_path, sizeof e16_path, "E16.json");
    ok("eval bf16", ARGS("eval", "--model", m_dir, "--lengths", "4", "--seqs", "20", "--dtype", "bf16", "--out",
                         e16_path));
    cJSON *e16 = read_json(e16_path);
    const cJSON *b16 = cJSON_GetArrayItem(get(e16, "metrics.eval"), 0), *dt = get(e16, "settings.dtype");
    CHECK(cJSON_IsString(dt) && !strcmp(dt->valuestring, "bf16"), "E16.json: settings.dtype is not \"bf16\"");
    CHECK(fabs(num(b16, "loss") - num(b, "loss")) <= 0.02 * num(b, "loss"),
          "eval --dtype bf16: loss %.6g against fp32's %.6g on the same test set (more than 2%% apart)", num(b16, "loss"),
          num(b, "loss"));
    printf("eval loss at length 4: fp32 %.6g, bf16 %.6g\n", num(b, "loss"), num(b16, "loss"));
    cJSON_Delete(e16);
    cJSON_Delete(ej);

    path_in(tok, sizeof tok, "tok.json");
    write_text(tok, "[1, 2, 3, 4, 5, 6, 0, 3, 2, 1]");
    cJSON *jp = ok_json("logits parallel", ARGS("logits", "--model", m_dir, "--tokens", tok, "--mode", "parallel"));
    cJSON *js = ok_json("logits step", ARGS("logits", "--model", m_dir, "--tokens", tok, "--mode", "step"));
    double rel = logits_err(js, jp);
    CHECK(rel <= 1e-5, "saved model: step vs parallel logits rel err %.3e > 1e-5", rel);
    cJSON_Delete(jp);
    cJSON_Delete(js);

    cJSON *pj = ok_json("params", ARGS("params", "--model", m_dir, "--json"));
    CHECK(num(pj, "total") == (double)total, "params --model total %g != train's model.params.total %lld",
          num(pj, "total"), total);
    cJSON_Delete(pj);
    path_in(e_path, sizeof e_path, "E2.json");
    /* a length beyond memory is an OOM cell of a run that succeeds (issue 16) */
    char *o, *er;
    int rc = run_env(MEM_LIMIT, ARGS("eval", "--model", m_dir, "--lengths", "4,4000000", "--out", e_path), &o, &er);
    CHECK(rc == 0 && strstr(o, "OOM"), "eval length beyond memory: status %d, want 0 and an OOM cell: %s%s", rc, o, er);
    free(o);
    free(er);
    cJSON_Delete(r);
}

/* ---- 4. determinism ---- */

/* Same structure, same keys in order, numbers bitwise equal. */
static int same_json(const cJSON *a, const cJSON *b)
{
    if (!a || !b || (a->type & 0xff) != (b->type & 0xff)) return 0;
    if ((a->string || b->string) && (!a->string || !b->string || strcmp(a->string, b->string))) return 0;
    if (cJSON_IsNumber(a)) return !memcmp(&a->valuedouble, &b->valuedouble, sizeof(double));
    if (cJSON_IsString(a)) return !strcmp(a->valuestring, b->valuestring);
    for (a = a->child, b = b->child; a || b; a = a->next, b = b->next)
        if (!same_json(a, b)) return 0;
    return 1;
}

static void determinism(void)
{
    cJSON *r[2];
    char *st[2];
    size_t n[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        char name[16], out[600], save[600], p[700];
        snprintf(name, sizeof name, "D%d.json", i);
        path_in(out, sizeof out, name);
        snprintf(name, sizeof name, "D%d", i);
        path_in(save, sizeof save, name);
        ok("determinism train", TRAIN_SMALL(out, save));
        r[i] = read_json(out);
        snprintf(p, sizeof p, "%s/model.safetensors", save);
        st[i] = read_all(p, &n[i]);
    }
    CHECK(same_json(get(r[0], "loss_curve"), get(r[1], "loss_curve")), "two --threads 1 runs: loss_curve differs");
    CHECK(same_json(get(r[0], "metrics.eval"), get(r[1], "metrics.eval")),
          "two --threads 1 runs: metrics.eval differs");
    CHECK(st[0] && st[1] && n[0] == n[1] && !memcmp(st[0], st[1], n[0]),
          "two --threads 1 runs: model.safetensors differ (%zu vs %zu bytes)", n[0], n[1]);
    for (int i = 0; i < 2; i++) {
        cJSON_Delete(r[i]);
        free(st[i]);
    }
}

/* ---- 5. --config, command line wins ---- */

/* --param-budget lands every built-in architecture within 5% of the budget */
static void param_budget(void)
{
    const char *archs[] = {"transformer", "transformer-local", "mamba", "mamba2", "mamba-lti", "hawk", "griffin", "jamba"};
    const char *budgets[] = {"2e6", "2e7", "1e8"};
    for (size_t b = 0; b < 3; b++)
        for (size_t i = 0; i < sizeof archs / sizeof *archs; i++) {
            cJSON *j = ok_json("param budget", ARGS("params", "--arch", archs[i], "--layers", "4", "--vocab", "1000",
                                                    "--param-budget", budgets[b], "--json"));
            double total = j ? num(j, "total") : 0, want = atof(budgets[b]);
            CHECK(fabs(total - want) <= 0.05 * want, "%s at budget %s: %.0f parameters", archs[i], budgets[b], total);
            cJSON_Delete(j);
        }
}

/* --lru-blocks: the Griffin paper's 16 gate blocks whatever the head count.
 * From options it counts what the paper config counts; a width it does not
 * divide is refused; a model with it is saved in seqbench's layout (no
 * RecurrentGemma key holds it) and loads back. */
static void lru_blocks(void)
{
    cJSON *a = ok_json("params hawk 100M by options",
                       ARGS("params", "--pattern", "R-", "--layers", "12", "--d-model", "768", "--heads", "6",
                            "--lru-width", "1024", "--lru-blocks", "16", "--vocab", "32000", "--gemma", "--act", "gelu",
                            "--json"));
    char paper_dir[600];
    snprintf(paper_dir, sizeof paper_dir, "%s/configs/paper", src);
    cJSON *b = ok_json("params --paper hawk-100m", ARGS("params", "--paper", "hawk-100m", "--paper-dir", paper_dir, "--json"));
    CHECK(a && b && num(a, "total") == num(b, "total"), "hawk-100m by options %.0f vs paper config %.0f",
          a ? num(a, "total") : -1, b ? num(b, "total") : -1);
    cJSON_Delete(a);
    cJSON_Delete(b);

    char out[600], dir[600], cfg[700], tokens[600];
    path_in(out, sizeof out, "blocks.json");
    expect_fail("lru-blocks not dividing lru-width", NULL,
                ARGS("train", "--arch", "hawk", "--lru-width", "12", "--lru-blocks", "8", "--out", out, SMALL), out,
                "multiple", NULL);
    path_in(dir, sizeof dir, "blocks_model");
    ok("train hawk --lru-blocks 2", ARGS("train", "--arch", "hawk", "--heads", "4", "--lru-blocks", "2", "--save", dir,
                                         "--out", out, SMALL));
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    cJSON *c = read_json(cfg);
    const cJSON *type = c ? cJSON_GetObjectItemCaseSensitive(c, "model_type") : NULL;
    CHECK(cJSON_IsString(type) && !strcmp(type->valuestring, "seqbench"), "lru-blocks 2 with 4 heads: model_type %s",
          cJSON_IsString(type) ? type->valuestring : "?");
    CHECK(c && num(c, "rglru_heads") == 2, "saved rglru_heads %g", c ? num(c, "rglru_heads") : -1);
    cJSON_Delete(c);
    path_in(tokens, sizeof tokens, "blocks_tokens.json");
    write_text(tokens, "[1, 3, 4, 2, 3]");
    ok("logits of the saved --lru-blocks model", ARGS("logits", "--model", dir, "--tokens", tokens, "--mode", "step"));
}

static void config_file(void)
{
    char cfg[600], out[600];
    path_in(cfg, sizeof cfg, "cfg.json");
    path_in(out, sizeof out, "C.json");
    write_text(cfg, "{\"steps\": 7, \"d-model\": 16, \"heads\": 2, \"max_len\": 4, \"alphabet\": 4, \"batch\": 4,\n"
                    " \"eval-seqs\": 10, \"eval-lengths\": [4], \"threads\": 1}\n");
    ok("train --config", ARGS("train", "--config", cfg, "--steps", "5", "--out", out));
    cJSON *r = read_json(out);
    CHECK(num(r, "metrics.steps") == 5, "--steps 5 over config steps 7: metrics.steps is %g", num(r, "metrics.steps"));
    CHECK(num(r, "settings.d-model") == 16, "config d-model 16: settings[\"d-model\"] is %g",
          num(r, "settings.d-model"));
    CHECK(cJSON_GetArraySize(get(r, "metrics.eval")) == 1, "config eval-lengths [4]: expected one eval entry");
    cJSON_Delete(r);
}

/* ---- 6. checks before work, messages a person reads (issue 15) ---- */

/* Options that would train for days: a check that lets them through is seen
 * as a timeout, and one that comes before the work costs milliseconds. */
#define HUGE "--steps", "100000000", "--d-model", "8", "--heads", "1", "--max-len", "2", "--eval-seqs", "2"

/* The same as expect_fail, and it must come back within a few seconds. */
static void expect_fast_fail(const char *label, const char *env, const char *const *argv, const char *out,
                             const char *kw, const char *kw2)
{
    double t0 = now_s();
    expect_fail(label, env, argv, out, kw, kw2);
    double dt = now_s() - t0;
    CHECK(dt < 10, "%s: took %.1f s to refuse: it must fail before any work", label, dt);
}

/* a. outputs that cannot be written are refused before training, evaluating or measuring */
static void outputs_checked_first(void)
{
    char dir[600], fifo[600], res[600], blocked[700], model[600];
    path_in(dir, sizeof dir, "a_directory");
    mkdir(dir, 0755);
    /* the temporary goes beside the directory, so the old probe passed and the rename failed after the work */
    expect_fast_fail("train --out a directory", NULL, ARGS("train", "--out", dir, HUGE), NULL, "a_directory",
                     "is a directory");
    char pat[700];
    glob_t g;
    snprintf(pat, sizeof pat, "%s.tmp.*", dir);
    CHECK(glob(pat, 0, NULL, &g) != 0, "train --out DIR left a temporary beside it");
    path_in(fifo, sizeof fifo, "a_fifo");
    CHECK(mkfifo(fifo, 0644) == 0, "mkfifo %s failed", fifo);
    expect_fast_fail("train --out a fifo", NULL, ARGS("train", "--out", fifo, HUGE), NULL, "a_fifo",
                     "not a regular file");
    struct stat st;
    CHECK(stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode), "train --out FIFO replaced the FIFO");
    snprintf(res, sizeof res, "%s/a_fifo/R.json", tmp);
    expect_fast_fail("train --out under a fifo", NULL, ARGS("train", "--out", res, HUGE), NULL, "a_fifo",
                     "not a directory");
    snprintf(blocked, sizeof blocked, "%s/a_fifo/m", tmp);
    expect_fast_fail("train --save under a file", NULL, ARGS("train", "--save", blocked, HUGE), NULL, "a_fifo",
                     "not a directory");
    /* a checkpoint directory holding a directory where model.safetensors goes */
    path_in(model, sizeof model, "save_dir");
    mkdir(model, 0755);
    snprintf(blocked, sizeof blocked, "%s/model.safetensors", model);
    mkdir(blocked, 0755);
    expect_fast_fail("train --save with model.safetensors a directory", NULL, ARGS("train", "--save", model, HUGE), NULL,
                     "model.safetensors", "is a directory");
    /* eval and bench: before loading or measuring anything (the old eval printed its table first) */
    expect_fast_fail("eval --out a directory", NULL,
                     ARGS("eval", "--model", gold, "--lengths", "4", "--seqs", "10000000", "--out", dir), NULL,
                     "a_directory", "is a directory");
    expect_fast_fail("bench --out a directory", NULL,
                     ARGS("bench", "--d-model", "8", "--heads", "1", "--vocab", "16", "--lengths", "8", "--batches", "1",
                          "--contexts", "8", "--repeats", "1000", "--decode-steps", "100000", "--out", dir),
                     NULL, "a_directory", "is a directory");
}

/* b. --heads that does not divide --d-model, where attention splits d_model into heads */
static void heads_divide_width(void)
{
    char out[600];
    path_in(out, sizeof out, "never.json");
    expect_fast_fail("heads do not divide d-model", NULL,
                     ARGS("train", HUGE, "--d-model", "64", "--heads", "3", "--out", out), out, "--heads 3",
                     "--d-model 64");
    expect_fast_fail("heads do not divide d-model (local attention)", NULL,
                     ARGS("train", HUGE, "--pattern", "L-", "--d-model", "20", "--heads", "3", "--out", out), out,
                     "--heads 3", "--d-model 20");
    /* an explicit head size is a choice, and a pattern without attention has no heads to split */
    ok("heads 3 with --head-dim 16", ARGS("params", "--d-model", "64", "--heads", "3", "--head-dim", "16"));
    ok("heads 3 for a Mamba pattern", ARGS("params", "--arch", "mamba", "--d-model", "64", "--heads", "3"));
}

/* c. --threads far above the cores is refused (above 4 x; up to that it runs with a warning) */
static void threads_capped(void)
{
    char out[600], n[24], env[64];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) cores = CPU_COUNT(&set);
    path_in(out, sizeof out, "never.json");
    if (4 * cores + 1 > 1024) {
        printf("threads cap: %ld cores, 4 x cores is above --threads' range; skipped\n", cores);
        return;
    }
    snprintf(n, sizeof n, "%ld", 4 * cores + 1);
    expect_fast_fail("threads above 4 x cores", NULL, ARGS("train", HUGE, "--threads", n, "--out", out), out,
                     "--threads", n);
    snprintf(env, sizeof env, "OMP_NUM_THREADS=%ld", 4 * cores + 1);
    expect_fast_fail("OMP_NUM_THREADS above 4 x cores", env, ARGS("train", HUGE, "--out", out), out, "OMP_NUM_THREADS",
                     n);
}

/* d. a config value of the wrong type names the key and the type */
static void config_types(void)
{
    static const struct { const char *json, *key, *type; } cases[] = {
        {"{\"steps\": \"10\"}", "\"steps\"", "an integer"},
        {"{\"lr\": \"0.1\"}", "\"lr\"", "a number"},
        {"{\"untie\": 1}", "\"untie\"", "true or false"},
        {"{\"untie\": \"true\"}", "\"untie\"", "true or false"},
        {"{\"arch\": 5}", "\"arch\"", "a string"},
    };
    char cfg[600], out[600];
    path_in(cfg, sizeof cfg, "typed.json");
    path_in(out, sizeof out, "never.json");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_text(cfg, cases[i].json);
        expect_fast_fail(cases[i].json, NULL, ARGS("train", HUGE, "--config", cfg, "--out", out), out, cases[i].key,
                         cases[i].type);
    }
}

/* e, g. experiment specs: every cell checked before any trains; --dry-run reports the same failures */
static void experiment_checks(void)
{
    char spec[600], results[600], cell_dir[700];
    path_in(spec, sizeof spec, "spec.json");
    path_in(results, sizeof results, "exp_results");
    snprintf(cell_dir, sizeof cell_dir, "%s/probe", results);
    write_text(spec, "{\"name\": \"probe\", \"command\": \"train\",\n"
                     " \"base\": {\"steps\": 100000000, \"d-model\": 8, \"heads\": 1, \"max-len\": 2},\n"
                     " \"profiles\": {\"quick\": {\"batch\": 4}, \"paper\": {\"batch\": 8}},\n"
                     " \"cells\": [{\"name\": \"good\"}, {\"name\": \"typo\", \"layres\": 2},\n"
                     "           {\"name\": \"heads\", \"d-model\": 10, \"heads\": 3}],\n"
                     " \"seeds\": [1, 2]}\n");
    expect_fast_fail("experiment: unknown profile", NULL,
                     ARGS("experiment", "--spec", spec, "--results", results, "--profile", "fast"), NULL,
                     "no profile \"fast\"", "known: quick, paper");
    char *o, *e;
    double t0 = now_s();
    int rc = run(ARGS("experiment", "--spec", spec, "--results", results, "--dry-run"), &o, &e);
    CHECK(rc == 2, "experiment --dry-run with bad cells: exit %d, expected 2 (as the real run)", rc);
    CHECK(strstr(e, "6 cells, 0 already done, 4 failed"), "dry run does not count 4 of 6 failing: %s", e);
    CHECK(strstr(e, "typo seed 1 would fail") && strstr(e, "--layres") && strstr(e, "heads seed 2 would fail") &&
              strstr(e, "--heads 3"), "dry run does not say which cells fail and why: %s", e);
    CHECK(!strstr(e, "good seed 1 would fail"), "dry run refuses the good cell: %s", e);
    CHECK(access(results, F_OK) != 0, "experiment --dry-run created %s", results);
    free(o);
    free(e);
    /* the real run: refused as a whole, in one line, before any cell trains or anything is made */
    expect_fail("experiment with bad cells", NULL, ARGS("experiment", "--spec", spec, "--results", results), NULL,
                "cell typo seed 1", "--layres");
    CHECK(access(results, F_OK) != 0, "a refused experiment created %s", results);
    CHECK(now_s() - t0 < 20, "checking the experiment's cells took %.1f s", now_s() - t0);
    write_text(spec, "{\"name\": \"probe\", \"command\": \"train\", \"base\": {\"steps\": 100000000, \"d-model\": 8,"
                     " \"heads\": 1}, \"profiles\": {\"quick\": {}}, \"cells\": [{\"name\": \"good\"}], \"seeds\": [1]}");
    rc = run(ARGS("experiment", "--spec", spec, "--results", results, "--dry-run"), &o, &e);
    CHECK(rc == 0 && strstr(e, "1 cells, 0 already done, 0 failed"), "a good spec's dry run: exit %d: %s", rc, e);
    free(o);
    free(e);
    path_in(cell_dir, sizeof cell_dir, "dry.json");
    ok("train --dry-run", ARGS("train", HUGE, "--dry-run", "--out", cell_dir));
    CHECK(left_nothing(cell_dir), "train --dry-run wrote %s", cell_dir);
}

/* f. a config given by --paper or --model sets every size: a size beside it is an error */
static void params_sizes_with_config(void)
{
    char paper_dir[600];
    snprintf(paper_dir, sizeof paper_dir, "%s/configs/paper", src);
    expect_fast_fail("params --paper with --layers", NULL,
                     ARGS("params", "--paper", "llama2-7b", "--paper-dir", paper_dir, "--layers", "3"), NULL, "--layers",
                     "--paper");
    expect_fast_fail("params --model with --d-model", NULL, ARGS("params", "--model", gold, "--d-model", "128"), NULL,
                     "--d-model", "--model");
}

/* h. a JSON syntax error names the character found, escaped or with its code point */
static void json_messages(void)
{
    static const struct { const char *text, *kw, *kw2; } cases[] = {
        {"{\"steps\": 10 \"d-model\": 8}", "column 14", "expected ',' or '}', found '\"'"},
        {"{\n  \"steps\": \xe2\x80\x9c" "10\xe2\x80\x9d\n}", "line 2, column 12", "U+201C"},
        {"{\"steps\": 10,}", "column 14", "trailing comma"},
        {"{'steps': 10}", "column 2", "found \"'\""},
        {"{\"steps\": 10}\n\x01", "line 2, column 1", "'\\x01'"},
    };
    char cfg[600];
    path_in(cfg, sizeof cfg, "syntax.json");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_text(cfg, cases[i].text);
        expect_fast_fail(cases[i].kw2, NULL, ARGS("train", HUGE, "--config", cfg), NULL, cases[i].kw, cases[i].kw2);
    }
}

/* i, j, k. numbers a person reads: integer ranges, counts in K/M/B, the paper configs listed by size */
static void numbers_read(void)
{
    char out[600], paper_dir[600];
    path_in(out, sizeof out, "never.json");
    snprintf(paper_dir, sizeof paper_dir, "%s/configs/paper", src);
    expect_fast_fail("range as integers", NULL, ARGS("train", "--batch", "0", "--out", out), out, "[1, 1048576]", NULL);
    char *o, *e;
    int rc = run(ARGS("train", "--help"), &o, &e);
    CHECK(rc == 0 && strstr(o, "--batch") && strstr(o, "range [1, 1048576]"), "train --help shows no integer range "
          "for --batch: %.300s", strstr(o, "--batch") ? strstr(o, "--batch") : o);
    CHECK(!strstr(o, "e+0"), "train --help prints a number in exponent form: %.200s", strstr(o, "e+0"));
    free(o);
    free(e);
    rc = run(ARGS("params", "--paper", "jamba-v0.1", "--paper-dir", paper_dir), &o, &e);
    CHECK(rc == 0 && strstr(o, "(51.57B)") && strstr(o, "(12.11B) per token"), "params jamba-v0.1: %s%s", o, e);
    free(o);
    free(e);
    rc = run(ARGS("params", "--paper", "list", "--paper-dir", paper_dir), &o, &e);
    const char *g100 = strstr(o, "\ngriffin-100m "), *g13 = strstr(o, "\ngriffin-1.3b "), *g14 = strstr(o, "\ngriffin-14b ");
    const char *hawk = strstr(o, "\nhawk-100m "), *m130 = strstr(o, "\nmamba-130m ");
    CHECK(rc == 0 && g100 && g13 && g14 && hawk && g100 < g13 && g13 < g14 && g14 < hawk,
          "params --paper list is not sorted by family, then size: %s", o);
    CHECK(m130 && strstr(m130, "129.14M") && strstr(m130, "Gu and Dao") < strchr(m130 + 1, '\n'),
          "params --paper list: mamba-130m's line lacks its size or source: %.120s", m130 ? m130 : o);
    int lines = 0, bare = 0;
    for (const char *p = strchr(o, '\n'); p && p[1]; p = strchr(p + 1, '\n')) { /* every row after the header */
        lines++;
        const char *end = strchr(p + 1, '\n');
        const char *paren = strstr(p + 1, "arXiv");
        bare += !paren || (end && paren > end);
    }
    CHECK(lines >= 30 && bare == 0, "params --paper list: %d rows, %d without a paper source", lines, bare);
    free(o);
    free(e);
}

/* l. report with no results says so and writes nothing */
static void report_empty(void)
{
    char specs[600], results[600], spec[700], md[700];
    path_in(specs, sizeof specs, "report_specs");
    path_in(results, sizeof results, "report_results");
    mkdir(specs, 0755);
    mkdir(results, 0755);
    snprintf(spec, sizeof spec, "%s/probe.json", specs);
    write_text(spec, "{\"name\": \"probe\", \"command\": \"train\", \"cells\": [{\"name\": \"a\"}], \"seeds\": [1]}");
    snprintf(md, sizeof md, "%s/REPORT.md", results);
    expect_fast_fail("report with no results", NULL, ARGS("report", "--any-settings", "--experiments", specs, "--results", results), md,
                     "no results", results);
}

/* ---- 7. what a new user met (issue 28) ---- */

/* The line of `text` that starts with `start` (after spaces), as a new string; NULL if none. */
static char *line_of(const char *text, const char *start)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        const char *q = p + strspn(p, " ");
        if (strncmp(q, start, strlen(start))) continue;
        size_t len = strcspn(q, "\n");
        char *l = malloc(len + 1);
        memcpy(l, q, len);
        l[len] = '\0';
        return l;
    }
    return NULL;
}

/* eval takes the checkpoint's task: its help must not promise copy */
static void eval_help_task(void)
{
    char *o, *e;
    int rc = run(ARGS("eval", "--help"), &o, &e);
    char *task = line_of(o, "--task ");
    CHECK(rc == 0 && task && !strstr(task, "default copy") && strstr(task, "checkpoint"),
          "eval --help: the --task line should name the checkpoint's task as the default: %s", task ? task : o);
    free(task);
    free(o);
    free(e);
}

/* --dry-run prints how preset, --config and the command line merged: every option on stdout with its value and
 * where it came from, the given ones before the defaults; stderr keeps its one "dry run" line */
static void dry_run_resolved(void)
{
    char cfg[600], from_cfg[700], spec[600], results[600];
    path_in(cfg, sizeof cfg, "dry_cfg.json");
    write_text(cfg, "{\"steps\": 3000, \"d_model\": 32}");
    char *o, *e;
    int rc = run(ARGS("train", "--preset", "mamba-table2-cpu", "--arch", "transformer", "--config", cfg, "--lr",
                      "0.002", "--dry-run"), &o, &e);
    CHECK(rc == 0 && strstr(e, "dry run") && strchr(e, '\n') && !strchr(e, '\n')[1],
          "train --dry-run: exit %d, stderr: %s", rc, e);
    snprintf(from_cfg, sizeof from_cfg, "# --config %s", cfg);
    static const struct { const char *option, *from; } want[] = {
        {"--lr 0.002 ", "# command line"},                                   /* over the preset's by_arch 1e-3 */
        {"--pattern '*' ", "# preset mamba-table2-cpu, by_arch transformer"}, /* quoted as a shell reads it */
        {"--d-model 32 ", NULL},                                             /* --config over by_arch's 128 */
        {"--steps 3000 ", NULL},                                             /* --config over by_arch's 2000 */
        {"--heads 8 ", "# preset mamba-table2-cpu, by_arch transformer"},
        {"--task induction ", "# preset mamba-table2-cpu"},
        {"--seed 1 ", "# default"},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        char *l = line_of(o, want[i].option);
        const char *from = want[i].from ? want[i].from : from_cfg;
        CHECK(l && strstr(l, from) && !strcmp(strstr(l, from), from), "train --dry-run: want \"%s... %s\", got \"%s\"",
              want[i].option, from, l ? l : o);
        free(l);
    }
    const char *first_default = strstr(o, "# default\n"), *last_given = strstr(o, "--dry-run true ");
    CHECK(first_default && last_given && last_given < first_default, "train --dry-run: the given options do not "
          "come before the defaults: %s", o);
    free(o);
    free(e);
    rc = run(ARGS("bench", "decode", "--arch", "mamba", "--d-model", "16", "--dry-run"), &o, &e);
    char *l = line_of(o, "--d-model 16 ");
    CHECK(rc == 0 && l && strstr(l, "# command line") && strstr(e, "dry run"), "bench decode --dry-run: %d %s%s", rc,
          o, e);
    free(l);
    free(o);
    free(e);
    /* experiment checks each cell with its command's --dry-run: the settings must not reach its output */
    path_in(spec, sizeof spec, "dry_spec.json");
    path_in(results, sizeof results, "dry_results");
    write_text(spec, "{\"name\": \"probe\", \"command\": \"train\", \"base\": {\"steps\": 100000000, \"d-model\": 8,"
                     " \"heads\": 1}, \"profiles\": {\"quick\": {}}, \"cells\": [{\"name\": \"good\"}],"
                     " \"seeds\": [1]}");
    rc = run(ARGS("experiment", "--spec", spec, "--results", results, "--dry-run"), &o, &e);
    CHECK(rc == 0 && !*o && !strstr(e, "resolved settings") && !strstr(e, "# default"),
          "experiment --dry-run shows its cells' settings: exit %d, stdout %.200s, stderr %.300s", rc, o, e);
    free(o);
    free(e);
}

/* Outputs by design (README, Getting started): a --out file and a --save checkpoint go into directories train
 * makes with their parents (`--out runs/x.json` works on a fresh clone), only when it writes them: a dry run or
 * a run refused for another reason makes nothing, and a path that cannot be made is refused before any work. */
static void output_directories(void)
{
    char save[700], out[700], missing[700], p[800];
    path_in(save, sizeof save, "made/by/train");
    path_in(out, sizeof out, "made_by_out/R.json");
    path_in(missing, sizeof missing, "made");
    ok("train --save and --out into missing directories, dry run",
       ARGS("train", HUGE, "--save", save, "--out", out, "--dry-run"));
    CHECK(access(missing, F_OK) != 0, "train --save --dry-run made %s", missing);
    path_in(p, sizeof p, "made_by_out");
    CHECK(access(p, F_OK) != 0, "train --out --dry-run made %s", p);
    expect_fast_fail("train --out in a missing directory, refused for its --lr", NULL,
                     ARGS("train", HUGE, "--save", save, "--out", out, "--lr", "-1"), NULL, "--lr", NULL);
    CHECK(access(missing, F_OK) != 0 && access(p, F_OK) != 0, "a refused train made %s or %s", missing, p);
    ok("train --save and --out into missing directories", TRAIN_SMALL(out, save));
    CHECK(access(out, F_OK) == 0, "train --out did not make %s with its parents", out);
    snprintf(p, sizeof p, "%s/model.safetensors", save);
    CHECK(access(p, F_OK) == 0, "train --save did not make %s with its parents", p);
}

/* ---- 8. --steps 0: the initial weights ---- */

#define TRAIN_INIT(steps, lr, out, save)                                                                          \
    ARGS("train", "--task", "copy", "--max-len", "4", "--alphabet", "4", "--steps", steps, "--lr", lr,            \
         "--warmup", "0", "--weight-decay", "0", "--batch", "8", "--d-model", "16", "--heads", "2", "--out", out, \
         "--save", save, "--eval-seqs", "20", "--threads", "1")

/* Largest |a - b - tol(a)| over every tensor of two checkpoints (1 if their tensors differ in name or size),
 * with tol(a) = 1e-9 + 2^-23 |a|: one Adam step at lr 1e-9 moves a weight by at most 1e-9 (m/sqrt(v) is
 * sign(g) at the first step) plus the rounding of the result. *moved: how many elements differ at all. */
static double init_excess(const char *d0, const char *d1, size_t *moved)
{
    char p0[700], p1[700];
    snprintf(p0, sizeof p0, "%s/model.safetensors", d0);
    snprintf(p1, sizeof p1, "%s/model.safetensors", d1);
    StFile a, b;
    Err e = {{0}};
    *moved = 0;
    if (st_open(&a, p0, &e)) { CHECK(0, "%s", e.msg); return 1; }
    if (st_open(&b, p1, &e)) { CHECK(0, "%s", e.msg); st_close(&a); return 1; }
    double worst = a.n == b.n ? -1 : 1;
    for (int i = 0; i < a.n && worst < 1; i++) {
        const StTensor *ta = &a.t[i], *tb = st_find(&b, ta->name);
        if (!tb || tb->numel != ta->numel) { worst = 1; break; }
        float *x = malloc(sizeof(float) * ta->numel), *y = malloc(sizeof(float) * ta->numel);
        if (x && y && !st_read_f32(&a, ta, x, ta->numel, &e) && !st_read_f32(&b, tb, y, tb->numel, &e))
            for (size_t j = 0; j < ta->numel; j++) {
                double d = fabs((double)x[j] - y[j]), over = d - (1e-9 + ldexp(fabs(x[j]), -23));
                *moved += d > 0;
                worst = over > worst ? over : worst;
            }
        else worst = 1;
        free(x);
        free(y);
    }
    st_close(&a);
    st_close(&b);
    return worst;
}

static void initial_weights(void)
{
    char out[600], d0[600], d1[600];
    path_in(out, sizeof out, "I0.json");
    path_in(d0, sizeof d0, "I0");
    path_in(d1, sizeof d1, "I1");
    ok("train --steps 0", TRAIN_INIT("0", "0.001", out, d0));
    cJSON *r = read_json(out);
    CHECK(r && num(r, "metrics.steps") == 0 && cJSON_GetArraySize(get(r, "loss_curve")) == 0 &&
              !get(r, "metrics.final_train_loss") && get(r, "metrics.eval"),
          "train --steps 0: metrics.steps %g, %d loss_curve points, a final_train_loss or no eval",
          r ? num(r, "metrics.steps") : -1, r ? cJSON_GetArraySize(get(r, "loss_curve")) : -1);
    cJSON_Delete(r);
    path_in(out, sizeof out, "I1.json");
    ok("train --steps 1 --lr 1e-9", TRAIN_INIT("1", "1e-9", out, d1));
    /* one step at lr 1e-9 from the same seed: within that step of the --steps 0 weights, and moved by it */
    size_t moved;
    double excess = init_excess(d0, d1, &moved);
    CHECK(excess <= 0, "--steps 0 vs one step at lr 1e-9: %.3g beyond the step's reach (not the initial weights)",
          excess);
    CHECK(moved > 0, "--steps 0 and one step at lr 1e-9 saved the same weights: the step did not show");
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int main(void)
{
    bin = getenv("SEQ_BINARY");
    src = getenv("SEQ_SOURCE_DIR");
    if (!bin || !*bin) bin = "build/seqbench";
    if (!src || !*src) src = ".";
    snprintf(gold, sizeof gold, "%s/tests/golden/llama_gqa", src);
    if (access(bin, X_OK)) {
        perror(bin);
        return 1;
    }
    if (!check_tmpdir(tmp, sizeof tmp, "seqbench_cli")) return 1;
    bad_options();
    bad_safetensors();
    bad_configs();
    bad_mamba_checkpoint();
    bad_recurrent_gemma_config();
    bad_tokens();
    bad_sizes();
    golden();
    end_to_end();
    determinism();
    config_file();
    param_budget();
    lru_blocks();
    outputs_checked_first();
    heads_divide_width();
    threads_capped();
    config_types();
    experiment_checks();
    params_sizes_with_config();
    json_messages();
    numbers_read();
    report_empty();
    eval_help_task();
    dry_run_resolved();
    output_directories();
    initial_weights();
    nftw(tmp, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return check_summary();
}
