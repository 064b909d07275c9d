/* A text corpus for the lm task: its bytes in one buffer, what they are (a
 * name, the Debian package they came from, their size and checksum, so a
 * result knows its data), and their split into training, validation and
 * test text (docs/tasks.md, "lm").
 *
 * The split cuts the corpus into blocks of CORPUS_BLOCK bytes and gives each
 * block to one split by a hash of (seed, block index): about 5% test, 5%
 * validation, the rest training. A window is drawn from a run of consecutive
 * blocks of one split and never crosses into another, so held-out text is
 * never trained on. */
#ifndef SEQ_CORPUS_H
#define SEQ_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/rng.h"
#include "tasks/bpe.h"
#include "tasks/task.h"

/* Large enough for windows of a few thousand bytes inside one held-out
 * block, small enough that a corpus of a few MB has tens of held-out blocks
 * (their mean is then not one passage's). */
enum { CORPUS_BLOCK = 8192 };

/* Consecutive blocks of one split: bytes [start, start + len). */
typedef struct {
    size_t start, len;
} CorpusSpan;

typedef struct Corpus {
    char name[1024];          /* as given to --data */
    char package[128];        /* "bible-kjv-text 4.38" for a debian: source, else "" */
    int n_files;              /* files read (a directory: in sorted name order) */
    size_t n_bytes;
    uint64_t fnv1a64;         /* FNV-1a 64 of the bytes: the corpus's identity */
    unsigned char *bytes;
    /* the split (corpus_split) */
    uint64_t seed;
    size_t block;
    size_t split_bytes[3];    /* by TaskSplit */
    int n_spans;
    CorpusSpan *spans;        /* every split's spans, in text order */
    unsigned char *span_split;/* the TaskSplit of each span */
    /* --bpe (corpus_tokenize): the merges learnt from the training spans and every span encoded on its own, span
     * i's tokens at tokens[tok_spans[i].start ..], so a window of tokens never leaves its split either. NULL
     * tokens: the bytes are the tokens. */
    Bpe bpe;
    int *tokens;
    CorpusSpan *tok_spans;
    size_t split_tokens[3];
} Corpus;

/* --data: a UTF-8 text file, a directory of them (regular files whose name
 * does not start with '.', concatenated in strcmp order) or debian:NAME
 * (corpus_debian_list). Refuses a missing, empty or binary (a NUL byte, or
 * more than 1% of bytes outside valid UTF-8) input with one line. Returns
 * NULL and sets e on failure. */
Corpus *corpus_load(const char *data, Err *e);
void corpus_free(Corpus *c);
/* The debian: sources known, for messages and --help. */
const char *corpus_debian_list(void);
/* "fnv1a64:<16 hex>/<bytes>": the identity the settings digest takes, so
 * two runs on the same bytes agree wherever the file lies. */
void corpus_identity(const Corpus *c, char *buf, size_t cap);

/* Splits c by seed into blocks of `block` bytes (CORPUS_BLOCK outside the
 * tests). Fails when there are fewer than 3 blocks. */
int corpus_split(Corpus *c, uint64_t seed, size_t block, Err *e);
/* --bpe N: learns a byte-level BPE of N tokens from the training spans
 * alone (tasks/bpe.h) and encodes every span; after corpus_split, which
 * drops an earlier tokenization. */
int corpus_tokenize(Corpus *c, int vocab, Err *e);
/* "tokens" with --bpe, else "bytes": the unit of corpus_longest and corpus_draw. */
const char *corpus_unit(const Corpus *c);
/* The longest span of split s, in the corpus's unit: windows longer than it
 * cannot be drawn. */
size_t corpus_longest(const Corpus *c, TaskSplit s);
/* A window of w units (bytes, or tokens with --bpe) inside one span of split
 * s, uniform over every position it can start at; returns its first unit's
 * offset into c->bytes (or c->tokens). The split must have a span of at
 * least w units. */
size_t corpus_draw(const Corpus *c, TaskSplit s, size_t w, Rng *r);
const char *corpus_split_name(TaskSplit s);

#endif
