/* The lm task (issue 31) against what docs/tasks.md promises:
 *   0. a directory is its files in name order;
 *   1. the split: blocks partition the corpus about 90/5/5, a seed gives one
 *      split and another seed another, and no validation or test window
 *      touches a training byte (nor a training window a held-out one), for
 *      several seeds and lengths; make_batch's windows are the draws;
 *   2. the layout: input the window's first n bytes, target the next byte,
 *      every position scored;
 *   3. a model that predicts uniformly (all weights 0: every logit 0) scores
 *      exactly 8 bits per byte, at every position;
 *   3a. --bpe: tokens decode to the text, merges stay inside chunks and come
 *      from the training split alone, and bits per byte count the bytes the
 *      scored tokens stand for;
 *   3b. the loss by position: buckets 1, 2, 3-4, 5-8, ... cover every position
 *      once per window, their token-weighted mean is the loss, and the
 *      decode path (a recurrent model) fills them as the parallel one;
 *   4. a tiny model overfits a 1 KB text to near-zero training loss;
 *   5. the command line: a missing, empty or binary file, a text too short,
 *      --data without lm and lm without --data are one-line errors (status
 *      2) before any work, as is an eval length the text cannot hold; a short run records the corpus and its bits per
 *      byte, and the corpus's identity (not its path) is in the settings
 *      digest. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "check.h"
#include "core/jsonio.h"
#include "models/model_args.h"
#include "tasks/corpus.h"
#include "tasks/eval.h"
#include "tasks/task.h"
#include "tasks/train.h"

static const char *bin;
static char tmp[512];

/* Text of n bytes made of words from a fixed list by a seeded stream: prose
 * enough for a byte model, with no NUL byte. */
static char *make_text(size_t n, uint64_t seed)
{
    static const char *words[] = {"the", "river", "runs", "past", "a", "mill", "where", "grain", "is", "ground",
                                  "into", "flour", "and", "bread", "feeds", "town", "each", "morning", "under",
                                  "grey", "sky", "while", "children", "walk", "to", "school"};
    char *t = malloc(n + 1);
    Rng r;
    rng_seed(&r, seed);
    size_t k = 0;
    while (k < n) {
        const char *w = words[rng_below(&r, sizeof words / sizeof *words)];
        for (const char *p = w; *p && k < n; p++) t[k++] = *p;
        if (k < n) t[k++] = rng_below(&r, 12) ? ' ' : '\n';
    }
    t[n] = '\0';
    return t;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) { perror(path); exit(1); }
}

static Corpus *load(const char *path)
{
    Err e;
    Corpus *c = corpus_load(path, &e);
    if (!c) { fprintf(stderr, "%s\n", e.msg); exit(1); }
    return c;
}

/* A corpus split at seed 1 into the standard blocks, as train and eval split it. */
static Corpus *load_split(const char *path)
{
    Corpus *c = load(path);
    Err e;
    if (corpus_split(c, 1, CORPUS_BLOCK, &e)) { fprintf(stderr, "%s\n", e.msg); exit(1); }
    return c;
}

/* The split of byte i, from the spans. */
static int split_of(const Corpus *c, size_t i)
{
    for (int k = 0; k < c->n_spans; k++)
        if (i >= c->spans[k].start && i < c->spans[k].start + c->spans[k].len) return c->span_split[k];
    return -1;
}

static void check_split(const char *path)
{
    Corpus *c = load(path);
    unsigned char *owner = malloc(c->n_bytes);
    int other_seed_differs = 0;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        Err e;
        CHECK(!corpus_split(c, seed, CORPUS_BLOCK, &e), "seed %llu: %s", (unsigned long long)seed, e.msg);
        /* the spans tile the corpus in order, each of whole blocks but the last */
        size_t at = 0, by[3] = {0, 0, 0};
        int tiled = 1;
        for (int k = 0; k < c->n_spans; k++) {
            tiled &= c->spans[k].start == at && (at % CORPUS_BLOCK) == 0;
            at += c->spans[k].len;
            by[c->span_split[k]] += c->spans[k].len;
            if (k) tiled &= c->span_split[k] != c->span_split[k - 1];
        }
        CHECK(tiled && at == c->n_bytes, "seed %llu: spans do not tile the corpus", (unsigned long long)seed);
        size_t nb = (c->n_bytes + CORPUS_BLOCK - 1) / CORPUS_BLOCK, held = (nb + 10) / 20;
        CHECK(by[SPLIT_TEST] >= (held - 1) * CORPUS_BLOCK && by[SPLIT_TEST] <= held * CORPUS_BLOCK &&
                  by[SPLIT_VALIDATION] >= (held - 1) * CORPUS_BLOCK && by[SPLIT_VALIDATION] <= held * CORPUS_BLOCK,
              "seed %llu: %zu test and %zu validation bytes, want %zu blocks each", (unsigned long long)seed,
              by[SPLIT_TEST], by[SPLIT_VALIDATION], held);
        for (int s = 0; s < 3; s++)
            CHECK(by[s] == c->split_bytes[s], "seed %llu: split_bytes[%d]", (unsigned long long)seed, s);
        for (size_t i = 0; i < c->n_bytes; i++) {
            int o = split_of(c, i);
            if (seed > 1 && o != owner[i]) other_seed_differs = 1;
            owner[i] = (unsigned char)o;
        }
        /* Every window of every split, drawn as make_batch draws them, lies in that split's bytes only. */
        static const int lengths[] = {1, 64, 1000, 4000};
        for (TaskSplit s = SPLIT_TRAIN; s <= SPLIT_TEST; s++)
            for (size_t li = 0; li < sizeof lengths / sizeof *lengths; li++) {
                size_t w = (size_t)lengths[li] + 1, leaks = 0;
                if (corpus_longest(c, s) < w) continue;
                Rng r = rng_fork(seed, 10 + s);
                for (int d = 0; d < 2000; d++) {
                    size_t start = corpus_draw(c, s, w, &r);
                    leaks += start + w > c->n_bytes || owner[start] != s || owner[start + w - 1] != s ||
                             split_of(c, start + w - 1) != (int)s;
                    /* the window is inside one span: its first and last bytes are in the same one */
                    for (int k = 0; k < c->n_spans; k++)
                        if (start >= c->spans[k].start && start < c->spans[k].start + c->spans[k].len)
                            leaks += start + w > c->spans[k].start + c->spans[k].len;
                }
                CHECK(leaks == 0, "seed %llu, %s windows of %zu bytes: %zu leave the split", (unsigned long long)seed,
                      corpus_split_name(s), w, leaks);
            }
        /* a second split with the same seed is the same split */
        unsigned char *again = malloc(c->n_bytes);
        CHECK(!corpus_split(c, seed, CORPUS_BLOCK, &e), "resplit");
        for (size_t i = 0; i < c->n_bytes; i++) again[i] = (unsigned char)split_of(c, i);
        CHECK(!memcmp(again, owner, c->n_bytes), "seed %llu: the split is not a function of the seed",
              (unsigned long long)seed);
        free(again);
    }
    CHECK(other_seed_differs, "seeds 1..5 all split the corpus the same way");
    free(owner);
    corpus_free(c);
}

/* make_batch: the window is the draw, input its first n bytes, target the byte after each, every position scored. */
static void check_layout(const char *path)
{
    const Task *t = task_find("lm");
    CHECK(t && t->text && t->vocab_size(NULL) == 256, "lm: a text task of 256 tokens");
    Corpus *c = load(path);
    Err e;
    corpus_split(c, 3, CORPUS_BLOCK, &e);
    TaskCfg cfg = {.min_len = 20, .max_len = 100, .corpus = c};
    Batch b;
    if (batch_alloc(&b, 16, 100, &e)) exit(1);
    for (TaskSplit s = SPLIT_TRAIN; s <= SPLIT_TEST; s++) {
        Rng r = rng_fork(3, 7), mirror = r;
        t->make_batch(&cfg, s, &r, 20, 100, &b);
        int bad = 0;
        for (int i = 0; i < b.B; i++) {
            int n = 20 + (int)rng_below(&mirror, 81);
            size_t start = corpus_draw(c, s, (size_t)n + 1, &mirror);
            for (int p = 0; p < b.T; p++) {
                size_t k = (size_t)i * b.T + p;
                if (p < n)
                    bad += b.tokens[k] != c->bytes[start + p] || b.targets[k] != c->bytes[start + p + 1] || !b.mask[k];
                else bad += b.tokens[k] != 0 || b.mask[k];
            }
        }
        CHECK(bad == 0, "%s: %d positions differ from the layout", corpus_split_name(s), bad);
    }
    batch_free(&b);
    corpus_free(c);
}

/* A directory is its regular files in name order, hidden ones and subdirectories left out. */
static void check_directory(void)
{
    char dir[600], p[700];
    snprintf(dir, sizeof dir, "%s/texts", tmp);
    snprintf(p, sizeof p, "mkdir -p '%s/sub'", dir);
    CHECK(system(p) == 0, "mkdir");
    static const struct { const char *name, *text; } files[] = {
        {"b.txt", "second "}, {"a.txt", "first "}, {"C.txt", "capital "}, {".hidden", "never "}, {"sub/x.txt", "nor "}};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i].name);
        write_file(p, files[i].text, strlen(files[i].text));
    }
    Corpus *c = load(dir);
    const char *want = "capital first second ";
    CHECK(c->n_files == 3 && c->n_bytes == strlen(want) && !memcmp(c->bytes, want, c->n_bytes),
          "directory: %d files, \"%.*s\" (want 3, \"%s\")", c->n_files, (int)c->n_bytes, (const char *)c->bytes, want);
    corpus_free(c);
}

static ModelCfg tiny_arch(const char *arch, int layers)
{
    ModelArgs a;
    model_args_defaults(&a);
    snprintf(a.arch, sizeof a.arch, "%s", arch);
    a.layers = layers;
    a.d_model = 32;
    a.heads = 2;
    ModelCfg mc;
    Err e;
    if (model_args_to_cfg(&a, 256, &mc, &e)) { fprintf(stderr, "%s\n", e.msg); exit(1); }
    return mc;
}

static ModelCfg tiny_cfg(int layers) { return tiny_arch("transformer", layers); }

/* All weights 0: every logit is 0, the prediction uniform over 256 bytes, ln 256 nats = 8 bits a byte. */
static void check_uniform(const char *path)
{
    const Task *t = task_find("lm");
    Corpus *c = load_split(path);
    Err e;
    TaskCfg cfg = {.min_len = 64, .max_len = 64, .corpus = c};
    ModelCfg mc = tiny_cfg(1);
    Model m;
    if (model_create(&m, &mc, &e)) { fprintf(stderr, "%s\n", e.msg); exit(1); }
    memset(m.params, 0, sizeof(real) * m.n_params);
    EvalResult r;
    CHECK(!eval_length(&m, t, &cfg, 64, 40, 20, 1, &r, &e), "eval: %s", e.msg);
    CHECK(fabs(r.bits_per_byte - 8) < 1e-9 && fabs(r.loss - log(256.0)) < 1e-9,
          "uniform prediction: %.12f bits per byte, %.12f nats (want 8, ln 256)", r.bits_per_byte, r.loss);
    /* and at every position: a length not a power of 2, so the last bucket is cut */
    CHECK(!eval_length(&m, t, &cfg, 100, 20, 20, 1, &r, &e), "eval: %s", e.msg);
    CHECK(r.n_buckets == 8, "length 100: %d position buckets (want 8: 1, 2, 3-4, ..., 65-100)", r.n_buckets);
    for (int k = 0; k < r.n_buckets; k++)
        CHECK(fabs(r.by_position[k].bits_per_byte - 8) < 1e-9, "uniform prediction: %.12f bits per byte at %d-%d",
              r.by_position[k].bits_per_byte, r.by_position[k].from, r.by_position[k].to);
    model_free(&m);
    corpus_free(c);
}

/* The text of tokens tok[0..n) through bpe_bytes. */
static size_t decode(const Bpe *b, const int *tok, size_t n, unsigned char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += (size_t)bpe_bytes(b, tok[i], out + k);
    return k;
}

/* --bpe (tasks/bpe.h): the tokens decode to the text; no merge crosses a chunk (a word's last letter and the space
 * after it, a letter and a digit); training twice gives the same merges; merges come from the training split
 * alone (a word written only into the held-out blocks is never merged); every span's tokens decode to its bytes;
 * a uniform model scores ln V nats a token and log2(V) x tokens / bytes bits a byte, the bytes being those the
 * scored targets stand for. */
static void check_bpe(const char *path)
{
    static const char text[] = "In the beginning God created the heaven and the earth.\n\n1:2 And the earth was without "
                               "form,   and void; café naïve   résumé 12345 67\tthe the the  the\r\n";
    const unsigned char *t = (const unsigned char *)text;
    size_t n = strlen(text);
    Bpe a, b;
    Err e;
    CHECK(!bpe_train(&a, &t, &n, 1, 300, &e) && !bpe_train(&b, &t, &n, 1, 300, &e), "bpe_train: %s", e.msg);
    CHECK(a.n_merges > 5 && a.n_merges < 44 && a.vocab == 256 + a.n_merges,
          "a short text stops early (no pair left twice): %d merges", a.n_merges);
    CHECK(a.n_merges == b.n_merges && !memcmp(a.merge, b.merge, sizeof *a.merge * (size_t)a.n_merges),
          "training twice gives the same merges");
    int tok[400];
    unsigned char back[400];
    size_t k = bpe_encode(&a, t, n, tok);
    CHECK(k < n && decode(&a, tok, k, back) == n && !memcmp(back, t, n), "encode then decode gives the text back");
    int crossing = 0;
    for (int v = 256; v < a.vocab; v++) {
        unsigned char by[BPE_MAX_CHUNK];
        int len = bpe_bytes(&a, v, by);
        CHECK(len == a.len[v], "token %d: %d bytes, len says %d", v, len, a.len[v]);
        for (int i = 0; i + 1 < len; i++) {
            int letter = isalpha(by[i]) || by[i] >= 0x80, next_letter = isalpha(by[i + 1]) || by[i + 1] >= 0x80;
            crossing += (letter && by[i + 1] == ' ') || (letter && isdigit(by[i + 1])) || (isdigit(by[i]) && next_letter);
        }
    }
    CHECK(!crossing, "%d merged tokens cross a chunk boundary", crossing);
    bpe_free(&b);
    CHECK(bpe_train(&b, &t, &n, 1, 256, &e) == -1 && strstr(e.msg, "--bpe 256: a vocabulary of 257 to 65536"),
          "a vocabulary of only the bytes is refused: %s", e.msg);
    bpe_free(&a);
    bpe_free(&b);

    /* the corpus: a word only in held-out blocks never becomes a token */
    Corpus *c = load_split(path);
    for (int i = 0; i < c->n_spans; i++)
        if (c->span_split[i] != SPLIT_TRAIN)
            for (size_t j = 0; j + 6 < c->spans[i].len; j += 7) memcpy(c->bytes + c->spans[i].start + j, " QXZQXZ", 7);
    CHECK(!corpus_tokenize(c, 300, &e), "corpus_tokenize: %s", e.msg);
    int held_out_merged = 0;
    for (int v = 256; v < c->bpe.vocab; v++) {
        unsigned char by[BPE_MAX_CHUNK];
        int len = bpe_bytes(&c->bpe, v, by);
        held_out_merged += memchr(by, 'Q', (size_t)len) || memchr(by, 'X', (size_t)len) || memchr(by, 'Z', (size_t)len);
    }
    CHECK(c->bpe.vocab == 300 && !held_out_merged, "%d of %d tokens hold held-out text", held_out_merged, c->bpe.vocab);
    size_t tokens = 0;
    int spans_back = 1;
    unsigned char *buf = malloc(c->n_bytes);
    for (int i = 0; i < c->n_spans; i++) {
        size_t got = decode(&c->bpe, c->tokens + c->tok_spans[i].start, c->tok_spans[i].len, buf);
        spans_back &= got == c->spans[i].len && !memcmp(buf, c->bytes + c->spans[i].start, got);
        tokens += c->tok_spans[i].len;
    }
    free(buf);
    CHECK(spans_back && tokens == c->split_tokens[0] + c->split_tokens[1] + c->split_tokens[2] && tokens < c->n_bytes * 3 / 5,
          "every span's tokens decode to its bytes (%zu tokens for %zu bytes)", tokens, c->n_bytes);

    corpus_free(c);

    /* a uniform model over V tokens, with the windows the eval draws made again to count their bytes */
    c = load_split(path);
    CHECK(!corpus_tokenize(c, 300, &e), "corpus_tokenize: %s", e.msg);
    const Task *lm = task_find("lm");
    TaskCfg cfg = {.min_len = 64, .max_len = 64, .bpe = 300, .corpus = c};
    CHECK(lm->vocab_size(&cfg) == 300, "the task's vocabulary is the BPE's");
    ModelArgs ma;
    model_args_defaults(&ma);
    ma.layers = 1, ma.d_model = 32, ma.heads = 2;
    ModelCfg mc;
    Model m;
    if (model_args_to_cfg(&ma, 300, &mc, &e) || model_create(&m, &mc, &e)) { fprintf(stderr, "%s\n", e.msg); exit(1); }
    memset(m.params, 0, sizeof(real) * m.n_params);
    EvalResult r;
    CHECK(!eval_length(&m, lm, &cfg, 64, 40, 20, 1, &r, &e), "eval: %s", e.msg);
    Batch bt;
    if (batch_alloc(&bt, 40, 64, &e)) exit(1);
    Rng rng = eval_stream(1, 64, 0);
    lm->make_batch(&cfg, SPLIT_TEST, &rng, 64, 64, &bt);
    double bytes = 0;
    for (int i = 0; i < 40 * 64; i++) bytes += c->bpe.len[bt.targets[i]];
    double want = 40 * 64 * log(300.0) / bytes / log(2.0);
    CHECK(fabs(r.loss - log(300.0)) < 1e-9 && fabs(r.bits_per_byte - want) < 1e-9 && bytes > 2 * 40 * 64,
          "uniform over 300 tokens: %.12f nats (ln 300 = %.12f), %.12f bits a byte over %.0f bytes (want %.12f)",
          r.loss, log(300.0), r.bits_per_byte, bytes, want);
    batch_free(&bt);
    model_free(&m);
    corpus_free(c);
}

/* The buckets of r (n positions, seqs windows) tile 1..n in doubling widths (1, 2, 3-4, 5-8, ...), each
 * position scored once per window, and their token-weighted mean is the overall loss. */
static void check_buckets(const char *label, const EvalResult *r, int n, int seqs)
{
    double sum = 0;
    long tokens = 0;
    int next = 1;
    for (int k = 0; k < r->n_buckets; k++) {
        const EvalBucket *b = &r->by_position[k];
        int want_from = k ? (1 << (k - 1)) + 1 : 1, want_to = 1 << k < n ? 1 << k : n;
        CHECK(b->from == next && b->from == want_from && b->to == want_to &&
                  b->tokens == (long)seqs * (want_to - want_from + 1),
              "%s: bucket %d is %d-%d with %ld tokens (want %d-%d, %ld)", label, k, b->from, b->to, b->tokens,
              want_from, want_to, (long)seqs * (want_to - want_from + 1));
        CHECK(fabs(b->bits_per_byte - b->loss / log(2.0)) <= 1e-12 * b->loss, "%s: bucket %d bits per byte", label, k);
        next = b->to + 1;
        sum += b->loss * (double)b->tokens;
        tokens += b->tokens;
    }
    CHECK(next == n + 1 && tokens == (long)seqs * n, "%s: buckets end at %d with %ld tokens (want %d, %ld)", label,
          next - 1, tokens, n, (long)seqs * n);
    CHECK(fabs(sum / (double)tokens - r->loss) <= 1e-9 * r->loss, "%s: buckets' mean %.12f, overall loss %.12f", label,
          sum / (double)tokens, r->loss);
}

/* Loss by position on a model that is not uniform (random weights): the buckets' arithmetic at a length
 * that is a power of 2 and one that is not, and for a recurrent model the decode path (eval's choice
 * beyond EVAL_PARALLEL_MAX_T) puts every position in the bucket the parallel path does. */
static void check_by_position(const char *path)
{
    const Task *t = task_find("lm");
    Corpus *c = load_split(path);
    Err e;
    TaskCfg cfg = {.min_len = 64, .max_len = 64, .corpus = c};
    const char *archs[2] = {"transformer", "hawk"};
    for (int a = 0; a < 2; a++) {
        ModelCfg mc = tiny_arch(archs[a], 1);
        Model m;
        if (model_create(&m, &mc, &e)) { fprintf(stderr, "%s\n", e.msg); exit(1); }
        model_init_weights(&m, 3);
        int lengths[2] = {64, 200};
        for (int i = 0; i < 2; i++) {
            EvalOpts par = {12, 6, 1, EVAL_PARALLEL, 0, 0}, dec = par;
            dec.path = EVAL_DECODE;
            EvalResult r, d;
            char label[64];
            snprintf(label, sizeof label, "%s at %d", archs[a], lengths[i]);
            CHECK(!eval_run(&m, t, &cfg, lengths[i], &par, &r, &e), "%s: %s", label, e.msg);
            check_buckets(label, &r, lengths[i], 12);
            if (a == 0) continue;
            CHECK(!eval_run(&m, t, &cfg, lengths[i], &dec, &d, &e), "%s decode: %s", label, e.msg);
            check_buckets(label, &d, lengths[i], 12);
            for (int k = 0; k < r.n_buckets; k++)
                CHECK(fabs(r.by_position[k].loss - d.by_position[k].loss) <= 1e-4 * r.by_position[k].loss,
                      "%s: bucket %d-%d: parallel %.6f, decode %.6f nats", label, r.by_position[k].from,
                      r.by_position[k].to, r.by_position[k].loss, d.by_position[k].loss);
        }
        model_free(&m);
    }
    corpus_free(c);
}

/* Mean cross-entropy (nats) of the model's predictions at positions >= from of b's windows. */
static double loss_from(Model *m, const Batch *b, int from)
{
    Err e;
    int V = m->cfg.vocab_size;
    if (model_reserve_inference(m, b->B, b->T, &e)) { fprintf(stderr, "%s\n", e.msg); exit(1); }
    model_forward(m, b->tokens, b->B, b->T);
    double sum = 0;
    long n = 0;
    for (int s = 0; s < b->B; s++)
        for (int t = from; t < b->T; t++) {
            const real *z = m->logits + ((size_t)s * b->T + t) * V;
            double mx = z[0], se = 0;
            for (int v = 1; v < V; v++) mx = z[v] > mx ? z[v] : mx;
            for (int v = 0; v < V; v++) se += exp((double)z[v] - mx);
            sum += log(se) + mx - (double)z[b->targets[(size_t)s * b->T + t]];
            n++;
        }
    return sum / n;
}

/* A 1 KB text, blocks of 64 bytes (14 training, 1 validation, 1 test), windows of 64: a 2-layer d_model 32
 * Transformer learns the training text by heart. A window's first bytes cannot say where in the text it
 * starts, so their loss cannot go to 0: the bound is on the predictions with OVERFIT_CONTEXT bytes or more
 * before them, which place it. Measured 2026-12-07 (Zen 5, 2 threads, AVX-512 and SEQBENCH_CPU=avx2 alike):
 * 0.018 nats there after 400 steps (0.126 over all positions; 0.016 with 1 thread), 0.004 after 600;
 * the bound is 8x that, room for another CPU's trajectory. */
#define OVERFIT_STEPS 400
#define OVERFIT_CONTEXT 32
#define OVERFIT_LOSS 0.15
static void check_overfit(void)
{
    const Task *t = task_find("lm");
    char *text = make_text(1024, 11), path[600];
    snprintf(path, sizeof path, "%s/1k.txt", tmp);
    write_file(path, text, 1024);
    free(text);
    Corpus *c = load(path);
    Err e;
    CHECK(!corpus_split(c, 1, 64, &e), "1 KB split: %s", e.msg);
    TaskCfg cfg = {.min_len = 64, .max_len = 64, .corpus = c};
    ModelCfg mc = tiny_cfg(2);
    Model m;
    if (model_create(&m, &mc, &e)) { fprintf(stderr, "%s\n", e.msg); exit(1); }
    model_init_weights(&m, 1);
    TrainCfg tc;
    train_defaults(&tc);
    tc.steps = OVERFIT_STEPS;
    tc.batch = 16;
    tc.lr = 1e-2;
    tc.warmup = 20;
    tc.weight_decay = 0;
    tc.val_seqs = 0;
    TrainResult tr;
    int rc = train_run(&m, t, &cfg, &tc, &tr, &e);
    CHECK(!rc && !tr.diverged, "overfit: training failed");
    Batch b;
    if (batch_alloc(&b, 64, 64, &e)) exit(1);
    Rng r = rng_fork(99, 1);
    t->make_batch(&cfg, SPLIT_TRAIN, &r, 64, 64, &b);
    double placed = loss_from(&m, &b, OVERFIT_CONTEXT), all = loss_from(&m, &b, 0);
    printf("overfit: after %d steps (%.2f s), training text: %.4f nats at positions >= %d, %.4f at all\n",
           tc.steps, tr.wall_seconds, placed, OVERFIT_CONTEXT, all);
    CHECK(placed < OVERFIT_LOSS, "a tiny model does not overfit 1 KB: %.4f nats at positions >= %d (want < %g)",
          placed, OVERFIT_CONTEXT, OVERFIT_LOSS);
    batch_free(&b);
    model_free(&m);
    corpus_free(c);
}

/* A number of a result object, NAN when it is missing. */
static double check_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Runs cmd with stderr into err.txt and stdout into out.txt; the exit status. */
static int sh(const char *cmd)
{
    char full[4096];
    snprintf(full, sizeof full, "%s 2>'%s/err.txt' >'%s/out.txt'", cmd, tmp, tmp);
    int st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A refused run: status 2, one stderr line "seqbench: ..." holding kw, nothing on stdout, no result. */
static void expect_refused(const char *label, const char *args, const char *kw)
{
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "'%s' train %s --steps 5 --d-model 8 --heads 1 --out '%s/r.json'", bin, args, tmp);
    int rc = sh(cmd);
    char *err = check_slurp(tmp, "err.txt"), *out = check_slurp(tmp, "out.txt"), *nl = strchr(err, '\n');
    CHECK(rc == 2 && !strncmp(err, "seqbench: ", 10) && nl && !nl[1] && strstr(err, kw) && !*out,
          "%s: want status 2 and one line naming \"%s\", got %d [%s] stdout [%.80s]", label, kw, rc, err, out);
    char r[600];
    snprintf(r, sizeof r, "%s/r.json", tmp);
    FILE *f = fopen(r, "r");
    CHECK(!f, "%s: a result was written", label);
    if (f) fclose(f);
    free(err);
    free(out);
}

static void check_cli(const char *text_path)
{
    char p[600], args[1500];
    /* one file of each kind the loader refuses */
    snprintf(p, sizeof p, "%s/empty.txt", tmp);
    write_file(p, "", 0);
    snprintf(args, sizeof args, "--task lm --data '%s'", p);
    expect_refused("empty file", args, "empty");
    snprintf(p, sizeof p, "%s/nul.bin", tmp);
    char *bytes = make_text(50000, 2);
    bytes[4000] = 0;
    write_file(p, bytes, 50000);
    snprintf(args, sizeof args, "--task lm --data '%s'", p);
    expect_refused("NUL byte", args, "binary file");
    bytes[4000] = 'a';
    for (size_t i = 0; i < 50000; i += 7) bytes[i] = (char)0xFF; /* 14% of bytes never valid in UTF-8 */
    snprintf(p, sizeof p, "%s/latin.bin", tmp);
    write_file(p, bytes, 50000);
    snprintf(args, sizeof args, "--task lm --data '%s'", p);
    expect_refused("invalid UTF-8", args, "not valid UTF-8");
    snprintf(p, sizeof p, "%s/short.txt", tmp);
    write_file(p, bytes + 1, 6); /* "he riv" or the like: one block */
    snprintf(args, sizeof args, "--task lm --data '%s'", p);
    expect_refused("too short to split", args, "too short");
    snprintf(p, sizeof p, "%s/small.txt", tmp);
    free(bytes);
    bytes = make_text(3 * CORPUS_BLOCK, 3);
    write_file(p, bytes, 3 * CORPUS_BLOCK);
    free(bytes);
    snprintf(args, sizeof args, "--task lm --data '%s' --max-len 9000", p);
    expect_refused("too short for the length", args, "too short for length 9000");
    snprintf(args, sizeof args, "--task lm --data '%s' --max-len 64 --eval-lengths 64,8192", p);
    expect_refused("an eval length too long", args, "too short for length 8192");
    /* eval refuses it before reading the weights: no checkpoint needed to see the message */
    snprintf(args, sizeof args, "'%s' eval --model '%s/no-model' --task lm --data '%s' --lengths 64,8192", bin, tmp, p);
    int rc = sh(args);
    char *err = check_slurp(tmp, "err.txt");
    CHECK(rc == 2 && strstr(err, "too short for length 8192") && strchr(err, '\n') == err + strlen(err) - 1,
          "eval at a length the text cannot hold: want status 2 and one line, got %d [%s]", rc, err);
    free(err);
    snprintf(args, sizeof args, "--task lm --data '%s/no-such-file.txt'", tmp);
    expect_refused("missing file", args, "no-such-file.txt: cannot open");
    expect_refused("lm without --data", "--task lm", "lm needs --data");
    snprintf(args, sizeof args, "--task copy --data '%s'", text_path);
    expect_refused("--data for copy", args, "--data is for the lm task (task is copy)");
    expect_refused("unknown debian text", "--task lm --data debian:nothing", "debian:nothing: unknown");
    snprintf(args, sizeof args, "--task copy --bpe 300");
    expect_refused("--bpe for copy", args, "--bpe is for the lm task (task is copy)");
    snprintf(args, sizeof args, "--task lm --data '%s' --bpe 200", text_path);
    expect_refused("--bpe below the bytes", args, "--bpe 200: a vocabulary of 257 to 65536");
    /* a BPE model's checkpoint: its merges saved beside it, eval learns the same ones from its training record
     * (another seed's split would give other merges, and is refused) and scores what train scored */
    snprintf(args, sizeof args, "'%s' train --task lm --data '%s' --bpe 300 --max-len 32 --layers 1 --d-model 16 "
             "--heads 2 --steps 3 --batch 2 --eval-seqs 8 --val-seqs 0 --save '%s/bpe-model' --out '%s/bpe-train.json'",
             bin, text_path, tmp, tmp);
    CHECK(sh(args) == 0, "train --bpe 300 --save");
    snprintf(args, sizeof args, "'%s' eval --model '%s/bpe-model' --seqs 8 --out '%s/bpe-eval.json'", bin, tmp, tmp);
    CHECK(sh(args) == 0, "eval of the BPE checkpoint");
    char *tr_text = check_slurp(tmp, "bpe-train.json"), *ev_text = check_slurp(tmp, "bpe-eval.json");
    cJSON *tr = cJSON_Parse(tr_text), *ev = cJSON_Parse(ev_text);
    free(tr_text);
    free(ev_text);
    const cJSON *tev0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tr, "metrics"), "eval"), 0);
    const cJSON *e0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "metrics"), "eval"), 0);
    const cJSON *tk = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "data"), "tokenizer");
    /* the same windows in batches of 2 and of 8: equal but for the float rounding of the batched products */
    CHECK(tev0 && e0 && fabs(check_num(tev0, "bits_per_byte") / check_num(e0, "bits_per_byte") - 1) < 1e-6 &&
              check_num(tk, "vocab_size") == 300,
          "eval of a BPE checkpoint scores what train scored on the same windows, with its 300 tokens");
    cJSON_Delete(tr);
    cJSON_Delete(ev);
    snprintf(args, sizeof args, "'%s' eval --model '%s/bpe-model' --seqs 8 --seed 2", bin, tmp);
    int rc2 = sh(args);
    char *err2 = check_slurp(tmp, "err.txt");
    CHECK(rc2 == 2 && strstr(err2, "not the ones it was trained with"), "another seed's merges refused: %d [%s]", rc2, err2);
    free(err2);

    snprintf(args, sizeof args, "--task lm --data '%s' --roofline '%s/no-roofline.json'", text_path, tmp);
    expect_refused("missing --roofline file", args, "no-roofline.json");

    /* a short run: the corpus and its split in the result, bits per byte on validation and test; a roofline no
     * machine reaches (as test_bench's), so the fraction is checked by its arithmetic, never by a timing */
    char rf_path[600];
    snprintf(rf_path, sizeof rf_path, "%s/rf.json", tmp);
    FILE *rf = fopen(rf_path, "w");
    CHECK(rf != NULL, "write %s", rf_path);
    if (rf) {
        fputs("{\"roofline\": {\"threads\": 1, \"sgemm_gflops\": 1e7, \"bandwidth_gbs\": 1e6}}\n", rf);
        fclose(rf);
    }
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "'%s' train --task lm --data '%s' --max-len 32 --steps 20 --batch 4 --d-model 16 "
             "--heads 2 --layers 1 --val-seqs 8 --val-every 10 --eval-seqs 16 --threads 1 --roofline '%s' "
             "--out '%s/lm.json'", bin, text_path, rf_path, tmp);
    CHECK(sh(cmd) == 0, "lm train: %s", check_slurp(tmp, "err.txt"));
    char *table = check_slurp(tmp, "out.txt");
    CHECK(strstr(table, "bits/byte by position: 1:") && strstr(table, " 2:") && strstr(table, " 17-32:"),
          "lm train prints the loss by position: [%s]", table);
    free(table);
    char res[600];
    snprintf(res, sizeof res, "%s/lm.json", tmp);
    Err e;
    cJSON *j = json_read_file(res, &e);
    CHECK(j != NULL, "lm result: %s", e.msg);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
    const cJSON *bytes_n = cJSON_GetObjectItemCaseSensitive(data, "bytes");
    const cJSON *sum = cJSON_GetObjectItemCaseSensitive(data, "fnv1a64");
    const cJSON *split = cJSON_GetObjectItemCaseSensitive(data, "split");
    CHECK(cJSON_IsNumber(bytes_n) && bytes_n->valuedouble == 300000 && cJSON_IsString(sum) &&
              strlen(sum->valuestring) == 16 && cJSON_GetObjectItemCaseSensitive(split, "test_bytes"),
          "lm result: data records bytes, checksum and split");
    const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(j, "metrics");
    const cJSON *curve = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(metrics, "validation"),
                                                          "curve");
    const cJSON *v0 = cJSON_GetArrayItem(curve, 0), *t0 = cJSON_GetArrayItem(
                                                          cJSON_GetObjectItemCaseSensitive(metrics, "eval"), 0);
    const cJSON *vb = cJSON_GetObjectItemCaseSensitive(v0, "bits_per_byte"),
                *tb = cJSON_GetObjectItemCaseSensitive(t0, "bits_per_byte"),
                *tl = cJSON_GetObjectItemCaseSensitive(t0, "loss");
    CHECK(cJSON_GetArraySize(curve) == 2 && cJSON_IsNumber(vb) && vb->valuedouble > 0 && vb->valuedouble < 9,
          "lm result: validation bits per byte");
    CHECK(cJSON_IsNumber(tb) && cJSON_IsNumber(tl) && fabs(tb->valuedouble - tl->valuedouble / log(2.0)) < 1e-9 &&
              !cJSON_GetObjectItemCaseSensitive(t0, "string_acc"),
          "lm result: test bits per byte = loss / ln 2, no string accuracy");
    const cJSON *bp = cJSON_GetObjectItemCaseSensitive(t0, "by_position"), *last = cJSON_GetArrayItem(bp, 5);
    CHECK(cJSON_GetArraySize(bp) == 6 && check_num(cJSON_GetArrayItem(bp, 0), "from") == 1 &&
              check_num(last, "from") == 17 && check_num(last, "to") == 32 && check_num(last, "tokens") == 16 * 16 &&
              check_num(last, "bits_per_byte") > 0,
          "lm result: eval[0].by_position has buckets 1, 2, 3-4, ..., 17-32");
    /* throughput as bench counts it: tokens/s of the steps, FLOPs per token, the fraction of the sgemm peak */
    double tps = check_num(metrics, "train_tokens_per_s"), fpt = check_num(metrics, "train_flops_per_token");
    double frac = check_num(metrics, "roofline_fraction");
    CHECK(tps > 0 && fpt > 0 && fabs(frac - tps * fpt / 1e16) <= 1e-9 * frac,
          "lm result: %g tokens/s x %g FLOPs/token = %g of a 1e7 GFLOP/s peak", tps, fpt, frac);
    double flops = check_num(metrics, "train_flops"), tokens = check_num(metrics, "tokens");
    CHECK(tokens > 0 && fabs(flops - fpt * tokens) <= 1e-9 * flops, "lm result: train_flops %g = %g FLOPs/token x %g tokens",
          flops, fpt, tokens);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "roofline") != NULL, "lm result: the roofline it was measured against");
    cJSON_Delete(j);
    /* the digest knows the corpus by its bytes: the same text elsewhere agrees, another text does not */
    char copy[600], digest[3][17];
    snprintf(copy, sizeof copy, "%s/moved.txt", tmp);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", text_path, copy);
    CHECK(system(cmd) == 0, "cp");
    const char *files[3] = {text_path, copy, p};
    for (int i = 0; i < 3; i++) {
        snprintf(cmd, sizeof cmd, "'%s' train --task lm --data '%s' --max-len 32 --dry-run", bin, files[i]);
        CHECK(sh(cmd) == 0, "dry run %d", i);
        char *out = check_slurp(tmp, "out.txt"), *d = strstr(out, "# settings digest ");
        digest[i][0] = '\0';
        if (d) sscanf(d + strlen("# settings digest "), "%16[0-9a-f]", digest[i]);
        CHECK(d && strstr(d, "fnv1a64:"), "dry run: the digest takes the corpus's checksum");
        free(out);
    }
    CHECK(*digest[0] && !strcmp(digest[0], digest[1]) && strcmp(digest[0], digest[2]),
          "digests %s (text), %s (the same text moved), %s (another text)", digest[0], digest[1], digest[2]);
    /* --roofline changes no figure but the fraction: the settings digest leaves it out */
    snprintf(cmd, sizeof cmd, "'%s' train --task lm --data '%s' --max-len 32 --roofline '%s' --dry-run", bin,
             text_path, rf_path);
    CHECK(sh(cmd) == 0, "dry run with --roofline");
    char *out = check_slurp(tmp, "out.txt"), *d = strstr(out, "# settings digest ");
    CHECK(d && !strncmp(d + strlen("# settings digest "), digest[0], 16), "--roofline leaves the digest %s",
          digest[0]);
    free(out);
}

int main(void)
{
    bin = getenv("SEQ_BINARY");
    if (!check_tmpdir(tmp, sizeof tmp, "seq-lm")) return 1;
    char path[600];
    snprintf(path, sizeof path, "%s/text.txt", tmp);
    char *text = make_text(300000, 5);
    write_file(path, text, 300000);
    free(text);
    check_split(path);
    check_layout(path);
    check_directory();
    check_uniform(path);
    check_bpe(path);
    check_by_position(path);
    check_overfit();
    if (bin) check_cli(path);
    else CHECK(0, "SEQ_BINARY is not set (ctest sets it)");
    check_rmtree(tmp);
    return check_summary();
}
