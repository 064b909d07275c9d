/* The pattern language (DESIGN §2): one symbol per pre-norm residual sublayer.
 *   M  Mamba mixer      *  global attention   L  local attention
 *   R  RG-LRU block     -  gated MLP          E  mixture-of-experts MLP */
#ifndef SEQ_PATTERN_H
#define SEQ_PATTERN_H

#include <stddef.h>

#include "core/err.h"

/* Long name of a symbol ("global attention"), or NULL if unknown. */
const char *pattern_symbol_name(char symbol);

/* Checks every symbol of `pattern` is known and implemented, and writes it
 * `repeats` times into out (cap bytes incl. NUL). */
int pattern_expand(const char *pattern, int repeats, char *out, size_t cap, Err *e);

/* Pattern of a named architecture per repeat ("*-" for transformer), or NULL. */
const char *pattern_for_arch(const char *arch);
const char *pattern_arch_list(void); /* for help and error messages */

#endif
