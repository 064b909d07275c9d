/* The corpus's split into training, validation and test text, and the draw
 * of a window from one split (corpus.h). Integer arithmetic only, so a seed
 * gives the same split on every machine. */
#include "tasks/corpus.h"

#include <stdlib.h>

const char *corpus_split_name(TaskSplit s)
{
    return s == SPLIT_TRAIN ? "train" : s == SPLIT_VALIDATION ? "validation" : "test";
}

/* splitmix64's finaliser: (seed, block) to a key that orders the blocks. */
static uint64_t block_key(uint64_t seed, uint64_t i)
{
    uint64_t z = seed ^ (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct {
    uint64_t key;
    size_t block;
} Keyed;

static int by_key(const void *a, const void *b)
{
    const Keyed *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->block < y->block ? -1 : x->block > y->block;
}

/* Back to bytes: the merges and the encoded spans go. */
static void drop_tokens(Corpus *c)
{
    free(c->tokens);
    free(c->tok_spans);
    bpe_free(&c->bpe);
    c->tokens = NULL;
    c->tok_spans = NULL;
}

int corpus_split(Corpus *c, uint64_t seed, size_t block, Err *e)
{
    size_t nb = (c->n_bytes + block - 1) / block;
    if (nb < 3)
        return err_set(e, "--data %s: %zu bytes is too short to split: it needs at least 3 blocks of %zu bytes "
                          "(training, validation, test)", c->name, c->n_bytes, block);
    /* Blocks in the order of their keys: the first 5% (at least one) are
     * test, the next 5% validation, the rest training. Exact counts, not a
     * coin per block, so a small corpus still has every split. */
    Keyed *k = malloc(nb * sizeof *k);
    unsigned char *tag = malloc(nb);
    if (!k || !tag) { free(k); free(tag); return err_set(e, "--data %s: out of memory for %zu blocks", c->name, nb); }
    for (size_t i = 0; i < nb; i++) k[i] = (Keyed){block_key(seed, i), i};
    qsort(k, nb, sizeof *k, by_key);
    size_t held = (nb + 10) / 20 ? (nb + 10) / 20 : 1;
    for (size_t r = 0; r < nb; r++)
        tag[k[r].block] = r < held ? SPLIT_TEST : r < 2 * held ? SPLIT_VALIDATION : SPLIT_TRAIN;
    free(k);
    size_t n_spans = 1;
    for (size_t i = 1; i < nb; i++) n_spans += tag[i] != tag[i - 1];
    /* the spans and their splits in one allocation */
    CorpusSpan *spans = malloc(n_spans * (sizeof *spans + 1));
    if (!spans) { free(tag); return err_set(e, "--data %s: out of memory for %zu spans", c->name, n_spans); }
    free(c->spans);
    drop_tokens(c); /* a tokenization belongs to the split it was learnt on */
    c->spans = spans;
    c->span_split = (unsigned char *)(spans + n_spans);
    c->n_spans = 0;
    c->split_bytes[0] = c->split_bytes[1] = c->split_bytes[2] = 0;
    for (size_t i = 0; i < nb; i++) {
        size_t start = i * block, len = start + block <= c->n_bytes ? block : c->n_bytes - start;
        if (i && tag[i] == tag[i - 1]) {
            spans[c->n_spans - 1].len += len;
        } else {
            spans[c->n_spans] = (CorpusSpan){start, len};
            c->span_split[c->n_spans++] = tag[i];
        }
        c->split_bytes[tag[i]] += len;
    }
    free(tag);
    c->seed = seed;
    c->block = block;
    return 0;
}

int corpus_tokenize(Corpus *c, int vocab, Err *e)
{
    drop_tokens(c); /* a second call replaces the first */
    const unsigned char **texts = malloc((size_t)c->n_spans * sizeof *texts);
    size_t *lens = malloc((size_t)c->n_spans * sizeof *lens);
    int n = 0, rc = -1;
    if (!texts || !lens) { err_set(e, "--bpe: out of memory"); goto out; }
    for (int i = 0; i < c->n_spans; i++)
        if (c->span_split[i] == SPLIT_TRAIN) texts[n] = c->bytes + c->spans[i].start, lens[n++] = c->spans[i].len;
    if (bpe_train(&c->bpe, texts, lens, n, vocab, e)) goto out;
    c->tokens = malloc((c->n_bytes ? c->n_bytes : 1) * sizeof *c->tokens); /* at most a token a byte */
    c->tok_spans = malloc((size_t)c->n_spans * sizeof *c->tok_spans);
    if (!c->tokens || !c->tok_spans) { err_set(e, "--bpe: out of memory for %zu tokens", c->n_bytes); goto out; }
    size_t at = 0;
    c->split_tokens[0] = c->split_tokens[1] = c->split_tokens[2] = 0;
    for (int i = 0; i < c->n_spans; i++) {
        size_t k = bpe_encode(&c->bpe, c->bytes + c->spans[i].start, c->spans[i].len, c->tokens + at);
        c->tok_spans[i] = (CorpusSpan){at, k};
        c->split_tokens[c->span_split[i]] += k;
        at += k;
    }
    rc = 0;
out:
    free(texts);
    free(lens);
    return rc;
}

const char *corpus_unit(const Corpus *c) { return c->tokens ? "tokens" : "bytes"; }

/* A span in the corpus's unit: bytes, or tokens with --bpe. */
static CorpusSpan span(const Corpus *c, int i) { return c->tokens ? c->tok_spans[i] : c->spans[i]; }

size_t corpus_longest(const Corpus *c, TaskSplit s)
{
    size_t best = 0;
    for (int i = 0; i < c->n_spans; i++)
        if (c->span_split[i] == s && span(c, i).len > best) best = span(c, i).len;
    return best;
}

size_t corpus_draw(const Corpus *c, TaskSplit s, size_t w, Rng *r)
{
    /* a span of len units holds len - w + 1 windows: count them all, pick one */
    uint64_t total = 0;
    for (int i = 0; i < c->n_spans; i++)
        if (c->span_split[i] == s && span(c, i).len >= w) total += span(c, i).len - w + 1;
    uint64_t u = rng_u64(r) % total; /* total < 2^40 for any corpus that fits: the bias is below 2^-24 */
    for (int i = 0; i < c->n_spans; i++) {
        CorpusSpan sp = span(c, i);
        if (c->span_split[i] != s || sp.len < w) continue;
        uint64_t here = sp.len - w + 1;
        if (u < here) return sp.start + (size_t)u;
        u -= here;
    }
    return 0; /* not reached: u < total */
}
