/* The task generators against the layouts docs/tasks.md promises: every
 * special token's id and position, the scored positions and their answers,
 * the vocabulary bounds, lengths and padding, determinism by seed, disjoint
 * training and test streams, the defaults, and one-line validation errors
 * naming the value; then the command line: each new task
 * trains, saves and evaluates, and eval takes the task settings stored
 * beside the weights. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "core/jsonio.h"
#include "models/model_args.h"
#include "tasks/task.h"
#include "tasks/train.h"

#define SEQS 200

static TaskCfg cfg_for(const Task *t)
{
    TaskCfg c = {0};
    c.alphabet = 26;
    c.power_a = 0.01;
    c.depth = -1;
    task_defaults(t, &c);
    return c;
}

/* A batch of B instances with lengths in [lo, hi], from stream `stream` of seed. */
static Batch gen(const Task *t, const TaskCfg *c, uint64_t seed, uint64_t stream, int B, int lo, int hi)
{
    Batch b;
    Err e;
    if (batch_alloc(&b, B, t->seq_len(c, hi), &e)) { fprintf(stderr, "%s\n", e.msg); exit(1); }
    Rng r = rng_fork(seed, stream);
    TaskSplit sp = stream == STREAM_TRAIN ? SPLIT_TRAIN : stream == STREAM_VAL ? SPLIT_VALIDATION : SPLIT_TEST;
    t->make_batch(c, sp, &r, lo, hi, &b);
    return b;
}

static int *row(const Batch *b, int *base, int s) { (void)b; return base + (size_t)s * b->T; }
static unsigned char *mrow(const Batch *b, int s) { return b->mask + (size_t)s * b->T; }

static int same_batch(const Batch *a, const Batch *b)
{
    size_t n = (size_t)a->B * a->T;
    return a->T == b->T && !memcmp(a->tokens, b->tokens, 2 * n * sizeof(int)) && !memcmp(a->mask, b->mask, n);
}

/* Same seed: the same instances; another seed or the test stream: none of
 * the instances of the training stream. */
static void check_streams(const Task *t, const TaskCfg *c, int n)
{
    Batch a = gen(t, c, 7, STREAM_TRAIN, 32, n, n), b = gen(t, c, 7, STREAM_TRAIN, 32, n, n);
    CHECK(same_batch(&a, &b), "%s: same seed and stream must give the same batch", t->name);
    Batch test = gen(t, c, 7, STREAM_TEST, 32, n, n), other = gen(t, c, 8, STREAM_TRAIN, 32, n, n);
    int shared = 0, shared_seed = 0;
    for (int i = 0; i < 32; i++)
        for (int j = 0; j < 32; j++) {
            shared += !memcmp(row(&a, a.tokens, i), row(&test, test.tokens, j), sizeof(int) * (size_t)a.T);
            shared_seed += !memcmp(row(&a, a.tokens, i), row(&other, other.tokens, j), sizeof(int) * (size_t)a.T);
        }
    CHECK(shared == 0, "%s: %d instances shared by the training and test streams", t->name, shared);
    CHECK(shared_seed == 0, "%s: %d instances shared by seeds 7 and 8", t->name, shared_seed);
    batch_free(&a);
    batch_free(&b);
    batch_free(&test);
    batch_free(&other);
}

/* Every token and every scored answer inside [0, vocab). */
static void check_bounds(const Task *t, const TaskCfg *c, const Batch *b)
{
    int V = t->vocab_size(c), bad = 0;
    for (size_t i = 0; i < (size_t)b->B * b->T; i++) {
        bad += b->tokens[i] < 0 || b->tokens[i] >= V;
        bad += b->mask[i] && (b->targets[i] < 0 || b->targets[i] >= V);
    }
    CHECK(bad == 0, "%s: %d tokens or answers outside [0, %d)", t->name, bad, V);
}

static void check_error(const Task *t, const TaskCfg *c, const char *want)
{
    Err e = {{0}};
    int rc = t->validate(c, &e);
    CHECK(rc == -1 && strstr(e.msg, want) && !strchr(e.msg, '\n'), "%s: want an error with \"%s\", got %d \"%s\"", t->name,
          want, rc, e.msg);
}

static void test_registry(void)
{
    const char *names[] = {"copy", "selective_copy", "induction", "mqar", "needle"};
    for (int i = 0; i < 5; i++) {
        const Task *t = task_find(names[i]);
        CHECK(t && !strcmp(t->name, names[i]), "task %s registered", names[i]);
        CHECK(strstr(task_list(), names[i]), "task_list names %s", names[i]);
    }
    CHECK(!task_find("selective"), "no task by a prefix");
}

/* copy keeps its layout: BOS s SEP s, the second copy scored. */
static void test_copy_unchanged(void)
{
    const Task *t = task_find("copy");
    TaskCfg c = cfg_for(t);
    CHECK(c.min_len == 1 && c.max_len == 16 && c.alphabet == 26, "copy defaults 1..16, alphabet 26 (got %d..%d, %d)",
          c.min_len, c.max_len, c.alphabet);
    CHECK(t->vocab_size(&c) == 29 && t->seq_len(&c, 5) == 11, "copy vocabulary 29 and length 2n+1");
    Batch b = gen(t, &c, 1, STREAM_TRAIN, 4, 5, 5);
    int ok = 1;
    for (int s = 0; s < 4; s++) {
        int *tok = row(&b, b.tokens, s), *tgt = row(&b, b.targets, s);
        unsigned char *m = mrow(&b, s);
        ok &= tok[0] == 1 && tok[6] == 2;
        for (int i = 1; i <= 5; i++) ok &= tok[i] >= 3 && m[5 + i] && tgt[5 + i] == tok[i];
        for (int i = 0; i <= 5; i++) ok &= !m[i];
    }
    CHECK(ok, "copy: BOS s SEP s, answers at positions n+1..2n");
    batch_free(&b);
}

static void test_selective_copy(void)
{
    const Task *t = task_find("selective_copy");
    TaskCfg c = cfg_for(t);
    CHECK(c.vocab == 16 && c.n_data == 16 && c.max_len == 4096 && c.min_len == 4096,
          "selective_copy defaults: vocab 16, 16 data tokens, length 4096 (got %d, %d, %d..%d)", c.vocab, c.n_data,
          c.min_len, c.max_len);
    CHECK(t->vocab_size(&c) == 16 && t->seq_len(&c, 4096) == 4096 + 32, "selective_copy: T = n + 2 n_data");
    c.n_data = 5;
    c.vocab = 10;
    int n = 40, M = 5, T = n + 2 * M;
    Batch b = gen(t, &c, 3, STREAM_TRAIN, SEQS, n, n);
    CHECK(b.T == T, "T %d", b.T);
    int layout = 1, first_pos = 0, last_pos = 0;
    for (int s = 0; s < SEQS; s++) {
        int *tok = row(&b, b.tokens, s), *tgt = row(&b, b.targets, s);
        unsigned char *m = mrow(&b, s);
        int k = 0;
        for (int i = 0; i < n + M; i++) {
            if (tok[i] == 0) { layout &= !m[i]; continue; }
            layout &= tok[i] >= 1 && tok[i] <= c.vocab - 2 && k < M && tgt[n + M + k] == tok[i];
            first_pos += i == 0;
            last_pos += i == n + M - 1;
            k++;
            layout &= !m[i];
        }
        layout &= k == M;
        for (int i = 0; i < M; i++) layout &= tok[n + M + i] == c.vocab - 1 && m[n + M + i];
    }
    CHECK(layout, "selective_copy: %d data tokens in [1, V-2] among noise 0 in [0, n+M), markers V-1 after, "
                  "the i-th marker scored with the i-th data token", M);
    /* positions are a uniform subset of the n+M: both ends are used */
    CHECK(first_pos > 0 && last_pos > 0, "selective_copy: data at position 0 (%d) and n+M-1 (%d)", first_pos, last_pos);
    check_bounds(t, &c, &b);
    batch_free(&b);
    /* shorter instances are padded with noise, unscored */
    b = gen(t, &c, 3, STREAM_TRAIN, 50, 10, n);
    int pad = 1;
    for (int s = 0; s < 50; s++) {
        int *tok = row(&b, b.tokens, s);
        unsigned char *m = mrow(&b, s);
        int last = T - 1;
        while (last >= 0 && tok[last] != c.vocab - 1) last--;
        int len = last + 1; /* n' + 2M */
        pad &= len >= 10 + 2 * M && len <= T;
        for (int i = len; i < T; i++) pad &= tok[i] == 0 && !m[i];
        for (int i = len - M; i < len; i++) pad &= m[i];
    }
    CHECK(pad, "selective_copy: varying lengths end in their markers and are padded with unscored 0");
    batch_free(&b);
    check_streams(t, &c, n);
    c = cfg_for(t);
    c.vocab = 2;
    check_error(t, &c, "(got 2)");
    c = cfg_for(t);
    c.n_data = -1;
    check_error(t, &c, "n-data");
    c = cfg_for(t);
    c.min_len = 100;
    c.max_len = 50;
    check_error(t, &c, "min-len 100 is above max-len 50");
}

static void test_induction(void)
{
    const Task *t = task_find("induction");
    TaskCfg c = cfg_for(t);
    CHECK(c.vocab == 16 && c.max_len == 256 && c.min_len == 256, "induction defaults: vocab 16, length 256");
    CHECK(t->vocab_size(&c) == 16 && t->seq_len(&c, 256) == 256 && t->seq_len(&c, 1 << 20) == 1 << 20,
          "induction: T = n");
    int n = 12, V = 16, trigger = V - 1, hit_lo = 0, hit_hi = 0;
    Batch b = gen(t, &c, 5, STREAM_TRAIN, 1000, n, n);
    int layout = 1;
    for (int s = 0; s < 1000; s++) {
        int *tok = row(&b, b.tokens, s), *tgt = row(&b, b.targets, s);
        unsigned char *m = mrow(&b, s);
        int p = -1, triggers = 0, scored = 0;
        for (int i = 0; i < n; i++) {
            scored += m[i];
            if (tok[i] == trigger) {
                triggers++;
                if (i < n - 1) p = i;
            } else layout &= tok[i] >= 1 && tok[i] <= V - 2;
        }
        layout &= triggers == 2 && tok[n - 1] == trigger && p >= 0 && p <= n - 4 && scored == 1 && m[n - 1] &&
                  tgt[n - 1] == tok[p + 1];
        hit_lo += p == 0;
        hit_hi += p == n - 4;
    }
    CHECK(layout, "induction: ordinary tokens in [1, V-2], trigger V-1 at p in [0, n-4] and at n-1, "
                  "only n-1 scored with the token at p+1");
    CHECK(hit_lo > 50 && hit_hi > 50, "induction: p uniform over [0, n-4] (p = 0: %d, p = n-4: %d of 1000)", hit_lo,
          hit_hi);
    check_bounds(t, &c, &b);
    batch_free(&b);
    check_streams(t, &c, 64);
    c = cfg_for(t);
    c.min_len = c.max_len = 3;
    check_error(t, &c, "(got 3)");
    c = cfg_for(t);
    c.vocab = 3;
    check_error(t, &c, "task-vocab");
    Err e = {{0}};
    CHECK(t->check_length(&c, 1 << 20, &e) == 0, "induction: 2^20 is a valid length");
}

static void test_mqar(void)
{
    const Task *t = task_find("mqar");
    TaskCfg c = cfg_for(t);
    CHECK(c.vocab == 8192 && c.max_len == 64 && c.n_pairs == 4 && c.power_a == 0.01,
          "mqar defaults: vocab 8192, (64, 4), power 0.01 (got %d, %d, %d)", c.vocab, c.max_len, c.n_pairs);
    c.max_len = 256;
    c.n_pairs = 0;
    task_defaults(t, &c);
    CHECK(c.n_pairs == 16, "mqar: pairs default to max-len / 16 (got %d)", c.n_pairs);
    c = cfg_for(t);
    int n = 64, P = 4, V = 8192;
    Batch b = gen(t, &c, 9, STREAM_TRAIN, SEQS, n, n);
    int layout = 1, gap0 = 0, gaps = 0;
    for (int s = 0; s < SEQS; s++) {
        int *tok = row(&b, b.tokens, s), *tgt = row(&b, b.targets, s);
        unsigned char *m = mrow(&b, s);
        for (int i = 0; i < P; i++) {
            layout &= tok[2 * i] >= 1 && tok[2 * i] < V / 2 && tok[2 * i + 1] >= V / 2 && tok[2 * i + 1] < V;
            layout &= !m[2 * i] && !m[2 * i + 1];
            for (int j = 0; j < i; j++) layout &= tok[2 * i] != tok[2 * j] && tok[2 * i + 1] != tok[2 * j + 1];
        }
        int queried[64] = {0}, scored = 0;
        for (int q = 2 * P; q < n; q++) {
            if (!m[q]) continue;
            scored++;
            layout &= (q - 2 * P) % 2 == 0;
            int i = 0;
            while (i < P && tok[2 * i] != tok[q]) i++;
            layout &= i < P && tgt[q] == tok[2 * i + 1];
            if (i < P) queried[i]++;
            gap0 += q == 2 * P;
            gaps++;
        }
        layout &= scored == P;
        for (int i = 0; i < P; i++) layout &= queried[i] == 1;
    }
    CHECK(layout, "mqar: k_i v_i pairs at [0, 2P), keys in [1, V/2), values in [V/2, V), distinct; each key "
                  "queried once at 2P + 2g, scored with its value");
    /* p(g) ~ (g+1)^-0.99 over 28 gaps: about 1 in 4 queries at gap 0, against 1 in 28 uniform */
    CHECK(gap0 > gaps / 8, "mqar: power law favours gap 0 (%d of %d)", gap0, gaps);
    check_bounds(t, &c, &b);
    batch_free(&b);
    c.power_a = 1;
    b = gen(t, &c, 9, STREAM_TRAIN, SEQS, n, n);
    gap0 = 0;
    for (int s = 0; s < SEQS; s++) gap0 += mrow(&b, s)[2 * P];
    CHECK(gap0 < SEQS * P / 8, "mqar: power-a 1 is uniform (%d of %d at gap 0)", gap0, SEQS * P);
    batch_free(&b);
    /* --zero-noise: the pairs and the scored queries as before, token 0 everywhere else */
    c = cfg_for(t);
    c.zero_noise = 1;
    b = gen(t, &c, 9, STREAM_TRAIN, SEQS, n, n);
    int quiet = 1, noisy = 0;
    for (int s = 0; s < SEQS; s++) {
        int *tok = row(&b, b.tokens, s);
        unsigned char *m = mrow(&b, s);
        int scored = 0;
        for (int q = 2 * P; q < n; q++) {
            scored += m[q];
            quiet &= m[q] ? tok[q] >= 1 && tok[q] < V / 2 : tok[q] == 0;
        }
        quiet &= scored == P && tok[0] >= 1 && tok[1] >= V / 2;
    }
    batch_free(&b);
    c.zero_noise = 0;
    b = gen(t, &c, 9, STREAM_TRAIN, SEQS, n, n);
    for (int s = 0; s < SEQS; s++)
        for (int q = 2 * P; q < n; q++) noisy += !mrow(&b, s)[q] && row(&b, b.tokens, s)[q] != 0;
    CHECK(quiet && noisy > SEQS, "mqar: --zero-noise puts 0 at every unscored position after the pairs (random noise: "
                                 "%d non-zero)", noisy);
    batch_free(&b);
    /* every gap can be drawn when the pairs fill the room (P = (n - 2P)/2) */
    c = cfg_for(t);
    c.n_pairs = 16;
    b = gen(t, &c, 9, STREAM_TRAIN, 8, 64, 64);
    int full = 1;
    for (int s = 0; s < 8; s++)
        for (int q = 32; q < 64; q++) full &= mrow(&b, s)[q] == (q % 2 == 0);
    CHECK(full, "mqar: 16 pairs in 64 tokens query every even position of [32, 64)");
    batch_free(&b);
    /* odd draws from a range are rounded down to even lengths */
    c = cfg_for(t);
    c.min_len = 64;
    c.max_len = 80;
    b = gen(t, &c, 2, STREAM_TRAIN, 50, 64, 80);
    int even = 1;
    for (int s = 0; s < 50; s++) {
        int last = 79;
        while (last > 0 && !mrow(&b, s)[last]) last--;
        even &= last % 2 == 0;
    }
    CHECK(even, "mqar: queries at even positions whatever the drawn length");
    batch_free(&b);
    check_streams(t, &c, 64);
    c = cfg_for(t);
    c.n_pairs = 20;
    check_error(t, &c, "20 pairs need length >= 4 x pairs = 80 (got 64)");
    c = cfg_for(t);
    c.max_len = 65;
    check_error(t, &c, "(got 65)");
    c = cfg_for(t);
    c.vocab = 8;
    check_error(t, &c, "n-pairs must be in [1, task-vocab/2 - 1 = 3]");
    Err e = {{0}};
    CHECK(t->check_length(&c, 63, &e) == -1 && strstr(e.msg, "63"), "mqar: odd length refused: %s", e.msg);
}

/* Start of the needle and position of the query in one instance. */
static void find_needle(const int *tok, int n, int *d, int *q, int *needles, int *queries)
{
    *needles = *queries = 0;
    for (int i = 0; i < n; i++) {
        if (tok[i] == 1) { *d = i; ++*needles; }
        if (tok[i] == 2) { *q = i; ++*queries; }
    }
}

static void test_needle(void)
{
    const Task *t = task_find("needle");
    TaskCfg c = cfg_for(t);
    CHECK(c.vocab == 64 && c.key_len == 2 && c.value_len == 2 && c.max_len == 256 && c.depth < 0,
          "needle defaults: vocab 64, key 2, value 2, length 256, random depth");
    c.key_len = 3;
    c.value_len = 2;
    int n = 40, K = 3, W = 2, h = n - K - W, room = h - 1 - K - W, V = 64;
    Batch b = gen(t, &c, 4, STREAM_TRAIN, SEQS, n, n);
    int layout = 1, at0 = 0, at_room = 0;
    for (int s = 0; s < SEQS; s++) {
        int *tok = row(&b, b.tokens, s), *tgt = row(&b, b.targets, s);
        unsigned char *m = mrow(&b, s);
        int d = -1, q = -1, needles, queries;
        find_needle(tok, n, &d, &q, &needles, &queries);
        layout &= needles == 1 && queries == 1 && q == h && d >= 0 && d <= room;
        if (layout) {
            for (int i = 0; i < n; i++) layout &= tok[i] == 1 || tok[i] == 2 || (tok[i] >= 3 && tok[i] < V);
            for (int i = 1; i <= K; i++) layout &= tok[h + i] == tok[d + i];
            for (int i = 1; i < W; i++) layout &= tok[h + K + i] == tok[d + K + i];
            for (int i = 0; i < n; i++) layout &= m[i] == (i >= n - W);
            for (int j = 1; j <= W; j++) layout &= tgt[n - W + j - 1] == tok[d + K + j];
        }
        at0 += d == 0;
        at_room += d == room;
    }
    CHECK(layout, "needle: NEEDLE 1 k v at d in [0, h-1-K-W], QUERY 2 at h = n-K-W, key and value so far after it, "
                  "the last W positions scored with v_1..v_W");
    CHECK(at0 > 0 && at_room > 0, "needle: random depth reaches both ends (%d, %d)", at0, at_room);
    check_bounds(t, &c, &b);
    batch_free(&b);
    const double depths[] = {0, 0.5, 1, 0.25};
    const int want[] = {0, 15, room, 7}; /* room 29: 0.5 x 29 = 14.5 rounds half up to 15; 7.25 to 7 */
    for (int i = 0; i < 4; i++) {
        c.depth = depths[i];
        b = gen(t, &c, 4, STREAM_TEST, 8, n, n);
        int ok = 1;
        for (int s = 0; s < 8; s++) {
            int d = -1, q = -1, needles, queries;
            find_needle(row(&b, b.tokens, s), n, &d, &q, &needles, &queries);
            ok &= d == want[i];
        }
        CHECK(ok, "needle: depth %g starts the needle at %d", depths[i], want[i]);
        batch_free(&b);
    }
    c.depth = -1;
    check_streams(t, &c, n);
    c = cfg_for(t);
    c.min_len = c.max_len = 8;
    check_error(t, &c, "= 9, 2^22] (got 8)");
    c = cfg_for(t);
    c.depth = 1.5;
    check_error(t, &c, "(got 1.5)");
    c = cfg_for(t);
    c.vocab = 4;
    check_error(t, &c, "(got 4)");
    Err e = {{0}};
    c = cfg_for(t);
    CHECK(t->check_length(&c, 9, &e) == 0, "needle: 9 tokens hold a needle with no filler");
}

/* The command line: each new task trains, saves, and evaluates with the
 * settings stored beside the weights; bad settings are one line, status 2. */
static const char *bin;

static int sh(const char *cmd, const char *errfile)
{
    char full[4096];
    snprintf(full, sizeof full, "%s 2>%s >/dev/null", cmd, errfile);
    int st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return calloc(1, 1);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

static void test_cli(const char *tmp)
{
    char cmd[2048], err[600], dir[600], out[600];
    snprintf(err, sizeof err, "%s/err.txt", tmp);
    const char *bad[][2] = {
        {"--task mqar --max-len 64 --n-pairs 20", "seqbench: mqar: 20 pairs need length >= 4 x pairs = 80 (got 64)\n"},
        {"--task mqar --max-len 64 --eval-lengths 64,127", "seqbench: mqar: length must be even and in [4, 2^22] (got 127)\n"},
        {"--task needle --depth 2", "seqbench: --depth"},
        {"--task induction --max-len 2", "seqbench: induction: length must be in [4, 2^22] (got 2)\n"},
        {"--task selective_copy --task-vocab 2", "seqbench: selective_copy: task-vocab must be in [3, 2^20]"},
        {"--task sel", "seqbench: unknown task \"sel\" (known: copy, selective_copy, induction, mqar, needle, lm)\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(cmd, sizeof cmd, "\"%s\" train %s --steps 1 --d-model 8 --heads 1", bin, bad[i][0]);
        int rc = sh(cmd, err);
        char *msg = slurp(err);
        char *nl = strchr(msg, '\n');
        CHECK(rc == 2 && !strncmp(msg, bad[i][1], strlen(bad[i][1])) && nl && !nl[1],
              "train %s: want status 2 and the one line \"%s\", got %d \"%s\"", bad[i][0], bad[i][1], rc, msg);
        free(msg);
    }
    const char *ok[] = {
        "--task selective_copy --max-len 12 --n-data 3 --task-vocab 8 --arch mamba",
        "--task induction --max-len 16",
        "--task mqar --max-len 32 --task-vocab 64 --n-pairs 3",
        "--task needle --max-len 32 --key-len 3 --value-len 1 --task-vocab 20 --depth 0.5",
    };
    const char *name[] = {"selective_copy", "induction", "mqar", "needle"};
    for (int i = 0; i < 4; i++) {
        snprintf(dir, sizeof dir, "%s/%s", tmp, name[i]);
        snprintf(cmd, sizeof cmd,
                 "\"%s\" train %s --steps 3 --batch 4 --d-model 16 --heads 2 --eval-seqs 4 --threads 1 --save \"%s\"", bin,
                 ok[i], dir);
        int rc = sh(cmd, err);
        char *msg = slurp(err);
        CHECK(rc == 0, "train %s: status %d: %s", ok[i], rc, msg);
        free(msg);
        snprintf(out, sizeof out, "%s/%s-eval.json", tmp, name[i]);
        snprintf(cmd, sizeof cmd, "\"%s\" eval --model \"%s\" --seqs 4 --threads 1 --out \"%s\"", bin, dir, out);
        rc = sh(cmd, err);
        msg = slurp(err);
        CHECK(rc == 0, "eval %s: status %d: %s", name[i], rc, msg);
        free(msg);
        Err e;
        cJSON *res = json_read_file(out, &e);
        const cJSON *st = res ? cJSON_GetObjectItemCaseSensitive(res, "settings") : NULL;
        const cJSON *task = cJSON_GetObjectItemCaseSensitive(st, "task");
        CHECK(cJSON_IsString(task) && !strcmp(task->valuestring, name[i]), "eval of %s: task from the training record",
              name[i]);
        const cJSON *evals = res ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "metrics"), "eval")
                                 : NULL;
        CHECK(cJSON_GetArraySize(evals) == 3, "eval of %s: max-len, 2x, 4x by default", name[i]);
        if (i == 3) {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(st, "key-len"), *d = cJSON_GetObjectItemCaseSensitive(st, "depth");
            CHECK(cJSON_IsNumber(k) && k->valueint == 3 && cJSON_IsNumber(d) && d->valuedouble == 0.5,
                  "eval of needle: key-len 3 and depth 0.5 from the training record");
        }
        if (i == 2) {
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(st, "n-pairs");
            CHECK(cJSON_IsNumber(p) && p->valueint == 3, "eval of mqar: n-pairs 3 from the training record");
        }
        cJSON_Delete(res);
    }
}

static const cJSON *field(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* The learning curve and stop at the target: a check every --val-every
 * steps on the validation stream, training stopped at the first check that
 * makes --stop-holds in a row at --stop-acc, the cap when that never comes,
 * and the settings refused before any step. Copying 4 symbols reaches 95% in
 * 700-1050 steps (seeds 1-5): a cap of 3000 leaves a margin of 3x. */
static void test_learning_curve(const char *tmp)
{
    char cmd[2048], err[600], out[600];
    snprintf(err, sizeof err, "%s/err.txt", tmp);
    snprintf(out, sizeof out, "%s/curve.json", tmp);
    snprintf(cmd, sizeof cmd, "\"%s\" train --task copy --max-len 4 --steps 3000 --stop-acc 0.95 --val-every 50 "
             "--val-seqs 64 --eval-seqs 16 --threads 1 --out \"%s\"", bin, out);
    CHECK(sh(cmd, err) == 0, "train with --stop-acc: status");
    Err e;
    cJSON *res = json_read_file(out, &e);
    const cJSON *m = field(res, "metrics"), *v = field(m, "validation"), *curve = field(v, "curve");
    int steps = cJSON_IsNumber(field(m, "steps")) ? field(m, "steps")->valueint : -1, n = cJSON_GetArraySize(curve);
    CHECK(cJSON_IsString(field(m, "stopped")) && !strcmp(field(m, "stopped")->valuestring, "target"),
          "stopped at the target");
    CHECK(steps > 0 && steps < 3000 && steps % 50 == 0, "stopped at a check before the cap (step %d)", steps);
    CHECK(n == steps / 50, "a check every 50 steps: %d checks to step %d", n, steps);
    int held = 0, first = -1;
    for (int i = 0; i < n; i++) {
        const cJSON *p = cJSON_GetArrayItem(curve, i);
        CHECK(field(p, "step")->valueint == 50 * (i + 1), "check %d at step %d", i, field(p, "step")->valueint);
        held = field(p, "string_acc")->valuedouble >= 0.95 ? held + 1 : 0;
        if (held == 2 && first < 0) first = i;
    }
    CHECK(first == n - 1, "training stopped at the first two checks in a row at 0.95 (check %d of %d)", first, n);
    CHECK(cJSON_IsNumber(field(m, "tokens")) && field(m, "tokens")->valuedouble > 0, "tokens trained");
    cJSON_Delete(res);

    snprintf(cmd, sizeof cmd, "\"%s\" train --task copy --max-len 4 --steps 40 --d-model 16 --heads 2 --eval-seqs 4 "
             "--threads 1 --out \"%s\"", bin, out);
    CHECK(sh(cmd, err) == 0, "train with the default curve: status");
    res = json_read_file(out, &e);
    m = field(res, "metrics");
    curve = field(field(m, "validation"), "curve");
    n = cJSON_GetArraySize(curve);
    CHECK(n == 20 && field(cJSON_GetArrayItem(curve, n - 1), "step")->valueint == 40, "20 checks by default, the last "
          "at the last step (%d checks)", n);
    CHECK(cJSON_IsString(field(m, "stopped")) && !strcmp(field(m, "stopped")->valuestring, "steps"), "no target: "
          "every step");
    cJSON_Delete(res);

    /* Under a length curriculum the stop waits for the full length: validated at
     * length 2 while it trains at 2 for 1000 steps, the model is at the target
     * within a few hundred steps, yet the first check that counts is at 1250,
     * after the ramp to 4 (steps 1000-1200). Without the wait it stopped at 300-500. */
    snprintf(cmd, sizeof cmd, "\"%s\" train --task copy --max-len 4 --steps 3000 --len-from 2 --len-hold 1000 "
             "--len-warmup 200 --val-len 2 --stop-acc 0.95 --val-every 50 --val-seqs 64 --eval-seqs 16 --threads 1 "
             "--out \"%s\"", bin, out);
    CHECK(sh(cmd, err) == 0, "train with a curriculum and --stop-acc: status");
    res = json_read_file(out, &e);
    m = field(res, "metrics");
    curve = field(field(m, "validation"), "curve");
    steps = cJSON_IsNumber(field(m, "steps")) ? field(m, "steps")->valueint : -1;
    int early = 0;
    for (int i = 0; i < cJSON_GetArraySize(curve); i++) {
        const cJSON *p = cJSON_GetArrayItem(curve, i);
        if (field(p, "step")->valueint <= 1000 && field(p, "string_acc")->valuedouble >= 0.95) early++;
    }
    CHECK(early >= 2, "at the target during the hold at length 2 (%d checks), so the wait is what is tested", early);
    CHECK(steps >= 1300, "no stop before two checks at the full length (stopped at step %d)", steps);
    cJSON_Delete(res);

    const char *bad[][2] = {
        {"--stop-acc 0.9 --val-seqs 0", "seqbench: stop-acc needs validation"},
        {"--val-len 99", "seqbench: --val-len 99 is longer than max-len 4"},
        {"--val-every 1 --steps 5000", "seqbench: val-every 1: 5000 validations"},
        {"--stop-acc 2", "seqbench: --stop-acc"},
        {"--decay-steps 100", "seqbench: decay-steps must be 0 (the cosine ends at the last step) or past warmup 100"},
        {"--decay-steps -5", "seqbench: --decay-steps"},
        {"--schedule constant --decay-steps 500", "seqbench: decay-steps is for the cosine schedule"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(cmd, sizeof cmd, "\"%s\" train --task copy --max-len 4 %s", bin, bad[i][0]);
        int rc = sh(cmd, err);
        char *msg = slurp(err), *nl = strchr(msg, '\n');
        CHECK(rc == 2 && !strncmp(msg, bad[i][1], strlen(bad[i][1])) && nl && !nl[1],
              "train %s: want status 2 and one line \"%s...\", got %d \"%s\"", bad[i][0], bad[i][1], rc, msg);
        free(msg);
    }
}

/* The learning rate: linear warmup, then a cosine to lr x min-lr-ratio over the steps, or with --decay-steps N
 * over the first N steps and flat at the floor after, whatever the cap; --schedule constant stays at lr. */
static void test_lr_schedule(void)
{
    TrainCfg c;
    train_defaults(&c);
    c.steps = 1000;
    c.warmup = 100;
    c.lr = 1e-2;
    c.min_lr_ratio = 0.1;
    CHECK(fabs(train_lr_at(&c, 0) - 1e-4) < 1e-15 && fabs(train_lr_at(&c, 99) - 1e-2) < 1e-15, "warmup: %g .. %g",
          train_lr_at(&c, 0), train_lr_at(&c, 99));
    CHECK(fabs(train_lr_at(&c, 550) - 5.5e-3) < 1e-12 && fabs(train_lr_at(&c, 1000) - 1e-3) < 1e-12,
          "cosine over the steps: %g at the middle, %g at the end", train_lr_at(&c, 550), train_lr_at(&c, 1000));
    double before[3] = {train_lr_at(&c, 100), train_lr_at(&c, 300), train_lr_at(&c, 999)};
    c.decay_steps = 300;
    CHECK(fabs(train_lr_at(&c, 200) - 5.5e-3) < 1e-12 && fabs(train_lr_at(&c, 300) - 1e-3) < 1e-12,
          "--decay-steps 300: the cosine ends at 300 (%g at 200, %g at 300)", train_lr_at(&c, 200),
          train_lr_at(&c, 300));
    CHECK(train_lr_at(&c, 301) == 1e-3 && train_lr_at(&c, 999) == 1e-3, "then flat at the floor");
    c.steps = 50000; /* another cap: the same schedule */
    CHECK(fabs(train_lr_at(&c, 200) - 5.5e-3) < 1e-12 && train_lr_at(&c, 40000) == 1e-3, "the cap does not move it");
    c.steps = 1000;
    c.decay_steps = 0;
    CHECK(train_lr_at(&c, 100) == before[0] && train_lr_at(&c, 300) == before[1] && train_lr_at(&c, 999) == before[2],
          "--decay-steps 0 is the cosine over the steps, as before the option");
    c.cosine = 0;
    CHECK(train_lr_at(&c, 100) == 1e-2 && train_lr_at(&c, 999) == 1e-2, "constant after warmup");
    Err e = {{0}};
    c.decay_steps = 300;
    CHECK(train_validate(&c, &e) != 0 && strstr(e.msg, "cosine"), "--decay-steps with a constant lr is refused");
    c.cosine = 1;
    c.decay_steps = 100;
    CHECK(train_validate(&c, &e) != 0 && strstr(e.msg, "past warmup"), "--decay-steps within the warmup is refused");
    c.decay_steps = 101;
    CHECK(train_validate(&c, &e) == 0, "--decay-steps 101 past a warmup of 100: %s", e.msg);
}

/* The ETA weighs training steps by their cost (tasks/train.h): under the
 * induction preset's curriculum (2500 steps at 64, 1000 growing to 256, 500
 * at 256) the run costs about 7000 steps at 64, not 4000, and attention's
 * cost per token grows with the length besides. */
static void test_step_cost(void)
{
    const Task *t = task_find("induction");
    TaskCfg c = cfg_for(t);
    TrainCfg tc;
    train_defaults(&tc);
    tc.steps = 4000;
    tc.len_hold = 2500;
    tc.len_warmup = 1000;
    tc.len_from = 64;
    ModelArgs ma;
    model_args_defaults(&ma);
    snprintf(ma.arch, sizeof ma.arch, "mamba");
    ModelCfg mc;
    Err e = {{0}};
    CHECK(model_args_to_cfg(&ma, t->vocab_size(&c), &mc, &e) == 0, "mamba config: %s", e.msg);
    double first = train_step_cost(&mc, t, &c, &tc, 0), last = train_step_cost(&mc, t, &c, &tc, 3999);
    double total = train_total_cost(&mc, t, &c, &tc), sum = 0;
    for (int s = 0; s < tc.steps; s++) sum += train_step_cost(&mc, t, &c, &tc, s);
    CHECK(fabs(last / first - 4) < 1e-9, "mamba: a step at 256 costs 4 at 64 (got %g)", last / first);
    CHECK(fabs(total / sum - 1) < 1e-12, "the total cost %g is the sum of the steps' %g", total, sum);
    CHECK(total / first > 6900 && total / first < 7000, "the curriculum costs %g steps at 64 (6998 expected)",
          total / first);
    tc.len_warmup = tc.len_hold = 0; /* no curriculum: every step alike */
    CHECK(fabs(train_total_cost(&mc, t, &c, &tc) / last - 4000) < 1e-6, "without a curriculum: 4000 steps at 256");
    snprintf(ma.arch, sizeof ma.arch, "transformer");
    CHECK(model_args_to_cfg(&ma, t->vocab_size(&c), &mc, &e) == 0, "transformer config: %s", e.msg);
    double ratio = train_step_cost(&mc, t, &c, &tc, 0) / train_step_cost(&mc, t, &c, &(TrainCfg){.batch = 32,
                   .steps = 2, .len_warmup = 1, .len_from = 64}, 0);
    CHECK(ratio > 4.05, "attention: a step at 256 costs more than 4 at 64 (got %g)", ratio);
}

int main(void)
{
    test_registry();
    test_step_cost();
    test_lr_schedule();
    test_copy_unchanged();
    test_selective_copy();
    test_induction();
    test_mqar();
    test_needle();
    bin = getenv("SEQ_BINARY");
    if (bin) {
        char tmp[512];
        if (!check_tmpdir(tmp, sizeof tmp, "seq_tasks")) return 1;
        test_cli(tmp);
        test_learning_curve(tmp);
        check_rmtree(tmp);
    } else {
        fprintf(stderr, "SEQ_BINARY not set: command-line checks skipped\n");
    }
    return check_summary();
}
