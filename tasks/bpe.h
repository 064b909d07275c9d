/* Byte-level byte-pair encoding (Sennrich et al. 2016; GPT-2 runs it on
 * bytes) for the lm task's --bpe N: a vocabulary of the 256 bytes and N - 256
 * merges, learnt by seqbench from the training split alone, so held-out text
 * never shapes the tokens it is scored in.
 *
 * The text is first cut into chunks that no merge crosses: a word (ASCII
 * letters and bytes >= 0x80, i.e. any UTF-8 letter) with the one space
 * before it, a run of digits, a run of one repeated whitespace byte, or any
 * other single byte; at most BPE_MAX_CHUNK bytes each. Training repeats: count
 * every adjacent pair of tokens over the distinct chunks, weighted by how
 * often each chunk occurs; merge the most frequent pair (the smallest pair of
 * ids on a tie) into a new token, left to right in every chunk. It stops at N
 * tokens, or earlier when no pair occurs twice. Encoding applies the merges
 * to each chunk in the order they were learnt, which reproduces the training
 * text's own segmentation. Integer counts only: the same text, seed and N
 * give the same merges on every machine. */
#ifndef SEQ_BPE_H
#define SEQ_BPE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/err.h"

enum { BPE_BYTES = 256, BPE_MAX_CHUNK = 64, BPE_MAX_VOCAB = 1 << 16 };

typedef struct {
    int vocab;            /* 256 + n_merges */
    int n_merges;
    int (*merge)[2];      /* merge i makes token 256 + i from the pair merge[i] */
    int *len;             /* bytes each token stands for, [vocab] */
    /* pair -> merge index, open addressing (for encoding) */
    uint64_t *keys;
    int *rank;
    size_t cap;
} Bpe;

/* Learns up to vocab - 256 merges from the n_texts texts (each chunked on its
 * own: no chunk spans two). -1 + Err for a vocabulary outside [257, 65536] or
 * out of memory. */
int bpe_train(Bpe *b, const unsigned char *const *texts, const size_t *lens, int n_texts, int vocab, Err *e);
/* The tokens of text[0..n) into out (at most n of them); returns how many. */
size_t bpe_encode(const Bpe *b, const unsigned char *text, size_t n, int *out);
/* The bytes of token t into out (at most BPE_MAX_CHUNK); returns how many. */
int bpe_bytes(const Bpe *b, int t, unsigned char *out);
void bpe_free(Bpe *b);
/* {"type": "byte-level BPE", "vocab_size": V, "merges": [[a, b], ...]}, the
 * form a checkpoint carries (seqbench_bpe.json) for readers outside seqbench. */
cJSON *bpe_to_json(const Bpe *b);

#endif
