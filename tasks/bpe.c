/* Byte-level BPE: chunking, training by recounting pairs, encoding (bpe.h). */
#include "tasks/bpe.h"

#include <stdlib.h>
#include <string.h>

static int is_word(unsigned char c) { return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_space(unsigned char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

/* The end of the chunk that starts at i (bpe.h: a word with its leading
 * space, digits, a run of one whitespace byte, or one other byte). */
static size_t chunk_end(const unsigned char *p, size_t n, size_t i)
{
    size_t cap = n - i < BPE_MAX_CHUNK ? n : i + BPE_MAX_CHUNK, j = i + 1;
    if (p[i] == ' ' && j < cap && is_word(p[j])) j++;
    if (is_word(p[j - 1])) {
        while (j < cap && is_word(p[j])) j++;
    } else if (is_digit(p[i])) {
        while (j < cap && is_digit(p[j])) j++;
    } else if (is_space(p[i])) {
        while (j < cap && p[j] == p[i] && !(p[i] == ' ' && j + 1 < n && is_word(p[j + 1]))) j++;
    }
    return j;
}

static uint64_t pair_key(int a, int b) { return (uint64_t)(uint32_t)a << 32 | (uint32_t)b; }

static size_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k;
}

/* ---- training ---- */

/* The distinct chunks of the training text and how often each occurs: their
 * tokens live in one array, chunk c at sym[off[c] .. off[c] + n[c]). */
typedef struct {
    int *sym;
    size_t *off;
    int *n;
    long *count;
    size_t n_chunks, n_sym, cap_chunks, cap_sym;
    /* bytes -> chunk index, open addressing on the chunk's FNV-1a hash */
    size_t *slot, n_slots;
} Chunks;

static uint64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static int chunk_equal(const Chunks *c, size_t k, const unsigned char *p, size_t n)
{
    if ((size_t)c->n[k] != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (c->sym[c->off[k] + i] != p[i]) return 0;
    return 1;
}

static int chunks_grow_slots(Chunks *c)
{
    size_t n = c->n_slots ? 2 * c->n_slots : 1 << 14;
    size_t *s = malloc(n * sizeof *s);
    if (!s) return -1;
    for (size_t i = 0; i < n; i++) s[i] = (size_t)-1;
    for (size_t k = 0; k < c->n_chunks; k++) {
        unsigned char b[BPE_MAX_CHUNK];
        for (int i = 0; i < c->n[k]; i++) b[i] = (unsigned char)c->sym[c->off[k] + (size_t)i];
        size_t h = fnv(b, (size_t)c->n[k]) & (n - 1);
        while (s[h] != (size_t)-1) h = (h + 1) & (n - 1);
        s[h] = k;
    }
    free(c->slot);
    c->slot = s;
    c->n_slots = n;
    return 0;
}

static int chunks_add(Chunks *c, const unsigned char *p, size_t n)
{
    if (2 * (c->n_chunks + 1) > c->n_slots && chunks_grow_slots(c)) return -1;
    size_t h = fnv(p, n) & (c->n_slots - 1);
    for (; c->slot[h] != (size_t)-1; h = (h + 1) & (c->n_slots - 1))
        if (chunk_equal(c, c->slot[h], p, n)) {
            c->count[c->slot[h]]++;
            return 0;
        }
    if (c->n_chunks == c->cap_chunks) {
        size_t m = c->cap_chunks ? 2 * c->cap_chunks : 4096;
        size_t *off = realloc(c->off, m * sizeof *off);
        if (off) c->off = off;
        int *len = realloc(c->n, m * sizeof *len);
        if (len) c->n = len;
        long *cnt = realloc(c->count, m * sizeof *cnt);
        if (cnt) c->count = cnt;
        if (!off || !len || !cnt) return -1;
        c->cap_chunks = m;
    }
    if (c->n_sym + n > c->cap_sym) {
        size_t m = c->cap_sym ? 2 * c->cap_sym : 1 << 16;
        while (m < c->n_sym + n) m *= 2;
        int *s = realloc(c->sym, m * sizeof *s);
        if (!s) return -1;
        c->sym = s;
        c->cap_sym = m;
    }
    size_t k = c->n_chunks++;
    c->off[k] = c->n_sym;
    c->n[k] = (int)n;
    c->count[k] = 1;
    for (size_t i = 0; i < n; i++) c->sym[c->n_sym++] = p[i];
    c->slot[h] = k;
    return 0;
}

static void chunks_free(Chunks *c)
{
    free(c->sym);
    free(c->off);
    free(c->n);
    free(c->count);
    free(c->slot);
}

/* Pair counts of one round: open addressing, the used slots listed so a
 * round clears only what it wrote. */
typedef struct {
    uint64_t *key;
    long *count;
    size_t *used, n_used, cap;
} Pairs;

static int pairs_init(Pairs *p, size_t cap)
{
    p->cap = cap;
    p->n_used = 0;
    p->key = malloc(cap * sizeof *p->key);
    p->count = calloc(cap, sizeof *p->count);
    p->used = malloc(cap * sizeof *p->used);
    return p->key && p->count && p->used ? 0 : -1;
}

static void pairs_free(Pairs *p)
{
    free(p->key);
    free(p->count);
    free(p->used);
}

/* Adds w to the pair's count; -1 when the table is full (the caller doubles it and counts again). */
static int pairs_add(Pairs *p, uint64_t k, long w)
{
    size_t h = mix(k) & (p->cap - 1);
    while (p->count[h] && p->key[h] != k) h = (h + 1) & (p->cap - 1);
    if (!p->count[h]) {
        if (2 * (p->n_used + 1) > p->cap) return -1;
        p->key[h] = k;
        p->used[p->n_used++] = h;
    }
    p->count[h] += w;
    return 0;
}

static void pairs_clear(Pairs *p)
{
    for (size_t i = 0; i < p->n_used; i++) p->count[p->used[i]] = 0;
    p->n_used = 0;
}

/* Every adjacent pair of every chunk, weighted by the chunk's count. */
static int count_pairs(const Chunks *c, Pairs *p)
{
    for (;;) {
        int full = 0;
        for (size_t k = 0; k < c->n_chunks && !full; k++) {
            const int *s = c->sym + c->off[k];
            for (int i = 0; i + 1 < c->n[k] && !full; i++) full = pairs_add(p, pair_key(s[i], s[i + 1]), c->count[k]);
        }
        if (!full) return 0;
        size_t cap = 2 * p->cap;
        pairs_free(p);
        if (pairs_init(p, cap)) return -1;
    }
}

/* Replaces the pair (a, b) by z in every chunk, left to right. */
static void apply_merge(Chunks *c, int a, int b, int z)
{
    for (size_t k = 0; k < c->n_chunks; k++) {
        int *s = c->sym + c->off[k], w = 0;
        for (int i = 0; i < c->n[k]; i++) {
            if (i + 1 < c->n[k] && s[i] == a && s[i + 1] == b) {
                s[w++] = z;
                i++;
            } else {
                s[w++] = s[i];
            }
        }
        c->n[k] = w;
    }
}

static int rank_table(Bpe *b)
{
    b->cap = 16;
    while (b->cap < 2 * (size_t)b->n_merges + 2) b->cap *= 2;
    b->keys = malloc(b->cap * sizeof *b->keys);
    b->rank = malloc(b->cap * sizeof *b->rank);
    if (!b->keys || !b->rank) return -1;
    for (size_t i = 0; i < b->cap; i++) b->rank[i] = -1;
    for (int r = 0; r < b->n_merges; r++) {
        uint64_t k = pair_key(b->merge[r][0], b->merge[r][1]);
        size_t h = mix(k) & (b->cap - 1);
        while (b->rank[h] >= 0) h = (h + 1) & (b->cap - 1);
        b->keys[h] = k;
        b->rank[h] = r;
    }
    return 0;
}

int bpe_train(Bpe *b, const unsigned char *const *texts, const size_t *lens, int n_texts, int vocab, Err *e)
{
    memset(b, 0, sizeof *b);
    if (vocab <= BPE_BYTES || vocab > BPE_MAX_VOCAB)
        return err_set(e, "--bpe %d: a vocabulary of %d to %d tokens (the 256 bytes and at least one merge)", vocab,
                       BPE_BYTES + 1, BPE_MAX_VOCAB);
    Chunks c = {0};
    Pairs p = {0};
    int rc = -1;
    b->merge = malloc((size_t)(vocab - BPE_BYTES) * sizeof *b->merge);
    b->len = malloc((size_t)vocab * sizeof *b->len);
    if (!b->merge || !b->len || pairs_init(&p, 1 << 16)) goto out;
    for (int t = 0; t < n_texts; t++)
        for (size_t i = 0; i < lens[t];) {
            size_t j = chunk_end(texts[t], lens[t], i);
            if (chunks_add(&c, texts[t] + i, j - i)) goto out;
            i = j;
        }
    for (int t = 0; t < BPE_BYTES; t++) b->len[t] = 1;
    b->vocab = BPE_BYTES;
    while (b->vocab < vocab) {
        if (count_pairs(&c, &p)) goto out;
        size_t best = (size_t)-1;
        for (size_t i = 0; i < p.n_used; i++) {
            size_t h = p.used[i];
            if (best == (size_t)-1 || p.count[h] > p.count[best] || (p.count[h] == p.count[best] && p.key[h] < p.key[best]))
                best = h;
        }
        if (best == (size_t)-1 || p.count[best] < 2) break; /* nothing left that a merge would shorten twice */
        int a = (int)(p.key[best] >> 32), z = b->vocab, bb = (int)(uint32_t)p.key[best];
        b->merge[b->n_merges][0] = a;
        b->merge[b->n_merges++][1] = bb;
        b->len[z] = b->len[a] + b->len[bb];
        b->vocab++;
        apply_merge(&c, a, bb, z);
        pairs_clear(&p);
    }
    rc = rank_table(b);
out:
    chunks_free(&c);
    pairs_free(&p);
    if (rc) {
        bpe_free(b);
        err_set(e, "--bpe %d: out of memory", vocab);
    }
    return rc;
}

/* ---- encoding ---- */

static int rank_of(const Bpe *b, int x, int y)
{
    uint64_t k = pair_key(x, y);
    for (size_t h = mix(k) & (b->cap - 1); b->rank[h] >= 0; h = (h + 1) & (b->cap - 1))
        if (b->keys[h] == k) return b->rank[h];
    return -1;
}

/* One chunk: the learnt merges in their order. A merge of lower rank can
 * never become possible after one of higher rank (merging makes new tokens,
 * never new neighbours of old ones), so merging the lowest-ranked pair
 * present, again and again, is the training's own sequence. */
static int encode_chunk(const Bpe *b, const unsigned char *p, int n, int *out)
{
    for (int i = 0; i < n; i++) out[i] = p[i];
    for (;;) {
        int best = -1;
        for (int i = 0; i + 1 < n; i++) {
            int r = rank_of(b, out[i], out[i + 1]);
            if (r >= 0 && (best < 0 || r < best)) best = r;
        }
        if (best < 0) return n;
        int x = b->merge[best][0], y = b->merge[best][1], w = 0;
        for (int i = 0; i < n; i++) {
            if (i + 1 < n && out[i] == x && out[i + 1] == y) {
                out[w++] = BPE_BYTES + best;
                i++;
            } else {
                out[w++] = out[i];
            }
        }
        n = w;
    }
}

size_t bpe_encode(const Bpe *b, const unsigned char *text, size_t n, int *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t j = chunk_end(text, n, i);
        k += (size_t)encode_chunk(b, text + i, (int)(j - i), out + k);
        i = j;
    }
    return k;
}

int bpe_bytes(const Bpe *b, int t, unsigned char *out)
{
    if (t < BPE_BYTES) {
        out[0] = (unsigned char)t;
        return 1;
    }
    int k = bpe_bytes(b, b->merge[t - BPE_BYTES][0], out);
    return k + bpe_bytes(b, b->merge[t - BPE_BYTES][1], out + k);
}

void bpe_free(Bpe *b)
{
    free(b->merge);
    free(b->len);
    free(b->keys);
    free(b->rank);
    memset(b, 0, sizeof *b);
}

cJSON *bpe_to_json(const Bpe *b)
{
    cJSON *o = cJSON_CreateObject(), *m = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "type", "byte-level BPE");
    cJSON_AddStringToObject(o, "chunks",
                            "a word (ASCII letters, bytes >= 0x80) with one leading space, a run of digits, a run of "
                            "one whitespace byte, or one other byte; at most 64 bytes");
    cJSON_AddNumberToObject(o, "vocab_size", b->vocab);
    for (int r = 0; r < b->n_merges; r++) {
        int pair[2] = {b->merge[r][0], b->merge[r][1]};
        cJSON_AddItemToArray(m, cJSON_CreateIntArray(pair, 2));
    }
    cJSON_AddItemToObject(o, "merges", m);
    return o;
}
